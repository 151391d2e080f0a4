package dashboard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

func (d *Dashboard) clock() clock { return clock{tz: d.cfg.TZ, now: d.now()} }

// ---- fleet

type fleetData struct {
	Offices  []officeGroup
	Choices  []string // offices the filter offers
	Selected string
	Empty    bool
	Total    counts // over the offices shown
}

type officeGroup struct {
	Counts counts
	Cards  []card
}

func (d *Dashboard) fleetPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	office, ok := d.officeParam(w, r, v)
	if !ok {
		return
	}
	all, err := d.cfg.Backend.Fleet(r.Context())
	if err != nil {
		d.backendFailed(w, r, v, "fleet", err)
		return
	}
	vis := make([]hubapi.FleetKiosk, 0, len(all))
	choices := map[string]bool{}
	for _, k := range all {
		if !v.sees(k.Office) {
			continue
		}
		choices[k.Office] = true
		if office == "" || k.Office == office {
			vis = append(vis, k)
		}
	}
	for o := range v.offices {
		choices[o] = true
	}
	c := d.clock()
	offices, groups := byOffice(vis)
	fd := fleetData{Selected: office, Empty: len(vis) == 0}
	for _, o := range offices {
		g := officeGroup{Counts: countOffice(o, groups[o]), Cards: make([]card, len(groups[o]))}
		for i, k := range groups[o] {
			g.Cards[i] = c.card(k)
		}
		fd.Offices = append(fd.Offices, g)
		fd.Total.add(g.Counts)
	}
	for o := range choices {
		fd.Choices = append(fd.Choices, o)
	}
	slices.Sort(fd.Choices)
	d.show(w, r, v, "fleet", page{Title: "Armada kiosk", Nav: "fleet", Events: eventsURL(office), Data: fd})
}

func eventsURL(office string) string {
	if office == "" {
		return "/events"
	}
	return "/events?office=" + url.QueryEscape(office)
}

// ---- one kiosk

type kioskData struct {
	ID, Office   string
	Card         *card
	Faults       []faultRow
	Timeline     []timelineEntry
	Unclean      string // last unclean shutdown, "" if none seen
	Incidents    []incidentRow
	Levels       []option
	Maintenance  bool
	Gaps         int
	IncidentsErr bool
}

type faultRow struct {
	Code, Label, Severity, SeverityLabel, Detail, Since string
}

type option struct{ Value, Label string }

// kioskOffice is the office of a kiosk as far as the reply tells it
// (a kiosk without a heartbeat yet has no snapshot).
func kioskOffice(rep hubapi.KioskReply) string {
	if rep.Kiosk != nil {
		return rep.Kiosk.Office
	}
	for _, f := range rep.Faults {
		return f.Office
	}
	for _, e := range rep.Events {
		return e.Office
	}
	for _, t := range rep.Presence {
		return t.Office
	}
	return ""
}

// kioskInScope fetches kiosk id and answers 404 (ok false) when it does
// not exist or is not in the viewer's offices; the two look the same.
func (d *Dashboard) kioskInScope(w http.ResponseWriter, r *http.Request, v *viewer, id string, events int) (hubapi.KioskReply, bool) {
	rep, err := d.cfg.Backend.Kiosk(r.Context(), id, events)
	if err != nil {
		d.backendFailed(w, r, v, "kiosk", err)
		return rep, false
	}
	if o := kioskOffice(rep); !v.all && (o == "" || !v.sees(o)) {
		d.notFound(w, r, v)
		return rep, false
	}
	return rep, true
}

