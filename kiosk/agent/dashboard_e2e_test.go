package agent_test

// The hub's dashboard (ui/dashboard) end to end, in headless Chromium, as
// Bidang Sistim and UPTD staff use it: a real hub serving it on loopback
// HTTP, a real agent printing on printersim (with a supervised stand-in
// kioskui), and a kiosk of a second office made of the NATS messages a
// kiosk sends. The tests assert what a user sees (the DOM, or the status
// and body of an HTTP answer); the hub's internals are read only to find
// the id of an incident to attack, or to wait until the hub knows a kiosk.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
	"github.com/sumbar-samsat/pkbkiosk/printer/printersim"
	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
	"github.com/sumbar-samsat/pkbkiosk/ui/dashboard"
)

// TestDashboardSistimEndToEnd: a sistim user logs in through the form and
// sees the fleet by office; the open fleet and incident pages follow the
// kiosk's paper running out without a reload; the user acknowledges and
// resolves the incident; restarts the kiosk's screen application and sees
// the kiosk's reply; and the open fleet page shows the kiosk late, then
// offline, when its agent stops.
func TestDashboardSistimEndToEnd(t *testing.T) {
	e := newDashEnv(t)
	e.fakeKiosk("bukittinggi-01", "bukittinggi")
	e.addUser("sistim-1", hubapi.RoleSistim)
	e.waitHubKnows("padang-01", "bukittinggi-01")
	b := newDashBrowser(t)

	// Login through the real form; it lands on the fleet page.
	if resp := b.login(e.url, "sistim-1", dashPassword); resp.Status != http.StatusOK || resp.URL != e.url+"/" {
		t.Fatalf("login answered %d at %s, want 200 at %s/", resp.Status, resp.URL, e.url)
	}
	if got := b.text("header.top .who span:not(.live)"); got != "sistim-1 · Bidang Sistim" {
		t.Errorf("logged-in user shown as %q, want %q", got, "sistim-1 · Bidang Sistim")
	}
	// Kiosks grouped by office, with a counts row per office and totals.
	b.waitDOM("both kiosks online", `document.querySelector("#k-padang-01 .badge.p-online") && document.querySelector("#k-bukittinggi-01 .badge.p-online")`)
	groups := dashEval[[]string](b, `[...document.querySelectorAll("section.office")].map(s =>
		s.querySelector("h2").innerText + ": " + [...s.querySelectorAll("article.card .kid")].map(a => a.innerText).join(","))`)
	if want := []string{"bukittinggi 1 kiosk: bukittinggi-01", "padang 1 kiosk: padang-01"}; !slices.Equal(groups, want) {
		t.Errorf("fleet groups = %q, want %q", groups, want)
	}
	for _, office := range []string{"padang", "bukittinggi"} {
		sel := "#c-" + office
		if got := b.text(sel + " th"); got != office {
			t.Errorf("counts row %s is labelled %q", sel, got)
		}
		if on, total := b.text(sel+" td.n-online"), b.text(sel+" td:last-child"); on != "1" || total != "1" {
			t.Errorf("counts of %s: online %s, total %s; want 1, 1", office, on, total)
		}
	}
	if got := b.text(`#totals [data-sum="total"]`); got != "2" {
		t.Errorf("total kiosks = %q, want 2", got)
	}
	if got := b.text("#k-padang-01 .facts li:first-child"); got != "Kertas cukup" {
		t.Errorf("padang-01 paper = %q, want Kertas cukup", got)
	}

	// A second tab shows the incident list; both pages get live updates.
	inc := b.tab()
	inc.open(e.url + "/incidents")
	for _, p := range []*dashBrowser{b, inc} {
		p.waitLive()
		p.mark()
	}

	// The roll runs out: the open fleet page shows it, without a reload.
	if err := e.sim.SetState(printersim.State{Paper: "out"}); err != nil {
		t.Fatal(err)
	}
	b.waitDOM("padang-01 shown out of paper", `(document.querySelector("#k-padang-01 .facts li.s-bad") || {}).innerText === "Kertas habis"`)
	b.waitDOM("the paper-out chip on padang-01", `[...document.querySelectorAll("#k-padang-01 .chips li")].some(li => li.innerText === "Kertas printer habis")`)
	b.waitDOM("padang counted as faulty", `(document.querySelector("#c-padang td.n-faulty") || {}).innerText === "1"`)
	if got := b.text("#k-bukittinggi-01 .facts li:first-child"); got != "Kertas cukup" {
		t.Errorf("bukittinggi-01 paper = %q after padang's ran out, want Kertas cukup", got)
	}
	b.checkMark()

	// The incident appears in the open list, too.
	rowJS := `[...document.querySelectorAll("#incidents tr.inc")].find(r => r.innerText.includes("padang-01") && r.innerText.includes("Kertas printer habis"))`
	inc.waitDOM("the paper-out incident listed as open", rowJS+`?.dataset.state === "open"`)
	inc.checkMark()
	incPath := dashEval[string](inc, rowJS+`.querySelector("a").getAttribute("href")`)
	if !strings.HasPrefix(incPath, "/incidents/") {
		t.Fatalf("incident link %q", incPath)
	}

	// Acknowledge, then resolve with a note, through the page's buttons.
	if resp := inc.click(`a[href="` + incPath + `"]`); resp.Status != http.StatusOK {
		t.Fatalf("incident page: %d", resp.Status)
	}
	if got := inc.fact("Status"); got != "Terbuka" {
		t.Errorf("new incident status %q, want Terbuka", got)
	}
	if got := inc.fact("Kiosk"); got != "padang-01" {
		t.Errorf("incident kiosk %q, want padang-01", got)
	}
	if resp := inc.click(`form[action$="/ack"] button`); resp.Status != http.StatusOK {
		t.Fatalf("acknowledge: page %d", resp.Status)
	}
	inc.waitDOM("the incident acknowledged by sistim-1", factJS("Diakui")+`.includes("oleh sistim-1")`)
	if got := inc.fact("Status"); !strings.HasPrefix(got, "Diakui") {
		t.Errorf("status after acknowledging %q, want Diakui", got)
	}
	const note = "Kertas sudah diganti oleh petugas UPTD."
	inc.do(chromedp.SendKeys(chromedp.CSS(`textarea[name=note]`), note))
	if resp := inc.click(`form[action$="/resolve"] button`); resp.Status != http.StatusOK {
		t.Fatalf("resolve: page %d", resp.Status)
	}
	inc.waitDOM("the incident resolved by sistim-1", factJS("Selesai")+`.includes("oleh sistim-1")`)
	if got := inc.fact("Status"); !strings.HasPrefix(got, "Selesai") {
		t.Errorf("status after resolving %q, want Selesai", got)
	}
	if got := inc.fact("Catatan"); got != note {
		t.Errorf("resolution note shown as %q, want %q", got, note)
	}
	if inc.has(`form[action$="/ack"]`) || inc.has(`form[action$="/resolve"]`) {
		t.Error("a resolved incident still offers acknowledge or resolve")
	}
	inc.open(e.url + "/incidents")
	row := dashEval[[]string](inc, `Array.from(`+rowJS+`?.querySelectorAll("td") ?? [], td => td.innerText)`)
	if len(row) != 7 || row[3] != "Selesai" || !strings.HasSuffix(row[5], "· sistim-1") || !strings.HasSuffix(row[6], "· sistim-1") {
		t.Errorf("incident row %q, want state Selesai, acknowledged and resolved by sistim-1", row)
	}
	inc.open(e.url + "/audit")
	audit := inc.text("main")
	for _, want := range []string{"Insiden diakui", "Insiden diselesaikan", "sistim-1"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit page lacks %q:\n%s", want, audit)
		}
	}

	// Restart the screen application from the kiosk page; the kiosk's
	// reply is shown, and the supervised kioskui is a new process.
	pid := e.uiPid(0)
	inc.open(e.url + "/kiosk/padang-01")
	inc.do(chromedp.SetValue(chromedp.CSS(`select[name=level]`), kiosk.RestartUI))
	confirmed := inc.acceptDialog()
	if resp := inc.click(`form[action$="/restart"] button`); resp.Status != http.StatusOK {
		t.Fatalf("restart: page %d", resp.Status)
	}
	if msg := confirmed(); msg != "Restart kiosk padang-01?" {
		t.Errorf("confirmation asked %q", msg)
	}
	if got, want := inc.text(".flash"), "Restart: Mulai ulang aplikasi layar: selesai"; got != want {
		t.Errorf("kiosk's reply shown as %q, want %q", got, want)
	}
	e.uiPid(pid)
	// The kiosk's own result arrives later, on the kiosk's timeline.
	inc.waitReloaded("the restart result on the timeline", `[...document.querySelectorAll(".timeline li")].some(li =>
		li.innerText.includes("Hasil perintah restart: selesai") && li.innerText.includes("oleh sistim-1"))`)

	// The agent stops: the fleet page, open since the login, shows the
	// kiosk late and then offline, by itself. (Late lasts about two
	// seconds with 1 s heartbeats; a stalled machine may see it go
	// straight to offline, which is also right.)
	e.agentStop()
	b.waitDOM("padang-01 late or offline", `["Terlambat", "Offline"].includes((document.querySelector("#k-padang-01 .badge") || {}).innerText)`)
	b.waitDOM("padang-01 offline", `(document.querySelector("#k-padang-01 .badge") || {}).innerText === "Offline"`)
	b.waitDOM("padang counted offline", `(document.querySelector("#c-padang td.n-offline") || {}).innerText === "1"`)
	if got := b.text("#k-bukittinggi-01 .badge"); got != "Online" {
		t.Errorf("bukittinggi-01 shown %q while padang-01 is offline, want Online", got)
	}
	b.checkMark()
}

