package hubserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsauth"
	"github.com/sumbar-samsat/pkbkiosk/ui/dashboard"
)

// backend is the dashboard's view of the hub (dashboard.Backend): reads
// from the fleet and the projection, and every change a user makes as a
// HUB_EVENTS event carrying the user's name, waited for until the
// projection has it, so the next page shows it.
type backend struct{ h *Hub }

var _ dashboard.Backend = backend{}

func (b backend) Fleet(context.Context) ([]hubapi.FleetKiosk, error) { return b.h.fleet.Kiosks(), nil }

func (b backend) Kiosk(ctx context.Context, id string, events int) (hubapi.KioskReply, error) {
	var rep hubapi.KioskReply
	var err error
	if k, ok := b.h.fleet.Kiosk(id); ok {
		rep.Kiosk = &k
	}
	st := b.h.store
	if rep.Events, err = st.Events(ctx, id, events); err != nil {
		return rep, err
	}
	if rep.Kiosk == nil && len(rep.Events) == 0 {
		return rep, fmt.Errorf("kiosk %s: %w", id, dashboard.ErrNotFound)
	}
	if rep.Faults, err = st.Faults(ctx, id); err != nil {
		return rep, err
	}
	if rep.Gaps, err = st.Gaps(ctx, id); err != nil {
		return rep, err
	}
	rep.Presence, err = st.PresenceLog(ctx, id, 50)
	return rep, err
}

func (b backend) Incidents(ctx context.Context, q hubapi.IncidentsRequest) ([]hubapi.Incident, error) {
	return b.h.decider.Incidents(ctx, q)
}

func (b backend) Incident(ctx context.Context, id string) (hubapi.Incident, error) {
	i, err := b.h.decider.Incident(ctx, id)
	if errors.Is(err, hub.ErrNoSuch) {
		return i, fmt.Errorf("%w: %w", dashboard.ErrNotFound, err)
	}
	return i, err
}

func (b backend) move(ctx context.Context, id, user string, move hub.IncidentMove, typ string, data any) error {
	i, err := b.Incident(ctx, id)
	if err != nil {
		return err
	}
	if _, err := hub.NextIncident(hub.IncidentState(i.State), move); err != nil {
		return fmt.Errorf("%w: %w", dashboard.ErrConflict, err)
	}
	e := hub.NewHubEvent(typ, user, b.h.cfg.Now(), data)
	e.Office, e.Kiosk, e.Target = i.Office, i.Kiosk, id
	if err := b.h.pub.Do(ctx, e); err != nil {
		return err
	}
	b.h.kickDecider() // a resolution is alerted
	return nil
}

func (b backend) Acknowledge(ctx context.Context, id, user string) error {
	return b.move(ctx, id, user, hub.MoveAcknowledge, hub.HEIncidentAcked, struct{}{})
}

func (b backend) Resolve(ctx context.Context, id, user, note string) error {
	return b.move(ctx, id, user, hub.MoveResolve, hub.HEIncidentResolved, hub.ResolvedData{Note: note})
}

func (b backend) Maintenance(ctx context.Context, id string, on bool, message, user string) (dashboard.CommandResult, error) {
	args := "off"
	if on {
		args = "on"
	}
	return b.command(ctx, id, kiosk.VerbMaintenance, args, kiosk.MaintenanceRequest{On: on, Message: message}, user, hub.HEMaintenance)
}

func (b backend) Restart(ctx context.Context, id, level string, force bool, user string) (dashboard.CommandResult, error) {
	args := level
	if force {
		args += " force"
	}
	return b.command(ctx, id, kiosk.VerbRestart, args, kiosk.RestartRequest{Level: level, Force: force, Reason: "dashboard"}, user, hub.HECommand)
}

// command sends verb to kiosk id as kioskctl does (DESIGN 4.5), then
// records what was asked and answered.
func (b backend) command(ctx context.Context, id, verb, args string, body any, user, typ string) (dashboard.CommandResult, error) {
	var res dashboard.CommandResult
	res.CmdID = uuid.Must(uuid.NewV7()).String()
	msg := nats.NewMsg(kiosk.CommandSubject(id, verb))
	msg.Header.Set(kiosk.HeaderCmdID, res.CmdID)
	msg.Header.Set(kiosk.HeaderCmdExpires, b.h.cfg.Now().Add(5*time.Minute).UTC().Format(time.RFC3339))
	msg.Header.Set(kiosk.HeaderRequestedBy, user)
	msg.Data, _ = json.Marshal(body)
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	r, err := b.h.nc.RequestMsgWithContext(rctx, msg)
	cancel()
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		res.Outcome, res.Detail = "offline", "kiosk tidak terhubung ke hub"
	case err != nil:
		res.Outcome, res.Detail = "rejected", "tidak ada jawaban dari kiosk dalam 10 detik: "+err.Error()
	default:
		var rep kiosk.CommandReply
		if err := json.Unmarshal(r.Data, &rep); err != nil {
			res.Outcome, res.Detail = "rejected", "jawaban kiosk tidak terbaca"
			break
		}
		res.Outcome, res.Detail = rep.Outcome, rep.Reason
		if rep.Outcome == kiosk.OutcomeAccepted {
			// Runs right after the reply; the result comes as a
			// command.result event on the kiosk's timeline.
			res.Outcome = kiosk.OutcomeDone
		}
	}
	office := ""
	if k, ok := b.h.fleet.Kiosk(id); ok {
		office = k.Office
	}
	e := hub.NewHubEvent(typ, user, b.h.cfg.Now(), hub.ActionData{Verb: verb, Args: args, Outcome: res.Outcome, Detail: res.Detail, CmdID: res.CmdID})
	e.Office, e.Kiosk, e.Target = office, id, id
	if err := b.h.pub.Do(ctx, e); err != nil {
		return res, fmt.Errorf("the kiosk answered %s, but the action was not recorded: %w", res.Outcome, err)
	}
	return res, nil
}

