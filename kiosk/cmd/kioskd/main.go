// Command kioskd is the kiosk agent: it serves the taxpayer screen on
// loopback, looks plates up at the hub over NATS with a SQLite cache, and
// supervises the kioskui window.
//
// Exit codes: 0 clean stop, 1 runtime error, 2 usage or configuration
// error (systemd: RestartPreventExitStatus=2), 3 restart requested by a
// remote command (systemd's Restart=always starts it again).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/flagconf"
	"github.com/sumbar-samsat/pkbkiosk/printer/printerdev"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop() // os.Exit skips defers
	os.Exit(exitCode(err))
}

// errUsage marks a usage error already reported by the flag package.
var errUsage = errors.New("usage")

func exitCode(err error) int {
	switch {
	case errors.Is(err, agent.ErrRestart):
		return 3 // restart requested (remote command): systemd starts kioskd again
	case err == nil, errors.Is(err, context.Canceled):
		return 0
	case errors.Is(err, errUsage), errors.Is(err, agent.ErrConfig):
		return 2
	default:
		return 1
	}
}

// commands are the flags that are commands, not settings: never read from
// the config file nor printed by --print-config.
var commands = []string{"config", "print-config", "version"}

// options are the flags that are not agent.Config fields.
type options struct {
	hostRestart                     string
	config, printer, ups, tz, level string
	printConfig, version            bool
}