// TestDashboardUPTDOfficeScope: a uptd user of padang sees only padang,
// may not restart, and reaches nothing of bukittinggi through any route of
// the dashboard; a POST without the CSRF token or from another site is
// refused.
func TestDashboardUPTDOfficeScope(t *testing.T) {
	e := newDashEnv(t)
	e.fakeKiosk("bukittinggi-01", "bukittinggi", "printer.cover_open")
	e.addUser("uptd-padang", hubapi.RoleUPTD, "padang")
	if err := e.sim.SetState(printersim.State{Paper: "out"}); err != nil {
		t.Fatal(err)
	}
	incA := e.waitIncident("padang-01", "printer.paper_out")
	incB := e.waitIncident("bukittinggi-01", "printer.cover_open")
	e.waitHubKnows("padang-01", "bukittinggi-01")
	pid := e.uiPid(0)

	b := newDashBrowser(t)
	if resp := b.login(e.url, "uptd-padang", dashPassword); resp.Status != http.StatusOK {
		t.Fatalf("login: %d", resp.Status)
	}
	b.waitDOM("padang-01 listed", `document.querySelector("#k-padang-01")`)
	for _, path := range []string{"/", "/incidents", "/audit"} {
		b.open(e.url + path)
		if body := b.html(); strings.Contains(body, "bukittinggi") || strings.Contains(body, incB) {
			t.Errorf("%s shows bukittinggi to a padang user", path)
		}
		if path == "/incidents" && !strings.Contains(b.text("#incidents"), "padang-01") {
			t.Errorf("the padang incident is not listed for the padang user: %q", b.text("main"))
		}
	}
	b.open(e.url + "/kiosk/padang-01")
	if !b.has(`form[action="/kiosk/padang-01/maintenance"]`) {
		t.Error("uptd user is not offered maintenance on its own kiosk")
	}
	if b.has(`form[action$="/restart"]`) || b.has(`select[name=level]`) {
		t.Error("uptd user is offered a restart")
	}

	c := newDashClient(t, e.url, b.cookie(e.url, "pkb_session"), dashEval[string](b, `document.querySelector("input[name=csrf]").value`))

	// Restart refused even with a valid token; nothing restarted.
	if code, body := c.post("/kiosk/padang-01/restart", url.Values{"level": {kiosk.RestartUI}}, true, nil); code != http.StatusForbidden {
		t.Errorf("POST restart as uptd = %d, want 403\n%s", code, body)
	}

	// Every route, with bukittinggi's kiosk, incident or office: 404 where
	// the route is the role's, 403 where it is not; the same for an id
	// that does not exist; never a trace of bukittinggi in the body.
	form := url.Values{"level": {kiosk.RestartUI}, "on": {"1"}, "message": {"x"}, "note": {"selesai"}, "name": {"sistim-1"},
		"confirm": {"yes"}, "role": {hubapi.RoleUPTD}, "office": {"padang"}, "password": {dashPassword}, "password2": {dashPassword}}
	for _, r := range dashboard.Routes() {
		if r.Public() || r.Pattern == "/logout" {
			continue
		}
		t.Run(r.Method+" "+r.Pattern, func(t *testing.T) {
			want := http.StatusNotFound
			if !r.Allows(hubapi.RoleUPTD) {
				want = http.StatusForbidden
			} else if !r.Scoped {
				t.Fatal("route allows uptd but is not office-scoped: add a case to this test")
			}
			for _, target := range []struct{ kiosk, incident, office string }{
				{"bukittinggi-01", incB, "bukittinggi"},
				{"tidak-ada-99", "tidak-ada-99", "tidak-ada"},
			} {
				u := routeURL(r, target.kiosk, target.incident, target.office)
				var code int
				var body string
				if r.Method == http.MethodPost {
					code, body = c.post(u, form, true, nil)
				} else {
					code, body = c.get(u)
				}
				if code != want {
					t.Errorf("%s %s = %d, want %d", r.Method, u, code, want)
				}
				for _, secret := range []string{"bukittinggi", incB} {
					if strings.Contains(body, secret) {
						t.Errorf("%s %s shows %q", r.Method, u, secret)
					}
				}
			}
			// The same GET for padang works: the 404 is the office, not the route.
			if r.Method == http.MethodGet && r.Allows(hubapi.RoleUPTD) {
				u := routeURL(r, "padang-01", incA, "padang")
				if code, body := c.get(u); code != http.StatusOK {
					t.Errorf("GET %s = %d, want 200\n%s", u, code, body)
				}
			}
		})
	}
	// Nothing changed: bukittinggi's incident is still open, padang's
	// kioskui was not restarted.
	if got := e.incidentState(incB); got != "open" {
		t.Errorf("bukittinggi's incident is %s after the attempts, want open", got)
	}
	if got := e.uiPid(0); got != pid {
		t.Errorf("kioskui pid %d, was %d: the kiosk was restarted", got, pid)
	}

	// CSRF and cross-origin, on an action the role may take (acknowledge
	// padang's incident): without the token from the page itself, without
	// it from a plain client, with it from another site.
	ackPath := "/incidents/" + url.PathEscape(incA) + "/ack"
	b.open(e.url + "/incidents/" + url.PathEscape(incA))
	if code := dashEval[int](b, `fetch(`+jsQuote(ackPath)+`, {method: "POST", credentials: "same-origin", redirect: "manual"}).then(r => r.status)`, chromedp.EvalAwaitPromise); code != http.StatusForbidden {
		t.Errorf("fetch POST %s from the page without a token = %d, want 403", ackPath, code)
	}
	if code, body := c.post(ackPath, nil, false, nil); code != http.StatusForbidden || !strings.Contains(body, "CSRF") {
		t.Errorf("POST %s without a token = %d, want 403 naming the CSRF token\n%s", ackPath, code, body)
	}
	if code, body := c.post(ackPath, nil, true, map[string]string{"Origin": "https://evil.example"}); code != http.StatusForbidden || !strings.Contains(body, "situs lain") {
		t.Errorf("POST %s from Origin https://evil.example = %d, want 403 naming the other site\n%s", ackPath, code, body)
	}
	if code, _ := c.post(ackPath, nil, true, map[string]string{"Sec-Fetch-Site": "cross-site"}); code != http.StatusForbidden {
		t.Errorf("POST %s with Sec-Fetch-Site: cross-site = %d, want 403", ackPath, code)
	}
	b.open(e.url + "/incidents/" + url.PathEscape(incA))
	if got := b.fact("Status"); got != "Terbuka" {
		t.Errorf("incident status after the refused POSTs %q, want Terbuka", got)
	}
	// The page's own button, with its token, works for this user.
	if resp := b.click(`form[action$="/ack"] button`); resp.Status != http.StatusOK {
		t.Fatalf("acknowledge: page %d", resp.Status)
	}
	b.waitDOM("acknowledged by uptd-padang", factJS("Diakui")+`.includes("oleh uptd-padang")`)
}

