package agent_test

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
	"github.com/sumbar-samsat/pkbkiosk/printer/printertest"
	"github.com/sumbar-samsat/pkbkiosk/sync/lookup/sample"
)

// usbPort is a USB printer played back from transcripts: the byte stream
// (bulk endpoints) from a Playback and the printer-class requests from a
// printertest.Class. No USB printer can be attached here.
type usbPort struct {
	*printertest.Playback
	*printertest.Class
}

func (usbPort) Transport() string { return "usb" }

func loadOps(t *testing.T, file string) []printertest.Op {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ops, _, err := printertest.LoadTranscript(f)
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

// TestUSBUnplugDuringJob: a USB printer, identified by its device ID,
// answers status as in the healthy transcript, then is unplugged when the
// slip starts: the job ends as lost (the taxpayer is told, nothing is
// retried), the printer shows as disconnected and is probed again.
func TestUSBUnplugDuringJob(t *testing.T) {
	healthy := loadOps(t, "../../printer/testdata/healthy.txt")
	var ops []printertest.Op
	ops = append(ops, healthy...)                  // the first poll
	ops = append(ops, healthy...)                  // the check before the job
	ops = append(ops, printertest.Op{Err: io.EOF}) // unplugged: the job's first write fails
	pb := &printertest.Playback{Ops: ops}
	port := usbPort{Playback: pb, Class: &printertest.Class{ID: "MFG:EPSON;CMD:ESC/POS;MDL:TM-T20II;CLS:PRINTER;"}}
	var opens atomic.Int32
	e := newEnv(t, func(h *hubserver.Config, a *agent.Config) {
		a.PrinterTransport, a.NearEndSensor = "usb", "yes"
		a.PrinterPoll = time.Hour // only the polls the script knows of
		a.OpenPrinter = func(ctx context.Context) (agent.PrinterPort, error) {
			if opens.Add(1) == 1 {
				return port, nil
			}
			return nil, errors.New("no USB printer found")
		}
	})
	se := &simEnv{env: e}
	p := se.waitPrinter(func(p printerStatus) bool { return p.Connected })
	if p.Transport != "usb" || p.Columns != 48 || p.Paper != "ok" {
		t.Errorf("printer = %+v; want usb, 48 columns (TM-T20II from the device ID), paper ok", p)
	}
	state, why := se.printSlip(e.sample(sample.Paid))
	if state != "failed" || !strings.Contains(why, "terputus") {
		t.Errorf("job = %s %q; want failed with the 'printer disconnected' message", state, why)
	}
	se.waitPrinter(func(p printerStatus) bool { return !p.Connected })
	if n := opens.Load(); n < 2 {
		t.Errorf("the printer was opened %d times; want a new probe after the unplug", n)
	}
	if err := pb.Close(); err != nil {
		t.Errorf("the exchange did not follow the transcript: %v", err)
	}
}
