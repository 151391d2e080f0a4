package agent

import (
	"testing"
	"time"
)

func TestClassifyBoot(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	alive := now.Add(-95 * time.Second)
	for _, tt := range []struct {
		name       string
		havePrev   bool
		prev, cur  string
		clean      bool
		want       string
		wantOutage int64
	}{
		{"new store", false, "", "b1", false, shutdownFirst, 0},
		{"orderly stop, same boot", true, "b1", "b1", true, shutdownClean, 0},
		{"orderly stop, then reboot", true, "b1", "b2", true, shutdownClean, 0},
		{"agent killed", true, "b1", "b1", false, shutdownCrash, 0},
		{"power cut", true, "b1", "b2", false, shutdownPower, 95},
		{"boot id unreadable now", true, "b1", "", false, shutdownCrash, 0},
		{"boot id unreadable before", true, "", "b2", false, shutdownCrash, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := classifyBoot(tt.havePrev, tt.prev, tt.cur, tt.clean, alive, now)
			if b.Prev != tt.want || b.OutageS != tt.wantOutage {
				t.Errorf("classifyBoot = %+v; want %s with outage %d s", b, tt.want, tt.wantOutage)
			}
		})
	}
}

func TestParseUPSC(t *testing.T) {
	for _, tt := range []struct {
		out  string
		want upsState
	}{
		{"battery.charge: 100\nups.status: OL\n", upsState{Known: true}},
		{"ups.status: OB DISCHRG\n", upsState{Known: true, OnBattery: true}},
		{"ups.status: OB LB\n", upsState{Known: true, OnBattery: true, BatteryLow: true}},
		{"Error: Driver not connected\n", upsState{}},
		{"", upsState{}},
	} {
		if got := parseUPSC([]byte(tt.out)); got != tt.want {
			t.Errorf("parseUPSC(%q) = %+v, want %+v", tt.out, got, tt.want)
		}
	}
}
