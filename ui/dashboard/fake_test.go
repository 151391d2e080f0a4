package dashboard

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// fakeBackend is an in-memory Backend: a few offices, kiosks, incidents
// and users. It records every call that changes something.
type fakeBackend struct {
	mu        sync.Mutex
	kiosks    map[string]hubapi.FleetKiosk
	faults    map[string][]hubapi.Fault
	events    map[string][]kiosk.Event
	presence  map[string][]hubapi.Transition
	incidents map[string]hubapi.Incident
	users     map[string]hubapi.User
	audit     []hubapi.AuditEntry
	alerts    []hubapi.Alert
	creds     []Credential
	result    CommandResult
	calls     []string
	subs      map[int]chan Change
	nextSub   int
	fleetErr  error
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // 16.00 WIB

// testPassword is every fixture user's password.
const testPassword = "rahasia-sekali-123"

var testHash = sync.OnceValue(func() string {
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
})

func fleetKiosk(id, office string, p hubapi.Presence, seen time.Time) hubapi.FleetKiosk {
	return hubapi.FleetKiosk{
		Status: kiosk.Status{
			Kiosk: id, Office: office, Version: "1.4.2", Mode: kiosk.ModeReady, HBIntervalS: 30,
			Printer: kiosk.PrinterStatus{Connected: true, Online: true, Paper: "ok", Transport: "usb"},
			Disk:    kiosk.DiskStatus{FreeBytes: 20 << 30, TotalBytes: 64 << 30},
			Power:   kiosk.PowerStatus{Source: "mains"},
		},
		Presence: p, LastSeen: seen,
	}
}

func newFakeBackend() *fakeBackend {
	b := &fakeBackend{
		kiosks: map[string]hubapi.FleetKiosk{}, faults: map[string][]hubapi.Fault{},
		events: map[string][]kiosk.Event{}, presence: map[string][]hubapi.Transition{},
		incidents: map[string]hubapi.Incident{}, users: map[string]hubapi.User{},
		subs:   map[int]chan Change{},
		result: CommandResult{Outcome: "done", Detail: "layar dimuat ulang", CmdID: "c1"},
	}
	pdg1 := fleetKiosk("pdg-01", "padang", hubapi.Online, t0.Add(-20*time.Second))
	pdg2 := fleetKiosk("pdg-02", "padang", hubapi.Late, t0.Add(-70*time.Second))
	pdg2.Printer.Paper = "out"
	pdg2.Faults = []string{"printer.paper_out"}
	pdg3 := fleetKiosk("pdg-03", "padang", hubapi.Online, t0.Add(-5*time.Second))
	pdg3.Mode = kiosk.ModeMaintenance
	pdg3.Power.Source = "battery"
	pdg3.Faults = []string{"power.on_battery"}
	pdg1.LastUnclean = t0.Add(-3 * time.Hour)
	bkt1 := fleetKiosk("bkt-01", "bukittinggi", hubapi.Offline, t0.Add(-2*time.Hour))
	slk1 := fleetKiosk("slk-01", "solok", hubapi.Online, t0.Add(-10*time.Second))
	for _, k := range []hubapi.FleetKiosk{pdg1, pdg2, pdg3, bkt1, slk1} {
		b.kiosks[k.Kiosk] = k
	}
	b.faults["pdg-02"] = []hubapi.Fault{{Kiosk: "pdg-02", Office: "padang", Code: "printer.paper_out", Severity: "critical",
		Detail: "sensor kertas", Since: t0.Add(-30 * time.Minute)}}
	raw := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	b.events["pdg-02"] = []kiosk.Event{
		{ID: "e1", Kiosk: "pdg-02", Office: "padang", Type: kiosk.EventBoot, At: t0.Add(-3 * time.Hour),
			Data: raw(map[string]any{"outage": kiosk.Outage{Seconds: 1800}})},
		{ID: "e2", Kiosk: "pdg-02", Office: "padang", Type: kiosk.EventFaultRaised, At: t0.Add(-3 * time.Hour),
			Data: raw(kiosk.FaultData{Code: "power.unclean_shutdown", Severity: "warning", Outage: &kiosk.Outage{Seconds: 1800}})},
		{ID: "e3", Kiosk: "pdg-02", Office: "padang", Type: kiosk.EventFaultRaised, At: t0.Add(-30 * time.Minute),
			Data: raw(kiosk.FaultData{Code: "printer.paper_out", Severity: "critical", Detail: "sensor kertas"})},
		{ID: "e4", Kiosk: "pdg-02", Office: "padang", Type: kiosk.EventCommand, At: t0.Add(-10 * time.Minute),
			Data: raw(kiosk.CommandResult{Verb: "restart", Outcome: "done", RequestedBy: "sistim1"})},
	}
	b.presence["pdg-02"] = []hubapi.Transition{{Kiosk: "pdg-02", Office: "padang", From: hubapi.Online, To: hubapi.Late, At: t0.Add(-time.Minute)}}

	for _, i := range []hubapi.Incident{
		{ID: "inc-pdg-1", Scope: "kiosk", Kiosk: "pdg-02", Office: "padang", Code: "printer.paper_out", Severity: "critical",
			Title: "Kertas habis di pdg-02", State: "open", OpenedAt: t0.Add(-30 * time.Minute),
			AckDue: t0, ResolveDue: t0.Add(24 * time.Hour), AckOverdue: true},
		{ID: "inc-pdg-2", Scope: "kiosk", Kiosk: "pdg-01", Office: "padang", Code: "printer.cover_open", Severity: "critical",
			Title: "=HYPERLINK(\"http://evil\",\"klik\")", State: "resolved", OpenedAt: t0.Add(-48 * time.Hour),
			AckedAt: t0.Add(-47 * time.Hour), AckedBy: "uptd1", ResolvedAt: t0.Add(-46 * time.Hour), ResolvedBy: "uptd1",
			Note: "@SUM(A1)", TimeToAckS: 3600, TimeToResolveS: 7170, AckDue: t0.Add(-47 * time.Hour), ResolveDue: t0.Add(-24 * time.Hour)},
		{ID: "inc-bkt-1", Scope: "office", Office: "bukittinggi", Kiosks: []string{"bkt-01"}, Code: "office.offline",
			Severity: "critical", Cause: "power", Title: "Gangguan listrik kantor bukittinggi", State: "acknowledged",
			OpenedAt: t0.Add(-2 * time.Hour), AckedAt: t0.Add(-time.Hour), AckedBy: "sistim1"},
	} {
		b.incidents[i.ID] = i
	}
	for _, u := range []hubapi.User{
		{Name: "uptd1", Role: hubapi.RoleUPTD, Offices: []string{"padang"}, Epoch: 1},
		{Name: "uptd2", Role: hubapi.RoleUPTD, Offices: []string{"padang", "solok"}, Epoch: 1},
		{Name: "sistim1", Role: hubapi.RoleSistim, Epoch: 1},
		{Name: "admin1", Role: hubapi.RoleAdmin, Epoch: 1},
		{Name: "off", Role: hubapi.RoleSistim, Disabled: true, Epoch: 2},
	} {
		u.Hash = testHash()
		b.users[u.Name] = u
	}
	b.audit = []hubapi.AuditEntry{
		{At: t0.Add(-time.Hour), User: "sistim1", Action: "incident.acknowledged", Target: "inc-bkt-1", Office: "bukittinggi"},
		{At: t0.Add(-46 * time.Hour), User: "uptd1", Action: "incident.resolved", Target: "inc-pdg-2", Office: "padang"},
		{At: t0.Add(-50 * time.Hour), User: "admin1", Action: "user.added", Target: "uptd1"},
	}
	b.alerts = []hubapi.Alert{{ID: "a1", Kind: "opened", Incident: "inc-bkt-1", Office: "bukittinggi", Subject: "Gangguan listrik",
		Queued: t0.Add(-2 * time.Hour), State: "failed", Attempts: 3, LastErr: "webhook 500"}}
	b.creds = []Credential{
		{Name: "pdg-01", Kind: "kiosk", Office: "padang", Issued: "2026-01-01"},
		{Name: "op-andi", Kind: "operator", Issued: "2026-01-01", Expires: "2027-01-01"},
	}
	return b
}

func (b *fakeBackend) record(format string, args ...any) {
	b.calls = append(b.calls, fmt.Sprintf(format, args...))
}

// Calls returns the changing calls so far.
func (b *fakeBackend) Calls() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.calls)
}

