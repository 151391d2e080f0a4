package flagconf

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// commands are the test set's flags that are not settings.
var commands = []string{"config", "print-config", "version"}

// listValue is a repeatable flag (--tag a --tag b).
type listValue []string

func (l *listValue) String() string     { return strings.Join(*l, ",") }
func (l *listValue) Set(s string) error { *l = append(*l, s); return nil }
func (l *listValue) Get() any           { return []string(*l) }

// modeValue is a custom flag.Value without Get, like a parsed spec.
type modeValue string

func (m *modeValue) String() string { return string(*m) }
func (m *modeValue) Set(s string) error {
	if s != "on" && s != "off" {
		return errors.New(`want on or off`)
	}
	*m = modeValue(s)
	return nil
}

// newTestFlags has a flag of every kind Load knows.
func newTestFlags() *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("name", "kiosk", "a string")
	fs.String("creds", "", "NATS credentials file (.creds)")
	fs.Duration("heartbeat", 10*time.Second, "status heartbeat interval")
	fs.Bool("ui-fullscreen", false, "a switch, off by default")
	fs.Bool("require-rangka5", true, "a switch, on by default")
	fs.Int("cache-max", 10_000, "an int")
	fs.Int64("seed", 1, "an int64")
	fs.Uint("columns", 0, "a uint")
	fs.Uint64("disk-low", 1<<30, "a uint64")
	fs.Float64("ratio", 0.5, "a float")
	fs.Var(new(listValue), "tag", "repeatable")
	mode := modeValue("off")
	fs.Var(&mode, "mode", "on or off")
	fs.String("config", "", "TOML config file")
	fs.Bool("print-config", false, "print the configuration and exit")
	fs.Bool("version", false, "print the version and exit")
	return fs
}

// values is every flag's String(), by name.
func values(fs *flag.FlagSet) map[string]string {
	m := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { m[f.Name] = f.Value.String() })
	return m
}

