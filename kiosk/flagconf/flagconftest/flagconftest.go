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
