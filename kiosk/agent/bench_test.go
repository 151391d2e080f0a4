package agent_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
	"github.com/sumbar-samsat/pkbkiosk/sync/lookup/sample"
)

// benchLookup measures POST /api/lookup end to end over loopback HTTP and
// reports the p50 and p99 latency besides the mean.
func benchLookup(b *testing.B, e *env, gateway bool) {
	v := e.sample(sample.Late)
	body, _ := json.Marshal(map[string]string{"plate": v.Plate, "rangka5": v.Rangka5})
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	do := func() {
		resp, err := c.Post(e.base+"/api/lookup", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("lookup: HTTP %d", resp.StatusCode)
		}
	}
	do() // fill the cache, open the connection
	e.waitCached(1)
	if gateway {
		// Prove the path measured: a lookup now must be live, not cached.
		_, m := e.lookup(v.Plate, v.Rangka5)
		if m["source"] != "live" {
			b.Fatalf("gateway benchmark served source %v, want live", m["source"])
		}
	}
	var lat []time.Duration
	for b.Loop() {
		t0 := time.Now()
		do()
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
}

// quiet drops the test logger and uses the real clock: benchmarks measure
// real time, and a frozen clock would make every cached entry 0 ns old.
func quiet(h *hubserver.Config, a *agent.Config) {
	a.Logger, a.Now, h.Now = nil, nil, nil
}

// BenchmarkLookupCacheHit: a repeat lookup answered from the SQLite cache.
func BenchmarkLookupCacheHit(b *testing.B) {
	benchLookup(b, newEnv(b, quiet), false)
}

// BenchmarkLookupGateway: every lookup goes to the hub's gateway over NATS
// on loopback (the cache is never fresh enough), and the result is cached
// in the background.
func BenchmarkLookupGateway(b *testing.B) {
	benchLookup(b, newEnv(b, quiet, func(h *hubserver.Config, a *agent.Config) { a.CacheFresh = time.Nanosecond }), true)
}
