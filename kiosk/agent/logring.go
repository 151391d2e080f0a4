package agent

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
)

// logRing keeps the last lines the agent logged, for the diag command's
// support bundle. The agent's logs carry no personal data (plates only as
// keyed hashes), so neither does the bundle.
type logRing struct {
	mu    sync.Mutex
	lines []string
	next  int
	full  bool
}

func newLogRing(n int) *logRing { return &logRing{lines: make([]string, n)} }

func (r *logRing) add(line string) {
	r.mu.Lock()
	r.lines[r.next] = line
	r.next = (r.next + 1) % len(r.lines)
	if r.next == 0 {
		r.full = true
	}
	r.mu.Unlock()
}

// Lines returns the kept lines, oldest first.
func (r *logRing) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return append([]string(nil), r.lines[:r.next]...)
	}
	return append(append([]string(nil), r.lines[r.next:]...), r.lines[:r.next]...)
}

// ringHandler passes records on to the agent's handler and keeps a text
// rendering of each in the ring, whatever the configured level.
type ringHandler struct {
	next slog.Handler
	ring *logRing
	text slog.Handler // renders into buf
	buf  *bytes.Buffer
	mu   *sync.Mutex // guards buf
}

func newRingHandler(next slog.Handler, ring *logRing) *ringHandler {
	buf := new(bytes.Buffer)
	return &ringHandler{next: next, ring: ring, buf: buf, mu: new(sync.Mutex),
		text: slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo})}
}

func (h *ringHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.next.Enabled(ctx, l)
}

func (h *ringHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelInfo {
		h.mu.Lock()
		h.buf.Reset()
		if h.text.Handle(ctx, r) == nil {
			h.ring.add(string(bytes.TrimRight(h.buf.Bytes(), "\n")))
		}
		h.mu.Unlock()
	}
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h *ringHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &ringHandler{next: h.next.WithAttrs(as), ring: h.ring, text: h.text.WithAttrs(as), buf: h.buf, mu: h.mu}
}

func (h *ringHandler) WithGroup(name string) slog.Handler {
	return &ringHandler{next: h.next.WithGroup(name), ring: h.ring, text: h.text.WithGroup(name), buf: h.buf, mu: h.mu}
}
