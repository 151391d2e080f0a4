package backup

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sumbar-samsat/pkbkiosk/sync/natsauth"
)

// TestMain fails the run when goroutines outlive the tests: every
// server, connection and subscription must be shut down.
func TestMain(m *testing.M) {
	before := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			fmt.Fprintf(os.Stderr, "goroutine leak: %d before the tests, %d after:\n%s\n", before, n, buf[:runtime.Stack(buf, true)])
			code = 1
		}
	}
	os.Exit(code)
}

// hub is a data directory as kioskhub keeps it: trust material in
// <data>/auth, nats-server in operator mode on <data>/nats, the hub's
// connection as its own user, and a projection in <data>/hub.db.
type hub struct {
	data string
	auth *natsauth.Auth
	ns   *server.Server
	nc   *nats.Conn
	js   jetstream.JetStream
	db   *sql.DB
}

// startHub runs nats-server on data like kioskhub: operator mode when
// data has (or gets) trust material, or without authentication.
func startHub(t testing.TB, data string, operator bool) *hub {
	t.Helper()
	h := &hub{data: data}
	opts := &server.Options{
		ServerName: "kioskhub", Host: "127.0.0.1", Port: server.RANDOM_PORT,
		JetStream: true, StoreDir: filepath.Join(data, "nats"),
		NoLog: true, NoSigs: true, MaxPayload: 1 << 20,
	}
	var copts []nats.Option
	if operator {
		var err error
		if h.auth, err = natsauth.Open(filepath.Join(data, "auth")); err != nil {
			t.Fatal(err)
		}
		release, err := h.auth.LockRunning() // as kioskhub does
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(release)
		if err := operatorMode(h.auth, opts); err != nil {
			t.Fatal(err)
		}
		copts = append(copts, nats.UserCredentials(h.auth.HubCreds()))
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	h.ns = ns
	h.nc, err = nats.Connect(ns.ClientURL(), append(copts, nats.MaxReconnects(0))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.nc.Close)
	if h.js, err = jetstream.New(h.nc); err != nil {
		t.Fatal(err)
	}
	return h
}

// streams creates the hub's streams and its fleet consumer (as
// sync/hub.EnsureStreams does).
func (h *hub) streams(t testing.TB) {
	t.Helper()
	ctx := t.Context()
	for _, s := range []jetstream.StreamConfig{
		{Name: "KIOSK_EVENTS", Subjects: []string{"kiosk.*.evt.>"}, Storage: jetstream.FileStorage, MaxAge: 90 * 24 * time.Hour, Duplicates: 2 * time.Minute},
		{Name: "HUB_EVENTS", Subjects: []string{"hub.evt.>"}, Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute},
	} {
		if _, err := h.js.CreateOrUpdateStream(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.js.CreateOrUpdateConsumer(ctx, "KIOSK_EVENTS", jetstream.ConsumerConfig{
		Durable: "fleet", AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
	}); err != nil {
		t.Fatal(err)
	}
}

// publish adds n events to KIOSK_EVENTS (from 7 kiosks) and n/5 to
// HUB_EVENTS, with headers, and acknowledges the first n/2 through the
// fleet consumer.
func (h *hub) publish(t testing.TB, n int) {
	t.Helper()
	ctx := t.Context()
	var futs []jetstream.PubAckFuture
	for i := range n {
		m := nats.NewMsg(fmt.Sprintf("kiosk.padang-%02d.evt.job.printed", i%7))
		m.Header.Set("Nats-Msg-Id", fmt.Sprintf("evt-%d", i))
		m.Header.Set("Kiosk-Epoch", "e1")
		m.Data = fmt.Appendf(nil, `{"seq":%d,"plate":"BA %04d XY","note":"%s"}`, i, i, strings.Repeat("x", i%200))
		f, err := h.js.PublishMsgAsync(m)
		if err != nil {
			t.Fatal(err)
		}
		futs = append(futs, f)
		if i%5 == 0 {
			hm := nats.NewMsg("hub.evt.incident.opened")
			hm.Header.Set("Nats-Msg-Id", fmt.Sprintf("hub-%d", i))
			hm.Data = fmt.Appendf(nil, `{"incident":%d}`, i)
			if f, err = h.js.PublishMsgAsync(hm); err != nil {
				t.Fatal(err)
			}
			futs = append(futs, f)
		}
	}
	select {
	case <-h.js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatal("publishing timed out")
	}
	for _, f := range futs {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			t.Fatal(err)
		}
	}
	c, err := h.js.Consumer(ctx, "KIOSK_EVENTS", "fleet")
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.Fetch(n/2, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// projection creates <data>/hub.db as the hub keeps it (WAL, one writer
// connection) with rows rows.
func (h *hub) projection(t testing.TB, rows int) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(h.data, "hub.db")+"?_journal_mode=WAL&_txlock=immediate&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE events(id INTEGER PRIMARY KEY, kiosk TEXT, body TEXT)`); err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if _, err := db.Exec(`INSERT INTO events(kiosk, body) VALUES (?, ?)`, fmt.Sprintf("padang-%02d", i%7), strings.Repeat("b", i%300)); err != nil {
			t.Fatal(err)
		}
	}
	h.db = db
}

// config is the backup configuration of h into target.
func (h *hub) config(target string) Config {
	return Config{Dir: target, NC: h.nc, AuthDir: filepath.Join(h.data, "auth"), DB: h.db, Version: "1.2.3-test"}
}

// newHub is a hub in operator mode with streams, n events and a
// projection.
func newHub(t testing.TB, n int) *hub {
	t.Helper()
	h := startHub(t, t.TempDir(), true)
	h.streams(t)
	h.publish(t, n)
	h.projection(t, 500)
	// A credential issued and one revoked: users.json and a changed
	// account JWT in the backup.
	if _, _, err := h.auth.IssueKiosk("padang-01", "padang", false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.auth.IssueKiosk("padang-02", "padang", false); err != nil {
		t.Fatal(err)
	}
	if _, err := h.auth.Revoke("padang-02"); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestBackupVerifyRestore(t *testing.T) {
	h := newHub(t, 3000)
	target := filepath.Join(t.TempDir(), "backups")

	// The hub keeps writing while the backup runs: the snapshot and the
	// copy must still be consistent.
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			h.js.Publish(ctx, "hub.evt.alert.sent", fmt.Appendf(nil, `{"during":%d}`, i))
			h.db.ExecContext(ctx, `INSERT INTO events(kiosk, body) VALUES ('solok-01', 'during')`)
		}
	})
	start := time.Now()
	m, err := Run(t.Context(), h.config(target))
	took := time.Since(start)
	stop()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, f := range m.Files {
		size += f.Size
	}
	t.Logf("backup of %d+%d messages: %v (writing %s), %d bytes in %d files", m.Streams[0].State.Msgs, m.Streams[1].State.Msgs, took, m.Took, size, len(m.Files))

	if filepath.Dir(m.Dir) != target || !backupName.MatchString(filepath.Base(m.Dir)) {
		t.Errorf("backup in %s", m.Dir)
	}
	var names []string
	for _, f := range m.Files {
		names = append(names, f.Name)
	}
	if want := []string{AuthFile, "KIOSK_EVENTS.snapshot", "HUB_EVENTS.snapshot", DBFile}; !slices.Equal(names, want) {
		t.Errorf("files %q, want %q", names, want)
	}
	if s := m.Streams[0]; s.Name != "KIOSK_EVENTS" || s.State.Msgs != 3000 || s.State.FirstSeq != 1 || s.State.LastSeq != 3000 || s.State.Consumers != 1 {
		t.Errorf("KIOSK_EVENTS in the manifest: %+v", s.State)
	}
	if m.Version != "1.2.3-test" || m.Created.IsZero() {
		t.Errorf("manifest version %q, created %v", m.Version, m.Created)
	}
	err = filepath.WalkDir(m.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, _ := d.Info()
		if want := fs.FileMode(0o600); d.IsDir() {
			if info.Mode().Perm() != 0o700 {
				t.Errorf("%s: mode %v, want 0700", p, info.Mode().Perm())
			}
		} else if info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, info.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(t.Context(), m.Dir); err != nil {
		t.Errorf("Verify of a fresh backup: %v", err)
	}
	lm, at, err := Latest(target)
	if err != nil || !at.Equal(m.Created) || lm.Dir != m.Dir {
		t.Errorf("Latest = %s, %v, %v; want %s at %v", lm.Dir, at, err, m.Dir, m.Created)
	}

	// Restore onto a new machine: kioskhub's embedded server.
	data := filepath.Join(t.TempDir(), "data")
	rm, err := Restore(t.Context(), m.Dir, data, RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rm.Dir != m.Dir {
		t.Errorf("Restore returned the manifest of %s", rm.Dir)
	}
	for _, f := range []string{"auth/operator.nk", "auth/account.jwt", "auth/users.json", "auth/hub.creds", "hub.db", "nats/jetstream"} {
		if _, err := os.Stat(filepath.Join(data, f)); err != nil {
			t.Errorf("restored %s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "auth", "running")); err == nil {
		// Created by the restore's own lock; must not be held.
		if running, _ := hubRunning(filepath.Join(data, "auth")); running {
			t.Error("the restore left the running lock held")
		}
	}
	r := startHub(t, data, true)
	if r.auth.AccountPublicKey() != h.auth.AccountPublicKey() || r.auth.Operator().Subject != h.auth.Operator().Subject {
		t.Error("restored trust material has other keys")
	}
	users, err := r.auth.Users()
	if err != nil || len(users) != 2 || users[1].Valid() {
		t.Errorf("restored users %+v, %v", users, err)
	}
	for _, s := range m.Streams {
		sameMessages(t, h.js, r.js, s.Name, s.State.LastSeq)
	}
	c, err := r.js.Consumer(t.Context(), "KIOSK_EVENTS", "fleet")
	if err != nil {
		t.Fatalf("fleet consumer not restored: %v", err)
	}
	if got := c.CachedInfo().AckFloor.Stream; got != 1500 {
		t.Errorf("restored fleet consumer acknowledged up to %d, want 1500", got)
	}
	rdb, err := sql.Open("sqlite3", "file:"+filepath.Join(data, "hub.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	var rows int
	if err := rdb.QueryRow("SELECT COUNT(*) FROM events WHERE kiosk LIKE 'padang-%'").Scan(&rows); err != nil || rows != 500 {
		t.Errorf("restored projection: %d rows, %v; want 500", rows, err)
	}

	// Again onto the same data directory: refused, nothing changed,
	// unless forced; never while a hub runs there.
	if _, err := Restore(t.Context(), m.Dir, data, RestoreOptions{Force: true}); err == nil || !strings.Contains(err.Error(), "running") {
		t.Errorf("restore while the hub runs: %v", err)
	}
}

// sameMessages compares every message up to last of stream in two
// servers: subject, data and headers.
func sameMessages(t *testing.T, a, b jetstream.JetStream, stream string, last uint64) {
	t.Helper()
	ctx := t.Context()
	sa, err := a.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("restored stream %s: %v", stream, err)
	}
	if got := sb.CachedInfo().State.LastSeq; got != last {
		t.Errorf("restored %s ends at %d, want %d", stream, got, last)
	}
	for seq := uint64(1); seq <= last; seq++ {
		ma, err := sa.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("%s #%d in the original: %v", stream, seq, err)
		}
		mb, err := sb.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("%s #%d restored: %v", stream, seq, err)
		}
		if ma.Subject != mb.Subject || !bytes.Equal(ma.Data, mb.Data) || fmt.Sprint(ma.Header) != fmt.Sprint(mb.Header) || !ma.Time.Equal(mb.Time) {
			t.Fatalf("%s #%d differs:\n original %s %q %v %v\n restored %s %q %v %v", stream, seq,
				ma.Subject, ma.Data, ma.Header, ma.Time, mb.Subject, mb.Data, mb.Header, mb.Time)
		}
	}
}

// TestRestoreToConnection restores the streams into another NATS (an
// external cluster's path) and refuses to replace a stream without
// Force.
func TestRestoreToConnection(t *testing.T) {
	h := newHub(t, 200)
	m, err := Run(t.Context(), h.config(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	other := startHub(t, t.TempDir(), false) // no auth: the global account
	data := t.TempDir()
	if _, err := Restore(t.Context(), m.Dir, data, RestoreOptions{NC: other.nc, Replicas: 1}); err != nil {
		t.Fatal(err)
	}
	for _, s := range m.Streams {
		sameMessages(t, h.js, other.js, s.Name, s.State.LastSeq)
	}
	if _, err := os.Stat(filepath.Join(data, "nats")); err == nil {
		t.Error("restoring through a connection wrote <data>/nats")
	}
	// Again: the auth directory, the database and the streams exist.
	_, err = Restore(t.Context(), m.Dir, data, RestoreOptions{NC: other.nc})
	if !errors.Is(err, ErrExists) {
		t.Fatalf("restore over an existing one: %v, want ErrExists", err)
	}
	os.RemoveAll(filepath.Join(data, "auth"))
	os.Remove(filepath.Join(data, "hub.db"))
	if _, err := Restore(t.Context(), m.Dir, data, RestoreOptions{NC: other.nc}); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "stream") {
		t.Fatalf("restore over existing streams: %v, want ErrExists naming a stream", err)
	}
	if _, err := os.Stat(filepath.Join(data, "auth")); err == nil {
		t.Error("a refused restore wrote the auth directory")
	}
	// Forced: the streams are replaced, the old directory moved aside.
	if _, err := other.js.Publish(t.Context(), "hub.evt.extra", []byte("not in the backup")); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(t.Context(), m.Dir, data, RestoreOptions{NC: other.nc, Force: true}); err != nil {
		t.Fatal(err)
	}
	for _, s := range m.Streams {
		sameMessages(t, h.js, other.js, s.Name, s.State.LastSeq)
	}
}

// TestRestoreForceMovesAside restores over a data directory with the
// embedded server's store: without Force refused, with Force the old
// files are kept under another name.
func TestRestoreForceMovesAside(t *testing.T) {
	h := newHub(t, 100)
	m, err := Run(t.Context(), h.config(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	if _, err := Restore(t.Context(), m.Dir, data, RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(t.Context(), m.Dir, data, RestoreOptions{}); !errors.Is(err, ErrExists) {
		t.Fatalf("second restore: %v, want ErrExists", err)
	}
	if _, err := Restore(t.Context(), m.Dir, data, RestoreOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(data)
	var aside []string
	for _, e := range ents {
		if strings.Contains(e.Name(), ".before-restore-") {
			aside = append(aside, strings.Split(e.Name(), ".before-restore-")[0])
		}
	}
	slices.Sort(aside)
	if want := []string{"auth", "hub.db", "nats"}; !slices.Equal(aside, want) {
		t.Errorf("moved aside %q, want %q", aside, want)
	}
	r := startHub(t, data, true)
	sameMessages(t, h.js, r.js, "KIOSK_EVENTS", m.Streams[0].State.LastSeq)
}

// copyDir copies a backup for a test to damage.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func flipByte(t *testing.T, path string, at float64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[int(float64(len(b)-1)*at)] ^= 0x40
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()/2); err != nil {
		t.Fatal(err)
	}
}

// rehash makes manifest.json and SHA256SUMS match the files again, as if
// the damage had happened before the backup was written: only the deep
// checks can find it then.
func rehash(t *testing.T, dir string) {
	t.Helper()
	m, _, err := readManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range m.Files {
		if m.Files[i], err = hashFile(filepath.Join(dir, f.Name)); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(filepath.Join(dir, ManifestFile))
	os.Remove(filepath.Join(dir, SumsFile))
	if err := writeManifest(dir, &m); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyCorrupt(t *testing.T) {
	h := newHub(t, 1000)
	m, err := Run(t.Context(), h.config(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		file   string
		damage func(t *testing.T, path string)
		deep   bool // rehash: found by unpacking, integrity_check or restore
	}{
		{"flipped auth", AuthFile, func(t *testing.T, p string) { flipByte(t, p, 0.5) }, false},
		{"truncated auth", AuthFile, truncate, false},
		{"flipped snapshot", "KIOSK_EVENTS.snapshot", func(t *testing.T, p string) { flipByte(t, p, 0.3) }, false},
		{"truncated snapshot", "HUB_EVENTS.snapshot", truncate, false},
		{"flipped db", DBFile, func(t *testing.T, p string) { flipByte(t, p, 0.7) }, false},
		{"truncated db", DBFile, truncate, false},
		{"flipped manifest", ManifestFile, func(t *testing.T, p string) { flipByte(t, p, 0.5) }, false},
		{"truncated manifest", ManifestFile, truncate, false},
		{"missing snapshot", "KIOSK_EVENTS.snapshot", func(t *testing.T, p string) { os.Remove(p) }, false},
		{"flipped sums", SumsFile, func(t *testing.T, p string) { flipByte(t, p, 0.0) }, false},
		{"rehashed flipped snapshot", "KIOSK_EVENTS.snapshot", func(t *testing.T, p string) { flipByte(t, p, 0.5) }, true},
		{"rehashed truncated snapshot", "KIOSK_EVENTS.snapshot", truncate, true},
		{"rehashed truncated auth", AuthFile, truncate, true},
		{"rehashed truncated db", DBFile, truncate, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyDir(t, m.Dir)
			tt.damage(t, filepath.Join(dir, tt.file))
			if tt.deep {
				rehash(t, dir)
			}
			err := Verify(t.Context(), dir)
			t.Log(err)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tt.file) {
				t.Errorf("Verify: %v; want ErrCorrupt naming %s", err, tt.file)
			}
			if _, err := Restore(t.Context(), dir, t.TempDir(), RestoreOptions{}); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Restore of a damaged backup: %v, want ErrCorrupt", err)
			}
		})
	}
	if err := Verify(t.Context(), m.Dir); err != nil {
		t.Errorf("the original after the tests: %v", err)
	}
}

func TestNoSpace(t *testing.T) {
	h := newHub(t, 100)
	target := filepath.Join(t.TempDir(), "backups")
	cfg := h.config(target)
	cfg.MinFree = 1 << 62 // more than any disk has
	_, err := Run(t.Context(), cfg)
	if !errors.Is(err, ErrNoSpace) || !strings.Contains(err.Error(), "free") || !strings.Contains(err.Error(), "needs") {
		t.Fatalf("Run: %v; want ErrNoSpace saying what is free and what is needed", err)
	}
	if _, err := os.Stat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a backup short of space wrote its target: %v", err)
	}
	if _, _, err := Latest(target); !errors.Is(err, ErrNone) {
		t.Errorf("Latest after a failed backup: %v, want ErrNone", err)
	}
}

// TestNoSpaceTmpfs fills a real small file system: the estimate of the
// streams alone is more than it has. It needs to mount a tmpfs (root in
// a container that allows it), and is skipped otherwise.
func TestNoSpaceTmpfs(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })
	h := startHub(t, t.TempDir(), false)
	h.streams(t)
	h.publish(t, 6000) // about 2 MiB
	cfg := Config{Dir: filepath.Join(dir, "backups"), NC: h.nc, MinFree: -1}
	_, err := Run(t.Context(), cfg)
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("Run onto a 1 MiB tmpfs: %v, want ErrNoSpace", err)
	}
	t.Log(err)
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("wrote %v", ents)
	}
}

func TestRetention(t *testing.T) {
	h := startHub(t, t.TempDir(), false)
	h.streams(t)
	h.publish(t, 20)
	target := t.TempDir()
	// An unfinished backup of a crash two days ago, one being written
	// now by another process, and a directory of the operator's.
	for _, d := range []string{partialPre + "old", partialPre + "new", "notes"} {
		if err := os.Mkdir(filepath.Join(target, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(filepath.Join(target, partialPre+"old"), old, old)

	now := time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC)
	cfg := Config{Dir: target, NC: h.nc, Keep: 3, Now: func() time.Time { return now }}
	var made []string
	for i := range 5 {
		m, err := Run(t.Context(), cfg)
		if err != nil {
			t.Fatalf("backup %d: %v", i, err)
		}
		made = append(made, filepath.Base(m.Dir))
		if i == 1 {
			// Same second again: another name.
			m, err := Run(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if want := made[1] + "-2"; filepath.Base(m.Dir) != want {
				t.Errorf("second backup in the same second: %s, want %s", filepath.Base(m.Dir), want)
			}
			made = append(made, filepath.Base(m.Dir))
		}
		now = now.Add(24 * time.Hour)
	}
	names, err := complete(target)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(made)
	if want := made[:3]; !slices.Equal(names, want) {
		t.Errorf("kept %q, want the newest three %q", names, want)
	}
	for _, d := range []struct {
		name string
		want bool
	}{{partialPre + "old", false}, {partialPre + "new", true}, {"notes", true}} {
		if _, err := os.Stat(filepath.Join(target, d.name)); (err == nil) != d.want {
			t.Errorf("%s exists: %v, want %v", d.name, err == nil, d.want)
		}
	}
	// The clock went back: the new backup sorts oldest, and is kept.
	now = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	m, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(m.Dir); err != nil {
		t.Errorf("the backup just written was pruned: %v", err)
	}
	if names, _ := complete(target); len(names) != 3 {
		t.Errorf("after a backup with the clock back: %q", names)
	}
}

func TestLatest(t *testing.T) {
	target := t.TempDir()
	if _, _, err := Latest(target); !errors.Is(err, ErrNone) {
		t.Errorf("Latest of an empty target: %v, want ErrNone", err)
	}
	if _, _, err := Latest(filepath.Join(target, "missing")); !errors.Is(err, ErrNone) {
		t.Errorf("Latest of a missing target: %v, want ErrNone", err)
	}
	h := startHub(t, t.TempDir(), false)
	h.streams(t)
	h.publish(t, 10)
	now := time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC)
	cfg := Config{Dir: target, NC: h.nc, Now: func() time.Time { return now }}
	first, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	second, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, at, err := Latest(target)
	if err != nil || !at.Equal(now) || m.Dir != second.Dir || len(m.Streams) != 2 {
		t.Errorf("Latest = %s %v %v; want %s at %v", m.Dir, at, err, second.Dir, now)
	}
	// A damaged newest manifest: the one before is the last good one.
	flipByte(t, filepath.Join(second.Dir, ManifestFile), 0.5)
	m, at, err = Latest(target)
	if err != nil || m.Dir != first.Dir || !at.Equal(first.Created) {
		t.Errorf("Latest with the newest damaged = %s %v %v; want %s", m.Dir, at, err, first.Dir)
	}
	// An unfinished one is not a backup.
	os.Mkdir(filepath.Join(target, partialPre+"x"), 0o700)
	os.RemoveAll(first.Dir)
	os.RemoveAll(second.Dir)
	if _, _, err := Latest(target); !errors.Is(err, ErrNone) {
		t.Errorf("Latest with only a partial one: %v, want ErrNone", err)
	}
}

// TestDBPath backs up the projection by file name while a writer holds
// it, and a hub without operator mode (no auth directory).
func TestDBPath(t *testing.T) {
	h := startHub(t, t.TempDir(), false)
	h.streams(t)
	h.publish(t, 10)
	h.projection(t, 50)
	m, err := Run(t.Context(), Config{Dir: t.TempDir(), NC: h.nc, DBPath: filepath.Join(h.data, "hub.db")})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.file(AuthFile); ok {
		t.Error("auth archive without an auth directory")
	}
	if _, ok := m.file(DBFile); !ok {
		t.Error("no projection in the backup")
	}
	data := t.TempDir()
	if _, err := Restore(t.Context(), m.Dir, data, RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	r := startHub(t, data, false)
	sameMessages(t, h.js, r.js, "KIOSK_EVENTS", m.Streams[0].State.LastSeq)
}

func TestRunErrors(t *testing.T) {
	h := startHub(t, t.TempDir(), false)
	// No streams on the server.
	_, err := Run(t.Context(), Config{Dir: t.TempDir(), NC: h.nc})
	if err == nil || !strings.Contains(err.Error(), "KIOSK_EVENTS") {
		t.Errorf("Run without the streams: %v", err)
	}
	if _, err := Run(t.Context(), Config{NC: h.nc}); err == nil {
		t.Error("Run without a target succeeded")
	}
	if _, err := Run(t.Context(), Config{Dir: t.TempDir()}); err == nil {
		t.Error("Run without a connection succeeded")
	}
}

// BenchmarkRun measures a whole backup (snapshot, copy, verification by
// restore) of a hub with 100,000 kiosk events and 20,000 hub events; it
// reports the backup's size, the streams' size in the server and the
// time spent writing (the rest of ns/op is verification).
func BenchmarkRun(b *testing.B) {
	h := newHub(b, 100_000)
	b.ResetTimer()
	var size, raw int64
	var writing time.Duration
	for b.Loop() {
		m, err := Run(b.Context(), Config{Dir: b.TempDir(), NC: h.nc, AuthDir: filepath.Join(h.data, "auth"), DB: h.db})
		if err != nil {
			b.Fatal(err)
		}
		size, raw = 0, 0
		for _, f := range m.Files {
			size += f.Size
		}
		for _, s := range m.Streams {
			raw += int64(s.State.Bytes)
		}
		writing, _ = time.ParseDuration(m.Took)
	}
	b.ReportMetric(float64(size), "bytes/backup")
	b.ReportMetric(float64(raw), "stream-bytes")
	b.ReportMetric(float64(writing.Milliseconds()), "ms-writing")
}
