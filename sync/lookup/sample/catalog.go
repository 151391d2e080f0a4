package sample

import "github.com/sumbar-samsat/pkbkiosk/kiosk/pkb"

// kind is the broad vehicle group that sets the plate's number range
// (domain/pkb.md 3.1) and the share of the fleet.
type kind uint8

const (
	kindMotor  kind = iota // sepeda motor: numbers 2000-6999
	kindCar                // private passenger car: 1-1999
	kindGoods              // pick-up, truck: 8000-8999
	kindPublic             // angkot (1-1999), microbus and bus (7000-7999)
	numKinds
)

// kindWeights is the fleet mix in per mille: about 85% motorcycles, 11%
// private cars, 3% goods vehicles, 1% buses and public transport.
var kindWeights = [numKinds]int{kindMotor: 850, kindCar: 110, kindGoods: 30, kindPublic: 10}

// model is one vehicle model of the catalogue.
type model struct {
	kind  kind
	merk  string // make, upper case as on the STNK
	tipe  string // model
	jenis string // STNK jenis: SEPEDA MOTOR, MINIBUS, JEEP, SEDAN, PICK UP, TRUCK, MICROBUS, BUS
	class pkb.Class
	// publicClass, when set, replaces class for a yellow (public) plate:
	// a microbus or bus is EU when public and EP when private.
	publicClass pkb.Class
	// bobot is the weight of domain/pkb.md 2.1 in per mille.
	bobot int64
	// njkb is the NJKB of a new one in rupiah; it depreciates with age.
	njkb int64
	// from and to are the model years sold; to 0 means still sold.
	from, to int
	// weight is the popularity within the kind.
	weight int
	// yellow is the chance in per mille of a KUNING (public) plate and
	// gov that of a MERAH (government) one.
	yellow, gov int
	// busRange puts the plate in 7000-7999 (buses and microbuses) rather
	// than the kind's range.
	busRange bool
	// wmi and vds are the first 3 and the next 5 characters of the chassis
	// number (VIN), the rest is generated.
	wmi, vds string
}

// Bobot of domain/pkb.md 2.1, per mille.
const (
	bobotMotor   = 1000
	bobotSedan   = 1025
	bobotMinibus = 1050 // jeep, minibus
	bobotVan     = 1085 // van, pick-up, microbus
	bobotBus     = 1100
	bobotLight   = 1300 // light truck
	bobotTruck   = 1400
)

