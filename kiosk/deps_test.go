package kiosk_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/sumbar-samsat/pkbkiosk"

// layers lists every package of the module with the module packages it may
// import directly, and the third-party modules it may import. The graph
// points one way: cmd -> compose (agent, hubserver) -> feature -> base
// (STYLE.md rule 12). A new package must be added here, which is the moment
// to decide where it belongs.
var layers = map[string]struct {
	internal []string
	external []string
}{
	// base: standard library only (kiosk/plate knows the contract's error type)
	"kiosk":                       {},
	"kiosk/kiosktest":             {},
	"kiosk/plate":                 {internal: []string{"kiosk"}},
	"kiosk/pkb":                   {},
	"kiosk/flagconf":              {external: []string{"github.com/BurntSushi/toml"}},
	"kiosk/flagconf/flagconftest": {internal: []string{"kiosk/flagconf"}},
	"sync/sqlitedb":               {external: []string{"github.com/mattn/go-sqlite3"}},
	"sync/outbox":                 {internal: []string{"sync/sqlitedb"}, external: []string{"github.com/google/uuid"}},
	"ui/webview":                  {external: []string{"github.com/webview/webview_go"}},
	"ui":                          {internal: []string{"kiosk"}},
	"sync/natsbus":                {internal: []string{"kiosk"}, external: []string{"github.com/nats-io/nats.go"}},
	"sync/natsbus/natsbustest":    {external: []string{"github.com/nats-io/nats-server/v2", "github.com/nats-io/nats.go"}},
	"sync/natsauth": {internal: []string{"kiosk"},
		external: []string{"github.com/nats-io/jwt/v2", "github.com/nats-io/nkeys", "github.com/nats-io/nats.go"}},
	// printer: the driver and its parts import nothing else from the module,
	// except that slip lays out a pkb.Result.
	"printer":             {internal: []string{"printer/escpos"}},
	"printer/escpos":      {},
	"printer/printertest": {internal: []string{"printer"}},
	"printer/printerdev":  {internal: []string{"printer"}, external: []string{"github.com/google/gousb", "github.com/tarm/serial"}},
	"printer/printersim":  {internal: []string{"printer/escpos"}},
	"printer/slip":        {internal: []string{"kiosk/pkb"}},
	"printer/models":      {},
	// feature
	"sync/hub": {internal: []string{"kiosk", "sync/hubapi", "sync/sqlitedb"},
		external: []string{"github.com/nats-io/nats.go", "github.com/google/uuid"}},
	"sync/hub/alert":  {internal: []string{"sync/hubapi"}, external: []string{"github.com/BurntSushi/toml"}},
	"sync/hub/expiry": {},
	"sync/hub/backup": {internal: []string{"kiosk", "sync/natsauth"},
		external: []string{"github.com/mattn/go-sqlite3", "github.com/nats-io/nats.go", "github.com/nats-io/nats-server/v2", "github.com/nats-io/jwt/v2"}},
	"ui/dashboard": {internal: []string{"kiosk", "sync/hubapi"}, external: []string{"golang.org/x/crypto/bcrypt"}},
	"sync/hubapi":  {internal: []string{"kiosk"}, external: []string{"github.com/nats-io/nats.go"}},
	"sync/lookup":  {internal: []string{"kiosk", "kiosk/pkb", "kiosk/plate"}, external: []string{"github.com/nats-io/nats.go"}},
	"sync/lookup/sample": {
		internal: []string{"kiosk", "kiosk/pkb", "kiosk/plate", "sync/lookup"},
		external: []string{"github.com/mattn/go-sqlite3"},
	},
	// compose
	"kiosk/agent": {
		internal: []string{"kiosk", "kiosk/pkb", "kiosk/plate", "sync/outbox", "sync/natsbus", "ui",
			"printer", "printer/escpos", "printer/models", "printer/slip"},
		external: []string{"github.com/nats-io/nats.go", "github.com/coreos/go-systemd/v22", // sd_notify (notify.go)
			"github.com/prometheus/client_golang/prometheus"}, // /metrics (metrics.go)
	},
	"kiosk/hubserver": {
		internal: []string{"kiosk", "sync/hub", "sync/hubapi", "sync/hub/alert", "sync/hub/backup", "sync/hub/expiry",
			"sync/lookup", "sync/lookup/sample", "sync/natsauth", "ui/dashboard"},
		external: []string{"github.com/nats-io/nats-server/v2", "github.com/nats-io/nats.go", "github.com/nats-io/jwt/v2",
			"golang.org/x/crypto/bcrypt", "github.com/google/uuid", // kioskhub user add; command ids
			"github.com/prometheus/client_golang/prometheus"}, // /metrics (metrics.go): prometheus, promhttp, collectors
	},
	// cmd
	"kiosk/cmd/kioskd":     {internal: []string{"kiosk", "kiosk/agent", "kiosk/flagconf", "printer/printerdev"}},
	"kiosk/cmd/printersim": {internal: []string{"printer/printersim"}},
	"kiosk/cmd/printer-bringup": {internal: []string{"kiosk/pkb", "printer", "printer/escpos", "printer/printerdev",
		"printer/printertest", "printer/slip"}},
	"kiosk/cmd/kioskhub":  {internal: []string{"kiosk", "kiosk/flagconf", "kiosk/hubserver", "sync/natsauth", "sync/hub", "sync/hub/backup", "sync/hubapi", "ui/dashboard"}},
	"kiosk/cmd/kioskui":   {internal: []string{"ui/webview"}},
	"kiosk/cmd/kioskdemo": {},
	"kiosk/cmd/fleetsim":  {internal: []string{"kiosk", "sync/natsbus"}, external: []string{"github.com/nats-io/nats.go"}},
	// kioskctl: NATS only, no cgo: sync/hubapi for the hub service's wire
	// types, jwt for the operator name in the .creds file.
	"kiosk/cmd/kioskctl": {internal: []string{"kiosk", "sync/hubapi", "sync/natsbus"},
		external: []string{"github.com/nats-io/nats.go", "github.com/nats-io/jwt/v2", "github.com/google/uuid"}},
	// deployment files (units, udev, polkit) and the test that checks them
	"kiosk/deploy": {},
}

