package agent

import (
	"context"
	"syscall"
	"time"
)

// Disk faults (DESIGN 4.3, 5).
const (
	faultDiskLow  = "disk.low"
	faultDiskFull = "disk.full"
)

// diskFree returns the free and total bytes of the filesystem of dir, as
// an unprivileged process can use them.
func diskFree(dir string) (free, total uint64, err error) {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		return 0, 0, err
	}
	return fs.Bavail * uint64(fs.Bsize), fs.Blocks * uint64(fs.Bsize), nil
}

// diskLoop checks the free space of the data directory every DiskCheck.
// A full disk degrades the agent (no new cache writes) but never stops it:
// the screen, lookups and printing go on, and the fault is reported.
func (a *Agent) diskLoop(ctx context.Context) {
	deb := map[string]debounce{}
	check := func() {
		free, _, err := diskFree(a.cfg.Data)
		if err != nil {
			a.log.Warn("disk check failed", "err", err)
			return
		}
		a.applyFaults(deb, map[string]bool{
			faultDiskLow:  free < a.cfg.DiskLow,
			faultDiskFull: free < a.cfg.DiskFull,
		})
	}
	t := time.NewTicker(a.cfg.DiskCheck)
	defer t.Stop()
	check()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			check()
		}
	}
}

// diskFull reports whether the disk.full fault is raised.
func (a *Agent) diskFull() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, full := a.faults[faultDiskFull]
	return full
}
