package printerdev

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/gousb"
)

// fakeBus is a usbBus over fake devices. Like gousb it refuses to close
// while devices are open.
type fakeBus struct {
	devs []*fakeDevice

	mu     sync.Mutex // guards closed
	closed bool
}

func (b *fakeBus) OpenDeviceWithVIDPID(vid, pid gousb.ID) (usbDevice, error) {
	for _, d := range b.devs {
		if d.desc.Vendor == vid && d.desc.Product == pid {
			if d.openErr != nil {
				return nil, d.openErr // gousb: (nil, err) when the one match failed to open
			}
			d.setOpen(true)
			return d, nil
		}
	}
	return nil, nil
}

func (b *fakeBus) OpenDevices(match func(*gousb.DeviceDesc) bool) ([]usbDevice, error) {
	var devs []usbDevice
	var err error
	for _, d := range b.devs {
		if !match(d.desc) {
			continue
		}
		if d.openErr != nil {
			err = d.openErr
			continue
		}
		d.setOpen(true)
		devs = append(devs, d)
	}
	return devs, err
}

func (b *fakeBus) Close() error {
	for _, d := range b.devs {
		if d.isOpen() {
			return fmt.Errorf("fakeBus: Close with device %s still open", d.desc.Product)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

func (b *fakeBus) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// fakeDevice is a usbDevice. Reads take packets from in; with none
// queued a read waits for its context, then fails with TransferCancelled
// as gousb's ReadContext does. unplug makes transfers fail as a removed
// device does.
type fakeDevice struct {
	desc     *gousb.DeviceDesc
	openErr  error
	claimErr error
	in       chan fakePacket
	writeErr error // WriteOut fails with it; errBlock: waits for the context
	control  func(rType, request uint8, val, idx uint16, data []byte) (int, error)

	mu         sync.Mutex // guards the fields below
	open       bool
	autoDetach bool
	claimed    *usbSelection
	readLens   []int // buffer sizes of ReadIn calls
	written    []byte
	writeCalls int
	controls   []ctrlCall
	inFlight   int
	badClose   bool // Close with a transfer in flight
	gone       chan struct{}
}

type fakePacket struct {
	data string
	err  error
}

type ctrlCall struct {
	rType, request uint8
	val, idx       uint16
	n              int
}

var errBlock = errors.New("block until the context ends")

func newFakeDevice(desc *gousb.DeviceDesc) *fakeDevice {
	return &fakeDevice{desc: desc, in: make(chan fakePacket, 16), gone: make(chan struct{})}
}

func (d *fakeDevice) setOpen(v bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.open = v
}

func (d *fakeDevice) isOpen() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.open
}

func (d *fakeDevice) unplug() { close(d.gone) }

func (d *fakeDevice) unplugged() bool {
	select {
	case <-d.gone:
		return true
	default:
		return false
	}
}

func (d *fakeDevice) Desc() *gousb.DeviceDesc { return d.desc }

func (d *fakeDevice) SetAutoDetach(on bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.autoDetach = on
	return nil
}

func (d *fakeDevice) Claim(sel usbSelection) error {
	if d.claimErr != nil {
		return d.claimErr
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.claimed = &sel
	return nil
}

func (d *fakeDevice) begin() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.inFlight++
}

func (d *fakeDevice) end() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.inFlight--
}

func (d *fakeDevice) ReadIn(ctx context.Context, buf []byte) (int, error) {
	d.begin()
	defer d.end()
	d.mu.Lock()
	d.readLens = append(d.readLens, len(buf))
	d.mu.Unlock()
	select {
	case p := <-d.in:
		if len(p.data) > len(buf) {
			return 0, gousb.TransferOverflow
		}
		return copy(buf, p.data), p.err
	case <-d.gone:
		return 0, gousb.TransferNoDevice
	case <-ctx.Done():
		return 0, gousb.TransferCancelled
	}
}

func (d *fakeDevice) WriteOut(ctx context.Context, buf []byte) (int, error) {
	d.begin()
	defer d.end()
	d.mu.Lock()
	d.writeCalls++
	d.mu.Unlock()
	switch {
	case d.unplugged():
		return 0, gousb.TransferNoDevice
	case d.writeErr == errBlock:
		<-ctx.Done()
		return 0, gousb.TransferCancelled
	case d.writeErr != nil:
		return 0, d.writeErr
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.written = append(d.written, buf...)
	return len(buf), nil
}

func (d *fakeDevice) Control(rType, request uint8, val, idx uint16, data []byte) (int, error) {
	d.mu.Lock()
	d.controls = append(d.controls, ctrlCall{rType, request, val, idx, len(data)})
	d.mu.Unlock()
	if d.unplugged() {
		return 0, gousb.ErrorNoDevice
	}
	if d.control == nil {
		return 0, gousb.ErrorPipe
	}
	return d.control(rType, request, val, idx, data)
}

func (d *fakeDevice) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.inFlight > 0 {
		d.badClose = true
	}
	d.open = false
	d.claimed = nil
	return nil
}

// Descriptor builders.

func bulkEP(addr int, mps int) gousb.EndpointDesc {
	dir := gousb.EndpointDirectionOut
	if addr&0x80 != 0 {
		dir = gousb.EndpointDirectionIn
	}
	return gousb.EndpointDesc{
		Address: gousb.EndpointAddress(addr), Number: addr & 0x0f, Direction: dir,
		MaxPacketSize: mps, TransferType: gousb.TransferTypeBulk,
	}
}

func intrEP(addr int) gousb.EndpointDesc {
	ep := bulkEP(addr, 8)
	ep.TransferType = gousb.TransferTypeInterrupt
	return ep
}

func setting(num, alt int, class gousb.Class, sub gousb.Class, proto gousb.Protocol, eps ...gousb.EndpointDesc) gousb.InterfaceSetting {
	m := make(map[gousb.EndpointAddress]gousb.EndpointDesc)
	for _, e := range eps {
		m[e.Address] = e
	}
	return gousb.InterfaceSetting{Number: num, Alternate: alt, Class: class, SubClass: sub, Protocol: proto, Endpoints: m}
}

// printerSetting is interface num, alternate alt of class 7/1 with the
// given protocol, OUT 0x01 and (except protocol 1) IN 0x82.
func printerSetting(num, alt int, proto gousb.Protocol) gousb.InterfaceSetting {
	eps := []gousb.EndpointDesc{bulkEP(0x01, 64)}
	if proto != 1 {
		eps = append(eps, bulkEP(0x82, 64))
	}
	return setting(num, alt, gousb.ClassPrinter, 1, proto, eps...)
}

// deviceDesc builds a descriptor; configs map a configuration number to
// its settings, grouped into interfaces by number.
func deviceDesc(bus int, path []int, vid, pid gousb.ID, configs map[int][]gousb.InterfaceSetting) *gousb.DeviceDesc {
	d := &gousb.DeviceDesc{Bus: bus, Path: path, Address: len(path) + 1, Vendor: vid, Product: pid, Configs: map[int]gousb.ConfigDesc{}}
	for n, sets := range configs {
		cfg := gousb.ConfigDesc{Number: n}
		for _, s := range sets {
			i := len(cfg.Interfaces) - 1
			if i < 0 || cfg.Interfaces[i].Number != s.Number {
				cfg.Interfaces = append(cfg.Interfaces, gousb.InterfaceDesc{Number: s.Number})
				i++
			}
			cfg.Interfaces[i].AltSettings = append(cfg.Interfaces[i].AltSettings, s)
		}
		d.Configs[n] = cfg
	}
	return d
}

func oneConfig(sets ...gousb.InterfaceSetting) map[int][]gousb.InterfaceSetting {
	return map[int][]gousb.InterfaceSetting{1: sets}
}
