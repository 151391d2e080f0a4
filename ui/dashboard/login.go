package dashboard

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// dummyHash10 is the bcrypt hash (cost 10, bcrypt.DefaultCost) of a
// random password nobody knows. An unknown user name is compared against
// it, so that a login for a missing user takes as long as one for an
// existing user and names cannot be probed by timing.
const dummyHash10 = "$2a$10$znm5HW7hJHue5kvnlkptBu741dHKqxqlUc0iHqIpbepL2TkZftBZy"

// dummyHash returns a hash of the cost users' hashes have.
func (d *Dashboard) dummyHash() []byte {
	d.dummyOnce.Do(func() {
		cost := d.cfg.BcryptCost
		if cost == 0 || cost == bcrypt.DefaultCost {
			d.dummy = []byte(dummyHash10)
			return
		}
		h, err := bcrypt.GenerateFromPassword([]byte(newID()), cost)
		if err != nil {
			h = []byte(dummyHash10)
		}
		d.dummy = h
	})
	return d.dummy
}

type loginData struct {
	CSRF, Next, Name, Error string
}

// loginToken is the login form's CSRF token: there is no session yet, so
// it is bound to a random id in a short-lived cookie instead. This stops
// a foreign page from logging a victim into an account of its choosing.
func (d *Dashboard) loginToken(id string) string { return d.sign.csrfToken("login|" + id) }

func (d *Dashboard) loginPage(w http.ResponseWriter, r *http.Request, _ *viewer) {
	w.Header().Set("Cache-Control", "no-store")
	next := safeNext(r.URL.Query().Get("next"))
	if _, err := d.authenticate(w, r); err == nil {
		redirect(w, r, next)
		return
	}
	d.showLogin(w, r, http.StatusOK, loginData{Next: next})
}

// showLogin renders the login form with a fresh pre-session id when the
// browser has none.
func (d *Dashboard) showLogin(w http.ResponseWriter, r *http.Request, status int, ld loginData) {
	id := ""
	if c, err := r.Cookie(d.cookieName(cookieLogin)); err == nil && len(c.Value) >= 16 && len(c.Value) <= 64 {
		id = c.Value
	} else {
		id = newID()
		d.setCookie(w, cookieLogin, id, loginMaxAge, http.SameSiteLaxMode)
	}
	ld.CSRF = d.loginToken(id)
	d.render(w, status, "login", page{Title: "Masuk", Data: ld})
}

// safeNext keeps a post-login redirect on this dashboard: a path, never
// "//host" or a URL with a scheme.
func safeNext(n string) string {
	if n == "" || !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.ContainsAny(n, "\\\r\n") {
		return "/"
	}
	u, err := url.Parse(n)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "/login") {
		return "/"
	}
	return n
}

func (d *Dashboard) clientIP(r *http.Request) string {
	if d.cfg.ClientIP != nil {
		return d.cfg.ClientIP(r)
	}
	return remoteAddr(r)
}

