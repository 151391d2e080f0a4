// Package ui is the taxpayer screen of the kiosk: an http.Handler over embedded assets that talks to the agent through Backend.
//
// The handler serves the page (ui/assets), the message catalogues
// (ui/i18n, at /i18n/<lang>.json) and the agent HTTP API of DESIGN 4.8
// that the page calls. It holds no state and no rules of its own: plates,
// sessions and lookups are the Backend's; the handler only translates
// HTTP to Backend calls and back, maps error codes to status codes and
// fills every error's message from the catalogue in the request's
// language (X-Kiosk-Lang: en for English, Indonesian otherwise).
package ui

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
)

//go:embed assets
var assetsFS embed.FS

// Opts configures Handler. A nil *Opts is the zero Opts.
type Opts struct {
	// Hosts are the Host header values accepted (e.g. "127.0.0.1:8321", "localhost:8321"); any other Host gets 421 Misdirected Request. This stops DNS-rebinding pages from reaching the loopback API. Empty means accept any (tests only).
	//
	// When Hosts is set, a state-changing request (not GET or HEAD) that
	// carries an Origin header must also come from one of these hosts
	// (http or https), else it gets 403: a page elsewhere could otherwise
	// post to the loopback API with a simple cross-site request.
	Hosts []string
	// Metrics, if set, is served at GET /metrics (the agent's Prometheus
	// registry), behind the same Host check as everything else.
	Metrics http.Handler
}

// maxBody is the largest request body read; a larger one is a
// bad_request.
const maxBody = 4 << 10

// contentSecurityPolicy is sent with every response. It allows no inline
// script or style, so the page keeps all of both in app.js and app.css.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"

// contentTypes of the embedded assets, by extension. Explicit rather than
// mime.TypeByExtension, whose answer depends on the machine's files.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".json": "application/json",
}

// handler serves the page and the API. It is immutable after Handler.
type handler struct {
	b     Backend
	cat   *catalogues
	hosts []string
}

// Handler returns the kiosk screen's http.Handler: the page, its assets,
// the catalogues and the agent HTTP API of DESIGN 4.8, all through b.
// It panics if the embedded assets or catalogues are broken, which the
// package's tests rule out.
func Handler(b Backend, opts *Opts) http.Handler {
	if opts == nil {
		opts = &Opts{}
	}
	cat, err := loadCatalogues()
	if err != nil {
		panic(err)
	}
	assets, err := loadAssets()
	if err != nil {
		panic(err)
	}
	h := &handler{b: b, cat: cat, hosts: append([]string(nil), opts.Hosts...)}

	mux := http.NewServeMux()
	h.api(mux, "/healthz", map[string]http.HandlerFunc{"GET": h.healthz})
	if opts.Metrics != nil {
		mux.Handle("GET /metrics", opts.Metrics)
	}
	h.api(mux, "/api/status", map[string]http.HandlerFunc{"GET": h.status})
	h.api(mux, "/api/plate", map[string]http.HandlerFunc{"POST": h.plate})
	h.api(mux, "/api/session", map[string]http.HandlerFunc{"POST": h.startSession, "DELETE": h.endSession})
	h.api(mux, "/api/ui/ping", map[string]http.HandlerFunc{"POST": h.ping})
	h.api(mux, "/api/lookup", map[string]http.HandlerFunc{"POST": h.lookup})
	h.api(mux, "/api/ui/config", map[string]http.HandlerFunc{"GET": h.uiConfig})
	h.api(mux, "/api/content", map[string]http.HandlerFunc{"GET": h.content})
	h.api(mux, "/api/events", map[string]http.HandlerFunc{"GET": h.events})
	h.api(mux, "/api/print", map[string]http.HandlerFunc{"POST": h.print})
	h.api(mux, "/api/print/{id}", map[string]http.HandlerFunc{"GET": h.printJob})
	mux.Handle("/api/", h.apiHeaders(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, http.StatusNotFound, &kiosk.Error{Code: kiosk.CodeBadRequest}, "err.bad_request.route", "")
	}))

	for name, f := range assets {
		mux.Handle("GET /"+name, serveFile(f, "no-cache"))
		if name == "index.html" {
			mux.Handle("GET /{$}", serveFile(f, "no-cache"))
		}
	}
	for lang, f := range cat.raw {
		mux.Handle("GET /i18n/"+lang+".json", serveFile(f, "no-cache"))
	}
	return h.guard(mux)
}

