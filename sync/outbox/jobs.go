package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Job is the stored state of a print job.
type Job struct {
	ID        string
	State     string
	Reason    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// JobPut inserts or updates a job. The caller decides the state (a pure
// next-state function) and stores it before acting on it.
func (s *Store) JobPut(ctx context.Context, j Job) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO print_jobs(id, state, reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET state = excluded.state, reason = excluded.reason, updated_at = excluded.updated_at`,
		j.ID, j.State, j.Reason, j.CreatedAt.UnixMilli(), j.UpdatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("outbox: write print job: %w", err)
	}
	return nil
}

// JobGet returns a job, or ErrNotFound.
func (s *Store) JobGet(ctx context.Context, id string) (Job, error) {
	j := Job{ID: id}
	var c, u int64
	err := s.r.QueryRowContext(ctx, "SELECT state, reason, created_at, updated_at FROM print_jobs WHERE id = ?", id).Scan(&j.State, &j.Reason, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, ErrNotFound
	}
	if err != nil {
		return Job{}, fmt.Errorf("outbox: read print job: %w", err)
	}
	j.CreatedAt, j.UpdatedAt = time.UnixMilli(c), time.UnixMilli(u)
	return j, nil
}

// JobsFailUnfinished marks every queued or printing job failed with
// reason, in one transaction, and returns how many there were. The agent
// calls it at start: a job interrupted by a crash or a power cut must never
// print later, for someone else.
func (s *Store) JobsFailUnfinished(ctx context.Context, reason string, at time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE print_jobs SET state = 'failed', reason = ?, updated_at = ? WHERE state IN ('queued', 'printing')`,
		reason, at.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("outbox: fail unfinished print jobs: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// JobsPrune keeps the newest keep jobs and deletes the rest.
func (s *Store) JobsPrune(ctx context.Context, keep int) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM print_jobs WHERE id IN (
		SELECT id FROM print_jobs ORDER BY created_at DESC LIMIT -1 OFFSET ?)`, keep)
	if err != nil {
		return fmt.Errorf("outbox: prune print jobs: %w", err)
	}
	return nil
}
