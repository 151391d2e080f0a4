package agent_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
	"github.com/sumbar-samsat/pkbkiosk/printer/printersim"
	"github.com/sumbar-samsat/pkbkiosk/sync/lookup/sample"
)

// cmd sends a command to the env's kiosk as an operator would; hdr holds
// extra headers (Kiosk-Cmd-Id etc.).
func (e *env) cmd(verb string, body any, hdr map[string]string) (kiosk.CommandReply, []byte, error) {
	e.t.Helper()
	nc, err := nats.Connect(e.hub.NATSURL())
	if err != nil {
		e.t.Fatal(err)
	}
	defer nc.Close()
	m := nats.NewMsg(kiosk.CommandSubject(e.agentCfg.ID, verb))
	for k, v := range hdr {
		m.Header.Set(k, v)
	}
	if body != nil {
		if s, ok := body.(string); ok {
			m.Data = []byte(s)
		} else {
			m.Data, _ = json.Marshal(body)
		}
	}
	// A freshly (re)started agent subscribes its service once connected.
	r, err := nc.RequestMsg(m, 100*time.Second)
	for deadline := time.Now().Add(5 * time.Second); errors.Is(err, nats.ErrNoResponders) && slices.Contains(kiosk.Verbs, verb) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		r, err = nc.RequestMsg(m, 100*time.Second)
	}
	if err != nil {
		return kiosk.CommandReply{}, nil, err
	}
	var rep kiosk.CommandReply
	if err := json.Unmarshal(r.Data, &rep); err != nil {
		e.t.Fatalf("reply %s: %v", r.Data, err)
	}
	return rep, r.Data, nil
}

func (e *env) mustCmd(verb string, body any, hdr map[string]string) kiosk.CommandReply {
	e.t.Helper()
	rep, _, err := e.cmd(verb, body, hdr)
	if err != nil {
		e.t.Fatalf("%s: %v", verb, err)
	}
	return rep
}

