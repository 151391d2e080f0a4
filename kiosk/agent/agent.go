// Package agent is kioskd, the long-lived kiosk daemon: it serves the
// taxpayer screen on loopback, looks plates up at the hub over NATS with a
// SQLite cache in front, and keeps the kioskui window running.
//
// # Concepts
//
// The agent never needs a display and never dies of a fault it can report:
// a missing hub means answers from the cache, a database written by a newer
// version means a fresh store beside it, a crashing window means a restart
// with backoff. Only a bad configuration stops it (exit code 2).
//
// Lookups go to the hub when the NATS connection is up and to the cache
// when it is not, so a taxpayer never waits for a timeout on a dead link.
// Results are cached under an HMAC of plate and rangka5, written by a
// background goroutine so that no lookup waits for an fsync.
package agent

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/printer/models"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsbus"
	"github.com/sumbar-samsat/pkbkiosk/sync/outbox"
	"github.com/sumbar-samsat/pkbkiosk/ui"
)

// Config configures the agent. New fills in the documented defaults for
// zero values.
type Config struct {
	ID     string // kiosk id, e.g. padang-01 (required)
	Office string // office (UPTD) code, e.g. padang (required)
	Data   string // data directory (required)
	NATS   string // hub NATS URL (required)
	Creds  string // NATS .creds file; "" for none
	// NATS TLS: NATSCA is the private CA of the hub's certificate ("" =
	// the system's CAs); NATSCert and NATSKey a client certificate, when
	// the hub requires one.
	NATSCA, NATSCert, NATSKey string

	HTTP string // loopback listen address, default 127.0.0.1:8321

	// OpenPrinter opens the receipt printer; nil means no printer. The
	// agent never opens a device itself: kioskd passes printerdev.Open,
	// tests pass a simulator's port or a playback.
	OpenPrinter      func(ctx context.Context) (PrinterPort, error)
	PrinterTransport string // usb | serial | tcp, for the status
	PrinterColumns   int    // slip width; 0 = from the model, else 32
	// PrinterModel is an escpos-printer-db profile id (e.g. "TM-T20II",
	// "ZJ-5870") for printers that cannot be identified over their port;
	// "" = ask the printer (USB device id, GS I).
	PrinterModel string
	// NearEndSensor says whether the roll has a near-end sensor: "yes",
	// "no" or "auto" (paper reads "unknown" until the printer once reports
	// near end, which proves the sensor). Optional on many models, so the
	// installer states it.
	NearEndSensor string
	PrinterPoll   time.Duration // status poll while idle, default 1s
	PrintAttempts int           // slips per session, default 3
	OfficeName    string        // slip header, default "UPTD PPD <OFFICE>"

	UI           string // "auto" (start kioskui when a display exists) or "off"
	KioskUI      string // kioskui binary; "" = kioskui next to this executable
	Display      string // $DISPLAY or $WAYLAND_DISPLAY as main read them; "" = none
	UIFullscreen bool   // start kioskui full-screen (kiosk PCs) rather than windowed
	// UISupervisor is how kioskui is kept running (DESIGN 2): "child" (the
	// default; "" too) starts it as a child process when a display exists;
	// "systemd" leaves it to the graphical session unit UIUnit (cage --
	// kioskui) and, when the page stops pinging, runs SystemctlCommand +
	// "restart" + UIUnit, the one call polkit allows the agent.
	UISupervisor     string
	UIUnit           string   // default kioskui.service
	SystemctlCommand []string // default systemctl --no-ask-password

	Heartbeat  time.Duration // status interval, default 10s
	BootIDFile string        // kernel boot id, default /proc/sys/kernel/random/boot_id

	RequireRangka5 bool          // lookup.require_rangka5
	LookupTimeout  time.Duration // gateway round trip, default 3s
	// CacheFresh is how long a cached result is served without asking the
	// gateway while online (and only on the day it was computed). Short, so
	// that a payment made at the counter shows up soon; default 10m.
	CacheFresh time.Duration
	CacheMax   int // cached results kept, oldest evicted; default 10,000

	// The taxpayer screen: no touch for Idle starts a visible Countdown,
	// then the screen resets (domain/pkb.md 4.2). The agent itself ends a
	// session that saw no request for Idle + Countdown + 30 s, in case the
	// page is gone.
	Idle      time.Duration // default 60s
	Countdown time.Duration // default 15s
	// UIUnresponsive is how long kioskui may go without a ping from its
	// page before it is restarted (ui.unresponsive); default 30s.
	UIUnresponsive time.Duration
	// ContentRefresh is how often the help and information pages are asked
	// from the hub (also at every (re)connect); default 10m.
	ContentRefresh time.Duration

	// Disk space of the data directory, checked every DiskCheck: below
	// DiskLow free bytes disk.low is raised, below DiskFull disk.full, and
	// the agent stops writing its cache.
	DiskCheck time.Duration // default 1m
	DiskLow   uint64        // default 1 GiB
	DiskFull  uint64        // default 100 MiB

	// OutboxMax bounds the unsent events kept through a long hub outage:
	// above it (and whenever disk.low or disk.full is raised) the oldest
	// unsent usage.summary events are dropped with an outbox.dropped
	// tombstone. Faults and lifecycle events are never dropped, so the
	// outbox can exceed it with those alone. Default 100,000.
	OutboxMax int
	// Drill, when above 0, emits that many drill.tick events a second
	// (kioskd --drill): a commissioning and test load, never for a kiosk
	// in service.
	Drill int

	// OutboxKeepSent is how many sent events stay in the store for
	// diagnosis after the stream acknowledged them; default 10,000.
	OutboxKeepSent int

	// HostRestart is the command a "restart host" runs; default
	// ["systemctl", "reboot"] (a polkit rule lets the kiosk user run it).
	HostRestart []string
	// CommandCheck is how often deferred commands are looked at; default 1s.
	CommandCheck time.Duration

	// LookupProbe is how often the lookup gateway is pinged; two failed
	// probes in a row raise lookup.unreachable. Default 15s.
	LookupProbe time.Duration

	// ClockCheck is how often the clock is compared with the hub's;
	// a difference above ClockSkewMax is clock.skew. Defaults 10m, 60s.
	ClockCheck   time.Duration
	ClockSkewMax time.Duration

	// UPSCommand prints NUT upsc output (e.g. ["upsc", "ups@localhost"]);
	// nil means no UPS. Polled every UPSPoll (default 10s) for
	// power.on_battery and power.battery_low.
	UPSCommand []string
	UPSPoll    time.Duration

	// OnFault, if set, is told every fault raised (true) and cleared
	// (false), once per change, in order; the reporting release turns these
	// into events.
	OnFault func(code string, raised bool)

	TZ     *time.Location   // nil = Asia/Jakarta
	Now    func() time.Time // nil = time.Now
	Logger *slog.Logger     // nil = discard

	// NATSOptions are extra client options (tests).
	NATSOptions []nats.Option
}

