package dashboard

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/kiosktest"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

type env struct {
	t     testing.TB
	b     *fakeBackend
	d     *Dashboard
	clock *kiosktest.Clock
}

func newEnv(t testing.TB, mod ...func(*Config)) *env {
	t.Helper()
	e := &env{t: t, b: newFakeBackend(), clock: kiosktest.NewClock(t0)}
	cfg := Config{
		Backend: e.b, SessionKey: testKey, Secure: true, Now: e.clock.Now,
		Log: slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})), BcryptCost: bcrypt.MinCost,
	}
	for _, m := range mod {
		m(&cfg)
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	e.d = d
	return e
}

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// client is a browser over the handler, without a network: it keeps
// cookies and sends the headers a same-origin browser sends.
type client struct {
	t    testing.TB
	h    http.Handler
	jar  map[string]*http.Cookie
	addr string
}

const testHost = "hub.example"

func (e *env) client() *client {
	return &client{t: e.t, h: e.d, jar: map[string]*http.Cookie{}, addr: "192.0.2.10:5555"}
}

type resp struct {
	*http.Response
	Body string
}

func (c *client) do(method, path string, form url.Values, hdr ...string) resp {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, "https://"+testHost+path, body)
	r.RemoteAddr = c.addr
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method == http.MethodPost {
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		r.Header.Set("Origin", "https://"+testHost)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			r.Header.Del(hdr[i])
		} else {
			r.Header.Set(hdr[i], hdr[i+1])
		}
	}
	for _, ck := range c.jar {
		r.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	res := w.Result()
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 {
			delete(c.jar, ck.Name)
		} else {
			c.jar[ck.Name] = ck
		}
	}
	b, _ := io.ReadAll(res.Body)
	return resp{res, string(b)}
}

func (c *client) get(path string) resp { c.t.Helper(); return c.do("GET", path, nil) }

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t testing.TB, body string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf field in page:\n%s", body)
	}
	return m[1]
}

// login logs in through the form and returns the POST's response.
func (c *client) login(name, pw string) resp {
	c.t.Helper()
	page := c.get("/login")
	return c.do("POST", "/login", url.Values{"csrf": {csrfOf(c.t, page.Body)}, "name": {name}, "password": {pw}})
}

// as returns a logged-in client and its CSRF token.
func (e *env) as(name string) (*client, string) {
	e.t.Helper()
	c := e.client()
	if r := c.login(name, testPassword); r.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login %s: %d\n%s", name, r.StatusCode, r.Body)
	}
	return c, csrfOf(e.t, c.get("/").Body)
}

// post sends a form with the CSRF token.
func (c *client) post(path, csrf string, form url.Values) resp {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", csrf)
	return c.do("POST", path, form)
}

// sessionCookie makes a valid session cookie for user directly, for
// benchmarks and network tests.
func (e *env) sessionCookie(user string) *http.Cookie {
	e.t.Helper()
	u, _ := e.b.User(context.Background(), user)
	sd := sessionData{User: user, Epoch: u.Epoch, SID: newID(), Issued: e.clock.Now().Unix(), Exp: e.clock.Now().Add(sessionIdle).Unix()}
	val, err := e.d.sign.seal("session", sd)
	if err != nil {
		e.t.Fatal(err)
	}
	return &http.Cookie{Name: e.d.cookieName(cookieSession), Value: val}
}
