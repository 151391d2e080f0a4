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

// Presence of a kiosk as the hub sees it (DESIGN 7).
type Presence string

// Presences.
const (
	Online  Presence = "online"
	Late    Presence = "late"    // one heartbeat missed
	Offline Presence = "offline" // three missed
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

// FleetKiosk is one kiosk in the hub.fleet reply: its last status snapshot
// with the hub's view of it.
type FleetKiosk struct {
	kiosk.Status
	Presence Presence  `json:"presence"`
	LastSeen time.Time `json:"last_seen"`
}

// Fleet tracks the kiosks' heartbeats (kiosk.<id>.hb).
type Fleet struct {
	now func() time.Time // immutable

	mu     sync.Mutex // guards kiosks
	kiosks map[string]*fleetEntry
}

type fleetEntry struct {
	status   kiosk.Status
	lastSeen time.Time
}

// NewFleet returns an empty fleet; now nil means time.Now.
func NewFleet(now func() time.Time) *Fleet {
	if now == nil {
		now = time.Now
	}
	return &Fleet{now: now, kiosks: map[string]*fleetEntry{}}
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
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.kiosks[id]
	if e == nil {
		e = &fleetEntry{}
		f.kiosks[id] = e
	}
	e.lastSeen = f.now()
	if ok {
		st.Kiosk = id
		e.status = st
	}
}

// Kiosks returns every kiosk seen, by id, with its presence now.
func (f *Fleet) Kiosks() []FleetKiosk {
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FleetKiosk, 0, len(f.kiosks))
	for id, e := range f.kiosks {
		iv := time.Duration(e.status.HBIntervalS) * time.Second
		if iv <= 0 {
			iv = 10 * time.Second
		}
		st := e.status
		st.Kiosk = id
		out = append(out, FleetKiosk{Status: st, Presence: PresenceAt(e.lastSeen, iv, now), LastSeen: e.lastSeen})
	}
	slices.SortFunc(out, func(a, b FleetKiosk) int { return strings.Compare(a.Kiosk, b.Kiosk) })
	return out
}
