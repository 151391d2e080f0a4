package alert

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/kiosktest"
	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// fakeHub is the hub's side of a Sender: the pending pairs and the
// delivery log, in memory, as the projection would keep them.
type fakeHub struct {
	mu           sync.Mutex
	pending      []*Pending
	records      []recorded
	pendingCalls int
	// keepFinished: Pending goes on listing finished pairs, like a
	// projection that lags behind the log.
	keepFinished bool
	// recordErr, if set, may refuse a Record call.
	recordErr func(recorded) error
	// onRecord, if set, gets every stored record.
	onRecord chan recorded
}

type recorded struct {
	alertID      string
	a            Attempt
	done, failed bool
}

func (h *fakeHub) add(a hubapi.Alert, ts ...Target) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range ts {
		h.pending = append(h.pending, &Pending{Alert: a, Target: t})
	}
}

func (h *fakeHub) Pending(ctx context.Context) ([]Pending, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pendingCalls++
	ps := make([]Pending, 0, len(h.pending))
	for _, p := range h.pending {
		ps = append(ps, *p)
	}
	return ps, nil
}

func (h *fakeHub) Record(ctx context.Context, alertID string, a Attempt, done, failed bool) error {
	r := recorded{alertID, a, done, failed}
	h.mu.Lock()
	if h.recordErr != nil {
		if err := h.recordErr(r); err != nil {
			h.mu.Unlock()
			return err
		}
	}
	h.records = append(h.records, r)
	for i, p := range h.pending {
		if p.Alert.ID == alertID && p.Target.ID() == a.Target.ID() {
			p.Attempts++
			p.Last = a.At
			if (done || failed) && !h.keepFinished {
				h.pending = append(h.pending[:i], h.pending[i+1:]...)
			}
			break
		}
	}
	h.mu.Unlock()
	if h.onRecord != nil {
		select {
		case h.onRecord <- r:
		case <-ctx.Done():
		}
	}
	return nil
}

func (h *fakeHub) log() []recorded {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]recorded(nil), h.records...)
}

func (h *fakeHub) calls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pendingCalls
}

// runSender runs s until the test ends and checks that Run returns nil.
func runSender(t *testing.T, s *Sender) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run() = %v, want nil after cancel", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// next waits for the next record; the limit only keeps a broken test from
// hanging until the global timeout.
func next(t *testing.T, ch chan recorded) recorded {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(time.Minute):
		t.Fatal("no attempt was recorded")
		return recorded{}
	}
}

// waitRound kicks s and waits until it asked the hub for pending alerts
// twice more, so a whole round ran after the kick.
func waitRound(t *testing.T, h *fakeHub, s *Sender) {
	t.Helper()
	c0 := h.calls()
	for range 2 {
		s.Kick()
		deadline := time.Now().Add(time.Minute)
		for h.calls() <= c0 {
			if time.Now().After(deadline) {
				t.Fatal("the sender did not run a round after Kick")
			}
			time.Sleep(time.Millisecond)
		}
		c0 = h.calls()
	}
}

// TestSenderRetriesWebhookUntilAccepted is the scenario: the
// receiver fails twice with 503, then accepts. The alert arrives once as
// accepted, after three recorded attempts, all with the same key.
func TestSenderRetriesWebhookUntilAccepted(t *testing.T) {
	r, srv := startReceiver(t, http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusOK)
	clock := kiosktest.NewClock(testQueued.Add(time.Second))
	hub := &fakeHub{onRecord: make(chan recorded)}
	tg := Target{Kind: KindWebhook, Addr: srv.URL + "/hooks/abc", Route: "Bidang Sistim"}
	hub.add(testAlert(), tg)
	s := &Sender{
		Pending: hub.Pending,
		Record:  hub.Record,
		Config:  Config{DashboardURL: "https://hub.example/"},
		Now:     clock.Now,
		Rand:    rand.New(rand.NewPCG(1, 2)),
	}
	stop := runSender(t, s)

	for i := 1; i <= 3; i++ {
		rec := next(t, hub.onRecord)
		last := i == 3
		if rec.alertID != "al-20260309-0001" || rec.a.Target != tg || rec.a.OK != last || rec.done != last || rec.failed || rec.a.Permanent {
			t.Errorf("attempt %d recorded %+v; want ok=done=%v, not failed", i, rec, last)
		}
		if !last {
			if rec.a.Status != "503 Service Unavailable" {
				t.Errorf("attempt %d: status %q", i, rec.a.Status)
			}
			clock.Add(MaxBackoff) // whatever the jitter, the next attempt is due
			s.Kick()
		}
	}
	waitRound(t, hub, s) // nothing is left to send
	stop()

	reqs := r.requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(reqs))
	}
	accepted := 0
	for i, req := range reqs {
		if key := req.header.Get("Idempotency-Key"); key != "al-20260309-0001" {
			t.Errorf("request %d: Idempotency-Key %q, want the alert id", i+1, key)
		}
		if req.status == http.StatusOK {
			accepted++
		}
	}
	if accepted != 1 {
		t.Errorf("alert accepted %d times, want once", accepted)
	}
	if n := len(hub.log()); n != 3 {
		t.Errorf("%d attempts recorded, want 3", n)
	}
}

