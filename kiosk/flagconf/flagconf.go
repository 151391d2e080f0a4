// Package flagconf reads a TOML config file into a flag.FlagSet and prints a
// flag set back as TOML.
//
// A binary's flags are its only list of settings: the config file's keys are
// the flag names (heartbeat = "10s" is --heartbeat 10s), so there is no second
// struct to keep in step with the flags, and the --help text, the file and
// --print-config cannot drift apart (DESIGN 3). Precedence is: a flag given on
// the command line, then the file, then the flag's default. Environment
// variables are main's business and never read here.
//
// The file is strict, like a command line: a key that names no flag is an
// error, and so is a value of the wrong TOML type (a duration is a string like
// "10s", a number is an integer, a switch is true or false). Settings are
// top-level keys; tables are not used.
//
// Flags that are commands rather than settings (--config, --print-config,
// --version) are passed as skip: they are neither read from the file nor
// printed. Flags hold no secrets (a secret is a file, e.g. --creds names the
// .creds file), so Print shows every other flag as it is.
package flagconf

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// Load sets the flags of fs from the TOML file at path, except the flags in
// skip and those already set on the command line: call it after fs.Parse.
// Every key is checked, also those of flags given on the command line.
// Errors are one line naming the file and the key; a file with unknown keys
// or bad syntax sets nothing.
func Load(fs *flag.FlagSet, path string, skip ...string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return load(fs, path, data, skip)
}

// load is Load on the file's contents; name is used in errors.
func load(fs *flag.FlagSet, name string, data []byte, skip []string) error {
	var m map[string]any
	md, err := toml.Decode(string(data), &m)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s:%d: %s", name, pe.Position.Line, oneLine(pe.Message))
		}
		return fmt.Errorf("%s: %s", name, oneLine(err.Error()))
	}

	// Unknown keys. The file is decoded into a map, so the toml package sees
	// every top-level key as decoded (MetaData.Undecoded would only list keys
	// inside tables); the keys are checked against the flag set instead, in
	// file order and case-sensitively, like flags.
	var keys, unknown []string // top-level keys in file order
	seen := map[string]bool{}
	for _, k := range md.Keys() {
		if !seen[k[0]] { // a.b = 1 may come without a key "a"
			seen[k[0]] = true
			keys = append(keys, k[0])
		}
	}
	for _, k := range keys {
		if fs.Lookup(k) == nil || slices.Contains(skip, k) {
			unknown = append(unknown, describeUnknown(fs, k, m[k], skip))
		}
	}
	if len(unknown) == 1 {
		return fmt.Errorf("%s: unknown key %s", name, unknown[0])
	} else if len(unknown) > 1 {
		return fmt.Errorf("%s: unknown keys %s", name, strings.Join(unknown, ", "))
	}

	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	var errs []string
	for _, k := range keys {
		if err := set(fs, fs.Lookup(k), m[k], !onCommandLine[k]); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %s", quoteKey(k), oneLine(err.Error())))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s: %s", name, strings.Join(errs, "; "))
	}
	return nil
}

// kind is what a flag takes, as far as the file is concerned.
type kind int

const (
	kindOther    kind = iota // a custom flag.Value: a string (or an array of them)
	kindString               // TOML string
	kindBool                 // TOML boolean
	kindInt                  // TOML integer
	kindUint                 // TOML integer >= 0
	kindFloat                // TOML float or integer
	kindDuration             // TOML string like "10s"
	kindStrings              // TOML array of strings (a repeatable flag whose Get returns []string)
)

// boolFlag is the flag package's interface of a flag that needs no value.
type boolFlag interface{ IsBoolFlag() bool }

func kindOf(v flag.Value) kind {
	g, ok := v.(flag.Getter)
	if !ok {
		if b, ok := v.(boolFlag); ok && b.IsBoolFlag() {
			return kindBool
		}
		return kindOther
	}
	switch g.Get().(type) {
	case string:
		return kindString
	case bool:
		return kindBool
	case int, int64:
		return kindInt
	case uint, uint64:
		return kindUint
	case float64:
		return kindFloat
	case time.Duration:
		return kindDuration
	case []string:
		return kindStrings
	}
	if b, ok := v.(boolFlag); ok && b.IsBoolFlag() {
		return kindBool
	}
	return kindOther
}

var want = map[kind]string{
	kindOther:    "want a string",
	kindString:   "want a string",
	kindBool:     "want true or false",
	kindInt:      "want an integer",
	kindUint:     "want an integer of at least 0",
	kindFloat:    "want a number",
	kindDuration: `want a duration like "10s"`,
	kindStrings:  "want an array of strings",
}

// set checks the TOML value v against what f takes and, if apply, sets f.
// A flag given on the command line is not set, but its key in the file is
// still checked: a broken file is broken whatever the command line says.
func set(fs *flag.FlagSet, f *flag.Flag, v any, apply bool) error {
	k := kindOf(f.Value)
	bad := func() error { return fmt.Errorf("%s, got %s", want[k], describe(v)) }
	var vals []string // what to pass to Set, in order
	array := false
	switch k {
	case kindString, kindDuration:
		str, ok := v.(string)
		if !ok {
			return bad()
		}
		if _, err := time.ParseDuration(str); k == kindDuration && err != nil {
			return bad()
		}
		vals = []string{str}
	case kindOther, kindStrings:
		switch v := v.(type) {
		case string:
			if k == kindStrings {
				return bad()
			}
			vals = []string{v}
		case []any:
			array = true
			for _, e := range v {
				str, ok := e.(string)
				if !ok {
					return bad()
				}
				vals = append(vals, str)
			}
		default:
			return bad()
		}
	case kindBool:
		b, ok := v.(bool)
		if !ok {
			return bad()
		}
		vals = []string{strconv.FormatBool(b)}
	case kindInt, kindUint:
		i, ok := v.(int64)
		if !ok || (k == kindUint && i < 0) {
			return bad()
		}
		vals = []string{strconv.FormatInt(i, 10)}
	case kindFloat:
		switch v := v.(type) {
		case int64:
			vals = []string{strconv.FormatInt(v, 10)}
		case float64:
			vals = []string{strconv.FormatFloat(v, 'g', -1, 64)}
		default:
			return bad()
		}
	}
	if !apply {
		return nil
	}
	for _, s := range vals {
		err := fs.Set(f.Name, s)
		switch {
		case err == nil:
		case array:
			return fmt.Errorf("%s: %w", quote(s), err)
		case k == kindOther:
			return err // the flag's own words
		default:
			return bad()
		}
	}
	return nil
}

