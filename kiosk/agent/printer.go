package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/pkb"
	"github.com/sumbar-samsat/pkbkiosk/printer"
	"github.com/sumbar-samsat/pkbkiosk/printer/escpos"
	"github.com/sumbar-samsat/pkbkiosk/printer/models"
	"github.com/sumbar-samsat/pkbkiosk/printer/slip"
	"github.com/sumbar-samsat/pkbkiosk/sync/outbox"
	"github.com/sumbar-samsat/pkbkiosk/ui"
)

// PrinterPort is an open connection to the receipt printer; the ports of
// printerdev satisfy it. USB ports also implement printer.USBClass.
type PrinterPort interface {
	io.ReadWriteCloser
	Transport() string // usb | serial | tcp
}

// Printer faults (DESIGN 4.3).
const (
	faultPaperNearEnd = "printer.paper_near_end"
	faultPaperOut     = "printer.paper_out"
	faultCoverOpen    = "printer.cover_open"
	faultOffline      = "printer.offline"
	faultError        = "printer.error"
	faultMissing      = "printer.missing"
)

var printerFaults = []string{faultMissing, faultOffline, faultPaperOut, faultPaperNearEnd, faultCoverOpen, faultError}

// debounce is the state of one fault code: raised after two consecutive
// readings that show the condition, cleared after the condition has been
// gone for clearAfter (DESIGN 4.3), so a paper-out reaches the hub in about
// two polls and a flapping sensor does not flood it.
type debounce struct {
	Active    bool
	Agree     int       // consecutive readings with the condition while not active
	GoneSince time.Time // first reading without the condition while active
}

// nextDebounce is the pure next-state function of a debounced fault; it
// returns +1 when the fault is raised, -1 when it is cleared, 0 otherwise.
func nextDebounce(d debounce, present bool, now time.Time, clearAfter time.Duration) (debounce, int) {
	if present {
		d.GoneSince = time.Time{}
		if d.Active {
			return d, 0
		}
		d.Agree++
		if d.Agree >= 2 {
			return debounce{Active: true}, +1
		}
		return d, 0
	}
	d.Agree = 0
	if !d.Active {
		return d, 0
	}
	if d.GoneSince.IsZero() {
		d.GoneSince = now
	}
	if now.Sub(d.GoneSince) >= clearAfter {
		return debounce{}, -1
	}
	return d, 0
}

// conditions maps a reading to the printer fault conditions. While the
// printer is missing nothing else is known, so only missing is returned
// and the other faults keep their state.
func conditions(st printer.Status) map[string]bool {
	if !st.Connected {
		return map[string]bool{faultMissing: true}
	}
	out := st.Paper == printer.PaperOut
	return map[string]bool{
		faultMissing:      false,
		faultPaperOut:     out,
		faultPaperNearEnd: st.Paper == printer.PaperNearEnd,
		faultCoverOpen:    st.CoverOpen,
		faultError:        st.Error != "",
		// Offline for a reason of its own; offline because of the paper or
		// the cover is reported as that.
		faultOffline: !st.Online && !out && !st.CoverOpen && st.Error == "",
	}
}

// printReady reports whether a slip may be sent: the same rule as the
// screen's "Cetak" button.
func printReady(p kiosk.PrinterStatus) bool {
	return p.Connected && p.Online && p.Paper != string(printer.PaperOut) && !p.CoverOpen && p.Error == ""
}

// printJob is a job of the current session; the slip lives only here, in
// memory, never in the store.
type printJob struct {
	id      string
	session string
	state   string
	reason  string // reason code when failed or quarantined
	result  pkb.Result
	test    bool          // a print-test page (remote command), not a taxpayer's slip
	done    chan struct{} // closed when the job ended, for print-test; nil otherwise
}

