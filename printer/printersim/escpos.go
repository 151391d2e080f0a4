package printersim

import (
	"bytes"
	"fmt"
	"strings"
)

// Control bytes.
const (
	lf  = 0x0A
	ht  = 0x09
	dle = 0x10
	eot = 0x04
	enq = 0x05
	dc4 = 0x14
	esc = 0x1B
	fs  = 0x1C
	gs  = 0x1D
)

// reply is one transmission to the host, built when it is sent so that a
// slow reply tells the state at that moment.
type reply struct {
	status byte   // DLE EOT n: reply to n (1..4)
	asb    bool   // the ASB block
	b      []byte // anything else (GS r)
}

// rtScanner finds real-time commands (DLE EOT n) in the raw byte stream,
// wherever they are, as a printer's receive interrupt does.
type rtScanner struct {
	a, b byte // the last two bytes
	n    int  // how many of a, b are valid
}

// push takes the next byte and reports a DLE EOT n that it completes.
func (r *rtScanner) push(c byte) (n byte, ok bool) {
	if r.n == 2 && r.a == dle && r.b == eot && c >= 1 && c <= 4 {
		r.n = 0
		return c, true
	}
	r.a, r.b = r.b, c
	r.n = min(r.n+1, 2)
	return 0, false
}

// parser holds the bytes of an incomplete command and the count of bulk
// data bytes (images) still to discard.
type parser struct {
	buf  []byte
	skip int
}

// cell is one character of the print buffer.
type cell struct {
	r rune
	w int // columns it takes (double width: 2)
}

// dims are the size of a stored image, in dots.
type dims struct {
	w, h int
	ok   bool
}

// render holds the print modes, the print buffer (the pending line) and
// stored symbols and images. Guarded by Sim.mu.
type render struct {
	line     []cell
	units    int  // columns used by line
	width    int  // character width multiple, 1..8
	fontB    bool //
	align    byte // 0 left, 1 centre, 2 right
	codePage byte
	qr, pdf  []byte // stored 2D symbol data; nil = none
	gfx      dims   // GS ( L fn 112
	dl       dims   // GS *
}

// reset is the state after power-on or replug.
func (r *render) reset() { *r = render{width: 1} }

// initialize is ESC @: modes to power-on values and the print buffer
// discarded; stored symbols and images are kept.
func (r *render) initialize() {
	*r = render{width: 1, qr: r.qr, pdf: r.pdf, gfx: r.gfx, dl: r.dl}
}

// feedLocked takes bytes from a session: real-time commands are answered
// first, then the command parser runs over what is complete. It returns
// the replies in order.
func (s *Sim) feedLocked(ss *session, data []byte) []reply {
	var out []reply
	for _, c := range data {
		if n, ok := ss.rt.push(c); ok {
			out = append(out, reply{status: n})
		}
	}
	p := &ss.p
	p.buf = append(p.buf, data...)
	i := 0
	for i < len(p.buf) {
		if p.skip > 0 {
			k := min(p.skip, len(p.buf)-i)
			p.skip -= k
			i += k
			continue
		}
		n, skip := s.commandLocked(ss, p.buf[i:], &out)
		if n == 0 {
			break // incomplete: wait for more bytes
		}
		i += n
		p.skip = skip
	}
	p.buf = p.buf[:copy(p.buf, p.buf[i:])]
	if cap(p.buf) > 1<<16 && len(p.buf) < 1<<12 {
		p.buf = append([]byte(nil), p.buf...)
	}
	return out
}

