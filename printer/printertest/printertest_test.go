package printertest_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/printer"
	"github.com/sumbar-samsat/pkbkiosk/printer/printertest"
)

var (
	_ printer.Port     = (*printertest.Playback)(nil)
	_ printer.Port     = (*printertest.Record)(nil)
	_ printer.Port     = printertest.Discard{}
	_ printer.USBClass = (*printertest.Class)(nil)
)

func read(t *testing.T, r io.Reader) ([]byte, error) {
	t.Helper()
	buf := make([]byte, 64)
	n, err := r.Read(buf)
	return buf[:n], err
}

func TestPlaybackExchange(t *testing.T) {
	pb := &printertest.Playback{Ops: []printertest.Op{
		{R: []byte{0x10, 0, 0, 0}},                                 // ASB before anything
		{W: []byte{0x10, 0x04, 0x01}, R: []byte{0x16}},             // reply
		{W: []byte{0x10, 0x04, 0x02}, Err: os.ErrDeadlineExceeded}, // one timeout
		{R: []byte{0x12}},                                          // then a late reply
	}}
	if b, err := read(t, pb); err != nil || !bytes.Equal(b, []byte{0x10, 0, 0, 0}) {
		t.Errorf("Read() = % x, %v; want the ASB block", b, err)
	}
	if b, err := read(t, pb); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Read() before any write = % x, %v; want a timeout", b, err)
	}
	if _, err := pb.Write([]byte{0x10, 0x04, 0x01}); err != nil {
		t.Fatal(err)
	}
	if b, err := read(t, pb); err != nil || !bytes.Equal(b, []byte{0x16}) {
		t.Errorf("Read() = % x, %v; want 16", b, err)
	}
	if _, err := pb.Write([]byte{0x10, 0x04, 0x02}); err != nil {
		t.Fatal(err)
	}
	if b, err := read(t, pb); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Read() = % x, %v; want the scripted timeout", b, err)
	}
	if b, err := read(t, pb); err != nil || !bytes.Equal(b, []byte{0x12}) {
		t.Errorf("Read() = % x, %v; want the late 12", b, err)
	}
	if err := pb.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
}

func TestPlaybackUnexpectedWrite(t *testing.T) {
	pb := &printertest.Playback{Ops: []printertest.Op{{W: []byte{0x10, 0x04, 0x01}}}}
	_, err := pb.Write([]byte{0x10, 0x04, 0x02})
	if err == nil {
		t.Fatal("Write(10 04 02) = nil, want an error for the unexpected write")
	}
	if _, err2 := read(t, pb); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("Read() after the failure = %v, want %v", err2, err)
	}
	if cerr := pb.Close(); cerr == nil || cerr.Error() != err.Error() {
		t.Errorf("Close() = %v, want %v", cerr, err)
	}
	extra := &printertest.Playback{}
	if _, err := extra.Write([]byte{1}); err == nil || extra.Close() == nil {
		t.Error("a write after the last op must fail, and Close must report it")
	}
}

