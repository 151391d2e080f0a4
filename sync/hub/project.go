package hub

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
)

// Projections of events beyond the event log itself, updated in the same
// transaction as the event is stored, so a replay rebuilds them exactly:
//
//   - faults: the last fault.raised/fault.cleared per kiosk and code. A
//     lifecycle.boot clears the kiosk's earlier faults: the agent starts
//     with none and raises again what is still true, so a fault whose
//     condition ended while the agent was down does not stay open forever.
//     power.unclean_shutdown is a past event (DESIGN 4.3), stored in the
//     log but never an active fault.
//   - outbox.dropped: the tombstone explains the gap its dropped events
//     left; when the missing seqs inside its range are exactly its count,
//     those gaps are closed. Otherwise something else is missing too and
//     the gaps stay.
//
// clearedByBoot is the detail of faults a lifecycle.boot cleared: the
// decider's note says so when it resolves their incidents.
const clearedByBoot = "agent restarted"

func projectTx(ctx context.Context, tx *sql.Tx, e *Envelope) error {
	switch e.Type {
	case kiosk.EventFaultRaised, kiosk.EventFaultCleared:
		var d kiosk.FaultData
		if err := json.Unmarshal(e.Data, &d); err != nil || d.Code == "" {
			return nil // stored in the log; nothing to project
		}
		if d.Code == "power.unclean_shutdown" {
			if e.Type != kiosk.EventFaultRaised || e.At.IsZero() {
				return nil
			}
			var outage int64
			if d.Outage != nil {
				outage = d.Outage.Seconds
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO last_unclean(kiosk, at_ns, outage_s) VALUES (?, ?, ?)
				ON CONFLICT(kiosk) DO UPDATE SET at_ns = excluded.at_ns, outage_s = excluded.outage_s WHERE excluded.at_ns > last_unclean.at_ns`,
				e.Kiosk, e.At.UnixNano(), outage); err != nil {
				return fmt.Errorf("project unclean shutdown: %w", err)
			}
			return nil
		}
		state := "raised"
		if e.Type == kiosk.EventFaultCleared {
			state = "cleared"
		}
		var at any
		if !e.At.IsZero() {
			at = e.At.Format(time.RFC3339Nano)
		}
		// Same epoch: the higher seq wins. Another epoch (a new store) is
		// newer by definition of arrival: epochs do not interleave.
		_, err := tx.ExecContext(ctx, `INSERT INTO faults(kiosk, office, code, state, severity, detail, at, epoch, seq, event)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT(kiosk, code) DO UPDATE SET office = excluded.office, state = excluded.state, severity = excluded.severity,
				detail = excluded.detail, at = excluded.at, epoch = excluded.epoch, seq = excluded.seq, event = excluded.event
			WHERE faults.epoch <> excluded.epoch OR faults.seq < excluded.seq`,
			e.Kiosk, e.Office, d.Code, state, d.Severity, d.Detail, at, e.Epoch, e.Seq, e.ID)
		if err != nil {
			return fmt.Errorf("project fault: %w", err)
		}
	case kiosk.EventBoot:
		_, err := tx.ExecContext(ctx, `UPDATE faults SET state = 'cleared', detail = ?, epoch = ?, seq = ?, event = ?
			WHERE kiosk = ? AND state = 'raised' AND (epoch <> ? OR seq < ?)`,
			clearedByBoot, e.Epoch, e.Seq, e.ID, e.Kiosk, e.Epoch, e.Seq)
		if err != nil {
			return fmt.Errorf("project boot: %w", err)
		}
	case kiosk.EventDropped:
		var d kiosk.DroppedData
		if err := json.Unmarshal(e.Data, &d); err != nil || d.Count <= 0 || d.FromSeq < 1 || d.ToSeq < d.FromSeq {
			return nil
		}
		return explainGapsTx(ctx, tx, e.Kiosk, e.Epoch, d)
	}
	return nil
}

func explainGapsTx(ctx context.Context, tx *sql.Tx, kioskID, epoch string, d kiosk.DroppedData) error {
	// Gaps are disjoint; a tombstone's range covers whole gaps unless a
	// gap also spans seqs outside it (then an event outside is missing
	// too, and the count below cannot match).
	var missing sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT SUM(MIN(to_seq, ?) - MAX(from_seq, ?) + 1) FROM gaps
		WHERE kiosk = ? AND epoch = ? AND to_seq >= ? AND from_seq <= ?`,
		d.ToSeq, d.FromSeq, kioskID, epoch, d.FromSeq, d.ToSeq).Scan(&missing); err != nil {
		return fmt.Errorf("project tombstone: %w", err)
	}
	if !missing.Valid || missing.Int64 != int64(d.Count) {
		return nil
	}
	var outside int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM gaps WHERE kiosk = ? AND epoch = ? AND to_seq >= ? AND from_seq <= ?
		AND (from_seq < ? OR to_seq > ?)`, kioskID, epoch, d.FromSeq, d.ToSeq, d.FromSeq, d.ToSeq).Scan(&outside); err != nil {
		return fmt.Errorf("project tombstone: %w", err)
	}
	if outside > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM gaps WHERE kiosk = ? AND epoch = ? AND from_seq >= ? AND to_seq <= ?",
		kioskID, epoch, d.FromSeq, d.ToSeq); err != nil {
		return fmt.Errorf("project tombstone: %w", err)
	}
	return nil
}

// Faults returns the active faults of kiosk (of every kiosk when kiosk is
// ""), by kiosk and code.
func (s *Store) Faults(ctx context.Context, kioskID string) ([]Fault, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT kiosk, office, code, severity, detail, at FROM faults
		WHERE state = 'raised' AND (? = '' OR kiosk = ?) ORDER BY kiosk, code`, kioskID, kioskID)
	if err != nil {
		return nil, fmt.Errorf("hub: read faults: %w", err)
	}
	defer rows.Close()
	var out []Fault
	for rows.Next() {
		var f Fault
		var at sql.NullString
		if err := rows.Scan(&f.Kiosk, &f.Office, &f.Code, &f.Severity, &f.Detail, &at); err != nil {
			return nil, fmt.Errorf("hub: read faults: %w", err)
		}
		if at.Valid {
			f.Since, _ = time.Parse(time.RFC3339Nano, at.String)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hub: read faults: %w", err)
	}
	return out, nil
}

// Rejected is a message of KIOSK_EVENTS that was not a valid event.
type Rejected struct {
	Subject  string
	Received time.Time
	Err      string
	Raw      []byte
}

// Reject keeps a message that is not a valid event, with the reason.
func (s *Store) Reject(ctx context.Context, rs []Rejected) error {
	if len(rs) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("hub: reject: %w", err)
	}
	defer tx.Rollback()
	for _, r := range rs {
		if _, err := tx.ExecContext(ctx, "INSERT INTO rejected(subject, received_ns, error, raw) VALUES (?, ?, ?, ?)",
			r.Subject, r.Received.UnixNano(), r.Err, r.Raw); err != nil {
			return fmt.Errorf("hub: reject: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("hub: reject: %w", err)
	}
	return nil
}

// RejectedCount returns how many messages were rejected.
func (s *Store) RejectedCount(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM rejected").Scan(&n); err != nil {
		return 0, fmt.Errorf("hub: count rejected: %w", err)
	}
	return n, nil
}

// KioskRecord is the persisted part of a kiosk's fleet entry.
type KioskRecord struct {
	Kiosk    string
	Office   string
	LastSeen time.Time
	Presence Presence
	Status   []byte // JSON snapshot, may be nil
}

// SaveFleet writes changed fleet entries and presence transitions in one
// transaction.
func (s *Store) SaveFleet(ctx context.Context, ks []KioskRecord, ts []Transition) error {
	if len(ks) == 0 && len(ts) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("hub: save fleet: %w", err)
	}
	defer tx.Rollback()
	for _, k := range ks {
		if _, err := tx.ExecContext(ctx, `INSERT INTO kiosks(kiosk, office, last_seen_ns, presence, status) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT(kiosk) DO UPDATE SET office = excluded.office, last_seen_ns = excluded.last_seen_ns,
				presence = excluded.presence, status = COALESCE(excluded.status, kiosks.status)`,
			k.Kiosk, k.Office, k.LastSeen.UnixNano(), string(k.Presence), nullBytes(k.Status)); err != nil {
			return fmt.Errorf("hub: save fleet: %w", err)
		}
	}
	for _, t := range ts {
		if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO presence_log(kiosk, at_ns, from_state, to_state) VALUES (?, ?, ?, ?)",
			t.Kiosk, t.At.UnixNano(), string(t.From), string(t.To)); err != nil {
			return fmt.Errorf("hub: save presence: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("hub: save fleet: %w", err)
	}
	return nil
}

func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// LoadFleet returns every kiosk the hub has heard of.
func (s *Store) LoadFleet(ctx context.Context) ([]KioskRecord, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT kiosk, office, last_seen_ns, presence, status FROM kiosks ORDER BY kiosk")
	if err != nil {
		return nil, fmt.Errorf("hub: load fleet: %w", err)
	}
	defer rows.Close()
	var out []KioskRecord
	for rows.Next() {
		var k KioskRecord
		var ns int64
		var st sql.NullString
		if err := rows.Scan(&k.Kiosk, &k.Office, &ns, &k.Presence, &st); err != nil {
			return nil, fmt.Errorf("hub: load fleet: %w", err)
		}
		k.LastSeen = time.Unix(0, ns)
		if st.Valid {
			k.Status = []byte(st.String)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hub: load fleet: %w", err)
	}
	return out, nil
}

// PresenceLog returns up to limit transitions of kiosk, newest first.
func (s *Store) PresenceLog(ctx context.Context, kioskID string, limit int) ([]Transition, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT kiosk, at_ns, from_state, to_state FROM presence_log
		WHERE kiosk = ? ORDER BY n DESC LIMIT ?`, kioskID, limit)
	if err != nil {
		return nil, fmt.Errorf("hub: read presence log: %w", err)
	}
	defer rows.Close()
	var out []Transition
	for rows.Next() {
		var t Transition
		var ns int64
		if err := rows.Scan(&t.Kiosk, &ns, &t.From, &t.To); err != nil {
			return nil, fmt.Errorf("hub: read presence log: %w", err)
		}
		t.At = time.Unix(0, ns)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hub: read presence log: %w", err)
	}
	return out, nil
}

// LastUnclean returns each kiosk's last unclean shutdown.
func (s *Store) LastUnclean(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT kiosk, at_ns FROM last_unclean")
	if err != nil {
		return nil, fmt.Errorf("hub: read unclean shutdowns: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var k string
		var ns int64
		if err := rows.Scan(&k, &ns); err != nil {
			return nil, fmt.Errorf("hub: read unclean shutdowns: %w", err)
		}
		out[k] = time.Unix(0, ns)
	}
	return out, rows.Err()
}
