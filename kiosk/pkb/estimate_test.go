package pkb

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// day parses YYYY-MM-DD for test tables; a typo in a table is a bug in the
// test, hence the panic.
func day(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// lines is a Rincian flattened for comparison; OpsenPKB must be non-nil in
// every estimate.
type lines struct {
	PKB, Opsen, SWDKLLJ Item
	PNBP                PNBP
}

func linesOf(t testing.TB, r Rincian) lines {
	t.Helper()
	if r.OpsenPKB == nil {
		t.Fatalf("Rincian.OpsenPKB is nil, want non-nil")
	}
	if r.Potongan != 0 {
		t.Errorf("Rincian.Potongan = %d, want 0", r.Potongan)
	}
	return lines{PKB: r.PKB, Opsen: *r.OpsenPKB, SWDKLLJ: r.SWDKLLJ, PNBP: r.PNBP}
}

func rulesWith(mod func(*Rules)) Rules {
	r := DefaultRules()
	if mod != nil {
		mod(&r)
	}
	return r
}

func over15(r *Rules) { r.MonthRule = Over15 }

// estimateCase is one full-bill expectation.
type estimateCase struct {
	name    string
	facts   Facts
	p       Date
	rules   Rules
	want    lines
	jumlah  int64
	periods []Period // nil: not checked
}

func runEstimateCases(t *testing.T, cases []estimateCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bill, err := Estimate(tc.facts, tc.p, tc.rules)
			if err != nil {
				t.Fatalf("Estimate: got error %v, want nil", err)
			}
			if got := linesOf(t, bill.Rincian); got != tc.want {
				t.Errorf("rincian:\n got  %+v\n want %+v", got, tc.want)
			}
			if bill.Jumlah != tc.jumlah {
				t.Errorf("Jumlah: got %d, want %d", bill.Jumlah, tc.jumlah)
			}
			if s := bill.Rincian.Sum(); bill.Jumlah != s {
				t.Errorf("Jumlah %d != Rincian.Sum() %d", bill.Jumlah, s)
			}
			if tc.periods != nil && !slices.Equal(bill.Periods, tc.periods) {
				t.Errorf("periods:\n got  %+v\n want %+v", bill.Periods, tc.periods)
			}
		})
	}
}

// The worked example of domain/pkb.md 2.5 (BA 3456 QR).
func TestEstimateWorkedExample(t *testing.T) {
	moto := Facts{Pokok: 150000, Class: ClassC1, SmallVehicle: true,
		TglAkhirPKB: day("2025-03-10"), TglAkhirSTNK: day("2026-03-10")}
	p := day("2025-05-20")
	runEstimateCases(t, []estimateCase{
		{
			name: "partial_full", facts: moto, p: p, rules: DefaultRules(),
			want: lines{
				PKB:     Item{150000, 4500},
				Opsen:   Item{99000, 2970},
				SWDKLLJ: Item{35000, 8000},
			},
			jumlah:  299470,
			periods: []Period{{Due: day("2025-03-10"), Months: 3, DaysLate: 71, Opsen: true}},
		},
		{
			name: "over15", facts: moto, p: p, rules: rulesWith(over15),
			want: lines{
				PKB:     Item{150000, 3000},
				Opsen:   Item{99000, 1980},
				SWDKLLJ: Item{35000, 8000},
			},
			jumlah:  296980,
			periods: []Period{{Due: day("2025-03-10"), Months: 2, DaysLate: 71, Opsen: true}},
		},
	})
}

// The test vector of domain/pkb.md 2.5: a DP car in its renewal year with
// the SWDKLLJ fine capped.
func TestEstimateTestVector(t *testing.T) {
	car := Facts{Pokok: 2000000, Class: ClassDP,
		TglAkhirPKB: day("2025-02-01"), TglAkhirSTNK: day("2025-02-01")}
	p := day("2025-09-15")
	runEstimateCases(t, []estimateCase{
		{
			name: "partial_full", facts: car, p: p, rules: DefaultRules(),
			want: lines{
				PKB:     Item{2000000, 160000},
				Opsen:   Item{1320000, 105600},
				SWDKLLJ: Item{143000, 100000},
				PNBP:    PNBP{STNK: 200000, TNKB: 100000},
			},
			jumlah:  4128600,
			periods: []Period{{Due: day("2025-02-01"), Months: 8, DaysLate: 226, Opsen: true}},
		},
		{
			name: "over15", facts: car, p: p, rules: rulesWith(over15),
			want: lines{
				PKB:     Item{2000000, 140000},
				Opsen:   Item{1320000, 92400},
				SWDKLLJ: Item{143000, 100000},
				PNBP:    PNBP{STNK: 200000, TNKB: 100000},
			},
			jumlah:  4095400,
			periods: []Period{{Due: day("2025-02-01"), Months: 7, DaysLate: 226, Opsen: true}},
		},
	})
}

