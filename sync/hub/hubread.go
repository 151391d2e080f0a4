package hub

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// ErrNoSuch is returned for an incident, user or alert the projection
// does not have.
var ErrNoSuch = errors.New("hub: no such record")

// Incidents returns incidents matching q, newest first. Timings are not
// filled in (they need the calendar: see Judge).
func (s *Store) Incidents(ctx context.Context, q hubapi.IncidentsRequest) ([]hubapi.Incident, error) {
	if q.Limit <= 0 {
		q.Limit = 200
	}
	q.Limit = min(q.Limit, 5000)
	var where []string
	var args []any
	if q.Office != "" {
		where, args = append(where, "office = ?"), append(args, q.Office)
	}
	if q.Kiosk != "" {
		where, args = append(where, "id IN (SELECT incident FROM incident_kiosks WHERE kiosk = ?)"), append(args, q.Kiosk)
	}
	switch q.State {
	case "":
	case "active":
		where = append(where, "state <> 'resolved'")
	case string(IncidentOpen), string(IncidentAcknowledged), string(IncidentResolved):
		where, args = append(where, "state = ?"), append(args, q.State)
	default:
		return nil, fmt.Errorf("hub: unknown incident state %q (have: open, acknowledged, resolved, active)", q.State)
	}
	if !q.Since.IsZero() {
		where, args = append(where, "opened_ns >= ?"), append(args, q.Since.UnixNano())
	}
	if !q.Until.IsZero() {
		where, args = append(where, "opened_ns < ?"), append(args, q.Until.UnixNano())
	}
	query := "SELECT " + incidentColumns + " FROM incidents"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY opened_ns DESC, id LIMIT ?"
	rows, err := s.r.QueryContext(ctx, query, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("hub: read incidents: %w", err)
	}
	defer rows.Close()
	var out []hubapi.Incident
	for rows.Next() {
		i, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("hub: read incidents: %w", err)
		}
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hub: read incidents: %w", err)
	}
	for k := range out {
		if out[k].Scope == "office" {
			if out[k].Kiosks, err = s.incidentKiosks(ctx, out[k].ID); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// Incident returns one incident, ErrNoSuch if there is none.
func (s *Store) Incident(ctx context.Context, id string) (hubapi.Incident, error) {
	i, err := scanIncident(s.r.QueryRowContext(ctx, "SELECT "+incidentColumns+" FROM incidents WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return hubapi.Incident{}, fmt.Errorf("incident %s: %w", id, ErrNoSuch)
	}
	if err != nil {
		return hubapi.Incident{}, fmt.Errorf("hub: read incident: %w", err)
	}
	if i.Scope == "office" {
		if i.Kiosks, err = s.incidentKiosks(ctx, id); err != nil {
			return hubapi.Incident{}, err
		}
	}
	return i, nil
}

func (s *Store) incidentKiosks(ctx context.Context, id string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT kiosk FROM incident_kiosks WHERE incident = ? ORDER BY kiosk", id)
	if err != nil {
		return nil, fmt.Errorf("hub: read incident kiosks: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("hub: read incident kiosks: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// HasIncident reports whether an incident with id exists, in any state.
func (s *Store) HasIncident(ctx context.Context, id string) (bool, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM incidents WHERE id = ?", id).Scan(&n); err != nil {
		return false, fmt.Errorf("hub: read incident: %w", err)
	}
	return n > 0, nil
}

// Covered reports whether an offline incident (of the kiosk itself or of
// its office) covers kiosk and was opened at or after since, in any state:
// an incident someone resolved by hand while the kiosk stays silent is
// not opened again.
func (s *Store) Covered(ctx context.Context, kioskID string, since time.Time) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM incident_kiosks ik JOIN incidents i ON i.id = ik.incident
		WHERE ik.kiosk = ? AND i.code IN (?, ?) AND i.opened_ns >= ?`, kioskID, CodeKioskOffline, CodeOfficeOffline, since.UnixNano()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("hub: read coverage: %w", err)
	}
	return n > 0, nil
}

// User returns a dashboard user, ErrNoSuch if there is none.
func (s *Store) User(ctx context.Context, name string) (hubapi.User, error) {
	us, err := s.users(ctx, "WHERE name = ?", name)
	if err != nil {
		return hubapi.User{}, err
	}
	if len(us) == 0 {
		return hubapi.User{}, fmt.Errorf("user %s: %w", name, ErrNoSuch)
	}
	return us[0], nil
}

// Users returns every dashboard user by name.
func (s *Store) Users(ctx context.Context) ([]hubapi.User, error) { return s.users(ctx, "") }

func (s *Store) users(ctx context.Context, where string, args ...any) ([]hubapi.User, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT name, role, offices, hash, disabled, changed_ns, epoch FROM users "+where+" ORDER BY name", args...)
	if err != nil {
		return nil, fmt.Errorf("hub: read users: %w", err)
	}
	defer rows.Close()
	var out []hubapi.User
	for rows.Next() {
		var u hubapi.User
		var offices string
		var changed int64
		if err := rows.Scan(&u.Name, &u.Role, &offices, &u.Hash, &u.Disabled, &changed, &u.Epoch); err != nil {
			return nil, fmt.Errorf("hub: read users: %w", err)
		}
		json.Unmarshal([]byte(offices), &u.Offices)
		u.Changed = time.Unix(0, changed)
		out = append(out, u)
	}
	return out, rows.Err()
}

// Audit returns the newest actions of users (not the hub's own
// decisions), of offices only unless offices is nil.
func (s *Store) Audit(ctx context.Context, offices []string, limit int) ([]hubapi.AuditEntry, error) {
	if limit <= 0 {
		limit = 200
	}
	query := "SELECT at_ns, by, type, target, kiosk, office, data FROM hub_events WHERE by <> 'hub'"
	var args []any
	if offices != nil {
		if len(offices) == 0 {
			return nil, nil
		}
		query += " AND office IN (" + strings.Repeat("?,", len(offices)-1) + "?)"
		for _, o := range offices {
			args = append(args, o)
		}
	}
	query += " ORDER BY seq DESC LIMIT ?"
	rows, err := s.r.QueryContext(ctx, query, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("hub: read audit: %w", err)
	}
	defer rows.Close()
	var out []hubapi.AuditEntry
	for rows.Next() {
		var a hubapi.AuditEntry
		var at int64
		var target, kioskID, data string
		if err := rows.Scan(&at, &a.User, &a.Action, &target, &kioskID, &a.Office, &data); err != nil {
			return nil, fmt.Errorf("hub: read audit: %w", err)
		}
		a.At = time.Unix(0, at)
		a.Target = cmp.Or(target, kioskID)
		a.Detail = auditDetail(a.Action, data)
		out = append(out, a)
	}
	return out, rows.Err()
}

// auditDetail is the human part of an audit entry, never a password hash.
func auditDetail(typ, data string) string {
	switch typ {
	case HEUserAdded:
		var d UserData
		json.Unmarshal([]byte(data), &d)
		if len(d.Offices) > 0 {
			return d.Role + " " + strings.Join(d.Offices, ",")
		}
		return d.Role
	case HEIncidentResolved:
		var d ResolvedData
		json.Unmarshal([]byte(data), &d)
		return d.Note
	case HEMaintenance, HECommand:
		var d ActionData
		json.Unmarshal([]byte(data), &d)
		return strings.TrimSpace(d.Verb + " " + d.Args + ": " + d.Outcome + " " + d.Detail)
	case HEUserDisabled:
		var d DisabledData
		json.Unmarshal([]byte(data), &d)
		if d.Disabled {
			return "disabled"
		}
		return "enabled"
	}
	return ""
}

// Alerts returns the newest alerts.
func (s *Store) Alerts(ctx context.Context, limit int) ([]hubapi.Alert, error) {
	if limit <= 0 {
		limit = 200
	}
	return s.alerts(ctx, "ORDER BY queued_ns DESC LIMIT ?", limit)
}

// QueuedAlerts returns the alerts not yet delivered nor given up, oldest
// first.
func (s *Store) QueuedAlerts(ctx context.Context) ([]hubapi.Alert, error) {
	return s.alerts(ctx, "WHERE state = 'queued' ORDER BY queued_ns")
}

// HasAlert reports whether an alert with id was queued.
func (s *Store) HasAlert(ctx context.Context, id string) (bool, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM alerts WHERE id = ?", id).Scan(&n); err != nil {
		return false, fmt.Errorf("hub: read alerts: %w", err)
	}
	return n > 0, nil
}

// RecentAlert reports whether an opened alert about kiosk and code was
// queued at or after since (flapping: one alert, not one per flap).
func (s *Store) RecentAlert(ctx context.Context, kioskID, code string, since time.Time) (bool, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM alerts WHERE kiosk = ? AND code = ? AND kind = 'opened' AND queued_ns >= ?",
		kioskID, code, since.UnixNano()).Scan(&n); err != nil {
		return false, fmt.Errorf("hub: read alerts: %w", err)
	}
	return n > 0, nil
}

func (s *Store) alerts(ctx context.Context, tail string, args ...any) ([]hubapi.Alert, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, kind, incident, office, subject, text, queued_ns, state, sent_ns, attempts, last_error
		FROM alerts `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("hub: read alerts: %w", err)
	}
	defer rows.Close()
	var out []hubapi.Alert
	for rows.Next() {
		var a hubapi.Alert
		var q, sent int64
		if err := rows.Scan(&a.ID, &a.Kind, &a.Incident, &a.Office, &a.Subject, &a.Text, &q, &a.State, &sent, &a.Attempts, &a.LastErr); err != nil {
			return nil, fmt.Errorf("hub: read alerts: %w", err)
		}
		a.Queued = time.Unix(0, q)
		if sent != 0 {
			a.Sent = time.Unix(0, sent)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AlertTarget is the outcome of an alert for one target so far.
type AlertTarget struct {
	Alert, Target string
	Done          bool // delivered or given up (an alert.delivered event)
	Attempts      int  // attempts logged locally, also before Done
	Last          time.Time
}

// AlertTargets returns what is known of the delivery of alert to each
// target: outcomes from the projection and attempts from the local log.
func (s *Store) AlertTargets(ctx context.Context, alert string) (map[string]AlertTarget, error) {
	out := map[string]AlertTarget{}
	rows, err := s.r.QueryContext(ctx, "SELECT target, COUNT(*), MAX(at_ns) FROM alert_attempts WHERE alert = ? GROUP BY target", alert)
	if err != nil {
		return nil, fmt.Errorf("hub: read alert attempts: %w", err)
	}
	for rows.Next() {
		var t AlertTarget
		var last int64
		if err := rows.Scan(&t.Target, &t.Attempts, &last); err != nil {
			rows.Close()
			return nil, fmt.Errorf("hub: read alert attempts: %w", err)
		}
		t.Alert, t.Last = alert, time.Unix(0, last)
		out[t.Target] = t
	}
	rows.Close()
	rows, err = s.r.QueryContext(ctx, "SELECT target, attempts, at_ns FROM alert_targets WHERE alert = ?", alert)
	if err != nil {
		return nil, fmt.Errorf("hub: read alert targets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var target string
		var n int
		var at int64
		if err := rows.Scan(&target, &n, &at); err != nil {
			return nil, fmt.Errorf("hub: read alert targets: %w", err)
		}
		t := out[target]
		t.Alert, t.Target, t.Done = alert, target, true
		t.Attempts = max(t.Attempts, n)
		if t.Last.IsZero() {
			t.Last = time.Unix(0, at)
		}
		out[target] = t
	}
	return out, rows.Err()
}

// LogAttempt records one delivery attempt in the local delivery log.
func (s *Store) LogAttempt(ctx context.Context, alert, target string, at time.Time, ok bool, detail string) error {
	if _, err := s.w.ExecContext(ctx, "INSERT INTO alert_attempts(alert, target, at_ns, ok, detail) VALUES (?, ?, ?, ?, ?)",
		alert, target, at.UnixNano(), ok, detail); err != nil {
		return fmt.Errorf("hub: log alert attempt: %w", err)
	}
	return nil
}

// HubEvents returns the newest hub events about kiosk (all when ""),
// for its timeline.
func (s *Store) HubEvents(ctx context.Context, kioskID string, limit int) ([]HubEvent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, type, at_ns, by, office, kiosk, target, data FROM hub_events
		WHERE ? = '' OR kiosk = ? ORDER BY seq DESC LIMIT ?`, kioskID, kioskID, limit)
	if err != nil {
		return nil, fmt.Errorf("hub: read hub events: %w", err)
	}
	defer rows.Close()
	var out []HubEvent
	for rows.Next() {
		var e HubEvent
		var at int64
		var data string
		if err := rows.Scan(&e.ID, &e.Type, &at, &e.By, &e.Office, &e.Kiosk, &e.Target, &data); err != nil {
			return nil, fmt.Errorf("hub: read hub events: %w", err)
		}
		e.At, e.Data = time.Unix(0, at), json.RawMessage(data)
		out = append(out, e)
	}
	return out, rows.Err()
}

// RecentAlerts returns the alerts queued at or after since, oldest first:
// the alert sender's work list (it skips targets already done).
func (s *Store) RecentAlerts(ctx context.Context, since time.Time) ([]hubapi.Alert, error) {
	return s.alerts(ctx, "WHERE queued_ns >= ? ORDER BY queued_ns", since.UnixNano())
}
