// Package backup writes, verifies, prunes and restores the hub's backups
// (DESIGN 7 "Backups"): what cannot be rebuilt, the NATS trust material
// (<data>/auth) and JetStream snapshots of the event streams, and, as a
// convenience, a consistent copy of the SQLite projection (hub.db).
//
// # Concepts
//
// A backup is one directory under the target, named by its UTC time
// (20260105T020000Z). It is written under a temporary name
// (.partial-…), verified, and only then renamed: a directory with a
// time as its name is complete and was verified when it was written.
//
//	20260105T020000Z/
//	  auth.tar.gz            <data>/auth: keys, JWTs, .creds, users.json (gzip'd tar, 0600)
//	  KIOSK_EVENTS.snapshot  JetStream snapshot, as the server streams it (S2)
//	  HUB_EVENTS.snapshot
//	  hub.db                 the projection, by VACUUM INTO
//	  manifest.json          files with size and sha256, stream config and state, time, version
//	  SHA256SUMS             sha256 of every file above, `sha256sum -c` format
//
// Snapshots are taken with the JetStream API ($JS.API.STREAM.SNAPSHOT),
// so the same code backs up the embedded server and an external cluster;
// verification restores them ($JS.API.STREAM.RESTORE) into a scratch
// nats-server and compares the message count and sequences. See
// snapshot.go for the protocol.
//
// Free space is checked before anything is written: the estimate (stream
// bytes, database size, auth directory) times 1.2 plus a reserve.
package backup

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	_ "github.com/mattn/go-sqlite3" // VACUUM INTO, integrity_check
	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
)

// Defaults of Config.
const (
	DefaultKeep    = 7
	DefaultMinFree = 256 << 20
)

// DefaultStreams are the hub's streams (sync/hub EventsStream and
// HubStream; named here so that backup does not depend on the hub's
// projection code).
var DefaultStreams = []string{"KIOSK_EVENTS", "HUB_EVENTS"}

// File names inside a backup.
const (
	AuthFile     = "auth.tar.gz"
	DBFile       = "hub.db"
	ManifestFile = "manifest.json"
	SumsFile     = "SHA256SUMS"
	snapSuffix   = ".snapshot"
	partialPre   = ".partial-"
	timeLayout   = "20060102T150405Z"
)

// Errors callers act on.
var (
	// ErrNoSpace: the target has less free space than the backup needs;
	// nothing was written.
	ErrNoSpace = errors.New("backup: target is short of space")
	// ErrCorrupt: a file of a backup does not match its checksum or does
	// not restore; the error names the file.
	ErrCorrupt = errors.New("backup: corrupt")
	// ErrNone: the target holds no complete backup.
	ErrNone = errors.New("backup: no backup")
	// ErrExists: Restore would overwrite something (without Force).
	ErrExists = errors.New("backup: restore target exists")
)

// Config says what to back up and where.
type Config struct {
	Dir string // target directory of the backups (required); created if missing

	// NC reaches the JetStream of the account holding the streams: the
	// hub's own connection (required when there are streams).
	NC      *nats.Conn
	Streams []string // nil: DefaultStreams

	// AuthDir is the trust material, <data>/auth; "" when the hub runs
	// without operator mode (nothing to back up).
	AuthDir string

	// The projection: DB, the hub's write connection, or else DBPath,
	// the file (hub.db). Both empty: no projection in the backup.
	DB     *sql.DB
	DBPath string

	Keep    int    // complete backups kept (the new one included); 0: DefaultKeep
	MinFree int64  // space left free on the target; 0: DefaultMinFree, negative: none
	Version string // hub version in the manifest; "": kiosk.Version

	Now func() time.Time // nil: time.Now
}

// Manifest describes one backup (manifest.json).
type Manifest struct {
	Format  int       `json:"format"` // 1
	Created time.Time `json:"created"`
	Version string    `json:"version"` // of the hub that wrote it
	Took    string    `json:"took"`    // writing, before verification
	Files   []File    `json:"files"`
	Streams []Stream  `json:"streams"`

	Dir string `json:"-"` // where the backup is, set by Run, Latest and Restore
}

