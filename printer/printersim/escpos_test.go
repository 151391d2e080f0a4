package printersim

import (
	"bytes"
	"fmt"
	"testing"
)

// feed runs bytes through the parser of a fresh session of s (no pty, no
// TCP) and returns the replies as bytes, built as they would be sent.
func feed(t testing.TB, s *Sim, ss *session, chunks ...[]byte) []byte {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var got []byte
	for _, c := range chunks {
		for _, r := range s.feedLocked(ss, c) {
			switch {
			case r.status != 0:
				got = append(got, s.statusLocked(r.status))
			case r.asb:
				b := s.asbBlockLocked()
				got = append(got, b[:]...)
			default:
				got = append(got, r.b...)
			}
		}
	}
	return got
}

func newOffline(t testing.TB, model string) *Sim {
	t.Helper()
	s, err := Start(Config{Model: model})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestParserKeepsStep sends each command followed by text: whatever the
// command, the text must print, so its parameters were consumed exactly.
func TestParserKeepsStep(t *testing.T) {
	raster := cat([]byte{gs, 'v', '0', 0, 2, 0, 3, 0}, bytes.Repeat([]byte{'\n', 'X'}, 3)) // 2×3 bytes of data
	qr := []byte("https://example.test/pkb?plate=BA1234XY")
	for _, tt := range []struct {
		name string
		cmd  []byte
		want string // output before "OK\n"
	}{
		{"init", []byte{esc, '@'}, ""},
		{"code page", []byte{esc, 't', '\n'}, ""},
		{"bold", []byte{esc, 'E', '\n'}, ""},
		{"underline", []byte{esc, '-', '\n'}, ""},
		{"size", []byte{gs, '!', 0x00}, ""},
		{"align", []byte{esc, 'a', 0}, ""},
		{"print mode", []byte{esc, '!', '\n'}, ""},
		{"line spacing", []byte{esc, '3', '\n'}, ""},
		{"drawer kick", []byte{esc, 'p', 0, '\n', '\n'}, ""},
		{"ESC W", []byte{esc, 'W', 1, 2, 3, 4, '\n', 6, 7, 8}, ""},
		{"ESC c 5", []byte{esc, 'c', '5', '\n'}, ""},
		{"tabs", []byte{esc, 'D', 8, 16, 24, 0}, ""},
		{"bit image 8-dot", cat([]byte{esc, '*', 0, 3, 0}, []byte("\n\n\n")), ""},
		{"bit image 24-dot", cat([]byte{esc, '*', 33, 2, 0}, []byte("\n\n\n\n\n\n")), ""},
		{"user chars", cat([]byte{esc, '&', 3, 'A', 'B', 2}, []byte("\n\n\n\n\n\n"), []byte{1, '\n', '\n', '\n'}), ""},
		{"ESC ( A beep", []byte{esc, '(', 'A', 4, 0, 48, '\n', 3, 10}, ""},
		{"unknown ESC", []byte{esc, 'Z'}, ""},
		{"unknown GS", []byte{gs, 'Z'}, ""},
		{"unknown FS", []byte{fs, 'Z'}, ""},
		{"DLE ENQ", []byte{dle, enq, 1}, ""},
		{"DLE DC4 pulse", []byte{dle, dc4, 1, 0, '\n'}, ""},
		{"GS I", []byte{gs, 'I', 1}, ""},
		{"GS L margin", []byte{gs, 'L', '\n', 0}, ""},
		{"GS g 0", []byte{gs, 'g', '0', 0, '\n', 0}, ""},
		{"FS ( A", []byte{fs, '(', 'A', 2, 0, '\n', '\n'}, ""},
		{"FS 2", cat([]byte{fs, '2', 0xFE, 0xA1}, bytes.Repeat([]byte{'\n'}, 72)), ""},
		{"FS q", cat([]byte{fs, 'q', 1, 1, 0, 1, 0}, bytes.Repeat([]byte{'\n'}, 8)), ""},
		{"GS * and GS /", cat([]byte{gs, '*', 1, 2}, bytes.Repeat([]byte{'\n'}, 16), []byte{gs, '/', 0}), "[IMAGE 8x16]\n"},
		{"raster", raster, "[IMAGE 16x3]\n"},
		{"GS Q 0", cat([]byte{gs, 'Q', '0', 0, 2, 0, 1, 0}, []byte("\n\n")), ""},
		{"graphics GS ( L", cat(
			[]byte{gs, '(', 'L', 14, 0, 48, 112, 48, 1, 1, 49, 16, 0, 2, 0}, []byte("\n\n\n\n"),
			[]byte{gs, '(', 'L', 2, 0, 48, 50}), "[IMAGE 16x2]\n"},
		{"graphics GS 8 L", cat(
			[]byte{gs, '8', 'L', 12, 0, 0, 0, 48, 112, 48, 1, 1, 49, 8, 0, 2, 0}, []byte("\n\n"),
			[]byte{gs, '(', 'L', 2, 0, 48, 50}), "[IMAGE 8x2]\n"},
		{"QR", cat(
			[]byte{gs, '(', 'k', 4, 0, 49, 65, 50, 0},
			[]byte{gs, '(', 'k', 3, 0, 49, 67, 6},
			[]byte{gs, '(', 'k', 3, 0, 49, 69, 49},
			[]byte{gs, '(', 'k', byte(len(qr) + 3), 0, 49, 80, 48}, qr,
			[]byte{gs, '(', 'k', 3, 0, 49, 81, 48}), "[QR: " + string(qr) + "]\n"},
		{"QR print without store", []byte{gs, '(', 'k', 3, 0, 49, 81, 48}, ""},
		{"barcode NUL", cat([]byte{gs, 'k', 4}, []byte("BA1234"), []byte{0}), "[BARCODE: BA1234]\n"},
		{"barcode counted", cat([]byte{gs, 'k', 73, 5}, []byte("{B123")), "[BARCODE: {B123]\n"},
		{"GS r drawer", []byte{gs, 'r', 2}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newOffline(t, ModelEpson)
			ss := newSession(nil)
			// Byte by byte and all at once must give the same.
			for _, split := range []bool{false, true} {
				s.ResetOutput()
				in := cat(tt.cmd, []byte("OK\n"))
				if split {
					var chunks [][]byte
					for i := range in {
						chunks = append(chunks, in[i:i+1])
					}
					feed(t, s, ss, chunks...)
				} else {
					feed(t, s, ss, in)
				}
				if got, want := s.Output(), tt.want+"OK\n"; got != want {
					t.Errorf("split %v: output %q, want %q", split, got, want)
				}
			}
		})
	}
}

