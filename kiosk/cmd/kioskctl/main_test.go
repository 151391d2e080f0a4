package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/kiosktest"
	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// TestFleet drives kioskctl through an operator's day against a real hub
// and agent: the fleet table, a kiosk's status, faults, restarts (done,
// deferred during a session, --wait until the session ends), maintenance,
// diag, print-test, an offline kiosk, an expired command.
func TestFleet(t *testing.T) {
	e := newFleetEnv(t)

	// A second kiosk, padang-02, sends one heartbeat with its own
	// credentials and is then silent: a minute later the hub has it
	// offline.
	nc, err := nats.Connect(e.hub.NATSURL(), nats.UserCredentials(e.issueKiosk("padang-02")),
		nats.CustomInboxPrefix(kiosk.InboxPrefix("padang-02")))
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := json.Marshal(kiosk.Status{Kiosk: "padang-02", Office: "padang", Version: "0.2.9", HBIntervalS: 10,
		UpS: 86400, At: e.clk.Now().Format(time.RFC3339), Store: kiosk.StoreStatus{OK: true},
		Mode: kiosk.ModeReady, Printer: kiosk.PrinterStatus{Connected: true, Online: true, Paper: "near_end",
			Model: "TM-T20II", Columns: 42, Transport: "usb"}, Power: kiosk.PowerStatus{Source: "mains"},
		Bus: kiosk.BusStatus{Connected: true, OutboxPending: 3}, Faults: []string{"printer.paper_near_end"}})
	if err := nc.Publish(kiosk.HeartbeatSubject("padang-02"), hb); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	fleet := func() []hubapi.FleetKiosk {
		r := e.ctl("--json", "ls")
		if r.code != 0 {
			t.Fatalf("ls --json: exit %d: %s", r.code, r.stderr)
		}
		var fs []hubapi.FleetKiosk
		if err := json.Unmarshal([]byte(r.stdout), &fs); err != nil {
			t.Fatalf("ls --json: %v\n%s", err, r.stdout)
		}
		return fs
	}
	eventually(t, 10*time.Second, "both kiosks in hub.fleet", func() bool { return len(fleet()) == 2 })
	e.clk.Add(time.Minute)

	// The gateway goes away: the agent raises lookup.unreachable, the hub
	// gets the event and the next heartbeat.
	if err := e.hub.StopGateway(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "lookup.unreachable in ls, outbox sent", func() bool {
		fs := fleet()
		return len(fs) == 2 && fs[0].Presence == hubapi.Online && fs[1].Presence == hubapi.Offline &&
			slices.Equal(fs[0].Faults, []string{"lookup.unreachable"}) && fs[0].Bus.OutboxPending == 0
	})
	eventually(t, 10*time.Second, "lookup.unreachable in hub.faults", func() bool {
		return strings.Contains(e.ctl("faults").stdout, "lookup.unreachable")
	})

	t.Run("ls", func(t *testing.T) {
		r := e.ctlAt(12*time.Second, "ls")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		golden(t, "ls.golden", r.stdout)
		golden(t, "ls.json.golden", e.ctlAt(12*time.Second, "ls", "--json").stdout)
		if r := e.ctl("ls", "--office", "solok"); r.code != 0 || r.stdout != "the hub knows no kiosk of office solok\n" {
			t.Errorf("ls --office solok = %+v", r)
		}
	})

	t.Run("status", func(t *testing.T) {
		r := e.ctl("status", "padang-01")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		golden(t, "status.golden", r.stdout)
		r = e.ctl("--json", "status", "padang-01")
		var st kiosk.Status
		if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Kiosk != "padang-01" || st.Disk.TotalBytes == 0 {
			t.Fatalf("status --json = %v, %+v\n%s", err, st, r.stdout)
		}
		golden(t, "status.json.golden", r.stdout)
	})

	t.Run("faults", func(t *testing.T) {
		golden(t, "faults.golden", e.ctlAt(12*time.Second, "faults").stdout)
		golden(t, "faults.json.golden", e.ctl("faults", "--json").stdout)
		if r := e.ctl("faults", "--office", "solok"); r.code != 0 || r.stdout != "no active faults in office solok\n" {
			t.Errorf("faults --office solok = %+v", r)
		}
	})

	t.Run("restart ui-reload", func(t *testing.T) {
		r := e.ctl("restart", "padang-01", "--level", "ui-reload")
		if r.code != 0 || !strings.Contains(r.stdout, "outcome    done") {
			t.Fatalf("restart ui-reload = %+v", r)
		}
		golden(t, "restart.golden", r.stdout)
		r = e.ctl("--json", "restart", "padang-01", "--level", "ui-reload", "--wait")
		var rep kiosk.CommandReply
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || rep.Outcome != "done" {
			t.Fatalf("restart --json --wait (done at once) = %+v, %v", r, err)
		}
		golden(t, "restart.json.golden", r.stdout)
	})

	t.Run("restart during a session", func(t *testing.T) {
		e.session("POST")
		r := e.ctl("restart", "padang-01", "--level", "ui-reload", "--reason", "new help pages")
		if r.code != 0 || !strings.Contains(r.stdout, "deferred") {
			t.Fatalf("restart during a session = %+v, want deferred, exit 0", r)
		}
		golden(t, "restart-deferred.golden", r.stdout)

		// --wait follows the next one until the session ends.
		var out, errb kiosktest.Buffer
		done := make(chan int, 1)
		go func() {
			done <- e.cli(0).run(t.Context(), e.args("restart", "padang-01", "--level", "ui-reload", "--wait"), &out, &errb, noEnv)
		}()
		eventually(t, 10*time.Second, "--wait shows deferred", func() bool { return strings.Contains(out.String(), "deferred") })
		time.Sleep(300 * time.Millisecond) // several deferred-command checks while the session is open
		select {
		case code := <-done:
			t.Fatalf("--wait returned %d during the session: %s%s", code, out.String(), errb.String())
		default:
		}
		e.session("DELETE")
		select {
		case code := <-done:
			if code != 0 || !strings.Contains(out.String(), "result     done: screens reloaded") {
				t.Fatalf("restart --wait = exit %d\n%s%s", code, out.String(), errb.String())
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("restart --wait did not end after the session: %s%s", out.String(), errb.String())
		}
		golden(t, "restart-wait.golden", out.String())
		if !strings.Contains(errb.String(), "waiting for the result of cmd") {
			t.Errorf("stderr of --wait = %q", errb.String())
		}
	})

	t.Run("maintenance", func(t *testing.T) {
		r := e.ctl("maintenance", "padang-01", "on", "--message", "Printer sedang diganti")
		if r.code != 0 {
			t.Fatalf("maintenance on = %+v", r)
		}
		golden(t, "maintenance-on.golden", r.stdout)
		st := e.ctl("--json", "status", "padang-01")
		if !strings.Contains(st.stdout, `"mode": "maintenance"`) {
			t.Errorf("mode after maintenance on:\n%s", st.stdout)
		}
		// The same --cmd-id again: the first reply, nothing runs again.
		id := "0193a8f2-0000-7000-8000-00000000beef"
		first := e.ctl("--cmd-id", id, "--json", "maintenance", "padang-01", "off")
		again := e.ctl("--cmd-id", id, "--json", "maintenance", "padang-01", "on")
		if first.code != 0 || again.stdout != first.stdout {
			t.Errorf("repeated --cmd-id: %+v then %+v, want the same reply", first, again)
		}
		st = e.ctl("--json", "status", "padang-01")
		if strings.Contains(st.stdout, `"mode": "maintenance"`) {
			t.Errorf("a repeated --cmd-id ran again:\n%s", st.stdout)
		}
	})

	t.Run("diag", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "padang-01-diag.json")
		r := e.ctl("diag", "padang-01", "--out", out)
		if r.code != 0 {
			t.Fatalf("diag = %+v", r)
		}
		golden(t, "diag.golden", strings.ReplaceAll(r.stdout, out, "<out>"))
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var bundle struct {
			Version string       `json:"version"`
			Status  kiosk.Status `json:"status"`
			Log     []string     `json:"log"`
		}
		if err := json.Unmarshal(b, &bundle); err != nil || bundle.Version != kiosk.Version || bundle.Status.Kiosk != "padang-01" {
			t.Errorf("bundle: %v, %+v", err, bundle)
		}
		if fi, _ := os.Stat(out); fi == nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("bundle file mode: %v", fi)
		}
		// Without --out the bundle is the output.
		r = e.ctl("diag", "padang-01")
		if r.code != 0 || !json.Valid([]byte(r.stdout)) || !strings.Contains(r.stdout, `"version"`) {
			t.Errorf("diag to stdout: exit %d, %.200s", r.code, r.stdout)
		}
	})

	t.Run("print-test without a printer", func(t *testing.T) {
		r := e.ctl("print-test", "padang-01")
		if r.code != exitRejected || !strings.Contains(r.stdout, "no printer configured") {
			t.Fatalf("print-test = %+v, want rejected, exit 4", r)
		}
		golden(t, "print-test.golden", r.stdout)
	})

	t.Run("offline", func(t *testing.T) {
		r := e.ctlAt(12*time.Second, "status", "padang-02")
		if r.code != exitOffline || r.stdout != "" ||
			!strings.Contains(r.stderr, "kiosk padang-02 is offline (no responders): it is not connected to the hub") {
			t.Fatalf("status of an offline kiosk = %+v, want exit 3 and the message", r)
		}
		golden(t, "offline.golden", r.stderr)
		r = e.ctl("restart", "padang-09", "--level", "host")
		if r.code != exitOffline || !strings.Contains(r.stderr, "kiosk padang-09 is offline (no responders): it is not connected to the hub") ||
			!strings.Contains(r.stderr, "never heard of a kiosk padang-09") {
			t.Fatalf("restart of an unknown kiosk = %+v", r)
		}
	})

	t.Run("expired", func(t *testing.T) {
		r := e.ctl("restart", "padang-01", "--level", "ui-reload", "--expires", "1ns")
		if r.code != exitRejected || !strings.Contains(r.stdout, "rejected") || !strings.Contains(r.stdout, "expired at") {
			t.Fatalf("expired command = %+v, want rejected, exit 4", r)
		}
		golden(t, "expired.golden", r.stdout)
	})

	t.Run("environment", func(t *testing.T) {
		env := map[string]string{"KIOSKCTL_NATS": e.hub.NATSURL(), "KIOSKCTL_CREDS": e.opCreds}
		var out, errb bytes.Buffer
		code := e.cli(0).run(t.Context(), []string{"status", "padang-01", "--json"}, &out, &errb, func(k string) string { return env[k] })
		if code != 0 || !strings.Contains(out.String(), `"kiosk": "padang-01"`) {
			t.Errorf("with KIOSKCTL_NATS and KIOSKCTL_CREDS: exit %d, %s%s", code, out.String(), errb.String())
		}
		// Without credentials the hub refuses, and kioskctl says what to do.
		env = map[string]string{"KIOSKCTL_NATS": e.hub.NATSURL()}
		out.Reset()
		errb.Reset()
		code = e.cli(0).run(t.Context(), []string{"ls"}, &out, &errb, func(k string) string { return env[k] })
		if code != exitError || !strings.Contains(errb.String(), "give --creds FILE") {
			t.Errorf("without creds: exit %d, %s", code, errb.String())
		}
	})
}

