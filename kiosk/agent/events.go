package agent

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsbus"
	"github.com/sumbar-samsat/pkbkiosk/sync/outbox"
)

// envelope returns the build function of an event of type typ: the
// envelope of DESIGN 4.2 with the id and seq the store assigns.
func (a *Agent) envelope(typ string, at time.Time, data any) func(id string, seq int64) ([]byte, error) {
	return func(id string, seq int64) ([]byte, error) {
		d, err := json.Marshal(data)
		if err != nil {
			return nil, err
		}
		return json.Marshal(kiosk.Event{ID: id, Kiosk: a.cfg.ID, Office: a.cfg.Office, Type: typ, At: at.In(a.cfg.TZ),
			Boot: a.boot, Epoch: a.epoch, Seq: seq, Data: d})
	}
}

// emit stores an event in a transaction of its own (for events whose
// cause is not a stored state change, such as a fault seen in memory) and
// wakes the drain.
func (a *Agent) emit(ctx context.Context, typ string, data any) {
	now := a.cfg.Now()
	if _, err := a.store.Emit(ctx, typ, now, a.envelope(typ, now, data)); err != nil {
		a.log.Warn("event not stored", "type", typ, "err", err)
		return
	}
	a.kickDrain()
}

func (a *Agent) kickDrain() {
	select {
	case a.drainKick <- struct{}{}:
	default:
	}
}

// drainLoop sends the outbox to KIOSK_EVENTS in seq order, in batches with
// a window of unacknowledged publishes, marking each batch sent in one
// transaction. It waits while the hub is unreachable; nothing is lost,
// because an event leaves the outbox only when the stream acknowledged it.
func (a *Agent) drainLoop(ctx context.Context) {
	js, err := jetstream.New(a.nc, jetstream.WithPublishAsyncMaxPending(256))
	if err != nil {
		a.log.Error("jetstream", "err", err)
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	lastErr := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.drainKick:
		}
		for a.nc.IsConnected() && ctx.Err() == nil {
			n, more, err := a.drainBatch(ctx, js)
			if err == nil && !more {
				break
			}
			if err != nil {
				if err.Error() != lastErr {
					a.log.Warn("outbox drain paused", "sent", n, "err", err)
					lastErr = err.Error()
				}
				break
			}
			lastErr = ""
		}
	}
}

// finalDrain sends what the outbox holds while ctx lasts, once the other
// loops have stopped. A failure only leaves events for the next start.
func (a *Agent) finalDrain(ctx context.Context) {
	if !a.nc.IsConnected() {
		return
	}
	js, err := jetstream.New(a.nc, jetstream.WithPublishAsyncMaxPending(256))
	if err != nil {
		return
	}
	for ctx.Err() == nil {
		_, more, err := a.drainBatch(ctx, js)
		if err != nil || !more {
			return
		}
	}
}

// drainBatch sends one batch of the outbox and marks what the stream
// acknowledged. It holds drainMu from reading the batch to marking it, so
// dropEvents never deletes an event that is in flight: a dropped event is
// never also delivered, and a tombstone's count is exact.
func (a *Agent) drainBatch(ctx context.Context, js jetstream.JetStream) (sent int, more bool, err error) {
	a.drainMu.Lock()
	defer a.drainMu.Unlock()
	es, err := a.store.Unsent(ctx, 0, 500)
	if err != nil {
		return 0, false, err
	}
	if len(es) == 0 {
		return 0, false, nil
	}
	msgs := make([]natsbus.OutMsg, len(es))
	for i, e := range es {
		msgs[i] = natsbus.OutMsg{Subject: kiosk.EventSubject(a.cfg.ID, e.Type), ID: e.ID, Body: e.Body}
	}
	n, err := natsbus.PublishBatch(ctx, js, msgs, 10*time.Second)
	seqs := make([]int64, n)
	for i := range n {
		seqs[i] = es[i].Seq
	}
	// A mark that is not stored only means the event is sent again and
	// dropped as a duplicate (stream window, then the hub's idempotency).
	if merr := a.store.MarkSent(context.WithoutCancel(ctx), seqs); merr != nil {
		a.log.Warn("sent-marks not stored", "err", merr)
	}
	return n, len(es) == 500, err
}

// outboxLoop keeps the outbox bounded: it prunes sent events (keeping the
// newest OutboxKeepSent) and, under disk pressure or above OutboxMax
// unsent events, drops the oldest unsent usage.summary events with a
// tombstone. Faults are never dropped.
func (a *Agent) outboxLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.DiskCheck)
	defer t.Stop()
	for {
		a.compactOutbox(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.compactKick:
		}
	}
}

// usageKeptUnderPressure is how many of the newest unsent usage.summary
// events survive disk pressure: the last day of a kiosk's use.
const usageKeptUnderPressure = 24

func (a *Agent) compactOutbox(ctx context.Context) {
	if err := a.store.PruneSent(ctx, a.cfg.OutboxKeepSent); err != nil {
		a.log.Warn("outbox prune failed", "err", err)
	}
	pending, err := a.store.Pending(ctx)
	if err != nil {
		a.log.Warn("outbox count failed", "err", err)
		return
	}
	usage, err := a.store.PendingOfType(ctx, kiosk.EventUsage)
	if err != nil {
		a.log.Warn("outbox count failed", "err", err)
		return
	}
	a.mu.Lock()
	_, low := a.faults[faultDiskLow]
	_, full := a.faults[faultDiskFull]
	a.mu.Unlock()
	var n int
	var reason string
	if over := int(pending) - a.cfg.OutboxMax; over > 0 {
		// One more than the excess: the tombstone takes a place (an
		// earlier unsent tombstone is folded into it, so they never
		// accumulate).
		n, reason = over+1, "outbox_full"
	}
	if low || full {
		if k := int(usage) - usageKeptUnderPressure; k > n {
			n, reason = k, map[bool]string{true: "disk_full", false: "disk_low"}[full]
		}
	}
	if n = min(n, int(usage)); n <= 0 {
		return
	}
	a.dropEvents(ctx, n, reason)
}

