package dashboard

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

func TestNewRefusesBadConfig(t *testing.T) {
	if _, err := New(Config{SessionKey: testKey}); err == nil {
		t.Error("New without Backend: no error")
	}
	if _, err := New(Config{Backend: newFakeBackend(), SessionKey: []byte("short")}); err == nil {
		t.Error("New with a 5-byte key: no error")
	}
}

func TestLoginAndSessionCookie(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	if r := c.get("/"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("GET / without session = %d %q, want 303 to /login", r.StatusCode, r.Header.Get("Location"))
	}
	r := c.login("uptd1", testPassword)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("login = %d %q, want 303 to /", r.StatusCode, r.Header.Get("Location"))
	}
	ck := c.jar["__Host-pkb_session"]
	if ck == nil {
		t.Fatalf("no __Host-pkb_session cookie; jar %v", c.jar)
	}
	if !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" {
		t.Errorf("session cookie = %+v; want HttpOnly, Secure, SameSite=Lax, Path=/, no Domain", ck)
	}
	if strings.Contains(ck.Value, testPassword) {
		t.Error("cookie carries the password")
	}
	page := c.get("/")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "pdg-01") {
		t.Fatalf("fleet page = %d, missing pdg-01", page.StatusCode)
	}
	if strings.Contains(page.Body, "bkt-01") || strings.Contains(page.Body, "slk-01") {
		t.Error("uptd1 of padang sees kiosks of other offices")
	}
	if cc := page.Header.Get("Content-Security-Policy"); !strings.Contains(cc, "script-src 'self'") {
		t.Errorf("CSP = %q", cc)
	}

	// Logging out ends the session, also for a copy of the cookie.
	stolen := *ck
	csrf := csrfOf(t, page.Body)
	if r := c.post("/logout", csrf, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout = %d", r.StatusCode)
	}
	if _, ok := c.jar["__Host-pkb_session"]; ok {
		t.Error("logout did not clear the cookie")
	}
	c.jar[stolen.Name] = &stolen
	if r := c.get("/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("GET / with a logged-out cookie = %d, want 303 to login", r.StatusCode)
	}
}

func TestInsecureCookieName(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Secure = false })
	c := e.client()
	c.login("sistim1", testPassword)
	ck := c.jar["pkb_session"]
	if ck == nil || ck.Secure {
		t.Fatalf("Secure=false: cookie %+v, want pkb_session without Secure", ck)
	}
}

func TestLoginRefused(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct{ name, user, pw string }{
		{"wrong password", "uptd1", "salah-salah-salah"},
		{"unknown user", "nobody", testPassword},
		{"disabled user", "off", testPassword},
		{"empty", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := e.client()
			c.addr = "198.51.100.1:1" // own address: stay clear of the limit
			r := c.login(tt.user, tt.pw)
			if r.StatusCode != http.StatusUnauthorized {
				t.Errorf("login = %d, want 401", r.StatusCode)
			}
			if _, ok := c.jar["__Host-pkb_session"]; ok {
				t.Error("refused login set a session cookie")
			}
			if !strings.Contains(r.Body, "kata sandi salah") {
				t.Error("no message on the page")
			}
		})
	}
}

func TestLoginFormNeedsToken(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	form := url.Values{"name": {"uptd1"}, "password": {testPassword}}
	if r := c.do("POST", "/login", form); r.StatusCode != http.StatusForbidden {
		t.Errorf("login without form token = %d, want 403", r.StatusCode)
	}
	c.get("/login")
	form.Set("csrf", "AAAA")
	if r := c.do("POST", "/login", form); r.StatusCode != http.StatusForbidden {
		t.Errorf("login with a wrong form token = %d, want 403", r.StatusCode)
	}
}