// DefaultConfig returns the defaults of the flags.
func DefaultConfig() Config {
	return Config{
		HTTP:           "127.0.0.1:8321",
		UI:             "auto",
		Heartbeat:      10 * time.Second,
		BootIDFile:     "/proc/sys/kernel/random/boot_id",
		RequireRangka5: true,
		LookupTimeout:  3 * time.Second,
		CacheFresh:     10 * time.Minute,
		CacheMax:       10_000,
		Idle:           60 * time.Second,
		Countdown:      15 * time.Second,
		UIUnresponsive: 30 * time.Second,
		UISupervisor:   uiChild,
		UIUnit:         defaultUIUnit,
		ContentRefresh: 10 * time.Minute,
		PrinterPoll:    time.Second,
		PrintAttempts:  3,
		DiskCheck:      time.Minute,
		ClockCheck:     10 * time.Minute,
		LookupProbe:    15 * time.Second,
		HostRestart:    []string{"systemctl", "reboot"},
		CommandCheck:   time.Second,
		ClockSkewMax:   time.Minute,
		UPSPoll:        10 * time.Second,
		DiskLow:        1 << 30,
		DiskFull:       100 << 20,
		OutboxMax:      100_000,
		OutboxKeepSent: 10_000,
	}
}

// orDefault sets *v to def when it is the zero value.
func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// ErrConfig marks configuration errors (exit code 2).
var ErrConfig = errors.New("agent: configuration")

