package printer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/printer/escpos"
	"github.com/sumbar-samsat/pkbkiosk/printer/printertest"
)

func ptr[T any](v T) *T { return &v }

// statusOps scripts one Status: DLE EOT 1..4 answered with r.
func statusOps(r1, r2, r3, r4 byte) []printertest.Op {
	return []printertest.Op{
		{W: []byte{0x10, 0x04, 0x01}, R: []byte{r1}},
		{W: []byte{0x10, 0x04, 0x02}, R: []byte{r2}},
		{W: []byte{0x10, 0x04, 0x03}, R: []byte{r3}},
		{W: []byte{0x10, 0x04, 0x04}, R: []byte{r4}},
	}
}

var healthyOps = statusOps(0x12, 0x12, 0x12, 0x12)

func loadTranscript(t testing.TB, name string) []printertest.Op {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ops, _, err := printertest.LoadTranscript(f) // fails without a provenance header
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ops
}

func closePlayback(t *testing.T, pb *printertest.Playback) {
	t.Helper()
	if err := pb.Close(); err != nil {
		t.Errorf("Playback.Close() = %v", err)
	}
}

// TestStatusTranscripts runs Status against the synthesised transcripts
// of domain/printers.md 3 in testdata.
func TestStatusTranscripts(t *testing.T) {
	for _, tt := range []struct {
		file string
		want Status
	}{
		{"healthy.txt", Status{Connected: true, Online: true, Paper: PaperOK}},
		{"healthy-drawer-high.txt", Status{Connected: true, Online: true, Paper: PaperOK}},
		{"near-end.txt", Status{Connected: true, Online: true, Paper: PaperNearEnd}},
		{"paper-out.txt", Status{Connected: true, Online: false, Paper: PaperOut}},
		{"cover-open.txt", Status{Connected: true, Online: false, Paper: PaperOK, CoverOpen: true}},
		{"cutter-error.txt", Status{Connected: true, Online: false, Paper: PaperOK, Error: "cutter"}},
		{"offline.txt", Status{Connected: true, Online: false, Paper: PaperOK}},
		{"asb-paper-out.txt", Status{Connected: true, Online: false, Paper: PaperOut}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			pb := &printertest.Playback{Ops: loadTranscript(t, tt.file)}
			got, err := New(pb, &Opts{NearEndSensor: ptr(true)}).Status(t.Context())
			if err != nil || got != tt.want {
				t.Errorf("Status() = %+v, %v; want %+v", got, err, tt.want)
			}
			closePlayback(t, pb)
		})
	}
}

func TestStatusUnplugMidQuery(t *testing.T) {
	pb := &printertest.Playback{Ops: loadTranscript(t, "unplug.txt")}
	got, err := New(pb, nil).Status(t.Context())
	if !errors.Is(err, io.EOF) || got.Connected {
		t.Errorf("Status() = %+v, %v; want Connected false and an error wrapping io.EOF", got, err)
	}
	closePlayback(t, pb)
}

func TestStatusWriteFails(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"io.EOF", io.EOF},
		{"other error counts as gone", errors.New("write /dev/usb/lp0: no such device")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pb := &printertest.Playback{Ops: []printertest.Op{{Err: tt.err}}}
			got, err := New(pb, nil).Status(t.Context())
			if !errors.Is(err, io.EOF) || got.Connected {
				t.Errorf("Status() = %+v, %v; want Connected false and an error wrapping io.EOF", got, err)
			}
			closePlayback(t, pb)
		})
	}
}

