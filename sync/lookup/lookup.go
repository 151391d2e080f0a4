// Package lookup is the hub's lookup gateway: the NATS micro service "pkb"
// that answers pkb.lookup.<kiosk id> (DESIGN 4.6) from a Source.
//
// # Concepts
//
// A Source is one backend of vehicle-tax data (the generated "sample" store,
// later the legacy Sumatera Barat JSON service). The gateway re-checks the
// plate itself, takes the kiosk id from the subject only, enforces the
// rangka5 factor and per-kiosk rate limits, and maps Source errors to the
// contract's error codes. Replies carry no personal data because
// pkb.Result has no field for any.
package lookup

import (
	"context"
	"errors"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/pkb"
)

// Query is one lookup as a Source sees it.
type Query struct {
	Plate   string // canonical plate (domain/pkb.md 3.4), already validated
	Rangka5 string // upper-case [0-9A-Z]{5}, or "" when the kiosk does not ask for it
	Kiosk   string // asking kiosk, from the subject; for rate limits and logs
}

// Source is a backend of vehicle-tax data.
type Source interface {
	// Lookup returns the bill of q.Plate as of now. It returns ErrNotFound,
	// ErrRangkaMismatch or ErrUnavailable (wrapped) for the failures the
	// kiosk tells apart; any other error counts as unavailable.
	Lookup(ctx context.Context, q Query) (pkb.Result, error)
}

// Errors a Source returns.
var (
	ErrNotFound       = errors.New("lookup: plate not found")
	ErrRangkaMismatch = errors.New("lookup: rangka5 does not match")
	ErrUnavailable    = errors.New("lookup: source unavailable")
)