// TestUsageErrors: bad commands, ids and flags exit 2 with a one-line
// message and the usage, before anything is sent (the NATS URL leads
// nowhere: a connect attempt would exit 1).
func TestUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{nil, "no command given"},
		{[]string{"reboot-now", "padang-01"}, `unknown command "reboot-now"`},
		{[]string{"--bogus", "ls"}, "flag provided but not defined: -bogus"},
		{[]string{"ls", "padang-01"}, "ls takes no arguments"},
		{[]string{"ls", "--office", "Padang Kota"}, `office "Padang Kota" is invalid`},
		{[]string{"status"}, "status needs a kiosk id"},
		{[]string{"status", "Padang_01"}, `kiosk id "Padang_01" is invalid`},
		{[]string{"status", "padang-01", "extra"}, `unexpected argument "extra"`},
		{[]string{"restart", "padang-01"}, "restart needs --level"},
		{[]string{"restart", "padang-01", "--level", "everything"}, `--level "everything"`},
		{[]string{"restart", "padang-01", "--level", "ui", "--wait-timeout", "1m"}, "--wait-timeout goes with --wait"},
		{[]string{"restart", "padang-01", "--level", "ui", "--force=maybe"}, "invalid boolean value"},
		{[]string{"maintenance", "padang-01"}, "maintenance needs on or off"},
		{[]string{"maintenance", "padang-01", "maybe"}, `"maybe": want on or off`},
		{[]string{"maintenance", "padang-01", "off", "--message", "x"}, "--message goes with maintenance on"},
		{[]string{"maintenance", "padang-01", "on", "--message", "line\nbreak"}, "no control characters"},
		{[]string{"diag", "padang-01", "--level", "ui"}, "flag provided but not defined: -level"},
		{[]string{"--timeout", "0s", "status", "padang-01"}, "--timeout 0s"},
		{[]string{"status", "padang-01", "--expires", "-1m"}, "--expires -1m0s"},
		{[]string{"--tz", "Mars/Olympus", "ls"}, `--tz "Mars/Olympus"`},
		{[]string{"--creds", "/nonexistent/op.creds", "ls"}, "--creds: stat /nonexistent/op.creds"},
		{[]string{"--cmd-id", "has space", "status", "padang-01"}, `--cmd-id "has space"`},
		{[]string{"--nats", "", "ls"}, "--nats is empty"},
	} {
		var out, errb bytes.Buffer
		code := run(t.Context(), append([]string{"--nats", "nats://127.0.0.1:1"}, tt.args...), &out, &errb, noEnv)
		first, rest, _ := strings.Cut(errb.String(), "\n")
		if code != exitUsage || !strings.HasPrefix(first, "kioskctl: ") || !strings.Contains(first, tt.msg) ||
			!strings.HasPrefix(rest, "usage: kioskctl") || out.Len() != 0 {
			t.Errorf("kioskctl %q: exit %d, stderr %q; want 2, a line with %q, then the usage", tt.args, code, errb.String(), tt.msg)
		}
	}
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"--help"}, &out, &errb, noEnv); code != 0 || !strings.HasPrefix(out.String(), "usage: kioskctl") {
		t.Errorf("--help: exit %d, %q", code, out.String())
	}
	golden(t, "usage.golden", out.String())
}

