package agent

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestWatchdogProbe: the watchdog's health probe accepts 200 {"ok":true}
// in any mode, degraded included, and nothing else: not a 503, not a
// reply that does not come within the timeout, not a stale heartbeat.
func TestWatchdogProbe(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	for _, tt := range []struct {
		name    string
		handler http.HandlerFunc
		age     time.Duration // of the last heartbeat-loop turn
		ok      bool
		status  string // prefix
	}{
		{"ready", healthReply(200, `{"ok":true,"mode":"ready"}`), 0, true, "ready"},
		{"degraded", healthReply(200, `{"ok":true,"mode":"degraded","reason":"disk.full"}`), 0, true, "degraded: disk.full"},
		{"session", healthReply(200, `{"ok":true,"mode":"session"}`), 0, true, "session"},
		{"cannot serve", healthReply(503, `{"ok":false,"mode":"ready"}`), 0, false, "not alive: GET /healthz: 503"},
		{"ok false", healthReply(200, `{"ok":false,"mode":"ready"}`), 0, false, "not alive: GET /healthz: ok false"},
		{"not json", healthReply(200, `<html>`), 0, false, "not alive: GET /healthz:"},
		{"hangs", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}, 0, false, "not alive: GET /healthz:"},
		{"heartbeat stuck", healthReply(200, `{"ok":true,"mode":"ready"}`), 10 * time.Second, false, "not alive: heartbeat loop stuck for 10s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			w := &watchdog{}
			last := time.Now().Add(-tt.age)
			w.lastBeat.Store(&last)
			p := &prober{url: srv.URL + "/healthz", maxAge: 3 * time.Second, beat: w,
				client: &http.Client{Timeout: 200 * time.Millisecond}}
			start := time.Now()
			ok, status := p.probe(t.Context())
			if ok != tt.ok || !strings.HasPrefix(status, tt.status) {
				t.Errorf("probe() = %v, %q; want %v, %q...", ok, status, tt.ok, tt.status)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("probe took %v; the client timeout is 200ms", d)
			}
		})
	}
	t.Run("before the first turn", func(t *testing.T) {
		p := &prober{url: "http://127.0.0.1:1/healthz", maxAge: time.Second, beat: &watchdog{}, client: http.DefaultClient}
		if ok, status := p.probe(t.Context()); ok || status != "not alive: heartbeat loop not started" {
			t.Errorf("probe() = %v, %q; want false, heartbeat loop not started", ok, status)
		}
	})
}

func healthReply(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		w.Write([]byte(body))
	}
}
