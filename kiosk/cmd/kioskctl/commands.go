package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
)

// The kiosk commands (DESIGN 4.5): a request on kiosk.<id>.cmd.<verb> to
// the kiosk's micro service "kiosk", answered by the kiosk itself.

// printReply shows a command's reply as key/value lines.
func (c *cli) printReply(m cmd, what string, rep kiosk.CommandReply) {
	id := rep.CmdID
	if id == "" {
		id = m.id
	}
	kv(c.stdout, "kiosk", m.kiosk, "command", what, "cmd id", id, "outcome", c.paint(outcomeColour(rep.Outcome), rep.Outcome))
	if rep.Reason != "" {
		kv(c.stdout, "reason", rep.Reason)
	}
}

// outcomeErr maps a reply's outcome to the exit code: rejected is 4,
// done, accepted and deferred are 0 (the output says which).
func outcomeErr(rep kiosk.CommandReply) error {
	switch rep.Outcome {
	case kiosk.OutcomeDone, kiosk.OutcomeAccepted, kiosk.OutcomeDeferred:
		return nil
	case kiosk.OutcomeRejected:
		return &failure{code: exitRejected}
	}
	return fail(exitError, "unknown outcome %q in the kiosk's reply", rep.Outcome)
}

// simple sends a command whose reply is all there is to it.
func (c *cli) simple(ctx context.Context, k *conn, id, verb, what string, body any) error {
	m, err := c.newCmd(id, verb, body)
	if err != nil {
		return err
	}
	rep, _, err := c.send(ctx, k, m)
	if err != nil {
		return err
	}
	if c.o.json {
		if err := c.writeJSON(rep); err != nil {
			return err
		}
	} else {
		c.printReply(m, what, rep)
	}
	return outcomeErr(rep)
}

func (c *cli) printTest(ctx context.Context, k *conn, id string, force bool) error {
	what := "print-test"
	if force {
		what += " --force"
	}
	return c.simple(ctx, k, id, kiosk.VerbPrintTest, what, kiosk.PrintTestRequest{Force: force})
}

func (c *cli) maintenance(ctx context.Context, k *conn, id string, on bool, message string) error {
	what := "maintenance off"
	if on {
		what = "maintenance on"
		if message != "" {
			what += fmt.Sprintf(" --message %q", message)
		}
	}
	return c.simple(ctx, k, id, kiosk.VerbMaintenance, what, kiosk.MaintenanceRequest{On: on, Message: message})
}

func (c *cli) status(ctx context.Context, k *conn, id string) error {
	m, err := c.newCmd(id, kiosk.VerbStatus, nil)
	if err != nil {
		return err
	}
	rep, _, err := c.send(ctx, k, m)
	if err != nil {
		return err
	}
	if rep.Outcome != kiosk.OutcomeDone || rep.Status == nil {
		if c.o.json {
			c.writeJSON(rep)
		} else {
			c.printReply(m, "status", rep)
		}
		if err := outcomeErr(rep); err != nil {
			return err
		}
		return fail(exitError, "kiosk %s replied %s without a status", id, rep.Outcome)
	}
	if c.o.json {
		return c.writeJSON(rep.Status)
	}
	c.printStatus(*rep.Status, rep.CmdID)
	return nil
}