// TestStatusNoReply: one-way printers (domain/printers.md 7-8).
func TestStatusNoReply(t *testing.T) {
	query1 := []printertest.Op{{W: []byte{0x10, 0x04, 0x01}}}
	unknown := Status{Connected: true, Online: true, Paper: PaperUnknown}
	for _, tt := range []struct {
		name      string
		ops       []printertest.Op
		class     *printertest.Class
		want      Status
		wantErr   error // nil: no error
		wantCalls int
	}{
		{"no class: unknown and ErrNoStatus", query1, nil, unknown, ErrNoStatus, 0},
		{"class: port status ok", query1, &printertest.Class{Port: 0x18}, unknown, nil, 1},
		{"class: paper empty", query1, &printertest.Class{Port: 0x38}, Status{Connected: true, Paper: PaperOut}, nil, 1},
		{"class: not selected", query1, &printertest.Class{Port: 0x08}, Status{Connected: true, Paper: PaperUnknown}, nil, 1},
		{"class fails: unknown and ErrNoStatus", query1, &printertest.Class{Err: errors.New("not supported")}, unknown, ErrNoStatus, 1},
		{"class gone", query1, &printertest.Class{Err: io.EOF}, Status{}, io.EOF, 1},
		{"reply to 1, none to 2", []printertest.Op{
			{W: []byte{0x10, 0x04, 0x01}, R: []byte{0x12}},
			{W: []byte{0x10, 0x04, 0x02}},
		}, &printertest.Class{Port: 0x18}, unknown, ErrNoStatus, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				pb := &printertest.Playback{Ops: tt.ops, Timeout: 100 * time.Millisecond}
				o := &Opts{}
				if tt.class != nil {
					o.Class = tt.class
				}
				start := time.Now()
				got, err := New(pb, o).Status(t.Context())
				if took := time.Since(start); took < DefaultReplyTimeout || took > 2*DefaultReplyTimeout {
					t.Errorf("Status() took %v, want about the reply timeout %v", took, DefaultReplyTimeout)
				}
				if got != tt.want || (tt.wantErr == nil) != (err == nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
					t.Errorf("Status() = %+v, %v; want %+v, %v", got, err, tt.want, tt.wantErr)
				}
				if tt.class != nil && tt.class.Calls() != tt.wantCalls {
					t.Errorf("class requests = %d, want %d", tt.class.Calls(), tt.wantCalls)
				}
				closePlayback(t, pb)
			})
		})
	}
}

// TestStatusLateReply: a reply after some timed-out reads still counts.
func TestStatusLateReply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ops := []printertest.Op{
			{W: []byte{0x10, 0x04, 0x01}, Err: os.ErrDeadlineExceeded}, // one read times out
			{R: []byte{0x12}},
		}
		ops = append(ops, healthyOps[1:]...)
		pb := &printertest.Playback{Ops: ops}
		got, err := New(pb, &Opts{NearEndSensor: ptr(true)}).Status(t.Context())
		if err != nil || got.Paper != PaperOK || !got.Online {
			t.Errorf("Status() = %+v, %v; want healthy", got, err)
		}
		closePlayback(t, pb)
	})
}

// zeroPort returns (0, nil) from every Read: the driver must not spin.
type zeroPort struct {
	mu    sync.Mutex
	reads int
}

func (z *zeroPort) Read([]byte) (int, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.reads++
	return 0, nil
}
func (z *zeroPort) Write(b []byte) (int, error) { return len(b), nil }

func TestStatusDoesNotSpin(t *testing.T) {
	maxReads := int(DefaultReplyTimeout/minPoll) + 2
	t.Run("Read returns 0, nil", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			z := &zeroPort{}
			_, err := New(z, nil).Status(t.Context())
			if !errors.Is(err, ErrNoStatus) {
				t.Errorf("Status() error = %v, want ErrNoStatus", err)
			}
			if z.reads > maxReads {
				t.Errorf("%d reads in %v, want at most %d", z.reads, DefaultReplyTimeout, maxReads)
			}
		})
	})
	t.Run("stopped clock", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			z := &zeroPort{}
			frozen := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
			_, err := New(z, &Opts{Now: func() time.Time { return frozen }}).Status(t.Context())
			if !errors.Is(err, ErrNoStatus) || z.reads > maxReads {
				t.Errorf("Status() = %v after %d reads; want ErrNoStatus after at most %d", err, z.reads, maxReads)
			}
		})
	})
}

func TestStatusContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	pb := &printertest.Playback{}
	if _, err := New(pb, nil).Status(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Status(cancelled) error = %v, want context.Canceled", err)
	}
	closePlayback(t, pb)

	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := New(printertest.Discard{}, nil).Status(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Status(50 ms deadline) error = %v, want context.DeadlineExceeded", err)
		}
	})
}

