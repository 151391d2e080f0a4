package agent_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
)

// fakeSystemctl writes a stand-in for systemctl that appends its
// arguments, one call per line, to the returned log file.
func fakeSystemctl(t *testing.T) (bin, log string) {
	t.Helper()
	dir := t.TempDir()
	bin, log = filepath.Join(dir, "systemctl"), filepath.Join(dir, "calls")
	script := "#!/bin/sh\necho \"$*\" >> '" + log + "'\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, log
}

// ping is the page's POST /api/ui/ping.
func (e *env) ping() {
	e.t.Helper()
	resp, err := http.Post(e.base+"/api/ui/ping", "application/json", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		e.t.Fatalf("POST /api/ui/ping = %d, want 204", resp.StatusCode)
	}
}

// calls returns the recorded systemctl calls, one argument string each.
func calls(log string) []string {
	b, _ := os.ReadFile(log)
	if len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// TestUISupervisorSystemd: with --ui-supervisor systemd kioskd needs no
// display and starts no kioskui; while the page pings nothing happens;
// when the pings stop for UIUnresponsive it raises ui.unresponsive and
// runs exactly "systemctl --no-ask-password restart kioskui.service", at
// most once per UIUnresponsive; a ping clears the fault.
func TestUISupervisorSystemd(t *testing.T) {
	systemctl, log := fakeSystemctl(t)
	spawned := filepath.Join(t.TempDir(), "spawned")
	kioskui := filepath.Join(t.TempDir(), "kioskui")
	os.WriteFile(kioskui, []byte("#!/bin/sh\ntouch '"+spawned+"'\nexec sleep 600\n"), 0o755)
	e := newEnv(t, func(_ *hubserver.Config, a *agent.Config) {
		a.UI, a.UISupervisor, a.UIUnit = "auto", "systemd", "kioskui.service"
		a.SystemctlCommand = []string{systemctl, "--no-ask-password"}
		a.KioskUI, a.Display, a.Now = kioskui, ":99", nil // a display, to show it is not used
		a.UIUnresponsive = 2 * time.Second
	})

	// A page that pings: no restart.
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		e.ping()
	}
	if c := calls(log); len(c) != 0 {
		t.Errorf("systemctl called while the page pings: %q", c)
	}
	var st struct {
		UI struct {
			Running bool `json:"running"`
		} `json:"ui"`
	}
	e.get("/api/status", &st)
	if !st.UI.Running {
		t.Error("ui.running = false while the unit is supervised and its page pings")
	}

	// The page goes quiet.
	e.waitFault("ui.unresponsive", true)
	var first time.Time
	for deadline := time.Now().Add(10 * time.Second); len(calls(log)) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the UI unit was not restarted after the page stopped pinging")
		}
	}
	first = time.Now()
	for deadline := time.Now().Add(10 * time.Second); len(calls(log)) < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no second restart while the page stays quiet")
		}
	}
	if gap := time.Since(first); gap < 1500*time.Millisecond {
		t.Errorf("second restart %v after the first, want about UIUnresponsive (2s)", gap)
	}
	for _, c := range calls(log) {
		if c != "--no-ask-password restart kioskui.service" {
			t.Errorf("systemctl called with %q, want --no-ask-password restart kioskui.service", c)
		}
	}

	e.ping()
	e.waitFault("ui.unresponsive", false)
	if _, err := os.Stat(spawned); err == nil {
		t.Error("kioskd started kioskui itself in the systemd mode")
	}
	if s, _ := e.agent.Stats(t.Context()); s.UIPid != 0 {
		t.Errorf("Stats().UIPid = %d in the systemd mode, want 0", s.UIPid)
	}
}

// TestUISupervisorConfig: the mode and the unit name are checked; a unit
// name never carries anything but one service unit to systemctl.
func TestUISupervisorConfig(t *testing.T) {
	for _, tt := range []struct {
		mode, unit string
		ok         bool
	}{
		{"child", "kioskui.service", true},
		{"systemd", "kioskui.service", true},
		{"systemd", "cage@tty1.service", true},
		{"", "", true},
		{"launchd", "kioskui.service", false},
		{"systemd", "kioskd.service --now", false},
		{"systemd", "-H evil kioskui.service", false},
		{"systemd", "kiosk*.service", false},
		{"systemd", "kioskui.socket", false},
	} {
		cfg := agent.DefaultConfig()
		cfg.ID, cfg.Office, cfg.Data, cfg.NATS = "padang-01", "padang", t.TempDir(), "nats://127.0.0.1:1"
		cfg.HTTP, cfg.UISupervisor, cfg.UIUnit = "127.0.0.1:0", tt.mode, tt.unit
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		a, err := agent.New(ctx, cfg)
		cancel()
		if a != nil {
			a.Close()
		}
		if bad := errors.Is(err, agent.ErrConfig); bad == tt.ok {
			t.Errorf("New(ui-supervisor %q, ui-unit %q) = %v; want config ok %v", tt.mode, tt.unit, err, tt.ok)
		}
	}
}
