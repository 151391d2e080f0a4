package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/sync/natsauth"
)

// Verify checks the backup in dir as a restore would need it: every file
// against manifest.json and SHA256SUMS (size and sha256), the auth
// archive unpacked and loaded as trust material, PRAGMA integrity_check
// on the projection's copy, and every snapshot restored into a scratch
// nats-server (in the temporary directory, $TMPDIR, removed afterwards)
// with the message count and sequences of the manifest. A damaged file
// gives an error wrapping ErrCorrupt that names it.
func Verify(ctx context.Context, dir string) error {
	m, sums, err := readManifest(dir)
	if err != nil {
		return err
	}
	for _, f := range m.Files {
		if sums[f.Name] != f.SHA256 {
			return fmt.Errorf("%w: %s: %s and %s disagree about its sha256", ErrCorrupt, f.Name, ManifestFile, SumsFile)
		}
		got, err := hashFile(filepath.Join(dir, f.Name))
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrCorrupt, f.Name, err)
		}
		if got.Size != f.Size || got.SHA256 != f.SHA256 {
			return fmt.Errorf("%w: %s: %d bytes with sha256 %s, the manifest says %d bytes with sha256 %s",
				ErrCorrupt, f.Name, got.Size, got.SHA256, f.Size, f.SHA256)
		}
	}
	for _, s := range m.Streams {
		if _, ok := m.file(s.File); !ok {
			return fmt.Errorf("%w: %s: stream %s's snapshot %s is not among the files", ErrCorrupt, ManifestFile, s.Name, s.File)
		}
	}
	if _, ok := m.file(AuthFile); ok {
		if err := verifyAuth(filepath.Join(dir, AuthFile)); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrCorrupt, AuthFile, err)
		}
	}
	if _, ok := m.file(DBFile); ok {
		if err := verifyDB(ctx, filepath.Join(dir, DBFile)); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrCorrupt, DBFile, err)
		}
	}
	if len(m.Streams) > 0 {
		if err := verifyStreams(ctx, dir, m.Streams); err != nil {
			return err
		}
	}
	return nil
}

// verifyAuth unpacks the archive into a scratch directory and opens it
// as natsauth does at the hub's start: keys, JWTs and .creds must fit.
func verifyAuth(archive string) error {
	scratch, err := os.MkdirTemp("", "kioskhub-verify-auth-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	dir := filepath.Join(scratch, "auth")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	if err := extractAuth(archive, dir); err != nil {
		return err
	}
	_, err = natsauth.Open(dir)
	return err
}

// verifyDB runs SQLite's integrity check on the copy, opened read-only
// and immutable: nothing (no -wal, no -shm) is written into the backup.
func verifyDB(ctx context.Context, file string) error {
	q := url.Values{"mode": {"ro"}, "immutable": {"1"}}
	db, err := sql.Open("sqlite3", "file:"+file+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check(1)").Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return fmt.Errorf("integrity_check: %s", res)
	}
	return nil
}

// verifyStreams restores every snapshot into one scratch server and
// compares what it holds with the manifest.
func verifyStreams(ctx context.Context, dir string, streams []Stream) error {
	sc, err := startScratch()
	if err != nil {
		return err
	}
	defer sc.close()
	for _, s := range streams {
		f, err := os.Open(filepath.Join(dir, s.File))
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrCorrupt, s.File, err)
		}
		got, err := restoreStream(ctx, sc.nc, s, f, 1)
		f.Close()
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("backup: verify: %w", ctx.Err())
			}
			return fmt.Errorf("%w: %s: %w", ErrCorrupt, s.File, err)
		}
		// The restore reports the state it built; ask again as a client
		// of the restored stream would see it.
		info, err := streamInfo(ctx, sc.nc, s.Name)
		if err != nil {
			return fmt.Errorf("%w: %s: restored, but %w", ErrCorrupt, s.File, err)
		}
		got = info.State
		if got.Msgs != s.State.Msgs || got.LastSeq != s.State.LastSeq || (s.State.Msgs > 0 && got.FirstSeq != s.State.FirstSeq) {
			return fmt.Errorf("%w: %s: restored %d messages, sequences %d..%d; the manifest says %d, %d..%d",
				ErrCorrupt, s.File, got.Msgs, got.FirstSeq, got.LastSeq, s.State.Msgs, s.State.FirstSeq, s.State.LastSeq)
		}
	}
	return nil
}

// scratch is a throwaway nats-server with JetStream and no
// authentication on a random loopback port.
type scratch struct {
	dir string
	ns  *server.Server
	nc  *nats.Conn
}

func startScratch() (*scratch, error) {
	dir, err := os.MkdirTemp("", "kioskhub-verify-")
	if err != nil {
		return nil, fmt.Errorf("backup: scratch server: %w", err)
	}
	sc := &scratch{dir: dir}
	ns, err := server.NewServer(&server.Options{
		ServerName: "kioskhub-verify",
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		JetStream:  true,
		StoreDir:   dir,
		NoLog:      true,
		NoSigs:     true,
		MaxPayload: 1 << 20,
	})
	if err != nil {
		sc.close()
		return nil, fmt.Errorf("backup: scratch server: %w", err)
	}
	sc.ns = ns
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		sc.close()
		return nil, errors.New("backup: scratch server not ready within 10s")
	}
	sc.nc, err = nats.Connect(ns.ClientURL(), nats.Name("kioskhub-verify"), nats.MaxReconnects(0))
	if err != nil {
		sc.close()
		return nil, fmt.Errorf("backup: scratch server: %w", err)
	}
	return sc, nil
}

func (sc *scratch) close() {
	if sc.nc != nil {
		sc.nc.Close()
	}
	if sc.ns != nil {
		sc.ns.Shutdown()
		sc.ns.WaitForShutdown()
	}
	os.RemoveAll(sc.dir)
}
