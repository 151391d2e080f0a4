// Command printersim runs a virtual ESC/POS receipt printer for the demo,
// tests and acceptance checks (DESIGN 6): a pseudo-terminal the kiosk opens
// as a serial printer and/or a raw TCP port, and an HTTP control API to set
// paper, cover, online and error state and read what was printed.
//
//	printersim --pty /run/kiosk/printer0 [--tcp 127.0.0.1:9100] --control 127.0.0.1:9101 \
//	    [--model epson|pos58] [--columns 32|42|48] [--state '{"paper":"near_end"}']
//	curl -d '{"paper":"out"}' http://127.0.0.1:9101/state
//	curl http://127.0.0.1:9101/output
//
// Exit codes: 0 clean stop (SIGINT, SIGTERM), 1 runtime error (e.g. the
// control port is taken), 2 usage or configuration error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/printer/printersim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop() // os.Exit skips defers
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

// shutdownTimeout bounds the control server's graceful stop.
const shutdownTimeout = 2 * time.Second

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("printersim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg printersim.Config
	fs.StringVar(&cfg.PTY, "pty", "", "symlink to create for the pty slave, e.g. /run/kiosk/printer0")
	fs.StringVar(&cfg.TCP, "tcp", "", "listen address of a raw 9100-style port, e.g. 127.0.0.1:9100 (optional)")
	control := fs.String("control", "", "listen address of the HTTP control API, e.g. 127.0.0.1:9101 (required)")
	fs.StringVar(&cfg.Model, "model", printersim.ModelEpson, "epson (near-end sensor, cutter) or pos58 (58 mm clone: neither)")
	fs.IntVar(&cfg.Columns, "columns", 0, "Font A columns: 32, 42 or 48 (default: epson 42, pos58 32)")
	state := fs.String("state", "", `initial state as JSON, fields as POST /state, e.g. {"paper":"near_end"}`)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	usage := func(format string, a ...any) error {
		fmt.Fprintf(stderr, "printersim: "+format+"\n", a...)
		return errUsage
	}
	switch {
	case fs.NArg() > 0:
		return usage("unexpected argument %q", fs.Arg(0))
	case *control == "":
		return usage("--control is required, e.g. --control 127.0.0.1:9101")
	case cfg.PTY == "" && cfg.TCP == "":
		return usage("give --pty PATH, --tcp HOST:PORT or both")
	}

	sim, err := printersim.Start(cfg)
	if errors.Is(err, printersim.ErrConfig) {
		return usage("%v", err)
	} else if err != nil {
		fmt.Fprintln(stderr, err)
		return err
	}
	defer sim.Close()
	if *state != "" {
		if _, err := sim.PatchState([]byte(*state)); errors.Is(err, printersim.ErrBadState) {
			return usage("--state: %v", err)
		} else if err != nil {
			fmt.Fprintln(stderr, err)
			return err
		}
	}
	ln, err := net.Listen("tcp", *control)
	if err != nil {
		fmt.Fprintln(stderr, "printersim: control:", err)
		return err
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	fmt.Fprintf(stdout, "printersim: %s\n", describe(sim, ln.Addr().String()))
	select {
	case <-ctx.Done():
	case err = <-served:
		fmt.Fprintln(stderr, "printersim: control:", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	srv.Shutdown(sctx) // makes Serve return
	if err == nil {
		<-served
	}
	if cerr := sim.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// describe is the start line: "pty /run/kiosk/printer0 -> /dev/pts/3,
// tcp 127.0.0.1:9100, control http://127.0.0.1:9101".
func describe(sim *printersim.Sim, control string) string {
	var s string
	if link := sim.PTYLink(); link != "" {
		dev := sim.PTYPath()
		if dev == "" {
			dev = "(unplugged)"
		}
		s += fmt.Sprintf("pty %s -> %s, ", link, dev)
	}
	if addr := sim.TCPAddr(); addr != "" {
		s += "tcp " + addr + ", "
	}
	return s + "control http://" + control
}