func (d *Dashboard) login(w http.ResponseWriter, r *http.Request, _ *viewer) {
	w.Header().Set("Cache-Control", "no-store")
	c, err := r.Cookie(d.cookieName(cookieLogin))
	if err != nil || !d.sign.checkCSRF("login|"+c.Value, r.PostFormValue("csrf")) {
		d.fail(w, r, nil, http.StatusForbidden, "Formulir masuk kedaluwarsa atau cookie dimatikan. Muat ulang halaman masuk lalu coba lagi.")
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	pw := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	ld := loginData{Next: next, Name: name}
	addr := d.clientIP(r)
	key := strings.ToLower(truncate(name, 128))
	now := d.now()
	if wait := d.limit.blocked(key, addr, now); wait > 0 {
		mins := int((wait + time.Minute - 1) / time.Minute)
		d.cfg.Log.Warn("login rate limited", "user", name, "addr", addr)
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		ld.Error = "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam " + strconv.Itoa(mins) + " menit."
		d.showLogin(w, r, http.StatusTooManyRequests, ld)
		return
	}
	u, known, ok, err := d.checkPassword(r.Context(), name, pw)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			d.cfg.Log.Error("dashboard: login", "user", name, "err", err)
		}
		ld.Error = "Hub sedang tidak dapat dihubungi. Coba lagi sebentar lagi."
		d.showLogin(w, r, http.StatusServiceUnavailable, ld)
		return
	}
	if !ok {
		d.limit.fail(key, addr, now)
		if known {
			d.cfg.Log.Warn("login failed", "user", name, "addr", addr)
		} else {
			// An unknown name is often a password typed into the wrong
			// field: it is not logged.
			d.cfg.Log.Warn("login failed: unknown user", "addr", addr)
		}
		ld.Error = "Nama pengguna atau kata sandi salah, atau akun dinonaktifkan."
		d.showLogin(w, r, http.StatusUnauthorized, ld)
		return
	}
	d.limit.succeed(key, addr)
	sd := sessionData{User: u.Name, Epoch: u.Epoch, SID: newID(), Issued: now.Unix()}
	if err := d.issueSession(w, sd); err != nil {
		d.fail(w, r, nil, http.StatusInternalServerError, "Kesalahan internal.")
		return
	}
	d.clearCookie(w, cookieLogin)
	d.cfg.Log.Info("login", "user", u.Name, "role", u.Role, "addr", addr)
	redirect(w, r, next)
}

// checkPassword reports whether name may log in with pw. It runs bcrypt
// in every case (a dummy hash for unknown names) and within the
// concurrency bound, so that a flood of logins cannot starve the hub.
// known reports whether the user exists, for the log only.
func (d *Dashboard) checkPassword(ctx context.Context, name, pw string) (u hubapi.User, known, ok bool, err error) {
	u, err = d.cfg.Backend.User(ctx, name)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return u, false, false, err
	}
	hash := []byte(u.Hash)
	if !found || name == "" {
		hash = d.dummyHash()
	}
	select {
	case d.bcrypt <- struct{}{}:
	case <-ctx.Done():
		return u, found, false, ctx.Err()
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil
	<-d.bcrypt
	return u, found, found && match && !u.Disabled && validRole(u.Role) && u.Name == name, nil
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request, v *viewer) {
	d.loggedOut.add(v.sess.SID, v.sess.Exp+int64(sessionIdle/time.Second), d.now().Unix())
	d.clearCookie(w, cookieSession)
	d.clearCookie(w, cookieFlash)
	d.cfg.Log.Info("logout", "user", v.User.Name)
	redirect(w, r, "/login")
}

// ---- assets

//go:embed assets templates
var files embed.FS

// asset is an embedded file with its ETag.
type asset struct {
	data        []byte
	ctype, etag string
}

var assetTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

func loadAssets() (map[string]asset, error) {
	ents, err := files.ReadDir("assets")
	if err != nil {
		return nil, err
	}
	m := map[string]asset{}
	for _, e := range ents {
		b, err := files.ReadFile("assets/" + e.Name())
		if err != nil {
			return nil, err
		}
		ext := e.Name()[strings.LastIndexByte(e.Name(), '.'):]
		sum := sha256.Sum256(b)
		m[e.Name()] = asset{data: b, ctype: assetTypes[ext], etag: hex.EncodeToString(sum[:6])}
	}
	return m, nil
}

func (d *Dashboard) asset(w http.ResponseWriter, r *http.Request, _ *viewer) {
	a, ok := d.assets[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.ctype)
	w.Header().Set("ETag", `"`+a.etag+`"`)
	// Pages link assets with ?v=<etag>, so a new build gets new URLs and
	// the old ones may be cached for long.
	if r.URL.Query().Get("v") == a.etag {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, "", time.Time{}, strings.NewReader(string(a.data)))
}
