package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

var units = []string{"kioskd.service", "kioskui.service", "kioskhub.service"}

// unit is a parsed unit file: section -> key -> values, in file order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, file string) unit {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u, section := unit{}, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s: not a key=value line: %q", file, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

// get returns the last value of key in section.
func (u unit) get(section, key string) string {
	vs := u[section][key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// TestUnitSemantics: the settings the design depends on (DESIGN 2, 3, 5,
// 4.7) are in the units, and the three places that name the screen's unit
// agree: kioskd's --ui-unit, the unit file, the polkit rule.
func TestUnitSemantics(t *testing.T) {
	kd := parseUnit(t, "systemd/kioskd.service")
	for k, want := range map[string]string{
		"Type": "notify", "WatchdogSec": "30", "Restart": "always", "RestartPreventExitStatus": "2",
		"User": "kiosk", "StateDirectory": "kiosk", "SupplementaryGroups": "lp dialout",
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
		"CapabilityBoundingSet": "", "UMask": "0077",
	} {
		if _, ok := kd["Service"][k]; !ok || kd.get("Service", k) != want {
			t.Errorf("kioskd.service: %s=%q, want %q", k, kd.get("Service", k), want)
		}
	}
	argv := strings.Fields(kd.get("Service", "ExecStart"))
	for _, arg := range [][2]string{{"--config", "/etc/kiosk/kiosk.toml"}, {"--data", "/var/lib/kiosk"},
		{"--ui-supervisor", "systemd"}, {"--ui-unit", "kioskui.service"}} {
		if i := slices.Index(argv, arg[0]); i < 0 || i+1 >= len(argv) || argv[i+1] != arg[1] {
			t.Errorf("kioskd.service ExecStart %q: want %s %s", argv, arg[0], arg[1])
		}
	}

	ui := parseUnit(t, "systemd/kioskui.service")
	for k, want := range map[string]string{
		"User": "kioskui", "Restart": "always", "PAMName": "kioskui", "TTYPath": "/dev/tty1",
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
		"CapabilityBoundingSet": "",
	} {
		if _, ok := ui["Service"][k]; !ok || ui.get("Service", k) != want {
			t.Errorf("kioskui.service: %s=%q, want %q", k, ui.get("Service", k), want)
		}
	}
	cage := strings.Fields(ui.get("Service", "ExecStart"))
	if len(cage) < 3 || filepath.Base(cage[0]) != "cage" || slices.Contains(cage, "-s") || !slices.Contains(cage, "--") {
		t.Errorf("kioskui.service ExecStart %q: want cage without -s (VT switching) and -- before kioskui", cage)
	}
	if i := slices.Index(cage, "--"); i < 0 || i+1 >= len(cage) || filepath.Base(cage[i+1]) != "kioskui" ||
		!slices.Contains(cage, "http://127.0.0.1:8321/") || !slices.Contains(cage, "--fullscreen") {
		t.Errorf("kioskui.service ExecStart %q: want kioskui --url http://127.0.0.1:8321/ --fullscreen", cage)
	}
	if !slices.Contains(ui["Service"]["Environment"], "XKB_DEFAULT_OPTIONS=srvrkeys:none") {
		t.Error("kioskui.service: no Environment=XKB_DEFAULT_OPTIONS=srvrkeys:none (Ctrl+Alt+Fn)")
	}
	rules, err := os.ReadFile("polkit/50-kiosk.rules")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(rules, []byte(`"kioskui.service"`)) {
		t.Error("polkit/50-kiosk.rules does not name kioskui.service")
	}

	hub := parseUnit(t, "systemd/kioskhub.service")
	for k, want := range map[string]string{
		"User": "kioskhub", "StateDirectory": "kioskhub", "Restart": "always", "RestartPreventExitStatus": "2",
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateDevices": "yes", "CapabilityBoundingSet": "",
	} {
		if _, ok := hub["Service"][k]; !ok || hub.get("Service", k) != want {
			t.Errorf("kioskhub.service: %s=%q, want %q", k, hub.get("Service", k), want)
		}
	}
}

// TestUnitsVerify runs `systemd-analyze verify` on the units (Debian's
// systemd package provides it, and it works where systemd is not PID 1),
// and fails on any complaint, warnings included: verify exits 0 for an
// unknown key or a bad value. It checks that ExecStart's binaries exist,
// so the units are copied with /usr/bin/ pointing at stand-ins. Then
// `systemd-analyze security --offline` holds each unit's exposure under a
// ceiling (0 best, 10 worst), so hardening is not lost by accident.
func TestUnitsVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not found: install the Debian package systemd (make deps does)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	for _, b := range []string{"kioskd", "kioskui", "kioskhub", "cage"} {
		if err := os.WriteFile(filepath.Join(bin, b), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range units {
		b, err := os.ReadFile(filepath.Join("systemd", u))
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(b, []byte("/usr/bin/"), []byte(bin+"/"))
		if err := os.WriteFile(filepath.Join(dir, u), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(analyze, append([]string{"verify"}, units...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", strings.Join(units, " "), err, out)
	}

	for u, ceiling := range map[string]float64{"kioskd.service": 2.5, "kioskhub.service": 2.0, "kioskui.service": 5.0} {
		cmd := exec.Command(analyze, "security", "--offline=yes", "--no-pager",
			"--threshold="+strconv.Itoa(int(ceiling*10)), "./"+u)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if err != nil {
			t.Errorf("systemd-analyze security %s: %v, want exposure at most %.1f:\n%s", u, err, ceiling, out)
		} else {
			t.Logf("%s", lines[len(lines)-1])
		}
	}
}

// TestSysusersAndTmpfiles creates the users and the configuration
// directories in a scratch root with systemd-sysusers and systemd-tmpfiles,
// as a kiosk PC's boot does, and checks who may read the secrets.
func TestSysusersAndTmpfiles(t *testing.T) {
	sysusers, err1 := exec.LookPath("systemd-sysusers")
	tmpfiles, err2 := exec.LookPath("systemd-tmpfiles")
	if err1 != nil || err2 != nil {
		t.Skip("systemd-sysusers or systemd-tmpfiles not found: install the Debian package systemd (make deps does)")
	}
	if os.Geteuid() != 0 {
		t.Skip("systemd-tmpfiles needs root to set owners (CI runs as root)")
	}
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	run := func(name string, args ...string) {
		t.Helper()
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	abs := func(p string) string { a, _ := filepath.Abs(p); return a }
	run(sysusers, "--root="+root, abs("sysusers.d/kiosk.conf"))
	ids := map[string]int{}
	passwd, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
	for _, line := range strings.Split(string(passwd), "\n") {
		if f := strings.Split(line, ":"); len(f) == 7 {
			ids[f[0]], _ = strconv.Atoi(f[2])
			if f[6] != "/usr/sbin/nologin" || f[2] == "0" {
				t.Errorf("user %s: uid %s shell %s; want a system user without a login shell", f[0], f[2], f[6])
			}
		}
	}
	for _, u := range []string{"kiosk", "kioskui", "kioskhub"} {
		if _, ok := ids[u]; !ok {
			t.Errorf("sysusers.d did not create user %s: %s", u, passwd)
		}
	}

	// Secrets as an installer (or an admin's mistake) may leave them.
	for _, f := range []string{"etc/kiosk/kiosk.creds", "etc/kiosk/kiosk.toml", "var/lib/kiosk/cache.key"} {
		os.MkdirAll(filepath.Join(root, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(root, f), []byte("x\n"), 0o644)
	}
	run(tmpfiles, "--root="+root, "--create", abs("tmpfiles.d/kiosk.conf"), abs("tmpfiles.d/kioskhub.conf"))
	for _, tt := range []struct {
		path      string
		mode      os.FileMode
		user, grp string
	}{
		{"etc/kiosk", os.ModeDir | 0o750, "root", "kiosk"},
		{"etc/kiosk/kiosk.toml", 0o640, "root", "kiosk"},
		{"etc/kiosk/kiosk.creds", 0o600, "kiosk", "kiosk"},
		{"var/lib/kiosk/cache.key", 0o600, "kiosk", "kiosk"},
		{"etc/kioskhub", os.ModeDir | 0o750, "root", "kioskhub"},
	} {
		fi, err := os.Stat(filepath.Join(root, tt.path))
		if err != nil {
			t.Errorf("%s: %v", tt.path, err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		uid, gid := int(st.Uid), int(st.Gid)
		if fi.Mode() != tt.mode || uid != ids[tt.user] || gid != ids[tt.grp] {
			t.Errorf("%s: %v %d:%d, want %v %s(%d):%s(%d)", tt.path, fi.Mode(), uid, gid, tt.mode, tt.user, ids[tt.user], tt.grp, ids[tt.grp])
		}
	}
}

// TestPolkitRule evaluates polkit/50-kiosk.rules (JavaScript) with node
// against requests polkit would make: kiosk may restart kioskui.service and
// reboot, and nothing else; nobody else gains anything.
func TestPolkitRule(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found: the polkit rule is not evaluated (apt-get install nodejs)")
	}
	rules, err := os.ReadFile("polkit/50-kiosk.rules")
	if err != nil {
		t.Fatal(err)
	}
	type req struct {
		User    string            `json:"user"`
		Action  string            `json:"action"`
		Details map[string]string `json:"details"`
		Want    string            `json:"want"`
	}
	const manage, reboot = "org.freedesktop.systemd1.manage-units", "org.freedesktop.login1.reboot"
	reqs := []req{
		{"kiosk", manage, map[string]string{"unit": "kioskui.service", "verb": "restart"}, "yes"},
		{"kiosk", manage, map[string]string{"unit": "kioskui.service", "verb": "stop"}, "not_handled"},
		{"kiosk", manage, map[string]string{"unit": "kioskd.service", "verb": "restart"}, "not_handled"},
		{"kiosk", manage, map[string]string{"unit": "getty@tty2.service", "verb": "start"}, "not_handled"},
		{"kiosk", manage, map[string]string{}, "not_handled"},
		{"kiosk", reboot, nil, "yes"},
		{"kiosk", reboot + "-multiple-sessions", nil, "yes"},
		{"kiosk", reboot + "-ignore-inhibit", nil, "not_handled"},
		{"kiosk", "org.freedesktop.login1.power-off", nil, "not_handled"},
		{"kiosk", "org.freedesktop.systemd1.manage-unit-files", nil, "not_handled"},
		{"kioskui", manage, map[string]string{"unit": "kioskui.service", "verb": "restart"}, "not_handled"},
		{"kioskui", reboot, nil, "not_handled"},
		{"nobody", reboot, nil, "not_handled"},
	}
	js, _ := json.Marshal(reqs)
	harness := `
const rules = [];
const polkit = { Result: { YES: "yes", NO: "no", AUTH_ADMIN: "auth_admin", NOT_HANDLED: "not_handled" },
  addRule: f => rules.push(f), addAdminRule: () => {}, log: () => {} };
(new Function("polkit", require("fs").readFileSync(process.argv[1], "utf8")))(polkit);
const out = [];
for (const r of ` + string(js) + `) {
  const action = { id: r.action, lookup: k => (r.details || {})[k] };
  const subject = { user: r.user, local: true, active: true, isInGroup: () => false };
  let res = "not_handled";
  for (const f of rules) { const v = f(action, subject); if (v !== undefined && v !== "not_handled") { res = v; break; } }
  out.push(res);
}
console.log(JSON.stringify(out));
`
	file, _ := filepath.Abs("polkit/50-kiosk.rules")
	out, err := exec.Command(node, "-e", harness, file).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s\n%s", err, out, rules)
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil || len(got) != len(reqs) {
		t.Fatalf("node printed %q: %v", out, err)
	}
	for i, r := range reqs {
		if got[i] != r.Want {
			t.Errorf("user %s, %s %v: %s, want %s", r.User, r.Action, r.Details, got[i], r.Want)
		}
	}
}

// TestWebviewDevtoolsOff: kioskui's webview is created with debug false,
// which keeps WebKit's developer tools (and the inspector in the context
// menu) off (DESIGN 4.7). Read from the source: the debug flag cannot be
// read back from a running WebKit without cgo, which tests cannot use.
func TestWebviewDevtoolsOff(t *testing.T) {
	dir := filepath.Join("..", "..", "ui", "webview")
	fset := token.NewFileSet()
	calls := 0
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "New" && sel.Sel.Name != "NewWindow" {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "webview" {
				return true
			}
			calls++
			if len(call.Args) == 0 {
				return true
			}
			if id, ok := call.Args[0].(*ast.Ident); !ok || id.Name != "false" {
				t.Errorf("%s: webview.%s(%s...): the debug argument must be the literal false (developer tools off)",
					fset.Position(call.Pos()), sel.Sel.Name, types.ExprString(call.Args[0]))
			}
			return true
		})
	}
	if calls == 0 {
		t.Errorf("no webview.New call found in %s: update this test", dir)
	}
}

// TestExecStartCommandLines runs the real kioskd and kioskhub with their
// units' command lines, the example config files in place of /etc, and
// --print-config: the flags and the files are ones the binaries accept.
// kioskui shows its usage, which must list the flags its unit passes.
func TestExecStartCommandLines(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries")
	}
	bin := t.TempDir()
	out, err := exec.Command("go", "build", "-o", bin+"/", "../cmd/kioskd", "../cmd/kioskhub", "../cmd/kioskui").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, tt := range []struct{ unit, config, want string }{
		{"kioskd.service", "kiosk.toml", "systemd"},
		{"kioskhub.service", "hub.toml", "0.0.0.0:4222"},
	} {
		argv := strings.Fields(parseUnit(t, filepath.Join("systemd", tt.unit)).get("Service", "ExecStart"))
		argv[0] = filepath.Join(bin, filepath.Base(argv[0]))
		if i := slices.Index(argv, "--config"); i < 0 || i+1 >= len(argv) {
			t.Errorf("%s: no --config in ExecStart", tt.unit)
			continue
		} else {
			argv[i+1] = tt.config
		}
		out, err := exec.Command(argv[0], append(argv[1:], "--print-config")...).CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte(tt.want)) {
			t.Errorf("%s --print-config: %v, want exit 0 and %q in:\n%s", strings.Join(argv, " "), err, tt.want, out)
		}
	}
	ui := strings.Fields(parseUnit(t, "systemd/kioskui.service").get("Service", "ExecStart"))
	out, _ = exec.Command(filepath.Join(bin, "kioskui"), "-h").CombinedOutput()
	for _, arg := range ui[slices.Index(ui, "--")+2:] {
		listed := regexp.MustCompile(`(?m)^\s+-` + regexp.QuoteMeta(strings.TrimPrefix(arg, "--")) + `(\s|$)`)
		if strings.HasPrefix(arg, "--") && !listed.Match(out) {
			t.Errorf("kioskui.service passes %s, which kioskui -h does not list:\n%s", arg, out)
		}
	}
}