// waitResult waits for the command.result event of id in KIOSK_EVENTS.
func (e *env) waitResult(id string, within time.Duration) kiosk.CommandResult {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		for _, ev := range e.streamEvents() {
			if ev.Type != kiosk.EventCommand {
				continue
			}
			var r kiosk.CommandResult
			json.Unmarshal(ev.Data, &r)
			if r.CmdID == id {
				return r
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no command.result for %s within %v", id, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func id(s string) map[string]string {
	return map[string]string{kiosk.HeaderCmdID: s, kiosk.HeaderRequestedBy: "budi"}
}

// TestCommandBasics: status, maintenance, idempotency by Kiosk-Cmd-Id (a
// repeat returns the first reply and runs nothing), expiry, malformed
// bodies, unknown verbs (no responders) and the service's metadata.
func TestCommandBasics(t *testing.T) {
	e := newEnv(t, func(_ *hubserver.Config, a *agent.Config) { a.Now = nil })
	rep := e.mustCmd("status", nil, id("c-status"))
	if rep.Outcome != "done" || rep.CmdID != "c-status" || rep.Status == nil || rep.Status.Kiosk != "padang-01" {
		t.Fatalf("status = %+v", rep)
	}

	on := e.mustCmd("maintenance", kiosk.MaintenanceRequest{On: true, Message: "Printer diganti"}, id("c-m1"))
	if on.Outcome != "done" {
		t.Fatalf("maintenance on = %+v", on)
	}
	var st kiosk.Status
	e.get("/api/status", &st)
	if st.Mode != "maintenance" {
		t.Fatalf("mode after maintenance on = %s", st.Mode)
	}
	// The same id again, even with another body: the first reply, and
	// nothing runs (the kiosk stays in maintenance).
	_, raw1, _ := e.cmd("maintenance", kiosk.MaintenanceRequest{On: true, Message: "Printer diganti"}, id("c-m1"))
	_, raw2, _ := e.cmd("maintenance", kiosk.MaintenanceRequest{On: false}, id("c-m1"))
	if string(raw1) != string(raw2) {
		t.Errorf("repeat replies differ: %s / %s", raw1, raw2)
	}
	e.get("/api/status", &st)
	if st.Mode != "maintenance" {
		t.Errorf("a replayed command id ran again: mode %s", st.Mode)
	}
	// Also after an agent restart.
	e2 := e.restartAgent()
	if _, raw3, _ := e2.cmd("maintenance", kiosk.MaintenanceRequest{On: false}, id("c-m1")); string(raw3) != string(raw1) {
		t.Errorf("after a restart the repeat got %s, want the first reply %s", raw3, raw1)
	}
	if rep := e2.mustCmd("maintenance", kiosk.MaintenanceRequest{On: false}, id("c-m2")); rep.Outcome != "done" {
		t.Errorf("maintenance off = %+v", rep)
	}

	past := map[string]string{kiosk.HeaderCmdID: "c-old", kiosk.HeaderCmdExpires: time.Now().Add(-time.Minute).Format(time.RFC3339)}
	if rep := e2.mustCmd("restart", kiosk.RestartRequest{Level: "ui-reload"}, past); rep.Outcome != "rejected" || !strings.Contains(rep.Reason, "expired") {
		t.Errorf("expired command = %+v, want rejected as expired", rep)
	}
	bad := map[string]string{kiosk.HeaderCmdExpires: "tomorrow"}
	if rep := e2.mustCmd("status", nil, bad); rep.Outcome != "rejected" || !strings.Contains(rep.Reason, "RFC 3339") {
		t.Errorf("bad expiry = %+v", rep)
	}
	for _, body := range []string{`{"level":"everything"}`, `{"level":"ui","extra":1}`, `not json`, ``} {
		if rep := e2.mustCmd("restart", body, nil); rep.Outcome != "rejected" || rep.CmdID == "" {
			t.Errorf("restart %q = %+v, want rejected with a made-up cmd_id", body, rep)
		}
	}
	if rep := e2.mustCmd("maintenance", `{"on":"yes"}`, nil); rep.Outcome != "rejected" {
		t.Errorf("maintenance with a bad body = %+v", rep)
	}
	if _, _, err := e2.cmd("reboot-now", nil, nil); !errors.Is(err, nats.ErrNoResponders) {
		t.Errorf("unknown verb: %v, want no responders", err)
	}

	nc, _ := nats.Connect(e.hub.NATSURL())
	defer nc.Close()
	m, err := nc.Request("$SRV.INFO.kiosk", nil, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Name      string            `json:"name"`
		Metadata  map[string]string `json:"metadata"`
		Endpoints []struct {
			Subject string `json:"subject"`
		} `json:"endpoints"`
	}
	json.Unmarshal(m.Data, &info)
	if info.Name != "kiosk" || info.Metadata["id"] != "padang-01" || info.Metadata["office"] != "padang" || info.Metadata["version"] != kiosk.Version || len(info.Endpoints) != 5 {
		t.Errorf("service info = %s", m.Data)
	}
}

// TestRestartDeferredDuringSession: a restart during a taxpayer's session
// is deferred and runs once the session ends (command.result done); force
// runs it at once; a deferred one that the session outlasts expires.
func TestRestartDeferredDuringSession(t *testing.T) {
	e := newEnv(t, func(_ *hubserver.Config, a *agent.Config) {
		a.Now, a.CommandCheck = nil, 100*time.Millisecond
	})
	startSession := func() {
		if code, _, _ := e.post("/api/session", map[string]string{}, 5*time.Second); code != 200 {
			t.Fatalf("POST /api/session: %d", code)
		}
	}
	startSession()
	rep := e.mustCmd("restart", kiosk.RestartRequest{Level: "ui-reload", Reason: "new pages"}, id("c-d1"))
	if rep.Outcome != "deferred" || !strings.Contains(rep.Reason, "session") {
		t.Fatalf("restart during a session = %+v, want deferred", rep)
	}
	time.Sleep(500 * time.Millisecond) // several checks while busy: nothing runs
	for _, ev := range e.streamEvents() {
		if ev.Type == kiosk.EventCommand {
			t.Fatalf("command.result while the session is open: %s", ev.Data)
		}
	}
	if req, err := http.NewRequest("DELETE", e.base+"/api/session", nil); err == nil {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	if r := e.waitResult("c-d1", 5*time.Second); r.Outcome != "done" || r.Verb != "restart" || r.RequestedBy != "budi" {
		t.Errorf("result = %+v, want done, restart, by budi", r)
	}

	startSession()
	if rep := e.mustCmd("restart", kiosk.RestartRequest{Level: "ui-reload", Force: true}, id("c-f1")); rep.Outcome != "done" {
		t.Errorf("forced restart during a session = %+v, want done", rep)
	}
	short := id("c-x1")
	short[kiosk.HeaderCmdExpires] = time.Now().Add(800 * time.Millisecond).Format(time.RFC3339Nano)
	if rep := e.mustCmd("restart", kiosk.RestartRequest{Level: "ui-reload"}, short); rep.Outcome != "deferred" {
		t.Fatalf("second deferred restart = %+v", rep)
	}
	if r := e.waitResult("c-x1", 5*time.Second); r.Outcome != "expired" {
		t.Errorf("result of a restart the session outlasted = %+v, want expired", r)
	}
}

// TestRestartAgentAndHost: restart agent stops Run with ErrRestart after
// an orderly stop (lifecycle.shutdown reason command), and the next boot
// carries the command id; restart host runs the configured command once,
// and the boot after it carries the id with command.result done.
func TestRestartAgentAndHost(t *testing.T) {
	dir := t.TempDir()
	ran := filepath.Join(dir, "ran")
	script := filepath.Join(dir, "reboot")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"$@\" >> "+ran+"\n"), 0o755)
	e := newEnv(t, func(_ *hubserver.Config, a *agent.Config) {
		a.Now, a.HostRestart = nil, []string{script, "--now"}
	})
	done := make(chan error, 1)
	e2 := e.restartAgentWith(func(err error) { done <- err })
	if rep := e2.mustCmd("restart", kiosk.RestartRequest{Level: "agent"}, id("c-a1")); rep.Outcome != "accepted" {
		t.Fatalf("restart agent = %+v, want accepted", rep)
	}
	select {
	case err := <-done:
		if !errors.Is(err, agent.ErrRestart) {
			t.Fatalf("Run() = %v, want ErrRestart", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after restart agent")
	}
	e3 := e2.restartAgent()
	if r := e3.waitResult("c-a1", 5*time.Second); r.Outcome != "done" {
		t.Errorf("result of restart agent = %+v", r)
	}
	var shutdownReason string
	var bootCmd string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		for _, ev := range e3.streamEvents() {
			var d map[string]any
			json.Unmarshal(ev.Data, &d)
			switch ev.Type {
			case kiosk.EventShutdown:
				shutdownReason, _ = d["reason"].(string)
			case kiosk.EventBoot:
				if c, _ := d["cmd_id"].(string); c != "" {
					bootCmd = c
				}
			}
		}
		if shutdownReason == "command" && bootCmd == "c-a1" || time.Now().After(deadline) {
			break
		}
	}
	if shutdownReason != "command" || bootCmd != "c-a1" {
		t.Errorf("shutdown reason %q, boot cmd_id %q; want command, c-a1", shutdownReason, bootCmd)
	}

	if rep := e3.mustCmd("restart", kiosk.RestartRequest{Level: "host", Reason: "kernel update"}, id("c-h1")); rep.Outcome != "accepted" {
		t.Fatalf("restart host = %+v", rep)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(ran)
		if string(b) == "--now\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("host restart command ran: %q, want once with --now", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The repeat of the id does not reboot twice.
	e3.mustCmd("restart", kiosk.RestartRequest{Level: "host"}, id("c-h1"))
	e4 := e3.restartAgent() // "after the reboot"
	if r := e4.waitResult("c-h1", 5*time.Second); r.Outcome != "done" || r.Detail != "host rebooted" {
		t.Errorf("result of restart host = %+v", r)
	}
	if b, _ := os.ReadFile(ran); string(b) != "--now\n" {
		t.Errorf("host restart command ran %q, want exactly once", b)
	}
}

// TestPrintTestAndDiag: print-test prints a test page on the real
// (simulated) printer and replies done, refuses without paper; diag
// returns a bounded bundle with the last log lines and no plate.
func TestPrintTestAndDiag(t *testing.T) {
	e := newSimEnv(t, "serial")
	if rep := e.mustCmd("print-test", nil, id("c-p1")); rep.Outcome != "done" {
		t.Fatalf("print-test = %+v", rep)
	}
	if out := e.sim.Output(); !strings.Contains(out, "TES CETAK") || !strings.Contains(out, "padang-01") {
		t.Errorf("printed %q, want the test page", out)
	}
	e.sim.SetState(printersim.State{Paper: "out"})
	e.waitFault("printer.paper_out", true)
	if rep := e.mustCmd("print-test", nil, nil); rep.Outcome != "rejected" || !strings.Contains(rep.Reason, "paper out") {
		t.Errorf("print-test without paper = %+v", rep)
	}

	v := e.sample(sample.Paid)
	e.lookup(v.Plate, v.Rangka5)
	rep, raw, err := e.cmd("diag", nil, id("c-g1"))
	if err != nil || rep.Outcome != "done" {
		t.Fatalf("diag = %+v %v", rep, err)
	}
	if len(raw) > 256<<10 {
		t.Errorf("diag reply %d bytes, want <= 256 KB", len(raw))
	}
	var d struct {
		Version string            `json:"version"`
		Config  map[string]string `json:"config"`
		Log     []string          `json:"log"`
	}
	json.Unmarshal(rep.Diag, &d)
	if d.Version != kiosk.Version || d.Config["ID"] != "padang-01" || len(d.Log) == 0 {
		t.Errorf("diag bundle: version %q, config id %q, %d log lines", d.Version, d.Config["ID"], len(d.Log))
	}
	if strings.Contains(string(raw), v.Plate) || strings.Contains(string(raw), strings.ReplaceAll(v.Plate, " ", "")) || strings.Contains(string(raw), v.Rangka5) {
		t.Error("diag bundle contains the looked-up plate or rangka5")
	}
}

// TestRestartUIReplacesKioskui: restart ui replaces the running kioskui
// (a new process), without counting it as a crash.
func TestRestartUIReplacesKioskui(t *testing.T) {
	ui := filepath.Join(t.TempDir(), "kioskui")
	os.WriteFile(ui, []byte("#!/bin/sh\nexec sleep 600\n"), 0o755)
	e := newEnv(t, func(_ *hubserver.Config, a *agent.Config) {
		a.Now, a.UI, a.KioskUI, a.Display = nil, "auto", ui, ":99"
	})
	pid := func() int {
		st, err := e.agent.Stats(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return st.UIPid
	}
	waitPid := func(not int) int {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if p := pid(); p != 0 && p != not {
				return p
			}
			if time.Now().After(deadline) {
				t.Fatalf("kioskui pid stayed %d", pid())
			}
		}
	}
	first := waitPid(0)
	if rep := e.mustCmd("restart", kiosk.RestartRequest{Level: "ui"}, id("c-u1")); rep.Outcome != "accepted" {
		t.Fatalf("restart ui = %+v", rep)
	}
	second := waitPid(first)
	if r := e.waitResult("c-u1", 5*time.Second); r.Outcome != "done" {
		t.Errorf("result = %+v", r)
	}
	for _, f := range e.faults() {
		if f == "ui.crashed" {
			t.Errorf("a requested restart raised ui.crashed")
		}
	}
	t.Logf("kioskui pid %d replaced by %d", first, second)
}
