package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsbus"
	"github.com/sumbar-samsat/pkbkiosk/sync/outbox"
	"github.com/sumbar-samsat/pkbkiosk/ui"
)

// Local fault codes the agent raises itself (DESIGN 4.3); the reporting
// issue turns them into events.
const (
	faultUICrashed      = "ui.crashed"
	faultUIUnresponsive = "ui.unresponsive"
)

// loadScreenState restores maintenance mode and the content pages from the
// store, seeding the pages with the built-in bundle on a new store.
func (a *Agent) loadScreenState(ctx context.Context) error {
	if v, err := a.store.State(ctx, "maintenance"); err == nil {
		if err := json.Unmarshal([]byte(v), &a.maintenance); err != nil {
			a.log.Warn("stored maintenance state unreadable; assuming off", "err", err)
		}
	} else if !errors.Is(err, outbox.ErrNotFound) {
		return err
	}
	c, err := a.store.ContentGet(ctx)
	if err == nil {
		if b, perr := kiosk.ParseContent(c.Bundle); perr == nil {
			a.content = b
			return nil
		}
		a.log.Warn("stored content unreadable; using the built-in pages")
	} else if !errors.Is(err, outbox.ErrNotFound) {
		return err
	}
	a.content = kiosk.DefaultContent()
	return a.storeContent(ctx, a.content)
}

func (a *Agent) storeContent(ctx context.Context, b kiosk.ContentBundle) error {
	data, err := json.Marshal(b)
	if err != nil {
		return err
	}
	return a.store.ContentPut(ctx, outbox.Content{Version: b.Version, Bundle: data, ReceivedAt: a.cfg.Now()})
}

// notify wakes every event stream: something the screen shows changed.
func (a *Agent) notify() {
	a.mu.Lock()
	close(a.changed)
	a.changed = make(chan struct{})
	a.mu.Unlock()
}

// SetMaintenance switches the out-of-service screen on or off with the
// office's message. It survives restarts; switching it on ends the current
// taxpayer session.
func (a *Agent) SetMaintenance(ctx context.Context, on bool, message string) error {
	m := maintenance{On: on, Message: message}
	if !on {
		m.Message = ""
	}
	b, _ := json.Marshal(m)
	if err := a.store.SetState(ctx, "maintenance", string(b)); err != nil {
		return err
	}
	a.mu.Lock()
	a.maintenance = m
	if on {
		a.session = nil
	}
	a.mu.Unlock()
	a.log.Info("maintenance", "on", on)
	a.notify()
	return nil
}

// Reload asks every open screen to reload its page (ui-reload).
func (a *Agent) Reload() {
	a.mu.Lock()
	a.reloads++
	a.mu.Unlock()
	a.notify()
}

func (a *Agent) inMaintenance() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.maintenance.On
}

func (a *Agent) endSession() {
	a.mu.Lock()
	had := a.session != nil
	a.session = nil // drops every result of the visit
	a.mu.Unlock()
	if had {
		a.notify()
	}
}

// touchSession records activity of the page in the current session.
func (a *Agent) touchSession() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.session != nil {
		a.session.lastSeen = a.cfg.Now()
	}
}

// sessionReaper ends a session whose page went quiet for longer than the
// screen's own idle reset would allow: a taxpayer's results must not stay
// in memory because a page crashed in the middle of a visit.
func (a *Agent) sessionReaper(ctx context.Context) {
	limit := a.cfg.Idle + a.cfg.Countdown + 30*time.Second
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.mu.Lock()
		expired := a.session != nil && a.cfg.Now().Sub(a.session.lastSeen) > limit
		a.mu.Unlock()
		if expired {
			a.log.Info("session expired without a reset from the page")
			a.endSession()
		}
	}
}

// setFault raises a local fault once; clearFault clears it once.
func (a *Agent) setFault(code string) { a.raiseFault(code, "") }

// raiseFault raises a fault with a severity other than its usual one
// (DESIGN 4.3: ui.crashed becomes critical after 3 in 10 minutes); "" is
// the usual one. A raised fault is raised again only to escalate it to
// critical, so the hub's projection and incidents see the new severity.
func (a *Agent) raiseFault(code, severity string) {
	if severity == "" {
		severity = kiosk.Severity[code]
	}
	a.mu.Lock()
	_, had := a.faults[code]
	escalate := had && severity == "critical" && a.faultSev[code] != "critical"
	if !had {
		a.faults[code] = a.cfg.Now()
	}
	if !had || escalate {
		a.faultSev[code] = severity
	}
	a.mu.Unlock()
	if escalate {
		a.log.Warn("fault escalated", "code", code, "severity", severity)
		a.faultEventSev(code, severity, true, time.Time{})
		return
	}
	if !had {
		a.log.Warn("fault raised", "code", code, "severity", severity)
		a.faultEventSev(code, severity, true, time.Time{})
		if code == faultDiskLow || code == faultDiskFull {
			select { // make room now, not at the next check
			case a.compactKick <- struct{}{}:
			default:
			}
		}
		if a.cfg.OnFault != nil {
			a.cfg.OnFault(code, true)
		}
		a.notify()
	}
}