// TestDashboardLoginRateLimit: after five wrong passwords for a user, the
// login form refuses that user with 429, even with the right password;
// another user from the same address can still log in.
func TestDashboardLoginRateLimit(t *testing.T) {
	_, base := startDashHub(t, func(h *hubserver.Hub) {
		addDashUser(t, h, "uptd-solok", hubapi.RoleUPTD, "solok")
		addDashUser(t, h, "sistim-2", hubapi.RoleSistim)
	})
	b := newDashBrowser(t)
	for i := range 5 {
		resp := b.login(base, "uptd-solok", "salah-sekali-"+string(rune('a'+i)))
		if resp.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d, want 401", i+1, resp.Status)
		}
		if got := b.text(`.login [role=alert]`); !strings.Contains(got, "kata sandi salah") {
			t.Errorf("wrong password %d: the form says %q", i+1, got)
		}
	}
	resp := b.login(base, "uptd-solok", dashPassword)
	if resp.Status != http.StatusTooManyRequests {
		t.Fatalf("sixth login (right password) = %d, want 429", resp.Status)
	}
	if got := b.text(`.login [role=alert]`); !strings.Contains(got, "Terlalu banyak percobaan masuk") {
		t.Errorf("rate-limited form says %q", got)
	}
	if b.cookie(base, "pkb_session") != nil {
		t.Error("a rate-limited login set a session cookie")
	}
	// A plain client gets the same answer, with Retry-After.
	c := newDashClient(t, base, nil, "")
	code, hdr := c.login("uptd-solok", dashPassword)
	if code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" {
		t.Errorf("login over HTTP = %d, Retry-After %q; want 429 with Retry-After", code, hdr.Get("Retry-After"))
	}
	// The limit is the user's: another one logs in from this address.
	if resp := b.login(base, "sistim-2", dashPassword); resp.Status != http.StatusOK || resp.URL != base+"/" {
		t.Errorf("login of another user = %d at %s, want 200 at the fleet page", resp.Status, resp.URL)
	}
}