func (b backend) User(ctx context.Context, name string) (hubapi.User, error) {
	u, err := b.h.store.User(ctx, name)
	if errors.Is(err, hub.ErrNoSuch) {
		return u, fmt.Errorf("%w: %w", dashboard.ErrNotFound, err)
	}
	return u, err
}

func (b backend) Users(ctx context.Context) ([]hubapi.User, error) { return b.h.store.Users(ctx) }

func (b backend) AddUser(ctx context.Context, u hubapi.User, by string) error {
	return AddUser(ctx, b.h.pub, u, by, b.h.cfg.Now())
}

// AddUser records a new or replaced dashboard user on HUB_EVENTS.
func AddUser(ctx context.Context, pub *hub.Publisher, u hubapi.User, by string, now time.Time) error {
	if err := CheckUser(u); err != nil {
		return err
	}
	e := hub.NewHubEvent(hub.HEUserAdded, by, now, hub.UserData{Role: u.Role, Offices: u.Offices, Hash: u.Hash})
	e.Target = u.Name
	return pub.Do(ctx, e)
}

// CheckUser checks a user's name, role and offices.
func CheckUser(u hubapi.User) error {
	if !kiosk.ValidID(u.Name) {
		return fmt.Errorf("user name %q: want lower-case letters, digits and '-' (like a kiosk id)", u.Name)
	}
	switch u.Role {
	case hubapi.RoleUPTD:
		if len(u.Offices) == 0 {
			return fmt.Errorf("user %s: role uptd needs --office (one or more, comma-separated)", u.Name)
		}
	case hubapi.RoleSistim, hubapi.RoleAdmin:
		if len(u.Offices) > 0 {
			return fmt.Errorf("user %s: role %s sees every office; --office is only for uptd", u.Name, u.Role)
		}
	default:
		return fmt.Errorf("user %s: role %q: want uptd, sistim or admin", u.Name, u.Role)
	}
	for _, o := range u.Offices {
		if !kiosk.ValidID(o) {
			return fmt.Errorf("user %s: office %q: want an office code like padang", u.Name, o)
		}
	}
	if u.Hash == "" {
		return fmt.Errorf("user %s: no password", u.Name)
	}
	return nil
}

func (b backend) SetDisabled(ctx context.Context, name string, disabled bool, by string) error {
	if _, err := b.User(ctx, name); err != nil {
		return err
	}
	e := hub.NewHubEvent(hub.HEUserDisabled, by, b.h.cfg.Now(), hub.DisabledData{Disabled: disabled})
	e.Target = name
	return b.h.pub.Do(ctx, e)
}

func (b backend) Audit(ctx context.Context, offices []string, limit int) ([]hubapi.AuditEntry, error) {
	return b.h.store.Audit(ctx, offices, limit)
}

func (b backend) Alerts(ctx context.Context, limit int) ([]hubapi.Alert, error) {
	return b.h.store.Alerts(ctx, limit)
}

func (b backend) Credentials(context.Context) ([]dashboard.Credential, error) {
	a := b.h.Auth()
	if a == nil {
		return nil, nil
	}
	us, err := a.Users()
	if err != nil {
		return nil, err
	}
	out := make([]dashboard.Credential, 0, len(us))
	for _, u := range us {
		c := dashboard.Credential{Name: u.Name, Kind: string(u.Kind), Office: u.Office,
			Issued: hub.FormatWIB(u.IssuedAt, b.h.cfg.TZ), Revoked: !u.Valid()}
		if !u.Expires.IsZero() {
			c.Expires = hub.FormatWIB(u.Expires, b.h.cfg.TZ)
		}
		out = append(out, c)
	}
	return out, nil
}

func (b backend) Revoke(ctx context.Context, name, user string) error {
	a := b.h.Auth()
	if a == nil {
		return fmt.Errorf("%w: the hub runs without credentials (--auth=false)", dashboard.ErrNotFound)
	}
	revoked, err := a.Revoke(name)
	if errors.Is(err, natsauth.ErrUnknownUser) {
		return fmt.Errorf("%w: %w", dashboard.ErrNotFound, err)
	}
	if err != nil {
		return err
	}
	if len(revoked) == 0 {
		return fmt.Errorf("%w: %s is already revoked", dashboard.ErrConflict, name)
	}
	// The account watch (auth.go) pushes the new account JWT to the
	// server within a second; the event records who did it.
	e := hub.NewHubEvent(hub.HECredsRevoked, user, b.h.cfg.Now(), struct {
		Kind   string `json:"kind"`
		Office string `json:"office,omitempty"`
	}{string(revoked[0].Kind), revoked[0].Office})
	e.Target, e.Office = name, revoked[0].Office
	if revoked[0].Kind == natsauth.KindKiosk {
		e.Kiosk = name
	}
	return b.h.pub.Do(ctx, e)
}

func (b backend) Subscribe() (<-chan hubapi.Change, func()) { return b.h.changes.Subscribe() }

// AddUser adds or replaces a dashboard user (kioskhub user add, tests).
func (h *Hub) AddUser(ctx context.Context, u hubapi.User, by string) error {
	return AddUser(ctx, h.pub, u, by, h.cfg.Now())
}

// Decider returns the hub's incident decider (timings for callers).
func (h *Hub) Decider() *hub.Decider { return h.decider }
