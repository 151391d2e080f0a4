package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
)

// watchdog is the agent's side of systemd's sd_notify protocol (DESIGN 5
// "Watchdog"): READY=1 once the HTTP server answers, WATCHDOG=1 every
// WatchdogSec/2 while the agent is provably alive, STOPPING=1 when an
// orderly stop begins, and STATUS= lines that `systemctl status` shows.
//
// Alive means both of:
//
//   - the heartbeat loop turned recently (within 3 heartbeat intervals).
//     It is the loop the agent relies on to be seen at all: every turn
//     takes a.mu (the lock of every request, fault and print job, see
//     beat), writes last-alive to the store and publishes the status
//     snapshot. A deadlock on a.mu, a store write that never returns or a
//     starved scheduler stops it, and the hub then sees the kiosk go
//     offline; the watchdog stopping at the same moment makes systemd
//     restart the agent that the hub has given up on. A full disk does not
//     stop it: the writes fail at once and the loop goes on.
//   - GET /healthz over loopback, on a new connection, answers 200 with
//     "ok":true within a short timeout. "degraded" (disk.full,
//     store.incompatible) is still ok: systemd must not restart a kiosk in
//     a loop because its disk is full; only 503 ("cannot serve at all"), an
//     error or a timeout is not.
//
// The watchdog runs on real (monotonic) time, not Config.Now: systemd's
// timer does, and tests freeze Config.Now.
//
// The protocol's environment (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID)
// is read by go-systemd's daemon package: systemd hands it to the service
// process, and kioskd's main would only pass it through. Without
// NOTIFY_SOCKET nothing is sent and no probe runs.
type watchdog struct {
	lastBeat atomic.Pointer[time.Time]     // last turn of the heartbeat loop; nil before the first
	stall    atomic.Pointer[chan struct{}] // tests only (export_test.go): beat blocks until it is closed

	mu       sync.Mutex // guards the fields below and serialises sends
	stopping bool       // STOPPING=1 was sent: nothing is sent after it
	status   string     // the last STATUS= sent
}

// beat records a turn of the heartbeat loop, after taking and releasing
// a.mu: the lock of every request, fault and print job must not be held
// for ever. A test may stall it to stand for a wedged agent; ctx ends the
// stall.
func (a *Agent) beat(ctx context.Context) {
	if c := a.wd.stall.Load(); c != nil {
		select {
		case <-*c:
		case <-ctx.Done():
		}
	}
	a.mu.Lock()
	//lint:ignore SA2001 an empty critical section: proof that a.mu is free
	a.mu.Unlock()
	now := time.Now()
	a.wd.lastBeat.Store(&now)
}

// send sends the lines as one datagram, adding STATUS=status when that
// changed. It reports whether the agent runs under systemd.
func (w *watchdog) send(log *slog.Logger, status string, lines ...string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopping {
		return true
	}
	if status != "" && status != w.status {
		lines = append(lines, "STATUS="+status)
	}
	if len(lines) == 0 {
		return true
	}
	sent, err := daemon.SdNotify(false, strings.Join(lines, "\n"))
	if err != nil {
		log.Warn("sd_notify failed", "err", err)
		return true // NOTIFY_SOCKET is set: keep trying
	}
	if sent && status != "" {
		w.status = status
	}
	return sent
}

// stop sends STOPPING=1; nothing is sent after it.
func (w *watchdog) stop(log *slog.Logger) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopping {
		return
	}
	w.stopping = true
	if _, err := daemon.SdNotify(false, "STOPPING=1\nSTATUS=stopping"); err != nil {
		log.Warn("sd_notify failed", "err", err)
	}
}

// notifyStopping tells systemd that an orderly stop has begun.
func (a *Agent) notifyStopping() { a.wd.stop(a.log) }

// notifyLoop speaks sd_notify until ctx is done (see watchdog).
func (a *Agent) notifyLoop(ctx context.Context) {
	log := a.log.With("component", "systemd")
	if !a.wd.send(log, "starting") {
		return // not started by systemd (no NOTIFY_SOCKET)
	}
	wdog, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		log.Warn("watchdog settings unreadable: not sending WATCHDOG=1", "err", err)
	}
	every := wdog / 2
	timeout := 2 * time.Second
	if every > 0 {
		timeout = min(timeout, every/2)
	}
	p := &prober{
		url:    a.URL() + "healthz",
		maxAge: 3 * a.cfg.Heartbeat,
		beat:   &a.wd,
		client: &http.Client{Timeout: timeout, Transport: &http.Transport{
			Proxy:             nil,  // loopback, never a proxy
			DisableKeepAlives: true, // a new connection each time proves the accept loop too
		}},
	}
	defer p.client.CloseIdleConnections()

	// READY=1 once the agent first proves alive; until then, probe often.
	ok, status := p.probe(ctx)
	for !ok {
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
		ok, status = p.probe(ctx)
	}
	a.wd.send(log, status, daemon.SdNotifyReady)
	log.Info("ready", "watchdog", wdog, "status", status)

	// Without a watchdog, STATUS= is still kept current, every 10 s.
	tick := every
	if tick <= 0 {
		tick = 10 * time.Second
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	healthy := true
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok, status := p.probe(ctx)
		if ctx.Err() != nil {
			return
		}
		if ok != healthy {
			if ok {
				log.Info("alive again: watchdog notifications resume", "status", status)
			} else {
				log.Error("not alive: watchdog notifications stop; systemd restarts the agent after WatchdogSec", "status", status)
			}
			healthy = ok
		}
		if ok && every > 0 {
			a.wd.send(log, status, daemon.SdNotifyWatchdog)
		} else {
			a.wd.send(log, status)
		}
	}
}

// prober tells whether the agent is alive (see watchdog).
type prober struct {
	url    string        // the agent's GET /healthz on loopback
	maxAge time.Duration // oldest acceptable heartbeat-loop turn
	beat   *watchdog
	client *http.Client
}

// probe returns whether the agent is alive, and the STATUS= text: the
// mode ("ready", "degraded: disk.full", ...) or why it is not alive.
func (p *prober) probe(ctx context.Context) (bool, string) {
	last := p.beat.lastBeat.Load()
	if last == nil {
		return false, "not alive: heartbeat loop not started"
	}
	if age := time.Since(*last); age > p.maxAge {
		return false, fmt.Sprintf("not alive: heartbeat loop stuck for %s", age.Round(time.Second))
	}
	h, err := p.health(ctx)
	if err != nil {
		return false, "not alive: " + err.Error()
	}
	if h.Reason != "" {
		return true, h.Mode + ": " + h.Reason
	}
	return true, h.Mode
}

// health asks GET /healthz; any answer but 200 {"ok":true} is an error.
func (p *prober) health(ctx context.Context) (kiosk.Health, error) {
	var h kiosk.Health
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return h, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return h, fmt.Errorf("GET /healthz: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return h, fmt.Errorf("GET /healthz: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return h, fmt.Errorf("GET /healthz: %w", err)
	}
	if !h.OK {
		return h, fmt.Errorf("GET /healthz: ok false (mode %q)", h.Mode)
	}
	return h, nil
}
