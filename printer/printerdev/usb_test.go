package printerdev

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/gousb"
)

const (
	vidEpson gousb.ID = 0x04b8
	pidTM    gousb.ID = 0x0202
)

func TestSelectInterface(t *testing.T) {
	hid := setting(0, 0, gousb.ClassHID, 0, 0, intrEP(0x81))
	vendor := setting(0, 0, gousb.ClassVendorSpec, 0, 0, bulkEP(0x02, 64), bulkEP(0x81, 64))
	in3 := bulkEP(0x83, 512)
	for _, tt := range []struct {
		name     string
		configs  map[int][]gousb.InterfaceSetting
		vendorOK bool
		want     bool
		wantSel  usbSelection // compared: Config, ConfigIndex, Interface, Alt, Protocol, Out.Address, In address (0 = none)
		wantIn   gousb.EndpointAddress
	}{
		{name: "bidirectional", configs: oneConfig(printerSetting(0, 0, 2)), want: true,
			wantSel: usbSelection{Config: 1, Protocol: 2}, wantIn: 0x82},
		{name: "unidirectional", configs: oneConfig(printerSetting(0, 0, 1)), want: true,
			wantSel: usbSelection{Config: 1, Protocol: 1}},
		{name: "protocol 1 ignores a bulk IN", configs: oneConfig(setting(0, 0, gousb.ClassPrinter, 1, 1, bulkEP(0x01, 64), bulkEP(0x82, 64))), want: true,
			wantSel: usbSelection{Config: 1, Protocol: 1}},
		{name: "prefers protocol 2 alt", configs: oneConfig(printerSetting(0, 0, 1), printerSetting(0, 1, 2), printerSetting(0, 2, 3)), want: true,
			wantSel: usbSelection{Config: 1, Alt: 1, Protocol: 2}, wantIn: 0x82},
		{name: "prefers 1 over 3", configs: oneConfig(printerSetting(0, 0, 3), printerSetting(0, 1, 1)), want: true,
			wantSel: usbSelection{Config: 1, Alt: 1, Protocol: 1}},
		{name: "protocol 3 alone", configs: oneConfig(setting(0, 0, gousb.ClassPrinter, 1, 3, bulkEP(0x01, 512), in3)), want: true,
			wantSel: usbSelection{Config: 1, Protocol: 3}, wantIn: 0x83},
		{name: "protocol 2 without bulk IN", configs: oneConfig(setting(0, 0, gousb.ClassPrinter, 1, 2, bulkEP(0x01, 64))), want: true,
			wantSel: usbSelection{Config: 1, Protocol: 2}},
		{name: "composite device", configs: oneConfig(hid, printerSetting(1, 0, 2)), want: true,
			wantSel: usbSelection{Config: 1, Interface: 1, Protocol: 2}, wantIn: 0x82},
		{name: "second configuration", configs: map[int][]gousb.InterfaceSetting{1: {hid}, 2: {printerSetting(0, 0, 2)}}, want: true,
			wantSel: usbSelection{Config: 2, ConfigIndex: 1, Protocol: 2}, wantIn: 0x82},
		{name: "printer class without bulk OUT", configs: oneConfig(setting(0, 0, gousb.ClassPrinter, 1, 2, intrEP(0x01), bulkEP(0x82, 64)))},
		{name: "bad protocol", configs: oneConfig(setting(0, 0, gousb.ClassPrinter, 1, 0, bulkEP(0x01, 64)))},
		{name: "bad subclass", configs: oneConfig(setting(0, 0, gousb.ClassPrinter, 2, 2, bulkEP(0x01, 64)))},
		{name: "vendor class not auto-detected", configs: oneConfig(vendor)},
		{name: "vendor class by VID:PID", configs: oneConfig(vendor), vendorOK: true, want: true,
			wantSel: usbSelection{Config: 1, Protocol: 0}, wantIn: 0x81},
		{name: "printer beats vendor", configs: oneConfig(vendor, printerSetting(1, 0, 1)), vendorOK: true, want: true,
			wantSel: usbSelection{Config: 1, Interface: 1, Protocol: 1}},
		{name: "HID only", configs: oneConfig(hid), vendorOK: true},
		{name: "no configs", configs: nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			desc := deviceDesc(1, []int{1}, vidEpson, pidTM, tt.configs)
			sel, ok := selectInterface(desc, tt.vendorOK)
			if ok != tt.want {
				t.Fatalf("selectInterface ok = %v, want %v (%+v)", ok, tt.want, sel)
			}
			if !ok {
				return
			}
			var gotIn gousb.EndpointAddress
			if sel.In != nil {
				gotIn = sel.In.Address
			}
			w := tt.wantSel
			if sel.Config != w.Config || sel.ConfigIndex != w.ConfigIndex || sel.Interface != w.Interface ||
				sel.Alt != w.Alt || sel.Protocol != w.Protocol || sel.Out.Direction != gousb.EndpointDirectionOut || gotIn != tt.wantIn {
				t.Errorf("selectInterface = cfg %d idx %d if %d alt %d proto %d out %s in %s; want cfg %d idx %d if %d alt %d proto %d in %s",
					sel.Config, sel.ConfigIndex, sel.Interface, sel.Alt, sel.Protocol, sel.Out.Address, gotIn,
					w.Config, w.ConfigIndex, w.Interface, w.Alt, w.Protocol, tt.wantIn)
			}
		})
	}
}