type pkg struct {
	ImportPath string
	Name       string
	Doc        string
	Imports    []string
	Standard   bool
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var ps []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

func TestImportDirection(t *testing.T) {
	ps := listPackages(t)
	if len(ps) < len(layers) {
		t.Fatalf("go list found %d packages, the table has %d", len(ps), len(layers))
	}
	seen := map[string]bool{}
	for _, p := range ps {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		seen[rel] = true
		rule, ok := layers[rel]
		if !ok {
			t.Errorf("package %s is not in the layer table of kiosk/deps_test.go: add it where it belongs", rel)
			continue
		}
		for _, imp := range p.Imports {
			switch {
			case strings.HasPrefix(imp, module+"/") || imp == module:
				dep := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
				if !slices.Contains(rule.internal, dep) {
					t.Errorf("%s imports %s, against the import direction (allowed: %v)", rel, dep, rule.internal)
				}
			case isStd(imp):
			default:
				if !slices.ContainsFunc(rule.external, func(m string) bool { return imp == m || strings.HasPrefix(imp, m+"/") }) {
					t.Errorf("%s imports third-party %s (allowed: %v)", rel, imp, rule.external)
				}
			}
		}
	}
	for rel := range layers {
		if !seen[rel] {
			t.Errorf("layer table names %s, which does not exist any more", rel)
		}
	}
}

func TestEveryPackageHasDoc(t *testing.T) {
	for _, p := range listPackages(t) {
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("package %s has no doc comment", p.ImportPath)
		}
	}
}

// isStd reports whether an import path is in the standard library (no dot
// in the first element), cgo's "C" included.
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}
