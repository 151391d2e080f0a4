package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
)

// kioskdBin is the real kioskd, built once for all the tests that run it
// as a process (TestMain removes it).
var kioskdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kioskd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	kioskdBin = filepath.Join(dir, "kioskd")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildKioskd builds the kioskd binary on first use and returns its path.
func buildKioskd(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(kioskdBin); err == nil {
		return kioskdBin
	}
	if out, err := exec.Command("go", "build", "-o", kioskdBin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return kioskdBin
}

// startHub starts a hub with embedded NATS on a free loopback port, a
// small sample and no credentials (kioskd and the test connect without
// .creds); it stops with the test.
func startHub(t *testing.T) *hubserver.Hub {
	t.Helper()
	hcfg := hubserver.DefaultConfig()
	hcfg.Data, hcfg.NATSListen, hcfg.SampleSize, hcfg.HTTP = t.TempDir(), "127.0.0.1:0", 200, ""
	hcfg.Auth = false
	hub, err := hubserver.Start(t.Context(), hcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hub.Close() })
	return hub
}
