package lookup_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/pkb"
	"github.com/sumbar-samsat/pkbkiosk/sync/lookup"
	"github.com/sumbar-samsat/pkbkiosk/sync/lookup/sample"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsbus/natsbustest"
)

type observed struct {
	mu   sync.Mutex
	seen []string // kiosk id + " " + outcome
}

func (o *observed) observe(id, outcome string, _ time.Duration) {
	o.mu.Lock()
	o.seen = append(o.seen, id+" "+outcome)
	o.mu.Unlock()
}

func (o *observed) last() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.seen) == 0 {
		return ""
	}
	return o.seen[len(o.seen)-1]
}

type fixture struct {
	nc      *nats.Conn
	src     *sample.Source
	obs     *observed
	now     time.Time
	samples map[sample.Category]sample.Sample
}

func setup(t *testing.T, mod func(*lookup.Config)) *fixture {
	t.Helper()
	ns := natsbustest.RunServer(t, nil)
	nc := natsbustest.Connect(t, ns)
	wib, _ := time.LoadLocation("Asia/Jakarta")
	f := &fixture{nc: nc, obs: &observed{}, now: time.Date(2026, 11, 23, 9, 0, 0, 0, wib)}
	src, err := sample.Open(t.Context(), sample.Config{
		Path: filepath.Join(t.TempDir(), "sample.db"), Seed: 1, Size: 1000,
		Now: func() time.Time { return f.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	f.src = src
	ps, err := src.Plates(t.Context(), 12)
	if err != nil {
		t.Fatal(err)
	}
	f.samples = map[sample.Category]sample.Sample{}
	for _, p := range ps {
		f.samples[p.Category] = p
	}
	cfg := lookup.Config{Source: src, RequireRangka5: true, Observe: f.obs.observe, Now: func() time.Time { return f.now }}
	if mod != nil {
		mod(&cfg)
	}
	svc, err := lookup.AddService(nc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Stop() })
	return f
}

func (f *fixture) ask(t *testing.T, id string, body any) (kiosk.LookupReply, *nats.Msg) {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case []byte:
		b = v
	default:
		b, _ = json.Marshal(v)
	}
	msg, err := f.nc.Request("pkb.lookup."+id, b, 5*time.Second)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	var r kiosk.LookupReply
	if err := json.Unmarshal(msg.Data, &r); err != nil {
		t.Fatalf("reply %q: %v", msg.Data, err)
	}
	return r, msg
}

func code(r kiosk.LookupReply) string {
	if r.Error == nil {
		return ""
	}
	return r.Error.Code
}

func TestGatewayAnswers(t *testing.T) {
	f := setup(t, nil)
	paid := f.samples[sample.Paid]
	wrong := "00000"
	if paid.Rangka5 == wrong {
		wrong = "11111"
	}
	for _, tt := range []struct {
		name   string
		body   any
		code   string
		reason string
	}{
		{"found", kiosk.LookupRequest{Plate: paid.Plate, Rangka5: paid.Rangka5}, "", ""},
		{"found, typed loosely", kiosk.LookupRequest{Plate: "  " + paid.Plate + " ", Rangka5: paid.Rangka5}, "", ""},
		{"not found", kiosk.LookupRequest{Plate: f.samples[sample.NotFound].Plate, Rangka5: "12345"}, kiosk.CodeNotFound, ""},
		{"rangka mismatch", kiosk.LookupRequest{Plate: paid.Plate, Rangka5: wrong}, kiosk.CodeRangkaMismatch, ""},
		{"rangka missing", kiosk.LookupRequest{Plate: paid.Plate}, kiosk.CodeRangkaRequired, ""},
		{"invalid plate", kiosk.LookupRequest{Plate: "BA 0000 QR", Rangka5: "12345"}, kiosk.CodeInvalidPlate, "BAD_NUMBER"},
		{"other region", kiosk.LookupRequest{Plate: "B 1234 ABC", Rangka5: "12345"}, kiosk.CodeInvalidPlate, "OTHER_REGION"},
		{"not json", []byte("{plate"), kiosk.CodeBadRequest, ""},
		// The kiosk id comes from the subject only; a body naming one is
		// not a lookup request.
		{"kiosk in body", map[string]string{"plate": paid.Plate, "rangka5": paid.Rangka5, "kiosk": "other-01"}, kiosk.CodeBadRequest, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := f.ask(t, "padang-01", tt.body)
			if code(r) != tt.code || (tt.reason != "" && r.Error.Reason != tt.reason) {
				t.Fatalf("reply = %+v %s; want code %q reason %q", r.Error, r.Result, tt.code, tt.reason)
			}
			if tt.code == "" {
				var res pkb.Result
				if err := json.Unmarshal(r.Result, &res); err != nil {
					t.Fatal(err)
				}
				if res.Nopol != paid.Plate || res.Sumber != "DEMO" || res.Jumlah != res.Rincian.Sum() {
					t.Errorf("result = %+v; want nopol %q, sumber DEMO, jumlah = sum", res, paid.Plate)
				}
			}
			want := "padang-01 " + tt.code
			if tt.code == "" {
				want = "padang-01 ok"
			}
			// The gateway observes after it replied: wait for it.
			deadline := time.Now().Add(2 * time.Second)
			for f.obs.last() != want && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if got := f.obs.last(); got != want {
				t.Errorf("observed %q, want %q", got, want)
			}
		})
	}
}

