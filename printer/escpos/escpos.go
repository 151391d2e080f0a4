// Package escpos encodes ESC/POS commands for receipt printers as bytes;
// it does no I/O.
//
// Every function returns a fresh slice that the caller may keep or append
// to. The commands and their byte layouts are those of
// domain/printers.md 2 (printing), 3 (DLE EOT), 4 (GS r) and 5 (GS a), and
// the Epson ESC/POS Application Programming Guide [APG] they cite.
//
// Text is the only way user data should reach a slip: it lets printable
// ASCII and '\n' through and turns everything else into '?', so a plate
// number or a backend remark can never carry ESC, GS or DLE bytes that
// the printer would execute as commands.
package escpos

import (
	"errors"
	"fmt"
)

// Control bytes (domain/printers.md, "Bytes").
const (
	LF   = 0x0A
	DLE  = 0x10
	EOT  = 0x04
	ENQ  = 0x05
	ESC  = 0x1B
	GS   = 0x1D
	XON  = 0x11
	XOFF = 0x13
)

// Init is ESC @: clear the print buffer and reset modes to their
// power-on values. It does not clear the receive buffer [INIT], so data
// already sent still prints.
func Init() []byte { return []byte{ESC, '@'} }

// CodePage is ESC t n. Epson numbering: 0 PC437, 2 PC850, 16 WPC1252,
// 17 PC866, 18 PC852, 19 PC858; clones renumber above 19
// (domain/printers.md 2). Text only emits ASCII, which is the same in
// every page, so page 0 is enough for our slips.
func CodePage(n byte) []byte { return []byte{ESC, 't', n} }

// Bold is ESC E n (emphasised on or off).
func Bold(on bool) []byte { return []byte{ESC, 'E', b2b(on)} }

// Underline is ESC - n: 0 off, 1 one dot thick, 2 two dots thick. Values
// above 2 are sent as 2.
func Underline(dots int) []byte {
	return []byte{ESC, '-', byte(clamp(dots, 0, 2))}
}

// Size is GS ! n: character width and height as multiples (1..8) of the
// normal size; values outside 1..8 are clamped. GS ! sets both at once,
// so DoubleHeight and DoubleWidth reset the other dimension; the Builder
// keeps both.
func Size(width, height int) []byte {
	w := clamp(width, 1, 8) - 1
	h := clamp(height, 1, 8) - 1
	return []byte{GS, '!', byte(w<<4 | h)}
}

// DoubleHeight is Size(1, 2) when on, Size(1, 1) when off.
func DoubleHeight(on bool) []byte {
	if on {
		return Size(1, 2)
	}
	return Size(1, 1)
}

// DoubleWidth is Size(2, 1) when on, Size(1, 1) when off.
func DoubleWidth(on bool) []byte {
	if on {
		return Size(2, 1)
	}
	return Size(1, 1)
}

// Alignment is the ESC a justification.
type Alignment byte

// Alignments for Align.
const (
	Left   Alignment = 0
	Center Alignment = 1
	Right  Alignment = 2
)

// Align is ESC a n. Like most ESC/POS modes it takes effect at the start
// of a line.
func Align(a Alignment) []byte { return []byte{ESC, 'a', byte(a)} }

// Feed is ESC d n: print the buffer and feed n lines.
func Feed(lines byte) []byte { return []byte{ESC, 'd', lines} }

// Cut is GS V m n with m = 65 (full) or 66 (partial): feed to the cutting
// position plus n vertical units, then cut. Printers obey it only at the
// start of a line, and those without a cutter ignore it; 58 mm clones
// often cut partially or not at all [CUT], [ZJ58].
func Cut(partial bool, feed byte) []byte {
	m := byte(65)
	if partial {
		m = 66
	}
	return []byte{GS, 'V', m, feed}
}

// ECLevel is the QR error correction level (GS ( k fn 69).
type ECLevel byte

// QR error correction levels.
const (
	ECLow      ECLevel = 48 // L, about 7 % recoverable
	ECMedium   ECLevel = 49 // M, about 15 %
	ECQuartile ECLevel = 50 // Q, about 25 %
	ECHigh     ECLevel = 51 // H, about 30 %
)

// QRMaxData is the largest payload GS ( k fn 80 can store: pL+pH×256 is
// at most 7092, of which 3 bytes are cn, fn and m [APG] (the numeric
// capacity of a version 40-L symbol).
const QRMaxData = 7089

// ErrQRData reports QR data that is empty or longer than QRMaxData.
var ErrQRData = errors.New("escpos: QR data must be 1 to 7089 bytes")

