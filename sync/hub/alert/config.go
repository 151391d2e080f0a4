package alert

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// AllOffices is the office pattern of a route that receives every alert,
// those of the hub itself included.
const AllOffices = "*"

// Target kinds.
const (
	KindWebhook = "webhook"
	KindEmail   = "email"
)

// Config is the routing file, validated. Build it with [LoadConfig]; a
// Config written by hand is not checked.
type Config struct {
	// DashboardURL is the base of links in alerts, ending in "/"; empty
	// means alerts carry no link.
	DashboardURL string `toml:"dashboard_url"`
	// SMTP is the mail server; nil means no e-mail (and no route may
	// name an e-mail address).
	SMTP   *SMTPConfig `toml:"smtp"`
	Routes []Route     `toml:"route"`
}

// SMTPConfig is the [smtp] table.
type SMTPConfig struct {
	// Addr is host:port. Port 465 means implicit TLS; on any other port
	// STARTTLS is used when the server offers it.
	Addr string `toml:"addr"`
	// From is the sender address, optionally with a display name.
	From string `toml:"from"`
	// Username, if set, logs in with AUTH PLAIN, which is only done over
	// TLS or to a server on this machine.
	Username string `toml:"username"`
	// PasswordFile holds the password (trailing newlines are dropped);
	// a relative path is relative to the routing file's directory.
	PasswordFile string `toml:"password_file"`
	// CAFile, if set, is a PEM file of the CA certificates that sign the
	// server's certificate (a private CA); otherwise the system's are used.
	CAFile string `toml:"ca_file"`

	// Password is read from PasswordFile by LoadConfig.
	Password Secret `toml:"-"`
	// RootCAs verifies the server's certificate; nil means the system's.
	// LoadConfig sets it from CAFile; tests set it directly.
	RootCAs *x509.CertPool `toml:"-"`
}

// Secret is a string that does not print: it keeps a password out of logs
// and error messages that format a Config with %v or %+v.
type Secret string

// String returns "[redacted]" (or "" when the secret is empty).
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString redacts the secret for %#v too.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// Route is one [[route]] table: who receives the alerts of some offices.
type Route struct {
	Name    string   `toml:"name"`
	Offices []string `toml:"offices"` // office ids, or "*" for all
	Webhook []string `toml:"webhook"` // http(s) URLs
	Email   []string `toml:"email"`   // addresses
}

// Target is one recipient of an alert: a webhook URL or an e-mail address.
type Target struct {
	Kind  string `json:"kind"`  // KindWebhook or KindEmail
	Addr  string `json:"addr"`  // the URL (may hold a token) or the e-mail address
	Route string `json:"route"` // the first route that names it, for people reading the log
}

// ID is a stable name of the target that holds no secret: "email:" and the
// address in lower case, or "webhook:" with the host and a hash of the
// whole URL. Two routes naming the same recipient give the same ID. The
// hub may persist the ID instead of the Target and find the target again
// with [Config.Target].
func (t Target) ID() string {
	switch t.Kind {
	case KindEmail:
		return KindEmail + ":" + strings.ToLower(t.Addr)
	case KindWebhook:
		sum := sha256.Sum256([]byte(t.Addr))
		return KindWebhook + ":" + webhookHost(t.Addr) + ":" + hex.EncodeToString(sum[:6])
	}
	return t.Kind + ":" + t.Addr
}

// String is the target for logs and the dashboard: the route, the kind and
// the address, a webhook shown only by its host because its path or query
// often is the credential.
func (t Target) String() string {
	addr := t.Addr
	if t.Kind == KindWebhook {
		addr = webhookHost(t.Addr) + "/…"
	}
	if t.Route == "" {
		return t.Kind + " " + addr
	}
	return fmt.Sprintf("%s %s (%s)", t.Kind, addr, t.Route)
}

func webhookHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "?"
	}
	return u.Scheme + "://" + u.Host
}

// Targets returns who receives an alert about office, in file order and
// without duplicates: every route naming the office and every "*" route.
// An alert of the hub itself (office "") goes to the "*" routes only.
func (c Config) Targets(office string) []Target {
	var ts []Target
	seen := map[string]bool{}
	add := func(route, kind, addr string) {
		t := Target{Kind: kind, Addr: addr, Route: route}
		if id := t.ID(); !seen[id] {
			seen[id] = true
			ts = append(ts, t)
		}
	}
	for _, r := range c.Routes {
		if !slices.Contains(r.Offices, AllOffices) && (office == "" || !slices.Contains(r.Offices, office)) {
			continue
		}
		for _, w := range r.Webhook {
			add(r.Name, KindWebhook, w)
		}
		for _, e := range r.Email {
			add(r.Name, KindEmail, e)
		}
	}
	return ts
}

