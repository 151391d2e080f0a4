package natsauth_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"

	"github.com/sumbar-samsat/pkbkiosk/sync/natsauth"
)

func open(t *testing.T) *natsauth.Auth {
	t.Helper()
	a, err := natsauth.Open(filepath.Join(t.TempDir(), "data", "auth"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestOpenCreatesOnceAndReuses(t *testing.T) {
	a := open(t)
	if !a.Created() {
		t.Error("Created() = false on first use")
	}
	st, err := os.Stat(a.Dir())
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, %v; want 0700", st.Mode().Perm(), err)
	}
	entries, _ := os.ReadDir(a.Dir())
	for _, e := range entries {
		info, _ := e.Info()
		if info.Mode().IsRegular() && info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
	}
	b, err := natsauth.Open(a.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if b.Created() {
		t.Error("Created() = true when reopening")
	}
	if a.AccountPublicKey() != b.AccountPublicKey() || a.Operator().Subject != b.Operator().Subject {
		t.Error("reopening made new keys")
	}
	sys, _ := a.SystemAccount()
	if a.Operator().SystemAccount != sys {
		t.Errorf("operator names system account %s, have %s", a.Operator().SystemAccount, sys)
	}
	token, err := a.AccountJWT()
	if err != nil {
		t.Fatal(err)
	}
	ac, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		t.Fatal(err)
	}
	if ac.Name != natsauth.AccountName || !ac.Limits.IsJSEnabled() || ac.Issuer != a.Operator().Subject {
		t.Errorf("account claims: name %q, JetStream %v, issuer %s", ac.Name, ac.Limits.IsJSEnabled(), ac.Issuer)
	}
}

// userOf parses a .creds file as nats.go does and returns its claims.
func userOf(t *testing.T, creds []byte) *jwt.UserClaims {
	t.Helper()
	token, err := jwt.ParseDecoratedJWT(creds)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := jwt.ParseDecoratedUserNKey(creds)
	if err != nil {
		t.Fatal(err)
	}
	uc, err := jwt.DecodeUserClaims(token)
	if err != nil {
		t.Fatal(err)
	}
	if pub, _ := kp.PublicKey(); pub != uc.Subject {
		t.Errorf("seed %s does not match the JWT subject %s", pub, uc.Subject)
	}
	return uc
}

func TestIssueKiosk(t *testing.T) {
	a := open(t)
	creds, u, err := a.IssueKiosk("padang-01", "padang", false)
	if err != nil {
		t.Fatal(err)
	}
	uc := userOf(t, creds)
	if uc.Name != "padang-01" || uc.Issuer != a.AccountPublicKey() || u.PublicKey != uc.Subject || u.Kind != natsauth.KindKiosk || u.Office != "padang" {
		t.Errorf("claims name %q issuer %s; user %+v", uc.Name, uc.Issuer, u)
	}
	want := natsauth.KioskPermissions("padang-01")
	for _, tt := range []struct {
		what      string
		got, want []string
	}{
		{"pub allow", uc.Pub.Allow, []string{"kiosk.padang-01.hb", "kiosk.padang-01.evt.>", "pkb.lookup.padang-01",
			"hub.content.padang-01", "hub.time.padang-01", "$SRV.PING.pkb"}},
		{"sub allow", uc.Sub.Allow, []string{"kiosk.padang-01.cmd.>", "_INBOX_padang-01.>", "$SRV.>"}},
		{"pub deny", uc.Pub.Deny, nil},
		{"sub deny", uc.Sub.Deny, nil},
	} {
		if !slices.Equal(tt.got, tt.want) {
			t.Errorf("%s = %q, want %q", tt.what, tt.got, tt.want)
		}
	}
	if uc.Resp == nil || uc.Resp.MaxMsgs != 1 {
		t.Errorf("allow_responses = %+v, want max 1", uc.Resp)
	}
	if !slices.Equal(uc.Pub.Allow, want.Pub.Allow) || !slices.Equal(uc.Sub.Allow, want.Sub.Allow) {
		t.Error("the .creds permissions differ from KioskPermissions")
	}
	if !uc.Tags.Contains("kiosk") || !uc.Tags.Contains("office:padang") {
		t.Errorf("tags %q", uc.Tags)
	}
	users, err := a.Users()
	if err != nil || len(users) != 1 || users[0] != u {
		t.Errorf("Users() = %+v, %v", users, err)
	}
}

func TestIssueOperator(t *testing.T) {
	a := open(t)
	creds, _, err := a.IssueOperator("budi", false)
	if err != nil {
		t.Fatal(err)
	}
	uc := userOf(t, creds)
	if uc.Name != "budi" || !slices.Contains(uc.Pub.Allow, "kiosk.*.cmd.>") || !slices.Contains(uc.Sub.Allow, "_INBOX.>") ||
		!slices.Contains(uc.Pub.Deny, "hub.evt.>") || uc.Resp != nil {
		t.Errorf("operator claims %+v", uc.Permissions)
	}
}

func TestIssueBadInput(t *testing.T) {
	a := open(t)
	for _, tt := range []struct {
		name      string
		issue     func() error
		wantInErr string
	}{
		{"invalid kiosk id", func() error { _, _, err := a.IssueKiosk("Padang 01", "padang", false); return err }, `kiosk id "Padang 01" is invalid`},
		{"id with a dot", func() error { _, _, err := a.IssueKiosk("padang.01", "padang", false); return err }, "is invalid"},
		{"wildcard id", func() error { _, _, err := a.IssueKiosk("*", "padang", false); return err }, "is invalid"},
		{"no office", func() error { _, _, err := a.IssueKiosk("padang-01", "", false); return err }, "office is required"},
		{"invalid operator", func() error { _, _, err := a.IssueOperator("Budi!", false); return err }, "operator name"},
		{"reserved", func() error { _, _, err := a.IssueOperator(natsauth.HubUser, false); return err }, "reserved"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.issue()
			if err == nil || !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("error %v, want it to mention %q", err, tt.wantInErr)
			}
		})
	}
	if users, _ := a.Users(); len(users) != 0 {
		t.Errorf("bad input registered users: %+v", users)
	}
	if _, _, err := a.IssueKiosk("budi-01", "padang", false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.IssueOperator("budi-01", false); !errors.Is(err, natsauth.ErrKindConflict) {
		t.Errorf("operator named like a kiosk: %v, want ErrKindConflict", err)
	}
}

func TestRevoke(t *testing.T) {
	a := open(t)
	_, first, _ := a.IssueKiosk("padang-01", "padang", false)
	_, second, _ := a.IssueKiosk("padang-01", "padang", false)
	_, other, _ := a.IssueKiosk("padang-02", "padang", false)
	revoked, err := a.Revoke("padang-01")
	if err != nil {
		t.Fatal(err)
	}
	if len(revoked) != 2 || revoked[0].PublicKey != first.PublicKey || revoked[1].PublicKey != second.PublicKey {
		t.Errorf("Revoke(padang-01) = %+v, want both of its credentials", revoked)
	}
	token, _ := a.AccountJWT()
	ac, _ := jwt.DecodeAccountClaims(token)
	for _, u := range []natsauth.User{first, second} {
		if !ac.Revocations.IsRevoked(u.PublicKey, u.IssuedAt) {
			t.Errorf("%s not in the account's revocations", u.PublicKey)
		}
	}
	if ac.Revocations.IsRevoked(other.PublicKey, other.IssuedAt) {
		t.Error("padang-02 revoked too")
	}
	if again, err := a.Revoke("padang-01"); err != nil || len(again) != 0 {
		t.Errorf("second Revoke = %+v, %v; want nothing, no error", again, err)
	}
	if _, err := a.Revoke("padang-99"); !errors.Is(err, natsauth.ErrUnknownUser) {
		t.Errorf("Revoke(unknown) = %v, want ErrUnknownUser", err)
	}
	// By public key: only that credential.
	revoked, err = a.Revoke(other.PublicKey)
	if err != nil || len(revoked) != 1 || revoked[0].Name != "padang-02" {
		t.Errorf("Revoke(key) = %+v, %v", revoked, err)
	}
	users, _ := a.Users()
	for _, u := range users {
		if u.Valid() {
			t.Errorf("%+v still valid", u)
		}
	}
}

func TestIssueReplace(t *testing.T) {
	a := open(t)
	_, old, _ := a.IssueKiosk("padang-01", "padang", false)
	_, cur, err := a.IssueKiosk("padang-01", "padang", true)
	if err != nil {
		t.Fatal(err)
	}
	token, _ := a.AccountJWT()
	ac, _ := jwt.DecodeAccountClaims(token)
	if !ac.Revocations.IsRevoked(old.PublicKey, old.IssuedAt) || ac.Revocations.IsRevoked(cur.PublicKey, cur.IssuedAt.Add(time.Second)) {
		t.Errorf("after replace: old revoked %v, new revoked %v", ac.Revocations.IsRevoked(old.PublicKey, old.IssuedAt),
			ac.Revocations.IsRevoked(cur.PublicKey, cur.IssuedAt))
	}
	users, _ := a.Users()
	if len(users) != 2 || users[0].Valid() || !users[1].Valid() {
		t.Errorf("registry after replace: %+v", users)
	}
}

func TestOpenCorrupt(t *testing.T) {
	for _, tt := range []struct {
		name  string
		spoil func(dir string) error
		want  string
	}{
		{"missing operator seed", func(d string) error { return os.Remove(filepath.Join(d, "operator.nk")) }, "operator.nk"},
		{"garbage account jwt", func(d string) error { return os.WriteFile(filepath.Join(d, "account.jwt"), []byte("nonsense"), 0o600) }, "account.jwt"},
		{"user seed as account seed", func(d string) error {
			return os.WriteFile(filepath.Join(d, "account.nk"), []byte("SUAIO3FHUX5PNV2LQIIP7TZ3N4L7TX3W53MQGEIVYFIGA635OZCKEYHFLM\n"), 0o600)
		}, "account.nk"},
		{"registry not json", func(d string) error { return os.WriteFile(filepath.Join(d, "users.json"), []byte("{"), 0o600) }, "users.json"},
		{"empty directory", func(d string) error {
			if err := os.RemoveAll(d); err != nil {
				return err
			}
			return os.Mkdir(d, 0o700)
		}, "operator.nk"},
		{"keys of another operator", func(d string) error {
			other, err := natsauth.Open(filepath.Join(filepath.Dir(d), "other"))
			if err != nil {
				return err
			}
			b, err := os.ReadFile(filepath.Join(other.Dir(), "operator.nk"))
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(d, "operator.nk"), b, 0o600)
		}, "operator.jwt"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := open(t)
			if err := tt.spoil(a.Dir()); err != nil {
				t.Fatal(err)
			}
			_, err := natsauth.Open(a.Dir())
			if !errors.Is(err, natsauth.ErrCorrupt) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "backup") {
				t.Errorf("Open: %v; want ErrCorrupt naming %s and the way out", err, tt.want)
			}
		})
	}
}

