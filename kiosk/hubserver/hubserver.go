// Package hubserver is the composition root of kioskhub, the process that
// runs at Bidang Sistim: the NATS server (embedded with JetStream, or an
// external cluster), the lookup gateway and, in later releases, the fleet
// monitor and dashboard.
package hubserver

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub/backup"
	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
	"github.com/sumbar-samsat/pkbkiosk/sync/lookup"
	"github.com/sumbar-samsat/pkbkiosk/sync/lookup/sample"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsauth"
	"github.com/sumbar-samsat/pkbkiosk/ui/dashboard"
)

// Config configures a hub. Zero values mean the documented defaults.
type Config struct {
	Data       string // data directory (required)
	NATSListen string // embedded server address, default 127.0.0.1:4222; port 0 picks a free one
	NATSURL    string // external NATS instead of the embedded server
	HTTP       string // HTTP address of the dashboard, /healthz and /metrics; "" = off
	// HTTPS of the dashboard: a certificate and key. A listener beyond
	// loopback needs them unless HTTPInsecure (a TLS-terminating proxy in
	// front); session cookies are Secure whenever TLS is on.
	HTTPTLSCert, HTTPTLSKey string
	HTTPInsecure            bool
	Content                 string // directory of content bundles (<office>.json, default.json); "" = <Data>/content

	Source     string // "sample" (only source so far)
	SampleSize int    // default 100,000
	SampleSeed int64  // default 1

	// JetStream limits of the embedded server. Unset, nats-server would
	// take 75% of RAM and of free disk (deps.md 8).
	JetStreamMaxMemory int64 // default 256 MiB
	JetStreamMaxStore  int64 // default 10 GiB

	// Replicas of the JetStream streams: 1 on a single box, 3 on a
	// JetStream cluster (--nats-url).
	Replicas int

	// Auth runs the embedded server in operator (JWT) mode (DESIGN 4.7)
	// with the trust material in <Data>/auth: every client needs a .creds
	// file from `kioskhub creds`. On in DefaultConfig; tests about other
	// things turn it off. See auth.go.
	Auth bool
	// TLS of the embedded listener: a server certificate and key from the
	// private CA, and optionally a CA that client certificates must chain
	// to. A listener beyond loopback needs TLS unless Insecure.
	TLSCert, TLSKey, TLSClientCA string
	Insecure                     bool
	// With NATSURL: the hub's .creds on the external cluster and the CA
	// of its certificates.
	NATSCreds, NATSCA string

	RequireRangka5 bool // gateway refuses lookups without rangka5
	RatePerMinute  int  // per-kiosk lookup rate, default 30
	Burst          int  // default 10

	// OnHeartbeat, if set, is called after each heartbeat is applied to
	// the fleet state (benchmarks, metrics). It runs on the heartbeat
	// subscription's goroutine: keep it short.
	OnHeartbeat func(id string, st *kiosk.Status, applied time.Time)

	// Incidents (DESIGN 7): working hours and public holidays of the
	// response-time targets, the targets per severity, the office
	// correlation, and the daily "hub alive" alert.
	WorkHours       string                 // default hub.DefaultHours
	Holidays        []string               // YYYY-MM-DD
	Targets         map[string]hub.Targets // nil = hub.DefaultTargets
	CorrelateWindow time.Duration          // default 60 s
	CorrelateHold   time.Duration          // default 20 s
	AliveAt         time.Duration          // time of day; default 07:30, negative = off
	Alerts          string                 // alert routing file (sync/hub/alert); "" = no alerts

	// Backups (sync/hub/backup) into BackupDir every BackupEvery, keeping
	// BackupKeep; "" = none. Warnings ExpiryWarn ahead of certificate and
	// credential expiry; DiskMinFree on the data disk (0 = 1 GiB or 5%).
	BackupDir   string
	BackupEvery time.Duration
	BackupKeep  int
	ExpiryWarn  time.Duration
	DiskMinFree uint64

	TZ     *time.Location   // nil = Asia/Jakarta
	Now    func() time.Time // nil = time.Now
	Logger *slog.Logger     // nil = discard
}

