package printerdev

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/google/gousb"
)

// USB printer class (domain/printers.md 7; USB printer class 1.1).
const (
	usbSubclassPrinter = 1

	// bmRequestType 0xA1: device-to-host, class request, to an interface.
	reqTypeClassInIface = 0xA1
	reqGetDeviceID      = 0 // wValue config index, wIndex interface<<8 | alt
	reqGetPortStatus    = 1 // wValue 0, wIndex interface, 1 byte

	// deviceIDMax is the reply buffer for GET_DEVICE_ID, as in Linux usblp.
	deviceIDMax = 1024
	// usbReadMax caps one bulk IN transfer; replies are a few bytes.
	usbReadMax = 4096
	// usbWriteChunk is the most one bulk OUT transfer carries, so that
	// WriteTimeout means "no progress for 5 s", not "5 s for the job".
	usbWriteChunk = 4096
	// controlTimeout bounds GET_DEVICE_ID and GET_PORT_STATUS.
	controlTimeout = time.Second
)

// GET_PORT_STATUS bits (domain/printers.md 7; Linux usblp LP_POUTPA,
// LP_PSELECD, LP_PERRORP). Many printers leave them all at a fixed value:
// the DLE EOT replies on bulk IN are the reliable source.
const (
	PortPaperEmpty byte = 0x20 // paper empty
	PortSelected   byte = 0x10 // selected (online)
	PortNoError    byte = 0x08 // active low: 1 = no error
)

// usbBus is the part of gousb.Context that openUSB uses; gousbBus is the
// real one, tests pass a fake.
type usbBus interface {
	// OpenDeviceWithVIDPID returns (nil, nil) when no device matches, as
	// gousb does.
	OpenDeviceWithVIDPID(vid, pid gousb.ID) (usbDevice, error)
	// OpenDevices opens every device whose descriptor match accepts; it
	// may return devices and an error (one device failed to open).
	OpenDevices(match func(*gousb.DeviceDesc) bool) ([]usbDevice, error)
	Close() error
}

// usbDevice is an opened USB device with at most one claimed interface.
type usbDevice interface {
	Desc() *gousb.DeviceDesc
	SetAutoDetach(on bool) error
	// Claim sets the configuration, claims the interface and alternate
	// setting and opens the endpoints of sel.
	Claim(sel usbSelection) error
	// ReadIn reads the bulk IN endpoint until ctx is done.
	ReadIn(ctx context.Context, buf []byte) (int, error)
	// WriteOut writes the bulk OUT endpoint until ctx is done.
	WriteOut(ctx context.Context, buf []byte) (int, error)
	Control(rType, request uint8, val, idx uint16, data []byte) (int, error)
	// Close releases the interface and configuration, then the device.
	Close() error
}

// usbSelection is the interface of a device that carries the print data.
type usbSelection struct {
	Config      int // bConfigurationValue (gousb ConfigDesc.Number)
	ConfigIndex int // zero-based index of that configuration: GET_DEVICE_ID wValue
	Interface   int
	Alt         int
	Class       gousb.Class
	Protocol    gousb.Protocol      // 1 unidirectional, 2 bidirectional, 3 IEEE 1284.4
	Out         gousb.EndpointDesc  // bulk OUT: ESC/POS
	In          *gousb.EndpointDesc // bulk IN: replies; nil = no way back
}

// protocolRank orders printer-class protocols as Linux usblp does: 2
// (bidirectional) first, then 1 (unidirectional), then 3 (IEEE 1284.4,
// which raw ESC/POS does not speak but many devices accept anyway).
func protocolRank(p gousb.Protocol) int {
	switch p {
	case 2:
		return 0
	case 1:
		return 1
	case 3:
		return 2
	}
	return -1
}

