package hub

import "time"

// Presence, Online, Late, Offline and PresenceAt live in fleet.go; this
// file adds the recorded-state machine the incidents and the dashboard use.

// DefaultHBInterval is used when a kiosk has not told its heartbeat
// interval (hb_interval_s missing or not positive, DESIGN 4.4).
const DefaultHBInterval = 10 * time.Second

// PresenceInput is one input of NextPresence: a heartbeat arrived, or a
// clock tick observed Silence since the last heartbeat of a kiosk whose
// heartbeat interval is Interval (its hb_interval_s; 0 means
// DefaultHBInterval). Heartbeat wins when both are set.
type PresenceInput struct {
	Heartbeat bool
	Silence   time.Duration
	Interval  time.Duration
}

// NextPresence is the hub's presence state machine (DESIGN 7, STYLE 4):
// given the recorded state cur and an input it returns the next state and
// whether it changed. It does no I/O and reads no clock.
//
//   - A heartbeat makes any state Online.
//   - A tick moves a kiosk forward only: Online -> Late -> Offline, by the
//     same thresholds as PresenceAt (late after Interval plus half an
//     interval of grace, offline from 3*Interval plus grace), so a tick
//     after a long pause (the hub itself was down) may go straight from
//     Online to Offline. A tick never brings a kiosk back: only a
//     heartbeat does.
//   - Unknown stays Unknown on ticks: silence since a heartbeat that never
//     came means nothing. The zero Presence is taken as Unknown.
func NextPresence(cur Presence, in PresenceInput) (Presence, bool) {
	if in.Heartbeat {
		return Online, cur != Online
	}
	if cur == Unknown || cur == "" {
		return Unknown, cur != Unknown
	}
	iv := in.Interval
	if iv <= 0 {
		iv = DefaultHBInterval
	}
	// Any non-zero base: PresenceAt reads only the silence, and a zero time means "never heard of".
	base := time.Unix(0, 0).UTC()
	seen := PresenceAt(base, iv, base.Add(in.Silence))
	if presenceRank(seen) <= presenceRank(cur) {
		return cur, false
	}
	return seen, true
}

// presenceRank orders the states by how long a kiosk has been silent;
// an unrecognised recorded state ranks lowest, so a tick replaces it.
func presenceRank(p Presence) int {
	switch p {
	case Online:
		return 1
	case Late:
		return 2
	case Offline:
		return 3
	}
	return 0
}
