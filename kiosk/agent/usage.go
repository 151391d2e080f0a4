package agent

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/outbox"
)

// Usage counting (usage.summary, DESIGN 4.2): counts only, per clock hour
// of the kiosk's zone. The counts live in memory and are saved with the
// last-alive time at every heartbeat, so a crash or power cut loses at
// most one heartbeat interval of counting, never a whole hour. The
// summary of a finished hour is emitted in the same transaction that
// starts the next hour's counts at zero: it is counted once or not at all.

const keyUsage = "usage" // JSON kiosk.UsageData of the open hour

type usageCounter struct {
	mu sync.Mutex
	d  kiosk.UsageData // Hour "" until loaded
}

// Kinds of lookup outcome for the counters.
const (
	usageFound = iota
	usageNotFound
	usageError   // no result for a reason other than "not found" (hub down, rate limit, ...)
	usageInvalid // plate or rangka refused before any lookup: counted as a lookup only
)

func (a *Agent) countLookup(kind int) {
	a.metrics.countLookup(kind)
	a.usage.mu.Lock()
	defer a.usage.mu.Unlock()
	a.usage.d.Lookups++
	switch kind {
	case usageFound:
		a.usage.d.Found++
	case usageNotFound:
		a.usage.d.NotFound++
	case usageError:
		a.usage.d.Errors++
	}
}

func (a *Agent) countPrint() {
	a.usage.mu.Lock()
	a.usage.d.Prints++
	a.usage.mu.Unlock()
}

func (a *Agent) countSession() {
	a.usage.mu.Lock()
	a.usage.d.Sessions++
	a.usage.mu.Unlock()
}

// hourOf is the start of the clock hour of t in the kiosk's zone.
func (a *Agent) hourOf(t time.Time) string {
	return t.In(a.cfg.TZ).Truncate(time.Hour).Format(time.RFC3339)
}

// loadUsage restores the counts saved by the previous run.
func (a *Agent) loadUsage(ctx context.Context) error {
	v, err := a.store.State(ctx, keyUsage)
	var d kiosk.UsageData
	switch {
	case errors.Is(err, outbox.ErrNotFound):
	case err != nil:
		return err
	default:
		if json.Unmarshal([]byte(v), &d) != nil {
			a.log.Warn("saved usage counts unreadable; starting from zero", "value_bytes", len(v))
			d = kiosk.UsageData{}
		}
	}
	if d.Hour == "" {
		d.Hour = a.hourOf(a.cfg.Now())
	}
	a.usage.mu.Lock()
	a.usage.d = d
	a.usage.mu.Unlock()
	return nil
}

// saveUsage writes the open hour's counts inside tx and, when the clock
// has moved past that hour, emits its usage.summary and starts the
// current hour from zero. The in-memory counts change only after the
// transaction committed (commit), so a failed write keeps counting on.
func (a *Agent) saveUsage(tx *outbox.Tx, now time.Time) (commit func(), err error) {
	a.usage.mu.Lock()
	d := a.usage.d
	a.usage.mu.Unlock()
	cur := a.hourOf(now)
	if d.Hour == "" {
		d.Hour = cur
	}
	next := d
	if d.Hour != cur {
		if _, err := tx.Emit(kiosk.EventUsage, now, a.envelope(kiosk.EventUsage, now, d)); err != nil {
			return nil, err
		}
		next = kiosk.UsageData{Hour: cur}
	}
	b, err := json.Marshal(next)
	if err != nil {
		return nil, err
	}
	if err := tx.SetState(keyUsage, string(b)); err != nil {
		return nil, err
	}
	return func() {
		if next.Hour == d.Hour {
			return
		}
		// Counts made since the snapshot above belong to the new hour.
		a.usage.mu.Lock()
		c := a.usage.d
		a.usage.d = kiosk.UsageData{Hour: cur, Lookups: c.Lookups - d.Lookups, Found: c.Found - d.Found,
			NotFound: c.NotFound - d.NotFound, Errors: c.Errors - d.Errors, Prints: c.Prints - d.Prints, Sessions: c.Sessions - d.Sessions}
		a.usage.mu.Unlock()
		a.kickDrain()
	}, nil
}
