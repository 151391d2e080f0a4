// Package plate parses and normalises Indonesian vehicle plate numbers (TNKB) as domain/pkb.md 3.4 specifies.
package plate

// Reason is why Parse rejected an input; the values are the category names
// of domain/pkb.md 3.4 and go on the wire unchanged.
type Reason string

// Reasons, in the order of the steps of domain/pkb.md 3.4 that produce them.
const (
	BadFormat    Reason = "BAD_FORMAT"
	BadCharacter Reason = "BAD_CHARACTER"
	Empty        Reason = "EMPTY"
	BadNumber    Reason = "BAD_NUMBER"
	BadSeries    Reason = "BAD_SERIES"
	SpecialPlate Reason = "SPECIAL_PLATE"
	BadRegion    Reason = "BAD_REGION"
	NeedRegion   Reason = "NEED_REGION"
	OtherRegion  Reason = "OTHER_REGION"
)

// MaxInput is the longest raw input Parse examines (step 1), counted in
// runes rather than bytes so that a short input of multi-byte characters
// (full-width digits) reaches step 2 and is reported as BAD_CHARACTER.
const MaxInput = 20

// Plate is a parsed plate. String() gives the canonical form "BA 1234 QR" (upper case, single spaces, no leading zeros; no series: "BA 1").
type Plate struct {
	Prefix, Number, Series string
}

// String returns the canonical form. Empty fields are left out, so a
// test plate without a region code (an Error's Plate) reads "1234 XY".
func (p Plate) String() string {
	s := p.Prefix
	for _, part := range [...]string{p.Number, p.Series} {
		if part == "" {
			continue
		}
		if s != "" {
			s += " "
		}
		s += part
	}
	return s
}

// IsZero reports whether p is the zero Plate.
func (p Plate) IsZero() bool { return p == Plate{} }

// Rules configure the checks; the zero value / nil means defaults.
type Rules struct {
	// Served is plate.served_prefixes, default []string{"BA"}. Entries are
	// compared ignoring ASCII case and surrounding spaces, because they come
	// from a hand-edited configuration file; blank entries are ignored and
	// a list with no usable entry means the default. The first entry is the
	// one proposed for a plate typed without a region code.
	Served []string
}

// DefaultServed is the served prefix when Rules gives none: the kiosks
// stand in Sumatera Barat.
const DefaultServed = "BA"

// Error is the failure of Parse.
//
// Error() includes the plate in clear: domain/pkb.md 4.2 allows a plate in
// logs only as an HMAC, so log Reason, not the error text.
type Error struct {
	Reason Reason
	// Plate is set (non-zero) when the input passed steps 1-6, i.e. parsed
	// to a plate: for SPECIAL_PLATE, BAD_REGION, OTHER_REGION. It is zero
	// otherwise, including NEED_REGION, whose plate is only the Suggestion:
	// the kiosk must not act on a region it assumed.
	Plate Plate
	// Suggestion is for NEED_REGION only: the canonical plate with the
	// first served prefix, e.g. "BA 1234 QR".
	Suggestion string
	// Province is for OTHER_REGION only: the province of the prefix, e.g.
	// "Sumatera Utara", so the kiosk can say where the plate belongs.
	Province string
}

func (e *Error) Error() string {
	// The plate and the suggestion are left out on purpose: errors end up
	// in logs, and a plate may be logged only as a keyed hash
	// (domain/pkb.md 4.2). Callers that show the plate read the fields.
	s := "plate: " + string(e.Reason)
	if e.Province != "" {
		s += " (" + e.Province + ")"
	}
	return s
}

