package agent_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
	"github.com/sumbar-samsat/pkbkiosk/sync/lookup/sample"
)

// smallFS mounts a 8 MiB tmpfs for the agent's data; tests that need a
// full disk skip where the test may not mount (not root).
func smallFS(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=8m"); err != nil {
		t.Skipf("cannot mount a small tmpfs here (%v): run as root (CI does)", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			exec.Command("umount", "-l", dir).Run()
		}
	})
	return dir
}

// fill writes zeros into file until fewer than leave bytes are free.
func fill(t *testing.T, dir string, leave uint64) string {
	t.Helper()
	file := filepath.Join(dir, "filler")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := bytes.Repeat([]byte{0}, 64<<10)
	for {
		var fs syscall.Statfs_t
		syscall.Statfs(dir, &fs)
		if fs.Bavail*uint64(fs.Bsize) < leave {
			return file
		}
		if _, err := f.Write(chunk); err != nil {
			return file // ENOSPC: as full as it gets
		}
	}
}

// TestDiskFull: on a disk that fills up the agent raises disk.low and
// disk.full, degrades (health says so) and keeps answering lookups and
// its screen; when space returns the faults clear.
func TestDiskFull(t *testing.T) {
	data := smallFS(t)
	e := newEnv(t, func(h *hubserver.Config, a *agent.Config) {
		a.Data, a.Now = data, nil
		a.DiskCheck, a.DiskLow, a.DiskFull = 100*time.Millisecond, 3<<20, 1<<20
	})
	v := e.sample(sample.Paid)
	file := fill(t, data, 512<<10)
	e.waitFault("disk.low", true)
	e.waitFault("disk.full", true)
	var h map[string]any
	if code := e.get("/healthz", &h); code != 200 || h["mode"] != "degraded" || h["reason"] != "disk.full" {
		t.Errorf("healthz on a full disk = %d %v; want 200 degraded disk.full", code, h)
	}
	if code, m := e.lookup(v.Plate, v.Rangka5); code != 200 {
		t.Errorf("lookup on a full disk = %d %v; want 200 (served, not cached)", code, m)
	}
	resp, err := e.getRaw("/")
	if err != nil || resp != 200 {
		t.Errorf("the page on a full disk: %d %v", resp, err)
	}
	// Fill the last bytes too: SQLite writes now fail with "database or disk
	// is full"; the agent must keep going.
	fill(t, data, 0)
	time.Sleep(300 * time.Millisecond)
	if code, m := e.lookup(v.Plate, v.Rangka5); code != 200 {
		t.Errorf("lookup on a completely full disk = %d %v; want 200", code, m)
	}

	os.Remove(file)
	e.waitFault("disk.full", false)
	e.waitFault("disk.low", false)
	if code := e.get("/healthz", &h); code != 200 || h["mode"] != "ready" {
		t.Errorf("healthz after space returned = %d %v; want ready", code, h)
	}
}
