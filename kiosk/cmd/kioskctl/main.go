// Command kioskctl is the operator CLI: it asks the hub about the fleet
// and sends commands to kiosks, over NATS only (DESIGN 9, 4.5). It never
// opens a database, a device or a PID.
//
//	kioskctl [--nats URL] [--creds FILE] [--ca FILE] [--json] [--timeout 5s] [--tz ZONE]
//	         [--as NAME] [--expires 5m] [--cmd-id ID] COMMAND ...
//
//	kioskctl ls [--office O]                 every kiosk as the hub sees it
//	kioskctl status ID                       the kiosk's own status snapshot, asked live
//	kioskctl faults [--office O]             active faults as the hub knows them
//	kioskctl restart ID --level ui-reload|ui|agent|host [--force] [--reason TEXT]
//	                 [--wait [--wait-timeout D]]
//	kioskctl print-test ID [--force]
//	kioskctl maintenance ID on|off [--message TEXT]
//	kioskctl diag ID [--out FILE]
//
// Global flags may also follow the command. --nats and --creds default to
// $KIOSKCTL_NATS and $KIOSKCTL_CREDS. Every kiosk command carries a fresh
// UUIDv7 in Kiosk-Cmd-Id (printed, so it can be referred to, and given
// again with --cmd-id to fetch the first reply of a command without
// running it twice), Kiosk-Cmd-Expires (now + --expires) and
// Kiosk-Requested-By (--as, else the name in the .creds file, else $USER).
//
// Exit codes:
//
//	0 ok (also: a restart deferred until the kiosk is idle)
//	1 error (no connection, no reply in time, a command that ran and failed)
//	2 usage (unknown command or flag, invalid id or argument); nothing was sent
//	3 kiosk offline: nobody answers on kiosk.<id>.cmd.* (no responders)
//	4 the kiosk rejected the command, or it expired before it could run
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop() // os.Exit skips defers
	os.Exit(code)
}

// Exit codes (see the package comment and the README).
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitOffline  = 3
	exitRejected = 4
)

// run is kioskctl: it parses args, does the command and returns the exit
// code. env looks up environment variables (os.Getenv in main): only
// KIOSKCTL_NATS, KIOSKCTL_CREDS, USER and NO_COLOR are read.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) int {
	return (&cli{now: time.Now}).run(ctx, args, stdout, stderr, env)
}

// cli is one invocation. Its clock is an input so that tests can print
// deterministic ages and expiry times.
type cli struct {
	now func() time.Time

	stdout, stderr io.Writer
	env            func(string) string
	o              options
	tz             *time.Location
	color          bool // ANSI colours in human output
}

// options are the global flags.
type options struct {
	nats, creds, ca string
	json            bool
	timeout         time.Duration
	expires         time.Duration
	as              string
	cmdID           string
	tz              string
}

// cmdOptions are the flags of the commands.
type cmdOptions struct {
	office      string
	level       string
	force       bool
	wait        bool
	waitTimeout time.Duration
	reason      string
	message     string
	out         string
}

const (
	defaultNATS    = "nats://127.0.0.1:4222"
	defaultTimeout = 5 * time.Second
	defaultExpires = 5 * time.Minute
	// printTestTimeout is the reply timeout of print-test unless --timeout
	// is given: the kiosk replies when the page came out, within 90 s.
	printTestTimeout = 100 * time.Second
)

const usage = `usage: kioskctl [global flags] COMMAND [ARGS] [flags]

commands:
  ls [--office O]                  every kiosk as the hub sees it (presence, last seen, faults)
  status ID                        the kiosk's status snapshot, asked from the kiosk itself
  faults [--office O]              active faults as the hub knows them
  restart ID --level ui-reload|ui|agent|host [--force] [--reason TEXT] [--wait [--wait-timeout D]]
  print-test ID [--force]          print a test page (never over a taxpayer's visit unless --force)
  maintenance ID on|off [--message TEXT]
  diag ID [--out FILE]             the kiosk's support bundle (JSON, at most 256 KB)

global flags (also allowed after the command):
  --nats URL     hub NATS, comma-separated for a cluster (default $KIOSKCTL_NATS, else nats://127.0.0.1:4222)
  --creds FILE   operator .creds from 'kioskhub creds operator' (default $KIOSKCTL_CREDS)
  --ca FILE      private CA of the hub's TLS certificate (tls:// URLs)
  --json         machine-readable output
  --timeout D    how long to wait for a reply (default 5s; print-test 100s)
  --expires D    the kiosk refuses the command after this long (default 5m)
  --as NAME      Kiosk-Requested-By (default: the name in the .creds file, else $USER)
  --cmd-id ID    Kiosk-Cmd-Id (default: a new UUIDv7); an id used before gets its first reply, nothing runs again
  --tz ZONE      time zone of the times shown (default Asia/Jakarta, WIB)

restart --wait follows the command until its command.result (a host reboot: the next
lifecycle.boot carrying the command id), at most --wait-timeout (default: until the
command expires, plus 30s, plus 5m for --level host).

exit codes: 0 ok, 1 error, 2 usage, 3 kiosk offline (no responders), 4 rejected or expired
`

