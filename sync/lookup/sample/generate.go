package sample

import (
	"math/bits"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/pkb"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/plate"
)

// generatorVersion is kept in the store's meta table; changing what the
// generator produces for a given Config must change it, so that existing
// stores are regenerated.
const generatorVersion = "1"

// horizonYears and maxPeriods bound the arrears: until Ref + horizonYears
// no vehicle owes more than maxPeriods yearly periods, the estimator's
// default limit (pkb.DefaultRules().MaxPeriods), so lookups do not fail
// with pkb.ErrTooManyPeriods for a long-running store.
const (
	horizonYears = 2
	maxPeriods   = 6
)

// earliestDue is the earliest due date this generator version produces: the
// start of opsen (domain/pkb.md 2.1), so every period is regime B. Older
// dues (regime A, no opsen) are for a later version.
var earliestDue = pkb.Date{Year: 2025, Month: time.January, Day: 5}

// blackPlatesUntil is when white plates replaced black ones for private
// vehicles (Korlantas, June 2022): a plate issued before it is mostly still
// black.
var blackPlatesUntil = pkb.Date{Year: 2022, Month: time.June, Day: 1}

// vehicle is one row of the store: facts of the vehicle only, no owner data
// and of the chassis number only its last five characters.
type vehicle struct {
	Nopol        string
	Rangka5      string
	Merk, Tipe   string
	Jenis        string
	Tahun        int
	Warna        string
	WarnaTNKB    string
	Class        pkb.Class
	Small        bool // 2 wheels
	Pokok        int64
	TglAkhirPKB  pkb.Date
	TglAkhirSTNK pkb.Date
	Blokir       bool
}

// facts are what the estimator needs of v.
func (v *vehicle) facts() pkb.Facts {
	return pkb.Facts{Pokok: v.Pokok, Class: v.Class, SmallVehicle: v.Small, TglAkhirPKB: v.TglAkhirPKB, TglAkhirSTNK: v.TglAkhirSTNK}
}

// bucket is what a vehicle is generated to be as of the reference day.
type bucket uint8

const (
	bucketPaid     bucket = iota // D from Ref+1 day to Ref+11 months
	bucketLate                   // 1-11 months late, one period
	bucketOverYear               // more than one period owed
	bucketBlocked                // status.blokir, dates anything
	bucketRenewal                // STNK renewal within the periods owed
	bucketAny                    // anything
	numBuckets
)

// bucketWeights are the shares in per mille.
var bucketWeights = [numBuckets]int{350, 300, 150, 50, 100, 50}

// generator makes the vehicles of one Config. Vehicle i is drawn from its
// own PCG stream seeded with (seed, i), and every draw takes exactly one
// number from it whatever the reference day, so a vehicle's identity
// (plate, chassis digits, make, model) does not depend on Ref: a store
// regenerated on another day has the same plates and rangka5, only the
// dates, and what follows from them, move.
type generator struct {
	seed uint64
	ref  pkb.Date

	// Windows of the due date D, fixed by ref.
	floor             pkb.Date // earliest D: earliestDue, and no more than maxPeriods owed at ref+horizonYears
	paidLo, last      pkb.Date // ref+1 day, ref+11 months
	lateLo, yesterday pkb.Date
	overHi            pkb.Date // ref − 1 year

	pcg  *rand.PCG
	seen map[string]struct{}
}

func newGenerator(seed int64, ref pkb.Date, size int) *generator {
	g := &generator{seed: uint64(seed), ref: ref, pcg: rand.NewPCG(0, 0), seen: make(map[string]struct{}, size)}
	g.floor = laterOf(earliestDue, ref.AddYears(horizonYears-maxPeriods).AddDays(1))
	g.paidLo = ref.AddDays(1)
	g.last = addMonths(ref, 11)
	g.lateLo = laterOf(g.floor, addMonths(ref, -11))
	g.yesterday = ref.AddDays(-1)
	g.overHi = ref.AddYears(-1)
	return g
}

// generate returns size vehicles in generation order (not sorted).
func generate(seed int64, size int, ref pkb.Date) []vehicle {
	g := newGenerator(seed, ref, size)
	vs := make([]vehicle, size)
	for i := range vs {
		g.vehicle(i, &vs[i])
	}
	return vs
}

// u draws one number of the current vehicle's stream.
func (g *generator) u() uint64 { return g.pcg.Uint64() }

// n draws a number in [0, n) with exactly one draw (Lemire's multiply
// without the rejection step; the bias is below 2^-40 for our n).
func (g *generator) n(n int) int {
	hi, _ := bits.Mul64(g.u(), uint64(n))
	return int(hi)
}

// weightedIndex draws an index of cum, a list of cumulative weights.
func (g *generator) weightedIndex(cum []int) int {
	x := g.n(cum[len(cum)-1])
	for i, c := range cum {
		if x < c {
			return i
		}
	}
	return len(cum) - 1
}

// within draws a day in [lo, hi], or returns lo when hi is before lo.
func (g *generator) within(lo, hi pkb.Date) pkb.Date {
	span := hi.DaysSince(lo) + 1
	if span < 1 {
		g.u()
		return lo
	}
	return lo.AddDays(g.n(span))
}

