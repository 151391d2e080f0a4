package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestNotifySystemd runs the real kioskd as systemd runs a Type=notify unit
// with WatchdogSec=2: NOTIFY_SOCKET and WATCHDOG_USEC in its environment.
// It says READY=1 once, WATCHDOG=1 about every second, and on SIGTERM
// STOPPING=1, then exits 0.
func TestNotifySystemd(t *testing.T) {
	dir := t.TempDir()
	bin := buildKioskd(t)
	hub := startHub(t)

	sock := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var mu sync.Mutex
	var lines []string
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			mu.Lock()
			lines = append(lines, strings.Split(string(buf[:n]), "\n")...)
			mu.Unlock()
		}
	}()
	got := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(lines) }
	count := func(line string) int {
		n := 0
		for _, l := range got() {
			if l == line {
				n++
			}
		}
		return n
	}

	cmd := exec.Command(bin, "--id", "padang-01", "--office", "padang", "--data", filepath.Join(dir, "data"),
		"--nats", hub.NATSURL(), "--http", "127.0.0.1:0", "--ui", "off", "--heartbeat", "1s")
	// As systemd sets it; WATCHDOG_PID is left out: systemd sets it to the
	// main PID, which is not known before the start.
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=2000000")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	for deadline := time.Now().Add(20 * time.Second); count("WATCHDOG=1") < 3; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("kioskd sent %q in 20 s, want READY=1 and 3 WATCHDOG=1\n%s", got(), stderr.String())
		}
	}
	if n := count("READY=1"); n != 1 {
		t.Errorf("READY=1 sent %d times, want once: %q", n, got())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("kioskd after SIGTERM: %v, want exit 0\n%s", err, stderr.String())
	}
	all := got()
	i := slices.Index(all, "STOPPING=1")
	if i < 0 {
		t.Fatalf("no STOPPING=1 on SIGTERM: %q", all)
	}
	if slices.Contains(all[i+1:], "WATCHDOG=1") {
		t.Errorf("WATCHDOG=1 after STOPPING=1: %q", all)
	}
}
