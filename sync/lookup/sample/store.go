package sample

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // SQLite driver "sqlite3"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/pkb"
)

// schema is the store: one row of facts per vehicle keyed by the canonical
// plate, and the parameters it was generated with. Dates are YYYY-MM-DD.
const schema = `
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE vehicle (
	nopol          TEXT PRIMARY KEY, -- canonical plate, domain/pkb.md 3.4
	rangka5        TEXT NOT NULL,    -- last 5 characters of the chassis number, nothing more
	merk           TEXT NOT NULL,
	tipe           TEXT NOT NULL,
	jenis          TEXT NOT NULL,    -- STNK jenis (SEPEDA MOTOR, MINIBUS, ...)
	tahun          INTEGER NOT NULL,
	warna          TEXT NOT NULL,
	warna_tnkb     TEXT NOT NULL,    -- PUTIH, HITAM, KUNING, MERAH
	golongan       TEXT NOT NULL,    -- SWDKLLJ class
	roda2          INTEGER NOT NULL, -- 1: two wheels (lower PNBP fees)
	pokok          INTEGER NOT NULL, -- yearly PKB principal, rupiah
	tgl_akhir_pkb  TEXT NOT NULL,
	tgl_akhir_stnk TEXT NOT NULL,
	blokir         INTEGER NOT NULL
);`

const (
	insertVehicle = `INSERT INTO vehicle (nopol, rangka5, merk, tipe, jenis, tahun, warna, warna_tnkb, golongan, roda2, pokok, tgl_akhir_pkb, tgl_akhir_stnk, blokir)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	vehicleColumns = `nopol, rangka5, merk, tipe, jenis, tahun, warna, warna_tnkb, golongan, roda2, pokok, tgl_akhir_pkb, tgl_akhir_stnk, blokir`
	selectByPlate  = `SELECT ` + vehicleColumns + ` FROM vehicle WHERE nopol = ?`
	selectByRow    = `SELECT ` + vehicleColumns + ` FROM vehicle WHERE rowid = ?`
)

// readConns is the size of the read-only pool. The connections are opened
// at once and kept, so that they all read the file that was checked, even
// if another process later renames a regenerated store over the path.
const readConns = 4

// params are what a store was generated from; a store whose meta table
// differs is regenerated.
type params struct {
	Version string
	Seed    int64
	Size    int
	Ref     pkb.Date
	// reuseSince, when set, accepts a stored ref from that day up to Ref
	// instead of exactly Ref (Config.Ref zero: generate once, reuse).
	reuseSince pkb.Date
}

// MaxRefAge is how many days a store generated for a zero Config.Ref is
// reused before it is generated anew.
const MaxRefAge = 180

func (p params) meta() map[string]string {
	return map[string]string{
		"version": p.Version,
		"seed":    strconv.FormatInt(p.Seed, 10),
		"size":    strconv.Itoa(p.Size),
		"ref":     p.Ref.String(),
	}
}

// dsn returns a SQLite URI for path with query parameters q. The
// characters that end or escape a URI path are percent-encoded.
func dsn(path, q string) string {
	var b strings.Builder
	b.WriteString("file:")
	for i := 0; i < len(path); i++ {
		switch c := path[i]; c {
		case '%', '?', '#':
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteString("?")
	b.WriteString(q)
	return b.String()
}

// errStale means the store at the path is missing, of other parameters or
// damaged, and must be (re)generated.
var errStale = errors.New("sample: store missing or stale")

// openStore opens the store at path read-only and checks that it was
// generated from want and is intact. Any problem with the file itself is
// reported as errStale (wrapping the cause).
func openStore(ctx context.Context, path string, want params) (*sql.DB, int, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, 0, fmt.Errorf("%w: %w", errStale, err)
	}
	db, err := sql.Open("sqlite3", dsn(path, "mode=ro"))
	if err != nil {
		return nil, 0, fmt.Errorf("sample: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(readConns)
	db.SetMaxIdleConns(readConns)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	n, err := checkStore(ctx, db, want)
	if err != nil {
		db.Close()
		return nil, 0, err
	}
	// Open the rest of the pool now (see readConns).
	conns := make([]*sql.Conn, 0, readConns)
	for range readConns {
		c, err := db.Conn(ctx)
		if err != nil {
			break
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Close()
	}
	return db, n, nil
}

// checkStore compares the meta table with want, runs SQLite's quick
// integrity check (a truncated or overwritten file fails it) and returns
// the number of vehicles.
func checkStore(ctx context.Context, db *sql.DB, want params) (int, error) {
	got := map[string]string{}
	rows, err := db.QueryContext(ctx, `SELECT key, value FROM meta`)
	if err != nil {
		return 0, fmt.Errorf("%w: read meta: %w", errStale, err)
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return 0, fmt.Errorf("%w: read meta: %w", errStale, err)
		}
		got[k] = v
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("%w: read meta: %w", errStale, err)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("%w: read meta: %w", errStale, err)
	}
	for k, v := range want.meta() {
		if k == "ref" && !want.reuseSince.IsZero() {
			d, err := pkb.ParseDate(got[k])
			if err != nil || d.Before(want.reuseSince) || d.After(want.Ref) {
				return 0, fmt.Errorf("%w: ref is %q, want %s..%s", errStale, got[k], want.reuseSince, want.Ref)
			}
			continue
		}
		if got[k] != v {
			return 0, fmt.Errorf("%w: %s is %q, want %q", errStale, k, got[k], v)
		}
	}
	var check string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&check); err != nil {
		return 0, fmt.Errorf("%w: integrity check: %w", errStale, err)
	}
	if check != "ok" {
		return 0, fmt.Errorf("%w: integrity check: %s", errStale, check)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM vehicle`).Scan(&n); err != nil {
		return 0, fmt.Errorf("%w: count: %w", errStale, err)
	}
	if strconv.Itoa(n) != got["count"] {
		return 0, fmt.Errorf("%w: %d vehicles, meta says %s", errStale, n, got["count"])
	}
	return n, nil
}

