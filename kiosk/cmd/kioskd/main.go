// Command kioskd is the kiosk agent: it serves the taxpayer screen on
// loopback, looks plates up at the hub over NATS with a SQLite cache, and
// supervises the kioskui window.
//
// Exit codes: 0 clean stop, 1 runtime error, 2 usage or configuration
// error (systemd: RestartPreventExitStatus=2).
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
	case err == nil, errors.Is(err, context.Canceled):
		return 0
	case errors.Is(err, errUsage), errors.Is(err, agent.ErrConfig):
		return 2
	default:
		return 1
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := agent.DefaultConfig()
	fs := flag.NewFlagSet("kioskd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.ID, "id", "", "kiosk id, e.g. padang-01 (required)")
	fs.StringVar(&cfg.Office, "office", "", "office (UPTD) code, e.g. padang (required)")
	fs.StringVar(&cfg.Data, "data", "", "data directory: store, cache key (required)")
	fs.StringVar(&cfg.NATS, "nats", "", "hub NATS URL, e.g. nats://hub:4222 (required)")
	fs.StringVar(&cfg.Creds, "creds", "", "NATS credentials file (.creds)")
	fs.StringVar(&cfg.HTTP, "http", cfg.HTTP, "loopback address of the taxpayer page and API")
	printer := fs.String("printer", "none", "receipt printer: usb[:VID:PID] | serial:PATH[?baud=N] | tcp:HOST:PORT | none")
	fs.IntVar(&cfg.PrinterColumns, "printer-columns", 0, "slip width in characters: 32, 36, 42 or 48 (0: from the printer model)")
	fs.StringVar(&cfg.PrinterModel, "printer-model", "", "escpos-printer-db profile id (e.g. TM-T20II, ZJ-5870) when the printer cannot be identified")
	fs.StringVar(&cfg.NearEndSensor, "printer-near-end", "auto", "paper near-end sensor fitted: yes, no or auto (learn from the printer)")
	fs.DurationVar(&cfg.PrinterPoll, "printer-poll", cfg.PrinterPoll, "printer status poll interval while idle")
	fs.IntVar(&cfg.PrintAttempts, "print-attempts", cfg.PrintAttempts, "slips a taxpayer may print in one session")
	fs.StringVar(&cfg.OfficeName, "office-name", "", "office name on the slip (default: UPTD PPD <OFFICE>)")
	fs.StringVar(&cfg.UI, "ui", cfg.UI, "auto: start kioskui when a display exists; off: never")
	fs.StringVar(&cfg.KioskUI, "kioskui", "", "kioskui binary (default: next to kioskd)")
	fs.BoolVar(&cfg.UIFullscreen, "ui-fullscreen", false, "start kioskui full-screen")
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
	ups := fs.String("ups", "", "NUT UPS to watch, e.g. ups@localhost (runs upsc); empty: no UPS")
	fs.DurationVar(&cfg.UPSPoll, "ups-poll", cfg.UPSPoll, "how often the UPS is asked")
	fs.DurationVar(&cfg.ClockSkewMax, "clock-skew-max", cfg.ClockSkewMax, "largest difference from the hub's clock before clock.skew")
	fs.DurationVar(&cfg.ContentRefresh, "content-refresh", cfg.ContentRefresh, "how often the help pages are asked from the hub")
	tz := fs.String("tz", "Asia/Jakarta", "time zone of 'today' and of the times shown")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	printCfg := fs.Bool("print-config", false, "print the effective configuration and exit")
	version := fs.Bool("version", false, "print the version and exit")
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
	if *version {
		fmt.Fprintln(stdout, kiosk.Version)
		return nil
	}
	spec, err := printerdev.ParseSpec(*printer)
	if err != nil {
		fmt.Fprintln(stderr, "kioskd: --printer:", err)
		return errUsage
	}
	if spec.Kind != "none" {
		cfg.PrinterTransport = spec.Kind
		cfg.OpenPrinter = func(ctx context.Context) (agent.PrinterPort, error) { return printerdev.Open(ctx, spec) }
	}
	if cfg.TZ, err = kiosk.LoadTZ(*tz); err != nil {
		fmt.Fprintln(stderr, "kioskd:", err)
		return errUsage
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(stderr, "kioskd: --log-level %q: want debug, info, warn or error\n", *level)
		return errUsage
	}
	if *printCfg {
		fs.VisitAll(func(f *flag.Flag) {
			if f.Name != "print-config" && f.Name != "version" {
				fmt.Fprintf(stdout, "%s = %q\n", strings.ReplaceAll(f.Name, "-", "_"), f.Value.String())
			}
		})
		return nil
	}
	if *ups != "" {
		cfg.UPSCommand = []string{"upsc", *ups}
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