// TestStatusNearEndSensor: Opts.NearEndSensor and learning the sensor.
func TestStatusNearEndSensor(t *testing.T) {
	healthy, near := statusOps(0x12, 0x12, 0x12, 0x12), statusOps(0x12, 0x12, 0x12, 0x1E)
	for _, tt := range []struct {
		name   string
		sensor *bool
		want   []Paper // healthy, near end, healthy
	}{
		{"nil learns the sensor", nil, []Paper{PaperUnknown, PaperNearEnd, PaperOK}},
		{"true", ptr(true), []Paper{PaperOK, PaperNearEnd, PaperOK}},
		{"false", ptr(false), []Paper{PaperUnknown, PaperNearEnd, PaperUnknown}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var ops []printertest.Op
			ops = append(append(append(ops, healthy...), near...), healthy...)
			pb := &printertest.Playback{Ops: ops}
			d := New(pb, &Opts{NearEndSensor: tt.sensor})
			for i, want := range tt.want {
				got, err := d.Status(t.Context())
				if err != nil || got.Paper != want {
					t.Errorf("Status() #%d = %+v, %v; want paper %s", i+1, got, err, want)
				}
			}
			closePlayback(t, pb)
		})
	}
}

func TestLastASB(t *testing.T) {
	pb := &printertest.Playback{Ops: loadTranscript(t, "asb-paper-out.txt")}
	d := New(pb, &Opts{NearEndSensor: ptr(true)})
	if _, _, ok := d.LastASB(); ok {
		t.Error("LastASB() before any read: ok, want none")
	}
	if _, err := d.Status(t.Context()); err != nil {
		t.Fatal(err)
	}
	st, at, ok := d.LastASB()
	want := Status{Connected: true, Online: false, Paper: PaperOut}
	if !ok || st != want || at.IsZero() {
		t.Errorf("LastASB() = %+v, %v, %v; want %+v", st, at, ok, want)
	}
	closePlayback(t, pb)
}

// printOps scripts a Print of job in chunks, with a healthy status check
// before and after each checked chunk.
func printOps(chunks ...[]byte) []printertest.Op {
	ops := append([]printertest.Op(nil), healthyOps...)
	for _, c := range chunks {
		ops = append(ops, printertest.Op{W: c})
		ops = append(ops, healthyOps...)
	}
	return ops
}

func TestPrintChunks(t *testing.T) {
	job := bytes.Repeat([]byte("PKB pokok 1.250.000\n"), 30) // 600 bytes
	pb := &printertest.Playback{Ops: printOps(job[:256], job[256:512], job[512:])}
	if err := New(pb, nil).Print(t.Context(), job); err != nil {
		t.Errorf("Print() = %v", err)
	}
	closePlayback(t, pb)
}

func TestPrintKeepsQRWhole(t *testing.T) {
	var b escpos.Builder
	job, err := b.Init().QR(strings.Repeat("x", 300), 6, escpos.ECLow).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	// 27 bytes of setup, then the 308-byte store in two pieces with no
	// query between them, then the print command.
	ops := printOps(job[:27])
	ops = append(ops, printertest.Op{W: job[27 : 27+256]}, printertest.Op{W: job[27+256 : 27+308]})
	ops = append(ops, healthyOps...)
	ops = append(ops, printertest.Op{W: job[27+308:]})
	ops = append(ops, healthyOps...)
	pb := &printertest.Playback{Ops: ops}
	if err := New(pb, nil).Print(t.Context(), job); err != nil {
		t.Errorf("Print() = %v", err)
	}
	closePlayback(t, pb)
}

func TestPrintRefuses(t *testing.T) {
	job := []byte("BA 1234 QR\n")
	for _, tt := range []struct {
		name    string
		ops     []printertest.Op
		want    error
		wantMsg string
	}{
		{"paper out before", statusOps(0x1A, 0x32, 0x12, 0x7E), ErrPaperOut, ""},
		{"paper end only in DLE EOT 4 (printer stays online)", statusOps(0x12, 0x12, 0x12, 0x32), ErrPaperOut, ""},
		{"cover open before", statusOps(0x1A, 0x16, 0x12, 0x12), ErrCoverOpen, ""},
		{"cutter error before", statusOps(0x1A, 0x52, 0x1A, 0x12), ErrOffline, "cutter error"},
		{"offline before", statusOps(0x1A, 0x12, 0x12, 0x12), ErrOffline, ""},
		{"paper out after", append(append(append([]printertest.Op(nil), healthyOps...), printertest.Op{W: job}),
			statusOps(0x1A, 0x32, 0x12, 0x7E)...), ErrPaperOut, "after 11 of 11 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pb := &printertest.Playback{Ops: tt.ops}
			err := New(pb, nil).Print(t.Context(), job)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Print() = %v; want %v containing %q", err, tt.want, tt.wantMsg)
			}
			closePlayback(t, pb)
		})
	}
}

