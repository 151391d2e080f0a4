package hub

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// The hub's own decisions and its users' actions are events on HUB_EVENTS
// (DESIGN 7): incidents opened, acknowledged and resolved, alerts queued
// and delivered, presence changes, maintenance toggles, restarts, user and
// credential changes. The SQLite tables about them are a projection: the
// projector applies the stream in order, each event once (the position is
// stored in the same transaction), so deleting hub.db and replaying
// (kioskhub rebuild) gives the same incidents, users and alerts, and a
// rebuild never re-alerts because "alert delivered" is itself an event.
//
// Decisions carry deterministic ids (the Nats-Msg-Id): the same decision
// taken twice (a hub restarted between deciding and seeing its event
// applied, two ticks racing) is one event within the stream's dedupe
// window and one row after it, since the projection ignores an id it has.

// HubEvent is one message on hub.evt.<type>.
type HubEvent struct {
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	At     time.Time       `json:"at"`
	By     string          `json:"by"` // the logged-in user, or "hub"
	Office string          `json:"office,omitempty"`
	Kiosk  string          `json:"kiosk,omitempty"`
	Target string          `json:"target,omitempty"` // incident id, alert id, user name
	Data   json.RawMessage `json:"data,omitempty"`
}

// ByHub is the By of the hub's own decisions.
const ByHub = "hub"

// Hub event types.
const (
	HEIncidentOpened   = "incident.opened"
	HEIncidentAttached = "incident.attached" // a kiosk joins an office incident
	HEIncidentAcked    = "incident.acknowledged"
	HEIncidentResolved = "incident.resolved"
	HEAlertQueued      = "alert.queued"
	HEAlertDelivered   = "alert.delivered"
	HEPresence         = "presence.changed"
	HEMaintenance      = "maintenance.set"
	HECommand          = "command.sent"
	HEUserAdded        = "user.added"
	HEUserDisabled     = "user.disabled"
	HECredsRevoked     = "creds.revoked"
	HEBackup           = "backup.done"
	HEBackupFailed     = "backup.failed"
)

// DecisionID is the deterministic id of a decision made of parts.
func DecisionID(kind string, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(append([]string{kind}, parts...), "\x00")))
	return kind + "-" + hex.EncodeToString(h[:12])
}

// OpenedData is the data of incident.opened.
type OpenedData struct {
	Scope    string   `json:"scope"`
	Kiosks   []string `json:"kiosks,omitempty"`
	Code     string   `json:"code"`
	Severity string   `json:"severity"`
	Cause    string   `json:"cause,omitempty"`
	Title    string   `json:"title"`
	Detail   string   `json:"detail,omitempty"`
	Source   string   `json:"source,omitempty"`
	// Notify: alert people. False for a flap (the same fault of the same
	// kiosk alerted a short while ago) and for incidents opened while
	// alerts were off.
	Notify bool `json:"notify,omitempty"`
}

// ResolvedData is the data of incident.resolved.
type ResolvedData struct {
	Note string `json:"note,omitempty"`
	Auto bool   `json:"auto,omitempty"`
}

// AlertData is the data of alert.queued.
type AlertData struct {
	Kind     string `json:"kind"`
	Incident string `json:"incident,omitempty"`
	Code     string `json:"code,omitempty"`
	Subject  string `json:"subject"`
	Text     string `json:"text"`
}

// DeliveredData is the data of alert.delivered: the outcome for one
// target.
type DeliveredData struct {
	Target   string `json:"target"`
	OK       bool   `json:"ok"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error,omitempty"`
}

// PresenceData is the data of presence.changed.
type PresenceData struct {
	From     Presence        `json:"from"`
	To       Presence        `json:"to"`
	LastSeen time.Time       `json:"last_seen"`
	Status   json.RawMessage `json:"status,omitempty"` // the last snapshot, when going offline
}

// UserData is the data of user.added (a new user or a replaced one).
type UserData struct {
	Role    string   `json:"role"`
	Offices []string `json:"offices,omitempty"`
	Hash    string   `json:"hash"`
}

