package hubapi

import (
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
)

// Incident is one report -> check -> resolve case (DESIGN 7): a critical
// fault of one kiosk, a kiosk gone silent, or a whole office gone silent.
type Incident struct {
	ID       string   `json:"id"`
	Scope    string   `json:"scope"`           // "kiosk" | "office"
	Kiosk    string   `json:"kiosk,omitempty"` // empty for an office incident
	Office   string   `json:"office"`
	Kiosks   []string `json:"kiosks,omitempty"` // office incident: the kiosks it covers
	Code     string   `json:"code"`             // fault code, "kiosk.offline" or "office.offline"
	Severity string   `json:"severity"`
	Cause    string   `json:"cause,omitempty"` // "power" | "network" for offline incidents
	Title    string   `json:"title"`           // Bahasa Indonesia, for lists and alerts
	Detail   string   `json:"detail,omitempty"`

	State          string    `json:"state"` // open | acknowledged | resolved
	OpenedAt       time.Time `json:"opened_at"`
	AckedAt        time.Time `json:"acked_at,omitzero"`
	AckedBy        string    `json:"acked_by,omitempty"`
	ResolvedAt     time.Time `json:"resolved_at,omitzero"`
	ResolvedBy     string    `json:"resolved_by,omitempty"` // "hub" when auto-resolved
	Note           string    `json:"note,omitempty"`
	AckDue         time.Time `json:"ack_due"`
	ResolveDue     time.Time `json:"resolve_due"`
	AckOverdue     bool      `json:"ack_overdue"`
	ResolveOverdue bool      `json:"resolve_overdue"`
	// Working time taken, in seconds, once done.
	TimeToAckS     int64 `json:"time_to_ack_s,omitempty"`
	TimeToResolveS int64 `json:"time_to_resolve_s,omitempty"`
}

// Overdue reports whether a target was missed.
func (i Incident) Overdue() bool { return i.AckOverdue || i.ResolveOverdue }

// IncidentsRequest asks hub.incidents for incidents; zero fields match all.
type IncidentsRequest struct {
	Office string    `json:"office,omitempty"`
	Kiosk  string    `json:"kiosk,omitempty"`
	State  string    `json:"state,omitempty"` // open | acknowledged | resolved | active (open or acknowledged)
	Since  time.Time `json:"since,omitzero"`  // opened at or after
	Until  time.Time `json:"until,omitzero"`  // opened before
	Limit  int       `json:"limit,omitempty"` // default 200, at most 5000
}

// IncidentsReply answers hub.incidents, newest first.
type IncidentsReply struct {
	Incidents []Incident   `json:"incidents"`
	Error     *kiosk.Error `json:"error,omitempty"`
}

// Roles of dashboard users (DESIGN 7).
const (
	RoleUPTD   = "uptd"   // own office(s): view, acknowledge, maintenance
	RoleSistim = "sistim" // all offices, restart, credentials
	RoleAdmin  = "admin"  // users
)

// User is a dashboard user. Hash is the bcrypt hash of the password; it is
// never sent to a client.
type User struct {
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	Offices  []string  `json:"offices,omitempty"` // uptd only
	Hash     string    `json:"-"`
	Disabled bool      `json:"disabled,omitempty"`
	Changed  time.Time `json:"changed"`
	// Epoch increases when the password changes or the user is disabled:
	// sessions issued under an older epoch are no longer valid.
	Epoch int64 `json:"epoch"`
}

// AuditEntry is one action of a logged-in user (or of the hub itself,
// User "hub"), as recorded on HUB_EVENTS.
type AuditEntry struct {
	At     time.Time `json:"at"`
	User   string    `json:"user"`
	Action string    `json:"action"` // incident.acknowledged, maintenance.set, restart, user.added, ...
	Target string    `json:"target"` // incident id, kiosk id or user name
	Office string    `json:"office,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// Alert is a message to people: queued by a decision of the hub, then
// delivered by webhook and/or e-mail.
type Alert struct {
	ID       string    `json:"id"`
	Kind     string    `json:"kind"` // opened | resolved | reminder | alive | backup | expiry | disk
	Incident string    `json:"incident,omitempty"`
	Office   string    `json:"office,omitempty"`
	Subject  string    `json:"subject"`
	Text     string    `json:"text"`
	Queued   time.Time `json:"queued"`
	State    string    `json:"state"` // queued | sent | failed
	Sent     time.Time `json:"sent,omitzero"`
	Attempts int       `json:"attempts"`
	LastErr  string    `json:"last_error,omitempty"`
}

// Change says what changed at the hub, for the dashboard's live pages.
type Change struct {
	Kind   string `json:"kind"`             // kiosk | incident | fault
	Kiosk  string `json:"kiosk,omitempty"`  // the kiosk, if any
	Office string `json:"office,omitempty"` // always set unless Resync
	ID     string `json:"id,omitempty"`     // incident id
	Resync bool   `json:"resync,omitempty"` // changes were lost: reload everything
}