// selectInterface picks the printer interface of desc: among all
// configurations, interfaces and alternate settings of class 7 subclass 1
// with protocol 1-3 and a bulk OUT endpoint, the best by protocolRank,
// the first in descriptor order on a tie. With vendorFallback, a device
// without one (some ESC/POS printers enumerate as vendor class 0xFF)
// gets its first setting with a bulk OUT endpoint instead. ok is false
// when nothing fits.
func selectInterface(desc *gousb.DeviceDesc, vendorFallback bool) (sel usbSelection, ok bool) {
	if desc == nil {
		return usbSelection{}, false
	}
	cfgNums := make([]int, 0, len(desc.Configs))
	for n := range desc.Configs {
		cfgNums = append(cfgNums, n)
	}
	slices.Sort(cfgNums)
	best, fallback := -1, false
	for idx, cn := range cfgNums {
		cfg := desc.Configs[cn]
		for _, intf := range cfg.Interfaces {
			for _, alt := range intf.AltSettings {
				out, in := bulkEndpoints(alt)
				if out == nil {
					continue
				}
				cand := usbSelection{
					Config: cn, ConfigIndex: idx, Interface: alt.Number, Alt: alt.Alternate,
					Class: alt.Class, Protocol: alt.Protocol, Out: *out, In: in,
				}
				rank := protocolRank(alt.Protocol)
				if alt.Class == gousb.ClassPrinter && alt.SubClass == usbSubclassPrinter && rank >= 0 {
					if alt.Protocol == 1 {
						cand.In = nil // unidirectional: usblp ignores a bulk IN here too
					}
					if best < 0 || fallback || rank < best {
						sel, best, fallback = cand, rank, false
					}
					continue
				}
				if vendorFallback && best < 0 {
					sel, best, fallback = cand, 99, true
				}
			}
		}
	}
	return sel, best >= 0
}

