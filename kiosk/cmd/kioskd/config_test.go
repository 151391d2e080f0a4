package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/flagconf/flagconftest"
)

var update = flag.Bool("update", false, "rewrite kiosk/flagconf/testdata/kiosk.example.toml")

// writeFile writes a file in a fresh temporary directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConfigFile runs kioskd with --config files.
func TestConfigFile(t *testing.T) {
	const required = "id = \"padang-01\"\noffice = \"padang\"\ndata = \"DATA\"\nnats = \"nats://127.0.0.1:1\"\nhttp = \"127.0.0.1:0\"\nui = \"off\"\n"
	for _, tt := range []struct {
		name   string
		file   string
		args   []string // before --config FILE
		exit   int
		out    []string // lines --print-config must print
		stderr []string // what stderr must say (exit 2)
		not    string   // what stderr must not say
	}{
		{
			name: "print the file",
			file: required + "heartbeat = \"20s\"\nui-fullscreen = true\n",
			args: []string{"--print-config"},
			out:  []string{`id = "padang-01"`, `heartbeat = "20s"`, `ui-fullscreen = true`, `http = "127.0.0.1:0"`},
		},
		{
			name: "flag overrides file",
			file: required + "heartbeat = \"20s\"\n",
			args: []string{"--print-config", "--heartbeat", "5s", "--id", "solok-02"},
			out:  []string{`id = "solok-02"`, `heartbeat = "5s"`, `office = "padang"`},
		},
		{
			name:   "required from the file",
			file:   required + "printer-columns = 40\n",
			exit:   2,
			stderr: []string{"printer-columns 40"},
			not:    "required",
		},
		{
			name:   "required from file and flags",
			file:   "office = \"padang\"\ndata = \"DATA\"\nhttp = \"127.0.0.1:0\"\nprinter-columns = 40\n",
			args:   []string{"--id", "padang-01", "--nats", "nats://127.0.0.1:1"},
			exit:   2,
			stderr: []string{"printer-columns 40"},
			not:    "required",
		},
		{
			name:   "required in neither",
			file:   "office = \"padang\"\n",
			exit:   2,
			stderr: []string{"--nats is required", "--data is required"},
		},
		{
			name:   "file value checked like the flag",
			file:   required + "printer = \"serial:\"\n",
			exit:   2,
			stderr: []string{"--printer"},
		},
		{name: "unknown key", file: required + "hearbeat = \"10s\"\n", exit: 2, stderr: []string{`k.toml: unknown key "hearbeat" (did you mean "heartbeat"?)`}},
		{name: "old print-config key", file: "require_rangka5 = false\n", exit: 2, stderr: []string{`unknown key "require_rangka5" (did you mean "require-rangka5"?)`}},
		{name: "command in file", file: "print-config = true\n", exit: 2, stderr: []string{`unknown key "print-config" (command line only)`}},
		{name: "wrong type", file: "heartbeat = 10\n", exit: 2, stderr: []string{`k.toml: heartbeat: want a duration like "10s", got 10`}},
		{name: "bad duration", file: "idle = \"1 min\"\n", exit: 2, stderr: []string{`k.toml: idle: want a duration like "10s", got "1 min"`}},
		{name: "negative bytes", file: "disk-low = -1\n", exit: 2, stderr: []string{`k.toml: disk-low: want an integer of at least 0, got -1`}},
		{name: "syntax", file: "id = \"padang-01\"\nheartbeat = 10s\n", exit: 2, stderr: []string{"k.toml:2: "}},
		{name: "table", file: "[kioskd]\nid = \"padang-01\"\n", exit: 2, stderr: []string{`unknown key "kioskd" (a table`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			path := writeFile(t, "k.toml", strings.ReplaceAll(tt.file, "DATA", data))
			args := append(append([]string{}, tt.args...), "--config", path)
			var out, errb bytes.Buffer
			err := run(t.Context(), args, &out, &errb)
			if got := exitCode(err); got != tt.exit {
				t.Fatalf("exit %d, want %d (err %v, stderr %q)", got, tt.exit, err, errb.String())
			}
			stderr := strings.ReplaceAll(errb.String(), path, "k.toml")
			for _, want := range tt.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q does not say %q", stderr, want)
				}
			}
			if tt.not != "" && strings.Contains(stderr, tt.not) {
				t.Errorf("stderr %q says %q", stderr, tt.not)
			}
			if strings.Contains(stderr, "k.toml") && strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q: want one line about the file", stderr)
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

func TestConfigMissingFile(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(t.Context(), []string{"--config", filepath.Join(t.TempDir(), "none.toml")}, &out, &errb)
	if got := exitCode(err); got != 2 || !strings.Contains(errb.String(), "none.toml") {
		t.Errorf("missing --config file: exit %d, stderr %q; want 2 naming the file", got, errb.String())
	}
}

// TestPrintConfigNoSecrets: --print-config shows where the credentials are,
// never what they are.
func TestPrintConfigNoSecrets(t *testing.T) {
	creds := writeFile(t, "padang-01.creds", "-----BEGIN USER NKEY SEED-----\nSUAEXAMPLESECRETSEED\n")
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"--creds", creds, "--print-config"}, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	if !strings.Contains(out.String(), "creds = "+strconv.Quote(creds)) || strings.Contains(out.String(), "SUAEXAMPLE") {
		t.Errorf("--print-config output:\n%s\nwant the creds path and not its contents", out.String())
	}
}

// TestConfigRoundTrip sets every kioskd flag to a value other than its
// default, prints the configuration, loads it into fresh flags and checks
// that nothing changed.
func TestConfigRoundTrip(t *testing.T) {
	flagconftest.RoundTrip(t, func() *flag.FlagSet {
		cfg := agent.DefaultConfig()
		var o options
		return newFlags(&cfg, &o)
	}, commands...)
}

// exampleArgs fill in the required settings of the example file.
var exampleArgs = []string{"--id", "padang-01", "--office", "padang", "--data", "/var/lib/kioskd",
	"--nats", "nats://hub.example:4222", "--creds", "/etc/kioskd/padang-01.creds"}

const exampleHeader = `# kioskd configuration: every key, with its default value, except for the
# required id, office, data and nats and the optional creds, filled in as an
# example. Use it with: kioskd --config kiosk.toml
#
# The keys are the flag names (kioskd --help). A flag given on the command
# line overrides the file; an unknown key or a value of the wrong type is an
# error (exit code 2). kioskd --config kiosk.toml --print-config shows the
# configuration in effect.
#
# Generated by: go test ./kiosk/cmd/kioskd -run TestExampleConfig -update
# from: kioskd ` + "%s --print-config" + `

`

// TestExampleConfig keeps kiosk/flagconf/testdata/kiosk.example.toml equal
// to what --print-config prints, and checks that it loads.
func TestExampleConfig(t *testing.T) {
	run := func(args []string, stdout, stderr *bytes.Buffer) error { return run(t.Context(), args, stdout, stderr) }
	flagconftest.Example(t, run, "kioskd", exampleHeader, filepath.Join("..", "..", "flagconf", "testdata", "kiosk.example.toml"), *update, exampleArgs...)
}