// Regime A (due date before opsen.start): 2%/month and no opsen, decided
// by the period's due date even when P is after the opsen start. The 2.5
// note: 3 × 2% × 249,000 = 14,940.
func TestEstimateRegimeA(t *testing.T) {
	facts := func(d string) Facts {
		return Facts{Pokok: 249000, Class: ClassC1, SmallVehicle: true,
			TglAkhirPKB: day(d), TglAkhirSTNK: day("2027-10-01")}
	}
	runEstimateCases(t, []estimateCase{
		{
			name: "paid before opsen start", facts: facts("2024-10-01"), p: day("2024-12-20"), rules: DefaultRules(),
			want:    lines{PKB: Item{249000, 14940}, SWDKLLJ: Item{35000, 8000}},
			jumlah:  306940,
			periods: []Period{{Due: day("2024-10-01"), Months: 3, DaysLate: 80}},
		},
		{
			name: "paid after opsen start", facts: facts("2024-12-01"), p: day("2025-02-15"), rules: DefaultRules(),
			want:    lines{PKB: Item{249000, 14940}, SWDKLLJ: Item{35000, 8000}},
			jumlah:  306940,
			periods: []Period{{Due: day("2024-12-01"), Months: 3, DaysLate: 76}},
		},
		{
			name: "due the day before opsen start", facts: facts("2025-01-04"), p: day("2025-04-04"), rules: DefaultRules(),
			want:    lines{PKB: Item{249000, 14940}, SWDKLLJ: Item{35000, 8000}},
			jumlah:  306940,
			periods: []Period{{Due: day("2025-01-04"), Months: 3, DaysLate: 90}},
		},
		{
			// Regime B from the opsen start itself: 1% and opsen
			// 164,340 (66%), whose fine 4,930.2 is rounded down.
			name: "due on opsen start", facts: facts("2025-01-05"), p: day("2025-04-05"), rules: DefaultRules(),
			want:    lines{PKB: Item{249000, 7470}, Opsen: Item{164340, 4930}, SWDKLLJ: Item{35000, 8000}},
			jumlah:  249000 + 7470 + 164340 + 4930 + 35000 + 8000,
			periods: []Period{{Due: day("2025-01-05"), Months: 3, DaysLate: 90, Opsen: true}},
		},
	})
}

func TestAddMonths(t *testing.T) {
	tests := []struct {
		d    string
		n    int
		want string
	}{
		{"2025-01-31", 0, "2025-01-31"},
		{"2025-01-31", 1, "2025-02-28"},
		{"2024-01-31", 1, "2024-02-29"},
		{"2025-01-31", 2, "2025-03-31"},
		{"2025-01-31", 3, "2025-04-30"},
		{"2025-03-31", 1, "2025-04-30"},
		{"2025-12-15", 1, "2026-01-15"},
		{"2025-11-30", 3, "2026-02-28"},
		{"2025-01-10", 24, "2027-01-10"},
		{"2025-03-31", -1, "2025-02-28"},
		{"2025-01-15", -1, "2024-12-15"},
	}
	for _, tc := range tests {
		if got := addMonths(day(tc.d), tc.n); got != day(tc.want) {
			t.Errorf("addMonths(%s, %d): got %v, want %s", tc.d, tc.n, got, tc.want)
		}
	}
}

// Month counting with month-end clamping and both month rules, through
// Estimate so that the cap and the "not late" case are included.
func TestEstimateMonths(t *testing.T) {
	tests := []struct {
		name         string
		due, p       string
		partial, o15 int
	}{
		{"31 Jan to 28 Feb is one whole month", "2025-01-31", "2025-02-28", 1, 1},
		{"31 Jan to 1 Mar is one month and a day", "2025-01-31", "2025-03-01", 2, 1},
		{"15 leftover days", "2025-01-31", "2025-03-15", 2, 1},
		{"16 leftover days", "2025-01-31", "2025-03-16", 2, 2},
		{"31 Jan to 31 Mar", "2025-01-31", "2025-03-31", 2, 2},
		{"leap year 29 Feb", "2024-01-31", "2024-02-29", 1, 1},
		{"leap year 28 Feb", "2024-01-31", "2024-02-28", 1, 1},
		{"31 Mar to 1 May", "2025-03-31", "2025-05-01", 2, 1},
		{"one day late", "2025-03-10", "2025-03-11", 1, 0},
		{"over the new year", "2024-12-15", "2025-01-15", 1, 1},
		{"on the due date", "2025-03-10", "2025-03-10", 0, 0},
		{"before the due date", "2025-03-10", "2024-12-01", 0, 0},
		{"worked example", "2025-03-10", "2025-05-20", 3, 2},
		{"test vector", "2025-02-01", "2025-09-15", 8, 7},
		{"24 months exactly (second period not late)", "2025-03-10", "2027-03-10", 24, 24},
	}
	for _, tc := range tests {
		for _, rule := range []MonthRule{PartialFull, Over15} {
			t.Run(tc.name+"/"+string(rule), func(t *testing.T) {
				f := Facts{Pokok: 100000, Class: ClassC1, SmallVehicle: true,
					TglAkhirPKB: day(tc.due), TglAkhirSTNK: day("2030-01-01")}
				bill, err := Estimate(f, day(tc.p), rulesWith(func(r *Rules) { r.MonthRule = rule }))
				if err != nil {
					t.Fatalf("Estimate: got error %v, want nil", err)
				}
				want := tc.partial
				if rule == Over15 {
					want = tc.o15
				}
				if got := bill.Periods[0].Months; got != want {
					t.Errorf("months: got %d, want %d", got, want)
				}
			})
		}
	}
}

