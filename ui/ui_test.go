package ui

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
)

// ---- Fake backend -------------------------------------------------------

type plateReply struct {
	plate string
	err   *kiosk.Error
}

type lookupReply struct {
	ans LookupAnswer
	err *kiosk.Error
}

// fakeBackend answers from tables and records what it was asked.
type fakeBackend struct {
	health     kiosk.Health
	status     kiosk.Status
	plates     map[string]plateReply  // by input
	lookups    map[string]lookupReply // by LookupRequest.Plate
	session    string
	sessionErr error
	endErr     error
	config     UIConfig
	content    map[string]kiosk.LocalContent // by language
	contentErr error
	events     []Event               // sent first by every Events call
	more       chan Event            // then these, until ctx is done (nil: none)
	prints     map[string]printReply // by canonical plate
	jobs       map[string]PrintJob   // by job id
	eventsDone chan struct{}         // closed by each Events goroutine on return (nil: not)

	mu          sync.Mutex // guards the fields below
	pings       int
	ended       int
	requests    []kiosk.LookupRequest
	plateIns    []string
	printed     []string
	contentLang []string
}

type printReply struct {
	job string
	err *kiosk.Error
}

func (f *fakeBackend) Status(context.Context) kiosk.Status { return f.status }
func (f *fakeBackend) Health(context.Context) kiosk.Health { return f.health }

func (f *fakeBackend) Plate(input string) (string, *kiosk.Error) {
	f.mu.Lock()
	f.plateIns = append(f.plateIns, input)
	f.mu.Unlock()
	r, ok := f.plates[input]
	if !ok {
		return "", &kiosk.Error{Code: kiosk.CodeInvalidPlate, Reason: "BAD_FORMAT"}
	}
	return r.plate, r.err
}

func (f *fakeBackend) StartSession(context.Context) (string, error) {
	return f.session, f.sessionErr
}

func (f *fakeBackend) EndSession(context.Context) error {
	f.mu.Lock()
	f.ended++
	f.mu.Unlock()
	return f.endErr
}

func (f *fakeBackend) Ping() {
	f.mu.Lock()
	f.pings++
	f.mu.Unlock()
}

func (f *fakeBackend) Lookup(_ context.Context, req kiosk.LookupRequest) (LookupAnswer, *kiosk.Error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	r, ok := f.lookups[req.Plate]
	if !ok {
		return LookupAnswer{}, &kiosk.Error{Code: kiosk.CodeInvalidPlate, Reason: "BAD_FORMAT"}
	}
	return r.ans, r.err
}

func (f *fakeBackend) UIConfig() UIConfig { return f.config }

func (f *fakeBackend) Content(_ context.Context, lang string) (kiosk.LocalContent, error) {
	f.mu.Lock()
	f.contentLang = append(f.contentLang, lang)
	f.mu.Unlock()
	if f.contentErr != nil {
		return kiosk.LocalContent{}, f.contentErr
	}
	return f.content[lang], nil
}