// Agent is a configured kiosk daemon.
type Agent struct {
	cfg      Config // immutable after New
	log      *slog.Logger
	store    *outbox.Store
	storeOK  kiosk.StoreStatus
	key      []byte // cache HMAC secret
	epoch    string
	boot     string
	bootInfo bootInfo // how the previous run ended
	started  time.Time
	nc       *nats.Conn
	ln       net.Listener
	handler  http.Handler
	cacheCh  chan outbox.CacheEntry
	ui       *uiSupervisor
	wd       watchdog // sd_notify state (notify.go)

	changed     chan struct{}  // closed and replaced on every change the screen shows
	jobs        chan *printJob // to the printer loop
	drainKick   chan struct{}  // wakes the outbox drain
	drainMu     sync.Mutex     // held by a drain batch and by dropping events: never both
	compactKick chan struct{}  // wakes the outbox compaction (a disk fault was raised)
	usage       usageCounter
	metrics     *agentMetrics      // GET /metrics (metrics.go)
	logs        *logRing           // the last log lines, for diag
	cmdMu       sync.Mutex         // one remote command at a time
	exitCode    atomic.Int32       // 3 after restart agent: Run returns ErrRestart
	stopRun     context.CancelFunc // set by Run before the command service starts

	mu           sync.Mutex // guards the fields below
	session      *session   // nil when no taxpayer session is open
	lastPing     time.Time
	maintenance  maintenance
	content      kiosk.ContentBundle
	faults       map[string]time.Time // active local faults (ui.*, printer.*) since when
	faultSev     map[string]string    // severity each active fault was raised with
	reloads      int                  // ui-reload requests so far
	printer      kiosk.PrinterStatus  // last reading
	printerModel string
	printerCols  int
	powerSource  string // mains | battery | unknown
}

// session is one taxpayer's visit; it lives in memory only and is dropped
// whole when the visit ends.
type session struct {
	id       string
	lastSeen time.Time         // last request of the page in this session
	results  map[string][]byte // canonical plate -> result JSON, for printing
	jobs     map[string]*printJob
	prints   int // print requests so far
}

type maintenance struct {
	On      bool   `json:"on"`
	Message string `json:"message"`
}

