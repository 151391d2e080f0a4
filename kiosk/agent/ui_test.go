package agent_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
)

// TestKioskUISupervised runs the real kioskui (WebKit) under the display of
// the test (make test runs under xvfb-run): kioskd starts it, its page
// pings the agent, and when it dies kioskd starts a new one.
func TestKioskUISupervised(t *testing.T) {
	display := os.Getenv("DISPLAY")
	if display == "" {
		t.Skip("no display: run under xvfb-run (make test does)")
	}
	bin := filepath.Join(t.TempDir(), "kioskui")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/kioskui").CombinedOutput(); err != nil {
		t.Fatalf("build kioskui: %v\n%s", err, out)
	}
	e := newEnv(t, func(h *hubserver.Config, a *agent.Config) {
		a.UI, a.KioskUI, a.Display, a.Now = "auto", bin, display, nil
	})

	// waitUI waits for a running kioskui other than old whose page pinged.
	waitUI := func(old int) int {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			var st struct {
				UI struct {
					Running   bool   `json:"running"`
					LastPingS *int64 `json:"last_ping_s"`
				} `json:"ui"`
			}
			e.get("/api/status", &st)
			s, _ := e.agent.Stats(t.Context())
			if st.UI.Running && st.UI.LastPingS != nil && *st.UI.LastPingS <= 1 && s.UIPid != 0 && s.UIPid != old {
				return s.UIPid
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("no running kioskui (other than pid %d) whose page pings", old)
		return 0
	}
	pid := waitUI(0)
	if f := e.faults(); len(f) != 0 {
		t.Errorf("faults with a working window = %v, want none", f)
	}
	// A crash of the window: kioskd notices, raises ui.crashed and starts
	// another one; its first ping clears the fault.
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e.waitFault("ui.crashed", true)
	waitUI(pid)
	e.waitFault("ui.crashed", false)
}

// TestHungKioskUIRestarted: a window that runs but whose page never pings
// (a hung WebKit) is restarted after UIUnresponsive, with ui.unresponsive
// in the status meanwhile. The stand-in kioskui is a process that never
// loads any page.
func TestHungKioskUIRestarted(t *testing.T) {
	hung := filepath.Join(t.TempDir(), "kioskui")
	if err := os.WriteFile(hung, []byte("#!/bin/sh\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(h *hubserver.Config, a *agent.Config) {
		a.UI, a.KioskUI, a.Display, a.Now = "auto", hung, ":99", nil
		a.UIUnresponsive = 2 * time.Second
	})
	var first int
	deadline := time.Now().Add(10 * time.Second)
	for first == 0 && time.Now().Before(deadline) {
		s, _ := e.agent.Stats(t.Context())
		first = s.UIPid
		time.Sleep(20 * time.Millisecond)
	}
	if first == 0 {
		t.Fatal("kioskui never started")
	}
	e.waitFault("ui.unresponsive", true)
	deadline = time.Now().Add(15 * time.Second)
	for {
		s, _ := e.agent.Stats(t.Context())
		if s.UIPid != 0 && s.UIPid != first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the hung kioskui was not replaced")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := syscall.Kill(first, 0); err == nil {
		t.Errorf("the hung kioskui (pid %d) is still running", first)
	}
}

func (e *env) faults() []string {
	var st struct {
		Faults []string `json:"faults"`
	}
	e.get("/api/status", &st)
	return st.Faults
}

// waitFault waits until code is (or is no longer) among the status faults.
func (e *env) waitFault(code string, present bool) {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if slices.Contains(e.faults(), code) == present {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("fault %s present=%v never happened (faults %v)", code, present, e.faults())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
