package agent_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/kiosktest"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/pkb"
	"github.com/sumbar-samsat/pkbkiosk/sync/lookup/sample"
	"github.com/sumbar-samsat/pkbkiosk/sync/outbox"
)

// env is a hub with embedded NATS and the sample source, and an agent
// connected to it over loopback TCP, in this test process.
type env struct {
	t         testing.TB
	clk       *kiosktest.Clock // shared by hub and agent
	hubCfg    hubserver.Config
	hub       *hubserver.Hub
	agent     *agent.Agent
	agentCfg  agent.Config
	agentStop func() // stops the agent; safe to call twice
	agentDir  string
	base      string
	plates    map[sample.Category][]sample.Sample
}

type envOpt func(*hubserver.Config, *agent.Config)

func newEnv(t testing.TB, opts ...envOpt) *env {
	t.Helper()
	wib, _ := time.LoadLocation("Asia/Jakarta")
	e := &env{t: t, clk: kiosktest.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, wib))}
	e.hubCfg = hubserver.DefaultConfig()
	e.hubCfg.Data = t.TempDir()
	e.hubCfg.NATSListen = "127.0.0.1:0"
	e.hubCfg.SampleSize = 1000
	e.hubCfg.Now = e.clk.Now
	e.hubCfg.RatePerMinute = 0
	e.hubCfg.Auth = false // clients without .creds; auth_test.go turns it on (withAuth)
	acfg := agent.DefaultConfig()
	acfg.ID, acfg.Office, acfg.Data = "padang-01", "padang", t.TempDir()
	acfg.HTTP = "127.0.0.1:0"
	acfg.UI = "off"
	acfg.Now = e.clk.Now
	acfg.Logger = testLogger(t)
	for _, o := range opts {
		o(&e.hubCfg, &acfg)
	}
	e.startHub()
	acfg.NATS = e.hub.NATSURL()

	ps, err := hubserver.SamplePlates(t.Context(), e.hubCfg, 36)
	if err != nil {
		t.Fatal(err)
	}
	e.plates = map[sample.Category][]sample.Sample{}
	for _, p := range ps {
		e.plates[p.Category] = append(e.plates[p.Category], p)
	}

	a, err := agent.New(t.Context(), acfg)
	if err != nil {
		t.Fatal(err)
	}
	e.agent, e.agentDir, e.agentCfg = a, acfg.Data, acfg
	e.base = strings.TrimSuffix(a.URL(), "/")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	e.agentStop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("Run() = %v, want context.Canceled", err)
			}
			a.Close()
		})
	}
	t.Cleanup(e.agentStop)
	e.waitBus(true)
	return e
}

func (e *env) startHub() {
	e.t.Helper()
	h, err := hubserver.Start(e.t.Context(), e.hubCfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.hub = h
	// Restart on the same port, so the agent's reconnects find it.
	e.hubCfg.NATSListen = strings.TrimPrefix(h.NATSURL(), "nats://")
	e.t.Cleanup(func() { e.stopHub() })
}

func (e *env) stopHub() {
	if e.hub != nil {
		e.hub.Close()
		e.hub = nil
	}
}

// waitBus polls the status until bus.connected is want.
func (e *env) waitBus(want bool) {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		var st struct {
			Bus struct{ Connected bool } `json:"bus"`
		}
		e.get("/api/status", &st)
		if st.Bus.Connected == want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("bus.connected never became %v", want)
}

func (e *env) sample(c sample.Category) sample.Sample {
	e.t.Helper()
	ps := e.plates[c]
	if len(ps) == 0 {
		e.t.Fatalf("no sample plate of category %s", c)
	}
	return ps[0]
}

func (e *env) get(path string, v any) int {
	e.t.Helper()
	resp, err := http.Get(e.base + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			e.t.Fatalf("GET %s: %v", path, err)
		}
	}
	return resp.StatusCode
}

