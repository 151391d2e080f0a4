package agent_test

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
)

// notifySocket stands in for systemd's notification socket: a unixgram
// socket at $NOTIFY_SOCKET that records every datagram, one []string of
// lines each. The environment is the process's, so tests that use it
// cannot run in parallel (t.Setenv refuses to).
type notifySocket struct {
	mu   sync.Mutex
	msgs [][]string
}

// listenNotify sets NOTIFY_SOCKET, and WATCHDOG_USEC and WATCHDOG_PID when
// watchdog is above 0, as systemd does for a Type=notify unit.
func listenNotify(t *testing.T, watchdog time.Duration) *notifySocket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("NOTIFY_SOCKET", path)
	if watchdog > 0 {
		t.Setenv("WATCHDOG_USEC", strconv.FormatInt(watchdog.Microseconds(), 10))
		t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	}
	s := &notifySocket{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, strings.Split(string(buf[:n]), "\n"))
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() { conn.Close(); <-done })
	return s
}

// lines returns every line received so far, in order.
func (s *notifySocket) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []string
	for _, m := range s.msgs {
		all = append(all, m...)
	}
	return all
}

func (s *notifySocket) count(line string) int {
	n := 0
	for _, l := range s.lines() {
		if l == line {
			n++
		}
	}
	return n
}

// status returns the last STATUS= text.
func (s *notifySocket) status() string {
	st := ""
	for _, l := range s.lines() {
		if v, ok := strings.CutPrefix(l, "STATUS="); ok {
			st = v
		}
	}
	return st
}

// waitCount waits until line was received at least n times.
func (s *notifySocket) waitCount(t *testing.T, line string, n int, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); s.count(line) < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s received %d times in %v, want %d; all: %q", line, s.count(line), timeout, n, s.lines())
		}
	}
}

// waitStatus waits until the last STATUS= starts with prefix.
func (s *notifySocket) waitStatus(t *testing.T, prefix string, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !strings.HasPrefix(s.status(), prefix); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("STATUS=%q after %v, want %q...; all: %q", s.status(), timeout, prefix, s.lines())
		}
	}
}

// noneFor fails if line arrives within d.
func (s *notifySocket) noneFor(t *testing.T, line string, d time.Duration) {
	t.Helper()
	n := s.count(line)
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if s.count(line) != n {
			t.Fatalf("%s received while it should not be; all: %q", line, s.lines())
		}
	}
}

// quickBeat: heartbeats every second, so a wedged heartbeat loop is seen
// after 3 s.
func quickBeat(_ *hubserver.Config, a *agent.Config) { a.Heartbeat = time.Second }

// TestNotifyReadyWatchdogStopping: under systemd (NOTIFY_SOCKET,
// WATCHDOG_USEC) the agent says READY=1 once, then WATCHDOG=1 every
// WatchdogSec/2 with STATUS=ready, and STOPPING=1 when it stops, after
// which it sends nothing.
func TestNotifyReadyWatchdogStopping(t *testing.T) {
	sock := listenNotify(t, 2*time.Second)
	e := newEnv(t, quickBeat)
	sock.waitCount(t, "WATCHDOG=1", 3, 15*time.Second)
	all := sock.lines()
	if got := sock.count("READY=1"); got != 1 {
		t.Errorf("READY=1 sent %d times, want once; all: %q", got, all)
	}
	if r, w := slices.Index(all, "READY=1"), slices.Index(all, "WATCHDOG=1"); r < 0 || r > w {
		t.Errorf("WATCHDOG=1 before READY=1: %q", all)
	}
	if st := sock.status(); st != "ready" {
		t.Errorf("STATUS=%q, want ready", st)
	}

	e.agentStop()
	all = sock.lines()
	i := slices.Index(all, "STOPPING=1")
	if i < 0 {
		t.Fatalf("no STOPPING=1 on shutdown: %q", all)
	}
	if after := all[i+1:]; slices.Contains(after, "WATCHDOG=1") || slices.Contains(after, "READY=1") {
		t.Errorf("sent after STOPPING=1: %q", after)
	}
	if got := sock.count("READY=1"); got != 1 {
		t.Errorf("READY=1 sent %d times, want once", got)
	}
}

// TestWatchdogStopsWhenHeartbeatStuck: with the heartbeat loop wedged the
// HTTP server still answers, yet WATCHDOG=1 stops (systemd then restarts
// the agent) and STATUS says why; when the loop turns again, so do the
// notifications.
func TestWatchdogStopsWhenHeartbeatStuck(t *testing.T) {
	sock := listenNotify(t, 2*time.Second)
	e := newEnv(t, quickBeat)
	sock.waitCount(t, "WATCHDOG=1", 2, 15*time.Second)

	release := agent.WedgeHeartbeat(e.agent)
	t.Cleanup(release) // before the agent stops (cleanups run last-in first)
	sock.waitStatus(t, "not alive: heartbeat loop stuck", 10*time.Second)
	sock.noneFor(t, "WATCHDOG=1", 3*time.Second) // longer than the 1 s interval
	if code := e.get("/healthz", nil); code != 200 {
		t.Errorf("healthz with a stuck heartbeat loop = %d, want 200 (only the loop is stuck)", code)
	}

	n := sock.count("WATCHDOG=1")
	release()
	sock.waitCount(t, "WATCHDOG=1", n+1, 10*time.Second)
	sock.waitStatus(t, "ready", 5*time.Second)
}

// TestWatchdogOnFullDisk: a completely full disk degrades the agent, and
// the watchdog goes on: systemd must not restart a kiosk in a loop because
// its disk is full (DESIGN 5).
func TestWatchdogOnFullDisk(t *testing.T) {
	data := smallFS(t)
	sock := listenNotify(t, 2*time.Second)
	e := newEnv(t, func(h *hubserver.Config, a *agent.Config) {
		a.Data, a.Now, a.Heartbeat = data, nil, time.Second
		a.DiskCheck, a.DiskLow, a.DiskFull = 100*time.Millisecond, 3<<20, 1<<20
	})
	sock.waitCount(t, "READY=1", 1, 15*time.Second)
	fill(t, data, 0) // to the last byte: SQLite writes fail now
	e.waitFault("disk.full", true)
	sock.waitStatus(t, "degraded: disk.full", 10*time.Second)
	n := sock.count("WATCHDOG=1")
	sock.waitCount(t, "WATCHDOG=1", n+4, 10*time.Second)
	if st := sock.status(); st != "degraded: disk.full" {
		t.Errorf("STATUS=%q on a full disk, want degraded: disk.full", st)
	}
}

// TestNotifyNothingWithoutWatchdog: under systemd without WatchdogSec the
// agent says READY=1 and never WATCHDOG=1.
func TestNotifyNothingWithoutWatchdog(t *testing.T) {
	sock := listenNotify(t, 0)
	t.Setenv("WATCHDOG_USEC", "")
	newEnv(t, quickBeat)
	sock.waitCount(t, "READY=1", 1, 15*time.Second)
	sock.noneFor(t, "WATCHDOG=1", 2*time.Second)
}