// printerLoop owns the printer: it opens it (and re-opens it after an
// unplug), polls its status every PrinterPoll, and prints the queued jobs
// between polls. One goroutine does all of it, so nothing else ever talks
// to the device.
func (a *Agent) printerLoop(ctx context.Context) {
	var (
		port   PrinterPort
		dev    *printer.Dev
		deb    = map[string]debounce{}
		cutter = true
	)
	closePort := func() {
		if port != nil {
			port.Close()
		}
		port, dev = nil, nil
	}
	defer closePort()
	poll := func() {
		if dev == nil {
			var err error
			port, err = a.cfg.OpenPrinter(ctx)
			if err != nil {
				a.setPrinter(kiosk.PrinterStatus{Paper: string(printer.PaperUnknown), Transport: a.printerTransport()}, "open: "+err.Error())
				a.applyPrinterFaults(deb, printer.Status{})
				return
			}
			opts := &printer.Opts{}
			if c, ok := port.(printer.USBClass); ok {
				opts.Class = c
			}
			dev = printer.New(port, opts)
			model, cols, cut, sensor := a.detectModel(ctx, dev)
			cutter = cut
			if sensor != nil {
				opts.NearEndSensor = sensor
				dev = printer.New(port, opts) // Dev keeps no state worth keeping yet
			}
			a.mu.Lock()
			a.printerModel, a.printerCols = model, cols
			a.mu.Unlock()
		}
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, err := dev.Status(sctx)
		cancel()
		if errors.Is(err, io.EOF) || !st.Connected {
			closePort() // unplugged: re-probe on the next poll
			st = printer.Status{}
		}
		snap := kiosk.PrinterStatus{Connected: st.Connected, Online: st.Online, Paper: string(st.Paper),
			CoverOpen: st.CoverOpen, Error: st.Error, Transport: a.printerTransport()}
		if snap.Paper == "" {
			snap.Paper = string(printer.PaperUnknown)
		}
		a.setPrinter(snap, "")
		a.applyPrinterFaults(deb, st)
	}
	t := time.NewTicker(a.cfg.PrinterPoll)
	defer t.Stop()
	poll()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			poll()
		case j := <-a.jobs:
			if dev == nil {
				a.finishJob(ctx, j, evStart, "")
				a.finishJob(ctx, j, evFailed, "offline")
				continue
			}
			lost := a.runJob(ctx, dev, port, j, cutter)
			if lost {
				closePort()
			}
			poll() // the state after the job, at once
		}
	}
}

func (a *Agent) printerTransport() string {
	if a.cfg.PrinterTransport != "" {
		return a.cfg.PrinterTransport
	}
	return "none"
}

// detectModel names the printer and picks the slip width, the cutter and
// whether the roll has a near-end sensor (nil: learn it). Configuration
// wins over what the printer says; without either the slip is 32 columns
// (the narrowest common paper, so nothing is cut off).
func (a *Agent) detectModel(ctx context.Context, dev *printer.Dev) (name string, cols int, cutter bool, sensor *bool) {
	cols, cutter = 32, true
	var m models.Model
	found := false
	if a.cfg.PrinterModel != "" {
		m, found = models.Lookup(a.cfg.PrinterModel)
		name = m.Vendor + " " + m.Name
	} else {
		mctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		n, err := dev.Model(mctx)
		cancel()
		if err == nil {
			name = n
			fields := strings.Fields(n)
			id := "MDL:" + n + ";"
			if len(fields) > 1 {
				id = "MFG:" + fields[0] + ";MDL:" + strings.Join(fields[1:], " ") + ";"
			}
			m, found = models.Match(id)
		}
	}
	if found {
		if c := m.FontAColumns(); c > 0 {
			cols = c
		}
		cutter = m.Cutter
		if m.Status.NearEndSensor {
			sensor = new(true)
		}
	}
	if a.cfg.PrinterColumns > 0 {
		cols = a.cfg.PrinterColumns
	}
	switch a.cfg.NearEndSensor {
	case "yes":
		sensor = new(true)
	case "no":
		sensor = new(false)
	}
	a.log.Info("printer", "model", strings.TrimSpace(name), "columns", cols, "cutter", cutter, "near_end_sensor", a.cfg.NearEndSensor)
	return strings.TrimSpace(name), cols, cutter, sensor
}