// Events behaves as the agent's: the initial events, then f.more, until
// ctx is done; then it closes the channel (and f.eventsDone).
func (f *fakeBackend) Events(ctx context.Context) <-chan Event {
	ch := make(chan Event)
	go func() {
		defer close(ch)
		if f.eventsDone != nil {
			defer close(f.eventsDone)
		}
		for _, ev := range f.events {
			select {
			case ch <- ev:
			case <-ctx.Done():
				return
			}
		}
		for {
			select {
			case ev, ok := <-f.more:
				if !ok {
					return
				}
				select {
				case ch <- ev:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

func (f *fakeBackend) Print(_ context.Context, plate string) (string, *kiosk.Error) {
	f.mu.Lock()
	f.printed = append(f.printed, plate)
	f.mu.Unlock()
	r, ok := f.prints[plate]
	if !ok {
		return "", &kiosk.Error{Code: kiosk.CodeNotLookedUp}
	}
	return r.job, r.err
}

func (f *fakeBackend) PrintJob(_ context.Context, id string) (PrintJob, bool) {
	j, ok := f.jobs[id]
	return j, ok
}

func (f *fakeBackend) calls() (pings, ended, lookups, plates int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pings, f.ended, len(f.requests), len(f.plateIns)
}

const sampleResult = `{"nopol":"BA 3456 QR","kendaraan":{"merk":"HONDA","tipe":"BEAT","tahun":"2021","warna":"HITAM","warna_tnkb":"PUTIH"},"tgl_akhir_pkb":"2025-03-10","tgl_akhir_stnk":"2026-03-10","status":{"blokir":false,"keterangan":"BELUM BAYAR"},"rincian":{"pkb":{"pokok":150000,"denda":4500},"opsen_pkb":{"pokok":99000,"denda":2970},"swdkllj":{"pokok":35000,"denda":8000},"pnbp":{"stnk":0,"tnkb":0},"potongan":0},"program":"","jumlah":299470,"dihitung_pada":"2025-05-20T09:15:00+07:00","sumber":"BAPENDA","estimasi":false}`

func invalid(reason string) *kiosk.Error {
	return &kiosk.Error{Code: kiosk.CodeInvalidPlate, Reason: reason}
}

func newFake() *fakeBackend {
	var lastPing *int64
	return &fakeBackend{
		health: kiosk.Health{OK: true, Mode: kiosk.ModeReady},
		status: kiosk.Status{Kiosk: "padang-01", Office: "padang", Version: "0.0.0-dev", Mode: kiosk.ModeReady,
			HBIntervalS: 10, Faults: []string{}, UI: kiosk.UIStatus{Running: true, LastPingS: lastPing}},
		plates: map[string]plateReply{
			"ba1234qr":    {plate: "BA 1234 QR"},
			"BA 0000 QR":  {err: invalid("BAD_NUMBER")},
			"1234 QR":     {err: &kiosk.Error{Code: kiosk.CodeInvalidPlate, Reason: "NEED_REGION", Suggestion: "BA 1234 QR"}},
			"BK 1234 AB":  {plate: "BK 1234 AB", err: &kiosk.Error{Code: kiosk.CodeInvalidPlate, Reason: "OTHER_REGION", Province: "Sumatera Utara"}},
			"":            {err: invalid("EMPTY")},
			"CD 12 34":    {plate: "CD 12 34", err: invalid("SPECIAL_PLATE")},
			"BA#1234":     {err: invalid("BAD_CHARACTER")},
			"no province": {plate: "BK 1 A", err: &kiosk.Error{Code: kiosk.CodeInvalidPlate, Reason: "OTHER_REGION"}},
			"BA 1234 QR":  {plate: "BA 1234 QR"},
			"ba3456qr":    {plate: "BA 3456 QR"},
			"BA 3456 QR":  {plate: "BA 3456 QR"},
			"BA 1 A":      {plate: "BA 1 A"},
			"BA 7001 AAB": {plate: "BA 7001 AAB"},
			"BA 9 Z":      {plate: "BA 9 Z"},
		},
		lookups: map[string]lookupReply{
			"ba3456qr": {ans: LookupAnswer{Plate: "BA 3456 QR", Result: json.RawMessage(sampleResult), Source: "live",
				FetchedAt: "2025-05-20T09:15:01+07:00", AgeS: 0}},
			"cached": {ans: LookupAnswer{Plate: "BA 3456 QR", Result: json.RawMessage(sampleResult), Source: "cache",
				FetchedAt: "2025-05-19T09:15:01+07:00", Stale: true, AgeS: 86400}},
			"BA 0000 QR": {err: invalid("BAD_NUMBER")},
			"1234 QR":    {err: &kiosk.Error{Code: kiosk.CodeInvalidPlate, Reason: "NEED_REGION", Suggestion: "BA 1234 QR"}},
			"BK 1234 AB": {ans: LookupAnswer{Plate: "BK 1234 AB"},
				err: &kiosk.Error{Code: kiosk.CodeInvalidPlate, Reason: "OTHER_REGION", Province: "Sumatera Utara"}},
			"norangka":    {ans: LookupAnswer{Plate: "BA 1234 QR"}, err: &kiosk.Error{Code: kiosk.CodeRangkaRequired}},
			"mismatch":    {ans: LookupAnswer{Plate: "BA 1234 QR"}, err: &kiosk.Error{Code: kiosk.CodeRangkaMismatch}},
			"notfound":    {ans: LookupAnswer{Plate: "BA 1234 QR"}, err: &kiosk.Error{Code: kiosk.CodeNotFound}},
			"ratelimited": {ans: LookupAnswer{Plate: "BA 1234 QR"}, err: &kiosk.Error{Code: kiosk.CodeRateLimited}},
			"down":        {ans: LookupAnswer{Plate: "BA 1234 QR"}, err: &kiosk.Error{Code: kiosk.CodeSourceUnavailable, Message: "from backend"}},
			"maintenance": {err: &kiosk.Error{Code: kiosk.CodeMaintenance}},
			"badreq":      {err: &kiosk.Error{Code: kiosk.CodeBadRequest}},
			"future":      {ans: LookupAnswer{Plate: "BA 1234 QR"}, err: &kiosk.Error{Code: "something_new"}},
		},
		session: "s-1",
		config: UIConfig{Kiosk: "padang-01", Office: "padang", IdleS: 60, CountdownS: 15, PingS: 5,
			ClientTimeoutS: 8, RequireRangka5: true, Region: "BA"},
		content: map[string]kiosk.LocalContent{
			"id": kiosk.DefaultContent().Local("id"),
			"en": kiosk.DefaultContent().Local("en"),
		},
		prints: map[string]printReply{
			"BA 1234 QR":  {job: "j-1"},
			"BA 3456 QR":  {err: &kiosk.Error{Code: kiosk.CodePrinterUnavailable}},
			"BA 1 A":      {err: &kiosk.Error{Code: kiosk.CodePrintLimit}},
			"BA 7001 AAB": {err: &kiosk.Error{Code: kiosk.CodeMaintenance}},
		},
		jobs: map[string]PrintJob{
			"j-1": {Job: "j-1", State: "printing"},
			"j-2": {Job: "j-2", State: "failed", Error: "paper_out"}, // a reason code, worded by the handler
		},
	}
}

// ---- Helpers ------------------------------------------------------------

// request runs one request through h; hdr are header name/value pairs.
func request(t *testing.T, h http.Handler, method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func mustCatalogues(t *testing.T) *catalogues {
	t.Helper()
	c, err := loadCatalogues()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// msg returns catalogue text with the placeholders filled.
func msg(t *testing.T, lang, key string, vars map[string]string) string {
	t.Helper()
	tmpl, ok := mustCatalogues(t).byLang[lang][key]
	if !ok {
		t.Fatalf("catalogue %s has no key %q", lang, key)
	}
	s, ok := fill(tmpl, vars)
	if !ok {
		t.Fatalf("catalogue %s key %q: a placeholder has no value in %v", lang, key, vars)
	}
	return s
}

// withMessage puts the JSON-encoded m where a literal body has "...".
func withMessage(literal, m string) string {
	b, _ := json.Marshal(m)
	return strings.Replace(literal, `"message":"..."`, `"message":`+string(b), 1)
}

func checkJSONHeaders(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if got := w.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
}

func decodeError(t *testing.T, w *httptest.ResponseRecorder) errorBody {
	t.Helper()
	var b errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil || b.Error == nil {
		t.Fatalf("body %q is not an error reply: %v", w.Body, err)
	}
	return b
}

// ---- Routes -------------------------------------------------------------

func TestHealthz(t *testing.T) {
	for _, tt := range []struct {
		name       string
		health     kiosk.Health
		wantStatus int
		wantBody   string
	}{
		{"ready", kiosk.Health{OK: true, Mode: "ready"}, 200, `{"ok":true,"mode":"ready"}`},
		{"degraded", kiosk.Health{OK: true, Mode: "degraded", Reason: "disk.full"}, 200, `{"ok":true,"mode":"degraded","reason":"disk.full"}`},
		{"cannot serve", kiosk.Health{OK: false, Mode: "degraded", Reason: "store"}, 503, `{"ok":false,"mode":"degraded","reason":"store"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.health = tt.health
			w := request(t, Handler(f, nil), "GET", "/healthz", "")
			if w.Code != tt.wantStatus || strings.TrimSpace(w.Body.String()) != tt.wantBody {
				t.Errorf("GET /healthz = %d %s, want %d %s", w.Code, w.Body, tt.wantStatus, tt.wantBody)
			}
			checkJSONHeaders(t, w)
		})
	}
}

func TestStatus(t *testing.T) {
	f := newFake()
	w := request(t, Handler(f, nil), "GET", "/api/status", "")
	if w.Code != 200 {
		t.Fatalf("GET /api/status = %d %s", w.Code, w.Body)
	}
	checkJSONHeaders(t, w)
	var got kiosk.Status
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Kiosk != "padang-01" || got.Mode != "ready" || got.HBIntervalS != 10 {
		t.Errorf("status = %+v", got)
	}
	if !strings.Contains(w.Body.String(), `"last_ping_s":null`) {
		t.Errorf("status %s lacks last_ping_s null", w.Body)
	}
}

func TestPlate(t *testing.T) {
	for _, tt := range []struct {
		name, input, lang string
		want              string // literal body; "..." is the catalogue message
		msgKey            string
		vars              map[string]string
	}{
		{"valid", "ba1234qr", "", `{"plate":"BA 1234 QR"}`, "", nil},
		{"bad number", "BA 0000 QR", "", `{"error":{"code":"invalid_plate","reason":"BAD_NUMBER","message":"..."}}`,
			"err.invalid_plate.BAD_NUMBER", nil},
		{"need region", "1234 QR", "", `{"error":{"code":"invalid_plate","reason":"NEED_REGION","suggestion":"BA 1234 QR","message":"..."}}`,
			"err.invalid_plate.NEED_REGION", map[string]string{"suggestion": "BA 1234 QR"}},
		{"other region", "BK 1234 AB", "", `{"error":{"code":"invalid_plate","reason":"OTHER_REGION","province":"Sumatera Utara","message":"..."},"plate":"BK 1234 AB"}`,
			"err.invalid_plate.OTHER_REGION", map[string]string{"province": "Sumatera Utara"}},
		{"special plate keeps plate", "CD 12 34", "", `{"error":{"code":"invalid_plate","reason":"SPECIAL_PLATE","message":"..."},"plate":"CD 12 34"}`,
			"err.invalid_plate.SPECIAL_PLATE", nil},
		{"empty", "", "", `{"error":{"code":"invalid_plate","reason":"EMPTY","message":"..."}}`, "err.invalid_plate.EMPTY", nil},
		{"english", "1234 QR", "en", `{"error":{"code":"invalid_plate","reason":"NEED_REGION","suggestion":"BA 1234 QR","message":"..."}}`,
			"err.invalid_plate.NEED_REGION", map[string]string{"suggestion": "BA 1234 QR"}},
		{"province missing falls back", "no province", "", `{"error":{"code":"invalid_plate","reason":"OTHER_REGION","message":"..."},"plate":"BK 1 A"}`,
			"err.invalid_plate", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body, _ := json.Marshal(plateRequest{Input: tt.input})
			w := request(t, Handler(newFake(), nil), "POST", "/api/plate", string(body), "X-Kiosk-Lang", tt.lang)
			lang := "id"
			if tt.lang != "" {
				lang = tt.lang
			}
			want := tt.want
			if tt.msgKey != "" {
				want = withMessage(want, msg(t, lang, tt.msgKey, tt.vars))
			}
			if got := strings.TrimSpace(w.Body.String()); w.Code != 200 || got != want {
				t.Errorf("POST /api/plate %q = %d\n%s\nwant 200\n%s", tt.input, w.Code, got, want)
			}
			checkJSONHeaders(t, w)
		})
	}
}

func TestSession(t *testing.T) {
	for _, tt := range []struct {
		name       string
		method     string
		startErr   error
		endErr     error
		wantStatus int
		wantBody   string
		wantCode   string
	}{
		{"start", "POST", nil, nil, 200, `{"session":"s-1"}`, ""},
		{"end", "DELETE", nil, nil, 204, ``, ""},
		{"start in maintenance", "POST", &kiosk.Error{Code: kiosk.CodeMaintenance}, nil, 503, "", kiosk.CodeMaintenance},
		{"start fails", "POST", errors.New("disk on fire"), nil, 500, "", codeInternal},
		{"end fails", "DELETE", nil, errors.New("store closed"), 500, "", codeInternal},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.sessionErr, f.endErr = tt.startErr, tt.endErr
			w := request(t, Handler(f, nil), tt.method, "/api/session", "")
			if w.Code != tt.wantStatus {
				t.Fatalf("%s /api/session = %d %s, want %d", tt.method, w.Code, w.Body, tt.wantStatus)
			}
			checkJSONHeaders(t, w)
			if tt.wantCode != "" {
				b := decodeError(t, w)
				if b.Error.Code != tt.wantCode || b.Error.Message == "" {
					t.Errorf("error = %+v, want code %s with a message", b.Error, tt.wantCode)
				}
				if strings.Contains(w.Body.String(), "fire") || strings.Contains(w.Body.String(), "store closed") {
					t.Errorf("body %s leaks the internal error", w.Body)
				}
				return
			}
			if got := strings.TrimSpace(w.Body.String()); got != tt.wantBody {
				t.Errorf("body = %q, want %q", got, tt.wantBody)
			}
		})
	}
}

func TestPing(t *testing.T) {
	f := newFake()
	h := Handler(f, nil)
	for range 2 {
		w := request(t, h, "POST", "/api/ui/ping", "")
		if w.Code != 204 || w.Body.Len() != 0 {
			t.Errorf("POST /api/ui/ping = %d %q, want 204 and no body", w.Code, w.Body)
		}
		checkJSONHeaders(t, w)
	}
	if pings, _, _, _ := f.calls(); pings != 2 {
		t.Errorf("backend saw %d pings, want 2", pings)
	}
}

func TestLookupOK(t *testing.T) {
	for _, tt := range []struct {
		name, plate, want string
	}{
		{"live", "ba3456qr", `{"plate":"BA 3456 QR","result":` + sampleResult + `,"source":"live","fetched_at":"2025-05-20T09:15:01+07:00","stale":false,"age_s":0}`},
		{"stale cache", "cached", `{"plate":"BA 3456 QR","result":` + sampleResult + `,"source":"cache","fetched_at":"2025-05-19T09:15:01+07:00","stale":true,"age_s":86400}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			w := request(t, Handler(f, nil), "POST", "/api/lookup", `{"plate":"`+tt.plate+`","rangka5":"8K21A"}`)
			if got := strings.TrimSpace(w.Body.String()); w.Code != 200 || got != tt.want {
				t.Errorf("POST /api/lookup = %d\n%s\nwant 200\n%s", w.Code, got, tt.want)
			}
			checkJSONHeaders(t, w)
			if strings.Contains(w.Body.String(), "8K21A") {
				t.Errorf("reply echoes rangka5: %s", w.Body)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.requests) != 1 || f.requests[0] != (kiosk.LookupRequest{Plate: tt.plate, Rangka5: "8K21A"}) {
				t.Errorf("backend got %+v", f.requests)
			}
		})
	}
}

// TestLookupErrors checks the literal error replies of DESIGN 4.8.
func TestLookupErrors(t *testing.T) {
	for _, tt := range []struct {
		plate      string
		wantStatus int
		want       string
		msgKey     string
		vars       map[string]string
	}{
		{"BA 0000 QR", 400, `{"error":{"code":"invalid_plate","reason":"BAD_NUMBER","message":"..."}}`, "err.invalid_plate.BAD_NUMBER", nil},
		{"1234 QR", 400, `{"error":{"code":"invalid_plate","reason":"NEED_REGION","suggestion":"BA 1234 QR","message":"..."}}`,
			"err.invalid_plate.NEED_REGION", map[string]string{"suggestion": "BA 1234 QR"}},
		{"BK 1234 AB", 400, `{"error":{"code":"invalid_plate","reason":"OTHER_REGION","province":"Sumatera Utara","message":"..."},"plate":"BK 1234 AB"}`,
			"err.invalid_plate.OTHER_REGION", map[string]string{"province": "Sumatera Utara"}},
		{"norangka", 400, `{"error":{"code":"rangka_required","message":"..."},"plate":"BA 1234 QR"}`, "err.rangka_required", nil},
		{"mismatch", 403, `{"error":{"code":"rangka_mismatch","message":"..."},"plate":"BA 1234 QR"}`, "err.rangka_mismatch", nil},
		{"notfound", 404, `{"error":{"code":"not_found","message":"..."},"plate":"BA 1234 QR"}`, "err.not_found", nil},
		{"ratelimited", 429, `{"error":{"code":"rate_limited","message":"..."},"plate":"BA 1234 QR"}`, "err.rate_limited", nil},
		{"down", 503, `{"error":{"code":"source_unavailable","message":"..."},"plate":"BA 1234 QR"}`, "err.source_unavailable", nil},
		{"maintenance", 503, `{"error":{"code":"maintenance","message":"..."}}`, "err.maintenance", nil},
		{"badreq", 400, `{"error":{"code":"bad_request","message":"..."}}`, "err.bad_request", nil},
		{"future", 500, `{"error":{"code":"something_new","message":"..."},"plate":"BA 1234 QR"}`, "err.internal", nil},
	} {
		for _, lang := range languages {
			t.Run(tt.plate+"/"+lang, func(t *testing.T) {
				f := newFake()
				w := request(t, Handler(f, nil), "POST", "/api/lookup", `{"plate":"`+tt.plate+`","rangka5":"8K21A"}`,
					"X-Kiosk-Lang", lang)
				want := withMessage(tt.want, msg(t, lang, tt.msgKey, tt.vars))
				if got := strings.TrimSpace(w.Body.String()); w.Code != tt.wantStatus || got != want {
					t.Errorf("POST /api/lookup %q = %d\n%s\nwant %d\n%s", tt.plate, w.Code, got, tt.wantStatus, want)
				}
				checkJSONHeaders(t, w)
				if strings.Contains(w.Body.String(), "8K21A") {
					t.Errorf("reply echoes rangka5: %s", w.Body)
				}
				if e := f.lookups[tt.plate].err; e.Message != "" && e.Message != "from backend" {
					t.Errorf("handler changed the backend's error: %+v", e)
				}
			})
		}
	}
}

func TestStatusOf(t *testing.T) {
	for code, want := range map[string]int{
		kiosk.CodeInvalidPlate: 400, kiosk.CodeRangkaRequired: 400, kiosk.CodeBadRequest: 400,
		kiosk.CodeRangkaMismatch: 403, kiosk.CodeNotFound: 404, kiosk.CodeRateLimited: 429,
		kiosk.CodeSourceUnavailable: 503, kiosk.CodeMaintenance: 503, "something_new": 500, codeInternal: 500,
	} {
		if got := statusOf(code); got != want {
			t.Errorf("statusOf(%q) = %d, want %d", code, got, want)
		}
	}
}

// TestMessages checks the wording the brief fixes, in both languages.
func TestMessages(t *testing.T) {
	h := Handler(newFake(), nil)
	for _, tt := range []struct {
		lang, plate string
		want        []string // substrings of the message
	}{
		{"", "notfound", []string{"Data kendaraan dengan nomor polisi ini tidak ditemukan."}},
		{"", "down", []string{"Layanan informasi pajak sedang tidak tersedia. Silakan coba beberapa saat lagi atau hubungi petugas."}},
		{"", "1234 QR", []string{"Maksud Anda BA 1234 QR?"}},
		{"", "BK 1234 AB", []string{"Sumatera Utara", "Sumatera Barat (BA)", "BA 1234 QR"}},
		{"id", "BA 0000 QR", []string{"BA 1234 QR"}},
		{"fr", "notfound", []string{"tidak ditemukan"}}, // unknown language: Indonesian
		{"en", "notfound", []string{"No vehicle with this plate number was found."}},
		{"EN", "down", []string{"not available"}},
		{"en", "1234 QR", []string{"Did you mean BA 1234 QR?"}},
		{"en", "BK 1234 AB", []string{"Sumatera Utara", "West Sumatra (BA)"}},
	} {
		t.Run(tt.lang+"/"+tt.plate, func(t *testing.T) {
			w := request(t, h, "POST", "/api/lookup", `{"plate":"`+tt.plate+`"}`, "X-Kiosk-Lang", tt.lang)
			m := decodeError(t, w).Error.Message
			for _, s := range tt.want {
				if !strings.Contains(m, s) {
					t.Errorf("message %q lacks %q", m, s)
				}
			}
			if strings.ContainsAny(m, "{}") {
				t.Errorf("message %q has an unfilled placeholder", m)
			}
		})
	}
}

func TestBadBodies(t *testing.T) {
	big := `{"plate":"` + strings.Repeat("A", maxBody) + `"}`
	for _, path := range []string{"/api/plate", "/api/lookup"} {
		for _, tt := range []struct{ name, body string }{
			{"empty", ""},
			{"malformed", `{"plate":`},
			{"not an object", `["ba1234qr"]`},
			{"null", `null`},
			{"unknown field", `{"plate":"ba1234qr","input":"x","nama":"x"}`},
			{"wrong type", `{"plate":1234,"input":1234}`},
			{"trailing data", `{} {}`},
			{"oversize", big},
		} {
			t.Run(path+"/"+tt.name, func(t *testing.T) {
				f := newFake()
				body := tt.body
				if tt.name == "unknown field" && path == "/api/plate" {
					body = `{"input":"ba1234qr","plate":"x"}`
				}
				w := request(t, Handler(f, nil), "POST", path, body)
				if w.Code != 400 {
					t.Fatalf("POST %s %s = %d %s, want 400", path, tt.name, w.Code, w.Body)
				}
				checkJSONHeaders(t, w)
				b := decodeError(t, w)
				if b.Error.Code != kiosk.CodeBadRequest || b.Error.Message == "" || b.Plate != "" {
					t.Errorf("reply %s, want bad_request with a message", w.Body)
				}
				if _, _, lookups, plates := f.calls(); lookups+plates != 0 {
					t.Errorf("backend was called for a bad body")
				}
			})
		}
	}
	t.Run("just under the limit", func(t *testing.T) {
		body := `{"plate":"` + strings.Repeat(" ", maxBody-len(`{"plate":"notfound"}`)) + `notfound"}`
		if len(body) != maxBody {
			t.Fatalf("body is %d bytes", len(body))
		}
		f := newFake()
		f.lookups[strings.Repeat(" ", maxBody-len(`{"plate":"notfound"}`))+"notfound"] = f.lookups["notfound"]
		if w := request(t, Handler(f, nil), "POST", "/api/lookup", body); w.Code != 404 {
			t.Errorf("a %d-byte body got %d %s, want it read (404)", len(body), w.Code, w.Body)
		}
	})
}

func TestAPINotFoundAndMethod(t *testing.T) {
	h := Handler(newFake(), nil)
	for _, tt := range []struct {
		method, path string
		wantStatus   int
		wantAllow    string
	}{
		{"GET", "/api/lookup", 405, "POST"},
		{"PUT", "/api/session", 405, "DELETE, POST"},
		{"POST", "/api/status", 405, "GET, HEAD"},
		{"POST", "/healthz", 405, "GET, HEAD"},
		{"GET", "/api/print/1", 404, ""},
		{"GET", "/api/", 404, ""},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			w := request(t, h, tt.method, tt.path, "")
			if w.Code != tt.wantStatus || w.Header().Get("Allow") != tt.wantAllow {
				t.Errorf("%s %s = %d Allow %q, want %d Allow %q", tt.method, tt.path, w.Code, w.Header().Get("Allow"), tt.wantStatus, tt.wantAllow)
			}
			checkJSONHeaders(t, w)
			if b := decodeError(t, w); b.Error.Code != kiosk.CodeBadRequest || b.Error.Message == "" {
				t.Errorf("reply %s", w.Body)
			}
		})
	}
}

// ---- Host, origin and headers -------------------------------------------

func TestHostCheck(t *testing.T) {
	h := Handler(newFake(), &Opts{Hosts: []string{"127.0.0.1:8321", "localhost:8321"}})
	for _, tt := range []struct {
		host, method, path string
		wantStatus         int
	}{
		{"evil.example:8321", "GET", "/", 421},
		{"evil.example:8321", "GET", "/api/status", 421},
		{"evil.example:8321", "POST", "/api/lookup", 421},
		{"evil.example:8321", "GET", "/healthz", 421},
		{"127.0.0.1", "GET", "/api/status", 421}, // the port is part of the check
		{"", "GET", "/api/status", 421},
		{"127.0.0.1:8321", "GET", "/api/status", 200},
		{"localhost:8321", "GET", "/", 200},
		{"LOCALHOST:8321", "GET", "/healthz", 200},
	} {
		t.Run(tt.host+" "+tt.path, func(t *testing.T) {
			w := request(t, h, tt.method, tt.path, `{"plate":"notfound"}`, "Host", tt.host)
			if w.Code != tt.wantStatus {
				t.Errorf("%s %s Host %q = %d, want %d", tt.method, tt.path, tt.host, w.Code, tt.wantStatus)
			}
			if tt.wantStatus == 421 {
				checkJSONHeaders(t, w)
				if b := decodeError(t, w); b.Error.Code != kiosk.CodeBadRequest {
					t.Errorf("reply %s", w.Body)
				}
				if w.Header().Get("Content-Security-Policy") == "" {
					t.Error("421 without CSP")
				}
			}
		})
	}
	t.Run("no hosts accepts any", func(t *testing.T) {
		if w := request(t, Handler(newFake(), &Opts{}), "GET", "/healthz", "", "Host", "evil.example:8321"); w.Code != 200 {
			t.Errorf("GET /healthz = %d, want 200", w.Code)
		}
	})
}

func TestOriginCheck(t *testing.T) {
	f := newFake()
	h := Handler(f, &Opts{Hosts: []string{"127.0.0.1:8321"}})
	for _, tt := range []struct {
		origin     string
		wantStatus int
	}{
		{"", 204},
		{"http://127.0.0.1:8321", 204},
		{"http://evil.example", 403},
		{"http://127.0.0.1:9999", 403},
		{"null", 403},
	} {
		t.Run(tt.origin, func(t *testing.T) {
			w := request(t, h, "POST", "/api/ui/ping", "", "Host", "127.0.0.1:8321", "Origin", tt.origin)
			if w.Code != tt.wantStatus {
				t.Errorf("POST /api/ui/ping Origin %q = %d, want %d", tt.origin, w.Code, tt.wantStatus)
			}
		})
	}
	if pings, _, _, _ := f.calls(); pings != 2 {
		t.Errorf("backend saw %d pings, want 2", pings)
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := Handler(newFake(), nil)
	for _, tt := range []struct{ method, path, body string }{
		{"GET", "/", ""},
		{"GET", "/app.js", ""},
		{"GET", "/app.css", ""},
		{"GET", "/i18n/id.json", ""},
		{"GET", "/nothing-here", ""},
		{"GET", "/healthz", ""},
		{"GET", "/api/status", ""},
		{"POST", "/api/plate", `{"input":"ba1234qr"}`},
		{"POST", "/api/lookup", `{"plate":"ba3456qr","rangka5":"8K21A"}`},
		{"POST", "/api/lookup", `{"plate":"notfound"}`},
		{"POST", "/api/session", ""},
		{"DELETE", "/api/session", ""},
		{"POST", "/api/ui/ping", ""},
		{"GET", "/api/ui/config", ""},
		{"GET", "/api/content?lang=en", ""},
		{"POST", "/api/print", `{"plate":"BA 1234 QR"}`},
		{"GET", "/api/print/j-1", ""},
		{"GET", "/api/print/nope", ""},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			w := request(t, h, tt.method, tt.path, tt.body)
			for name, want := range map[string]string{
				"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
			} {
				if got := w.Header().Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if strings.HasPrefix(tt.path, "/api/") || tt.path == "/healthz" {
				checkJSONHeaders(t, w)
			}
		})
	}
}

// ---- Assets -------------------------------------------------------------

func TestAssets(t *testing.T) {
	h := Handler(newFake(), nil)
	for _, tt := range []struct {
		path, ctype, contains string
	}{
		{"/", "text/html; charset=utf-8", `<script src="app.js"`},
		{"/index.html", "text/html; charset=utf-8", "<!DOCTYPE html>"},
		{"/app.js", "text/javascript; charset=utf-8", "/api/lookup"},
		{"/app.css", "text/css; charset=utf-8", "user-select"},
		{"/i18n/id.json", "application/json", `"err.not_found"`},
		{"/i18n/en.json", "application/json", `"err.not_found"`},
	} {
		t.Run(tt.path, func(t *testing.T) {
			w := request(t, h, "GET", tt.path, "")
			if w.Code != 200 || w.Header().Get("Content-Type") != tt.ctype || !strings.Contains(w.Body.String(), tt.contains) {
				t.Fatalf("GET %s = %d %q, want 200 %q containing %q", tt.path, w.Code, w.Header().Get("Content-Type"), tt.ctype, tt.contains)
			}
			etag := w.Header().Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			if w := request(t, h, "GET", tt.path, "", "If-None-Match", etag); w.Code != http.StatusNotModified {
				t.Errorf("revalidation = %d, want 304", w.Code)
			}
		})
	}
	for _, path := range []string{"/i18n/fr.json", "/assets/app.js", "/nothing", "/i18n/"} {
		if w := request(t, h, "GET", path, ""); w.Code != 404 {
			t.Errorf("GET %s = %d, want 404", path, w.Code)
		}
	}
}

func readAssets(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := fs.WalkDir(assetsFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assetsFS.ReadFile(p)
		files[strings.TrimPrefix(p, "assets/")] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestAssetsLocalAndCSP checks that the page loads nothing from outside
// and needs nothing the CSP forbids.
func TestAssetsLocalAndCSP(t *testing.T) {
	files := readAssets(t)
	for name, text := range files {
		for _, bad := range []string{"http://", "https://", "@import", "url(//"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s contains %q: assets must be local", name, bad)
			}
		}
	}
	for _, name := range []string{"index.html", "app.js"} {
		text := files[name]
		for _, re := range []string{`(?i)\sstyle\s*=`, `(?i)<style`, `(?i)\son[a-z]+\s*=\s*["']`, `(?i)javascript:`, `\.style\.`, `\beval\(`, `new Function\(`, `\.innerHTML\b`} {
			if m := regexp.MustCompile(re).FindString(text); m != "" {
				t.Errorf("%s contains %q, which the CSP forbids or the page avoids", name, m)
			}
		}
	}
	html := files["index.html"]
	scripts := regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(html, -1)
	if len(scripts) == 0 {
		t.Error("index.html loads no script")
	}
	for _, s := range scripts {
		if !strings.Contains(s[1], "src=") || strings.TrimSpace(s[2]) != "" {
			t.Errorf("inline script in index.html: %q", s[0])
		}
	}
	for _, m := range regexp.MustCompile(`(?i)\s(?:src|href)\s*=\s*"([^"]*)"`).FindAllStringSubmatch(html, -1) {
		ref := m[1]
		if ref == "data:," {
			continue
		}
		if _, ok := files[strings.TrimPrefix(ref, "/")]; !ok {
			t.Errorf("index.html references %q, which is not an embedded asset", ref)
		}
	}
	if !strings.Contains(html, "user-scalable=no") {
		t.Error("viewport does not forbid zoom")
	}
	for _, want := range []string{`id="rangka"`, `autocomplete="off"`, `maxlength="5"`} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
}

// TestPageKeys checks that every catalogue key the page names exists in
// every language: each data-i18n* attribute of index.html, each t('...')
// argument of app.js, and every other key literal of app.js (a string
// that starts with a catalogue prefix such as "result."; one that ends in
// "." is a prefix completed at run time, and some key must start with it).
func TestPageKeys(t *testing.T) {
	files := readAssets(t)
	cat := mustCatalogues(t)
	prefixes := map[string]bool{}
	for k := range cat.byLang[defaultLang] {
		prefixes[strings.SplitN(k, ".", 2)[0]] = true
	}
	keys := map[string]string{} // key -> where
	for _, m := range regexp.MustCompile(`data-i18n(?:-[a-z]+)?="([^"]*)"`).FindAllStringSubmatch(files["index.html"], -1) {
		keys[m[1]] = "index.html"
	}
	js := files["app.js"]
	var dynamic []string
	for _, m := range regexp.MustCompile(`\bt\(\s*'([^']*)'`).FindAllStringSubmatch(js, -1) {
		if strings.HasSuffix(m[1], ".") {
			dynamic = append(dynamic, m[1])
			continue
		}
		keys[m[1]] = "app.js t()"
	}
	for _, m := range regexp.MustCompile(`'([a-z][a-z0-9_]*(?:\.[A-Za-z0-9_]+)+\.?)'`).FindAllStringSubmatch(js, -1) {
		if !prefixes[strings.SplitN(m[1], ".", 2)[0]] {
			continue
		}
		if strings.HasSuffix(m[1], ".") {
			dynamic = append(dynamic, m[1])
			continue
		}
		keys[m[1]] = "app.js"
	}
	if len(keys) < 120 {
		t.Fatalf("found only %d keys in the page; the patterns are broken", len(keys))
	}
	for k, where := range keys {
		for _, lang := range languages {
			if _, ok := cat.byLang[lang][k]; !ok {
				t.Errorf("%s uses %q, missing from %s.json", where, k, lang)
			}
		}
	}
	for _, p := range dynamic {
		for _, lang := range languages {
			found := false
			for k := range cat.byLang[lang] {
				found = found || strings.HasPrefix(k, p)
			}
			if !found {
				t.Errorf("app.js builds keys from %q; %s.json has none", p, lang)
			}
		}
	}
}

// TestPageNoHardCodedText checks that index.html shows no text of its
// own: outside the drawing of the STNK (placeholder values), only the
// single characters of the keyboard keys.
func TestPageNoHardCodedText(t *testing.T) {
	html := readAssets(t)["index.html"]
	html = regexp.MustCompile(`(?s)<svg.*?</svg>|<!--.*?-->|<head>.*?</head>`).ReplaceAllString(html, " ")
	text := regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(html, " ")
	for _, word := range strings.Fields(text) {
		if !regexp.MustCompile(`^[A-Z0-9]$`).MatchString(word) {
			t.Errorf("index.html has the text %q: put it in the catalogues", word)
		}
	}
}

// TestPagePrivacy checks that the page keeps nothing in the browser and
// leaves no history: no web storage, cookies, IndexedDB or history entries.
func TestPagePrivacy(t *testing.T) {
	files := readAssets(t)
	for _, name := range []string{"app.js", "index.html"} {
		for _, bad := range []string{"localStorage", "sessionStorage", "document.cookie", "indexedDB", "pushState", "replaceState", "caches.open", "serviceWorker"} {
			if strings.Contains(files[name], bad) {
				t.Errorf("%s uses %s", name, bad)
			}
		}
	}
	if !strings.Contains(files["app.js"], "location.replace('/')") {
		t.Error("app.js does not reload with location.replace")
	}
	if regexp.MustCompile(`location\.(?:href|assign)|window\.open`).MatchString(files["app.js"]) {
		t.Error("app.js navigates in a way that leaves history or another window")
	}
	// rangka5 is never shown back: the field is masked and nothing else
	// takes its value but the lookup.
	if !strings.Contains(files["app.css"], "-webkit-text-security: disc") {
		t.Error("app.css does not mask the chassis digits")
	}
}

// TestPageNoLinks checks that nothing leads out of the application:
// internal navigation is by buttons only.
func TestPageNoLinks(t *testing.T) {
	files := readAssets(t)
	for name, text := range files {
		if m := regexp.MustCompile(`(?i)<a[\s>]|<[^>]*\starget\s*=|<form|<iframe|<object|<embed|<base`).FindString(text); m != "" {
			t.Errorf("%s contains %q", name, m)
		}
	}
	if regexp.MustCompile(`createElement\('(?:a|form|iframe)'\)`).MatchString(files["app.js"]) {
		t.Error("app.js creates a link, form or frame")
	}
	if !strings.Contains(files["app.js"], "'contextmenu'") {
		t.Error("app.js does not prevent the context menu")
	}
	css := files["app.css"]
	for _, want := range []string{"user-select: none", "touch-action: manipulation", ":focus"} {
		if !strings.Contains(css, want) {
			t.Errorf("app.css lacks %q", want)
		}
	}
	if strings.Contains(css, ":hover") {
		t.Error("app.css relies on hover, which a touch screen does not have")
	}
	if regexp.MustCompile(`@font-face|url\(`).MatchString(css) {
		t.Error("app.css loads a font or another resource")
	}
}

// TestPageDOMContract checks that every element the end-to-end tests
// drive is in index.html or created by app.js (documented at its top).
func TestPageDOMContract(t *testing.T) {
	files := readAssets(t)
	html, js := files["index.html"], files["app.js"]
	for _, id := range []string{
		"start", "help-open", "back", "lang-toggle", "offline-note",
		"plate", "region", "region-picker", "plate-preview", "plate-error", "plate-next", "message", "keyboard",
		"rangka", "rangka-count", "stnk-picture", "search", "rangka-error", "busy",
		"result", "result-plate", "result-merk", "result-tipe", "result-tahun", "result-warna", "result-tnkb",
		"result-due-pkb", "result-due-stnk", "result-status", "items", "items-body", "jumlah", "data-per",
		"not-receipt", "how-to-pay", "print", "print-reason", "print-status", "again", "finish",
		"unavailable-message", "retry", "help-title", "help-body", "help-updated", "info-title", "info-body",
		"info-updated", "maintenance-message", "countdown", "countdown-seconds", "countdown-continue",
	} {
		if n := strings.Count(html, ` id="`+id+`"`); n != 1 {
			t.Errorf("index.html has %d elements with id %q, want 1", n, id)
		}
	}
	for _, id := range []string{"plate-suggestion", "blocked-notice", "estimate-banner", "demo-badge", "cache-age", "stale", "info-open-pembayaran"} {
		if !strings.Contains(js, "'"+id+"'") {
			t.Errorf("app.js does not create #%s", id)
		}
	}
	if !strings.Contains(js, "'info-open-' + p.id") {
		t.Error("app.js does not create #info-open-<page id>")
	}
	for _, s := range []string{"welcome", "plate", "rangka", "result", "unavailable", "help", "info", "maintenance"} {
		if n := strings.Count(html, `<section class="screen`); n != 8 {
			t.Fatalf("index.html has %d screens, want 8", n)
		}
		if !regexp.MustCompile(`<section [^>]*data-screen="` + s + `"`).MatchString(html) {
			t.Errorf("index.html has no section for screen %q", s)
		}
	}
	if !strings.Contains(html, `<body data-screen="welcome">`) {
		t.Error("the body does not start on the welcome screen")
	}
	for _, k := range strings.Split("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "") {
		if n := strings.Count(html, `data-key="`+k+`">`+k+`</button>`); n != 1 {
			t.Errorf("keyboard has %d keys %s, want 1", n, k)
		}
	}
	for _, k := range []string{"BACKSPACE", "CLEAR"} {
		if !strings.Contains(html, `data-key="`+k+`"`) {
			t.Errorf("keyboard lacks %s", k)
		}
	}
	for _, want := range []string{
		`<input id="plate"`, `<input id="rangka"`, `id="rangka" name="rangka5" type="text"`, `maxlength="5"`,
		`dataset.ready = '1'`, `dataset.screen = name`, `dataset.page`, `dataset.lookupMs`, `dataset.lookupSource`,
		`new EventSource('/api/events')`, `'/api/ui/config'`, `'/api/content?lang='`, `'/api/print'`, `'/api/print/'`,
		`'/api/session'`, `'/api/ui/ping'`, `'/api/plate'`, `'/api/lookup'`, `'/api/status'`,
		`requestAnimationFrame(function () {
        setTimeout(`,
	} {
		if !strings.Contains(html+js, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

// ---- Catalogues ---------------------------------------------------------

func TestCatalogueParity(t *testing.T) {
	cat := mustCatalogues(t)
	id, en := cat.byLang["id"], cat.byLang["en"]
	for k, v := range id {
		w, ok := en[k]
		if !ok {
			t.Errorf("key %q is in id.json but not in en.json", k)
			continue
		}
		if strings.TrimSpace(v) == "" || strings.TrimSpace(w) == "" {
			t.Errorf("key %q is empty in a catalogue", k)
		}
		pi, pe := placeholder.FindAllString(v, -1), placeholder.FindAllString(w, -1)
		slices.Sort(pi)
		slices.Sort(pe)
		if !slices.Equal(slices.Compact(pi), slices.Compact(pe)) {
			t.Errorf("key %q: placeholders %v (id) vs %v (en)", k, pi, pe)
		}
	}
	for k := range en {
		if _, ok := id[k]; !ok {
			t.Errorf("key %q is in en.json but not in id.json", k)
		}
	}
	for _, lang := range languages {
		data, _ := i18nFS.ReadFile("i18n/" + lang + ".json")
		if dup := duplicateKeys(t, data); len(dup) > 0 {
			t.Errorf("%s.json repeats keys %v", lang, dup)
		}
	}
}

func duplicateKeys(t *testing.T, data []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var dup []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		k := tok.(string)
		if seen[k] {
			dup = append(dup, k)
		}
		seen[k] = true
		var v string
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("key %q: %v", k, err)
		}
	}
	return dup
}

// plateReasons are the categories of domain/pkb.md 3.4.
var plateReasons = []string{"BAD_FORMAT", "BAD_CHARACTER", "EMPTY", "BAD_NUMBER", "BAD_SERIES",
	"SPECIAL_PLATE", "BAD_REGION", "NEED_REGION", "OTHER_REGION"}

// stringConsts returns the string constants declared in the non-test Go
// files of dir for which keep(name, type) holds.
func stringConsts(t *testing.T, dir string, keep func(name, typ string) bool) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				typ := ""
				if id, ok := vs.Type.(*ast.Ident); ok {
					typ = id.Name
				}
				for i, name := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING || !keep(name.Name, typ) {
						continue
					}
					v, _ := strconv.Unquote(lit.Value)
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// TestCatalogueCoversErrors checks that every code and plate reason the
// handler can return has a message (and a title) in every language.
func TestCatalogueCoversErrors(t *testing.T) {
	cat := mustCatalogues(t)
	codes := stringConsts(t, "../kiosk", func(name, _ string) bool { return strings.HasPrefix(name, "Code") })
	for _, c := range []string{kiosk.CodeInvalidPlate, kiosk.CodeRangkaRequired, kiosk.CodeRangkaMismatch, kiosk.CodeNotFound,
		kiosk.CodeRateLimited, kiosk.CodeSourceUnavailable, kiosk.CodeMaintenance, kiosk.CodeBadRequest} {
		if !slices.Contains(codes, c) {
			t.Fatalf("parsing ../kiosk found codes %v, missing %q", codes, c)
		}
	}
	codes = append(codes, codeInternal)
	reasons := stringConsts(t, "../kiosk/plate", func(_, typ string) bool { return typ == "Reason" })
	slices.Sort(reasons)
	want := slices.Clone(plateReasons)
	slices.Sort(want)
	if !slices.Equal(reasons, want) {
		t.Errorf("kiosk/plate reasons %v, want %v: update plateReasons and the catalogues", reasons, want)
	}
	reasons = append(reasons, plateReasons...)

	for _, lang := range languages {
		c := cat.byLang[lang]
		for _, code := range codes {
			if _, ok := c["err."+code]; !ok {
				t.Errorf("%s.json has no err.%s", lang, code)
			}
			if _, ok := c["msg.title."+code]; !ok && code != kiosk.CodeBadRequest && code != codeInternal {
				t.Errorf("%s.json has no msg.title.%s", lang, code)
			}
		}
		for _, r := range reasons {
			m, ok := c["err.invalid_plate."+r]
			if !ok {
				t.Errorf("%s.json has no err.invalid_plate.%s", lang, r)
				continue
			}
			if !strings.Contains(m, "BA 1234 QR") {
				t.Errorf("%s err.invalid_plate.%s = %q gives no example BA 1234 QR", lang, r, m)
			}
		}
		for _, k := range []string{"err.invalid_plate", "msg.title.error"} {
			if _, ok := c[k]; !ok {
				t.Errorf("%s.json has no %s", lang, k)
			}
		}
		if !strings.Contains(c["err.invalid_plate.NEED_REGION"], "{suggestion}") {
			t.Errorf("%s NEED_REGION does not show the suggestion", lang)
		}
		if !strings.Contains(c["err.invalid_plate.OTHER_REGION"], "{province}") {
			t.Errorf("%s OTHER_REGION does not name the province", lang)
		}
		if strings.ContainsAny(c["err.internal"], "{}") {
			t.Errorf("%s err.internal, the last fallback, must have no placeholder", lang)
		}
	}
}

// TestErrorMessageEveryCode drives every code and reason through the
// handler and checks that the reply carries a filled message.
func TestErrorMessageEveryCode(t *testing.T) {
	f := newFake()
	var cases []*kiosk.Error
	for _, code := range stringConsts(t, "../kiosk", func(name, _ string) bool { return strings.HasPrefix(name, "Code") }) {
		cases = append(cases, &kiosk.Error{Code: code})
	}
	for _, r := range plateReasons {
		cases = append(cases, &kiosk.Error{Code: kiosk.CodeInvalidPlate, Reason: r, Suggestion: "BA 1234 QR", Province: "Riau"})
	}
	for i, e := range cases {
		f.lookups["case"+strconv.Itoa(i)] = lookupReply{err: e}
	}
	h := Handler(f, nil)
	for i, e := range cases {
		for _, lang := range languages {
			w := request(t, h, "POST", "/api/lookup", `{"plate":"case`+strconv.Itoa(i)+`"}`, "X-Kiosk-Lang", lang)
			b := decodeError(t, w)
			want := msg(t, lang, errorKeys(e)[0], map[string]string{"suggestion": e.Suggestion, "province": e.Province})
			if b.Error.Message != want || w.Code != statusOf(e.Code) {
				t.Errorf("%s %s/%s: %d message %q, want %d %q", lang, e.Code, e.Reason, w.Code, b.Error.Message, statusOf(e.Code), want)
			}
		}
	}
}

// ---- Guided flow routes -------------------------------------------------

func TestUIConfig(t *testing.T) {
	f := newFake()
	h := Handler(f, nil)
	w := request(t, h, "GET", "/api/ui/config", "")
	checkJSONHeaders(t, w)
	want := `{"kiosk":"padang-01","office":"padang","idle_s":60,"countdown_s":15,"ping_s":5,"client_timeout_s":8,"require_rangka5":true,"region":"BA"}`
	if got := strings.TrimSpace(w.Body.String()); w.Code != 200 || got != want {
		t.Errorf("GET /api/ui/config = %d %s, want 200 %s", w.Code, got, want)
	}
	if w := request(t, h, "POST", "/api/ui/config", "{}"); w.Code != 405 || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /api/ui/config = %d Allow %q, want 405 GET, HEAD", w.Code, w.Header().Get("Allow"))
	}
}

func TestContent(t *testing.T) {
	for _, tt := range []struct {
		name, target, lang, want string
	}{
		{"indonesian", "/api/content?lang=id", "", "id"},
		{"english", "/api/content?lang=en", "", "en"},
		{"english by header", "/api/content", "en", "en"},
		{"query wins over header", "/api/content?lang=id", "en", "id"},
		{"unknown language", "/api/content?lang=fr", "en", "id"},
		{"default", "/api/content", "", "id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			w := request(t, Handler(f, nil), "GET", tt.target, "", "X-Kiosk-Lang", tt.lang)
			if w.Code != 200 {
				t.Fatalf("GET %s = %d %s", tt.target, w.Code, w.Body)
			}
			checkJSONHeaders(t, w)
			var got kiosk.LocalContent
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Lang != tt.want || got.Version < 1 || got.Updated == "" || len(got.Pages) == 0 {
				t.Errorf("content = lang %q version %d updated %q %d pages, want lang %q", got.Lang, got.Version, got.Updated, len(got.Pages), tt.want)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if !slices.Equal(f.contentLang, []string{tt.want}) {
				t.Errorf("backend asked for %v, want [%s]", f.contentLang, tt.want)
			}
		})
	}
	t.Run("backend fails", func(t *testing.T) {
		f := newFake()
		f.contentErr = errors.New("store closed")
		w := request(t, Handler(f, nil), "GET", "/api/content?lang=en", "", "X-Kiosk-Lang", "en")
		checkJSONHeaders(t, w)
		b := decodeError(t, w)
		if w.Code != 500 || b.Error.Code != codeInternal || b.Error.Message != msg(t, "en", "err.internal", nil) {
			t.Errorf("GET /api/content = %d %s, want 500 internal with the English message", w.Code, w.Body)
		}
		if strings.Contains(w.Body.String(), "store closed") {
			t.Errorf("body %s leaks the internal error", w.Body)
		}
	})
}

func TestPrint(t *testing.T) {
	for _, tt := range []struct {
		name, body, lang string
		wantStatus       int
		want             string // literal body; "..." is the catalogue message
		msgKey           string
		wantPrinted      []string
	}{
		{"queued", `{"plate":"BA 1234 QR"}`, "", 202, `{"job":"j-1"}`, "", []string{"BA 1234 QR"}},
		{"normalised first", `{"plate":"ba3456qr"}`, "", 409,
			`{"error":{"code":"printer_unavailable","message":"..."},"plate":"BA 3456 QR"}`, "err.printer_unavailable", []string{"BA 3456 QR"}},
		{"printer unavailable in English", `{"plate":"BA 3456 QR"}`, "en", 409,
			`{"error":{"code":"printer_unavailable","message":"..."},"plate":"BA 3456 QR"}`, "err.printer_unavailable", []string{"BA 3456 QR"}},
		{"not looked up", `{"plate":"BA 9 Z"}`, "", 409,
			`{"error":{"code":"not_looked_up","message":"..."},"plate":"BA 9 Z"}`, "err.not_looked_up", []string{"BA 9 Z"}},
		{"limit", `{"plate":"BA 1 A"}`, "", 429,
			`{"error":{"code":"print_limit","message":"..."},"plate":"BA 1 A"}`, "err.print_limit", []string{"BA 1 A"}},
		{"maintenance", `{"plate":"BA 7001 AAB"}`, "", 503,
			`{"error":{"code":"maintenance","message":"..."},"plate":"BA 7001 AAB"}`, "err.maintenance", []string{"BA 7001 AAB"}},
		{"invalid plate", `{"plate":"BA 0000 QR"}`, "", 400,
			`{"error":{"code":"invalid_plate","reason":"BAD_NUMBER","message":"..."}}`, "err.invalid_plate.BAD_NUMBER", nil},
		{"other region keeps plate", `{"plate":"BK 1234 AB"}`, "en", 400,
			`{"error":{"code":"invalid_plate","reason":"OTHER_REGION","province":"Sumatera Utara","message":"..."},"plate":"BK 1234 AB"}`,
			"err.invalid_plate.OTHER_REGION", nil},
		{"empty body", ``, "", 400, `{"error":{"code":"bad_request","message":"..."}}`, "err.bad_request", nil},
		{"unknown field", `{"plate":"BA 1234 QR","rangka5":"8K21A"}`, "", 400, `{"error":{"code":"bad_request","message":"..."}}`, "err.bad_request", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			w := request(t, Handler(f, nil), "POST", "/api/print", tt.body, "X-Kiosk-Lang", tt.lang)
			lang := "id"
			if tt.lang != "" {
				lang = tt.lang
			}
			want := tt.want
			if tt.msgKey != "" {
				want = withMessage(want, msg(t, lang, tt.msgKey, map[string]string{"province": "Sumatera Utara"}))
			}
			if got := strings.TrimSpace(w.Body.String()); w.Code != tt.wantStatus || got != want {
				t.Errorf("POST /api/print %s = %d\n%s\nwant %d\n%s", tt.body, w.Code, got, tt.wantStatus, want)
			}
			checkJSONHeaders(t, w)
			f.mu.Lock()
			defer f.mu.Unlock()
			if !slices.Equal(f.printed, tt.wantPrinted) {
				t.Errorf("backend printed %q, want %q", f.printed, tt.wantPrinted)
			}
			if tt.wantStatus >= 400 && strings.Contains(w.Body.String(), "8K21A") {
				t.Errorf("reply echoes rangka5: %s", w.Body)
			}
		})
	}
	t.Run("GET is not allowed", func(t *testing.T) {
		w := request(t, Handler(newFake(), nil), "GET", "/api/print", "")
		if w.Code != 405 || w.Header().Get("Allow") != "POST" {
			t.Errorf("GET /api/print = %d Allow %q", w.Code, w.Header().Get("Allow"))
		}
	})
}

func TestPrintJob(t *testing.T) {
	h := Handler(newFake(), nil)
	for _, tt := range []struct {
		method, path, lang string
		wantStatus         int
		want               string
	}{
		{"GET", "/api/print/j-1", "", 200, `{"job":"j-1","state":"printing","error":""}`},
		{"GET", "/api/print/j-2", "", 200, `{"job":"j-2","state":"failed","error":"Kertas printer habis. Silakan hubungi petugas."}`},
		{"GET", "/api/print/nope", "", 404, withMessage(`{"error":{"code":"bad_request","message":"..."}}`, msg(t, "id", "err.bad_request.print_job", nil))},
		{"GET", "/api/print/nope", "en", 404, withMessage(`{"error":{"code":"bad_request","message":"..."}}`, msg(t, "en", "err.bad_request.print_job", nil))},
	} {
		t.Run(tt.path+"/"+tt.lang, func(t *testing.T) {
			w := request(t, h, tt.method, tt.path, "", "X-Kiosk-Lang", tt.lang)
			if got := strings.TrimSpace(w.Body.String()); w.Code != tt.wantStatus || got != tt.want {
				t.Errorf("%s %s = %d %s, want %d %s", tt.method, tt.path, w.Code, got, tt.wantStatus, tt.want)
			}
			checkJSONHeaders(t, w)
		})
	}
	if w := request(t, h, "DELETE", "/api/print/j-1", ""); w.Code != 405 || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("DELETE /api/print/j-1 = %d Allow %q, want 405", w.Code, w.Header().Get("Allow"))
	}
}

func TestStatusOfPrinting(t *testing.T) {
	for code, want := range map[string]int{
		kiosk.CodePrinterUnavailable: 409, kiosk.CodeNotLookedUp: 409, kiosk.CodePrintLimit: 429,
	} {
		if got := statusOf(code); got != want {
			t.Errorf("statusOf(%q) = %d, want %d", code, got, want)
		}
	}
}

// ---- Server-sent events -------------------------------------------------

// sseEvent is one event read from a stream.
type sseEvent struct {
	name, data string
}

// readEvent reads the next event, skipping comments.
func readEvent(t *testing.T, r *bufio.Reader) sseEvent {
	t.Helper()
	var ev sseEvent
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended: %v (event so far %+v)", err, ev)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.name != "" || ev.data != "" {
				return ev
			}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data = strings.TrimPrefix(line, "data: ")
		default:
			t.Fatalf("unexpected line %q", line)
		}
	}
}

