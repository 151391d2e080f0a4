// Package sqlitedb opens the project's SQLite files the one way all of
// them are opened (the kiosk's store, the hub's projection): embedded,
// numbered migrations applied under PRAGMA user_version, each in its own
// transaction; an application_id stamp so a foreign file is refused; a
// file written by a newer build left byte-identical; one write connection
// with _txlock=immediate (a write transaction takes the lock at BEGIN and
// never fails half-way with SQLITE_BUSY) and a separate read-only pool,
// since with _txlock=immediate even a read would take the write lock
// (deps.md 7). WAL lets the readers run while the writer commits.
package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	_ "github.com/mattn/go-sqlite3" // database/sql driver "sqlite3"
)

// Config says how to open one kind of database.
type Config struct {
	Migrations fs.FS // NNNN_name.sql files at its root, numbered 1..n
	AppID      int   // PRAGMA application_id, stamped by migration 1
	// Synchronous is "FULL" (a commit survives a power cut) or "NORMAL"
	// (a rebuildable projection: the last commits may be lost).
	Synchronous string
	ForeignKeys bool
	// First, if set, returns SQL appended to migration 1 (a new store's
	// random epoch, say).
	First func() string
	// ErrNewer and ErrForeign are wrapped in the errors for a database of
	// a newer schema and for a file that is not of this kind.
	ErrNewer, ErrForeign error
}

type migration struct {
	version int
	name    string
	sql     string
}

func migrations(fsys fs.FS) ([]migration, error) {
	ents, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range ents {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %q: name must start with NNNN_", e.Name())
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{v, e.Name(), string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations must be numbered 1..n without gaps, found %s at position %d", m.name, i+1)
		}
	}
	return ms, nil
}

// SchemaVersion is the schema version the migrations in fsys write.
func SchemaVersion(fsys fs.FS) (int, error) {
	ms, err := migrations(fsys)
	return len(ms), err
}

// Open opens or creates the database at file (a file name, not
// ":memory:": the writer and the readers are separate connections),
// migrates it and returns the write connection and the read-only pool.
func Open(ctx context.Context, file string, cfg Config) (w, r *sql.DB, err error) {
	ms, err := migrations(cfg.Migrations)
	if err != nil {
		return nil, nil, err
	}
	// Look before writing anything: even switching the journal mode is a
	// write, and a newer database must stay exactly as it is.
	if _, err := os.Stat(file); err == nil {
		v, app, err := peek(ctx, file)
		if err != nil {
			return nil, nil, err
		}
		if app != 0 && app != cfg.AppID {
			return nil, nil, fmt.Errorf("%w: %s has application_id %#x", cfg.ErrForeign, file, app)
		}
		if v > len(ms) {
			return nil, nil, fmt.Errorf("%w: %s has schema %d, this version knows %d", cfg.ErrNewer, file, v, len(ms))
		}
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_txlock", "immediate")
	q.Set("_busy_timeout", "5000")
	q.Set("_synchronous", cfg.Synchronous)
	if cfg.ForeignKeys {
		q.Set("_foreign_keys", "on")
	}
	w, err = sql.Open("sqlite3", "file:"+file+"?"+q.Encode())
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", file, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w, ms, cfg); err != nil {
		w.Close()
		return nil, nil, err
	}
	rq := url.Values{}
	rq.Set("mode", "ro")
	rq.Set("_busy_timeout", "5000")
	r, err = sql.Open("sqlite3", "file:"+file+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("open %s read-only: %w", file, err)
	}
	r.SetMaxOpenConns(4)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, nil, fmt.Errorf("open %s read-only: %w", file, err)
	}
	return w, r, nil
}

func peek(ctx context.Context, file string) (version, app int, err error) {
	db, err := sql.Open("sqlite3", "file:"+file+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return 0, 0, fmt.Errorf("open %s: %w", file, err)
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, 0, fmt.Errorf("read schema version of %s: %w", file, err)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&app); err != nil {
		return 0, 0, fmt.Errorf("read application id of %s: %w", file, err)
	}
	return version, app, nil
}

func migrate(ctx context.Context, w *sql.DB, ms []migration, cfg Config) error {
	var cur int
	if err := w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&cur); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	for _, m := range ms[cur:] {
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
		stmts := m.sql
		if m.version == 1 {
			stmts += fmt.Sprintf(";\nPRAGMA application_id = %d;", cfg.AppID)
			if cfg.First != nil {
				stmts += "\n" + cfg.First()
			}
		}
		if _, err := tx.ExecContext(ctx, stmts); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
		// PRAGMA user_version is transactional in SQLite: the version and
		// the schema change commit together or not at all.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: set version: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %s: commit: %w", m.name, err)
		}
	}
	return nil
}