func TestRunningLock(t *testing.T) {
	a := open(t)
	if running, err := a.Running(); err != nil || running {
		t.Fatalf("Running() = %v, %v before any hub", running, err)
	}
	release, err := a.LockRunning()
	if err != nil {
		t.Fatal(err)
	}
	if running, _ := a.Running(); !running {
		t.Error("Running() = false while locked")
	}
	if _, err := a.LockRunning(); !errors.Is(err, natsauth.ErrHubRunning) {
		t.Errorf("second LockRunning: %v, want ErrHubRunning", err)
	}
	release()
	if running, _ := a.Running(); running {
		t.Error("Running() = true after release")
	}
}

func TestWaitApplied(t *testing.T) {
	a := open(t)
	_, _, _ = a.IssueKiosk("padang-01", "padang", false)
	revoked, err := a.Revoke("padang-01")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if err := a.WaitApplied(ctx, revoked); err == nil {
		t.Error("WaitApplied succeeded with nothing applied")
	}
	token, _ := a.AccountJWT()
	if err := a.MarkApplied(token); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := a.WaitApplied(ctx, revoked); err != nil {
		t.Error(err)
	}
}

func TestIssueExpiry(t *testing.T) {
	a := open(t)
	before := time.Now().Truncate(time.Second)
	creds, u, err := a.IssueKiosk("padang-01", "padang", false)
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	uc := userOf(t, creds)
	want := u.IssuedAt.Add(natsauth.DefaultValidity)
	if got := time.Unix(uc.Expires, 0); !got.Equal(want) || !u.Expires.Equal(want) {
		t.Errorf("default expiry: JWT %v, registry %v; want issue time + %v = %v", got, u.Expires, natsauth.DefaultValidity, want)
	}
	if u.Expires.Before(before.Add(natsauth.DefaultValidity)) || u.Expires.After(after.Add(natsauth.DefaultValidity)) {
		t.Errorf("expiry %v not a year after now", u.Expires)
	}
	creds, op, err := a.IssueOperator("budi", false, natsauth.ValidFor(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if uc := userOf(t, creds); uc.Expires != op.IssuedAt.Add(48*time.Hour).Unix() {
		t.Errorf("ValidFor(48h): expires %v, issued %v", time.Unix(uc.Expires, 0), op.IssuedAt)
	}
	if op.Expired(op.IssuedAt.Add(47*time.Hour)) || !op.Expired(op.IssuedAt.Add(48*time.Hour)) {
		t.Error("Expired() wrong around the expiry")
	}
	if _, _, err := a.IssueKiosk("padang-02", "padang", false, natsauth.ValidFor(0)); err == nil {
		t.Error("ValidFor(0) accepted")
	}
	users, err := a.Users()
	if err != nil || len(users) != 2 || !users[0].Expires.Equal(u.Expires) || !users[1].Expires.Equal(op.Expires) {
		t.Errorf("registry %+v, %v", users, err)
	}
	// The hub's own users never expire: nobody would renew them.
	b, err := os.ReadFile(a.HubCreds())
	if err != nil {
		t.Fatal(err)
	}
	if uc := userOf(t, b); uc.Expires != 0 {
		t.Errorf("hub.creds expires %v", time.Unix(uc.Expires, 0))
	}
}

// TestUsersWithoutExpiry reads a registry written before credentials had
// an expiry: their Expires is zero, and it stays absent when rewritten.
func TestUsersWithoutExpiry(t *testing.T) {
	a := open(t)
	old := `[{"name":"padang-01","kind":"kiosk","office":"padang","public_key":"UABC","issued_at":"2025-03-01T08:00:00Z"}]`
	if err := os.WriteFile(filepath.Join(a.Dir(), "users.json"), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	users, err := a.Users()
	if err != nil || len(users) != 1 || !users[0].Expires.IsZero() || users[0].Expired(time.Now()) || !users[0].Valid() {
		t.Fatalf("Users() = %+v, %v; want one valid user with zero Expires", users, err)
	}
	if _, _, err := a.IssueKiosk("padang-02", "padang", false); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(a.Dir(), "users.json"))
	if n := strings.Count(string(b), `"expires"`); n != 1 {
		t.Errorf("users.json has %d expires fields, want 1 (the new user):\n%s", n, b)
	}
}