// commandLocked executes the command at the start of b. It returns the
// bytes consumed (0: incomplete, need more) and the count of data bytes
// that follow them and are to be discarded unseen.
func (s *Sim) commandLocked(ss *session, b []byte, out *[]reply) (n, skip int) {
	online := !s.state.offline()
	switch c := b[0]; {
	case c == lf:
		if online {
			s.printLineLocked(true)
		}
		return 1, 0
	case c == ht:
		if online {
			s.tabLocked()
		}
		return 1, 0
	case c == dle:
		return dleLen(b), 0
	case c == esc:
		return s.escLocked(b, online, out)
	case c == gs:
		return s.gsLocked(ss, b, online, out)
	case c == fs:
		return fsLen(b)
	case c < 0x20 || c == 0x7F: // CR, FF and other control bytes
		return 1, 0
	default:
		if online {
			s.putLocked(c)
		}
		return 1, 0
	}
}

// dleLen is the length of a DLE command; real-time ones were answered by
// the rtScanner already.
func dleLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	k := 2
	switch b[1] {
	case eot, enq:
		k = 3
	case dc4:
		if len(b) < 3 {
			return 0
		}
		switch b[2] {
		case 7:
			k = 4
		case 8:
			k = 10
		default:
			k = 5
		}
	}
	if len(b) < k {
		return 0
	}
	return k
}

// escFixed lists ESC commands by their count of parameter bytes.
var escFixed = map[byte]int{
	' ': 1, '!': 1, '$': 2, '%': 1, '-': 1, '2': 0, '3': 1, '<': 0, '=': 1,
	'?': 1, '@': 0, 'E': 1, 'G': 1, 'J': 1, 'K': 1, 'L': 0, 'M': 1, 'R': 1,
	'S': 0, 'T': 1, 'U': 1, 'V': 1, 'W': 8, '\\': 2, 'a': 1, 'c': 2, 'd': 1,
	'e': 1, 'i': 0, 'j': 1, 'm': 0, 'p': 3, 'r': 1, 't': 1, 'u': 1, 'v': 0,
	'{': 1,
}

func (s *Sim) escLocked(b []byte, online bool, out *[]reply) (n, skip int) {
	if len(b) < 2 {
		return 0, 0
	}
	switch b[1] {
	case '*': // ESC * m nL nH d1..dk: one band of a bit image
		if len(b) < 5 {
			return 0, 0
		}
		k := le16(b[3:])
		if b[2] == 32 || b[2] == 33 { // 24-dot modes: 3 bytes a column
			k *= 3
		}
		return 5, k
	case '&': // ESC & y c1 c2 [x d1..d(y*x)]...
		return escAmpLen(b), 0
	case 'D': // ESC D n1..nk NUL, k <= 32
		const max = 2 + 32 + 1
		if i := bytes.IndexByte(b[2:min(len(b), max)], 0); i >= 0 {
			return 2 + i + 1, 0
		}
		if len(b) >= max {
			return max, 0
		}
		return 0, 0
	case '(': // ESC ( fn pL pH d1..dp
		if len(b) < 5 {
			return 0, 0
		}
		return 5, le16(b[3:])
	}
	k, ok := escFixed[b[1]]
	if !ok {
		return 2, 0
	}
	if len(b) < 2+k {
		return 0, 0
	}
	var arg byte
	if k > 0 {
		arg = b[2]
	}
	r := &s.r
	switch b[1] {
	case '@':
		r.initialize()
	case '!':
		r.fontB = arg&0x01 != 0
		r.width = 1
		if arg&0x20 != 0 {
			r.width = 2
		}
	case 'M':
		r.fontB = arg == 1 || arg == 49
	case 'a':
		switch arg {
		case 0, 48:
			r.align = 0
		case 1, 49:
			r.align = 1
		case 2, 50:
			r.align = 2
		}
	case 't':
		r.codePage = arg
	case 'd':
		if online {
			s.feedLinesLocked(int(arg))
		}
	case 'J':
		if online {
			s.printLineLocked(false)
		}
	case 'i', 'm':
		if online {
			s.cutLocked()
		}
	case 'v':
		if online {
			*out = append(*out, reply{b: []byte{s.paperSensorLocked()}})
		}
	}
	return 2 + k, 0
}

