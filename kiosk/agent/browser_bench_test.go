package agent_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
	"github.com/sumbar-samsat/pkbkiosk/sync/lookup/sample"
)

// benchBrowserLookup measures, in headless Chromium, the time from tapping
// "Cari" to the result painted (the task after the frame that drew it),
// as the page itself records it in body[data-lookup-ms].
func benchBrowserLookup(b *testing.B, e *env, wantSource string) {
	v := e.sample(sample.Late)
	br := newBrowser(b, e)
	br.click("#start")
	var ms []float64
	first := true
	for b.Loop() {
		b.StopTimer()
		if !first {
			br.click("#again")
		}
		first = false
		br.waitScreen("plate")
		br.setPlateField(v.Plate)
		br.do(waitVisibleAction(`#plate-next:not([disabled])`))
		br.click("#plate-next")
		br.waitScreen("rangka")
		br.str(`(function(){var r=document.getElementById('rangka');r.value=` + jsString(v.Rangka5) + `;r.dispatchEvent(new Event('input',{bubbles:true}));return ''})()`)
		br.do(waitVisibleAction(`#search:not([disabled])`))
		b.StartTimer()
		br.click("#search")
		br.do(waitVisibleAction(`body[data-lookup-ms]`))
		b.StopTimer()
		got, err := strconv.ParseFloat(br.str(`document.body.dataset.lookupMs`), 64)
		if err != nil {
			b.Fatal(err)
		}
		if src := br.str(`document.body.dataset.lookupSource`); src != wantSource {
			b.Fatalf("lookup source %q, want %q", src, wantSource)
		}
		ms = append(ms, got)
		b.StartTimer()
	}
	slices.Sort(ms)
	q := func(p float64) float64 { return ms[int(p*float64(len(ms)-1))] }
	b.ReportMetric(q(0.50)*1000, "p50-µs")
	b.ReportMetric(q(0.99)*1000, "p99-µs")
}

// BenchmarkBrowserLookupCacheHit: tap to painted, result from the cache.
func BenchmarkBrowserLookupCacheHit(b *testing.B) {
	e := newEnv(b, quiet)
	v := e.sample(sample.Late)
	e.lookup(v.Plate, v.Rangka5)
	e.waitCached(1)
	benchBrowserLookup(b, e, "cache")
}

// BenchmarkBrowserLookupGateway: tap to painted, every lookup through the
// hub's gateway over NATS.
func BenchmarkBrowserLookupGateway(b *testing.B) {
	e := newEnv(b, quiet, func(h *hubserver.Config, a *agent.Config) { a.CacheFresh = time.Nanosecond })
	benchBrowserLookup(b, e, "live")
}
