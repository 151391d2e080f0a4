package pkb

// Class is a SWDKLLJ class (golongan) of domain/pkb.md 2.2. The values are
// the codes printed on the STNK, matched exactly (upper case): a class the
// estimator does not know must not silently become a zero levy.
type Class string

// The SWDKLLJ classes of PMK 16/PMK.010/2017 (domain/pkb.md 2.2).
const (
	ClassA  Class = "A"  // motorcycle ≤ 50 cc, ambulance, hearse, fire engine
	ClassB  Class = "B"  // heavy equipment (tractor, forklift, crane…)
	ClassC1 Class = "C1" // motorcycle > 50-250 cc, 3-wheeler
	ClassC2 Class = "C2" // motorcycle > 250 cc
	ClassDP Class = "DP" // private car, sedan, jeep, pick-up ≤ 2,400 cc
	ClassDU Class = "DU" // public car ≤ 1,600 cc
	ClassEP Class = "EP" // bus/microbus, not public
	ClassEU Class = "EU" // public bus/microbus; public car > 1,600 cc
	ClassF  Class = "F"  // truck, tanker, trailer, goods > 2,400 cc (unconfirmed, [U])
)

// KDFee is the SWDKLLJ card (kartu dana, KD) fee that is added to the levy
// to give the SWDKLLJ pokok shown on the bill (domain/pkb.md 2.2).
const KDFee = 3000

// SWDKLLJFineCap is the most a SWDKLLJ fine can be for one period,
// whatever the class and however late (domain/pkb.md 2.2).
const SWDKLLJFineCap = 100000

// levies is the yearly levy per class, without the KD fee. It is a map
// rather than a switch so that the table reads like the one in the domain
// reference and the tests can range over it.
var levies = map[Class]int64{
	ClassA:  0,
	ClassB:  20000,
	ClassC1: 32000,
	ClassC2: 80000,
	ClassDP: 140000,
	ClassDU: 70000,
	ClassEP: 150000,
	ClassEU: 87000,
	ClassF:  160000,
}

// Levy returns the yearly SWDKLLJ levy without the card fee, and whether c
// is known. Class A is known and has a levy of 0, which is why the boolean
// is needed.
func (c Class) Levy() (int64, bool) {
	l, ok := levies[c]
	return l, ok
}

// swdklljFine is the SWDKLLJ fine for one period that is daysLate days
// late: a quarter of base per started 90 days, at most the whole base, and
// never more than SWDKLLJFineCap. The tiers are statutory amounts, so the
// fine rounding unit of the PKB fine does not apply to them.
func swdklljFine(base int64, daysLate int) int64 {
	var pct int64
	switch {
	case daysLate <= 0:
		return 0
	case daysLate <= 90:
		pct = 25
	case daysLate <= 180:
		pct = 50
	case daysLate <= 270:
		pct = 75
	default:
		pct = 100
	}
	return min(base*pct/100, SWDKLLJFineCap)
}