// TestPrintStopsAtPaperOut: the check after the first chunk says paper
// out, so the rest of the job is not sent (Playback would fail on it).
func TestPrintStopsAtPaperOut(t *testing.T) {
	job := bytes.Repeat([]byte("x"), 600)
	ops := append([]printertest.Op(nil), healthyOps...)
	ops = append(ops, printertest.Op{W: job[:256]})
	ops = append(ops, statusOps(0x1A, 0x32, 0x12, 0x7E)...)
	pb := &printertest.Playback{Ops: ops}
	err := New(pb, nil).Print(t.Context(), job)
	if !errors.Is(err, ErrPaperOut) || !strings.Contains(err.Error(), "after 256 of 600 bytes") {
		t.Errorf("Print() = %v; want ErrPaperOut after 256 of 600 bytes", err)
	}
	closePlayback(t, pb)
}

func TestPrintOneWay(t *testing.T) {
	job := bytes.Repeat([]byte("x"), 300)
	t.Run("no class: no checks", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			pb := &printertest.Playback{Ops: []printertest.Op{
				{W: []byte{0x10, 0x04, 0x01}}, // no reply
				{W: job[:256]},
				{W: job[256:]},
			}}
			if err := New(pb, nil).Print(t.Context(), job); err != nil {
				t.Errorf("Print() = %v, want nil (one-way printers are printed to)", err)
			}
			closePlayback(t, pb)
		})
	})
	t.Run("class: port status checks", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			pb := &printertest.Playback{Ops: []printertest.Op{
				{W: []byte{0x10, 0x04, 0x01}}, // no reply
				{W: job[:256]},
				{W: job[256:]},
			}}
			class := &printertest.Class{Port: 0x18}
			if err := New(pb, &Opts{Class: class}).Print(t.Context(), job); err != nil {
				t.Errorf("Print() = %v", err)
			}
			if class.Calls() != 3 {
				t.Errorf("port status requests = %d, want 3 (before, between, after)", class.Calls())
			}
			closePlayback(t, pb)
		})
	})
	t.Run("class: paper empty before", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			pb := &printertest.Playback{Ops: []printertest.Op{{W: []byte{0x10, 0x04, 0x01}}}}
			err := New(pb, &Opts{Class: &printertest.Class{Port: 0x38}}).Print(t.Context(), job)
			if !errors.Is(err, ErrPaperOut) {
				t.Errorf("Print() = %v, want ErrPaperOut", err)
			}
			closePlayback(t, pb)
		})
	})
}

func TestPrintGone(t *testing.T) {
	job := []byte("BA 1234 QR\n")
	ops := append([]printertest.Op(nil), healthyOps...)
	ops[len(ops)-1].Err = io.EOF // unplugged after the last reply: the job write fails
	pb := &printertest.Playback{Ops: ops}
	err := New(pb, nil).Print(t.Context(), job)
	if !errors.Is(err, io.EOF) {
		t.Errorf("Print() = %v, want an error wrapping io.EOF", err)
	}
	closePlayback(t, pb)
}

// TestPrintWriteTimeout: a stalled write is explained by the status.
func TestPrintWriteTimeout(t *testing.T) {
	job := []byte("BA 1234 QR\n")
	ops := append([]printertest.Op(nil), healthyOps...)
	ops[len(ops)-1].Err = os.ErrDeadlineExceeded // returned by the job write
	ops = append(ops, statusOps(0x1A, 0x32, 0x12, 0x7E)...)
	pb := &printertest.Playback{Ops: ops}
	err := New(pb, nil).Print(t.Context(), job)
	if !errors.Is(err, ErrPaperOut) || !errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, io.EOF) {
		t.Errorf("Print() = %v, want ErrPaperOut and the write timeout, not io.EOF", err)
	}
	closePlayback(t, pb)
}

