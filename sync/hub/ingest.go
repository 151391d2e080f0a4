package hub

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/sync/sqlitedb"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
)

// The ingest store is the hub's SQLite projection of kiosk events
// (DESIGN 7). It can be deleted and rebuilt by replaying KIOSK_EVENTS, so
// it trades durability for speed (synchronous=NORMAL): a power cut may
// lose the last commits, which the replay of unacknowledged messages
// restores.
//
// Idempotence: the stream drops Nats-Msg-Id duplicates only within its
// 2-minute window; the UNIQUE event id here makes every later replay count
// once. A duplicate changes nothing, not even the seq bookkeeping.
//
// Gaps: per kiosk and epoch the store keeps the highest seq seen. The
// first seq seen of an epoch is its start (a new epoch is accepted
// without a gap, DESIGN 4.2, and a rebuild from a stream whose oldest
// events have aged out does not report them). A seq above last+1 records
// the gap last+1..seq-1 and moves last to seq. A seq at or below last
// (out-of-order arrival) never moves last back and never records a gap;
// when it lies inside a recorded gap, the gap is cut around it: removed,
// shrunk from either end, or split in two.

//go:embed migrations/*.sql
var storeMigrationFS embed.FS

// storeApplicationID marks the hub's database files (PRAGMA
// application_id), so that OpenStore refuses a foreign SQLite file.
const storeApplicationID = 0x504b4248 // "PKBH"

// ErrNewerSchema is returned by OpenStore for a database written by a
// newer hub. The file is left untouched.
var ErrNewerSchema = errors.New("hub: database written by a newer version")

// ErrForeignStore is returned by OpenStore for an SQLite file that is not
// a hub database.
var ErrForeignStore = errors.New("hub: not a hub database")

// Store is the hub's event projection. It is safe for concurrent use.
type Store struct {
	w *sql.DB // the single write connection (_txlock=immediate)
	r *sql.DB // read-only pool (mode=ro)

	pos applied // HUB_EVENTS applied so far (hubevents.go)
}

// storeSchema is how the projection is opened: synchronous=NORMAL, as it
// can be rebuilt from the streams.
var storeSchema = sqlitedb.Config{
	Migrations:  mustSub(storeMigrationFS, "migrations"),
	AppID:       storeApplicationID,
	Synchronous: "NORMAL",
	ErrNewer:    ErrNewerSchema,
	ErrForeign:  ErrForeignStore,
}

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // embedded files: a build defect
	}
	return sub
}

// OpenStore opens or creates the projection at file (a file name, not
// ":memory:": the writer and the readers are separate connections) and
// migrates it. It returns ErrNewerSchema or ErrForeignStore, the file
// untouched, for a database it must not write.
func OpenStore(ctx context.Context, file string) (*Store, error) {
	w, r, err := sqlitedb.Open(ctx, file, storeSchema)
	if errors.Is(err, ErrNewerSchema) || errors.Is(err, ErrForeignStore) {
		return nil, err // the sentinel says whose it is
	}
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	return &Store{w: w, r: r}, nil
}

// Close closes the database.
func (s *Store) Close() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("hub: close store: %w", err)
	}
	return nil
}

// Envelope is a kiosk event as the hub receives it: the envelope of
// DESIGN 4.2 shared with the agent, checked by ParseEnvelope.
type Envelope = kiosk.Event

// maxTokenLen bounds the free-form envelope strings (id, type, boot,
// epoch), so a bad kiosk cannot bloat the projection with one field.
const maxTokenLen = 128

