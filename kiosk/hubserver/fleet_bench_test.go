//go:build linux

package hubserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
)

// fleetInterval is the heartbeat interval of the simulated fleet, the
// kiosks' default (DESIGN 8 states the target at 10 s).
const fleetInterval = 10 * time.Second

// BenchmarkFleet measures DESIGN 8's hub target: on one 2-core machine,
// >= 10,000 kiosks at a 10 s heartbeat, each with its own connection, with
// p99 heartbeat-to-state < 1 s. The hub runs in this process; the kiosks are
// fleetsim, a child process, so that this process's CPU time is the hub's
// (embedded NATS server included) and each process holds only its own end
// of the connections against RLIMIT_NOFILE. Both share the machine's cores,
// as they would not in the field: sim-cpu-% shows how much the load took.
//
// Each size is measured once, whatever b.N (run with -benchtime 1x): after
// all kiosks are connected and one interval has passed (every kiosk has
// beaten once, so the hub knows the whole fleet), a window of
// FLEET_BENCH_WINDOW (default 20s, two intervals) is measured, then hub.fleet
// must list every kiosk online. The hub saves each kiosk's last-seen time
// once a minute (sync/hub persistEvery); a window of 70s includes that
// write.
func BenchmarkFleet(b *testing.B) {
	window := 20 * time.Second
	if s := os.Getenv("FLEET_BENCH_WINDOW"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			b.Fatalf("FLEET_BENCH_WINDOW=%q: want a positive duration such as 20s", s)
		}
		window = d
	}
	bin := filepath.Join(b.TempDir(), "fleetsim")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/fleetsim").CombinedOutput(); err != nil {
		b.Fatalf("build fleetsim: %v\n%s", err, out)
	}
	for _, n := range []int{1000, 5000, 10000} {
		b.Run(fmt.Sprintf("kiosks=%d", n), func(b *testing.B) { benchFleet(b, bin, n, window) })
	}
}

func benchFleet(b *testing.B, bin string, n int, window time.Duration) {
	// Room for every heartbeat of the window and then some, so that the
	// hook never allocates while it is being measured.
	lat := &latencies{d: make([]time.Duration, 0, n*int(window/fleetInterval+2))}
	cfg := DefaultConfig()
	cfg.Auth = false // fleetsim's kiosks connect without .creds
	cfg.Data = b.TempDir()
	cfg.NATSListen = "127.0.0.1:0"
	cfg.SampleSize = 1000 // the gateway is idle here; don't spend time generating
	cfg.OnHeartbeat = lat.observe
	h, err := Start(b.Context(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()

	sim := startFleetsim(b, bin, h.NATSURL(), n)
	defer sim.stop(b)

	// Warm-up: every kiosk's first heartbeat falls within one interval of
	// its connection, which came before "ready". The first beats are the
	// fleet's arrival (new entries, presence transitions, one big save),
	// not its steady state.
	sim.sleep(b, fleetInterval+time.Second)

	var r0, r1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	s0 := sim.cpu()
	t0 := time.Now()
	lat.on.Store(true)
	sim.sleep(b, window)
	lat.on.Store(false)
	wall := time.Since(t0)
	syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	s1 := sim.cpu()
	rss := vmRSS(b) // may include a little heap of the sizes before, not yet returned to the OS
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)

	lat.mu.Lock()
	d := slices.Clone(lat.d)
	bad := lat.bad
	lat.mu.Unlock()
	if len(d) == 0 {
		b.Fatalf("no heartbeat applied in the %v window", window)
	}
	if bad > 0 {
		b.Errorf("%d heartbeats without a parseable snapshot time", bad)
	}
	slices.Sort(d)
	q := func(p float64) float64 { return float64(d[int(p*float64(len(d)-1))].Nanoseconds()) / 1e3 }
	cpu := 100 * (cpuTime(r1) - cpuTime(r0)).Seconds() / wall.Seconds()
	simCPU := 100 * (s1 - s0).Seconds() / wall.Seconds()
	hbs := float64(len(d)) / wall.Seconds()
	// Logged as well as reported: a failed benchmark prints no metrics.
	b.Logf("%d kiosks: hub cpu %.1f%%, %.0f hb/s, p50 %.0f µs, p99 %.0f µs, max %.0f µs, rss %.0f MB (heap in use %.0f MB, stacks %.0f MB, %d goroutines); fleetsim cpu %.1f%%",
		n, cpu, hbs, q(0.50), q(0.99), q(1), rss, float64(ms.HeapInuse)/1e6, float64(ms.StackInuse)/1e6, runtime.NumGoroutine(), simCPU)

	checkFleet(b, h, n)

	b.ReportMetric(0, "ns/op") // the run's duration says nothing: the metrics below do
	b.ReportMetric(float64(n), "kiosks")
	b.ReportMetric(cpu, "cpu-%")
	b.ReportMetric(hbs, "hb/s")
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(rss, "rss-MB")
	b.ReportMetric(simCPU, "sim-cpu-%")
}

// latencies collects heartbeat-to-state latencies while on. The hook runs
// on the hub's heartbeat subscription, so it stays small: a time parse and
// an append to preallocated space under an uncontended mutex.
type latencies struct {
	on atomic.Bool // record only inside the measured window

	mu  sync.Mutex // guards the fields below
	d   []time.Duration
	bad int // heartbeats whose "at" did not parse
}

func (l *latencies) observe(_ string, st *kiosk.Status, applied time.Time) {
	if !l.on.Load() {
		return
	}
	var at time.Time
	err := errNoSnapshot
	if st != nil {
		at, err = time.Parse(time.RFC3339Nano, st.At)
	}
	l.mu.Lock()
	if err != nil {
		l.bad++
	} else {
		l.d = append(l.d, applied.Sub(at))
	}
	l.mu.Unlock()
}

var errNoSnapshot = errors.New("no snapshot")

// checkFleet asks hub.fleet, as kioskctl does, and wants all n simulated
// kiosks listed and online.
func checkFleet(b *testing.B, h *Hub, n int) {
	b.Helper()
	nc, err := nats.Connect(h.NATSURL(), nats.Name("fleet bench"))
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ks, err := hub.FetchFleet(ctx, nc, "")
	if err != nil {
		b.Fatalf("hub.fleet: %v", err)
	}
	online := 0
	for _, k := range ks {
		if strings.HasPrefix(k.Kiosk, "sim-") && k.Presence == hub.Online {
			online++
		}
	}
	if len(ks) != n || online != n {
		b.Fatalf("hub.fleet lists %d kiosks, %d of them simulated and online; want %d, all online", len(ks), online, n)
	}
}

// fleetsim is the running simulator.
type fleetsim struct {
	cmd    *exec.Cmd
	lines  chan string   // its stdout after "ready"
	exited chan struct{} // closed when the process has exited
	err    error         // Wait's result, set before exited closes
	stderr *bytes.Buffer // read only after exited closed
}

// startFleetsim runs fleetsim with n kiosks against url and returns once
// all of them are connected.
func startFleetsim(b *testing.B, bin, url string, n int) *fleetsim {
	b.Helper()
	s := &fleetsim{lines: make(chan string, 4), exited: make(chan struct{}), stderr: &bytes.Buffer{}}
	s.cmd = exec.Command(bin, "--nats-url", url, "--kiosks", strconv.Itoa(n),
		"--interval", fleetInterval.String(), "--prefix", "sim", "--office", "sim")
	s.cmd.Stderr = s.stderr
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
		s.err = s.cmd.Wait() // after the pipe is drained, as Wait requires
		close(s.exited)
	}()
	select {
	case line, ok := <-s.lines:
		if ok && line == "ready "+strconv.Itoa(n) {
			return s
		}
		s.kill()
		b.Fatalf("fleetsim said %q, want \"ready %d\": %v\n%s", line, n, s.err, s.stderr)
	case <-time.After(2 * time.Minute):
		s.kill()
		b.Fatalf("fleetsim: %d kiosks not connected within 2 minutes\n%s", n, s.stderr)
	}
	return nil
}

