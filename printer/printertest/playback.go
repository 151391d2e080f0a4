// Package printertest records and replays byte exchanges with receipt
// printers, so the printer driver can be tested without hardware
// (STYLE rule 2; modelled on periph.io's conntest).
//
// # Concepts
//
// Playback is a scripted port: a list of Ops, each "the host writes W,
// then its reads return R, then Err". It fails on any write it did not
// expect and its Close reports ops that never happened. Record wraps a
// real port and writes every exchange to a transcript (see
// WriteTranscript for the format); LoadTranscript turns a transcript back
// into Ops. Discard accepts every write and never answers, like a
// one-way printer. Class is a scripted USB printer-class channel
// (GET_DEVICE_ID, GET_PORT_STATUS).
//
// Every port here keeps the Port contract of package printer: a Read with
// nothing to return fails with os.ErrDeadlineExceeded, a device that is
// gone fails with io.EOF. The package does not import printer, so the
// printer package's own tests can use it.
package printertest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Op is one step of a scripted exchange: the host writes W (if any),
// then its reads return R (if any), then Err (if any).
//
//   - W must match the next Write call exactly. An op with W == nil is
//     data the printer sends on its own (Automatic Status Back, a late
//     reply): its R becomes readable once the earlier ops are done, and
//     is also taken in when the host writes the next W (the bytes were
//     already waiting in the input buffer).
//   - R is returned by the Reads that follow, as much as each buffer
//     holds. When it is used up, Reads time out.
//   - Err is returned after R by the next Read, or by the next Write if
//     the host writes first. An Err wrapping io.EOF means the device is
//     gone: from then on every Read and Write returns it (an unplug).
//     Other errors are returned once.
//
// Timeouts need no op: a Read with nothing left to return fails with
// os.ErrDeadlineExceeded, as a real port does when its read timeout
// passes. To delay a reply, script the timeout and the reply apart:
// {W: query, Err: os.ErrDeadlineExceeded}, {R: reply}.
type Op struct {
	W   []byte
	R   []byte
	Err error
}

// Playback is a Port that replays Ops. It is safe for concurrent use.
//
// A write that does not match the script fails with an error naming the
// op, and that error is also returned by every later call and by Close,
// so a test sees it even when the driver swallows it.
type Playback struct {
	Ops []Op
	// Timeout is how long a Read with nothing to return blocks before it
	// fails with os.ErrDeadlineExceeded, as a real port's read timeout
	// (100-200 ms) would. Zero returns at once; use a real value inside
	// testing/synctest, where the wait costs no time.
	Timeout time.Duration

	mu     sync.Mutex // guards the fields below
	next   int        // index of the next op not yet started
	in     []byte     // bytes readable now
	err    error      // returned once in is empty; sticky when gone
	failed error      // first script violation
}

// Read implements io.Reader.
func (p *Playback) Read(b []byte) (int, error) {
	p.mu.Lock()
	if p.failed != nil {
		defer p.mu.Unlock()
		return 0, p.failed
	}
	if len(p.in) == 0 && p.err == nil {
		p.takeUnsolicitedLocked()
	}
	if len(p.in) > 0 {
		defer p.mu.Unlock()
		if len(b) == 0 {
			return 0, nil
		}
		n := copy(b, p.in)
		p.in = p.in[n:]
		return n, nil
	}
	if err := p.err; err != nil {
		defer p.mu.Unlock()
		if !errors.Is(err, io.EOF) {
			p.err = nil
		}
		return 0, err
	}
	timeout := p.Timeout
	p.mu.Unlock()
	if timeout > 0 {
		time.Sleep(timeout)
	}
	return 0, fmt.Errorf("printertest: read: %w", os.ErrDeadlineExceeded)
}

// takeUnsolicitedLocked makes the next op readable if it has no W.
func (p *Playback) takeUnsolicitedLocked() {
	if p.next < len(p.Ops) && p.Ops[p.next].W == nil {
		op := p.Ops[p.next]
		p.next++
		p.in = append(p.in, op.R...)
		p.err = op.Err
	}
}