// catalogue lists real models sold in Indonesia with rough NJKB values of a
// new one (the NJKB tables are a Kepmendagri schedule; these are
// approximations that give realistic PKB magnitudes, not the official
// figures).
var catalogue = []model{
	// Motorcycles. WMI: MH1 Honda, MH3 Yamaha, MH8 Suzuki, MH4 Kawasaki.
	{kind: kindMotor, merk: "HONDA", tipe: "BEAT", njkb: 16_500_000, from: 2008, weight: 240, wmi: "MH1", vds: "JM811"},
	{kind: kindMotor, merk: "HONDA", tipe: "VARIO 125", njkb: 21_000_000, from: 2012, weight: 110, wmi: "MH1", vds: "JFZ21"},
	{kind: kindMotor, merk: "HONDA", tipe: "VARIO 160", njkb: 24_500_000, from: 2022, weight: 35, wmi: "MH1", vds: "KF411"},
	{kind: kindMotor, merk: "HONDA", tipe: "SCOOPY", njkb: 20_000_000, from: 2010, weight: 70, wmi: "MH1", vds: "JM121"},
	{kind: kindMotor, merk: "HONDA", tipe: "PCX 160", njkb: 29_000_000, from: 2021, weight: 30, wmi: "MH1", vds: "KF301"},
	{kind: kindMotor, merk: "HONDA", tipe: "SUPRA X 125", njkb: 17_500_000, from: 2005, to: 2022, weight: 60, wmi: "MH1", vds: "JB911"},
	{kind: kindMotor, merk: "HONDA", tipe: "REVO", njkb: 15_000_000, from: 2007, weight: 35, wmi: "MH1", vds: "JBK11"},
	{kind: kindMotor, merk: "HONDA", tipe: "CBR150R", njkb: 33_000_000, from: 2005, weight: 15, wmi: "MH1", vds: "KC841"},
	{kind: kindMotor, merk: "HONDA", tipe: "CRF150L", njkb: 30_000_000, from: 2017, weight: 8, wmi: "MH1", vds: "KD111"},
	{kind: kindMotor, merk: "YAMAHA", tipe: "NMAX", njkb: 28_000_000, from: 2015, weight: 60, wmi: "MH3", vds: "SG371"},
	{kind: kindMotor, merk: "YAMAHA", tipe: "MIO M3", njkb: 16_000_000, from: 2014, to: 2024, weight: 60, wmi: "MH3", vds: "SE881"},
	{kind: kindMotor, merk: "YAMAHA", tipe: "AEROX 155", njkb: 25_000_000, from: 2016, weight: 30, wmi: "MH3", vds: "SG331"},
	{kind: kindMotor, merk: "YAMAHA", tipe: "JUPITER Z1", njkb: 17_000_000, from: 2012, to: 2023, weight: 30, wmi: "MH3", vds: "PD171"},
	{kind: kindMotor, merk: "YAMAHA", tipe: "VEGA FORCE", njkb: 15_500_000, from: 2015, weight: 20, wmi: "MH3", vds: "PD241"},
	{kind: kindMotor, merk: "YAMAHA", tipe: "FINO", njkb: 18_000_000, from: 2008, weight: 20, wmi: "MH3", vds: "SE581"},
	{kind: kindMotor, merk: "YAMAHA", tipe: "R15", njkb: 34_000_000, from: 2014, weight: 10, wmi: "MH3", vds: "RG011"},
	{kind: kindMotor, merk: "SUZUKI", tipe: "SATRIA F150", njkb: 23_500_000, from: 2005, weight: 30, wmi: "MH8", vds: "BG41E"},
	{kind: kindMotor, merk: "SUZUKI", tipe: "NEX II", njkb: 15_000_000, from: 2017, weight: 10, wmi: "MH8", vds: "DF11E"},
	// Ninja 250 is 249 cc, so C1 by the 2.2 table; the 650 and the CB500X
	// are the big bikes (> 250 cc, class C2).
	{kind: kindMotor, merk: "KAWASAKI", tipe: "NINJA 250", njkb: 58_000_000, from: 2008, weight: 8, wmi: "MH4", vds: "EX250"},
	{kind: kindMotor, merk: "KAWASAKI", tipe: "KLX 150", njkb: 28_000_000, from: 2009, weight: 6, wmi: "MH4", vds: "LX150"},
	{kind: kindMotor, merk: "KAWASAKI", tipe: "NINJA 650", class: pkb.ClassC2, njkb: 130_000_000, from: 2012, weight: 2, wmi: "MH4", vds: "EX650"},
	{kind: kindMotor, merk: "HONDA", tipe: "CB500X", class: pkb.ClassC2, njkb: 120_000_000, from: 2016, weight: 1, wmi: "MH1", vds: "PC461"},

	// Private cars (DP). WMI: MHF Toyota, MHK Daihatsu, MHR Honda, MK2 and
	// MHM Mitsubishi, MHY Suzuki.
	{kind: kindCar, merk: "TOYOTA", tipe: "AVANZA", jenis: "MINIBUS", njkb: 210_000_000, from: 2005, weight: 140, gov: 20, wmi: "MHK", vds: "M1BA3"},
	{kind: kindCar, merk: "TOYOTA", tipe: "KIJANG INNOVA", jenis: "MINIBUS", njkb: 340_000_000, from: 2005, weight: 70, gov: 80, wmi: "MHF", vds: "XW42G"},
	{kind: kindCar, merk: "TOYOTA", tipe: "RUSH", jenis: "JEEP", njkb: 250_000_000, from: 2007, weight: 50, gov: 20, wmi: "MHK", vds: "A4DA3"},
	{kind: kindCar, merk: "TOYOTA", tipe: "FORTUNER", jenis: "JEEP", njkb: 500_000_000, from: 2005, weight: 30, gov: 150, wmi: "MHF", vds: "AB8GS"},
	{kind: kindCar, merk: "TOYOTA", tipe: "CALYA", jenis: "MINIBUS", njkb: 150_000_000, from: 2016, weight: 60, wmi: "MHK", vds: "B4CA1"},
	{kind: kindCar, merk: "TOYOTA", tipe: "AGYA", jenis: "MINIBUS", njkb: 150_000_000, from: 2013, weight: 30, wmi: "MHK", vds: "A1BA1"},
	{kind: kindCar, merk: "TOYOTA", tipe: "VIOS", jenis: "SEDAN", bobot: bobotSedan, njkb: 280_000_000, from: 2005, weight: 10, gov: 50, wmi: "MHF", vds: "BN1EY"},
	{kind: kindCar, merk: "DAIHATSU", tipe: "XENIA", jenis: "MINIBUS", njkb: 200_000_000, from: 2005, weight: 80, gov: 20, wmi: "MHK", vds: "M1CA2"},
	{kind: kindCar, merk: "DAIHATSU", tipe: "TERIOS", jenis: "JEEP", njkb: 230_000_000, from: 2007, weight: 40, wmi: "MHK", vds: "A4BA2"},
	{kind: kindCar, merk: "DAIHATSU", tipe: "SIGRA", jenis: "MINIBUS", njkb: 140_000_000, from: 2016, weight: 60, wmi: "MHK", vds: "B4BA1"},
	{kind: kindCar, merk: "DAIHATSU", tipe: "AYLA", jenis: "MINIBUS", njkb: 130_000_000, from: 2013, weight: 30, wmi: "MHK", vds: "A1AA1"},
	{kind: kindCar, merk: "HONDA", tipe: "BRIO", jenis: "MINIBUS", njkb: 165_000_000, from: 2012, weight: 60, wmi: "MHR", vds: "DD171"},
	{kind: kindCar, merk: "HONDA", tipe: "HR-V", jenis: "JEEP", njkb: 330_000_000, from: 2014, weight: 30, wmi: "MHR", vds: "RU170"},
	{kind: kindCar, merk: "HONDA", tipe: "JAZZ", jenis: "MINIBUS", njkb: 230_000_000, from: 2005, to: 2021, weight: 20, wmi: "MHR", vds: "GK570"},
	{kind: kindCar, merk: "HONDA", tipe: "CIVIC", jenis: "SEDAN", bobot: bobotSedan, njkb: 450_000_000, from: 2005, weight: 10, wmi: "MHR", vds: "FC180"},
	{kind: kindCar, merk: "MITSUBISHI", tipe: "XPANDER", jenis: "MINIBUS", njkb: 260_000_000, from: 2017, weight: 60, gov: 10, wmi: "MK2", vds: "NCXTA"},
	{kind: kindCar, merk: "MITSUBISHI", tipe: "PAJERO SPORT", jenis: "JEEP", njkb: 520_000_000, from: 2009, weight: 20, gov: 150, wmi: "MK2", vds: "KRWPN"},
	{kind: kindCar, merk: "SUZUKI", tipe: "ERTIGA", jenis: "MINIBUS", njkb: 220_000_000, from: 2012, weight: 40, wmi: "MHY", vds: "NC22S"},

	// Goods. Pick-ups ≤ 2,400 cc are DP, trucks F (domain/pkb.md 2.2).
	// WMI: MHC Isuzu, MJE Hino.
	{kind: kindGoods, merk: "DAIHATSU", tipe: "GRAN MAX PU", jenis: "PICK UP", bobot: bobotVan, njkb: 150_000_000, from: 2007, weight: 100, gov: 20, wmi: "MHK", vds: "S402R"},
	{kind: kindGoods, merk: "SUZUKI", tipe: "CARRY PU", jenis: "PICK UP", bobot: bobotVan, njkb: 140_000_000, from: 2005, weight: 100, gov: 20, wmi: "MHY", vds: "ESL41"},
	{kind: kindGoods, merk: "MITSUBISHI", tipe: "L300 PU", jenis: "PICK UP", bobot: bobotVan, njkb: 230_000_000, from: 2005, weight: 60, wmi: "MHM", vds: "L300P"},
	{kind: kindGoods, merk: "TOYOTA", tipe: "HILUX PU", jenis: "PICK UP", bobot: bobotVan, njkb: 260_000_000, from: 2005, weight: 20, gov: 50, wmi: "MR0", vds: "AA8CD"},
	{kind: kindGoods, merk: "MITSUBISHI", tipe: "COLT DIESEL FE 74", jenis: "TRUCK", class: pkb.ClassF, bobot: bobotLight, njkb: 380_000_000, from: 2005, weight: 50, yellow: 250, wmi: "MHM", vds: "FE74H"},
	{kind: kindGoods, merk: "ISUZU", tipe: "ELF NMR 71", jenis: "TRUCK", class: pkb.ClassF, bobot: bobotLight, njkb: 360_000_000, from: 2005, weight: 40, yellow: 250, wmi: "MHC", vds: "NMR71"},
	{kind: kindGoods, merk: "HINO", tipe: "DUTRO 130 HD", jenis: "TRUCK", class: pkb.ClassF, bobot: bobotLight, njkb: 420_000_000, from: 2005, weight: 30, yellow: 250, wmi: "MJE", vds: "XZU72"},
	{kind: kindGoods, merk: "HINO", tipe: "RANGER FM 260 JD", jenis: "TRUCK", class: pkb.ClassF, bobot: bobotTruck, njkb: 950_000_000, from: 2005, weight: 10, yellow: 400, wmi: "MJE", vds: "FM2PK"},

	// Public transport and buses. Angkot are public cars ≤ 1,600 cc (DU) in
	// the car range; microbuses and buses are EU when public, EP otherwise.
	{kind: kindPublic, merk: "DAIHATSU", tipe: "GRAN MAX MB", jenis: "MINIBUS", class: pkb.ClassDU, bobot: bobotVan, njkb: 170_000_000, from: 2007, weight: 40, yellow: 1000, wmi: "MHK", vds: "S402R"},
	{kind: kindPublic, merk: "SUZUKI", tipe: "APV ARENA", jenis: "MINIBUS", class: pkb.ClassDU, bobot: bobotVan, njkb: 175_000_000, from: 2005, weight: 20, yellow: 1000, wmi: "MHY", vds: "GC415"},
	{kind: kindPublic, merk: "TOYOTA", tipe: "HIACE COMMUTER", jenis: "MICROBUS", class: pkb.ClassEP, publicClass: pkb.ClassEU, bobot: bobotVan, njkb: 520_000_000, from: 2005, weight: 25, yellow: 800, busRange: true, wmi: "JTF", vds: "SS22P"},
	{kind: kindPublic, merk: "ISUZU", tipe: "ELF NLR MICROBUS", jenis: "MICROBUS", class: pkb.ClassEP, publicClass: pkb.ClassEU, bobot: bobotVan, njkb: 400_000_000, from: 2005, weight: 25, yellow: 800, busRange: true, wmi: "MHC", vds: "NLR55"},
	{kind: kindPublic, merk: "MITSUBISHI", tipe: "COLT DIESEL BUS", jenis: "BUS", class: pkb.ClassEP, publicClass: pkb.ClassEU, bobot: bobotBus, njkb: 550_000_000, from: 2005, weight: 8, yellow: 850, busRange: true, wmi: "MHM", vds: "FE84B"},
	{kind: kindPublic, merk: "HINO", tipe: "RK8 R260", jenis: "BUS", class: pkb.ClassEP, publicClass: pkb.ClassEU, bobot: bobotBus, njkb: 1_300_000_000, from: 2005, weight: 8, yellow: 850, busRange: true, wmi: "MJE", vds: "RK8JS"},
	{kind: kindPublic, merk: "MERCEDES-BENZ", tipe: "OH 1526", jenis: "BUS", class: pkb.ClassEP, publicClass: pkb.ClassEU, bobot: bobotBus, njkb: 1_500_000_000, from: 2005, weight: 4, yellow: 850, busRange: true, wmi: "MHL", vds: "A6342"},
}

