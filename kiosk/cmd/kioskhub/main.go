// Command kioskhub is the hub at Bidang Sistim: the NATS server (embedded,
// with JetStream) and the plate lookup gateway.
//
//	kioskhub --data DIR [--nats-listen 127.0.0.1:4222 | --nats-url URL] [--source sample] [--sample-size N]
//	kioskhub sample plates --data DIR [--n 20]
//	kioskhub creds issue KIOSK_ID --office OFFICE --data DIR --out FILE [--replace]
//	kioskhub creds operator NAME --data DIR --out FILE [--replace]
//	kioskhub creds revoke KIOSK_ID|NAME|PUBLIC_KEY --data DIR [--nats-url URL]
//	kioskhub creds ls --data DIR
//	kioskhub user add NAME --role uptd|sistim|admin [--office OFFICE] --data DIR [--password-stdin]
//	kioskhub user disable|enable NAME --data DIR
//	kioskhub rebuild --data DIR [--nats-url URL]
//	kioskhub backup --data DIR --to DIR [--keep 7]
//	kioskhub restore --data DIR --from BACKUP_DIR [--force]
//
// Exit codes: 0 clean stop, 1 runtime error, 2 usage or configuration error.
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
	"syscall"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/flagconf"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err))
}

var errUsage = errors.New("usage")

func exitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return 0
	case errors.Is(err, errUsage), errors.Is(err, hubserver.ErrConfig):
		return 2
	default:
		return 1
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) >= 1 && args[0] == "sample" {
		return runSample(ctx, args[1:], stdout, stderr)
	}
	if len(args) >= 1 {
		switch args[0] {
		case "creds":
			return runCreds(ctx, args[1:], stdout, stderr) // creds.go
		case "user":
			return runUser(ctx, args[1:], os.Stdin, stdout, stderr) // admin.go
		case "rebuild":
			return runRebuild(ctx, args[1:], stdout, stderr)
		case "backup":
			return runBackup(ctx, args[1:], stdout, stderr)
		case "restore":
			return runRestore(ctx, args[1:], stdout, stderr)
		}
	}
	cfg := hubserver.DefaultConfig()
	var o options
	fs := newFlags(&cfg, &o)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if o.version {
		fmt.Fprintln(stdout, kiosk.Version)
		return nil
	}
	if o.config != "" {
		if err := flagconf.Load(fs, o.config, commands...); err != nil {
			fmt.Fprintln(stderr, "kioskhub:", err)
			return errUsage
		}
	}
	if o.printConfig && fs.NArg() == 0 { // unchecked: a template needs no --data
		if err := flagconf.Print(stdout, fs, commands...); err != nil {
			fmt.Fprintln(stderr, "kioskhub:", err)
			return errUsage
		}
		return nil
	}
	if err := checkCommon(fs, cfg, stderr); err != nil {
		return err
	}
	if err := finishIncidentFlags(&cfg, o); err != nil {
		fmt.Fprintln(stderr, "kioskhub:", err)
		return errUsage
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(o.level)); err != nil {
		fmt.Fprintf(stderr, "kioskhub: --log-level %q: want debug, info, warn or error\n", o.level)
		return errUsage
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))
	h, err := hubserver.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "kioskhub:", err)
		return err
	}
	fmt.Fprintf(stdout, "kioskhub %s: NATS on %s\n", kiosk.Version, h.NATSURL())
	<-ctx.Done()
	if err := h.Close(); err != nil {
		fmt.Fprintln(stderr, "kioskhub: stop:", err)
		return err
	}
	return ctx.Err()
}

// commands are the flags that are commands, not settings: never read from
// the config file nor printed by --print-config.
var commands = []string{"config", "print-config", "version"}

// options are the hub's flags that are not hubserver.Config fields.
type options struct {
	config, level        string
	printConfig, version bool
	holidays, targets    string
}