func busFunc(b *fakeBus) func() (usbBus, error) {
	return func() (usbBus, error) { return b, nil }
}

func TestOpenUSBAutoDetect(t *testing.T) {
	webcam := newFakeDevice(deviceDesc(1, []int{1}, 0x046d, 0x0825, oneConfig(setting(0, 0, gousb.ClassVideo, 1, 0, intrEP(0x81)))))
	later := newFakeDevice(deviceDesc(2, []int{1}, 0x0416, 0x5011, oneConfig(printerSetting(0, 0, 1))))
	first := newFakeDevice(deviceDesc(1, []int{3}, vidEpson, pidTM, oneConfig(printerSetting(0, 0, 1), printerSetting(0, 1, 2))))
	bus := &fakeBus{devs: []*fakeDevice{webcam, later, first}}

	p, err := openUSB(t.Context(), Spec{Kind: KindUSB}, busFunc(bus))
	if err != nil {
		t.Fatal(err)
	}
	if p.dev != first {
		t.Errorf("opened %s, want the first printer by bus and port (%s)", p.dev.Desc(), first.desc)
	}
	if webcam.isOpen() || later.isOpen() {
		t.Errorf("devices left open: webcam %v, other printer %v", webcam.isOpen(), later.isOpen())
	}
	if !first.autoDetach || first.claimed == nil || first.claimed.Alt != 1 || first.claimed.Protocol != 2 {
		t.Errorf("autoDetach %v, claimed %+v; want auto-detach and alt 1 (protocol 2)", first.autoDetach, first.claimed)
	}
	if p.Transport() != "usb" || p.name != "usb 04b8:0202" {
		t.Errorf("Transport() = %q, name %q", p.Transport(), p.name)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if first.isOpen() || !bus.isClosed() {
		t.Errorf("after Close: device open %v, bus closed %v", first.isOpen(), bus.isClosed())
	}
}

func TestOpenUSBErrors(t *testing.T) {
	printer := func() *fakeDevice {
		return newFakeDevice(deviceDesc(1, []int{2}, vidEpson, pidTM, oneConfig(printerSetting(0, 0, 2))))
	}
	noOut := newFakeDevice(deviceDesc(1, []int{2}, vidEpson, pidTM, oneConfig(setting(0, 0, gousb.ClassHID, 0, 0, intrEP(0x81)))))
	denied := printer()
	denied.openErr = gousb.ErrorAccess
	busy := printer()
	busy.claimErr = gousb.ErrorBusy
	for _, tt := range []struct {
		name    string
		spec    Spec
		devs    []*fakeDevice
		wantErr string
		wantIs  error
	}{
		{name: "nothing plugged in", spec: Spec{Kind: KindUSB}, wantErr: "no USB printer found"},
		{name: "no printer", spec: Spec{Kind: KindUSB}, devs: []*fakeDevice{noOut}, wantErr: "no USB printer found"},
		{name: "no such VID:PID", spec: Spec{Kind: KindUSB, VID: 0x04b8, PID: 0x0e15}, devs: []*fakeDevice{printer()}, wantErr: "no USB device 04b8:0e15"},
		{name: "VID:PID without bulk OUT", spec: Spec{Kind: KindUSB, VID: 0x04b8, PID: 0x0202}, devs: []*fakeDevice{noOut}, wantErr: "no interface with a bulk OUT"},
		{name: "VID:PID access denied", spec: Spec{Kind: KindUSB, VID: 0x04b8, PID: 0x0202}, devs: []*fakeDevice{denied}, wantErr: "open usb 04b8:0202", wantIs: gousb.ErrorAccess},
		{name: "auto access denied", spec: Spec{Kind: KindUSB}, devs: []*fakeDevice{denied}, wantErr: "could not be opened", wantIs: gousb.ErrorAccess},
		{name: "interface busy", spec: Spec{Kind: KindUSB}, devs: []*fakeDevice{busy}, wantErr: "another program holds", wantIs: gousb.ErrorBusy},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bus := &fakeBus{devs: tt.devs}
			p, err := openUSB(t.Context(), tt.spec, busFunc(bus))
			if err == nil {
				p.Close()
				t.Fatalf("openUSB(%v) succeeded, want error %q", tt.spec, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || (tt.wantIs != nil && !errors.Is(err, tt.wantIs)) {
				t.Errorf("openUSB(%v) = %v; want %q (is %v)", tt.spec, err, tt.wantErr, tt.wantIs)
			}
			for _, d := range tt.devs {
				if d.isOpen() {
					t.Errorf("device %s left open", d.desc.Product)
				}
			}
			if !bus.isClosed() {
				t.Error("bus (libusb context) left open")
			}
		})
	}

	_, err := openUSB(t.Context(), Spec{Kind: KindUSB}, func() (usbBus, error) { return nil, errors.New("libusb init: boom") })
	if err == nil || !strings.Contains(err.Error(), "libusb init") {
		t.Errorf("openUSB with a failing libusb = %v", err)
	}
}

// openFake opens a USB port on one fake printer with the given protocol.
func openFake(t *testing.T, proto gousb.Protocol) (*usbPort, *fakeDevice, *fakeBus) {
	t.Helper()
	dev := newFakeDevice(deviceDesc(1, []int{1}, vidEpson, pidTM, oneConfig(printerSetting(0, 0, proto))))
	bus := &fakeBus{devs: []*fakeDevice{dev}}
	p, err := openUSB(context.Background(), Spec{Kind: KindUSB, VID: uint16(vidEpson), PID: uint16(pidTM)}, busFunc(bus))
	if err != nil {
		t.Fatal(err)
	}
	return p, dev, bus
}

func TestUSBReadBuffering(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, dev, _ := openFake(t, 2)
		defer p.Close()

		// A 60-byte packet read with a 10-byte buffer: one 64-byte
		// transfer, the rest served from the buffer.
		pkt := strings.Repeat("0123456789", 6)
		dev.in <- fakePacket{data: pkt}
		var got bytes.Buffer
		buf := make([]byte, 10)
		for got.Len() < len(pkt) {
			n, err := p.Read(buf)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			got.Write(buf[:n])
		}
		if got.String() != pkt {
			t.Errorf("Read %q, want %q", got.String(), pkt)
		}
		// Transfer sizes are whole packets, capped at usbReadMax.
		dev.in <- fakePacket{data: "a"}
		p.Read(make([]byte, 100))
		dev.in <- fakePacket{data: "b"}
		p.Read(make([]byte, 100000))
		if want := []int{64, 128, 4096}; !equalInts(dev.readLens, want) {
			t.Errorf("transfer sizes %v, want %v", dev.readLens, want)
		}
	})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestUSBReadErrors maps transfer results to the Port contract.
func TestUSBReadErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		pkt  *fakePacket // nil: nothing comes, the context ends the read
		want readKind
		took time.Duration
	}{
		{name: "nothing", want: gotDeadline, took: ReadTimeout},
		{name: "libusb timeout", pkt: &fakePacket{err: gousb.TransferTimedOut}, want: gotDeadline},
		{name: "libusb error timeout", pkt: &fakePacket{err: gousb.ErrorTimeout}, want: gotDeadline},
		{name: "cancelled", pkt: &fakePacket{err: gousb.TransferCancelled}, want: gotDeadline},
		{name: "no device (transfer)", pkt: &fakePacket{err: gousb.TransferNoDevice}, want: gotEOF},
		{name: "no device (submit)", pkt: &fakePacket{err: gousb.ErrorNoDevice}, want: gotEOF},
		{name: "I/O error", pkt: &fakePacket{err: gousb.ErrorIO}, want: gotEOF},
		{name: "transfer error", pkt: &fakePacket{err: gousb.TransferError}, want: gotEOF},
		{name: "stall", pkt: &fakePacket{err: gousb.TransferStall}, want: gotEOF},
		{name: "overflow", pkt: &fakePacket{data: strings.Repeat("x", 65)}, want: gotEOF},
		{name: "data with an error", pkt: &fakePacket{data: "\x12", err: gousb.TransferNoDevice}, want: gotData},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p, dev, _ := openFake(t, 2)
				defer p.Close()
				if tt.pkt != nil {
					dev.in <- *tt.pkt
				}
				start := time.Now()
				n, err := p.Read(make([]byte, 8))
				if k := kindOf(n, err); k != tt.want || time.Since(start) != tt.took {
					t.Fatalf("Read = %d, %v (%v) after %v; want %v after %v", n, err, k, time.Since(start), tt.want, tt.took)
				}
				if tt.pkt == nil || tt.pkt.err == nil || isUSBTimeout(tt.pkt.err) {
					return
				}
				// Gone: the next Read reports io.EOF after the read
				// timeout without a transfer; Write fails.
				calls := len(dev.readLens)
				start = time.Now()
				n, err = p.Read(make([]byte, 8))
				if kindOf(n, err) != gotEOF || time.Since(start) != ReadTimeout || len(dev.readLens) != calls {
					t.Errorf("Read after gone = %d, %v after %v, %d transfers; want io.EOF after %v, %d", n, err, time.Since(start), len(dev.readLens), ReadTimeout, calls)
				}
				if _, err := p.Write([]byte{1}); !errors.Is(err, io.EOF) || dev.writeCalls != 0 {
					t.Errorf("Write after gone = %v (%d transfers); want io.EOF, none", err, dev.writeCalls)
				}
			})
		})
	}
}

func TestUSBUnidirectionalRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, dev, _ := openFake(t, 1)
		defer p.Close()
		for range 3 {
			start := time.Now()
			n, err := p.Read(make([]byte, 8))
			if kindOf(n, err) != gotDeadline || time.Since(start) != ReadTimeout {
				t.Errorf("Read = %d, %v after %v; want a deadline error after %v", n, err, time.Since(start), ReadTimeout)
			}
		}
		if len(dev.readLens) != 0 {
			t.Errorf("%d IN transfers on a device without bulk IN", len(dev.readLens))
		}
		if _, err := p.Write([]byte("ok")); err != nil || string(dev.written) != "ok" {
			t.Errorf("Write = %v, device got %q", err, dev.written)
		}
	})
}

func TestUSBWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, dev, _ := openFake(t, 2)
		defer p.Close()
		data := bytes.Repeat([]byte("0123456789"), 1000)
		if n, err := p.Write(data); n != len(data) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		if !bytes.Equal(dev.written, data) || dev.writeCalls != 3 {
			t.Errorf("device got %d bytes in %d transfers; want %d in 3", len(dev.written), dev.writeCalls, len(data))
		}
	})
	synctest.Test(t, func(t *testing.T) {
		p, dev, _ := openFake(t, 2)
		defer p.Close()
		dev.writeErr = errBlock // the printer NAKs forever
		start := time.Now()
		_, err := p.Write([]byte("x"))
		if !errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "no progress") || time.Since(start) != WriteTimeout {
			t.Errorf("stuck Write = %v after %v; want io.EOF, no progress, after %v", err, time.Since(start), WriteTimeout)
		}
	})
}