// printStatus shows a status snapshot (DESIGN 4.4).
func (c *cli) printStatus(st kiosk.Status, cmdID string) {
	at := st.At
	if t, err := time.Parse(time.RFC3339, st.At); err == nil {
		at = t.In(c.tz).Format("2006-01-02 15:04:05 MST") + " (kiosk clock)"
	}
	p := st.Printer
	printer := "none configured"
	switch {
	case p.Connected:
		var parts []string
		if !p.Online {
			parts = append(parts, "offline")
		} else {
			parts = append(parts, "online")
		}
		parts = append(parts, "paper "+orDash(p.Paper))
		if p.CoverOpen {
			parts = append(parts, "cover open")
		}
		if p.Error != "" {
			parts = append(parts, "error "+p.Error)
		}
		model := orDash(p.Model)
		printer = fmt.Sprintf("%s over %s, %d columns: %s", model, orDash(p.Transport), p.Columns, strings.Join(parts, ", "))
	case p.Transport != "" && p.Transport != "none":
		printer = "not connected (" + p.Transport + ")"
	}
	disk := "unknown"
	if st.Disk.TotalBytes > 0 {
		disk = fmt.Sprintf("%s free of %s", kiosk.FormatBytes(st.Disk.FreeBytes), kiosk.FormatBytes(st.Disk.TotalBytes))
	}
	bus := "disconnected"
	if st.Bus.Connected {
		bus = "connected"
	}
	bus += fmt.Sprintf(", %d events waiting in the outbox", st.Bus.OutboxPending)
	faults := "none"
	if len(st.Faults) > 0 {
		fs := make([]string, len(st.Faults))
		for i, f := range st.Faults {
			sev := kiosk.Severity[f]
			fs[i] = c.paint(severityColour(sev), f) + " (" + orDash(sev) + ")"
		}
		faults = strings.Join(fs, ", ")
	}
	ui := "not running"
	if st.UI.Running {
		ui = "running"
	}
	if st.UI.LastPingS != nil {
		ui += fmt.Sprintf(", last ping %s ago", short(time.Duration(*st.UI.LastPingS)*time.Second))
	} else {
		ui += ", no ping yet"
	}
	store := "ok"
	if !st.Store.OK {
		store = "NOT OK: " + st.Store.Detail
	}
	kv(c.stdout,
		"kiosk", st.Kiosk+" (office "+st.Office+")",
		"version", st.Version,
		"mode", st.Mode,
		"at", at,
		"up", (time.Duration(st.UpS) * time.Second).String(),
		"heartbeat", fmt.Sprintf("every %ds", st.HBIntervalS),
		"printer", printer,
		"paper", orDash(p.Paper),
		"disk", disk,
		"power", orDash(st.Power.Source),
		"bus", bus,
		"faults", faults,
		"ui", ui,
		"store", store,
		"boot", orDash(st.Boot),
		"epoch", orDash(st.Epoch),
		"cmd id", cmdID,
	)
}

func (c *cli) diag(ctx context.Context, k *conn, id, out string) error {
	m, err := c.newCmd(id, kiosk.VerbDiag, nil)
	if err != nil {
		return err
	}
	rep, _, err := c.send(ctx, k, m)
	if err != nil {
		return err
	}
	if rep.Outcome != kiosk.OutcomeDone || len(rep.Diag) == 0 {
		if c.o.json {
			c.writeJSON(rep)
		} else {
			c.printReply(m, "diag", rep)
		}
		if err := outcomeErr(rep); err != nil {
			return err
		}
		return fail(exitError, "kiosk %s replied %s without a bundle (a repeated --cmd-id gets no bundle again)", id, rep.Outcome)
	}
	var bundle bytes.Buffer
	if err := json.Indent(&bundle, rep.Diag, "", "  "); err != nil {
		return fail(exitError, "kiosk %s sent a diag bundle that is not JSON: %v", id, err)
	}
	bundle.WriteByte('\n')
	if out == "" {
		_, err := c.stdout.Write(bundle.Bytes())
		return err
	}
	// The bundle has no secrets and no personal data (DESIGN 4.5), but it
	// is a kiosk's inside view: readable by its owner only.
	if err := os.WriteFile(out, bundle.Bytes(), 0o600); err != nil {
		return fail(exitError, "diag: %v", err)
	}
	if c.o.json {
		rep.Diag = nil
		return c.writeJSON(struct {
			kiosk.CommandReply
			Out   string `json:"out"`
			Bytes int    `json:"bytes"`
		}{rep, out, bundle.Len()})
	}
	c.printReply(m, "diag", rep)
	kv(c.stdout, "written", fmt.Sprintf("%s (%d bytes)", out, bundle.Len()))
	return nil
}
