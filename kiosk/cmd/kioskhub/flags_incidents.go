package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
)

// incidentFlags defines the flags of incidents, alerts, the dashboard's
// TLS, backups and expiry warnings (DESIGN 7).
func incidentFlags(fs *flag.FlagSet, cfg *hubserver.Config, o *options) {
	fs.StringVar(&cfg.HTTPTLSCert, "http-tls-cert", "", "certificate (PEM) of the dashboard's HTTPS")
	fs.StringVar(&cfg.HTTPTLSKey, "http-tls-key", "", "key (PEM) of the dashboard's HTTPS")
	fs.BoolVar(&cfg.HTTPInsecure, "http-insecure", false, "allow --http beyond loopback without TLS (only behind a TLS-terminating proxy; cookies stay Secure)")
	fs.StringVar(&cfg.Alerts, "alerts", "", "alert routing file (TOML: webhook and e-mail routes per office); empty: no alerts")
	fs.StringVar(&cfg.WorkHours, "work-hours", cfg.WorkHours, "working hours of the response-time targets, WIB")
	fs.StringVar(&o.holidays, "holidays", "", "public holidays (no working time), comma-separated YYYY-MM-DD")
	fs.StringVar(&o.targets, "targets", "critical=30m/8h,warning=8h/24h",
		"response-time targets per severity: SEVERITY=ACKNOWLEDGE/RESOLVE in working time, comma-separated")
	fs.DurationVar(&cfg.CorrelateWindow, "office-window", time.Minute, "kiosks of one office going silent within this window count as one outage")
	fs.DurationVar(&cfg.CorrelateHold, "office-hold", 20*time.Second, "wait after a kiosk went offline before deciding kiosk or office incident")
	fs.DurationVar(&cfg.AliveAt, "alive-at", 7*time.Hour+30*time.Minute, "time of day (WIB, from midnight) of the daily \"hub alive\" alert; negative: none")
	fs.StringVar(&cfg.BackupDir, "backup-dir", "", "directory of scheduled, verified backups; empty: no backups")
	fs.DurationVar(&cfg.BackupEvery, "backup-every", cfg.BackupEvery, "time between backups (the first one at start)")
	fs.IntVar(&cfg.BackupKeep, "backup-keep", cfg.BackupKeep, "verified backups kept")
	fs.DurationVar(&cfg.ExpiryWarn, "expiry-warn", cfg.ExpiryWarn, "warn this long before TLS certificates and credentials expire")
	fs.Uint64Var(&cfg.DiskMinFree, "disk-min-free", 0, "warn when the data disk has less free bytes (0: 1 GiB or 5%)")
}

// finishIncidentFlags parses the flags that are lists.
func finishIncidentFlags(cfg *hubserver.Config, o options) error {
	cfg.Holidays = nil
	for _, d := range strings.Split(o.holidays, ",") {
		if d = strings.TrimSpace(d); d != "" {
			cfg.Holidays = append(cfg.Holidays, d)
		}
	}
	if _, err := hub.ParseCalendar(cfg.WorkHours, cfg.Holidays, nil); err != nil {
		return fmt.Errorf("--work-hours/--holidays: %w", err)
	}
	ts, err := parseTargets(o.targets)
	if err != nil {
		return fmt.Errorf("--targets: %w", err)
	}
	cfg.Targets = ts
	if cfg.BackupDir != "" && (cfg.BackupEvery < time.Minute || cfg.BackupKeep < 1) {
		return fmt.Errorf("--backup-every %v / --backup-keep %d: want at least 1m and 1", cfg.BackupEvery, cfg.BackupKeep)
	}
	if cfg.CorrelateWindow <= 0 || cfg.CorrelateHold <= 0 {
		return fmt.Errorf("--office-window and --office-hold must be positive")
	}
	return nil
}

// parseTargets reads "critical=30m/8h,warning=8h/24h".
func parseTargets(s string) (map[string]hub.Targets, error) {
	out := map[string]hub.Targets{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		sev, durs, ok := strings.Cut(part, "=")
		ack, res, ok2 := strings.Cut(durs, "/")
		if !ok || !ok2 || (sev != "critical" && sev != "warning") {
			return nil, fmt.Errorf("%q: want critical=30m/8h or warning=8h/24h", part)
		}
		a, err := time.ParseDuration(ack)
		if err != nil || a <= 0 {
			return nil, fmt.Errorf("%q: acknowledge target %q: want a duration like 30m", part, ack)
		}
		r, err := time.ParseDuration(res)
		if err != nil || r < a {
			return nil, fmt.Errorf("%q: resolve target %q: want a duration like 8h, not shorter than the acknowledge target", part, res)
		}
		out[sev] = hub.Targets{Acknowledge: a, Resolve: r}
	}
	if _, ok := out["critical"]; !ok {
		return nil, fmt.Errorf("%q: the critical target is required", s)
	}
	if _, ok := out["warning"]; !ok {
		out["warning"] = hub.DefaultTargets["warning"]
	}
	return out, nil
}
