package alert

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

var testQueued = time.Date(2026, 3, 9, 8, 15, 0, 0, time.FixedZone("WIB", 7*3600))

func testAlert() hubapi.Alert {
	return hubapi.Alert{
		ID:       "al-20260309-0001",
		Kind:     "opened",
		Incident: "inc-42",
		Office:   "padang",
		Subject:  "Kios PDG-01: kertas habis",
		Text:     "Kios PDG-01 (UPTD Padang) kehabisan kertas sejak 08.14 WIB.\nMohon segera diganti.",
		Queued:   testQueued,
		State:    "queued",
	}
}

// receiver is a webhook endpoint that answers with the given statuses in
// turn (the last one repeats) and keeps every request.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	reqs     []receivedReq
}

type receivedReq struct {
	method, path string
	header       http.Header
	body         []byte
	status       int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	status := r.statuses[min(len(r.reqs), len(r.statuses)-1)]
	r.reqs = append(r.reqs, receivedReq{req.Method, req.URL.Path, req.Header.Clone(), body, status})
	r.mu.Unlock()
	if status/100 == 3 {
		w.Header().Set("Location", "/elsewhere")
	}
	w.WriteHeader(status)
	if status >= 400 {
		io.WriteString(w, "receiver says\nno ("+http.StatusText(status)+")")
	}
}

func (r *receiver) requests() []receivedReq {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedReq(nil), r.reqs...)
}

func startReceiver(t *testing.T, statuses ...int) (*receiver, *httptest.Server) {
	t.Helper()
	r := &receiver{statuses: statuses}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

func TestWebhookRequest(t *testing.T) {
	r, srv := startReceiver(t, http.StatusNoContent)
	d := &Deliverer{Config: Config{DashboardURL: "https://hub.samsat-sumbar.go.id/"}}
	tg := Target{Kind: KindWebhook, Addr: srv.URL + "/hooks/abc", Route: "Bidang Sistim"}
	at := d.Deliver(t.Context(), testAlert(), tg)
	if !at.OK || at.Permanent || at.Err != "" || at.Status != "204 No Content" || at.Target != tg || at.At.IsZero() {
		t.Errorf("Deliver() = %+v, want OK with status 204", at)
	}
	reqs := r.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	req := reqs[0]
	if req.method != http.MethodPost || req.path != "/hooks/abc" {
		t.Errorf("request %s %s, want POST /hooks/abc", req.method, req.path)
	}
	for k, want := range map[string]string{
		"Content-Type":    "application/json",
		"Idempotency-Key": "al-20260309-0001",
		"User-Agent":      "kioskhub",
	} {
		if got := req.header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	var got map[string]any
	if err := json.Unmarshal(req.body, &got); err != nil {
		t.Fatalf("body %s: %v", req.body, err)
	}
	want := map[string]any{
		"id":       "al-20260309-0001",
		"kind":     "opened",
		"incident": "inc-42",
		"office":   "padang",
		"subject":  "Kios PDG-01: kertas habis",
		"text":     "Kios PDG-01 (UPTD Padang) kehabisan kertas sejak 08.14 WIB.\nMohon segera diganti.",
		"queued":   "2026-03-09T08:15:00+07:00",
		"url":      "https://hub.samsat-sumbar.go.id/incidents/inc-42",
	}
	if len(got) != len(want) {
		t.Errorf("body has fields %v, want exactly %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("body %q = %#v, want %#v", k, got[k], w)
		}
	}
}

func TestWebhookPayloadOfHubAlert(t *testing.T) {
	a := hubapi.Alert{ID: "al-2", Kind: "alive", Subject: "kioskhub hidup", Text: "Hub berjalan normal.", Queued: testQueued}
	b, err := json.Marshal(NewPayload(a, "https://hub.example/"))
	if err != nil {
		t.Fatal(err)
	}
	// No incident: no link, no office.
	const want = `{"id":"al-2","kind":"alive","subject":"kioskhub hidup","text":"Hub berjalan normal.","queued":"2026-03-09T08:15:00+07:00"}`
	if string(b) != want {
		t.Errorf("payload = %s\nwant      %s", b, want)
	}
}

func TestWebhookStatuses(t *testing.T) {
	for _, tt := range []struct {
		status        int
		ok, permanent bool
	}{
		{200, true, false},
		{202, true, false},
		{301, false, true}, // not followed: the URL in the file is wrong
		{400, false, true},
		{401, false, true},
		{404, false, true},
		{408, false, false},
		{410, false, true},
		{429, false, false},
		{500, false, false},
		{502, false, false},
		{503, false, false},
	} {
		r, srv := startReceiver(t, tt.status)
		d := &Deliverer{}
		at := d.Deliver(t.Context(), testAlert(), Target{Kind: KindWebhook, Addr: srv.URL + "/hook"})
		if at.OK != tt.ok || at.Permanent != tt.permanent {
			t.Errorf("status %d: Deliver() = ok %v permanent %v (%+v), want ok %v permanent %v",
				tt.status, at.OK, at.Permanent, at, tt.ok, tt.permanent)
		}
		if tt.status >= 400 && !strings.Contains(at.Err, "receiver says no") {
			t.Errorf("status %d: Err = %q, want the start of the answer, on one line", tt.status, at.Err)
		}
		if n := len(r.requests()); n != 1 {
			t.Errorf("status %d: receiver got %d requests, want 1 (no retry, no redirect)", tt.status, n)
		}
	}
}

// closedAddr is a local address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestWebhookReceiverDown(t *testing.T) {
	d := &Deliverer{}
	at := d.Deliver(t.Context(), testAlert(), Target{Kind: KindWebhook, Addr: "http://" + closedAddr(t) + "/hooks/secret-token"})
	if at.OK || at.Permanent || at.Err == "" {
		t.Errorf("Deliver(closed port) = %+v, want a failure to retry", at)
	}
	if strings.Contains(at.Err, "secret-token") {
		t.Errorf("Err = %q shows the webhook URL", at.Err)
	}
	t.Log(at.Err)
}

func TestUnknownTargetKind(t *testing.T) {
	at := (&Deliverer{}).Deliver(t.Context(), testAlert(), Target{Kind: "pager", Addr: "123"})
	if at.OK || !at.Permanent {
		t.Errorf("Deliver(pager) = %+v, want a permanent failure", at)
	}
}
