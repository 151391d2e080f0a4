package hub

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// RebuildStats says what a rebuild replayed.
type RebuildStats struct {
	KioskEvents, Rejected, HubEvents uint64
	Took                             time.Duration
}

// Rebuild fills an empty projection from the streams (kioskhub rebuild,
// DESIGN 7): KIOSK_EVENTS through the same ingest as the fleet monitor,
// then HUB_EVENTS through the same projector as the running hub. It takes
// no decision and sends nothing: incidents, acknowledgements, users and
// delivered alerts are events, so the result is the same state, and the
// next hub start finds every alert it sent already marked sent.
//
// It reads both streams with ordered consumers up to their last message
// at the start; the durable consumer "fleet" keeps its position, so events
// past it are stored again by the monitor, which the store absorbs.
func Rebuild(ctx context.Context, js jetstream.JetStream, st *Store) (RebuildStats, error) {
	t0 := time.Now()
	var stats RebuildStats
	s, err := js.Stream(ctx, EventsStream)
	if err != nil {
		return stats, fmt.Errorf("hub: rebuild: stream %s: %w", EventsStream, err)
	}
	if last := s.CachedInfo().State.LastSeq; last > 0 && s.CachedInfo().State.Msgs > 0 {
		c, err := js.OrderedConsumer(ctx, EventsStream, jetstream.OrderedConsumerConfig{})
		if err != nil {
			return stats, fmt.Errorf("hub: rebuild: %w", err)
		}
		for done := false; !done; {
			batch, err := c.FetchNoWait(1000)
			if err != nil {
				return stats, fmt.Errorf("hub: rebuild: fetch %s: %w", EventsStream, err)
			}
			var msgs []jetstream.Msg
			for m := range batch.Messages() {
				msgs = append(msgs, m)
				if md, _ := m.Metadata(); md != nil && md.Sequence.Stream >= last {
					done = true
				}
			}
			n := len(msgs)
			good, _, bad := sortBatch(msgs)
			if err := batch.Error(); err != nil {
				return stats, fmt.Errorf("hub: rebuild: fetch %s: %w", EventsStream, err)
			}
			if n == 0 {
				// FetchNoWait returns nothing while the consumer is still
				// being created on a busy server; wait a little.
				select {
				case <-ctx.Done():
					return stats, fmt.Errorf("hub: rebuild: %w", ctx.Err())
				case <-time.After(50 * time.Millisecond):
				}
				continue
			}
			if err := st.Reject(ctx, bad); err != nil {
				return stats, fmt.Errorf("hub: rebuild: %w", err)
			}
			if _, err := st.IngestBatch(ctx, good); err != nil {
				return stats, fmt.Errorf("hub: rebuild: %w", err)
			}
			stats.KioskEvents += uint64(len(good))
			stats.Rejected += uint64(len(bad))
		}
	}
	before, err := st.HubPosition(ctx)
	if err != nil {
		return stats, err
	}
	if err := RunProjector(ctx, ProjectorConfig{Store: st, JS: js, UntilCaughtUp: true}); err != nil {
		return stats, fmt.Errorf("hub: rebuild: %w", err)
	}
	after, err := st.HubPosition(ctx)
	if err != nil {
		return stats, err
	}
	stats.HubEvents = after - before
	stats.Took = time.Since(t0)
	return stats, nil
}