// escAmpLen is the length of ESC & (user-defined characters), 0 if
// incomplete.
func escAmpLen(b []byte) int {
	if len(b) < 5 {
		return 0
	}
	y, c1, c2 := int(b[2]), int(b[3]), int(b[4])
	i := 5
	for c := c1; c <= c2; c++ {
		if i >= len(b) {
			return 0
		}
		i += 1 + y*int(b[i])
		if i > len(b) {
			return 0
		}
	}
	return i
}

// gsFixed lists GS commands by their count of parameter bytes.
var gsFixed = map[byte]int{
	'$': 2, '/': 1, ':': 0, 'B': 1, 'E': 1, 'H': 1, 'I': 1, 'L': 2, 'P': 2,
	'T': 1, 'W': 2, '\\': 2, '^': 3, 'b': 1, 'c': 0, 'f': 1, 'h': 1, 'j': 1,
	'w': 1,
}

func (s *Sim) gsLocked(ss *session, b []byte, online bool, out *[]reply) (n, skip int) {
	if len(b) < 2 {
		return 0, 0
	}
	if b[1] == '(' || b[1] == '8' {
		return s.gsExtLocked(b, online)
	}
	need := func(k int) bool { return len(b) >= k }
	switch b[1] {
	case '!': // GS ! n: character size
		if !need(3) {
			return 0, 0
		}
		s.r.width = int(b[2]>>4&7) + 1
		return 3, 0
	case 'V': // GS V m [n]: cut
		if !need(3) {
			return 0, 0
		}
		switch b[2] {
		case 0, 1, 48, 49:
			if online {
				s.cutLocked()
			}
			return 3, 0
		case 65, 66, 97, 98, 103, 104:
			if !need(4) {
				return 0, 0
			}
			if online {
				s.cutLocked()
			}
			return 4, 0
		}
		return 3, 0
	case 'v', 'Q': // GS v 0 m xL xH yL yH d..., GS Q 0 m xL xH yL yH d...
		if !need(3) {
			return 0, 0
		}
		if b[2] != '0' {
			return 2, 0
		}
		if !need(8) {
			return 0, 0
		}
		x, y := le16(b[4:]), le16(b[6:])
		if b[1] == 'v' && online { // x bytes wide, y dots high
			s.emitLocked(fmt.Sprintf("[IMAGE %dx%d]", x*8, y))
		}
		return 8, x * y
	case '*': // GS * x y d1..d(x*y*8): download an image
		if !need(4) {
			return 0, 0
		}
		x, y := int(b[2]), int(b[3])
		s.r.dl = dims{w: x * 8, h: y * 8, ok: true}
		return 4, x * y * 8
	case '/': // GS / m: print the downloaded image
		if !need(3) {
			return 0, 0
		}
		if online && s.r.dl.ok {
			s.emitLocked(fmt.Sprintf("[IMAGE %dx%d]", s.r.dl.w, s.r.dl.h))
		}
		return 3, 0
	case 'k': // GS k m ...: barcode
		return s.barcodeLocked(b, online), 0
	case 'g': // GS g 0 m nL nH, GS g 2 m nL nH
		if !need(3) {
			return 0, 0
		}
		if b[2] != '0' && b[2] != '2' {
			return 3, 0
		}
		if !need(6) {
			return 0, 0
		}
		return 6, 0
	case 'r': // GS r n: transmit status; not executed while offline
		if !need(3) {
			return 0, 0
		}
		if online {
			switch b[2] {
			case 1, 49:
				*out = append(*out, reply{b: []byte{s.paperSensorLocked()}})
			case 2, 50:
				*out = append(*out, reply{b: []byte{0x00}}) // drawer pin 3 LOW
			}
		}
		return 3, 0
	case 'a': // GS a n: Automatic Status Back
		if !need(3) {
			return 0, 0
		}
		ss.asb = b[2] & 0x0F
		if ss.asb != 0 {
			*out = append(*out, reply{asb: true})
		}
		return 3, 0
	}
	k, ok := gsFixed[b[1]]
	if !ok {
		return 2, 0
	}
	if !need(2 + k) {
		return 0, 0
	}
	return 2 + k, 0
}