func TestLoad(t *testing.T) {
	for _, tt := range []struct {
		name string
		file string
		args []string          // the command line
		err  string            // the whole message, with "k.toml" for the path; "" for success
		want map[string]string // flags' values after loading
	}{
		{name: "empty", file: "", want: map[string]string{"heartbeat": "10s", "name": "kiosk"}},
		{name: "comments only", file: "# nothing\n\n", want: map[string]string{"cache-max": "10000"}},
		{
			name: "every kind",
			file: `name = "padang-01"
heartbeat = "1m30s"
ui-fullscreen = true
require-rangka5 = false
cache-max = -5
seed = 9223372036854775807
columns = 42
disk-low = 0
ratio = 1.25
tag = ["a", "b c"]
mode = "on"
`,
			want: map[string]string{
				"name": "padang-01", "heartbeat": "1m30s", "ui-fullscreen": "true", "require-rangka5": "false",
				"cache-max": "-5", "seed": "9223372036854775807", "columns": "42", "disk-low": "0",
				"ratio": "1.25", "tag": "a,b c", "mode": "on",
			},
		},
		{name: "float from integer", file: "ratio = 2", want: map[string]string{"ratio": "2"}},
		{name: "quoted key", file: `"heartbeat" = "2s"`, want: map[string]string{"heartbeat": "2s"}},
		{name: "empty array", file: "tag = []", want: map[string]string{"tag": ""}},
		{
			name: "flag overrides file",
			file: "heartbeat = \"20s\"\ncache-max = 5\ntag = [\"file\"]\n",
			args: []string{"--heartbeat", "5s", "--tag", "cli"},
			want: map[string]string{"heartbeat": "5s", "cache-max": "5", "tag": "cli"},
		},
		{
			name: "flag set to its default still overrides",
			file: `heartbeat = "20s"`,
			args: []string{"--heartbeat", "10s"},
			want: map[string]string{"heartbeat": "10s"},
		},
		{
			name: "a flag does not excuse a bad key",
			file: "heartbeat = 10\n",
			args: []string{"--heartbeat", "5s"},
			err:  `k.toml: heartbeat: want a duration like "10s", got 10`,
		},
		{name: "custom value refuses an element", file: `mode = ["on", "maybe"]`, err: `k.toml: mode: "maybe": want on or off`},
		{name: "unknown key", file: `hearbeat = "10s"`, err: `k.toml: unknown key "hearbeat" (did you mean "heartbeat"?)`},
		{name: "unknown key, no hint", file: `colour = "red"`, err: `k.toml: unknown key "colour"`},
		{name: "underscore for dash", file: "require_rangka5 = false", err: `k.toml: unknown key "require_rangka5" (did you mean "require-rangka5"?)`},
		{name: "wrong case", file: `Heartbeat = "1s"`, err: `k.toml: unknown key "Heartbeat" (did you mean "heartbeat"?)`},
		{name: "unknown keys in file order", file: "zz = 1\naa = 2\nname = \"x\"\n", err: `k.toml: unknown keys "zz", "aa"`},
		{name: "unknown key sets nothing", file: "name = \"x\"\nbogus = 1\n", err: `k.toml: unknown key "bogus"`},
		{name: "command", file: "version = true", err: `k.toml: unknown key "version" (command line only)`},
		{name: "config in config", file: `config = "other.toml"`, err: `k.toml: unknown key "config" (command line only)`},
		{name: "table", file: "[agent]\nheartbeat = \"1s\"\n", err: `k.toml: unknown key "agent" (a table: settings are top-level keys)`},
		{name: "dotted key", file: `agent.heartbeat = "1s"`, err: `k.toml: unknown key "agent" (a table: settings are top-level keys)`},
		{name: "array of tables", file: "[[agent]]\nx = 1\n", err: `k.toml: unknown key "agent"`},
		{name: "table for a flag", file: "[heartbeat]\nx = 1\n", err: `k.toml: heartbeat: want a duration like "10s", got a table`},
		{name: "duration as integer", file: "heartbeat = 10", err: `k.toml: heartbeat: want a duration like "10s", got 10`},
		{name: "bad duration", file: `heartbeat = "10 s"`, err: `k.toml: heartbeat: want a duration like "10s", got "10 s"`},
		{name: "duration without unit", file: `heartbeat = "10"`, err: `k.toml: heartbeat: want a duration like "10s", got "10"`},
		{name: "bool as string", file: `ui-fullscreen = "yes"`, err: `k.toml: ui-fullscreen: want true or false, got "yes"`},
		{name: "bool as integer", file: `ui-fullscreen = 1`, err: `k.toml: ui-fullscreen: want true or false, got 1`},
		{name: "int as float", file: "cache-max = 1.5", err: `k.toml: cache-max: want an integer, got 1.5`},
		{name: "int as string", file: `cache-max = "10"`, err: `k.toml: cache-max: want an integer, got "10"`},
		{name: "negative uint", file: "columns = -1", err: `k.toml: columns: want an integer of at least 0, got -1`},
		{name: "negative uint64", file: "disk-low = -1", err: `k.toml: disk-low: want an integer of at least 0, got -1`},
		{name: "string as number", file: "name = 42", err: `k.toml: name: want a string, got 42`},
		{name: "string as date", file: "name = 1979-05-27", err: `k.toml: name: want a string, got a date or time`},
		{name: "string as array", file: `name = ["a"]`, err: `k.toml: name: want a string, got an array`},
		{name: "float as string", file: `ratio = "0.5"`, err: `k.toml: ratio: want a number, got "0.5"`},
		{name: "custom value refuses", file: `mode = "maybe"`, err: `k.toml: mode: want on or off`},
		{name: "array of non-strings", file: "tag = [1, 2]", err: `k.toml: tag: want an array of strings, got an array`},
		{name: "array for a scalar flag", file: `tag = "a"`, err: `k.toml: tag: want an array of strings, got "a"`},
		{
			name: "several bad values on one line",
			file: "heartbeat = 10\ncache-max = \"x\"\n",
			err:  `k.toml: heartbeat: want a duration like "10s", got 10; cache-max: want an integer, got "x"`,
		},
		{name: "syntax: unterminated string", file: "name = \"x\"\n\nheartbeat = \"10s\n", err: "k.toml:3: strings cannot contain newlines"},
		{name: "syntax: no value", file: "name = \"x\"\ncache-max =\n", err: "k.toml:2: expected value but found '\\n' instead"},
		{name: "syntax: duplicate key", file: "name = \"x\"\nname = \"y\"\n", err: `k.toml:2: Key 'name' has already been defined.`},
		{name: "syntax: bare word", file: "heartbeat = 10s\n", err: `k.toml:1: expected a top-level item to end with a newline, comment, or EOF, but got 's' instead`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "k.toml")
			if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			fs := newTestFlags()
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			before := values(fs)
			err := Load(fs, path, commands...)
			if tt.err != "" {
				if err == nil {
					t.Fatalf("Load() = nil, want %q", tt.err)
				}
				if got := strings.ReplaceAll(err.Error(), path, "k.toml"); got != tt.err {
					t.Errorf("Load() error\n got %s\nwant %s", got, tt.err)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("Load() error %q is not one line", err)
				}
				if strings.HasPrefix(tt.err, "k.toml: unknown") || strings.HasPrefix(tt.err, "k.toml:") && !strings.HasPrefix(tt.err, "k.toml: ") {
					if after := values(fs); !equal(before, after) {
						t.Errorf("Load() changed flags although the file was refused: %v", after)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Load() = %v", err)
			}
			got := values(fs)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("--%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.toml")
	err := Load(newTestFlags(), path)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("Load(missing) = %v, want a not-exist error naming %s", err, path)
	}
}

func TestPrint(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.String("id", "", "kiosk id (required)")
	fs.Duration("heartbeat", 10*time.Second, "status heartbeat interval")
	fs.Bool("ui-fullscreen", false, "start `kioskui` full-screen")
	fs.Uint64("disk-low", 1<<30, "free bytes\nbelow which disk.low is raised")
	fs.Float64("ratio", 1, "a float")
	fs.Var(new(listValue), "tag", "repeatable")
	fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse([]string{"--id", `padang-01 "x"`, "--heartbeat", "1h", "--tag", "a", "--tag", "b"}); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Print(&b, fs, "version"); err != nil {
		t.Fatal(err)
	}
	want := `# free bytes
# below which disk.low is raised
disk-low = 1073741824

# status heartbeat interval (default 10s)
heartbeat = "1h"

# kiosk id (required)
id = "padang-01 \"x\""

# a float
ratio = 1.0

# repeatable
tag = ["a", "b"]

# start kioskui full-screen
ui-fullscreen = false
`
	if b.String() != want {
		t.Errorf("Print() =\n%s\nwant\n%s", b.String(), want)
	}
}

// TestPrintRoundTrip sets every flag to an awkward value, prints the set,
// loads the output into a fresh set and checks that both agree.
func TestPrintRoundTrip(t *testing.T) {
	for _, args := range [][]string{
		nil, // the defaults
		{
			"--name", "tab\there \"quoted\" back\\slash \x00\x01\x1f\x7f é 日本 \U0001F600 \u2028",
			"--creds", "/etc/kioskd/padang-01.creds",
			"--heartbeat", "1h0m0.5s", "--ui-fullscreen", "--require-rangka5=false",
			"--cache-max", "-9223372036854775808", "--seed", "9223372036854775807",
			"--columns", "0", "--disk-low", "9223372036854775807", "--ratio", "-0",
			"--tag", "", "--tag", "x\ny", "--mode", "on",
		},
		{"--ratio", "1e300", "--heartbeat", "0s", "--name", ""},
		{"--ratio", "NaN", "--heartbeat", "-1.5us"},
		{"--ratio", "-Inf", "--heartbeat", "2562047h47m16.854775807s"},
		{"--ratio", "123456789.125e-20"},
	} {
		fs := newTestFlags()
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := Print(&out, fs, commands...); err != nil {
			t.Fatalf("Print(%q) = %v", args, err)
		}
		for _, c := range commands {
			if strings.Contains(out.String(), "\n"+c+" =") {
				t.Errorf("Print() printed the command flag %s", c)
			}
		}
		path := filepath.Join(t.TempDir(), "k.toml")
		if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		fs2 := newTestFlags()
		if err := Load(fs2, path, commands...); err != nil {
			t.Fatalf("args %q: Load(Print()) = %v\n%s", args, err, out.String())
		}
		if got, want := values(fs2), values(fs); !equal(got, want) {
			t.Errorf("args %q: after the round trip\n got %v\nwant %v", args, got, want)
		}
		var again bytes.Buffer
		if err := Print(&again, fs2, commands...); err != nil {
			t.Fatal(err)
		}
		if again.String() != out.String() {
			t.Errorf("args %q: second Print() differs:\n%s\nfirst:\n%s", args, again.String(), out.String())
		}
	}
}

func TestPrintUnrepresentable(t *testing.T) {
	for _, args := range [][]string{
		{"--disk-low", "18446744073709551615"}, // above TOML's int64
		{"--name", "\xff"},                     // not UTF-8
	} {
		fs := newTestFlags()
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := Print(io.Discard, fs); err == nil {
			t.Errorf("Print(%q) = nil, want an error", args)
		}
	}
}

// TestQuote checks that every ASCII character and some others survive
// quote and toml.Decode.
func TestQuote(t *testing.T) {
	var all []rune
	for r := rune(0); r < 0x80; r++ {
		all = append(all, r)
	}
	all = append(all, 0x85, 0xa0, 0xe9, 0x2028, 0xfeff, 0xfffd, 0x1f600, 0x10ffff)
	for _, s := range []string{"", string(all), `\u0041`, `"""`, "'''"} {
		var m map[string]string
		if _, err := toml.Decode("k = "+quote(s), &m); err != nil {
			t.Errorf("toml.Decode(k = %s) = %v", quote(s), err)
			continue
		}
		if m["k"] != s {
			t.Errorf("toml.Decode(k = %s) = %q, want %q", quote(s), m["k"], s)
		}
	}
	if got := quoteKey("a.b c"); got != `"a.b c"` {
		t.Errorf(`quoteKey("a.b c") = %s, want "a.b c" quoted`, got)
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {10 * time.Second, "10s"}, {time.Minute, "1m"}, {time.Hour, "1h"},
		{90 * time.Minute, "1h30m"}, {time.Hour + time.Second, "1h0m1s"}, {1500 * time.Millisecond, "1.5s"},
		{-time.Minute, "-1m"}, {time.Duration(math.MaxInt64), "2562047h47m16.854775807s"},
	} {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
		if d, err := time.ParseDuration(formatDuration(tt.d)); err != nil || d != tt.d {
			t.Errorf("time.ParseDuration(%q) = %v, %v; want %v", formatDuration(tt.d), d, err, tt.d)
		}
	}
}

// FuzzLoad checks that no file makes Load panic or print more than one line,
// and that whatever it accepts prints back to a file that loads to the same
// values.
func FuzzLoad(f *testing.F) {
	f.Add("heartbeat = \"10s\"\nname = \"x\"\n")
	f.Fuzz(func(t *testing.T, data string) {
		fs := newTestFlags()
		err := load(fs, "fuzz.toml", []byte(data), commands)
		if err != nil {
			if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "fuzz.toml") {
				t.Errorf("load() error %q: want one line starting with the file name", err)
			}
			return
		}
		var out bytes.Buffer
		if err := Print(&out, fs, commands...); err != nil {
			t.Fatalf("Print() after a good file = %v", err)
		}
		fs2 := newTestFlags()
		if err := load(fs2, "print.toml", out.Bytes(), commands); err != nil {
			t.Fatalf("load(Print()) = %v\n%s", err, out.String())
		}
		if got, want := values(fs2), values(fs); !equal(got, want) {
			t.Errorf("after the round trip\n got %v\nwant %v", got, want)
		}
	})
}