// ---- environment

// dashPassword is every test user's password.
const dashPassword = "kata-sandi-uji-e2e"

// dashEnv is a simEnv whose hub serves the dashboard on loopback HTTP,
// whose agent beats every second and supervises a stand-in kioskui.
type dashEnv struct {
	*simEnv
	url string // the dashboard: http://127.0.0.1:port
}

func newDashEnv(t *testing.T) *dashEnv {
	t.Helper()
	ui := filepath.Join(t.TempDir(), "kioskui")
	if err := os.WriteFile(ui, []byte("#!/bin/sh\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	se := newSimEnv(t, "tcp", func(h *hubserver.Config, a *agent.Config) {
		h.HTTP = "127.0.0.1:0"
		h.CorrelateHold = time.Second
		h.Logger = testLogger(t)
		// 1 s heartbeats: the hub calls the kiosk late after 1.5 s of
		// silence and offline after 3.5 s.
		a.Heartbeat = time.Second
		// A window that never pings must not be replaced during the test.
		a.UI, a.KioskUI, a.Display, a.UIUnresponsive = "auto", ui, ":99", time.Hour
	})
	return &dashEnv{simEnv: se, url: "http://" + se.hub.HTTPAddr()}
}

// startDashHub starts a hub with the dashboard and no kiosk; setup runs
// before the address is returned.
func startDashHub(t *testing.T, setup func(*hubserver.Hub)) (*hubserver.Hub, string) {
	t.Helper()
	cfg := hubserver.DefaultConfig()
	cfg.Data, cfg.NATSListen, cfg.HTTP = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	cfg.SampleSize, cfg.Auth, cfg.Logger = 1000, false, testLogger(t)
	h, err := hubserver.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	setup(h)
	return h, "http://" + h.HTTPAddr()
}