func TestPlaybackCloseReportsLeftovers(t *testing.T) {
	for _, tt := range []struct {
		name   string
		ops    []printertest.Op
		writes int  // how many of the ops' W to write
		read   bool // read once after the writes
		want   string
	}{
		{"all done", []printertest.Op{{W: []byte{1}, R: []byte{2}}}, 1, true, ""},
		{"op never happened", []printertest.Op{{W: []byte{1}, R: []byte{2}}, {W: []byte{3}}}, 1, true, "1 of 2 ops left over"},
		{"reply never read", []printertest.Op{{W: []byte{1}, R: []byte{2}}}, 1, false, "reply bytes never read"},
		{"error never returned", []printertest.Op{{W: []byte{1}, Err: errors.New("boom")}}, 1, false, "never returned"},
		{"unplug need not be seen", []printertest.Op{{W: []byte{1}, Err: io.EOF}}, 1, false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pb := &printertest.Playback{Ops: tt.ops}
			for _, op := range tt.ops[:tt.writes] {
				if _, err := pb.Write(op.W); err != nil {
					t.Fatal(err)
				}
			}
			if tt.read {
				read(t, pb)
			}
			err := pb.Close()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Close() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestPlaybackUnplugIsSticky(t *testing.T) {
	pb := &printertest.Playback{Ops: []printertest.Op{{W: []byte{1}, R: []byte{2}, Err: io.EOF}}}
	pb.Write([]byte{1})
	if b, err := read(t, pb); err != nil || !bytes.Equal(b, []byte{2}) {
		t.Errorf("Read() = % x, %v; want 02 before the unplug", b, err)
	}
	for i := range 3 {
		if _, err := read(t, pb); !errors.Is(err, io.EOF) {
			t.Errorf("Read() #%d after unplug = %v, want io.EOF", i, err)
		}
	}
	if _, err := pb.Write([]byte{1}); !errors.Is(err, io.EOF) {
		t.Errorf("Write() after unplug = %v, want io.EOF", err)
	}
	if err := pb.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
}

// TestPlaybackWriteTakesWaitingBytes: bytes the printer sent on its own
// wait in the input buffer while the host writes.
func TestPlaybackWriteTakesWaitingBytes(t *testing.T) {
	pb := &printertest.Playback{Ops: []printertest.Op{
		{R: []byte{0x10, 0, 0, 0}},
		{W: []byte{0x10, 0x04, 0x01}, R: []byte{0x12}},
	}}
	pb.Write([]byte{0x10, 0x04, 0x01})
	if b, err := read(t, pb); err != nil || !bytes.Equal(b, []byte{0x10, 0, 0, 0, 0x12}) {
		t.Errorf("Read() = % x, %v; want the ASB block then 12", b, err)
	}
	if err := pb.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
}

func TestDiscard(t *testing.T) {
	var d printertest.Discard
	if n, err := d.Write([]byte("abc")); n != 3 || err != nil {
		t.Errorf("Write() = %d, %v", n, err)
	}
	if _, err := d.Read(make([]byte, 4)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Read() = %v, want a timeout", err)
	}
}

var header = printertest.Header{
	Model:    "test printer",
	Firmware: "n/a",
	Date:     "2026-11-23",
	Source:   "synthesised in printertest_test.go, not a capture",
}

// TestRecordRoundTrip records the driver against a scripted printer,
// loads the transcript and replays it: the driver sees the same.
func TestRecordRoundTrip(t *testing.T) {
	script := []printertest.Op{
		{W: []byte{0x10, 0x04, 0x01}, R: []byte{0x18, 0x00, 0x0C, 0x00, 0x1A}},
		{W: []byte{0x10, 0x04, 0x02}, R: []byte{0x32}},
		{W: []byte{0x10, 0x04, 0x03}, R: []byte{0x12}},
		{W: []byte{0x10, 0x04, 0x04}, R: []byte{0x7E}},
		{W: []byte{0x10, 0x04, 0x01}, Err: io.EOF},
	}
	var transcript bytes.Buffer
	clock := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	rec := &printertest.Record{
		Port:       &printertest.Playback{Ops: script},
		Transcript: &transcript,
		Header:     header,
		Now:        func() time.Time { clock = clock.Add(2 * time.Millisecond); return clock },
	}
	d := printer.New(rec, nil)
	st1, err1 := d.Status(t.Context())
	_, gone1 := d.Status(t.Context())
	if rec.Err() != nil {
		t.Fatal(rec.Err())
	}
	t.Logf("transcript:\n%s", transcript.String())

	ops, h, err := printertest.LoadTranscript(bytes.NewReader(transcript.Bytes()))
	if err != nil {
		t.Fatalf("LoadTranscript: %v", err)
	}
	if h != header {
		t.Errorf("header = %+v, want %+v", h, header)
	}
	if len(ops) != len(script) {
		t.Fatalf("loaded %d ops, want %d:\n%v", len(ops), len(script), ops)
	}
	for i := range script {
		if got, want := ops[i].String(), script[i].String(); got != want {
			t.Errorf("op %d = %s, want %s", i, got, want)
		}
	}
	pb := &printertest.Playback{Ops: ops}
	d = printer.New(pb, nil)
	st2, err2 := d.Status(t.Context())
	_, gone2 := d.Status(t.Context())
	if st1 != st2 || (err1 == nil) != (err2 == nil) {
		t.Errorf("replayed Status() = %+v, %v; recorded %+v, %v", st2, err2, st1, err1)
	}
	if !errors.Is(gone1, io.EOF) || !errors.Is(gone2, io.EOF) {
		t.Errorf("unplug: recorded %v, replayed %v; want io.EOF both", gone1, gone2)
	}
	if err := pb.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
}

func TestRecordFailedWrite(t *testing.T) {
	var transcript bytes.Buffer
	rec := &printertest.Record{
		Port:       &printertest.Playback{Ops: []printertest.Op{{Err: io.EOF}}},
		Transcript: &transcript,
		Header:     header,
	}
	if _, err := rec.Write([]byte{0x10, 0x04, 0x01}); !errors.Is(err, io.EOF) {
		t.Fatalf("Write() = %v, want io.EOF", err)
	}
	ops, _, err := printertest.LoadTranscript(&transcript)
	if err != nil {
		t.Fatal(err)
	}
	pb := &printertest.Playback{Ops: ops}
	if _, err := pb.Write([]byte{0x10, 0x04, 0x01}); !errors.Is(err, io.EOF) {
		t.Errorf("replayed Write() = %v, want io.EOF", err)
	}
}

func TestLoadTranscript(t *testing.T) {
	const head = "# model: m\n# firmware: f\n# date: d\n# source: s\n"
	for _, tt := range []struct {
		name, in string
		want     []printertest.Op
		wantErr  string
	}{
		{"reply", head + "> 10 04 01  # +0.000s\n< 16\n", []printertest.Op{{W: []byte{0x10, 4, 1}, R: []byte{0x16}}}, ""},
		{"split reply joined", head + "> 10 04 01\n< 10 00\n< 00 00 12\n", []printertest.Op{{W: []byte{0x10, 4, 1}, R: []byte{0x10, 0, 0, 0, 0x12}}}, ""},
		{"unsolicited first", head + "< 10 00 00 00\n> 1d 61 0f\n", []printertest.Op{{R: []byte{0x10, 0, 0, 0}}, {W: []byte{0x1d, 0x61, 0x0f}}}, ""},
		{"errors", head + "> 01\n! timeout\n< 12\n! eof\n", []printertest.Op{
			{W: []byte{1}, Err: os.ErrDeadlineExceeded}, {R: []byte{0x12}, Err: io.EOF}}, ""},
		{"other error", head + "! stall on endpoint\n", []printertest.Op{{Err: errors.New("stall on endpoint")}}, ""},
		{"comments and blank lines", head + "\n# a note: here\n> 01\n", []printertest.Op{{W: []byte{1}}}, ""},
		{"no header", "> 01\n", nil, "lacks model, firmware, date, source"},
		{"no source", "# model: m\n# firmware: f\n# date: d\n> 01\n", nil, "lacks source"},
		{"bad hex", head + "> 1g\n", nil, "line 5"},
		{"empty write", head + ">\n", nil, "line 5"},
		{"unknown line", head + "? 01\n", nil, "line 5"},
		{"bare !", head + "!\n", nil, "line 5"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ops, _, err := printertest.LoadTranscript(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("LoadTranscript() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadTranscript() error = %v", err)
			}
			if len(ops) != len(tt.want) {
				t.Fatalf("LoadTranscript() = %v, want %v", ops, tt.want)
			}
			for i := range ops {
				if ops[i].String() != tt.want[i].String() {
					t.Errorf("op %d = %s, want %s", i, ops[i], tt.want[i])
				}
			}
		})
	}
}

// FuzzLoadTranscript: the parser never panics, and what it accepts
// survives WriteTranscript and a second load unchanged.
func FuzzLoadTranscript(f *testing.F) {
	f.Add("# model: m\n# firmware: f\n# date: d\n# source: s\n> 10 04 01\n< 16\n! eof\n")
	f.Add("# model: m\n# firmware: f\n# date: d\n# source: s\n< 10 00 00 00\n! x # y\n< 12\n")
	f.Add("> zz\n")
	f.Fuzz(func(t *testing.T, in string) {
		ops, h, err := printertest.LoadTranscript(strings.NewReader(in))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := printertest.WriteTranscript(&out, h, ops); err != nil {
			t.Fatal(err)
		}
		ops2, h2, err := printertest.LoadTranscript(&out)
		if err != nil {
			t.Fatalf("reload of\n%s: %v", out.String(), err)
		}
		if h2 != h || len(ops2) != len(ops) {
			t.Fatalf("reload: %+v %v, want %+v %v", h2, ops2, h, ops)
		}
		for i := range ops {
			if ops[i].String() != ops2[i].String() {
				t.Fatalf("reload op %d = %s, want %s", i, ops2[i], ops[i])
			}
		}
	})
}

func TestClass(t *testing.T) {
	c := &printertest.Class{ID: "MFG:X;MDL:Y;", Port: 0x18}
	if id, err := c.DeviceID(); id != "MFG:X;MDL:Y;" || err != nil {
		t.Errorf("DeviceID() = %q, %v", id, err)
	}
	if b, err := c.PortStatus(); b != 0x18 || err != nil {
		t.Errorf("PortStatus() = %#02x, %v", b, err)
	}
	if c.Calls() != 2 {
		t.Errorf("Calls() = %d, want 2", c.Calls())
	}
}