// DefaultConfig returns the defaults of the flags.
func DefaultConfig() Config {
	return Config{
		NATSListen:         "127.0.0.1:4222",
		Source:             "sample",
		SampleSize:         100_000,
		SampleSeed:         1,
		JetStreamMaxMemory: 256 << 20,
		JetStreamMaxStore:  10 << 30,
		RequireRangka5:     true,
		RatePerMinute:      30,
		Burst:              10,
		Replicas:           1,
		Auth:               true,
		WorkHours:          hub.DefaultHours,
		BackupEvery:        24 * time.Hour,
		BackupKeep:         backup.DefaultKeep,
		ExpiryWarn:         30 * 24 * time.Hour,
	}
}

// Hub is a running hub.
type Hub struct {
	cfg         Config
	log         *slog.Logger
	ns          *server.Server // nil with an external NATS
	nc          *nats.Conn
	src         *sample.Source
	svc         micro.Service // pkb lookup gateway
	hsvc        micro.Service // hub service: content, time, fleet
	fleet       *hub.Fleet
	store       *hub.Store // projection of the streams
	hbSub       *nats.Subscription
	stopMonitor context.CancelFunc
	monitorDone chan struct{}
	http        *http.Server
	url         string
	auth        *authState // operator mode of the embedded server; nil when off
	metrics     *hubMetrics

	pub           *hub.Publisher // HUB_EVENTS
	asyncJS       jetstream.JetStream
	decider       *hub.Decider
	decide        chan struct{} // wakes the decider
	changes       *changeFeed   // live pages
	alerter       alertSender   // nil without alert routes
	dash          *dashboard.Dashboard
	checks        checkState // checks.go
	releaseData   func()     // the data directory's lock (admin.go)
	stopDecisions context.CancelFunc
	wg            sync.WaitGroup // projector, decider, alert sender
}

// alertSender delivers queued alerts (alerts.go).
type alertSender interface{ Kick() }

