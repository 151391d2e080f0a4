package dashboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// Config configures New.
type Config struct {
	// Backend is the hub; required.
	Backend Backend
	// SessionKey signs session cookies and derives CSRF tokens: at least
	// 32 random bytes, stored by the caller so that sessions survive a
	// hub restart. Changing it logs everybody out.
	SessionKey []byte
	// Secure marks cookies Secure and gives them the __Host- prefix. Set
	// it whenever the dashboard is served over HTTPS (callers default to
	// true); only tests and a loopback demo leave it false.
	Secure bool
	// Now is the clock. If nil, time.Now is used.
	Now func() time.Time
	// Log receives login outcomes, refused requests and Backend failures.
	// If nil, nothing is logged.
	Log *slog.Logger
	// TZ is the zone times are shown in. If nil, Asia/Jakarta (WIB).
	TZ *time.Location
	// LoginLimit bounds password guessing; the zero value is the default.
	LoginLimit LoginLimit
	// ClientIP returns the client address that login limits count by. If
	// nil, the host of RemoteAddr (IPv6 by /64). Set it when the hub sits
	// behind a reverse proxy, or every user shares the proxy's budget.
	ClientIP func(*http.Request) string
	// TrustedOrigins are origins ("https://hub.example:8443") allowed to
	// POST although their host differs from the request's Host, e.g.
	// behind a reverse proxy that rewrites Host. Usually empty.
	TrustedOrigins []string
	// BcryptCost is the cost of passwords set on the users page; 0 means
	// bcrypt.DefaultCost.
	BcryptCost int
}

// Dashboard is the dashboard's http.Handler; mount it at "/". Close ends
// its live streams.
type Dashboard struct {
	// Immutable after New.
	cfg     Config
	sign    signer
	pages   map[string]*template.Template // by page name
	frags   *template.Template            // fragments sent over SSE
	handler http.Handler
	roles   map[string][]string // "METHOD pattern" -> roles, for templates
	bcrypt  chan struct{}       // bounds concurrent bcrypt comparisons
	assets  map[string]asset    // by file name

	dummyOnce sync.Once
	dummy     []byte // set by dummyOnce

	limit     *limiter // own lock
	loggedOut *sidSet  // own lock
	live      *broker  // own lock; SSE fan-out
}

// maxForm is the largest request body read; the forms are small.
const maxForm = 64 << 10

// contentSecurityPolicy allows no inline script or style and nothing from
// elsewhere: the pages carry only server-rendered, escaped HTML.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// New returns the dashboard for cfg.
func New(cfg Config) (*Dashboard, error) {
	if cfg.Backend == nil {
		return nil, errors.New("dashboard: no Backend")
	}
	if len(cfg.SessionKey) < 32 {
		return nil, fmt.Errorf("dashboard: SessionKey has %d bytes, want at least 32", len(cfg.SessionKey))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.TZ == nil {
		// The zone database may be missing on a minimal host; WIB has had
		// no daylight saving since 1964.
		tz, err := time.LoadLocation("Asia/Jakarta")
		if err != nil {
			tz = time.FixedZone("WIB", 7*3600)
		}
		cfg.TZ = tz
	}
	cfg.SessionKey = slices.Clone(cfg.SessionKey)
	d := &Dashboard{
		cfg:       cfg,
		sign:      signer{key: cfg.SessionKey},
		roles:     map[string][]string{},
		bcrypt:    make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
		limit:     newLimiter(cfg.LoginLimit),
		loggedOut: &sidSet{cap: 100000},
	}
	var err error
	if d.assets, err = loadAssets(); err != nil {
		return nil, fmt.Errorf("dashboard: assets: %w", err)
	}
	if d.pages, d.frags, err = d.parseTemplates(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	for _, rt := range routes {
		mux.Handle(rt.muxPattern(), d.wrap(rt.Route, rt.h))
		d.roles[rt.Method+" "+rt.Pattern] = rt.Roles
	}
	cop := http.NewCrossOriginProtection()
	for _, o := range cfg.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("dashboard: trusted origin: %w", err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.cfg.Log.Warn("cross-origin request refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"))
		d.fail(w, r, nil, http.StatusForbidden, "Permintaan dari situs lain ditolak. Buka dasbor langsung lalu coba lagi.")
	}))
	d.handler = securityHeaders(cop.Handler(mux))
	d.live = newBroker(d)
	return d, nil
}

