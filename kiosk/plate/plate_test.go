package plate

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestParseValid covers the left column of the domain/pkb.md 3.4 table and
// a few more accepted inputs.
func TestParseValid(t *testing.T) {
	tests := []struct {
		in   string
		want Plate
	}{
		// Table, left column.
		{"ba1234qr", Plate{"BA", "1234", "QR"}},
		{"  ba   1234   qr ", Plate{"BA", "1234", "QR"}},
		{"BA-1234-QR", Plate{"BA", "1234", "QR"}},
		{"B A 1234 Q R", Plate{"BA", "1234", "QR"}},
		{"BA 12 34 QR", Plate{"BA", "1234", "QR"}},
		{"BA 1O34 QR", Plate{"BA", "1034", "QR"}},
		{"BA 1OO4 QR", Plate{"BA", "1004", "QR"}},
		{"BA 12O AB", Plate{"BA", "12", "OAB"}},
		{"BA 1234 OQ", Plate{"BA", "1234", "OQ"}},
		{"ba 123 ia", Plate{"BA", "123", "IA"}},
		{"BA 0123 QR", Plate{"BA", "123", "QR"}},
		{"ba 7001 aab", Plate{"BA", "7001", "AAB"}},
		{"BA 1234", Plate{"BA", "1234", ""}},
		{"BA 1", Plate{"BA", "1", ""}},
		// More.
		{"BA 1IO2 QR", Plate{"BA", "1102", "QR"}},
		// The last O has a letter after it, so it is a series letter.
		{"BA 1I2O QR", Plate{"BA", "112", "OQR"}},
		{"ba.1234.qr", Plate{"BA", "1234", "QR"}},
		{"ba\t1234_qr/", Plate{"BA", "1234", "QR"}},
		{"BA 1234 X", Plate{"BA", "1234", "X"}},
		{"BA 1234 XA", Plate{"BA", "1234", "XA"}},
		{"BA 1234 Q", Plate{"BA", "1234", "Q"}},
		{"BA 0001", Plate{"BA", "1", ""}},
		{"BA 1O", Plate{"BA", "1", "O"}},
		{"BA 12 I", Plate{"BA", "12", "I"}},
		{"BA 9999 ZZZ", Plate{"BA", "9999", "ZZZ"}},
		{"BA 1 2 3 4 Q R Z    ", Plate{"BA", "1234", "QRZ"}}, // exactly 20 runes
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in, nil)
			if err != nil {
				t.Fatalf("Parse(%q) error %v, want %q", tt.in, err, tt.want)
			}
			if got != tt.want {
				t.Errorf("Parse(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
			if got.String() != tt.want.String() {
				t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got.String(), tt.want.String())
			}
		})
	}
}

