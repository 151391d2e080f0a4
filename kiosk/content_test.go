package kiosk

import (
	"strings"
	"testing"
)

func TestDefaultContent(t *testing.T) {
	b := DefaultContent()
	for _, id := range []string{PageHelp, PageAnnual, PageRenewal, PagePayment, PageHours} {
		found := false
		for _, p := range b.Pages {
			if p.ID == id {
				found = true
				if p.Title["en"] == "" || len(p.Blocks["en"]) == 0 {
					t.Errorf("default page %q has no English", id)
				}
			}
		}
		if !found {
			t.Errorf("default content lacks page %q", id)
		}
	}
}

func TestParseContentRejects(t *testing.T) {
	for _, tt := range []struct{ name, json, want string }{
		{"not json", `{`, "content bundle"},
		{"unknown field", `{"version":1,"updated":"2026-01-01","pages":[],"extra":1}`, "unknown field"},
		{"version 0", `{"version":0,"updated":"2026-01-01","pages":[{"id":"a","title":{"id":"A"},"blocks":{"id":[{"p":"x"}]}}]}`, "version 0"},
		{"bad date", `{"version":1,"updated":"23-11-2026","pages":[{"id":"a","title":{"id":"A"},"blocks":{"id":[{"p":"x"}]}}]}`, "YYYY-MM-DD"},
		{"no pages", `{"version":1,"updated":"2026-01-01","pages":[]}`, "0 pages"},
		{"no indonesian", `{"version":1,"updated":"2026-01-01","pages":[{"id":"a","title":{"en":"A"},"blocks":{"en":[{"p":"x"}]}}]}`, "Indonesian"},
		{"bad id", `{"version":1,"updated":"2026-01-01","pages":[{"id":"A B","title":{"id":"A"},"blocks":{"id":[{"p":"x"}]}}]}`, "id must be"},
		{"duplicate", `{"version":1,"updated":"2026-01-01","pages":[{"id":"a","title":{"id":"A"},"blocks":{"id":[{"p":"x"}]}},{"id":"a","title":{"id":"A"},"blocks":{"id":[{"p":"x"}]}}]}`, "duplicate"},
		{"two kinds in a block", `{"version":1,"updated":"2026-01-01","pages":[{"id":"a","title":{"id":"A"},"blocks":{"id":[{"p":"x","h":"y"}]}}]}`, "exactly one"},
		{"unknown language", `{"version":1,"updated":"2026-01-01","pages":[{"id":"a","title":{"id":"A","fr":"B"},"blocks":{"id":[{"p":"x"}]}}]}`, "unknown language"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseContent([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseContent = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestLocalFallsBackToIndonesian(t *testing.T) {
	b, err := ParseContent([]byte(`{"version":2,"updated":"2026-01-01","pages":[{"id":"a","title":{"id":"Judul"},"blocks":{"id":[{"p":"isi"}]}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	l := b.Local("en")
	if l.Lang != "en" || l.Pages[0].Title != "Judul" || l.Pages[0].Blocks[0].P != "isi" {
		t.Errorf("Local(en) = %+v; want the Indonesian page where English is missing", l)
	}
	if l := b.Local("xx"); l.Lang != "id" {
		t.Errorf("Local(xx).Lang = %q, want id", l.Lang)
	}
}

func TestEventSubjectAndSeverities(t *testing.T) {
	if got := EventSubject("padang-01", EventFaultRaised); got != "kiosk.padang-01.evt.fault.raised" {
		t.Errorf("EventSubject = %q", got)
	}
	// Every fault code of DESIGN 4.3 has a severity.
	for _, c := range []string{"printer.paper_near_end", "printer.paper_out", "printer.cover_open", "printer.offline",
		"printer.error", "printer.missing", "ui.crashed", "ui.unresponsive", "security.lookup_burst",
		"power.unclean_shutdown", "power.on_battery", "power.battery_low", "disk.low", "disk.full",
		"store.incompatible", "lookup.unreachable", "clock.skew"} {
		if s := Severity[c]; s != "warning" && s != "critical" {
			t.Errorf("severity of %s = %q", c, s)
		}
	}
}
