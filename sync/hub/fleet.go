package hub

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
)

// PresenceAt is the heartbeat state machine as a pure function of the
// silence since the last heartbeat and the kiosk's own interval: online up
// to one interval, late up to three, offline after, each with half an
// interval of grace for network jitter. For 10 s heartbeats a power cut
// shows as offline 35 s after it at the latest (DESIGN 8).
func PresenceAt(last time.Time, interval time.Duration, now time.Time) Presence {
	if last.IsZero() {
		return Unknown // never heard of
	}
	grace := interval / 2
	switch silence := now.Sub(last); {
	case silence <= interval+grace:
		return Online
	case silence < 3*interval+grace:
		return Late
	default:
		return Offline
	}
}

// Fleet tracks the kiosks' heartbeats (kiosk.<id>.hb) and their recorded
// presence (NextPresence), whose transitions it logs for incidents and the
// dashboard. Reads advance the state machine to now first, so what
// hub.fleet shows and what was recorded never disagree.
type Fleet struct {
	now func() time.Time // immutable

	// Observe, if set before Subscribe, is called after each heartbeat is
	// applied, with the snapshot (nil when the body was not one) and the
	// hub time it was applied at: the benchmarks' heartbeat-to-state
	// latency, and a hook for metrics.
	Observe func(id string, st *kiosk.Status, applied time.Time)

	mu         sync.Mutex // guards the fields below
	kiosks     map[string]*fleetEntry
	trans      []Transition // not yet saved
	graceUntil time.Time    // no silence-driven transitions before this
}

type fleetEntry struct {
	status    kiosk.Status
	lastSeen  time.Time
	state     Presence
	savedSeen time.Time // lastSeen as last saved
	unclean   time.Time // the last unclean shutdown (an event, NoteUnclean)
	dirty     bool      // state or status changed since the last save
}

// persistEvery bounds how stale a saved last-seen time may be: saving
// every heartbeat of 10,000 kiosks would be 1,000 writes a second for
// nothing but a display of "last seen".
const persistEvery = time.Minute

// NewFleet returns an empty fleet; now nil means time.Now.
func NewFleet(now func() time.Time) *Fleet {
	if now == nil {
		now = time.Now
	}
	return &Fleet{now: now, kiosks: map[string]*fleetEntry{}}
}

// Load seeds the fleet with the kiosks saved before a hub restart. The hub
// heard nothing while it was down, so for the next three heartbeat
// intervals and grace silence moves no kiosk to late or offline: those
// that are alive will have beaten by then, the others go offline after.
func (f *Fleet) Load(rs []KioskRecord) {
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range rs {
		e := &fleetEntry{lastSeen: r.LastSeen, savedSeen: r.LastSeen, state: r.Presence}
		if len(r.Status) > 0 {
			json.Unmarshal(r.Status, &e.status) // a bad saved snapshot only loses the display
		}
		e.status.Kiosk, e.status.Office = r.Kiosk, r.Office
		f.kiosks[r.Kiosk] = e
	}
	if len(rs) > 0 {
		f.graceUntil = now.Add(3*DefaultHBInterval + DefaultHBInterval/2)
	}
}

// Subscribe starts tracking heartbeats on nc; unsubscribe the result to
// stop. A heartbeat counts for the kiosk named by its subject, never by its
// body; a body that is not a snapshot still proves the kiosk is alive.
func (f *Fleet) Subscribe(nc *nats.Conn) (*nats.Subscription, error) {
	return nc.Subscribe("kiosk.*.hb", func(m *nats.Msg) {
		parts := strings.Split(m.Subject, ".")
		if len(parts) != 3 || !kiosk.ValidID(parts[1]) {
			return
		}
		f.Heartbeat(parts[1], m.Data)
	})
}

// Heartbeat records a heartbeat of kiosk id with its snapshot body.
func (f *Fleet) Heartbeat(id string, body []byte) {
	var st kiosk.Status
	ok := json.Unmarshal(body, &st) == nil
	now := f.now()
	f.mu.Lock()
	e := f.kiosks[id]
	if e == nil {
		e = &fleetEntry{state: Unknown}
		f.kiosks[id] = e
	}
	e.lastSeen = now
	if ok {
		st.Kiosk = id
		if st.Office != e.status.Office {
			e.dirty = true
		}
		e.status = st
	}
	if next, changed := NextPresence(e.state, PresenceInput{Heartbeat: true}); changed {
		f.trans = append(f.trans, Transition{Kiosk: id, Office: e.status.Office, From: e.state, To: next, At: now, LastSeen: now})
		e.state = next
		e.dirty = true
	}
	f.mu.Unlock()
	if f.Observe != nil {
		var sp *kiosk.Status
		if ok {
			sp = &st
		}
		f.Observe(id, sp, now)
	}
}

