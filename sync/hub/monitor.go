package hub

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// MonitorConfig configures the fleet monitor.
type MonitorConfig struct {
	Store    *Store
	Consumer jetstream.Consumer // the durable "fleet" consumer (EnsureStreams)
	Fleet    *Fleet             // heartbeat state to save; nil = events only
	Log      *slog.Logger       // nil = discard

	// OnEvent, if set, is called for each newly stored event (never for a
	// duplicate), in stream order, after its batch committed.
	OnEvent func(Envelope, IngestResult)
	// OnTransition, if set, is called for each presence transition after
	// it was saved.
	OnTransition func(Transition)

	Tick  time.Duration // how often presence is advanced and saved; default 1 s
	Batch int           // events stored per transaction, at most; default 500
}

// RunMonitor runs the fleet monitor until ctx is done: it stores every
// message of the consumer (events, or rejects with the reason) and only
// then acknowledges it, so a hub killed at any point loses nothing (the
// stream redelivers what was not acknowledged) and counts nothing twice
// (the store is idempotent by event id). It also advances and saves the
// fleet's presence every Tick.
func RunMonitor(ctx context.Context, cfg MonitorConfig) error {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	ch := make(chan jetstream.Msg, 2*cfg.Batch)
	cc, err := cfg.Consumer.Consume(func(m jetstream.Msg) {
		select {
		case ch <- m:
		case <-ctx.Done(): // not acknowledged: redelivered to the next run
		}
	},
		jetstream.PullMaxMessages(cfg.Batch),
		// On a cluster the consumer's leader can move; with the default
		// 30 s heartbeat the pull would notice only after two missed beats.
		jetstream.PullHeartbeat(time.Second),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			cfg.Log.Debug("fleet consumer", "err", err)
		}))
	if err != nil {
		return fmt.Errorf("hub: consume %s: %w", FleetConsumer, err)
	}
	var wg sync.WaitGroup
	if cfg.Fleet != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg.presenceLoop(ctx)
		}()
	}
	defer wg.Wait()
	defer cc.Stop()
	for {
		batch := make([]jetstream.Msg, 0, cfg.Batch)
		select {
		case <-ctx.Done():
			return nil
		case m := <-ch:
			batch = append(batch, m)
		}
	fill:
		for len(batch) < cfg.Batch {
			select {
			case m := <-ch:
				batch = append(batch, m)
			default:
				break fill
			}
		}
		cfg.store(ctx, batch)
	}
}

// store stores one batch and acknowledges it; on a store error nothing is
// acknowledged and the batch comes back after a delay.
func (cfg *MonitorConfig) store(ctx context.Context, batch []jetstream.Msg) {
	good, goodMsgs, bad := sortBatch(batch)
	sctx := context.WithoutCancel(ctx) // a batch begun is finished, even at shutdown
	if err := cfg.Store.Reject(sctx, bad); err != nil {
		cfg.Log.Error("rejected events not stored; will retry", "count", len(bad), "err", err)
		nakAll(batch)
		return
	}
	for _, r := range bad {
		cfg.Log.Warn("event rejected", "subject", r.Subject, "err", r.Err)
	}
	rs, err := cfg.Store.IngestBatch(sctx, good)
	if err != nil {
		cfg.Log.Error("events not stored; will retry", "count", len(good), "err", err)
		nakAll(goodMsgs)
		return
	}
	for _, m := range batch {
		// Ack, not DoubleAck: a lost ack only means a redelivery, which
		// the store absorbs.
		m.Ack()
	}
	for i, r := range rs {
		if r.Gap != nil {
			cfg.Log.Warn("event gap", "kiosk", r.Gap.Kiosk, "epoch", r.Gap.Epoch, "from", r.Gap.From, "to", r.Gap.To)
		}
		if !r.Duplicate && cfg.OnEvent != nil {
			cfg.OnEvent(good[i], r)
		}
	}
}

// sortBatch parses the messages of KIOSK_EVENTS into valid events (with
// their messages) and rejects with the reason.
func sortBatch(batch []jetstream.Msg) (good []Envelope, goodMsgs []jetstream.Msg, bad []Rejected) {
	for _, m := range batch {
		e, err := ParseEnvelope(m.Data())
		if err == nil {
			err = subjectMatches(m.Subject(), &e)
		}
		if err != nil {
			bad = append(bad, Rejected{Subject: m.Subject(), Received: time.Now(), Err: err.Error(), Raw: m.Data()})
			continue
		}
		good = append(good, e)
		goodMsgs = append(goodMsgs, m)
	}
	return good, goodMsgs, bad
}

func nakAll(ms []jetstream.Msg) {
	for _, m := range ms {
		m.NakWithDelay(time.Second)
	}
}

// subjectMatches checks that an event came on its own subject: the kiosk
// id and type in kiosk.<id>.evt.<type> are the envelope's. With per-kiosk
// credentials the subject is what the server enforces, so a kiosk cannot
// speak for another by writing another id in the body.
func subjectMatches(subject string, e *Envelope) error {
	rest, ok := strings.CutPrefix(subject, "kiosk.")
	id, typ, ok2 := strings.Cut(rest, ".evt.")
	if !ok || !ok2 {
		return fmt.Errorf("hub: event %s on subject %q, want kiosk.<id>.evt.<type>", e.ID, subject)
	}
	if id != e.Kiosk || typ != e.Type {
		return fmt.Errorf("hub: event %s of kiosk %q type %q came on subject %q", e.ID, e.Kiosk, e.Type, subject)
	}
	return nil
}

func (cfg *MonitorConfig) presenceLoop(ctx context.Context) {
	t := time.NewTicker(cfg.Tick)
	defer t.Stop()
	save := func() {
		rs, ts := cfg.Fleet.Tick()
		if err := cfg.Store.SaveFleet(context.WithoutCancel(ctx), rs, ts); err != nil {
			cfg.Log.Error("fleet state not saved", "err", err)
		}
		for _, tr := range ts {
			cfg.Log.Info("kiosk presence", "kiosk", tr.Kiosk, "office", tr.Office, "from", tr.From, "to", tr.To)
			if cfg.OnTransition != nil {
				cfg.OnTransition(tr)
			}
		}
	}
	for {
		select {
		case <-ctx.Done():
			save()
			return
		case <-t.C:
			save()
		}
	}
}
