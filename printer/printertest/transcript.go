package printertest

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Header is the provenance of a transcript. STYLE rule 2 wants every
// transcript to say which printer, firmware, day and capture it comes
// from; LoadTranscript refuses one without all four.
type Header struct {
	Model    string // e.g. "Epson TM-T20III"
	Firmware string // as the self-test prints it; "n/a" for synthesised ones
	Date     string // capture date, YYYY-MM-DD
	Source   string // who captured it, how (USB, serial 9600 8N1 ...), or "synthesised from ..."
}

// WriteTranscript writes h and ops as a transcript: text, one item per
// line:
//
//	# model: Epson TM-T20III
//	# firmware: 1.01 ESC/POS
//	# date: 2026-11-23
//	# source: capture by ..., USB protocol 2, firmware-notes/epson-tm-t20iii/1.01/captures/paper-out.txt
//	> 10 04 01        # +0.000s  host wrote these bytes (one Write)
//	< 1a              # +0.004s  printer sent these bytes (one Read)
//	! eof             # +0.210s  the next call failed: device gone (io.EOF)
//	! timeout         #          the next call failed with os.ErrDeadlineExceeded
//	! some text       #          the next call failed with another error
//
// "# key: value" lines before the first data line form the Header; other
// '#' text is a comment, also at the end of a data line (Record puts the
// time since the first exchange there). Read timeouts are not recorded:
// Playback times out by itself once a reply is used up.
func WriteTranscript(w io.Writer, h Header, ops []Op) error {
	bw := bufio.NewWriter(w)
	writeHeader(bw, h)
	for _, op := range ops {
		if len(op.W) > 0 {
			fmt.Fprintf(bw, "> %s\n", hexBytes(op.W))
		}
		if len(op.R) > 0 {
			fmt.Fprintf(bw, "< %s\n", hexBytes(op.R))
		}
		if op.Err != nil {
			fmt.Fprintf(bw, "! %s\n", errWord(op.Err))
		}
	}
	return bw.Flush()
}

func writeHeader(w io.Writer, h Header) {
	fmt.Fprintf(w, "# model: %s\n# firmware: %s\n# date: %s\n# source: %s\n", h.Model, h.Firmware, h.Date, h.Source)
}

func hexBytes(b []byte) string {
	var s strings.Builder
	for i, c := range b {
		if i > 0 {
			s.WriteByte(' ')
		}
		s.WriteString(hex.EncodeToString([]byte{c}))
	}
	return s.String()
}

func errWord(err error) string {
	switch {
	case errors.Is(err, io.EOF):
		return "eof"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	default:
		// One line, and not mistaken for the two keywords.
		s := strings.ReplaceAll(err.Error(), "\n", " ")
		if s == "eof" || s == "timeout" || s == "" {
			s = "error: " + s
		}
		return strings.ReplaceAll(s, "#", "")
	}
}

// LoadTranscript parses a transcript into Playback ops. Consecutive '<'
// lines after a '>' are one reply; '<' or '!' lines before any '>' or
// after a '!' become ops without W (bytes the printer sent on its own).
func LoadTranscript(r io.Reader) ([]Op, Header, error) {
	var (
		h      Header
		ops    []Op
		inBody bool
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		if strings.HasPrefix(text, "#") {
			if !inBody {
				if k, v, ok := strings.Cut(strings.TrimSpace(text[1:]), ":"); ok {
					v = strings.TrimSpace(v)
					switch strings.ToLower(strings.TrimSpace(k)) {
					case "model":
						h.Model = join(h.Model, v)
					case "firmware":
						h.Firmware = join(h.Firmware, v)
					case "date":
						h.Date = join(h.Date, v)
					case "source":
						h.Source = join(h.Source, v)
					}
				}
			}
			continue
		}
		inBody = true
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = strings.TrimSpace(text[:i])
		}
		kind, rest := text[0], strings.TrimSpace(text[1:])
		last := len(ops) - 1
		switch kind {
		case '>', '<':
			b, err := hex.DecodeString(strings.Join(strings.Fields(rest), ""))
			if err != nil || len(b) == 0 {
				return nil, h, fmt.Errorf("printertest: transcript line %d: want hex bytes after %q, got %q", line, kind, rest)
			}
			switch {
			case kind == '>':
				ops = append(ops, Op{W: b})
			case last >= 0 && ops[last].Err == nil:
				ops[last].R = append(ops[last].R, b...)
			default:
				ops = append(ops, Op{R: b})
			}
		case '!':
			var err error
			switch rest {
			case "eof":
				err = io.EOF
			case "timeout":
				err = os.ErrDeadlineExceeded
			case "":
				return nil, h, fmt.Errorf("printertest: transcript line %d: '!' needs eof, timeout or a message", line)
			default:
				err = errors.New(rest)
			}
			if last >= 0 && ops[last].Err == nil {
				ops[last].Err = err
			} else {
				ops = append(ops, Op{Err: err})
			}
		default:
			return nil, h, fmt.Errorf("printertest: transcript line %d: want '#', '>', '<' or '!', got %q", line, text)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, h, fmt.Errorf("printertest: read transcript: %w", err)
	}
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"model", h.Model}, {"firmware", h.Firmware}, {"date", h.Date}, {"source", h.Source},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, h, fmt.Errorf("printertest: transcript header lacks %s (provenance is required, STYLE rule 2)", strings.Join(missing, ", "))
	}
	return ops, h, nil
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}

// Record is a Port that passes everything to Port and writes each
// exchange to Transcript: '>' for a Write, '<' for the bytes of a Read,
// '!' for a failed call, each with the time since the first exchange as
// a comment. The Header goes first. It is safe for concurrent use.
//
// Read timeouts are not logged (Playback reproduces them by itself); the
// USB class channel is not recorded.
type Record struct {
	Port       io.ReadWriter
	Transcript io.Writer
	Header     Header
	// Now is the clock for the timing comments. If nil, time.Now is used.
	Now func() time.Time

	mu      sync.Mutex // guards the fields below and writes to Transcript
	started bool
	t0      time.Time
	err     error // first error writing Transcript
}

// Read implements io.Reader.
func (r *Record) Read(b []byte) (int, error) {
	n, err := r.Port.Read(b)
	r.mu.Lock()
	defer r.mu.Unlock()
	if n > 0 {
		r.logLocked("< " + hexBytes(b[:n]))
	}
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		r.logLocked("! " + errWord(err))
	}
	return n, err
}

// Write implements io.Writer. A failed write is logged as '!' alone, so
// that Playback fails the same write (bytes a failed write got out are
// not logged).
func (r *Record) Write(b []byte) (int, error) {
	n, err := r.Port.Write(b)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.logLocked("! " + errWord(err))
	} else {
		r.logLocked("> " + hexBytes(b[:n]))
	}
	return n, err
}

// Err returns the first error writing the transcript. Port errors are
// returned by Read and Write, not here.
func (r *Record) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *Record) logLocked(line string) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	t := now()
	if !r.started {
		r.started, r.t0 = true, t
		var hb strings.Builder
		writeHeader(&hb, r.Header)
		r.writeLocked(hb.String())
	}
	r.writeLocked(fmt.Sprintf("%-24s # +%.3fs\n", line, t.Sub(r.t0).Seconds()))
}

func (r *Record) writeLocked(s string) {
	if r.err != nil {
		return
	}
	if _, err := io.WriteString(r.Transcript, s); err != nil {
		r.err = fmt.Errorf("printertest: write transcript: %w", err)
	}
}