// New checks cfg, opens the store and connects to NATS (in the background:
// the connection retries forever). It does not start serving; call Run.
func New(ctx context.Context, cfg Config) (_ *Agent, err error) {
	def := DefaultConfig()
	orDefault(&cfg.HTTP, def.HTTP)
	orDefault(&cfg.UI, def.UI)
	orDefault(&cfg.Heartbeat, def.Heartbeat)
	orDefault(&cfg.BootIDFile, def.BootIDFile)
	orDefault(&cfg.LookupTimeout, def.LookupTimeout)
	orDefault(&cfg.CacheFresh, def.CacheFresh)
	orDefault(&cfg.CacheMax, def.CacheMax)
	orDefault(&cfg.Idle, def.Idle)
	orDefault(&cfg.Countdown, def.Countdown)
	orDefault(&cfg.UIUnresponsive, def.UIUnresponsive)
	orDefault(&cfg.ContentRefresh, def.ContentRefresh)
	orDefault(&cfg.PrinterPoll, def.PrinterPoll)
	orDefault(&cfg.PrintAttempts, def.PrintAttempts)
	orDefault(&cfg.DiskCheck, def.DiskCheck)
	orDefault(&cfg.ClockCheck, def.ClockCheck)
	orDefault(&cfg.ClockSkewMax, def.ClockSkewMax)
	orDefault(&cfg.UPSPoll, def.UPSPoll)
	orDefault(&cfg.DiskLow, def.DiskLow)
	orDefault(&cfg.DiskFull, def.DiskFull)
	orDefault(&cfg.OutboxMax, def.OutboxMax)
	orDefault(&cfg.LookupProbe, def.LookupProbe)
	orDefault(&cfg.CommandCheck, def.CommandCheck)
	if len(cfg.HostRestart) == 0 {
		cfg.HostRestart = def.HostRestart
	}
	orDefault(&cfg.OutboxKeepSent, def.OutboxKeepSent)
	orDefault(&cfg.NearEndSensor, "auto")
	if cfg.OfficeName == "" {
		cfg.OfficeName = "UPTD PPD " + strings.ToUpper(cfg.Office)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TZ == nil {
		cfg.TZ, _ = kiosk.LoadTZ("")
	}
	if err := checkConfig(cfg); err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, log: cfg.Logger, started: cfg.Now(), cacheCh: make(chan outbox.CacheEntry, 64),
		changed: make(chan struct{}), jobs: make(chan *printJob, 4), drainKick: make(chan struct{}, 1), compactKick: make(chan struct{}, 1), faults: map[string]time.Time{}, faultSev: map[string]string{}}
	a.printer = kiosk.PrinterStatus{Paper: "unknown", Transport: "none"}
	a.powerSource = defaultUPSStatus
	a.metrics = newAgentMetrics(a)
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.logs = newLogRing(200)
	a.log = slog.New(newRingHandler(a.log.Handler(), a.logs)).With("kiosk", cfg.ID)
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return nil, fmt.Errorf("agent: data directory: %w", err)
	}
	if a.key, err = loadOrCreateKey(filepath.Join(cfg.Data, "cache.key")); err != nil {
		return nil, err
	}
	if err := a.openStore(ctx); err != nil {
		return nil, err
	}
	a.boot = readBootID(cfg.BootIDFile)
	if a.bootInfo, err = a.startLifecycle(ctx); err != nil {
		return nil, fmt.Errorf("agent: lifecycle: %w", err)
	}
	a.log.Info("previous shutdown", "prev", a.bootInfo.Prev, "outage_s", a.bootInfo.OutageS)
	if !a.storeOK.OK {
		// Reported like any fault, right after the boot: the hub opens an
		// incident; the kiosk keeps serving on the fresh store.
		a.setFault("store.incompatible")
	}
	if err := a.loadUsage(ctx); err != nil {
		return nil, fmt.Errorf("agent: usage counts: %w", err)
	}
	if err := a.loadScreenState(ctx); err != nil {
		return nil, err
	}
	// A slip interrupted by a crash or a power cut is never printed later
	// for someone else.
	if n, err := a.store.JobsFailUnfinished(ctx, "interrupted", cfg.Now()); err != nil {
		return nil, err
	} else if n > 0 {
		a.log.Warn("unfinished print jobs marked failed", "count", n)
	}

	a.ln, err = net.Listen("tcp", cfg.HTTP)
	if err != nil {
		return nil, fmt.Errorf("agent: listen %s: %w", cfg.HTTP, err)
	}
	port := strconv.Itoa(a.ln.Addr().(*net.TCPAddr).Port)
	a.handler = ui.Handler(backend{a}, &ui.Opts{Hosts: []string{
		net.JoinHostPort("127.0.0.1", port), net.JoinHostPort("localhost", port), net.JoinHostPort("::1", port),
	}, Metrics: a.metrics.handler()})

	a.nc, err = natsbus.Connect(natsbus.ClientConfig{URL: cfg.NATS, ID: cfg.ID, Creds: cfg.Creds,
		CA: cfg.NATSCA, Cert: cfg.NATSCert, Key: cfg.NATSKey, Logger: a.log, Options: cfg.NATSOptions})
	if err != nil {
		return nil, err
	}
	a.ui = newUISupervisor(a)
	return a, nil
}

