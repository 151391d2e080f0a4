package printer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/printer/escpos"
)

// Port is the byte stream to a printer; see the package doc for the
// contract its Read and Write keep.
type Port interface {
	io.Reader
	io.Writer
}

// USBClass is the optional second channel of a USB printer: the
// printer-class control requests (domain/printers.md 7). It also works
// for printers that enumerate as protocol 1 and so never answer on the
// byte stream. Errors wrapping io.EOF mean the device is gone.
type USBClass interface {
	// DeviceID returns the IEEE 1284 device ID, without the 2-byte length
	// prefix: "MFG:EPSON;CMD:ESC/POS;MDL:TM-T20II;CLS:PRINTER;".
	DeviceID() (string, error)
	// PortStatus returns the GET_PORT_STATUS byte: 0x20 paper empty,
	// 0x10 selected, 0x08 no error (active low).
	PortStatus() (byte, error)
}

// Opts configure a Dev. The zero value (or nil) is usable.
type Opts struct {
	// Class is the USB printer-class channel; nil unless the port is USB
	// and the transport offers it (printerdev's USB port does).
	Class USBClass
	// ReplyTimeout bounds the wait for each reply to DLE EOT or GS I.
	// Real-time replies come within milliseconds; the default, 500 ms,
	// leaves room for a slow serial link. A printer that never answers
	// costs one ReplyTimeout per Status.
	ReplyTimeout time.Duration
	// NearEndSensor says whether the printer has a paper near-end sensor
	// (printer/models StatusCaps). Without one, DLE EOT 4 bits 2-3 stay 0
	// and "not near end" means nothing (domain/printers.md 3), so:
	//   - true: clear bits are PaperOK;
	//   - false: clear bits are PaperUnknown;
	//   - nil (not known): PaperUnknown until the printer has once reported
	//     near end, which proves the sensor; PaperOK from then on.
	// Near end and out are reported whenever the printer says so.
	NearEndSensor *bool
	// ChunkSize is the largest single Write of a print job; between
	// chunks Print checks the status. Default 256 bytes.
	ChunkSize int
	// Now is the clock for reply deadlines. If nil, time.Now is used.
	// Waits between empty reads use timers, so tests run the driver in
	// testing/synctest.
	Now func() time.Time
}

// Errors callers act on.
var (
	// ErrPaperOut: load paper. Print returns it (wrapped) when a status
	// check before, during or after the job says the paper is out.
	ErrPaperOut = errors.New("printer: paper out")
	// ErrCoverOpen: close the cover.
	ErrCoverOpen = errors.New("printer: cover open")
	// ErrOffline: the printer is offline for another reason, e.g. a cutter
	// jam or an unrecoverable error (the message names Status.Error).
	ErrOffline = errors.New("printer: offline")
	// ErrNoStatus: the printer did not answer a status query; the Status
	// returned with it is still meaningful (see Dev.Status).
	ErrNoStatus = errors.New("printer: no status reply")
	// ErrUnknownModel: neither the USB device ID nor GS I named the model.
	ErrUnknownModel = errors.New("printer: model unknown")
)

// errNoReply is a reply wait that timed out.
var errNoReply = errors.New("no reply")

// Defaults for Opts.
const (
	DefaultReplyTimeout = 500 * time.Millisecond
	DefaultChunkSize    = 256
)

// minPoll is the shortest time a read that returned nothing may take: a
// port that fails at once (or returns 0, nil) is waited for, so the reply
// loop never spins.
const minPoll = 20 * time.Millisecond

// Dev is an ESC/POS printer on a Port. It is safe for concurrent use:
// each method holds the port for its whole exchange (Print for the whole
// job), so a Status poll waits while a job is being sent. Dev starts no
// goroutines and does not close the Port.
type Dev struct {
	port    Port // immutable after New
	class   USBClass
	timeout time.Duration
	chunk   int
	sensor  *bool
	now     func() time.Time

	// token is held (one value in the channel) by the method talking to
	// the printer; it guards the fields below. A channel rather than a
	// sync.Mutex so that waiting for it honours ctx.
	token      chan struct{}
	dmx        Demux
	rbuf       [64]byte
	sawNearEnd bool // the printer once reported near end: it has the sensor
	asbCount   int  // ASB blocks already published to asb

	asb atomic.Pointer[asbSnapshot] // last ASB, read without the token
}

type asbSnapshot struct {
	st Status
	at time.Time
}