func (d *Dashboard) kioskPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	id := r.PathValue("id")
	rep, ok := d.kioskInScope(w, r, v, id, 100)
	if !ok {
		return
	}
	c := d.clock()
	kd := kioskData{ID: id, Office: kioskOffice(rep), Timeline: c.timeline(rep), Gaps: len(rep.Gaps)}
	if rep.Kiosk != nil {
		cd := c.card(*rep.Kiosk)
		kd.Card = &cd
		kd.Maintenance = cd.Maintenance
	}
	for _, f := range rep.Faults {
		sev := cmp.Or(f.Severity, severityOf(f.Code))
		kd.Faults = append(kd.Faults, faultRow{Code: f.Code, Label: faultLabel(f.Code), Severity: sev,
			SeverityLabel: severityLabel(sev), Detail: f.Detail, Since: c.full(f.Since)})
	}
	if at, detail := lastUncleanShutdown(rep); !at.IsZero() {
		kd.Unclean = c.full(at) + " (" + c.ago(at) + ")"
		if detail != "" {
			kd.Unclean += ": " + detail
		}
	}
	incs, err := d.cfg.Backend.Incidents(r.Context(), hubapi.IncidentsRequest{Kiosk: id, Limit: 10})
	if err != nil {
		// The page is still useful without them.
		d.cfg.Log.Error("dashboard: kiosk incidents", "kiosk", id, "err", err)
		kd.IncidentsErr = true
	}
	for _, i := range incs {
		if v.sees(i.Office) {
			kd.Incidents = append(kd.Incidents, c.incidentRow(i))
		}
	}
	for _, l := range []string{kiosk.RestartUIReload, kiosk.RestartUI, kiosk.RestartAgent, kiosk.RestartHost} {
		kd.Levels = append(kd.Levels, option{l, levelLabels[l] + " (" + l + ")"})
	}
	d.show(w, r, v, "kiosk", page{Title: "Kiosk " + id, Nav: "fleet", Events: eventsURL(kd.Office),
		ReloadOn: domID("k-", id), Data: kd})
}

// commandFlash turns a kiosk's answer into the flash of the kiosk page.
func (d *Dashboard) commandFlash(w http.ResponseWriter, v *viewer, what string, res CommandResult, err error) {
	if err != nil {
		d.cfg.Log.Error("dashboard: command", "user", v.User.Name, "what", what, "err", err)
		d.setFlash(w, v.sess.SID, "err", what+": perintah gagal dikirim. Coba lagi.")
		return
	}
	kind := "ok"
	switch res.Outcome {
	case "deferred":
		kind = "warn"
	case "rejected", "offline", "failed", "expired":
		kind = "err"
	}
	text := what + ": " + outcomeLabel(res.Outcome)
	if res.Detail != "" {
		text += " — " + res.Detail
	}
	d.setFlash(w, v.sess.SID, kind, text)
}

func kioskPath(id string) string { return "/kiosk/" + url.PathEscape(id) }

func (d *Dashboard) maintenance(w http.ResponseWriter, r *http.Request, v *viewer) {
	id := r.PathValue("id")
	if _, ok := d.kioskInScope(w, r, v, id, 0); !ok {
		return
	}
	on := r.PostFormValue("on") == "1"
	msg := truncate(strings.TrimSpace(r.PostFormValue("message")), 200)
	res, err := d.cfg.Backend.Maintenance(r.Context(), id, on, msg, v.User.Name)
	if errors.Is(err, ErrNotFound) {
		d.notFound(w, r, v)
		return
	}
	what := "Mode perawatan dimatikan"
	if on {
		what = "Mode perawatan dinyalakan"
	}
	d.commandFlash(w, v, what, res, err)
	redirect(w, r, kioskPath(id))
}

func (d *Dashboard) restart(w http.ResponseWriter, r *http.Request, v *viewer) {
	id := r.PathValue("id")
	level := r.PostFormValue("level")
	if _, ok := levelLabels[level]; !ok {
		d.fail(w, r, v, http.StatusBadRequest, "Tingkat restart tidak dikenal.")
		return
	}
	if _, ok := d.kioskInScope(w, r, v, id, 0); !ok {
		return
	}
	force := r.PostFormValue("force") == "1"
	res, err := d.cfg.Backend.Restart(r.Context(), id, level, force, v.User.Name)
	if errors.Is(err, ErrNotFound) {
		d.notFound(w, r, v)
		return
	}
	what := "Restart: " + levelLabels[level]
	if force {
		what += " (paksa)"
	}
	d.commandFlash(w, v, what, res, err)
	redirect(w, r, kioskPath(id))
}

// ---- incidents

type incidentsData struct {
	Rows          []incidentRow
	Choices       []string
	States        []option
	Office, State string
	From, To      string
	CSV           string
	Limited       bool
	Limit         int
}

var incidentStates = []string{"", "active", "open", "acknowledged", "resolved"}