func addDashUser(t testing.TB, h *hubserver.Hub, name, role string, offices ...string) {
	t.Helper()
	hash, err := dashboard.HashPassword(dashPassword, 4) // bcrypt's lowest cost: fast
	if err != nil {
		t.Fatal(err)
	}
	if err := h.AddUser(t.Context(), hubapi.User{Name: name, Role: role, Offices: offices, Hash: hash}, "test"); err != nil {
		t.Fatal(err)
	}
}

func (e *dashEnv) addUser(name, role string, offices ...string) {
	e.t.Helper()
	addDashUser(e.t, e.hub, name, role, offices...)
}

// fakeKiosk makes kiosk id of office known to the hub as a kiosk would:
// a heartbeat every second until the test ends, and each of faults
// raised once on KIOSK_EVENTS (a critical one opens an incident).
func (e *dashEnv) fakeKiosk(id, office string, faults ...string) {
	t := e.t
	t.Helper()
	nc, err := nats.Connect(e.hub.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	boot, epoch := "boot-"+id, "epoch-"+id
	hb, err := json.Marshal(kiosk.Status{
		Kiosk: id, Office: office, Version: kiosk.Version, Boot: boot, Epoch: epoch, HBIntervalS: 1, Mode: kiosk.ModeReady,
		Printer: kiosk.PrinterStatus{Connected: true, Online: true, Paper: "ok", Model: "TM-T88V", Columns: 42, Transport: "tcp"},
		Disk:    kiosk.DiskStatus{FreeBytes: 20 << 30, TotalBytes: 64 << 30},
		Power:   kiosk.PowerStatus{Source: "mains"},
		Bus:     kiosk.BusStatus{Connected: true},
		Faults:  faults,
	})
	if err != nil {
		t.Fatal(err)
	}
	beat := func() error { return nc.Publish(kiosk.HeartbeatSubject(id), hb) }
	if err := beat(); err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for i, code := range faults {
		data, _ := json.Marshal(kiosk.FaultData{Code: code, Severity: kiosk.Severity[code], Detail: "e2e"})
		ev := kiosk.Event{ID: uuid.Must(uuid.NewV7()).String(), Kiosk: id, Office: office, Type: kiosk.EventFaultRaised,
			At: time.Now(), Boot: boot, Epoch: epoch, Seq: int64(i + 1), Data: data}
		m := nats.NewMsg(kiosk.EventSubject(id, ev.Type))
		m.Header.Set(nats.MsgIdHdr, ev.ID)
		m.Data, _ = json.Marshal(ev)
		if _, err := js.PublishMsg(t.Context(), m); err != nil {
			t.Fatalf("publish %s of %s: %v", code, id, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				beat() // a lost beat is a late kiosk, as for a real one
			}
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait(); nc.Close() })
}

// waitHubKnows waits until the hub's fleet (hub.fleet, as kioskctl asks
// it) lists every kiosk of ids online.
func (e *dashEnv) waitHubKnows(ids ...string) {
	e.t.Helper()
	nc, err := nats.Connect(e.hub.NATSURL())
	if err != nil {
		e.t.Fatal(err)
	}
	defer nc.Close()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ks, err := hubapi.FetchFleet(e.t.Context(), nc, "")
		if err != nil {
			e.t.Fatal(err)
		}
		online := 0
		for _, k := range ks {
			if slices.Contains(ids, k.Kiosk) && k.Presence == hubapi.Online {
				online++
			}
		}
		if online == len(ids) {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the hub's fleet %+v lacks one of %q online", ks, ids)
		}
	}
}