// getRaw fetches path and returns the status code only.
func (e *env) getRaw(path string) (int, error) {
	resp, err := http.Get(e.base + path)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// post sends body as JSON and decodes the reply into a generic map; the
// client gives up after timeout.
func (e *env) post(path string, body any, timeout time.Duration) (int, map[string]any, http.Header) {
	e.t.Helper()
	b, _ := json.Marshal(body)
	c := &http.Client{Timeout: timeout}
	resp, err := c.Post(e.base+path, "application/json", bytes.NewReader(b))
	if err != nil {
		e.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		e.t.Fatalf("POST %s: reply %q: %v", path, raw, err)
	}
	return resp.StatusCode, m, resp.Header
}

func (e *env) lookup(p, r5 string) (int, map[string]any) {
	e.t.Helper()
	code, m, h := e.post("/api/lookup", map[string]string{"plate": p, "rangka5": r5}, 5*time.Second)
	if got := h.Get("Cache-Control"); got != "no-store" {
		e.t.Errorf("lookup Cache-Control = %q, want no-store", got)
	}
	return code, m
}

func errCode(m map[string]any) string {
	if e, ok := m["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

func TestLookupMissThenHit(t *testing.T) {
	e := newEnv(t)
	v := e.sample(sample.Late)
	typed := strings.ToLower(strings.ReplaceAll(v.Plate, " ", ""))

	code, m := e.lookup(typed, strings.ToLower(v.Rangka5))
	if code != 200 || m["source"] != "live" || m["plate"] != v.Plate || m["stale"] != false || m["age_s"] != 0.0 {
		t.Fatalf("first lookup = %d %v; want 200 live, plate %q, stale false, age 0", code, m, v.Plate)
	}
	var res pkb.Result
	rb, _ := json.Marshal(m["result"])
	if err := json.Unmarshal(rb, &res); err != nil {
		t.Fatal(err)
	}
	if res.Nopol != v.Plate || res.Jumlah != res.Rincian.Sum() || res.Jumlah <= 0 || res.Rincian.PKB.Denda <= 0 {
		t.Errorf("result = %+v; want nopol %q, jumlah = sum of items > 0, a fine (category late)", res, v.Plate)
	}
	if got := res.DihitungPada.Format("2006-01-02 15:04 -07:00"); got != "2026-11-23 10:00 +07:00" {
		t.Errorf("dihitung_pada = %s, want the hub's clock in WIB", got)
	}

	// The cache is written after the reply, off the response path.
	e.waitCached(1)
	e.clk.Add(90 * time.Second)
	code, m2 := e.lookup(v.Plate, v.Rangka5)
	if code != 200 || m2["source"] != "cache" || m2["age_s"] != 90.0 || m2["stale"] != false {
		t.Fatalf("second lookup = %d source=%v age=%v stale=%v; want 200 cache 90 false", code, m2["source"], m2["age_s"], m2["stale"])
	}
	rb2, _ := json.Marshal(m2["result"])
	if !bytes.Equal(rb, rb2) {
		t.Errorf("cached result differs from the live one:\n live %s\ncache %s", rb, rb2)
	}
	if m2["fetched_at"] != m["fetched_at"] {
		t.Errorf("fetched_at = %v, want the first lookup's %v", m2["fetched_at"], m["fetched_at"])
	}
}

func TestCacheHoldsNoPlateOrRangka(t *testing.T) {
	e := newEnv(t)
	v := e.sample(sample.Paid)
	if code, m := e.lookup(v.Plate, v.Rangka5); code != 200 {
		t.Fatalf("lookup = %d %v", code, m)
	}
	dir := e.agentDir
	e.waitCached(1)
	var all []byte
	files, _ := filepath.Glob(filepath.Join(dir, "kiosk.db*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		all = append(all, b...)
	}
	for _, secret := range []string{v.Plate, strings.ReplaceAll(v.Plate, " ", ""), v.Rangka5} {
		if bytes.Contains(all, []byte(secret)) {
			t.Errorf("store files contain %q in clear", secret)
		}
	}
}

// waitCached waits until the agent's cache holds n results: the cache is
// written in the background, after the reply.
func (e *env) waitCached(n int) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		st, err := e.agent.Stats(e.t.Context())
		if err != nil {
			e.t.Fatal(err)
		}
		if st.CachedResults == n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.t.Fatalf("cache never held %d results", n)
}

// writeNewerStore makes file a kiosk store of a schema newer than this
// build knows.
func writeNewerStore(t testing.TB, file string) {
	t.Helper()
	s, err := outbox.Open(t.Context(), file)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite3", file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d; PRAGMA journal_mode = DELETE", outbox.SchemaVersion()+1)); err != nil {
		t.Fatal(err)
	}
}

func TestHubStoppedServesCacheThenStale(t *testing.T) {
	e := newEnv(t)
	v := e.sample(sample.LateOverYear)
	if code, m := e.lookup(v.Plate, v.Rangka5); code != 200 || m["source"] != "live" {
		t.Fatalf("lookup = %d %v", code, m)
	}
	e.waitCached(1)
	e.stopHub()
	e.waitBus(false)

	// Twenty minutes later, past cache-fresh: still the cache, with its age.
	e.clk.Add(20 * time.Minute)
	code, m := e.lookup(v.Plate, v.Rangka5)
	if code != 200 || m["source"] != "cache" || m["stale"] != false || m["age_s"] != 1200.0 {
		t.Fatalf("hub down: %d source=%v stale=%v age=%v; want 200 cache false 1200", code, m["source"], m["stale"], m["age_s"])
	}
	// Next day in WIB: the fines have changed since, so it is stale.
	e.clk.Add(24 * time.Hour)
	code, m = e.lookup(v.Plate, v.Rangka5)
	if code != 200 || m["source"] != "cache" || m["stale"] != true {
		t.Fatalf("next day: %d source=%v stale=%v; want 200 cache true", code, m["source"], m["stale"])
	}
	// Another rangka5 is another cache key: never served.
	code, m = e.lookup(v.Plate, "ZZZZZ")
	if code != 503 || errCode(m) != "source_unavailable" {
		t.Errorf("wrong rangka5 with hub down = %d %v; want 503 source_unavailable", code, m)
	}

	// The hub comes back on the same address: lookups are live again.
	e.startHub()
	e.waitBus(true)
	code, m = e.lookup(v.Plate, v.Rangka5)
	if code != 200 || m["source"] != "live" || m["stale"] != false {
		t.Errorf("hub back: %d source=%v stale=%v; want 200 live false", code, m["source"], m["stale"])
	}
}

func TestNeverSeenPlateHubStoppedFailsFast(t *testing.T) {
	e := newEnv(t)
	e.stopHub()
	e.waitBus(false)
	v := e.sample(sample.Paid)
	// The client gives up after one second: the agent must not wait for its
	// 3 s lookup timeout while it knows the hub is unreachable.
	code, m, _ := e.post("/api/lookup", map[string]string{"plate": v.Plate, "rangka5": v.Rangka5}, time.Second)
	if code != 503 || errCode(m) != "source_unavailable" || m["plate"] != v.Plate {
		t.Errorf("lookup with hub down = %d %v; want 503 source_unavailable with plate", code, m)
	}
	if msg := m["error"].(map[string]any)["message"]; msg == "" || msg == nil {
		t.Error("source_unavailable has no message for the taxpayer")
	}
}

func TestGatewayGoneFailsFast(t *testing.T) {
	// NATS is up but nobody serves pkb.lookup: "no responders" comes back at
	// once and the agent answers without waiting for its timeout.
	e := newEnv(t, func(h *hubserver.Config, a *agent.Config) { a.LookupTimeout = 30 * time.Second })
	e.hub.StopGateway()
	v := e.sample(sample.Paid)
	code, m, _ := e.post("/api/lookup", map[string]string{"plate": v.Plate, "rangka5": v.Rangka5}, time.Second)
	if code != 503 || errCode(m) != "source_unavailable" {
		t.Errorf("lookup without gateway = %d %v; want 503 source_unavailable", code, m)
	}
}

func TestRangka5(t *testing.T) {
	e := newEnv(t)
	v := e.sample(sample.Paid)
	wrong := "00000"
	if v.Rangka5 == wrong {
		wrong = "11111"
	}
	for _, tt := range []struct {
		name, r5 string
		code     int
		err      string
	}{
		{"missing", "", 400, "rangka_required"},
		{"too short", "12", 400, "rangka_required"},
		{"bad character", "12#45", 400, "rangka_required"},
		{"wrong", wrong, 403, "rangka_mismatch"},
		{"right", v.Rangka5, 200, ""},
		{"right, lower case", strings.ToLower(v.Rangka5), 200, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, m := e.lookup(v.Plate, tt.r5)
			if code != tt.code || errCode(m) != tt.err {
				t.Fatalf("lookup(%s) = %d %v; want %d %q", tt.name, code, m, tt.code, tt.err)
			}
			if tt.err != "" && m["plate"] != v.Plate {
				t.Errorf("error reply plate = %v, want %q", m["plate"], v.Plate)
			}
		})
	}
}