// DisabledData is the data of user.disabled.
type DisabledData struct {
	Disabled bool `json:"disabled"`
}

// ActionData is the data of maintenance.set and command.sent: what was
// asked and what the kiosk answered.
type ActionData struct {
	Verb    string `json:"verb"`
	Args    string `json:"args,omitempty"`
	Outcome string `json:"outcome"`
	Detail  string `json:"detail,omitempty"`
	CmdID   string `json:"cmd_id,omitempty"`
}

// NewHubEvent returns an event with a fresh random id (user actions: two
// clicks are two actions).
func NewHubEvent(typ, by string, at time.Time, data any) HubEvent {
	e := HubEvent{ID: uuid.Must(uuid.NewV7()).String(), Type: typ, By: by, At: at}
	e.Data, _ = json.Marshal(data)
	return e
}

// Publisher publishes hub events and waits for the projection to apply
// them, so a caller that changed something reads its own change.
type Publisher struct {
	js    jetstream.JetStream
	store *Store
}

// NewPublisher returns a Publisher on js whose events store applies.
func NewPublisher(js jetstream.JetStream, store *Store) *Publisher {
	return &Publisher{js: js, store: store}
}

// Publish publishes e and returns its stream sequence. A duplicate (the
// same decision id within the dedupe window) returns the first one's.
func (p *Publisher) Publish(ctx context.Context, e HubEvent) (uint64, error) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	if e.ID == "" || e.Type == "" || e.By == "" {
		return 0, fmt.Errorf("hub: event needs id, type and by: %+v", e)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return 0, fmt.Errorf("hub: encode %s: %w", e.Type, err)
	}
	msg := &nats.Msg{Subject: "hub.evt." + e.Type, Data: b, Header: nats.Header{}}
	msg.Header.Set(nats.MsgIdHdr, e.ID)
	ack, err := p.js.PublishMsg(ctx, msg)
	if err != nil {
		return 0, fmt.Errorf("hub: publish %s: %w", e.Type, err)
	}
	return ack.Sequence, nil
}

// PublishAsync publishes e without waiting for the stream's ack: for
// records nobody waits on (presence changes, thousands at a hub start).
// js must have been made with jetstream.WithPublishAsyncErrHandler to see
// failures.
func PublishAsync(js jetstream.JetStream, e HubEvent) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("hub: encode %s: %w", e.Type, err)
	}
	msg := &nats.Msg{Subject: "hub.evt." + e.Type, Data: b, Header: nats.Header{}}
	msg.Header.Set(nats.MsgIdHdr, e.ID)
	if _, err := js.PublishMsgAsync(msg); err != nil {
		return fmt.Errorf("hub: publish %s: %w", e.Type, err)
	}
	return nil
}

// Do publishes e and waits until the projection has applied it.
func (p *Publisher) Do(ctx context.Context, e HubEvent) error {
	seq, err := p.Publish(ctx, e)
	if err != nil {
		return err
	}
	return p.store.WaitApplied(ctx, seq)
}

// applied tracks the projector's position for WaitApplied.
type applied struct {
	mu   sync.Mutex
	seq  uint64
	wake chan struct{} // closed and replaced when seq moves
}

func (a *applied) set(seq uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if seq <= a.seq {
		return
	}
	a.seq = seq
	if a.wake != nil {
		close(a.wake)
		a.wake = nil
	}
}

// WaitApplied waits until the projection has applied HUB_EVENTS up to seq.
func (s *Store) WaitApplied(ctx context.Context, seq uint64) error {
	for {
		s.pos.mu.Lock()
		if s.pos.seq >= seq {
			s.pos.mu.Unlock()
			return nil
		}
		if s.pos.wake == nil {
			s.pos.wake = make(chan struct{})
		}
		w := s.pos.wake
		s.pos.mu.Unlock()
		select {
		case <-w:
		case <-ctx.Done():
			return fmt.Errorf("hub: waiting for the projection to apply event %d: %w", seq, ctx.Err())
		}
	}
}

