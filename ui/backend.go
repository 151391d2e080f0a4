package ui

import (
	"context"
	"encoding/json"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
)

// Backend is what the kiosk screen needs from the agent. The agent
// implements it; the handler only translates HTTP to these calls and
// back, so the rules (plates, cache, sessions) live in one place.
type Backend interface {
	Screen
	// Status returns the status snapshot (DESIGN 4.4).
	Status(ctx context.Context) kiosk.Status
	// Health returns the body of GET /healthz. OK false means the agent
	// cannot serve at all (HTTP 503).
	Health(ctx context.Context) kiosk.Health
	// Plate normalises a plate typed so far. It returns the canonical
	// plate when the input parsed to one (also for some rejections, see
	// DESIGN 4.8) and an *kiosk.Error with Code invalid_plate when the
	// input is not acceptable. Message may be empty: the handler fills it.
	Plate(input string) (plate string, err *kiosk.Error)
	// StartSession opens a taxpayer session and returns its id.
	StartSession(ctx context.Context) (string, error)
	// EndSession drops the current session and all its data.
	EndSession(ctx context.Context) error
	// Ping records that the page is alive.
	Ping()
	// Lookup looks a plate up (DESIGN 4.8). On failure it returns an
	// *kiosk.Error and, when the input parsed to a plate, the canonical
	// plate in LookupAnswer.Plate.
	Lookup(ctx context.Context, req kiosk.LookupRequest) (LookupAnswer, *kiosk.Error)
}

// LookupAnswer is a successful POST /api/lookup reply, field for field.
type LookupAnswer struct {
	Plate     string          `json:"plate"`
	Result    json.RawMessage `json:"result,omitempty"`
	Source    string          `json:"source,omitempty"` // live | cache
	FetchedAt string          `json:"fetched_at,omitempty"`
	Stale     bool            `json:"stale"`
	AgeS      int64           `json:"age_s"`
}

// Screen is what the guided flow needs beyond the lookup API: its
// settings, the content pages, live events and printing. The agent
// implements it together with Backend.
type Screen interface {
	// UIConfig returns the settings the page runs with.
	UIConfig() UIConfig
	// Content returns the help and information pages in lang ("id" or
	// "en"; other values mean "id").
	Content(ctx context.Context, lang string) (kiosk.LocalContent, error)
	// Events delivers screen events until ctx is done, then closes the
	// channel. The first events describe the current state: one "status"
	// and one "maintenance" event.
	Events(ctx context.Context) <-chan Event
	// Print queues a slip for plate, which must have been looked up in the
	// current session. Errors: printer_unavailable (409), not_looked_up
	// (409), print_limit (429).
	Print(ctx context.Context, plate string) (job string, err *kiosk.Error)
	// PrintJob returns the state of a print job of the current session;
	// ok is false for an unknown job (404).
	PrintJob(ctx context.Context, id string) (job PrintJob, ok bool)
}

// Event is one server-sent event of GET /api/events: Name is the SSE event
// name, Data is sent as JSON.
//
//	status       kiosk.Status, whenever the snapshot changes in a way the
//	             screen shows (mode, printer, bus, ui)
//	maintenance  Maintenance, when maintenance is switched on or off
//	content      kiosk.ContentBundle version (an int), when new pages arrived
//	reload       null: reload the page (remote ui-reload command)
type Event struct {
	Name string
	Data any
}

// Maintenance is the data of a maintenance event.
type Maintenance struct {
	On      bool   `json:"on"`
	Message string `json:"message"` // the office's words, shown as sent
}

// UIConfig is the body of GET /api/ui/config.
type UIConfig struct {
	Kiosk          string `json:"kiosk"`
	Office         string `json:"office"`
	IdleS          int    `json:"idle_s"`           // no touch this long: start the countdown (60)
	CountdownS     int    `json:"countdown_s"`      // visible countdown before the reset (15)
	PingS          int    `json:"ping_s"`           // POST /api/ui/ping interval (5)
	ClientTimeoutS int    `json:"client_timeout_s"` // give up on a lookup after this long (8)
	RequireRangka5 bool   `json:"require_rangka5"`  // show the chassis step
	Region         string `json:"region"`           // region code shown by default on the keyboard ("BA")
}

// PrintJob is the body of GET /api/print/<id>.
type PrintJob struct {
	Job   string `json:"job"`
	State string `json:"state"` // queued | printing | done | failed
	Error string `json:"error"` // why it failed: the agent gives a reason code (paper_out, cover_open, offline, fault, lost, abandoned), the handler sends its message in the request's language
}