// ServeHTTP serves the dashboard.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) { d.handler.ServeHTTP(w, r) }

// Close ends every live stream and the Backend subscription, and waits
// for them. Pages keep working; /events answers 503 afterwards.
func (d *Dashboard) Close() error {
	d.live.close()
	return nil
}

func (d *Dashboard) now() time.Time { return d.cfg.Now() }

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	})
}

// viewer is the logged-in user of a request, re-read from the Backend.
type viewer struct {
	User hubapi.User
	CSRF string
	sess sessionData
	scope
	roles map[string][]string
}

// scope is the set of offices a viewer sees.
type scope struct {
	all     bool
	offices map[string]bool
}

func (s scope) sees(office string) bool { return s.all || s.offices[office] }

// narrow limits s to one office ("" = no limit).
func (s scope) narrow(office string) scope {
	if office == "" {
		return s
	}
	return scope{offices: map[string]bool{office: s.sees(office)}}
}

func userScope(u hubapi.User) scope {
	if u.Role != hubapi.RoleUPTD {
		return scope{all: true}
	}
	m := make(map[string]bool, len(u.Offices))
	for _, o := range u.Offices {
		m[o] = true
	}
	return scope{offices: m}
}

// May reports whether the viewer's role may use the route "METHOD
// pattern" of the table; templates show only the actions it may take.
func (v *viewer) May(route string) bool { return slices.Contains(v.roles[route], v.User.Role) }

// RoleLabel is the role in Bahasa Indonesia.
func (v *viewer) RoleLabel() string { return roleLabel(v.User.Role) }

// errUnavailable is a Backend failure while checking a session.
var errUnavailable = errors.New("dashboard: backend unavailable")

// authenticate returns the viewer of r, refreshing its cookie now and
// then so that an active user stays logged in.
func (d *Dashboard) authenticate(w http.ResponseWriter, r *http.Request) (*viewer, error) {
	sd, err := d.readSession(r)
	if err != nil {
		return nil, err
	}
	u, err := d.cfg.Backend.User(r.Context(), sd.User)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, errBadCookie
	case err != nil:
		d.cfg.Log.Error("dashboard: read user", "user", sd.User, "err", err)
		return nil, fmt.Errorf("%w: %w", errUnavailable, err)
	case u.Disabled || u.Epoch != sd.Epoch || !validRole(u.Role):
		return nil, errBadCookie
	}
	if time.Unix(sd.Exp, 0).Sub(d.now()) < sessionIdle-sessionRefresh {
		if err := d.issueSession(w, sd); err != nil {
			return nil, err
		}
	}
	return &viewer{User: u, CSRF: d.sign.csrfToken(sd.SID), sess: sd, scope: userScope(u), roles: d.roles}, nil
}

func validRole(r string) bool {
	return r == hubapi.RoleUPTD || r == hubapi.RoleSistim || r == hubapi.RoleAdmin
}

// wrap enforces rt on h: login, CSRF on POST, role.
func (d *Dashboard) wrap(rt Route, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		}
		if rt.Public() {
			h(d, w, r, nil)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		v, err := d.authenticate(w, r)
		if errors.Is(err, errUnavailable) {
			d.fail(w, r, nil, http.StatusServiceUnavailable, "Hub sedang tidak dapat dihubungi. Coba lagi sebentar lagi.")
			return
		}
		if err != nil {
			d.unauthenticated(w, r)
			return
		}
		if r.Method == http.MethodPost && !d.csrfOK(r, v.sess.SID) {
			d.cfg.Log.Warn("csrf token refused", "user", v.User.Name, "path", r.URL.Path)
			d.fail(w, r, v, http.StatusForbidden, "Token keamanan (CSRF) tidak ada atau salah. Muat ulang halaman lalu coba lagi.")
			return
		}
		if !rt.Allows(v.User.Role) {
			d.fail(w, r, v, http.StatusForbidden, "Peran Anda ("+v.RoleLabel()+") tidak boleh membuka halaman atau melakukan tindakan ini.")
			return
		}
		h(d, w, r, v)
	})
}

