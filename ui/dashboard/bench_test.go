package dashboard

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// bigFleet replaces the fixture's kiosks with n kiosks in offices
// offices, a realistic mix of presences and faults.
func (b *fakeBackend) bigFleet(n, offices int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.kiosks = map[string]hubapi.FleetKiosk{}
	for i := range n {
		office := fmt.Sprintf("kantor-%02d", i%offices)
		p := hubapi.Online
		switch i % 23 {
		case 0:
			p = hubapi.Offline
		case 1:
			p = hubapi.Late
		}
		k := fleetKiosk(fmt.Sprintf("k%04d", i), office, p, t0.Add(-time.Duration(i%300)*time.Second))
		if i%17 == 0 {
			k.Printer.Paper = "near_end"
			k.Faults = []string{"printer.paper_near_end"}
		}
		b.kiosks[k.Kiosk] = k
	}
}

// BenchmarkFleetPage2000 renders the fleet page of 2,000 kiosks in 60
// offices for a sistim user (every office), through the whole handler.
func BenchmarkFleetPage2000(b *testing.B) {
	e := newEnv(b)
	e.b.bigFleet(2000, 60)
	ck := e.sessionCookie("sistim1")
	var size int
	start := time.Now()
	for b.Loop() {
		r := httptest.NewRequest("GET", "https://"+testHost+"/", nil)
		r.AddCookie(ck)
		w := httptest.NewRecorder()
		e.d.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("GET / = %d", w.Code)
		}
		size = w.Body.Len()
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/op")
	b.ReportMetric(float64(size), "bytes/page")
}

// BenchmarkSSEFanout50 measures, over real HTTP, the time from a change
// published by the Backend to all 50 viewers of the office having the
// re-rendered kiosk card. One op is 50 changes, one after the other.
func BenchmarkSSEFanout50(b *testing.B) {
	const viewers, perOp = 50, 50
	e := newEnv(b)
	e.b.bigFleet(2000, 60)
	e.b.setUser("uptd1", func(u *hubapi.User) { u.Offices = []string{"kantor-07"} })
	srv := httptest.NewServer(e.d)
	defer srv.Close()
	defer e.d.Close()
	srv.Client().Transport.(*http.Transport).MaxConnsPerHost = 0
	srv.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = viewers

	got := make(chan time.Time, viewers*4)
	for range viewers {
		s := openStream(b, e, srv, "uptd1", "")
		go func() {
			for ev := range s {
				if ev.Name == "kiosk" {
					got <- ev.At
				}
			}
		}()
	}
	var lat []float64
	seq := 0
	for b.Loop() {
		for range perOp {
			seq++
			v := fmt.Sprintf("v%d", seq)
			e.b.update("k0007", func(k *hubapi.FleetKiosk) { k.Version = v })
			sent := time.Now()
			e.b.publish(Change{Kind: "kiosk", Kiosk: "k0007", Office: "kantor-07"})
			var last time.Time
			for range viewers {
				select {
				case at := <-got:
					if at.After(last) {
						last = at
					}
				case <-time.After(10 * time.Second):
					b.Fatal("a viewer got no fragment within 10 s")
				}
			}
			lat = append(lat, float64(last.Sub(sent).Microseconds())/1000)
		}
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