// gsExtLocked handles GS ( x pL pH d1..dp and GS 8 x p1 p2 p3 p4 d1..dp.
// 2D codes (GS ( k) are buffered whole; graphics (GS ( L, GS 8 L) only
// their header, the image data is skipped.
func (s *Sim) gsExtLocked(b []byte, online bool) (n, skip int) {
	hdr, p := 5, 0
	if b[1] == '8' {
		hdr = 7
	}
	if len(b) < hdr {
		return 0, 0
	}
	if b[1] == '8' {
		p = le32(b[3:])
	} else {
		p = le16(b[3:])
	}
	switch b[2] {
	case 'k':
		if b[1] == '(' {
			if len(b) < hdr+p {
				return 0, 0
			}
			s.code2DLocked(b[hdr:hdr+p], online)
			return hdr + p, 0
		}
	case 'L':
		peek := min(p, 10)
		if len(b) < hdr+peek {
			return 0, 0
		}
		s.graphicsLocked(b[hdr:hdr+peek], online)
	}
	return hdr, p
}

// code2DLocked runs GS ( k: d is cn fn [m] data.
func (s *Sim) code2DLocked(d []byte, online bool) {
	if len(d) < 2 {
		return
	}
	var stored *[]byte
	var name string
	switch d[0] {
	case 49:
		stored, name = &s.r.qr, "QR"
	case 48:
		stored, name = &s.r.pdf, "PDF417"
	default:
		return
	}
	switch d[1] {
	case 80: // store: cn 80 m d1..dk
		if len(d) >= 3 {
			*stored = append([]byte{}, d[3:]...)
		}
	case 81: // print
		if online && *stored != nil {
			s.emitLocked("[" + name + ": " + printable(*stored) + "]")
		}
	}
}

// graphicsLocked runs GS ( L / GS 8 L from its first bytes: m fn ...
func (s *Sim) graphicsLocked(h []byte, online bool) {
	if len(h) < 2 {
		return
	}
	switch h[1] {
	case 112: // store raster graphics: m fn a bx by c xL xH yL yH d...
		if len(h) >= 10 {
			s.r.gfx = dims{w: le16(h[6:]), h: le16(h[8:]), ok: true}
		}
	case 2, 50: // print the stored graphics
		if online && s.r.gfx.ok {
			s.emitLocked(fmt.Sprintf("[IMAGE %dx%d]", s.r.gfx.w, s.r.gfx.h))
		}
	}
}

// barcodeLocked runs GS k and returns its length (0: incomplete).
func (s *Sim) barcodeLocked(b []byte, online bool) int {
	if len(b) < 3 {
		return 0
	}
	var data []byte
	var n int
	switch m := b[2]; {
	case m <= 6: // data up to NUL
		const max = 3 + 255
		i := bytes.IndexByte(b[3:min(len(b), max)], 0)
		if i < 0 {
			if len(b) < max {
				return 0
			}
			return max // no NUL: give up on this one
		}
		data, n = b[3:3+i], 3+i+1
	case m >= 65 && m <= 79: // m n d1..dn
		if len(b) < 4 || len(b) < 4+int(b[3]) {
			return 0
		}
		data, n = b[4:4+int(b[3])], 4+int(b[3])
	default:
		return 3
	}
	if online {
		s.emitLocked("[BARCODE: " + printable(data) + "]")
	}
	return n
}

