package hub_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsbus/natsbustest"
)

// TestEnsureStreams: the streams have the contract's shape, creating them
// twice is harmless, and a kiosk's event published twice with the same
// Nats-Msg-Id is stored once.
func TestEnsureStreams(t *testing.T) {
	ns := natsbustest.RunServer(t, nil)
	nc := natsbustest.Connect(t, ns)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := hub.EnsureStreams(t.Context(), js, hub.StreamConfig{}); err != nil {
			t.Fatal(err)
		}
	}
	s, err := js.Stream(t.Context(), hub.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	if cfg.Subjects[0] != "kiosk.*.evt.>" || cfg.Storage != jetstream.FileStorage || cfg.Duplicates != 2*time.Minute || cfg.MaxAge != 90*24*time.Hour || cfg.Replicas != 1 {
		t.Errorf("KIOSK_EVENTS config = %+v", cfg)
	}
	// A kiosk publishes with a reply inbox (no $JS.API), twice.
	for range 2 {
		m := nats.NewMsg("kiosk.padang-01.evt.fault.raised")
		m.Header.Set(nats.MsgIdHdr, "0193a8f2-0000-7000-8000-000000000001")
		m.Data = []byte(`{}`)
		reply, err := nc.RequestMsg(m, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var ack struct {
			Stream    string `json:"stream"`
			Seq       uint64 `json:"seq"`
			Duplicate bool   `json:"duplicate"`
		}
		if err := json.Unmarshal(reply.Data, &ack); err != nil || ack.Stream != hub.EventsStream || ack.Seq != 1 {
			t.Errorf("PubAck = %s, %v; want stream KIOSK_EVENTS seq 1", reply.Data, err)
		}
	}
	info, err := s.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("stream holds %d messages, want 1 (the duplicate dropped)", info.State.Msgs)
	}
	c, err := js.Consumer(t.Context(), hub.EventsStream, hub.FleetConsumer)
	if err != nil {
		t.Fatalf("durable consumer fleet: %v", err)
	}
	if c.CachedInfo().Config.AckPolicy != jetstream.AckExplicitPolicy {
		t.Errorf("fleet consumer ack policy = %v, want explicit", c.CachedInfo().Config.AckPolicy)
	}
}
