package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsbus/natsbustest"
)

// eventMsg builds the message a kiosk's outbox would publish.
func eventMsg(t *testing.T, msgID string, e kiosk.Event) *nats.Msg {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(kiosk.EventSubject(e.Kiosk, e.Type))
	m.Header.Set(nats.MsgIdHdr, msgID)
	m.Data = b
	return m
}

func fault(t *testing.T, seq int64, typ, code string) kiosk.Event {
	d, _ := json.Marshal(kiosk.FaultData{Code: code, Severity: kiosk.Severity[code], Detail: "test"})
	return kiosk.Event{ID: fmt.Sprintf("00000000-0000-7000-8000-%012d", seq), Kiosk: "padang-01", Office: "padang", Type: typ,
		At: time.Date(2026, 11, 23, 10, 0, int(seq), 0, time.UTC), Boot: "b1", Epoch: "e1", Seq: seq, Data: d}
}

type monitorRun struct {
	cancel context.CancelFunc
	done   chan error
}

func startMonitor(t *testing.T, js jetstream.JetStream, st *hub.Store, onEvent func(hub.Envelope)) *monitorRun {
	t.Helper()
	cons, err := hub.EnsureStreams(t.Context(), js, hub.StreamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &monitorRun{cancel: cancel, done: make(chan error, 1)}
	go func() {
		r.done <- hub.RunMonitor(ctx, hub.MonitorConfig{Store: st, Consumer: cons,
			OnEvent: func(e hub.Envelope, _ hub.IngestResult) {
				if onEvent != nil {
					onEvent(e)
				}
			}})
	}()
	t.Cleanup(r.stop)
	return r
}

func (r *monitorRun) stop() {
	r.cancel()
	<-r.done
	r.done <- nil // stop is idempotent
}

func waitCount(t *testing.T, st *hub.Store, want int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := st.Count(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("hub stored %d events, want %d", n, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMonitorStoresOnceAcrossRestarts: the fleet monitor stores every
// event of KIOSK_EVENTS exactly once: a replay under a new Nats-Msg-Id
// (as after the stream's dedupe window) is not counted twice, a hub
// restarted between batches neither loses nor repeats events, a message
// that is not an event is kept with its reason and acknowledged, and the
// fault projection follows raised/cleared/boot.
func TestMonitorStoresOnceAcrossRestarts(t *testing.T) {
	ns := natsbustest.RunServer(t, nil)
	nc := natsbustest.Connect(t, ns)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "hub.db")
	st, err := hub.OpenStore(t.Context(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []int64
	onEvent := func(e hub.Envelope) { mu.Lock(); seen = append(seen, e.Seq); mu.Unlock() }
	run := startMonitor(t, js, st, onEvent)

	publish := func(m *nats.Msg) {
		t.Helper()
		if _, err := js.PublishMsg(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	publish(eventMsg(t, "id-1", fault(t, 1, kiosk.EventFaultRaised, "printer.paper_out")))
	publish(eventMsg(t, "id-2", fault(t, 2, kiosk.EventFaultRaised, "disk.low")))
	waitCount(t, st, 2)

	// The hub goes away; events keep coming into the stream.
	run.stop()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	publish(eventMsg(t, "id-3", fault(t, 3, kiosk.EventFaultCleared, "printer.paper_out")))
	publish(eventMsg(t, "replayed-id-1", fault(t, 1, kiosk.EventFaultRaised, "printer.paper_out"))) // a late replay
	bad := nats.NewMsg("kiosk.padang-01.evt.fault.raised")
	bad.Data = []byte(`{"id":"x","kiosk":"padang-01"`)
	publish(bad)
	spoof := fault(t, 4, kiosk.EventFaultRaised, "disk.full")
	spoof.ID, spoof.Kiosk = "00000000-0000-7000-8000-00000000beef", "bukittinggi-01"
	sm := eventMsg(t, "id-spoof", spoof)
	sm.Subject = kiosk.EventSubject("padang-01", spoof.Type) // padang-01 speaking for another kiosk
	publish(sm)
	publish(eventMsg(t, "id-4", fault(t, 4, kiosk.EventFaultRaised, "printer.cover_open")))

	st, err = hub.OpenStore(t.Context(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	startMonitor(t, js, st, onEvent)
	waitCount(t, st, 4)
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := st.RejectedCount(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rejected = %d, want 2 (truncated JSON, wrong kiosk for the subject)", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	if fmt.Sprint(seen) != "[1 2 3 4]" {
		t.Errorf("events stored in order %v, want [1 2 3 4] once each", seen)
	}
	mu.Unlock()
	fs, err := st.Faults(t.Context(), "padang-01")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(faultCodes(fs)); got != "[disk.low printer.cover_open]" {
		t.Errorf("active faults %s, want disk.low and printer.cover_open (paper_out cleared)", got)
	}
	// Everything is acknowledged: nothing left for the consumer.
	c, err := js.Consumer(t.Context(), hub.EventsStream, hub.FleetConsumer)
	if err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		info, err := c.Info(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending == 0 && info.NumPending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer: %d pending, %d unacknowledged", info.NumPending, info.NumAckPending)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A new agent run clears what the last one had raised.
	boot := kiosk.Event{ID: "00000000-0000-7000-8000-000000000005", Kiosk: "padang-01", Office: "padang", Type: kiosk.EventBoot,
		Boot: "b2", Epoch: "e1", Seq: 5, Data: json.RawMessage(`{"version":"t","prev_shutdown":"crash"}`)}
	publish(eventMsg(t, "id-5", boot))
	waitCount(t, st, 5)
	if fs, _ := st.Faults(t.Context(), "padang-01"); len(fs) != 0 {
		t.Errorf("after lifecycle.boot, active faults %v, want none", faultCodes(fs))
	}
}

func faultCodes(fs []hub.Fault) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}