func TestGatewayBadSubjectAndServiceErrors(t *testing.T) {
	f := setup(t, nil)
	r, msg := f.ask(t, "Not_A_Kiosk", kiosk.LookupRequest{Plate: "BA 1 A", Rangka5: "12345"})
	if code(r) != kiosk.CodeBadRequest {
		t.Errorf("bad kiosk id in subject: %+v; want bad_request", r.Error)
	}
	if msg.Header.Get(micro.ErrorCodeHeader) != kiosk.CodeBadRequest {
		t.Errorf("bad request not flagged as a service error (headers %v)", msg.Header)
	}
}

type brokenSource struct{}

func (brokenSource) Lookup(context.Context, lookup.Query) (pkb.Result, error) {
	return pkb.Result{}, errors.New("backend: connection refused")
}

func TestGatewaySourceDown(t *testing.T) {
	f := setup(t, func(c *lookup.Config) { c.Source = brokenSource{} })
	r, _ := f.ask(t, "padang-01", kiosk.LookupRequest{Plate: "BA 1 A", Rangka5: "12345"})
	if code(r) != kiosk.CodeSourceUnavailable {
		t.Errorf("broken source: %+v; want source_unavailable", r.Error)
	}
}

func TestGatewayRateLimitPerKiosk(t *testing.T) {
	var f *fixture
	f = setup(t, func(c *lookup.Config) {
		c.RatePerMinute, c.Burst = 60, 2
	})
	p := f.samples[sample.Paid]
	req := kiosk.LookupRequest{Plate: p.Plate, Rangka5: p.Rangka5}
	for i, want := range []string{"", "", kiosk.CodeRateLimited} {
		if r, _ := f.ask(t, "padang-01", req); code(r) != want {
			t.Fatalf("lookup %d = %q, want %q", i+1, code(r), want)
		}
	}
	if r, _ := f.ask(t, "padang-02", req); code(r) != "" {
		t.Errorf("another kiosk is limited too: %q", code(r))
	}
	f.now = f.now.Add(time.Second) // one token back at 60/min
	if r, _ := f.ask(t, "padang-01", req); code(r) != "" {
		t.Errorf("after a second: %q, want a result", code(r))
	}
	if r, _ := f.ask(t, "padang-01", req); code(r) != kiosk.CodeRateLimited {
		t.Errorf("second lookup after a second: %q, want rate_limited", code(r))
	}
}

func TestGatewayDiscoverable(t *testing.T) {
	f := setup(t, nil)
	msg, err := f.nc.Request("$SRV.INFO.pkb", nil, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var info micro.Info
	if err := json.Unmarshal(msg.Data, &info); err != nil {
		t.Fatal(err)
	}
	if info.Name != "pkb" || len(info.Endpoints) != 1 || info.Endpoints[0].Subject != "pkb.lookup.*" || info.Version != kiosk.Version {
		t.Errorf("service info = %+v; want pkb with endpoint pkb.lookup.* and version %s", info, kiosk.Version)
	}
}