// waitIncident waits for the active incident of kiosk's fault code and
// returns its id.
func (e *dashEnv) waitIncident(kioskID, code string) string {
	e.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		is, err := e.hub.Store().Incidents(e.t.Context(), hubapi.IncidentsRequest{Kiosk: kioskID, State: "active"})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, i := range is {
			if i.Code == code {
				return i.ID
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no active incident %s of %s (have %+v)", code, kioskID, is)
		}
	}
}

func (e *dashEnv) incidentState(id string) string {
	e.t.Helper()
	i, err := e.hub.Store().Incident(e.t.Context(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return i.State
}

// uiPid waits for a running kioskui other than pid not (0: any) and
// returns its pid.
func (e *dashEnv) uiPid(not int) int {
	e.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		st, err := e.agent.Stats(e.t.Context())
		if err != nil {
			e.t.Fatal(err)
		}
		if st.UIPid != 0 && st.UIPid != not {
			return st.UIPid
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("kioskui pid %d, want a running one other than %d", st.UIPid, not)
		}
	}
}

// routeURL fills route r's wildcards with a kiosk or incident id; a
// route without {id} gets ?office=.
func routeURL(r dashboard.Route, kioskID, incidentID, office string) string {
	id := kioskID
	if strings.HasPrefix(r.Pattern, "/incidents/") {
		id = incidentID
	}
	p := strings.ReplaceAll(r.Pattern, "{id}", url.PathEscape(id))
	p = strings.ReplaceAll(p, "{name}", "sistim-1")
	p = strings.ReplaceAll(p, "{file}", "app.css")
	if !strings.Contains(r.Pattern, "{id}") {
		p += "?office=" + url.QueryEscape(office)
	}
	return p
}

// ---- plain HTTP client

// dashClient is a non-browser client of the dashboard with a session
// cookie: it sends neither Origin nor Sec-Fetch-Site, as curl would not.
type dashClient struct {
	t       *testing.T
	base    string
	session *http.Cookie // nil: logged out
	csrf    string
	c       *http.Client
}

func newDashClient(t *testing.T, base string, session *http.Cookie, csrf string) *dashClient {
	return &dashClient{t: t, base: base, session: session, csrf: csrf, c: &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request and returns the status, the body (not read for a
// live stream) and the header.
func (c *dashClient) do(method, path string, body io.Reader, hdr map[string]string, cookies ...*http.Cookie) (int, string, http.Header) {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if c.session != nil {
		req.AddCookie(c.session)
	}
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return resp.StatusCode, "", resp.Header
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func (c *dashClient) get(path string) (int, string) {
	c.t.Helper()
	code, body, _ := c.do(http.MethodGet, path, nil, nil)
	return code, body
}

// post sends form, with the CSRF token when withToken.
func (c *dashClient) post(path string, form url.Values, withToken bool, hdr map[string]string) (int, string) {
	c.t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	if withToken {
		f.Set("csrf", c.csrf)
	}
	code, body, _ := c.do(http.MethodPost, path, strings.NewReader(f.Encode()), hdr)
	return code, body
}

// login posts the login form as a browser would: GET /login for its
// cookie and token first.
func (c *dashClient) login(name, pw string) (int, http.Header) {
	c.t.Helper()
	req, _ := http.NewRequestWithContext(c.t.Context(), http.MethodGet, c.base+"/login", nil)
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var pre *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "pkb_login" {
			pre = ck
		}
	}
	_, tok, _ := strings.Cut(string(page), `name="csrf" value="`)
	tok, _, _ = strings.Cut(tok, `"`)
	if pre == nil || tok == "" {
		c.t.Fatalf("GET /login: no pkb_login cookie or no csrf field")
	}
	form := url.Values{"csrf": {tok}, "name": {name}, "password": {pw}}
	code, _, hdr := c.do(http.MethodPost, "/login", strings.NewReader(form.Encode()), nil, pre)
	return code, hdr
}

// ---- browser

// dashBrowser is one tab of a headless Chromium, as in browser_test.go.
type dashBrowser struct {
	t   *testing.T
	ctx context.Context
}

func newDashBrowser(t *testing.T) *dashBrowser {
	t.Helper()
	ctx := headlessChromium(t, 1280, 1024) // an office PC
	// The first Do starts the browser and must not carry a timeout: the
	// browser lives as long as the context of that call.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("browser: %v", err)
	}
	return &dashBrowser{t: t, ctx: ctx}
}

// tab opens another tab of the same browser, sharing its cookies.
func (b *dashBrowser) tab() *dashBrowser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		b.t.Fatalf("browser: new tab: %v", err)
	}
	return &dashBrowser{t: b.t, ctx: ctx}
}

func (b *dashBrowser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// open loads url and returns the response of the page.
func (b *dashBrowser) open(url string) *network.Response {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		b.t.Fatalf("browser: open %s: %v", url, err)
	}
	return resp
}

// click clicks sel (a link or a form's button) and returns the response
// of the page it leads to.
func (b *dashBrowser) click(sel string) *network.Response {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("browser: click %s: %v", sel, err)
	}
	return resp
}