func TestLoginNextStaysLocal(t *testing.T) {
	for in, want := range map[string]string{
		"": "/", "/kiosk/pdg-01": "/kiosk/pdg-01", "//evil.example/x": "/", "https://evil.example": "/",
		"/\\evil.example": "/", "/login?next=/x": "/", "/incidents?state=open": "/incidents?state=open",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSessionEndsWithUser(t *testing.T) {
	for _, tt := range []struct {
		name string
		f    func(*hubapi.User)
	}{
		{"disabled", func(u *hubapi.User) { u.Disabled = true }},
		{"new epoch", func(u *hubapi.User) { u.Epoch++ }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			c, _ := e.as("uptd1")
			e.b.setUser("uptd1", tt.f)
			if r := c.get("/"); r.StatusCode != http.StatusSeeOther {
				t.Errorf("GET / = %d, want 303 to login", r.StatusCode)
			}
		})
	}
	t.Run("idle expiry", func(t *testing.T) {
		e := newEnv(t)
		c, _ := e.as("uptd1")
		e.clock.Add(sessionIdle + time.Minute)
		if r := c.get("/"); r.StatusCode != http.StatusSeeOther {
			t.Errorf("GET / after 12 h idle = %d, want 303", r.StatusCode)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		e := newEnv(t)
		c, _ := e.as("uptd1")
		ck := c.jar["__Host-pkb_session"]
		p, sig, _ := strings.Cut(ck.Value, ".")
		forged, _ := e.d.sign.seal("session", sessionData{User: "sistim1", Epoch: 1, SID: "x", Exp: t0.Add(time.Hour).Unix(), Issued: t0.Unix()})
		fp, _, _ := strings.Cut(forged, ".")
		ck.Value = fp + "." + sig // another payload, the old signature
		_ = p
		if r := c.get("/"); r.StatusCode != http.StatusSeeOther {
			t.Errorf("tampered cookie: GET / = %d, want 303", r.StatusCode)
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LoginLimit = LoginLimit{PerUser: 5, PerIP: 8, Window: 15 * time.Minute} })
	c := e.client()
	for i := range 5 {
		if r := c.login("uptd1", "salah-salah-salah"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d, want 401", i+1, r.StatusCode)
		}
	}
	r := c.login("uptd1", testPassword) // even the right password
	if r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("6th login = %d, want 429", r.StatusCode)
	}
	if ra := r.Header.Get("Retry-After"); ra != "900" {
		t.Errorf("Retry-After = %q, want 900", ra)
	}
	// Another address is not affected.
	other := e.client()
	other.addr = "203.0.113.7:1"
	if r := other.login("uptd1", testPassword); r.StatusCode != http.StatusSeeOther {
		t.Errorf("login from another address = %d, want 303", r.StatusCode)
	}
	// The address's own budget over all names: 3 more failures reach 8.
	for _, n := range []string{"a", "b", "c"} {
		c.login(n, "x")
	}
	if r := c.login("sistim1", testPassword); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("login after 8 failures from one address = %d, want 429", r.StatusCode)
	}
	e.clock.Add(15 * time.Minute)
	if r := c.login("uptd1", testPassword); r.StatusCode != http.StatusSeeOther {
		t.Errorf("login after the window = %d, want 303", r.StatusCode)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	c, csrf := e.as("sistim1")
	form := func() url.Values { return url.Values{"level": {"ui"}} }
	for _, tt := range []struct {
		name string
		f    url.Values
		hdr  []string
		want int
	}{
		{"missing", form(), nil, http.StatusForbidden},
		{"wrong", url.Values{"level": {"ui"}, "csrf": {"bm9wZQ"}}, nil, http.StatusForbidden},
		{"other session's", url.Values{"level": {"ui"}, "csrf": {e.d.sign.csrfToken("another")}}, nil, http.StatusForbidden},
		{"in the URL only", form(), nil, http.StatusForbidden},
		{"header", form(), []string{"X-CSRF-Token", csrf}, http.StatusSeeOther},
		{"field", url.Values{"level": {"ui"}, "csrf": {csrf}}, nil, http.StatusSeeOther},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := "/kiosk/pdg-01/restart"
			if tt.name == "in the URL only" {
				path += "?csrf=" + url.QueryEscape(csrf)
			}
			r := c.do("POST", path, tt.f, tt.hdr...)
			if r.StatusCode != tt.want {
				t.Errorf("POST = %d, want %d\n%s", r.StatusCode, tt.want, r.Body)
			}
			if tt.want == http.StatusForbidden && !strings.Contains(r.Body, "CSRF") {
				t.Errorf("403 without a clear message: %s", r.Body)
			}
		})
	}
	if got := e.b.Calls(); len(got) != 2 {
		t.Errorf("backend calls = %q, want the 2 with a token", got)
	}
}

