package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Event is one stored envelope; Seq and ID are assigned by Emit.
type Event struct {
	Seq  int64
	ID   string
	Type string
	At   time.Time
	Body []byte
}

// Tx is a write transaction in which state changes and the events they
// cause commit together or not at all (DESIGN 5).
type Tx struct {
	ctx context.Context
	tx  *sql.Tx
}

// Update runs fn in one immediate write transaction; an error from fn
// rolls back every state change and event of it (no seq is consumed).
func (s *Store) Update(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("outbox: begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(&Tx{ctx: ctx, tx: tx}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("outbox: commit: %w", err)
	}
	return nil
}

// DeleteState removes a state key inside the transaction.
func (tx *Tx) DeleteState(key string) error {
	if _, err := tx.tx.ExecContext(tx.ctx, "DELETE FROM state WHERE key = ?", key); err != nil {
		return fmt.Errorf("outbox: delete state %q: %w", key, err)
	}
	return nil
}

// SetState sets a state key inside the transaction.
func (tx *Tx) SetState(key, value string) error {
	_, err := tx.tx.ExecContext(tx.ctx, "INSERT INTO state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value)
	if err != nil {
		return fmt.Errorf("outbox: write state %q: %w", key, err)
	}
	return nil
}

// Emit stores an event: it takes the next seq and a UUIDv7 id and calls
// build with them for the envelope's JSON.
func (tx *Tx) Emit(typ string, at time.Time, build func(id string, seq int64) ([]byte, error)) (Event, error) {
	var last int64
	var v string
	err := tx.tx.QueryRowContext(tx.ctx, "SELECT value FROM state WHERE key = 'seq'").Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return Event{}, fmt.Errorf("outbox: read seq: %w", err)
	default:
		if last, err = strconv.ParseInt(v, 10, 64); err != nil {
			return Event{}, fmt.Errorf("outbox: seq %q: %w", v, err)
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Event{}, fmt.Errorf("outbox: event id: %w", err)
	}
	e := Event{Seq: last + 1, ID: id.String(), Type: typ, At: at}
	if e.Body, err = build(e.ID, e.Seq); err != nil {
		return Event{}, fmt.Errorf("outbox: build %s: %w", typ, err)
	}
	if _, err := tx.tx.ExecContext(tx.ctx, "INSERT INTO outbox(seq, id, type, at, body) VALUES (?, ?, ?, ?, ?)",
		e.Seq, e.ID, e.Type, at.UnixMilli(), e.Body); err != nil {
		return Event{}, fmt.Errorf("outbox: store %s: %w", typ, err)
	}
	if err := tx.SetState("seq", strconv.FormatInt(e.Seq, 10)); err != nil {
		return Event{}, err
	}
	return e, nil
}

// Emit stores one event in a transaction of its own.
func (s *Store) Emit(ctx context.Context, typ string, at time.Time, build func(id string, seq int64) ([]byte, error)) (Event, error) {
	var e Event
	err := s.Update(ctx, func(tx *Tx) error {
		var err error
		e, err = tx.Emit(typ, at, build)
		return err
	})
	return e, err
}

// Unsent returns up to limit unsent events after seq, in seq order.
func (s *Store) Unsent(ctx context.Context, after int64, limit int) ([]Event, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT seq, id, type, at, body FROM outbox WHERE sent = 0 AND seq > ? ORDER BY seq LIMIT ?", after, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox: read unsent: %w", err)
	}
	defer rows.Close()
	var es []Event
	for rows.Next() {
		var e Event
		var ms int64
		if err := rows.Scan(&e.Seq, &e.ID, &e.Type, &ms, &e.Body); err != nil {
			return nil, fmt.Errorf("outbox: read unsent: %w", err)
		}
		e.At = time.UnixMilli(ms)
		es = append(es, e)
	}
	return es, rows.Err()
}

// MarkSent marks the events acknowledged by the stream, all in one
// transaction: one fsync per batch, not per event.
func (s *Store) MarkSent(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	return s.Update(ctx, func(tx *Tx) error {
		st, err := tx.tx.PrepareContext(ctx, "UPDATE outbox SET sent = 1 WHERE seq = ?")
		if err != nil {
			return fmt.Errorf("outbox: mark sent: %w", err)
		}
		defer st.Close()
		for _, q := range seqs {
			if _, err := st.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("outbox: mark sent: %w", err)
			}
		}
		return nil
	})
}

// PendingOfType counts the unsent events of one type.
func (s *Store) PendingOfType(ctx context.Context, typ string) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM outbox WHERE sent = 0 AND type = ?", typ).Scan(&n); err != nil {
		return 0, fmt.Errorf("outbox: count unsent %s: %w", typ, err)
	}
	return n, nil
}

// Pending counts the unsent events.
func (s *Store) Pending(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM outbox WHERE sent = 0").Scan(&n); err != nil {
		return 0, fmt.Errorf("outbox: count unsent: %w", err)
	}
	return n, nil
}
