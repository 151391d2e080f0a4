package printerdev

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/gousb"
)

// This file is the only gousb-facing code: gousbBus and gousbDevice are
// thin adapters, the logic lives in usb.go (deps.md 5).

// gousbBus is a usbBus over a gousb.Context (one libusb context and its
// event goroutine per open port; Close stops both).
type gousbBus struct {
	ctx *gousb.Context
}

// newGousbBus creates a libusb context. gousb.NewContext panics when
// libusb_init fails (no usbfs, seccomp...); that becomes an error.
func newGousbBus() (bus usbBus, err error) {
	defer func() {
		if r := recover(); r != nil {
			bus, err = nil, fmt.Errorf("libusb init: %v", r)
		}
	}()
	return &gousbBus{ctx: gousb.NewContext()}, nil
}

func (b *gousbBus) OpenDeviceWithVIDPID(vid, pid gousb.ID) (usbDevice, error) {
	d, err := b.ctx.OpenDeviceWithVIDPID(vid, pid)
	if d == nil { // (nil, nil) when nothing matches
		return nil, err
	}
	return newGousbDevice(d), nil
}

func (b *gousbBus) OpenDevices(match func(*gousb.DeviceDesc) bool) ([]usbDevice, error) {
	ds, err := b.ctx.OpenDevices(match)
	devs := make([]usbDevice, 0, len(ds))
	for _, d := range ds {
		devs = append(devs, newGousbDevice(d))
	}
	return devs, err
}

func (b *gousbBus) Close() error { return b.ctx.Close() }

// gousbDevice is a usbDevice over a *gousb.Device and, once claimed, its
// configuration, interface and endpoints.
type gousbDevice struct {
	dev  *gousb.Device
	cfg  *gousb.Config
	intf *gousb.Interface
	in   *gousb.InEndpoint // nil without bulk IN
	out  *gousb.OutEndpoint
}

func newGousbDevice(d *gousb.Device) *gousbDevice {
	d.ControlTimeout = controlTimeout // 0 would mean no timeout
	return &gousbDevice{dev: d}
}

func (d *gousbDevice) Desc() *gousb.DeviceDesc { return d.dev.Desc }

func (d *gousbDevice) SetAutoDetach(on bool) error { return d.dev.SetAutoDetach(on) }

func (d *gousbDevice) Claim(sel usbSelection) (err error) {
	defer func() {
		// gousb v1.1.3 Config.Interface indexes Interfaces by interface
		// number, which panics on sparse numbering.
		if r := recover(); r != nil {
			err = fmt.Errorf("gousb: %v", r)
		}
		if err != nil {
			d.release()
		}
	}()
	if d.cfg, err = d.dev.Config(sel.Config); err != nil {
		return err
	}
	if d.intf, err = d.cfg.Interface(sel.Interface, sel.Alt); err != nil {
		return err
	}
	if d.out, err = d.intf.OutEndpoint(sel.Out.Number); err != nil {
		return err
	}
	if sel.In != nil {
		if d.in, err = d.intf.InEndpoint(sel.In.Number); err != nil {
			return err
		}
	}
	return nil
}

func (d *gousbDevice) ReadIn(ctx context.Context, buf []byte) (int, error) {
	if d.in == nil {
		return 0, errors.New("no bulk IN endpoint")
	}
	return d.in.ReadContext(ctx, buf)
}

func (d *gousbDevice) WriteOut(ctx context.Context, buf []byte) (int, error) {
	if d.out == nil {
		return 0, errors.New("no bulk OUT endpoint")
	}
	return d.out.WriteContext(ctx, buf)
}

func (d *gousbDevice) Control(rType, request uint8, val, idx uint16, data []byte) (int, error) {
	return d.dev.Control(rType, request, val, idx, data)
}

// release gives back the interface and the configuration. After an
// unplug libusb's release fails; gousb ignores that, which is right here.
func (d *gousbDevice) release() error {
	d.in, d.out = nil, nil
	if d.intf != nil {
		d.intf.Close()
		d.intf = nil
	}
	var err error
	if d.cfg != nil {
		err = d.cfg.Close()
		d.cfg = nil
	}
	return err
}

func (d *gousbDevice) Close() error {
	return errors.Join(d.release(), d.dev.Close())
}
