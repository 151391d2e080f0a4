package dashboard

import (
	"context"
	"errors"

	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// Backend is what the dashboard needs of the hub. kioskhub implements it
// over its projection and HUB_EVENTS (kiosk/hubserver); the dashboard
// itself holds no state but sessions' signing key and login limits.
//
// The Backend does not check permissions: the dashboard does, on every
// route, before calling it. Methods that change something take the
// logged-in user's name and record it (HUB_EVENTS, audit log).
type Backend interface {
	// Fleet returns every kiosk the hub knows; the dashboard filters by
	// the user's offices.
	Fleet(ctx context.Context) ([]hubapi.FleetKiosk, error)
	// Kiosk returns one kiosk with faults, newest events (limit) and
	// presence log; ErrNotFound if the hub never heard of it.
	Kiosk(ctx context.Context, id string, events int) (hubapi.KioskReply, error)
	// Incidents returns incidents matching q, newest first, with timings.
	Incidents(ctx context.Context, q hubapi.IncidentsRequest) ([]hubapi.Incident, error)
	// Incident returns one incident; ErrNotFound if there is none.
	Incident(ctx context.Context, id string) (hubapi.Incident, error)
	// Acknowledge and Resolve move an incident (ErrConflict when the move
	// is not possible from its state, e.g. already resolved).
	Acknowledge(ctx context.Context, id, user string) error
	Resolve(ctx context.Context, id, user, note string) error
	// Maintenance and Restart send a command to the kiosk and return its
	// outcome: "done", "deferred", "rejected" or "offline" (no responders),
	// with the kiosk's detail text.
	Maintenance(ctx context.Context, kiosk string, on bool, message, user string) (CommandResult, error)
	Restart(ctx context.Context, kiosk, level string, force bool, user string) (CommandResult, error)
	// User returns a dashboard user with its bcrypt hash; ErrNotFound if
	// there is none.
	User(ctx context.Context, name string) (hubapi.User, error)
	Users(ctx context.Context) ([]hubapi.User, error)
	// AddUser adds or replaces a user (hash already bcrypt); SetDisabled
	// disables or enables one. Both are recorded with by.
	AddUser(ctx context.Context, u hubapi.User, by string) error
	SetDisabled(ctx context.Context, name string, disabled bool, by string) error
	// Audit returns the newest recorded actions, optionally of offices
	// only (nil = all).
	Audit(ctx context.Context, offices []string, limit int) ([]hubapi.AuditEntry, error)
	// Alerts returns the newest alerts with their delivery state.
	Alerts(ctx context.Context, limit int) ([]hubapi.Alert, error)
	// Credentials lists the NATS credentials issued (kiosks and
	// operators); Revoke revokes one by name. sistim only.
	Credentials(ctx context.Context) ([]Credential, error)
	Revoke(ctx context.Context, name, user string) error
	// Subscribe returns a channel of changes for live pages (SSE) and a
	// function that ends the subscription. A slow reader loses changes,
	// never blocks the hub: the channel is buffered and sends are
	// non-blocking, and Change.Resync tells the page to reload.
	Subscribe() (<-chan Change, func())
}

// CommandResult is a kiosk's answer to a command sent from the dashboard.
type CommandResult struct {
	Outcome string `json:"outcome"` // done | deferred | rejected | offline
	Detail  string `json:"detail,omitempty"`
	CmdID   string `json:"cmd_id,omitempty"`
}

// Credential is one issued .creds (natsauth), as listed to sistim.
type Credential struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"` // kiosk | operator
	Office  string `json:"office,omitempty"`
	Issued  string `json:"issued"`
	Expires string `json:"expires,omitempty"`
	Revoked bool   `json:"revoked"`
}

// Change says what changed at the hub, for live pages (hubapi.Change).
type Change = hubapi.Change

// Errors a Backend returns for the dashboard to map to 404 and 409.
var (
	ErrNotFound = errors.New("dashboard: not found")
	ErrConflict = errors.New("dashboard: conflict")
)