// advance moves every kiosk's recorded state to now; f.mu is held.
func (f *Fleet) advance(now time.Time) {
	if now.Before(f.graceUntil) {
		return
	}
	for id, e := range f.kiosks {
		next, changed := NextPresence(e.state, PresenceInput{Silence: now.Sub(e.lastSeen), Interval: interval(e.status)})
		if !changed {
			continue
		}
		f.trans = append(f.trans, Transition{Kiosk: id, Office: e.status.Office, From: e.state, To: next, At: now, LastSeen: e.lastSeen})
		e.state = next
		e.dirty = true
	}
}

func interval(st kiosk.Status) time.Duration {
	if st.HBIntervalS <= 0 {
		return DefaultHBInterval
	}
	return time.Duration(st.HBIntervalS) * time.Second
}

// Tick advances the state machine to now and returns what changed since
// the last Tick: the kiosks to save and the transitions, in order.
func (f *Fleet) Tick() ([]KioskRecord, []Transition) {
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advance(now)
	var rs []KioskRecord
	for id, e := range f.kiosks {
		if !e.dirty && now.Sub(e.savedSeen) < persistEvery {
			continue
		}
		if !e.dirty && e.lastSeen.Equal(e.savedSeen) {
			continue
		}
		r := KioskRecord{Kiosk: id, Office: e.status.Office, LastSeen: e.lastSeen, Presence: e.state}
		if e.dirty {
			r.Status, _ = json.Marshal(e.status)
		}
		rs = append(rs, r)
		e.dirty, e.savedSeen = false, e.lastSeen
	}
	ts := f.trans
	f.trans = nil
	return rs, ts
}

// Kiosks returns every kiosk seen, by id, with its presence now.
func (f *Fleet) Kiosks() []FleetKiosk {
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advance(now)
	out := make([]FleetKiosk, 0, len(f.kiosks))
	for id, e := range f.kiosks {
		out = append(out, f.entry(id, e))
	}
	slices.SortFunc(out, func(a, b FleetKiosk) int { return strings.Compare(a.Kiosk, b.Kiosk) })
	return out
}

// Kiosk returns one kiosk, or false when the hub never heard of it.
func (f *Fleet) Kiosk(id string) (FleetKiosk, bool) {
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advance(now)
	e, ok := f.kiosks[id]
	if !ok {
		return FleetKiosk{}, false
	}
	return f.entry(id, e), true
}

func (f *Fleet) entry(id string, e *fleetEntry) FleetKiosk {
	st := e.status
	st.Kiosk = id
	return FleetKiosk{Status: st, Presence: e.state, LastSeen: e.lastSeen, LastUnclean: e.unclean}
}

// NoteUnclean records kiosk id's unclean shutdown at at (a
// power.unclean_shutdown event), if it is the latest; a kiosk not seen yet
// is not added.
func (f *Fleet) NoteUnclean(id string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e, ok := f.kiosks[id]; ok && at.After(e.unclean) {
		e.unclean = at
	}
}

// CensusKiosk is what the incident decider needs of a kiosk.
type CensusKiosk struct {
	ID, Office  string
	Presence    Presence
	LastSeen    time.Time
	Interval    time.Duration // its heartbeat interval
	Maintenance bool          // the kiosk said it is in maintenance: a technician is on it
	OnBattery   bool          // its last heartbeat said it ran on the UPS
}

// Census returns the number of kiosks of each office and the kiosks that
// are not online (late or offline), without copying every snapshot: it
// runs every second on fleets of 10,000.
func (f *Fleet) Census() (offices map[string]int, silent []CensusKiosk) {
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advance(now)
	offices = map[string]int{}
	for id, e := range f.kiosks {
		offices[e.status.Office]++
		if e.state != Late && e.state != Offline {
			continue
		}
		silent = append(silent, CensusKiosk{ID: id, Office: e.status.Office, Presence: e.state, LastSeen: e.lastSeen, Interval: interval(e.status),
			Maintenance: e.status.Mode == kiosk.ModeMaintenance,
			OnBattery:   e.status.Power.Source == "battery" || slices.Contains(e.status.Faults, "power.on_battery")})
	}
	slices.SortFunc(silent, func(a, b CensusKiosk) int { return a.LastSeen.Compare(b.LastSeen) })
	return offices, silent
}