// fsLen is the length of an FS command (Kanji and NV images), 0 if
// incomplete, and the data to skip.
func fsLen(b []byte) (n, skip int) {
	if len(b) < 2 {
		return 0, 0
	}
	switch b[1] {
	case '(': // FS ( fn pL pH d1..dp
		if len(b) < 5 {
			return 0, 0
		}
		return 5, le16(b[3:])
	case '2': // FS 2 c1 c2 d1..d72
		if len(b) < 4 {
			return 0, 0
		}
		return 4, 72
	case 'q': // FS q n [xL xH yL yH d1..d(x*y*8)]1..n
		if len(b) < 3 {
			return 0, 0
		}
		i := 3
		for range int(b[2]) {
			if len(b) < i+4 {
				return 0, 0
			}
			i += 4 + le16(b[i:])*le16(b[i+2:])*8
			if len(b) < i {
				return 0, 0
			}
		}
		return i, 0
	}
	k, ok := map[byte]int{'!': 1, '&': 0, '-': 1, '.': 0, 'C': 1, 'S': 2, 'W': 1, 'p': 2, '?': 1}[b[1]]
	if !ok {
		return 2, 0
	}
	if len(b) < 2+k {
		return 0, 0
	}
	return 2 + k, 0
}

func le16(b []byte) int { return int(b[0]) | int(b[1])<<8 }

// le32 is a 32-bit length, capped so that it fits an int everywhere.
func le32(b []byte) int {
	v := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24
	return int(min(v, 1<<31-1))
}

// printable shows data as text, with '?' for bytes outside printable ASCII.
func printable(d []byte) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7E {
			return '?'
		}
		return r
	}, string(d))
}

// Rendering into Sim.out.

func (s *Sim) colsLocked() int {
	if s.r.fontB {
		return s.cfg.Columns * 12 / 9
	}
	return s.cfg.Columns
}

// putLocked adds a printable byte to the print buffer, wrapping the line
// when it is full.
func (s *Sim) putLocked(c byte) {
	r := rune(c)
	if c >= 0x80 {
		r = '?'
		if s.r.codePage == 16 && c >= 0xA0 { // WPC1252 is Latin-1 there
			r = rune(c)
		}
	}
	w := s.r.width
	if s.r.units+w > s.colsLocked() && len(s.r.line) > 0 {
		s.printLineLocked(false)
	}
	s.r.line = append(s.r.line, cell{r: r, w: w})
	s.r.units += w
}

// tabLocked is HT: spaces to the next multiple of 8 columns, if on the line.
func (s *Sim) tabLocked() {
	next := (s.r.units/8 + 1) * 8
	if next > s.colsLocked() {
		return
	}
	for s.r.units < next {
		s.r.line = append(s.r.line, cell{r: ' ', w: 1})
		s.r.units++
	}
}

// printLineLocked prints the print buffer as one line; with always false
// only if there is something in it.
func (s *Sim) printLineLocked(always bool) {
	line := s.r.line
	if len(line) == 0 && !always {
		return
	}
	for len(line) > 0 && line[len(line)-1].r == ' ' {
		line = line[:len(line)-1]
	}
	used := 0
	for _, c := range line {
		used += c.w
	}
	pad := 0
	switch cols := s.colsLocked(); {
	case len(line) == 0:
	case s.r.align == 1:
		pad = (cols - used) / 2
	case s.r.align == 2:
		pad = cols - used
	}
	s.out.WriteString(strings.Repeat(" ", max(pad, 0)))
	for _, c := range line {
		s.out.WriteRune(c.r)
	}
	s.out.WriteByte('\n')
	s.r.line = s.r.line[:0]
	s.r.units = 0
}

// feedLinesLocked is ESC d n: print the buffer and feed n lines.
func (s *Sim) feedLinesLocked(n int) {
	if n == 0 {
		s.printLineLocked(false)
		return
	}
	s.printLineLocked(true)
	for range n - 1 {
		s.out.WriteByte('\n')
	}
}

// emitLocked prints the pending line, then a line of its own (a symbol or
// image placeholder).
func (s *Sim) emitLocked(text string) {
	s.printLineLocked(false)
	s.out.WriteString(text)
	s.out.WriteByte('\n')
}

// cutLocked prints the pending line and a cut mark; pos58 has no cutter.
func (s *Sim) cutLocked() {
	if s.cfg.Model != ModelEpson {
		return
	}
	s.emitLocked("--- CUT ---")
}