// Target finds the target with the given ID among all routes.
func (c Config) Target(id string) (Target, bool) {
	for _, r := range c.Routes {
		for _, w := range r.Webhook {
			if t := (Target{Kind: KindWebhook, Addr: w, Route: r.Name}); t.ID() == id {
				return t, true
			}
		}
		for _, e := range r.Email {
			if t := (Target{Kind: KindEmail, Addr: e, Route: r.Name}); t.ID() == id {
				return t, true
			}
		}
	}
	return Target{}, false
}

// LoadConfig reads and checks the routing file at path. The file is
// strict: an unknown key, a value of the wrong type, a URL or address
// that does not parse, a route without recipients or a missing "*" route
// are errors, all of them reported at once, each naming the file and, where
// the toml package tells it, the line. The SMTP password file is read
// here, so an unreadable one stops the hub at start rather than at the
// first alert.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("alert: config: %w", err)
	}
	c, err := parseConfig(path, string(data))
	if err != nil {
		return Config{}, err
	}
	if err := c.loadFiles(filepath.Dir(path)); err != nil {
		return Config{}, fmt.Errorf("alert: %s: %w", path, err)
	}
	return c, nil
}

// typeErr matches the toml package's "toml: line 3 (last key "route.offices"): incompatible types: ...".
var typeErr = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// parseConfig decodes and validates the file's text; name is used in
// errors. It reads no other file.
func parseConfig(name, src string) (Config, error) {
	var c Config
	md, err := toml.Decode(src, &c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return Config{}, fmt.Errorf("alert: %s:%d: %s", name, pe.Position.Line, oneLine(pe.Message))
		}
		// A value of the wrong type is a plain error with the line in
		// its text; put the line where the other messages have it.
		if m := typeErr.FindStringSubmatch(err.Error()); m != nil {
			return Config{}, fmt.Errorf("alert: %s:%s: %s: %s", name, m[1], m[2], m[3])
		}
		return Config{}, fmt.Errorf("alert: %s: %w", name, err)
	}

	var errs []error
	// The toml package lists undecoded keys but not where they are; a
	// misspelt key is the commonest mistake, so find its line.
	undecoded := md.Undecoded()
	for _, k := range undecoded {
		if len(k) > 1 && slices.ContainsFunc(undecoded, func(p toml.Key) bool { return slices.Equal(p, k[:len(k)-1]) }) {
			continue // inside an unknown table: the table is reported
		}
		if line := keyLine(src, k); line > 0 {
			errs = append(errs, fmt.Errorf("alert: %s:%d: unknown key %s", name, line, k))
		} else {
			errs = append(errs, fmt.Errorf("alert: %s: unknown key %s", name, k))
		}
	}
	for _, e := range c.validate() {
		errs = append(errs, fmt.Errorf("alert: %s: %s", name, e))
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

// validate checks the decoded file and normalises the dashboard URL; it
// returns every problem found.
func (c *Config) validate() []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	if c.DashboardURL != "" {
		if err := checkHTTPURL(c.DashboardURL); err != nil {
			bad("dashboard_url %q: %v", c.DashboardURL, err)
		} else if !strings.HasSuffix(c.DashboardURL, "/") {
			c.DashboardURL += "/" // links are DashboardURL + "incidents/<id>"
		}
	}

	if s := c.SMTP; s != nil {
		if s.Addr == "" {
			bad("smtp.addr is missing (host:port)")
		} else if host, port, err := net.SplitHostPort(s.Addr); err != nil || host == "" || port == "" {
			bad("smtp.addr %q: want host:port, e.g. mail.example.go.id:587", s.Addr)
		}
		if s.From == "" {
			bad("smtp.from is missing")
		} else if _, err := mail.ParseAddress(s.From); err != nil {
			bad("smtp.from %q: %v", s.From, err)
		}
		switch {
		case s.Username != "" && s.PasswordFile == "":
			bad("smtp.username is set but smtp.password_file is missing (the password is never written in this file)")
		case s.Username == "" && s.PasswordFile != "":
			bad("smtp.password_file is set but smtp.username is missing")
		}
	}

	if len(c.Routes) == 0 {
		bad(`no [[route]]: at least one route for offices = ["*"] (Bidang Sistim) is needed`)
	}
	names := map[string]bool{}
	all := false
	for i, r := range c.Routes {
		where := fmt.Sprintf("route %d", i+1)
		if r.Name == "" {
			bad("%s: name is missing", where)
		} else {
			where = fmt.Sprintf("route %q", r.Name)
			if names[r.Name] {
				bad("%s: the name is used twice", where)
			}
			names[r.Name] = true
		}
		if len(r.Offices) == 0 {
			bad(`%s: offices is missing (office ids, or "*" for all)`, where)
		}
		for _, o := range r.Offices {
			switch {
			case o == AllOffices:
				all = true
			case strings.TrimSpace(o) == "" || o != strings.TrimSpace(o):
				bad("%s: office %q: empty or with spaces", where, o)
			case strings.Contains(o, "*"):
				bad(`%s: office %q: "*" stands alone, there are no patterns`, where, o)
			}
		}
		if len(r.Webhook) == 0 && len(r.Email) == 0 {
			bad("%s: no webhook and no email: nobody would receive its alerts", where)
		}
		for _, w := range r.Webhook {
			if err := checkHTTPURL(w); err != nil {
				// The URL is not quoted: it may hold the hook's token.
				bad("%s: webhook %s: %v", where, webhookHost(w), err)
			}
		}
		for _, e := range r.Email {
			if a, err := mail.ParseAddress(e); err != nil {
				bad("%s: email %q: %v", where, e, err)
			} else if a.Name != "" || a.Address != e {
				bad("%s: email %q: write the bare address, e.g. %q", where, e, a.Address)
			}
		}
		if len(r.Email) > 0 && c.SMTP == nil {
			bad("%s: has email addresses but there is no [smtp] table", where)
		}
	}
	if len(c.Routes) > 0 && !all {
		bad(`no route for offices = ["*"]: Bidang Sistim must receive every alert, the hub's own included`)
	}
	return errs
}