// login fills in and sends the login form.
func (b *dashBrowser) login(base, name, pw string) *network.Response {
	b.t.Helper()
	b.open(base + "/login")
	b.do(chromedp.SendKeys(chromedp.CSS(`input[name=name]`), name), chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw))
	return b.click(`form[action="/login"] button`)
}

// acceptDialog accepts the next confirmation dialog of the tab; the
// returned func gives its message ("" if none came) and stops watching.
func (b *dashBrowser) acceptDialog() func() string {
	ctx, cancel := context.WithCancel(b.ctx)
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	msg := make(chan string, 1)
	go func() {
		defer close(msg)
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			msg <- ev.Message
			return
		}
	}()
	return func() string {
		cancel()
		return <-msg
	}
}

// dashEval returns the value of a JavaScript expression in b's page.
func dashEval[T any](b *dashBrowser, js string, opts ...chromedp.EvaluateOption) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, opts...))
	if err != nil {
		b.t.Fatalf("browser: eval %s: %v", js, err)
	}
	return v
}

func jsQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// text is the visible text of the first element matching sel, "" if
// there is none.
func (b *dashBrowser) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(dashEval[string](b, `document.querySelector(`+jsQuote(sel)+`)?.innerText ?? ""`))
}

func (b *dashBrowser) html() string {
	b.t.Helper()
	return dashEval[string](b, `document.documentElement.outerHTML`)
}