// bulkEndpoints returns the bulk OUT and bulk IN endpoints of alt with
// the lowest addresses, or nil.
func bulkEndpoints(alt gousb.InterfaceSetting) (out, in *gousb.EndpointDesc) {
	addrs := make([]gousb.EndpointAddress, 0, len(alt.Endpoints))
	for a := range alt.Endpoints {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	for _, a := range addrs {
		ep := alt.Endpoints[a]
		if ep.TransferType != gousb.TransferTypeBulk {
			continue
		}
		switch {
		case ep.Direction == gousb.EndpointDirectionOut && out == nil:
			out = &ep
		case ep.Direction == gousb.EndpointDirectionIn && in == nil:
			in = &ep
		}
	}
	return out, in
}

// isPrinter reports whether desc has a printer-class interface.
func isPrinter(desc *gousb.DeviceDesc) bool {
	_, ok := selectInterface(desc, false)
	return ok
}

// compareDevices orders devices by bus and physical port path, which do
// not change on replug (the address does).
func compareDevices(a, b *gousb.DeviceDesc) int {
	return cmp.Or(
		cmp.Compare(a.Bus, b.Bus),
		slices.Compare(a.Path, b.Path),
		cmp.Compare(a.Address, b.Address),
	)
}

// openUSB opens a USB printer: the device s.VID:s.PID, or with both 0 the
// first device (by bus and port) that has a printer-class interface.
func openUSB(ctx context.Context, s Spec, newBus func() (usbBus, error)) (_ *usbPort, err error) {
	bus, err := newBus()
	if err != nil {
		return nil, fmt.Errorf("printerdev: open usb: %w", err)
	}
	var dev usbDevice
	defer func() {
		if err != nil {
			if dev != nil {
				dev.Close()
			}
			bus.Close()
		}
	}()

	var sel usbSelection
	if s.VID != 0 || s.PID != 0 {
		id := fmt.Sprintf("%04x:%04x", s.VID, s.PID)
		dev, err = bus.OpenDeviceWithVIDPID(gousb.ID(s.VID), gousb.ID(s.PID))
		switch {
		case dev == nil && err != nil:
			return nil, fmt.Errorf("printerdev: open usb %s: %w", id, err)
		case dev == nil:
			return nil, fmt.Errorf("printerdev: no USB device %s", id)
		}
		var ok bool
		if sel, ok = selectInterface(dev.Desc(), true); !ok {
			return nil, fmt.Errorf("printerdev: USB device %s has no interface with a bulk OUT endpoint", id)
		}
	} else {
		devs, oerr := bus.OpenDevices(isPrinter)
		slices.SortStableFunc(devs, func(a, b usbDevice) int { return compareDevices(a.Desc(), b.Desc()) })
		for i, d := range devs {
			if i == 0 {
				dev = d
			} else {
				d.Close()
			}
		}
		switch {
		case dev == nil && oerr != nil:
			return nil, fmt.Errorf("printerdev: open usb: a USB printer was found but could not be opened: %w", oerr)
		case dev == nil:
			return nil, errors.New("printerdev: no USB printer found (no interface of class 7 subclass 1)")
		}
		sel, _ = selectInterface(dev.Desc(), false)
	}
	if err = ctx.Err(); err != nil {
		return nil, fmt.Errorf("printerdev: open usb: %w", err)
	}
	name := fmt.Sprintf("usb %s:%s", dev.Desc().Vendor, dev.Desc().Product)
	// Detach the kernel's usblp while we hold the interface; libusb
	// attaches it again when the interface is released.
	if err = dev.SetAutoDetach(true); err != nil {
		return nil, fmt.Errorf("printerdev: open %s: auto-detach kernel driver: %w", name, err)
	}
	if err = dev.Claim(sel); err != nil {
		hint := ""
		if errors.Is(err, gousb.ErrorBusy) {
			hint = " (another program holds the interface)"
		} else if errors.Is(err, gousb.ErrorAccess) {
			hint = " (no permission: udev rule?)"
		}
		return nil, fmt.Errorf("printerdev: open %s: claim interface %d alt %d%s: %w", name, sel.Interface, sel.Alt, hint, err)
	}
	base, cancel := context.WithCancel(context.Background())
	return &usbPort{
		bus: bus, dev: dev, sel: sel, name: name,
		readTimeout: ReadTimeout, writeTimeout: WriteTimeout,
		base: base, cancel: cancel, life: newLife(),
	}, nil
}

// usbPort is a Port over the bulk endpoints of a USB printer interface.
// With protocol 1 (no bulk IN) Read never gets anything: it returns the
// deadline error after the read timeout. It also implements DeviceID and
// PortStatus.
type usbPort struct {
	bus          usbBus
	dev          usbDevice
	sel          usbSelection
	name         string // "usb 04b8:0202", for errors
	readTimeout  time.Duration
	writeTimeout time.Duration
	base         context.Context // cancelled by Close: ends transfers in flight
	cancel       context.CancelFunc

	life
	// opMu is held for reading by every transfer and control request and
	// for writing by Close, which so waits for them before it releases
	// the device.
	opMu     sync.RWMutex
	closeErr error // set once by Close

	rmu     sync.Mutex // serialises Read; guards the fields below
	rbuf    []byte     // transfer buffer, a multiple of MaxPacketSize
	pending []byte     // read from the device, not yet returned
}

func (u *usbPort) Transport() string { return KindUSB }

// Read returns buffered bytes first, else reads the bulk IN endpoint for
// up to the read timeout in whole packets (MaxPacketSize multiples, so
// the device cannot overflow the buffer) and keeps what does not fit.
func (u *usbPort) Read(b []byte) (int, error) {
	op := u.name + " read"
	if u.closed() {
		return 0, closedErr(op)
	}
	if len(b) == 0 {
		return 0, nil
	}
	u.rmu.Lock()
	defer u.rmu.Unlock()
	if len(u.pending) > 0 {
		n := copy(b, u.pending)
		u.pending = u.pending[n:]
		return n, nil
	}
	if u.goneErr() != nil {
		return u.readGone(op, u.readTimeout)
	}
	if u.sel.In == nil {
		if !u.pause(u.readTimeout) {
			return 0, closedErr(op)
		}
		return 0, deadlineErr(op, errors.New("no bulk IN endpoint (USB printer protocol 1): the printer cannot answer"))
	}

	u.opMu.RLock()
	defer u.opMu.RUnlock()
	if u.closed() {
		return 0, closedErr(op)
	}
	mps := u.sel.In.MaxPacketSize
	if mps <= 0 {
		mps = 64
	}
	size := (len(b) + mps - 1) / mps * mps
	size = max(min(size, usbReadMax/mps*mps), mps)
	if cap(u.rbuf) < size {
		u.rbuf = make([]byte, size)
	}
	buf := u.rbuf[:size]

	ctx, cancel := context.WithTimeout(u.base, u.readTimeout)
	defer cancel()
	for {
		n, err := u.dev.ReadIn(ctx, buf)
		if n > 0 {
			c := copy(b, buf[:n])
			u.pending = buf[c:n]
			if err != nil && !isUSBTimeout(err) && !u.closed() {
				u.markGone(goneErr(op, err)) // reported by the next Read
			}
			return c, nil
		}
		if err != nil {
			return 0, u.mapErr(op, err)
		}
		// A zero-length packet: nothing to return; wait for the rest of
		// the timeout instead of returning early.
		if ctx.Err() != nil {
			return 0, deadlineErr(op, nil)
		}
	}
}

// isUSBTimeout reports errors that mean "nothing within the deadline":
// libusb's own timeout, or our context ending the transfer.
func isUSBTimeout(err error) bool {
	return errors.Is(err, gousb.TransferTimedOut) ||
		errors.Is(err, gousb.TransferCancelled) ||
		errors.Is(err, gousb.ErrorTimeout) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, os.ErrDeadlineExceeded)
}

