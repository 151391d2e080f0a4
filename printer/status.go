// Package printer speaks ESC/POS to a receipt printer over a byte stream
// and reads the printer's own sensors: paper near-end and out, cover,
// offline and error states (domain/printers.md).
//
// # Concepts
//
// A driver takes a Port (any byte stream: serial, TCP, USB bulk endpoints)
// and returns a *Dev. The caller owns and opens the port (printerdev);
// tests pass printertest.Playback transcripts. Status is asked with
// DLE EOT 1..4 and read from a stream that may also carry Automatic Status
// Back bytes, XON/XOFF and garbage, so replies are told apart by their bit
// patterns (domain/printers.md 6).
//
// Port contract: Read returns within the transport's read timeout (about
// 100-200 ms). When nothing arrived it returns an error wrapping
// os.ErrDeadlineExceeded; when the device is gone (unplugged, hang-up,
// connection closed) an error wrapping io.EOF. Write errors mean the
// device is gone. (The driver also copes with a Read that returns (0,
// nil) or fails at once, by waiting a little, and with a Write that fails
// with os.ErrDeadlineExceeded, which it takes for a stalled printer
// rather than a gone one.)
//
// # Decisions
//
// Near end: without a near-end sensor DLE EOT 4 never reports near end,
// so "not near end" is PaperUnknown unless Opts.NearEndSensor says the
// sensor exists or the printer has once reported near end. Unknown is a
// normal answer, not a fault.
//
// No reply: a printer that does not answer DLE EOT 1 within
// Opts.ReplyTimeout is taken for one-way. Status then uses the USB
// GET_PORT_STATUS byte when Opts.Class is set, and otherwise returns
// {Connected: true, Online: true, Paper: PaperUnknown} with an error
// wrapping ErrNoStatus (Dev.Status). A Read or Write failing with io.EOF
// gives Connected false and an error wrapping io.EOF.
//
// Printing: Dev.Print checks the status before the job, between chunks
// that end on a command boundary, and after it; it returns ErrPaperOut,
// ErrCoverOpen or ErrOffline (wrapped) instead of sending to a printer
// that cannot print.
//
// Model: the USB device ID (IEEE 1284 MFG, MDL) when Opts.Class is set,
// else GS I 67 and 66; ErrUnknownModel when neither answers.
//
// Dev starts no goroutines and never logs; errors name the operation
// ("printer: read status: ...") and wrap their cause.
package printer

// Paper is the roll paper state. PaperUnknown is a normal answer for
// printers without a near-end sensor or without a way back to the host.
type Paper string

// Paper states, as in the status snapshot (DESIGN 4.4).
const (
	PaperOK      Paper = "ok"
	PaperNearEnd Paper = "near_end"
	PaperOut     Paper = "out"
	PaperUnknown Paper = "unknown"
)

// Status is what the printer reports about itself.
type Status struct {
	Connected bool   // the port is open and the printer answered
	Online    bool   // ready to print
	Paper     Paper  // ok, near_end, out, unknown
	CoverOpen bool   //
	Error     string // "" or cutter | unrecoverable | recoverable | mechanical | unspecified
}

// The Error values: "cutter" (autocutter error, DLE EOT 3 bit 3),
// "unrecoverable" (bit 5), "recoverable" (auto-recoverable, bit 6, e.g.
// head overheat), "mechanical" (bit 2, whose meaning is model-dependent:
// mechanical, recoverable or black-mark error) and "unspecified" (the
// printer reports an error without a cause: DLE EOT 2 bit 6 alone, or
// the USB port status error line). See decodeStatus.
