package agent

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"strings"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/sync/natsbus"
)

// More faults of DESIGN 4.3.
const (
	faultClockSkew   = "clock.skew"
	faultUnreachable = "lookup.unreachable"
	faultOnBattery   = "power.on_battery"
	faultBatteryLow  = "power.battery_low"
	defaultUPSStatus = "unknown"
)

// watchLoop runs fn every interval until ctx is done, starting at once.
func watchLoop(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// applyFaults feeds one reading of a set of conditions through their
// debouncers and raises or clears the faults.
func (a *Agent) applyFaults(deb map[string]debounce, conds map[string]bool) {
	now := a.cfg.Now()
	for code, present := range conds {
		next, change := nextDebounce(deb[code], present, now, 3*time.Second)
		deb[code] = next
		switch change {
		case +1:
			a.setFault(code)
		case -1:
			a.clearFault(code)
		}
	}
}

// clockLoop compares the kiosk's clock with the hub's: commands expire and
// "today" is decided by the kiosk's clock, so a wrong one is a fault.
func (a *Agent) clockLoop(ctx context.Context) {
	deb := map[string]debounce{}
	watchLoop(ctx, a.cfg.ClockCheck, func() {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		skew, err := natsbus.Skew(cctx, a.nc, a.cfg.ID, a.cfg.Now)
		if err != nil {
			return // no hub, no verdict: the fault keeps its state
		}
		off := skew.Abs() > a.cfg.ClockSkewMax
		if off {
			a.log.Warn("clock differs from the hub's", "skew", skew.Round(time.Second))
		}
		a.applyFaults(deb, map[string]bool{faultClockSkew: off})
	})
}

// gatewayLoop checks that the lookup gateway answers: without it the
// kiosk can only show cached results (lookup.unreachable, critical). The
// probe is the micro service's own PING, which costs the gateway nothing
// and leaves no lookup in its logs or rate limits.
func (a *Agent) gatewayLoop(ctx context.Context) {
	deb := map[string]debounce{}
	watchLoop(ctx, a.cfg.LookupProbe, func() {
		up := a.nc.IsConnected()
		if up {
			pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			up = natsbus.GatewayAlive(pctx, a.nc) == nil
			cancel()
		}
		if ctx.Err() != nil {
			return
		}
		a.applyFaults(deb, map[string]bool{faultUnreachable: !up})
	})
}

// upsState is what NUT's upsc says about the UPS.
type upsState struct {
	Known, OnBattery, BatteryLow bool
}

// parseUPSC reads the "ups.status" line of upsc output: OL on line, OB on
// battery, LB battery low (NUT's status flags).
func parseUPSC(out []byte) upsState {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(k) != "ups.status" {
			continue
		}
		st := upsState{Known: true}
		for _, f := range strings.Fields(v) {
			switch f {
			case "OB":
				st.OnBattery = true
			case "LB":
				st.BatteryLow = true
			}
		}
		return st
	}
	return upsState{}
}

// powerLoop polls the UPS through the configured command (upsc) when
// there is one; without a UPS the power source stays "unknown".
func (a *Agent) powerLoop(ctx context.Context) {
	deb := map[string]debounce{}
	watchLoop(ctx, a.cfg.UPSPoll, func() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(cctx, a.cfg.UPSCommand[0], a.cfg.UPSCommand[1:]...).Output()
		st := parseUPSC(out)
		source := defaultUPSStatus
		switch {
		case err != nil || !st.Known:
			a.log.Debug("ups status unknown", "err", err)
		case st.OnBattery:
			source = "battery"
		default:
			source = "mains"
		}
		a.mu.Lock()
		changed := a.powerSource != source
		a.powerSource = source
		a.mu.Unlock()
		if changed {
			a.notify()
		}
		if err == nil && st.Known {
			a.applyFaults(deb, map[string]bool{faultOnBattery: st.OnBattery, faultBatteryLow: st.BatteryLow})
		}
	})
}
