package slip

import (
	"strings"
	"unicode/utf8"
)

// Text from the Result (merk, tipe, keterangan, programme) comes from a
// backend we do not control and may hold accents, control characters,
// invalid UTF-8 or anything else. The slip is ASCII only (domain/pkb.md 5),
// so every such string passes through clean first.

// fold maps non-ASCII runes to their ASCII spelling: Latin-1 and Latin
// Extended-A letters lose their accents, typographic punctuation becomes
// its plain counterpart. Runes not listed become '?', so that the reader
// sees something was there.
var fold = map[rune]string{}

// Single-character foldings of U+00C0..U+00FF and U+0100..U+017F, one byte
// per code point; '*' marks the code points listed in multiFold.
const (
	latin1Fold = "AAAAAA*CEEEEIIII" + "DNOOOOOxOUUUUY**" + "aaaaaa*ceeeeiiii" + "dnooooo/ouuuuy*y"
	latinAFold = "AaAaAaCcCcCcCcDd" + "DdEeEeEeEeEeGgGg" + "GgGgHhHhIiIiIiIi" + "Ii**JjKkkLlLlLlL" +
		"lLlNnNnNnnNnOoOo" + "Oo**RrRrRrSsSsSs" + "SsTtTtTtUuUuUuUu" + "UuUuWwYyYZzZzZzs"
)

var multiFold = map[rune]string{
	'Æ': "AE", 'Þ': "TH", 'ß': "ss", 'æ': "ae", 'þ': "th",
	'Ĳ': "IJ", 'ĳ': "ij", 'Œ': "OE", 'œ': "oe",
}

func init() { // static table only (STYLE.md rule 1)
	for i := 0; i < len(latin1Fold); i++ {
		fold[rune(0xC0+i)] = latin1Fold[i : i+1]
	}
	for i := 0; i < len(latinAFold); i++ {
		fold[rune(0x100+i)] = latinAFold[i : i+1]
	}
	for r, s := range multiFold {
		fold[r] = s
	}
	for _, r := range "\u2010\u2011\u2012\u2013\u2014\u2015\u2212" {
		fold[r] = "-"
	}
	for _, r := range "\u2018\u2019\u201A\u201B\u00B4\u2032" {
		fold[r] = "'"
	}
	for _, r := range "\u201C\u201D\u201E\u201F\u00AB\u00BB\u2033" {
		fold[r] = `"`
	}
	fold['\u2026'] = "..."
	fold['\u00B7'] = "."
	fold['\u2022'] = "*"
	fold['\u00B0'] = "o"
	// Spaces of every width become a plain space.
	for _, r := range "\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u202F\u205F\u3000" {
		fold[r] = " "
	}
	// Invisible characters vanish.
	for _, r := range "\u00AD\u200B\u200C\u200D\u200E\u200F\u2060\uFEFF" {
		fold[r] = ""
	}
}

// clean returns s as printable ASCII on one line: accents folded
// (precomposed via the table, decomposed by dropping the combining marks),
// full-width forms narrowed, whitespace controls turned into spaces, other
// control characters and invisible characters removed, invalid UTF-8 and
// unknown runes shown as '?', runs of spaces collapsed and the ends
// trimmed.
func clean(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false // a space is pending between two words
	emit := func(t string) {
		for i := 0; i < len(t); i++ {
			c := t[i]
			if c == ' ' {
				space = b.Len() > 0
				continue
			}
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteByte(c)
		}
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == utf8.RuneError && n <= 1:
			emit("?")
		case r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r' || r == '\u0085' || r == '\u2028' || r == '\u2029':
			emit(" ")
		case r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0):
			// other control characters: removed
		case r < 0x7F:
			emit(string(rune(r)))
		case r >= 0x0300 && r <= 0x036F:
			// combining diacritical marks: the base letter was already
			// written, so "e" + U+0301 folds like "é"
		case r >= 0xFF01 && r <= 0xFF5E:
			emit(string(r - 0xFEE0)) // full-width ASCII forms
		default:
			if t, ok := fold[r]; ok {
				emit(t)
			} else {
				emit("?")
			}
		}
	}
	return b.String()
}

// cleanUpper is clean followed by upper-casing, for the fields the slip
// prints in capitals (merk, tipe, keterangan, office).
func cleanUpper(s string) string { return strings.ToUpper(clean(s)) }

// amount formats v in rupiah with '.' thousands separators and no currency
// sign: 299470 → "299.470", -150000 → "-150.000". Every int64 is handled,
// math.MinInt64 included.
func amount(v int64) string {
	u := uint64(v)
	neg := v < 0
	if neg {
		u = -u // two's complement magnitude; correct for MinInt64 too
	}
	var buf [32]byte
	i := len(buf)
	for digits := 0; ; digits++ {
		if digits > 0 && digits%3 == 0 {
			i--
			buf[i] = '.'
		}
		i--
		buf[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}

// discount formats the potongan, which the Result carries as a positive
// number to subtract: 150000 → "-150.000". A negative potongan (a
// surcharge, never seen so far) is shown with a '+' so the sign on paper
// always tells which way it goes.
func discount(v int64) string {
	switch {
	case v > 0:
		return "-" + amount(v)
	case v < 0:
		return "+" + amount(v)[1:]
	}
	return "0"
}
