package pkb

import (
	"errors"
	"fmt"
	"math/bits"
	"time"
)

// MonthRule says how a started month of lateness counts towards the PKB
// fine (config key fine.month_rule, domain/pkb.md 2.1 and 7).
type MonthRule string

const (
	// PartialFull counts any started month as a full month ("bagian dari
	// bulan dihitung penuh 1 bulan"), the rule of the HKPD-era Perda
	// templates and the default.
	PartialFull MonthRule = "partial_full"
	// Over15 counts the leftover part of a month only when it is more than
	// 15 days, as one public backend does.
	Over15 MonthRule = "over15"
)

// MaxPokok is the largest yearly PKB pokok the estimator accepts (one
// trillion rupiah). No vehicle comes near it; the bound exists so that every
// intermediate product stays far from int64 overflow.
const MaxPokok = 1_000_000_000_000

// Upper bounds that Validate enforces. They are far above any real rule and
// only keep the arithmetic and the period loop bounded.
const (
	maxRateBP     = 10000 // 100% (per month for fines)
	maxCapMonths  = 1200  // 100 years
	maxMaxPeriods = 100
)

// Facts are what the estimator needs to know of a vehicle.
type Facts struct {
	Pokok        int64 // yearly PKB principal (NJKB × bobot × tarif), rupiah
	Class        Class // SWDKLLJ class
	SmallVehicle bool  // 2 or 3 wheels: the lower PNBP fees (STNK 100,000 / TNKB 60,000) instead of 200,000 / 100,000
	TglAkhirPKB  Date  // D, the due date of the oldest unpaid period
	TglAkhirSTNK Date  // S, the end of the STNK's 5-year validity
}

// Rules are the configurable parts of the estimate (domain/pkb.md 7); they
// are configuration rather than constants because Sumbar's own rules are
// unconfirmed. DefaultRules gives the documented defaults.
type Rules struct {
	// MonthRule is fine.month_rule.
	MonthRule MonthRule
	// RoundingUnit is rounding.unit: PKB and opsen fines are rounded down
	// to a multiple of it (Kepri's figures suggest 100).
	RoundingUnit int64
	// OpsenStart is opsen.start: a period whose due date D_k is on or after
	// it is regime B (FineBPAfter per month, plus opsen); an earlier one is
	// regime A (FineBPBefore per month, no opsen).
	OpsenStart Date
	// OpsenRateBP is opsen.rate_bp, the opsen as basis points of the PKB
	// pokok.
	OpsenRateBP int64
	// FineBPBefore and FineBPAfter are the monthly PKB fine rates of
	// regimes A and B (fine.regimes), in basis points.
	FineBPBefore int64
	FineBPAfter  int64
	// FineCapMonths is the most months of fine counted per period.
	FineCapMonths int
	// MaxPeriods is the most yearly periods the estimator will add up;
	// longer arrears need an officer ("hubungi petugas").
	MaxPeriods int
	// PNBP fees of the 5-yearly renewal for small (2-3 wheels) and large
	// vehicles.
	PNBPSTNKSmall, PNBPSTNKLarge, PNBPTNKBSmall, PNBPTNKBLarge int64
	// SWDKLLJFineBaseIncludesKD is swdkllj.fine_base_includes_kd: whether
	// the SWDKLLJ fine is a share of levy + KDFee rather than of the levy.
	SWDKLLJFineBaseIncludesKD bool
}

// DefaultRules returns the defaults documented in domain/pkb.md 7.
func DefaultRules() Rules {
	return Rules{
		MonthRule:     PartialFull,
		RoundingUnit:  1,
		OpsenStart:    Date{2025, time.January, 5},
		OpsenRateBP:   6600,
		FineBPBefore:  200,
		FineBPAfter:   100,
		FineCapMonths: 24,
		MaxPeriods:    6,
		PNBPSTNKSmall: 100000,
		PNBPSTNKLarge: 200000,
		PNBPTNKBSmall: 60000,
		PNBPTNKBLarge: 100000,
	}
}

// ErrBadRules is wrapped by every error of Rules.Validate.
var ErrBadRules = errors.New("pkb: invalid estimator rules")