func TestSenderPermanentFailure(t *testing.T) {
	r, srv := startReceiver(t, http.StatusBadRequest)
	clock := kiosktest.NewClock(testQueued.Add(time.Second))
	// The hub keeps listing the pair: the Sender itself must not retry.
	hub := &fakeHub{onRecord: make(chan recorded), keepFinished: true}
	hub.add(testAlert(), Target{Kind: KindWebhook, Addr: srv.URL + "/hooks/abc"})
	s := &Sender{Pending: hub.Pending, Record: hub.Record, Now: clock.Now}
	runSender(t, s)

	rec := next(t, hub.onRecord)
	if rec.a.OK || !rec.a.Permanent || rec.done || !rec.failed {
		t.Errorf("recorded %+v, want a permanent failure, failed", rec)
	}
	clock.Add(GiveUpAfter)
	waitRound(t, hub, s)
	if n := len(r.requests()); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}
	if n := len(hub.log()); n != 1 {
		t.Errorf("%d attempts recorded, want 1", n)
	}
}

func TestSenderReceiverDown(t *testing.T) {
	clock := kiosktest.NewClock(testQueued.Add(time.Second))
	hub := &fakeHub{onRecord: make(chan recorded)}
	hub.add(testAlert(), Target{Kind: KindWebhook, Addr: "http://" + closedAddr(t) + "/hooks/abc"})
	s := &Sender{Pending: hub.Pending, Record: hub.Record, Now: clock.Now}
	runSender(t, s)
	for i := 1; i <= 2; i++ {
		rec := next(t, hub.onRecord)
		if rec.a.OK || rec.a.Permanent || rec.done || rec.failed || rec.a.Err == "" {
			t.Errorf("attempt %d recorded %+v, want a failure to retry", i, rec)
		}
		clock.Add(MaxBackoff)
		s.Kick()
	}
}

// fakeDeliver answers with the attempts fn gives, stamped with the time.
func fakeDeliver(fn func(ctx context.Context, a hubapi.Alert, t Target) Attempt) func(context.Context, hubapi.Alert, Target) Attempt {
	return func(ctx context.Context, a hubapi.Alert, t Target) Attempt {
		at := fn(ctx, a, t)
		at.Target = t
		at.At = time.Now()
		return at
	}
}

func webhookTarget(i int) Target {
	return Target{Kind: KindWebhook, Addr: fmt.Sprintf("https://hooks.example/%d", i)}
}