func (b *fakeBackend) Fleet(ctx context.Context) ([]hubapi.FleetKiosk, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fleetErr != nil {
		return nil, b.fleetErr
	}
	out := make([]hubapi.FleetKiosk, 0, len(b.kiosks))
	for _, k := range b.kiosks {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b hubapi.FleetKiosk) int { return cmp.Compare(a.Kiosk, b.Kiosk) })
	return out, nil
}

func (b *fakeBackend) Kiosk(ctx context.Context, id string, events int) (hubapi.KioskReply, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k, ok := b.kiosks[id]
	if !ok {
		return hubapi.KioskReply{}, ErrNotFound
	}
	return hubapi.KioskReply{Kiosk: &k, Faults: b.faults[id], Events: b.events[id], Presence: b.presence[id]}, nil
}

func (b *fakeBackend) Incidents(ctx context.Context, q hubapi.IncidentsRequest) ([]hubapi.Incident, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []hubapi.Incident
	for _, i := range b.incidents {
		switch {
		case q.Office != "" && i.Office != q.Office,
			q.Kiosk != "" && i.Kiosk != q.Kiosk && !slices.Contains(i.Kiosks, q.Kiosk),
			q.State == "active" && i.State == "resolved",
			q.State != "" && q.State != "active" && i.State != q.State,
			!q.Since.IsZero() && i.OpenedAt.Before(q.Since),
			!q.Until.IsZero() && !i.OpenedAt.Before(q.Until):
			continue
		}
		out = append(out, i)
	}
	slices.SortFunc(out, func(a, b hubapi.Incident) int { return b.OpenedAt.Compare(a.OpenedAt) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

func (b *fakeBackend) Incident(ctx context.Context, id string) (hubapi.Incident, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, ok := b.incidents[id]
	if !ok {
		return i, ErrNotFound
	}
	return i, nil
}

func (b *fakeBackend) Acknowledge(ctx context.Context, id, user string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, ok := b.incidents[id]
	if !ok {
		return ErrNotFound
	}
	if i.State != "open" {
		return ErrConflict
	}
	i.State, i.AckedBy, i.AckedAt = "acknowledged", user, t0
	b.incidents[id] = i
	b.record("ack %s by %s", id, user)
	return nil
}

func (b *fakeBackend) Resolve(ctx context.Context, id, user, note string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, ok := b.incidents[id]
	if !ok {
		return ErrNotFound
	}
	if i.State == "resolved" {
		return ErrConflict
	}
	i.State, i.ResolvedBy, i.ResolvedAt, i.Note = "resolved", user, t0, note
	b.incidents[id] = i
	b.record("resolve %s by %s: %s", id, user, note)
	return nil
}

func (b *fakeBackend) Maintenance(ctx context.Context, id string, on bool, message, user string) (CommandResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.kiosks[id]; !ok {
		return CommandResult{}, ErrNotFound
	}
	b.record("maintenance %s %v %q by %s", id, on, message, user)
	return b.result, nil
}

func (b *fakeBackend) Restart(ctx context.Context, id, level string, force bool, user string) (CommandResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.kiosks[id]; !ok {
		return CommandResult{}, ErrNotFound
	}
	b.record("restart %s %s %v by %s", id, level, force, user)
	return b.result, nil
}

func (b *fakeBackend) User(ctx context.Context, name string) (hubapi.User, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u, ok := b.users[name]
	if !ok {
		return u, ErrNotFound
	}
	u.Offices = slices.Clone(u.Offices)
	return u, nil
}

func (b *fakeBackend) Users(ctx context.Context) ([]hubapi.User, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []hubapi.User
	for _, u := range b.users {
		out = append(out, u)
	}
	return out, nil
}

func (b *fakeBackend) AddUser(ctx context.Context, u hubapi.User, by string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.users[u.Name] = u
	b.record("adduser %s %s %v epoch %d by %s", u.Name, u.Role, u.Offices, u.Epoch, by)
	return nil
}

func (b *fakeBackend) SetDisabled(ctx context.Context, name string, disabled bool, by string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	u, ok := b.users[name]
	if !ok {
		return ErrNotFound
	}
	u.Disabled = disabled
	u.Epoch++
	b.users[name] = u
	b.record("disabled %s %v by %s", name, disabled, by)
	return nil
}

func (b *fakeBackend) Audit(ctx context.Context, offices []string, limit int) ([]hubapi.AuditEntry, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []hubapi.AuditEntry
	for _, e := range b.audit {
		if offices == nil || slices.Contains(offices, e.Office) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (b *fakeBackend) Alerts(ctx context.Context, limit int) ([]hubapi.Alert, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.alerts), nil
}

func (b *fakeBackend) Credentials(ctx context.Context) ([]Credential, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.creds), nil
}

func (b *fakeBackend) Revoke(ctx context.Context, name, user string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.creds {
		if b.creds[i].Name == name {
			b.creds[i].Revoked = true
			b.record("revoke %s by %s", name, user)
			return nil
		}
	}
	return ErrNotFound
}

func (b *fakeBackend) Subscribe() (<-chan Change, func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.nextSub
	b.nextSub++
	ch := make(chan Change, 256)
	b.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			if c, ok := b.subs[id]; ok {
				delete(b.subs, id)
				close(c)
			}
		})
	}
}

// publish sends c to every subscriber without blocking, as the contract
// says.
func (b *fakeBackend) publish(c Change) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ch := range b.subs {
		select {
		case ch <- c:
		default:
		}
	}
}

func (b *fakeBackend) subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// endSubscriptions closes every subscriber's channel, as a Backend does
// when it stops.
func (b *fakeBackend) endSubscriptions() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, ch := range b.subs {
		close(ch)
		delete(b.subs, id)
	}
}

func (b *fakeBackend) update(id string, f func(*hubapi.FleetKiosk)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := b.kiosks[id]
	f(&k)
	b.kiosks[id] = k
}

func (b *fakeBackend) setUser(name string, f func(*hubapi.User)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.users[name]
	f(&u)
	b.users[name] = u
}
