package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

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

// startUntil starts kioskd with args and returns once a line of its log
// matches re, with the submatches; the rest of its log is drained so it
// never blocks. A kioskd that has not said it within 20 s is killed and
// fails the test as "never <what>".
func startUntil(t *testing.T, bin string, re *regexp.Regexp, what string, args ...string) (*exec.Cmd, []string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	deadline := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			go func() {
				for sc.Scan() {
				}
			}()
			return cmd, m
		}
	}
	cmd.Wait()
	t.Fatalf("kioskd never %s", what)
	return nil, nil
}
