package dashboard

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

type sseEvent struct {
	Name string // "" for a comment
	Data string
	At   time.Time
}

// openStream connects to /events over real HTTP as user and returns the
// events as they arrive; the channel closes when the stream ends.
func openStream(t testing.TB, e *env, srv *httptest.Server, user, query string) <-chan sseEvent {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+"/events"+query, nil)
	req.AddCookie(e.sessionCookie(user))
	req.Header.Set("Accept", "text/event-stream")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		resp.Body.Close()
		t.Fatalf("GET /events = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 1024)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Name != "" {
					ev.At = time.Now()
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				out <- sseEvent{Data: line, At: time.Now()}
			case strings.HasPrefix(line, "event: "):
				ev.Name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				ev.Data += line[len("data: "):]
			}
		}
	}()
	// The first comment says the stream is registered.
	if ev := next(t, out); ev.Name != "" {
		t.Fatalf("first event = %+v, want the opening comment", ev)
	}
	return out
}

// next returns the next event that is not a keep-alive.
func next(t testing.TB, ch <-chan sseEvent) sseEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("stream ended")
			}
			if ev.Data == ": ka" {
				continue
			}
			return ev
		case <-timeout:
			t.Fatal("no event within 10 s")
		}
	}
}

func fragmentOf(t testing.TB, ev sseEvent) fragment {
	t.Helper()
	var f fragment
	if err := json.Unmarshal([]byte(ev.Data), &f); err != nil {
		t.Fatalf("event %s data %q: %v", ev.Name, ev.Data, err)
	}
	return f
}

func TestSSEDeliversOwnOfficeOnly(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.d)
	defer srv.Close()
	defer e.d.Close()
	padang := openStream(t, e, srv, "uptd1", "")
	all := openStream(t, e, srv, "sistim1", "")

	// bukittinggi first: uptd1 must get nothing of it, so its next event
	// is about padang.
	e.b.update("bkt-01", func(k *hubapi.FleetKiosk) { k.Presence = hubapi.Online })
	e.b.publish(Change{Kind: "kiosk", Kiosk: "bkt-01", Office: "bukittinggi"})
	if ev := next(t, all); ev.Name != "kiosk" || fragmentOf(t, ev).Target != "k-bkt-01" {
		t.Fatalf("sistim got %s %s, want kiosk k-bkt-01", ev.Name, ev.Data)
	}
	e.b.update("pdg-02", func(k *hubapi.FleetKiosk) { k.Printer.Paper = "ok"; k.Faults = nil })
	e.b.publish(Change{Kind: "fault", Kiosk: "pdg-02", Office: "padang"})

	ev := next(t, padang)
	f := fragmentOf(t, ev)
	if ev.Name != "kiosk" || f.Target != "k-pdg-02" || !strings.Contains(f.HTML, `id="k-pdg-02"`) || !strings.Contains(f.HTML, "Kertas cukup") {
		t.Fatalf("uptd1 got %s %+v, want the pdg-02 card", ev.Name, f)
	}
	ev = next(t, padang)
	if f := fragmentOf(t, ev); ev.Name != "counts" || f.Target != "c-padang" || !strings.Contains(f.HTML, `data-n-faulty="1"`) {
		t.Fatalf("uptd1 got %s %+v, want padang counts", ev.Name, f)
	}

	e.b.publish(Change{Kind: "incident", ID: "inc-bkt-1", Office: "bukittinggi"})
	e.b.publish(Change{Kind: "incident", ID: "inc-pdg-1", Office: "padang"})
	ev = next(t, padang)
	if f := fragmentOf(t, ev); ev.Name != "incident" || f.Target != "i-inc-pdg-1" || f.State != "open" {
		t.Fatalf("uptd1 got %s %+v, want incident inc-pdg-1", ev.Name, f)
	}

	e.b.publish(Change{Resync: true})
	if ev := next(t, padang); ev.Name != "reload" {
		t.Fatalf("after resync: %s, want reload", ev.Name)
	}
}

func TestSSEFilteredStream(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.d)
	defer srv.Close()
	defer e.d.Close()
	solok := openStream(t, e, srv, "uptd2", "?office=solok")
	e.b.publish(Change{Kind: "kiosk", Kiosk: "pdg-01", Office: "padang"})
	e.b.publish(Change{Kind: "kiosk", Kiosk: "slk-01", Office: "solok"})
	if ev := next(t, solok); fragmentOf(t, ev).Target != "k-slk-01" {
		t.Fatalf("solok stream got %s %s", ev.Name, ev.Data)
	}
	// Another office than the user's is 404, like everywhere.
	req, _ := http.NewRequest("GET", srv.URL+"/events?office=bukittinggi", nil)
	req.AddCookie(e.sessionCookie("uptd2"))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("stream of another office = %d, want 404", resp.StatusCode)
	}
}

func TestSSECloseEndsStreams(t *testing.T) {
	base := runtime.NumGoroutine()
	e := newEnv(t)
	srv := httptest.NewServer(e.d)
	streams := []<-chan sseEvent{
		openStream(t, e, srv, "uptd1", ""), openStream(t, e, srv, "sistim1", ""), openStream(t, e, srv, "admin1", ""),
	}
	if n := e.b.subscribers(); n != 1 {
		t.Errorf("backend subscriptions = %d, want 1 shared by all streams", n)
	}
	done := make(chan struct{})
	go func() { e.d.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	for i, s := range streams {
		for range s { // drain until the stream ends
		}
		_ = i
	}
	if n := e.b.subscribers(); n != 0 {
		t.Errorf("backend subscriptions after Close = %d", n)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/events", nil)
	req.AddCookie(e.sessionCookie("uptd1"))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/events after Close = %d, want 503", resp.StatusCode)
	}
	srv.Client().CloseIdleConnections()
	srv.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

func TestSSEBackendEndsSubscription(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.d)
	defer srv.Close()
	defer e.d.Close()
	s := openStream(t, e, srv, "uptd1", "")
	e.b.endSubscriptions()
	for range s {
	}
	// The next stream subscribes again.
	s = openStream(t, e, srv, "uptd1", "")
	e.b.publish(Change{Kind: "kiosk", Kiosk: "pdg-01", Office: "padang"})
	if ev := next(t, s); ev.Name != "kiosk" {
		t.Fatalf("after resubscribing: %s", ev.Name)
	}
}

func TestSSEKeepAliveAndUserCheck(t *testing.T) {
	e := newEnv(t)
	e.d.live.keepAlive = 20 * time.Millisecond
	srv := httptest.NewServer(e.d)
	defer srv.Close()
	defer e.d.Close()
	s := openStream(t, e, srv, "uptd1", "")
	if ev := <-s; ev.Data != ": ka" {
		t.Fatalf("got %+v, want a keep-alive comment", ev)
	}
	e.b.setUser("uptd1", func(u *hubapi.User) { u.Disabled = true })
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-s:
			if !ok {
				return // the stream ended
			}
		case <-timeout:
			t.Fatal("stream of a disabled user still open")
		}
	}
}

func TestSSESlowViewerGetsReload(t *testing.T) {
	e := newEnv(t)
	c, err := e.d.live.register(scope{all: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.d.live.unregister(c)
	for range clientQueue + 1 {
		e.d.live.deliver([]byte("x"), func(scope) bool { return true })
	}
	if !c.lost.Load() {
		t.Error("a full queue did not mark the viewer to reload")
	}
}
