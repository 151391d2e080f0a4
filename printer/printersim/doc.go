// Package printersim is a virtual ESC/POS receipt printer for the demo and
// tests: it listens on a pseudo-terminal (opened by the kiosk like a serial
// printer) and/or a raw TCP port, answers status requests the way real
// printers do (domain/printers.md 3-6), keeps what it printed as text with
// cut marks, and lets a test or an operator set its paper, cover, online and
// error state through Sim.SetState or an HTTP control API (DESIGN 6).
//
// # Concepts
//
// A Sim is one printer with one State. Each way in is a session: the pty
// (one session from plug to unplug, across any number of opens of the slave
// by the kiosk) and each TCP connection. A session has its own command
// parser and its own Automatic Status Back setting; the printed output and
// the print modes belong to the printer.
//
// Status is built from State (domain/printers.md 3, fixed bits 0x12):
//
//	n=1 printer  bit 3 offline: State.Offline, cover open, paper out or any error
//	n=2 cause    bit 2 cover open, bit 5 paper-end stop, bit 6 error
//	n=3 error    bit 3 cutter, bit 5 unrecoverable, bit 6 recoverable
//	n=4 paper    bits 2,3 near end (model epson only; also set when out),
//	             bits 5,6 paper out
//
// Healthy is 12 12 12 12; out of paper (epson) 1A 32 12 7E.
//
// Real-time commands (DLE EOT, DLE ENQ) are recognised as the bytes arrive,
// ahead of the command parser and whatever it is doing, so DLE EOT is
// answered while offline, out of paper or in an error, and also when the
// three bytes 10 04 n (n=1..4) appear inside image or other parameter data:
// real printers do the same and the host must tolerate the extra reply
// (domain/printers.md 3).
//
// State.SlowMS delays every reply (DLE EOT, GS r, the first ASB block after
// GS a) by that many milliseconds, each reply in turn; ASB blocks caused by
// a state change are sent at once. State.Garbage puts one to three random
// bytes from 0x80-0xFF before every transmission: bit 7 is 0 in every valid
// status, ASB, GS r and XON/XOFF byte (domain/printers.md 6), so a correct
// parser skips them.
//
// While the printer is offline (State.Offline, cover open, paper out or an
// error) print data is parsed, so the stream stays in step, but not printed:
// text, feeds, cuts, QR codes, barcodes and images are dropped, and GS r is
// not answered. A real printer keeps the data in its buffer and prints it
// all after the paper is reloaded (domain/printers.md 8), which is exactly
// what the kiosk must prevent by checking status before printing; dropping
// makes a missed check visible as a missing receipt instead of a late one.
// Settings (ESC @, ESC !, GS !, ESC a, ESC t, GS a, QR store ...) are still
// applied while offline, as a real printer would apply them after recovery.
//
// Text is printed a line at a time, as on a real printer: bytes without a
// closing LF stay in the print buffer (not in Output) until LF, ESC d, ESC J,
// a cut, a QR code or an image prints them; ESC @ discards them. Lines wrap
// at Config.Columns (Font A; Font B has Columns×12/9) counting double-width
// characters twice, ESC a centres or right-aligns them with spaces, trailing
// spaces are trimmed, bytes 0x80-0xFF print as '?' except in code page 16
// (WPC1252), where 0xA0-0xFF print as Latin-1.
//
// Unplugging (State.Unplugged) is a power cut: the pty master is closed, so
// the kiosk's open slave sees hang-up (reads return 0 bytes, io.EOF; writes
// fail with EIO), /dev/pts/N disappears and the symlink is removed (opening
// it fails like a missing /dev/ttyUSB0); the TCP listener and connections
// are closed (connect is refused). Plugging in again opens a new pty, points
// the symlink at it and listens again on the same TCP address; ASB, print
// modes and the print buffer start from power-on values; Output is kept.
//
// # The pty
//
// Start opens /dev/ptmx (O_NONBLOCK, so the master is a pollable *os.File
// whose Close interrupts a blocked Read), unlocks it with TIOCSPTLCK, reads
// its number with TIOCGPTN and makes the line raw with TCGETS/TCSETS (on
// Linux these act on the slave's termios even when issued on the master): no
// echo, no CR/LF translation, no XON/XOFF, no signals, 8 bits, VMIN 1 VTIME 0.
// So bytes pass unchanged both ways even for a host that opens the slave
// with a plain os.OpenFile; github.com/tarm/serial sets its own raw termios
// anyway. The simulator keeps one descriptor of the slave open for the life
// of the pty: without it a read of the master fails with EIO (and poll
// reports POLLHUP) whenever the kiosk has the port closed. The price: bytes
// sent while no host has the port open (late replies, ASB blocks) wait in
// the pty's buffer for the next opener, so a host should flush on open.
// Writes to a session wait at most 50 ms; what does not fit is dropped, as
// a serial line drops bytes nobody reads.
//
// # ESC/POS commands understood
//
// Every command below is consumed with exactly its parameter bytes, so the
// stream never falls out of step; an unknown ESC, GS or FS command consumes
// the prefix and the command byte only. Other control bytes are ignored.
//
//	LF                      print the line (an empty line if nothing is pending)
//	CR, FF, other C0 bytes  ignored
//	HT                      spaces up to the next multiple of 8 columns
//	DLE EOT n               real-time status, n=1..4 (see above)
//	DLE ENQ n               real-time recovery request: accepted, ignored
//	DLE DC4 fn ...          real-time pulse/power-off/buffer clear: consumed (5 bytes; fn 8: 10)
//	ESC @                   initialise: modes to power-on values, print buffer discarded
//	ESC ! n                 print mode: bit 0 Font B, bit 5 double width
//	ESC M n                 font: 0/48 A, 1/49 B
//	ESC a n                 alignment 0/48 left, 1/49 centre, 2/50 right
//	ESC t n                 code page
//	ESC d n                 print and feed n lines
//	ESC J n                 print and feed n dots (prints the pending line)
//	ESC i, ESC m            cut (one point left / partial): "--- CUT ---" (epson only)
//	ESC v                   paper sensor status, answered like GS r 1
//	ESC E, ESC -, ESC G, ESC SP, ESC %, ESC 3, ESC =, ESC ?, ESC R, ESC T,
//	ESC U, ESC V, ESC e, ESC r, ESC u, ESC {, ESC K, ESC j, ESC 2, ESC <,
//	ESC L, ESC S, ESC $, ESC \, ESC c x n, ESC p m t1 t2, ESC W (8)
//	                        consumed (modes that do not change the text)
//	ESC * m nL nH d...      bit image column band: consumed (k or 3k data bytes)
//	ESC & y c1 c2 ...       user-defined characters: consumed
//	ESC D n... NUL          tab positions: consumed
//	ESC ( x pL pH ...       consumed
//	GS ! n                  character size: width ×((n>>4)&7+1)
//	GS V m [n]              cut, m 0/1/48/49, or 65/66/97/98/103/104 with n:
//	                        "--- CUT ---" (epson; pos58 has no cutter: ignored)
//	GS ( k pL pH cn fn ...  2D codes: fn 80 stores, fn 81 prints "[QR: data]"
//	                        (cn 49) or "[PDF417: data]" (cn 48); others consumed
//	GS ( L / GS 8 L ...     graphics: fn 112 stores, fn 50 prints "[IMAGE wxh]"
//	GS ( x, GS 8 x          other extended commands: consumed by their length
//	GS v 0 m xL xH yL yH d  raster image: "[IMAGE wxh]", w in dots (x bytes × 8), h in dots
//	GS * x y d...           downloaded image: stored; GS / m prints "[IMAGE wxh]"
//	GS Q 0 m xL xH yL yH d  variable-size image: consumed
//	GS k m ...              barcode, NUL-ended (m 0..6) or counted (m 65..79): "[BARCODE: data]"
//	GS r n                  n 1/49 paper sensor (03 near end; never paper end: not
//	                        answered while offline), n 2/50 drawer (00)
//	GS a n                  ASB: bits 0-3 select items; non-zero sends the 4-byte block
//	                        at once and on every change of a selected item; 0 disables
//	GS I n                  consumed, not answered (model dependent)
//	GS B, GS E, GS H, GS L, GS P, GS T, GS W, GS \, GS ^, GS b, GS c, GS f,
//	GS g 0/2, GS h, GS j, GS w, GS :, GS $
//	                        consumed
//	FS ! FS & FS - FS . FS C FS S FS W FS p FS q FS 2 FS ( x
//	                        consumed
//
// The ASB block (domain/printers.md 5): byte 1 = 0x10 | 0x08 offline |
// 0x20 cover open; byte 2 = 0x08 cutter | 0x20 unrecoverable | 0x40
// recoverable error; byte 3 = 0x03 near end (epson; also when out) | 0x0C
// paper end; byte 4 = 0. Item bit 1 (online/offline) covers byte 1, bit 2
// (error) byte 2, bit 3 (paper) byte 3; the drawer (bit 0) never changes.
// GS a survives ESC @ and lasts until unplug.
package printersim