// TestSenderBackoffAndGiveUp follows one always-failing target through a
// day of fake time: the waits follow Backoff, and the target is given up
// GiveUpAfter after the alert was queued, with no attempt after that.
func TestSenderBackoffAndGiveUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		hub := &fakeHub{}
		a := testAlert()
		a.Queued = start
		hub.add(a, webhookTarget(1))
		s := &Sender{Pending: hub.Pending, Record: hub.Record,
			Deliver: fakeDeliver(func(context.Context, hubapi.Alert, Target) Attempt {
				return Attempt{Status: "503 Service Unavailable", Err: "busy"}
			})}
		stop := runSender(t, s)
		time.Sleep(GiveUpAfter + time.Hour)
		synctest.Wait()
		stop()

		log := hub.log()
		if len(log) < 100 {
			t.Fatalf("%d attempts in a day, want well over 100", len(log))
		}
		if !log[0].a.At.Equal(start) {
			t.Errorf("first attempt at %v, want at once", log[0].a.At.Sub(start))
		}
		for i := 1; i < len(log); i++ {
			gap := log[i].a.At.Sub(log[i-1].a.At)
			base := min(FirstBackoff<<min(i-1, 20), MaxBackoff)
			lo, hi := base*8/10, min(base*12/10, MaxBackoff)
			if gap < lo || gap > hi {
				t.Errorf("wait before attempt %d = %v, want within [%v, %v]", i+1, gap, lo, hi)
			}
		}
		for i, r := range log {
			last := i == len(log)-1
			if r.failed != last || r.done {
				t.Errorf("attempt %d: done %v failed %v", i+1, r.done, r.failed)
			}
		}
		if end := log[len(log)-1].a.At.Sub(start); end < GiveUpAfter || end > GiveUpAfter+MaxBackoff {
			t.Errorf("given up %v after queueing, want just after %v", end, GiveUpAfter)
		}
	})
}

// TestSenderResumesBackoff: a restarted hub hands over the attempt count
// and the last attempt's time; the next attempt waits as if there had been
// no restart.
func TestSenderResumesBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		hub := &fakeHub{}
		hub.pending = []*Pending{
			{Alert: hubapi.Alert{ID: "old", Queued: start.Add(-time.Hour)}, Target: webhookTarget(1), Attempts: 6, Last: start.Add(-10 * time.Second)},
			{Alert: hubapi.Alert{ID: "new", Queued: start}, Target: webhookTarget(1)},
		}
		s := &Sender{Pending: hub.Pending, Record: hub.Record,
			Deliver: fakeDeliver(func(context.Context, hubapi.Alert, Target) Attempt { return Attempt{OK: true} })}
		runSender(t, s)
		time.Sleep(time.Hour)
		synctest.Wait()

		got := map[string]time.Duration{}
		for _, r := range hub.log() {
			got[r.alertID] = r.a.At.Sub(start)
		}
		if d, ok := got["new"]; !ok || d != 0 {
			t.Errorf("new alert sent after %v (%v), want at once", d, ok)
		}
		// Backoff(6) is 160 s ±20%, counted from the last attempt.
		lo, hi := 128*time.Second-10*time.Second, 192*time.Second-10*time.Second
		if d, ok := got["old"]; !ok || d < lo || d > hi {
			t.Errorf("old alert sent after %v (%v), want within [%v, %v]", d, ok, lo, hi)
		}
	})
}

// TestSenderKick: a kicked Sender sends a new alert at once, not at its
// next poll.
func TestSenderKick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		hub := &fakeHub{}
		s := &Sender{Pending: hub.Pending, Record: hub.Record, Poll: time.Hour,
			Deliver: fakeDeliver(func(context.Context, hubapi.Alert, Target) Attempt { return Attempt{OK: true} })}
		runSender(t, s)
		synctest.Wait() // idle, waiting for the poll

		hub.add(hubapi.Alert{ID: "kicked", Queued: start}, webhookTarget(1))
		s.Kick()
		synctest.Wait()
		if log := hub.log(); len(log) != 1 || !log[0].done || !log[0].a.At.Equal(start) {
			t.Fatalf("after Kick: %+v, want the alert sent at once", log)
		}

		hub.add(hubapi.Alert{ID: "polled", Queued: start}, webhookTarget(1))
		synctest.Wait()
		if n := len(hub.log()); n != 1 {
			t.Fatalf("without Kick, %d records before the poll, want 1", n)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if log := hub.log(); len(log) != 2 || log[1].alertID != "polled" || log[1].a.At.Sub(start) != time.Hour {
			t.Errorf("after the poll: %+v, want the second alert sent at the poll", log)
		}
	})
}