// incidentFilter reads the list's filters: office (in scope), state and a
// date range (from..to inclusive, dates in the dashboard's zone). ok is
// false when an answer was sent.
func (d *Dashboard) incidentFilter(w http.ResponseWriter, r *http.Request, v *viewer) (q hubapi.IncidentsRequest, from, to string, ok bool) {
	if q.Office, ok = d.officeParam(w, r, v); !ok {
		return q, "", "", false
	}
	qs := r.URL.Query()
	q.State = qs.Get("state")
	if !slices.Contains(incidentStates, q.State) {
		d.fail(w, r, v, http.StatusBadRequest, "Status insiden tidak dikenal.")
		return q, "", "", false
	}
	from, to = qs.Get("from"), qs.Get("to")
	if from != "" {
		t, err := time.ParseInLocation(time.DateOnly, from, d.cfg.TZ)
		if err != nil {
			d.fail(w, r, v, http.StatusBadRequest, "Tanggal awal harus berbentuk TTTT-BB-HH.")
			return q, "", "", false
		}
		q.Since = t
	}
	if to != "" {
		t, err := time.ParseInLocation(time.DateOnly, to, d.cfg.TZ)
		if err != nil {
			d.fail(w, r, v, http.StatusBadRequest, "Tanggal akhir harus berbentuk TTTT-BB-HH.")
			return q, "", "", false
		}
		q.Until = t.AddDate(0, 0, 1)
	}
	return q, from, to, true
}

// incidents asks the Backend for q within the viewer's offices: one
// question per office for uptd (the Backend filters by one office), then
// merged newest first.
func (d *Dashboard) incidents(ctx context.Context, v *viewer, q hubapi.IncidentsRequest) ([]hubapi.Incident, error) {
	var out []hubapi.Incident
	if v.all || q.Office != "" {
		got, err := d.cfg.Backend.Incidents(ctx, q)
		if err != nil {
			return nil, err
		}
		out = got
	} else {
		for _, o := range slices.Sorted(maps.Keys(v.offices)) {
			q.Office = o
			got, err := d.cfg.Backend.Incidents(ctx, q)
			if err != nil {
				return nil, err
			}
			out = append(out, got...)
		}
		slices.SortStableFunc(out, func(a, b hubapi.Incident) int { return b.OpenedAt.Compare(a.OpenedAt) })
		if len(out) > q.Limit {
			out = out[:q.Limit]
		}
	}
	// The Backend filtered already; this keeps a Backend bug from showing
	// another office.
	return slices.DeleteFunc(out, func(i hubapi.Incident) bool { return !v.sees(i.Office) }), nil
}

const incidentsPageLimit = 300

func (d *Dashboard) incidentsPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	q, from, to, ok := d.incidentFilter(w, r, v)
	if !ok {
		return
	}
	q.Limit = incidentsPageLimit
	incs, err := d.incidents(r.Context(), v, q)
	if err != nil {
		d.backendFailed(w, r, v, "incidents", err)
		return
	}
	c := d.clock()
	id := incidentsData{Office: q.Office, State: q.State, From: from, To: to, Limit: q.Limit, Limited: len(incs) >= q.Limit}
	for _, i := range incs {
		id.Rows = append(id.Rows, c.incidentRow(i))
	}
	for _, s := range incidentStates {
		l := "Semua"
		if s != "" {
			l = stateLabel(s)
		}
		id.States = append(id.States, option{s, l})
	}
	id.Choices = d.officeChoices(r.Context(), v)
	csvq := url.Values{}
	for k, val := range map[string]string{"office": q.Office, "state": q.State, "from": from, "to": to} {
		if val != "" {
			csvq.Set(k, val)
		}
	}
	id.CSV = "/incidents.csv"
	if len(csvq) > 0 {
		id.CSV += "?" + csvq.Encode()
	}
	d.show(w, r, v, "incidents", page{Title: "Insiden", Nav: "incidents", Events: eventsURL(q.Office), Data: id})
}