// Paying on (or before) the due date costs no fine at all.
func TestEstimateNotLate(t *testing.T) {
	f := Facts{Pokok: 2000000, Class: ClassDP,
		TglAkhirPKB: day("2025-03-10"), TglAkhirSTNK: day("2027-03-10")}
	want := lines{PKB: Item{2000000, 0}, Opsen: Item{1320000, 0}, SWDKLLJ: Item{143000, 0}}
	runEstimateCases(t, []estimateCase{
		{
			name: "on the due date", facts: f, p: day("2025-03-10"), rules: DefaultRules(),
			want: want, jumlah: 3463000,
			periods: []Period{{Due: day("2025-03-10"), Opsen: true}},
		},
		{
			name: "early", facts: f, p: day("2025-02-01"), rules: DefaultRules(),
			want: want, jumlah: 3463000,
			periods: []Period{{Due: day("2025-03-10"), Opsen: true}},
		},
	})
}

// The fine counts at most FineCapMonths per period; every period has its
// own cap.
func TestEstimateFineCap(t *testing.T) {
	f := Facts{Pokok: 100000, Class: ClassC1, SmallVehicle: true,
		TglAkhirPKB: day("2023-01-01"), TglAkhirSTNK: day("2028-01-01")}
	p := day("2025-03-15")
	// All three due dates are before 2025-01-05: regime A, 2%/month.
	runEstimateCases(t, []estimateCase{
		{
			name: "default cap 24", facts: f, p: p, rules: DefaultRules(),
			want:   lines{PKB: Item{300000, 2000 * (24 + 15 + 3)}, SWDKLLJ: Item{105000, 32000 + 32000 + 8000}},
			jumlah: 300000 + 84000 + 105000 + 72000,
			periods: []Period{
				{Due: day("2023-01-01"), Months: 24, DaysLate: 804},
				{Due: day("2024-01-01"), Months: 15, DaysLate: 439},
				{Due: day("2025-01-01"), Months: 3, DaysLate: 73},
			},
		},
		{
			name: "cap 6", facts: f, p: p, rules: rulesWith(func(r *Rules) { r.FineCapMonths = 6 }),
			want:   lines{PKB: Item{300000, 2000 * (6 + 6 + 3)}, SWDKLLJ: Item{105000, 72000}},
			jumlah: 300000 + 30000 + 105000 + 72000,
			periods: []Period{
				{Due: day("2023-01-01"), Months: 6, DaysLate: 804},
				{Due: day("2024-01-01"), Months: 6, DaysLate: 439},
				{Due: day("2025-01-01"), Months: 3, DaysLate: 73},
			},
		},
	})
}

func TestEstimateSWDKLLJTiers(t *testing.T) {
	withKD := rulesWith(func(r *Rules) { r.SWDKLLJFineBaseIncludesKD = true })
	tests := []struct {
		class Class
		days  int
		rules Rules
		want  int64
	}{
		{ClassC1, 0, DefaultRules(), 0},
		{ClassC1, 1, DefaultRules(), 8000},
		{ClassC1, 90, DefaultRules(), 8000},
		{ClassC1, 91, DefaultRules(), 16000},
		{ClassC1, 180, DefaultRules(), 16000},
		{ClassC1, 181, DefaultRules(), 24000},
		{ClassC1, 270, DefaultRules(), 24000},
		{ClassC1, 271, DefaultRules(), 32000},
		{ClassC1, 364, DefaultRules(), 32000},
		{ClassDP, 90, DefaultRules(), 35000},
		{ClassDP, 91, DefaultRules(), 70000},
		{ClassDP, 181, DefaultRules(), 100000}, // 105,000 capped
		{ClassDP, 271, DefaultRules(), 100000}, // 140,000 capped
		{ClassEU, 1, DefaultRules(), 21750},    // a quarter of 87,000 is not rounded
		{ClassF, 271, DefaultRules(), 100000},
		{ClassA, 271, DefaultRules(), 0},
		{ClassC1, 1, withKD, 8750},
		{ClassC1, 91, withKD, 17500},
		{ClassC1, 181, withKD, 26250},
		{ClassC1, 271, withKD, 35000},
		{ClassA, 271, withKD, 3000},
		{ClassDP, 181, withKD, 100000},
	}
	due := day("2025-03-10")
	for _, tc := range tests {
		f := Facts{Pokok: 100000, Class: tc.class, TglAkhirPKB: due, TglAkhirSTNK: day("2030-03-10")}
		bill, err := Estimate(f, due.AddDays(tc.days), tc.rules)
		if err != nil {
			t.Fatalf("%s %d days: got error %v, want nil", tc.class, tc.days, err)
		}
		if got := bill.Rincian.SWDKLLJ.Denda; got != tc.want {
			t.Errorf("%s %d days (KD in base %v): got denda %d, want %d",
				tc.class, tc.days, tc.rules.SWDKLLJFineBaseIncludesKD, got, tc.want)
		}
		if got := bill.Periods[0].DaysLate; got != tc.days {
			t.Errorf("%s %d days: got DaysLate %d, want %d", tc.class, tc.days, got, tc.days)
		}
	}
}