// cumulative returns the running sums of w.
func cumulative(w []int) []int {
	c := make([]int, len(w))
	t := 0
	for i, x := range w {
		t += x
		c[i] = t
	}
	return c
}

var (
	kindCum   = cumulative(kindWeights[:])
	bucketCum = cumulative(bucketWeights[:])
	// ageSteps weights how many extra five-year STNK cycles a vehicle has
	// lived: most are young, some are 15-20 years old.
	ageStepCum = cumulative([]int{45, 30, 17, 8})
)

// vehicle fills v with vehicle i.
func (g *generator) vehicle(i int, v *vehicle) {
	g.pcg.Seed(g.seed, splitmix(uint64(i)))

	// Identity draws first, all independent of ref.
	m := &governorCar
	k := kindCar
	if i == 0 {
		g.u()
		g.u()
	} else {
		k = kind(g.weightedIndex(kindCum))
		grp := &byKind[k]
		m = grp.models[g.weightedIndex(grp.cum)]
	}
	gov, yellow := g.n(1000) < m.gov, g.n(1000) < m.yellow
	b := bucket(g.weightedIndex(bucketCum))
	cw := colours[k]
	warna := cw[g.pickColour(cw)].s
	serial := g.serial()

	// Dates (these move with ref).
	d := g.dueDate(b)
	owed := periodsAt(d, g.ref)
	jLo, jHi := 1, 4 // STNK ends 1-4 years after D: no renewal yet
	switch b {
	case bucketOverYear:
		jLo = min(owed, 4)
	case bucketRenewal:
		jLo, jHi = 0, owed-1
	case bucketBlocked, bucketAny:
		jLo = 0
	}
	j := jLo + g.n(jHi-jLo+1)
	s := d.AddYears(j)

	// The STNK is renewed every 5 years from registration, so D is a whole
	// number of years a after registration with a ≡ 5 − j (mod 5).
	a := (5 - j) % 5
	if a == 0 {
		a = 5
	}
	a += 5 * g.weightedIndex(ageStepCum)
	yLo, yHi := max(2005, m.from), g.ref.Year
	if m.to != 0 {
		yHi = min(yHi, m.to)
	}
	tahun := max(yLo, min(d.Year-a, yHi))

	tnkb := "PUTIH"
	switch { // government first: a red plate is never also yellow
	case gov:
		tnkb = "MERAH"
	case yellow:
		tnkb = "KUNING"
	}
	if black := g.n(10) < 9; tnkb == "PUTIH" && black && s.AddYears(-5).Before(blackPlatesUntil) {
		tnkb = "HITAM" // plate last issued before June 2022
	}
	// Only the last five characters of the chassis number are kept.
	chassis := vin(m, tahun, serial)
	rangka5 := chassis[len(chassis)-5:]

	class := m.class
	if tnkb == "KUNING" && m.publicClass != "" {
		class = m.publicClass
	}

	// Plate last: its draws depend on collisions with earlier plates.
	var nopol string
	switch i {
	case 0:
		nopol = "BA 1" // governor style: number 1, no series
	case 1:
		nopol = g.plate(m, "OI") // O and I are real series letters
	case 2:
		nopol = g.plate(m, "IO")
	default:
		nopol = g.plate(m, "")
	}

	*v = vehicle{
		Nopol:        nopol,
		Rangka5:      rangka5,
		Merk:         m.merk,
		Tipe:         m.tipe,
		Jenis:        m.jenis,
		Tahun:        tahun,
		Warna:        warna,
		WarnaTNKB:    tnkb,
		Class:        class,
		Small:        m.kind == kindMotor,
		Pokok:        pokok(m.njkb, m.bobot, g.ref.Year-tahun),
		TglAkhirPKB:  d,
		TglAkhirSTNK: s,
		Blokir:       b == bucketBlocked,
	}
}

func (g *generator) pickColour(cw []weighted) int {
	t := 0
	for _, c := range cw {
		t += c.w
	}
	x := g.n(t)
	for i, c := range cw {
		if x < c.w {
			return i
		}
		x -= c.w
	}
	return len(cw) - 1
}

// dueDate draws D for bucket b, always from one draw. A bucket whose
// window is empty for this ref (late_over_year before 2026-01-05, whose D
// would precede earliestDue) falls back to the next younger one.
func (g *generator) dueDate(b bucket) pkb.Date {
	var d pkb.Date
	switch b {
	case bucketOverYear:
		if !g.overHi.Before(g.floor) {
			d = g.within(g.floor, g.overHi)
			break
		}
		fallthrough
	case bucketLate:
		if !g.yesterday.Before(g.lateLo) {
			d = g.within(g.lateLo, g.yesterday)
			break
		}
		fallthrough
	case bucketPaid:
		d = g.within(g.paidLo, g.last)
	default:
		d = g.within(g.floor, g.last)
	}
	d = laterOf(d, g.floor)
	// Guard against 29 February arithmetic: never more than maxPeriods owed
	// at ref + horizonYears.
	for horizon := g.ref.AddYears(horizonYears); !horizon.Before(d.AddYears(maxPeriods)); {
		d = d.AddDays(1)
	}
	return d
}

