package outbox

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "kiosk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenMigratesAndKeepsEpoch(t *testing.T) {
	file := filepath.Join(t.TempDir(), "kiosk.db")
	s, err := Open(t.Context(), file)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := s.Epoch(t.Context())
	if err != nil || len(ep) != 16 {
		t.Fatalf("Epoch() = %q, %v; want 16 hex chars", ep, err)
	}
	var v int
	if err := s.w.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != SchemaVersion() {
		t.Errorf("user_version = %d, %v; want %d", v, err, SchemaVersion())
	}
	var mode string
	if err := s.w.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var sync int
	if err := s.w.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		t.Errorf("synchronous = %d, %v; want 2 (FULL)", sync, err)
	}
	s.Close()

	s2, err := Open(t.Context(), file)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ep2, _ := s2.Epoch(t.Context())
	if ep2 != ep {
		t.Errorf("epoch after reopen = %q, want %q (same store, same epoch)", ep2, ep)
	}
	other := openTemp(t)
	if ep3, _ := other.Epoch(t.Context()); ep3 == ep {
		t.Errorf("two new stores share epoch %q", ep)
	}
}

func TestNewerSchemaLeftUntouched(t *testing.T) {
	file := filepath.Join(t.TempDir(), "kiosk.db")
	s, err := Open(t.Context(), file)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite3", file)
	if err != nil {
		t.Fatal(err)
	}
	// Leave the database in rollback-journal mode so that any write by a
	// later Open (even switching to WAL) would change the file.
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d; PRAGMA journal_mode = DELETE", SchemaVersion()+5)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(t.Context(), file)
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open(newer) = %v, want ErrNewerSchema", err)
	}
	after, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("Open changed a database written by a newer version")
	}
	if _, err := os.Stat(file + "-wal"); err == nil {
		t.Error("Open created a WAL file beside a newer database")
	}
}

func TestForeignDatabaseRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite3", file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA application_id = 42; CREATE TABLE x(a)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(t.Context(), file); !errors.Is(err, ErrForeign) {
		t.Errorf("Open(foreign) = %v, want ErrForeign", err)
	}
}

func TestGarbageFileIsAnError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "kiosk.db")
	if err := os.WriteFile(file, bytes.Repeat([]byte("not sqlite "), 100), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), file); err == nil {
		t.Error("Open(garbage) succeeded")
	}
}

func TestState(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	if _, err := s.State(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("State(missing) err = %v, want ErrNotFound", err)
	}
	for _, v := range []string{"a", "b"} {
		if err := s.SetState(ctx, "k", v); err != nil {
			t.Fatal(err)
		}
		if got, err := s.State(ctx, "k"); err != nil || got != v {
			t.Errorf("State(k) = %q, %v; want %q", got, err, v)
		}
	}
}

func TestCachePutGetEvict(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	t0 := time.UnixMilli(1_700_000_000_000)
	if _, err := s.CacheGet(ctx, []byte("k0")); !errors.Is(err, ErrNotFound) {
		t.Errorf("CacheGet(missing) err = %v, want ErrNotFound", err)
	}
	for i := range 5 {
		e := CacheEntry{Key: fmt.Appendf(nil, "k%d", i), Result: fmt.Appendf(nil, `{"n":%d}`, i), FetchedAt: t0.Add(time.Duration(i) * time.Minute)}
		if err := s.CachePut(ctx, e, 3); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.CacheLen(ctx); n != 3 {
		t.Errorf("CacheLen = %d, want 3 (bounded)", n)
	}
	for i, want := range []bool{false, false, true, true, true} {
		_, err := s.CacheGet(ctx, fmt.Appendf(nil, "k%d", i))
		if got := err == nil; got != want {
			t.Errorf("k%d present = %v, want %v (oldest evicted first)", i, got, want)
		}
	}
	// Replacing keeps one row and the new value.
	e := CacheEntry{Key: []byte("k4"), Result: []byte(`{"n":"new"}`), FetchedAt: t0.Add(time.Hour)}
	if err := s.CachePut(ctx, e, 3); err != nil {
		t.Fatal(err)
	}
	got, err := s.CacheGet(ctx, []byte("k4"))
	if err != nil || string(got.Result) != `{"n":"new"}` || !got.FetchedAt.Equal(e.FetchedAt) {
		t.Errorf("CacheGet(k4) = %s %v, %v; want new value", got.Result, got.FetchedAt, err)
	}
}

func TestReadWhileWriteTxOpen(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	if err := s.SetState(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("UPDATE state SET value = 'w' WHERE key = 'k'"); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	// With the write lock held, the read pool still answers (WAL + no
	// _txlock on the read pool) and sees the last committed value.
	if got, err := s.State(rctx, "k"); err != nil || got != "v" {
		t.Errorf("State during write tx = %q, %v; want committed %q", got, err, "v")
	}
}

func BenchmarkCacheGet(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "kiosk.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	e := CacheEntry{Key: []byte("key"), Result: bytes.Repeat([]byte("x"), 800), FetchedAt: time.Now()}
	if err := s.CachePut(b.Context(), e, 0); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.CacheGet(b.Context(), e.Key); err != nil {
			b.Fatal(err)
		}
	}
}

func TestContent(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	if _, err := s.ContentGet(ctx); !errors.Is(err, ErrNotFound) {
		t.Errorf("ContentGet on a new store = %v, want ErrNotFound", err)
	}
	at := time.UnixMilli(1_700_000_000_000)
	for _, v := range []int{1, 3, 2} { // the hub is authoritative: any version replaces
		if err := s.ContentPut(ctx, Content{Version: v, Bundle: fmt.Appendf(nil, `{"version":%d}`, v), ReceivedAt: at}); err != nil {
			t.Fatal(err)
		}
		c, err := s.ContentGet(ctx)
		if err != nil || c.Version != v || string(c.Bundle) != fmt.Sprintf(`{"version":%d}`, v) || !c.ReceivedAt.Equal(at) {
			t.Errorf("ContentGet = %+v, %v; want version %d", c, err, v)
		}
	}
}

func TestJobs(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	at := time.UnixMilli(1_700_000_000_000)
	for i, st := range []string{"queued", "printing", "done", "failed", "quarantined"} {
		if err := s.JobPut(ctx, Job{ID: fmt.Sprint("j", i), State: st, CreatedAt: at.Add(time.Duration(i) * time.Second), UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.JobsFailUnfinished(ctx, "interrupted", at.Add(time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("JobsFailUnfinished = %d, %v; want 2 (queued and printing)", n, err)
	}
	for i, want := range []string{"failed", "failed", "done", "failed", "quarantined"} {
		j, err := s.JobGet(ctx, fmt.Sprint("j", i))
		if err != nil || j.State != want {
			t.Errorf("job j%d = %+v, %v; want %s", i, j, err, want)
		}
		if i < 2 && j.Reason != "interrupted" {
			t.Errorf("job j%d reason = %q, want interrupted", i, j.Reason)
		}
	}
	if err := s.JobsPrune(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.JobGet(ctx, "j0"); !errors.Is(err, ErrNotFound) {
		t.Errorf("oldest job after prune: %v, want ErrNotFound", err)
	}
	if _, err := s.JobGet(ctx, "j4"); err != nil {
		t.Errorf("newest job after prune: %v", err)
	}
}