// TestSenderParallel: deliveries run at most Parallel at once, and a
// target that hangs does not hold the others. Cancelling Run stops the
// hung delivery, records nothing for it, and leaves no goroutine behind
// (synctest fails the test otherwise).
func TestSenderParallel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hub := &fakeHub{}
		slow := webhookTarget(0)
		for i := range 10 {
			hub.add(hubapi.Alert{ID: fmt.Sprintf("a%d", i), Queued: time.Now().Add(time.Duration(i))}, webhookTarget(i))
		}
		var mu sync.Mutex
		running, most := 0, 0
		s := &Sender{Pending: hub.Pending, Record: hub.Record,
			Deliver: fakeDeliver(func(ctx context.Context, _ hubapi.Alert, t Target) Attempt {
				if t == slow {
					<-ctx.Done() // hangs until the hub stops
					return Attempt{Err: ctx.Err().Error()}
				}
				mu.Lock()
				running++
				most = max(most, running)
				mu.Unlock()
				time.Sleep(time.Second)
				mu.Lock()
				running--
				mu.Unlock()
				return Attempt{OK: true}
			})}
		stop := runSender(t, s)
		time.Sleep(time.Minute)
		synctest.Wait()

		log := hub.log()
		if len(log) != 9 {
			t.Errorf("%d deliveries done while one target hangs, want the 9 others", len(log))
		}
		for _, r := range log {
			if r.a.Target == slow || !r.done {
				t.Errorf("recorded %+v", r)
			}
		}
		if most != DefaultParallel-1 { // the hung one holds a worker too
			t.Errorf("%d deliveries at once, want %d: in parallel, but bounded", most+1, DefaultParallel)
		}
		stop()
		if n := len(hub.log()); n != 9 {
			t.Errorf("%d records after stop, want 9: a cancelled attempt is not the receiver's fault", n)
		}
	})
}

// TestSenderRecordFails: when the hub cannot store that a target got the
// alert, the Sender keeps trying to store it, and never sends again.
func TestSenderRecordFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fails := 3
		hub := &fakeHub{recordErr: func(recorded) error {
			if fails > 0 {
				fails--
				return errors.New("database is locked")
			}
			return nil
		}}
		hub.add(testAlert(), webhookTarget(1))
		sent := 0
		s := &Sender{Pending: hub.Pending, Record: hub.Record, Poll: time.Minute,
			Deliver: fakeDeliver(func(context.Context, hubapi.Alert, Target) Attempt {
				sent++
				return Attempt{OK: true}
			})}
		runSender(t, s)
		time.Sleep(time.Hour)
		synctest.Wait()
		if sent != 1 {
			t.Errorf("sent %d times, want once", sent)
		}
		if log := hub.log(); len(log) != 1 || !log[0].done {
			t.Errorf("records %+v, want the delivery stored once it could be", log)
		}
	})
}

func TestSenderMisuse(t *testing.T) {
	if err := (&Sender{}).Run(t.Context()); err == nil {
		t.Error("Run without Pending and Record = nil, want an error")
	}
	synctest.Test(t, func(t *testing.T) {
		hub := &fakeHub{}
		s := &Sender{Pending: hub.Pending, Record: hub.Record}
		runSender(t, s)
		synctest.Wait()
		if err := s.Run(t.Context()); err == nil {
			t.Error("second Run = nil, want an error")
		}
	})
}

func TestBackoff(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 7))
	for _, tt := range []struct {
		attempts int
		base     time.Duration
	}{
		{-1, 0}, {0, 0},
		{1, 5 * time.Second}, {2, 10 * time.Second}, {3, 20 * time.Second}, {4, 40 * time.Second},
		{7, 320 * time.Second}, {8, MaxBackoff}, {9, MaxBackoff}, {64, MaxBackoff}, {1 << 30, MaxBackoff},
	} {
		lo, hi := tt.base*8/10, min(tt.base*12/10, MaxBackoff)
		var least, most time.Duration = hi, lo
		for range 1000 {
			d := Backoff(tt.attempts, rnd)
			if d < lo || d > hi {
				t.Fatalf("Backoff(%d) = %v, want within [%v, %v]", tt.attempts, d, lo, hi)
			}
			least, most = min(least, d), max(most, d)
		}
		// Jitter: the samples spread over most of the range.
		if tt.base > 0 && most-least < (hi-lo)/2 {
			t.Errorf("Backoff(%d) ranged over [%v, %v] only, want jitter over [%v, %v]", tt.attempts, least, most, lo, hi)
		}
	}
	if d := Backoff(1, nil); d < 4*time.Second || d > 6*time.Second {
		t.Errorf("Backoff(1, nil) = %v", d)
	}
}