// describe shows a decoded TOML value in an error.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		return quote(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return formatFloat(v)
	case bool:
		return strconv.FormatBool(v)
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	case []any:
		return "an array"
	default: // time.Time and the toml.Local* types
		return "a date or time"
	}
}

// describeUnknown names an unknown key, with a hint when one is easy.
func describeUnknown(fs *flag.FlagSet, key string, v any, skip []string) string {
	q := quote(key)
	switch _, table := v.(map[string]any); {
	case slices.Contains(skip, key):
		return q + " (command line only)"
	case table:
		return q + " (a table: settings are top-level keys)"
	}
	var near []string
	fs.VisitAll(func(f *flag.Flag) {
		if !slices.Contains(skip, f.Name) && isNear(key, f.Name) {
			near = append(near, quote(f.Name))
		}
	})
	switch len(near) {
	case 0:
		return q
	case 1:
		return q + " (did you mean " + near[0] + "?)"
	}
	return q + " (did you mean one of " + strings.Join(near, ", ") + "?)"
}

// isNear reports whether a mistyped key is probably the flag name: the same
// with "_" for "-", or within a small edit distance.
func isNear(key, name string) bool {
	k := strings.ToLower(strings.ReplaceAll(key, "_", "-"))
	if k == name {
		return true
	}
	limit := 2
	if len(name) <= 4 {
		limit = 1
	}
	return editDistance(k, name) <= limit
}

// editDistance is the Levenshtein distance of a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt // not a typo of a flag name
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// oneLine keeps a message on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Print writes every flag of fs but those in skip as TOML, in name order:
// the usage as a comment, then key = value with the flag's current value.
// The output loads back with Load to the same values.
func Print(w io.Writer, fs *flag.FlagSet, skip ...string) error {
	var b strings.Builder
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || slices.Contains(skip, f.Name) {
			return
		}
		var v string
		if v, err = tomlValue(f); err != nil {
			err = fmt.Errorf("flagconf: print %s: %w", f.Name, err)
			return
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		_, usage := flag.UnquoteUsage(f)
		if def := f.DefValue; f.Value.String() != def && def != "" {
			if d, err := time.ParseDuration(def); err == nil && kindOf(f.Value) == kindDuration {
				def = formatDuration(d)
			}
			usage += " (default " + def + ")"
		}
		for _, line := range strings.Split(usage, "\n") {
			b.WriteString(strings.TrimRight("# "+line, " ") + "\n")
		}
		b.WriteString(quoteKey(f.Name) + " = " + v + "\n")
	})
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// tomlValue is f's current value as a TOML value of the type Load wants.
func tomlValue(f *flag.Flag) (string, error) {
	k := kindOf(f.Value)
	if k == kindOther || k == kindString || k == kindBool && !isGetter(f.Value) {
		s := f.Value.String()
		if k == kindBool {
			if b, err := strconv.ParseBool(s); err == nil {
				return strconv.FormatBool(b), nil
			}
		}
		if !utf8.ValidString(s) {
			return "", errors.New("value is not valid UTF-8")
		}
		return quote(s), nil
	}
	switch v := f.Value.(flag.Getter).Get().(type) {
	case bool:
		return strconv.FormatBool(v), nil
	case int:
		return strconv.Itoa(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case uint:
		return formatUint(uint64(v))
	case uint64:
		return formatUint(v)
	case float64:
		return formatFloat(v), nil
	case time.Duration:
		return quote(formatDuration(v)), nil
	case []string:
		q := make([]string, len(v))
		for i, s := range v {
			if !utf8.ValidString(s) {
				return "", errors.New("value is not valid UTF-8")
			}
			q[i] = quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]", nil
	}
	return "", fmt.Errorf("unexpected type %T", f.Value)
}

func isGetter(v flag.Value) bool {
	_, ok := v.(flag.Getter)
	return ok
}

func formatUint(u uint64) (string, error) {
	if u > math.MaxInt64 {
		return "", fmt.Errorf("%d is above the largest TOML integer", u)
	}
	return strconv.FormatUint(u, 10), nil
}

// formatFloat writes f as a TOML float; integral values keep a ".0" so
// that -0 stays -0.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// formatDuration is d.String() without zero trailing units: "1m", not
// "1m0s"; "1h", not "1h0m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// quoteKey writes a key bare when TOML allows it, else quoted.
func quoteKey(k string) string {
	if k == "" {
		return `""`
	}
	for _, r := range k {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_') {
			return quote(k)
		}
	}
	return k
}

// quote writes s as a TOML basic string. Unlike strconv.Quote it uses only
// the escapes TOML 1.0 knows; s must be valid UTF-8.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
