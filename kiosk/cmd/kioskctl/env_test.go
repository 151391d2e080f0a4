package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/kiosktest"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsauth"
)

// The tests run kioskctl in this process against a real hub (embedded
// NATS in operator mode, fleet monitor, hub service) and a real agent
// with its command service, connected over loopback TCP with the .creds
// files `kioskhub creds` would write. Nothing is mocked.

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// fleetEnv is a hub and one agent (padang-01), with an operator's .creds.
type fleetEnv struct {
	t        *testing.T
	clk      *kiosktest.Clock // hub, agent and kioskctl: frozen unless moved, so ages in the goldens are fixed
	hub      *hubserver.Hub
	auth     *natsauth.Auth
	agentCfg agent.Config
	agent    *agentRun
	agentURL string // of the newest agent: http://127.0.0.1:port, no slash
	opCreds  string
	dir      string // for files the test writes
}

func newFleetEnv(t *testing.T, opts ...func(*agent.Config)) *fleetEnv {
	t.Helper()
	wib, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		wib = time.FixedZone("WIB", 7*3600)
	}
	e := &fleetEnv{t: t, clk: kiosktest.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, wib)), dir: t.TempDir()}
	e.startHub()

	acfg := agent.DefaultConfig()
	acfg.ID, acfg.Office, acfg.Data = "padang-01", "padang", t.TempDir()
	acfg.NATS, acfg.Creds = e.hub.NATSURL(), e.issueKiosk("padang-01")
	acfg.HTTP, acfg.UI = "127.0.0.1:0", "off"
	acfg.Now = e.clk.Now
	acfg.Heartbeat = time.Second
	acfg.CommandCheck = 100 * time.Millisecond
	acfg.LookupProbe = 100 * time.Millisecond
	acfg.Logger = testLogger(t)
	for _, o := range opts {
		o(&acfg)
	}
	e.agentCfg = acfg
	e.agent = e.startAgent()
	return e
}

// agentRun is a running agent.
type agentRun struct {
	cancel context.CancelFunc
	exited chan struct{} // closed when Run returned, with err set
	err    error
	stop   func() // stops it (if still running) and closes it; safe to call twice
}

// startAgent starts an agent with the env's agent configuration (and
// store): as kioskd does after systemd restarted it or the PC rebooted.
func (e *fleetEnv) startAgent() *agentRun {
	t := e.t
	t.Helper()
	a, err := agent.New(t.Context(), e.agentCfg)
	if err != nil {
		t.Fatal(err)
	}
	e.agentURL = strings.TrimSuffix(a.URL(), "/")
	ctx, cancel := context.WithCancel(context.Background())
	r := &agentRun{cancel: cancel, exited: make(chan struct{})}
	go func() {
		r.err = a.Run(ctx)
		close(r.exited)
	}()
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			<-r.exited
			if !errors.Is(r.err, context.Canceled) && !errors.Is(r.err, agent.ErrRestart) {
				t.Errorf("agent Run() = %v, want context.Canceled or agent.ErrRestart", r.err)
			}
			a.Close()
		})
	}
	t.Cleanup(r.stop)
	return r
}

// startHub starts a hub as kioskhub does by default (operator mode) and
// issues the operator "budi".
func (e *fleetEnv) startHub() {
	t := e.t
	cfg := hubserver.DefaultConfig()
	cfg.Data = t.TempDir()
	cfg.NATSListen = "127.0.0.1:0"
	cfg.SampleSize = 200
	cfg.Now = e.clk.Now
	cfg.Logger = testLogger(t)
	au, err := natsauth.Open(filepath.Join(cfg.Data, "auth"))
	if err != nil {
		t.Fatal(err)
	}
	e.auth = au
	op, _, err := au.IssueOperator("budi", false)
	if err != nil {
		t.Fatal(err)
	}
	e.opCreds = e.write("budi.creds", op)
	h, err := hubserver.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	e.hub = h
}

func (e *fleetEnv) issueKiosk(id string) string {
	e.t.Helper()
	creds, _, err := e.auth.IssueKiosk(id, "padang", false)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.write(id+".creds", creds)
}

func (e *fleetEnv) write(name string, b []byte) string {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// result is one kioskctl run.
type result struct {
	code           int
	stdout, stderr string
}

// ctl runs kioskctl as the operator budi on the env's clock.
func (e *fleetEnv) ctl(args ...string) result {
	return e.ctlAt(0, args...)
}

// ctlAt runs kioskctl with its clock ahead of the env's by ahead, so
// that ages ("12s ago") show.
func (e *fleetEnv) ctlAt(ahead time.Duration, args ...string) result {
	e.t.Helper()
	var out, errb bytes.Buffer
	code := e.cli(ahead).run(e.t.Context(), e.args(args...), &out, &errb, noEnv)
	return result{code, out.String(), errb.String()}
}

func (e *fleetEnv) cli(ahead time.Duration) *cli {
	return &cli{now: func() time.Time { return e.clk.Now().Add(ahead) }}
}

func (e *fleetEnv) args(args ...string) []string {
	return append([]string{"--nats", e.hub.NATSURL(), "--creds", e.opCreds}, args...)
}

func noEnv(string) string { return "" }

// session opens (POST) or ends (DELETE) a taxpayer's session on the agent.
func (e *fleetEnv) session(method string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.agentURL+"/api/session", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		e.t.Fatalf("%s /api/session: %s", method, resp.Status)
	}
}

// eventually polls cond until it holds or within has passed.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Volatile parts of the output, masked before comparing with a golden.
var masks = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), "<uuid>"},
	{regexp.MustCompile(`("(?:boot|epoch)": )"[^"]*"`), `$1"<masked>"`},
	{regexp.MustCompile(`("(?:free_bytes|total_bytes)": )\d+`), `${1}0`},
	{regexp.MustCompile(`(?m)^(boot|epoch|disk) ( *)\S.*$`), `$1 $2<masked>`},
	{regexp.MustCompile(`\(\d+ bytes\)`), `(<n> bytes)`},
}

func mask(s string) string {
	for _, m := range masks {
		s = m.re.ReplaceAllString(s, m.with)
	}
	return s
}

// golden compares got, masked, with testdata/name; -update rewrites it.
func golden(t *testing.T, name, got string) {
	t.Helper()
	got = mask(got)
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s--- want\n%s", p, got, want)
	}
}

// testLogger sends the agent's and hub's warnings to t.Log.
func testLogger(t *testing.T) *slog.Logger { return kiosktest.Logger(t, slog.LevelWarn) }