// TestParseInvalid covers the right column of the domain/pkb.md 3.4 table,
// the NEED_REGION rows of the left one, and the edges of each step.
func TestParseInvalid(t *testing.T) {
	tests := []struct {
		in         string
		reason     Reason
		plate      Plate // the Error's Plate; zero when the spec says so
		suggestion string
		province   string
	}{
		// Table.
		{in: "1234 QR", reason: NeedRegion, suggestion: "BA 1234 QR"},
		{in: "0123 AB", reason: NeedRegion, suggestion: "BA 123 AB"},
		{in: "BA 0000 QR", reason: BadNumber},
		{in: "BA 01234 QR", reason: BadNumber},
		{in: "BA 1234 ABCD", reason: BadSeries},
		{in: "BAA 1234 QR", reason: BadFormat},
		{in: "BA QR 1234", reason: BadFormat},
		{in: "BA O123 QR", reason: BadFormat},
		{in: "BA 1234 QR 5", reason: BadFormat},
		{in: "QQ 1234 AB", reason: BadRegion, plate: Plate{"QQ", "1234", "AB"}},
		{in: "BA 1234 XY", reason: SpecialPlate, plate: Plate{"BA", "1234", "XY"}},
		{in: "CD 12 34", reason: SpecialPlate, plate: Plate{"CD", "1234", ""}},
		{in: "RI 1", reason: SpecialPlate, plate: Plate{"RI", "1", ""}},
		{in: "B 1234 ABC", reason: OtherRegion, plate: Plate{"B", "1234", "ABC"}, province: "DKI Jakarta"},
		{in: "BK 1234 AB", reason: OtherRegion, plate: Plate{"BK", "1234", "AB"}, province: "Sumatera Utara"},
		{in: "BA#1234", reason: BadCharacter},
		{in: "BA１２３４", reason: BadCharacter},
		{in: "", reason: Empty},

		// Step 1: 21 runes, even of deletable characters; counted in runes.
		{in: "BA 1234 QR          X", reason: BadFormat},
		{in: strings.Repeat(" ", 21), reason: BadFormat},
		{in: "BA１２３４５６７８９０１２３４５６７８９", reason: BadFormat},
		{in: "ＢＡ１２３４ＱＲ", reason: BadCharacter},
		// Step 2: nothing left; non-ASCII letters that Unicode upper-cases
		// to A-Z; control characters; invalid UTF-8.
		{in: "   ", reason: Empty},
		{in: "-._/\t", reason: Empty},
		{in: "ſa 1234", reason: BadCharacter},
		{in: "BA 1234 qı", reason: BadCharacter},
		{in: "BA 1234 ẞ", reason: BadCharacter},
		{in: "BA 1234\nQR", reason: BadCharacter},
		{in: "BA 1234 \xff", reason: BadCharacter},
		{in: "BA+1234", reason: BadCharacter},
		// Step 2 comes before step 4: BAD_CHARACTER beats BAD_FORMAT.
		{in: "BAA#1234", reason: BadCharacter},
		// Step 3: O/I not between digits stays a letter.
		{in: "BA OI", reason: BadFormat},
		{in: "O", reason: BadFormat},
		// Step 4.
		{in: "BA", reason: BadFormat},
		{in: "BA QR", reason: BadFormat},
		{in: "BA 12 QR 34", reason: BadFormat},
		// Step 5 before step 7's region check, step 6 after step 5.
		{in: "QQ 12345", reason: BadNumber},
		{in: "BA 0", reason: BadNumber},
		{in: "0", reason: BadNumber},
		{in: "BA 12345 ABCD", reason: BadNumber},
		{in: "QQ 1234 ABCD", reason: BadSeries},
		// Step 7 before step 8; special before region.
		{in: "CC 1234 XY", reason: SpecialPlate, plate: Plate{"CC", "1234", "XY"}},
		{in: "CH 12", reason: SpecialPlate, plate: Plate{"CH", "12", ""}},
		{in: "QQ 1234 XY", reason: BadRegion, plate: Plate{"QQ", "1234", "XY"}},
		// Step 8: every 2-3 letter X/Y series, also without a region code
		// (step 8 comes before step 9) and outside the served region.
		{in: "BA 1234 XX", reason: SpecialPlate, plate: Plate{"BA", "1234", "XX"}},
		{in: "BA 1234 YY", reason: SpecialPlate, plate: Plate{"BA", "1234", "YY"}},
		{in: "BA 1234 YX", reason: SpecialPlate, plate: Plate{"BA", "1234", "YX"}},
		{in: "BA 1234 XYX", reason: SpecialPlate, plate: Plate{"BA", "1234", "XYX"}},
		{in: "1234 XY", reason: SpecialPlate, plate: Plate{"", "1234", "XY"}},
		{in: "B 1 YYY", reason: SpecialPlate, plate: Plate{"B", "1", "YYY"}},
		// Step 9.
		{in: "1", reason: NeedRegion, suggestion: "BA 1"},
		{in: "1O4", reason: NeedRegion, suggestion: "BA 104"},
		{in: "12 o", reason: NeedRegion, suggestion: "BA 12 O"},
		// Step 10.
		{in: "pt 1 a", reason: OtherRegion, plate: Plate{"PT", "1", "A"}, province: "Papua Tengah"},
		{in: "AB 1234 X", reason: OtherRegion, plate: Plate{"AB", "1234", "X"}, province: "DI Yogyakarta"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in, nil)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want error %s", tt.in, got, tt.reason)
			}
			if !got.IsZero() {
				t.Errorf("Parse(%q) plate = %#v, want zero with an error", tt.in, got)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error %T, want *Error", tt.in, err)
			}
			if e.Reason != tt.reason {
				t.Errorf("Parse(%q) reason = %s, want %s", tt.in, e.Reason, tt.reason)
			}
			if e.Plate != tt.plate {
				t.Errorf("Parse(%q) error plate = %#v, want %#v", tt.in, e.Plate, tt.plate)
			}
			if e.Suggestion != tt.suggestion {
				t.Errorf("Parse(%q) suggestion = %q, want %q", tt.in, e.Suggestion, tt.suggestion)
			}
			if e.Province != tt.province {
				t.Errorf("Parse(%q) province = %q, want %q", tt.in, e.Province, tt.province)
			}
		})
	}
}