// File is one file of a backup.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Stream is one stream's snapshot.
type Stream struct {
	Name   string          `json:"name"`
	File   string          `json:"file"`
	Config json.RawMessage `json:"config"` // as the server reported it: restored as is
	State  StreamState     `json:"state"`
}

// StreamState is the part of the stream's state at the snapshot that
// verification compares (nats-server's JSON names).
type StreamState struct {
	Msgs      uint64 `json:"messages"`
	Bytes     uint64 `json:"bytes"`
	FirstSeq  uint64 `json:"first_seq"`
	LastSeq   uint64 `json:"last_seq"`
	Consumers int    `json:"consumer_count"`
}

// file returns the entry of name, if any.
func (m *Manifest) file(name string) (File, bool) {
	for _, f := range m.Files {
		if f.Name == name {
			return f, true
		}
	}
	return File{}, false
}

// Run writes one backup into a new directory of cfg.Dir, verifies it,
// and prunes older ones (see Config.Keep). A backup that fails is
// removed; the error wraps ErrNoSpace when the target is short of space
// (then nothing was written) and ErrCorrupt when verification failed.
// The returned Manifest's Dir is the new backup.
func Run(ctx context.Context, cfg Config) (Manifest, error) {
	if cfg.Dir == "" {
		return Manifest{}, errors.New("backup: no target directory")
	}
	if cfg.Streams == nil {
		cfg.Streams = DefaultStreams
	}
	if len(cfg.Streams) > 0 && cfg.NC == nil {
		return Manifest{}, errors.New("backup: no NATS connection for the streams")
	}
	if cfg.Keep <= 0 {
		cfg.Keep = DefaultKeep
	}
	if cfg.MinFree == 0 {
		cfg.MinFree = DefaultMinFree
	}
	cfg.MinFree = max(cfg.MinFree, 0)
	if cfg.Version == "" {
		cfg.Version = kiosk.Version
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	start := time.Now()
	created := cfg.Now().UTC()

	// Leftovers of a crashed run take space the estimate does not know.
	// Their age is by the kernel's clock, which stamped them, not Now.
	removePartials(cfg.Dir, time.Now())

	need, err := estimate(ctx, cfg)
	if err != nil {
		return Manifest{}, err
	}
	if err := checkSpace(cfg.Dir, need, cfg.MinFree); err != nil {
		return Manifest{}, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	tmp, err := os.MkdirTemp(cfg.Dir, partialPre+created.Format(timeLayout)+"-")
	if err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	// The keys are in it: only the hub's user may read a backup.
	if err := os.Chmod(tmp, 0o700); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}

	m := Manifest{Format: 1, Created: created, Version: cfg.Version}
	if cfg.AuthDir != "" {
		f, err := writeAuth(cfg.AuthDir, filepath.Join(tmp, AuthFile))
		if err != nil {
			return Manifest{}, err
		}
		m.Files = append(m.Files, f)
	}
	for _, name := range cfg.Streams {
		s, f, err := snapshotToFile(ctx, cfg.NC, name, filepath.Join(tmp, name+snapSuffix))
		if err != nil {
			return Manifest{}, err
		}
		m.Files = append(m.Files, f)
		m.Streams = append(m.Streams, s)
	}
	if cfg.DB != nil || cfg.DBPath != "" {
		f, err := copyDB(ctx, cfg, filepath.Join(tmp, DBFile))
		if err != nil {
			return Manifest{}, err
		}
		m.Files = append(m.Files, f)
	}
	m.Took = time.Since(start).Round(time.Millisecond).String()
	if err := writeManifest(tmp, &m); err != nil {
		return Manifest{}, err
	}
	if err := Verify(ctx, tmp); err != nil {
		return Manifest{}, fmt.Errorf("backup: the new backup failed verification, removed: %w", err)
	}

	final, err := finalName(cfg.Dir, created)
	if err != nil {
		return Manifest{}, err
	}
	if err := os.Rename(tmp, final); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	ok = true
	m.Dir = final
	if err := syncDir(cfg.Dir); err != nil {
		return m, err
	}
	if err := prune(cfg.Dir, cfg.Keep, filepath.Base(final)); err != nil {
		return m, fmt.Errorf("backup: %s is complete, but pruning old backups failed: %w", final, err)
	}
	return m, nil
}

// finalName is the directory name of a backup made at t, with a suffix in
// the unlikely case that one of the same second exists.
func finalName(dir string, t time.Time) (string, error) {
	base := t.Format(timeLayout)
	for i := 1; i < 100; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		p := filepath.Join(dir, name)
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			return p, nil
		}
	}
	return "", fmt.Errorf("backup: too many backups named %s in %s", base, dir)
}

