package slip

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/pkb"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var widths = []int{32, 36, 42, 48}

// day parses YYYY-MM-DD for test tables; a typo is a bug in the test.
func day(s string) pkb.Date {
	d, err := pkb.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// at parses an RFC 3339 time for test tables.
func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// example is the result of domain/pkb.md 1.1.
func example() pkb.Result {
	return pkb.Result{
		Nopol:        "BA 3456 QR",
		Kendaraan:    pkb.Kendaraan{Merk: "HONDA", Tipe: "BEAT", Tahun: "2021", Warna: "HITAM", WarnaTNKB: "PUTIH"},
		TglAkhirPKB:  day("2025-03-10"),
		TglAkhirSTNK: day("2026-03-10"),
		Status:       pkb.Status{Blokir: false, Keterangan: "BELUM BAYAR"},
		Rincian: pkb.Rincian{
			PKB:      pkb.Item{Pokok: 150000, Denda: 4500},
			OpsenPKB: &pkb.Item{Pokok: 99000, Denda: 2970},
			SWDKLLJ:  pkb.Item{Pokok: 35000, Denda: 8000},
		},
		Jumlah:       299470,
		DihitungPada: at("2025-05-20T09:15:00+07:00"),
		Sumber:       "BAPENDA",
	}
}

// with returns the example changed by f, its jumlah recomputed unless f
// set one that differs from the sum (as a source may).
func with(f func(r *pkb.Result)) pkb.Result {
	r := example()
	f(&r)
	if r.Jumlah == example().Jumlah {
		r.Jumlah = r.Rincian.Sum()
	}
	return r
}

// cases are the golden cases, each rendered at all four widths into
// testdata/<name>-<cols>.golden.
var cases = []struct {
	name string
	r    pkb.Result
}{
	{"example", example()},
	{"blokir", with(func(r *pkb.Result) {
		r.Nopol = "BA 1471 AB"
		r.Kendaraan = pkb.Kendaraan{Merk: "SUZUKI", Tipe: "ERTIGA GX", Tahun: "2018", Warna: "PUTIH", WarnaTNKB: "PUTIH"}
		r.TglAkhirPKB, r.TglAkhirSTNK = day("2024-11-02"), day("2028-11-02")
		r.Status = pkb.Status{Blokir: true, Keterangan: "Blokir: laporan kehilangan"}
		r.Rincian = pkb.Rincian{
			PKB:      pkb.Item{Pokok: 1850000, Denda: 259000},
			OpsenPKB: nil,
			SWDKLLJ:  pkb.Item{Pokok: 143000, Denda: 100000},
		}
	})},
	{"renewal", with(func(r *pkb.Result) { // domain/pkb.md 2.5 test vector, as a source would send it
		r.Nopol = "BA 1922 QA"
		r.Kendaraan = pkb.Kendaraan{Merk: "TOYOTA", Tipe: "AVANZA 1.3 G MT", Tahun: "2019", Warna: "SILVER", WarnaTNKB: "PUTIH"}
		r.TglAkhirPKB, r.TglAkhirSTNK = day("2025-02-01"), day("2025-02-01")
		r.Rincian = pkb.Rincian{
			PKB:      pkb.Item{Pokok: 2000000, Denda: 160000},
			OpsenPKB: &pkb.Item{Pokok: 1320000, Denda: 105600},
			SWDKLLJ:  pkb.Item{Pokok: 143000, Denda: 100000},
			PNBP:     pkb.PNBP{STNK: 200000, TNKB: 100000},
		}
		r.DihitungPada = at("2025-09-15T10:30:00+07:00")
	})},
	{"estimate", with(func(r *pkb.Result) { // domain/pkb.md 2.5 worked example
		r.Status = pkb.Status{}
		r.Sumber, r.Estimasi = "ESTIMASI", true
	})},
	{"potongan", with(func(r *pkb.Result) { // fines waived by a programme
		r.Nopol = "BA 5012 OQ"
		r.Kendaraan = pkb.Kendaraan{Merk: "YAMAHA", Tipe: "NMAX 155", Tahun: "2022", Warna: "HITAM", WarnaTNKB: "PUTIH"}
		r.TglAkhirPKB, r.TglAkhirSTNK = day("2025-07-01"), day("2027-07-01")
		r.Rincian = pkb.Rincian{
			PKB:      pkb.Item{Pokok: 300000, Denda: 18000},
			OpsenPKB: &pkb.Item{Pokok: 198000, Denda: 11880},
			SWDKLLJ:  pkb.Item{Pokok: 35000, Denda: 8000},
			Potongan: 37880,
		}
		r.Program = "Pemutihan denda 2025 (Kepgub 903-686-2025)"
		r.DihitungPada = at("2025-11-03T08:05:00+07:00")
	})},
	{"opsen-null", with(func(r *pkb.Result) { // legacy Sumbar adapter: no opsen field
		r.Nopol = "BA 6543 F"
		r.Kendaraan = pkb.Kendaraan{Merk: "SUZUKI", Tipe: "SATRIA F150", Tahun: "2015", Warna: "MERAH", WarnaTNKB: "HITAM"}
		r.TglAkhirPKB, r.TglAkhirSTNK = day("2024-08-01"), day("2025-08-01")
		r.Rincian = pkb.Rincian{
			PKB:     pkb.Item{Pokok: 220000, Denda: 17600},
			SWDKLLJ: pkb.Item{Pokok: 35000, Denda: 16000},
		}
		r.Sumber = "SUMBAR"
		r.DihitungPada = at("2024-12-02T14:05:00+07:00")
	})},
	{"huge", with(func(r *pkb.Result) { // amounts wider than the columns
		r.Nopol = "BA 7777 AAB"
		r.Kendaraan = pkb.Kendaraan{Merk: "MERCEDES-BENZ", Tipe: "OH 1626", Tahun: "2020", Warna: "BIRU", WarnaTNKB: "KUNING"}
		r.Rincian = pkb.Rincian{
			PKB:      pkb.Item{Pokok: 1234567890, Denda: 9876543210},
			OpsenPKB: &pkb.Item{Pokok: 1234567890123456, Denda: 98765432109876},
			SWDKLLJ:  pkb.Item{Pokok: 163000, Denda: 100000},
			PNBP:     pkb.PNBP{STNK: 200000, TNKB: 100000},
			Potongan: 12345678901234,
		}
	})},
	{"long-merk", with(func(r *pkb.Result) { // accents folded, wrapped at spaces
		r.Nopol = "ba 1 "
		r.Kendaraan = pkb.Kendaraan{Merk: "Citroën", Tipe: "C5 AIRCROSS SHINE PACK 1.6 THP EAT8", Tahun: "2022", Warna: "ABU-ABU", WarnaTNKB: "PUTIH"}
		r.Status.Keterangan = "belum bayar\ttahun 2025"
	})},
	{"demo", with(func(r *pkb.Result) {
		r.Nopol = "BA 2417 ABC"
		r.Kendaraan = pkb.Kendaraan{Merk: "HONDA", Tipe: "VARIO 125", Tahun: "2023", Warna: "PUTIH", WarnaTNKB: "PUTIH"}
		r.TglAkhirPKB, r.TglAkhirSTNK = day("2025-08-17"), day("2028-08-17")
		r.Status.Keterangan = "BELUM JATUH TEMPO"
		r.Rincian = pkb.Rincian{
			PKB:      pkb.Item{Pokok: 180000},
			OpsenPKB: &pkb.Item{Pokok: 118800},
			SWDKLLJ:  pkb.Item{Pokok: 35000},
		}
		r.DihitungPada = at("2025-06-01T11:40:00+07:00")
		r.Sumber = "DEMO"
	})},
}

var padang = Options{Office: "UPTD PPD Padang"}

func opts(w int) Options {
	o := padang
	o.Columns = w
	return o
}

// spec32 is the 32-column slip of domain/pkb.md 5, byte for byte.
const spec32 = `   INFORMASI PAJAK KENDARAAN
        UPTD PPD PADANG
--------------------------------
No. Polisi            BA 3456 QR
Kendaraan        HONDA BEAT 2021
Jatuh tempo PKB       10-03-2025
STNK berlaku s.d.     10-03-2026
Keterangan           BELUM BAYAR
--------------------------------
PKB pokok                150.000
PKB denda                  4.500
Opsen PKB pokok           99.000
Opsen PKB denda            2.970
SWDKLLJ pokok             35.000
SWDKLLJ denda              8.000
--------------------------------
JUMLAH                   299.470
Per 20-05-2025 09:15 WIB
Bukan bukti pembayaran.
`

// spec42Items are the item lines of the 42-column example of domain/pkb.md 5.
const spec42Items = `Rincian                 Pokok        Denda
PKB                   150.000        4.500
Opsen PKB              99.000        2.970
SWDKLLJ                35.000        8.000
`

func render(t testing.TB, r pkb.Result, o Options) []string {
	t.Helper()
	lines, err := Render(r, o)
	if err != nil {
		t.Fatalf("Render(%d columns) error: %v", o.Columns, err)
	}
	return lines
}

func TestSpecExample(t *testing.T) {
	got := strings.Join(render(t, example(), opts(32)), "\n") + "\n"
	if got != spec32 {
		t.Errorf("Render(example, 32) =\n%s\nwant\n%s", got, spec32)
	}
	got42 := strings.Join(render(t, example(), opts(42)), "\n") + "\n"
	if !strings.Contains(got42, spec42Items) {
		t.Errorf("Render(example, 42) =\n%s\nwant it to contain\n%s", got42, spec42Items)
	}
}

func TestGolden(t *testing.T) {
	for _, c := range cases {
		for _, w := range widths {
			name := fmt.Sprintf("%s-%d", c.name, w)
			t.Run(name, func(t *testing.T) {
				got := strings.Join(render(t, c.r, opts(w)), "\n") + "\n"
				path := filepath.Join("testdata", name+".golden")
				if *update {
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if got != string(want) {
					t.Errorf("Render(%s, %d) =\n%s\nwant (%s)\n%s", c.name, w, got, path, want)
				}
			})
		}
	}
}

// checkLines asserts what holds for every slip: lines within the width,
// printable ASCII only, no trailing spaces, the closing notice last, and
// nothing that looks like a chassis number field.
func checkLines(t testing.TB, lines []string, w int) {
	t.Helper()
	if len(lines) == 0 {
		t.Fatalf("no lines")
	}
	for i, l := range lines {
		if len(l) > w {
			t.Errorf("line %d is %d columns, want <= %d: %q", i, len(l), w, l)
		}
		for j := 0; j < len(l); j++ {
			if c := l[j]; c < 0x20 || c > 0x7E {
				t.Errorf("line %d has byte %#02x at %d, want printable ASCII: %q", i, c, j, l)
				break
			}
		}
		if strings.HasSuffix(l, " ") {
			t.Errorf("line %d has trailing spaces: %q", i, l)
		}
	}
	if got := lines[len(lines)-1]; got != lastLine {
		t.Errorf("last line = %q, want %q", got, lastLine)
	}
}

var (
	commaThousands = regexp.MustCompile(`\d,\d{3}\b`)
	dotThousands   = regexp.MustCompile(`^\d{1,3}(\.\d{3})*$`)
)

func TestInvariants(t *testing.T) {
	for _, c := range cases {
		for _, w := range widths {
			t.Run(fmt.Sprintf("%s-%d", c.name, w), func(t *testing.T) {
				lines := render(t, c.r, opts(w))
				checkLines(t, lines, w)
				text := strings.Join(lines, "\n")
				if strings.Contains(strings.ToUpper(text), "RANGKA") {
					t.Errorf("slip mentions RANGKA:\n%s", text)
				}
				if strings.Contains(text, "Rp") {
					t.Errorf("slip contains \"Rp\":\n%s", text)
				}
				if m := commaThousands.FindString(text); m != "" {
					t.Errorf("slip has a ',' thousands separator (%q):\n%s", m, text)
				}
				// The total appears, formatted with '.' thousands.
				total := amount(c.r.Jumlah)
				if !dotThousands.MatchString(total) || !strings.Contains(text, total) {
					t.Errorf("slip lacks the total %q:\n%s", total, text)
				}
				demo := slices.Contains(lines, strings.Repeat(" ", (w-len(demoLine))/2)+demoLine)
				if want := c.r.Sumber == "DEMO"; demo != want {
					t.Errorf("DEMO line present = %v, want %v", demo, want)
				}
				if want := c.r.Sumber == "DEMO"; want && lines[2] != strings.Repeat(" ", (w-len(demoLine))/2)+demoLine {
					t.Errorf("line 3 = %q, want the DEMO line right under the header", lines[2])
				}
				est := slices.Contains(lines, estimasi)
				if est != c.r.Estimasi {
					t.Errorf("ESTIMASI line present = %v, want %v", est, c.r.Estimasi)
				}
				if got, want := strings.Contains(text, "JUMLAH (ESTIMASI)"), c.r.Estimasi; got != want {
					t.Errorf("JUMLAH (ESTIMASI) present = %v, want %v", got, want)
				}
				rc := c.r.Rincian
				for _, tt := range []struct {
					label string
					want  bool
				}{
					{"PNBP STNK", rc.PNBP.STNK != 0},
					{"PNBP TNKB", rc.PNBP.TNKB != 0},
					{"Potongan", rc.Potongan != 0},
					{"Program", c.r.Program != ""},
					{blokirHelp, c.r.Status.Blokir},
				} {
					if got := strings.Contains(text, tt.label); got != tt.want {
						t.Errorf("%q present = %v, want %v", tt.label, got, tt.want)
					}
				}
			})
		}
	}
}

func TestRenderWidths(t *testing.T) {
	for _, w := range []int{0, -32, 31, 33, 40, 58, 64, 80} {
		if lines, err := Render(example(), Options{Columns: w}); err == nil {
			t.Errorf("Render(%d columns) = %d lines, nil error; want an error", w, len(lines))
		}
	}
}

func TestTimeZone(t *testing.T) {
	utc := example()
	utc.DihitungPada = at("2025-05-20T02:15:00Z")
	for _, tt := range []struct {
		name string
		r    pkb.Result
		tz   *time.Location
		want string
	}{
		{"default zone", utc, nil, "Per 20-05-2025 09:15 WIB"},
		{"fixed WIB", utc, time.FixedZone("WIB", 7*3600), "Per 20-05-2025 09:15 WIB"},
		{"WITA", utc, time.FixedZone("WITA", 8*3600), "Per 20-05-2025 10:15 WITA"},
		{"zero time", pkb.Result{}, nil, "Per -"},
		{"across midnight", with(func(r *pkb.Result) { r.DihitungPada = at("2024-12-31T17:30:00Z") }), nil, "Per 01-01-2025 00:30 WIB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := opts(32)
			o.TZ = tt.tz
			lines := render(t, tt.r, o)
			if got := lines[len(lines)-2]; got != tt.want {
				t.Errorf("stamp line = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEmptyResult(t *testing.T) {
	for _, w := range widths {
		lines := render(t, pkb.Result{}, Options{Columns: w})
		checkLines(t, lines, w)
		if lines[0] != strings.Repeat(" ", (w-len(title))/2)+title || lines[1] != strings.Repeat("-", w) {
			t.Errorf("Render(empty, %d) starts %q, %q; want the title, then a rule (no office line)", w, lines[0], lines[1])
		}
	}
}

func TestClean(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"HONDA", "HONDA"},
		{"  Citroën   C5 ", "Citroen C5"},
		{"Cafe\u0301", "Cafe"}, // decomposed accent
		{"Škoda Octavia Æ ß", "Skoda Octavia AE ss"},
		{"A\x00B\x07C\x7fD\u0085E", "ABCD E"},
		{"line\none\ttab\r\n", "line one tab"},
		{"bad \xff\xfe utf8", "bad ?? utf8"},
		{"ＢＭＷ　Ｘ５", "BMW X5"},
		{"“quoted” – ‘single’…", `"quoted" - 'single'...`},
		{"zero\u200bwidth\ufeff", "zerowidth"},
		{"日本", "??"},
		{"\u202e RTL override", "? RTL override"},
	} {
		if got := clean(tt.in); got != tt.want {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for r := rune(0xC0); r <= 0x17F; r++ {
		if s := fold[r]; s == "" || strings.Contains(s, "*") {
			t.Errorf("fold[%q] = %q: a placeholder without an entry in multiFold", r, s)
		}
	}
}

func TestAmount(t *testing.T) {
	for _, tt := range []struct {
		in   int64
		want string
	}{
		{0, "0"},
		{7, "7"},
		{999, "999"},
		{1000, "1.000"},
		{299470, "299.470"},
		{1234567890, "1.234.567.890"},
		{-150000, "-150.000"},
		{-999, "-999"},
		{math.MaxInt64, "9.223.372.036.854.775.807"},
		{math.MinInt64, "-9.223.372.036.854.775.808"},
	} {
		if got := amount(tt.in); got != tt.want {
			t.Errorf("amount(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		in   int64
		want string
	}{
		{150000, "-150.000"},
		{-5000, "+5.000"},
		{math.MinInt64, "+9.223.372.036.854.775.808"},
	} {
		if got := discount(tt.in); got != tt.want {
			t.Errorf("discount(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWrap(t *testing.T) {
	for _, tt := range []struct {
		text        string
		first, rest int
		want        []string
	}{
		{"", 10, 10, []string{""}},
		{"ab cd", 10, 10, []string{"ab cd"}},
		{"ab cd ef", 5, 10, []string{"ab cd", "ef"}},
		{"abcdef gh", 5, 10, []string{"", "abcdef gh"}},
		{"abcdefghijklmnop", 5, 10, []string{"", "abcdefghij", "klmnop"}},
		{"ab abcdefghijklmnop", 5, 10, []string{"ab", "abcdefghij", "klmnop"}},
	} {
		if got := wrap(tt.text, tt.first, tt.rest); !slices.Equal(got, tt.want) {
			t.Errorf("wrap(%q, %d, %d) = %q, want %q", tt.text, tt.first, tt.rest, got, tt.want)
		}
	}
}

// TestResultCarriesNoPersonalData guards the privacy rule of
// domain/pkb.md 4.2 at the slip's input: if someone adds an owner or
// chassis field to pkb.Result, this fails before the slip could print it.
func TestResultCarriesNoPersonalData(t *testing.T) {
	forbidden := []string{"rangka", "mesin", "nama", "name", "alamat", "address", "nik", "hp", "phone", "email",
		"bpkb", "milik", "nilai", "pemilik", "owner", "identitas"}
	var walk func(typ reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ.PkgPath() != reflect.TypeFor[pkb.Result]().PkgPath() {
			return
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			words := strings.FieldsFunc(strings.ToLower(tag), func(r rune) bool { return r == '_' })
			words = append(words, strings.ToLower(f.Name))
			for _, w := range words {
				if slices.Contains(forbidden, w) || strings.Contains(w, "rangka") {
					t.Errorf("pkb.Result has field %s%s (json %q): personal data must not reach the slip", path, f.Name, tag)
				}
			}
			walk(f.Type, path+f.Name+".")
		}
	}
	walk(reflect.TypeFor[pkb.Result](), "")
}

func FuzzRender(f *testing.F) {
	f.Add("HONDA", "BEAT", "BELUM BAYAR", "", int64(150000), int64(4500), int64(0), int64(299470), uint8(0), false, false, false, "BAPENDA")
	f.Add("Citroën", "C5 AIRCROSS SHINE PACK 1.6 THP EAT8", "bad \xff\x00", "Pemutihan 2025", int64(math.MaxInt64), int64(math.MinInt64), int64(-1), int64(math.MinInt64), uint8(1), true, true, true, "DEMO")
	f.Add(strings.Repeat("X", 100), strings.Repeat("y ", 60), "\t\n\r", strings.Repeat("\u00e9", 50), int64(1234567890123456), int64(-98765), int64(12345678901234), int64(1), uint8(2), true, false, true, "demo")
	f.Add("", "", "", "", int64(0), int64(0), int64(0), int64(0), uint8(3), false, true, false, "")
	f.Fuzz(func(t *testing.T, merk, tipe, ket, program string, pokok, denda, potongan, jumlah int64, col uint8, blokir, est, opsenNil bool, sumber string) {
		w := widths[int(col)%len(widths)]
		r := pkb.Result{
			Nopol:     tipe,
			Kendaraan: pkb.Kendaraan{Merk: merk, Tipe: tipe, Tahun: ket},
			Status:    pkb.Status{Blokir: blokir, Keterangan: ket},
			Rincian: pkb.Rincian{
				PKB:      pkb.Item{Pokok: pokok, Denda: denda},
				OpsenPKB: &pkb.Item{Pokok: denda, Denda: pokok},
				SWDKLLJ:  pkb.Item{Pokok: jumlah, Denda: potongan},
				PNBP:     pkb.PNBP{STNK: pokok, TNKB: denda},
				Potongan: potongan,
			},
			Program:      program,
			Jumlah:       jumlah,
			DihitungPada: time.Unix(pokok%(1<<40), 0),
			Sumber:       sumber,
			Estimasi:     est,
		}
		if opsenNil {
			r.Rincian.OpsenPKB = nil
		}
		lines, err := Render(r, Options{Columns: w, Office: program})
		if err != nil {
			t.Fatalf("Render(%d columns) error: %v", w, err)
		}
		checkLines(t, lines, w)
	})
}
