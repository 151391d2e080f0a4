package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
)

func startTestHub(t *testing.T, data string) *hubserver.Hub {
	t.Helper()
	cfg := hubserver.DefaultConfig()
	cfg.Data, cfg.NATSListen, cfg.SampleSize = data, "127.0.0.1:0", 200
	h, err := hubserver.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestUserAddAndRebuild: `kioskhub user add` on a stopped hub prints a
// generated password once and the user can log in with it after the hub
// starts; on a running hub the change is there when the command returns;
// `user disable` ends the user's sessions (new epoch); `rebuild` refuses
// a running hub and, on a stopped one, keeps the users.
func TestUserAddAndRebuild(t *testing.T) {
	data := t.TempDir()
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"user", "add", "ani", "--role", "uptd", "--office", "padang,pariaman", "--data", data}, &out, &errb); err != nil {
		t.Fatalf("user add: %v (%s)", err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	pw := lines[len(lines)-1]
	if len(pw) != 16 || !strings.Contains(out.String(), "shown only now") {
		t.Fatalf("user add printed %q", out.String())
	}

	h := startTestHub(t, data)
	u, err := h.Store().User(t.Context(), "ani")
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != "uptd" || strings.Join(u.Offices, ",") != "padang,pariaman" || bcrypt.CompareHashAndPassword([]byte(u.Hash), []byte(pw)) != nil {
		t.Fatalf("user = %+v; the printed password must match", u)
	}

	out.Reset()
	if err := run(t.Context(), []string{"user", "add", "budi", "--role", "sistim", "--data", data}, &out, &errb); err != nil {
		t.Fatalf("user add on a running hub: %v (%s)", err, errb.String())
	}
	if u, err := h.Store().User(t.Context(), "budi"); err != nil || u.Role != "sistim" {
		t.Fatalf("budi on the running hub: %+v, %v", u, err)
	}
	if err := run(t.Context(), []string{"user", "disable", "ani", "--data", data}, &out, &errb); err != nil {
		t.Fatalf("user disable: %v (%s)", err, errb.String())
	}
	if u2, _ := h.Store().User(t.Context(), "ani"); !u2.Disabled || u2.Epoch <= u.Epoch {
		t.Fatalf("after disable: %+v (before: epoch %d)", u2, u.Epoch)
	}

	errb.Reset()
	err = run(t.Context(), []string{"rebuild", "--data", data}, &out, &errb)
	if exitCode(err) != 1 || !strings.Contains(errb.String(), "stop it first") {
		t.Fatalf("rebuild of a running hub: exit %d, %q", exitCode(err), errb.String())
	}
	h.Close()
	out.Reset()
	if err := run(t.Context(), []string{"rebuild", "--data", data}, &out, &errb); err != nil {
		t.Fatalf("rebuild: %v (%s)", err, errb.String())
	}
	if !strings.Contains(out.String(), "nothing was alerted") {
		t.Errorf("rebuild printed %q", out.String())
	}
	h = startTestHub(t, data)
	defer h.Close()
	us, err := h.Store().Users(t.Context())
	if err != nil || len(us) != 2 || !us[0].Disabled || us[1].Name != "budi" {
		t.Fatalf("users after rebuild: %+v, %v", us, err)
	}
}

func TestUserUsageErrors(t *testing.T) {
	data := t.TempDir()
	for _, args := range [][]string{
		{"user"},
		{"user", "add", "ani", "--role", "uptd", "--data", data},                         // uptd without office
		{"user", "add", "ani", "--role", "sistim", "--office", "padang", "--data", data}, // sistim with office
		{"user", "add", "ani", "--role", "boss", "--data", data},
		{"user", "add", "Ani Z", "--role", "admin", "--data", data},
		{"user", "add", "ani", "--role", "admin"}, // no --data
		{"user", "rename", "ani", "--data", data},
		{"rebuild"},
		{"restore", "--data", data},
	} {
		var out, errb bytes.Buffer
		err := run(t.Context(), args, &out, &errb)
		if got := exitCode(err); got != 2 || errb.Len() == 0 {
			t.Errorf("kioskhub %q: exit %d, stderr %q; want 2 with a message", args, got, errb.String())
		}
	}
	if ents, _ := os.ReadDir(data); len(ents) != 0 {
		t.Errorf("refused commands wrote into the data directory: %v", ents)
	}
}

// TestBackupRestoreCLI: `kioskhub backup` of a stopped hub, then `restore`
// into an empty data directory: the restored hub has the same users and
// streams (its operator keys too: the restored trust material is used).
func TestBackupRestoreCLI(t *testing.T) {
	data, target, restored := t.TempDir(), t.TempDir(), t.TempDir()
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"user", "add", "ani", "--role", "admin", "--data", data}, &out, &errb); err != nil {
		t.Fatalf("user add: %v (%s)", err, errb.String())
	}
	out.Reset()
	if err := run(t.Context(), []string{"backup", "--data", data, "--to", target}, &out, &errb); err != nil {
		t.Fatalf("backup: %v (%s)", err, errb.String())
	}
	if !strings.Contains(out.String(), "written and verified") {
		t.Fatalf("backup printed %q", out.String())
	}
	dir := strings.Fields(out.String())[1]
	out.Reset()
	if err := run(t.Context(), []string{"restore", "--data", restored, "--from", dir}, &out, &errb); err != nil {
		t.Fatalf("restore: %v (%s)", err, errb.String())
	}
	if !strings.Contains(out.String(), "stream HUB_EVENTS: 1 messages") {
		t.Errorf("restore printed %q", out.String())
	}
	orig, _ := os.ReadFile(data + "/auth/account.jwt")
	back, _ := os.ReadFile(restored + "/auth/account.jwt")
	if len(orig) == 0 || string(orig) != string(back) {
		t.Errorf("the account JWT was not restored")
	}
	h := startTestHub(t, restored)
	defer h.Close()
	if u, err := h.Store().User(t.Context(), "ani"); err != nil || u.Role != "admin" {
		t.Fatalf("restored hub: user %+v, %v", u, err)
	}
	// A second restore over it is refused without --force.
	errb.Reset()
	h.Close()
	if err := run(t.Context(), []string{"restore", "--data", restored, "--from", dir}, &out, &errb); exitCode(err) != 1 {
		t.Fatalf("restore over a hub's data: exit %d (%s), want 1", exitCode(err), errb.String())
	}
}