// estimate is the expected size of the backup in bytes.
func estimate(ctx context.Context, cfg Config) (int64, error) {
	var total int64
	for _, name := range cfg.Streams {
		info, err := streamInfo(ctx, cfg.NC, name)
		if err != nil {
			return 0, err
		}
		total += int64(info.State.Bytes)
	}
	if cfg.AuthDir != "" {
		n, err := dirSize(cfg.AuthDir)
		if err != nil {
			return 0, fmt.Errorf("backup: auth directory: %w", err)
		}
		total += n
	}
	switch {
	case cfg.DB != nil:
		var n int64
		if err := cfg.DB.QueryRowContext(ctx, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()").Scan(&n); err != nil {
			return 0, fmt.Errorf("backup: size of the projection: %w", err)
		}
		total += n
	case cfg.DBPath != "":
		for _, suffix := range []string{"", "-wal"} {
			st, err := os.Stat(cfg.DBPath + suffix)
			if err == nil {
				total += st.Size()
			} else if suffix == "" {
				return 0, fmt.Errorf("backup: projection: %w", err)
			}
		}
	}
	return total, nil
}

func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	return n, err
}

// checkSpace fails with ErrNoSpace unless the file system of dir (or of
// its nearest existing parent, when dir is still to be created) has room
// for est bytes with a 20% margin (compression rarely helps much: the
// snapshot is S2 of mostly JSON) and still minFree afterwards.
func checkSpace(dir string, est, minFree int64) error {
	p := dir
	for {
		if _, err := os.Stat(p); err == nil {
			break
		}
		parent := filepath.Dir(p)
		if parent == p {
			break
		}
		p = parent
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(p, &st); err != nil {
		return fmt.Errorf("backup: free space of %s: %w", dir, err)
	}
	free := st.Bavail * uint64(st.Bsize)
	need := uint64(est)*12/10 + uint64(minFree)
	if free < need {
		return fmt.Errorf("%w: %s has %s free, a backup needs %s (estimated %s × 1.2 + %s kept free)",
			ErrNoSpace, dir, kiosk.FormatBytes(free), kiosk.FormatBytes(need), kiosk.FormatBytes(uint64(est)), kiosk.FormatBytes(uint64(minFree)))
	}
	return nil
}

// copyDB writes a consistent copy of the projection to dst with VACUUM
// INTO, which reads one snapshot of the database in a read transaction:
// the hub keeps writing (WAL) and the copy has no half-applied commit.
func copyDB(ctx context.Context, cfg Config, dst string) (File, error) {
	db := cfg.DB
	if db == nil {
		// Not read-only: a read-only connection cannot recover a WAL
		// file left by a crashed hub. VACUUM INTO writes only dst.
		var err error
		db, err = sql.Open("sqlite3", "file:"+cfg.DBPath+"?_busy_timeout=5000")
		if err != nil {
			return File{}, fmt.Errorf("backup: projection: %w", err)
		}
		defer db.Close()
	}
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return File{}, fmt.Errorf("backup: copy the projection (VACUUM INTO): %w", err)
	}
	if err := os.Chmod(dst, 0o600); err != nil {
		return File{}, fmt.Errorf("backup: %w", err)
	}
	if err := syncFile(dst); err != nil {
		return File{}, err
	}
	return hashFile(dst)
}

// writeManifest writes manifest.json and SHA256SUMS (the manifest's own
// checksum is there, so a damaged manifest is told apart from a damaged
// file it lists, and an operator can check a backup with sha256sum -c).
func writeManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("backup: manifest: %w", err)
	}
	if err := writeFileSync(filepath.Join(dir, ManifestFile), append(b, '\n')); err != nil {
		return err
	}
	mf, err := hashFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return err
	}
	var sums strings.Builder
	for _, f := range append(slices.Clone(m.Files), mf) {
		fmt.Fprintf(&sums, "%s  %s\n", f.SHA256, f.Name)
	}
	return writeFileSync(filepath.Join(dir, SumsFile), []byte(sums.String()))
}

