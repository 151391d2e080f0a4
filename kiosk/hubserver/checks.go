package hubserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub/backup"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub/expiry"
)

// The hub's checks of itself (the e-Samsat and network SOPs' gaps: a
// backup that silently stopped, a certificate that expired on a Sunday, a
// full disk): scheduled backups, each verified; an alert when a backup
// failed, is missing or the target is short of space; warnings ahead of
// the expiry of the hub's TLS certificates and of issued credentials; a
// warning when the hub's own data disk runs low. Each alert has an id per
// day (or per expiry step), so it is sent once, not every second.

// checkState is what the checks remember between runs. The decider loop
// and the backup goroutine write it, metrics read it: mu guards it.
type checkState struct {
	mu            sync.Mutex
	backupRunning atomic.Bool
	lastBackup    time.Time // of the newest good backup; zero = none known
	lastBackupErr string
	nextExpiry    time.Time
	nextDisk      time.Time
	started       time.Time
}

// hubChecks runs the checks that are due; it is called every second by the
// decider loop and never blocks it (a backup runs in its own goroutine).
func (h *Hub) hubChecks(ctx context.Context) {
	now := h.cfg.Now()
	c := &h.checks
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started.IsZero() {
		c.started = now
		if h.cfg.BackupDir != "" {
			if m, t, err := backup.Latest(h.cfg.BackupDir); err == nil {
				c.lastBackup = t
				h.log.Info("last backup", "dir", m.Dir, "at", t)
			}
		}
	}
	if h.cfg.BackupDir != "" && h.cfg.BackupEvery > 0 {
		if now.Sub(c.lastBackup) >= h.cfg.BackupEvery && c.backupRunning.CompareAndSwap(false, true) {
			h.wg.Add(1)
			go func() {
				defer h.wg.Done()
				defer c.backupRunning.Store(false)
				h.runBackup(ctx)
			}()
		}
		// Missing: none for two periods (a backup that keeps failing, or
		// a hub that was down over the backup time).
		if !c.lastBackup.IsZero() && now.Sub(c.lastBackup) > 2*h.cfg.BackupEvery {
			day := now.In(h.cfg.TZ).Format(time.DateOnly)
			h.hubAlert(ctx, hub.DecisionID("alert", "backup-missing", day), "backup",
				"[Kiosk PKB] Backup hub tidak ada sejak "+hub.FormatWIB(c.lastBackup, h.cfg.TZ),
				fmt.Sprintf("Backup terakhir yang baik: %s (target %s). Jadwal: setiap %v.\nKesalahan terakhir: %s\n",
					hub.FormatWIB(c.lastBackup, h.cfg.TZ), h.cfg.BackupDir, h.cfg.BackupEvery, cmp.Or(c.lastBackupErr, "-")))
		}
	}
	if now.After(c.nextExpiry) {
		c.nextExpiry = now.Add(time.Hour)
		h.checkExpiry(ctx, now)
	}
	if now.After(c.nextDisk) {
		c.nextDisk = now.Add(time.Minute)
		h.checkDisk(ctx, now)
	}
}

// hubAlert queues an alert about the hub itself (to Bidang Sistim) and
// logs it the first time.
func (h *Hub) hubAlert(ctx context.Context, id, kind, subject, text string) {
	queued, err := h.decider.QueueHubAlert(ctx, id, kind, subject, text)
	if err != nil {
		h.log.Error("alert not queued", "alert", id, "err", err)
	}
	if queued {
		h.log.Warn(subject, "detail", text)
	}
}

