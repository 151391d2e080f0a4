package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/sync/natsauth"
)

// RestoreOptions says where Restore puts the streams and what it may
// replace.
type RestoreOptions struct {
	// NC, if set, is the NATS the streams are restored into: an external
	// cluster, reached with the hub's .creds there. Nil: the hub's
	// embedded server, whose store <data>/nats Restore fills itself by
	// running nats-server on it for the duration (in operator mode with
	// the restored trust material when the backup has it, like kioskhub),
	// with one replica per stream.
	NC *nats.Conn
	// Replicas of the streams restored through NC; 0 keeps the backed-up
	// count.
	Replicas int
	// Force replaces what exists instead of refusing: <data>/auth,
	// <data>/nats and <data>/hub.db are moved aside (renamed
	// NAME.before-restore-TIME), and with NC existing streams of the same
	// names are deleted. A running hub is never replaced.
	Force bool
}

// Restore restores the backup in backupDir for a hub with data directory
// dataDir: it verifies the backup (Verify), refuses before changing
// anything when a hub runs on dataDir or when something would be
// replaced without opts.Force, then restores the trust material into
// <data>/auth, the streams (see RestoreOptions.NC) and the projection
// into <data>/hub.db. Start kioskhub afterwards: it finds its keys, its
// streams with their messages and the fleet consumer's position, and the
// projection as of the backup (or rebuild it with `kioskhub rebuild`).
// Run it with the same --auth setting the backup was made with: the
// streams are restored into the account KIOSK when the backup has trust
// material, into the global account when it has none.
func Restore(ctx context.Context, backupDir, dataDir string, opts RestoreOptions) (Manifest, error) {
	if err := Verify(ctx, backupDir); err != nil {
		return Manifest{}, fmt.Errorf("backup: restore %s: %w", backupDir, err)
	}
	m, _, err := readManifest(backupDir)
	if err != nil {
		return Manifest{}, err
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return Manifest{}, fmt.Errorf("backup: restore: %w", err)
	}
	_, hasAuth := m.file(AuthFile)
	_, hasDB := m.file(DBFile)
	authDir := filepath.Join(dataDir, "auth")
	natsDir := filepath.Join(dataDir, "nats")
	dbPath := filepath.Join(dataDir, DBFile)

	// Everything that could refuse is checked before anything changes.
	if running, err := hubRunning(authDir); err != nil {
		return m, err
	} else if running {
		return m, fmt.Errorf("backup: restore: a kioskhub is running with data directory %s: stop it first", dataDir)
	}
	var aside []string // moved away with Force
	for _, c := range []struct {
		path string
		used bool
	}{{authDir, hasAuth}, {natsDir, opts.NC == nil && len(m.Streams) > 0}, {dbPath, hasDB}} {
		if !c.used {
			continue
		}
		if _, err := os.Lstat(c.path); err == nil {
			if !opts.Force {
				return m, fmt.Errorf("%w: %s (restore with Force to move it aside)", ErrExists, c.path)
			}
			aside = append(aside, c.path)
		}
	}
	var existing []string // streams on NC
	if opts.NC != nil {
		for _, s := range m.Streams {
			_, err := streamInfo(ctx, opts.NC, s.Name)
			var ae *apiError
			switch {
			case err == nil:
				if !opts.Force {
					return m, fmt.Errorf("%w: stream %s on the NATS given (restore with Force to delete it first)", ErrExists, s.Name)
				}
				existing = append(existing, s.Name)
			case errors.As(err, &ae) && ae.ErrCode == errCodeStreamNotFound:
			default:
				return m, fmt.Errorf("backup: restore: %w", err)
			}
		}
	}

	stamp := time.Now().UTC().Format(timeLayout)
	for _, p := range aside {
		if err := moveAside(p, stamp); err != nil {
			return m, err
		}
	}
	if hasAuth {
		if err := restoreAuth(filepath.Join(backupDir, AuthFile), authDir); err != nil {
			return m, err
		}
	}
	if len(m.Streams) > 0 {
		if opts.NC != nil {
			for _, name := range existing {
				if err := deleteStream(ctx, opts.NC, name); err != nil {
					return m, err
				}
			}
			err = restoreStreams(ctx, opts.NC, backupDir, m.Streams, opts.Replicas)
		} else {
			err = restoreEmbedded(ctx, backupDir, dataDir, hasAuth, m.Streams)
		}
		if err != nil {
			return m, err
		}
	}
	if hasDB {
		if err := copyFile(filepath.Join(backupDir, DBFile), dbPath); err != nil {
			return m, err
		}
	}
	return m, syncDir(dataDir)
}

// hubRunning reports whether a hub holds natsauth's "running" lock on the
// auth directory (natsauth.Auth.Running, without opening the material,
// which may be the damaged thing being restored).
func hubRunning(authDir string) (bool, error) {
	f, err := os.Open(filepath.Join(authDir, "running"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("backup: restore: %w", err)
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("backup: restore: %w", err)
	}
	return false, nil
}

// moveAside renames path (and a database's -wal and -shm) out of the
// way, keeping it for the operator.
func moveAside(path, stamp string) error {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		p := path + suffix
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		if err := os.Rename(p, path+".before-restore-"+stamp+suffix); err != nil {
			return fmt.Errorf("backup: restore: move %s aside: %w", p, err)
		}
	}
	return nil
}