// Validate reports a descriptive error, wrapping ErrBadRules, for
// nonsensical rules. It exists because the rules come from configuration,
// and a typo there must stop the estimator rather than print a wrong bill.
func (r Rules) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrBadRules}, args...)...))
	}
	switch r.MonthRule {
	case PartialFull, Over15:
	default:
		bad("unknown month rule %q (want %q or %q)", r.MonthRule, PartialFull, Over15)
	}
	if r.RoundingUnit < 1 {
		bad("rounding unit %d is less than 1", r.RoundingUnit)
	}
	if r.OpsenStart.IsZero() {
		bad("opsen start date is not set")
	} else if !validDate(r.OpsenStart) {
		bad("opsen start %v is not a calendar date", r.OpsenStart)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"opsen rate", r.OpsenRateBP},
		{"fine rate before opsen start", r.FineBPBefore},
		{"fine rate after opsen start", r.FineBPAfter},
	} {
		if f.v < 0 || f.v > maxRateBP {
			bad("%s %d bp is outside 0..%d", f.name, f.v, maxRateBP)
		}
	}
	if r.FineCapMonths < 0 || r.FineCapMonths > maxCapMonths {
		bad("fine cap %d months is outside 0..%d", r.FineCapMonths, maxCapMonths)
	}
	if r.MaxPeriods < 1 || r.MaxPeriods > maxMaxPeriods {
		bad("max periods %d is outside 1..%d", r.MaxPeriods, maxMaxPeriods)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"PNBP STNK (small)", r.PNBPSTNKSmall},
		{"PNBP STNK (large)", r.PNBPSTNKLarge},
		{"PNBP TNKB (small)", r.PNBPTNKBSmall},
		{"PNBP TNKB (large)", r.PNBPTNKBLarge},
	} {
		if f.v < 0 || f.v > MaxPokok {
			bad("%s fee %d is outside 0..%d", f.name, f.v, int64(MaxPokok))
		}
	}
	return errors.Join(errs...)
}

// Period is one yearly period owed.
type Period struct {
	Due      Date // D_k
	Months   int  // months of fine counted (after rule and cap)
	DaysLate int  // P − D_k in days, 0 if not late
	Opsen    bool // regime B
}

// Bill is the estimator's output.
type Bill struct {
	Rincian Rincian // OpsenPKB always non-nil (zeros when no period is regime B); Potongan 0
	Jumlah  int64   // == Rincian.Sum()
	Periods []Period
}

// ErrTooManyPeriods is returned when the arrears span more than
// Rules.MaxPeriods yearly periods: beyond that the backends' own rules
// (write-offs, blocking) make a local figure misleading.
var ErrTooManyPeriods = errors.New("pkb: more periods owed than the estimator covers; hubungi petugas")

// ErrBadFacts is wrapped when the facts cannot be estimated: pokok < 0 or
// above MaxPokok, an unknown class, or a zero or invalid date (including the
// day P).
var ErrBadFacts = errors.New("pkb: vehicle facts unusable for an estimate")

// Estimate computes the bill of f as of day p (domain/pkb.md 2.4). The
// result is an estimate only: programmes (2.3) are not applied, and
// Potongan is 0. It returns an error wrapping ErrBadRules or ErrBadFacts
// for bad input, and ErrTooManyPeriods when more than r.MaxPeriods periods
// are owed.
func Estimate(f Facts, p Date, r Rules) (Bill, error) {
	if err := r.Validate(); err != nil {
		return Bill{}, err
	}
	levy, err := f.check(p)
	if err != nil {
		return Bill{}, err
	}

	// Step 1: periods. D_k is always computed from D, not from D_{k-1}, so
	// that a 29 February due date comes back in leap years.
	periods := []Period{{Due: f.TglAkhirPKB}}
	for k := 1; ; k++ {
		due := f.TglAkhirPKB.AddYears(k)
		if compareDates(due, p) > 0 {
			break
		}
		if len(periods) == r.MaxPeriods {
			return Bill{}, ErrTooManyPeriods
		}
		periods = append(periods, Period{Due: due})
	}

	swBase := levy
	if r.SWDKLLJFineBaseIncludesKD {
		swBase += KDFee
	}
	opsenPokok := mulDiv(f.Pokok, r.OpsenRateBP, 10000)

	var rc Rincian
	opsen := &Item{}
	for i := range periods {
		pd := &periods[i]
		pd.Opsen = compareDates(pd.Due, r.OpsenStart) >= 0
		if compareDates(p, pd.Due) > 0 {
			pd.DaysLate = p.DaysSince(pd.Due)
			pd.Months = min(monthsLate(pd.Due, p, r.MonthRule), r.FineCapMonths)
		}
		bp := r.FineBPBefore
		if pd.Opsen {
			bp = r.FineBPAfter
		}
		// bp ≤ 10000 and months ≤ 1200 keep this product small.
		rate := bp * int64(pd.Months)

		rc.PKB.Pokok += f.Pokok
		rc.PKB.Denda += floorTo(mulDiv(f.Pokok, rate, 10000), r.RoundingUnit)
		if pd.Opsen {
			opsen.Pokok += opsenPokok
			opsen.Denda += floorTo(mulDiv(opsenPokok, rate, 10000), r.RoundingUnit)
		}
		rc.SWDKLLJ.Pokok += levy + KDFee
		rc.SWDKLLJ.Denda += swdklljFine(swBase, pd.DaysLate)
	}
	rc.OpsenPKB = opsen

	// Step 5: the STNK renewal falls due within the periods owed.
	if compareDates(f.TglAkhirSTNK, periods[len(periods)-1].Due) <= 0 {
		if f.SmallVehicle {
			rc.PNBP = PNBP{STNK: r.PNBPSTNKSmall, TNKB: r.PNBPTNKBSmall}
		} else {
			rc.PNBP = PNBP{STNK: r.PNBPSTNKLarge, TNKB: r.PNBPTNKBLarge}
		}
	}
	return Bill{Rincian: rc, Jumlah: rc.Sum(), Periods: periods}, nil
}

