package sample

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/pkb"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/plate"
)

// Category is what a vehicle's bill looks like on a given day.
type Category string

// The categories, in the order Plates cycles through them.
const (
	Paid         Category = "paid"           // tgl_akhir_pkb after today: nothing late, not blocked, no renewal
	Late         Category = "late"           // 1-11 months late: one period, with fines
	LateOverYear Category = "late_over_year" // more than one period owed
	Blocked      Category = "blocked"        // status.blokir
	RenewalDue   Category = "renewal_due"    // PNBP (5-yearly STNK renewal) in today's bill
	NotFound     Category = "not_found"      // a valid BA plate absent from the store
)

// categoryOrder is the order Plates cycles through the categories.
var categoryOrder = [...]Category{Paid, Late, LateOverYear, Blocked, RenewalDue, NotFound}

// Sample is one line of `kioskhub sample plates`.
type Sample struct {
	Plate    string
	Rangka5  string // "-" for NotFound
	Category Category
}

// categorize returns v's category on day p. The first that applies wins:
// blocked, renewal due, late over a year, late, paid. A vehicle due
// exactly on p (payable, not yet late) and one the estimator cannot price
// have none (ok false).
func categorize(v *vehicle, p pkb.Date, r pkb.Rules) (c Category, ok bool) {
	if v.Blokir {
		return Blocked, true
	}
	bill, err := pkb.Estimate(v.facts(), p, r)
	switch {
	case err != nil:
		return "", false
	case bill.Rincian.PNBP.STNK+bill.Rincian.PNBP.TNKB > 0:
		return RenewalDue, true
	case len(bill.Periods) > 1:
		return LateOverYear, true
	case v.TglAkhirPKB.Before(p):
		return Late, true
	case v.TglAkhirPKB.After(p):
		return Paid, true
	}
	return "", false
}

// Plates returns n sample vehicles spread evenly over the categories, in
// the order above (paid, late, late_over_year, blocked, renewal_due,
// not_found), round-robin, categorised as of today. A category with no
// vehicle today is skipped and the others fill its places (late_over_year
// exists only from 2026-01-05, since no due date precedes 2025-01-05);
// a store too small for n gives fewer. The result is deterministic for the
// same store and day: vehicles are visited in a fixed pseudo-random order
// (so the samples are not all neighbours in plate order), and the
// not_found plates come from a fixed stream and are checked absent.
func (s *Source) Plates(ctx context.Context, n int) ([]Sample, error) {
	if n <= 0 {
		return nil, nil
	}
	today := s.today()
	count := s.stats.Vehicles
	perCat := (n + len(categoryOrder) - 1) / len(categoryOrder)
	got := map[Category][]Sample{}
	full := 0 // store categories with perCat samples
	start, stride := walk(s.seed, count)
	for i := 0; i < count && full < len(categoryOrder)-1; i++ {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("sample: plates: %w", err)
			}
		}
		rowid := 1 + (start+i*stride)%count
		var v vehicle
		if err := scanVehicle(s.byRow.QueryRowContext(ctx, rowid), &v); err != nil {
			return nil, fmt.Errorf("sample: plates: %w", err)
		}
		c, ok := categorize(&v, today, s.rules)
		if !ok || len(got[c]) >= n {
			continue
		}
		got[c] = append(got[c], Sample{Plate: v.Nopol, Rangka5: v.Rangka5, Category: c})
		if len(got[c]) == perCat {
			full++
		}
	}
	absent, err := s.absentPlates(ctx, n)
	if err != nil {
		return nil, err
	}
	got[NotFound] = absent

	out := make([]Sample, 0, n)
	for len(out) < n {
		added := false
		for _, c := range categoryOrder {
			if len(out) == n {
				break
			}
			if len(got[c]) > 0 {
				out = append(out, got[c][0])
				got[c] = got[c][1:]
				added = true
			}
		}
		if !added {
			break
		}
	}
	return out, nil
}

// walk returns a start and a stride coprime with n, so that
// (start + i·stride) mod n visits every row once in a scattered order.
func walk(seed int64, n int) (start, stride int) {
	if n <= 1 {
		return 0, 1
	}
	start = int(splitmix(uint64(seed)) % uint64(n))
	stride = int(float64(n)*0.6180339887) | 1 // golden ratio: well spread
	for gcd(stride, n) != 1 {
		stride += 2
	}
	return start, stride % n
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// absentPlates returns n valid BA motorcycle plates that are not in the
// store, drawn from a stream of their own.
func (s *Source) absentPlates(ctx context.Context, n int) ([]Sample, error) {
	g := newGenerator(s.seed, pkb.Date{}, n)
	g.pcg.Seed(uint64(s.seed), splitmix(math.MaxUint64))
	out := make([]Sample, 0, n)
	for tries := 0; len(out) < n && tries < 100*n; tries++ {
		num, series := 2000+g.n(5000), g.series()
		p := "BA " + strconv.Itoa(num) + " " + series
		if _, dup := g.seen[p]; dup || plate.IsTestSeries(series) {
			continue
		}
		var v vehicle
		err := scanVehicle(s.byPlate.QueryRowContext(ctx, p), &v)
		if err == nil {
			continue
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("sample: plates: %w", err)
		}
		g.seen[p] = struct{}{}
		out = append(out, Sample{Plate: p, Rangka5: "-", Category: NotFound})
	}
	return out, nil
}