func checkConfig(cfg Config) error {
	var errs []error
	if err := kiosk.CheckID("--id", cfg.ID); err != nil {
		errs = append(errs, err)
	}
	if err := kiosk.CheckID("--office", cfg.Office); err != nil {
		errs = append(errs, err)
	}
	if cfg.Data == "" {
		errs = append(errs, errors.New("--data is required (the agent's data directory)"))
	}
	errs = append(errs, checkNATSFiles(cfg)...) // natsfiles.go
	if cfg.NATS == "" {
		errs = append(errs, errors.New("--nats is required (the hub's NATS URL, e.g. nats://127.0.0.1:4222)"))
	}
	if host, _, err := net.SplitHostPort(cfg.HTTP); err != nil {
		errs = append(errs, fmt.Errorf("--http %q: %w", cfg.HTTP, err))
	} else if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		// The API has no authentication: it must never leave the PC.
		errs = append(errs, fmt.Errorf("--http %q: the agent listens on loopback only (127.0.0.1, ::1 or localhost)", cfg.HTTP))
	}
	if cfg.UI != "auto" && cfg.UI != "off" {
		errs = append(errs, fmt.Errorf("--ui %q: want auto or off", cfg.UI))
	}
	errs = append(errs, checkUISupervisor(cfg)...)
	if cfg.Heartbeat < time.Second {
		errs = append(errs, fmt.Errorf("--heartbeat %v: at least 1s", cfg.Heartbeat))
	}
	if cfg.LookupTimeout < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("--lookup-timeout %v: at least 100ms", cfg.LookupTimeout))
	}
	if cfg.Idle < 2*time.Second || cfg.Countdown < 2*time.Second {
		errs = append(errs, fmt.Errorf("--idle %v / --countdown %v: at least 2s each", cfg.Idle, cfg.Countdown))
	}
	if cfg.UIUnresponsive < time.Second {
		errs = append(errs, fmt.Errorf("--ui-unresponsive %v: at least 1s", cfg.UIUnresponsive))
	}
	if cfg.ContentRefresh < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("--content-refresh %v: at least 100ms", cfg.ContentRefresh))
	}
	if cfg.Drill < 0 || cfg.Drill > 10_000 {
		errs = append(errs, fmt.Errorf("--drill %d: 0 (off) to 10000 events a second", cfg.Drill))
	}
	if cfg.OutboxMax < 0 || cfg.OutboxKeepSent < 0 {
		errs = append(errs, fmt.Errorf("--outbox-max %d: must not be negative", cfg.OutboxMax))
	}
	if cfg.DiskFull > cfg.DiskLow {
		errs = append(errs, fmt.Errorf("--disk-full %d is above --disk-low %d", cfg.DiskFull, cfg.DiskLow))
	}
	if cfg.PrinterPoll < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("--printer-poll %v: at least 100ms", cfg.PrinterPoll))
	}
	if cfg.PrinterModel != "" {
		if _, ok := models.Lookup(cfg.PrinterModel); !ok {
			errs = append(errs, fmt.Errorf("--printer-model %q: not an escpos-printer-db profile id (e.g. TM-T20II, TM-T88V, ZJ-5870)", cfg.PrinterModel))
		}
	}
	switch cfg.NearEndSensor {
	case "auto", "yes", "no":
	default:
		errs = append(errs, fmt.Errorf("--printer-near-end %q: want auto, yes or no", cfg.NearEndSensor))
	}
	switch cfg.PrinterColumns {
	case 0, 32, 36, 42, 48:
	default:
		errs = append(errs, fmt.Errorf("--printer-columns %d: want 32, 36, 42 or 48 (0: from the model)", cfg.PrinterColumns))
	}
	if cfg.CacheMax < 0 {
		errs = append(errs, fmt.Errorf("--cache-max %d: must not be negative", cfg.CacheMax))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}

