package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// ls and faults ask the hub's service "hub" (hub.fleet, hub.faults): what
// the hub knows from heartbeats and events, also about kiosks that are
// offline now.

func (c *cli) ls(ctx context.Context, k *conn, office string) error {
	rctx, cancel := context.WithTimeout(ctx, c.o.timeout)
	defer cancel()
	fleet, err := hubapi.FetchFleet(rctx, k.nc, office)
	if err != nil {
		return c.hubErr("hub.fleet", err)
	}
	if c.o.json {
		out := make([]hubapi.FleetKiosk, 0, len(fleet))
		for _, f := range fleet {
			if !f.LastSeen.IsZero() {
				f.LastSeen = f.LastSeen.In(c.tz)
			}
			out = append(out, f)
		}
		return c.writeJSON(out)
	}
	if len(fleet) == 0 {
		if office != "" {
			fmt.Fprintf(c.stdout, "the hub knows no kiosk of office %s\n", office)
		} else {
			fmt.Fprintln(c.stdout, "the hub knows no kiosk yet")
		}
		return nil
	}
	rows := make([][]string, 0, len(fleet))
	count := map[hubapi.Presence]int{}
	for _, f := range fleet {
		count[f.Presence]++
		seen := "never"
		if !f.LastSeen.IsZero() {
			seen = c.when(f.LastSeen) + " (" + c.ago(f.LastSeen) + ")"
		}
		rows = append(rows, []string{
			f.Kiosk, f.Office, c.paint(presenceColour(string(f.Presence)), string(f.Presence)), seen,
			orDash(f.Mode), printerShort(f.Printer), orDash(f.Printer.Paper),
			strconv.FormatInt(f.Bus.OutboxPending, 10), orDash(f.Version), c.faultList(f.Faults),
		})
	}
	header := []string{"KIOSK", "OFFICE", c.paint(sgrDefault, "PRESENCE"), "LAST SEEN (" + c.zone() + ")",
		"MODE", "PRINTER", "PAPER", "OUTBOX", "VERSION", "FAULTS"}
	if err := table(c.stdout, header, rows); err != nil {
		return err
	}
	var parts []string
	for _, p := range []hubapi.Presence{hubapi.Online, hubapi.Late, hubapi.Offline, hubapi.Unknown} {
		if count[p] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[p], p))
		}
	}
	_, err = fmt.Fprintf(c.stdout, "%s: %s\n", plural(len(fleet), "kiosk"), strings.Join(parts, ", "))
	return err
}

// faultJSON is one fault in faults --json (DESIGN 9).
type faultJSON struct {
	Kiosk    string    `json:"kiosk"`
	Office   string    `json:"office"`
	Code     string    `json:"code"`
	Severity string    `json:"severity"`
	Since    time.Time `json:"since"`
	Detail   string    `json:"detail"`
}

func (c *cli) faults(ctx context.Context, k *conn, office string) error {
	var rep hubapi.FaultsReply
	if err := c.hubRequest(ctx, k, "hub.faults", hubapi.FaultsRequest{Office: office}, &rep); err != nil {
		return err
	}
	if rep.Error != nil {
		return fail(exitError, "hub.faults: %s: %s", rep.Error.Code, rep.Error.Message)
	}
	if c.o.json {
		out := make([]faultJSON, 0, len(rep.Faults))
		for _, f := range rep.Faults {
			out = append(out, faultJSON{Kiosk: f.Kiosk, Office: f.Office, Code: f.Code, Severity: f.Severity,
				Since: f.Since.In(c.tz), Detail: f.Detail})
		}
		return c.writeJSON(out)
	}
	if len(rep.Faults) == 0 {
		if office != "" {
			fmt.Fprintf(c.stdout, "no active faults in office %s\n", office)
		} else {
			fmt.Fprintln(c.stdout, "no active faults")
		}
		return nil
	}
	rows := make([][]string, 0, len(rep.Faults))
	count := map[string]int{}
	for _, f := range rep.Faults {
		count[f.Severity]++
		since := "unknown"
		if !f.Since.IsZero() {
			since = c.when(f.Since) + " (" + c.ago(f.Since) + ")"
		}
		rows = append(rows, []string{f.Kiosk, f.Office, f.Code, c.paint(severityColour(f.Severity), f.Severity), since, orDash(f.Detail)})
	}
	header := []string{"KIOSK", "OFFICE", "CODE", c.paint(sgrDefault, "SEVERITY"), "SINCE (" + c.zone() + ")", "DETAIL"}
	if err := table(c.stdout, header, rows); err != nil {
		return err
	}
	var parts []string
	for _, s := range []string{"critical", "warning"} {
		if count[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[s], s))
		}
	}
	_, err := fmt.Fprintf(c.stdout, "%s: %s\n", plural(len(rep.Faults), "fault"), strings.Join(parts, ", "))
	return err
}

// faultList shows fault codes, each in its severity's colour.
func (c *cli) faultList(codes []string) string {
	if len(codes) == 0 {
		return "-"
	}
	out := make([]string, len(codes))
	for i, code := range codes {
		out[i] = c.paint(severityColour(kiosk.Severity[code]), code)
	}
	return strings.Join(out, ",")
}

// printerShort is the printer in one word for ls.
func printerShort(p kiosk.PrinterStatus) string {
	switch {
	case !p.Connected && (p.Transport == "" || p.Transport == "none"):
		return "none"
	case !p.Connected:
		return "missing"
	case p.CoverOpen:
		return "cover-open"
	case p.Error != "":
		return "error"
	case !p.Online:
		return "offline"
	}
	return "ok"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
