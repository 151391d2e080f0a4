package escpos

// Builder appends commands to a job:
//
//	var b escpos.Builder
//	b.Init().Align(escpos.Center).Bold(true).Line("INFORMASI PAJAK").Bold(false)
//	job, err := b.Feed(3).Cut(true, 0).Bytes()
//
// Methods return the Builder so calls chain. The first error (a bad QR)
// is kept and returned by Bytes; later calls still append, so one check
// at the end suffices. The zero value is ready to use.
type Builder struct {
	buf           []byte
	err           error
	width, height int // GS ! multiples, 0 meaning 1
}

// Bytes returns the job and the first error, if any. The slice aliases
// the Builder's buffer until the next append.
func (b *Builder) Bytes() ([]byte, error) { return b.buf, b.err }

// Len is the number of bytes so far.
func (b *Builder) Len() int { return len(b.buf) }

// Raw appends p unchanged: for commands this package does not encode
// (raster images, barcodes). Never pass user data through Raw; use Text.
func (b *Builder) Raw(p []byte) *Builder {
	b.buf = append(b.buf, p...)
	return b
}

// Init appends ESC @ and forgets the character size, as the printer does.
func (b *Builder) Init() *Builder {
	b.width, b.height = 1, 1
	return b.Raw(Init())
}

// CodePage appends ESC t n.
func (b *Builder) CodePage(n byte) *Builder { return b.Raw(CodePage(n)) }

// Text appends Text(s): printable ASCII and '\n', '?' for anything else.
func (b *Builder) Text(s string) *Builder {
	b.buf = appendText(b.buf, s)
	return b
}

// Line appends Text(s) and a line feed.
func (b *Builder) Line(s string) *Builder { return b.Text(s).Raw([]byte{LF}) }

// Bold appends ESC E n.
func (b *Builder) Bold(on bool) *Builder { return b.Raw(Bold(on)) }

// Underline appends ESC - n.
func (b *Builder) Underline(dots int) *Builder { return b.Raw(Underline(dots)) }

// Size appends GS ! for width × height (1..8 each).
func (b *Builder) Size(width, height int) *Builder {
	b.width, b.height = clamp(width, 1, 8), clamp(height, 1, 8)
	return b.Raw(Size(b.width, b.height))
}

// DoubleHeight sets the height to 2 (or 1) and keeps the current width.
func (b *Builder) DoubleHeight(on bool) *Builder {
	h := 1
	if on {
		h = 2
	}
	return b.Size(b.width, h)
}

// DoubleWidth sets the width to 2 (or 1) and keeps the current height.
func (b *Builder) DoubleWidth(on bool) *Builder {
	w := 1
	if on {
		w = 2
	}
	return b.Size(w, b.height)
}

// Align appends ESC a n.
func (b *Builder) Align(a Alignment) *Builder { return b.Raw(Align(a)) }

// Feed appends ESC d n.
func (b *Builder) Feed(lines byte) *Builder { return b.Raw(Feed(lines)) }

// Cut appends GS V 65/66 n.
func (b *Builder) Cut(partial bool, feed byte) *Builder { return b.Raw(Cut(partial, feed)) }

// QR appends the GS ( k sequence of QR; an error is kept for Bytes and
// nothing is appended.
func (b *Builder) QR(data string, size byte, ec ECLevel) *Builder {
	p, err := QR(data, size, ec)
	if err != nil {
		if b.err == nil {
			b.err = err
		}
		return b
	}
	return b.Raw(p)
}
