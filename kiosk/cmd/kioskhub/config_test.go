package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/flagconf"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
)

var update = flag.Bool("update", false, "rewrite kiosk/flagconf/testdata/hub.example.toml")

// writeFile writes a file in a fresh temporary directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConfigFile runs kioskhub with --config files; none of them starts a
// hub.
func TestConfigFile(t *testing.T) {
	for _, tt := range []struct {
		name   string
		file   string
		args   []string // before --config FILE
		exit   int
		out    []string // lines --print-config must print
		stderr string   // what stderr must say (exit 2)
		not    string   // what stderr must not say
	}{
		{
			name: "print the file",
			file: "data = \"/srv/hub\"\nrate = 60\nrequire-rangka5 = false\n",
			args: []string{"--print-config"},
			out:  []string{`data = "/srv/hub"`, `rate = 60`, `require-rangka5 = false`, `nats-listen = "127.0.0.1:4222"`},
		},
		{
			name: "flag overrides file",
			file: "data = \"/srv/hub\"\nrate = 60\n",
			args: []string{"--print-config", "--rate", "0", "--http", ""},
			out:  []string{`data = "/srv/hub"`, `rate = 0`, `http = ""`},
		},
		{name: "print without data", file: "rate = 1\n", args: []string{"--print-config"}, out: []string{`data = ""`, `rate = 1`}},
		{
			name:   "required from the file",
			file:   "data = \"/srv/hub\"\nsample-size = 0\n",
			exit:   2,
			stderr: "--sample-size 0",
			not:    "required",
		},
		{name: "required in neither", file: "rate = 1\n", exit: 2, stderr: "--data is required"},
		{name: "unknown key", file: "nats_url = \"nats://x:4222\"\n", exit: 2, stderr: `k.toml: unknown key "nats_url" (did you mean "nats-url"?)`},
		{name: "subcommand flag", file: "n = 20\n", exit: 2, stderr: `k.toml: unknown key "n"`},
		{name: "wrong type", file: "js-max-store = \"10GiB\"\n", exit: 2, stderr: `k.toml: js-max-store: want an integer, got "10GiB"`},
		{name: "syntax", file: "data = '/srv/hub\n", exit: 2, stderr: "k.toml:1: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "k.toml", tt.file)
			args := append(append([]string{}, tt.args...), "--config", path)
			var out, errb bytes.Buffer
			err := run(t.Context(), args, &out, &errb)
			if got := exitCode(err); got != tt.exit {
				t.Fatalf("exit %d, want %d (err %v, stderr %q)", got, tt.exit, err, errb.String())
			}
			stderr := strings.ReplaceAll(errb.String(), path, "k.toml")
			if !strings.Contains(stderr, tt.stderr) || strings.Count(stderr, "\n") > 1 {
				t.Errorf("stderr %q: want one line saying %q", stderr, tt.stderr)
			}
			if tt.not != "" && strings.Contains(stderr, tt.not) {
				t.Errorf("stderr %q says %q", stderr, tt.not)
			}
			lines := strings.Split(out.String(), "\n")
			for _, want := range tt.out {
				if !contains(lines, want) {
					t.Errorf("--print-config lacks the line %s:\n%s", want, out.String())
				}
			}
		})
	}
}

func contains(lines []string, line string) bool {
	for _, l := range lines {
		if l == line {
			return true
		}
	}
	return false
}

// TestConfigRoundTrip sets every kioskhub flag to a value other than its
// default, prints the configuration, loads it into fresh flags and checks
// that nothing changed.
func TestConfigRoundTrip(t *testing.T) {
	cfg := hubserver.DefaultConfig()
	var o options
	fs := newFlags(&cfg, &o)
	setAll(t, fs)
	var first bytes.Buffer
	if err := flagconf.Print(&first, fs, commands...); err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, "hub.toml", first.String())

	cfg2 := hubserver.DefaultConfig()
	var o2 options
	fs2 := newFlags(&cfg2, &o2)
	if err := flagconf.Load(fs2, path, commands...); err != nil {
		t.Fatalf("Load(--print-config output) = %v\n%s", err, first.String())
	}
	fs.VisitAll(func(f *flag.Flag) {
		if got := fs2.Lookup(f.Name).Value.String(); got != f.Value.String() {
			t.Errorf("--%s = %q after the round trip, want %q", f.Name, got, f.Value.String())
		}
	})
	var second bytes.Buffer
	if err := flagconf.Print(&second, fs2, commands...); err != nil {
		t.Fatal(err)
	}
	if second.String() != first.String() {
		t.Errorf("printed again:\n%s\nfirst:\n%s", second.String(), first.String())
	}
}

// setAll sets every flag but the commands to a value other than its default.
func setAll(t *testing.T, fs *flag.FlagSet) {
	t.Helper()
	fs.VisitAll(func(f *flag.Flag) {
		var v string
		switch d := f.Value.(flag.Getter).Get().(type) {
		case string:
			v = d + "-x \"q\" é"
		case bool:
			v = strconv.FormatBool(!d)
		case int:
			v = strconv.Itoa(d + 7)
		case int64:
			v = strconv.FormatInt(d+7, 10)
		case uint:
			v = strconv.FormatUint(uint64(d)+7, 10)
		case uint64:
			v = strconv.FormatUint(d+7, 10)
		case float64:
			v = strconv.FormatFloat(d+0.5, 'g', -1, 64)
		case time.Duration:
			v = (d + 1500*time.Millisecond).String()
		default:
			return // a flag kind this test does not know: printed as it is
		}
		for _, c := range commands {
			if f.Name == c {
				return
			}
		}
		if err := fs.Set(f.Name, v); err != nil {
			t.Fatalf("--%s %q: %v", f.Name, v, err)
		}
	})
}

// exampleArgs fill in the required setting of the example file.
var exampleArgs = []string{"--data", "/var/lib/kioskhub"}

const exampleHeader = `# kioskhub configuration: every key, with its default value, except for the
# required data, filled in as an example. Use it with:
# kioskhub --config hub.toml
#
# The keys are the flag names (kioskhub --help); the subcommands (sample
# plates, ...) take flags only. A flag given on the command line overrides
# the file; an unknown key or a value of the wrong type is an error (exit
# code 2). kioskhub --config hub.toml --print-config shows the configuration
# in effect.
#
# Generated by: go test ./kiosk/cmd/kioskhub -run TestExampleConfig -update
# from: kioskhub ` + "%s --print-config" + `

`

// TestExampleConfig keeps kiosk/flagconf/testdata/hub.example.toml equal to
// what --print-config prints, and checks that it loads.
func TestExampleConfig(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(t.Context(), append(append([]string{}, exampleArgs...), "--print-config"), &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	header := strings.Replace(exampleHeader, "%s", strings.Join(exampleArgs, " "), 1)
	want := header + out.String()
	path := filepath.Join("..", "..", "flagconf", "testdata", "hub.example.toml")
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s is out of date; run go test ./kiosk/cmd/kioskhub -run TestExampleConfig -update", path)
	}

	var again bytes.Buffer
	if err := run(t.Context(), []string{"--config", path, "--print-config"}, &again, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	if again.String() != out.String() {
		t.Errorf("kioskhub --config %s --print-config:\n%s\nwant\n%s", path, again.String(), out.String())
	}
}