// governorCar is the vehicle of BA 1 (governor style: number 1, no
// series, red plate).
var governorCar = model{kind: kindCar, merk: "TOYOTA", tipe: "LAND CRUISER", jenis: "JEEP", njkb: 2_100_000_000, from: 2020, weight: 0, gov: 1000, wmi: "JTM", vds: "HV05J"}

// byKind holds the catalogue grouped by kind with cumulative weights, filled
// by init from the static table.
var byKind [numKinds]struct {
	models []*model
	cum    []int // cumulative weights
}

func init() {
	for i := range catalogue {
		m := &catalogue[i]
		fillDefaults(m)
		g := &byKind[m.kind]
		total := m.weight
		if n := len(g.cum); n > 0 {
			total += g.cum[n-1]
		}
		g.models = append(g.models, m)
		g.cum = append(g.cum, total)
	}
	fillDefaults(&governorCar)
}

// fillDefaults sets the class, jenis and bobot a model leaves implicit.
func fillDefaults(m *model) {
	if m.kind == kindMotor {
		if m.class == "" {
			m.class = pkb.ClassC1
		}
		m.jenis = "SEPEDA MOTOR"
		if m.gov == 0 {
			m.gov = 3 // a few dinas motorcycles
		}
	}
	if m.class == "" {
		m.class = pkb.ClassDP
	}
	if m.bobot == 0 {
		switch m.kind {
		case kindMotor:
			m.bobot = bobotMotor
		default:
			m.bobot = bobotMinibus
		}
	}
}