// csrfOK checks the CSRF token of a POST: the form field csrf (body only,
// never the URL) or the header X-CSRF-Token.
func (d *Dashboard) csrfOK(r *http.Request, sid string) bool {
	tok := r.Header.Get("X-CSRF-Token")
	if tok == "" {
		tok = r.PostFormValue("csrf")
	}
	return d.sign.checkCSRF(sid, tok)
}

// unauthenticated sends a page request to the login page and answers
// anything else (live stream, CSV, POST) with 401.
func (d *Dashboard) unauthenticated(w http.ResponseWriter, r *http.Request) {
	d.clearCookie(w, cookieSession)
	if r.Method == http.MethodGet && r.URL.Path != "/events" && r.URL.Path != "/incidents.csv" {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	d.fail(w, r, nil, http.StatusUnauthorized, "Sesi berakhir. Silakan masuk lagi.")
}

// page is what every page template gets.
type page struct {
	Title  string
	V      *viewer // nil on the login and error pages of a visitor
	Flash  *flashData
	Events string // SSE URL of a live page, "" for none
	// ReloadOn is the DOM id whose live update makes the page fetch itself
	// again (detail pages, whose timeline a fragment does not cover).
	ReloadOn string
	Nav      string // active menu entry
	Data     any
}

// render writes page name with status. It renders into a buffer first,
// so a template error is a clean 500, not half a page.
func (d *Dashboard) render(w http.ResponseWriter, status int, name string, p page) {
	t := d.pages[name]
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		d.cfg.Log.Error("dashboard: render", "page", name, "err", err)
		http.Error(w, "Kesalahan internal", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// show renders a page for a logged-in viewer, with its pending flash.
func (d *Dashboard) show(w http.ResponseWriter, r *http.Request, v *viewer, name string, p page) {
	p.V = v
	p.Flash = d.takeFlash(w, r, v.sess.SID)
	d.render(w, http.StatusOK, name, p)
}

// fail answers with an error page (HTML) or, for a fetch or the live
// stream, plain text.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, v *viewer, status int, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Header.Get("X-CSRF-Token") != "" || strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		http.Error(w, msg, status)
		return
	}
	d.render(w, status, "error", page{Title: http.StatusText(status), V: v, Data: struct {
		Status int
		Msg    string
	}{status, msg}})
}

// notFound is the answer for anything missing or outside the viewer's
// offices: the two must not be told apart.
func (d *Dashboard) notFound(w http.ResponseWriter, r *http.Request, v *viewer) {
	d.fail(w, r, v, http.StatusNotFound, "Tidak ditemukan.")
}

// backendFailed maps a Backend error to a page.
func (d *Dashboard) backendFailed(w http.ResponseWriter, r *http.Request, v *viewer, op string, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		d.notFound(w, r, v)
	case errors.Is(err, ErrConflict):
		d.fail(w, r, v, http.StatusConflict, "Tidak dapat dilakukan: keadaannya sudah berubah. Muat ulang halaman.")
	case errors.Is(err, context.Canceled):
		// the client went away
	default:
		d.cfg.Log.Error("dashboard: backend", "op", op, "err", err)
		d.fail(w, r, v, http.StatusBadGateway, "Hub gagal menjawab. Coba lagi sebentar lagi.")
	}
}

// redirect ends a POST with 303 to a page of this dashboard.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// officeParam returns the ?office= filter of r. An office outside the
// viewer's scope is answered 404 (ok false), like a missing one.
func (d *Dashboard) officeParam(w http.ResponseWriter, r *http.Request, v *viewer) (string, bool) {
	o := r.URL.Query().Get("office")
	if o != "" && !v.sees(o) {
		d.notFound(w, r, v)
		return "", false
	}
	return o, true
}