func TestCrossOriginRefused(t *testing.T) {
	e := newEnv(t)
	c, csrf := e.as("sistim1")
	for _, hdr := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"},
		{"Sec-Fetch-Site", "", "Origin", "https://evil.example"},
	} {
		r := c.do("POST", "/kiosk/pdg-01/restart", url.Values{"level": {"ui"}, "csrf": {csrf}}, hdr...)
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("POST with %q = %d, want 403", hdr, r.StatusCode)
		}
	}
	if got := e.b.Calls(); len(got) != 0 {
		t.Errorf("backend calls = %q, want none", got)
	}
}

func TestRoutesTable(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Routes() {
		k := r.Method + " " + r.Pattern
		if seen[k] {
			t.Errorf("route %s twice", k)
		}
		seen[k] = true
		if r.Method != "GET" && r.Method != "POST" {
			t.Errorf("route %s: method %s", k, r.Method)
		}
		if r.Public() && r.Method == "POST" && r.Pattern != "/login" {
			t.Errorf("route %s: public POST", k)
		}
		for _, ro := range r.Roles {
			if !validRole(ro) {
				t.Errorf("route %s: role %q", k, ro)
			}
		}
	}
	// Modifying the copy does not change the table.
	rs := Routes()
	rs[0].Roles = append(rs[0].Roles, "x")
	if slices.Contains(Routes()[0].Roles, "x") {
		t.Error("Routes returns the table itself")
	}
}

// routeURL fills a route's wildcards: {id} with a kiosk or incident of
// office bukittinggi (or a missing one), {name} with a user.
func routeURL(r Route, missing bool) string {
	p := r.Pattern
	id := "bkt-01"
	if strings.HasPrefix(p, "/incidents/") {
		id = "inc-bkt-1"
	}
	if missing {
		id = "nope-99"
	}
	p = strings.ReplaceAll(p, "{id}", url.PathEscape(id))
	p = strings.ReplaceAll(p, "{name}", "sistim1")
	p = strings.ReplaceAll(p, "{file}", "app.css")
	if r.Scoped && !strings.Contains(r.Pattern, "{id}") {
		p += "?office=bukittinggi"
	}
	if r.Pattern == "/credentials/revoke" && r.Method == "GET" {
		p += "?name=pdg-01"
	}
	return p
}

// A uptd user of padang can reach nothing of bukittinggi, by any route:
// 404 where the route is its role's (as for a missing id), 403 where it
// is not; and no route changes anything.
func TestUPTDScopeEveryRoute(t *testing.T) {
	e := newEnv(t)
	c, csrf := e.as("uptd1")
	form := url.Values{"level": {"ui"}, "on": {"1"}, "note": {"ok"}, "name": {"pdg-01"}, "confirm": {"yes"},
		"role": {"uptd"}, "office": {"padang"}, "password": {"panjang-sekali-1"}, "password2": {"panjang-sekali-1"}}
	for _, r := range Routes() {
		if r.Public() || r.Pattern == "/logout" {
			continue
		}
		t.Run(r.Method+" "+r.Pattern, func(t *testing.T) {
			want := http.StatusNotFound
			if !r.Allows(hubapi.RoleUPTD) {
				want = http.StatusForbidden
			} else if !r.Scoped {
				t.Fatalf("route allows uptd but is not office-scoped: add a case to this test")
			}
			for _, missing := range []bool{false, true} {
				u := routeURL(r, missing)
				var res resp
				if r.Method == "POST" {
					f := url.Values{}
					for k, v := range form {
						f[k] = v
					}
					res = c.post(u, csrf, f)
				} else {
					res = c.get(u)
				}
				if res.StatusCode != want {
					t.Errorf("%s %s = %d, want %d", r.Method, u, res.StatusCode, want)
				}
				if strings.Contains(res.Body, "bkt-01") || strings.Contains(res.Body, "bukittinggi") {
					t.Errorf("%s %s shows bukittinggi data", r.Method, u)
				}
			}
		})
	}
	if got := e.b.Calls(); len(got) != 0 {
		t.Errorf("backend calls = %q, want none", got)
	}
	// The unfiltered lists show padang only.
	for _, p := range []string{"/", "/incidents", "/incidents.csv", "/audit", "/incidents?state=active"} {
		r := c.get(p)
		if r.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", p, r.StatusCode)
		}
		if strings.Contains(r.Body, "bkt-01") || strings.Contains(r.Body, "bukittinggi") {
			t.Errorf("GET %s shows bukittinggi data", p)
		}
	}
}