// vinChars are the characters of a VIN (ISO 3779: no I, O, Q).
const vinChars = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"

// serial draws the production serial, the last six characters of a
// chassis number: digits, and in about 5% of vehicles one letter among the
// last five.
func (g *generator) serial() [6]byte {
	var b [6]byte
	for i := range b {
		b[i] = byte('0' + g.n(10))
	}
	pos, letter := g.n(5), g.n(len(vinChars)-10)
	if g.n(100) < 5 {
		b[1+pos] = vinChars[10+letter]
	}
	return b
}

// vin builds a plausible 17-character chassis number: WMI and VDS of the
// model, the ISO 3779 check digit, the model-year code, a plant code and
// the serial.
func vin(m *model, tahun int, serial [6]byte) string {
	b := []byte(m.wmi + m.vds + "0")
	b = append(b, yearCode(tahun), 'A')
	b = append(b, serial[:]...)
	b[8] = checkDigit(b)
	return string(b)
}

// checkDigit is the ISO 3779 (North American) check digit of a VIN.
func checkDigit(v []byte) byte {
	weights := [17]int{8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2}
	sum := 0
	for i, c := range v {
		sum += translit(c) * weights[i]
	}
	if r := sum % 11; r != 10 {
		return byte('0' + r)
	}
	return 'X'
}

// translit is the ISO 3779 value of a VIN character.
func translit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'H':
		return int(c-'A') + 1
	case c >= 'J' && c <= 'R':
		return int(c-'J') + 1
	case c >= 'S' && c <= 'Z':
		return int(c-'S') + 2
	}
	return 0
}

// yearCode is the model-year character of a VIN (position 10).
func yearCode(y int) byte {
	const codes = "ABCDEFGHJKLMNPRSTVWXY123456789" // 2010..2039
	switch {
	case y >= 2001 && y <= 2009:
		return byte('0' + y - 2000)
	case y >= 2010 && y < 2010+len(codes):
		return codes[y-2010]
	}
	return '0'
}

// plate draws a unique plate for m: BA, a number in the range of its kind,
// and a series whose first letter is a kab/kota letter. series forces the
// series (special cases). Test series (2-3 letters only X and Y) are never
// produced.
func (g *generator) plate(m *model, series string) string {
	lo, hi := 1, 1999
	switch {
	case m.busRange:
		lo, hi = 7000, 7999
	case m.kind == kindMotor:
		lo, hi = 2000, 6999
	case m.kind == kindGoods:
		lo, hi = 8000, 8999
	}
	for {
		num := lo + g.n(hi-lo+1)
		s := series
		if s == "" {
			s = g.series()
		}
		if plate.IsTestSeries(s) {
			continue
		}
		p := "BA " + strconv.Itoa(num) + " " + s
		if _, dup := g.seen[p]; dup {
			continue
		}
		g.seen[p] = struct{}{}
		return p
	}
}

// series draws 1 (25%), 2 (71%) or 3 (4%) letters; 3-letter series exist in
// Sumatera Barat since May 2022.
func (g *generator) series() string {
	n := 2
	switch x := g.n(100); {
	case x < 25:
		n = 1
	case x >= 96:
		n = 3
	}
	var b [3]byte
	b[0] = firstLetters.letters[g.weightedIndex(firstLetters.cum)]
	for i := 1; i < n; i++ {
		b[i] = byte('A' + g.n(26))
	}
	return string(b[:n])
}

// pokok is the yearly PKB principal NJKB × bobot × tarif, with the NJKB
// depreciated 6% a year down to 55% of its new value and a tarif of 1.2% (the
// HKPD cap for a first vehicle; Sumbar's own rates are unconfirmed), rounded
// to whole hundreds. Integer arithmetic keeps it identical on every
// platform (a float expression may be fused differently).
func pokok(njkb, bobot int64, age int) int64 {
	dep := int64(1000)
	for i := 0; i < age && dep > 550; i++ {
		dep = dep * 94 / 100
	}
	dep = max(dep, 550)
	x := njkb * dep * bobot * 12 / 1_000_000_000
	return (x + 50) / 100 * 100
}

// periodsAt is the number of yearly periods owed on day p for due date d
// (domain/pkb.md 2.4 step 1).
func periodsAt(d, p pkb.Date) int {
	n := 1
	for !d.AddYears(n).After(p) {
		n++
	}
	return n
}

// addMonths returns d plus n months with the day clamped to the end of the
// month (31 January + 1 month = 28/29 February), as the estimator counts.
func addMonths(d pkb.Date, n int) pkb.Date {
	t := time.Date(d.Year, d.Month+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := t.AddDate(0, 1, -1).Day()
	return pkb.Date{Year: t.Year(), Month: t.Month(), Day: min(d.Day, last)}
}

func laterOf(a, b pkb.Date) pkb.Date {
	if a.Before(b) {
		return b
	}
	return a
}

// splitmix is SplitMix64's finaliser: it spreads consecutive vehicle
// numbers over the PCG seed space.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