func TestEvents(t *testing.T) {
	f := newFake()
	f.events = []Event{
		{Name: "status", Data: f.status},
		{Name: "bad\nname", Data: 1},            // cannot be framed: skipped
		{Name: "content", Data: make(chan int)}, // cannot be encoded: skipped
		{Name: "maintenance", Data: Maintenance{}},
	}
	f.more = make(chan Event)
	f.eventsDone = make(chan struct{})
	returned := make(chan struct{})
	h := Handler(f, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if r.URL.Path == "/api/events" {
			close(returned)
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/events", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	for name, want := range map[string]string{
		"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no",
		"Content-Security-Policy": contentSecurityPolicy,
	} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/events = %d", resp.StatusCode)
	}
	r := bufio.NewReader(resp.Body)
	status, _ := json.Marshal(f.status)
	for _, want := range []sseEvent{
		{"status", string(status)},
		{"maintenance", `{"on":false,"message":""}`},
	} {
		if got := readEvent(t, r); got != want {
			t.Errorf("event %+v, want %+v", got, want)
		}
	}
	// Later events arrive as they happen, each flushed at once.
	for _, tt := range []struct {
		ev   Event
		want sseEvent
	}{
		{Event{Name: "maintenance", Data: Maintenance{On: true, Message: "Rusak.\nGunakan loket 3."}}, sseEvent{"maintenance", `{"on":true,"message":"Rusak.\nGunakan loket 3."}`}},
		{Event{Name: "content", Data: 7}, sseEvent{"content", "7"}},
		{Event{Name: "reload"}, sseEvent{"reload", "null"}},
	} {
		select {
		case f.more <- tt.ev:
		case <-time.After(5 * time.Second):
			t.Fatal("the handler does not take events")
		}
		if got := readEvent(t, r); got != tt.want {
			t.Errorf("event %+v, want %+v", got, tt.want)
		}
	}

	cancel() // the page goes away
	for what, ch := range map[string]chan struct{}{"the handler": returned, "the backend's event goroutine": f.eventsDone} {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s did not return after the client went", what)
		}
	}
}

