package alert

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// Retry policy.
const (
	FirstBackoff = 5 * time.Second  // the wait after the first failed attempt
	MaxBackoff   = 10 * time.Minute // the longest wait between attempts
	// GiveUpAfter: a target still failing this long after the alert was
	// queued is given up. A day covers a weekend-long mail server outage
	// poorly, but an alert older than that is news nobody can act on.
	GiveUpAfter = 24 * time.Hour
)

// Backoff returns the wait after the given number of failed attempts:
// FirstBackoff doubling with each attempt, ±20% jitter so that many alerts
// failing together do not retry together, and never more than MaxBackoff.
// attempts < 1 means no wait. rnd is the jitter source (STYLE 3); nil means
// math/rand/v2's global one.
func Backoff(attempts int, rnd *rand.Rand) time.Duration {
	if attempts < 1 {
		return 0
	}
	d := MaxBackoff
	if attempts <= 20 { // 5 s << 20 is far past the cap; no overflow
		d = min(FirstBackoff<<(attempts-1), MaxBackoff)
	}
	f := rand.Float64
	if rnd != nil {
		f = rnd.Float64
	}
	j := time.Duration(float64(d) * (0.8 + 0.4*f()))
	return min(j, MaxBackoff)
}

// Pending is one (alert, target) pair the hub has not finished with, and
// what it recorded so far: with the attempt count and the time of the last
// attempt, a restarted hub goes on backing off where it stopped.
type Pending struct {
	Alert    hubapi.Alert
	Target   Target
	Attempts int       // attempts recorded so far for this target
	Last     time.Time // time of the last recorded attempt; zero if none
}

// DefaultParallel is how many deliveries a Sender runs at once by default.
const DefaultParallel = 4

// Sender delivers pending alerts with retries until each target succeeded,
// failed for good or was given up. The hub owns the state: Sender asks for
// it (Pending) and reports every attempt (Record), keeping in memory only
// the schedule, which it can rebuild from what Pending returns.
//
// Set the fields, then call Run once; Kick may be called at any time, from
// any goroutine.
type Sender struct {
	// Pending returns the (alert, target) pairs that are neither done nor
	// failed. It is called at the start of every round, so it should be
	// a cheap query.
	Pending func(ctx context.Context) ([]Pending, error)
	// Record persists one attempt. done: the target has the alert;
	// failed: it never will (permanent failure, or given up). Once Record
	// returned nil for done or failed, Pending should stop listing the
	// pair. Record is called from the Run goroutine only, one at a time.
	Record func(ctx context.Context, alertID string, a Attempt, done, failed bool) error
	// Config gives the SMTP server and the dashboard URL to the default
	// Deliver.
	Config Config
	// Deliver makes one attempt; nil means that of a
	// Deliverer{Config: Config, Now: Now}. Set it to use a Deliverer
	// with other options, or a fake in tests.
	Deliver func(ctx context.Context, a hubapi.Alert, t Target) Attempt

	Parallel int              // deliveries at once; 0 means DefaultParallel
	Poll     time.Duration    // how often Pending is asked without a Kick; 0 means 1 minute
	Now      func() time.Time // the clock of retry decisions; nil means time.Now
	Rand     *rand.Rand       // the jitter source; nil means math/rand/v2's
	Log      *slog.Logger     // nil means discard

	mu      sync.Mutex    // guards the fields below
	kick    chan struct{} // buffered(1); made by the first Kick or Run
	running bool
}

// Kick makes Run look for pending alerts now rather than at its next
// poll: the hub calls it after queueing an alert.
func (s *Sender) Kick() {
	select {
	case s.kickChan() <- struct{}{}:
	default: // a kick is already waiting: one is enough
	}
}

func (s *Sender) kickChan() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kick == nil {
		s.kick = make(chan struct{}, 1)
	}
	return s.kick
}

// delivery is the schedule of one (alert, target) pair; owned by the Run
// goroutine, so unlocked.
type delivery struct {
	attempts int
	next     time.Time // no attempt before
	first    time.Time // first attempt seen by this process, when the alert has no Queued time
	inflight bool
	finished bool     // done or failed: never tried again
	unsaved  *outcome // finished but Record failed: saved again every round
}

// outcome is one Record call.
type outcome struct {
	alertID      string
	attempt      Attempt
	done, failed bool
}

type job struct {
	key string
	p   Pending
}

type result struct {
	job job
	a   Attempt
}

func pairKey(p Pending) string { return p.Alert.ID + "\x00" + p.Target.ID() }