// ParseEnvelope decodes one event strictly: unknown fields, trailing data,
// a missing id, kiosk, office, type or epoch, an invalid kiosk or office
// id and a seq below 1 are errors, each with a message that says what is
// wrong. It never panics on any input.
func ParseEnvelope(b []byte) (Envelope, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var e Envelope
	if err := dec.Decode(&e); err != nil {
		return Envelope{}, fmt.Errorf("hub: event envelope: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Envelope{}, errors.New("hub: event envelope: trailing data after the JSON object")
	}
	if err := checkEnvelope(&e); err != nil {
		return Envelope{}, err
	}
	return e, nil
}

// check validates an envelope, whether parsed or built by a caller.
func checkEnvelope(e *Envelope) error {
	if e.ID == "" {
		return errors.New("hub: event envelope: id is required")
	}
	if err := kiosk.CheckID("kiosk", e.Kiosk); err != nil {
		return fmt.Errorf("hub: event envelope %s: %w", e.ID, err)
	}
	if err := kiosk.CheckID("office", e.Office); err != nil {
		return fmt.Errorf("hub: event envelope %s: %w", e.ID, err)
	}
	if e.Type == "" {
		return fmt.Errorf("hub: event envelope %s: type is required", e.ID)
	}
	if e.Epoch == "" {
		return fmt.Errorf("hub: event envelope %s: epoch is required", e.ID)
	}
	for _, f := range []struct{ name, v string }{{"id", e.ID}, {"type", e.Type}, {"boot", e.Boot}, {"epoch", e.Epoch}} {
		if len(f.v) > maxTokenLen {
			return fmt.Errorf("hub: event envelope: %s is %d bytes long, at most %d allowed", f.name, len(f.v), maxTokenLen)
		}
	}
	if e.Seq < 1 {
		return fmt.Errorf("hub: event envelope %s: seq is %d, must be 1 or more", e.ID, e.Seq)
	}
	return nil
}

// IngestResult says what Ingest did with one event.
type IngestResult struct {
	Duplicate bool // the event id was already stored; nothing changed
	Gap       *Gap // the gap this event revealed, if any
}

// Ingest stores one event in one transaction (see the gap rules at the
// top of this file).
func (s *Store) Ingest(ctx context.Context, e Envelope) (IngestResult, error) {
	rs, err := s.IngestBatch(ctx, []Envelope{e})
	if err != nil {
		return IngestResult{}, err
	}
	return rs[0], nil
}

// IngestBatch stores events in one transaction, in order, and returns one
// result per event. Every envelope is checked first: one bad envelope
// fails the batch and nothing is stored.
func (s *Store) IngestBatch(ctx context.Context, es []Envelope) ([]IngestResult, error) {
	for i := range es {
		if err := checkEnvelope(&es[i]); err != nil {
			return nil, fmt.Errorf("hub: ingest event %d of %d: %w", i+1, len(es), err)
		}
	}
	if len(es) == 0 {
		return nil, nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("hub: ingest: begin: %w", err)
	}
	defer tx.Rollback()
	out := make([]IngestResult, len(es))
	for i := range es {
		if out[i], err = ingestTx(ctx, tx, &es[i]); err != nil {
			return nil, fmt.Errorf("hub: ingest %s: %w", es[i].ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("hub: ingest: commit: %w", err)
	}
	return out, nil
}

func ingestTx(ctx context.Context, tx *sql.Tx, e *Envelope) (IngestResult, error) {
	var at, atNS, data any // NULL unless set
	if !e.At.IsZero() {
		at, atNS = e.At.Format(time.RFC3339Nano), e.At.UnixNano()
	}
	if len(e.Data) > 0 {
		data = string(e.Data)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO events(id, kiosk, office, type, at, at_ns, boot, epoch, seq, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
		e.ID, e.Kiosk, e.Office, e.Type, at, atNS, e.Boot, e.Epoch, e.Seq, data)
	if err != nil {
		return IngestResult{}, fmt.Errorf("insert: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return IngestResult{}, fmt.Errorf("insert: %w", err)
	} else if n == 0 {
		return IngestResult{Duplicate: true}, nil
	}
	r, err := seqTx(ctx, tx, e)
	if err != nil {
		return IngestResult{}, err
	}
	if err := projectTx(ctx, tx, e); err != nil {
		return IngestResult{}, err
	}
	return r, nil
}

// seqTx does the per-epoch seq and gap bookkeeping of a new event.
func seqTx(ctx context.Context, tx *sql.Tx, e *Envelope) (IngestResult, error) {

	var last int64
	err := tx.QueryRowContext(ctx, "SELECT last_seq FROM epochs WHERE kiosk = ? AND epoch = ?", e.Kiosk, e.Epoch).Scan(&last)
	switch {
	case errors.Is(err, sql.ErrNoRows): // a new epoch starts where it is first seen
		if _, err := tx.ExecContext(ctx, "INSERT INTO epochs(kiosk, epoch, last_seq) VALUES (?, ?, ?)", e.Kiosk, e.Epoch, e.Seq); err != nil {
			return IngestResult{}, fmt.Errorf("new epoch: %w", err)
		}
		return IngestResult{}, nil
	case err != nil:
		return IngestResult{}, fmt.Errorf("read last seq: %w", err)
	}

	if e.Seq > last {
		if _, err := tx.ExecContext(ctx, "UPDATE epochs SET last_seq = ? WHERE kiosk = ? AND epoch = ?", e.Seq, e.Kiosk, e.Epoch); err != nil {
			return IngestResult{}, fmt.Errorf("update last seq: %w", err)
		}
		if e.Seq == last+1 {
			return IngestResult{}, nil
		}
		g := &Gap{Kiosk: e.Kiosk, Epoch: e.Epoch, From: last + 1, To: e.Seq - 1}
		if err := insertGap(ctx, tx, g.Kiosk, g.Epoch, g.From, g.To); err != nil {
			return IngestResult{}, err
		}
		return IngestResult{Gap: g}, nil
	}

	// Out of order (or a second event with a seen seq): fill a gap.
	var from, to int64
	err = tx.QueryRowContext(ctx, "SELECT from_seq, to_seq FROM gaps WHERE kiosk = ? AND epoch = ? AND from_seq <= ? AND to_seq >= ?",
		e.Kiosk, e.Epoch, e.Seq, e.Seq).Scan(&from, &to)
	if errors.Is(err, sql.ErrNoRows) {
		return IngestResult{}, nil
	}
	if err != nil {
		return IngestResult{}, fmt.Errorf("read gap: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM gaps WHERE kiosk = ? AND epoch = ? AND from_seq = ?", e.Kiosk, e.Epoch, from); err != nil {
		return IngestResult{}, fmt.Errorf("fill gap: %w", err)
	}
	if from < e.Seq {
		if err := insertGap(ctx, tx, e.Kiosk, e.Epoch, from, e.Seq-1); err != nil {
			return IngestResult{}, err
		}
	}
	if e.Seq < to {
		if err := insertGap(ctx, tx, e.Kiosk, e.Epoch, e.Seq+1, to); err != nil {
			return IngestResult{}, err
		}
	}
	return IngestResult{}, nil
}

func insertGap(ctx context.Context, tx *sql.Tx, kiosk, epoch string, from, to int64) error {
	if _, err := tx.ExecContext(ctx, "INSERT INTO gaps(kiosk, epoch, from_seq, to_seq) VALUES (?, ?, ?, ?)", kiosk, epoch, from, to); err != nil {
		return fmt.Errorf("record gap %d..%d: %w", from, to, err)
	}
	return nil
}

// Events returns up to limit events of kiosk (every kiosk when kiosk is
// ""; every event when limit <= 0), newest first: by the kiosk's time at,
// then seq, then arrival at the hub. Events without at come last.
func (s *Store) Events(ctx context.Context, kiosk string, limit int) ([]Envelope, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, kiosk, office, type, at, boot, epoch, seq, data FROM events
		WHERE ? = '' OR kiosk = ? ORDER BY at_ns DESC, seq DESC, n DESC LIMIT ?`, kiosk, kiosk, limit)
	if err != nil {
		return nil, fmt.Errorf("hub: read events: %w", err)
	}
	defer rows.Close()
	var out []Envelope
	for rows.Next() {
		var e Envelope
		var at, data sql.NullString
		if err := rows.Scan(&e.ID, &e.Kiosk, &e.Office, &e.Type, &at, &e.Boot, &e.Epoch, &e.Seq, &data); err != nil {
			return nil, fmt.Errorf("hub: read events: %w", err)
		}
		if at.Valid {
			if e.At, err = time.Parse(time.RFC3339Nano, at.String); err != nil {
				return nil, fmt.Errorf("hub: read event %s: at: %w", e.ID, err)
			}
		}
		if data.Valid {
			e.Data = json.RawMessage(data.String)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hub: read events: %w", err)
	}
	return out, nil
}

// Gaps returns the open gaps of kiosk (of every kiosk when kiosk is ""),
// by kiosk, epoch and seq.
func (s *Store) Gaps(ctx context.Context, kiosk string) ([]Gap, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT kiosk, epoch, from_seq, to_seq FROM gaps
		WHERE ? = '' OR kiosk = ? ORDER BY kiosk, epoch, from_seq`, kiosk, kiosk)
	if err != nil {
		return nil, fmt.Errorf("hub: read gaps: %w", err)
	}
	defer rows.Close()
	var out []Gap
	for rows.Next() {
		var g Gap
		if err := rows.Scan(&g.Kiosk, &g.Epoch, &g.From, &g.To); err != nil {
			return nil, fmt.Errorf("hub: read gaps: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hub: read gaps: %w", err)
	}
	return out, nil
}

// Count returns the number of events stored.
func (s *Store) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM events").Scan(&n); err != nil {
		return 0, fmt.Errorf("hub: count events: %w", err)
	}
	return n, nil
}