func (a *Agent) setPrinter(p kiosk.PrinterStatus, why string) {
	a.mu.Lock()
	p.Model, p.Columns = a.printerModel, a.printerCols
	if !p.Connected {
		p.Model = ""
	}
	changed := p != a.printer
	a.printer = p
	a.mu.Unlock()
	if changed {
		if why != "" {
			a.log.Warn("printer not available", "why", why)
		}
		a.notify()
	}
}

func (a *Agent) applyPrinterFaults(deb map[string]debounce, st printer.Status) {
	a.applyFaults(deb, conditions(st))
}

// runJob prints one job; it reports whether the device was lost.
func (a *Agent) runJob(ctx context.Context, dev *printer.Dev, port PrinterPort, j *printJob, cutter bool) (lost bool) {
	if !j.test && !a.sessionIs(j.session) {
		a.finishJob(ctx, j, evAbandoned, "abandoned")
		return false
	}
	if !a.finishJob(ctx, j, evStart, "") { // stored as printing before a byte is sent
		return false
	}
	a.mu.Lock()
	cols := a.printerCols
	a.mu.Unlock()
	render := a.renderSlip
	if j.test {
		render = func(_ pkb.Result, cols int, cutter bool) ([]byte, error) { return a.renderTestPage(cols, cutter) }
	}
	data, err := render(j.result, cols, cutter)
	if err != nil {
		a.log.Error("slip", "err", err)
		a.finishJob(ctx, j, evFailed, "fault")
		return false
	}
	pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	err = dev.Print(pctx, data)
	cancel()
	switch {
	case err == nil:
		a.finishJob(ctx, j, evPrinted, "")
		return false
	case errors.Is(err, io.EOF):
		a.log.Warn("printer lost during a job", "job", j.id, "err", err)
		a.finishJob(ctx, j, evLost, "lost")
		return true
	}
	reason := "fault"
	switch {
	case errors.Is(err, printer.ErrPaperOut):
		reason = "paper_out"
	case errors.Is(err, printer.ErrCoverOpen):
		reason = "cover_open"
	case errors.Is(err, printer.ErrOffline):
		reason = "offline"
	}
	a.log.Warn("print job failed", "job", j.id, "reason", reason, "err", err)
	// Whatever part of the slip the printer buffered must not come out
	// when paper is loaded, for the next person (domain/printers.md 8):
	// DLE ENQ 2 recovers and clears the receive and print buffers.
	port.Write(escpos.Recover(true))
	a.finishJob(ctx, j, evFailed, reason)
	return false
}

// renderSlip lays out the slip and encodes it as ESC/POS.
func (a *Agent) renderSlip(r pkb.Result, cols int, cutter bool) ([]byte, error) {
	lines, err := slip.Render(r, slip.Options{Columns: cols, Office: a.cfg.OfficeName, TZ: a.cfg.TZ})
	if err != nil {
		return nil, err
	}
	b := new(escpos.Builder).Init().CodePage(0)
	for _, l := range lines {
		b.Line(l)
	}
	if cutter {
		b.Cut(true, 4)
	} else {
		b.Feed(6) // no cutter: feed past the tear bar
	}
	return b.Bytes()
}

// finishJob moves j with ev, storing the new state before anything else
// happens; it reports whether the move was valid.
func (a *Agent) finishJob(ctx context.Context, j *printJob, ev jobEvent, reason string) bool {
	a.mu.Lock()
	next, err := nextJob(j.state, ev)
	if err == nil {
		j.state, j.reason = next, reason
	}
	a.mu.Unlock()
	if err != nil {
		a.log.Error("print job", "job", j.id, "err", err)
		return false
	}
	now := a.cfg.Now()
	if err := a.store.JobPut(ctx, outbox.Job{ID: j.id, State: next, Reason: reason, CreatedAt: now, UpdatedAt: now}); err != nil {
		a.log.Warn("print job not stored", "job", j.id, "err", err)
	}
	if next == jobDone && !j.test {
		a.countPrint()
	}
	if j.done != nil && (next == jobDone || next == jobFailed || next == jobQuarantined) {
		close(j.done)
	}
	if next == jobPrinting || ev == evPrinted || ev == evFailed || ev == evLost {
		a.notify() // mode printing on and off
	}
	return true
}