// Arrears over more than one year add up per component, each period with
// its own months, days and regime.
func TestEstimateMultiYear(t *testing.T) {
	car := func(d, s string) Facts {
		return Facts{Pokok: 1000000, Class: ClassDP, TglAkhirPKB: day(d), TglAkhirSTNK: day(s)}
	}
	runEstimateCases(t, []estimateCase{
		{
			name: "two periods", facts: car("2025-01-10", "2029-01-10"), p: day("2026-11-23"), rules: DefaultRules(),
			want: lines{
				PKB:     Item{2000000, 10000 * (23 + 11)},
				Opsen:   Item{1320000, 6600 * (23 + 11)},
				SWDKLLJ: Item{286000, 200000},
			},
			jumlah: 4370400,
			periods: []Period{
				{Due: day("2025-01-10"), Months: 23, DaysLate: 682, Opsen: true},
				{Due: day("2026-01-10"), Months: 11, DaysLate: 317, Opsen: true},
			},
		},
		{
			name: "two periods over15", facts: car("2025-01-10", "2029-01-10"), p: day("2026-11-23"), rules: rulesWith(over15),
			want: lines{
				PKB:     Item{2000000, 10000 * (22 + 10)},
				Opsen:   Item{1320000, 6600 * (22 + 10)},
				SWDKLLJ: Item{286000, 200000},
			},
			jumlah: 4337200,
			periods: []Period{
				{Due: day("2025-01-10"), Months: 22, DaysLate: 682, Opsen: true},
				{Due: day("2026-01-10"), Months: 10, DaysLate: 317, Opsen: true},
			},
		},
		{
			// The first period is regime A (2%, no opsen), the second B.
			name: "spanning the opsen start", facts: car("2024-03-01", "2029-03-01"), p: day("2025-04-15"), rules: DefaultRules(),
			want: lines{
				PKB:     Item{2000000, 280000 + 20000},
				Opsen:   Item{660000, 13200},
				SWDKLLJ: Item{286000, 100000 + 35000},
			},
			jumlah: 3394200,
			periods: []Period{
				{Due: day("2024-03-01"), Months: 14, DaysLate: 410},
				{Due: day("2025-03-01"), Months: 2, DaysLate: 45, Opsen: true},
			},
		},
		{
			// 29 February comes back in the next leap year because every
			// D_k is computed from D.
			name: "29 February", facts: car("2024-02-29", "2029-02-28"), p: day("2028-02-29"), rules: rulesWith(func(r *Rules) { r.FineCapMonths = 0 }),
			want: lines{
				PKB:     Item{5000000, 0},
				Opsen:   Item{2640000, 0},
				SWDKLLJ: Item{715000, 100000 + 100000 + 100000 + 100000},
			},
			jumlah: 5000000 + 2640000 + 715000 + 400000,
			periods: []Period{
				{Due: day("2024-02-29"), DaysLate: 1461},
				{Due: day("2025-03-01"), DaysLate: 1095, Opsen: true},
				{Due: day("2026-03-01"), DaysLate: 730, Opsen: true},
				{Due: day("2027-03-01"), DaysLate: 365, Opsen: true},
				{Due: day("2028-02-29"), Opsen: true},
			},
		},
	})
}

