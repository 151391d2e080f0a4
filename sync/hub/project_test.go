package hub

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
)

// TestTombstoneExplainsGap: seqs dropped by a kiosk under disk pressure
// are not reported as lost when the tombstone's count matches the gap; a
// tombstone that does not account for every missing seq leaves the gaps.
func TestTombstoneExplainsGap(t *testing.T) {
	tomb := func(seq, from, to int64, count int) Envelope {
		e := ingestEvent("e1", seq)
		e.Type = kiosk.EventDropped
		e.Data, _ = json.Marshal(kiosk.DroppedData{FromSeq: from, ToSeq: to, Count: count, Type: kiosk.EventUsage, Reason: "disk_full"})
		return e
	}
	// 1..10 were written; 2, 3 and 6 were usage.summary and were dropped;
	// the tombstone is 11.
	for _, tt := range []struct {
		name     string
		lost     []int64 // also missing, without a tombstone
		tomb     Envelope
		wantGaps string
	}{
		{"explained", nil, tomb(11, 2, 6, 3), "[]"},
		{"another event lost too", []int64{5}, tomb(11, 2, 6, 3), "[{2 3} {5 6}]"},
		{"count disagrees", nil, tomb(11, 2, 6, 2), "[{2 3} {6 6}]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTestStore(t)
			for seq := int64(1); seq <= 10; seq++ {
				if seq == 2 || seq == 3 || seq == 6 || contains(tt.lost, seq) {
					continue
				}
				mustIngest(t, s, ingestEvent("e1", seq))
			}
			mustIngest(t, s, tt.tomb)
			var got []string
			for _, g := range mustGaps(t, s) {
				got = append(got, fmt.Sprintf("{%d %d}", g.From, g.To))
			}
			if fmt.Sprint(nonNil(got)) != tt.wantGaps {
				t.Errorf("gaps %v, want %s", got, tt.wantGaps)
			}
		})
	}
}

func contains(s []int64, v int64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestFaultProjection: a late, older fault event never overwrites a newer
// one of the same code; power.unclean_shutdown is history, not an active
// fault.
func TestFaultProjection(t *testing.T) {
	s, _ := openTestStore(t)
	ev := func(seq int64, typ, code string) Envelope {
		e := ingestEvent("e1", seq)
		e.Type = typ
		e.Data, _ = json.Marshal(kiosk.FaultData{Code: code, Severity: kiosk.Severity[code]})
		return e
	}
	mustIngest(t, s, ev(1, kiosk.EventFaultRaised, "power.unclean_shutdown"))
	mustIngest(t, s, ev(3, kiosk.EventFaultCleared, "printer.paper_out"))
	mustIngest(t, s, ev(2, kiosk.EventFaultRaised, "printer.paper_out")) // arrives late
	fs, err := s.Faults(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Errorf("active faults %+v, want none", fs)
	}
	mustIngest(t, s, ev(4, kiosk.EventFaultRaised, "printer.paper_out"))
	if fs, _ := s.Faults(t.Context(), "padang-01"); len(fs) != 1 || fs[0].Code != "printer.paper_out" || fs[0].Severity != "critical" {
		t.Errorf("active faults %+v, want printer.paper_out critical", fs)
	}
}

// TestFleetRestart: a hub restarted with its saved fleet shows a kiosk
// that died meanwhile as offline, but only after the grace in which live
// kiosks beat again; a live one never flaps.
func TestFleetRestart(t *testing.T) {
	s, _ := openTestStore(t)
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	f := NewFleet(clock)
	f.Heartbeat("padang-01", []byte(`{"office":"padang","hb_interval_s":10}`))
	f.Heartbeat("padang-02", []byte(`{"office":"padang","hb_interval_s":10}`))
	rs, ts := f.Tick()
	if len(rs) != 2 || len(ts) != 2 || ts[0].From != Unknown || ts[0].To != Online {
		t.Fatalf("first tick: %d records, transitions %+v", len(rs), ts)
	}
	if err := s.SaveFleet(t.Context(), rs, ts); err != nil {
		t.Fatal(err)
	}

	now = now.Add(5 * time.Minute) // hub down 5 minutes; padang-02 died
	saved, err := s.LoadFleet(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	f2 := NewFleet(clock)
	f2.Load(saved)
	for i := range 60 {
		now = now.Add(time.Second)
		if i%10 == 0 {
			f2.Heartbeat("padang-01", []byte(`{"office":"padang","hb_interval_s":10}`))
		}
		rs, ts := f2.Tick()
		if err := s.SaveFleet(t.Context(), rs, ts); err != nil {
			t.Fatal(err)
		}
		for _, tr := range ts {
			if tr.Kiosk == "padang-01" {
				t.Fatalf("live kiosk changed presence after the restart: %+v", tr)
			}
			if i < 34 {
				t.Fatalf("%d s after the restart, inside the grace: %+v", i+1, tr)
			}
		}
	}
	k, ok := f2.Kiosk("padang-02")
	if !ok || k.Presence != Offline || k.Office != "padang" {
		t.Errorf("dead kiosk after the grace: %+v", k)
	}
	log, err := s.PresenceLog(t.Context(), "padang-02", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 || log[0].From != Online || log[0].To != Offline || log[1].To != Online {
		t.Errorf("presence log of padang-02 = %+v, want unknown->online, online->offline", log)
	}
}