// officeChoices are the offices a filter offers: the viewer's own, or
// every office of the fleet.
func (d *Dashboard) officeChoices(ctx context.Context, v *viewer) []string {
	if !v.all {
		return slices.Sorted(maps.Keys(v.offices))
	}
	ks, err := d.cfg.Backend.Fleet(ctx)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	for _, k := range ks {
		seen[k.Office] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

// incidentInScope fetches incident id, 404 if missing or out of scope.
func (d *Dashboard) incidentInScope(w http.ResponseWriter, r *http.Request, v *viewer, id string) (hubapi.Incident, bool) {
	inc, err := d.cfg.Backend.Incident(r.Context(), id)
	if err != nil {
		d.backendFailed(w, r, v, "incident", err)
		return inc, false
	}
	if !v.sees(inc.Office) {
		d.notFound(w, r, v)
		return inc, false
	}
	return inc, true
}

type incidentData struct {
	Row                incidentRow
	AckDue, ResolveDue string
	CanAck, CanResolve bool
}

func (d *Dashboard) incidentPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	inc, ok := d.incidentInScope(w, r, v, r.PathValue("id"))
	if !ok {
		return
	}
	c := d.clock()
	data := incidentData{
		Row: c.incidentRow(inc), AckDue: c.full(inc.AckDue), ResolveDue: c.full(inc.ResolveDue),
		CanAck: inc.State == "open", CanResolve: inc.State != "resolved",
	}
	d.show(w, r, v, "incident", page{Title: "Insiden " + inc.ID, Nav: "incidents",
		Events: eventsURL(inc.Office), ReloadOn: domID("i-", inc.ID), Data: data})
}

func incidentPath(id string) string { return "/incidents/" + url.PathEscape(id) }

func (d *Dashboard) acknowledge(w http.ResponseWriter, r *http.Request, v *viewer) {
	inc, ok := d.incidentInScope(w, r, v, r.PathValue("id"))
	if !ok {
		return
	}
	err := d.cfg.Backend.Acknowledge(r.Context(), inc.ID, v.User.Name)
	switch {
	case errors.Is(err, ErrConflict):
		d.setFlash(w, v.sess.SID, "warn", "Insiden ini sudah diakui atau sudah selesai.")
	case err != nil:
		d.backendFailed(w, r, v, "acknowledge", err)
		return
	default:
		d.setFlash(w, v.sess.SID, "ok", "Insiden diakui.")
	}
	redirect(w, r, incidentPath(inc.ID))
}

func (d *Dashboard) resolve(w http.ResponseWriter, r *http.Request, v *viewer) {
	inc, ok := d.incidentInScope(w, r, v, r.PathValue("id"))
	if !ok {
		return
	}
	note := strings.TrimSpace(r.PostFormValue("note"))
	if note == "" {
		d.setFlash(w, v.sess.SID, "err", "Tulis catatan penyelesaian: apa yang sudah dilakukan.")
		redirect(w, r, incidentPath(inc.ID))
		return
	}
	err := d.cfg.Backend.Resolve(r.Context(), inc.ID, v.User.Name, truncate(note, 1000))
	switch {
	case errors.Is(err, ErrConflict):
		d.setFlash(w, v.sess.SID, "warn", "Insiden ini sudah selesai.")
	case err != nil:
		d.backendFailed(w, r, v, "resolve", err)
		return
	default:
		d.setFlash(w, v.sess.SID, "ok", "Insiden diselesaikan.")
	}
	redirect(w, r, incidentPath(inc.ID))
}

// ---- audit, alerts

type auditData struct {
	Entries []hubapi.AuditEntry
	Choices []string
	Office  string
}

func (d *Dashboard) auditPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	office, ok := d.officeParam(w, r, v)
	if !ok {
		return
	}
	var offices []string // nil: all
	switch {
	case office != "":
		offices = []string{office}
	case !v.all:
		offices = slices.Sorted(maps.Keys(v.offices))
	}
	var entries []hubapi.AuditEntry
	// A uptd user without offices must not ask with nil, which means all.
	if v.all || len(offices) > 0 {
		var err error
		if entries, err = d.cfg.Backend.Audit(r.Context(), offices, 300); err != nil {
			d.backendFailed(w, r, v, "audit", err)
			return
		}
	}
	entries = slices.DeleteFunc(entries, func(e hubapi.AuditEntry) bool {
		return (!v.all && !v.sees(e.Office)) || (office != "" && e.Office != office)
	})
	d.show(w, r, v, "audit", page{Title: "Jejak tindakan", Nav: "audit", Data: auditData{
		Entries: entries, Choices: d.officeChoices(r.Context(), v), Office: office,
	}})
}

