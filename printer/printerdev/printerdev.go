// Package printerdev opens the byte stream to a receipt printer: USB
// (printer class, via libusb), serial (tarm/serial) or TCP port 9100.
//
// # Concepts
//
// ParseSpec reads the --printer flag (DESIGN 9) and Open turns the Spec
// into a Port, the byte stream that printer.New drives. Every Port keeps
// the Port contract of package printer:
//
//   - Read returns data as soon as some arrived, or after the read timeout
//     (ReadTimeout, 200 ms) an error wrapping os.ErrDeadlineExceeded.
//   - When the device is gone (unplugged, hang-up, connection closed or
//     reset) Read returns an error wrapping io.EOF. From then on every
//     Read returns that error again, each after the read timeout, so a
//     caller that keeps reading does not spin; Write fails at once.
//   - Write errors mean the device is gone and also wrap io.EOF.
//   - After Close, Read and Write return errors wrapping os.ErrClosed and
//     io.EOF.
//
// One goroutine may Read while another Writes; Close may be called from
// any goroutine at any time, returns within about the read timeout and
// makes a blocked Read or Write return. Reads must not run concurrently
// with each other. A Port starts no goroutines of its own (the USB port's
// libusb context runs one event goroutine, stopped by Close).
//
// Re-probing is the caller's loop: when Read returns io.EOF, Close the
// port and call Open again, with a back-off, until it succeeds.
//
// # Transports
//
// Serial (tarm/serial): the timeout is termios VTIME, so tarm returns
// (0, io.EOF) both when nothing arrived and when the line hung up; see
// serialPort for how the two are told apart. TCP: net.Dialer with a 3 s
// timeout and keep-alive; Read sets a read deadline per call. USB: the
// printer class (7/1, protocols 1-3, domain/printers.md 7) through gousb;
// the USB port also has DeviceID and PortStatus (see usbPort).
package printerdev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Port is an open printer: the byte stream (printer.Port contract) plus
// Close.
type Port interface {
	io.ReadWriteCloser
	// Transport is "usb", "serial" or "tcp".
	Transport() string
}

// Timeouts shared by the transports.
const (
	// ReadTimeout bounds every Read. For serial it becomes VTIME 2
	// (deciseconds).
	ReadTimeout = 200 * time.Millisecond
	// WriteTimeout bounds a TCP or USB Write. Serial writes drain at the
	// line speed and have no timeout in tarm/serial.
	WriteTimeout = 5 * time.Second
	// DialTimeout bounds the TCP connect.
	DialTimeout = 3 * time.Second
)

// Open opens the printer described by s. It fails for KindNone: callers
// with no printer do not open one. ctx bounds the opening only (the TCP
// dial); it does not close the port later.
//
// For KindUSB the returned Port also implements
//
//	interface {
//		DeviceID() (string, error)   // IEEE 1284 device ID
//		PortStatus() (byte, error)   // GET_PORT_STATUS, see PortPaperEmpty...
//	}
func Open(ctx context.Context, s Spec) (Port, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("printerdev: open %s: %w", s, err)
	}
	switch s.Kind {
	case KindSerial:
		return openSerial(s)
	case KindTCP:
		return openTCP(ctx, s)
	case KindUSB:
		return openUSB(ctx, s, newGousbBus)
	case KindNone:
		return nil, errors.New("printerdev: open: printer is \"none\" (nothing to open)")
	default:
		return nil, fmt.Errorf("printerdev: open: unknown printer kind %q", s.Kind)
	}
}

// goneErr reports that the device is gone: it wraps io.EOF and the cause.
func goneErr(op string, cause error) error {
	if cause == nil || cause == io.EOF {
		return fmt.Errorf("printerdev: %s: %w", op, io.EOF)
	}
	return fmt.Errorf("printerdev: %s: device gone: %w (%w)", op, cause, io.EOF)
}

// deadlineErr reports a read that got nothing within the timeout. cause,
// when it already wraps os.ErrDeadlineExceeded (net), is wrapped as is.
func deadlineErr(op string, cause error) error {
	switch {
	case cause == nil:
		return fmt.Errorf("printerdev: %s: %w", op, os.ErrDeadlineExceeded)
	case errors.Is(cause, os.ErrDeadlineExceeded):
		return fmt.Errorf("printerdev: %s: %w", op, cause)
	default:
		return fmt.Errorf("printerdev: %s: %w (%w)", op, os.ErrDeadlineExceeded, cause)
	}
}

// closedErr reports use after Close.
func closedErr(op string) error {
	return fmt.Errorf("printerdev: %s: %w (%w)", op, os.ErrClosed, io.EOF)
}

// life is the closed/gone state every port shares. Close closes done;
// once the device is found gone, gone holds the error Read repeats.
type life struct {
	done      chan struct{} // closed by close
	closeOnce sync.Once

	mu   sync.Mutex // guards gone
	gone error      // non-nil once the device is gone
}

func newLife() life { return life{done: make(chan struct{})} }

func (l *life) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// markGone remembers err as the device-gone error unless one is already
// remembered, and returns the remembered one.
func (l *life) markGone(err error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gone == nil {
		l.gone = err
	}
	return l.gone
}

func (l *life) goneErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.gone
}

// pause waits d or until close; it reports whether the port is still open.
func (l *life) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.done:
		return false
	}
}

// readGone is Read once the device is gone: it waits the read timeout so
// that a caller looping on Read does not spin, then repeats the error.
func (l *life) readGone(op string, timeout time.Duration) (int, error) {
	err := l.goneErr()
	if !l.pause(timeout) {
		return 0, closedErr(op)
	}
	return 0, err
}