// newFlags defines kioskd's flags on cfg and o. The config file's keys are
// their names (kiosk/flagconf).
func newFlags(cfg *agent.Config, o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("kioskd", flag.ContinueOnError)
	fs.StringVar(&cfg.ID, "id", "", "kiosk id, e.g. padang-01 (required)")
	fs.StringVar(&cfg.Office, "office", "", "office (UPTD) code, e.g. padang (required)")
	fs.StringVar(&cfg.Data, "data", "", "data directory: store, cache key (required)")
	fs.StringVar(&cfg.NATS, "nats", "", "hub NATS URL, e.g. nats://hub:4222 (required)")
	fs.StringVar(&cfg.Creds, "creds", "", "NATS credentials file (.creds) from `kioskhub creds issue`")
	fs.StringVar(&cfg.NATSCA, "nats-ca", "", "CA file (PEM) that signed the hub's NATS certificate (a private CA); default: the system's CAs")
	fs.StringVar(&cfg.NATSCert, "nats-cert", "", "client certificate (PEM), when the hub requires one")
	fs.StringVar(&cfg.NATSKey, "nats-key", "", "private key (PEM) of --nats-cert")
	fs.StringVar(&cfg.HTTP, "http", cfg.HTTP, "loopback address of the taxpayer page and API")
	fs.StringVar(&o.printer, "printer", "none", "receipt printer: usb[:VID:PID] | serial:PATH[?baud=N] | tcp:HOST:PORT | none")
	fs.IntVar(&cfg.PrinterColumns, "printer-columns", 0, "slip width in characters: 32, 36, 42 or 48 (0: from the printer model)")
	fs.StringVar(&cfg.PrinterModel, "printer-model", "", "escpos-printer-db profile id (e.g. TM-T20II, ZJ-5870) when the printer cannot be identified")
	fs.StringVar(&cfg.NearEndSensor, "printer-near-end", "auto", "paper near-end sensor fitted: yes, no or auto (learn from the printer)")
	fs.DurationVar(&cfg.PrinterPoll, "printer-poll", cfg.PrinterPoll, "printer status poll interval while idle")
	fs.IntVar(&cfg.PrintAttempts, "print-attempts", cfg.PrintAttempts, "slips a taxpayer may print in one session")
	fs.StringVar(&cfg.OfficeName, "office-name", "", "office name on the slip (default: UPTD PPD <OFFICE>)")
	fs.StringVar(&cfg.UI, "ui", cfg.UI, "auto: start kioskui when a display exists; off: never")
	fs.StringVar(&cfg.KioskUI, "kioskui", "", "kioskui binary (default: next to kioskd)")
	fs.BoolVar(&cfg.UIFullscreen, "ui-fullscreen", false, "start kioskui full-screen")
	fs.StringVar(&cfg.UISupervisor, "ui-supervisor", cfg.UISupervisor, "child: start kioskui as a child process; systemd: a unit runs it (cage -- kioskui) and kioskd restarts that unit")
	fs.StringVar(&cfg.UIUnit, "ui-unit", cfg.UIUnit, "systemd unit of the kiosk screen, restarted with 'systemctl restart' when its page stops pinging (--ui-supervisor systemd)")
	fs.DurationVar(&cfg.Heartbeat, "heartbeat", cfg.Heartbeat, "status heartbeat interval")
	fs.StringVar(&cfg.BootIDFile, "boot-id-file", cfg.BootIDFile, "kernel boot id file")
	fs.BoolVar(&cfg.RequireRangka5, "require-rangka5", cfg.RequireRangka5, "ask for the last 5 characters of the chassis number")
	fs.DurationVar(&cfg.LookupTimeout, "lookup-timeout", cfg.LookupTimeout, "how long a lookup waits for the hub before using the cache")
	fs.DurationVar(&cfg.CacheFresh, "cache-fresh", cfg.CacheFresh, "serve a same-day cached result without asking the hub for this long")
	fs.IntVar(&cfg.CacheMax, "cache-max", cfg.CacheMax, "cached results kept (oldest evicted)")
	fs.DurationVar(&cfg.Idle, "idle", cfg.Idle, "no touch this long on the screen starts the reset countdown")
	fs.DurationVar(&cfg.Countdown, "countdown", cfg.Countdown, "visible countdown before the screen resets")
	fs.DurationVar(&cfg.UIUnresponsive, "ui-unresponsive", cfg.UIUnresponsive, "restart kioskui when its page has not pinged for this long")
	fs.DurationVar(&cfg.DiskCheck, "disk-check", cfg.DiskCheck, "how often the free space of --data is checked")
	fs.Uint64Var(&cfg.DiskLow, "disk-low", cfg.DiskLow, "free bytes below which disk.low is raised")
	fs.IntVar(&cfg.Drill, "drill", 0, "commissioning drill: emit N drill.tick events a second through the outbox to the hub (not for a kiosk in service)")
	fs.IntVar(&cfg.OutboxMax, "outbox-max", cfg.OutboxMax, "unsent events kept through a hub outage before old usage.summary events are dropped (faults never are)")
	fs.Uint64Var(&cfg.DiskFull, "disk-full", cfg.DiskFull, "free bytes below which disk.full is raised and the cache stops growing")
	fs.StringVar(&o.hostRestart, "host-restart", "systemctl reboot", "command a remote 'restart host' runs (split at spaces)")
	fs.StringVar(&o.ups, "ups", "", "NUT UPS to watch, e.g. ups@localhost (runs upsc); empty: no UPS")
	fs.DurationVar(&cfg.UPSPoll, "ups-poll", cfg.UPSPoll, "how often the UPS is asked")
	fs.DurationVar(&cfg.ClockSkewMax, "clock-skew-max", cfg.ClockSkewMax, "largest difference from the hub's clock before clock.skew")
	fs.DurationVar(&cfg.ContentRefresh, "content-refresh", cfg.ContentRefresh, "how often the help pages are asked from the hub")
	fs.StringVar(&o.tz, "tz", "Asia/Jakarta", "time zone of 'today' and of the times shown")
	fs.StringVar(&o.level, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.config, "config", "", "TOML config file; its keys are the flag names, and a flag given on the command line overrides it")
	fs.BoolVar(&o.printConfig, "print-config", false, "print the effective configuration as TOML and exit")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	return fs
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := agent.DefaultConfig()
	var o options
	fs := newFlags(&cfg, &o)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kioskd: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	if o.version {
		fmt.Fprintln(stdout, kiosk.Version)
		return nil
	}
	if o.config != "" {
		if err := flagconf.Load(fs, o.config, commands...); err != nil {
			fmt.Fprintln(stderr, "kioskd:", err)
			return errUsage
		}
	}
	spec, err := printerdev.ParseSpec(o.printer)
	if err != nil {
		fmt.Fprintln(stderr, "kioskd: --printer:", err)
		return errUsage
	}
	if spec.Kind != "none" {
		cfg.PrinterTransport = spec.Kind
		cfg.OpenPrinter = func(ctx context.Context) (agent.PrinterPort, error) { return printerdev.Open(ctx, spec) }
	}
	if cfg.TZ, err = kiosk.LoadTZ(o.tz); err != nil {
		fmt.Fprintln(stderr, "kioskd:", err)
		return errUsage
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(o.level)); err != nil {
		fmt.Fprintf(stderr, "kioskd: --log-level %q: want debug, info, warn or error\n", o.level)
		return errUsage
	}
	if o.printConfig {
		if err := flagconf.Print(stdout, fs, commands...); err != nil {
			fmt.Fprintln(stderr, "kioskd:", err)
			return errUsage
		}
		return nil
	}
	if o.ups != "" {
		cfg.UPSCommand = []string{"upsc", o.ups}
	}
	if cfg.HostRestart = strings.Fields(o.hostRestart); len(cfg.HostRestart) == 0 {
		fmt.Fprintln(stderr, "kioskd: --host-restart is empty: want a command such as \"systemctl reboot\"")
		return errUsage
	}
	// Env is read here and only here.
	cfg.Display = os.Getenv("WAYLAND_DISPLAY")
	if cfg.Display == "" {
		cfg.Display = os.Getenv("DISPLAY")
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))

	a, err := agent.New(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "kioskd:", err)
		return err
	}
	defer a.Close()
	fmt.Fprintf(stdout, "kioskd %s: taxpayer page on %s\n", kiosk.Version, a.URL())
	err = a.Run(ctx)
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "kioskd:", err)
	}
	return err
}