// HubPosition returns the last HUB_EVENTS sequence applied.
func (s *Store) HubPosition(ctx context.Context) (uint64, error) {
	var seq uint64
	err := s.r.QueryRowContext(ctx, "SELECT seq FROM hub_position WHERE stream = ?", HubStream).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("hub: read position: %w", err)
	}
	return seq, nil
}

// ApplyHub applies hub events in stream order (seqs[i] is es[i]'s stream
// sequence) in one transaction. An event already applied (seq at or below
// the position) is skipped. It returns the events applied.
func (s *Store) ApplyHub(ctx context.Context, seqs []uint64, es []HubEvent) (int, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("hub: apply: begin: %w", err)
	}
	defer tx.Rollback()
	var pos uint64
	if err := tx.QueryRowContext(ctx, "SELECT seq FROM hub_position WHERE stream = ?", HubStream).Scan(&pos); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("hub: apply: position: %w", err)
	}
	n := 0
	last := pos
	for i, e := range es {
		if seqs[i] <= last {
			continue
		}
		if err := applyHubTx(ctx, tx, seqs[i], &e); err != nil {
			return 0, fmt.Errorf("hub: apply %s %s: %w", e.Type, e.ID, err)
		}
		last = seqs[i]
		n++
	}
	if last == pos {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO hub_position(stream, seq) VALUES (?, ?)
		ON CONFLICT(stream) DO UPDATE SET seq = excluded.seq`, HubStream, last); err != nil {
		return 0, fmt.Errorf("hub: apply: position: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("hub: apply: commit: %w", err)
	}
	s.pos.set(last)
	return n, nil
}

// applyHubTx applies one event. Events are facts already decided: an
// event that does not fit the state (acknowledging a resolved incident,
// two users racing) is kept in the log and changes nothing, the same way
// on every replay.
func applyHubTx(ctx context.Context, tx *sql.Tx, seq uint64, e *HubEvent) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO hub_events(seq, id, type, at_ns, by, office, kiosk, target, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
		seq, e.ID, e.Type, e.At.UnixNano(), e.By, e.Office, e.Kiosk, e.Target, string(orEmpty(e.Data)))
	if err != nil {
		return fmt.Errorf("log: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // the same decision published twice, after the dedupe window
	}
	at := e.At.UnixNano()
	switch e.Type {
	case HEIncidentOpened:
		var d OpenedData
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO incidents(id, scope, kiosk, office, code, severity, cause, title, detail, source, notify, state, opened_ns)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?) ON CONFLICT(id) DO NOTHING`,
			e.Target, d.Scope, e.Kiosk, e.Office, d.Code, d.Severity, d.Cause, d.Title, d.Detail, d.Source, d.Notify, at); err != nil {
			return err
		}
		ks := d.Kiosks
		if e.Kiosk != "" {
			ks = append(ks, e.Kiosk)
		}
		for _, k := range ks {
			if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO incident_kiosks(incident, kiosk) VALUES (?, ?)", e.Target, k); err != nil {
				return err
			}
		}
	case HEIncidentAttached:
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO incident_kiosks(incident, kiosk)
			SELECT id, ? FROM incidents WHERE id = ? AND state <> 'resolved'`, e.Kiosk, e.Target); err != nil {
			return err
		}
	case HEIncidentAcked, HEIncidentResolved:
		var cur IncidentState
		if err := tx.QueryRowContext(ctx, "SELECT state FROM incidents WHERE id = ?", e.Target).Scan(&cur); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			return err
		}
		if e.Type == HEIncidentAcked {
			if _, err := NextIncident(cur, MoveAcknowledge); err != nil {
				return nil
			}
			_, err := tx.ExecContext(ctx, "UPDATE incidents SET state = 'acknowledged', acked_ns = ?, acked_by = ? WHERE id = ?", at, e.By, e.Target)
			return err
		}
		var d ResolvedData
		json.Unmarshal(e.Data, &d)
		move := MoveResolve
		if d.Auto {
			move = MoveAutoResolve
		}
		if _, err := NextIncident(cur, move); err != nil {
			return nil
		}
		_, err := tx.ExecContext(ctx, "UPDATE incidents SET state = 'resolved', resolved_ns = ?, resolved_by = ?, note = ? WHERE id = ?", at, e.By, d.Note, e.Target)
		return err
	case HEAlertQueued:
		var d AlertData
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO alerts(id, kind, incident, office, kiosk, code, subject, text, queued_ns, state)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued') ON CONFLICT(id) DO NOTHING`,
			e.Target, d.Kind, d.Incident, e.Office, e.Kiosk, d.Code, d.Subject, d.Text, at)
		return err
	case HEAlertDelivered:
		var d DeliveredData
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil
		}
		state := "failed"
		if d.OK {
			state = "sent"
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_targets(alert, target, state, attempts, at_ns, last_error) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT(alert, target) DO UPDATE SET state = excluded.state, attempts = excluded.attempts, at_ns = excluded.at_ns, last_error = excluded.last_error`,
			e.Target, d.Target, state, d.Attempts, at, d.Error); err != nil {
			return err
		}
		// The alert is sent once one target has it (Bidang Sistim or the
		// office knows), failed when every target gave up.
		_, err := tx.ExecContext(ctx, `UPDATE alerts SET attempts = attempts + ?, last_error = CASE WHEN ? = '' THEN last_error ELSE ? END,
			state = CASE WHEN ? THEN 'sent' WHEN state = 'sent' THEN 'sent' ELSE 'failed' END,
			sent_ns = CASE WHEN ? AND sent_ns = 0 THEN ? ELSE sent_ns END WHERE id = ?`,
			d.Attempts, d.Error, d.Error, d.OK, d.OK, at, e.Target)
		return err
	case HEPresence:
		var d PresenceData
		if err := json.Unmarshal(e.Data, &d); err != nil || e.Kiosk == "" {
			return nil
		}
		if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO presence_log(kiosk, at_ns, from_state, to_state) VALUES (?, ?, ?, ?)",
			e.Kiosk, at, string(d.From), string(d.To)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO kiosks(kiosk, office, last_seen_ns, presence, status) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT(kiosk) DO UPDATE SET office = excluded.office, last_seen_ns = excluded.last_seen_ns,
				presence = excluded.presence, status = COALESCE(excluded.status, kiosks.status)
			WHERE excluded.last_seen_ns >= kiosks.last_seen_ns`,
			e.Kiosk, e.Office, d.LastSeen.UnixNano(), string(d.To), nullBytes(d.Status))
		return err
	case HEUserAdded:
		var d UserData
		if err := json.Unmarshal(e.Data, &d); err != nil || e.Target == "" {
			return nil
		}
		offices, _ := json.Marshal(nonNil(d.Offices))
		_, err := tx.ExecContext(ctx, `INSERT INTO users(name, role, offices, hash, disabled, changed_ns, epoch) VALUES (?, ?, ?, ?, 0, ?, 1)
			ON CONFLICT(name) DO UPDATE SET role = excluded.role, offices = excluded.offices, hash = excluded.hash,
				disabled = 0, changed_ns = excluded.changed_ns, epoch = users.epoch + 1`,
			e.Target, d.Role, string(offices), d.Hash, at)
		return err
	case HEUserDisabled:
		var d DisabledData
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil
		}
		_, err := tx.ExecContext(ctx, "UPDATE users SET disabled = ?, changed_ns = ?, epoch = epoch + 1 WHERE name = ?", d.Disabled, at, e.Target)
		return err
	}
	return nil
}