// Parse validates and normalises input. On failure the error is a *Error.
func Parse(input string, r *Rules) (Plate, error) {
	// Step 1. Counting stops at the first rune over the limit so that a
	// huge input costs no more than a short one.
	n := 0
	for range input {
		if n++; n > MaxInput {
			return Plate{}, &Error{Reason: BadFormat}
		}
	}

	// Step 2. Working on bytes rather than runes, and upper-casing only
	// ASCII a-z, keeps Unicode case mapping from turning a non-ASCII
	// letter into A-Z (strings.ToUpper maps 'ſ' to 'S' and 'ı' to 'I').
	// Any byte >= 0x80, including invalid UTF-8, is a bad character. At
	// most MaxInput bytes survive, since each is one rune of the input.
	var buf [MaxInput]byte
	k := 0
	for i := 0; i < len(input); i++ {
		c := input[i]
		switch {
		case c == ' ' || c == '\t' || c == '-' || c == '.' || c == '_' || c == '/':
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		default:
			return Plate{}, &Error{Reason: BadCharacter}
		}
		buf[k] = c
		k++
	}
	if k == 0 {
		return Plate{}, &Error{Reason: Empty}
	}
	b := buf[:k]

	// Step 3. Only a run enclosed by digits is a mistyped digit; an O or I
	// next to a letter may be a real series letter (domain/pkb.md 3.3), so
	// "BA 12O AB" keeps its O and "BA O123" stays wrong.
	for i := 0; i < len(b); {
		if !isOI(b[i]) {
			i++
			continue
		}
		j := i
		for j < len(b) && isOI(b[j]) {
			j++
		}
		if i > 0 && isDigit(b[i-1]) && j < len(b) && isDigit(b[j]) {
			for x := i; x < j; x++ {
				if b[x] == 'O' {
					b[x] = '0'
				} else {
					b[x] = '1'
				}
			}
		}
		i = j
	}

	// Step 4: ^([A-Z]{0,2})([0-9]+)([A-Z]*)$, by hand because a regexp
	// would cost more than the rest of Parse.
	p := 0
	for p < len(b) && isLetter(b[p]) {
		p++
	}
	d := p
	for d < len(b) && isDigit(b[d]) {
		d++
	}
	e := d
	for e < len(b) && isLetter(b[e]) {
		e++
	}
	if p > 2 || d == p || e != len(b) {
		return Plate{}, &Error{Reason: BadFormat}
	}

	// Step 5. The digit count includes leading zeros: "01234" is five
	// digits typed, too many to be a plate number.
	if d-p > 4 {
		return Plate{}, &Error{Reason: BadNumber}
	}
	z := p
	for z < d && b[z] == '0' {
		z++
	}
	if z == d {
		return Plate{}, &Error{Reason: BadNumber}
	}

	// Step 6.
	if len(b)-d > 3 {
		return Plate{}, &Error{Reason: BadSeries}
	}

	// One allocation for all three fields.
	s := string(b)
	pl := Plate{Prefix: s[:p], Number: s[z:d], Series: s[d:]}

	// Step 7.
	if pl.Prefix != "" {
		if isSpecialPrefix(pl.Prefix) {
			return Plate{}, &Error{Reason: SpecialPlate, Plate: pl}
		}
		if _, ok := provinces[pl.Prefix]; !ok {
			return Plate{}, &Error{Reason: BadRegion, Plate: pl}
		}
	}

	// Step 8. Before step 9, so a test series typed without a region code
	// is reported as a test plate rather than suggested as a BA plate.
	if IsTestSeries(pl.Series) {
		return Plate{}, &Error{Reason: SpecialPlate, Plate: pl}
	}

	// Step 9.
	if pl.Prefix == "" {
		sug := pl
		sug.Prefix = firstServed(r)
		return Plate{}, &Error{Reason: NeedRegion, Suggestion: sug.String()}
	}

	// Step 10.
	if !served(r, pl.Prefix) {
		return Plate{}, &Error{Reason: OtherRegion, Plate: pl, Province: provinces[pl.Prefix]}
	}
	return pl, nil
}

// Province returns the province of a region code (domain/pkb.md 3.2), e.g. Province("BA") = "Sumatera Barat", true.
// The code is matched exactly: "ba" or " BA" is not a region code.
func Province(prefix string) (string, bool) {
	name, ok := provinces[prefix]
	return name, ok
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'A' <= c && c <= 'Z' }
func isOI(c byte) bool     { return c == 'O' || c == 'I' }

// isSpecialPrefix reports the diplomatic, consular, honorary-consul and
// state (RI) codes of domain/pkb.md 3.1, which no Bapenda collects PKB on.
func isSpecialPrefix(p string) bool {
	return p == "CD" || p == "CC" || p == "CH" || p == "RI"
}

// IsTestSeries reports a test-plate series (domain/pkb.md 3.1): 2-3
// letters, only X and Y. A single X is an ordinary series (Lima Puluh Kota).
func IsTestSeries(s string) bool {
	if len(s) < 2 || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != 'X' && s[i] != 'Y' {
			return false
		}
	}
	return true
}

// firstServed is the prefix proposed for NEED_REGION.
func firstServed(r *Rules) string {
	if r != nil {
		for _, s := range r.Served {
			if s = trimSpaceASCII(s); s != "" {
				return upperASCII(s)
			}
		}
	}
	return DefaultServed
}

// served reports whether prefix (upper case) is in r's served list.
func served(r *Rules, prefix string) bool {
	listed := false
	if r != nil {
		for _, s := range r.Served {
			s = trimSpaceASCII(s)
			if s == "" {
				continue
			}
			listed = true
			if equalFoldASCII(s, prefix) {
				return true
			}
		}
	}
	return !listed && prefix == DefaultServed
}

func trimSpaceASCII(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// upperASCII is strings.ToUpper restricted to a-z, for the reason given
// in Parse step 2.
func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}

// equalFoldASCII compares a configured prefix with an upper-case one
// without allocating, since it runs on every Parse.
func equalFoldASCII(s, upper string) bool {
	if len(s) != len(upper) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != upper[i] {
			return false
		}
	}
	return true
}

// Compile-time check that a Plate's canonical form fits the step 1 limit,
// so a canonical string always parses again: prefix 2 + number 4 +
// series 3 + two spaces.
var _ [MaxInput - (2 + 1 + 4 + 1 + 3)]struct{}
