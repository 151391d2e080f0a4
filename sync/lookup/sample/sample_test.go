package sample

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/pkb"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/plate"
	"github.com/sumbar-samsat/pkbkiosk/sync/lookup"
)

// testRef is the reference day of the test stores; testNow is 16:15:30.5
// WIB on that day.
var testRef = pkb.NewDate(2026, time.May, 20)

func testNow() time.Time { return time.Date(2026, time.May, 20, 9, 15, 30, 500_000_000, time.UTC) }

func testConfig(dir string) Config {
	return Config{Path: filepath.Join(dir, "sample.db"), Seed: 1, Size: 1000, Ref: testRef, Now: testNow}
}

func open(t testing.TB, cfg Config) *Source {
	t.Helper()
	s, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open(%+v): %v", cfg, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// vehicles reads the whole store in plate order.
func vehicles(t testing.TB, s *Source) []vehicle {
	t.Helper()
	rows, err := s.db.QueryContext(t.Context(), `SELECT `+vehicleColumns+` FROM vehicle ORDER BY nopol`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []vehicle
	for rows.Next() {
		var v vehicle
		if err := scanVehicle(rows, &v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestDeterministic(t *testing.T) {
	a := vehicles(t, open(t, testConfig(t.TempDir())))
	b := vehicles(t, open(t, testConfig(t.TempDir())))
	if len(a) != 1000 {
		t.Fatalf("store has %d vehicles, want 1000", len(a))
	}
	if !slices.Equal(a, b) {
		t.Errorf("two stores of the same Config differ")
	}

	cfg := testConfig(t.TempDir())
	cfg.Seed = 2
	c := vehicles(t, open(t, cfg))
	same := 0
	for i := range min(len(a), len(c)) {
		if a[i] == c[i] {
			same++
		}
	}
	if same > 10 { // BA 1 may coincide in plate, but not in every fact
		t.Errorf("seeds 1 and 2 share %d of %d vehicles, want different stores", same, len(a))
	}
}

// TestIdentityIndependentOfRef checks that regenerating on another day keeps
// the plates, rangka5 and models, so a running hub and `kioskhub sample
// plates` on a later day agree on which plates exist.
func TestIdentityIndependentOfRef(t *testing.T) {
	type ident struct{ nopol, rangka5, merk, tipe string }
	idents := func(ref pkb.Date) []ident {
		var out []ident
		for _, v := range generate(7, 2000, ref) {
			out = append(out, ident{v.Nopol, v.Rangka5, v.Merk, v.Tipe})
		}
		return out
	}
	a, b := idents(testRef), idents(pkb.NewDate(2030, time.February, 28))
	if !slices.Equal(a, b) {
		t.Errorf("vehicle identities depend on the reference day")
	}
}

func TestReuse(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	check := func(cfg Config, wantGenerated bool) {
		t.Helper()
		s, err := Open(t.Context(), cfg)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer s.Close()
		st := s.Stats()
		if st.Generated != wantGenerated || st.Vehicles != cfg.Size || (st.Took == 0) == wantGenerated {
			t.Errorf("Open(seed %d, size %d, ref %v).Stats() = %+v, want Generated %v, Vehicles %d",
				cfg.Seed, cfg.Size, cfg.Ref, st, wantGenerated, cfg.Size)
		}
	}
	check(cfg, true)
	check(cfg, false)

	other := cfg
	other.Size = 900
	check(other, true)
	check(other, false)
	check(cfg, true)

	other = cfg
	other.Seed = 3
	check(other, true)
	check(cfg, true)

	other = cfg
	other.Ref = testRef.AddDays(1)
	check(other, true)
	check(cfg, true)

	// Zero Ref is today (from Now): the same day reuses the store.
	other = cfg
	other.Ref = pkb.Date{}
	check(other, false)
	// ... and so do later days, up to MaxRefAge: the due dates stay put.
	later := testNow().AddDate(0, 0, MaxRefAge)
	other.Now = func() time.Time { return later }
	check(other, false)
	// Past that, too few vehicles would be paid up: generated anew.
	muchLater := later.AddDate(0, 0, 1)
	other.Now = func() time.Time { return muchLater }
	check(other, true)

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"sample.db"}) {
		t.Errorf("directory holds %q, want only sample.db (no temporary files)", names)
	}
}

func TestPlatesRoundTrip(t *testing.T) {
	s := open(t, testConfig(t.TempDir()))
	var governor, withO, withI, three bool
	for _, v := range vehicles(t, s) {
		p, err := plate.Parse(v.Nopol, nil)
		if err != nil || p.String() != v.Nopol {
			t.Errorf("plate.Parse(%q) = %q, %v; want it unchanged", v.Nopol, p, err)
			continue
		}
		governor = governor || v.Nopol == "BA 1"
		withO = withO || strings.Contains(p.Series, "O")
		withI = withI || strings.Contains(p.Series, "I")
		three = three || len(p.Series) == 3
		if p.Number == "1" && p.Series == "" {
			continue
		}
		m := modelOf(v.Merk, v.Tipe)
		lo, hi := numberRange(m)
		var n int
		fmt.Sscan(p.Number, &n)
		if n < lo || n > hi || p.Series == "" {
			t.Errorf("%s (%s %s): want number in %d..%d and a series", v.Nopol, v.Merk, v.Tipe, lo, hi)
		}
	}
	if !governor || !withO || !withI || !three {
		t.Errorf("special plates: BA 1 %v, series with O %v, with I %v, 3-letter series %v; want all", governor, withO, withI, three)
	}
}

func numberRange(m *model) (lo, hi int) {
	switch {
	case m.busRange:
		return 7000, 7999
	case m.kind == kindMotor:
		return 2000, 6999
	case m.kind == kindGoods:
		return 8000, 8999
	}
	return 1, 1999
}

func TestCategories(t *testing.T) {
	dir := t.TempDir()
	for _, days := range []int{0, 45, 200} {
		t.Run(fmt.Sprintf("ref+%dd", days), func(t *testing.T) {
			cfg := testConfig(dir)
			cfg.Now = func() time.Time { return testNow().AddDate(0, 0, days) }
			s := open(t, cfg)
			samples, err := s.Plates(t.Context(), 12)
			if err != nil {
				t.Fatal(err)
			}
			if len(samples) != 12 {
				t.Fatalf("Plates(12) returned %d samples: %v", len(samples), samples)
			}
			for i, sm := range samples {
				if want := categoryOrder[i%len(categoryOrder)]; sm.Category != want {
					t.Errorf("sample %d is %s, want %s (round-robin)", i, sm.Category, want)
				}
				checkCategory(t, s, sm)
			}
			again, err := s.Plates(t.Context(), 12)
			if err != nil || !slices.Equal(samples, again) {
				t.Errorf("second Plates(12) = %v, %v; want %v", again, err, samples)
			}
			more, err := s.Plates(t.Context(), 30)
			if err != nil || len(more) != 30 {
				t.Errorf("Plates(30) = %d samples, %v", len(more), err)
			}
		})
	}
}

// checkCategory looks sm up and checks that the result matches its
// category.
func checkCategory(t *testing.T, s *Source, sm Sample) {
	t.Helper()
	if _, err := plate.Parse(sm.Plate, nil); err != nil {
		t.Errorf("%s: sample plate does not parse: %v", sm.Plate, err)
	}
	if sm.Category == NotFound {
		if sm.Rangka5 != "-" {
			t.Errorf("%s: not_found rangka5 %q, want -", sm.Plate, sm.Rangka5)
		}
		if _, err := s.Lookup(t.Context(), lookup.Query{Plate: sm.Plate}); !errors.Is(err, lookup.ErrNotFound) {
			t.Errorf("Lookup(%s) error %v, want ErrNotFound", sm.Plate, err)
		}
		return
	}
	r, err := s.Lookup(t.Context(), lookup.Query{Plate: sm.Plate, Rangka5: sm.Rangka5})
	if err != nil {
		t.Errorf("Lookup(%s): %v", sm.Plate, err)
		return
	}
	var v vehicle
	if err := scanVehicle(s.byPlate.QueryRowContext(t.Context(), sm.Plate), &v); err != nil {
		t.Fatal(err)
	}
	rc := r.Rincian
	denda := rc.PKB.Denda + rc.OpsenPKB.Denda + rc.SWDKLLJ.Denda
	pnbp := rc.PNBP.STNK + rc.PNBP.TNKB
	var bad bool
	switch sm.Category {
	case Paid:
		bad = denda != 0 || pnbp != 0 || rc.PKB.Pokok != v.Pokok || r.Status.Blokir || r.Status.Keterangan != "BELUM JATUH TEMPO"
	case Late:
		bad = rc.PKB.Denda <= 0 || rc.PKB.Pokok != v.Pokok || pnbp != 0 || r.Status.Blokir || r.Status.Keterangan != "BELUM BAYAR"
	case LateOverYear:
		bad = rc.PKB.Pokok < 2*v.Pokok || rc.PKB.Denda <= 0 || pnbp != 0 || r.Status.Blokir || r.Status.Keterangan != "BELUM BAYAR"
	case Blocked:
		bad = !r.Status.Blokir || r.Status.Keterangan != "BLOKIR"
	case RenewalDue:
		bad = rc.PNBP.STNK <= 0 || rc.PNBP.TNKB <= 0 || r.Status.Blokir
	default:
		bad = true
	}
	if bad {
		t.Errorf("%s (%s): result does not match: pokok/yr %d, %+v, status %+v, PKB %+v, opsen %+v, SWDKLLJ %+v, PNBP %+v",
			sm.Plate, sm.Category, v.Pokok, r.TglAkhirPKB, r.Status, rc.PKB, *rc.OpsenPKB, rc.SWDKLLJ, rc.PNBP)
	}
}

func TestPlatesSmallStore(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Size = 3
	s := open(t, cfg)
	got, err := s.Plates(t.Context(), 12)
	if err != nil {
		t.Fatal(err)
	}
	// 3 vehicles and however many not_found plates fill the rest.
	if len(got) != 12 {
		t.Errorf("Plates(12) on 3 vehicles = %v, want 12 samples", got)
	}
	if got, err := s.Plates(t.Context(), 0); len(got) != 0 || err != nil {
		t.Errorf("Plates(0) = %v, %v; want none", got, err)
	}
}

func TestRangka(t *testing.T) {
	s := open(t, testConfig(t.TempDir()))
	v := vehicles(t, s)[500]
	wrong := []byte(v.Rangka5)
	wrong[4] = '0' + (wrong[4]-'0'+1)%10
	if wrong[4] < '0' || wrong[4] > '9' {
		wrong[4] = '7'
	}
	for _, tt := range []struct {
		name, plate, rangka5 string
		want                 error
	}{
		{"match", v.Nopol, v.Rangka5, nil},
		{"empty is not checked", v.Nopol, "", nil},
		{"mismatch", v.Nopol, string(wrong), lookup.ErrRangkaMismatch},
		{"lower case is a mismatch", v.Nopol, strings.ToLower(v.Rangka5) + "a", lookup.ErrRangkaMismatch},
		{"unknown plate", "BA 9999 ZZZ", v.Rangka5, lookup.ErrNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := s.Lookup(t.Context(), lookup.Query{Plate: tt.plate, Rangka5: tt.rangka5, Kiosk: "k1"})
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("Lookup = %v, want %v", err, tt.want)
			}
			if err != nil && (strings.Contains(err.Error(), tt.plate) || strings.Contains(err.Error(), v.Rangka5)) {
				t.Errorf("error %q contains the plate or the rangka5", err)
			}
			if err == nil && r.Nopol != tt.plate {
				t.Errorf("Nopol = %q, want %q", r.Nopol, tt.plate)
			}
		})
	}
}

func TestResult(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.TZ = nil // Asia/Jakarta
	s := open(t, cfg)
	vs := vehicles(t, s)
	for _, v := range vs[:200] {
		r, err := s.Lookup(t.Context(), lookup.Query{Plate: v.Nopol, Rangka5: v.Rangka5})
		if err != nil {
			t.Fatalf("Lookup(%s): %v", v.Nopol, err)
		}
		bill, err := pkb.Estimate(v.facts(), testRef, pkb.DefaultRules())
		if err != nil {
			t.Fatal(err)
		}
		_, off := r.DihitungPada.Zone()
		wantTime := time.Date(2026, time.May, 20, 16, 15, 30, 0, time.FixedZone("", 7*3600))
		if r.Sumber != "DEMO" || r.Estimasi || r.Jumlah != r.Rincian.Sum() || r.Jumlah != bill.Jumlah ||
			off != 7*3600 || !r.DihitungPada.Equal(wantTime) || r.Program != "" || r.Rincian.OpsenPKB == nil {
			t.Errorf("Lookup(%s) = sumber %q estimasi %v jumlah %d (sum %d, estimate %d) dihitung_pada %v program %q opsen %v",
				v.Nopol, r.Sumber, r.Estimasi, r.Jumlah, r.Rincian.Sum(), bill.Jumlah, r.DihitungPada, r.Program, r.Rincian.OpsenPKB)
		}
		k := r.Kendaraan
		if r.Nopol != v.Nopol || k.Merk != v.Merk || k.Tipe != v.Tipe || k.Tahun != fmt.Sprint(v.Tahun) || k.Warna == "" ||
			k.WarnaTNKB != v.WarnaTNKB || r.TglAkhirPKB != v.TglAkhirPKB || r.TglAkhirSTNK != v.TglAkhirSTNK ||
			r.Status.Blokir != v.Blokir {
			t.Errorf("Lookup(%s) = %+v, want the facts %+v", v.Nopol, r, v)
		}
		want := "BELUM JATUH TEMPO"
		switch {
		case v.Blokir:
			want = "BLOKIR"
		case !v.TglAkhirPKB.After(testRef):
			want = "BELUM BAYAR"
		}
		if r.Status.Keterangan != want {
			t.Errorf("Lookup(%s).Status.Keterangan = %q, want %q", v.Nopol, r.Status.Keterangan, want)
		}
	}
}

// TestTooManyPeriods checks the documented behaviour when a store is used
// long after its reference day.
func TestTooManyPeriods(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Now = func() time.Time { return testNow().AddDate(8, 0, 0) }
	s := open(t, cfg)
	var v vehicle
	for _, v = range vehicles(t, s) {
		if periodsAt(v.TglAkhirPKB, testRef.AddYears(8)) > maxPeriods {
			break
		}
	}
	_, err := s.Lookup(t.Context(), lookup.Query{Plate: v.Nopol})
	if !errors.Is(err, lookup.ErrUnavailable) || !errors.Is(err, pkb.ErrTooManyPeriods) {
		t.Errorf("Lookup eight years after ref = %v, want ErrUnavailable and ErrTooManyPeriods", err)
	}
}

func TestMix(t *testing.T) {
	const n = 20000
	vs := generate(1, n, testRef)
	var kinds [numKinds]int
	cats := map[Category]int{}
	tnkb := map[string]int{}
	letters := 0
	for i := range vs {
		v := &vs[i]
		kinds[modelOf(v.Merk, v.Tipe).kind]++
		c, _ := categorize(v, testRef, pkb.DefaultRules())
		cats[c]++
		tnkb[v.WarnaTNKB]++
		if strings.IndexFunc(v.Rangka5, func(r rune) bool { return r >= 'A' && r <= 'Z' }) >= 0 {
			letters++
		}
	}
	pct := func(x int) float64 { return 100 * float64(x) / n }
	for _, tt := range []struct {
		what      string
		got       float64
		want, tol float64
	}{
		{"motorcycles", pct(kinds[kindMotor]), 85, 1.5},
		{"private cars", pct(kinds[kindCar]), 11, 1},
		{"goods", pct(kinds[kindGoods]), 3, 0.6},
		{"buses and public", pct(kinds[kindPublic]), 1, 0.4},
		{"paid", pct(cats[Paid]), 36, 3},
		{"late", pct(cats[Late]), 31.5, 3},
		{"late_over_year", pct(cats[LateOverYear]), 16, 2.5},
		{"blocked", pct(cats[Blocked]), 5, 1},
		{"renewal_due", pct(cats[RenewalDue]), 11, 2},
		{"PUTIH", pct(tnkb["PUTIH"]), 80, 8},
		{"HITAM", pct(tnkb["HITAM"]), 17, 8},
		{"KUNING", pct(tnkb["KUNING"]), 1.1, 0.5},
		{"MERAH", pct(tnkb["MERAH"]), 0.6, 0.4},
		{"rangka5 with a letter", pct(letters), 5, 1},
	} {
		if tt.got < tt.want-tt.tol || tt.got > tt.want+tt.tol {
			t.Errorf("%s: %.2f%%, want %.1f ± %.1f%%", tt.what, tt.got, tt.want, tt.tol)
		}
	}
	t.Logf("kinds %v, categories %v, tnkb %v", kinds, cats, tnkb)
}

func TestFacts(t *testing.T) {
	for _, v := range generate(5, 20000, testRef) {
		m := modelOf(v.Merk, v.Tipe)
		if m == nil {
			t.Fatalf("%s: %s %s not in the catalogue", v.Nopol, v.Merk, v.Tipe)
		}
		var bad []string
		if len(v.Rangka5) != 5 || strings.Trim(v.Rangka5, vinChars) != "" {
			bad = append(bad, "rangka5")
		}
		if v.Pokok%100 != 0 {
			bad = append(bad, "pokok not whole hundreds")
		}
		switch {
		case m.kind == kindMotor && m.class == pkb.ClassC1 && (v.Pokok < 90_000 || v.Pokok > 800_000):
			bad = append(bad, "motorcycle pokok")
		case m.kind == kindCar && v.Nopol != "BA 1" && (v.Pokok < 800_000 || v.Pokok > 10_000_000):
			bad = append(bad, "car pokok")
		case m.kind != kindMotor && (v.Pokok < 800_000 || v.Pokok > 25_000_000):
			bad = append(bad, "pokok")
		}
		wantClass := m.class
		if v.WarnaTNKB == "KUNING" && m.publicClass != "" {
			wantClass = m.publicClass
		}
		if v.Class != wantClass || v.Small != (m.kind == kindMotor) {
			bad = append(bad, "class")
		}
		if v.Tahun < 2005 || v.Tahun > testRef.Year || v.Tahun < m.from || (m.to != 0 && v.Tahun > m.to) {
			bad = append(bad, "tahun")
		}
		if v.TglAkhirPKB.Before(earliestDue) || v.TglAkhirPKB.After(addMonths(testRef, 11)) {
			bad = append(bad, "tgl_akhir_pkb")
		}
		if j := v.TglAkhirSTNK.Year - v.TglAkhirPKB.Year; j < 0 || j > 4 || v.TglAkhirSTNK.Day != v.TglAkhirPKB.Day && v.TglAkhirPKB.Day != 29 {
			bad = append(bad, "tgl_akhir_stnk")
		}
		switch v.WarnaTNKB {
		case "PUTIH", "HITAM", "MERAH":
		case "KUNING":
			if m.yellow == 0 {
				bad = append(bad, "yellow plate on a private vehicle")
			}
		default:
			bad = append(bad, "warna_tnkb")
		}
		if len(bad) > 0 {
			t.Errorf("%+v: bad %v", v, bad)
		}
	}
}

func TestVIN(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range catalogue {
		m := &catalogue[i]
		var serial [6]byte
		for j := range serial {
			serial[j] = vinChars[r.IntN(len(vinChars))]
		}
		v := vin(m, 2019, serial)
		if len(v) != 17 || strings.Trim(v, vinChars) != "" || v[9] != 'K' || v[11:] != string(serial[:]) || checkDigit([]byte(v)) != v[8] {
			t.Errorf("vin(%s %s) = %q, want 17 VIN characters, year code K, serial %s, valid check digit", m.merk, m.tipe, v, serial)
		}
	}
	// A published North American example: 1M8GDM9AXKP042788.
	if got := checkDigit([]byte("1M8GDM9A0KP042788")); got != 'X' {
		t.Errorf("checkDigit(1M8GDM9A_KP042788) = %c, want X", got)
	}
}

// TestPeriodsBounded checks that no vehicle owes more periods than the
// estimator covers, up to two years after the reference day, for
// reference days on both sides of the opsen start and on 29 February.
func TestPeriodsBounded(t *testing.T) {
	for _, ref := range []pkb.Date{
		pkb.NewDate(2025, time.March, 1), testRef, pkb.NewDate(2028, time.February, 29), pkb.NewDate(2033, time.July, 15),
	} {
		for _, v := range generate(3, 5000, ref) {
			if v.TglAkhirPKB.Before(earliestDue) {
				t.Errorf("ref %v: %s is due %v, before %v", ref, v.Nopol, v.TglAkhirPKB, earliestDue)
			}
			for _, p := range []pkb.Date{ref, ref.AddYears(2)} {
				if _, err := pkb.Estimate(v.facts(), p, pkb.DefaultRules()); err != nil {
					t.Errorf("ref %v: Estimate(%s due %v) on %v: %v", ref, v.Nopol, v.TglAkhirPKB, p, err)
				}
			}
		}
	}
}

func TestDamagedStoreRegenerated(t *testing.T) {
	for _, tt := range []struct {
		name   string
		damage func(path string) error
	}{
		{"garbage", func(path string) error { return os.WriteFile(path, []byte("not a database at all"), 0o600) }},
		{"empty", func(path string) error { return os.WriteFile(path, nil, 0o600) }},
		{"truncated", func(path string) error {
			fi, err := os.Stat(path)
			if err != nil {
				return err
			}
			return os.Truncate(path, fi.Size()/2)
		}},
		{"stray journal", func(path string) error {
			if err := os.WriteFile(path, []byte("junk"), 0o600); err != nil {
				return err
			}
			return os.WriteFile(path+"-journal", []byte("junk journal"), 0o600)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t.TempDir())
			s := open(t, cfg)
			want := vehicles(t, s)
			s.Close()
			if err := tt.damage(cfg.Path); err != nil {
				t.Fatal(err)
			}
			s = open(t, cfg)
			if !s.Stats().Generated {
				t.Errorf("damaged store was reused")
			}
			if got := vehicles(t, s); !slices.Equal(got, want) {
				t.Errorf("regenerated store differs from the original")
			}
			if _, err := os.Stat(cfg.Path + "-journal"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("stray journal left next to the store: %v", err)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		cfg  Config
	}{
		{"no path", Config{}},
		{"negative size", Config{Path: filepath.Join(dir, "a.db"), Size: -1}},
		{"bad ref", Config{Path: filepath.Join(dir, "a.db"), Ref: pkb.Date{Year: 2026, Month: 2, Day: 30}}},
		{"bad rules", Config{Path: filepath.Join(dir, "a.db"), Rules: &pkb.Rules{}}},
		{"missing directory", Config{Path: filepath.Join(dir, "no", "such", "a.db"), Size: 10}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := Open(t.Context(), tt.cfg); err == nil {
				s.Close()
				t.Errorf("Open(%+v) succeeded, want an error", tt.cfg)
			}
		})
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if s, err := Open(ctx, testConfig(dir)); err == nil {
		s.Close()
		t.Errorf("Open with a cancelled context succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "sample.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cancelled generation left a store: %v", err)
	}
}

func TestConcurrentLookups(t *testing.T) {
	s := open(t, testConfig(t.TempDir()))
	vs := vehicles(t, s)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < len(vs); i += 8 {
				if _, err := s.Lookup(t.Context(), lookup.Query{Plate: vs[i].Nopol, Rangka5: vs[i].Rangka5}); err != nil {
					t.Errorf("Lookup(%s): %v", vs[i].Nopol, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkGenerate100k(b *testing.B) {
	dir := b.TempDir()
	ref := testRef
	var size int64
	for b.Loop() {
		path := filepath.Join(dir, "sample.db")
		os.Remove(path)
		if err := build(b.Context(), path, params{Version: generatorVersion, Seed: 1, Size: 100_000, Ref: ref}); err != nil {
			b.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		size = fi.Size()
	}
	b.ReportMetric(float64(size)/1e6, "MB")
}

func BenchmarkLookup(b *testing.B) {
	cfg := testConfig(b.TempDir())
	cfg.Size = 100_000
	s := open(b, cfg)
	vs := generate(1, 1000, testRef) // plates in the store (a prefix of the 100k)
	i := 0
	for b.Loop() {
		v := &vs[i%len(vs)]
		i++
		if _, err := s.Lookup(b.Context(), lookup.Query{Plate: v.Nopol, Rangka5: v.Rangka5}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookupNotFound(b *testing.B) {
	cfg := testConfig(b.TempDir())
	cfg.Size = 100_000
	s := open(b, cfg)
	for b.Loop() {
		if _, err := s.Lookup(b.Context(), lookup.Query{Plate: "BA 9999 ZZZ"}); !errors.Is(err, lookup.ErrNotFound) {
			b.Fatal(err)
		}
	}
}
