package agent_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
	"github.com/sumbar-samsat/pkbkiosk/printer/printerdev"
	"github.com/sumbar-samsat/pkbkiosk/printer/printersim"
	"github.com/sumbar-samsat/pkbkiosk/sync/lookup/sample"
	"github.com/sumbar-samsat/pkbkiosk/sync/outbox"
)

// faultLog records the agent's fault changes in order.
type faultLog struct {
	mu  sync.Mutex
	log []string // "+code" raised, "-code" cleared
}

func (f *faultLog) on(code string, raised bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sign := "-"
	if raised {
		sign = "+"
	}
	f.log = append(f.log, sign+code)
}

func (f *faultLog) count(entry string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, e := range f.log {
		if e == entry {
			n++
		}
	}
	return n
}

func (f *faultLog) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.log, " ")
}

// simEnv is an env whose agent prints on a printersim over a real pty
// (the serial path through tarm/serial) or TCP.
type simEnv struct {
	*env
	sim    *printersim.Sim
	faults *faultLog
}

func newSimEnv(t testing.TB, transport string, opts ...envOpt) *simEnv {
	t.Helper()
	sim, err := printersim.Start(printersim.Config{PTY: filepath.Join(t.TempDir(), "printer0"), TCP: "127.0.0.1:0", Model: "epson"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	spec := printerdev.Spec{Kind: "serial", Path: sim.PTYLink(), Baud: 9600}
	if transport == "tcp" {
		spec = printerdev.Spec{Kind: "tcp", Addr: sim.TCPAddr()}
	}
	fl := &faultLog{}
	e := newEnv(t, append([]envOpt{func(h *hubserver.Config, a *agent.Config) {
		a.Now, h.Now = nil, nil // debouncing and clearing run on real time
		a.PrinterTransport = spec.Kind
		a.OpenPrinter = func(ctx context.Context) (agent.PrinterPort, error) { return printerdev.Open(ctx, spec) }
		a.PrinterPoll = 250 * time.Millisecond
		// The simulated "epson" is a TM-T88-class printer with the sensor.
		a.PrinterModel, a.NearEndSensor = "TM-T88V", "yes"
		a.OnFault = fl.on
	}}, opts...)...)
	se := &simEnv{env: e, sim: sim, faults: fl}
	se.waitPrinter(func(p printerStatus) bool { return p.Connected && p.Paper == "ok" })
	return se
}

type printerStatus struct {
	Connected bool   `json:"connected"`
	Online    bool   `json:"online"`
	Paper     string `json:"paper"`
	CoverOpen bool   `json:"cover_open"`
	Error     string `json:"error"`
	Columns   int    `json:"columns"`
	Transport string `json:"transport"`
}

func (e *simEnv) printer() printerStatus {
	var st struct {
		Printer printerStatus `json:"printer"`
	}
	e.get("/api/status", &st)
	return st.Printer
}

func (e *simEnv) waitPrinter(ok func(printerStatus) bool) printerStatus {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		p := e.printer()
		if ok(p) {
			return p
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("printer status never matched: %+v", p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// printSlip looks v up in a new session and prints it; it returns the job's
// final state and error text.
func (e *simEnv) printSlip(v sample.Sample) (state, errText string) {
	e.t.Helper()
	if code, _, _ := e.post("/api/session", nil, 2*time.Second); code != 200 {
		e.t.Fatalf("session: %d", code)
	}
	if code, m := e.lookup(v.Plate, v.Rangka5); code != 200 {
		e.t.Fatalf("lookup: %d %v", code, m)
	}
	code, m, _ := e.post("/api/print", map[string]string{"plate": v.Plate}, 2*time.Second)
	if code != 202 {
		return fmt.Sprint(code), errCode(m)
	}
	job, _ := m["job"].(string)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var j struct {
			State string `json:"state"`
			Error string `json:"error"`
		}
		e.get("/api/print/"+job, &j)
		if j.State == "done" || j.State == "failed" {
			return j.State, j.Error
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatal("print job never finished")
	return "", ""
}

func TestPrintSlipSerial(t *testing.T) { testPrintSlip(t, "serial") }
func TestPrintSlipTCP(t *testing.T)    { testPrintSlip(t, "tcp") }

func testPrintSlip(t *testing.T, transport string) {
	e := newSimEnv(t, transport)
	if p := e.printer(); p.Transport != transport || p.Columns != 42 {
		t.Errorf("printer status = %+v; want transport %s and 42 columns (the simulated TM-T88-class model)", p, transport)
	}
	v := e.sample(sample.Late)
	state, errText := e.printSlip(v)
	if state != "done" {
		t.Fatalf("print job = %s %q, want done", state, errText)
	}
	out := e.sim.Output()
	for _, want := range []string{"INFORMASI PAJAK KENDARAAN", "UPTD PPD PADANG", v.Plate, "JUMLAH", "Bukan bukti pembayaran.", "--- CUT ---"} {
		if !strings.Contains(out, want) {
			t.Errorf("printed output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, v.Rangka5) {
		t.Error("the slip contains the rangka5")
	}
	for _, l := range strings.Split(out, "\n") {
		if len(l) > 42 {
			t.Errorf("printed line wider than 42 columns: %q", l)
		}
	}
}

// TestPrinterFaults: each printer condition raises its fault exactly once
// (after two polls) and clears it exactly once (3 s after it ended); an
// unplugged printer is missing and recovers on replug.
func TestPrinterFaults(t *testing.T) {
	for _, tt := range []struct {
		name  string
		state printersim.State
		fault string
	}{
		{"near end", printersim.State{Paper: "near_end"}, "printer.paper_near_end"},
		{"paper out", printersim.State{Paper: "out"}, "printer.paper_out"},
		{"cover open", printersim.State{Paper: "ok", CoverOpen: true}, "printer.cover_open"},
		{"offline", printersim.State{Paper: "ok", Offline: true}, "printer.offline"},
		{"cutter error", printersim.State{Paper: "ok", Error: "cutter"}, "printer.error"},
		{"unplugged", printersim.State{Paper: "ok", Unplugged: true}, "printer.missing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newSimEnv(t, "serial")
			if err := e.sim.SetState(tt.state); err != nil {
				t.Fatal(err)
			}
			e.waitFault(tt.fault, true)
			time.Sleep(time.Second) // more polls with the condition: still raised once
			if err := e.sim.SetState(printersim.State{Paper: "ok"}); err != nil {
				t.Fatal(err)
			}
			e.waitFault(tt.fault, false)
			time.Sleep(time.Second)
			if n := e.faults.count("+" + tt.fault); n != 1 {
				t.Errorf("%s raised %d times (log %s), want once", tt.fault, n, e.faults)
			}
			if n := e.faults.count("-" + tt.fault); n != 1 {
				t.Errorf("%s cleared %d times (log %s), want once", tt.fault, n, e.faults)
			}
			for _, entry := range strings.Fields(e.faults.String()) {
				if entry[1:] != tt.fault {
					t.Errorf("unexpected fault change %s (log %s)", entry, e.faults)
				}
			}
			// And the printer works again.
			e.waitPrinter(func(p printerStatus) bool { return p.Connected && p.Online && p.Paper == "ok" })
			if state, why := e.printSlip(e.sample(sample.Paid)); state != "done" {
				t.Errorf("print after recovery = %s %q, want done", state, why)
			}
		})
	}
}

// TestPrintRefusedWithoutPaper: "Cetak" is refused while the paper is out,
// and a job that meets an empty roll fails with a clear reason and prints
// nothing later when paper is loaded.
func TestPrintRefusedWithoutPaper(t *testing.T) {
	e := newSimEnv(t, "serial")
	v := e.sample(sample.Paid)
	if err := e.sim.SetState(printersim.State{Paper: "out"}); err != nil {
		t.Fatal(err)
	}
	e.waitPrinter(func(p printerStatus) bool { return p.Paper == "out" })
	if state, code := e.printSlip(v); state != "409" || code != "printer_unavailable" {
		t.Errorf("print with no paper = %s %s, want 409 printer_unavailable", state, code)
	}
	if e.sim.Output() != "" {
		t.Errorf("something was printed: %q", e.sim.Output())
	}
}

func TestPrintLimitPerSession(t *testing.T) {
	e := newSimEnv(t, "serial", func(h *hubserver.Config, a *agent.Config) { a.PrintAttempts = 2 })
	v := e.sample(sample.Paid)
	if state, _ := e.printSlip(v); state != "done" {
		t.Fatalf("first print: %s", state)
	}
	code, m, _ := e.post("/api/print", map[string]string{"plate": v.Plate}, 2*time.Second)
	if code != 202 {
		t.Fatalf("second print: %d %v", code, m)
	}
	code, m, _ = e.post("/api/print", map[string]string{"plate": v.Plate}, 2*time.Second)
	if code != 429 || errCode(m) != "print_limit" {
		t.Errorf("third print in the session = %d %v, want 429 print_limit", code, m)
	}
	// A plate not looked up in this session is never printed.
	code, m, _ = e.post("/api/print", map[string]string{"plate": "BA 1 A"}, 2*time.Second)
	if code != 409 || errCode(m) != "not_looked_up" {
		t.Errorf("print of another plate = %d %v, want 409 not_looked_up", code, m)
	}
}

func TestPrintJobsInterruptedAreFailedAtStart(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, func(h *hubserver.Config, a *agent.Config) { a.Data = dir })
	e.agentStop()
	// A job left "printing" by a power cut.
	putJob(t, filepath.Join(dir, "kiosk.db"), "j1", "printing")
	e2 := e.restartAgent()
	if got := jobState(t, e2, "j1"); got != "failed" {
		t.Errorf("interrupted job after restart = %s, want failed", got)
	}
}

func putJob(t *testing.T, dbFile, id, state string) {
	t.Helper()
	s, err := outbox.Open(t.Context(), dbFile)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	if err := s.JobPut(t.Context(), outbox.Job{ID: id, State: state, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
}

func jobState(t *testing.T, e *env, id string) string {
	t.Helper()
	s, err := outbox.Open(t.Context(), filepath.Join(e.agentDir, "kiosk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	j, err := s.JobGet(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j.State
}

// TestPaperOutDuringJob: the roll ends while a slip is being sent (a slow
// printer, so the job spans several status checks): the job fails with the
// paper-out reason, and when paper is loaded nothing more comes out; the
// taxpayer may ask again in the same session.
func TestPaperOutDuringJob(t *testing.T) {
	e := newSimEnv(t, "serial")
	v := e.sample(sample.LateOverYear)
	if code, _, _ := e.post("/api/session", nil, 2*time.Second); code != 200 {
		t.Fatal(code)
	}
	if code, m := e.lookup(v.Plate, v.Rangka5); code != 200 {
		t.Fatalf("lookup: %d %v", code, m)
	}
	if err := e.sim.SetState(printersim.State{Paper: "ok", SlowMS: 150}); err != nil {
		t.Fatal(err)
	}
	code, m, _ := e.post("/api/print", map[string]string{"plate": v.Plate}, 2*time.Second)
	if code != 202 {
		t.Fatalf("print: %d %v", code, m)
	}
	job, _ := m["job"].(string)
	// Wait until the job is being printed, then the paper runs out.
	waitJob := func(want ...string) map[string]string {
		deadline := time.Now().Add(20 * time.Second)
		for {
			var j map[string]string
			e.get("/api/print/"+job, &j)
			if slices.Contains(want, j["state"]) {
				return j
			}
			if time.Now().After(deadline) {
				t.Fatalf("job state %v, want one of %v", j, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitJob("printing")
	if err := e.sim.SetState(printersim.State{Paper: "out", SlowMS: 150}); err != nil {
		t.Fatal(err)
	}
	j := waitJob("done", "failed")
	if j["state"] != "failed" || !strings.Contains(j["error"], "Kertas") {
		t.Fatalf("job = %v; want failed with the paper-out message", j)
	}
	printed := e.sim.Output()
	if strings.Contains(printed, "Bukan bukti pembayaran.") {
		t.Fatalf("the whole slip came out although the paper ran out:\n%s", printed)
	}
	// Paper loaded: nothing of the failed slip comes out later.
	if err := e.sim.SetState(printersim.State{Paper: "ok"}); err != nil {
		t.Fatal(err)
	}
	e.waitPrinter(func(p printerStatus) bool { return p.Paper == "ok" })
	time.Sleep(time.Second)
	if got := e.sim.Output(); got != printed {
		t.Errorf("after loading paper more was printed:\n%s", strings.TrimPrefix(got, printed))
	}
	// The taxpayer asks again: a new job, printed in full.
	code, m, _ = e.post("/api/print", map[string]string{"plate": v.Plate}, 2*time.Second)
	if code != 202 {
		t.Fatalf("second print: %d %v", code, m)
	}
	job, _ = m["job"].(string)
	if j := waitJob("done", "failed"); j["state"] != "done" {
		t.Errorf("second job = %v, want done", j)
	}
	if !strings.Contains(e.sim.Output(), "Bukan bukti pembayaran.") {
		t.Error("the second slip did not come out")
	}
}
