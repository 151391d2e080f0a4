package printerdev

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tarm/serial"
)

// Hang-up detection on serial ports (deps.md 6). tarm/serial sets VMIN 0
// and VTIME = ReadTimeout in deciseconds, so read(2) returns 0 bytes, which
// tarm reports as (0, io.EOF), both when the timeout ran out and when the
// line hung up (pty master closed, USB-serial adapter unplugged). A
// timeout only comes after VTIME (measured 200-210 ms for VTIME 2), while
// a hung-up line returns at once (measured well under 1 ms). So:
//
//   - (0, EOF) after at least half the timeout is a timeout;
//   - (0, EOF) sooner is suspect: Read sleeps hangupConfirm (20 ms, so it
//     never spins) and reads again; a second quick (0, EOF) is a hang-up,
//     data is data, and a slow (0, EOF) is a timeout after all;
//   - any other read error is a hang-up: a read blocked in VTIME when the
//     pty master closes fails with EIO (measured, under 1 ms), and an
//     unplugged USB-serial adapter gives EIO or ENXIO.
const (
	serialTimeout = ReadTimeout
	hangupConfirm = 20 * time.Millisecond
)

// serialPort is a Port over tarm/serial.
type serialPort struct {
	raw     io.ReadWriteCloser // *serial.Port; fakes in tests
	name    string             // "serial /dev/ttyUSB0", for errors
	timeout time.Duration      // the VTIME the port was opened with

	life
	closeErr error // set once by Close
}

func openSerial(s Spec) (*serialPort, error) {
	if s.Path == "" {
		return nil, errors.New("printerdev: open serial: empty path")
	}
	baud := s.Baud
	if baud == 0 {
		baud = DefaultBaud
	}
	p, err := serial.OpenPort(&serial.Config{Name: s.Path, Baud: baud, ReadTimeout: serialTimeout})
	if err != nil {
		return nil, fmt.Errorf("printerdev: open serial %s: %w", s.Path, err)
	}
	// Drop what the tty buffered before we opened it (replies meant for
	// an earlier session); an error here is harmless.
	_ = p.Flush()
	return newSerialPort(p, s.Path, serialTimeout), nil
}

func newSerialPort(raw io.ReadWriteCloser, path string, timeout time.Duration) *serialPort {
	return &serialPort{raw: raw, name: "serial " + path, timeout: timeout, life: newLife()}
}

func (p *serialPort) Transport() string { return KindSerial }

// Read reads what arrived, or reports a timeout or a hang-up (see the
// comment on hangupConfirm). It takes at most about timeout+hangupConfirm.
func (p *serialPort) Read(b []byte) (int, error) {
	op := p.name + " read"
	if p.closed() {
		return 0, closedErr(op)
	}
	if len(b) == 0 {
		return 0, nil
	}
	if p.goneErr() != nil {
		return p.readGone(op, p.timeout)
	}
	for quick := 0; ; {
		start := time.Now()
		n, err := p.raw.Read(b)
		elapsed := time.Since(start)
		if n > 0 {
			return n, nil
		}
		switch {
		case p.closed() || errors.Is(err, os.ErrClosed):
			return 0, closedErr(op)
		case err != nil && !errors.Is(err, io.EOF):
			return 0, p.markGone(goneErr(op, err))
		case elapsed >= p.timeout/2:
			return 0, deadlineErr(op, nil)
		}
		quick++
		if quick >= 2 {
			return 0, p.markGone(goneErr(op, fmt.Errorf("hang-up (read returned 0 bytes in %v, twice)", elapsed.Round(time.Microsecond))))
		}
		if !p.pause(hangupConfirm) {
			return 0, closedErr(op)
		}
	}
}

// Write writes b. After a hang-up it fails at once; a failed write marks
// the port gone.
func (p *serialPort) Write(b []byte) (int, error) {
	op := p.name + " write"
	if p.closed() {
		return 0, closedErr(op)
	}
	if err := p.goneErr(); err != nil {
		return 0, goneErr(op, errors.New("line hung up"))
	}
	n, err := p.raw.Write(b)
	if err != nil {
		if p.closed() || errors.Is(err, os.ErrClosed) {
			return n, closedErr(op)
		}
		p.markGone(goneErr(p.name+" read", err))
		return n, goneErr(op, err)
	}
	return n, nil
}

// Close closes the port. tarm's Close may wait for a Read in flight;
// VTIME bounds that wait to the read timeout.
func (p *serialPort) Close() error {
	p.closeOnce.Do(func() {
		close(p.done)
		if err := p.raw.Close(); err != nil {
			p.closeErr = fmt.Errorf("printerdev: close %s: %w", p.name, err)
		}
	})
	return p.closeErr
}
