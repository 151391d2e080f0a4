package agent

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"
)

// uiSupervisor keeps kioskui running as a child process (the "child" mode
// of DESIGN 2). kioskui runs in its own process group so that stopping it
// also stops WebKit's helper processes, which would otherwise outlive it.
// In the "systemd" mode (uisystemd.go) it spawns nothing: it watches the
// page's pings and restarts the session unit.
type uiSupervisor struct {
	a       *Agent
	isUp    atomic.Bool
	pid     atomic.Int64  // of the running kioskui, 0 when none
	minWait time.Duration // first restart delay
	maxWait time.Duration // restart delay cap
	healthy time.Duration // a run this long resets the delay
	restart chan struct{} // a remote "restart ui": replace the running kioskui now
	crashes []time.Time   // of the last 10 minutes; run's goroutine only
}

// crashed raises ui.crashed: a warning, critical from the third crash
// within 10 minutes (DESIGN 4.3), when restarting is not helping.
func (s *uiSupervisor) crashed() {
	now := s.a.cfg.Now()
	recent := s.crashes[:0]
	for _, t := range s.crashes {
		if now.Sub(t) < 10*time.Minute {
			recent = append(recent, t)
		}
	}
	s.crashes = append(recent, now)
	sev := ""
	if len(s.crashes) >= 3 {
		sev = "critical"
	}
	s.a.raiseFault(faultUICrashed, sev)
}

func newUISupervisor(a *Agent) *uiSupervisor {
	return &uiSupervisor{a: a, minWait: time.Second, maxWait: 30 * time.Second, healthy: time.Minute, restart: make(chan struct{}, 1)}
}

func (s *uiSupervisor) running() bool { return s.isUp.Load() }

func (s *uiSupervisor) binary() string {
	if s.a.cfg.KioskUI != "" {
		return s.a.cfg.KioskUI
	}
	exe, err := os.Executable()
	if err != nil {
		return "kioskui"
	}
	return filepath.Join(filepath.Dir(exe), "kioskui")
}

// run starts kioskui and restarts it with exponential backoff until ctx is
// done. Without a display it does nothing: webkit would crash, and a
// kiosk without a screen still serves the API, caches and reports.
func (s *uiSupervisor) run(ctx context.Context) {
	log := s.a.log.With("component", "ui")
	if s.a.cfg.UISupervisor == uiSystemd {
		s.runSystemd(ctx) // uisystemd.go
		return
	}
	if s.a.cfg.Display == "" {
		log.Info("no display (DISPLAY/WAYLAND_DISPLAY unset): not starting kioskui; open the URL in a browser", "url", s.a.URL())
		return
	}
	bin := s.binary()
	if _, err := os.Stat(bin); err != nil {
		log.Error("kioskui not found; the screen stays dark until it is installed", "path", bin, "err", err)
		return
	}
	wait := s.minWait
	for {
		args := []string{"--url", s.a.URL()}
		if s.a.cfg.UIFullscreen {
			args = append(args, "--fullscreen")
		}
		start := time.Now()
		err := s.runOnce(ctx, bin, args)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errRestartRequested) {
			log.Info("kioskui replaced on request")
			continue // asked for, not a crash: no fault, no delay

		}
		if !errors.Is(err, errUnresponsive) {
			s.crashed()
		}
		if time.Since(start) >= s.healthy {
			wait = s.minWait
		}
		log.Warn("kioskui exited; restarting", "err", err, "after", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, s.maxWait)
	}
}

// runOnce runs kioskui until it exits or ctx is done; then it stops the
// whole process group: SIGTERM, and SIGKILL if it has not gone in 3 s.
func (s *uiSupervisor) runOnce(ctx context.Context, bin string, args []string) error {
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true,
		// If kioskd dies without stopping it (kill -9), the kernel stops
		// kioskui, so a new kioskd never finds two windows.
		Pdeathsig: syscall.SIGTERM,
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	s.isUp.Store(true)
	s.pid.Store(int64(cmd.Process.Pid))
	defer func() { s.isUp.Store(false); s.pid.Store(0) }()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	started := s.a.cfg.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var result error
wait:
	for {
		select {
		case err := <-done:
			killGroup(cmd.Process.Pid, syscall.SIGKILL) // helpers left behind
			return err
		case <-ctx.Done():
			result = ctx.Err()
			break wait
		case <-s.restart:
			result = errRestartRequested
			break wait
		case <-tick.C:
			// A window that runs but whose page stopped pinging is hung
			// (WebKit stuck, page crashed): restart it like a crash.
			last := started
			if p := s.a.lastPingAt(); p.After(last) {
				last = p
			}
			if s.a.cfg.Now().Sub(last) > s.a.cfg.UIUnresponsive {
				s.a.setFault(faultUIUnresponsive)
				result = errUnresponsive
				break wait
			}
		}
	}
	killGroup(cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		killGroup(cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	killGroup(cmd.Process.Pid, syscall.SIGKILL)
	return result
}

var (
	errUnresponsive     = errors.New("agent: kioskui stopped pinging")
	errRestartRequested = errors.New("agent: kioskui restart requested")
)

// requestRestart asks the running kioskui to be replaced; false when none
// runs (no display, or between restarts).
func (s *uiSupervisor) requestRestart() bool {
	if !s.running() {
		return false
	}
	select {
	case s.restart <- struct{}{}:
	default:
	}
	return true
}

func (a *Agent) lastPingAt() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lastPing
}

func killGroup(pgid int, sig syscall.Signal) {
	if err := syscall.Kill(-pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		_ = syscall.Kill(pgid, sig)
	}
}

// canRestart reports whether a "restart ui" can be carried out.
func (s *uiSupervisor) canRestart() bool { return s.running() }