// checkHTTPURL accepts an absolute http or https URL with a host.
func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a token
		}
		return fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme must be http or https, not %q", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("no host")
	}
	return nil
}

// loadFiles reads the files the config names: the SMTP password and CAs.
func (c *Config) loadFiles(dir string) error {
	s := c.SMTP
	if s == nil {
		return nil
	}
	rel := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	if s.PasswordFile != "" {
		b, err := os.ReadFile(rel(s.PasswordFile))
		if err != nil {
			return fmt.Errorf("smtp.password_file: %w", err)
		}
		pw := strings.TrimRight(string(b), "\r\n")
		if pw == "" {
			return fmt.Errorf("smtp.password_file %s is empty", rel(s.PasswordFile))
		}
		s.Password = Secret(pw)
	}
	if s.CAFile != "" {
		b, err := os.ReadFile(rel(s.CAFile))
		if err != nil {
			return fmt.Errorf("smtp.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return fmt.Errorf("smtp.ca_file %s: no PEM certificate in it", rel(s.CAFile))
		}
		s.RootCAs = pool
	}
	return nil
}

// keyLine returns the line of src where key is set or its table begins, or
// 0. It understands enough TOML for the routing file (tables, arrays of
// tables, dotted and quoted keys), which is what error messages need.
func keyLine(src string, key toml.Key) int {
	var table []string
	for i, line := range strings.Split(src, "\n") {
		s := strings.TrimSpace(line)
		var full []string
		switch {
		case s == "" || s[0] == '#':
			continue
		case strings.HasPrefix(s, "[["):
			end := strings.Index(s, "]]")
			if end < 0 {
				continue
			}
			table = splitKey(s[2:end])
			full = table
		case s[0] == '[':
			end := strings.Index(s, "]")
			if end < 0 {
				continue
			}
			table = splitKey(s[1:end])
			full = table
		default:
			k, _, ok := strings.Cut(s, "=")
			if !ok {
				continue
			}
			full = append(slices.Clip(table), splitKey(k)...)
		}
		if len(full) >= len(key) && slices.Equal(full[:len(key)], key) {
			return i + 1
		}
	}
	return 0
}

func splitKey(s string) []string {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return parts
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
