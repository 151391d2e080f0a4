package hubserver

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsbus"
)

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	return string(b)
}

func TestMetrics(t *testing.T) {
	cfg := testConfig(t)
	cfg.Auth = false
	cfg.HTTP = "127.0.0.1:0"
	h, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	url := "http://" + h.HTTPAddr() + "/metrics"

	nc, err := nats.Connect(h.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.Publish("kiosk.padang-01.hb", []byte(`{"office":"padang","hb_interval_s":10}`)); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := natsbus.Lookup(ctx, nc, "padang-01", kiosk.LookupRequest{Plate: "BA 1 XX", Rangka5: "12345"}); err != nil {
		t.Fatalf("lookup: %v", err)
	}

	var text string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		text = scrape(t, url)
		if strings.Contains(text, "\nkioskhub_kiosks{presence=\"online\"} 1\n") || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range []string{
		"\nkioskhub_kiosks{presence=\"online\"} 1\n",
		"\nkioskhub_kiosks{presence=\"offline\"} 0\n",
		"\nkioskhub_faults_active{severity=\"critical\"} 0\n",
		"\nkioskhub_events_stored_total ",
		"\nkioskhub_events_rejected_total 0\n",
		"\nkioskhub_lookup_seconds_count 1\n",
		"\ngo_goroutines ",
		"\nprocess_",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
		}
	}
	var lookups int
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, "kioskhub_lookups_total{outcome=") && strings.HasSuffix(line, "} 1\n") {
			lookups++
		}
	}
	if lookups != 1 {
		t.Errorf("want one kioskhub_lookups_total series at 1, got %d\n%s", lookups, text)
	}
	if strings.Contains(text, "padang-01") || strings.Contains(text, "BA 1 XX") {
		t.Error("/metrics names a kiosk or a plate")
	}
}
