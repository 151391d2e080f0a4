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
