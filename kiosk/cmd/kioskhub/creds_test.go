package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
)

// kioskhub runs the command line in-process and returns its exit code
// and output.
func kioskhub(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(t.Context(), args, &out, &errb)
	return exitCode(err), out.String(), errb.String()
}

func TestCredsIssue(t *testing.T) {
	data := t.TempDir()
	out := filepath.Join(t.TempDir(), "padang-01.creds")
	code, stdout, stderr := kioskhub(t, "creds", "issue", "padang-01", "--office", "padang", "--data", data, "--out", out)
	if code != 0 {
		t.Fatalf("creds issue: exit %d, %s", code, stderr)
	}
	if !strings.Contains(stderr, "created a new NATS operator") {
		t.Errorf("first use not reported: %q", stderr)
	}
	if !strings.Contains(stdout, "issued kiosk padang-01 (office padang)") || !strings.Contains(stdout, out) {
		t.Errorf("stdout %q", stdout)
	}
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf(".creds mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	b, _ := os.ReadFile(out)
	token, err := jwt.ParseDecoratedJWT(b)
	if err != nil {
		t.Fatal(err)
	}
	uc, err := jwt.DecodeUserClaims(token)
	if err != nil || uc.Name != "padang-01" {
		t.Fatalf("creds user %v, %v", uc, err)
	}
	if _, err := jwt.ParseDecoratedUserNKey(b); err != nil {
		t.Errorf("no seed in the .creds file: %v", err)
	}

	// Flags first, name last; an operator; standard output.
	code, stdout, stderr = kioskhub(t, "creds", "operator", "--data", data, "--out", "-", "budi")
	if code != 0 || !strings.Contains(stdout, "BEGIN NATS USER JWT") || !strings.Contains(stderr, "issued operator budi") {
		t.Errorf("creds operator --out -: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if strings.Contains(stderr, "created a new NATS operator") {
		t.Error("second use created a new operator")
	}
	// Again: the earlier credential stays valid unless --replace.
	code, stdout, _ = kioskhub(t, "creds", "issue", "padang-01", "--office", "padang", "--data", data, "--out", out)
	if code != 0 || !strings.Contains(stdout, "1 earlier credential(s) of padang-01 stay valid") {
		t.Errorf("issue again: exit %d, %q", code, stdout)
	}
	code, stdout, _ = kioskhub(t, "creds", "issue", "padang-01", "--office", "padang", "--data", data, "--out", out, "--replace")
	if code != 0 || strings.Contains(stdout, "stay valid") {
		t.Errorf("issue --replace: exit %d, %q", code, stdout)
	}
	code, stdout, _ = kioskhub(t, "creds", "ls", "--data", data)
	if code != 0 || strings.Count(stdout, "padang-01") != 3 || strings.Count(stdout, "revoked ") != 2 || !strings.Contains(stdout, "budi") {
		t.Errorf("creds ls: exit %d\n%s", code, stdout)
	}
}

func TestCredsBadInput(t *testing.T) {
	data := t.TempDir()
	out := filepath.Join(t.TempDir(), "x.creds")
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"creds"}, 2, "usage"},
		{[]string{"creds", "mint"}, 2, `unknown command "mint"`},
		{[]string{"creds", "issue", "Padang_01", "--office", "padang", "--data", data, "--out", out}, 2, `kiosk id "Padang_01" is invalid`},
		{[]string{"creds", "issue", "padang-01", "--data", data, "--out", out}, 2, "--office is required"},
		{[]string{"creds", "issue", "padang-01", "--office", "padang", "--data", data}, 2, "--out FILE is required"},
		{[]string{"creds", "issue", "--office", "padang", "--data", data, "--out", out}, 2, "KIOSK_ID is required"},
		{[]string{"creds", "issue", "padang-01", "--office", "padang", "--data", filepath.Join(data, "typo"), "--out", out}, 2, "is not a directory"},
		{[]string{"creds", "issue", "padang-01", "extra", "--office", "padang", "--data", data, "--out", out}, 2, "unexpected argument"},
		{[]string{"creds", "operator", "kioskhub", "--data", data, "--out", out}, 1, "reserved"},
		{[]string{"creds", "revoke", "padang-77", "--data", data}, 1, "never issued"},
		{[]string{"creds", "revoke", "--data", data}, 2, "is required"},
		{[]string{"creds", "issue", "padang-01", "--office", "padang", "--data", data, "--out", out, "--valid-for", "0s"}, 2, "--valid-for 0s"},
		{[]string{"creds", "operator", "budi", "--data", data, "--out", out, "--valid-for", "a year"}, 2, "invalid value"},
	} {
		code, _, stderr := kioskhub(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("kioskhub %q: exit %d, stderr %q; want %d mentioning %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused command wrote the .creds file")
	}
	// A corrupt auth directory is reported, never replaced.
	if err := os.WriteFile(filepath.Join(data, "auth", "account.jwt"), []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := kioskhub(t, "creds", "issue", "padang-01", "--office", "padang", "--data", data, "--out", out)
	if code != 1 || !strings.Contains(stderr, "corrupt") || !strings.Contains(stderr, "account.jwt") || !strings.Contains(stderr, "backup") {
		t.Errorf("corrupt directory: exit %d, %q", code, stderr)
	}
}

// TestCredsRevokeRunningHub revokes with the command while a hub runs on
// the same data directory: the command waits until the hub applied it,
// and the kiosk is disconnected.
func TestCredsRevokeRunningHub(t *testing.T) {
	cfg := hubserver.DefaultConfig()
	cfg.Data = t.TempDir()
	cfg.NATSListen = "127.0.0.1:0"
	cfg.SampleSize = 200
	h, err := hubserver.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	// Issued while the hub runs: valid at once.
	out := filepath.Join(t.TempDir(), "k.creds")
	if code, _, stderr := kioskhub(t, "creds", "issue", "padang-01", "--office", "padang", "--data", cfg.Data, "--out", out); code != 0 {
		t.Fatalf("creds issue: %s", stderr)
	}
	nc, err := nats.Connect(h.NATSURL(), nats.UserCredentials(out), nats.CustomInboxPrefix("_INBOX_padang-01"), nats.MaxReconnects(-1),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})) // "authentication revoked" is expected
	if err != nil {
		t.Fatalf("freshly issued credentials: %v", err)
	}
	defer nc.Close()
	code, stdout, stderr := kioskhub(t, "creds", "revoke", "padang-01", "--data", cfg.Data)
	if code != 0 || !strings.Contains(stdout, "revoked kiosk padang-01") || !strings.Contains(stdout, "running hub applied it") {
		t.Fatalf("creds revoke: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	deadline := time.Now().Add(5 * time.Second)
	for nc.IsConnected() {
		if time.Now().After(deadline) {
			t.Fatal("revoked kiosk still connected")
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, stdout, _ = kioskhub(t, "creds", "revoke", "padang-01", "--data", cfg.Data)
	if code != 0 || !strings.Contains(stdout, "nothing changed") {
		t.Errorf("second revoke: exit %d, %q", code, stdout)
	}

	// --nats-url pushes as the system user (an external cluster's path).
	if code, _, stderr := kioskhub(t, "creds", "operator", "budi", "--data", cfg.Data, "--out", out); code != 0 {
		t.Fatalf("creds operator: %s", stderr)
	}
	code, stdout, stderr = kioskhub(t, "creds", "revoke", "budi", "--data", cfg.Data, "--nats-url", h.NATSURL())
	if code != 0 || !strings.Contains(stdout, "applied it") {
		t.Errorf("revoke --nats-url: exit %d, %q %q", code, stdout, stderr)
	}

	// Stopped hub: saved, applied at the next start.
	h.Close()
	if code, _, _ := kioskhub(t, "creds", "issue", "padang-02", "--office", "padang", "--data", cfg.Data, "--out", out); code != 0 {
		t.Fatal("creds issue")
	}
	code, stdout, _ = kioskhub(t, "creds", "revoke", "padang-02", "--data", cfg.Data)
	if code != 0 || !strings.Contains(stdout, "applies when it starts") {
		t.Errorf("revoke with the hub stopped: exit %d, %q", code, stdout)
	}
	code, _, stderr = kioskhub(t, "creds", "revoke", "padang-02", "--data", cfg.Data, "--nats-url", "nats://127.0.0.1:1", "--wait", "2s")
	if code != 0 {
		// Nothing left to revoke: no push attempted.
		t.Errorf("revoke of a revoked name: exit %d %q", code, stderr)
	}
}

func TestHubTLSFlags(t *testing.T) {
	code, _, stderr := kioskhub(t, "--data", t.TempDir(), "--nats-listen", "0.0.0.0:0", "--http", "", "--sample-size", "100")
	if code != 2 || !strings.Contains(stderr, "--nats-insecure") {
		t.Errorf("listen on all interfaces without TLS: exit %d, %q; want 2 explaining --nats-insecure", code, stderr)
	}
	code, _, stderr = kioskhub(t, "--data", t.TempDir(), "--nats-tls-cert", "/nonexistent.pem", "--http", "", "--nats-listen", "127.0.0.1:0", "--sample-size", "100")
	if code != 2 || !strings.Contains(stderr, "--nats-tls-key") {
		t.Errorf("cert without key: exit %d, %q", code, stderr)
	}
}

// TestCredsValidFor issues with the default and a given validity and
// lists the expiries.
func TestCredsValidFor(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	code, stdout, stderr := kioskhub(t, "creds", "issue", "padang-01", "--office", "padang", "--data", data, "--out", filepath.Join(dir, "k.creds"))
	if code != 0 || !strings.Contains(stdout, "valid now until ") {
		t.Fatalf("creds issue: exit %d, %q %q", code, stdout, stderr)
	}
	year := expiresOf(t, filepath.Join(dir, "k.creds"))
	if d := time.Until(year); d < 364*24*time.Hour || d > 366*24*time.Hour {
		t.Errorf("default validity: expires in %v, want a year", d)
	}
	code, _, stderr = kioskhub(t, "creds", "operator", "budi", "--valid-for", "720h", "--data", data, "--out", filepath.Join(dir, "o.creds"))
	if code != 0 {
		t.Fatalf("creds operator --valid-for: exit %d, %q", code, stderr)
	}
	month := expiresOf(t, filepath.Join(dir, "o.creds"))
	if d := time.Until(month); d < 719*time.Hour || d > 721*time.Hour {
		t.Errorf("--valid-for 720h: expires in %v", d)
	}
	code, stdout, _ = kioskhub(t, "creds", "ls", "--data", data)
	if code != 0 || !strings.Contains(stdout, "EXPIRES") || !strings.Contains(stdout, year.UTC().Format(time.RFC3339)) ||
		!strings.Contains(stdout, month.UTC().Format(time.RFC3339)) {
		t.Errorf("creds ls: exit %d\n%s", code, stdout)
	}
}

// expiresOf returns the expiry of the user JWT in a .creds file.
func expiresOf(t *testing.T, file string) time.Time {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	token, err := jwt.ParseDecoratedJWT(b)
	if err != nil {
		t.Fatal(err)
	}
	uc, err := jwt.DecodeUserClaims(token)
	if err != nil {
		t.Fatal(err)
	}
	if uc.Expires == 0 {
		t.Fatalf("%s never expires", file)
	}
	return time.Unix(uc.Expires, 0)
}