// New returns a driver for the printer on p. o may be nil. The caller
// owns p: Dev never closes it.
func New(p Port, o *Opts) *Dev {
	var opts Opts
	if o != nil {
		opts = *o
	}
	d := &Dev{
		port:    p,
		class:   opts.Class,
		timeout: opts.ReplyTimeout,
		chunk:   opts.ChunkSize,
		sensor:  opts.NearEndSensor,
		now:     opts.Now,
		token:   make(chan struct{}, 1),
	}
	if d.timeout <= 0 {
		d.timeout = DefaultReplyTimeout
	}
	if d.chunk <= 0 {
		d.chunk = DefaultChunkSize
	}
	if d.now == nil {
		d.now = time.Now
	}
	return d
}

func (d *Dev) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case d.token <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *Dev) release() { <-d.token }

// Status asks the printer for its state with DLE EOT 1, 2, 3 and 4, one
// after another, each sent alone and its reply awaited
// (domain/printers.md 3), and decodes the four replies (decodeStatus).
//
// When DLE EOT 1 gets no reply within ReplyTimeout the printer is taken
// for one-way (USB protocol 1, adapters that drop the way back,
// domain/printers.md 7-8) and the remaining queries are not sent:
//
//   - with Opts.Class, the USB GET_PORT_STATUS byte answers instead
//     (decodePortStatus: paper out, online, an unspecified error; paper
//     otherwise unknown) and the error is nil;
//   - without it, Status returns {Connected: true, Online: true, Paper:
//     PaperUnknown} and an error wrapping ErrNoStatus: the port took the
//     query, so the printer is assumed present and ready, but nothing is
//     known. Callers that accept one-way printers print anyway.
//
// A reply to DLE EOT 1 but none to a later query also wraps ErrNoStatus,
// with Online from the first reply and Paper unknown.
//
// When the device is gone (a Read or Write fails with io.EOF, or another
// error than a timeout) Status returns the zero Status (Connected false)
// and an error wrapping the port's. A late reply to an earlier query
// that timed out may be taken for the next query's: replies carry no
// query number.
func (d *Dev) Status(ctx context.Context) (Status, error) {
	if err := d.acquire(ctx); err != nil {
		return Status{}, fmt.Errorf("printer: read status: %w", err)
	}
	defer d.release()
	st, _, err := d.statusLocked(ctx)
	if err != nil {
		return st, fmt.Errorf("printer: %w", err)
	}
	return st, nil
}

// source is where a status came from, which decides how Print checks.
type source int

const (
	fromReplies source = iota // DLE EOT replies
	fromClass                 // USB GET_PORT_STATUS
	fromNothing               // no way to know
)

func (d *Dev) statusLocked(ctx context.Context) (Status, source, error) {
	var r [4]byte
	for i := range r {
		n := byte(i + 1)
		a, err := d.queryLocked(ctx, QueryStatus, escpos.StatusQuery(n))
		switch {
		case err == nil:
			r[i] = a.Byte
			continue
		case !errors.Is(err, errNoReply):
			return Status{}, fromReplies, fmt.Errorf("read status: %w", err)
		case i == 0:
			return d.fallbackLocked()
		}
		st := Status{Connected: true, Online: r[0]&0x08 == 0, Paper: PaperUnknown}
		return st, fromReplies, fmt.Errorf("read status: DLE EOT %d: no reply within %v: %w", n, d.timeout, ErrNoStatus)
	}
	if r[3]&0x0C != 0 {
		d.sawNearEnd = true
	}
	st, err := decodeStatus(r, d.sensorKnown())
	if err != nil { // the Demux only passes valid bytes; kept for safety
		return Status{}, fromReplies, fmt.Errorf("read status: %w", err)
	}
	return st, fromReplies, nil
}

func (d *Dev) sensorKnown() bool {
	if d.sensor != nil {
		return *d.sensor
	}
	return d.sawNearEnd
}

// fallbackLocked answers Status for a printer that did not answer DLE
// EOT 1.
func (d *Dev) fallbackLocked() (Status, source, error) {
	unknown := Status{Connected: true, Online: true, Paper: PaperUnknown}
	if d.class == nil {
		return unknown, fromNothing, fmt.Errorf("read status: DLE EOT 1: no reply within %v (one-way printer?): %w", d.timeout, ErrNoStatus)
	}
	b, err := d.class.PortStatus()
	switch {
	case err == nil:
		return decodePortStatus(b), fromClass, nil
	case errors.Is(err, io.EOF):
		return Status{}, fromClass, fmt.Errorf("read status: DLE EOT 1: no reply; port status: %w", err)
	}
	return unknown, fromNothing, fmt.Errorf("read status: DLE EOT 1: no reply; port status: %w: %w", err, ErrNoStatus)
}

