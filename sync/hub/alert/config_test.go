package alert

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadConfigExample(t *testing.T) {
	c, err := LoadConfig("testdata/alerts.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.DashboardURL != "https://hub.samsat-sumbar.go.id/" {
		t.Errorf("DashboardURL = %q", c.DashboardURL)
	}
	if c.SMTP == nil || c.SMTP.Password != "not-a-real-password" {
		t.Fatalf("SMTP = %+v, want the password from testdata/smtp.pass", c.SMTP)
	}
	if len(c.Routes) != 3 {
		t.Errorf("%d routes, want 3", len(c.Routes))
	}
	// The password never shows when the config is printed.
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(format, c.SMTP); strings.Contains(s, "not-a-real-password") {
			t.Errorf("Sprintf(%q, SMTP) shows the password: %s", format, s)
		}
		if s := fmt.Sprintf(format, *c.SMTP); strings.Contains(s, "not-a-real-password") {
			t.Errorf("Sprintf(%q, *SMTP) shows the password: %s", format, s)
		}
	}
}

func TestLoadConfigErrors(t *testing.T) {
	const sistim = "[[route]]\nname = \"Bidang Sistim\"\noffices = [\"*\"]\nwebhook = [\"https://chat.example/hooks/abc\"]\n"
	const smtp = "[smtp]\naddr = \"mail.example:587\"\nfrom = \"kioskhub@example.org\"\n"
	for _, tt := range []struct {
		name string
		toml string
		want []string // substrings of the error, in order
	}{
		{"syntax", "dashboard_url = \n" + sistim, []string{"alerts.toml:1:"}},
		{"unknown top-level key", "dashbord_url = \"https://x/\"\n" + sistim, []string{"alerts.toml:1: unknown key dashbord_url"}},
		{"unknown key in smtp", smtp + "pasword = \"x\"\n" + sistim, []string{"alerts.toml:4: unknown key smtp.pasword"}},
		{"unknown key in a route", sistim + "emails = [\"a@example.org\"]\n", []string{"alerts.toml:5: unknown key route.emails"}},
		{"unknown table", "[smpt]\naddr = \"x:25\"\n" + sistim, []string{"alerts.toml:1: unknown key smpt"}},
		{"wrong type", "[[route]]\nname = \"Bidang Sistim\"\noffices = \"*\"\nwebhook = [\"https://x/\"]\n", []string{"alerts.toml:3:"}},
		{"no routes", smtp, []string{"no [[route]]"}},
		{"no star route", "[[route]]\nname = \"UPTD Padang\"\noffices = [\"padang\"]\nwebhook = [\"https://x/\"]\n",
			[]string{`no route for offices = ["*"]: Bidang Sistim must receive every alert`}},
		{"bad dashboard url", "dashboard_url = \"hub.example\"\n" + sistim, []string{`dashboard_url "hub.example": scheme must be http or https`}},
		{"webhook not http", "[[route]]\nname = \"S\"\noffices = [\"*\"]\nwebhook = [\"ftp://files.example/x\"]\n",
			[]string{`route "S": webhook ftp://files.example: scheme must be http or https, not "ftp"`}},
		{"webhook no host", "[[route]]\nname = \"S\"\noffices = [\"*\"]\nwebhook = [\"https:///hooks\"]\n", []string{`route "S": webhook ?: no host`}},
		{"webhook unparsable", "[[route]]\nname = \"S\"\noffices = [\"*\"]\nwebhook = [\"https://x/%zz\"]\n", []string{`route "S": webhook ?: not a URL`}},
		{"bad email", smtp + sistim + "email = [\"sistim at example\"]\n", []string{`route "Bidang Sistim": email "sistim at example": mail: `}},
		{"email with name", smtp + sistim + "email = [\"Sistim <sistim@example.org>\"]\n", []string{`write the bare address, e.g. "sistim@example.org"`}},
		{"email without smtp", sistim + "email = [\"sistim@example.org\"]\n", []string{`route "Bidang Sistim": has email addresses but there is no [smtp] table`}},
		{"route without recipients", "[[route]]\nname = \"S\"\noffices = [\"*\"]\n", []string{`route "S": no webhook and no email`}},
		{"route without name", "[[route]]\noffices = [\"*\"]\nwebhook = [\"https://x/\"]\n", []string{"route 1: name is missing"}},
		{"route without offices", sistim + "[[route]]\nname = \"P\"\nwebhook = [\"https://x/\"]\n", []string{`route "P": offices is missing`}},
		{"duplicate route name", sistim + sistim, []string{`route "Bidang Sistim": the name is used twice`}},
		{"empty office", sistim + "[[route]]\nname = \"P\"\noffices = [\"\"]\nwebhook = [\"https://x/\"]\n", []string{`route "P": office "": empty`}},
		{"office pattern", sistim + "[[route]]\nname = \"P\"\noffices = [\"pad*\"]\nwebhook = [\"https://x/\"]\n", []string{`"*" stands alone`}},
		{"smtp addr", "[smtp]\naddr = \"mail.example\"\nfrom = \"k@example.org\"\n" + sistim, []string{`smtp.addr "mail.example": want host:port`}},
		{"smtp from missing", "[smtp]\naddr = \"mail.example:25\"\n" + sistim, []string{"smtp.from is missing"}},
		{"smtp username without password file", smtp + "username = \"k\"\n" + sistim, []string{"smtp.password_file is missing"}},
		{"smtp password file without username", smtp + "password_file = \"p\"\n" + sistim, []string{"smtp.username is missing"}},
		{"password file unreadable", smtp + "username = \"k\"\npassword_file = \"nonexistent.pass\"\n" + sistim,
			[]string{"smtp.password_file: open ", "nonexistent.pass: no such file"}},
		{"password file empty", smtp + "username = \"k\"\npassword_file = \"empty.pass\"\n" + sistim, []string{"empty.pass is empty"}},
		{"ca file not PEM", smtp + "ca_file = \"empty.pass\"\n" + sistim, []string{"smtp.ca_file", "no PEM certificate"}},
		{"several problems at once", "dashbord_url = \"x\"\n[[route]]\nname = \"S\"\noffices = [\"*\"]\nwebhook = [\"ftp://x\"]\n",
			[]string{"alerts.toml:1: unknown key dashbord_url", "\n", `route "S": webhook ftp://x: scheme`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "alerts.toml")
			if err := os.WriteFile(path, []byte(tt.toml), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "empty.pass"), []byte("\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadConfig(path)
			if err == nil {
				t.Fatalf("LoadConfig(%q) = nil error, want %q", tt.toml, tt.want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "alert: ") {
				t.Errorf("error %q lacks the package prefix", msg)
			}
			rest := msg
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("LoadConfig error =\n%s\nwant it to contain (in order) %q", msg, tt.want)
				}
				rest = rest[i+len(w):]
			}
			t.Logf("%s", msg)
		})
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	_, err := LoadConfig(filepath.Join(t.TempDir(), "none.toml"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "alert: config: ") {
		t.Fatalf("LoadConfig(missing) = %v", err)
	}
}

// TestWebhookTokenNotInErrors: a webhook URL's path is often its password.
func TestWebhookTokenNotInErrors(t *testing.T) {
	_, err := parseConfig("alerts.toml", "[[route]]\nname = \"S\"\noffices = [\"*\"]\nwebhook = [\"ftp://x/secret-token\", \"https://x/%zzsecret-token\"]\n")
	if err == nil || strings.Contains(err.Error(), "secret-token") {
		t.Errorf("parseConfig error = %v; want an error without the token", err)
	}
}

func TestDashboardURLGetsSlash(t *testing.T) {
	c, err := parseConfig("alerts.toml", "dashboard_url = \"https://hub.example/fleet\"\n[[route]]\nname = \"S\"\noffices = [\"*\"]\nwebhook = [\"https://x/\"]\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.DashboardURL != "https://hub.example/fleet/" {
		t.Errorf("DashboardURL = %q, want a trailing slash", c.DashboardURL)
	}
}

func TestTargets(t *testing.T) {
	c, err := parseConfig("alerts.toml", `
[smtp]
addr = "mail.example:587"
from = "kioskhub@example.org"
[[route]]
name = "Bidang Sistim"
offices = ["*"]
webhook = ["https://chat.example/hooks/sistim"]
email = ["sistim@example.org"]
[[route]]
name = "UPTD Padang"
offices = ["padang"]
email = ["uptd.padang@example.org", "Sistim@Example.org"]   # the second is Bidang Sistim again
[[route]]
name = "UPTD Bukittinggi"
offices = ["bukittinggi", "agam"]
webhook = ["https://chat.example/hooks/sistim", "https://chat.example/hooks/bkt"]
[[route]]
name = "Kepala Bidang"
offices = ["*"]
email = ["kabid@example.org"]
`)
	if err != nil {
		t.Fatal(err)
	}
	sistimHook := Target{KindWebhook, "https://chat.example/hooks/sistim", "Bidang Sistim"}
	sistimMail := Target{KindEmail, "sistim@example.org", "Bidang Sistim"}
	kabid := Target{KindEmail, "kabid@example.org", "Kepala Bidang"}
	for _, tt := range []struct {
		office string
		want   []Target
	}{
		{"padang", []Target{sistimHook, sistimMail, {KindEmail, "uptd.padang@example.org", "UPTD Padang"}, kabid}},
		{"agam", []Target{sistimHook, sistimMail, {KindWebhook, "https://chat.example/hooks/bkt", "UPTD Bukittinggi"}, kabid}},
		{"solok", []Target{sistimHook, sistimMail, kabid}}, // no route of its own
		{"", []Target{sistimHook, sistimMail, kabid}},      // the hub's own alert
	} {
		if got := c.Targets(tt.office); !slices.Equal(got, tt.want) {
			t.Errorf("Targets(%q) =\n%v\nwant\n%v", tt.office, got, tt.want)
		}
	}
	for _, want := range c.Targets("agam") {
		if got, ok := c.Target(want.ID()); !ok || got.ID() != want.ID() {
			t.Errorf("Target(%q) = %v, %v; want %v", want.ID(), got, ok, want)
		}
	}
	if _, ok := c.Target("webhook:https://gone.example:0123456789ab"); ok {
		t.Error("Target(unknown id) found something")
	}
}

func TestTargetStringHidesToken(t *testing.T) {
	tg := Target{KindWebhook, "https://chat.example/hooks/secret-token?k=secret-token", "Bidang Sistim"}
	for _, s := range []string{tg.String(), tg.ID()} {
		if strings.Contains(s, "secret-token") {
			t.Errorf("%q shows the token", s)
		}
	}
	if got, want := tg.String(), "webhook https://chat.example/… (Bidang Sistim)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := (Target{KindEmail, "Sistim@Example.org", ""}).ID(), "email:sistim@example.org"; got != want {
		t.Errorf("ID() = %q, want %q", got, want)
	}
}