func TestRangka5NotRequired(t *testing.T) {
	e := newEnv(t, func(h *hubserver.Config, a *agent.Config) {
		h.RequireRangka5, a.RequireRangka5 = false, false
	})
	v := e.sample(sample.Paid)
	if code, m := e.lookup(v.Plate, ""); code != 200 || m["source"] != "live" {
		t.Errorf("lookup without rangka5 (not required) = %d %v; want 200 live", code, m)
	}
	if code, m := e.lookup(v.Plate, "ZZZZZ"); code != 403 {
		t.Errorf("lookup with a wrong rangka5 (not required, but given) = %d %v; want 403", code, m)
	}
}

func TestNotFound(t *testing.T) {
	e := newEnv(t)
	v := e.sample(sample.NotFound)
	code, m := e.lookup(v.Plate, "12345")
	if code != 404 || errCode(m) != "not_found" || m["plate"] != v.Plate {
		t.Errorf("lookup(unknown) = %d %v; want 404 not_found with plate %q", code, m, v.Plate)
	}
}

func TestInvalidPlates(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		in, reason, plate string
		extra             map[string]string
	}{
		{"BAA 1234 QR", "BAD_FORMAT", "", nil},
		{"BA#1234", "BAD_CHARACTER", "", nil},
		{"   ", "EMPTY", "", nil},
		{"BA 0000 QR", "BAD_NUMBER", "", nil},
		{"BA 1234 ABCD", "BAD_SERIES", "", nil},
		{"BA 1234 XY", "SPECIAL_PLATE", "BA 1234 XY", nil},
		{"QQ 1234 AB", "BAD_REGION", "QQ 1234 AB", nil},
		{"1234 qr", "NEED_REGION", "", map[string]string{"suggestion": "BA 1234 QR"}},
		{"bk1234ab", "OTHER_REGION", "BK 1234 AB", map[string]string{"province": "Sumatera Utara"}},
	} {
		t.Run(tt.reason, func(t *testing.T) {
			code, m := e.lookup(tt.in, "12345")
			er, _ := m["error"].(map[string]any)
			if code != 400 || er["code"] != "invalid_plate" || er["reason"] != tt.reason {
				t.Fatalf("lookup(%q) = %d %v; want 400 invalid_plate %s", tt.in, code, m, tt.reason)
			}
			if msg, _ := er["message"].(string); msg == "" {
				t.Errorf("lookup(%q): empty message", tt.in)
			}
			if got, _ := m["plate"].(string); got != tt.plate {
				t.Errorf("lookup(%q) top-level plate = %q, want %q", tt.in, got, tt.plate)
			}
			for k, want := range tt.extra {
				if er[k] != want {
					t.Errorf("lookup(%q) error.%s = %v, want %q", tt.in, k, er[k], want)
				}
			}
			// The live preview gives the same verdict with status 200.
			pc, pm, _ := e.post("/api/plate", map[string]string{"input": tt.in}, 2*time.Second)
			pe, _ := pm["error"].(map[string]any)
			if pc != 200 || pe["reason"] != tt.reason {
				t.Errorf("plate preview(%q) = %d %v; want 200 with reason %s", tt.in, pc, pm, tt.reason)
			}
		})
	}
	code, m, _ := e.post("/api/plate", map[string]string{"input": "ba1o34qr"}, 2*time.Second)
	if code != 200 || m["plate"] != "BA 1034 QR" || m["error"] != nil {
		t.Errorf("plate preview(ba1o34qr) = %d %v; want BA 1034 QR", code, m)
	}
}