// Start starts the hub and returns once it serves lookups.
func Start(ctx context.Context, cfg Config) (_ *Hub, err error) {
	if cfg.Data == "" {
		return nil, errors.New("hubserver: --data is required")
	}
	if cfg.Source != "sample" {
		return nil, fmt.Errorf("hubserver: unknown source %q (have: sample)", cfg.Source)
	}
	if cfg.TZ == nil {
		cfg.TZ, _ = kiosk.LoadTZ("")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.WorkHours == "" {
		cfg.WorkHours = hub.DefaultHours
	}
	h := &Hub{cfg: cfg, log: cfg.Logger, decide: make(chan struct{}, 1), changes: newChangeFeed()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.metrics = newHubMetrics(h)
	defer func() {
		if err != nil {
			h.Close()
		}
	}()
	if h.releaseData, err = lockData(cfg.Data); err != nil {
		return nil, err
	}

	t0 := time.Now()
	h.src, err = sample.Open(ctx, sample.Config{
		Path: filepath.Join(cfg.Data, "sample.db"),
		Seed: cfg.SampleSeed, Size: cfg.SampleSize, TZ: cfg.TZ, Now: cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("hubserver: sample source: %w", err)
	}
	st := h.src.Stats()
	h.log.Info("sample source ready", "vehicles", st.Vehicles, "generated", st.Generated, "took", time.Since(t0).Round(time.Millisecond))

	if cfg.NATSURL != "" {
		h.url = cfg.NATSURL
	} else {
		if err := h.startNATS(); err != nil {
			return nil, err
		}
	}
	h.nc, err = nats.Connect(h.connectURL(), append([]nats.Option{nats.Name("kioskhub"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(time.Second), nats.PingInterval(15 * time.Second)}, h.clientOptions()...)...)
	if err != nil {
		return nil, fmt.Errorf("hubserver: connect %s: %w", h.url, err)
	}
	js, err := jetstream.New(h.nc)
	if err != nil {
		return nil, fmt.Errorf("hubserver: jetstream: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	cons, err := hub.EnsureStreams(sctx, js, hub.StreamConfig{Replicas: cfg.Replicas,
		Warn: func(msg string) { h.log.Warn(msg) }})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("hubserver: %w", err)
	}
	if h.store, err = hub.OpenStore(ctx, filepath.Join(cfg.Data, "hub.db")); err != nil {
		return nil, fmt.Errorf("hubserver: %w", err)
	}
	h.svc, err = lookup.AddService(h.nc, lookup.Config{
		Source:         h.src,
		RequireRangka5: cfg.RequireRangka5,
		RatePerMinute:  cfg.RatePerMinute,
		Burst:          cfg.Burst,
		Now:            cfg.Now,
		Observe: func(id, outcome string, took time.Duration) {
			h.log.Debug("lookup", "kiosk", id, "outcome", outcome, "took", took)
			h.metrics.observeLookup(outcome, took)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("hubserver: %w", err)
	}
	if cfg.Content == "" {
		cfg.Content = filepath.Join(cfg.Data, "content")
	}
	h.fleet = hub.NewFleet(cfg.Now)
	h.fleet.Observe = func(id string, st *kiosk.Status, applied time.Time) {
		h.changes.heartbeat(id, st)
		if cfg.OnHeartbeat != nil {
			cfg.OnHeartbeat(id, st, applied)
		}
	}
	known, err := h.store.LoadFleet(ctx)
	if err != nil {
		return nil, fmt.Errorf("hubserver: %w", err)
	}
	h.fleet.Load(known)
	unclean, err := h.store.LastUnclean(ctx)
	if err != nil {
		return nil, fmt.Errorf("hubserver: %w", err)
	}
	for id, at := range unclean {
		h.fleet.NoteUnclean(id, at)
	}
	dctx, stopD := context.WithCancel(context.WithoutCancel(ctx))
	h.stopDecisions = stopD
	if err := h.startAlerts(dctx); err != nil {
		return nil, err
	}
	if err := h.startDecisions(dctx, js); err != nil {
		return nil, err
	}
	mctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	h.stopMonitor, h.monitorDone = stop, make(chan struct{})
	go func() {
		defer close(h.monitorDone)
		err := hub.RunMonitor(mctx, hub.MonitorConfig{
			Store: h.store, Consumer: cons, Fleet: h.fleet, Log: h.log,
			OnEvent: func(e hub.Envelope, _ hub.IngestResult) {
				h.log.Debug("event", "kiosk", e.Kiosk, "type", e.Type, "seq", e.Seq)
				if e.Type == kiosk.EventFaultRaised {
					var d kiosk.FaultData
					if json.Unmarshal(e.Data, &d) == nil && d.Code == "power.unclean_shutdown" {
						h.fleet.NoteUnclean(e.Kiosk, e.At)
					}
				}
				if e.Type == kiosk.EventFaultRaised || e.Type == kiosk.EventFaultCleared || e.Type == kiosk.EventBoot {
					h.changes.publish(hubapi.Change{Kind: "fault", Kiosk: e.Kiosk, Office: e.Office})
					h.kickDecider()
				}
			},
			OnTransition: h.publishPresence,
		})
		if err != nil {
			h.log.Error("fleet monitor stopped", "err", err)
		}
	}()
	if h.hbSub, err = h.fleet.Subscribe(h.nc); err != nil {
		return nil, fmt.Errorf("hubserver: heartbeats: %w", err)
	}
	h.hsvc, err = hub.AddService(h.nc, hub.Config{
		Fleet:   h.fleet,
		Store:   h.store,
		Decider: h.decider,
		Content: hub.NewContentDir(cfg.Content),
		Now:     cfg.Now,
		Observe: func(id, outcome string, err error) {
			if err != nil {
				h.log.Error("content", "kiosk", id, "outcome", outcome, "err", err)
				return
			}
			h.log.Debug("content", "kiosk", id, "outcome", outcome)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("hubserver: %w", err)
	}
	if cfg.HTTP != "" {
		if err := h.startHTTP(); err != nil {
			return nil, err
		}
	}
	return h, nil
}

func (h *Hub) startNATS() error {
	host, port, err := splitHostPort(h.cfg.NATSListen)
	if err != nil {
		return fmt.Errorf("hubserver: --nats-listen: %w", err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	} else {
		// nats-server only logs a failed bind and never becomes ready;
		// trying the address first gives the operator the real reason.
		ln, err := net.Listen("tcp", h.cfg.NATSListen)
		if err != nil {
			return fmt.Errorf("hubserver: --nats-listen: %w", err)
		}
		ln.Close()
	}
	opts := &server.Options{
		ServerName:         "kioskhub",
		Host:               host,
		Port:               port,
		JetStream:          true,
		StoreDir:           filepath.Join(h.cfg.Data, "nats"),
		JetStreamMaxMemory: h.cfg.JetStreamMaxMemory,
		JetStreamMaxStore:  h.cfg.JetStreamMaxStore,
		NoSigs:             true, // signals belong to main
		NoLog:              true,
		MaxPayload:         1 << 20,
	}
	if err := h.configureTLS(opts, host); err != nil {
		return err
	}
	if h.cfg.Auth {
		if err := h.configureAuth(opts); err != nil {
			return err
		}
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("hubserver: nats server: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return fmt.Errorf("hubserver: nats server on %s not ready within 10s (port in use?)", h.cfg.NATSListen)
	}
	h.ns = ns
	addr := ns.Addr().(*net.TCPAddr)
	h.url = "nats://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
	if opts.TLS {
		h.url = "tls://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
	}
	if h.auth != nil {
		if err := h.startAuth(); err != nil {
			return err
		}
	}
	h.log.Info("nats server ready", "url", h.url, "jetstream_store", opts.StoreDir)
	return nil
}

func (h *Hub) startHTTP() error {
	host, _, err := splitHostPort(h.cfg.HTTP)
	if err != nil {
		return fmt.Errorf("%w: --http: %w", ErrConfig, err)
	}
	tls := h.cfg.HTTPTLSCert != "" || h.cfg.HTTPTLSKey != ""
	if tls && (h.cfg.HTTPTLSCert == "" || h.cfg.HTTPTLSKey == "") {
		return fmt.Errorf("%w: --http-tls-cert and --http-tls-key go together", ErrConfig)
	}
	if !tls && !isLoopback(host) && !h.cfg.HTTPInsecure {
		return fmt.Errorf("%w: --http %s is reachable beyond this machine: give --http-tls-cert/--http-tls-key "+
			"(passwords and session cookies must not cross the network in clear), or --http-insecure behind a TLS proxy", ErrConfig, h.cfg.HTTP)
	}
	key, err := sessionKey(filepath.Join(h.cfg.Data, "auth", "dashboard.key"))
	if err != nil {
		return fmt.Errorf("hubserver: %w", err)
	}
	h.dash, err = dashboard.New(dashboard.Config{Backend: backend{h}, SessionKey: key, Secure: tls || h.cfg.HTTPInsecure,
		Now: h.cfg.Now, TZ: h.cfg.TZ, Log: h.log.With("part", "dashboard")})
	if err != nil {
		return fmt.Errorf("hubserver: %w", err)
	}
	ln, err := net.Listen("tcp", h.cfg.HTTP)
	if err != nil {
		return fmt.Errorf("hubserver: --http: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if !h.nc.IsConnected() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, `{"ok":false,"reason":"nats disconnected"}`)
			return
		}
		fmt.Fprintln(w, `{"ok":true}`)
	})
	mux.Handle("GET /metrics", h.metrics.handler())
	mux.Handle("/", h.dash)
	h.http = &http.Server{Addr: ln.Addr().String(), Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if tls {
			h.http.ServeTLS(ln, h.cfg.HTTPTLSCert, h.cfg.HTTPTLSKey)
		} else {
			h.http.Serve(ln)
		}
	}()
	return nil
}

// sessionKey reads the dashboard's session signing key, creating it once:
// kept with the trust material (and its backups), so sessions survive a
// hub restart and a restore.
func sessionKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= 32 {
		return b, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("dashboard session key: %w", err)
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("dashboard session key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("dashboard session key: %w", err)
	}
	if err := natsauth.WriteFile(path, b); err != nil {
		return nil, fmt.Errorf("dashboard session key: %w", err)
	}
	return b, nil
}

func splitHostPort(s string) (string, int, error) {
	host, ps, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", ps)
	}
	return host, port, nil
}

// StopGateway stops answering lookups while NATS keeps running (tests, and
// an operator's way to take the backend out of service).
func (h *Hub) StopGateway() error {
	if h.svc == nil {
		return nil
	}
	err := h.svc.Stop()
	h.svc = nil
	// Stop only queues the unsubscriptions; once Flush returns the server
	// has them, so the next lookup gets "no responders".
	if ferr := h.nc.FlushTimeout(5 * time.Second); ferr != nil && err == nil {
		err = fmt.Errorf("hubserver: stop gateway: %w", ferr)
	}
	return err
}

// NATSURL is the URL clients use to reach the hub's NATS.
func (h *Hub) NATSURL() string { return h.url }

// Store returns the hub's projection of the event streams.
func (h *Hub) Store() *hub.Store { return h.store }

// Server returns the embedded NATS server, or nil with an external one.
func (h *Hub) Server() *server.Server { return h.ns }

// Close stops the hub: first the service (no new lookups), then the
// connection, the embedded server and the store.
func (h *Hub) Close() error {
	var errs []error
	if h.dash != nil {
		h.dash.Close() // ends the live pages' streams, which Shutdown would wait for
	}
	if h.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		errs = append(errs, h.http.Shutdown(ctx))
		cancel()
	}
	if h.hbSub != nil {
		h.hbSub.Unsubscribe()
	}
	for _, svc := range []micro.Service{h.svc, h.hsvc} {
		if svc != nil {
			errs = append(errs, svc.Stop())
		}
	}
	if h.stopMonitor != nil {
		h.stopMonitor()
		<-h.monitorDone
	}
	if h.stopDecisions != nil {
		h.stopDecisions()
	}
	h.wg.Wait()
	if h.nc != nil {
		h.nc.Close()
	}
	if h.ns != nil {
		h.ns.Shutdown()
		h.ns.WaitForShutdown()
	}
	h.closeAuth()
	if h.src != nil {
		errs = append(errs, h.src.Close())
	}
	if h.store != nil {
		errs = append(errs, h.store.Close())
	}
	if h.releaseData != nil {
		h.releaseData() // last: the next hub may open everything now
	}
	return errors.Join(errs...)
}

// Run starts the hub and serves until ctx is done.
func Run(ctx context.Context, cfg Config) error {
	h, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	h.log.Info("kioskhub running", "version", kiosk.Version, "nats", h.url)
	<-ctx.Done()
	h.log.Info("kioskhub stopping")
	if err := h.Close(); err != nil {
		return fmt.Errorf("hubserver: close: %w", err)
	}
	return ctx.Err()
}

// SamplePlates opens (generating if needed) the sample store in dir and
// returns n sample vehicles spread over the categories.
func SamplePlates(ctx context.Context, cfg Config, n int) ([]sample.Sample, error) {
	if cfg.TZ == nil {
		cfg.TZ, _ = kiosk.LoadTZ("")
	}
	src, err := sample.Open(ctx, sample.Config{
		Path: filepath.Join(cfg.Data, "sample.db"),
		Seed: cfg.SampleSeed, Size: cfg.SampleSize, TZ: cfg.TZ, Now: cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("hubserver: sample source: %w", err)
	}
	defer src.Close()
	return src.Plates(ctx, n)
}
