package hub

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Names of the hub's JetStream objects (DESIGN 4.1, 7).
const (
	EventsStream    = "KIOSK_EVENTS"  // kiosk.*.evt.>, written by the kiosks' outboxes
	EventsSubjects  = "kiosk.*.evt.>" //
	HubStream       = "HUB_EVENTS"    // hub.evt.>, the hub's own decisions
	HubSubjects     = "hub.evt.>"     //
	FleetConsumer   = "fleet"         // durable pull consumer of EventsStream
	DedupeWindow    = 2 * time.Minute // Nats-Msg-Id duplicates dropped by the server
	DefaultEventAge = 90 * 24 * time.Hour
)

// StreamConfig sets the parts of the streams an operator chooses.
type StreamConfig struct {
	Replicas int           // 1 on a single box, 3 on a JetStream cluster
	MaxAge   time.Duration // of KIOSK_EVENTS; 0 = 90 days
}

// EnsureStreams creates or updates KIOSK_EVENTS, HUB_EVENTS and the
// durable consumer "fleet", so a hub works the same on its embedded server
// and on an external cluster. The consumer acknowledges each event
// explicitly: an event is taken off the stream's redelivery list only
// after the hub stored it.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) (jetstream.Consumer, error) {
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultEventAge
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        EventsStream,
		Description: "kiosk events (outbox drains), DESIGN 4.2",
		Subjects:    []string{EventsSubjects},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      cfg.MaxAge,
		Duplicates:  DedupeWindow,
		Replicas:    cfg.Replicas,
	}); err != nil {
		return nil, fmt.Errorf("hub: stream %s: %w", EventsStream, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        HubStream,
		Description: "the hub's own decisions: incidents, acknowledgements, alerts, users",
		Subjects:    []string{HubSubjects},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Duplicates:  DedupeWindow,
		Replicas:    cfg.Replicas,
	}); err != nil {
		return nil, fmt.Errorf("hub: stream %s: %w", HubStream, err)
	}
	c, err := js.CreateOrUpdateConsumer(ctx, EventsStream, jetstream.ConsumerConfig{
		Durable:       FleetConsumer,
		Description:   "the fleet monitor",
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckWait:       30 * time.Second,
		MaxAckPending: 10_000,
	})
	if err != nil {
		return nil, fmt.Errorf("hub: consumer %s: %w", FleetConsumer, err)
	}
	return c, nil
}