func TestStatusAndHealth(t *testing.T) {
	e := newEnv(t, func(h *hubserver.Config, a *agent.Config) {
		bootFile := filepath.Join(t.TempDir(), "boot_id")
		os.WriteFile(bootFile, []byte("boot-1234\n"), 0o644)
		a.BootIDFile = bootFile
	})
	var h map[string]any
	if code := e.get("/healthz", &h); code != 200 || h["ok"] != true || h["mode"] != "ready" {
		t.Errorf("healthz = %d %v; want 200 ok ready", code, h)
	}
	var st map[string]any
	e.get("/api/status", &st)
	ui := st["ui"].(map[string]any)
	if st["kiosk"] != "padang-01" || st["office"] != "padang" || st["boot"] != "boot-1234" || st["hb_interval_s"] != 10.0 || ui["last_ping_s"] != nil {
		t.Errorf("status = %v; want kiosk, office, boot from file, hb 10, last_ping_s null before a ping", st)
	}
	if ep, _ := st["epoch"].(string); len(ep) != 16 {
		t.Errorf("status epoch = %v, want the store's epoch", st["epoch"])
	}
	resp, err := http.Post(e.base+"/api/ui/ping", "application/json", nil)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("ping = %v %v; want 204", resp, err)
	}
	resp.Body.Close()
	e.clk.Add(4 * time.Second)
	e.get("/api/status", &st)
	if got := st["ui"].(map[string]any)["last_ping_s"]; got != 4.0 {
		t.Errorf("last_ping_s = %v, want 4", got)
	}
	code, m, _ := e.post("/api/session", nil, 2*time.Second)
	if code != 200 || m["session"] == "" {
		t.Fatalf("POST /api/session = %d %v", code, m)
	}
	e.get("/api/status", &st)
	if st["mode"] != "session" {
		t.Errorf("mode during a session = %v, want session", st["mode"])
	}
	req, _ := http.NewRequest("DELETE", e.base+"/api/session", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("DELETE /api/session = %v %v; want 204", resp, err)
	}
	resp.Body.Close()
	e.get("/api/status", &st)
	if st["mode"] != "ready" {
		t.Errorf("mode after the session = %v, want ready", st["mode"])
	}
}