// readManifest reads the manifest of a backup, checking it against
// SHA256SUMS, and returns the sums too.
func readManifest(dir string) (Manifest, map[string]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, SumsFile))
	if err != nil {
		return Manifest{}, nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, SumsFile, err)
	}
	sums := map[string]string{}
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if _, err := hex.DecodeString(sum); !ok || err != nil || len(sum) != 2*sha256.Size || name == "" {
			return Manifest{}, nil, fmt.Errorf("%w: %s: line %d is not \"SHA256  NAME\"", ErrCorrupt, SumsFile, i+1)
		}
		sums[name] = sum
	}
	mf, err := hashFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return Manifest{}, nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, ManifestFile, err)
	}
	if sums[ManifestFile] != mf.SHA256 {
		return Manifest{}, nil, fmt.Errorf("%w: %s: sha256 %s, %s says %s", ErrCorrupt, ManifestFile, mf.SHA256, SumsFile, sums[ManifestFile])
	}
	b, err = os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return Manifest{}, nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, ManifestFile, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, ManifestFile, err)
	}
	if m.Format != 1 {
		return Manifest{}, nil, fmt.Errorf("backup: %s: format %d, this version reads 1", filepath.Join(dir, ManifestFile), m.Format)
	}
	m.Dir = dir
	return m, sums, nil
}

// backupName matches the name of a complete backup.
var backupName = regexp.MustCompile(`^\d{8}T\d{6}Z(-\d+)?$`)

// complete lists the complete backups in dir, newest first.
func complete(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() && backupName.MatchString(e.Name()) {
			if _, err := os.Stat(filepath.Join(dir, e.Name(), ManifestFile)); err == nil {
				names = append(names, e.Name())
			}
		}
	}
	// The names are UTC times of equal length; a suffix sorts after its
	// base (one more backup in the same second).
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(b, a) })
	return names, nil
}

// prune removes the complete backups beyond the newest keep, never
// current (the one just written, even when the clock went back).
func prune(dir string, keep int, current string) error {
	names, err := complete(dir)
	if err != nil {
		return err
	}
	kept := 1 // current
	var errs []error
	for _, name := range names {
		if name == current {
			continue
		}
		if kept < keep {
			kept++
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// partialAge is how old an unfinished backup must be before it is taken
// for the leftover of a crash rather than one being written.
const partialAge = 24 * time.Hour

// removePartials removes unfinished backups older than partialAge.
func removePartials(dir string, now time.Time) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return // no target yet
	}
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), partialPre) {
			continue
		}
		if info, err := e.Info(); err == nil && now.Sub(info.ModTime()) > partialAge {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// Latest returns the manifest of the newest complete backup in dir and
// when it was made, or an error wrapping ErrNone when there is none
// (the hub alerts then). It reads manifests only: a backup was verified
// when it was written; Verify checks one again.
func Latest(dir string) (Manifest, time.Time, error) {
	names, err := complete(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return Manifest{}, time.Time{}, fmt.Errorf("%w in %s (it does not exist)", ErrNone, dir)
	}
	if err != nil {
		return Manifest{}, time.Time{}, err
	}
	for _, name := range names {
		m, _, err := readManifest(filepath.Join(dir, name))
		if err == nil {
			return m, m.Created, nil
		}
	}
	return Manifest{}, time.Time{}, fmt.Errorf("%w in %s", ErrNone, dir)
}

// hashFile returns the size and sha256 of a file, named by its base name.
func hashFile(path string) (File, error) {
	f, err := os.Open(path)
	if err != nil {
		return File{}, fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return File{}, fmt.Errorf("backup: read %s: %w", path, err)
	}
	return File{Name: filepath.Base(path), Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	_, err = f.Write(data)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: write %s: %w", path, err)
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: sync %s: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer d.Close()
	// Some file systems (a CIFS share) cannot sync a directory; the
	// rename is then as durable as they make it.
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("backup: sync %s: %w", dir, err)
	}
	return nil
}