func (a *Agent) clearFault(code string) {
	a.mu.Lock()
	since, had := a.faults[code]
	sev := a.faultSev[code]
	delete(a.faults, code)
	delete(a.faultSev, code)
	a.mu.Unlock()
	if had {
		a.log.Info("fault cleared", "code", code)
		a.faultEventSev(code, sev, false, since)
		if a.cfg.OnFault != nil {
			a.cfg.OnFault(code, false)
		}
		a.notify()
	}
}

func (a *Agent) faultList() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	list := []string{}
	for c := range a.faults {
		list = append(list, c)
	}
	slices.Sort(list)
	return list
}

// contentSync asks the hub for newer pages at start, after every
// reconnect and every ContentRefresh; the kiosk keeps what it has when the
// hub cannot be reached.
func (a *Agent) contentSync(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var last time.Time
	wasUp := false
	lastErr := ""
	for {
		up := a.nc.IsConnected()
		if up && (!wasUp || time.Since(last) >= a.cfg.ContentRefresh) {
			last = time.Now()
			err := a.fetchContent(ctx)
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			if msg != lastErr && msg != "" {
				a.log.Warn("content not updated; keeping the pages of version", "version", a.contentVersion(), "err", err)
			}
			lastErr = msg
		}
		wasUp = up
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *Agent) contentVersion() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.content.Version
}

func (a *Agent) fetchContent(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	reply, err := natsbus.FetchContent(cctx, a.nc, a.cfg.ID, kiosk.ContentRequest{Office: a.cfg.Office, Have: a.contentVersion()})
	if err != nil || reply.Unchanged {
		return err
	}
	if err := a.storeContent(ctx, *reply.Bundle); err != nil {
		return err
	}
	a.mu.Lock()
	a.content = *reply.Bundle
	a.mu.Unlock()
	a.log.Info("content updated", "version", reply.Bundle.Version, "updated", reply.Bundle.Updated)
	a.notify()
	return nil
}

// screenKey is the part of the status the screen shows; an event stream
// sends a status event only when it changes, not every second.
func screenKey(st kiosk.Status) []byte {
	b, _ := json.Marshal(struct {
		Mode    string
		Printer kiosk.PrinterStatus
		Bus     bool
		Faults  []string
		Store   bool
		UI      bool
	}{st.Mode, st.Printer, st.Bus.Connected, st.Faults, st.Store.OK, st.UI.Running})
	return b
}

// events streams screen events until ctx is done (ui.Screen.Events).
func (a *Agent) events(ctx context.Context) <-chan ui.Event {
	ch := make(chan ui.Event, 4)
	go func() {
		defer close(ch)
		send := func(name string, data any) bool {
			select {
			case ch <- ui.Event{Name: name, Data: data}:
				return true
			case <-ctx.Done():
				return false
			}
		}
		var lastKey []byte
		var lastMaint maintenance
		lastContent, lastReloads, first := 0, 0, true
		t := time.NewTicker(time.Second) // the bus state has no change hook
		defer t.Stop()
		for {
			a.mu.Lock()
			changed, m, cv, rl := a.changed, a.maintenance, a.content.Version, a.reloads
			a.mu.Unlock()
			st := a.status(ctx)
			if key := screenKey(st); first || !bytes.Equal(key, lastKey) {
				if !send("status", st) {
					return
				}
				lastKey = key
			}
			if first || m != lastMaint {
				if !send("maintenance", ui.Maintenance{On: m.On, Message: m.Message}) {
					return
				}
				lastMaint = m
			}
			if !first && cv != lastContent && !send("content", cv) {
				return
			}
			if !first && rl != lastReloads && !send("reload", nil) {
				return
			}
			lastContent, lastReloads, first = cv, rl, false
			select {
			case <-ctx.Done():
				return
			case <-changed:
			case <-t.C:
			}
		}
	}()
	return ch
}

func (b backend) UIConfig() ui.UIConfig {
	c := b.a.cfg
	return ui.UIConfig{
		Kiosk: c.ID, Office: c.Office,
		IdleS: int(c.Idle / time.Second), CountdownS: int(c.Countdown / time.Second),
		PingS: 5, ClientTimeoutS: int((c.LookupTimeout + 5*time.Second) / time.Second),
		RequireRangka5: c.RequireRangka5, Region: "BA",
	}
}

func (b backend) Content(ctx context.Context, lang string) (kiosk.LocalContent, error) {
	b.a.mu.Lock()
	defer b.a.mu.Unlock()
	return b.a.content.Local(lang), nil
}

func (b backend) Events(ctx context.Context) <-chan ui.Event { return b.a.events(ctx) }

func (b backend) Print(ctx context.Context, p string) (string, *kiosk.Error) {
	return b.a.print(ctx, p)
}

func (b backend) PrintJob(ctx context.Context, id string) (ui.PrintJob, bool) {
	return b.a.printJob(id)
}
