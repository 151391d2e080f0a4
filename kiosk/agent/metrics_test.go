package agent_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sumbar-samsat/pkbkiosk/sync/lookup/sample"
)

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	v := e.sample(sample.NotFound)
	if code, _ := e.lookup(v.Plate, "12345"); code != 404 {
		t.Fatalf("lookup(unknown) = %d, want 404", code)
	}
	resp, err := http.Get(e.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics = %s\n%s", resp.Status, b)
	}
	text := string(b)
	for _, want := range []string{
		"\nkioskd_outbox_pending ",
		"\nkioskd_bus_connected 1\n",
		"\nkioskd_faults_active{code=\"printer.paper_out\"} 0\n",
		"\nkioskd_faults_active{code=\"disk.full\"} 0\n",
		"\nkioskd_printer_paper{state=\"unknown\"} 1\n",
		"\nkioskd_printer_paper{state=\"out\"} 0\n",
		"\nkioskd_disk_free_bytes ",
		"\nkioskd_lookups_total{outcome=\"not_found\"} 1\n",
		"\nkioskd_lookups_total{outcome=\"found\"} 0\n",
		"\ngo_goroutines ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
		}
	}
	if strings.Contains(text, v.Plate) {
		t.Error("/metrics names the plate looked up")
	}

	// The Host check of the loopback API applies to /metrics too.
	req, _ := http.NewRequest("GET", e.base+"/metrics", nil)
	req.Host = "evil.example:80"
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("GET /metrics with a foreign Host = %s, want 421", resp.Status)
	}
}