// mapErr classifies a failed transfer: timeouts wrap
// os.ErrDeadlineExceeded; everything else (no device, I/O error, stall,
// overflow) means the device is unusable and wraps io.EOF, so the caller
// reopens it.
func (u *usbPort) mapErr(op string, err error) error {
	switch {
	case u.closed():
		return closedErr(op)
	case isUSBTimeout(err):
		return deadlineErr(op, err)
	default:
		return u.markGone(goneErr(op, err))
	}
}

// Write writes b to the bulk OUT endpoint in chunks of usbWriteChunk,
// each within the write timeout. Any error marks the port gone.
func (u *usbPort) Write(b []byte) (int, error) {
	op := u.name + " write"
	if u.closed() {
		return 0, closedErr(op)
	}
	if u.goneErr() != nil {
		return 0, goneErr(op, errors.New("device gone"))
	}
	u.opMu.RLock()
	defer u.opMu.RUnlock()
	if u.closed() {
		return 0, closedErr(op)
	}
	written := 0
	for written < len(b) {
		chunk := b[written:min(len(b), written+usbWriteChunk)]
		ctx, cancel := context.WithTimeout(u.base, u.writeTimeout)
		n, err := u.dev.WriteOut(ctx, chunk)
		cancel()
		written += n
		if err != nil {
			if u.closed() {
				return written, closedErr(op)
			}
			if isUSBTimeout(err) {
				err = fmt.Errorf("no progress in %v: %w", u.writeTimeout, err)
			}
			u.markGone(goneErr(u.name+" read", err))
			return written, goneErr(op, err)
		}
	}
	return written, nil
}

// DeviceID asks the printer for its IEEE 1284 device ID
// ("MFG:EPSON;CMD:ESC/POS;MDL:TM-T20II;CLS:PRINTER;...") with the class
// request GET_DEVICE_ID.
func (u *usbPort) DeviceID() (string, error) {
	op := u.name + " GET_DEVICE_ID"
	buf := make([]byte, deviceIDMax)
	rt, req, val, idx := deviceIDRequest(u.sel)
	n, err := u.control(op, rt, req, val, idx, buf)
	if err != nil {
		return "", err
	}
	id, err := parseDeviceID(buf[:n])
	if err != nil {
		return "", fmt.Errorf("printerdev: %s: %w", op, err)
	}
	return id, nil
}