func (d *Dashboard) alertsPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	alerts, err := d.cfg.Backend.Alerts(r.Context(), 300)
	if err != nil {
		d.backendFailed(w, r, v, "alerts", err)
		return
	}
	d.show(w, r, v, "alerts", page{Title: "Pengiriman peringatan", Nav: "alerts", Data: alerts})
}

// ---- credentials

func (d *Dashboard) credentialsPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	creds, err := d.cfg.Backend.Credentials(r.Context())
	if err != nil {
		d.backendFailed(w, r, v, "credentials", err)
		return
	}
	slices.SortFunc(creds, func(a, b Credential) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	d.show(w, r, v, "credentials", page{Title: "Kredensial", Nav: "credentials", Data: creds})
}

// findCredential returns the credential called name, 404 if none.
func (d *Dashboard) findCredential(w http.ResponseWriter, r *http.Request, v *viewer, name string) (Credential, bool) {
	creds, err := d.cfg.Backend.Credentials(r.Context())
	if err != nil {
		d.backendFailed(w, r, v, "credentials", err)
		return Credential{}, false
	}
	for _, c := range creds {
		if c.Name == name {
			return c, true
		}
	}
	d.notFound(w, r, v)
	return Credential{}, false
}

// revokeConfirm is the confirmation step: revoking cuts a kiosk or an
// operator off the bus, so it takes a second, deliberate click.
func (d *Dashboard) revokeConfirm(w http.ResponseWriter, r *http.Request, v *viewer) {
	c, ok := d.findCredential(w, r, v, r.URL.Query().Get("name"))
	if !ok {
		return
	}
	d.show(w, r, v, "revoke", page{Title: "Cabut kredensial", Nav: "credentials", Data: c})
}

func (d *Dashboard) revoke(w http.ResponseWriter, r *http.Request, v *viewer) {
	name := r.PostFormValue("name")
	if r.PostFormValue("confirm") != "yes" {
		d.fail(w, r, v, http.StatusBadRequest, "Pencabutan belum dikonfirmasi.")
		return
	}
	if _, ok := d.findCredential(w, r, v, name); !ok {
		return
	}
	if err := d.cfg.Backend.Revoke(r.Context(), name, v.User.Name); err != nil {
		if errors.Is(err, ErrConflict) {
			d.setFlash(w, v.sess.SID, "warn", "Kredensial "+name+" sudah dicabut.")
			redirect(w, r, "/credentials")
			return
		}
		d.backendFailed(w, r, v, "revoke", err)
		return
	}
	d.setFlash(w, v.sess.SID, "ok", "Kredensial "+name+" dicabut.")
	redirect(w, r, "/credentials")
}

// ---- users

type usersData struct {
	Users   []hubapi.User
	Roles   []option
	Offices []string
}

func (d *Dashboard) usersPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	users, err := d.cfg.Backend.Users(r.Context())
	if err != nil {
		d.backendFailed(w, r, v, "users", err)
		return
	}
	slices.SortFunc(users, func(a, b hubapi.User) int { return cmp.Compare(a.Name, b.Name) })
	ud := usersData{Users: users, Offices: d.officeChoices(r.Context(), v)}
	for _, ro := range []string{hubapi.RoleUPTD, hubapi.RoleSistim, hubapi.RoleAdmin} {
		ud.Roles = append(ud.Roles, option{ro, roleLabel(ro)})
	}
	d.show(w, r, v, "users", page{Title: "Pengguna", Nav: "users", Data: ud})
}

