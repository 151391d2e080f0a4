// Package outbox is the kiosk's local store: one SQLite database holding
// state, the lookup cache and (in later migrations) the event outbox,
// faults and print jobs.
//
// # Concepts
//
// The schema is versioned by PRAGMA user_version and migrated at Open by
// embedded SQL files, each in its own transaction. A database whose version
// is newer than this build knows is never touched: Open returns
// ErrNewerSchema and the agent runs on a fresh store beside it.
//
// There is one write connection (go-sqlite3 with _txlock=immediate, so a
// write transaction takes the lock at BEGIN and never fails half-way with
// SQLITE_BUSY) and a separate read-only pool: with _txlock=immediate even a
// read-only transaction would take the write lock (deps.md 7). WAL lets the
// readers run while the writer commits. synchronous=FULL makes a committed
// transaction survive a power cut.
package outbox

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	_ "github.com/mattn/go-sqlite3" // database/sql driver "sqlite3"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// applicationID marks our database files (PRAGMA application_id), so that
// Open refuses a foreign SQLite file instead of migrating it.
const applicationID = 0x504b4231 // "PKB1"

// ErrNewerSchema is returned by Open for a database written by a newer
// version of the agent. The file is left untouched.
var ErrNewerSchema = errors.New("outbox: database written by a newer version")

// ErrForeign is returned by Open for an SQLite file that is not ours.
var ErrForeign = errors.New("outbox: not a kiosk database")

// ErrNotFound is returned when a key is absent.
var ErrNotFound = errors.New("outbox: not found")

// Store is an open kiosk database. It is safe for concurrent use.
type Store struct {
	path string
	w    *sql.DB // single write connection
	r    *sql.DB // read-only pool
}

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	ents, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("outbox: read migrations: %w", err)
	}
	var ms []migration
	for _, e := range ents {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("outbox: migration %q: name must start with NNNN_", e.Name())
		}
		b, err := migrationFS.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("outbox: read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{v, e.Name(), string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("outbox: migrations must be numbered 1..n without gaps, found %s at position %d", m.name, i+1)
		}
	}
	return ms, nil
}

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		panic(err) // embedded files: a build defect, caught by every test
	}
	return len(ms)
}

// Open opens or creates the database at file and migrates it to
// SchemaVersion. It returns ErrNewerSchema (the file untouched) when the
// database is newer than this build.
func Open(ctx context.Context, file string) (*Store, error) {
	ms, err := migrations()
	if err != nil {
		return nil, err
	}
	// Look before writing anything: even switching the journal mode is a
	// write, and a newer database must stay exactly as it is.
	if _, err := os.Stat(file); err == nil {
		v, app, err := peekVersion(ctx, file)
		if err != nil {
			return nil, err
		}
		if app != 0 && app != applicationID {
			return nil, fmt.Errorf("%w: %s has application_id %#x", ErrForeign, file, app)
		}
		if v > len(ms) {
			return nil, fmt.Errorf("%w: %s has schema %d, this version knows %d", ErrNewerSchema, file, v, len(ms))
		}
	}

	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_txlock", "immediate")
	q.Set("_busy_timeout", "5000")
	q.Set("_synchronous", "FULL")
	q.Set("_foreign_keys", "on")
	w, err := sql.Open("sqlite3", "file:"+file+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("outbox: open %s: %w", file, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	s := &Store{path: file, w: w}
	if err := s.migrate(ctx, ms); err != nil {
		w.Close()
		return nil, err
	}
	rq := url.Values{}
	rq.Set("mode", "ro")
	rq.Set("_busy_timeout", "5000")
	r, err := sql.Open("sqlite3", "file:"+file+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("outbox: open %s read-only: %w", file, err)
	}
	r.SetMaxOpenConns(4)
	s.r = r
	if err := r.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("outbox: open %s read-only: %w", file, err)
	}
	return s, nil
}

func peekVersion(ctx context.Context, file string) (version, app int, err error) {
	db, err := sql.Open("sqlite3", "file:"+file+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return 0, 0, fmt.Errorf("outbox: open %s: %w", file, err)
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, 0, fmt.Errorf("outbox: read schema version of %s: %w", file, err)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&app); err != nil {
		return 0, 0, fmt.Errorf("outbox: read application id of %s: %w", file, err)
	}
	return version, app, nil
}

func (s *Store) migrate(ctx context.Context, ms []migration) error {
	var cur int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&cur); err != nil {
		return fmt.Errorf("outbox: read schema version: %w", err)
	}
	for _, m := range ms[cur:] {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("outbox: migrate %s: %w", m.name, err)
		}
		stmts := m.sql
		if m.version == 1 {
			// The first migration also stamps the file as ours and gives
			// the store its epoch (DESIGN 4.2): a new store is a new epoch.
			stmts += fmt.Sprintf(";\nPRAGMA application_id = %d;\nINSERT INTO state(key, value) VALUES ('epoch', '%s');", applicationID, newEpoch())
		}
		if _, err := tx.ExecContext(ctx, stmts); err != nil {
			tx.Rollback()
			return fmt.Errorf("outbox: migrate %s: %w", m.name, err)
		}
		// PRAGMA user_version is transactional in SQLite: the version and
		// the schema change commit together or not at all.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
			tx.Rollback()
			return fmt.Errorf("outbox: migrate %s: set version: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("outbox: migrate %s: commit: %w", m.name, err)
		}
	}
	return nil
}

func newEpoch() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Path returns the database file name.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("outbox: close: %w", err)
	}
	return nil
}

// State returns the value of a state key, or ErrNotFound.
func (s *Store) State(ctx context.Context, key string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, "SELECT value FROM state WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("outbox: read state %q: %w", key, err)
	}
	return v, nil
}

// SetState sets a state key.
// DeleteState removes a state key (no error when it is absent).
func (s *Store) DeleteState(ctx context.Context, key string) error {
	if _, err := s.w.ExecContext(ctx, "DELETE FROM state WHERE key = ?", key); err != nil {
		return fmt.Errorf("outbox: delete state %q: %w", key, err)
	}
	return nil
}

func (s *Store) SetState(ctx context.Context, key, value string) error {
	_, err := s.w.ExecContext(ctx, "INSERT INTO state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value)
	if err != nil {
		return fmt.Errorf("outbox: write state %q: %w", key, err)
	}
	return nil
}

// Epoch returns the store's epoch, a random id made when it was created.
func (s *Store) Epoch(ctx context.Context) (string, error) { return s.State(ctx, "epoch") }