func TestModel(t *testing.T) {
	gsI := func(n byte) []byte { return []byte{0x1D, 0x49, n} }
	for _, tt := range []struct {
		name    string
		class   USBClass
		ops     []printertest.Op
		want    string
		wantErr error
	}{
		{"USB device ID", &printertest.Class{ID: "MFG:EPSON;CMD:ESC/POS;MDL:TM-T20II;CLS:PRINTER;"}, nil, "EPSON TM-T20II", nil},
		{"USB device ID without MDL: ask GS I", &printertest.Class{ID: "CLS:PRINTER;"}, []printertest.Op{
			{W: gsI(67), R: []byte("_TM-T88V\x00")},
			{W: gsI(66), R: []byte("_EPSON\x00")},
		}, "EPSON TM-T88V", nil},
		{"device ID not supported: ask GS I", &printertest.Class{Err: errors.New("stall")}, []printertest.Op{
			{W: gsI(67), R: []byte("_SRP-350\x00")},
			{W: gsI(66), R: []byte("_BIXOLON\x00")},
		}, "BIXOLON SRP-350", nil},
		{"device gone", &printertest.Class{Err: io.EOF}, nil, "", io.EOF},
		{"GS I with ASB and a status byte around it", nil, []printertest.Op{
			{W: gsI(67), R: []byte("\x10\x00\x00\x00_TM-T20II\x00\x12")},
			{W: gsI(66), R: []byte("_EPSON\x00")},
		}, "EPSON TM-T20II", nil},
		{"GS I model only", nil, []printertest.Op{
			{W: gsI(67), R: []byte("_POS58\x00")},
			{W: gsI(66)},
		}, "POS58", nil},
		{"no GS I reply", nil, []printertest.Op{{W: gsI(67)}}, "", ErrUnknownModel},
		{"empty GS I reply", nil, []printertest.Op{{W: gsI(67), R: []byte("_\x00")}}, "", ErrUnknownModel},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				pb := &printertest.Playback{Ops: tt.ops}
				got, err := New(pb, &Opts{Class: tt.class}).Model(t.Context())
				if got != tt.want || (tt.wantErr == nil) != (err == nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
					t.Errorf("Model() = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
				}
				closePlayback(t, pb)
			})
		})
	}
}

// echoPrinter answers every DLE EOT n with 12 and swallows the rest: a
// tiny healthy printer for the concurrency test.
type echoPrinter struct {
	mu      sync.Mutex
	out     []byte
	printed int
}

func (e *echoPrinter) Write(b []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(b) == 3 && b[0] == 0x10 && b[1] == 0x04 {
		e.out = append(e.out, 0x12)
	} else {
		e.printed += len(b)
	}
	return len(b), nil
}

func (e *echoPrinter) Read(b []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.out) == 0 {
		return 0, os.ErrDeadlineExceeded
	}
	n := copy(b, e.out)
	e.out = e.out[n:]
	return n, nil
}

// TestConcurrentUse: Status, Print and LastASB from several goroutines
// (run with -race); every job arrives whole.
func TestConcurrentUse(t *testing.T) {
	p := &echoPrinter{}
	d := New(p, nil)
	job := bytes.Repeat([]byte("x"), 700)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 5 {
				if err := d.Print(t.Context(), job); err != nil {
					t.Errorf("Print() = %v", err)
				}
				if _, err := d.Status(t.Context()); err != nil {
					t.Errorf("Status() = %v", err)
				}
				d.LastASB()
			}
		})
	}
	wg.Wait()
	if want := 4 * 5 * len(job); p.printed != want {
		t.Errorf("printed %d bytes, want %d", p.printed, want)
	}
}

func BenchmarkStatus(b *testing.B) {
	ops := make([]printertest.Op, 0, 4*b.N)
	for range b.N {
		ops = append(ops, healthyOps...)
	}
	pb := &printertest.Playback{Ops: ops}
	d := New(pb, nil)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if _, err := d.Status(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