func TestRender(t *testing.T) {
	for _, tt := range []struct {
		name  string
		model string
		cols  int
		in    []byte
		want  string
	}{
		{"lines", ModelEpson, 42, []byte("A\nB\n\nC"), "A\nB\n\n"}, // C stays in the print buffer
		{"ESC @ discards the buffer", ModelEpson, 42, []byte("lost\x1b@kept\n"), "kept\n"},
		{"wrap", ModelPOS58, 32, []byte("0123456789012345678901234567890123456\n"), "01234567890123456789012345678901\n23456\n"},
		{"wrap double width", ModelPOS58, 32, []byte("\x1d!\x100123456789012345678\n"), "0123456789012345\n678\n"},
		{"font B", ModelPOS58, 32, []byte("\x1bM\x01012345678901234567890123456789012345678901234\n"), "012345678901234567890123456789012345678901\n234\n"},
		{"centre", ModelEpson, 42, []byte("\x1ba\x01TOTAL\n\x1ba\x00L\n"), "                  TOTAL\nL\n"},
		{"right", ModelPOS58, 32, []byte("\x1ba\x02Rp 1.000  \n"), "                        Rp 1.000\n"},
		{"tab", ModelEpson, 42, []byte("a\tb\n"), "a       b\n"},
		{"ESC d", ModelEpson, 42, []byte("x\x1bd\x03y\x1bd\x00"), "x\n\n\ny\n"},
		{"ESC J prints", ModelEpson, 42, []byte("x\x1bJ\x40"), "x\n"},
		{"CR ignored", ModelEpson, 42, []byte("a\r\nb\r\n"), "a\nb\n"},
		{"high bytes", ModelEpson, 42, []byte("\xe9\x1bt\x10\xe9\n"), "?é\n"},
		{"cut epson", ModelEpson, 42, []byte("A\n\x1dVB\x00B\x1dV\x01\x1bi"), "A\n--- CUT ---\nB\n--- CUT ---\n--- CUT ---\n"},
		{"cut pos58 ignored", ModelPOS58, 32, []byte("A\n\x1dVB\x00B\n\x1dV\x00\x1bm"), "A\nB\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Start(Config{Model: tt.model, Columns: tt.cols})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			feed(t, s, newSession(nil), tt.in)
			if got := s.Output(); got != tt.want {
				t.Errorf("Output() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestStatusBytes checks every reply byte against domain/printers.md 3-5
// without a pty.
func TestStatusBytes(t *testing.T) {
	for _, tt := range []struct {
		model string
		st    State
		eot   [4]byte // DLE EOT 1..4
		gsr   []byte  // GS r 1 (nil: not answered)
		asb   [4]byte
	}{
		{ModelEpson, State{Paper: PaperOK}, [4]byte{0x12, 0x12, 0x12, 0x12}, []byte{0x00}, [4]byte{0x10, 0, 0, 0}},
		{ModelEpson, State{Paper: PaperNearEnd}, [4]byte{0x12, 0x12, 0x12, 0x1E}, []byte{0x03}, [4]byte{0x10, 0, 0x03, 0}},
		{ModelEpson, State{Paper: PaperOut}, [4]byte{0x1A, 0x32, 0x12, 0x7E}, nil, [4]byte{0x18, 0, 0x0F, 0}},
		{ModelEpson, State{Paper: PaperOK, CoverOpen: true}, [4]byte{0x1A, 0x16, 0x12, 0x12}, nil, [4]byte{0x38, 0, 0, 0}},
		{ModelEpson, State{Paper: PaperOK, Offline: true}, [4]byte{0x1A, 0x12, 0x12, 0x12}, nil, [4]byte{0x18, 0, 0, 0}},
		{ModelEpson, State{Paper: PaperOK, Error: ErrorCutter}, [4]byte{0x1A, 0x52, 0x1A, 0x12}, nil, [4]byte{0x18, 0x08, 0, 0}},
		{ModelEpson, State{Paper: PaperOK, Error: ErrorUnrecoverable}, [4]byte{0x1A, 0x52, 0x32, 0x12}, nil, [4]byte{0x18, 0x20, 0, 0}},
		{ModelEpson, State{Paper: PaperOK, Error: ErrorRecoverable}, [4]byte{0x1A, 0x52, 0x52, 0x12}, nil, [4]byte{0x18, 0x40, 0, 0}},
		{ModelPOS58, State{Paper: PaperOK}, [4]byte{0x12, 0x12, 0x12, 0x12}, []byte{0x00}, [4]byte{0x10, 0, 0, 0}},
		{ModelPOS58, State{Paper: PaperNearEnd}, [4]byte{0x12, 0x12, 0x12, 0x12}, []byte{0x00}, [4]byte{0x10, 0, 0, 0}},
		{ModelPOS58, State{Paper: PaperOut}, [4]byte{0x1A, 0x32, 0x12, 0x72}, nil, [4]byte{0x18, 0, 0x0C, 0}},
	} {
		t.Run(fmt.Sprintf("%s/%+v", tt.model, tt.st), func(t *testing.T) {
			s := newOffline(t, tt.model)
			if err := s.SetState(tt.st); err != nil {
				t.Fatal(err)
			}
			ss := newSession(nil)
			for n := byte(1); n <= 4; n++ {
				got := feed(t, s, ss, []byte{dle, eot, n})
				if len(got) != 1 || got[0] != tt.eot[n-1] {
					t.Errorf("DLE EOT %d = % X, want %02X", n, got, tt.eot[n-1])
				} else if got[0]&0x93 != 0x12 {
					t.Errorf("DLE EOT %d = %02X breaks the fixed bits", n, got[0])
				}
			}
			if got := feed(t, s, ss, []byte{gs, 'r', 1}); !bytes.Equal(got, tt.gsr) {
				t.Errorf("GS r 1 = % X, want % X", got, tt.gsr)
			}
			if got := feed(t, s, ss, []byte{gs, 'a', 0x0F}); !bytes.Equal(got, tt.asb[:]) {
				t.Errorf("GS a 15 = % X, want % X", got, tt.asb)
			}
		})
	}
}

// TestRealtimeInsideData: 10 04 n inside raster data is answered too, as on
// real printers (domain/printers.md 3), and the image still parses.
func TestRealtimeInsideData(t *testing.T) {
	s := newOffline(t, ModelEpson)
	in := cat([]byte{gs, 'v', '0', 0, 3, 0, 1, 0}, []byte{dle, eot, 1}, []byte("OK\n"))
	if got := feed(t, s, newSession(nil), in[:5], in[5:]); !bytes.Equal(got, []byte{0x12}) {
		t.Errorf("replies % X, want 12", got)
	}
	if got, want := s.Output(), "[IMAGE 24x1]\nOK\n"; got != want {
		t.Errorf("Output() = %q, want %q", got, want)
	}
}

func TestDroppedWhileOffline(t *testing.T) {
	s := newOffline(t, ModelEpson)
	ss := newSession(nil)
	feed(t, s, ss, []byte("one\n"))
	for _, st := range []State{
		{Paper: PaperOut}, {Paper: PaperOK, CoverOpen: true},
		{Paper: PaperOK, Offline: true}, {Paper: PaperOK, Error: ErrorRecoverable},
	} {
		s.SetState(st)
		feed(t, s, ss, []byte("LOST\n\x1dV\x00"), []byte{gs, '(', 'k', 4, 0, 49, 80, 48, 'Q'}, []byte{gs, '(', 'k', 3, 0, 49, 81, 48})
	}
	s.SetState(State{Paper: PaperNearEnd})
	feed(t, s, ss, []byte("two\n"))
	if got, want := s.Output(), "one\ntwo\n"; got != want {
		t.Errorf("Output() = %q, want %q", got, want)
	}
}

func TestPatchErrors(t *testing.T) {
	s := newOffline(t, ModelEpson)
	for _, body := range []string{``, `{"paper":"empty"}`, `{"error":"jam"}`, `{"slow_ms":-1}`, `{"slow_ms":60001}`, `{"bogus":true}`, `{"paper":1}`, `{"paper":"out"} {}`, `[`} {
		if _, err := s.PatchState([]byte(body)); err == nil {
			t.Errorf("PatchState(%q) = nil error", body)
		}
	}
	if got := s.State(); got != (State{Paper: PaperOK}) {
		t.Errorf("state changed by bad patches: %+v", got)
	}
	st, err := s.PatchState([]byte(`{"paper":"near_end","slow_ms":5}`))
	if err != nil || st != (State{Paper: PaperNearEnd, SlowMS: 5}) {
		t.Errorf("PatchState = %+v, %v", st, err)
	}
	st, _ = s.PatchState([]byte(`{"garbage":true}`))
	if st != (State{Paper: PaperNearEnd, SlowMS: 5, Garbage: true}) {
		t.Errorf("second patch lost fields: %+v", st)
	}
}

func TestStartConfigErrors(t *testing.T) {
	for _, cfg := range []Config{{Model: "tm-t20"}, {Columns: 40}, {Model: ModelPOS58, Columns: 64}} {
		if s, err := Start(cfg); err == nil {
			s.Close()
			t.Errorf("Start(%+v) = nil error", cfg)
		}
	}
	for _, tt := range []struct {
		model string
		cols  int
	}{{"", 42}, {ModelEpson, 42}, {ModelPOS58, 32}} {
		s, err := Start(Config{Model: tt.model})
		if err != nil {
			t.Fatal(err)
		}
		if s.Columns() != tt.cols {
			t.Errorf("model %q: %d columns, want %d", tt.model, s.Columns(), tt.cols)
		}
		s.Close()
	}
}

// FuzzFeed: any input, in any split, neither panics nor loses step for
// long: a trailing ESC @ and text always print once complete commands end.
func FuzzFeed(f *testing.F) {
	f.Add([]byte("hello\n\x1dV\x00"), 3)
	f.Add([]byte{gs, '(', 'k', 4, 0, 49, 80, 48, 'x'}, 1)
	f.Add([]byte{esc, '&', 3, 1, 2, 1}, 2)
	f.Fuzz(func(t *testing.T, in []byte, split int) {
		s, err := Start(Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ss := newSession(nil)
		if split <= 0 || split > len(in) {
			split = len(in)
		}
		for len(in) > 0 {
			k := min(split, len(in))
			feed(t, s, ss, in[:k])
			in = in[k:]
		}
	})
}
