package hub

import (
	"testing"
	"time"
)

var wib = time.FixedZone("WIB", 7*3600)

func testCalendar(t *testing.T) Calendar {
	t.Helper()
	// 2026-12-25 (Friday) is Christmas.
	c, err := ParseCalendar(DefaultHours, []string{"2026-12-25"}, wib)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wibAt(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, wib)
	if err != nil {
		panic(err)
	}
	return t
}

func TestCalendarDue(t *testing.T) {
	c := testCalendar(t)
	for _, tt := range []struct {
		from string
		d    time.Duration
		want string
	}{
		{"2026-11-23 10:00", 30 * time.Minute, "2026-11-23 10:30"}, // Monday, in hours
		{"2026-11-23 15:50", 30 * time.Minute, "2026-11-24 08:20"}, // runs over the evening
		{"2026-11-23 22:00", 30 * time.Minute, "2026-11-24 08:30"}, // raised at night: counted from the morning
		{"2026-11-28 11:00", 2 * time.Hour, "2026-11-30 09:00"},    // Saturday ends at 12:00, Sunday off
		{"2026-11-23 09:00", 8 * time.Hour, "2026-11-24 09:00"},    // one working day
		{"2026-12-24 15:00", 2 * time.Hour, "2026-12-26 09:00"},    // Christmas skipped, Saturday works
		{"2026-11-29 10:00", 0, "2026-11-30 08:00"},                // Sunday: due when work starts
	} {
		if got := c.Due(wibAt(tt.from), tt.d); !got.Equal(wibAt(tt.want)) {
			t.Errorf("Due(%s, %v) = %s, want %s", tt.from, tt.d, got.Format("Mon 2006-01-02 15:04"), tt.want)
		}
	}
}

func TestCalendarBetween(t *testing.T) {
	c := testCalendar(t)
	for _, tt := range []struct {
		a, b string
		want time.Duration
	}{
		{"2026-11-23 10:00", "2026-11-23 10:30", 30 * time.Minute},
		{"2026-11-23 15:00", "2026-11-24 09:00", 2 * time.Hour},
		{"2026-11-27 15:00", "2026-11-30 09:00", 6 * time.Hour},  // Fri 1 h + Sat 4 h + Mon 1 h
		{"2026-12-24 08:00", "2026-12-26 12:00", 12 * time.Hour}, // Christmas is free
		{"2026-11-24 09:00", "2026-11-23 09:00", 0},
	} {
		if got := c.Between(wibAt(tt.a), wibAt(tt.b)); got != tt.want {
			t.Errorf("Between(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	// Due and Between agree.
	for h := 0; h < 24*14; h += 5 {
		from := wibAt("2026-12-20 00:00").Add(time.Duration(h) * time.Hour)
		for _, d := range []time.Duration{time.Minute, 30 * time.Minute, 3 * time.Hour, 8 * time.Hour} {
			if got := c.Between(from, c.Due(from, d)); got != d {
				t.Fatalf("Between(t, Due(t, %v)) = %v from %s", d, got, from)
			}
		}
	}
}

func TestParseCalendarErrors(t *testing.T) {
	for _, hours := range []string{"", "monday 08:00-16:00", "mon-fri 8-16", "mon 16:00-08:00", "mon 08:00-12:00, 11:00-13:00", "mon"} {
		if _, err := ParseCalendar(hours, nil, wib); err == nil {
			t.Errorf("ParseCalendar(%q) accepted", hours)
		}
	}
	if _, err := ParseCalendar(DefaultHours, []string{"25-12-2026"}, wib); err == nil {
		t.Error("a holiday in the wrong format was accepted")
	}
	c, err := ParseCalendar("sat-mon 00:00-24:00", nil, wib)
	if err != nil || len(c.Week[time.Sunday]) != 1 || len(c.Week[time.Tuesday]) != 0 {
		t.Errorf("a day range over the week end: %v %+v", err, c.Week)
	}
}

func TestNextIncident(t *testing.T) {
	for _, tt := range []struct {
		cur  IncidentState
		move IncidentMove
		want IncidentState
		ok   bool
	}{
		{"", MoveOpen, IncidentOpen, true},
		{IncidentOpen, MoveAcknowledge, IncidentAcknowledged, true},
		{IncidentOpen, MoveAutoResolve, IncidentResolved, true},
		{IncidentOpen, MoveResolve, IncidentResolved, true},
		{IncidentAcknowledged, MoveResolve, IncidentResolved, true},
		{IncidentAcknowledged, MoveAutoResolve, IncidentResolved, true},
		{IncidentAcknowledged, MoveAcknowledge, IncidentAcknowledged, false},
		{IncidentResolved, MoveAcknowledge, IncidentResolved, false},
		{IncidentResolved, MoveResolve, IncidentResolved, false},
		{IncidentOpen, MoveOpen, IncidentOpen, false},
		{"", MoveAcknowledge, "", false},
	} {
		got, err := NextIncident(tt.cur, tt.move)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("NextIncident(%q, %s) = %q, %v; want %q, ok %v", tt.cur, tt.move, got, err, tt.want, tt.ok)
		}
	}
}

func TestIncidentTiming(t *testing.T) {
	c := testCalendar(t)
	crit := DefaultTargets["critical"]
	opened := wibAt("2026-11-23 15:45") // Monday, 15 min before closing
	var zero time.Time
	// Nobody acknowledged by Tuesday 08:20: overdue (due 08:15).
	tm := IncidentTiming(c, crit, opened, zero, zero, wibAt("2026-11-24 08:20"))
	if !tm.AckDue.Equal(wibAt("2026-11-24 08:15")) || !tm.AckOverdue || tm.ResolveOverdue {
		t.Errorf("open at Tue 08:20: %+v", tm)
	}
	// Acknowledged Tuesday 08:10 (within target), resolved Wednesday 10:00 (late: due Tue 15:45).
	tm = IncidentTiming(c, crit, opened, wibAt("2026-11-24 08:10"), wibAt("2026-11-25 10:00"), wibAt("2026-11-30 00:00"))
	if tm.AckOverdue || !tm.ResolveOverdue || tm.TimeToAck != 25*time.Minute || tm.TimeToResolve != 10*time.Hour+15*time.Minute {
		t.Errorf("acked and resolved: %+v", tm)
	}
	// Auto-resolved within minutes without an acknowledgement: both met.
	tm = IncidentTiming(c, crit, opened, zero, wibAt("2026-11-23 15:50"), wibAt("2026-11-30 00:00"))
	if tm.AckOverdue || tm.ResolveOverdue || tm.TimeToAck != 5*time.Minute {
		t.Errorf("auto-resolved: %+v", tm)
	}
}

// FuzzParseCalendar: any hours text is refused with an error or gives a
// calendar whose Due and Between agree.
func FuzzParseCalendar(f *testing.F) {
	f.Add(DefaultHours, "2026-12-25")
	f.Add("sat-mon 00:00-24:00", "")
	f.Fuzz(func(t *testing.T, hours, holiday string) {
		c, err := ParseCalendar(hours, []string{holiday}, wib)
		if err != nil {
			return
		}
		from := wibAt("2026-11-23 13:37")
		if got := c.Between(from, c.Due(from, 90*time.Minute)); got != 90*time.Minute {
			t.Fatalf("hours %q: Between(Due(90m)) = %v", hours, got)
		}
	})
}
