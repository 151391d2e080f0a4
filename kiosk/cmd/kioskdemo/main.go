// Command kioskdemo is the launcher behind `make run`: it starts kioskhub
// (embedded NATS with JetStream, generated sample data), printersim (a
// virtual receipt printer on a pseudo-terminal), then kioskd (which prints
// on it through the serial path and starts the kioskui window when a
// display exists), prints the URLs and a few sample plates to try, and on
// Ctrl-C stops every process it started.
//
// Each child runs in its own process group, so the launcher can stop a
// child together with whatever that child started (WebKit's helpers under
// kioskui), and a terminal's Ctrl-C reaches only the launcher, which then
// stops the children in order: kiosk first, hub last.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "kioskdemo:", err)
		os.Exit(1)
	}
}

type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // its exit status; read after done
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kioskdemo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("bin", "", "directory with kioskhub, kioskd and kioskui (default: next to kioskdemo)")
	data := fs.String("data", ".demo", "data directory of the demo (hub and kiosk state)")
	size := fs.Int("sample-size", 100_000, "vehicles in the generated sample store")
	httpAddr := fs.String("http", "127.0.0.1:8321", "kiosk page address (another free port is used if taken)")
	ui := fs.String("ui", "auto", "auto: open the webview when a display exists; off: print the URL only")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		*bin = filepath.Dir(exe)
	}
	hubData, kioskData := filepath.Join(*data, "hub"), filepath.Join(*data, "kiosk")
	for _, d := range []string{hubData, kioskData} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return err
		}
	}
	natsAddr, err := freeAddr("127.0.0.1:0")
	if err != nil {
		return err
	}
	kioskAddr, err := freeAddr(*httpAddr)
	if err != nil {
		return err
	}
	hubHTTP, err := freeAddr("127.0.0.1:8480")
	if err != nil {
		return err
	}
	simControl, err := freeAddr("127.0.0.1:9101")
	if err != nil {
		return err
	}
	pty, err := filepath.Abs(filepath.Join(*data, "printer0"))
	if err != nil {
		return err
	}

	// The sample store is generated once (a few seconds for 100,000
	// vehicles) and reused by every later run.
	fmt.Fprintf(stdout, "Preparing the sample data (%d vehicles; generated once into %s)...\n", *size, hubData)
	var plates bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(*bin, "kioskhub"), "sample", "plates", "--data", hubData, "--sample-size", strconv.Itoa(*size), "--n", "12")
	cmd.Stdout, cmd.Stderr = &plates, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kioskhub sample plates: %w", err)
	}
	// The hub runs NATS in operator mode: the kiosk gets its own
	// credentials, as an installer does (DESIGN 4.7). --replace revokes
	// those of an earlier run of the demo.
	creds, err := filepath.Abs(filepath.Join(kioskData, "demo-01.creds"))
	if err != nil {
		return err
	}
	cmd = exec.CommandContext(ctx, filepath.Join(*bin, "kioskhub"), "creds", "issue", "demo-01", "--office", "padang",
		"--data", hubData, "--out", creds, "--replace")
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kioskhub creds issue: %w", err)
	}
	// And an operator's, for kioskctl or the stock nats CLI.
	opCreds, err := filepath.Abs(filepath.Join(*data, "operator.creds"))
	if err != nil {
		return err
	}
	cmd = exec.CommandContext(ctx, filepath.Join(*bin, "kioskhub"), "creds", "operator", "demo", "--data", hubData, "--out", opCreds, "--replace")
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kioskhub creds operator: %w", err)
	}

	// Dashboard users, one per role a visitor may want to try; the
	// password is new on every run of the demo.
	pw := demoPassword()
	for _, u := range [][]string{{"sistim", "--role", "sistim"}, {"uptd-padang", "--role", "uptd", "--office", "padang"}} {
		cmd = exec.CommandContext(ctx, filepath.Join(*bin, "kioskhub"), append([]string{"user", "add", u[0], "--data", hubData, "--password-stdin"}, u[1:]...)...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(pw+"\n"), io.Discard, stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("kioskhub user add: %w", err)
		}
	}

	var children []*child
	defer func() { stopAll(children, stderr) }()

	hub, err := start(ctx, "kioskhub", filepath.Join(*bin, "kioskhub"), stderr, "--data", hubData, "--nats-listen", natsAddr,
		"--http", hubHTTP, "--sample-size", strconv.Itoa(*size), "--log-level", "warn")
	if err != nil {
		return err
	}
	children = append(children, hub)
	if err := waitFor(ctx, hub, 60*time.Second, "listening on "+natsAddr, listening(natsAddr)); err != nil {
		return err
	}

	sim, err := start(ctx, "printersim", filepath.Join(*bin, "printersim"), stderr, "--pty", pty, "--control", simControl, "--model", "epson")
	if err != nil {
		return err
	}
	children = append(children, sim)
	if err := waitFor(ctx, sim, 10*time.Second, "answering on "+simControl, answering("http://"+simControl+"/state")); err != nil {
		return err
	}

	kargs := []string{"--id", "demo-01", "--office", "padang", "--data", kioskData, "--nats", "nats://" + natsAddr, "--creds", creds,
		"--http", kioskAddr, "--ui", *ui, "--kioskui", filepath.Join(*bin, "kioskui"), "--log-level", "warn",
		// The simulated printer is a TM-T88-class model with the sensor.
		"--printer", "serial:" + pty, "--printer-model", "TM-T88V", "--printer-near-end", "yes"}
	kd, err := start(ctx, "kioskd", filepath.Join(*bin, "kioskd"), stderr, kargs...)
	if err != nil {
		return err
	}
	children = append(children, kd)
	if err := waitFor(ctx, kd, 30*time.Second, "healthy", answering("http://"+kioskAddr+"/healthz")); err != nil {
		return err
	}

	display := os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "PKB info kiosk demo is running.")
	fmt.Fprintf(stdout, "  Kiosk page:   http://%s/\n", kioskAddr)
	if display && *ui == "auto" {
		fmt.Fprintln(stdout, "                (opening in the kiosk window)")
	} else {
		fmt.Fprintln(stdout, "                (no display: open it in a browser)")
	}
	fmt.Fprintf(stdout, "  Kiosk status: http://%s/api/status\n", kioskAddr)
	fmt.Fprintf(stdout, "  Dashboard:    http://%s/   users sistim and uptd-padang, password %s\n", hubHTTP, pw)
	fmt.Fprintf(stdout, "  Hub NATS:     nats://%s   hub health: http://%s/healthz\n", natsAddr, hubHTTP)
	fmt.Fprintf(stdout, "                operator credentials: %s\n", opCreds)
	fmt.Fprintf(stdout, "                (e.g. nats --server nats://%s --creds %s micro ls)\n", natsAddr, opCreds)
	fmt.Fprintf(stdout, "  Operator CLI: %s --nats nats://%s --creds %s ls\n", filepath.Join(*bin, "kioskctl"), natsAddr, opCreds)
	fmt.Fprintf(stdout, "  Printer:      simulated on %s; what it printed: http://%s/output\n", pty, simControl)
	fmt.Fprintf(stdout, "                run out of paper: curl -d '{\"paper\":\"out\"}' http://%s/state\n", simControl)
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "Plates to try (plate, last 5 of the chassis number, what you will see):")
	sc := bufio.NewScanner(&plates)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) == 3 {
			fmt.Fprintf(stdout, "  %-12s %-6s %s\n", f[0], f[1], f[2])
		}
	}
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "Press Ctrl-C to stop everything.")

	// A child that exits is reported, not fatal: stopping the hub is how one
	// sees the kiosk answer from its cache.
	hubDone, kdDone, simDone := hub.done, kd.done, sim.done
	for hubDone != nil || kdDone != nil {
		select {
		case <-ctx.Done():
			fmt.Fprintln(stdout, "\nStopping...")
			return nil
		case <-hubDone:
			hubDone = nil
			fmt.Fprintf(stdout, "kioskhub exited (%v): the kiosk keeps answering from its cache. Ctrl-C to stop.\n", hub.err)
		case <-kdDone:
			kdDone = nil
			fmt.Fprintf(stdout, "kioskd exited (%v). Ctrl-C to stop.\n", kd.err)
		case <-simDone:
			simDone = nil
			fmt.Fprintf(stdout, "printersim exited (%v): the kiosk reports printer.missing. Ctrl-C to stop.\n", sim.err)
		}
	}
	return errors.New("every process of the demo has exited")
}

