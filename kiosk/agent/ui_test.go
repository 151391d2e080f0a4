package agent_test

import (
	"os"
	"os/exec"
	"path/filepath"
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
	// A crash of the window: kioskd notices and starts another one.
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitUI(pid)
}
