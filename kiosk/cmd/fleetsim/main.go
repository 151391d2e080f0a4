// Command fleetsim simulates a fleet of kiosks against a hub, for the hub's
// load benchmark (DESIGN 8: one 2-core hub serves >= 10,000 kiosks at a 10 s
// heartbeat, each with its own connection, p99 heartbeat-to-state < 1 s).
// Running thousands of real kioskd processes is impractical, and a benchmark
// that shared one connection among the simulated kiosks would not load the
// hub's NATS server the way a real fleet does.
//
// Each simulated kiosk <prefix>-<i> has its own NATS connection, made with
// kioskd's options (natsbus.Connect), and publishes a status snapshot
// (DESIGN 4.4) of a real one's size on kiosk.<id>.hb: first at a random phase
// within the interval, so the fleet's heartbeats spread evenly as they do in
// the field, then every interval. Its "at" is the send time with nanoseconds
// (a real kiosk sends whole seconds), so the hub can measure
// heartbeat-to-state latency against the same clock.
//
//	fleetsim --nats-url nats://127.0.0.1:4222 --kiosks 10000 [--interval 10s] [--duration 0] \
//	    [--prefix sim] [--office sim]
//
// It prints "ready N" once all N connections are up and, when it stops,
// "done sent=S errors=E disconnects=D". It stops after --duration (0: when
// signalled) or on SIGINT or SIGTERM, closing every connection.
//
// It is a process of its own so that the hub's CPU time can be measured
// apart from the load, and so that each process holds only its own end of
// the connections against RLIMIT_NOFILE: every kiosk takes a file
// descriptor. Go raises the soft limit to the hard one at startup (since Go
// 1.19, see syscall/rlimit.go), so the hard limit (ulimit -Hn) bounds
// --kiosks; fleetsim checks it before dialling rather than failing halfway.
//
// Exit codes: 0 clean stop, 1 runtime error (a connection that could not be
// made), 2 usage or configuration error.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsbus"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop() // os.Exit skips defers
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, errUsage) {
		fmt.Fprintln(os.Stderr, "fleetsim:", err)
	}
	os.Exit(exitCode(err))
}

// errUsage marks a usage error already reported on stderr.
var errUsage = errors.New("usage")

func exitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		return 1
	}
}

const (
	// dialers bounds the connections being opened at once: a burst of
	// thousands of handshakes would overflow the server's accept backlog
	// and time out, which a real fleet, booting over minutes, never does.
	dialers = 50
	// dialAttempts and dialBackoff retry a connection that failed anyway.
	dialAttempts = 5
	dialBackoff  = 200 * time.Millisecond
	// spareFDs are the descriptors the process needs besides its
	// connections (stdio, the Go runtime's epoll and pipes).
	spareFDs = 32
)

// sim is one run's configuration.
type sim struct {
	url      string
	kiosks   int
	interval time.Duration
	prefix   string
	office   string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fleetsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var s sim
	fs.StringVar(&s.url, "nats-url", "nats://127.0.0.1:4222", "the hub's NATS URL")
	fs.IntVar(&s.kiosks, "kiosks", 1000, "number of simulated kiosks, one connection each")
	fs.DurationVar(&s.interval, "interval", 10*time.Second, "heartbeat interval of every kiosk")
	duration := fs.Duration("duration", 0, "stop after this long (0: run until SIGINT or SIGTERM)")
	fs.StringVar(&s.prefix, "prefix", "sim", "kiosk ids are <prefix>-0 ... <prefix>-<N-1>")
	fs.StringVar(&s.office, "office", "sim", "office code of every simulated kiosk")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if err := s.check(); err != nil {
		fmt.Fprintln(stderr, "fleetsim:", err)
		return errUsage
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}

	var st stats
	conns, err := s.dial(ctx, &st)
	defer func() {
		for _, nc := range conns {
			if nc != nil {
				nc.Close()
			}
		}
	}()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "ready", len(conns))

	// Fixed seed: the same phases in every run make runs comparable.
	rng := rand.New(rand.NewPCG(1, uint64(s.kiosks)))
	var wg sync.WaitGroup
	for i, nc := range conns {
		phase := time.Duration(rng.Int64N(int64(s.interval)))
		wg.Go(func() { s.beat(ctx, nc, i, phase, &st) })
	}
	<-ctx.Done()
	wg.Wait()
	fmt.Fprintf(stdout, "done sent=%d errors=%d disconnects=%d\n", st.sent.Load(), st.errors.Load(), st.disconnects.Load())
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil // --duration elapsed: a clean stop
	}
	return ctx.Err()
}