// QR prints data as a model 2 QR symbol with the printer's own encoder:
// GS ( k fn 65 (model 2), fn 67 (module size, 1..16 dots), fn 69 (error
// level), fn 80 (store), fn 81 (print) (domain/printers.md 2;
// python-escpos qr). The ZJ-5870 and similar clones have no native QR
// and print nothing or garbage; check the model first.
//
// The data is length-prefixed, so any bytes are safe inside it. A printer
// refuses (prints nothing for) data that does not fit a version 40 symbol
// at the chosen level, which is below QRMaxData for binary data (2953
// bytes at level L).
func QR(data string, size byte, ec ECLevel) ([]byte, error) {
	if len(data) == 0 || len(data) > QRMaxData {
		return nil, fmt.Errorf("escpos: QR of %d bytes: %w", len(data), ErrQRData)
	}
	if size < 1 || size > 16 {
		return nil, fmt.Errorf("escpos: QR module size %d, want 1..16", size)
	}
	if ec < ECLow || ec > ECHigh {
		return nil, fmt.Errorf("escpos: QR error level %d, want 48..51", ec)
	}
	store := len(data) + 3
	out := make([]byte, 0, 8*4+9+len(data))
	out = append(out,
		GS, '(', 'k', 4, 0, 49, 65, 50, 0, // fn 65: model 2
		GS, '(', 'k', 3, 0, 49, 67, size, // fn 67: module size
		GS, '(', 'k', 3, 0, 49, 69, byte(ec), // fn 69: error level
		GS, '(', 'k', byte(store), byte(store>>8), 49, 80, 48, // fn 80: store
	)
	out = append(out, data...)
	out = append(out, GS, '(', 'k', 3, 0, 49, 81, 48) // fn 81: print
	return out, nil
}

// Real-time status queries for StatusQuery (DLE EOT n,
// domain/printers.md 3).
const (
	StatusPrinter = 1 // printer status: offline, drawer, feed button
	StatusOffline = 2 // offline cause: cover, paper-end stop, error
	StatusError   = 3 // error cause: cutter, unrecoverable, auto-recoverable
	StatusPaper   = 4 // roll paper sensor: near end, paper end
)

// StatusQuery is DLE EOT n. The printer answers one byte at once, ahead
// of queued data. Send it alone, never inside another command, and wait
// for the reply before the next one (domain/printers.md 3).
func StatusQuery(n byte) []byte { return []byte{DLE, EOT, n} }

// TransmitStatus is GS r n: n = 1 paper sensor, 2 drawer. Unlike DLE EOT
// it waits behind queued data and is not executed once the paper end
// sensor has stopped the printer (domain/printers.md 4), so the driver
// uses DLE EOT.
func TransmitStatus(n byte) []byte { return []byte{GS, 'r', n} }

// ASB bits for AutoStatusBack (domain/printers.md 5).
const (
	ASBDrawer  = 1 << 0
	ASBOnline  = 1 << 1
	ASBError   = 1 << 2
	ASBPaper   = 1 << 3
	ASBDisable = 0
)

// AutoStatusBack is GS a n: with n != 0 the printer sends a 4-byte status
// block at once and again on every change of an enabled item.
func AutoStatusBack(n byte) []byte { return []byte{GS, 'a', n} }

// Recover is DLE ENQ n: recover from a recoverable error (an autocutter
// jam once cleared, domain/printers.md 3 n=3) and restart from the line
// where it occurred (n=1), or clear the receive and print buffers first
// (n=2, clearBuffers).
func Recover(clearBuffers bool) []byte {
	n := byte(1)
	if clearBuffers {
		n = 2
	}
	return []byte{DLE, ENQ, n}
}

// Printer information for PrinterInfo (GS I n, [APG]; Bixolon SRP-330II
// command manual p.101; HPRT TP80K p.77).
const (
	InfoFirmware     = 65
	InfoManufacturer = 66
	InfoModel        = 67
)

// PrinterInfo is GS I n. For n = 65..69 the printer answers 0x5F, up to
// 80 ASCII bytes and a NUL, once it reaches the command in its receive
// buffer (not in real time).
func PrinterInfo(n byte) []byte { return []byte{GS, 'I', n} }

// Text returns s as bytes that are safe to print: printable ASCII
// (0x20..0x7E) and '\n' pass, every other rune (control characters,
// tabs, carriage returns, DEL, non-ASCII letters, invalid UTF-8 bytes)
// becomes one '?'. No byte below 0x20 other than '\n', and none at or
// above 0x7F, is ever returned, so text cannot start a command.
func Text(s string) []byte { return appendText(make([]byte, 0, len(s)), s) }

func appendText(dst []byte, s string) []byte {
	for _, r := range s { // invalid UTF-8 yields utf8.RuneError per byte: '?'
		if r == '\n' || (r >= 0x20 && r <= 0x7E) {
			dst = append(dst, byte(r))
		} else {
			dst = append(dst, '?')
		}
	}
	return dst
}

func b2b(on bool) byte {
	if on {
		return 1
	}
	return 0
}

func clamp(v, lo, hi int) int {
	return min(max(v, lo), hi)
}