func orEmpty(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("{}")
	}
	return b
}

// ProjectorConfig configures RunProjector.
type ProjectorConfig struct {
	Store *Store
	JS    jetstream.JetStream
	// OnApplied, if set, is called with the events of each applied batch.
	OnApplied func([]HubEvent)
	// UntilCaughtUp makes RunProjector return once it has applied the
	// stream up to its last sequence at the start (kioskhub rebuild).
	UntilCaughtUp bool
}

// RunProjector applies HUB_EVENTS to the store from its position on, in
// order, until ctx is done (or, with UntilCaughtUp, until it caught up).
// An ordered consumer needs no durable state on the server: the position
// is in the projection itself.
func RunProjector(ctx context.Context, cfg ProjectorConfig) error {
	pos, err := cfg.Store.HubPosition(ctx)
	if err != nil {
		return err
	}
	cfg.Store.pos.set(pos)
	var last uint64
	if cfg.UntilCaughtUp {
		s, err := cfg.JS.Stream(ctx, HubStream)
		if err != nil {
			return fmt.Errorf("hub: stream %s: %w", HubStream, err)
		}
		last = s.CachedInfo().State.LastSeq
		if pos >= last {
			return nil
		}
	}
	occ := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if pos > 0 {
		occ.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		occ.OptStartSeq = pos + 1
	}
	c, err := cfg.JS.OrderedConsumer(ctx, HubStream, occ)
	if err != nil {
		return fmt.Errorf("hub: consume %s: %w", HubStream, err)
	}
	ch := make(chan jetstream.Msg, 1000)
	cc, err := c.Consume(func(m jetstream.Msg) {
		select {
		case ch <- m:
		case <-ctx.Done():
		}
	}, jetstream.PullHeartbeat(time.Second))
	if err != nil {
		return fmt.Errorf("hub: consume %s: %w", HubStream, err)
	}
	defer cc.Stop()
	for {
		var batch []jetstream.Msg
		select {
		case <-ctx.Done():
			return nil
		case m := <-ch:
			batch = append(batch, m)
		}
	fill:
		for len(batch) < 500 {
			select {
			case m := <-ch:
				batch = append(batch, m)
			default:
				break fill
			}
		}
		seqs := make([]uint64, 0, len(batch))
		es := make([]HubEvent, 0, len(batch))
		for _, m := range batch {
			md, err := m.Metadata()
			if err != nil {
				continue
			}
			var e HubEvent
			if err := json.Unmarshal(m.Data(), &e); err != nil || e.ID == "" {
				// Only the hub writes here (DESIGN 4.7); an unreadable
				// event still moves the position, as a no-op.
				e = HubEvent{ID: fmt.Sprintf("unreadable-%d", md.Sequence.Stream), Type: "unreadable", By: ByHub, At: time.Now()}
			}
			seqs = append(seqs, md.Sequence.Stream)
			es = append(es, e)
		}
		// A failed transaction is retried from the same events: the
		// ordered consumer does not redeliver, so give up only with ctx.
		for {
			_, err := cfg.Store.ApplyHub(context.WithoutCancel(ctx), seqs, es)
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return err
			case <-time.After(time.Second):
			}
		}
		if cfg.OnApplied != nil {
			cfg.OnApplied(es)
		}
		if cfg.UntilCaughtUp && seqs[len(seqs)-1] >= last {
			return nil
		}
	}
}

// incidentColumns and scanIncident read incidents rows.
const incidentColumns = `id, scope, kiosk, office, code, severity, cause, title, detail, state,
	opened_ns, acked_ns, acked_by, resolved_ns, resolved_by, note`

func scanIncident(sc interface{ Scan(...any) error }) (hubapi.Incident, error) {
	var i hubapi.Incident
	var opened, acked, resolved int64
	err := sc.Scan(&i.ID, &i.Scope, &i.Kiosk, &i.Office, &i.Code, &i.Severity, &i.Cause, &i.Title, &i.Detail, &i.State,
		&opened, &acked, &i.AckedBy, &resolved, &i.ResolvedBy, &i.Note)
	i.OpenedAt = time.Unix(0, opened)
	if acked != 0 {
		i.AckedAt = time.Unix(0, acked)
	}
	if resolved != 0 {
		i.ResolvedAt = time.Unix(0, resolved)
	}
	return i, err
}