// openStore opens kiosk.db; when that was written by a newer version it
// stays untouched and the agent runs on a fresh store beside it, reporting
// the fact in its status, so a downgrade never loses the newer data and
// never stops service.
func (a *Agent) openStore(ctx context.Context) error {
	main := filepath.Join(a.cfg.Data, "kiosk.db")
	s, err := outbox.Open(ctx, main)
	switch {
	case err == nil:
		a.storeOK = kiosk.StoreStatus{OK: true}
	case errors.Is(err, outbox.ErrNewerSchema), errors.Is(err, outbox.ErrForeign):
		why := "was written by a newer version"
		if errors.Is(err, outbox.ErrForeign) {
			why = "is not a kiosk database"
		}
		fallback := filepath.Join(a.cfg.Data, fmt.Sprintf("kiosk.v%d.db", outbox.SchemaVersion()))
		a.log.Error("store incompatible: running on a fresh store beside it", "err", err, "fallback", fallback)
		s, err = outbox.Open(ctx, fallback)
		if err != nil {
			return fmt.Errorf("agent: fallback store: %w", err)
		}
		a.storeOK = kiosk.StoreStatus{OK: false, Detail: fmt.Sprintf("store.incompatible: %s %s and is left untouched; running on %s",
			filepath.Base(main), why, filepath.Base(fallback))}
	default:
		return fmt.Errorf("agent: store: %w", err)
	}
	a.store = s
	a.epoch, err = s.Epoch(ctx)
	if err != nil {
		return fmt.Errorf("agent: store: %w", err)
	}
	return nil
}