// modelOf finds the catalogue entry of a make and model, for tests.
func modelOf(merk, tipe string) *model {
	if merk == governorCar.merk && tipe == governorCar.tipe {
		return &governorCar
	}
	for i := range catalogue {
		if catalogue[i].merk == merk && catalogue[i].tipe == tipe {
			return &catalogue[i]
		}
	}
	return nil
}

// Colours of the body (STNK "warna") by kind, with weights.
var colours = [numKinds][]weighted{
	kindMotor:  {{"HITAM", 32}, {"PUTIH", 16}, {"MERAH", 14}, {"BIRU", 10}, {"ABU-ABU", 10}, {"SILVER", 6}, {"HIJAU", 3}, {"KUNING", 3}, {"COKLAT", 3}, {"ORANYE", 3}},
	kindCar:    {{"PUTIH", 30}, {"HITAM", 22}, {"SILVER", 20}, {"ABU-ABU", 14}, {"MERAH", 5}, {"BIRU", 5}, {"COKLAT", 4}},
	kindGoods:  {{"PUTIH", 35}, {"HITAM", 15}, {"SILVER", 15}, {"KUNING", 10}, {"BIRU", 10}, {"HIJAU", 10}, {"MERAH", 5}},
	kindPublic: {{"PUTIH", 30}, {"KUNING", 15}, {"BIRU", 15}, {"HIJAU", 15}, {"MERAH", 15}, {"SILVER", 10}},
}

