package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// CacheEntry is one cached lookup result.
type CacheEntry struct {
	Key       []byte    // HMAC of plate and rangka5; never the plate itself
	Result    []byte    // result JSON without personal data and without nopol
	FetchedAt time.Time // when the gateway computed it
}

// CacheGet returns the entry for key, or ErrNotFound.
func (s *Store) CacheGet(ctx context.Context, key []byte) (CacheEntry, error) {
	var e CacheEntry
	var ms int64
	err := s.r.QueryRowContext(ctx, "SELECT result, fetched_at FROM lookup_cache WHERE key = ?", key).Scan(&e.Result, &ms)
	if errors.Is(err, sql.ErrNoRows) {
		return CacheEntry{}, ErrNotFound
	}
	if err != nil {
		return CacheEntry{}, fmt.Errorf("outbox: read cache: %w", err)
	}
	e.Key = key
	e.FetchedAt = time.UnixMilli(ms)
	return e, nil
}

// CachePut stores e, replacing an older entry with the same key, and then
// evicts the least recently stored entries beyond maxEntries (0: no bound).
func (s *Store) CachePut(ctx context.Context, e CacheEntry, maxEntries int) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("outbox: write cache: %w", err)
	}
	defer tx.Rollback()
	ms := e.FetchedAt.UnixMilli()
	if _, err := tx.ExecContext(ctx, `INSERT INTO lookup_cache(key, result, fetched_at, used_at) VALUES (?, ?, ?, ?)
		ON CONFLICT(key) DO UPDATE SET result = excluded.result, fetched_at = excluded.fetched_at, used_at = excluded.used_at`,
		e.Key, e.Result, ms, ms); err != nil {
		return fmt.Errorf("outbox: write cache: %w", err)
	}
	if maxEntries > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM lookup_cache WHERE key IN (
			SELECT key FROM lookup_cache ORDER BY used_at DESC LIMIT -1 OFFSET ?)`, maxEntries); err != nil {
			return fmt.Errorf("outbox: evict cache: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("outbox: write cache: %w", err)
	}
	return nil
}

// CacheLen returns the number of cached results.
func (s *Store) CacheLen(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM lookup_cache").Scan(&n); err != nil {
		return 0, fmt.Errorf("outbox: count cache: %w", err)
	}
	return n, nil
}