// newFlags defines the hub daemon's flags on cfg and o (not those of the
// subcommands). The config file's keys are their names (kiosk/flagconf).
func newFlags(cfg *hubserver.Config, o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("kioskhub", flag.ContinueOnError)
	commonFlags(fs, cfg)
	fs.StringVar(&cfg.NATSListen, "nats-listen", cfg.NATSListen, "address of the embedded NATS server")
	fs.StringVar(&cfg.NATSURL, "nats-url", "", "use this external NATS (cluster) instead of the embedded server")
	fs.StringVar(&cfg.HTTP, "http", "127.0.0.1:8480", "HTTP address (/healthz, /metrics); empty to disable")
	fs.StringVar(&cfg.Source, "source", cfg.Source, "lookup source: sample")
	fs.StringVar(&cfg.Content, "content", "", "directory of kiosk content bundles: <office>.json, default.json (default <data>/content)")
	fs.Int64Var(&cfg.JetStreamMaxMemory, "js-max-memory", cfg.JetStreamMaxMemory, "JetStream memory limit of the embedded server, bytes")
	fs.Int64Var(&cfg.JetStreamMaxStore, "js-max-store", cfg.JetStreamMaxStore, "JetStream disk limit of the embedded server, bytes")
	fs.IntVar(&cfg.Replicas, "replicas", cfg.Replicas, "replicas of the JetStream streams: 1 on a single box, 3 on a cluster")
	fs.BoolVar(&cfg.RequireRangka5, "require-rangka5", cfg.RequireRangka5, "refuse lookups without the rangka5 factor")
	fs.IntVar(&cfg.RatePerMinute, "rate", cfg.RatePerMinute, "lookups per minute allowed per kiosk (0: unlimited)")
	fs.IntVar(&cfg.Burst, "burst", cfg.Burst, "lookup burst allowed per kiosk")
	authFlags(fs, cfg) // creds.go
	incidentFlags(fs, cfg, o)
	fs.StringVar(&o.level, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.config, "config", "", "TOML config file; its keys are the flag names, and a flag given on the command line overrides it")
	fs.BoolVar(&o.printConfig, "print-config", false, "print the effective configuration as TOML and exit")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	return fs
}

func commonFlags(fs *flag.FlagSet, cfg *hubserver.Config) {
	fs.StringVar(&cfg.Data, "data", "", "data directory (required)")
	fs.IntVar(&cfg.SampleSize, "sample-size", cfg.SampleSize, "vehicles in the generated sample store")
	fs.Int64Var(&cfg.SampleSeed, "sample-seed", cfg.SampleSeed, "seed of the sample generator")
}

func checkCommon(fs *flag.FlagSet, cfg hubserver.Config, stderr io.Writer) error {
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return errUsage
	}
	if cfg.Data == "" {
		fmt.Fprintf(stderr, "%s: --data is required\n", fs.Name())
		return errUsage
	}
	if cfg.SampleSize < 1 || cfg.SampleSize > 10_000_000 {
		fmt.Fprintf(stderr, "%s: --sample-size %d: want 1..10000000\n", fs.Name(), cfg.SampleSize)
		return errUsage
	}
	return nil
}

// runSample implements "kioskhub sample plates".
func runSample(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "plates" {
		fmt.Fprintln(stderr, "usage: kioskhub sample plates --data DIR [--n 20]")
		return errUsage
	}
	cfg := hubserver.DefaultConfig()
	fs := flag.NewFlagSet("kioskhub sample plates", flag.ContinueOnError)
	fs.SetOutput(stderr)
	commonFlags(fs, &cfg)
	n := fs.Int("n", 20, "how many plates, spread over the categories")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if err := checkCommon(fs, cfg, stderr); err != nil {
		return err
	}
	if *n < 1 || *n > 10_000 {
		fmt.Fprintf(stderr, "kioskhub sample plates: --n %d: want 1..10000\n", *n)
		return errUsage
	}
	plates, err := hubserver.SamplePlates(ctx, cfg, *n)
	if err != nil {
		fmt.Fprintln(stderr, "kioskhub:", err)
		return err
	}
	for _, p := range plates {
		fmt.Fprintf(stdout, "%s\t%s\t%s\n", p.Plate, p.Rangka5, p.Category)
	}
	return nil
}