func TestUSBControlRequests(t *testing.T) {
	id := "MFG:EPSON;CMD:ESC/POS;MDL:TM-T20II;CLS:PRINTER;"
	dev := newFakeDevice(deviceDesc(1, []int{1}, vidEpson, pidTM, map[int][]gousb.InterfaceSetting{
		1: {setting(0, 0, gousb.ClassHID, 0, 0, intrEP(0x81))},
		2: {setting(0, 0, gousb.ClassHID, 0, 0, intrEP(0x81)), printerSetting(1, 0, 1), printerSetting(1, 1, 2)},
	}))
	dev.control = func(rType, request uint8, val, idx uint16, data []byte) (int, error) {
		switch request {
		case reqGetDeviceID:
			l := len(id) + 2
			return copy(data, append([]byte{byte(l >> 8), byte(l)}, id...)), nil
		case reqGetPortStatus:
			data[0] = PortSelected | PortNoError
			return 1, nil
		}
		return 0, gousb.ErrorPipe
	}
	bus := &fakeBus{devs: []*fakeDevice{dev}}
	port, err := openUSB(t.Context(), Spec{Kind: KindUSB}, busFunc(bus))
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()

	// Callers reach these through their own interface.
	p := Port(port).(interface {
		DeviceID() (string, error)
		PortStatus() (byte, error)
	})
	got, err := p.DeviceID()
	if err != nil || got != id {
		t.Errorf("DeviceID() = %q, %v; want %q", got, err, id)
	}
	st, err := p.PortStatus()
	if err != nil || st != 0x18 {
		t.Errorf("PortStatus() = %#x, %v; want 0x18", st, err)
	}
	// Configuration 2 is index 1; the printer is interface 1, alt 1.
	want := []ctrlCall{
		{rType: 0xA1, request: 0, val: 1, idx: 0x0101, n: deviceIDMax},
		{rType: 0xA1, request: 1, val: 0, idx: 0x0001, n: 1},
	}
	if len(dev.controls) != len(want) || dev.controls[0] != want[0] || dev.controls[1] != want[1] {
		t.Errorf("control requests %+v, want %+v", dev.controls, want)
	}

	dev.control = nil // stalls: request not supported
	if _, err := p.DeviceID(); err == nil || errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("DeviceID() on a stall = %v, want a plain not-supported error", err)
	}
	dev.unplug()
	if _, err := p.PortStatus(); !errors.Is(err, io.EOF) {
		t.Errorf("PortStatus() unplugged = %v, want io.EOF", err)
	}
}

