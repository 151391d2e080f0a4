package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Session lifetimes. The idle limit lets an office PC stay logged in
// through a working day; the absolute limit bounds a stolen cookie.
const (
	sessionIdle    = 12 * time.Hour
	sessionMax     = 7 * 24 * time.Hour
	sessionRefresh = time.Hour // re-issue the cookie at most this often
	flashMaxAge    = 2 * time.Minute
	loginMaxAge    = time.Hour
)

// sessionData is the signed content of the session cookie. It holds no
// role or offices: those are read from the Backend on every request.
type sessionData struct {
	User   string `json:"u"`
	Epoch  int64  `json:"e"`
	SID    string `json:"s"` // random; CSRF tokens and flashes are bound to it
	Exp    int64  `json:"x"` // idle expiry, Unix seconds
	Issued int64  `json:"i"` // login time, Unix seconds
}

// flashData is a one-time message shown after a POST-redirect-GET. It is
// signed and bound to the session id, so a link or a planted cookie
// cannot make the dashboard show a text of somebody else's choosing.
type flashData struct {
	SID  string `json:"s"`
	Kind string `json:"k"` // ok | warn | err
	Text string `json:"t"`
	Exp  int64  `json:"x"`
}

// errBadCookie is any cookie that does not verify; callers treat it as
// no cookie at all.
var errBadCookie = errors.New("dashboard: invalid cookie")

// signer signs and verifies cookie values and derives CSRF tokens. Each
// use prefixes its own label before MACing, so a value signed for one
// purpose never verifies for another.
type signer struct{ key []byte }

func (s signer) mac(label, msg string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(label))
	m.Write([]byte{'|'})
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// seal encodes v as base64url(JSON) "." base64url(MAC).
func (s signer) seal(label string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("dashboard: encode cookie: %w", err)
	}
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.mac(label, p)), nil
}

// open verifies a sealed value and decodes it into v.
func (s signer) open(label, val string, v any) error {
	p, sig, ok := strings.Cut(val, ".")
	if !ok {
		return errBadCookie
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(label, p)) {
		return errBadCookie
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return errBadCookie
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errBadCookie
	}
	return nil
}

// csrfToken is HMAC(SessionKey, "csrf"|sid), base64url.
func (s signer) csrfToken(sid string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("csrf", sid))
}

// checkCSRF reports whether tok is the CSRF token of sid, in constant
// time.
func (s signer) checkCSRF(sid, tok string) bool {
	got, err := base64.RawURLEncoding.DecodeString(tok)
	return err == nil && tok != "" && hmac.Equal(got, s.mac("csrf", sid))
}

// newID returns a random id for sessions and login forms.
func newID() string { return rand.Text() }

// cookieName gives the __Host- prefix when cookies are Secure: the
// browser then accepts the cookie only from this origin over HTTPS, with
// Path=/ and no Domain, so a sibling subdomain cannot plant one.
func (d *Dashboard) cookieName(base string) string {
	if d.cfg.Secure {
		return "__Host-" + base
	}
	return base
}

func (d *Dashboard) setCookie(w http.ResponseWriter, base, val string, maxAge time.Duration, sameSite http.SameSite) {
	c := &http.Cookie{
		Name:     d.cookieName(base),
		Value:    val,
		Path:     "/",
		HttpOnly: true,
		Secure:   d.cfg.Secure,
		SameSite: sameSite,
	}
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, c)
}

func (d *Dashboard) clearCookie(w http.ResponseWriter, base string) {
	d.setCookie(w, base, "", -1, http.SameSiteLaxMode)
}

// Cookie names (before the __Host- prefix).
const (
	cookieSession = "pkb_session"
	cookieFlash   = "pkb_flash"
	cookieLogin   = "pkb_login" // login form's pre-session id, for its CSRF token
)

// issueSession sets a session cookie for sd, refreshing its idle expiry.
func (d *Dashboard) issueSession(w http.ResponseWriter, sd sessionData) error {
	now := d.now()
	sd.Exp = now.Add(sessionIdle).Unix()
	val, err := d.sign.seal("session", sd)
	if err != nil {
		return err
	}
	// SameSite=Lax, not Strict: a link from an alert e-mail or chat to an
	// incident page must arrive logged in. POSTs are covered by the
	// cross-origin check and the CSRF token.
	d.setCookie(w, cookieSession, val, sessionIdle, http.SameSiteLaxMode)
	return nil
}

// readSession returns the verified, unexpired, not logged out session of
// r.
func (d *Dashboard) readSession(r *http.Request) (sessionData, error) {
	var sd sessionData
	c, err := r.Cookie(d.cookieName(cookieSession))
	if err != nil {
		return sd, errBadCookie
	}
	if err := d.sign.open("session", c.Value, &sd); err != nil {
		return sd, err
	}
	now := d.now().Unix()
	if sd.Exp <= now || sd.Issued+int64(sessionMax/time.Second) <= now || sd.SID == "" || d.loggedOut.has(sd.SID, now) {
		return sd, errBadCookie
	}
	return sd, nil
}

// setFlash stores a one-time message for the next page of session sid.
func (d *Dashboard) setFlash(w http.ResponseWriter, sid, kind, text string) {
	text = truncate(text, 400) // a cookie holds 4 KiB
	val, err := d.sign.seal("flash", flashData{SID: sid, Kind: kind, Text: text, Exp: d.now().Add(flashMaxAge).Unix()})
	if err != nil {
		return
	}
	d.setCookie(w, cookieFlash, val, flashMaxAge, http.SameSiteLaxMode)
}

// takeFlash returns the pending message of session sid, if any, and
// clears it.
func (d *Dashboard) takeFlash(w http.ResponseWriter, r *http.Request, sid string) *flashData {
	c, err := r.Cookie(d.cookieName(cookieFlash))
	if err != nil {
		return nil
	}
	d.clearCookie(w, cookieFlash)
	var f flashData
	if d.sign.open("flash", c.Value, &f) != nil || f.SID != sid || f.Exp <= d.now().Unix() {
		return nil
	}
	return &f
}

// sidSet remembers logged-out session ids until they would have expired
// anyway. It is in memory: after a hub restart a logged-out cookie (which
// the browser deleted) would be valid again until its expiry, which is
// why disabling a user bumps its Epoch instead.
type sidSet struct {
	mu  sync.Mutex       // guards m
	m   map[string]int64 // sid -> Unix expiry
	cap int
}

func (s *sidSet) add(sid string, exp, now int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]int64{}
	}
	if len(s.m) >= s.cap {
		for k, x := range s.m {
			if x <= now {
				delete(s.m, k)
			}
		}
	}
	if len(s.m) < s.cap {
		s.m[sid] = exp
	}
}

func (s *sidSet) has(sid string, now int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.m[sid]
	return ok && x > now
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// cut at a rune boundary
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
