package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/kiosktest"
)

// TestBinaryExitCodes builds kioskctl and checks its exit codes as a
// shell sees them: 3 for a kiosk that is not connected (a real hub, no
// agent), 2 for a usage error, 1 when the hub cannot be reached.
func TestBinaryExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "kioskctl")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	e := &fleetEnv{t: t, clk: kiosktest.NewClock(time.Now()), dir: t.TempDir()}
	e.startHub()

	for _, tt := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{e.args("status", "padang-01"), exitOffline, "kioskctl: kiosk padang-01 is offline (no responders): it is not connected to the hub\n"},
		{e.args("restart", "padang-01", "--level", "reboot"), exitUsage, `kioskctl: restart: --level "reboot": want ui-reload, ui, agent or host`},
		{[]string{"frobnicate"}, exitUsage, `kioskctl: unknown command "frobnicate"`},
		{[]string{"--nats", "nats://127.0.0.1:1", "ls"}, exitError, "kioskctl: cannot connect to nats://127.0.0.1:1"},
	} {
		cmd := exec.Command(bin, tt.args...)
		cmd.Env = []string{"NO_COLOR=1"} // and no KIOSKCTL_*
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tt.code || !strings.Contains(stderr.String(), tt.stderr) {
			t.Errorf("kioskctl %q: exit %d, stderr %q; want %d with %q", tt.args, code, stderr.String(), tt.code, tt.stderr)
		}
	}
}
