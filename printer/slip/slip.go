// Package slip lays out the PKB information slip as lines of text for a
// receipt printer of a given width (domain/pkb.md 5).
//
// # Concepts
//
// The width is the printer's Font A column count (32, 36, 42 or 48; see
// printer/models and domain/printers.md 1). Render returns plain lines:
// printable ASCII, none longer than the width, no trailing spaces; the
// driver adds the ESC/POS framing (init, code page 0, feed, cut). The slip
// carries only what a pkb.Result holds, and that type has no field for the
// owner, the address or the chassis number (domain/pkb.md 4.2), so nothing
// personal can be printed.
//
// Layout, top to bottom:
//
//   - header, centred: "INFORMASI PAJAK KENDARAAN", the office, and
//     "DATA CONTOH (DEMO)" when the Result's sumber is DEMO (domain/pkb.md 8);
//   - key/value lines: No. Polisi, Kendaraan (MERK TIPE TAHUN), Jatuh tempo
//     PKB, STNK berlaku s.d., Keterangan. A blocked vehicle shows
//     "DIBLOKIR" on the Keterangan line, "HUBUNGI PETUGAS" under it and the
//     backend's remark after that;
//   - the items: below 42 columns one per line ("PKB pokok", "PKB denda",
//     ...); at 42 and 48 columns a Rincian/Pokok/Denda table with column
//     widths 16/13/13 or 20/14/14. Opsen null is shown as "-". PNBP STNK,
//     PNBP TNKB and Potongan appear only when non-zero (PNBP and potongan in
//     the Pokok column), the programme only when named;
//   - "JUMLAH" (or "JUMLAH (ESTIMASI)" followed by "ESTIMASI, bukan tagihan
//     resmi"), "Per DD-MM-YYYY HH:MM WIB" from dihitung_pada, and
//     "Bukan bukti pembayaran." as the very last line.
//
// Amounts use '.' as the thousands separator and carry no "Rp". A value
// that does not fit beside its label goes right-aligned on the next line;
// in the table, a row whose value does not fit in its cell (13 or 14
// columns with one column kept free as a gutter) has its label alone on the
// line and its values on the next one. Long text wraps at spaces, each
// continuation right-aligned.
package slip

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/pkb"
)

// Options select the paper width and the fixed texts of a kiosk.
type Options struct {
	Columns int            // Font A columns: 32, 36, 42 or 48 (others: error)
	Office  string         // e.g. "UPTD PPD PADANG" (header line 2), upper-cased, ASCII-folded; "" leaves the line out
	TZ      *time.Location // for "Per DD-MM-YYYY HH:MM WIB"; nil = Asia/Jakarta (fallback fixed +07:00)
}

// Fixed texts of the slip (domain/pkb.md 4.2, 5, 8, 2.4 step 7).
const (
	title      = "INFORMASI PAJAK KENDARAAN"
	demoLine   = "DATA CONTOH (DEMO)"
	blokirText = "DIBLOKIR"
	blokirHelp = "HUBUNGI PETUGAS"
	estimasi   = "ESTIMASI, bukan tagihan resmi"
	lastLine   = "Bukan bukti pembayaran."
)

// columns lists the supported widths and their table layout; nil means the
// one-item-per-line layout.
var columns = map[int][]int{
	32: nil,
	36: nil,
	42: {16, 13, 13},
	48: {20, 14, 14},
}

// jakarta is Asia/Jakarta from the system's tz database, or a fixed +07:00
// named WIB where there is none (Indonesia has no daylight saving time).
var jakarta = sync.OnceValue(func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Jakarta"); err == nil {
		return loc
	}
	return time.FixedZone("WIB", 7*60*60)
})

// Render lays out r for a printer of o.Columns columns. The only error is
// an unsupported width.
func Render(r pkb.Result, o Options) ([]string, error) {
	table, ok := columns[o.Columns]
	if !ok {
		return nil, fmt.Errorf("slip: unsupported width of %d columns (want 32, 36, 42 or 48)", o.Columns)
	}
	loc := o.TZ
	if loc == nil {
		loc = jakarta()
	}
	s := &sheet{w: o.Columns}

	// Header.
	s.centre(title)
	s.centre(cleanUpper(o.Office))
	if strings.EqualFold(strings.TrimSpace(r.Sumber), "DEMO") {
		s.centre(demoLine)
	}
	s.rule()

	// Vehicle.
	s.kv("No. Polisi", orDash(cleanUpper(r.Nopol)))
	k := r.Kendaraan
	s.kv("Kendaraan", orDash(cleanUpper(strings.Join([]string{k.Merk, k.Tipe, k.Tahun}, " "))))
	s.kv("Jatuh tempo PKB", r.TglAkhirPKB.Indonesian())
	s.kv("STNK berlaku s.d.", r.TglAkhirSTNK.Indonesian())
	remark := cleanUpper(r.Status.Keterangan)
	if r.Status.Blokir {
		s.kv("Keterangan", blokirText)
		s.right(blokirHelp)
		s.right(remark)
	} else {
		s.kv("Keterangan", orDash(remark))
	}
	s.rule()

	// Items.
	rc := r.Rincian
	opsen := [2]string{"-", "-"}
	if rc.OpsenPKB != nil {
		opsen = [2]string{amount(rc.OpsenPKB.Pokok), amount(rc.OpsenPKB.Denda)}
	}
	rows := []row{
		{"PKB", amount(rc.PKB.Pokok), amount(rc.PKB.Denda), true},
		{"Opsen PKB", opsen[0], opsen[1], true},
		{"SWDKLLJ", amount(rc.SWDKLLJ.Pokok), amount(rc.SWDKLLJ.Denda), true},
	}
	if rc.PNBP.STNK != 0 {
		rows = append(rows, row{"PNBP STNK", amount(rc.PNBP.STNK), "", false})
	}
	if rc.PNBP.TNKB != 0 {
		rows = append(rows, row{"PNBP TNKB", amount(rc.PNBP.TNKB), "", false})
	}
	if rc.Potongan != 0 {
		rows = append(rows, row{"Potongan", discount(rc.Potongan), "", false})
	}
	if table == nil {
		for _, it := range rows {
			if it.split {
				s.kv(it.label+" pokok", it.pokok)
				s.kv(it.label+" denda", it.denda)
			} else {
				s.kv(it.label, it.pokok)
			}
		}
	} else {
		s.table(table, row{"Rincian", "Pokok", "Denda", true})
		for _, it := range rows {
			s.table(table, it)
		}
	}
	if p := clean(r.Program); p != "" {
		s.kv("Program", p)
	}
	s.rule()

	// Total and stamp.
	if r.Estimasi {
		s.kv("JUMLAH (ESTIMASI)", amount(r.Jumlah))
		s.left(estimasi)
	} else {
		s.kv("JUMLAH", amount(r.Jumlah))
	}
	if r.DihitungPada.IsZero() {
		s.left("Per -")
	} else {
		t := r.DihitungPada.In(loc)
		s.left("Per " + t.Format("02-01-2006 15:04") + " " + clean(t.Format("MST")))
	}
	s.left(lastLine)
	return s.lines, nil
}