// queryLocked sends cmd and waits for the answer to q.
func (d *Dev) queryLocked(ctx context.Context, q Query, cmd []byte) (Answer, error) {
	d.dmx.Expect(q)
	if err := d.writeLocked(cmd); err != nil {
		return Answer{}, fmt.Errorf("send % x: %w", cmd, err)
	}
	a, err := d.awaitLocked(ctx)
	if err != nil {
		return Answer{}, fmt.Errorf("% x: %w", cmd, err)
	}
	return a, nil
}

// writeLocked writes all of p. Errors other than a write timeout mean the
// device is gone (package doc) and are made to wrap io.EOF.
func (d *Dev) writeLocked(p []byte) error {
	for len(p) > 0 {
		n, err := d.port.Write(p)
		p = p[n:]
		if err == nil && n == 0 {
			err = io.ErrShortWrite
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF), errors.Is(err, os.ErrDeadlineExceeded):
			return fmt.Errorf("write: %w", err)
		default:
			return fmt.Errorf("write: %w (%w)", err, io.EOF)
		}
	}
	return nil
}

// awaitLocked reads until the Demux has the answer to the pending query,
// ReplyTimeout passes (errNoReply), ctx ends or the port fails. Reads
// return within the port's read timeout; one that returns nothing sooner
// than minPoll is padded to minPoll, and the number of empty reads is
// bounded too, so neither a hasty port nor a stopped clock makes it spin.
func (d *Dev) awaitLocked(ctx context.Context) (Answer, error) {
	deadline := d.now().Add(d.timeout)
	maxEmpty := int(d.timeout/minPoll) + 2
	for empty := 0; ; {
		if a, ok := d.dmx.Answer(); ok {
			return a, nil
		}
		if err := ctx.Err(); err != nil {
			return Answer{}, err
		}
		if empty >= maxEmpty || !d.now().Before(deadline) {
			return Answer{}, errNoReply
		}
		start := d.now()
		n, err := d.port.Read(d.rbuf[:])
		if n > 0 {
			d.dmx.Feed(d.rbuf[:n])
			d.publishASBLocked()
		}
		switch {
		case n > 0 && (err == nil || errors.Is(err, os.ErrDeadlineExceeded)):
			continue
		case err == nil, errors.Is(err, os.ErrDeadlineExceeded):
			empty++
			if waited := d.now().Sub(start); waited < minPoll {
				if err := sleep(ctx, minPoll-waited); err != nil {
					return Answer{}, err
				}
			}
		default: // io.EOF: gone; anything else: broken
			return Answer{}, fmt.Errorf("read: %w", err)
		}
	}
}

func sleep(ctx context.Context, dur time.Duration) error {
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *Dev) publishASBLocked() {
	a, n := d.dmx.LastASB()
	if n == d.asbCount {
		return
	}
	d.asbCount = n
	if a[2]&0x03 != 0 {
		d.sawNearEnd = true
	}
	d.asb.Store(&asbSnapshot{st: decodeASB(a, d.sensorKnown()), at: d.now()})
}

// LastASB returns the last Automatic Status Back block the driver read
// (domain/printers.md 5), decoded, and when it was read; ok is false
// before the first. ASB is off unless enabled (GS a n, e.g. a job holding
// escpos.AutoStatusBack) or by a memory switch. The driver reads only
// while it waits for a reply, so a block is seen at the next Status at
// the latest. It does not wait for a running exchange.
func (d *Dev) LastASB() (st Status, at time.Time, ok bool) {
	s := d.asb.Load()
	if s == nil {
		return Status{}, time.Time{}, false
	}
	return s.st, s.at, true
}