// tempMaxAge is how old a leftover temporary file of a crashed generation
// must be before Open removes it; generation takes seconds, so a younger
// one may belong to another process generating right now.
const tempMaxAge = time.Hour

// build generates the store for p and puts it at path: it writes a
// temporary file in the same directory, syncs it and renames it over path,
// so a crash leaves either the old store or the new one, never half of
// one.
func build(ctx context.Context, path string, p params) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	removeStaleTemps(dir, base)
	f, err := os.CreateTemp(dir, base+".tmp-*")
	if err != nil {
		return fmt.Errorf("sample: generate: %w", err)
	}
	tmp := f.Name()
	f.Close()
	defer func() {
		if err != nil {
			os.Remove(tmp)
			os.Remove(tmp + "-journal")
		}
	}()

	vs := generate(p.Seed, p.Size, p.Ref)
	// Inserting in key order makes every insert an append to the B-trees
	// (deps.md 7: about 3× faster than random order).
	slices.SortFunc(vs, func(a, b vehicle) int { return strings.Compare(a.Nopol, b.Nopol) })
	if err := write(ctx, tmp, p, vs); err != nil {
		return err
	}
	if err := syncFile(tmp); err != nil {
		return fmt.Errorf("sample: generate: %w", err)
	}
	// A journal or WAL left next to path by an earlier store would be
	// applied to the new file as if it belonged to it.
	for _, suffix := range []string{"-journal", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("sample: generate: %w", err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("sample: generate: %w", err)
	}
	if err := syncFile(dir); err != nil {
		return fmt.Errorf("sample: generate: %w", err)
	}
	return nil
}

// write fills the empty database file at path. The file is temporary and
// synced by the caller, so SQLite keeps no journal and does not sync.
func write(ctx context.Context, path string, p params, vs []vehicle) error {
	db, err := sql.Open("sqlite3", dsn(path, "_journal_mode=OFF&_synchronous=OFF"))
	if err != nil {
		return fmt.Errorf("sample: generate: %w", err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sample: generate: %w", err)
	}
	defer conn.Close()
	// 64 MB of page cache: deps.md 7 measured twice the insert speed.
	if _, err := conn.ExecContext(ctx, `PRAGMA cache_size=-65536`); err != nil {
		return fmt.Errorf("sample: generate: %w", err)
	}
	if _, err := conn.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("sample: generate: schema: %w", err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sample: generate: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, insertVehicle)
	if err != nil {
		return fmt.Errorf("sample: generate: %w", err)
	}
	defer stmt.Close()
	// Each row runs without the caller's context: go-sqlite3 starts a
	// goroutine per statement for a cancellable context, which would double
	// the time. Cancellation is checked every few thousand rows instead.
	bg := context.Background()
	for i := range vs {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("sample: generate: %w", err)
			}
		}
		v := &vs[i]
		if _, err := stmt.ExecContext(bg, v.Nopol, v.Rangka5, v.Merk, v.Tipe, v.Jenis, v.Tahun, v.Warna, v.WarnaTNKB,
			string(v.Class), boolInt(v.Small), v.Pokok, v.TglAkhirPKB.String(), v.TglAkhirSTNK.String(), boolInt(v.Blokir)); err != nil {
			return fmt.Errorf("sample: generate: insert: %w", err)
		}
	}
	meta := p.meta()
	meta["count"] = strconv.Itoa(len(vs))
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	slices.Sort(keys) // same file for the same parameters
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)`, k, meta[k]); err != nil {
			return fmt.Errorf("sample: generate: meta: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sample: generate: commit: %w", err)
	}
	if err := conn.Close(); err != nil {
		return fmt.Errorf("sample: generate: %w", err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("sample: generate: %w", err)
	}
	return nil
}

// removeStaleTemps deletes temporary files of generations that crashed.
func removeStaleTemps(dir, base string) {
	names, _ := filepath.Glob(filepath.Join(dir, globEscape(base)+".tmp-*"))
	for _, n := range names {
		if fi, err := os.Stat(n); err == nil && time.Since(fi.ModTime()) > tempMaxAge {
			os.Remove(n)
		}
	}
}

// globEscape quotes the pattern characters of a file name.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// syncFile flushes a file or directory to disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// scanVehicle reads the vehicleColumns of one row.
func scanVehicle(r scanner, v *vehicle) error {
	var class, pkbDate, stnkDate string
	var small, blokir int
	if err := r.Scan(&v.Nopol, &v.Rangka5, &v.Merk, &v.Tipe, &v.Jenis, &v.Tahun, &v.Warna, &v.WarnaTNKB,
		&class, &small, &v.Pokok, &pkbDate, &stnkDate, &blokir); err != nil {
		return err
	}
	v.Class, v.Small, v.Blokir = pkb.Class(class), small != 0, blokir != 0
	var err error
	if v.TglAkhirPKB, err = pkb.ParseDate(pkbDate); err != nil {
		return err
	}
	if v.TglAkhirSTNK, err = pkb.ParseDate(stnkDate); err != nil {
		return err
	}
	return nil
}