func TestUPTDRefusedRestart(t *testing.T) {
	e := newEnv(t)
	c, csrf := e.as("uptd1")
	if r := c.post("/kiosk/pdg-01/restart", csrf, url.Values{"level": {"ui"}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("uptd restart of own kiosk = %d, want 403", r.StatusCode)
	}
	if strings.Contains(c.get("/kiosk/pdg-01").Body, "/restart") {
		t.Error("kiosk page offers uptd a restart")
	}
	if got := e.b.Calls(); len(got) != 0 {
		t.Errorf("backend calls = %q", got)
	}
}

func TestSistimRestart(t *testing.T) {
	e := newEnv(t)
	c, csrf := e.as("sistim1")
	if !strings.Contains(c.get("/kiosk/bkt-01").Body, `action="/kiosk/bkt-01/restart"`) {
		t.Fatal("kiosk page offers sistim no restart")
	}
	r := c.post("/kiosk/bkt-01/restart", csrf, url.Values{"level": {"agent"}, "force": {"1"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/kiosk/bkt-01" {
		t.Fatalf("restart = %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if got, want := e.b.Calls(), []string{"restart bkt-01 agent true by sistim1"}; !slices.Equal(got, want) {
		t.Errorf("backend calls = %q, want %q", got, want)
	}
	page := c.get("/kiosk/bkt-01")
	if !strings.Contains(page.Body, "flash-ok") || !strings.Contains(page.Body, "selesai — layar dimuat ulang") {
		t.Errorf("kiosk page after restart shows no reply:\n%s", page.Body)
	}
	if strings.Contains(c.get("/kiosk/bkt-01").Body, "flash-ok") {
		t.Error("flash shown twice")
	}

	e.b.mu.Lock()
	e.b.result = CommandResult{Outcome: "offline"}
	e.b.mu.Unlock()
	c.post("/kiosk/bkt-01/restart", csrf, url.Values{"level": {"host"}})
	if page := c.get("/kiosk/bkt-01"); !strings.Contains(page.Body, "flash-err") || !strings.Contains(page.Body, "offline") {
		t.Error("offline reply not shown as an error")
	}
	if r := c.post("/kiosk/bkt-01/restart", csrf, url.Values{"level": {"reboot-all"}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown level = %d, want 400", r.StatusCode)
	}
	if r := c.post("/kiosk/nope/restart", csrf, url.Values{"level": {"ui"}}); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown kiosk = %d, want 404", r.StatusCode)
	}
}

func TestFlashIsBoundToSession(t *testing.T) {
	e := newEnv(t)
	c, csrf := e.as("sistim1")
	c.post("/kiosk/bkt-01/restart", csrf, url.Values{"level": {"ui"}})
	flash := c.jar["__Host-pkb_flash"]
	other, _ := e.as("sistim1")
	other.jar[flash.Name] = flash
	if strings.Contains(other.get("/").Body, "flash-ok") {
		t.Error("another session shows the flash")
	}
}

func TestMaintenanceAndIncidentActions(t *testing.T) {
	e := newEnv(t)
	c, csrf := e.as("uptd1")
	if r := c.post("/kiosk/pdg-01/maintenance", csrf, url.Values{"on": {"1"}, "message": {"Sedang diperbaiki"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("maintenance = %d", r.StatusCode)
	}
	if r := c.post("/incidents/inc-pdg-1/ack", csrf, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("ack = %d", r.StatusCode)
	}
	c.post("/incidents/inc-pdg-1/ack", csrf, nil) // again: conflict, a warning
	if p := c.get("/incidents/inc-pdg-1"); !strings.Contains(p.Body, "flash-warn") {
		t.Error("second acknowledge shows no warning")
	}
	c.post("/incidents/inc-pdg-1/resolve", csrf, url.Values{"note": {"  "}})
	if p := c.get("/incidents/inc-pdg-1"); !strings.Contains(p.Body, "catatan") {
		t.Error("resolve without a note: no message")
	}
	c.post("/incidents/inc-pdg-1/resolve", csrf, url.Values{"note": {"Kertas diganti"}})
	want := []string{
		`maintenance pdg-01 true "Sedang diperbaiki" by uptd1`,
		"ack inc-pdg-1 by uptd1",
		"resolve inc-pdg-1 by uptd1: Kertas diganti",
	}
	if got := e.b.Calls(); !slices.Equal(got, want) {
		t.Errorf("backend calls = %q, want %q", got, want)
	}
}

func TestAdminUsers(t *testing.T) {
	e := newEnv(t)
	c, csrf := e.as("admin1")
	if p := c.get("/users"); p.StatusCode != http.StatusOK || !strings.Contains(p.Body, "uptd1") {
		t.Fatalf("users page = %d", p.StatusCode)
	}
	add := url.Values{"name": {"budi"}, "role": {"uptd"}, "office": {"padang"}, "offices_extra": {"solok, padang"},
		"password": {"kata-sandi-baru"}, "password2": {"kata-sandi-baru"}}
	if r := c.post("/users", csrf, add); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("add user = %d", r.StatusCode)
	}
	u, err := e.b.User(t.Context(), "budi")
	if err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword([]byte(u.Hash), []byte("kata-sandi-baru")) != nil {
		t.Error("stored hash does not match the password")
	}
	if !slices.Equal(u.Offices, []string{"padang", "solok"}) {
		t.Errorf("offices = %q", u.Offices)
	}
	// Adding again needs "replace", and bumps the epoch.
	c.post("/users", csrf, add)
	add.Set("replace", "1")
	c.post("/users", csrf, add)
	for _, bad := range []url.Values{
		{"name": {"x y"}, "role": {"uptd"}, "office": {"padang"}, "password": {"kata-sandi-baru"}, "password2": {"kata-sandi-baru"}},
		{"name": {"ani"}, "role": {"uptd"}, "password": {"kata-sandi-baru"}, "password2": {"kata-sandi-baru"}},
		{"name": {"ani"}, "role": {"root"}, "password": {"kata-sandi-baru"}, "password2": {"kata-sandi-baru"}},
		{"name": {"ani"}, "role": {"sistim"}, "password": {"pendek"}, "password2": {"pendek"}},
		{"name": {"ani"}, "role": {"sistim"}, "password": {"kata-sandi-baru"}, "password2": {"kata-sandi-lain"}},
	} {
		c.post("/users", csrf, bad)
	}
	c.post("/users/uptd1/disable", csrf, nil)
	c.post("/users/admin1/disable", csrf, nil) // self: refused
	want := []string{
		"adduser budi uptd [padang solok] epoch 0 by admin1",
		"adduser budi uptd [padang solok] epoch 1 by admin1",
		"disabled uptd1 true by admin1",
	}
	if got := e.b.Calls(); !slices.Equal(got, want) {
		t.Errorf("backend calls = %q, want %q", got, want)
	}
	// admin sees everything, acts on nothing but users.
	if r := c.post("/kiosk/pdg-01/maintenance", csrf, url.Values{"on": {"1"}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("admin maintenance = %d, want 403", r.StatusCode)
	}
	if p := c.get("/"); !strings.Contains(p.Body, "bkt-01") {
		t.Error("admin does not see all offices")
	}
	s, scsrf := e.as("sistim1")
	if r := s.post("/users", scsrf, add); r.StatusCode != http.StatusForbidden {
		t.Errorf("sistim add user = %d, want 403", r.StatusCode)
	}
}

func TestCredentials(t *testing.T) {
	e := newEnv(t)
	c, csrf := e.as("sistim1")
	if p := c.get("/credentials"); !strings.Contains(p.Body, "op-andi") {
		t.Fatal("credentials page lacks op-andi")
	}
	if p := c.get("/credentials/revoke?name=op-andi"); !strings.Contains(p.Body, `name="confirm" value="yes"`) {
		t.Error("no confirmation form")
	}
	if r := c.post("/credentials/revoke", csrf, url.Values{"name": {"op-andi"}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("revoke without confirm = %d, want 400", r.StatusCode)
	}
	c.post("/credentials/revoke", csrf, url.Values{"name": {"op-andi"}, "confirm": {"yes"}})
	if got, want := e.b.Calls(), []string{"revoke op-andi by sistim1"}; !slices.Equal(got, want) {
		t.Errorf("calls = %q, want %q", got, want)
	}
	if p := c.get("/credentials/revoke?name=nope"); p.StatusCode != http.StatusNotFound {
		t.Errorf("unknown credential = %d, want 404", p.StatusCode)
	}
}

func TestFleetPage(t *testing.T) {
	e := newEnv(t)
	c, _ := e.as("sistim1")
	p := c.get("/")
	for _, want := range []string{
		`id="k-pdg-02"`, "Kertas habis", "Terlambat", `id="c-padang"`, `data-n-offline="1"`, "Mode perawatan",
		"Baterai (UPS)", "Disk bebas 20,0 GB (31%)", "Versi 1.4.2", `data-events="/events"`, "15.59",
		"Mati tidak wajar terakhir", // pdg-01's power cut three hours ago
	} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("fleet page lacks %q", want)
		}
	}
	f := c.get("/?office=solok")
	if !strings.Contains(f.Body, "slk-01") || strings.Contains(f.Body, "pdg-01") {
		t.Error("office filter does not filter")
	}
	if !strings.Contains(f.Body, `data-events="/events?office=solok"`) {
		t.Error("filtered page streams all offices")
	}
	u, _ := e.as("uptd2")
	if p := u.get("/"); !strings.Contains(p.Body, "slk-01") || !strings.Contains(p.Body, "pdg-01") || strings.Contains(p.Body, "bkt-01") {
		t.Error("uptd2 (padang, solok) sees the wrong kiosks")
	}
}

func TestKioskPage(t *testing.T) {
	e := newEnv(t)
	c, _ := e.as("uptd1")
	p := c.get("/kiosk/pdg-02")
	for _, want := range []string{
		"Gangguan: Kertas printer habis", "Status: Online → Terlambat", "Hasil perintah restart: selesai",
		"Terakhir mati tidak wajar", "Mati selama 30 menit", "Kertas habis di pdg-02", `action="/kiosk/pdg-02/maintenance"`,
	} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("kiosk page lacks %q", want)
		}
	}
	// Newest first.
	if strings.Index(p.Body, "Status: Online") > strings.Index(p.Body, "Kiosk menyala") {
		t.Error("timeline is not newest first")
	}
}

func TestIncidentsPageAndCSV(t *testing.T) {
	e := newEnv(t)
	c, _ := e.as("sistim1")
	p := c.get("/incidents?state=active")
	if !strings.Contains(p.Body, "inc-pdg-1") || strings.Contains(p.Body, "inc-pdg-2") {
		t.Error("state filter: want the active ones only")
	}
	if !strings.Contains(p.Body, "overdue") || !strings.Contains(p.Body, "lewat batas akui") {
		t.Error("overdue incident not highlighted")
	}
	if !strings.Contains(p.Body, `href="/incidents.csv?state=active"`) {
		t.Error("CSV link lacks the filter")
	}
	if r := c.get("/incidents?state=bogus"); r.StatusCode != http.StatusBadRequest {
		t.Errorf("bad state = %d", r.StatusCode)
	}

	r := c.get("/incidents.csv?office=padang")
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv = %d %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
	if !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment;") {
		t.Errorf("Content-Disposition = %q", r.Header.Get("Content-Disposition"))
	}
	recs, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || !slices.Equal(recs[0], csvHeader) {
		t.Fatalf("csv has %d records, header %q", len(recs), recs[0])
	}
	col := func(rec []string, name string) string { return rec[slices.Index(csvHeader, name)] }
	var done []string
	for _, rec := range recs[1:] {
		if col(rec, "id") == "inc-pdg-2" {
			done = rec
		}
	}
	for name, want := range map[string]string{
		"judul":   `'=HYPERLINK("http://evil","klik")`,
		"catatan": "'@SUM(A1)",
		"dibuka":  "2026-02-28 16:00:00", "diakui_pada": "2026-02-28 17:00:00", "diakui_oleh": "uptd1",
		"menit_sampai_diakui": "60", "menit_sampai_selesai": "120", "lewat_batas_akui": "tidak",
		"jenis": "Tutup printer terbuka",
	} {
		if got := col(done, name); got != want {
			t.Errorf("csv %s = %q, want %q", name, got, want)
		}
	}
	if strings.Contains(r.Body, "bukittinggi") {
		t.Error("office filter ignored in the CSV")
	}
	// Date range: only the two-day-old one.
	r = c.get("/incidents.csv?from=2026-02-28&to=2026-02-28")
	if recs, _ := csv.NewReader(strings.NewReader(r.Body)).ReadAll(); len(recs) != 2 || recs[1][0] != "inc-pdg-2" {
		t.Errorf("date range: %q", recs)
	}
}

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "=1+2": "'=1+2", "+62": "'+62", "-5": "'-5", "@x": "'@x", "\tx": "'\tx", "normal": "normal", "a=b": "a=b",
	} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
	var buf bytes.Buffer
	writeIncidentsCSV(&buf, []hubapi.Incident{{ID: "1", Note: "baris\nkedua, \"kutip\""}}, time.UTC)
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || recs[1][len(csvHeader)-1] != "baris\nkedua, \"kutip\"" {
		t.Errorf("round trip: %q, %v", recs, err)
	}
}