// check validates the flags, including that the process may open one file
// descriptor per kiosk.
func (s *sim) check() error {
	if s.kiosks < 1 {
		return fmt.Errorf("--kiosks %d: want at least 1", s.kiosks)
	}
	if s.interval < time.Second {
		return fmt.Errorf("--interval %v: want at least 1s (the snapshot carries whole seconds)", s.interval)
	}
	for _, id := range []string{s.id(0), s.id(s.kiosks - 1)} {
		if err := kiosk.CheckID("kiosk id (from --prefix)", id); err != nil {
			return err
		}
	}
	if err := kiosk.CheckID("office", s.office); err != nil {
		return err
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(s.kiosks+spareFDs) {
		return fmt.Errorf("--kiosks %d needs about %d file descriptors, RLIMIT_NOFILE allows %d (hard limit %d): raise ulimit -Hn",
			s.kiosks, s.kiosks+spareFDs, lim.Cur, lim.Max)
	}
	return nil
}

func (s *sim) id(i int) string { return s.prefix + "-" + strconv.Itoa(i) }

// stats counts what happened to the fleet, for the final line.
type stats struct {
	sent        atomic.Int64 // heartbeats published
	errors      atomic.Int64 // publishes refused (closed or disconnected)
	disconnects atomic.Int64 // connections lost other than by Close
}

// dial opens one connection per kiosk, dialers at a time. On error it
// returns the connections made so far, for the caller to close.
func (s *sim) dial(ctx context.Context, st *stats) ([]*nats.Conn, error) {
	conns := make([]*nats.Conn, s.kiosks)
	next := make(chan int)
	errc := make(chan error, dialers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range min(dialers, s.kiosks) {
		wg.Go(func() {
			for i := range next {
				nc, err := s.connect(ctx, i, st)
				if err != nil {
					errc <- err
					cancel()
					return
				}
				conns[i] = nc
			}
		})
	}
feed:
	for i := range s.kiosks {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errc:
		return conns, err
	default:
		return conns, ctx.Err() // cancelled by a signal, or nil
	}
}

// connect opens kiosk i's connection with kioskd's options, retrying a few
// times with backoff. Unlike kioskd it wants the first dial to succeed:
// "ready" must mean every kiosk is connected.
func (s *sim) connect(ctx context.Context, i int, st *stats) (*nats.Conn, error) {
	id := s.id(i)
	var err error
	for attempt := range dialAttempts {
		if attempt > 0 {
			select {
			case <-time.After(dialBackoff << (attempt - 1)):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		var nc *nats.Conn
		nc, err = natsbus.Connect(natsbus.ClientConfig{URL: s.url, ID: id, Options: []nats.Option{
			nats.RetryOnFailedConnect(false),
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
				if err != nil { // nil: our own Close
					st.disconnects.Add(1)
				}
			}),
		}})
		if err == nil {
			return nc, nil
		}
	}
	return nil, fmt.Errorf("connect %s after %d attempts: %w", id, dialAttempts, err)
}

// beat publishes kiosk i's heartbeats until ctx is done: the first after
// phase, then every interval (a ticker, so the schedule does not drift).
func (s *sim) beat(ctx context.Context, nc *nats.Conn, i int, phase time.Duration, st *stats) {
	started := time.Now()
	snap := s.snapshot(i)
	subject := kiosk.HeartbeatSubject(snap.Kiosk)
	publish := func() {
		now := time.Now()
		snap.UpS = int64(now.Sub(started)/time.Second) + 86_400
		snap.At = now.Format(time.RFC3339Nano)
		b, _ := json.Marshal(&snap) // plain struct: cannot fail
		if err := nc.Publish(subject, b); err != nil {
			st.errors.Add(1)
			return
		}
		st.sent.Add(1)
	}
	t := time.NewTimer(phase)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	publish()
	tick := time.NewTicker(s.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			publish()
		}
	}
}

// snapshot is kiosk i's status as a healthy kiosk in the field reports it,
// about 560 bytes of JSON like kioskd's; one kiosk in twenty has paper
// running low, so the fleet is not uniform.
func (s *sim) snapshot(i int) kiosk.Status {
	ping := int64(2)
	st := kiosk.Status{
		Kiosk:       s.id(i),
		Office:      s.office,
		Version:     kiosk.Version,
		Boot:        fmt.Sprintf("3f6c1a52-9d4e-4b7a-8c21-%012x", i),
		Epoch:       fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15),
		HBIntervalS: int(s.interval / time.Second),
		Mode:        kiosk.ModeReady,
		Printer: kiosk.PrinterStatus{
			Connected: true, Online: true, Paper: "ok",
			Model: "EPSON TM-T82X", Columns: 42, Transport: "usb",
		},
		Disk:   kiosk.DiskStatus{FreeBytes: 21_474_836_480 - uint64(i)*4096, TotalBytes: 31_138_512_896},
		Power:  kiosk.PowerStatus{Source: "mains"},
		Bus:    kiosk.BusStatus{Connected: true},
		Faults: []string{},
		UI:     kiosk.UIStatus{Running: true, LastPingS: &ping},
		Store:  kiosk.StoreStatus{OK: true},
	}
	if i%20 == 7 {
		st.Printer.Paper = "near_end"
		st.Faults = []string{"printer.paper_near_end"}
	}
	return st
}