// runBackup makes one backup now and records the outcome on HUB_EVENTS.
func (h *Hub) runBackup(ctx context.Context) {
	c := &h.checks
	cfg := backup.Config{Dir: h.cfg.BackupDir, NC: h.nc, Keep: h.cfg.BackupKeep, Version: kiosk.Version,
		DBPath: filepath.Join(h.cfg.Data, "hub.db"), Now: h.cfg.Now}
	if h.auth != nil {
		cfg.AuthDir = h.auth.auth.Dir()
	}
	m, err := backup.Run(ctx, cfg)
	now := h.cfg.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil || m.Dir != "" { // a prune error keeps the backup
		c.lastBackup, c.lastBackupErr = now, ""
		var size int64
		for _, f := range m.Files {
			size += f.Size
		}
		h.log.Info("backup written and verified", "dir", m.Dir, "bytes", size, "took", m.Took)
		e := hub.NewHubEvent(hub.HEBackup, hub.ByHub, now, map[string]any{"dir": m.Dir, "bytes": size, "took": m.Took})
		if _, perr := h.pub.Publish(ctx, e); perr != nil {
			h.log.Warn("backup not recorded on HUB_EVENTS", "err", perr)
		}
		if err != nil {
			h.log.Warn("old backups not pruned", "err", err)
		}
		return
	}
	if ctx.Err() != nil {
		return
	}
	c.lastBackupErr = err.Error()
	// Retry in an hour, not every second.
	c.lastBackup = now.Add(-h.cfg.BackupEvery + time.Hour)
	h.log.Error("backup failed", "err", err)
	e := hub.NewHubEvent(hub.HEBackupFailed, hub.ByHub, now, map[string]string{"error": err.Error()})
	if _, perr := h.pub.Publish(ctx, e); perr != nil {
		h.log.Warn("backup failure not recorded on HUB_EVENTS", "err", perr)
	}
	day := now.In(h.cfg.TZ).Format(time.DateOnly)
	what, kind := "gagal", "backup-failed"
	if errors.Is(err, backup.ErrNoSpace) {
		what, kind = "tidak dibuat: ruang target tidak cukup", "backup-nospace"
	}
	h.hubAlert(ctx, hub.DecisionID("alert", kind, day), "backup", "[Kiosk PKB] Backup hub "+what,
		fmt.Sprintf("Backup hub ke %s %s pada %s.\nKesalahan: %v\nBackup terakhir yang baik: %s\n",
			h.cfg.BackupDir, what, hub.FormatWIB(now, h.cfg.TZ), err, lastGood(h, c)))
}

func lastGood(h *Hub, c *checkState) string {
	if m, t, err := backup.Latest(h.cfg.BackupDir); err == nil {
		return hub.FormatWIB(t, h.cfg.TZ) + " (" + filepath.Base(m.Dir) + ")"
	}
	return "belum ada"
}

// expirySteps are the warnings ahead of an expiry: a month, a week, a day
// (and once more when it has expired).
var expirySteps = []time.Duration{30 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour, 0}

func (h *Hub) checkExpiry(ctx context.Context, now time.Time) {
	var items []expiry.Item
	for name, f := range map[string]string{"hub NATS": h.cfg.TLSCert, "hub dasbor": h.cfg.HTTPTLSCert} {
		if f == "" {
			continue
		}
		na, _, err := expiry.CertExpiry(f)
		if err != nil {
			h.log.Warn("certificate expiry not readable", "file", f, "err", err)
			continue
		}
		items = append(items, expiry.Item{Kind: expiry.KindTLS, Name: name, NotAfter: na})
	}
	if a := h.Auth(); a != nil {
		us, err := a.Users()
		if err != nil {
			h.log.Warn("credentials not readable for expiry", "err", err)
		}
		for _, u := range us {
			if u.Valid() && !u.Expires.IsZero() {
				items = append(items, expiry.Item{Kind: expiry.KindCreds, Name: string(u.Kind) + " " + u.Name, NotAfter: u.Expires})
			}
		}
	}
	for _, w := range expiry.Check(now.In(h.cfg.TZ), h.cfg.ExpiryWarn, items) {
		step := 0
		for i, s := range expirySteps {
			if w.Left <= s {
				step = i
			}
		}
		id := hub.DecisionID("alert", "expiry", string(w.Kind), w.Name, w.NotAfter.UTC().Format(time.RFC3339), fmt.Sprint(step))
		h.hubAlert(ctx, id, "expiry", "[Kiosk PKB] "+w.Text, w.Text+"\nPerbarui sebelum kedaluwarsa (kioskhub creds issue ... --replace, atau sertifikat baru dari CA).\n")
	}
}

func (h *Hub) checkDisk(ctx context.Context, now time.Time) {
	free, total, err := expiry.DiskFree(h.cfg.Data)
	if err != nil || total == 0 {
		return
	}
	h.metrics.setDisk(free, total)
	low := h.cfg.DiskMinFree
	if low == 0 {
		low = max(1<<30, total/20) // 1 GiB or 5%
	}
	if free >= low {
		return
	}
	day := now.In(h.cfg.TZ).Format(time.DateOnly)
	h.hubAlert(ctx, hub.DecisionID("alert", "disk", day), "disk",
		"[Kiosk PKB] Disk data hub hampir penuh",
		fmt.Sprintf("Ruang kosong di %s: %s dari %s (batas %s).\nJetStream dan basis data hub berhenti menulis bila disk penuh.\n",
			h.cfg.Data, kiosk.FormatBytes(free), kiosk.FormatBytes(total), kiosk.FormatBytes(low)))
}

func (c *checkState) lastBackupAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastBackup
}
