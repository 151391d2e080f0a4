package agent

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The UI supervisor's modes (DESIGN 2, Config.UISupervisor).
const (
	uiChild       = "child"   // kioskd starts kioskui as a child process (uisup.go)
	uiSystemd     = "systemd" // a systemd unit runs cage -- kioskui; kioskd restarts the unit
	defaultUIUnit = "kioskui.service"
)

// unitName is what a UI unit may be called: one service unit, nothing
// systemctl would read as an option or a glob.
var unitName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9:_.@-]*\.service$`)

// checkUISupervisor checks the UI supervisor's part of cfg.
func checkUISupervisor(cfg Config) []error {
	var errs []error
	switch cfg.UISupervisor {
	case "", uiChild, uiSystemd:
	default:
		errs = append(errs, fmt.Errorf("--ui-supervisor %q: want child or systemd", cfg.UISupervisor))
	}
	if cfg.UIUnit != "" && !unitName.MatchString(cfg.UIUnit) {
		errs = append(errs, fmt.Errorf("--ui-unit %q: want a service unit name, e.g. kioskui.service", cfg.UIUnit))
	}
	return errs
}

// runSystemd is the "systemd" mode of DESIGN 2. The graphical session unit
// (kiosk/deploy/systemd/kioskui.service: cage -- kioskui, Restart=always)
// starts kioskui and restarts it when it crashes, so kioskd needs no
// display and spawns nothing. Liveness is judged by the page's pings as in
// the child mode: when none came for UIUnresponsive, counted from the
// start or from the last restart (so that a new window has time to come
// up), it raises ui.unresponsive and restarts the unit; so at most one
// restart per UIUnresponsive. A remote "restart ui" restarts the unit at
// once. The UI counts as running while this supervises it: the unit is
// systemd's to keep up, and the page's liveness is in ui.last_ping_s.
func (s *uiSupervisor) runSystemd(ctx context.Context) {
	log := s.a.log.With("component", "ui", "unit", s.unit())
	log.Info("kioskui runs in a systemd unit; it is restarted when its page stops pinging")
	s.isUp.Store(true)
	defer s.isUp.Store(false)
	since := s.a.cfg.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.restart:
			log.Info("restarting the UI unit on request")
		case <-tick.C:
			last := since
			if p := s.a.lastPingAt(); p.After(last) {
				last = p
			}
			if s.a.cfg.Now().Sub(last) <= s.a.cfg.UIUnresponsive {
				continue
			}
			s.a.setFault(faultUIUnresponsive)
			log.Warn("the page stopped pinging: restarting the UI unit", "since", last)
		}
		if err := s.restartUnit(ctx); err != nil && ctx.Err() == nil {
			log.Error("UI unit not restarted; the screen may stay dark", "err", err)
		}
		since = s.a.cfg.Now()
	}
}

func (s *uiSupervisor) unit() string {
	if s.a.cfg.UIUnit != "" {
		return s.a.cfg.UIUnit
	}
	return defaultUIUnit
}

// restartUnit runs SystemctlCommand restart <unit>: on a kiosk PC
// `systemctl --no-ask-password restart kioskui.service`, which polkit
// allows the kiosk user for this unit and verb only
// (kiosk/deploy/polkit/50-kiosk.rules). Nothing else is ever passed.
func (s *uiSupervisor) restartUnit(ctx context.Context) error {
	argv := slices.Clone(s.a.cfg.SystemctlCommand)
	if len(argv) == 0 {
		argv = []string{"systemctl", "--no-ask-password"}
	}
	argv = append(argv, "restart", s.unit())
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("agent: %s: %w: %s", strings.Join(argv, " "), err, bytes.TrimSpace(out))
	}
	return nil
}