// TestNoHub: a hub that cannot be reached is an error (exit 1), said so.
func TestNoHub(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(t.Context(), []string{"--nats", "nats://127.0.0.1:1", "ls"}, &out, &errb, noEnv)
	if code != exitError || !strings.Contains(errb.String(), "cannot connect to nats://127.0.0.1:1") {
		t.Errorf("ls without a hub: exit %d, %q", code, errb.String())
	}
}

// TestCredsName: Kiosk-Requested-By defaults to the name in the .creds.
func TestCredsName(t *testing.T) {
	e := &fleetEnv{t: t, clk: kiosktest.NewClock(time.Now()), dir: t.TempDir()}
	e.startHub()
	if got := credsName(e.opCreds); got != "budi" {
		t.Errorf("credsName(operator budi) = %q", got)
	}
	if got := credsName(filepath.Join(t.TempDir(), "missing.creds")); got != "" {
		t.Errorf("credsName(missing) = %q", got)
	}
	c := &cli{now: time.Now, env: func(k string) string { return map[string]string{"USER": "siti"}[k] }}
	c.o = options{nats: defaultNATS, timeout: time.Second, expires: time.Minute, creds: e.opCreds}
	if err := c.checkGlobal(); err != nil || c.o.as != "budi" {
		t.Errorf("--as from creds = %q, %v", c.o.as, err)
	}
	c.o.as, c.o.creds = "", ""
	if err := c.checkGlobal(); err != nil || c.o.as != "siti" {
		t.Errorf("--as from $USER = %q, %v", c.o.as, err)
	}
}