func TestParseDeviceID(t *testing.T) {
	id := "MFG:Zjiang;MDL:ZJ-5890K;CMD:ESC/POS;CLS:PRINTER;"
	be := func(l int, s string) []byte { return append([]byte{byte(l >> 8), byte(l)}, s...) }
	le := func(l int, s string) []byte { return append([]byte{byte(l), byte(l >> 8)}, s...) }
	for _, tt := range []struct {
		name    string
		in      []byte
		want    string
		wantErr bool
	}{
		{"big-endian", be(len(id)+2, id), id, false},
		{"little-endian length", le(len(id)+2, id), id, false},
		{"length past the reply", be(500, id), id, false},
		{"shorter length wins", be(2+8, id), id[:8], false},
		{"NUL padding", be(len(id)+2+3, id+"\x00\x00\x00"), id, false},
		{"length 2: empty", be(2, id), "", true},
		{"length 0", be(0, ""), "", true},
		{"one byte", []byte{0}, "", true},
		{"nothing", nil, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDeviceID(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseDeviceID(% x) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestUSBCloseDuringRead: Close ends the transfer in flight and releases
// the device only after it returned.
func TestUSBCloseDuringRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, dev, bus := openFake(t, 2)
		res := make(chan error)
		go func() {
			_, err := p.Read(make([]byte, 8))
			res <- err
		}()
		synctest.Wait() // the Read is waiting in the transfer
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-res; !errors.Is(err, os.ErrClosed) {
			t.Errorf("Read during Close = %v, want os.ErrClosed", err)
		}
		if dev.badClose || dev.isOpen() || !bus.isClosed() {
			t.Errorf("device closed with a transfer in flight %v, open %v, bus closed %v", dev.badClose, dev.isOpen(), bus.isClosed())
		}
		if err := p.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := p.Write([]byte{1}); !errors.Is(err, os.ErrClosed) {
			t.Errorf("Write after Close = %v, want os.ErrClosed", err)
		}
	})
}

// TestUSBUnplugReplug: a read in flight sees the unplug as io.EOF, Close
// does not hang, and Open finds the printer again once it is back.
func TestUSBUnplugReplug(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, dev, _ := openFake(t, 2)
		res := make(chan error)
		go func() {
			for {
				n, err := p.Read(make([]byte, 8))
				if kindOf(n, err) != gotDeadline {
					res <- err
					return
				}
			}
		}()
		time.Sleep(450 * time.Millisecond)
		dev.unplug()
		if err := <-res; !errors.Is(err, io.EOF) {
			t.Fatalf("Read after unplug = %v, want io.EOF", err)
		}
		if _, err := p.Write([]byte{1}); !errors.Is(err, io.EOF) {
			t.Errorf("Write after unplug = %v, want io.EOF", err)
		}
		if err := p.Close(); err != nil {
			t.Errorf("Close after unplug: %v", err)
		}

		// Unplugged: the caller's re-probe finds nothing...
		if _, err := openUSB(context.Background(), Spec{Kind: KindUSB}, busFunc(&fakeBus{})); err == nil {
			t.Fatal("Open with nothing plugged in succeeded")
		}
		// ...until the printer is back (new device, new address).
		back := newFakeDevice(deviceDesc(1, []int{1}, vidEpson, pidTM, oneConfig(printerSetting(0, 0, 2))))
		p2, err := openUSB(context.Background(), Spec{Kind: KindUSB}, busFunc(&fakeBus{devs: []*fakeDevice{back}}))
		if err != nil {
			t.Fatalf("Open after replug: %v", err)
		}
		back.in <- fakePacket{data: "\x16"}
		if n, err := p2.Read(make([]byte, 8)); n != 1 || err != nil {
			t.Errorf("Read after replug = %d, %v", n, err)
		}
		p2.Close()
	})
}

// TestOpenUSBReal runs the real gousb path. This container has no USB
// bus: libusb initialises, finds no devices, and Open says so.
func TestOpenUSBReal(t *testing.T) {
	checkLeaks(t)
	for _, tt := range []struct {
		spec    Spec
		wantErr string
	}{
		{Spec{Kind: KindUSB}, "no USB printer found"},
		{Spec{Kind: KindUSB, VID: 0x04b8, PID: 0x0202}, "no USB device 04b8:0202"},
	} {
		start := time.Now()
		p, err := Open(t.Context(), tt.spec)
		t.Logf("Open(%v) = %v (%v)", tt.spec, err, time.Since(start).Round(time.Millisecond))
		if err == nil {
			p.Close()
			t.Skipf("a real USB printer is attached (%v); this test expects none", tt.spec)
		}
		if _, statErr := os.Stat("/dev/bus/usb"); statErr == nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Skipf("Open(%v) = %v on a host with USB", tt.spec, err)
		}
		if !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Open(%v) = %v, want %q", tt.spec, err, tt.wantErr)
		}
	}
}