func TestEstimateMaxPeriods(t *testing.T) {
	tests := []struct {
		name    string
		due, p  string
		max     int
		periods int // 0: ErrTooManyPeriods
	}{
		{"six periods", "2020-01-10", "2025-01-10", 6, 6},
		{"six periods, day before the seventh", "2020-01-10", "2026-01-09", 6, 6},
		{"seven periods", "2020-01-10", "2026-01-10", 6, 0},
		{"far in arrears", "2000-01-10", "2026-01-10", 6, 0},
		{"max 1, one period", "2025-01-10", "2026-01-09", 1, 1},
		{"max 1, two periods", "2025-01-10", "2026-01-10", 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := Facts{Pokok: 100000, Class: ClassC1, SmallVehicle: true,
				TglAkhirPKB: day(tc.due), TglAkhirSTNK: day("2030-01-10")}
			bill, err := Estimate(f, day(tc.p), rulesWith(func(r *Rules) { r.MaxPeriods = tc.max }))
			if tc.periods == 0 {
				if !errors.Is(err, ErrTooManyPeriods) {
					t.Fatalf("got error %v, want ErrTooManyPeriods", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			if len(bill.Periods) != tc.periods {
				t.Errorf("got %d periods, want %d", len(bill.Periods), tc.periods)
			}
			if got := bill.Rincian.PKB.Pokok; got != 100000*int64(tc.periods) {
				t.Errorf("PKB pokok: got %d, want %d", got, 100000*int64(tc.periods))
			}
		})
	}
}

func TestEstimateRoundingUnit(t *testing.T) {
	// Kepri's figures: PKB 4,362,800, 2 × 2% = 174,512, shown as 174,500.
	kepri := Facts{Pokok: 4362800, Class: ClassDP,
		TglAkhirPKB: day("2024-06-01"), TglAkhirSTNK: day("2027-06-01")}
	moto := Facts{Pokok: 150000, Class: ClassC1, SmallVehicle: true,
		TglAkhirPKB: day("2025-03-10"), TglAkhirSTNK: day("2026-03-10")}
	tests := []struct {
		name     string
		f        Facts
		p        Date
		unit     int64
		pkb, ops int64
	}{
		{"Kepri unit 1", kepri, day("2024-08-01"), 1, 174512, 0},
		{"Kepri unit 100", kepri, day("2024-08-01"), 100, 174500, 0},
		{"Kepri unit 1000", kepri, day("2024-08-01"), 1000, 174000, 0},
		{"worked example unit 100", moto, day("2025-05-20"), 100, 4500, 2900},
		{"worked example unit 1000", moto, day("2025-05-20"), 1000, 4000, 2000},
		{"worked example unit 10000", moto, day("2025-05-20"), 10000, 0, 0},
	}
	for _, tc := range tests {
		bill, err := Estimate(tc.f, tc.p, rulesWith(func(r *Rules) { r.RoundingUnit = tc.unit }))
		if err != nil {
			t.Fatalf("%s: got error %v, want nil", tc.name, err)
		}
		if got := bill.Rincian.PKB.Denda; got != tc.pkb {
			t.Errorf("%s: PKB denda got %d, want %d", tc.name, got, tc.pkb)
		}
		if got := bill.Rincian.OpsenPKB.Denda; got != tc.ops {
			t.Errorf("%s: opsen denda got %d, want %d", tc.name, got, tc.ops)
		}
		if got := bill.Rincian.SWDKLLJ.Denda; tc.f.Class == ClassC1 && got != 8000 {
			t.Errorf("%s: SWDKLLJ denda got %d, want 8000 (not rounded)", tc.name, got)
		}
	}
}

func TestEstimatePNBP(t *testing.T) {
	tests := []struct {
		name   string
		due, s string
		p      string
		small  bool
		want   PNBP
	}{
		{"STNK valid after D", "2025-03-10", "2026-03-10", "2025-05-20", true, PNBP{}},
		{"STNK ends on D, small", "2025-03-10", "2025-03-10", "2025-05-20", true, PNBP{100000, 60000}},
		{"STNK ends on D, large", "2025-03-10", "2025-03-10", "2025-05-20", false, PNBP{200000, 100000}},
		{"STNK ended long ago: charged once", "2025-03-10", "2015-03-10", "2025-05-20", false, PNBP{200000, 100000}},
		{"STNK ends on D, paid early", "2025-03-10", "2025-03-10", "2025-01-01", false, PNBP{200000, 100000}},
		{"STNK ends on the last D_k", "2025-01-10", "2026-01-10", "2026-11-23", false, PNBP{200000, 100000}},
		{"STNK ends between D and the last D_k", "2025-01-10", "2025-07-01", "2026-11-23", true, PNBP{100000, 60000}},
		{"STNK ends after the last D_k but before P", "2025-01-10", "2026-01-11", "2026-11-23", false, PNBP{}},
	}
	for _, tc := range tests {
		f := Facts{Pokok: 100000, Class: ClassC1, SmallVehicle: tc.small,
			TglAkhirPKB: day(tc.due), TglAkhirSTNK: day(tc.s)}
		bill, err := Estimate(f, day(tc.p), DefaultRules())
		if err != nil {
			t.Fatalf("%s: got error %v, want nil", tc.name, err)
		}
		if bill.Rincian.PNBP != tc.want {
			t.Errorf("%s: got PNBP %+v, want %+v", tc.name, bill.Rincian.PNBP, tc.want)
		}
	}
}

// Every class of the domain/pkb.md 2.2 table, and its SWDKLLJ pokok on a
// bill.
func TestClassLevy(t *testing.T) {
	tests := []struct {
		class Class
		levy  int64
		shown int64
	}{
		{ClassA, 0, 3000},
		{ClassB, 20000, 23000},
		{ClassC1, 32000, 35000},
		{ClassC2, 80000, 83000},
		{ClassDP, 140000, 143000},
		{ClassDU, 70000, 73000},
		{ClassEP, 150000, 153000},
		{ClassEU, 87000, 90000},
		{ClassF, 160000, 163000},
	}
	if len(tests) != len(levies) {
		t.Errorf("table has %d classes, levies has %d", len(tests), len(levies))
	}
	for _, tc := range tests {
		got, ok := tc.class.Levy()
		if !ok || got != tc.levy {
			t.Errorf("%s.Levy(): got (%d, %v), want (%d, true)", tc.class, got, ok, tc.levy)
		}
		f := Facts{Pokok: 0, Class: tc.class, TglAkhirPKB: day("2025-06-01"), TglAkhirSTNK: day("2027-06-01")}
		bill, err := Estimate(f, day("2025-06-01"), DefaultRules())
		if err != nil {
			t.Fatalf("%s: got error %v, want nil", tc.class, err)
		}
		if got := bill.Rincian.SWDKLLJ; got != (Item{tc.shown, 0}) {
			t.Errorf("%s: SWDKLLJ got %+v, want {%d 0}", tc.class, got, tc.shown)
		}
		if bill.Jumlah != tc.shown {
			t.Errorf("%s: Jumlah got %d, want %d", tc.class, bill.Jumlah, tc.shown)
		}
	}
	for _, c := range []Class{"", "X", "c1", "D", "C", "E", " A"} {
		if got, ok := c.Levy(); ok || got != 0 {
			t.Errorf("Class(%q).Levy(): got (%d, %v), want (0, false)", c, got, ok)
		}
	}
}

func TestRulesValidate(t *testing.T) {
	if err := DefaultRules().Validate(); err != nil {
		t.Fatalf("DefaultRules().Validate(): got %v, want nil", err)
	}
	tests := []struct {
		name string
		mod  func(*Rules)
		want []string // substrings of the message; nil: valid
	}{
		{"over15", over15, nil},
		{"zero fine rates", func(r *Rules) { r.FineBPBefore, r.FineBPAfter, r.OpsenRateBP = 0, 0, 0 }, nil},
		{"no fine months", func(r *Rules) { r.FineCapMonths = 0 }, nil},
		{"free PNBP", func(r *Rules) { r.PNBPSTNKSmall, r.PNBPTNKBLarge = 0, 0 }, nil},
		{"empty month rule", func(r *Rules) { r.MonthRule = "" }, []string{"month rule"}},
		{"unknown month rule", func(r *Rules) { r.MonthRule = "over_15" }, []string{`"over_15"`}},
		{"rounding 0", func(r *Rules) { r.RoundingUnit = 0 }, []string{"rounding unit 0"}},
		{"rounding negative", func(r *Rules) { r.RoundingUnit = -100 }, []string{"rounding unit -100"}},
		{"no opsen start", func(r *Rules) { r.OpsenStart = Date{} }, []string{"opsen start"}},
		{"opsen start 30 Feb", func(r *Rules) { r.OpsenStart = Date{2025, time.February, 30} }, []string{"opsen start"}},
		{"negative opsen", func(r *Rules) { r.OpsenRateBP = -1 }, []string{"opsen rate -1"}},
		{"opsen over 100%", func(r *Rules) { r.OpsenRateBP = 10001 }, []string{"opsen rate 10001"}},
		{"negative fine before", func(r *Rules) { r.FineBPBefore = -200 }, []string{"before opsen start -200"}},
		{"negative fine after", func(r *Rules) { r.FineBPAfter = -100 }, []string{"after opsen start -100"}},
		{"negative cap", func(r *Rules) { r.FineCapMonths = -1 }, []string{"fine cap -1"}},
		{"huge cap", func(r *Rules) { r.FineCapMonths = 1201 }, []string{"fine cap 1201"}},
		{"no periods", func(r *Rules) { r.MaxPeriods = 0 }, []string{"max periods 0"}},
		{"too many periods", func(r *Rules) { r.MaxPeriods = 101 }, []string{"max periods 101"}},
		{"negative PNBP", func(r *Rules) { r.PNBPTNKBSmall = -1 }, []string{"PNBP TNKB (small)"}},
		{"zero value", func(r *Rules) { *r = Rules{} }, []string{"month rule", "rounding unit", "opsen start", "max periods"}},
		{"two errors", func(r *Rules) { r.RoundingUnit, r.MaxPeriods = 0, 0 }, []string{"rounding unit 0", "max periods 0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rulesWith(tc.mod)
			err := r.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrBadRules) {
				t.Fatalf("got %v, want an error wrapping ErrBadRules", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to mention %q", err, w)
				}
			}
			// Estimate refuses invalid rules rather than guessing.
			f := Facts{Pokok: 1, Class: ClassA, TglAkhirPKB: day("2025-01-01"), TglAkhirSTNK: day("2025-01-01")}
			if _, err := Estimate(f, day("2025-02-01"), r); !errors.Is(err, ErrBadRules) {
				t.Errorf("Estimate: got %v, want ErrBadRules", err)
			}
		})
	}
}

func TestEstimateBadFacts(t *testing.T) {
	good := Facts{Pokok: 100000, Class: ClassC1, SmallVehicle: true,
		TglAkhirPKB: day("2025-03-10"), TglAkhirSTNK: day("2026-03-10")}
	p := day("2025-05-20")
	tests := []struct {
		name string
		mod  func(*Facts, *Date)
		want string
	}{
		{"negative pokok", func(f *Facts, _ *Date) { f.Pokok = -1 }, "pokok -1"},
		{"huge pokok", func(f *Facts, _ *Date) { f.Pokok = MaxPokok + 1 }, "pokok"},
		{"unknown class", func(f *Facts, _ *Date) { f.Class = "X" }, `class "X"`},
		{"empty class", func(f *Facts, _ *Date) { f.Class = "" }, `class ""`},
		{"lower-case class", func(f *Facts, _ *Date) { f.Class = "c1" }, `class "c1"`},
		{"zero D", func(f *Facts, _ *Date) { f.TglAkhirPKB = Date{} }, "tgl_akhir_pkb"},
		{"zero S", func(f *Facts, _ *Date) { f.TglAkhirSTNK = Date{} }, "tgl_akhir_stnk"},
		{"zero P", func(_ *Facts, p *Date) { *p = Date{} }, "day of estimate"},
		{"29 Feb 2025", func(f *Facts, _ *Date) { f.TglAkhirPKB = Date{2025, time.February, 29} }, "2025-02-29"},
		{"month 13", func(f *Facts, _ *Date) { f.TglAkhirSTNK = Date{2025, 13, 1} }, "tgl_akhir_stnk"},
	}
	for _, tc := range tests {
		f, pp := good, p
		tc.mod(&f, &pp)
		_, err := Estimate(f, pp, DefaultRules())
		if !errors.Is(err, ErrBadFacts) {
			t.Errorf("%s: got %v, want ErrBadFacts", tc.name, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %q, want it to mention %q", tc.name, err, tc.want)
		}
	}
	// Zero pokok is a valid fact (e.g. a fully exempt vehicle).
	f := good
	f.Pokok = 0
	if _, err := Estimate(f, p, DefaultRules()); err != nil {
		t.Errorf("pokok 0: got %v, want nil", err)
	}
}

// dendaOf are the fine components of a bill, which must never go down when
// the day of payment moves later.
func dendaOf(b Bill) [3]int64 {
	return [3]int64{b.Rincian.PKB.Denda, b.Rincian.OpsenPKB.Denda, b.Rincian.SWDKLLJ.Denda}
}

func TestEstimateProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(2025, 1))
	classes := make([]Class, 0, len(levies))
	for c := range levies {
		classes = append(classes, c)
	}
	slices.Sort(classes) // map order is random; the seed must fix the run
	base := day("2018-01-01")
	const n = 4000
	checked := 0
	for i := range n {
		f := Facts{
			Pokok:        rng.Int64N(50_000_000),
			Class:        classes[rng.IntN(len(classes))],
			SmallVehicle: rng.IntN(2) == 0,
			TglAkhirPKB:  base.AddDays(rng.IntN(9 * 365)),
		}
		f.TglAkhirSTNK = f.TglAkhirPKB.AddDays(rng.IntN(10*365) - 5*365)
		r := DefaultRules()
		if rng.IntN(2) == 0 {
			r.MonthRule = Over15
		}
		r.RoundingUnit = []int64{1, 10, 100, 1000}[rng.IntN(4)]
		r.SWDKLLJFineBaseIncludesKD = rng.IntN(2) == 0
		r.FineCapMonths = 12 + rng.IntN(25)
		p := f.TglAkhirPKB.AddDays(rng.IntN(7*365) - 400)
		later := p.AddDays(1 + rng.IntN(200))

		b1, err := Estimate(f, p, r)
		if errors.Is(err, ErrTooManyPeriods) {
			continue
		}
		if err != nil {
			t.Fatalf("case %d %+v at %v: got error %v", i, f, p, err)
		}
		checkInvariants(t, i, f, p, r, b1)
		b2, err := Estimate(f, later, r)
		if errors.Is(err, ErrTooManyPeriods) {
			continue
		}
		if err != nil {
			t.Fatalf("case %d %+v at %v: got error %v", i, f, later, err)
		}
		checkInvariants(t, i, f, later, r, b2)
		checked++

		d1, d2 := dendaOf(b1), dendaOf(b2)
		for j := range d1 {
			if d2[j] < d1[j] {
				t.Errorf("case %d %+v: fine %d went down from %d at %v to %d at %v", i, f, j, d1[j], p, d2[j], later)
			}
		}
		if len(b2.Periods) < len(b1.Periods) {
			t.Fatalf("case %d: periods went from %d to %d", i, len(b1.Periods), len(b2.Periods))
		}
		for k, p1 := range b1.Periods {
			p2 := b2.Periods[k]
			if p2.Due != p1.Due || p2.Opsen != p1.Opsen || p2.Months < p1.Months || p2.DaysLate < p1.DaysLate {
				t.Errorf("case %d: period %d went from %+v to %+v", i, k, p1, p2)
			}
		}
	}
	if checked < n/2 {
		t.Errorf("only %d of %d cases were checked; the generator is off", checked, n)
	}
}

