package hub

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Calendar is the offices' working time, for the incidents' response
// targets (issue 8: "acknowledge within 30 minutes, resolve within one
// working day", counted in working time, with public holidays). Targets
// are durations of working time; Due and Between convert them.
type Calendar struct {
	TZ       *time.Location
	Week     [7][]Span       // by time.Weekday; spans in order, not overlapping
	Holidays map[string]bool // "2006-01-02" in TZ: no working time
}

// Span is a stretch of a working day, as offsets from midnight.
type Span struct{ Start, End time.Duration }

// DefaultHours are the Samsat offices' service hours: Monday to Friday
// 08:00-16:00, Saturday 08:00-12:00 (WIB).
const DefaultHours = "mon-fri 08:00-16:00; sat 08:00-12:00"

// ParseCalendar reads working hours like DefaultHours ("day[-day]
// HH:MM-HH:MM[, HH:MM-HH:MM]" separated by ";") and holidays as
// YYYY-MM-DD dates, in tz.
func ParseCalendar(hours string, holidays []string, tz *time.Location) (Calendar, error) {
	c := Calendar{TZ: tz, Holidays: map[string]bool{}}
	days := map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
		"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}
	for _, part := range strings.Split(hours, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		dayRange, spans, ok := strings.Cut(part, " ")
		if !ok {
			return Calendar{}, fmt.Errorf("working hours %q: want \"mon-fri 08:00-16:00\"", part)
		}
		from, to, isRange := strings.Cut(dayRange, "-")
		d0, ok0 := days[strings.ToLower(from)]
		d1 := d0
		ok1 := true
		if isRange {
			d1, ok1 = days[strings.ToLower(to)]
		}
		if !ok0 || !ok1 {
			return Calendar{}, fmt.Errorf("working hours %q: unknown day in %q (mon, tue, wed, thu, fri, sat, sun)", part, dayRange)
		}
		for _, s := range strings.Split(spans, ",") {
			a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
			start, err1 := clock(a)
			end, err2 := clock(b)
			if !ok || err1 != nil || err2 != nil || end <= start {
				return Calendar{}, fmt.Errorf("working hours %q: span %q: want HH:MM-HH:MM, end after start", part, s)
			}
			for d := d0; ; d = (d + 1) % 7 {
				c.Week[d] = append(c.Week[d], Span{start, end})
				if d == d1 {
					break
				}
			}
		}
	}
	for d := range c.Week {
		slices.SortFunc(c.Week[d], func(x, y Span) int { return int(x.Start - y.Start) })
		for i := 1; i < len(c.Week[d]); i++ {
			if c.Week[d][i].Start < c.Week[d][i-1].End {
				return Calendar{}, fmt.Errorf("working hours %q: %s has overlapping spans", hours, time.Weekday(d))
			}
		}
	}
	if c.weekly() == 0 {
		return Calendar{}, fmt.Errorf("working hours %q: no working time at all", hours)
	}
	for _, h := range holidays {
		if _, err := time.ParseInLocation("2006-01-02", h, tz); err != nil {
			return Calendar{}, fmt.Errorf("holiday %q: want YYYY-MM-DD", h)
		}
		c.Holidays[h] = true
	}
	return c, nil
}

func clock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		if strings.TrimSpace(s) == "24:00" {
			return 24 * time.Hour, nil
		}
		return 0, err
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

func (c Calendar) weekly() time.Duration {
	var sum time.Duration
	for _, spans := range c.Week {
		for _, s := range spans {
			sum += s.End - s.Start
		}
	}
	return sum
}

// spansOn returns the working spans of the day that starts at midnight m.
func (c Calendar) spansOn(m time.Time) []Span {
	if c.Holidays[m.Format("2006-01-02")] {
		return nil
	}
	return c.Week[m.Weekday()]
}

func midnight(t time.Time) time.Time {
	y, mo, d := t.Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, t.Location())
}

// at is midnight m plus offset o, by the wall clock (a day in a zone
// with daylight saving is not 24 h; WIB has none, but be right anyway).
func at(m time.Time, o time.Duration) time.Time {
	return time.Date(m.Year(), m.Month(), m.Day(), 0, 0, 0, 0, m.Location()).Add(o)
}

// Between returns the working time from a to b (0 when b is not after a).
func (c Calendar) Between(a, b time.Time) time.Duration {
	a, b = a.In(c.TZ), b.In(c.TZ)
	var sum time.Duration
	for m := midnight(a); m.Before(b); m = midnight(m.AddDate(0, 0, 1)) {
		for _, s := range c.spansOn(m) {
			from, to := at(m, s.Start), at(m, s.End)
			if from.Before(a) {
				from = a
			}
			if to.After(b) {
				to = b
			}
			if to.After(from) {
				sum += to.Sub(from)
			}
		}
	}
	return sum
}

// Due returns the moment when d of working time has passed since t. A
// target counted from outside working hours starts at the next working
// moment: a fault at 22:00 is due the next morning.
func (c Calendar) Due(t time.Time, d time.Duration) time.Time {
	t = t.In(c.TZ)
	// Holidays could in principle cover every working day; a calendar
	// with working time finds one within a few years.
	for m, n := midnight(t), 0; n < 3*366; m, n = midnight(m.AddDate(0, 0, 1)), n+1 {
		for _, s := range c.spansOn(m) {
			from, to := at(m, s.Start), at(m, s.End)
			if !to.After(t) {
				continue
			}
			if from.Before(t) {
				from = t
			}
			if left := to.Sub(from); d <= left {
				return from.Add(d)
			} else {
				d -= left
			}
		}
	}
	return t.Add(100 * 365 * 24 * time.Hour) // no working time: never due
}
