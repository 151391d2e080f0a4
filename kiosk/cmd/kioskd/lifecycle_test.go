package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// TestPreviousShutdown runs the real kioskd binary: an orderly stop is
// "clean", kill -9 with the same kernel boot id is "crash", and kill -9
// followed by a changed boot id (a power cut) is "power" with the outage.
func TestPreviousShutdown(t *testing.T) {
	dir := t.TempDir()
	bin := buildKioskd(t)
	hub := startHub(t)
	bootFile := filepath.Join(dir, "boot_id")
	data := filepath.Join(dir, "data")
	prevRe := regexp.MustCompile(`msg="previous shutdown" .*prev=(\w+) outage_s=(\d+)`)

	// start runs kioskd until it logged its verdict and returns it.
	start := func(boot string) (*exec.Cmd, string, string) {
		t.Helper()
		os.WriteFile(bootFile, []byte(boot+"\n"), 0o644)
		cmd, m := startUntil(t, bin, prevRe, "logged the previous shutdown", "--id", "padang-01", "--office", "padang",
			"--data", data, "--nats", hub.NATSURL(), "--http", "127.0.0.1:0", "--ui", "off", "--boot-id-file", bootFile, "--heartbeat", "1s")
		// Let at least one heartbeat write last-alive.
		time.Sleep(1500 * time.Millisecond)
		return cmd, m[1], m[2]
	}

	cmd, prev, _ := start("boot-1")
	if prev != "first" {
		t.Errorf("first start: prev %s, want first", prev)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("orderly stop: %v", err)
	}

	cmd, prev, _ = start("boot-1")
	if prev != "clean" {
		t.Errorf("after an orderly stop: prev %s, want clean", prev)
	}
	cmd.Process.Kill()
	cmd.Wait()

	cmd, prev, _ = start("boot-1")
	if prev != "crash" {
		t.Errorf("after kill -9 on the same boot: prev %s, want crash", prev)
	}
	cmd.Process.Kill()
	cmd.Wait()
	time.Sleep(1100 * time.Millisecond) // the machine is "off" for a while

	cmd, prev, outage := start("boot-2")
	if prev != "power" || outage == "0" || len(outage) > 2 {
		t.Errorf("after kill -9 and a new boot id: prev %s outage %s s; want power with an outage of a few seconds", prev, outage)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
}