// loadAssets reads the embedded page files by name (relative to assets/).
func loadAssets() (map[string]servedFile, error) {
	files := map[string]servedFile{}
	err := fs.WalkDir(assetsFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ctype, ok := contentTypes[path.Ext(p)]
		if !ok {
			return errors.New("ui: asset " + p + " has no known content type")
		}
		data, err := assetsFS.ReadFile(p)
		if err != nil {
			return err
		}
		files[strings.TrimPrefix(p, "assets/")] = newServedFile(data, ctype)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, ok := files["index.html"]; !ok {
		return nil, errors.New("ui: assets/index.html is missing")
	}
	return files, nil
}

// serveFile serves an embedded file with its ETag, so the webview
// revalidates cheaply and still sees a new version after an update.
func serveFile(f servedFile, cacheControl string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", f.ctype)
		w.Header().Set("Cache-Control", cacheControl)
		w.Header().Set("ETag", f.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.data))
	})
}

// guard sets the security headers of every response and turns away
// requests for another host (DNS rebinding) or from another origin.
func (h *handler) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		if !h.hostAllowed(r.Host) {
			setAPIHeaders(w)
			h.fail(w, r, http.StatusMisdirectedRequest, &kiosk.Error{Code: kiosk.CodeBadRequest}, "err.bad_request.host", "")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !h.originAllowed(r.Header.Get("Origin")) {
			setAPIHeaders(w)
			h.fail(w, r, http.StatusForbidden, &kiosk.Error{Code: kiosk.CodeBadRequest}, "err.bad_request.origin", "")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (h *handler) hostAllowed(host string) bool {
	if len(h.hosts) == 0 {
		return true
	}
	for _, a := range h.hosts {
		if strings.EqualFold(host, a) {
			return true
		}
	}
	return false
}

// originAllowed reports whether a request with Origin header origin may
// change state. No Origin (curl, tests, same-origin GET) is allowed: a
// browser always sends one with a cross-origin POST or DELETE.
func (h *handler) originAllowed(origin string) bool {
	if origin == "" || len(h.hosts) == 0 {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Path != "" {
		return false
	}
	return h.hostAllowed(u.Host)
}

// api registers the handlers of one API path by method, plus a fallback
// that answers other methods with a JSON 405, so that every API reply is
// JSON.
func (h *handler) api(mux *http.ServeMux, p string, byMethod map[string]http.HandlerFunc) {
	var allow []string
	for m, f := range byMethod {
		mux.Handle(m+" "+p, h.apiHeaders(f))
		allow = append(allow, m)
		if m == http.MethodGet {
			allow = append(allow, http.MethodHead)
		}
	}
	slices.Sort(allow)
	allowed := strings.Join(allow, ", ")
	mux.Handle(p, h.apiHeaders(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allowed)
		h.fail(w, r, http.StatusMethodNotAllowed, &kiosk.Error{Code: kiosk.CodeBadRequest}, "err.bad_request.method", "")
	}))
}

// apiHeaders sets the headers every API reply carries.
func (h *handler) apiHeaders(f http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setAPIHeaders(w)
		f(w, r)
	})
}

func setAPIHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
}

// errorBody is an error reply of DESIGN 4.8: the error and, when the
// input parsed to a plate, the canonical plate.
type errorBody struct {
	Error *kiosk.Error `json:"error"`
	Plate string       `json:"plate,omitempty"`
}

