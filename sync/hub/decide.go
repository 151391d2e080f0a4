package hub

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// The decider turns the projection's state into incidents and alerts. It
// reconciles (compares what is with what has been decided) instead of
// reacting to single events, so a replay, a rebuild or a hub restarted
// half-way through a decision neither misses nor repeats one: every
// decision has a deterministic id, and an id already taken is not taken
// again.
//
//   - A critical fault raised (faults table) opens an incident; it is
//     resolved automatically when the fault is cleared (or the kiosk
//     restarted without it).
//   - Kiosks offline: after Hold, when at least two and more than Share of
//     an office's kiosks went silent within Window of each other, one
//     office incident ("gangguan jaringan/listrik kantor") covers them;
//     otherwise each gets its own. A kiosk whose last heartbeat said it
//     ran on the UPS is a power cut, not a network fault. A kiosk that
//     goes silent while its office incident is open joins it.
//   - Alerts: one when an incident opens (not for a flap of the same fault
//     alerted within FlapWindow), one when it is resolved, one reminder
//     per missed target, and a daily "hub alive" message.

// DeciderConfig configures the decider.
type DeciderConfig struct {
	Store    *Store
	Pub      *Publisher
	Fleet    *Fleet
	Calendar Calendar
	Targets  map[string]Targets // by severity; nil = DefaultTargets
	TZ       *time.Location
	Now      func() time.Time
	Log      *slog.Logger

	Window     time.Duration // office correlation window; default 60 s
	Hold       time.Duration // wait after a kiosk went offline; default 20 s
	Share      float64       // "most kiosks": more than this share; default 0.5
	FlapWindow time.Duration // default 30 min
	// AliveAt is the time of day (from midnight, TZ) of the daily "hub
	// alive" alert; negative = none. Default 07:30.
	AliveAt time.Duration
	// Alerts off: incidents are opened but nobody is told (no routes
	// configured).
	NoAlerts bool
	// Queued, if set, is called after alerts were queued (to wake the
	// sender).
	Queued func()
}

// Decider makes the hub's decisions; see the top of this file.
type Decider struct {
	cfg DeciderConfig
}