// restoreAuth unpacks the archive next to dst and renames it into place.
func restoreAuth(archive, dst string) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dst), ".auth.restore-")
	if err != nil {
		return fmt.Errorf("backup: restore: %w", err)
	}
	if err := os.Chmod(tmp, 0o700); err == nil {
		err = extractAuth(archive, tmp)
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("backup: restore %s: %w", dst, err)
	}
	return nil
}

// restoreStreams restores every snapshot through nc and checks the
// result against the manifest.
func restoreStreams(ctx context.Context, nc *nats.Conn, dir string, streams []Stream, replicas int) error {
	for _, s := range streams {
		f, err := os.Open(filepath.Join(dir, s.File))
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		_, err = restoreStream(ctx, nc, s, f, replicas)
		f.Close()
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		info, err := streamInfo(ctx, nc, s.Name)
		if err != nil {
			return err
		}
		if info.State.Msgs != s.State.Msgs || info.State.LastSeq != s.State.LastSeq {
			return fmt.Errorf("backup: restore stream %s: %d messages up to sequence %d, the backup had %d up to %d",
				s.Name, info.State.Msgs, info.State.LastSeq, s.State.Msgs, s.State.LastSeq)
		}
	}
	return nil
}

func deleteStream(ctx context.Context, nc *nats.Conn, name string) error {
	var resp struct {
		Error   *apiError `json:"error"`
		Success bool      `json:"success"`
	}
	if err := request(ctx, nc, apiPrefix+"STREAM.DELETE."+name, nil, &resp); err != nil {
		return fmt.Errorf("backup: restore: delete stream %s: %w", name, err)
	}
	if resp.Error != nil {
		return fmt.Errorf("backup: restore: delete stream %s: %w", name, resp.Error)
	}
	return nil
}

// restoreEmbedded runs nats-server on <data>/nats as kioskhub runs it
// (server name, store, operator mode with the directory resolver in
// <data>/auth/jwt; see kiosk/hubserver auth.go) without a listener, and
// restores the streams through an in-process connection: as the hub's
// own user into the account KIOSK, or into the global account when the
// hub runs without operator mode.
func restoreEmbedded(ctx context.Context, backupDir, dataDir string, auth bool, streams []Stream) error {
	opts := &server.Options{
		ServerName: "kioskhub",
		DontListen: true,
		JetStream:  true,
		StoreDir:   filepath.Join(dataDir, "nats"),
		NoSigs:     true,
		NoLog:      true,
		MaxPayload: 1 << 20,
	}
	var copts []nats.Option
	if auth {
		a, err := natsauth.Open(filepath.Join(dataDir, "auth"))
		if err != nil {
			return fmt.Errorf("backup: restore: %w", err)
		}
		// A hub started meanwhile would create empty streams.
		release, err := a.LockRunning()
		if err != nil {
			return fmt.Errorf("backup: restore: %w", err)
		}
		defer release()
		if err := operatorMode(a, opts); err != nil {
			return err
		}
		copts = append(copts, nats.UserCredentials(a.HubCreds()))
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("backup: restore: nats server: %w", err)
	}
	go ns.Start()
	defer func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	}()
	if !ns.ReadyForConnections(10 * time.Second) {
		return errors.New("backup: restore: nats server not ready within 10s")
	}
	nc, err := nats.Connect("", append(copts, nats.InProcessServer(ns), nats.Name("kioskhub-restore"), nats.MaxReconnects(0))...)
	if err != nil {
		return fmt.Errorf("backup: restore: connect: %w", err)
	}
	defer nc.Close()
	return restoreStreams(ctx, nc, backupDir, streams, 1)
}

// operatorMode configures opts as kioskhub does for trust material a.
func operatorMode(a *natsauth.Auth, opts *server.Options) error {
	res, err := server.NewDirAccResolver(filepath.Join(a.Dir(), "jwt"), 0, 2*time.Minute, server.NoDelete)
	if err != nil {
		return fmt.Errorf("backup: restore: account resolver: %w", err)
	}
	sysPub, sysJWT := a.SystemAccount()
	accJWT, err := a.AccountJWT()
	if err != nil {
		res.Close()
		return fmt.Errorf("backup: restore: %w", err)
	}
	for pub, token := range map[string]string{sysPub: sysJWT, a.AccountPublicKey(): accJWT} {
		if err := res.Store(pub, token); err != nil {
			res.Close()
			return fmt.Errorf("backup: restore: account resolver: %w", err)
		}
	}
	opts.TrustedOperators = []*jwt.OperatorClaims{a.Operator()}
	opts.SystemAccount = sysPub
	opts.AccountResolver = res
	return nil
}

// copyFile copies src to dst (0600) through a temporary file renamed into
// place.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("backup: restore: %w", err)
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".restore-")
	if err != nil {
		return fmt.Errorf("backup: restore: %w", err)
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Chmod(0o600)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(out.Name(), dst)
	}
	if err != nil {
		os.Remove(out.Name())
		return fmt.Errorf("backup: restore %s: %w", dst, err)
	}
	return nil
}