// statusOf maps an error code to the HTTP status of DESIGN 4.8.
func statusOf(code string) int {
	switch code {
	case kiosk.CodeInvalidPlate, kiosk.CodeRangkaRequired, kiosk.CodeBadRequest:
		return http.StatusBadRequest
	case kiosk.CodeRangkaMismatch:
		return http.StatusForbidden
	case kiosk.CodeNotFound:
		return http.StatusNotFound
	case kiosk.CodePrinterUnavailable, kiosk.CodeNotLookedUp:
		return http.StatusConflict
	case kiosk.CodeRateLimited, kiosk.CodePrintLimit:
		return http.StatusTooManyRequests
	case kiosk.CodeSourceUnavailable, kiosk.CodeMaintenance:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// withMessage returns a copy of e (the backend's value is left alone)
// with Message filled from the catalogue in r's language; key, when not
// empty, is the preferred catalogue key.
func (h *handler) withMessage(r *http.Request, e *kiosk.Error, key string) *kiosk.Error {
	c := *e
	c.Message = h.cat.errorMessage(requestLang(r), key, e)
	return &c
}

// fail writes an error reply with status.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, status int, e *kiosk.Error, key, plate string) {
	writeJSON(w, status, errorBody{Error: h.withMessage(r, e, key), Plate: plate})
}

// failErr writes the reply for an error returned by a Backend method: a
// *kiosk.Error with the status of its code, anything else 500.
func (h *handler) failErr(w http.ResponseWriter, r *http.Request, err error) {
	var ke *kiosk.Error
	if !errors.As(err, &ke) {
		ke = &kiosk.Error{Code: codeInternal}
	}
	h.fail(w, r, statusOf(ke.Code), ke, "", "")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only our own types are encoded; kept for safety
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":""}}`)
	}
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// decode reads r's JSON object body into v: at most maxBody bytes, no
// unknown fields, nothing after the object. On failure it writes the 400
// bad_request reply and returns false.
func (h *handler) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		key := "err.bad_request"
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			key = "err.bad_request.too_large"
		}
		h.fail(w, r, http.StatusBadRequest, &kiosk.Error{Code: kiosk.CodeBadRequest}, key, "")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || dec.Decode(v) != nil {
		h.fail(w, r, http.StatusBadRequest, &kiosk.Error{Code: kiosk.CodeBadRequest}, "", "")
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		h.fail(w, r, http.StatusBadRequest, &kiosk.Error{Code: kiosk.CodeBadRequest}, "", "")
		return false
	}
	return true
}

// GET /healthz
func (h *handler) healthz(w http.ResponseWriter, r *http.Request) {
	hl := h.b.Health(r.Context())
	status := http.StatusOK
	if !hl.OK {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, hl)
}

// GET /api/status
func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.b.Status(r.Context()))
}

// plateRequest is the body of POST /api/plate.
type plateRequest struct {
	Input string `json:"input"`
}

// POST /api/plate: the live preview. A rejected plate is still a 200: the
// preview asked a question and got an answer.
func (h *handler) plate(w http.ResponseWriter, r *http.Request) {
	var req plateRequest
	if !h.decode(w, r, &req) {
		return
	}
	p, e := h.b.Plate(req.Input)
	if e != nil {
		writeJSON(w, http.StatusOK, errorBody{Error: h.withMessage(r, e, ""), Plate: p})
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Plate string `json:"plate"`
	}{p})
}

// POST /api/session
func (h *handler) startSession(w http.ResponseWriter, r *http.Request) {
	id, err := h.b.StartSession(r.Context())
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Session string `json:"session"`
	}{id})
}