// userNameRE is what a user name may be: it appears in URLs, logs and
// the audit trail.
var userNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$`)

// MinPasswordLen is the shortest password HashPassword accepts.
const MinPasswordLen = 10

// HashPassword checks a new password against the dashboard's rules and
// returns its bcrypt hash for hubapi.User.Hash; cost 0 means
// bcrypt.DefaultCost. kioskhub user add uses it too, so both places
// apply the same rules.
func HashPassword(password string, cost int) (string, error) {
	if len(password) < MinPasswordLen {
		return "", errors.New("dashboard: password shorter than 10 characters")
	}
	if len(password) > 72 {
		// bcrypt ignores what follows; refuse rather than mislead.
		return "", errors.New("dashboard: password longer than 72 bytes")
	}
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("dashboard: hash password: %w", err)
	}
	return string(h), nil
}

func (d *Dashboard) addUser(w http.ResponseWriter, r *http.Request, v *viewer) {
	bad := func(msg string) {
		d.setFlash(w, v.sess.SID, "err", msg)
		redirect(w, r, "/users")
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	role := r.PostFormValue("role")
	if !userNameRE.MatchString(name) {
		bad("Nama pengguna 2–64 huruf, angka, titik, garis bawah atau tanda hubung.")
		return
	}
	if !validRole(role) {
		bad("Peran tidak dikenal.")
		return
	}
	var offices []string
	if role == hubapi.RoleUPTD {
		seen := map[string]bool{}
		more := strings.FieldsFunc(r.PostFormValue("offices_extra"), func(c rune) bool { return c == ',' || c == ' ' })
		for _, o := range append(r.PostForm["office"], more...) {
			if o = strings.TrimSpace(o); o != "" && !seen[o] {
				seen[o] = true
				offices = append(offices, o)
			}
		}
		slices.Sort(offices)
		if len(offices) == 0 {
			bad("Pengguna UPTD harus punya minimal satu kantor.")
			return
		}
	}
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("password2") {
		bad("Kedua kata sandi tidak sama.")
		return
	}
	old, err := d.cfg.Backend.User(r.Context(), name)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		d.backendFailed(w, r, v, "user", err)
		return
	}
	if exists && r.PostFormValue("replace") != "1" {
		bad("Pengguna " + name + " sudah ada. Centang \"ganti\" untuk mengganti peran, kantor dan kata sandinya.")
		return
	}
	hash, err := d.hashPassword(r.Context(), pw)
	if err != nil {
		bad("Kata sandi minimal 10 karakter dan paling panjang 72 byte.")
		return
	}
	u := hubapi.User{Name: name, Role: role, Offices: offices, Hash: hash, Changed: d.now()}
	if exists {
		// A new password or role ends the sessions issued before it.
		u.Epoch = old.Epoch + 1
	}
	if err := d.cfg.Backend.AddUser(r.Context(), u, v.User.Name); err != nil {
		d.backendFailed(w, r, v, "add user", err)
		return
	}
	d.cfg.Log.Info("dashboard: user saved", "user", v.User.Name, "target", name, "role", role)
	d.setFlash(w, v.sess.SID, "ok", "Pengguna "+name+" disimpan.")
	redirect(w, r, "/users")
}

// hashPassword runs HashPassword within the bcrypt concurrency bound.
func (d *Dashboard) hashPassword(ctx context.Context, pw string) (string, error) {
	select {
	case d.bcrypt <- struct{}{}:
		defer func() { <-d.bcrypt }()
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return HashPassword(pw, d.cfg.BcryptCost)
}

func (d *Dashboard) disableUser(w http.ResponseWriter, r *http.Request, v *viewer) {
	d.setDisabled(w, r, v, true)
}

func (d *Dashboard) enableUser(w http.ResponseWriter, r *http.Request, v *viewer) {
	d.setDisabled(w, r, v, false)
}

func (d *Dashboard) setDisabled(w http.ResponseWriter, r *http.Request, v *viewer, disabled bool) {
	name := r.PathValue("name")
	if disabled && name == v.User.Name {
		// The last admin must not lock everybody out by a slip.
		d.setFlash(w, v.sess.SID, "err", "Anda tidak dapat menonaktifkan akun sendiri.")
		redirect(w, r, "/users")
		return
	}
	if err := d.cfg.Backend.SetDisabled(r.Context(), name, disabled, v.User.Name); err != nil {
		d.backendFailed(w, r, v, "set disabled", err)
		return
	}
	msg := "Pengguna " + name + " diaktifkan."
	if disabled {
		msg = "Pengguna " + name + " dinonaktifkan; sesinya berakhir."
	}
	d.setFlash(w, v.sess.SID, "ok", msg)
	redirect(w, r, "/users")
}
