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

	"github.com/sumbar-samsat/pkbkiosk/sync/sqlitedb"
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

// schema is how the kiosk's store is opened: power-cut safe
// (synchronous=FULL), and a new store is a new epoch (DESIGN 4.2).
var schema = sqlitedb.Config{
	Migrations:  mustSub(migrationFS, "migrations"),
	AppID:       applicationID,
	Synchronous: "FULL",
	ForeignKeys: true,
	First: func() string {
		return fmt.Sprintf("INSERT INTO state(key, value) VALUES ('epoch', '%s');", newEpoch())
	},
	ErrNewer:   ErrNewerSchema,
	ErrForeign: ErrForeign,
}

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // embedded files: a build defect
	}
	return sub
}

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int {
	v, err := sqlitedb.SchemaVersion(schema.Migrations)
	if err != nil {
		panic(err) // embedded files: a build defect, caught by every test
	}
	return v
}

// Open opens or creates the database at file and migrates it to
// SchemaVersion. It returns ErrNewerSchema (the file untouched) when the
// database is newer than this build, ErrForeign for another SQLite file.
func Open(ctx context.Context, file string) (*Store, error) {
	w, r, err := sqlitedb.Open(ctx, file, schema)
	if errors.Is(err, ErrNewerSchema) || errors.Is(err, ErrForeign) {
		return nil, err // the sentinel says whose it is
	}
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return &Store{path: file, w: w, r: r}, nil
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