// PortStatus asks the printer for its port status byte with the class
// request GET_PORT_STATUS; see PortPaperEmpty, PortSelected, PortNoError.
func (u *usbPort) PortStatus() (byte, error) {
	op := u.name + " GET_PORT_STATUS"
	buf := make([]byte, 1)
	rt, req, val, idx := portStatusRequest(u.sel)
	n, err := u.control(op, rt, req, val, idx, buf)
	if err != nil {
		return 0, err
	}
	if n != 1 {
		return 0, fmt.Errorf("printerdev: %s: got %d bytes, want 1", op, n)
	}
	return buf[0], nil
}

// deviceIDRequest is GET_DEVICE_ID: wValue is the configuration index,
// wIndex the interface in the high byte and the alternate setting in the
// low byte.
func deviceIDRequest(sel usbSelection) (rType, request uint8, val, idx uint16) {
	return reqTypeClassInIface, reqGetDeviceID, uint16(sel.ConfigIndex), uint16(sel.Interface)<<8 | uint16(sel.Alt)&0xff
}

// portStatusRequest is GET_PORT_STATUS: wValue 0, wIndex the interface.
func portStatusRequest(sel usbSelection) (rType, request uint8, val, idx uint16) {
	return reqTypeClassInIface, reqGetPortStatus, 0, uint16(sel.Interface)
}

func (u *usbPort) control(op string, rType, request uint8, val, idx uint16, buf []byte) (int, error) {
	if u.closed() {
		return 0, closedErr(op)
	}
	u.opMu.RLock()
	defer u.opMu.RUnlock()
	if u.closed() {
		return 0, closedErr(op)
	}
	n, err := u.dev.Control(rType, request, val, idx, buf)
	if err == nil {
		return n, nil
	}
	switch {
	case errors.Is(err, gousb.ErrorPipe):
		// A stall on the control pipe: the request is not supported.
		return 0, fmt.Errorf("printerdev: %s: not supported by the device: %w", op, err)
	case errors.Is(err, gousb.ErrorNoDevice), errors.Is(err, gousb.ErrorIO):
		return 0, u.markGone(goneErr(op, err))
	case isUSBTimeout(err):
		return 0, deadlineErr(op, err)
	default:
		return 0, fmt.Errorf("printerdev: %s: %w", op, err)
	}
}

// parseDeviceID decodes a GET_DEVICE_ID reply: a 2-byte big-endian length
// that counts itself, then the ID. Like CUPS (backend/usb-libusb.c) it
// accepts a little-endian length from devices that get this wrong, and
// clamps a length longer than the reply.
func parseDeviceID(b []byte) (string, error) {
	if len(b) < 2 {
		return "", fmt.Errorf("device ID reply of %d bytes, want at least 2", len(b))
	}
	l := int(b[0])<<8 | int(b[1])
	if l < 2 || l > len(b) {
		if le := int(b[1])<<8 | int(b[0]); le >= 2 && le <= len(b) {
			l = le
		} else if l > len(b) {
			l = len(b)
		}
	}
	if l < 2 {
		return "", fmt.Errorf("device ID length %d, want at least 2", l)
	}
	id := b[2:l]
	// Trim the NUL padding some devices add.
	for len(id) > 0 && id[len(id)-1] == 0 {
		id = id[:len(id)-1]
	}
	if len(id) == 0 {
		return "", errors.New("empty device ID")
	}
	return string(id), nil
}

// Close ends transfers in flight, waits for them, releases the interface
// (libusb re-attaches usblp), the device and the libusb context. It does
// not hang or panic after the device was unplugged.
func (u *usbPort) Close() error {
	u.closeOnce.Do(func() {
		close(u.done)
		u.cancel()
		u.opMu.Lock()
		defer u.opMu.Unlock()
		err := errors.Join(u.dev.Close(), u.bus.Close())
		if err != nil {
			u.closeErr = fmt.Errorf("printerdev: close %s: %w", u.name, err)
		}
	})
	return u.closeErr
}
