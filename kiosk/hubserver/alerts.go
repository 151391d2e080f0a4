package hubserver

import (
	"context"
	"fmt"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub/alert"
)

// Alert delivery (DESIGN 7): the decider queues alerts as HUB_EVENTS
// (alert.queued); the sender (sync/hub/alert) delivers each to the targets
// the routing file gives for its office, retrying with backoff; each
// attempt goes to the local delivery log, and the outcome per target is an
// alert.delivered event, so a restarted or rebuilt hub knows what was sent
// and sends nothing twice.

// startAlerts loads the routing file and starts the sender; without a
// file alerts are off (incidents are still opened, nobody is told).
func (h *Hub) startAlerts(ctx context.Context) error {
	if h.cfg.Alerts == "" {
		h.log.Warn("alerts are off: no --alerts routing file; incidents are only shown on the dashboard")
		return nil
	}
	cfg, err := alert.LoadConfig(h.cfg.Alerts)
	if err != nil {
		return fmt.Errorf("%w: --alerts: %w", ErrConfig, err)
	}
	s := &alert.Sender{
		Config:  cfg,
		Pending: func(ctx context.Context) ([]alert.Pending, error) { return h.pendingAlerts(ctx, cfg) },
		Record:  h.recordAttempt,
		Poll:    30 * time.Second,
		Now:     h.cfg.Now,
		Log:     h.log.With("part", "alerts"),
	}
	h.alerter = s
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		if err := s.Run(ctx); err != nil {
			h.log.Error("alert sender stopped", "err", err)
		}
	}()
	return nil
}

// pendingAlerts lists the (alert, target) pairs of the last GiveUpAfter
// and a day that are not done, with the attempts logged so far.
func (h *Hub) pendingAlerts(ctx context.Context, cfg alert.Config) ([]alert.Pending, error) {
	as, err := h.store.RecentAlerts(ctx, h.cfg.Now().Add(-alert.GiveUpAfter-24*time.Hour))
	if err != nil {
		return nil, err
	}
	var out []alert.Pending
	for _, a := range as {
		done, err := h.store.AlertTargets(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		for _, t := range cfg.Targets(a.Office) {
			d := done[t.ID()]
			if d.Done {
				continue
			}
			out = append(out, alert.Pending{Alert: a, Target: t, Attempts: d.Attempts, Last: d.Last})
		}
	}
	return out, nil
}

func (h *Hub) recordAttempt(ctx context.Context, alertID string, a alert.Attempt, done, failed bool) error {
	detail := a.Status
	if a.Err != "" {
		detail = a.Err
	}
	if err := h.store.LogAttempt(ctx, alertID, a.Target.ID(), a.At, a.OK, detail); err != nil {
		return err
	}
	h.log.Info("alert delivery", "alert", alertID, "target", a.Target.String(), "ok", a.OK, "detail", detail)
	if !done && !failed {
		return nil
	}
	ts, err := h.store.AlertTargets(ctx, alertID)
	if err != nil {
		return err
	}
	d := hub.DeliveredData{Target: a.Target.ID(), OK: done, Attempts: ts[a.Target.ID()].Attempts, Error: a.Err}
	e := hub.NewHubEvent(hub.HEAlertDelivered, hub.ByHub, a.At, d)
	e.ID, e.Target = hub.DecisionID("delivered", alertID, a.Target.ID()), alertID
	return h.pub.Do(ctx, e)
}