// Print sends job (ESC/POS bytes, e.g. from escpos.Builder) to the
// printer.
//
// It checks the status first (as Status does) and sends nothing when the
// paper is out (ErrPaperOut), the cover is open (ErrCoverOpen) or the
// printer is offline (ErrOffline). It then writes the job in chunks of at
// most ChunkSize bytes and checks the status again after every chunk that
// ends between two commands (a DLE EOT query inside a command would
// corrupt it, see split.go) and after the last one, returning the same
// errors, so a paper-out mid-job stops the rest from queueing in the
// printer to print for the next customer (domain/printers.md 8). What was
// sent before the check still prints once paper is loaded: ESC/POS cannot
// take it back.
//
// A printer that did not answer the first check (ErrNoStatus) is printed
// to without further checks, or with GET_PORT_STATUS checks when
// Opts.Class is set. One that answered first and then stops answering
// fails the job with ErrNoStatus.
//
// A Write error wraps io.EOF (the device is gone), except a write
// timeout, after which Print asks the status to name the cause.
func (d *Dev) Print(ctx context.Context, job []byte) error {
	if err := d.acquire(ctx); err != nil {
		return fmt.Errorf("printer: print: %w", err)
	}
	defer d.release()

	st, src, err := d.statusLocked(ctx)
	switch {
	case errors.Is(err, ErrNoStatus):
		src = fromNothing // no checks: each would wait ReplyTimeout for nothing
	case err != nil:
		return fmt.Errorf("printer: print: before the job: %w", err)
	}
	if err := notReady(st); err != nil {
		return fmt.Errorf("printer: print: before the job: %w", err)
	}

	chunks := splitJob(job, d.chunk)
	sent := 0
	for i, c := range chunks {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("printer: print: after %d of %d bytes: %w", sent, len(job), err)
		}
		if err := d.writeLocked(c.b); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) { // stalled: say why, if the printer can
				if st, cerr := d.checkLocked(ctx, src); cerr == nil {
					if nr := notReady(st); nr != nil {
						return fmt.Errorf("printer: print: after %d of %d bytes: %w: %w", sent, len(job), nr, err)
					}
				}
			}
			return fmt.Errorf("printer: print: after %d of %d bytes: %w", sent, len(job), err)
		}
		sent += len(c.b)
		if !c.check && i < len(chunks)-1 {
			continue
		}
		st, err := d.checkLocked(ctx, src)
		if err != nil {
			return fmt.Errorf("printer: print: check after %d of %d bytes: %w", sent, len(job), err)
		}
		if err := notReady(st); err != nil {
			return fmt.Errorf("printer: print: after %d of %d bytes: %w", sent, len(job), err)
		}
	}
	return nil
}

// checkLocked is the status check during a job, by the means that worked
// before it.
func (d *Dev) checkLocked(ctx context.Context, src source) (Status, error) {
	switch src {
	case fromReplies:
		st, _, err := d.statusLocked(ctx)
		return st, err
	case fromClass:
		b, err := d.class.PortStatus()
		if err != nil {
			return Status{}, fmt.Errorf("port status: %w", err)
		}
		return decodePortStatus(b), nil
	}
	return Status{Connected: true, Online: true, Paper: PaperUnknown}, nil
}

// notReady maps a status that forbids printing to its sentinel.
func notReady(st Status) error {
	switch {
	case st.Paper == PaperOut:
		return ErrPaperOut
	case st.CoverOpen:
		return ErrCoverOpen
	case !st.Online && st.Error != "":
		return fmt.Errorf("%s error: %w", st.Error, ErrOffline)
	case !st.Online:
		return ErrOffline
	}
	return nil
}

// Model names the printer as "MANUFACTURER MODEL", e.g. "EPSON TM-T20II".
//
// With Opts.Class it is read from the USB device ID (IEEE 1284 MFG and
// MDL fields). Otherwise, or when those are missing, the printer is asked
// with GS I 67 (model) and GS I 66 (manufacturer), which Epson, Bixolon
// and HPRT printers answer as 0x5F, ASCII, NUL ([APG] GS I; Bixolon
// SRP-330II p.101; HPRT TP80K p.77). GS I waits behind queued data, so
// call Model when the printer is idle; a printer that does not know GS I
// 67 ignores it, and Model returns an error wrapping ErrUnknownModel
// after ReplyTimeout.
func (d *Dev) Model(ctx context.Context) (string, error) {
	if d.class != nil {
		id, err := d.class.DeviceID()
		switch {
		case err == nil:
			if m := modelFrom1284(id); m != "" {
				return m, nil
			}
		case errors.Is(err, io.EOF):
			return "", fmt.Errorf("printer: model: device ID: %w", err)
		}
		// Request not supported, or no MFG/MDL: ask the printer itself.
	}
	if err := d.acquire(ctx); err != nil {
		return "", fmt.Errorf("printer: model: %w", err)
	}
	defer d.release()
	mdl, err := d.queryLocked(ctx, QueryInfo, escpos.PrinterInfo(escpos.InfoModel))
	switch {
	case errors.Is(err, errNoReply):
		return "", fmt.Errorf("printer: model: GS I 67: no reply within %v: %w", d.timeout, ErrUnknownModel)
	case err != nil:
		return "", fmt.Errorf("printer: model: %w", err)
	case mdl.Text == "":
		return "", fmt.Errorf("printer: model: GS I 67: empty reply: %w", ErrUnknownModel)
	}
	mfg, err := d.queryLocked(ctx, QueryInfo, escpos.PrinterInfo(escpos.InfoManufacturer))
	switch {
	case errors.Is(err, errNoReply): // the model alone will do
	case err != nil:
		return "", fmt.Errorf("printer: model: %w", err)
	}
	return joinModel(mfg.Text, mdl.Text), nil
}