// loadOrCreateKey returns the cache HMAC secret from file, creating it
// (0600) on first start. It lives outside the database so that a copy of
// the database alone reveals no plate (domain/pkb.md 4.2).
func loadOrCreateKey(file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err == nil {
		key, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(key) < 16 {
			return nil, fmt.Errorf("%w: %s is not a hex key of at least 16 bytes; delete it to make a new one (the cache becomes unreadable)", ErrConfig, file)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("agent: read %s: %w", file, err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("agent: create %s: %w", file, err)
	}
	if _, err := fmt.Fprintln(f, hex.EncodeToString(key)); err != nil {
		f.Close()
		return nil, fmt.Errorf("agent: write %s: %w", file, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("agent: write %s: %w", file, err)
	}
	return key, f.Close()
}

func readBootID(file string) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// cacheKey is HMAC-SHA256(secret, canonical plate + NUL + rangka5).
func (a *Agent) cacheKey(plate, rangka5 string) []byte {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(plate))
	m.Write([]byte{0})
	m.Write([]byte(rangka5))
	return m.Sum(nil)
}

// PlateTag is the keyed hash under which a plate may appear in logs.
func (a *Agent) plateTag(p string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte("log\x00"))
	m.Write([]byte(p))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// URL is the address of the taxpayer page.
func (a *Agent) URL() string { return "http://" + a.ln.Addr().String() + "/" }

// Handler is the agent's HTTP handler (tests).
func (a *Agent) Handler() http.Handler { return a.handler }

// Run serves until ctx is done, then stops everything it started and
// returns ctx's error.
func (a *Agent) Run(ctx context.Context) error {
	// A "restart agent" command stops Run from inside.
	ctx, a.stopRun = context.WithCancel(ctx)
	defer a.stopRun()
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		IdleTimeout:       60 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	wg.Go(func() {
		if err := srv.Serve(a.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("agent: http: %w", err)
		}
	})
	wg.Go(func() { a.cacheWriter(ctx) })
	wg.Go(func() { a.heartbeat(ctx) })
	wg.Go(func() { a.notifyLoop(ctx) })
	wg.Go(func() { a.contentSync(ctx) })
	wg.Go(func() { a.sessionReaper(ctx) })
	wg.Go(func() { a.diskLoop(ctx) })
	wg.Go(func() { a.drainLoop(ctx) })
	wg.Go(func() { a.outboxLoop(ctx) })
	if a.cfg.Drill > 0 {
		wg.Go(func() { a.drillLoop(ctx) })
	}
	wg.Go(func() { a.clockLoop(ctx) })
	wg.Go(func() { a.gatewayLoop(ctx) })
	if len(a.cfg.UPSCommand) > 0 {
		wg.Go(func() { a.powerLoop(ctx) })
	}
	if a.cfg.OpenPrinter != nil {
		wg.Go(func() { a.printerLoop(ctx) })
	}
	if a.cfg.UI == "auto" {
		wg.Go(func() { a.ui.run(ctx) })
	}
	wg.Go(func() { a.commandLoop(ctx) })
	cmdSvc, cerr := a.addCommandService()
	if cerr != nil {
		// Without it the kiosk cannot be commanded, but it still serves
		// taxpayers and reports; say so loudly.
		a.log.Error("command service not started", "err", cerr)
	}
	a.log.Info("kioskd running", "version", kiosk.Version, "url", a.URL(), "store", a.store.Path())
	var err error
	select {
	case <-ctx.Done():
		err = ctx.Err()
	case err = <-errc:
	}
	a.notifyStopping()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if cmdSvc != nil {
		cmdSvc.Stop()
	}
	srv.Shutdown(sctx)
	wg.Wait()
	reason := "signal"
	if a.exitCode.Load() == 3 {
		err, reason = ErrRestart, "command"
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, ErrRestart) {
		a.markCleanStop(sctx, reason) // the last write: anything after it would be a crash
		// Send what is queued (lifecycle.shutdown, a restart's
		// command.result) now rather than at the next start; the hub
		// and a waiting kioskctl learn of an orderly stop at once.
		a.finalDrain(sctx)
	}
	return err
}

// stop ends Run as if its context had been cancelled.
func (a *Agent) stop() {
	if a.stopRun != nil {
		a.stopRun()
	}
}

// Close releases the store and the NATS connection. Call it after Run
// returned (or instead of Run).
func (a *Agent) Close() error {
	if a.nc != nil {
		a.nc.Close()
	}
	if a.ln != nil {
		a.ln.Close()
	}
	if a.store != nil {
		return a.store.Close()
	}
	return nil
}

// Stats are figures of the agent's store, for diagnostics.
type Stats struct {
	CachedResults int
	UIPid         int // process id of the running kioskui, 0 when none
}

// Stats returns figures of the agent's store.
func (a *Agent) Stats(ctx context.Context) (Stats, error) {
	n, err := a.store.CacheLen(ctx)
	if err != nil {
		return Stats{}, err
	}
	return Stats{CachedResults: n, UIPid: int(a.ui.pid.Load())}, nil
}

// cacheWriter stores looked-up results off the response path.
func (a *Agent) cacheWriter(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			// Drain what is queued: those are results a taxpayer saw.
			for {
				select {
				case e := <-a.cacheCh:
					a.putCache(e)
				default:
					return
				}
			}
		case e := <-a.cacheCh:
			a.putCache(e)
		}
	}
}

func (a *Agent) putCache(e outbox.CacheEntry) {
	if a.diskFull() {
		return // degraded: the last free bytes are for state and events
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.store.CachePut(ctx, e, a.cfg.CacheMax); err != nil {
		a.log.Warn("cache write failed", "err", err)
	}
}

// heartbeat publishes the status snapshot on kiosk.<id>.hb.
func (a *Agent) heartbeat(ctx context.Context) {
	t := time.NewTicker(a.cfg.Heartbeat)
	defer t.Stop()
	a.beat(ctx)
	a.markAlive(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.beat(ctx) // the systemd watchdog's proof of life (notify.go)
			// Written with every heartbeat: after a power cut the outage
			// window starts here.
			a.markAlive(ctx)
			if !a.nc.IsConnected() {
				continue
			}
			b, err := json.Marshal(a.status(ctx))
			if err == nil {
				err = a.nc.Publish(kiosk.HeartbeatSubject(a.cfg.ID), b)
			}
			if err != nil {
				a.log.Debug("heartbeat not sent", "err", err)
			}
		}
	}
}
