package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Content is the stored content bundle.
type Content struct {
	Version    int
	Bundle     []byte // JSON, validated by the caller before it is stored
	ReceivedAt time.Time
}

// ContentGet returns the stored bundle, or ErrNotFound.
func (s *Store) ContentGet(ctx context.Context) (Content, error) {
	var c Content
	var ms int64
	err := s.r.QueryRowContext(ctx, "SELECT version, bundle, received_at FROM content WHERE id = 1").Scan(&c.Version, &c.Bundle, &ms)
	if errors.Is(err, sql.ErrNoRows) {
		return Content{}, ErrNotFound
	}
	if err != nil {
		return Content{}, fmt.Errorf("outbox: read content: %w", err)
	}
	c.ReceivedAt = time.UnixMilli(ms)
	return c, nil
}

// ContentPut replaces the stored bundle.
func (s *Store) ContentPut(ctx context.Context, c Content) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO content(id, version, bundle, received_at) VALUES (1, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET version = excluded.version, bundle = excluded.bundle, received_at = excluded.received_at`,
		c.Version, c.Bundle, c.ReceivedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("outbox: write content: %w", err)
	}
	return nil
}