// TestRestartWaitAcrossRestarts: restart --wait follows accepted
// restarts through the agent's own restart: "agent" until its
// command.result, "host" until the next lifecycle.boot carries the cmd id.
func TestRestartWaitAcrossRestarts(t *testing.T) {
	// "true" stands in for systemctl reboot; the test restarts the agent
	// as the rebooted PC would.
	e := newFleetEnv(t, func(a *agent.Config) { a.HostRestart = []string{"true"} })
	ready := func() {
		eventually(t, 10*time.Second, "the agent's command service", func() bool { return e.ctl("status", "padang-01").code == 0 })
	}
	ready()

	t.Run("agent", func(t *testing.T) {
		var out, errb kiosktest.Buffer
		done := make(chan int, 1)
		go func() {
			done <- e.cli(0).run(t.Context(), e.args("restart", "padang-01", "--level", "agent", "--wait"), &out, &errb, noEnv)
		}()
		select {
		case <-e.agent.exited:
		case <-time.After(15 * time.Second):
			t.Fatalf("the agent did not stop for restart agent: %s%s", out.String(), errb.String())
		}
		if !errors.Is(e.agent.err, agent.ErrRestart) {
			t.Fatalf("agent Run() = %v, want agent.ErrRestart (exit code 3)", e.agent.err)
		}
		e.agent.stop()
		e.agent = e.startAgent() // systemd starts kioskd again
		select {
		case code := <-done:
			if code != 0 || !strings.Contains(out.String(), "outcome    accepted") {
				t.Fatalf("restart agent --wait: exit %d\n%s%s", code, out.String(), errb.String())
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("restart agent --wait did not end: %s%s", out.String(), errb.String())
		}
		golden(t, "restart-agent-wait.golden", out.String())
		ready()
	})

	t.Run("host", func(t *testing.T) {
		var out, errb kiosktest.Buffer
		done := make(chan int, 1)
		go func() {
			done <- e.cli(0).run(t.Context(), e.args("--json", "restart", "padang-01", "--level", "host", "--wait"), &out, &errb, noEnv)
		}()
		eventually(t, 10*time.Second, "restart host accepted", func() bool { return strings.Contains(errb.String(), "waiting for the result") })
		// The kiosk handles one command at a time: once status answers,
		// the "reboot" ran and its mark is stored.
		if r := e.ctl("status", "padang-01"); r.code != 0 {
			t.Fatalf("status after restart host: %+v", r)
		}
		select {
		case code := <-done:
			t.Fatalf("restart host --wait ended before the reboot: exit %d\n%s%s", code, out.String(), errb.String())
		default:
		}
		e.agent.stop()
		e.agent = e.startAgent() // the PC is back
		select {
		case code := <-done:
			var rr replyResult
			if err := json.Unmarshal([]byte(out.String()), &rr); err != nil || code != 0 || rr.Outcome != "accepted" ||
				rr.Result == nil || rr.Result.Outcome != "done" {
				t.Fatalf("restart host --wait: exit %d, %v\n%s%s", code, err, out.String(), errb.String())
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("restart host --wait did not end: %s%s", out.String(), errb.String())
		}
		golden(t, "restart-host-wait.json.golden", out.String())
	})
}

// TestRestartWaitExpired: a restart deferred by a session that outlasts
// it is reported expired (exit 4); --wait-timeout bounds the wait (exit 1).
// The agent and kioskctl run on real time here, so the command expires.
func TestRestartWaitExpired(t *testing.T) {
	e := newFleetEnv(t, func(a *agent.Config) { a.Now = nil })
	e.session("POST")
	ctl := func(args ...string) result {
		var out, errb bytes.Buffer
		code := (&cli{now: time.Now}).run(t.Context(), e.args(args...), &out, &errb, noEnv)
		return result{code, out.String(), errb.String()}
	}
	eventually(t, 10*time.Second, "the agent's command service", func() bool { return ctl("status", "padang-01").code == 0 })

	r := ctl("restart", "padang-01", "--level", "ui-reload", "--wait", "--wait-timeout", "300ms")
	if r.code != exitError || !strings.Contains(r.stdout, "deferred") || !strings.Contains(r.stderr, "timeout: no result of cmd") {
		t.Errorf("--wait-timeout 300ms during a session = %+v, want exit 1 and a timeout", r)
	}
	r = ctl("restart", "padang-01", "--level", "ui-reload", "--wait", "--expires", "2s")
	if r.code != exitRejected || !strings.Contains(r.stdout, "result     expired: the kiosk was not idle before the command expired") {
		t.Errorf("a deferred restart that expires = %+v, want the result expired, exit 4", r)
	}
}