// check validates f and the day p and returns the class's levy.
func (f Facts) check(p Date) (int64, error) {
	if f.Pokok < 0 || f.Pokok > MaxPokok {
		return 0, fmt.Errorf("%w: pokok %d is outside 0..%d", ErrBadFacts, f.Pokok, int64(MaxPokok))
	}
	levy, ok := f.Class.Levy()
	if !ok {
		return 0, fmt.Errorf("%w: unknown SWDKLLJ class %q", ErrBadFacts, f.Class)
	}
	for _, d := range []struct {
		name string
		v    Date
	}{{"tgl_akhir_pkb", f.TglAkhirPKB}, {"tgl_akhir_stnk", f.TglAkhirSTNK}, {"day of estimate", p}} {
		if d.v.IsZero() {
			return 0, fmt.Errorf("%w: %s is not set", ErrBadFacts, d.name)
		}
		if !validDate(d.v) {
			return 0, fmt.Errorf("%w: %s %04d-%02d-%02d is not a calendar date", ErrBadFacts, d.name, d.v.Year, int(d.v.Month), d.v.Day)
		}
	}
	return levy, nil
}

// monthsLate is step 2 of domain/pkb.md 2.4 without the cap: the whole
// months from due to p, counted with month-end clamping, plus one for the
// leftover days as rule says. It assumes p is after due.
func monthsLate(due, p Date, rule MonthRule) int {
	// The candidate lands in p's month; if its (clamped) day is after p's
	// day, the previous month is the last one that fits.
	m := (p.Year-due.Year)*12 + int(p.Month) - int(due.Month)
	anniv := addMonths(due, m)
	if compareDates(anniv, p) > 0 {
		m--
		anniv = addMonths(due, m)
	}
	d := p.DaysSince(anniv)
	switch {
	case rule == Over15 && d > 15:
		m++
	case rule != Over15 && d > 0:
		m++
	}
	return m
}

// addMonths returns d plus n months, clamping the day to the end of the
// target month: 31 January + 1 month is 28 or 29 February, where
// time.AddDate would overflow into March and make a month look shorter
// than it is.
func addMonths(d Date, n int) Date {
	mi := int(d.Month) - 1 + n
	y := d.Year + mi/12
	mi %= 12
	if mi < 0 {
		mi += 12
		y--
	}
	m := time.Month(mi + 1)
	return Date{y, m, min(d.Day, daysIn(y, m))}
}

// daysIn returns the number of days in month m of year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// compareDates returns -1, 0 or +1 as a is before, equal to or after b. It
// compares fields rather than going through time.Time because the estimator
// calls it in its inner loop; it requires normalised dates.
func compareDates(a, b Date) int {
	switch {
	case a.Year != b.Year:
		return cmpInt(a.Year, b.Year)
	case a.Month != b.Month:
		return cmpInt(int(a.Month), int(b.Month))
	default:
		return cmpInt(a.Day, b.Day)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// validDate reports whether d is a normalised calendar date (not 31
// February or month 13), which compareDates and addMonths rely on.
func validDate(d Date) bool {
	return d.Month >= time.January && d.Month <= time.December &&
		d.Day >= 1 && d.Day <= daysIn(d.Year, d.Month)
}

// mulDiv returns a × b / c rounded down, for a, b ≥ 0 and c > 0, through a
// 128-bit product so that a × b cannot overflow. Callers keep the quotient
// within int64 (see MaxPokok and the Validate bounds).
func mulDiv(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	q, _ := bits.Div64(hi, lo, uint64(c))
	return int64(q)
}

// floorTo rounds x ≥ 0 down to a multiple of unit ≥ 1.
func floorTo(x, unit int64) int64 { return x - x%unit }