func TestEventsBackendCloses(t *testing.T) {
	f := newFake()
	f.events = []Event{{Name: "reload"}}
	f.more = make(chan Event)
	close(f.more) // the agent is shutting down
	w := request(t, Handler(f, nil), "GET", "/api/events", "")
	if w.Code != 200 || w.Body.String() != "event: reload\ndata: null\n\n" {
		t.Errorf("GET /api/events = %d %q", w.Code, w.Body)
	}
	if !w.Flushed {
		t.Error("events were not flushed")
	}
	if w := request(t, Handler(f, nil), "HEAD", "/api/events", ""); w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Type") != "text/event-stream" {
		t.Errorf("HEAD /api/events = %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
}

// sseRecorder is a ResponseWriter with Flush that can be read while the
// handler writes.
type sseRecorder struct {
	mu      sync.Mutex
	header  http.Header
	code    int
	body    strings.Builder
	flushed string // the body as of the last Flush
}

func (s *sseRecorder) Header() http.Header { return s.header }
func (s *sseRecorder) WriteHeader(code int) {
	s.mu.Lock()
	s.code = code
	s.mu.Unlock()
}
func (s *sseRecorder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.body.Write(p)
}
func (s *sseRecorder) Flush() {
	s.mu.Lock()
	s.flushed = s.body.String()
	s.mu.Unlock()
}
func (s *sseRecorder) seen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushed
}