// dropEvents drops the n oldest unsent usage.summary events with one
// outbox.dropped tombstone.
func (a *Agent) dropEvents(ctx context.Context, n int, reason string) {
	a.drainMu.Lock()
	defer a.drainMu.Unlock()
	now := a.cfg.Now()
	got, err := a.store.DropOldest(ctx, kiosk.EventUsage, n, kiosk.EventDropped, func(id string, seq, from, to int64, count int) ([]byte, error) {
		return a.envelope(kiosk.EventDropped, now, kiosk.DroppedData{FromSeq: from, ToSeq: to, Count: count, Type: kiosk.EventUsage, Reason: reason})(id, seq)
	})
	if err != nil {
		a.log.Warn("outbox: usage summaries not dropped", "reason", reason, "err", err)
		return
	}
	if got > 0 {
		a.log.Warn("outbox: dropped unsent usage summaries", "count", got, "reason", reason)
		a.kickDrain()
	}
}

// faultEvent emits fault.raised or fault.cleared (cleared with how long
// the fault lasted).
func (a *Agent) faultEvent(code string, raised bool, since time.Time) {
	a.faultEventSev(code, "", raised, since)
}

func (a *Agent) faultEventSev(code, severity string, raised bool, since time.Time) {
	if severity == "" {
		severity = kiosk.Severity[code]
	}
	d := kiosk.FaultData{Code: code, Severity: severity}
	typ := kiosk.EventFaultRaised
	if !raised {
		typ = kiosk.EventFaultCleared
		s := int64(a.cfg.Now().Sub(since) / time.Second)
		d.DurationS = &s
	}
	a.emit(context.Background(), typ, d)
}

// bootEvent is the data of lifecycle.boot.
type bootEvent struct {
	Version      string        `json:"version"`
	PrevShutdown string        `json:"prev_shutdown"`
	Outage       *kiosk.Outage `json:"outage,omitempty"`
	CmdID        string        `json:"cmd_id,omitempty"` // this boot completes a remote restart
}

// emitBoot writes lifecycle.boot (and power.unclean_shutdown after a
// power loss) in the same transaction as the state that marks this run as
// running: either both are stored or neither.
func (a *Agent) emitBoot(ctx context.Context, b bootInfo) error {
	now := a.cfg.Now()
	ev := bootEvent{Version: kiosk.Version, PrevShutdown: b.Prev}
	if b.Prev == shutdownPower || b.Prev == shutdownCrash {
		ev.Outage = &kiosk.Outage{LastAlive: b.LastAlive, BootAt: b.BootAt, Seconds: b.OutageS}
	}
	return a.store.Update(ctx, func(tx *outbox.Tx) error {
		var mark restartMark
		if v, err := tx.State(keyRestartCmd); err == nil {
			if json.Unmarshal([]byte(v), &mark) == nil {
				ev.CmdID = mark.ID
			}
			if err := tx.DeleteState(keyRestartCmd); err != nil {
				return err
			}
		} else if !errors.Is(err, outbox.ErrNotFound) {
			return err
		}
		if err := tx.SetState(keyBootID, a.boot); err != nil {
			return err
		}
		if err := tx.SetState(keyClean, "0"); err != nil {
			return err
		}
		if _, err := tx.Emit(kiosk.EventBoot, now, a.envelope(kiosk.EventBoot, now, ev)); err != nil {
			return err
		}
		if mark.Level == kiosk.RestartHost {
			// The reboot the command asked for happened: its result.
			d := kiosk.CommandResult{CmdID: mark.ID, Verb: kiosk.VerbRestart, Outcome: kiosk.OutcomeDone,
				Detail: "host rebooted", RequestedBy: mark.RequestedBy}
			if err := tx.CommandSetState(mark.ID, cmdFinished); err != nil {
				return err
			}
			if _, err := tx.Emit(kiosk.EventCommand, now, a.envelope(kiosk.EventCommand, now, d)); err != nil {
				return err
			}
		}
		if b.Prev == shutdownPower {
			d := kiosk.FaultData{Code: "power.unclean_shutdown", Severity: kiosk.Severity["power.unclean_shutdown"],
				Detail: "the machine went down without an orderly stop", Outage: ev.Outage}
			if _, err := tx.Emit(kiosk.EventFaultRaised, now, a.envelope(kiosk.EventFaultRaised, now, d)); err != nil {
				return err
			}
		}
		return nil
	})
}

// EventDrill is the type of the commissioning drill's events.
const EventDrill = "drill.tick"

// drillLoop emits Config.Drill events a second, each in a transaction of
// its own like a fault, until ctx is done: a commissioning check that the
// whole reporting path (store, drain, stream, hub) carries a load, and
// the load of the kill -9 trials (make faults).
func (a *Agent) drillLoop(ctx context.Context) {
	t := time.NewTicker(time.Second / time.Duration(a.cfg.Drill))
	defer t.Stop()
	for n := int64(1); ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.emit(ctx, EventDrill, map[string]int64{"n": n})
	}
}