type weighted struct {
	s string
	w int
}

// regions are the first series letters of the 19 kab/kota of Sumatera
// Barat (domain/pkb.md 3.3) weighted by rough vehicle numbers (population
// 2020 in thousands, Padang doubled for its density). O and I are real
// series letters.
var regions = []struct {
	letters string
	weight  int
}{
	{"ABOQR", 1800}, // Padang
	{"CX", 383},     // Lima Puluh Kota
	{"D", 299},      // Pasaman
	{"E", 371},      // Tanah Datar
	{"F", 430},      // Padang Pariaman
	{"GI", 504},     // Pesisir Selatan
	{"H", 391},      // Kabupaten Solok
	{"J", 65},       // Sawahlunto
	{"K", 235},      // Sijunjung
	{"L", 181},      // Bukittinggi (city: ×1.5)
	{"M", 208},      // Payakumbuh (city: ×1.5)
	{"N", 84},       // Padang Panjang (city: ×1.5)
	{"P", 110},      // Kota Solok (city: ×1.5)
	{"S", 431},      // Pasaman Barat
	{"TZ", 527},     // Agam
	{"U", 87},       // Mentawai
	{"V", 228},      // Dharmasraya
	{"W", 141},      // Pariaman (city: ×1.5)
	{"Y", 182},      // Solok Selatan
}

// firstLetters expands regions into single letters with cumulative weights,
// filled by init.
var firstLetters struct {
	letters []byte
	cum     []int
}

func init() {
	total := 0
	for _, r := range regions {
		// A region's weight is shared by its letters; the remainder goes to
		// the first so that the total stays exact.
		n := len(r.letters)
		for i := 0; i < n; i++ {
			w := r.weight / n
			if i == 0 {
				w += r.weight % n
			}
			total += w
			firstLetters.letters = append(firstLetters.letters, r.letters[i])
			firstLetters.cum = append(firstLetters.cum, total)
		}
	}
}