// row is one item of the bill; split rows have a pokok and a denda, the
// others (PNBP, potongan) a single value shown as pokok.
type row struct {
	label, pokok, denda string
	split               bool
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// sheet collects the lines of a slip w columns wide.
type sheet struct {
	w     int
	lines []string
}

func (s *sheet) add(line string) { s.lines = append(s.lines, strings.TrimRight(line, " ")) }

func (s *sheet) rule() { s.add(strings.Repeat("-", s.w)) }

// centre writes text centred (the left margin rounded down), wrapped at
// spaces when it is wider than the paper; empty text writes nothing, as do
// left and right.
func (s *sheet) centre(text string) {
	for _, l := range wrap(text, s.w, s.w) {
		if l != "" {
			s.add(strings.Repeat(" ", (s.w-len(l))/2) + l)
		}
	}
}

// left writes text left-aligned, wrapped at spaces.
func (s *sheet) left(text string) {
	for _, l := range wrap(text, s.w, s.w) {
		if l != "" {
			s.add(l)
		}
	}
}

// right writes text right-aligned, wrapped at spaces.
func (s *sheet) right(text string) {
	for _, l := range wrap(text, s.w, s.w) {
		if l != "" {
			s.add(pad(l, s.w))
		}
	}
}

// kv writes a label and its value right-aligned on the same line when both
// fit with a space between them. Otherwise the value's first words go
// beside the label as far as they fit (none if the first does not) and the
// rest continues right-aligned on the following lines.
func (s *sheet) kv(label, value string) {
	if len(label)+1+len(value) <= s.w {
		s.add(label + pad(value, s.w-len(label)))
		return
	}
	parts := wrap(value, s.w-len(label)-1, s.w)
	if parts[0] == "" {
		s.add(label)
	} else {
		s.add(label + pad(parts[0], s.w-len(label)))
	}
	for _, p := range parts[1:] {
		s.add(pad(p, s.w))
	}
}

// table writes one row in columns of the given widths: the label
// left-aligned, pokok and denda right-aligned in their cells. A value fits
// in its cell when it leaves the cell's first column free as a gutter. If a
// value does not fit, the label stands alone and the values follow on the
// next line, pokok right-aligned at its cell's right edge (it may use the
// label's space), denda in its cell, or on a line of its own right-aligned
// at the paper's edge when it does not fit there either.
func (s *sheet) table(widths []int, r row) {
	lw, pw, dw := widths[0], widths[1], widths[2]
	if len(r.label) <= lw && len(r.pokok) < pw && len(r.denda) < dw {
		s.add(pad(r.label, -lw) + pad(r.pokok, pw) + pad(r.denda, dw))
		return
	}
	s.add(r.label)
	if len(r.denda) < dw {
		s.add(pad(r.pokok, lw+pw) + pad(r.denda, dw))
		return
	}
	s.add(pad(r.pokok, lw+pw))
	s.add(pad(r.denda, s.w))
}

// pad right-aligns text in n columns, or left-aligns it in -n columns.
// Text already n wide or wider is returned as is.
func pad(text string, n int) string {
	if n < 0 {
		if fill := -n - len(text); fill > 0 {
			return text + strings.Repeat(" ", fill)
		}
		return text
	}
	if fill := n - len(text); fill > 0 {
		return strings.Repeat(" ", fill) + text
	}
	return text
}

// wrap splits ASCII text at spaces into lines: the first at most first
// columns wide (possibly "" when its first word does not fit), the others
// at most rest wide. Words longer than rest are cut. wrap always returns
// at least one element.
func wrap(text string, first, rest int) []string {
	words := strings.Fields(text)
	lines := []string{""}
	limit := first
	for _, word := range words {
		for word != "" {
			cur := lines[len(lines)-1]
			need := len(word)
			if cur != "" {
				need++
			}
			if len(cur)+need <= limit {
				if cur != "" {
					cur += " "
				}
				lines[len(lines)-1] = cur + word
				word = ""
				continue
			}
			if cur == "" && len(word) > rest && limit == rest {
				// A word wider than the paper: cut it.
				lines[len(lines)-1] = word[:rest]
				word = word[rest:]
			}
			lines = append(lines, "")
			limit = rest
		}
	}
	if len(lines) > 1 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}
