package agent_test

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/kiosktest"
	"github.com/sumbar-samsat/pkbkiosk/sync/lookup/sample"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsauth"
)

// withAuth runs the hub in operator mode (as kioskhub does by default)
// and gives the agent its kiosk's .creds, as `kioskhub creds issue` writes
// them; opCreds gets an operator's .creds.
func withAuth(t testing.TB, opCreds *string) envOpt {
	return func(h *hubserver.Config, a *agent.Config) {
		h.Auth = true
		au, err := natsauth.Open(filepath.Join(h.Data, "auth"))
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		write := func(name string, creds []byte, err error) string {
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, creds, 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}
		creds, _, err := au.IssueKiosk(a.ID, a.Office, false)
		a.Creds = write(a.ID+".creds", creds, err)
		op, _, err := au.IssueOperator("budi", false)
		*opCreds = write("budi.creds", op, err)
	}
}

// TestAgentUnderKioskPermissions runs the agent with its kiosk's
// credentials against a hub in operator mode: everything it does over
// NATS (heartbeats, the outbox drain with PubAcks, lookups, content, the
// hub's clock, the gateway probe, its command service) works within the
// permissions of DESIGN 4.7, and nothing is refused.
func TestAgentUnderKioskPermissions(t *testing.T) {
	var opCreds string
	tee := &kiosktest.Buffer{} // the agent's log lines
	e := newEnv(t, withAuth(t, &opCreds), func(h *hubserver.Config, a *agent.Config) {
		h.Now, a.Now = nil, nil
		a.Heartbeat = time.Second
		a.LookupProbe = 100 * time.Millisecond
		a.ClockCheck = 100 * time.Millisecond
		a.Logger = slog.New(slog.NewTextHandler(tee, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	op, err := nats.Connect(e.hub.NATSURL(), nats.UserCredentials(opCreds))
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()

	// Heartbeats.
	hb, err := op.SubscribeSync(kiosk.HeartbeatSubject("padang-01"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hb.NextMsg(5 * time.Second); err != nil {
		t.Errorf("no heartbeat: %v", err)
	}
	// A live lookup through the gateway.
	v := e.sample(sample.Paid)
	if code, m := e.lookup(v.Plate, v.Rangka5); code != 200 || m["source"] != "live" {
		t.Errorf("lookup = %d %v; want 200 live", code, m)
	}
	// The boot event, through the outbox: the stream acknowledged it (the
	// agent marks only acknowledged events sent) and an operator reads it.
	js, _ := jetstream.New(op)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := js.OrderedConsumer(t.Context(), "KIOSK_EVENTS", jetstream.OrderedConsumerConfig{FilterSubjects: []string{"kiosk.padang-01.evt.lifecycle.boot"}})
		if err != nil {
			t.Fatal(err)
		}
		if m, err := c.Next(jetstream.FetchMaxWait(500 * time.Millisecond)); err == nil {
			var ev kiosk.Event
			json.Unmarshal(m.Data(), &ev)
			if ev.Kiosk != "padang-01" {
				t.Errorf("boot event %s", m.Data())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no lifecycle.boot in KIOSK_EVENTS")
		}
	}
	var st struct {
		Bus struct {
			Connected     bool `json:"connected"`
			OutboxPending int  `json:"outbox_pending"`
		} `json:"bus"`
		Faults []string `json:"faults"`
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		e.get("/api/status", &st)
		if st.Bus.Connected && st.Bus.OutboxPending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox not drained: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The operator commands the kiosk's own command service.
	m, err := op.Request(kiosk.CommandSubject("padang-01", "status"), nil, 5*time.Second)
	if err != nil {
		t.Fatalf("operator: status command: %v", err)
	}
	var rep kiosk.CommandReply
	if err := json.Unmarshal(m.Data, &rep); err != nil || rep.Outcome != "done" {
		t.Errorf("status reply %s (%v)", m.Data, err)
	}
	if _, err := op.Request("$SRV.PING.kiosk", nil, 5*time.Second); err != nil {
		t.Errorf("operator: $SRV.PING.kiosk: %v", err)
	}

	// Several gateway probes and clock checks have run by now.
	time.Sleep(500 * time.Millisecond)
	e.get("/api/status", &st)
	for _, f := range st.Faults {
		if f == "lookup.unreachable" || f == "clock.skew" {
			t.Errorf("fault %s under the kiosk's permissions", f)
		}
	}
	if log := tee.String(); strings.Contains(strings.ToLower(log), "permissions violation") || strings.Contains(strings.ToLower(log), "authorization") {
		t.Errorf("the agent was refused something:\n%s", log)
	}
}