// DELETE /api/session
func (h *handler) endSession(w http.ResponseWriter, r *http.Request) {
	if err := h.b.EndSession(r.Context()); err != nil {
		h.failErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// POST /api/ui/ping
func (h *handler) ping(w http.ResponseWriter, r *http.Request) {
	h.b.Ping()
	w.WriteHeader(http.StatusNoContent)
}

// POST /api/lookup. The reply never echoes rangka5.
func (h *handler) lookup(w http.ResponseWriter, r *http.Request) {
	var req kiosk.LookupRequest
	if !h.decode(w, r, &req) {
		return
	}
	ans, e := h.b.Lookup(r.Context(), req)
	if e != nil {
		h.fail(w, r, statusOf(e.Code), e, "", ans.Plate)
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

// GET /api/ui/config
func (h *handler) uiConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.b.UIConfig())
}

// contentLang is the language of GET /api/content: the lang query
// parameter, else the request's language; anything but "en" is "id".
func contentLang(r *http.Request) string {
	q := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("lang")))
	if q == "" {
		return requestLang(r)
	}
	if q == "en" {
		return "en"
	}
	return defaultLang
}

// GET /api/content?lang=id|en: the help and information pages. The page
// renders their blocks as text, never as markup.
func (h *handler) content(w http.ResponseWriter, r *http.Request) {
	c, err := h.b.Content(r.Context(), contentLang(r))
	if err != nil {
		h.fail(w, r, http.StatusInternalServerError, &kiosk.Error{Code: codeInternal}, "", "")
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// sseKeepalive is how often GET /api/events writes a comment when there
// is nothing to send, so that a dead connection is noticed and no proxy
// or idle timer closes a quiet one.
const sseKeepalive = 15 * time.Second

// GET /api/events: server-sent events from Backend.Events until the
// client goes or the backend closes the channel. Each event is
// "event: <name>\ndata: <json>\n\n"; the page's EventSource reconnects by
// itself and then gets the current state again as the first events.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	rc := http.NewResponseController(w)
	// A server-wide WriteTimeout would cut the stream; this response
	// lives as long as the page. Writers that cannot do it are fine.
	_ = rc.SetWriteDeadline(time.Time{})
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if rc.Flush() != nil {
		return
	}
	ctx := r.Context()
	ch := h.b.Events(ctx)
	tick := time.NewTicker(sseKeepalive)
	defer tick.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-ch:
			if !ok {
				return
			}
			if !validEventName(ev.Name) {
				continue
			}
			data, merr := json.Marshal(ev.Data)
			if merr != nil {
				continue
			}
			_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Name, data)
		case <-tick.C:
			_, err = io.WriteString(w, ": keepalive\n\n")
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil { // the client is gone
			return
		}
	}
}

// validEventName reports whether name can be an SSE event name: not
// empty and without a line break, which would end the field.
func validEventName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "\r\n")
}

// printRequest is the body of POST /api/print.
type printRequest struct {
	Plate string `json:"plate"`
}

// POST /api/print: queue a slip for a plate looked up in this session.
// The plate goes through the backend's normalisation first, so the
// backend gets the canonical form and a bad plate the usual message.
func (h *handler) print(w http.ResponseWriter, r *http.Request) {
	var req printRequest
	if !h.decode(w, r, &req) {
		return
	}
	p, e := h.b.Plate(req.Plate)
	if e != nil {
		h.fail(w, r, statusOf(e.Code), e, "", p)
		return
	}
	job, e := h.b.Print(r.Context(), p)
	if e != nil {
		h.fail(w, r, statusOf(e.Code), e, "", p)
		return
	}
	writeJSON(w, http.StatusAccepted, struct {
		Job string `json:"job"`
	}{job})
}

// GET /api/print/{id}: the state of a print job of this session.
func (h *handler) printJob(w http.ResponseWriter, r *http.Request) {
	job, ok := h.b.PrintJob(r.Context(), r.PathValue("id"))
	if !ok {
		h.fail(w, r, http.StatusNotFound, &kiosk.Error{Code: kiosk.CodeBadRequest}, "err.bad_request.print_job", "")
		return
	}
	if job.Error != "" {
		// The agent names the reason (paper_out, cover_open, offline,
		// fault, lost, abandoned); the taxpayer reads it in their language.
		job.Error = h.cat.errorMessage(requestLang(r), "print.reason."+job.Error, &kiosk.Error{Code: codeInternal})
	}
	writeJSON(w, http.StatusOK, job)
}
