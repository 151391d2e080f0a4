package agent_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
)

// TestUICrashEscalates: a window that keeps crashing is ui.crashed, a
// warning at first and critical from the third crash within 10 minutes
// (DESIGN 4.3), reported to the hub as a raise with the new severity.
func TestUICrashEscalates(t *testing.T) {
	crash := filepath.Join(t.TempDir(), "kioskui")
	os.WriteFile(crash, []byte("#!/bin/sh\necho 'webkit: segmentation fault' >&2\nexit 139\n"), 0o755)
	e := newEnv(t, func(_ *hubserver.Config, a *agent.Config) {
		a.UI, a.KioskUI, a.Display = "auto", crash, ":99"
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		var sevs []string
		for _, ev := range e.streamEvents() {
			var d kiosk.FaultData
			json.Unmarshal(ev.Data, &d)
			if ev.Type == kiosk.EventFaultRaised && d.Code == "ui.crashed" {
				sevs = append(sevs, d.Severity)
			}
		}
		if len(sevs) >= 2 {
			if sevs[0] != "warning" || sevs[1] != "critical" {
				t.Errorf("ui.crashed raised with %v, want warning, then critical", sevs)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ui.crashed raised with %v after 20 s of crashes, want warning then critical", sevs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		rep := e.hubKiosk(1)
		if len(rep.Faults) == 1 && rep.Faults[0].Code == "ui.crashed" && rep.Faults[0].Severity == "critical" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hub's active faults %+v, want ui.crashed critical", rep.Faults)
		}
	}
	// hub.faults, per office (kioskctl faults --office).
	nc, err := nats.Connect(e.hub.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for office, want := range map[string]int{"padang": 1, "": 1, "solok": 0} {
		m, err := nc.Request("hub.faults", []byte(`{"office":"`+office+`"}`), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var rep hub.FaultsReply
		json.Unmarshal(m.Data, &rep)
		if len(rep.Faults) != want || (want == 1 && (rep.Faults[0].Office != "padang" || rep.Faults[0].Since.IsZero())) {
			t.Errorf("hub.faults office %q = %s, want %d fault(s)", office, m.Data, want)
		}
	}
}
