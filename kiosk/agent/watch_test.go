package agent_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
)

// TestClockSkew: a kiosk whose clock is five minutes off the hub's raises
// clock.skew; one in step does not.
func TestClockSkew(t *testing.T) {
	for _, tt := range []struct {
		name   string
		offset time.Duration
		want   bool
	}{
		{"in step", 2 * time.Second, false},
		{"five minutes fast", 5 * time.Minute, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(h *hubserver.Config, a *agent.Config) {
				h.Now = nil
				a.Now = func() time.Time { return time.Now().Add(tt.offset) }
				a.ClockCheck = 100 * time.Millisecond
			})
			if tt.want {
				e.waitFault("clock.skew", true)
				return
			}
			time.Sleep(500 * time.Millisecond)
			for _, f := range e.faults() {
				if f == "clock.skew" {
					t.Error("clock.skew raised for a clock in step")
				}
			}
		})
	}
}

// TestUPS: upsc (a script standing in for NUT's) reports the UPS on
// battery, then low: the power source and both faults follow; back on
// mains they clear.
func TestUPS(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	script := filepath.Join(dir, "upsc")
	os.WriteFile(state, []byte("OL"), 0o644)
	os.WriteFile(script, []byte("#!/bin/sh\necho 'battery.charge: 100'\necho \"ups.status: $(cat "+state+")\"\n"), 0o755)
	e := newEnv(t, func(h *hubserver.Config, a *agent.Config) {
		a.Now = nil
		a.UPSCommand, a.UPSPoll = []string{script, "ups@localhost"}, 100*time.Millisecond
	})
	source := func() string {
		var st struct {
			Power struct{ Source string } `json:"power"`
		}
		e.get("/api/status", &st)
		return st.Power.Source
	}
	waitSource := func(want string) {
		deadline := time.Now().Add(10 * time.Second)
		for source() != want {
			if time.Now().After(deadline) {
				t.Fatalf("power source %q, want %q", source(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitSource("mains")
	os.WriteFile(state, []byte("OB DISCHRG"), 0o644)
	waitSource("battery")
	e.waitFault("power.on_battery", true)
	os.WriteFile(state, []byte("OB LB"), 0o644)
	e.waitFault("power.battery_low", true)
	os.WriteFile(state, []byte("OL CHRG"), 0o644)
	waitSource("mains")
	e.waitFault("power.on_battery", false)
	e.waitFault("power.battery_low", false)
}