func TestAuditAndAlerts(t *testing.T) {
	e := newEnv(t)
	u, _ := e.as("uptd1")
	p := u.get("/audit")
	if !strings.Contains(p.Body, "inc-pdg-2") || strings.Contains(p.Body, "inc-bkt-1") || strings.Contains(p.Body, "Pengguna ditambahkan") {
		t.Error("uptd audit shows the wrong entries")
	}
	s, _ := e.as("sistim1")
	if p := s.get("/audit"); !strings.Contains(p.Body, "inc-bkt-1") || !strings.Contains(p.Body, "Pengguna ditambahkan") {
		t.Error("sistim audit lacks entries")
	}
	if p := s.get("/alerts"); !strings.Contains(p.Body, "webhook 500") || !strings.Contains(p.Body, "Gagal") {
		t.Error("alerts page lacks the failed delivery")
	}
}

func TestAssets(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	for _, n := range []string{"app.css", "app.js"} {
		r := c.get("/assets/" + n)
		if r.StatusCode != http.StatusOK || r.Header.Get("ETag") == "" || len(r.Body) < 100 {
			t.Errorf("%s = %d", n, r.StatusCode)
		}
	}
	if r := c.get("/assets/nope.js"); r.StatusCode != http.StatusNotFound {
		t.Errorf("missing asset = %d", r.StatusCode)
	}
	login := c.get("/login").Body
	if strings.Contains(login, "http://") || strings.Contains(login, "https://") {
		t.Error("login page references another origin")
	}
}

