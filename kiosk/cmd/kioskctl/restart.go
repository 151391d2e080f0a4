package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
)

// Margins of restart --wait beyond the command's expiry: a deferred
// restart is reported expired by the kiosk within a second of its expiry
// and its outbox sends the event soon after; a host reboot is confirmed
// only when the PC is back up and kioskd reconnected (BIOS, disk check,
// boot: minutes).
const (
	waitMargin     = 30 * time.Second
	hostBootMargin = 5 * time.Minute
)

// replyResult is restart --json --wait: the reply and, once it came, the
// command.result.
type replyResult struct {
	kiosk.CommandReply
	Result *kiosk.CommandResult `json:"result,omitempty"`
}

func (c *cli) restart(ctx context.Context, k *conn, id string, co cmdOptions) error {
	m, err := c.newCmd(id, kiosk.VerbRestart, kiosk.RestartRequest{Level: co.level, Force: co.force, Reason: co.reason})
	if err != nil {
		return err
	}
	what := "restart --level " + co.level
	if co.force {
		what += " --force"
	}
	var w *waiter
	if co.wait {
		// Subscribed before the command goes out, so no result is missed.
		if w, err = c.follow(k, id, m.id, co.level == kiosk.RestartHost); err != nil {
			return err
		}
		defer w.stop()
	}
	rep, _, err := c.send(ctx, k, m)
	if err != nil {
		return err
	}
	waiting := co.wait && (rep.Outcome == kiosk.OutcomeAccepted || rep.Outcome == kiosk.OutcomeDeferred)
	switch {
	case !c.o.json:
		c.printReply(m, what, rep)
	case !waiting:
		if err := c.writeJSON(rep); err != nil {
			return err
		}
	}
	if !waiting {
		return outcomeErr(rep)
	}

	limit := co.waitTimeout
	if limit == 0 {
		limit = c.o.expires + waitMargin
		if co.level == kiosk.RestartHost {
			limit += hostBootMargin
		}
	}
	fmt.Fprintf(c.stderr, "kioskctl: waiting for the result of cmd %s, at most %v (Ctrl-C stops waiting, not the command)\n", m.id, limit)
	res, err := w.wait(ctx, limit)
	if err != nil {
		if c.o.json {
			c.writeJSON(rep)
		}
		return err
	}
	if c.o.json {
		if err := c.writeJSON(replyResult{rep, &res}); err != nil {
			return err
		}
	} else {
		result := c.paint(outcomeColour(res.Outcome), res.Outcome)
		if res.Detail != "" {
			result += ": " + res.Detail
		}
		kv(c.stdout, "result", result)
	}
	switch res.Outcome {
	case kiosk.OutcomeDone:
		return nil
	case kiosk.OutcomeFailed:
		return &failure{code: exitError}
	case kiosk.OutcomeExpired:
		return &failure{code: exitRejected}
	}
	return fail(exitError, "unknown outcome %q in command.result", res.Outcome)
}

// waiter follows a kiosk's events for the result of one command.
type waiter struct {
	kiosk, cmdID string
	by           string // Kiosk-Requested-By, for a result made up from lifecycle.boot
	ch           chan *nats.Msg
	subs         []*nats.Subscription
}

// follow subscribes to kiosk id's command.result events (and, for a host
// reboot, lifecycle.boot) and makes sure the server has the subscriptions
// before it returns.
func (c *cli) follow(k *conn, id, cmdID string, host bool) (*waiter, error) {
	w := &waiter{kiosk: id, cmdID: cmdID, by: c.o.as, ch: make(chan *nats.Msg, 256)}
	subjects := []string{kiosk.EventSubject(id, kiosk.EventCommand)}
	if host {
		subjects = append(subjects, kiosk.EventSubject(id, kiosk.EventBoot))
	}
	for _, s := range subjects {
		sub, err := k.nc.ChanSubscribe(s, w.ch)
		if err != nil {
			w.stop()
			return nil, fail(exitError, "subscribe %s: %v", s, err)
		}
		w.subs = append(w.subs, sub)
	}
	if err := k.nc.FlushTimeout(c.o.timeout); err != nil {
		w.stop()
		return nil, fail(exitError, "subscribe to the events of %s: %v", id, err)
	}
	return w, nil
}

func (w *waiter) stop() {
	for _, s := range w.subs {
		s.Unsubscribe()
	}
}

// wait returns the command's result: its command.result event, or a
// lifecycle.boot carrying its id (a host reboot that happened).
func (w *waiter) wait(ctx context.Context, limit time.Duration) (kiosk.CommandResult, error) {
	t := time.NewTimer(limit)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return kiosk.CommandResult{}, fail(exitError, "stopped waiting for the result of cmd %s; the command goes on", w.cmdID)
		case <-t.C:
			return kiosk.CommandResult{}, fail(exitError, "timeout: no result of cmd %s from kiosk %s within %v; "+
				"it may still come, and the hub records it (nats req hub.kiosk '{\"kiosk\":\"%s\"}')", w.cmdID, w.kiosk, limit, w.kiosk)
		case m := <-w.ch:
			var ev kiosk.Event
			if json.Unmarshal(m.Data, &ev) != nil {
				continue
			}
			switch ev.Type {
			case kiosk.EventCommand:
				var r kiosk.CommandResult
				if json.Unmarshal(ev.Data, &r) == nil && r.CmdID == w.cmdID {
					return r, nil
				}
			case kiosk.EventBoot:
				var b struct {
					CmdID string `json:"cmd_id"`
				}
				if json.Unmarshal(ev.Data, &b) == nil && b.CmdID == w.cmdID {
					return kiosk.CommandResult{CmdID: w.cmdID, Verb: kiosk.VerbRestart, Outcome: kiosk.OutcomeDone,
						Detail: "host rebooted: its lifecycle.boot carries this cmd id", RequestedBy: w.by}, nil
				}
			}
		}
	}
}
