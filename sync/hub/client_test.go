package hub_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsbus/natsbustest"
)

// TestFleetPages: a fleet whose snapshots together exceed one NATS
// message is served in pages; FetchFleet gets every kiosk once, and the
// office filter and totals hold.
func TestFleetPages(t *testing.T) {
	ns := natsbustest.RunServer(t, nil)
	nc := natsbustest.Connect(t, ns)
	f := hub.NewFleet(nil)
	const n = 2500 // about 1.6 MB of snapshots: beyond the 1 MiB max payload
	for i := range n {
		office := "padang"
		if i%5 == 0 {
			office = "solok"
		}
		f.Heartbeat(fmt.Sprintf("k-%04d", i), []byte(fmt.Sprintf(`{"office":%q,"hb_interval_s":10,"version":"0.0.0-dev",`+
			`"printer":{"connected":true,"online":true,"paper":"ok","model":"TM-T88V","columns":42,"transport":"serial"},`+
			`"faults":["printer.paper_near_end","clock.skew"],"store":{"ok":true,"detail":""}}`, office)))
	}
	svc, err := hub.AddService(nc, hub.Config{Content: hub.NewContentDir(t.TempDir()), Fleet: f})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()

	all, err := hub.FetchFleet(t.Context(), nc, "")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, k := range all {
		if seen[k.Kiosk] {
			t.Fatalf("%s listed twice", k.Kiosk)
		}
		seen[k.Kiosk] = true
		if k.Presence != hub.Online {
			t.Fatalf("%s is %s, want online", k.Kiosk, k.Presence)
		}
	}
	if len(all) != n {
		t.Errorf("FetchFleet got %d kiosks, want %d", len(all), n)
	}
	solok, err := hub.FetchFleet(t.Context(), nc, "solok")
	if err != nil {
		t.Fatal(err)
	}
	if len(solok) != n/5 || solok[0].Office != "solok" {
		t.Errorf("office solok: %d kiosks, want %d", len(solok), n/5)
	}
	m, err := nc.Request("hub.fleet", []byte(`{"office":"padang","limit":10}`), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(m.Data); len(got) == 0 || !strings.Contains(got, `"total":2000`) || !strings.Contains(got, `"next":"k-0012"`) {
		t.Errorf("first page of 10 of padang: %.300s…; want total 2000 and next k-0012", got)
	}
	if m, err := nc.Request("hub.fleet", []byte(`{"limit":-1}`), 2*time.Second); err != nil || !strings.Contains(string(m.Data), "bad_request") {
		t.Errorf("bad request answered %v %v", m, err)
	}
}
