package hub

import (
	"testing"
	"time"
)

func TestPresenceAt(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	iv := 10 * time.Second
	for _, tt := range []struct {
		silence time.Duration
		want    Presence
	}{
		{0, Online},
		{14 * time.Second, Online}, // jitter within half an interval
		{15 * time.Second, Online},
		{16 * time.Second, Late}, // one heartbeat missed
		{34 * time.Second, Late},
		{35 * time.Second, Offline}, // three missed
		{time.Hour, Offline},
	} {
		if got := PresenceAt(t0, iv, t0.Add(tt.silence)); got != tt.want {
			t.Errorf("PresenceAt(silence %v) = %s, want %s", tt.silence, got, tt.want)
		}
	}
	if got := PresenceAt(time.Time{}, iv, t0); got != Unknown {
		t.Errorf("PresenceAt(no heartbeat yet) = %s, want unknown", got)
	}
	// DESIGN 8: a power cut is shown offline within 35 s for 10 s heartbeats
	// (the last heartbeat came at most one interval before the cut).
	for cutAfterHB := time.Duration(0); cutAfterHB <= iv; cutAfterHB += time.Second {
		if got := PresenceAt(t0, iv, t0.Add(cutAfterHB+35*time.Second)); got != Offline {
			t.Errorf("cut %v after a heartbeat: %s 35 s after the cut, want offline", cutAfterHB, got)
		}
	}
}

// TestPresenceChain: the scenario of a kiosk that goes silent and returns.
func TestPresenceChain(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	f := NewFleet(func() time.Time { return now })
	f.Heartbeat("padang-01", []byte(`{"kiosk":"someone-else","hb_interval_s":10}`))
	var chain []Presence
	for _, step := range []time.Duration{0, 12 * time.Second, 8 * time.Second, 20 * time.Second} {
		now = now.Add(step)
		k := f.Kiosks()
		if len(k) != 1 || k[0].Kiosk != "padang-01" {
			t.Fatalf("kiosks = %+v; want padang-01 from the subject, not the body", k)
		}
		chain = append(chain, k[0].Presence)
	}
	f.Heartbeat("padang-01", []byte(`not json`)) // alive, snapshot kept
	chain = append(chain, f.Kiosks()[0].Presence)
	want := []Presence{Online, Online, Late, Offline, Online}
	for i := range want {
		if chain[i] != want[i] {
			t.Fatalf("presence chain %v, want %v", chain, want)
		}
	}
	if f.Kiosks()[0].HBIntervalS != 10 {
		t.Error("a bad heartbeat body replaced the last good snapshot")
	}
}