func TestNewerStoreLeftUntouched(t *testing.T) {
	dir := t.TempDir()
	// A store from the future: a valid SQLite file with a higher schema.
	newer := filepath.Join(dir, "kiosk.db")
	writeNewerStore(t, newer)
	before, _ := os.ReadFile(newer)

	e := newEnv(t, func(h *hubserver.Config, a *agent.Config) { a.Data = dir })
	var h map[string]any
	if code := e.get("/healthz", &h); code != 200 || h["mode"] != "degraded" || h["reason"] != "store.incompatible" {
		t.Errorf("healthz = %d %v; want 200 degraded store.incompatible", code, h)
	}
	var st map[string]any
	e.get("/api/status", &st)
	store := st["store"].(map[string]any)
	if store["ok"] != false || !strings.Contains(fmt.Sprint(store["detail"]), "newer version") {
		t.Errorf("status.store = %v; want ok false with a detail", store)
	}
	v := e.sample(sample.Paid)
	if code, m := e.lookup(v.Plate, v.Rangka5); code != 200 {
		t.Errorf("lookup on the fallback store = %d %v; want 200", code, m)
	}
	after, _ := os.ReadFile(newer)
	if !bytes.Equal(before, after) {
		t.Error("the newer store was modified")
	}
	// Reported to the hub as a critical fault, after the boot.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		rep := e.hubKiosk(5)
		if len(rep.Faults) == 1 && rep.Faults[0].Code == "store.incompatible" && rep.Faults[0].Severity == "critical" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hub's active faults %+v, want store.incompatible critical", rep.Faults)
		}
	}
}

func TestBadConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		mod  func(*agent.Config)
	}{
		{"public address", func(c *agent.Config) { c.HTTP = "0.0.0.0:8321" }},
		{"bad id", func(c *agent.Config) { c.ID = "Padang 01" }},
		{"no data", func(c *agent.Config) { c.Data = "" }},
		{"no nats", func(c *agent.Config) { c.NATS = "" }},
		{"bad ui", func(c *agent.Config) { c.UI = "maybe" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := agent.DefaultConfig()
			c.ID, c.Office, c.Data, c.NATS, c.HTTP = "padang-01", "padang", t.TempDir(), "nats://127.0.0.1:1", "127.0.0.1:0"
			tt.mod(&c)
			a, err := agent.New(t.Context(), c)
			if !errors.Is(err, agent.ErrConfig) {
				if a != nil {
					a.Close()
				}
				t.Errorf("New(%s) = %v, want ErrConfig", tt.name, err)
			}
		})
	}
}

// testLogger logs everything of the agent and hub to t.Log.
func testLogger(t testing.TB) *slog.Logger { return kiosktest.Logger(t, slog.LevelDebug) }
