package dashboard

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// LoginLimit bounds password guessing. Failed logins are counted in a
// fixed window per user name and client address, and per client address
// over all user names; once either count is reached, logins from there
// get 429 with Retry-After, before any password is checked, until the
// window ends. A successful login clears its user+address count only, so
// one known password cannot be used to reset the address's budget.
type LoginLimit struct {
	PerUser int           // failures per user and address; 0 means 5
	PerIP   int           // failures per address, any user; 0 means 30
	Window  time.Duration // 0 means 15 minutes
}

func (l LoginLimit) withDefaults() LoginLimit {
	if l.PerUser <= 0 {
		l.PerUser = 5
	}
	if l.PerIP <= 0 {
		l.PerIP = 30
	}
	if l.Window <= 0 {
		l.Window = 15 * time.Minute
	}
	return l
}

// maxLimiterKeys bounds the limiter's memory under a spray from many
// addresses.
const maxLimiterKeys = 50000

// limiter counts failed logins. It is safe for concurrent use.
type limiter struct {
	lim LoginLimit // immutable

	mu sync.Mutex         // guards m
	m  map[string]*window // "u|<user>|<addr>" or "a|<addr>"
}

type window struct {
	start time.Time
	n     int
}

func newLimiter(l LoginLimit) *limiter {
	return &limiter{lim: l.withDefaults(), m: map[string]*window{}}
}

// blocked returns how long logins of user from addr are refused, 0 if
// they are not.
func (l *limiter) blocked(user, addr string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, k := range []struct {
		key string
		max int
	}{{"u|" + user + "|" + addr, l.lim.PerUser}, {"a|" + addr, l.lim.PerIP}} {
		w := l.m[k.key]
		if w == nil {
			continue
		}
		end := w.start.Add(l.lim.Window)
		if !now.Before(end) {
			delete(l.m, k.key)
			continue
		}
		if w.n >= k.max {
			wait = max(wait, end.Sub(now))
		}
	}
	return wait
}

// fail counts a failed login.
func (l *limiter) fail(user, addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, key := range []string{"u|" + user + "|" + addr, "a|" + addr} {
		w := l.m[key]
		if w == nil || !now.Before(w.start.Add(l.lim.Window)) {
			if w == nil && len(l.m) >= maxLimiterKeys {
				l.pruneLocked(now)
			}
			w = &window{start: now}
			l.m[key] = w
		}
		w.n++
	}
}

// succeed clears the user+address count after a good login.
func (l *limiter) succeed(user, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, "u|"+user+"|"+addr)
}

// pruneLocked drops ended windows and, if that is not enough, arbitrary
// ones: under a spray from more addresses than the map holds, forgetting
// some counts is better than unbounded memory.
func (l *limiter) pruneLocked(now time.Time) {
	for k, w := range l.m {
		if !now.Before(w.start.Add(l.lim.Window)) {
			delete(l.m, k)
		}
	}
	for k := range l.m {
		if len(l.m) < maxLimiterKeys*9/10 {
			break
		}
		delete(l.m, k)
	}
}

// remoteAddr is the client address of r for rate limiting: the host of
// RemoteAddr, with IPv6 addresses cut to their /64 (one subscriber's
// prefix), so that one client cannot rotate through its addresses.
func remoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return normAddr(host)
}

func normAddr(host string) string {
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return host
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
