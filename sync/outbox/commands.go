package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Command is a remote command as the kiosk recorded it (DESIGN 4.5).
type Command struct {
	ID          string
	Verb        string
	Body        []byte
	RequestedBy string
	ReceivedAt  time.Time
	ExpiresAt   time.Time
	Reply       []byte // the first reply
	State       string // done | pending | deferred | finished
}

// CommandRecord stores c unless a command with its id exists. It returns
// the command as stored and whether it was already there: a repeated id
// gets the first one back, untouched.
func (tx *Tx) CommandRecord(c Command) (Command, bool, error) {
	old, err := scanCommand(tx.tx.QueryRowContext(tx.ctx, commandSelect+" WHERE id = ?", c.ID))
	if err == nil {
		return old, true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return Command{}, false, err
	}
	if _, err := tx.tx.ExecContext(tx.ctx, `INSERT INTO commands(id, verb, body, requested_by, received_at, expires_at, reply, state)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, c.Verb, nonNilBytes(c.Body), c.RequestedBy, c.ReceivedAt.UnixMilli(), c.ExpiresAt.UnixMilli(),
		nonNilBytes(c.Reply), c.State); err != nil {
		return Command{}, false, fmt.Errorf("outbox: record command %s: %w", c.ID, err)
	}
	return c, false, nil
}

// CommandSetState moves a recorded command to state.
func (tx *Tx) CommandSetState(id, state string) error {
	if _, err := tx.tx.ExecContext(tx.ctx, "UPDATE commands SET state = ? WHERE id = ?", state, id); err != nil {
		return fmt.Errorf("outbox: command %s: %w", id, err)
	}
	return nil
}

// CommandGet returns a recorded command, or ErrNotFound.
func (s *Store) CommandGet(ctx context.Context, id string) (Command, error) {
	return scanCommand(s.r.QueryRowContext(ctx, commandSelect+" WHERE id = ?", id))
}

// CommandsIn returns the recorded commands in state, oldest first.
func (s *Store) CommandsIn(ctx context.Context, state string) ([]Command, error) {
	rows, err := s.r.QueryContext(ctx, commandSelect+" WHERE state = ? ORDER BY received_at", state)
	if err != nil {
		return nil, fmt.Errorf("outbox: read commands: %w", err)
	}
	defer rows.Close()
	var out []Command
	for rows.Next() {
		c, err := scanCommand(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CommandsPrune forgets finished commands received before t: a replay of
// an id that old is rejected as expired anyway.
func (s *Store) CommandsPrune(ctx context.Context, before time.Time) error {
	if _, err := s.w.ExecContext(ctx, "DELETE FROM commands WHERE state IN ('done', 'finished') AND expires_at < ?", before.UnixMilli()); err != nil {
		return fmt.Errorf("outbox: prune commands: %w", err)
	}
	return nil
}

const commandSelect = "SELECT id, verb, body, requested_by, received_at, expires_at, reply, state FROM commands"

func scanCommand(r interface{ Scan(...any) error }) (Command, error) {
	var c Command
	var rec, exp int64
	err := r.Scan(&c.ID, &c.Verb, &c.Body, &c.RequestedBy, &rec, &exp, &c.Reply, &c.State)
	if errors.Is(err, sql.ErrNoRows) {
		return Command{}, ErrNotFound
	}
	if err != nil {
		return Command{}, fmt.Errorf("outbox: read command: %w", err)
	}
	c.ReceivedAt, c.ExpiresAt = time.UnixMilli(rec), time.UnixMilli(exp)
	return c, nil
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
