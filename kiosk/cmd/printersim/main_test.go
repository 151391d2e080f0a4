package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/kiosktest"
)

func TestUsageErrors(t *testing.T) {
	pty := filepath.Join(t.TempDir(), "printer0")
	base := []string{"--pty", pty, "--control", "127.0.0.1:0"}
	with := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	for _, tt := range []struct {
		name string
		args []string
		msg  string
	}{
		{"no arguments", nil, "--control"},
		{"no port", []string{"--control", "127.0.0.1:0"}, "--pty"},
		{"unknown flag", with("--bogus"), "bogus"},
		{"extra argument", with("now"), `"now"`},
		{"bad model", with("--model", "tm-t20"), `model "tm-t20"`},
		{"bad columns", with("--columns", "40"), "columns 40"},
		{"columns not a number", with("--columns", "wide"), "columns"},
		{"bad state value", with("--state", `{"paper":"empty"}`), `paper "empty"`},
		{"bad state json", with("--state", `{paper}`), "--state"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(t.Context(), tt.args, &out, &errb)
			if got := exitCode(err); got != 2 {
				t.Errorf("exit %d, want 2 (err %v)", got, err)
			}
			if !strings.Contains(errb.String(), tt.msg) {
				t.Errorf("stderr %q does not mention %q", errb.String(), tt.msg)
			}
			if _, err := os.Lstat(pty); err == nil {
				t.Errorf("symlink left behind")
			}
		})
	}
}

func TestRunAndStop(t *testing.T) {
	pty := filepath.Join(t.TempDir(), "run", "printer0")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errb kiosktest.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--pty", pty, "--tcp", "127.0.0.1:0", "--control", "127.0.0.1:0",
			"--model", "pos58", "--state", `{"paper":"near_end"}`}, &out, &errb)
	}()
	line := regexp.MustCompile(`^printersim: pty (\S+) -> (/dev/pts/\d+), tcp (127\.0\.0\.1:\d+), control (http://127\.0\.0\.1:\d+)\n$`)
	var m []string
	for end := time.Now().Add(5 * time.Second); m == nil; {
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v; stderr %s", err, errb.String())
		default:
		}
		if time.Now().After(end) {
			t.Fatalf("no start line; stdout %q stderr %q", out.String(), errb.String())
		}
		m = line.FindStringSubmatch(out.String())
		time.Sleep(10 * time.Millisecond)
	}
	if m[1] != pty {
		t.Errorf("pty %q, want %q", m[1], pty)
	}
	if target, err := os.Readlink(pty); err != nil || target != m[2] {
		t.Errorf("symlink -> %q, %v; want %q", target, err, m[2])
	}
	resp, err := http.Get(m[4] + "/state")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"paper":"near_end"`) {
		t.Errorf("GET /state = %s, want the --state paper", body)
	}

	cancel()
	select {
	case err := <-done:
		if code := exitCode(err); code != 0 {
			t.Errorf("after cancel: exit %d (%v)", code, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not stop")
	}
	if _, err := os.Lstat(pty); err == nil {
		t.Error("symlink left behind after stop")
	}
}