// NewDecider returns a decider with cfg's defaults filled in.
func NewDecider(cfg DeciderConfig) *Decider {
	if cfg.Targets == nil {
		cfg.Targets = DefaultTargets
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TZ == nil {
		cfg.TZ = time.FixedZone("WIB", 7*3600)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Window <= 0 {
		cfg.Window = time.Minute
	}
	if cfg.Hold <= 0 {
		cfg.Hold = 20 * time.Second
	}
	if cfg.Share <= 0 {
		cfg.Share = 0.5
	}
	if cfg.FlapWindow <= 0 {
		cfg.FlapWindow = 30 * time.Minute
	}
	if cfg.AliveAt == 0 {
		cfg.AliveAt = 7*time.Hour + 30*time.Minute
	}
	if cfg.Calendar.weekly() == 0 {
		cfg.Calendar, _ = ParseCalendar(DefaultHours, nil, cfg.TZ)
	}
	return &Decider{cfg: cfg}
}

// Judge fills in the incident's deadlines and whether they were missed.
func (d *Decider) Judge(i *hubapi.Incident, now time.Time) {
	t, ok := d.cfg.Targets[i.Severity]
	if !ok {
		t = d.cfg.Targets["critical"]
	}
	tm := IncidentTiming(d.cfg.Calendar, t, i.OpenedAt, i.AckedAt, i.ResolvedAt, now)
	i.AckDue, i.ResolveDue = tm.AckDue, tm.ResolveDue
	i.AckOverdue, i.ResolveOverdue = tm.AckOverdue, tm.ResolveOverdue
	i.TimeToAckS, i.TimeToResolveS = int64(tm.TimeToAck/time.Second), int64(tm.TimeToResolve/time.Second)
}

// Reconcile takes every decision due now. Errors of one part do not stop
// the others; the next call retries what failed.
func (d *Decider) Reconcile(ctx context.Context) error {
	now := d.cfg.Now()
	queued := 0
	errs := []error{d.faultIncidents(ctx, now), d.offlineIncidents(ctx, now)}
	n, err := d.alerts(ctx, now)
	queued += n
	errs = append(errs, err)
	n, err = d.alive(ctx, now)
	queued += n
	errs = append(errs, err)
	if queued > 0 && d.cfg.Queued != nil {
		d.cfg.Queued()
	}
	return errors.Join(errs...)
}

func (d *Decider) maintenance(id string) bool {
	if d.cfg.Fleet == nil {
		return false
	}
	k, ok := d.cfg.Fleet.Kiosk(id)
	return ok && k.Mode == "maintenance"
}

type activeFault struct {
	Fault
	Event string
}

func (s *Store) criticalFaults(ctx context.Context) ([]activeFault, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT kiosk, office, code, severity, detail, at, event FROM faults
		WHERE state = 'raised' AND severity = 'critical' ORDER BY kiosk, code`)
	if err != nil {
		return nil, fmt.Errorf("hub: read faults: %w", err)
	}
	defer rows.Close()
	var out []activeFault
	for rows.Next() {
		var f activeFault
		var at sql.NullString
		if err := rows.Scan(&f.Kiosk, &f.Office, &f.Code, &f.Severity, &f.Detail, &at, &f.Event); err != nil {
			return nil, fmt.Errorf("hub: read faults: %w", err)
		}
		if at.Valid {
			f.Since, _ = time.Parse(time.RFC3339Nano, at.String)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

func (d *Decider) faultIncidents(ctx context.Context, now time.Time) error {
	s := d.cfg.Store
	fs, err := s.criticalFaults(ctx)
	if err != nil {
		return err
	}
	for _, f := range fs {
		id := DecisionID("inc", f.Kiosk, f.Code, f.Event)
		if has, err := s.HasIncident(ctx, id); err != nil || has {
			if err != nil {
				return err
			}
			continue
		}
		if d.maintenance(f.Kiosk) {
			continue
		}
		notify := !d.cfg.NoAlerts
		if notify {
			flap, err := s.RecentAlert(ctx, f.Kiosk, f.Code, now.Add(-d.cfg.FlapWindow))
			if err != nil {
				return err
			}
			notify = !flap
		}
		e := HubEvent{ID: id, Type: HEIncidentOpened, At: now, By: ByHub, Office: f.Office, Kiosk: f.Kiosk, Target: id}
		e.Data = mustJSON(OpenedData{Scope: "kiosk", Code: f.Code, Severity: f.Severity, Title: FaultTitle(f.Code),
			Detail: f.Detail, Source: f.Event, Notify: notify})
		if err := d.cfg.Pub.Do(ctx, e); err != nil {
			return err
		}
		d.cfg.Log.Info("incident opened", "incident", id, "kiosk", f.Kiosk, "code", f.Code, "notify", notify)
	}
	// Fault incidents whose fault is no longer the raised one.
	rows, err := s.r.QueryContext(ctx, `SELECT i.id, i.kiosk, i.code, i.opened_ns, COALESCE(f.state, ''), COALESCE(f.detail, '')
		FROM incidents i LEFT JOIN faults f ON f.kiosk = i.kiosk AND f.code = i.code
		WHERE i.state <> 'resolved' AND i.scope = 'kiosk' AND i.code NOT IN (?, ?)
			AND (f.state IS NULL OR f.state <> 'raised' OR f.event <> i.source)`, CodeKioskOffline, CodeOfficeOffline)
	if err != nil {
		return fmt.Errorf("hub: read incidents: %w", err)
	}
	type res struct{ id, kiosk, office, note string }
	var todo []res
	for rows.Next() {
		var id, k, code, state, detail string
		var opened int64
		if err := rows.Scan(&id, &k, &code, &opened, &state, &detail); err != nil {
			rows.Close()
			return fmt.Errorf("hub: read incidents: %w", err)
		}
		note := "Gangguan sudah pulih (" + FaultTitle(code) + ")"
		if detail == clearedByBoot {
			note = "Program kiosk dimulai ulang dan gangguan tidak muncul lagi"
		}
		todo = append(todo, res{id: id, kiosk: k, note: note + ", setelah " + humanDuration(now.Sub(time.Unix(0, opened))) + "."})
	}
	rows.Close()
	for _, r := range todo {
		if err := d.resolve(ctx, now, r.id, r.note); err != nil {
			return err
		}
	}
	return nil
}

func (d *Decider) resolve(ctx context.Context, now time.Time, id, note string) error {
	i, err := d.cfg.Store.Incident(ctx, id)
	if err != nil {
		return err
	}
	e := HubEvent{ID: DecisionID("res", id), Type: HEIncidentResolved, At: now, By: ByHub, Office: i.Office, Kiosk: i.Kiosk, Target: id}
	e.Data = mustJSON(ResolvedData{Note: note, Auto: true})
	if err := d.cfg.Pub.Do(ctx, e); err != nil {
		return err
	}
	d.cfg.Log.Info("incident resolved", "incident", id, "note", note)
	return nil
}

func (d *Decider) offlineIncidents(ctx context.Context, now time.Time) error {
	if d.cfg.Fleet == nil {
		return nil
	}
	s := d.cfg.Store
	totals, silent := d.cfg.Fleet.Census()
	offline := map[string][]CensusKiosk{} // uncovered, by office, oldest silence first
	isOffline := map[string]bool{}
	for _, k := range silent {
		if k.Presence != Offline {
			continue
		}
		isOffline[k.ID] = true
		if k.Maintenance {
			continue
		}
		covered, err := s.Covered(ctx, k.ID, k.LastSeen)
		if err != nil {
			return err
		}
		if !covered {
			offline[k.Office] = append(offline[k.Office], k)
		}
	}
	active, err := s.Incidents(ctx, hubapi.IncidentsRequest{State: "active", Limit: 5000})
	if err != nil {
		return err
	}
	officeInc := map[string]hubapi.Incident{}
	for _, i := range active {
		if i.Code == CodeOfficeOffline {
			officeInc[i.Office] = i
		}
	}
	for office, ks := range offline {
		if oi, ok := officeInc[office]; ok {
			for _, k := range ks {
				e := HubEvent{ID: DecisionID("att", oi.ID, k.ID, k.LastSeen.String()), Type: HEIncidentAttached, At: now, By: ByHub,
					Office: office, Kiosk: k.ID, Target: oi.ID}
				if err := d.cfg.Pub.Do(ctx, e); err != nil {
					return err
				}
			}
			continue
		}
		var ready []CensusKiosk
		for _, k := range ks {
			if now.Sub(k.LastSeen) >= offlineAfter(k.Interval)+d.cfg.Hold {
				ready = append(ready, k)
			}
		}
		if len(ready) == 0 {
			continue // wait: the rest of an outage may still be going offline
		}
		first := ready[0]
		var cluster []CensusKiosk
		battery := 0
		for _, k := range ks {
			if k.LastSeen.Sub(first.LastSeen).Abs() <= d.cfg.Window {
				cluster = append(cluster, k)
				if k.OnBattery {
					battery++
				}
			}
		}
		if len(cluster) >= 2 && float64(len(cluster)) > d.cfg.Share*float64(totals[office]) {
			cause := CauseNetwork
			if 2*battery > len(cluster) {
				cause = CausePower
			}
			ids := make([]string, len(cluster))
			for i, k := range cluster {
				ids[i] = k.ID
			}
			id := DecisionID("inc", "office", office, first.ID, first.LastSeen.String())
			detail := fmt.Sprintf("%d dari %d kiosk tidak terhubung bersamaan", len(cluster), totals[office])
			if err := d.open(ctx, now, id, HubEvent{Office: office}, OpenedData{Scope: "office", Kiosks: ids, Code: CodeOfficeOffline,
				Severity: "critical", Cause: cause, Title: OfflineTitle("office", cause), Detail: detail}); err != nil {
				return err
			}
			continue
		}
		for _, k := range ready {
			cause := CauseNetwork
			if k.OnBattery {
				cause = CausePower
			}
			id := DecisionID("inc", k.ID, CodeKioskOffline, k.LastSeen.String())
			detail := "Detak terakhir " + FormatWIB(k.LastSeen, d.cfg.TZ)
			if err := d.open(ctx, now, id, HubEvent{Office: office, Kiosk: k.ID}, OpenedData{Scope: "kiosk", Code: CodeKioskOffline,
				Severity: "critical", Cause: cause, Title: OfflineTitle("kiosk", cause), Detail: detail}); err != nil {
				return err
			}
		}
	}
	// Offline incidents whose kiosks are back.
	for _, i := range active {
		if i.Code != CodeKioskOffline && i.Code != CodeOfficeOffline {
			continue
		}
		ks := i.Kiosks
		if i.Scope == "kiosk" {
			ks = []string{i.Kiosk}
		}
		back := true
		for _, k := range ks {
			if isOffline[k] {
				back = false
			}
		}
		if !back {
			continue
		}
		note := "Kiosk kembali terhubung"
		if i.Scope == "office" {
			note = "Semua kiosk kantor kembali terhubung"
		}
		if err := d.resolve(ctx, now, i.ID, note+", setelah "+humanDuration(now.Sub(i.OpenedAt))+"."); err != nil {
			return err
		}
	}
	return nil
}

// offlineAfter is the silence after which a kiosk with heartbeat interval
// iv is offline (PresenceAt).
func offlineAfter(iv time.Duration) time.Duration {
	if iv <= 0 {
		iv = DefaultHBInterval
	}
	return 3*iv + iv/2
}

func (d *Decider) open(ctx context.Context, now time.Time, id string, where HubEvent, od OpenedData) error {
	if has, err := d.cfg.Store.HasIncident(ctx, id); err != nil || has {
		return err
	}
	od.Notify = !d.cfg.NoAlerts
	e := HubEvent{ID: id, Type: HEIncidentOpened, At: now, By: ByHub, Office: where.Office, Kiosk: where.Kiosk, Target: id, Data: mustJSON(od)}
	if err := d.cfg.Pub.Do(ctx, e); err != nil {
		return err
	}
	d.cfg.Log.Info("incident opened", "incident", id, "office", where.Office, "kiosk", where.Kiosk, "code", od.Code, "cause", od.Cause)
	return nil
}

// alerts queues the alerts incidents call for: opened, resolved,
// reminders. Only incidents of the last two days are looked at: a hub
// rebuilt from a year of events does not discover old duties.
func (d *Decider) alerts(ctx context.Context, now time.Time) (int, error) {
	s := d.cfg.Store
	rows, err := s.r.QueryContext(ctx, "SELECT id FROM incidents WHERE notify = 1 AND (state <> 'resolved' OR resolved_ns >= ?) AND opened_ns >= ?",
		now.Add(-48*time.Hour).UnixNano(), now.Add(-30*24*time.Hour).UnixNano())
	if err != nil {
		return 0, fmt.Errorf("hub: read incidents: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("hub: read incidents: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	queued := 0
	for _, id := range ids {
		i, err := s.Incident(ctx, id)
		if err != nil {
			return queued, err
		}
		d.Judge(&i, now) // the loop's now, not a later one
		openedID := DecisionID("alert", "opened", id)
		hasOpened, err := s.HasAlert(ctx, openedID)
		if err != nil {
			return queued, err
		}
		if !hasOpened && now.Sub(i.OpenedAt) < 48*time.Hour {
			total := 0
			if d.cfg.Fleet != nil && i.Scope == "office" {
				totals, _ := d.cfg.Fleet.Census()
				total = totals[i.Office]
			}
			subj, text := OpenedAlert(i, total, d.cfg.TZ)
			if err := d.queue(ctx, now, openedID, "opened", i, subj, text); err != nil {
				return queued, err
			}
			queued++
			hasOpened = true
		}
		type due struct{ id, kind, subj, text string }
		var todo []due
		if i.State == string(IncidentResolved) {
			subj, text := ResolvedAlert(i, d.cfg.TZ)
			todo = append(todo, due{DecisionID("alert", "resolved", id), "resolved", subj, text})
		} else {
			if i.AckOverdue && i.AckedAt.IsZero() {
				subj, text := ReminderAlert(i, "ack", d.cfg.TZ)
				todo = append(todo, due{DecisionID("alert", "reminder-ack", id), "reminder", subj, text})
			}
			if i.ResolveOverdue {
				subj, text := ReminderAlert(i, "resolve", d.cfg.TZ)
				todo = append(todo, due{DecisionID("alert", "reminder-resolve", id), "reminder", subj, text})
			}
		}
		for _, t := range todo {
			has, err := s.HasAlert(ctx, t.id)
			if err != nil {
				return queued, err
			}
			if has || !hasOpened {
				continue
			}
			if err := d.queue(ctx, now, t.id, t.kind, i, t.subj, t.text); err != nil {
				return queued, err
			}
			queued++
		}
	}
	return queued, nil
}

func (d *Decider) queue(ctx context.Context, now time.Time, id, kind string, i hubapi.Incident, subj, text string) error {
	e := HubEvent{ID: id, Type: HEAlertQueued, At: now, By: ByHub, Office: i.Office, Kiosk: i.Kiosk, Target: id,
		Data: mustJSON(AlertData{Kind: kind, Incident: i.ID, Code: i.Code, Subject: subj, Text: text})}
	return d.cfg.Pub.Do(ctx, e)
}

// QueueHubAlert queues an alert about the hub itself (backup, expiry,
// disk) under a deterministic id: the same id is queued once. It reports
// whether it queued it now.
func (d *Decider) QueueHubAlert(ctx context.Context, id, kind, subject, text string) (bool, error) {
	has, err := d.cfg.Store.HasAlert(ctx, id)
	if err != nil || has {
		return false, err
	}
	if d.cfg.NoAlerts {
		return true, nil // nobody to tell: the log says it
	}
	e := HubEvent{ID: id, Type: HEAlertQueued, At: d.cfg.Now(), By: ByHub, Target: id,
		Data: mustJSON(AlertData{Kind: kind, Subject: subject, Text: text})}
	if err := d.cfg.Pub.Do(ctx, e); err != nil {
		return false, err
	}
	if d.cfg.Queued != nil {
		d.cfg.Queued()
	}
	return true, nil
}

// Incidents returns the incidents matching q with their timings judged
// now: what hub.incidents, the dashboard and the metrics show.
func (d *Decider) Incidents(ctx context.Context, q hubapi.IncidentsRequest) ([]hubapi.Incident, error) {
	is, err := d.cfg.Store.Incidents(ctx, q)
	if err != nil {
		return nil, err
	}
	now := d.cfg.Now()
	for k := range is {
		d.Judge(&is[k], now)
	}
	return is, nil
}

// Incident returns one incident with its timings judged now (ErrNoSuch
// if there is none).
func (d *Decider) Incident(ctx context.Context, id string) (hubapi.Incident, error) {
	i, err := d.cfg.Store.Incident(ctx, id)
	if err != nil {
		return i, err
	}
	d.Judge(&i, d.cfg.Now())
	return i, nil
}

func (d *Decider) alive(ctx context.Context, now time.Time) (int, error) {
	if d.cfg.AliveAt < 0 || d.cfg.NoAlerts {
		return 0, nil
	}
	local := now.In(d.cfg.TZ)
	mid := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, d.cfg.TZ)
	if local.Before(mid.Add(d.cfg.AliveAt)) {
		return 0, nil
	}
	id := DecisionID("alert", "alive", mid.Format(time.DateOnly))
	if has, err := d.cfg.Store.HasAlert(ctx, id); err != nil || has {
		return 0, err
	}
	var on, late, off int
	if d.cfg.Fleet != nil {
		for _, k := range d.cfg.Fleet.Kiosks() {
			switch k.Presence {
			case Online:
				on++
			case Late:
				late++
			case Offline:
				off++
			}
		}
	}
	active, err := d.Incidents(ctx, hubapi.IncidentsRequest{State: "active", Limit: 5000})
	if err != nil {
		return 0, err
	}
	overdue := 0
	for _, i := range active {
		if i.Overdue() {
			overdue++
		}
	}
	subj, text := AliveAlert(now, on, late, off, len(active), overdue, d.cfg.TZ)
	e := HubEvent{ID: id, Type: HEAlertQueued, At: now, By: ByHub, Target: id,
		Data: mustJSON(AlertData{Kind: "alive", Subject: subj, Text: text})}
	if err := d.cfg.Pub.Do(ctx, e); err != nil {
		return 0, err
	}
	return 1, nil
}

func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d detik", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d menit", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d jam %d menit", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%d hari", int(d.Hours()/24))
	}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // our own plain structs: a programming error
	}
	return b
}