func (b *dashBrowser) has(sel string) bool {
	b.t.Helper()
	return dashEval[bool](b, `document.querySelector(`+jsQuote(sel)+`) !== null`)
}

// factJS is the text of the incident page's fact labelled dt.
func factJS(dt string) string {
	return `([...document.querySelectorAll("dl.facts-list dt")].find(d => d.innerText.trim() === ` + jsQuote(dt) +
		`)?.nextElementSibling?.innerText ?? "").trim()`
}

func (b *dashBrowser) fact(dt string) string {
	b.t.Helper()
	return dashEval[string](b, factJS(dt))
}

// cookie returns the browser's cookie name for base (HttpOnly included),
// nil if it has none.
func (b *dashBrowser) cookie(base, name string) *http.Cookie {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	if err != nil {
		b.t.Fatalf("browser: cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	return nil
}

// waitDOM polls the JavaScript condition cond in the open page, without
// reloading it, until it holds (15 s at most: live updates are quick, but
// the CI machine may not be).
func (b *dashBrowser) waitDOM(what, cond string) {
	b.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+cond+`)`))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("browser: %s: not seen within 15 s (last error %v); the page shows:\n%s", what, err, b.text("main"))
		}
	}
}

// waitReloaded reloads the page until cond holds, for what arrives
// without a live update (15 s at most).
func (b *dashBrowser) waitReloaded(what, cond string) {
	b.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if dashEval[bool](b, `!!(`+cond+`)`) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("browser: %s: not seen within 15 s; the page shows:\n%s", what, b.text("main"))
		}
		b.do(chromedp.Reload())
	}
}

// waitLive waits until the page's live stream is connected.
func (b *dashBrowser) waitLive() {
	b.t.Helper()
	b.waitDOM("live updates connected", `document.getElementById("live")?.classList.contains("on")`)
}

// mark tags the loaded document; checkMark fails if it was loaded again
// since (a live update must not need a reload).
func (b *dashBrowser) mark() {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](`window.e2eMark = true`))
}

func (b *dashBrowser) checkMark() {
	b.t.Helper()
	if !dashEval[bool](b, `window.e2eMark === true`) {
		b.t.Error("the page was reloaded; want a live update in place")
	}
}