// Run delivers until ctx is done, then waits for the deliveries under way
// to end (they are cancelled), records those that finished, and returns
// nil. Errors of Pending and Record are logged and retried: the alerts
// stay with the hub, nothing is lost. Run returns an error only when the
// Sender is not set up or already running.
func (s *Sender) Run(ctx context.Context) error {
	if s.Pending == nil || s.Record == nil {
		return errors.New("alert: Sender needs Pending and Record")
	}
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return errors.New("alert: Sender.Run is already running")
	}
	s.running = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
	}()

	deliver := s.Deliver
	if deliver == nil {
		deliver = (&Deliverer{Config: s.Config, Now: s.Now}).Deliver
	}
	parallel := s.Parallel
	if parallel < 1 {
		parallel = DefaultParallel
	}
	poll := cmp.Or(s.Poll, time.Minute)
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	kick := s.kickChan()

	state := map[string]*delivery{}
	// Each worker sends exactly one result; the buffer holds all of them,
	// so a worker never blocks and can always exit.
	results := make(chan result, parallel)
	inflight := 0
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		close(results)
		// Deliveries that ended as ctx was cancelled: record what is
		// known, briefly, so an alert delivered just now is not sent
		// again by the next hub.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		for r := range results {
			s.finish(rctx, ctx, log, state, r)
		}
	}()

	for {
		now := s.now()
		var due []job
		var wake time.Time // earliest next attempt not yet due
		if ps, err := s.Pending(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Error("alerts: pending not read; will retry", "err", err)
		} else {
			due, wake = s.plan(ctx, log, state, ps, now)
		}

		for _, j := range due {
			if inflight == parallel {
				break // the rest wait for a free worker: a result wakes the loop
			}
			st := state[j.key]
			st.inflight = true
			if st.first.IsZero() {
				st.first = now
			}
			inflight++
			wg.Add(1)
			go func() {
				defer wg.Done()
				results <- result{job: j, a: deliver(ctx, j.p.Alert, j.p.Target)}
			}()
		}

		wait := poll
		if !wake.IsZero() {
			wait = min(wait, max(wake.Sub(now), time.Millisecond))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-kick:
		case <-timer.C:
		case r := <-results:
			inflight--
			s.finish(ctx, ctx, log, state, r)
		}
		timer.Stop()
	}
}

// plan brings state up to date with what the hub says is pending and
// returns the pairs due now and when the next one falls due (zero if
// none). It also retries storing outcomes that Record refused.
func (s *Sender) plan(ctx context.Context, log *slog.Logger, state map[string]*delivery, ps []Pending, now time.Time) (due []job, wake time.Time) {
	seen := make(map[string]bool, len(ps))
	for _, p := range ps {
		key := pairKey(p)
		seen[key] = true
		st := state[key]
		if st == nil {
			// New, or known to the hub from before a restart: go on
			// backing off from its last attempt.
			st = &delivery{attempts: p.Attempts, next: now}
			if p.Attempts > 0 && !p.Last.IsZero() {
				st.next = p.Last.Add(Backoff(p.Attempts, s.Rand))
			}
			state[key] = st
		} else if p.Attempts > st.attempts { // recorded by someone else
			st.attempts = p.Attempts
			st.next = later(st.next, p.Last.Add(Backoff(p.Attempts, s.Rand)))
		}
		switch {
		case st.unsaved != nil:
			o := st.unsaved
			if err := s.Record(ctx, o.alertID, o.attempt, o.done, o.failed); err != nil {
				log.Error("alerts: attempt not recorded; will retry", "alert", o.alertID, "target", o.attempt.Target.String(), "err", err)
			} else {
				st.unsaved = nil
			}
		case st.finished || st.inflight:
		case !now.Before(st.next):
			due = append(due, job{key: key, p: p})
		case wake.IsZero() || st.next.Before(wake):
			wake = st.next
		}
	}
	for key, st := range state {
		if !seen[key] && !st.inflight {
			delete(state, key) // finished and recorded, or withdrawn by the hub
		}
	}
	// Oldest first, so a burst of new alerts does not starve a retry.
	slices.SortStableFunc(due, func(a, b job) int {
		return cmp.Or(state[a.key].next.Compare(state[b.key].next), a.p.Alert.Queued.Compare(b.p.Alert.Queued))
	})
	return due, wake
}

// finish records one attempt and schedules the next. runCtx is Run's
// context: an attempt cut short by its cancellation is not counted, since
// the receiver was not at fault.
func (s *Sender) finish(ctx, runCtx context.Context, log *slog.Logger, state map[string]*delivery, r result) {
	st := state[r.job.key]
	st.inflight = false
	a := r.a
	if !a.OK && !a.Permanent && runCtx.Err() != nil {
		return
	}
	now := s.now()
	st.attempts++
	start := r.job.p.Alert.Queued
	if start.IsZero() {
		start = st.first
	}
	done := a.OK
	failed := !a.OK && (a.Permanent || now.Sub(start) >= GiveUpAfter)
	if done || failed {
		st.finished = true
	} else {
		st.next = now.Add(Backoff(st.attempts, s.Rand))
	}
	o := &outcome{alertID: r.job.p.Alert.ID, attempt: a, done: done, failed: failed}
	if err := s.Record(ctx, o.alertID, o.attempt, o.done, o.failed); err != nil {
		log.Error("alerts: attempt not recorded; will retry", "alert", o.alertID, "target", a.Target.String(), "err", err)
		if done || failed {
			// Keep it: the hub must learn the outcome, and the alert
			// must not be sent again meanwhile.
			st.unsaved = o
		}
	}
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