func start(ctx context.Context, name, path string, stderr io.Writer, args ...string) (*child, error) {
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w (did `make build` run?)", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { c.err = cmd.Wait(); close(c.done) }()
	return c, nil
}

// stopAll stops the children in reverse start order: SIGTERM to each
// process group, then SIGKILL to whatever is left after 10 s.
func stopAll(children []*child, stderr io.Writer) {
	for i := len(children) - 1; i >= 0; i-- {
		c := children[i]
		pgid := c.cmd.Process.Pid
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			fmt.Fprintf(stderr, "kioskdemo: %s did not stop in 10s; killing it\n", c.name)
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-c.done
		}
		// Anything the child left in its group goes too.
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// freeAddr returns addr if it can be listened on, else a free port on the
// same host.
func freeAddr(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		host, _, _ := net.SplitHostPort(addr)
		if ln, err = net.Listen("tcp", net.JoinHostPort(host, "0")); err != nil {
			return "", err
		}
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitFor polls ready every 100 ms until it reports true, c exits, ctx
// ends or limit passes; what names the awaited state in errors.
func waitFor(ctx context.Context, c *child, limit time.Duration, what string, ready func() bool) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if ready() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return fmt.Errorf("%s exited during start: %v", c.name, c.err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not %s after %v", c.name, what, limit)
}

func listening(addr string) func() bool {
	return func() bool {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		conn.Close()
		return true
	}
}

func answering(url string) func() bool {
	return func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
}

// demoPassword is a fresh password for the demo's dashboard users.
func demoPassword() string {
	b := make([]byte, 9)
	rand.Read(b)
	return "demo-" + hex.EncodeToString(b)
}
