// Package flagconftest holds the checks every binary with a config file
// runs on its own flag set, so kioskd and kioskhub test their files the
// same way rather than each with its own copy.
package flagconftest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/flagconf"
)

// RoundTrip sets every flag of newFlags() but skip to a value other than
// its default, prints the configuration, loads it into fresh flags and
// fails the test if any value changed or a second print differs.
func RoundTrip(t *testing.T, newFlags func() *flag.FlagSet, skip ...string) {
	t.Helper()
	fs := newFlags()
	SetAll(t, fs, skip...)
	var first bytes.Buffer
	if err := flagconf.Print(&first, fs, skip...); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, first.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	fs2 := newFlags()
	if err := flagconf.Load(fs2, path, skip...); err != nil {
		t.Fatalf("Load(--print-config output) = %v\n%s", err, first.String())
	}
	fs.VisitAll(func(f *flag.Flag) {
		if got := fs2.Lookup(f.Name).Value.String(); got != f.Value.String() {
			t.Errorf("--%s = %q after the round trip, want %q", f.Name, got, f.Value.String())
		}
	})
	var second bytes.Buffer
	if err := flagconf.Print(&second, fs2, skip...); err != nil {
		t.Fatal(err)
	}
	if second.String() != first.String() {
		t.Errorf("printed again:\n%s\nfirst:\n%s", second.String(), first.String())
	}
}

// SetAll sets every flag but skip to a value other than its default
// (strings get quotes and a non-ASCII letter, to exercise the quoting).
func SetAll(t *testing.T, fs *flag.FlagSet, skip ...string) {
	t.Helper()
	fs.VisitAll(func(f *flag.Flag) {
		if slices.Contains(skip, f.Name) {
			return
		}
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
			return // a flag kind this check does not know: printed as it is
		}
		if err := fs.Set(f.Name, v); err != nil {
			t.Fatalf("--%s %q: %v", f.Name, v, err)
		}
	})
}

// Example keeps the example config file at path equal to header (with
// "%s" replaced by the arguments) followed by what `NAME args...
// --print-config` prints, rewriting it when update is set, and checks that
// the file loads back to the same configuration. run is the binary's
// main logic (args, stdout, stderr).
func Example(t *testing.T, run func(args []string, stdout, stderr *bytes.Buffer) error, name, header, path string, update bool, args ...string) {
	t.Helper()
	var out, errb bytes.Buffer
	if err := run(append(slices.Clone(args), "--print-config"), &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	want := strings.Replace(header, "%s", strings.Join(args, " "), 1) + out.String()
	if update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s is out of date; run go test ./kiosk/cmd/%s -run TestExampleConfig -update", path, name)
	}
	var again bytes.Buffer
	if err := run([]string{"--config", path, "--print-config"}, &again, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	if again.String() != out.String() {
		t.Errorf("%s --config %s --print-config:\n%s\nwant\n%s", name, path, again.String(), out.String())
	}
}
