package agent_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/outbox"
)

// BenchmarkOutboxReplay: a kiosk comes back after a long outage with
// 50,000 events queued; measured from the agent's start until the stream
// acknowledged the last one (outbox_pending 0), and until the hub's
// projection stored them all. DESIGN 8: >= 5,000 events/s.
func BenchmarkOutboxReplay(b *testing.B) {
	const queued = 50_000
	for b.Loop() {
		e := newEnv(b, quiet)
		e.agentStop()
		st, err := outbox.Open(context.Background(), filepath.Join(e.agentDir, "kiosk.db"))
		if err != nil {
			b.Fatal(err)
		}
		epoch, err := st.Epoch(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		at := time.Now()
		d, _ := json.Marshal(kiosk.FaultData{Code: "printer.paper_near_end", Severity: "warning", Detail: "DLE EOT 4 = 0x0c"})
		for i := 0; i < queued; i += 500 {
			err := st.Update(context.Background(), func(tx *outbox.Tx) error {
				for range 500 {
					if _, err := tx.Emit(kiosk.EventFaultRaised, at, func(id string, seq int64) ([]byte, error) {
						return json.Marshal(kiosk.Event{ID: id, Kiosk: "padang-01", Office: "padang", Type: kiosk.EventFaultRaised,
							At: at, Boot: "bench", Epoch: epoch, Seq: seq, Data: d})
					}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		st.Close()
		before, _ := e.hub.Store().Count(context.Background())

		t0 := time.Now()
		e2 := e.restartAgent()
		for {
			var s kiosk.Status
			e2.get("/api/status", &s)
			if s.Bus.Connected && s.Bus.OutboxPending == 0 {
				break
			}
			if time.Since(t0) > 2*time.Minute {
				b.Fatalf("outbox_pending = %d after 2 minutes", s.Bus.OutboxPending)
			}
			time.Sleep(5 * time.Millisecond)
		}
		sent := time.Since(t0)
		for {
			n, err := e.hub.Store().Count(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if n-before >= queued {
				break
			}
			if time.Since(t0) > 2*time.Minute {
				b.Fatalf("hub stored %d of %d", n-before, queued)
			}
			time.Sleep(5 * time.Millisecond)
		}
		stored := time.Since(t0)
		b.ReportMetric(queued/sent.Seconds(), "ev/s")
		b.ReportMetric(queued/stored.Seconds(), "hub-ev/s")
	}
}