func checkInvariants(t *testing.T, i int, f Facts, p Date, r Rules, b Bill) {
	t.Helper()
	if b.Rincian.OpsenPKB == nil {
		t.Fatalf("case %d: OpsenPKB is nil", i)
	}
	if s := b.Rincian.Sum(); b.Jumlah != s {
		t.Errorf("case %d: Jumlah %d != Rincian.Sum() %d", i, b.Jumlah, s)
	}
	rc := b.Rincian
	for j, v := range []int64{rc.PKB.Pokok, rc.PKB.Denda, rc.OpsenPKB.Pokok, rc.OpsenPKB.Denda,
		rc.SWDKLLJ.Pokok, rc.SWDKLLJ.Denda, rc.PNBP.STNK, rc.PNBP.TNKB} {
		if v < 0 {
			t.Errorf("case %d %+v at %v: amount %d is %d, want ≥ 0", i, f, p, j, v)
		}
	}
	if rc.Potongan != 0 {
		t.Errorf("case %d: Potongan %d, want 0", i, rc.Potongan)
	}
	for _, v := range []int64{rc.PKB.Denda, rc.OpsenPKB.Denda} {
		if v%r.RoundingUnit != 0 {
			t.Errorf("case %d: fine %d is not a multiple of %d", i, v, r.RoundingUnit)
		}
	}
	if n := len(b.Periods); n < 1 || n > r.MaxPeriods {
		t.Errorf("case %d: %d periods, want 1..%d", i, n, r.MaxPeriods)
	}
	if got, want := rc.PKB.Pokok, f.Pokok*int64(len(b.Periods)); got != want {
		t.Errorf("case %d: PKB pokok %d, want %d", i, got, want)
	}
	if max := int64(len(b.Periods)) * SWDKLLJFineCap; rc.SWDKLLJ.Denda > max {
		t.Errorf("case %d: SWDKLLJ denda %d above %d", i, rc.SWDKLLJ.Denda, max)
	}
	for k, pd := range b.Periods {
		if pd.Due != f.TglAkhirPKB.AddYears(k) {
			t.Errorf("case %d: period %d due %v, want %v", i, k, pd.Due, f.TglAkhirPKB.AddYears(k))
		}
		if k > 0 && pd.Due.After(p) {
			t.Errorf("case %d: period %d due %v after P %v", i, k, pd.Due, p)
		}
		if pd.Months < 0 || pd.Months > r.FineCapMonths || pd.DaysLate < 0 {
			t.Errorf("case %d: period %d %+v out of range", i, k, pd)
		}
		if (pd.DaysLate > 0) != (pd.Months > 0) && r.MonthRule == PartialFull {
			t.Errorf("case %d: period %d %+v: late days without fine months", i, k, pd)
		}
	}
}

func BenchmarkEstimate(b *testing.B) {
	r := DefaultRules()
	cases := []struct {
		name string
		f    Facts
		p    Date
	}{
		{"one period", Facts{Pokok: 2000000, Class: ClassDP,
			TglAkhirPKB: day("2025-02-01"), TglAkhirSTNK: day("2025-02-01")}, day("2025-09-15")},
		{"six periods", Facts{Pokok: 2000000, Class: ClassDP,
			TglAkhirPKB: day("2020-02-01"), TglAkhirSTNK: day("2025-02-01")}, day("2025-09-15")},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Estimate(c.f, c.p, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