func TestParseRules(t *testing.T) {
	tests := []struct {
		name       string
		served     []string
		in         string
		want       string // canonical plate, or "" for an error
		reason     Reason
		suggestion string
		province   string
	}{
		{name: "BK served", served: []string{"BA", "BK"}, in: "bk 1234 ab", want: "BK 1234 AB"},
		{name: "BA still served", served: []string{"BA", "BK"}, in: "ba 1234 ab", want: "BA 1234 AB"},
		{name: "BB not served", served: []string{"BA", "BK"}, in: "BB 1 A", reason: OtherRegion, province: "Sumatera Utara"},
		{name: "first served suggested", served: []string{"BK", "BA"}, in: "1234 QR", reason: NeedRegion, suggestion: "BK 1234 QR"},
		{name: "BA not in list", served: []string{"BK"}, in: "BA 1", reason: OtherRegion, province: "Sumatera Barat"},
		{name: "config case and spaces", served: []string{" bk "}, in: "BK 1", want: "BK 1"},
		{name: "config case suggestion", served: []string{"", " bk "}, in: "1", reason: NeedRegion, suggestion: "BK 1"},
		{name: "empty list is default", served: []string{}, in: "BA 1", want: "BA 1"},
		{name: "blank list is default", served: []string{" ", ""}, in: "BK 1", reason: OtherRegion, province: "Sumatera Utara"},
		{name: "blank list suggestion", served: []string{" "}, in: "1", reason: NeedRegion, suggestion: "BA 1"},
		{name: "special stays special", served: []string{"CD"}, in: "CD 1", reason: SpecialPlate},
		{name: "unknown code stays unknown", served: []string{"QQ"}, in: "QQ 1", reason: BadRegion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in, &Rules{Served: tt.served})
			if tt.want != "" {
				if err != nil || got.String() != tt.want {
					t.Fatalf("Parse(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) = %q, %v, want *Error %s", tt.in, got, err, tt.reason)
			}
			if e.Reason != tt.reason || e.Suggestion != tt.suggestion || e.Province != tt.province {
				t.Errorf("Parse(%q) = %s/%q/%q, want %s/%q/%q", tt.in,
					e.Reason, e.Suggestion, e.Province, tt.reason, tt.suggestion, tt.province)
			}
		})
	}
}

// TestRulesNotModified guards against normalising the caller's
// configuration in place.
func TestRulesNotModified(t *testing.T) {
	r := &Rules{Served: []string{" bk "}}
	if _, err := Parse("1", r); err == nil {
		t.Fatal("Parse(\"1\") succeeded, want NEED_REGION")
	}
	if got := r.Served[0]; got != " bk " {
		t.Errorf("Served[0] = %q after Parse, want %q", got, " bk ")
	}
}

