package hub

import (
	"context"
	"errors"
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
	// Warn, if set, is told when a setting was not applied (a stream
	// already has more replicas than Replicas: it keeps them).
	Warn func(msg string)
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
	// A hub restarted without --replicas must not quietly shrink a
	// clustered stream to one copy: lowering is an operator's decision,
	// made with `nats stream edit`, not a side effect of a default.
	for _, name := range []string{EventsStream, HubStream} {
		if s, err := js.Stream(ctx, name); err == nil {
			if have := s.CachedInfo().Config.Replicas; have > cfg.Replicas {
				if cfg.Warn != nil {
					cfg.Warn(fmt.Sprintf("stream %s has %d replicas, more than --replicas %d: keeping %d (lower it with `nats stream edit` if that is meant)",
						name, have, cfg.Replicas, have))
				}
				cfg.Replicas = have
			}
		}
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
		return nil, fmt.Errorf("hub: stream %s: %w", EventsStream, explainReplicas(err, cfg.Replicas))
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
		return nil, fmt.Errorf("hub: stream %s: %w", HubStream, explainReplicas(err, cfg.Replicas))
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

// nats-server's error codes for a replica count it cannot place.
const (
	errCodeNoSuitablePeers      jetstream.ErrorCode = 10005 // "no suitable peers for placement"
	errCodeReplicasNotClustered jetstream.ErrorCode = 10074 // "replicas > 1 not supported in non-clustered mode"
)

// explainReplicas says what to do when the server cannot place replicas
// copies of a stream: its own words name neither the setting nor the fix.
func explainReplicas(err error, replicas int) error {
	var apiErr *jetstream.APIError
	if replicas <= 1 || !errors.As(err, &apiErr) {
		return err
	}
	switch apiErr.ErrorCode {
	case errCodeReplicasNotClustered:
		return fmt.Errorf("%d replicas (--replicas) need a JetStream cluster of at least %d servers, and this NATS is a single server: %w", replicas, replicas, err)
	case errCodeNoSuitablePeers:
		return fmt.Errorf("%d replicas (--replicas) need a JetStream cluster of at least %d servers with room for the stream: %w", replicas, replicas, err)
	}
	return err
}
