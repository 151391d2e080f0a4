// Package hubapi is the wire contract of the hub's micro service "hub"
// (hub.fleet, hub.faults, hub.kiosk; DESIGN 4.1, 7) and a client for it.
// It is apart from sync/hub, which holds the hub's SQLite projection, so
// that clients such as kioskctl build without cgo.
package hubapi

import (
	"context"
	"encoding/json"
	"fmt"
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

// Unknown is the presence of a kiosk the hub has not heard a heartbeat
// from yet.
const Unknown Presence = "unknown"

// FleetKiosk is one kiosk in the hub.fleet reply: its last status snapshot
// with the hub's view of it.
type FleetKiosk struct {
	kiosk.Status
	Presence Presence  `json:"presence"`
	LastSeen time.Time `json:"last_seen"`
	// LastUnclean is the kiosk's last power.unclean_shutdown (the PC went
	// down without an orderly stop), zero if none is known.
	LastUnclean time.Time `json:"last_unclean,omitzero"`
}

// Gap is a run of seqs missing from a kiosk's epoch, From..To inclusive.
type Gap struct {
	Kiosk, Epoch string
	From, To     int64
}

// Fault is an active fault of a kiosk as the hub knows it.
type Fault struct {
	Kiosk    string    `json:"kiosk"`
	Office   string    `json:"office"`
	Code     string    `json:"code"`
	Severity string    `json:"severity"`
	Detail   string    `json:"detail"`
	Since    time.Time `json:"since"` // the kiosk's time of fault.raised
}

// Transition is a change of a kiosk's recorded presence.
type Transition struct {
	Kiosk    string    `json:"kiosk"`
	Office   string    `json:"office"`
	From     Presence  `json:"from"`
	To       Presence  `json:"to"`
	At       time.Time `json:"at"`
	LastSeen time.Time `json:"last_seen"`
}

// FleetRequest asks hub.fleet for one page of the fleet, by kiosk id:
// the kiosks after After (empty: from the start), of Office (empty: all),
// at most Limit (default and cap 1,000). An empty body asks for the first
// page of all.
type FleetRequest struct {
	Office string `json:"office,omitempty"`
	After  string `json:"after,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// FleetReply is one page of the fleet. Next, when set, is the After of
// the next page: a reply must fit in one NATS message (1 MiB by default),
// and a province's fleet of snapshots does not.
type FleetReply struct {
	Kiosks []FleetKiosk `json:"kiosks"`
	Total  int          `json:"total"` // kiosks matching Office, on all pages
	Next   string       `json:"next,omitempty"`
	Error  *kiosk.Error `json:"error,omitempty"`
}

// FaultsRequest asks hub.faults for the active faults of one office
// ("" = every office).
type FaultsRequest struct {
	Office string `json:"office,omitempty"`
}

// FaultsReply lists active faults by kiosk and code.
type FaultsReply struct {
	Faults []Fault      `json:"faults"`
	Error  *kiosk.Error `json:"error,omitempty"`
}

// KioskRequest asks hub.kiosk about one kiosk.
type KioskRequest struct {
	Kiosk  string `json:"kiosk"`
	Events int    `json:"events,omitempty"` // newest events to include; default 20, at most 500
}

// KioskReply is the hub's whole view of one kiosk: presence and last
// snapshot, active faults, newest events, open seq gaps and the newest
// presence transitions.
type KioskReply struct {
	Kiosk    *FleetKiosk   `json:"kiosk,omitempty"` // nil: events seen but no heartbeat yet
	Faults   []Fault       `json:"faults"`
	Events   []kiosk.Event `json:"events"`
	Gaps     []Gap         `json:"gaps"`
	Presence []Transition  `json:"presence_log"`
	Error    *kiosk.Error  `json:"error,omitempty"`
}

// FetchFleet asks hub.fleet for every kiosk of office ("" = all), page by
// page, for kioskctl, the dashboard and tests.
func FetchFleet(ctx context.Context, nc *nats.Conn, office string) ([]FleetKiosk, error) {
	var out []FleetKiosk
	req := FleetRequest{Office: office}
	for {
		body, _ := json.Marshal(req)
		m, err := nc.RequestWithContext(ctx, "hub.fleet", body)
		if err != nil {
			return nil, fmt.Errorf("hub.fleet: %w", err)
		}
		var rep FleetReply
		if err := json.Unmarshal(m.Data, &rep); err != nil {
			return nil, fmt.Errorf("hub.fleet: bad reply: %w", err)
		}
		if rep.Error != nil {
			return nil, fmt.Errorf("hub.fleet: %s: %s", rep.Error.Code, rep.Error.Message)
		}
		out = append(out, rep.Kiosks...)
		if rep.Next == "" {
			return out, nil
		}
		req.After = rep.Next
	}
}