func TestProvince(t *testing.T) {
	tests := []struct {
		code, want string
		ok         bool
	}{
		{"BA", "Sumatera Barat", true},
		{"BK", "Sumatera Utara", true},
		{"BB", "Sumatera Utara", true},
		{"BL", "Aceh", true},
		{"B", "DKI Jakarta", true},
		{"A", "Banten", true},
		{"Z", "Jawa Barat", true},
		{"AD", "Jawa Tengah", true},
		{"AB", "DI Yogyakarta", true},
		{"AE", "Jawa Timur", true},
		{"DK", "Bali", true},
		{"EA", "Nusa Tenggara Barat", true},
		{"ED", "Nusa Tenggara Timur", true},
		{"KU", "Kalimantan Utara", true},
		{"DC", "Sulawesi Barat", true},
		{"DG", "Maluku Utara", true},
		{"PY", "Papua Barat Daya", true},
		{"PS", "Papua Selatan", true},
		{"PT", "Papua Tengah", true},
		{"ba", "", false},
		{"", "", false},
		{"CD", "", false},
		{"RI", "", false},
		{"QQ", "", false},
		{"BAA", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			got, ok := Province(tt.code)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Province(%q) = %q, %v, want %q, %v", tt.code, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestRegionTable checks the table as a whole against domain/pkb.md 3.2.
func TestRegionTable(t *testing.T) {
	if got, want := len(provinces), 60; got != want {
		t.Errorf("len(provinces) = %d, want %d", got, want)
	}
	for code := range provinces {
		if len(code) < 1 || len(code) > 2 || strings.Trim(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			t.Errorf("region code %q does not fit step 4", code)
		}
		if isSpecialPrefix(code) {
			t.Errorf("region code %q is also a special prefix", code)
		}
	}
}

func TestPlateString(t *testing.T) {
	tests := []struct {
		p    Plate
		want string
	}{
		{Plate{"BA", "1234", "QR"}, "BA 1234 QR"},
		{Plate{"BA", "1", ""}, "BA 1"},
		{Plate{"", "1234", "XY"}, "1234 XY"},
		{Plate{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("%#v.String() = %q, want %q", tt.p, got, tt.want)
			}
			if got, want := tt.p.IsZero(), tt.want == ""; got != want {
				t.Errorf("%#v.IsZero() = %v, want %v", tt.p, got, want)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		// No plate in the text: errors reach logs (domain/pkb.md 4.2).
		{"BK 1234 AB", `plate: OTHER_REGION (Sumatera Utara)`},
		{"1234 QR", `plate: NEED_REGION`},
		{"RI 1", `plate: SPECIAL_PLATE`},
		{"QQ 1", `plate: BAD_REGION`},
		{"", `plate: EMPTY`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(tt.in, nil)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want an error", tt.in)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Parse(%q) error = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"ba1234qr", "  ba   1234   qr ", "B A 1234 Q R", "BA 1OO4 QR", "BA 12O AB",
		"BA O123 QR", "BA 01234 QR", "BA 1234 XY", "1234 XY", "CD 12 34", "RI 1",
		"B 1234 ABC", "1234 QR", "BA１２３４", "", "BA 1234 QR          X", "ſa 1",
	} {
		f.Add(s)
	}
	wide := &Rules{Served: []string{"BK", "BA"}}
	f.Fuzz(func(t *testing.T, in string) {
		checkParse(t, in, nil, "BA")
		checkParse(t, in, wide, "BK", "BA")
	})
}

// checkParse checks Parse(in, r) for the properties that hold for every
// input: a plate parsed once parses again to itself, and an error's plate
// or suggestion gives the same answer when typed back in.
func checkParse(t *testing.T, in string, r *Rules, served ...string) {
	t.Helper()
	p, err := Parse(in, r)
	if err == nil {
		checkCanonical(t, in, p)
		q, err := Parse(p.String(), r)
		if err != nil || q != p {
			t.Fatalf("Parse(%q) = %#v, but Parse(%q) = %#v, %v", in, p, p.String(), q, err)
		}
		if _, ok := Province(p.Prefix); !ok || !slices.Contains(served, p.Prefix) {
			t.Fatalf("Parse(%q) = %#v, want a served prefix %v", in, p, served)
		}
		return
	}
	if !p.IsZero() {
		t.Fatalf("Parse(%q) = %#v with error %v, want zero plate", in, p, err)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Parse(%q) error %T, want *Error", in, err)
	}
	switch e.Reason {
	case SpecialPlate, BadRegion, OtherRegion:
		if e.Plate.IsZero() {
			t.Fatalf("Parse(%q) = %s with zero Plate", in, e.Reason)
		}
	default:
		if !e.Plate.IsZero() {
			t.Fatalf("Parse(%q) = %s with Plate %#v, want zero", in, e.Reason, e.Plate)
		}
	}
	if (e.Reason == OtherRegion) != (e.Province != "") {
		t.Fatalf("Parse(%q) = %s with Province %q", in, e.Reason, e.Province)
	}
	if (e.Reason == NeedRegion) != (e.Suggestion != "") {
		t.Fatalf("Parse(%q) = %s with Suggestion %q", in, e.Reason, e.Suggestion)
	}
	if !e.Plate.IsZero() {
		checkCanonical(t, in, e.Plate)
		s := e.Plate.String()
		_, err2 := Parse(s, r)
		var e2 *Error
		if !errors.As(err2, &e2) || e2.Reason != e.Reason || e2.Plate != e.Plate || e2.Province != e.Province {
			t.Fatalf("Parse(%q) = %v, but Parse(%q) = %v", in, err, s, err2)
		}
	}
	if e.Suggestion != "" {
		q, err2 := Parse(e.Suggestion, r)
		if err2 != nil || q.String() != e.Suggestion || q.Prefix != served[0] {
			t.Fatalf("Parse(%q) suggests %q, but Parse(%q) = %q, %v", in, e.Suggestion, e.Suggestion, q, err2)
		}
	}
}

// checkCanonical checks the shape a parsed plate must have whatever its
// outcome.
func checkCanonical(t *testing.T, in string, p Plate) {
	t.Helper()
	s := p.String()
	if utf8.RuneCountInString(s) > MaxInput {
		t.Fatalf("Parse(%q): canonical %q longer than %d", in, s, MaxInput)
	}
	if len(p.Prefix) > 2 || strings.Trim(p.Prefix, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		t.Fatalf("Parse(%q): bad prefix %q", in, p.Prefix)
	}
	if len(p.Number) < 1 || len(p.Number) > 4 || p.Number[0] == '0' || strings.Trim(p.Number, "0123456789") != "" {
		t.Fatalf("Parse(%q): bad number %q", in, p.Number)
	}
	if len(p.Series) > 3 || strings.Trim(p.Series, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		t.Fatalf("Parse(%q): bad series %q", in, p.Series)
	}
}

func BenchmarkParse(b *testing.B) {
	inputs := []string{"  ba 1O34 qr ", "BA 1234 QR", "1234 QR", "BK 1234 AB", "BA#1234"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Parse(inputs[i%len(inputs)], nil)
	}
}
