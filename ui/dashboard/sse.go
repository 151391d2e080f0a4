package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// Live stream tuning.
const (
	keepAlive    = 15 * time.Second // comment line; proxies drop idle streams
	writeTimeout = 10 * time.Second // a viewer that stops reading is dropped
	clientQueue  = 64               // frames buffered per viewer
	maxBatch     = 512              // changes rendered together
	renderBudget = 10 * time.Second // Backend calls per batch
)

// reloadFrame tells a page that it missed changes: it fetches itself
// again.
var reloadFrame = []byte("event: reload\ndata: {}\n\n")

var errClosed = errors.New("dashboard: closed")

// broker fans the Backend's changes out to the live streams. It holds one
// Backend subscription, started by the first stream and kept until Close
// (or until the Backend ends it, when the streams end too and the next
// one subscribes again). Each change is rendered once and the encoded
// frame is handed to every stream whose scope includes the change's
// office: fragments never depend on the viewer, only on what changed.
type broker struct {
	d         *Dashboard      // immutable
	ctx       context.Context // ends at Close; immutable
	cancel    context.CancelFunc
	done      chan struct{} // closed at Close; immutable
	keepAlive time.Duration // immutable after newBroker (tests shorten it)

	mu      sync.Mutex // guards the fields below; never held with another lock
	clients map[*sseClient]struct{}
	running bool   // run is subscribed
	unsub   func() // ends the subscription, while running
	closed  bool

	wg sync.WaitGroup // run and every stream
}

// sseClient is one open /events stream.
type sseClient struct {
	scope scope         // immutable
	ch    chan []byte   // frames to send
	lost  atomic.Bool   // a frame was dropped (queue full): send reload
	kick  chan struct{} // closed when the subscription ended
}

func newBroker(d *Dashboard) *broker {
	ctx, cancel := context.WithCancel(context.Background())
	return &broker{d: d, ctx: ctx, cancel: cancel, done: make(chan struct{}),
		keepAlive: keepAlive, clients: map[*sseClient]struct{}{}}
}

// register adds a stream, subscribing to the Backend if nobody is.
func (b *broker) register(s scope) (*sseClient, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errClosed
	}
	c := &sseClient{scope: s, ch: make(chan []byte, clientQueue), kick: make(chan struct{})}
	b.clients[c] = struct{}{}
	b.wg.Add(1) // done by unregister
	if !b.running {
		ch, unsub := b.d.cfg.Backend.Subscribe()
		b.running, b.unsub = true, unsub
		b.wg.Add(1)
		go b.run(ch)
	}
	return c, nil
}

func (b *broker) unregister(c *sseClient) {
	b.mu.Lock()
	delete(b.clients, c)
	b.mu.Unlock()
	b.wg.Done()
}

// close ends the subscription and every stream, and waits for them.
func (b *broker) close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.wg.Wait()
		return
	}
	b.closed = true
	close(b.done)
	b.cancel()
	unsub := b.unsub
	b.unsub = nil
	b.mu.Unlock()
	if unsub != nil {
		unsub()
	}
	b.wg.Wait()
}

// run reads changes until Close or until the Backend closes the channel.
// Changes that arrived together are handled as one batch, so a burst
// (a whole office going offline) costs one Fleet call, not one per kiosk.
func (b *broker) run(ch <-chan Change) {
	defer b.wg.Done()
	for {
		var batch []Change
		select {
		case <-b.done:
			return
		case c, ok := <-ch:
			if !ok {
				b.ended()
				return
			}
			batch = append(batch, c)
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case c, ok := <-ch:
				if !ok {
					b.process(batch)
					b.ended()
					return
				}
				batch = append(batch, c)
			default:
				break drain
			}
		}
		b.process(batch)
	}
}

// ended handles the end of the subscription by the Backend: every stream
// ends, and browsers reconnect (and reload what they missed).
func (b *broker) ended() {
	b.mu.Lock()
	if b.closed {
		// Close ended it (its unsubscribe may close the channel).
		b.mu.Unlock()
		return
	}
	unsub := b.unsub
	b.running, b.unsub = false, nil
	for c := range b.clients {
		close(c.kick)
		delete(b.clients, c)
	}
	b.mu.Unlock()
	if unsub != nil {
		unsub()
	}
	b.d.cfg.Log.Warn("dashboard: backend ended the live subscription")
}

// fragment is the data of a kiosk, counts or incident event: the element
// with id Target is replaced by HTML.
type fragment struct {
	Target string `json:"target"`
	HTML   string `json:"html"`
	State  string `json:"state,omitempty"` // incident: lets a filtered list decide to show a new row
}

func frame(event string, f fragment) []byte {
	js, _ := json.Marshal(f) // strings only: cannot fail; one line
	out := make([]byte, 0, len(event)+len(js)+16)
	out = append(out, "event: "...)
	out = append(out, event...)
	out = append(out, "\ndata: "...)
	out = append(out, js...)
	return append(out, "\n\n"...)
}