func TestDomID(t *testing.T) {
	for in, want := range map[string]string{"pdg-01": "k-pdg-01", "a b/ä": "k-a.20b.2f.c3.a4", `"><x`: "k-.22.3e.3cx"} {
		if got := domID("k-", in); got != want {
			t.Errorf("domID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHashPassword(t *testing.T) {
	if _, err := HashPassword("pendek", bcrypt.MinCost); err == nil {
		t.Error("short password accepted")
	}
	h, err := HashPassword("cukup-panjang", bcrypt.MinCost)
	if err != nil || bcrypt.CompareHashAndPassword([]byte(h), []byte("cukup-panjang")) != nil {
		t.Errorf("HashPassword: %v", err)
	}
}

// Every GET route answers its roles with 200 and changes nothing.
func TestGETRoutesChangeNothing(t *testing.T) {
	e := newEnv(t)
	for _, user := range []string{"uptd1", "sistim1", "admin1"} {
		c, _ := e.as(user)
		role := e.b.users[user].Role
		for _, r := range Routes() {
			if r.Method != "GET" || r.Pattern == "/events" || r.Public() {
				continue
			}
			p := strings.ReplaceAll(r.Pattern, "{id}", "pdg-02")
			if strings.HasPrefix(r.Pattern, "/incidents/") {
				p = strings.ReplaceAll(r.Pattern, "{id}", "inc-pdg-1")
			}
			if r.Pattern == "/credentials/revoke" {
				p += "?name=pdg-01"
			}
			want := http.StatusOK
			if !r.Allows(role) {
				want = http.StatusForbidden
			}
			if res := c.get(p); res.StatusCode != want {
				t.Errorf("%s: GET %s = %d, want %d", user, p, res.StatusCode, want)
			}
		}
	}
	if got := e.b.Calls(); len(got) != 0 {
		t.Errorf("GETs changed something: %q", got)
	}
}

func TestEscaping(t *testing.T) {
	e := newEnv(t)
	e.b.mu.Lock()
	i := e.b.incidents["inc-pdg-1"]
	i.Title = `<script>alert(1)</script>`
	e.b.incidents["inc-pdg-1"] = i
	e.b.mu.Unlock()
	c, _ := e.as("uptd1")
	for _, p := range []string{"/incidents", "/incidents/inc-pdg-1"} {
		body := c.get(p).Body
		if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;alert(1)") {
			t.Errorf("%s: title not escaped", p)
		}
	}
}