// TestEventsKeepalive runs the stream in fake time: a quiet stream gets a
// comment every 15 s, and the handler returns when the request is done.
func TestEventsKeepalive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.events = []Event{{Name: "maintenance", Data: Maintenance{}}}
		f.eventsDone = make(chan struct{})
		h := Handler(f, nil)
		ctx, cancel := context.WithCancel(t.Context())
		req := httptest.NewRequest("GET", "/api/events", nil).WithContext(ctx)
		w := &sseRecorder{header: http.Header{}}
		done := make(chan struct{})
		go func() {
			h.ServeHTTP(w, req)
			close(done)
		}()
		synctest.Wait()
		first := "event: maintenance\ndata: {\"on\":false,\"message\":\"\"}\n\n"
		if got := w.seen(); got != first {
			t.Fatalf("flushed %q, want %q", got, first)
		}
		time.Sleep(sseKeepalive - time.Second)
		synctest.Wait()
		if got := w.seen(); got != first {
			t.Fatalf("before 15 s: flushed %q", got)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if got := w.seen(); got != first+": keepalive\n\n" {
			t.Fatalf("after 15 s: flushed %q", got)
		}
		time.Sleep(sseKeepalive)
		synctest.Wait()
		if got := strings.Count(w.seen(), ": keepalive\n\n"); got != 2 {
			t.Errorf("after 30 s: %d keepalives, want 2", got)
		}
		cancel()
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("the handler did not return after the request was cancelled")
		}
		select {
		case <-f.eventsDone:
		default:
			t.Fatal("the backend's event goroutine is left behind")
		}
		if w.code != 200 || w.header.Get("Content-Type") != "text/event-stream" {
			t.Errorf("status %d Content-Type %q", w.code, w.header.Get("Content-Type"))
		}
	})
}
