package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Human output: aligned tables and key/value blocks, times in the
// display zone (WIB by default) with their age, ANSI colours only on a
// terminal without NO_COLOR.

// SGR colours, two digits each: every painted cell grows by the same 9
// bytes, so tabwriter's column widths stay right when a whole column is
// painted (plain cells use "39", the default colour).
const (
	sgrRed     = "31"
	sgrGreen   = "32"
	sgrYellow  = "33"
	sgrDefault = "39"
)

// paint wraps s in colour sgr when colours are on.
func (c *cli) paint(sgr, s string) string {
	if !c.color {
		return s
	}
	return "\x1b[" + sgr + "m" + s + "\x1b[0m"
}

func presenceColour(p string) string {
	switch p {
	case "online":
		return sgrGreen
	case "late":
		return sgrYellow
	case "offline":
		return sgrRed
	}
	return sgrDefault
}

func severityColour(s string) string {
	switch s {
	case "critical":
		return sgrRed
	case "warning":
		return sgrYellow
	}
	return sgrDefault
}

func outcomeColour(o string) string {
	switch o {
	case "done":
		return sgrGreen
	case "accepted", "deferred":
		return sgrYellow
	case "rejected", "failed", "expired":
		return sgrRed
	}
	return sgrDefault
}

// table writes rows with aligned columns.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// kv writes "key   value" lines with the values aligned at one column,
// also across separate calls (the result of --wait comes later).
func kv(w io.Writer, pairs ...string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		fmt.Fprintf(w, "%-10s %s\n", pairs[i], pairs[i+1])
	}
}

// zone is the display zone's abbreviation now, e.g. WIB.
func (c *cli) zone() string { return c.now().In(c.tz).Format("MST") }

// when shows t in the display zone: the time of day when it is today
// there, else the date too.
func (c *cli) when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	t = t.In(c.tz)
	if t.Format(time.DateOnly) == c.now().In(c.tz).Format(time.DateOnly) {
		return t.Format(time.TimeOnly)
	}
	return t.Format("2006-01-02 15:04")
}

// ago is the age of t, e.g. "12s ago", "5m ago", "3h10m ago", "2d4h ago".
func (c *cli) ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := c.now().Sub(t)
	if d < 0 {
		return "in " + short(-d)
	}
	if d < time.Second {
		return "just now"
	}
	return short(d) + " ago"
}

// short rounds d to a compact form.
func short(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	default:
		days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
		if h == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, h)
	}
}

// writeJSON prints v as indented JSON.
func (c *cli) writeJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.stdout, "%s\n", b)
	return err
}