// commands lists the commands in the order of the usage.
var commands = []string{"ls", "status", "faults", "restart", "print-test", "maintenance", "diag"}

// failure is an error with its exit code. msg is printed to stderr as
// "kioskctl: msg" unless it is empty (the output already said it).
type failure struct {
	code int
	msg  string
}

func (f *failure) Error() string { return f.msg }

func usageErr(format string, args ...any) error {
	return &failure{code: exitUsage, msg: fmt.Sprintf(format, args...)}
}

func fail(code int, format string, args ...any) error {
	return &failure{code: code, msg: fmt.Sprintf(format, args...)}
}

func (c *cli) run(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) int {
	c.stdout, c.stderr, c.env = stdout, stderr, env
	if c.now == nil {
		c.now = time.Now
	}
	err := c.main(ctx, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	if err == nil {
		return exitOK
	}
	var f *failure
	if !errors.As(err, &f) {
		fmt.Fprintln(stderr, "kioskctl:", err)
		return exitError
	}
	if f.msg != "" {
		fmt.Fprintln(stderr, "kioskctl:", f.msg)
	}
	if f.code == exitUsage {
		fmt.Fprint(stderr, usage)
	}
	return f.code
}

// globalFlags defines the global flags on fs with o's current values as
// defaults, so a flag given before the command survives its redefinition
// on the command's flag set.
func globalFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.nats, "nats", o.nats, "hub NATS URL")
	fs.StringVar(&o.creds, "creds", o.creds, "operator .creds file")
	fs.StringVar(&o.ca, "ca", o.ca, "private CA of the hub's TLS certificate")
	fs.BoolVar(&o.json, "json", o.json, "machine-readable output")
	fs.DurationVar(&o.timeout, "timeout", o.timeout, "reply timeout")
	fs.DurationVar(&o.expires, "expires", o.expires, "command lifetime")
	fs.StringVar(&o.as, "as", o.as, "operator name sent as Kiosk-Requested-By")
	fs.StringVar(&o.cmdID, "cmd-id", o.cmdID, "command id (Kiosk-Cmd-Id)")
	fs.StringVar(&o.tz, "tz", o.tz, "display time zone")
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // our own one-line message and usage instead
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args with flags allowed before, between and after the
// positional arguments, which it returns.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		n := len(args)
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// "--" ends the flags: everything after it is positional.
		if consumed := args[:n-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func (c *cli) main(ctx context.Context, args []string) error {
	c.o = options{nats: defaultNATS, timeout: defaultTimeout, expires: defaultExpires}
	if v := c.env("KIOSKCTL_NATS"); v != "" {
		c.o.nats = v
	}
	c.o.creds = c.env("KIOSKCTL_CREDS")

	fs := newFlagSet("kioskctl")
	globalFlags(fs, &c.o)
	if err := fs.Parse(args); err != nil {
		return flagErr(err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if fs.NArg() == 0 {
		return usageErr("no command given")
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	if name == "help" {
		return flag.ErrHelp
	}
	if !slices.Contains(commands, name) {
		return usageErr("unknown command %q (have: %s)", name, strings.Join(commands, ", "))
	}

	var co cmdOptions
	cfs := newFlagSet("kioskctl " + name)
	globalFlags(cfs, &c.o)
	switch name {
	case "ls", "faults":
		cfs.StringVar(&co.office, "office", "", "only this office")
	case "restart":
		cfs.StringVar(&co.level, "level", "", "ui-reload, ui, agent or host")
		cfs.BoolVar(&co.force, "force", false, "do not wait for a taxpayer's session or a print to end")
		cfs.BoolVar(&co.wait, "wait", false, "follow the command until its result")
		cfs.DurationVar(&co.waitTimeout, "wait-timeout", 0, "how long --wait waits")
		cfs.StringVar(&co.reason, "reason", "", "why, for the kiosk's log")
	case "print-test":
		cfs.BoolVar(&co.force, "force", false, "print even during a taxpayer's session")
	case "maintenance":
		cfs.StringVar(&co.message, "message", "", "the message on the out-of-service screen")
	case "diag":
		cfs.StringVar(&co.out, "out", "", "write the bundle to this file")
	}
	pos, err := parseFlags(cfs, rest)
	if err != nil {
		return flagErr(err)
	}
	cfs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	if err := c.checkGlobal(); err != nil {
		return err
	}
	c.color = !c.o.json && isTerminal(c.stdout) && c.env("NO_COLOR") == ""

	// The arguments of each command, checked before anything is sent.
	var id string
	switch name {
	case "ls", "faults":
		if len(pos) > 0 {
			return usageErr("%s takes no arguments (got %q); use --office to filter", name, pos)
		}
		if co.office != "" {
			if err := kiosk.CheckID("office", co.office); err != nil {
				return usageErr("%v", err)
			}
		}
	default:
		if len(pos) == 0 {
			return usageErr("%s needs a kiosk id, e.g. kioskctl %s padang-01", name, name)
		}
		id = pos[0]
		if err := kiosk.CheckID("kiosk id", id); err != nil {
			return usageErr("%v", err)
		}
		want := 1
		if name == "maintenance" {
			want = 2
		}
		if len(pos) < want {
			return usageErr("maintenance needs on or off, e.g. kioskctl maintenance %s on --message \"Printer diganti\"", id)
		}
		if len(pos) > want {
			return usageErr("%s: unexpected argument %q", name, pos[want])
		}
	}
	if name == "print-test" && !set["timeout"] {
		c.o.timeout = printTestTimeout
	}

	switch name {
	case "ls":
		return c.withConn(ctx, func(k *conn) error { return c.ls(ctx, k, co.office) })
	case "faults":
		return c.withConn(ctx, func(k *conn) error { return c.faults(ctx, k, co.office) })
	case "status":
		return c.withConn(ctx, func(k *conn) error { return c.status(ctx, k, id) })
	case "restart":
		switch co.level {
		case kiosk.RestartUIReload, kiosk.RestartUI, kiosk.RestartAgent, kiosk.RestartHost:
		case "":
			return usageErr("restart needs --level ui-reload, ui, agent or host")
		default:
			return usageErr("restart: --level %q: want ui-reload, ui, agent or host", co.level)
		}
		if co.waitTimeout < 0 {
			return usageErr("--wait-timeout %v: want a positive duration", co.waitTimeout)
		}
		if set["wait-timeout"] && !co.wait {
			return usageErr("--wait-timeout goes with --wait")
		}
		if err := checkText("--reason", co.reason, 500); err != nil {
			return err
		}
		return c.withConn(ctx, func(k *conn) error { return c.restart(ctx, k, id, co) })
	case "print-test":
		return c.withConn(ctx, func(k *conn) error { return c.printTest(ctx, k, id, co.force) })
	case "maintenance":
		var on bool
		switch pos[1] {
		case "on":
			on = true
		case "off":
			if set["message"] {
				return usageErr("--message goes with maintenance on")
			}
		default:
			return usageErr("maintenance: %q: want on or off", pos[1])
		}
		if err := checkText("--message", co.message, 500); err != nil {
			return err
		}
		return c.withConn(ctx, func(k *conn) error { return c.maintenance(ctx, k, id, on, co.message) })
	case "diag":
		return c.withConn(ctx, func(k *conn) error { return c.diag(ctx, k, id, co.out) })
	}
	return fmt.Errorf("command %s is listed but not wired up", name) // a programming error
}

// flagErr turns an error of the flag package into a usage error.
func flagErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return usageErr("%v", err)
}

// checkGlobal validates the global flags and fills in what derives from
// them (time zone, the requester's name).
func (c *cli) checkGlobal() error {
	o := &c.o
	if strings.TrimSpace(o.nats) == "" {
		return usageErr("--nats is empty: give the hub's NATS URL, e.g. nats://127.0.0.1:4222")
	}
	if o.timeout <= 0 {
		return usageErr("--timeout %v: want a positive duration, e.g. 5s", o.timeout)
	}
	if o.expires <= 0 {
		return usageErr("--expires %v: want a positive duration, e.g. 5m", o.expires)
	}
	loc, err := kiosk.LoadTZ(o.tz)
	if err != nil {
		return usageErr("--tz %q: unknown time zone (e.g. Asia/Jakarta)", o.tz)
	}
	c.tz = loc
	for _, f := range []struct{ flag, file string }{{"--creds", o.creds}, {"--ca", o.ca}} {
		if f.file == "" {
			continue
		}
		if _, err := os.Stat(f.file); err != nil {
			return usageErr("%s: %v", f.flag, err)
		}
	}
	if o.cmdID != "" {
		if len(o.cmdID) > 128 || strings.ContainsFunc(o.cmdID, func(r rune) bool { return r <= ' ' || r > '~' }) {
			return usageErr("--cmd-id %q: want at most 128 printable ASCII characters without spaces", o.cmdID)
		}
	}
	if o.as == "" && o.creds != "" {
		o.as = credsName(o.creds) // conn.go
	}
	if o.as == "" {
		o.as = c.env("USER")
	}
	return checkText("--as", o.as, 64)
}

// checkText refuses control characters (a header or a screen line) and
// text longer than max characters.
func checkText(flag, s string, max int) error {
	if strings.ContainsFunc(s, unicode.IsControl) {
		return usageErr("%s: no control characters or line breaks, please", flag)
	}
	if n := len([]rune(s)); n > max {
		return usageErr("%s is %d characters long; at most %d", flag, n, max)
	}
	return nil
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
