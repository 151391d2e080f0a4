package hubserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// The hub's decisions (sync/hub decide.go) run here: the HUB_EVENTS
// projector, a decider loop woken by new kiosk events and every second,
// presence transitions published as events, and the change feed of the
// dashboard's live pages.

// startDecisions catches the projection up with HUB_EVENTS, then starts
// the projector and the decider. ctx ends both.
func (h *Hub) startDecisions(ctx context.Context, js jetstream.JetStream) (err error) {
	h.pub = hub.NewPublisher(js, h.store)
	// Presence changes are published without waiting for each ack: a hub
	// start brings thousands at once.
	h.asyncJS, err = jetstream.New(h.nc, jetstream.WithPublishAsyncMaxPending(4096),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
			h.log.Warn("hub event not recorded on HUB_EVENTS", "subject", m.Subject, "err", err)
		}))
	if err != nil {
		return fmt.Errorf("hubserver: jetstream: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	err = hub.RunProjector(cctx, hub.ProjectorConfig{Store: h.store, JS: js, UntilCaughtUp: true})
	cancel()
	if err != nil {
		return fmt.Errorf("hubserver: catch up with %s: %w", hub.HubStream, err)
	}
	cal, err := hub.ParseCalendar(h.cfg.WorkHours, h.cfg.Holidays, h.cfg.TZ)
	if err != nil {
		return fmt.Errorf("%w: --work-hours/--holidays: %w", ErrConfig, err)
	}
	h.decider = hub.NewDecider(hub.DeciderConfig{
		Store: h.store, Pub: h.pub, Fleet: h.fleet, Calendar: cal, Targets: h.cfg.Targets,
		TZ: h.cfg.TZ, Now: h.cfg.Now, Log: h.log.With("part", "incidents"),
		Window: h.cfg.CorrelateWindow, Hold: h.cfg.CorrelateHold, AliveAt: h.cfg.AliveAt,
		NoAlerts: h.alerter == nil,
		Queued:   h.kickAlerts,
	})
	h.wg.Add(2)
	go func() {
		defer h.wg.Done()
		err := hub.RunProjector(ctx, hub.ProjectorConfig{Store: h.store, JS: js, OnApplied: h.hubApplied})
		if err != nil && ctx.Err() == nil {
			h.log.Error("HUB_EVENTS projector stopped", "err", err)
		}
	}()
	go func() {
		defer h.wg.Done()
		h.decideLoop(ctx)
	}()
	return nil
}

func (h *Hub) kickAlerts() {
	if h.alerter != nil {
		h.alerter.Kick()
	}
}

// kickDecider wakes the decider (a kiosk event was stored).
func (h *Hub) kickDecider() {
	select {
	case h.decide <- struct{}{}:
	default:
	}
}

func (h *Hub) decideLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-h.decide:
		}
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		if err := h.decider.Reconcile(rctx); err != nil && ctx.Err() == nil {
			h.log.Error("incident decisions", "err", err)
		}
		cancel()
		h.drainSpool(ctx)
		h.hubChecks(ctx)
	}
}

// publishPresence records a presence transition on HUB_EVENTS, with the
// kiosk's last snapshot when it goes offline (what the dashboard shows of
// a silent kiosk after a rebuild).
func (h *Hub) publishPresence(tr hub.Transition) {
	d := hub.PresenceData{From: tr.From, To: tr.To, LastSeen: tr.LastSeen}
	if tr.To == hub.Offline {
		if k, ok := h.fleet.Kiosk(tr.Kiosk); ok {
			d.Status, _ = json.Marshal(k.Status)
		}
	}
	e := hub.HubEvent{ID: hub.DecisionID("presence", tr.Kiosk, string(tr.To), tr.At.Format(time.RFC3339Nano)),
		Type: hub.HEPresence, At: tr.At, By: hub.ByHub, Office: tr.Office, Kiosk: tr.Kiosk, Target: tr.Kiosk}
	e.Data, _ = json.Marshal(d)
	if err := hub.PublishAsync(h.asyncJS, e); err != nil {
		h.log.Warn("presence change not recorded on HUB_EVENTS", "kiosk", tr.Kiosk, "to", tr.To, "err", err)
	}
	h.changes.publish(hubapi.Change{Kind: "kiosk", Kiosk: tr.Kiosk, Office: tr.Office})
	h.kickDecider()
}

// hubApplied tells live pages about applied hub events.
func (h *Hub) hubApplied(es []hub.HubEvent) {
	for _, e := range es {
		if strings.HasPrefix(e.Type, "incident.") {
			h.changes.publish(hubapi.Change{Kind: "incident", ID: e.Target, Kiosk: e.Kiosk, Office: e.Office})
		}
	}
}

// changeFeed fans changes out to the dashboard's live pages. A slow
// subscriber loses changes (and is told to resync) rather than slowing
// the hub.
type changeFeed struct {
	mu   sync.Mutex
	subs map[chan hubapi.Change]bool
	// shown is what a kiosk's row shows, to tell the pages only about
	// heartbeats that change it (10,000 kiosks beat 1,000 times a second).
	shown map[string]shownRow
}

func newChangeFeed() *changeFeed {
	return &changeFeed{subs: map[chan hubapi.Change]bool{}, shown: map[string]shownRow{}}
}

func (f *changeFeed) Subscribe() (<-chan hubapi.Change, func()) {
	ch := make(chan hubapi.Change, 256)
	f.mu.Lock()
	f.subs[ch] = true
	f.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			f.mu.Lock()
			delete(f.subs, ch)
			f.mu.Unlock()
		})
	}
}

func (f *changeFeed) publish(c hubapi.Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch, ok := range f.subs {
		if !ok {
			continue
		}
		select {
		case ch <- c:
		default:
			// Full: drop what is queued and ask for a reload instead.
			for len(ch) > 0 {
				<-ch
			}
			ch <- hubapi.Change{Resync: true}
		}
	}
}

// shownRow is what a kiosk's row on the fleet page shows of its snapshot.
type shownRow struct {
	paper, mode, power, version, faults string
	online, cover, bus                  bool
	diskMiB64                           uint64 // free space in steps of 64 MiB
}

// heartbeat publishes a kiosk change when what its row shows changed.
func (f *changeFeed) heartbeat(id string, st *kiosk.Status) {
	if st == nil {
		return
	}
	row := shownRow{paper: st.Printer.Paper, mode: st.Mode, power: st.Power.Source, version: st.Version,
		faults: strings.Join(st.Faults, ","), online: st.Printer.Online, cover: st.Printer.CoverOpen,
		bus: st.Bus.Connected, diskMiB64: st.Disk.FreeBytes >> 26}
	f.mu.Lock()
	same := f.shown[id] == row
	f.shown[id] = row
	f.mu.Unlock()
	if !same {
		f.publish(hubapi.Change{Kind: "kiosk", Kiosk: id, Office: st.Office})
	}
}