func (a *Agent) sessionIs(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.session != nil && a.session.id == id
}

// print queues a slip of a result shown in the current session.
func (a *Agent) print(ctx context.Context, plate string) (string, *kiosk.Error) {
	if a.inMaintenance() {
		return "", &kiosk.Error{Code: kiosk.CodeMaintenance}
	}
	a.touchSession()
	a.mu.Lock()
	sess := a.session
	var raw []byte
	if sess != nil {
		raw = sess.results[plate]
	}
	ready := printReady(a.printer)
	over := sess != nil && sess.prints >= a.cfg.PrintAttempts
	a.mu.Unlock()
	switch {
	case raw == nil:
		return "", &kiosk.Error{Code: kiosk.CodeNotLookedUp}
	case a.cfg.OpenPrinter == nil || !ready:
		return "", &kiosk.Error{Code: kiosk.CodePrinterUnavailable}
	case over:
		return "", &kiosk.Error{Code: kiosk.CodePrintLimit}
	}
	var res pkb.Result
	if err := json.Unmarshal(raw, &res); err != nil {
		return "", &kiosk.Error{Code: kiosk.CodePrinterUnavailable}
	}
	id := make([]byte, 8)
	rand.Read(id)
	j := &printJob{id: hex.EncodeToString(id), session: sess.id, state: jobQueued, result: res}
	now := a.cfg.Now()
	if err := a.store.JobPut(ctx, outbox.Job{ID: j.id, State: jobQueued, CreatedAt: now, UpdatedAt: now}); err != nil {
		a.log.Warn("print job not stored", "err", err)
	}
	a.mu.Lock()
	if a.session != sess {
		a.mu.Unlock()
		return "", &kiosk.Error{Code: kiosk.CodeNotLookedUp}
	}
	sess.prints++
	sess.jobs[j.id] = j
	a.mu.Unlock()
	select {
	case a.jobs <- j:
	default:
		a.finishJob(ctx, j, evAbandoned, "fault")
	}
	return j.id, nil
}

// printJob returns a job of the current session.
func (a *Agent) printJob(id string) (ui.PrintJob, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.session == nil {
		return ui.PrintJob{}, false
	}
	j, ok := a.session.jobs[id]
	if !ok {
		return ui.PrintJob{}, false
	}
	state := j.state
	if state == jobQuarantined {
		state = jobFailed // for the taxpayer it did not work
	}
	return ui.PrintJob{Job: j.id, State: state, Error: j.reason}, true
}

// printing reports whether a job is being printed now.
func (a *Agent) printingLocked() bool {
	if a.session == nil {
		return false
	}
	for _, j := range a.session.jobs {
		if j.state == jobPrinting {
			return true
		}
	}
	return false
}

// renderTestPage lays out the print-test page: enough to check the
// printer, the paper width and the cutter from the data centre, and
// nothing about any taxpayer.
func (a *Agent) renderTestPage(cols int, cutter bool) ([]byte, error) {
	if cols <= 0 {
		cols = 32
	}
	a.mu.Lock()
	model := a.printerModel
	a.mu.Unlock()
	ruler := strings.Repeat("1234567890", cols/10+1)[:cols]
	lines := []string{
		strings.Repeat("=", cols),
		"TES CETAK / TEST PRINT",
		a.cfg.OfficeName,
		"Kiosk : " + a.cfg.ID,
		"Model : " + model,
		fmt.Sprintf("Kolom : %d", cols),
		"Waktu : " + a.cfg.Now().In(a.cfg.TZ).Format("02-01-2006 15:04") + " WIB",
		ruler,
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
		"abcdefghijklmnopqrstuvwxyz",
		"0123456789 Rp.,-/()",
		strings.Repeat("=", cols),
	}
	b := new(escpos.Builder).Init().CodePage(0)
	for _, l := range lines {
		if len(l) > cols {
			l = l[:cols]
		}
		b.Line(l)
	}
	if cutter {
		b.Cut(true, 4)
	} else {
		b.Feed(6)
	}
	return b.Bytes()
}