// Write implements io.Writer.
func (p *Playback) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failed != nil {
		return 0, p.failed
	}
	// Ops without W before this write arrived while the host was busy:
	// their bytes wait in the input buffer, their error hits this write.
	for p.err == nil && p.next < len(p.Ops) && p.Ops[p.next].W == nil {
		p.takeUnsolicitedLocked()
	}
	if err := p.err; err != nil {
		if !errors.Is(err, io.EOF) {
			p.err = nil
		}
		return 0, err
	}
	if p.next >= len(p.Ops) {
		p.failed = fmt.Errorf("printertest: unexpected write % x after the last op", b)
		return 0, p.failed
	}
	op := p.Ops[p.next]
	if !bytes.Equal(b, op.W) {
		p.failed = fmt.Errorf("printertest: op %d: write % x, want % x", p.next, b, op.W)
		return 0, p.failed
	}
	p.next++
	p.in = append(p.in, op.R...)
	p.err = op.Err
	return len(b), nil
}

// Close reports the first script violation, or what was left over: ops
// that never happened, reply bytes never read, an error never returned.
// A gone device's error counts as returned. Close may be called more than
// once.
func (p *Playback) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failed != nil {
		return p.failed
	}
	var errs []error
	if left := len(p.Ops) - p.next; left > 0 {
		errs = append(errs, fmt.Errorf("printertest: %d of %d ops left over, next: %s", left, len(p.Ops), p.Ops[p.next]))
	}
	if len(p.in) > 0 {
		errs = append(errs, fmt.Errorf("printertest: %d reply bytes never read: % x", len(p.in), p.in))
	}
	if p.err != nil && !errors.Is(p.err, io.EOF) {
		errs = append(errs, fmt.Errorf("printertest: scripted error never returned: %w", p.err))
	}
	return errors.Join(errs...)
}

// String formats the op like a transcript line pair, for messages.
func (o Op) String() string {
	s := ""
	if o.W != nil {
		s += fmt.Sprintf("> % x", o.W)
	}
	if len(o.R) > 0 {
		if s != "" {
			s += "; "
		}
		s += fmt.Sprintf("< % x", o.R)
	}
	if o.Err != nil {
		if s != "" {
			s += "; "
		}
		s += "! " + o.Err.Error()
	}
	return "{" + s + "}"
}

// Discard is a port to a printer that never answers: writes succeed,
// reads time out. It behaves like a one-way (USB protocol 1) printer.
type Discard struct {
	// Timeout is how long a Read blocks before failing with
	// os.ErrDeadlineExceeded; zero returns at once.
	Timeout time.Duration
}

// Read implements io.Reader: it always times out.
func (d Discard) Read([]byte) (int, error) {
	if d.Timeout > 0 {
		time.Sleep(d.Timeout)
	}
	return 0, fmt.Errorf("printertest: discard: %w", os.ErrDeadlineExceeded)
}

// Write implements io.Writer: it accepts everything.
func (Discard) Write(b []byte) (int, error) { return len(b), nil }

// Class is a scripted USB printer-class channel (domain/printers.md 7):
// it implements printer.USBClass. Set ID for GET_DEVICE_ID (the IEEE 1284
// string without its length prefix) and Port for GET_PORT_STATUS. Err,
// when set, is returned by both instead.
type Class struct {
	ID   string
	Port byte
	Err  error

	mu    sync.Mutex
	calls int
}

// DeviceID returns c.ID or c.Err.
func (c *Class) DeviceID() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.Err != nil {
		return "", c.Err
	}
	return c.ID, nil
}

// PortStatus returns c.Port or c.Err.
func (c *Class) PortStatus() (byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.Err != nil {
		return 0, c.Err
	}
	return c.Port, nil
}

// Calls is how many requests were made.
func (c *Class) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}
