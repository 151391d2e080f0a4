package hubserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub/backup"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsauth"
)

// Administration of a hub's data directory by the kioskhub subcommands
// (user add, rebuild): they reach the streams through Streams, which
// starts the embedded server on the data directory when no hub runs on it
// (or connects to --nats-url). A running hub is never opened twice: its
// data lock says it runs, and events for it go through its spool
// directory, which it drains every second.

// ErrHubRunning is returned when a command needs the hub stopped, or a
// second hub is started on the same data directory.
var ErrHubRunning = natsauth.ErrHubRunning

// errRunning says what to do about it.
var errRunning = fmt.Errorf("%w; stop it first (systemctl stop kioskhub)", ErrHubRunning)

const dataLockFile = "kioskhub.lock"

// lockData takes the data directory's lock for a running hub (or an
// administrative command); the kernel releases it with the process.
func lockData(dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("hubserver: data directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, dataLockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("hubserver: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errRunning
		}
		return nil, fmt.Errorf("hubserver: lock data directory: %w", err)
	}
	return func() { f.Close() }, nil
}

// Running reports whether a kioskhub (or an administrative command) holds
// the data directory.
func Running(dir string) bool {
	release, err := lockData(dir)
	if err != nil {
		return errors.Is(err, ErrHubRunning)
	}
	release()
	return false
}

// Streams is a connection to a stopped hub's streams.
type Streams struct {
	JS jetstream.JetStream
	NC *nats.Conn
	h  *Hub
}

// OpenStreams reaches the streams of the hub configured by cfg: through
// cfg.NATSURL, or by starting the embedded server on cfg.Data (which
// needs the hub stopped: ErrHubRunning). Close it when done.
func OpenStreams(ctx context.Context, cfg Config) (_ *Streams, err error) {
	if cfg.Data == "" {
		return nil, errors.New("hubserver: --data is required")
	}
	h := &Hub{cfg: cfg, log: cfg.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	s := &Streams{h: h}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if cfg.NATSURL != "" {
		h.url = cfg.NATSURL
	} else {
		if h.releaseData, err = lockData(cfg.Data); err != nil {
			return nil, err
		}
		h.cfg.NATSListen = "127.0.0.1:0" // nobody else connects
		if err := h.startNATS(); err != nil {
			return nil, err
		}
	}
	if h.nc, err = nats.Connect(h.connectURL(), h.clientOptions()...); err != nil {
		return nil, fmt.Errorf("hubserver: connect: %w", err)
	}
	s.NC = h.nc
	if s.JS, err = jetstream.New(h.nc); err != nil {
		return nil, fmt.Errorf("hubserver: jetstream: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := hub.EnsureStreams(sctx, s.JS, hub.StreamConfig{Replicas: max(cfg.Replicas, 1)}); err != nil {
		return nil, fmt.Errorf("hubserver: %w", err)
	}
	return s, nil
}

// Close closes the connection and stops the embedded server: what Hub.Close
// does for the parts a Streams has.
func (s *Streams) Close() error { return s.h.Close() }

// Publish publishes a hub event into HUB_EVENTS (the projection applies
// it when the hub starts).
func (s *Streams) Publish(ctx context.Context, e hub.HubEvent) error {
	_, err := hub.NewPublisher(s.JS, nil).Publish(ctx, e)
	return err
}

// Rebuild drops the projection <data>/hub.db and rebuilds it from the
// streams (kioskhub rebuild). The old file is kept aside until the new
// one is complete.
func (s *Streams) Rebuild(ctx context.Context) (hub.RebuildStats, error) {
	file := filepath.Join(s.h.cfg.Data, "hub.db")
	aside := file + ".before-rebuild"
	for _, suf := range []string{"", "-wal", "-shm"} {
		if err := os.Rename(file+suf, aside+suf); err != nil && !errors.Is(err, os.ErrNotExist) {
			return hub.RebuildStats{}, fmt.Errorf("hubserver: move the old projection aside: %w", err)
		}
	}
	st, err := hub.OpenStore(ctx, file)
	if err != nil {
		return hub.RebuildStats{}, fmt.Errorf("hubserver: %w", err)
	}
	stats, err := hub.Rebuild(ctx, s.JS, st)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return stats, fmt.Errorf("%w (the old projection is kept as %s)", err, aside)
	}
	for _, suf := range []string{"", "-wal", "-shm"} {
		os.Remove(aside + suf)
	}
	return stats, nil
}

// spoolDir holds events for a running hub from the subcommands.
func spoolDir(data string) string { return filepath.Join(data, "spool") }

// spoolTypes are the events a subcommand may hand to a running hub.
var spoolTypes = map[string]bool{hub.HEUserAdded: true, hub.HEUserDisabled: true}

// Spool hands e to the hub running on data and waits until it has taken
// it (recorded on HUB_EVENTS and applied), at most until ctx ends.
func Spool(ctx context.Context, data string, e hub.HubEvent) error {
	if !spoolTypes[e.Type] {
		return fmt.Errorf("hubserver: %s cannot be spooled", e.Type)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("hubserver: %w", err)
	}
	if err := os.MkdirAll(spoolDir(data), 0o700); err != nil {
		return fmt.Errorf("hubserver: spool: %w", err)
	}
	file := filepath.Join(spoolDir(data), e.ID+".json")
	if err := natsauth.WriteFile(file, b); err != nil {
		return fmt.Errorf("hubserver: spool: %w", err)
	}
	for {
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
			if _, err := os.Stat(file + ".bad"); err == nil {
				return fmt.Errorf("hubserver: the hub refused %s (see its log)", e.Type)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			os.Remove(file)
			return fmt.Errorf("hubserver: the running hub did not take the change within the wait (is it healthy?): %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// drainSpool publishes the events subcommands left for the running hub.
func (h *Hub) drainSpool(ctx context.Context) {
	ents, err := os.ReadDir(spoolDir(h.cfg.Data))
	if err != nil {
		return
	}
	for _, ent := range ents {
		name := ent.Name()
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		file := filepath.Join(spoolDir(h.cfg.Data), name)
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		var e hub.HubEvent
		if err := json.Unmarshal(b, &e); err != nil || !spoolTypes[e.Type] || e.ID == "" || e.By == "" {
			h.log.Error("spooled event refused", "file", file, "err", err)
			os.Rename(file, file+".bad")
			continue
		}
		if err := h.pub.Do(ctx, e); err != nil {
			h.log.Error("spooled event not recorded; will retry", "file", file, "err", err)
			return
		}
		h.log.Info("recorded from the command line", "type", e.Type, "target", e.Target, "by", e.By)
		os.Remove(file)
	}
}

// Backup writes one verified backup of the stopped hub into dir.
func (s *Streams) Backup(ctx context.Context, dir string, keep int) (backup.Manifest, error) {
	cfg := backup.Config{Dir: dir, NC: s.NC, Keep: keep, Version: kiosk.Version}
	// A hub that never ran has no projection yet; the streams are what
	// counts.
	if db := filepath.Join(s.h.cfg.Data, "hub.db"); fileExists(db) {
		cfg.DBPath = db
	}
	if s.h.auth != nil {
		cfg.AuthDir = s.h.auth.auth.Dir()
	}
	return backup.Run(ctx, cfg)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
