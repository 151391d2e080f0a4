package hub

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestNextPresence(t *testing.T) {
	const s = time.Second
	iv := 10 * s
	hb := PresenceInput{Heartbeat: true, Interval: iv}
	tick := func(silence time.Duration) PresenceInput { return PresenceInput{Silence: silence, Interval: iv} }
	for _, tt := range []struct {
		cur     Presence
		in      PresenceInput
		want    Presence
		changed bool
	}{
		// A heartbeat makes every state online.
		{Unknown, hb, Online, true},
		{"", hb, Online, true},
		{Online, hb, Online, false},
		{Late, hb, Online, true},
		{Offline, hb, Online, true},
		// Heartbeat wins over a silence given with it.
		{Offline, PresenceInput{Heartbeat: true, Silence: time.Hour, Interval: iv}, Online, true},
		// Unknown stays unknown on ticks, whatever the silence.
		{Unknown, tick(0), Unknown, false},
		{Unknown, tick(time.Hour), Unknown, false},
		{"", tick(time.Hour), Unknown, true},
		// Online: within interval + grace (15 s) stays online.
		{Online, tick(0), Online, false},
		{Online, tick(10 * s), Online, false},
		{Online, tick(15 * s), Online, false},
		{Online, tick(15*s + time.Millisecond), Late, true},
		{Online, tick(34 * s), Late, true},
		{Online, tick(35 * s), Offline, true}, // the hub was paused: straight to offline
		{Online, tick(time.Hour), Offline, true},
		// Late: stays late until 3 intervals + grace (35 s).
		{Late, tick(16 * s), Late, false},
		{Late, tick(35*s - time.Millisecond), Late, false},
		{Late, tick(35 * s), Offline, true},
		// A tick never improves a state (only a heartbeat does).
		{Late, tick(0), Late, false},
		{Offline, tick(0), Offline, false},
		{Offline, tick(20 * s), Offline, false},
		{Offline, tick(time.Hour), Offline, false},
		// Interval 0 (not told) means DefaultHBInterval, 10 s.
		{Online, PresenceInput{Silence: 16 * s}, Late, true},
		{Online, PresenceInput{Silence: 35 * s}, Offline, true},
		// The kiosk's own interval: 60 s beats are online for 90 s.
		{Online, PresenceInput{Silence: 89 * s, Interval: 60 * s}, Online, false},
		{Online, PresenceInput{Silence: 91 * s, Interval: 60 * s}, Late, true},
		{Late, PresenceInput{Silence: 210 * s, Interval: 60 * s}, Offline, true},
		// An unrecognised recorded state is replaced by the first tick.
		{"bogus", tick(0), Online, true},
	} {
		t.Run(fmt.Sprintf("%s/%+v", tt.cur, tt.in), func(t *testing.T) {
			got, changed := NextPresence(tt.cur, tt.in)
			if got != tt.want || changed != tt.changed {
				t.Errorf("NextPresence(%q, %+v) = %s, %v; want %s, %v", tt.cur, tt.in, got, changed, tt.want, tt.changed)
			}
		})
	}
}

// presenceStep is one event of a scenario: at offset at from the start,
// a heartbeat (hb) carrying interval iv, or a tick.
type presenceStep struct {
	at time.Duration
	hb bool
	iv time.Duration // heartbeats only: the kiosk's hb_interval_s from then on
}

// runPresence drives NextPresence like the fleet monitor does and returns
// the chain of recorded states, one entry per change, starting with cur.
func runPresence(cur Presence, iv time.Duration, steps []presenceStep) []Presence {
	chain := []Presence{cur}
	var last time.Duration
	for _, st := range steps {
		in := PresenceInput{Heartbeat: st.hb, Silence: st.at - last, Interval: iv}
		if st.hb {
			last = st.at
			if st.iv > 0 {
				iv = st.iv
			}
		}
		next, changed := NextPresence(cur, in)
		if changed {
			chain = append(chain, next)
		}
		cur = next
	}
	return chain
}

// ticks returns a tick every second from from to to inclusive.
func ticks(from, to time.Duration) []presenceStep {
	var out []presenceStep
	for at := from; at <= to; at += time.Second {
		out = append(out, presenceStep{at: at})
	}
	return out
}

func TestPresenceScenarios(t *testing.T) {
	const s = time.Second
	hb := func(at time.Duration) presenceStep { return presenceStep{at: at, hb: true} }
	for _, tt := range []struct {
		name  string
		start Presence
		iv    time.Duration
		steps []presenceStep
		want  []Presence
	}{
		{
			name:  "first heartbeat",
			start: Unknown, iv: 10 * s,
			steps: slices.Concat(ticks(0, 60*s), []presenceStep{hb(61 * s)}, ticks(62*s, 70*s)),
			want:  []Presence{Unknown, Online},
		},
		{
			name:  "silent and back",
			start: Online, iv: 10 * s,
			steps: slices.Concat([]presenceStep{hb(0)}, ticks(1*s, 50*s), []presenceStep{hb(51 * s)}, ticks(52*s, 60*s)),
			want:  []Presence{Online, Late, Offline, Online},
		},
		{
			name:  "jitter within grace stays online",
			start: Online, iv: 10 * s,
			// Heartbeats 14-15 s apart (up to half an interval late), ticks in between.
			steps: slices.Concat([]presenceStep{hb(0)}, ticks(1*s, 14*s), []presenceStep{hb(14 * s)},
				ticks(15*s, 29*s), []presenceStep{hb(29 * s)}, ticks(30*s, 43*s), []presenceStep{hb(43 * s)}),
			want: []Presence{Online},
		},
		{
			name:  "interval raised to 60 s",
			start: Online, iv: 10 * s,
			// With 10 s beats 40 s of silence would be offline; the kiosk
			// announced 60 s, so it is online until 90 s, late until 210 s.
			steps: slices.Concat([]presenceStep{{at: 0, hb: true, iv: 60 * s}}, ticks(1*s, 220*s)),
			want:  []Presence{Online, Late, Offline},
		},
		{
			name:  "interval lowered to 5 s",
			start: Online, iv: 60 * s,
			steps: slices.Concat([]presenceStep{{at: 0, hb: true, iv: 5 * s}}, ticks(1*s, 8*s)),
			want:  []Presence{Online, Late}, // 8 s > 5 s + 2.5 s
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := runPresence(tt.start, tt.iv, tt.steps); !slices.Equal(got, tt.want) {
				t.Errorf("state chain %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPresencePowerCut: a kiosk with 10 s heartbeats loses power at any
// moment between two heartbeats; the hub, ticking every second, records it
// offline no later than 35 s (3 intervals + grace) after the cut.
func TestPresencePowerCut(t *testing.T) {
	const s = time.Second
	iv := 10 * s
	bound := 3*iv + iv/2
	if bound != 35*s {
		t.Fatalf("bound = %v, want 35s", bound)
	}
	for cut := time.Duration(0); cut < iv; cut += 500 * time.Millisecond {
		cur := Online // a heartbeat came at 0, the next would come at iv
		offlineAt := time.Duration(-1)
		for now := cut; now <= cut+time.Minute; now += s / 2 {
			next, changed := NextPresence(cur, PresenceInput{Silence: now, Interval: iv})
			if changed && next == Offline {
				offlineAt = now
				break
			}
			cur = next
		}
		if offlineAt < 0 || offlineAt-cut > bound {
			t.Errorf("cut %v after a heartbeat: offline at %v, %v after the cut; want within %v", cut, offlineAt, offlineAt-cut, bound)
		}
	}
}
