package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestAgo(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	c := &cli{now: func() time.Time { return now }, tz: time.FixedZone("WIB", 7*3600)}
	for _, tt := range []struct {
		ago  time.Duration
		want string
	}{
		{0, "just now"},
		{999 * time.Millisecond, "just now"},
		{12 * time.Second, "12s ago"},
		{59*time.Second + 999*time.Millisecond, "59s ago"},
		{5*time.Minute + 30*time.Second, "5m ago"},
		{3 * time.Hour, "3h ago"},
		{3*time.Hour + 10*time.Minute, "3h10m ago"},
		{50 * time.Hour, "2d2h ago"},
		{48 * time.Hour, "2d ago"},
		{-5 * time.Second, "in 5s"},
	} {
		if got := c.ago(now.Add(-tt.ago)); got != tt.want {
			t.Errorf("ago(now - %v) = %q, want %q", tt.ago, got, tt.want)
		}
	}
	if got := c.ago(time.Time{}); got != "never" {
		t.Errorf("ago(zero) = %q", got)
	}
	// Today in WIB shows the time of day; yesterday the date too.
	if got := c.when(now.Add(-time.Hour)); got != "16:00:00" {
		t.Errorf("when(an hour ago) = %q", got)
	}
	if got := c.when(now.Add(-18 * time.Hour)); got != "2026-11-22 23:00" {
		t.Errorf("when(yesterday) = %q", got)
	}
}

// TestColourTable: with colours on, a painted column stays aligned once
// the escape sequences are taken away, and colours are off unless stdout
// is a terminal.
func TestColourTable(t *testing.T) {
	c := &cli{color: true}
	var b bytes.Buffer
	rows := [][]string{
		{"padang-01", c.paint(presenceColour("online"), "online"), "x"},
		{"padang-02", c.paint(presenceColour("offline"), "offline"), "y"},
		{"solok-001", c.paint(presenceColour("unknown"), "unknown"), "z"},
	}
	if err := table(&b, []string{"KIOSK", c.paint(sgrDefault, "PRESENCE"), "FAULTS"}, rows); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "\x1b[32monline\x1b[0m") || !strings.Contains(b.String(), "\x1b[31moffline\x1b[0m") {
		t.Errorf("no colours in %q", b.String())
	}
	plain := regexp.MustCompile("\x1b\\[[0-9]+m").ReplaceAllString(b.String(), "")
	want := "KIOSK      PRESENCE  FAULTS\npadang-01  online    x\npadang-02  offline   y\nsolok-001  unknown   z\n"
	if plain != want {
		t.Errorf("without escapes:\n%s\nwant\n%s", plain, want)
	}
	if isTerminal(&b) {
		t.Error("a buffer is not a terminal")
	}
}
