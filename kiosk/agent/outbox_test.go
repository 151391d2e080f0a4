package agent_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
)

// streamEvents reads every event in KIOSK_EVENTS.
func (e *env) streamEvents() []kiosk.Event {
	e.t.Helper()
	nc, err := nats.Connect(e.hub.NATSURL())
	if err != nil {
		e.t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	c, err := js.OrderedConsumer(e.t.Context(), "KIOSK_EVENTS", jetstream.OrderedConsumerConfig{})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []kiosk.Event
	for {
		batch, err := c.FetchNoWait(1000)
		if err != nil {
			e.t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			var ev kiosk.Event
			if err := json.Unmarshal(m.Data(), &ev); err != nil {
				e.t.Fatalf("event %s: %v", m.Data(), err)
			}
			if got := m.Headers().Get(nats.MsgIdHdr); got != ev.ID {
				e.t.Errorf("Nats-Msg-Id %q, event id %q", got, ev.ID)
			}
			out = append(out, ev)
			n++
		}
		if n == 0 {
			return out
		}
	}
}

// TestOutboxSurvivesHubOutage: the kiosk reports its boot, keeps producing
// fault events while the hub is down, and when the hub is back every
// event arrives exactly once, in seq order, with no gap.
func TestOutboxSurvivesHubOutage(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "ups")
	script := filepath.Join(dir, "upsc")
	os.WriteFile(state, []byte("OL"), 0o644)
	os.WriteFile(script, []byte("#!/bin/sh\necho \"ups.status: $(cat "+state+")\"\n"), 0o755)
	e := newEnv(t, func(h *hubserver.Config, a *agent.Config) {
		a.Now = nil
		a.UPSCommand, a.UPSPoll = []string{script}, 50*time.Millisecond
	})
	waitPending := func(want int64) {
		deadline := time.Now().Add(15 * time.Second)
		for {
			var st struct {
				Bus struct {
					OutboxPending int64 `json:"outbox_pending"`
				} `json:"bus"`
			}
			e.get("/api/status", &st)
			if st.Bus.OutboxPending == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("outbox_pending = %d, want %d", st.Bus.OutboxPending, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitPending(0) // lifecycle.boot sent

	e.stopHub()
	e.waitBus(false)
	for range 3 { // on battery and back, three times, while nobody listens
		os.WriteFile(state, []byte("OB"), 0o644)
		e.waitFault("power.on_battery", true)
		os.WriteFile(state, []byte("OL"), 0o644)
		e.waitFault("power.on_battery", false)
	}
	waitPending(6)

	e.startHub()
	e.waitBus(true)
	waitPending(0)
	evs := e.streamEvents()
	if len(evs) != 7 {
		t.Fatalf("stream holds %d events, want 7 (boot + 6 faults)", len(evs))
	}
	ids := map[string]bool{}
	for i, ev := range evs {
		if ev.Seq != int64(i+1) || ids[ev.ID] || ev.Kiosk != "padang-01" || ev.Office != "padang" || ev.Epoch == "" {
			t.Errorf("event %d = %+v: want seq %d, unique id, kiosk and epoch", i, ev, i+1)
		}
		ids[ev.ID] = true
	}
	if evs[0].Type != "lifecycle.boot" {
		t.Errorf("first event %s, want lifecycle.boot", evs[0].Type)
	}
	for i, ev := range evs[1:] {
		want := "fault.raised"
		if i%2 == 1 {
			want = "fault.cleared"
		}
		var d kiosk.FaultData
		json.Unmarshal(ev.Data, &d)
		if ev.Type != want || d.Code != "power.on_battery" || d.Severity != "warning" {
			t.Errorf("event %d = %s %+v, want %s power.on_battery", i+2, ev.Type, d, want)
		}
	}
	// The restarted hub's projection: every event once, no gap, the fault
	// that came and went is not active.
	for i, ev := range e.waitHubEvents(7) {
		if ev.ID != evs[i].ID {
			t.Errorf("hub event %d = %s seq %d, want %s seq %d", i, ev.ID, ev.Seq, evs[i].ID, evs[i].Seq)
		}
	}
	if rep := e.hubKiosk(1); len(rep.Gaps) != 0 || len(rep.Faults) != 0 {
		t.Errorf("hub.kiosk gaps %+v faults %+v, want none", rep.Gaps, rep.Faults)
	}
}