// process renders a batch of changes once and delivers the frames.
func (b *broker) process(batch []Change) {
	b.mu.Lock()
	scopes := make([]scope, 0, len(b.clients))
	for c := range b.clients {
		scopes = append(scopes, c.scope)
	}
	b.mu.Unlock()
	if len(scopes) == 0 {
		return
	}
	if slices.ContainsFunc(batch, func(c Change) bool { return c.Resync }) {
		b.deliver(reloadFrame, func(scope) bool { return true })
		return
	}
	wanted := func(office string) bool {
		return slices.ContainsFunc(scopes, func(s scope) bool { return s.sees(office) })
	}
	var kiosks, incidents []string
	offices := map[string]bool{}
	for _, c := range batch {
		switch {
		case c.Kind == "incident" && c.ID != "":
			if !slices.Contains(incidents, c.ID) {
				incidents = append(incidents, c.ID)
			}
		case c.Kiosk != "":
			if !slices.Contains(kiosks, c.Kiosk) && (c.Office == "" || wanted(c.Office)) {
				kiosks = append(kiosks, c.Kiosk)
			}
			if c.Office != "" && wanted(c.Office) {
				offices[c.Office] = true
			}
		}
	}
	ctx, cancel := context.WithTimeout(b.ctx, renderBudget)
	defer cancel()
	clk := b.d.clock()
	if len(kiosks) > 0 {
		fleet, err := b.d.cfg.Backend.Fleet(ctx)
		if err != nil {
			b.failed("fleet", err)
		} else {
			byID := make(map[string]*hubapi.FleetKiosk, len(fleet))
			byOff := map[string][]hubapi.FleetKiosk{}
			for i := range fleet {
				byID[fleet[i].Kiosk] = &fleet[i]
				byOff[fleet[i].Office] = append(byOff[fleet[i].Office], fleet[i])
			}
			for _, id := range kiosks {
				k := byID[id]
				if k == nil || !wanted(k.Office) {
					continue
				}
				offices[k.Office] = true
				b.send("kiosk", "card", domID("k-", id), "", clk.card(*k), k.Office)
			}
			for _, o := range slices.Sorted(maps.Keys(offices)) {
				b.send("counts", "counts", domID("c-", o), "", countOffice(o, byOff[o]), o)
			}
		}
	}
	for _, id := range incidents {
		inc, err := b.d.cfg.Backend.Incident(ctx, id)
		if err != nil {
			b.failed("incident", err)
			continue
		}
		if wanted(inc.Office) {
			b.send("incident", "incrow", domID("i-", id), inc.State, clk.incidentRow(inc), inc.Office)
		}
	}
}

func (b *broker) failed(op string, err error) {
	if !errors.Is(err, context.Canceled) && !errors.Is(err, ErrNotFound) {
		b.d.cfg.Log.Error("dashboard: live update", "op", op, "err", err)
	}
}

// send renders template tmpl with data once and delivers the frame to the
// streams that see office.
func (b *broker) send(event, tmpl, target, state string, data any, office string) {
	var buf bytes.Buffer
	if err := b.d.frags.ExecuteTemplate(&buf, tmpl, data); err != nil {
		b.d.cfg.Log.Error("dashboard: render fragment", "template", tmpl, "err", err)
		return
	}
	f := frame(event, fragment{Target: target, HTML: buf.String(), State: state})
	b.deliver(f, func(s scope) bool { return s.sees(office) })
}

// deliver queues f for the streams whose scope matches, never blocking:
// a stream whose queue is full is marked to reload instead.
func (b *broker) deliver(f []byte, match func(scope) bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.clients {
		if !match(c.scope) {
			continue
		}
		select {
		case c.ch <- f:
		default:
			c.lost.Store(true)
		}
	}
}

// events serves /events, the live stream of a page.
func (d *Dashboard) events(w http.ResponseWriter, r *http.Request, v *viewer) {
	office, ok := d.officeParam(w, r, v)
	if !ok {
		return
	}
	c, err := d.live.register(v.scope.narrow(office))
	if err != nil {
		http.Error(w, "Pembaruan langsung tidak tersedia.", http.StatusServiceUnavailable)
		return
	}
	defer d.live.unregister(c)

	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	defer rc.SetWriteDeadline(time.Time{})
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout)) // not every writer supports it
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte("retry: 3000\n: ok\n\n")) {
		return
	}
	tick := time.NewTicker(d.live.keepAlive)
	defer tick.Stop()
	for {
		select {
		case f := <-c.ch:
			if !write(f) {
				return
			}
			if c.lost.Swap(false) && !write(reloadFrame) {
				return
			}
		case <-tick.C:
			if !d.stillValid(r.Context(), v) || !write([]byte(": ka\n\n")) {
				return
			}
		case <-c.kick:
			return
		case <-d.live.done:
			return
		case <-r.Context().Done():
			return
		}
	}
}

// stillValid re-checks a stream's user and session: a disabled user or
// an expired session must not keep receiving updates on an open stream.
func (d *Dashboard) stillValid(ctx context.Context, v *viewer) bool {
	now := d.now().Unix()
	if v.sess.Exp <= now || d.loggedOut.has(v.sess.SID, now) {
		return false
	}
	u, err := d.cfg.Backend.User(ctx, v.User.Name)
	if err != nil {
		// A Backend hiccup should not drop every viewer; not found should.
		return !errors.Is(err, ErrNotFound)
	}
	return !u.Disabled && u.Epoch == v.sess.Epoch && u.Role == v.User.Role && slices.Equal(u.Offices, v.User.Offices)
}