// sleep waits for d, failing early if fleetsim dies meanwhile.
func (s *fleetsim) sleep(b *testing.B, d time.Duration) {
	b.Helper()
	select {
	case <-time.After(d):
	case <-s.exited:
		b.Fatalf("fleetsim exited: %v\n%s", s.err, s.stderr)
	}
}

// cpu is fleetsim's CPU time so far, from /proc/<pid>/stat (utime and
// stime, in USER_HZ ticks, which Linux fixes at 100 for user space).
func (s *fleetsim) cpu() time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The command name in parentheses may contain spaces; fields after
	// it start with the state (field 3), so utime (14) is the 12th.
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100)
}

// stop sends SIGTERM, as systemd would, and wants a clean exit with no
// refused heartbeat and no lost connection.
func (s *fleetsim) stop(b *testing.B) {
	b.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	var done string
	timeout := time.After(time.Minute)
	for {
		select {
		case line, ok := <-s.lines:
			if ok {
				done = line
				continue
			}
			<-s.exited
			if s.err != nil {
				b.Errorf("fleetsim: %v\n%s", s.err, s.stderr)
			}
			var sent, errs, disc int
			if _, err := fmt.Sscanf(done, "done sent=%d errors=%d disconnects=%d", &sent, &errs, &disc); err != nil {
				b.Errorf("fleetsim's last line %q: %v", done, err)
			} else if errs > 0 || disc > 0 {
				b.Errorf("fleetsim: %d heartbeats refused, %d connections lost (of %d sent)", errs, disc, sent)
			}
			return
		case <-timeout:
			s.kill()
			b.Errorf("fleetsim did not stop within a minute of SIGTERM")
			return
		}
	}
}

func (s *fleetsim) kill() {
	s.cmd.Process.Kill()
	for range s.lines {
	}
	<-s.exited
}

func cpuTime(r syscall.Rusage) time.Duration {
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// vmRSS is this process's resident set in MB (10^6 bytes), from
// /proc/self/status.
func vmRSS(b *testing.B) float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(raw)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				b.Fatalf("VmRSS %q: %v", rest, err)
			}
			return kb * 1024 / 1e6
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}
