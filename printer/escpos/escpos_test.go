package escpos

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// unhex turns "1b 40" into bytes; spaces are for reading only.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// TestCommands pins the exact bytes of every command against
// domain/printers.md 2-5.
func TestCommands(t *testing.T) {
	for _, tt := range []struct {
		name string
		got  []byte
		want string
	}{
		{"Init", Init(), "1b 40"},
		{"CodePage(0)", CodePage(0), "1b 74 00"},
		{"CodePage(19)", CodePage(19), "1b 74 13"},
		{"Bold(true)", Bold(true), "1b 45 01"},
		{"Bold(false)", Bold(false), "1b 45 00"},
		{"Underline(0)", Underline(0), "1b 2d 00"},
		{"Underline(1)", Underline(1), "1b 2d 01"},
		{"Underline(2)", Underline(2), "1b 2d 02"},
		{"Underline(9) clamps", Underline(9), "1b 2d 02"},
		{"Underline(-1) clamps", Underline(-1), "1b 2d 00"},
		{"Size(1,1)", Size(1, 1), "1d 21 00"},
		{"Size(2,2)", Size(2, 2), "1d 21 11"},
		{"Size(8,8)", Size(8, 8), "1d 21 77"},
		{"Size(3,1)", Size(3, 1), "1d 21 20"},
		{"Size(0,9) clamps", Size(0, 9), "1d 21 07"},
		{"DoubleHeight(true)", DoubleHeight(true), "1d 21 01"},
		{"DoubleHeight(false)", DoubleHeight(false), "1d 21 00"},
		{"DoubleWidth(true)", DoubleWidth(true), "1d 21 10"},
		{"DoubleWidth(false)", DoubleWidth(false), "1d 21 00"},
		{"Align(Left)", Align(Left), "1b 61 00"},
		{"Align(Center)", Align(Center), "1b 61 01"},
		{"Align(Right)", Align(Right), "1b 61 02"},
		{"Feed(3)", Feed(3), "1b 64 03"},
		{"Cut(full, 0)", Cut(false, 0), "1d 56 41 00"},
		{"Cut(partial, 16)", Cut(true, 16), "1d 56 42 10"},
		{"StatusQuery(1)", StatusQuery(StatusPrinter), "10 04 01"},
		{"StatusQuery(2)", StatusQuery(StatusOffline), "10 04 02"},
		{"StatusQuery(3)", StatusQuery(StatusError), "10 04 03"},
		{"StatusQuery(4)", StatusQuery(StatusPaper), "10 04 04"},
		{"TransmitStatus(1)", TransmitStatus(1), "1d 72 01"},
		{"AutoStatusBack(all)", AutoStatusBack(ASBDrawer | ASBOnline | ASBError | ASBPaper), "1d 61 0f"},
		{"AutoStatusBack(off)", AutoStatusBack(ASBDisable), "1d 61 00"},
		{"Recover(false)", Recover(false), "10 05 01"},
		{"Recover(true)", Recover(true), "10 05 02"},
		{"PrinterInfo(model)", PrinterInfo(InfoModel), "1d 49 43"},
		{"PrinterInfo(manufacturer)", PrinterInfo(InfoManufacturer), "1d 49 42"},
		{"Text", Text("BA 1234 QR\n"), "42 41 20 31 32 33 34 20 51 52 0a"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if want := unhex(t, tt.want); !bytes.Equal(tt.got, want) {
				t.Errorf("%s = % x, want % x", tt.name, tt.got, want)
			}
		})
	}
}

func TestQR(t *testing.T) {
	got, err := QR("AB", 6, ECMedium)
	if err != nil {
		t.Fatalf("QR(AB) error: %v", err)
	}
	want := unhex(t, ""+
		"1d 28 6b 04 00 31 41 32 00"+ // fn 65 model 2
		"1d 28 6b 03 00 31 43 06"+ // fn 67 size 6
		"1d 28 6b 03 00 31 45 31"+ // fn 69 level M
		"1d 28 6b 05 00 31 50 30 41 42"+ // fn 80 store, pL = 2+3
		"1d 28 6b 03 00 31 51 30") // fn 81 print
	if !bytes.Equal(got, want) {
		t.Errorf("QR(AB, 6, M) =\n% x\nwant\n% x", got, want)
	}

	// The store length is little-endian pL pH and counts cn fn m.
	long := strings.Repeat("9", QRMaxData)
	got, err = QR(long, 3, ECLow)
	if err != nil {
		t.Fatalf("QR(%d bytes) error: %v", QRMaxData, err)
	}
	store := []byte{0x1d, 0x28, 0x6b, 0xb4, 0x1b, 0x31, 0x50, 0x30} // 7092 = 0x1bb4
	if !bytes.Contains(got, store) {
		t.Errorf("QR(%d bytes) lacks store header % x", QRMaxData, store)
	}

	for _, tt := range []struct {
		name string
		data string
		size byte
		ec   ECLevel
		want error // nil: any error
	}{
		{"empty", "", 3, ECLow, ErrQRData},
		{"too long", long + "9", 3, ECLow, ErrQRData},
		{"size 0", "x", 0, ECLow, nil},
		{"size 17", "x", 17, ECLow, nil},
		{"level 47", "x", 3, 47, nil},
		{"level 52", "x", 3, 52, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := QR(tt.data, tt.size, tt.ec)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("QR(%d bytes, %d, %d) = % x, %v; want error %v", len(tt.data), tt.size, tt.ec, p, err, tt.want)
			}
		})
	}
}

func TestText(t *testing.T) {
	for _, tt := range []struct {
		in, want string
	}{
		{"", ""},
		{"BA 1234 QR", "BA 1234 QR"},
		{"a\nb", "a\nb"},
		{"tab\there", "tab?here"},
		{"cr\r\n", "cr?\n"},
		{"\x1b@", "?@"},           // ESC @ would reset the printer
		{"\x1dV\x41\x00", "?VA?"}, // GS V would cut
		{"\x10\x04\x01", "???"},   // DLE EOT would ask for status
		{"\x7f", "?"},             // DEL
		{"Rp 1.500.000,-", "Rp 1.500.000,-"},
		{"café", "caf?"},   // one '?' per rune, not per byte
		{"\xff\xfe", "??"}, // invalid UTF-8: one '?' per byte
		{"“kutip”", "?kutip?"},
		{"~ }", "~ }"},
	} {
		if got := string(Text(tt.in)); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzText checks the safety promise: nothing below 0x20 but '\n', nothing
// at or above 0x7F, one output byte per input rune.
func FuzzText(f *testing.F) {
	for _, s := range []string{"", "BA 1234 QR\n", "\x1b@\x1dV\x41\x00", "\x10\x04\x01", "café\xff", "\u2028\t\r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Text(s)
		for i, c := range got {
			if (c < 0x20 && c != '\n') || c >= 0x7F {
				t.Fatalf("Text(%q)[%d] = %#02x, not printable ASCII or LF", s, i, c)
			}
		}
		if n := len([]rune(s)); len(got) != n {
			t.Fatalf("Text(%q) has %d bytes, want one per rune (%d)", s, len(got), n)
		}
		var b Builder
		if bb, _ := b.Text(s).Bytes(); !bytes.Equal(bb, got) {
			t.Fatalf("Builder.Text(%q) = % x, want % x", s, bb, got)
		}
	})
}

// TestBuilderGolden builds a slip-like job and compares it with
// testdata/builder.hex (go test -update rewrites it).
func TestBuilderGolden(t *testing.T) {
	var b Builder
	b.Init().CodePage(0).
		Align(Center).Bold(true).DoubleHeight(true).Line("INFORMASI PAJAK").
		DoubleHeight(false).Bold(false).Line("UPTD PPD PADANG\x1b@").
		Align(Left).Underline(1).Text("No. Polisi").Underline(0).Line(": BA 1234 QR").
		DoubleWidth(true).DoubleHeight(true).Line("JUMLAH").Size(1, 1).
		Align(Center).QR("https://example.invalid/q?p=BA1234QR", 6, ECMedium).
		Feed(3).Cut(true, 0)
	got, err := b.Bytes()
	if err != nil {
		t.Fatalf("Bytes() error: %v", err)
	}
	if b.Len() != len(got) {
		t.Errorf("Len() = %d, want %d", b.Len(), len(got))
	}
	path := filepath.Join("testdata", "builder.hex")
	if *update {
		if err := os.WriteFile(path, []byte(hexLines(got)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if g := hexLines(got); g != string(want) {
		t.Errorf("builder bytes differ from %s:\ngot\n%swant\n%s", path, g, want)
	}
	// The ESC @ smuggled into the office name must have become "?@".
	if bytes.Count(got, Init()) != 1 {
		t.Errorf("job contains %d ESC @, want 1 (the Init)", bytes.Count(got, Init()))
	}
}

func TestBuilderSizeKeepsOtherDimension(t *testing.T) {
	var b Builder
	got, _ := b.DoubleWidth(true).DoubleHeight(true).DoubleWidth(false).Bytes()
	want := unhex(t, "1d 21 10  1d 21 11  1d 21 01")
	if !bytes.Equal(got, want) {
		t.Errorf("DoubleWidth, DoubleHeight, DoubleWidth(false) = % x, want % x", got, want)
	}
}

func TestBuilderKeepsFirstError(t *testing.T) {
	var b Builder
	got, err := b.Init().QR("", 3, ECLow).QR("x", 0, ECLow).Line("ok").Bytes()
	if !errors.Is(err, ErrQRData) {
		t.Errorf("Bytes() error = %v, want ErrQRData (the first)", err)
	}
	if want := unhex(t, "1b 40 6f 6b 0a"); !bytes.Equal(got, want) {
		t.Errorf("Bytes() = % x, want % x", got, want)
	}
}

// hexLines formats b as 16 bytes per line, for golden files people read.
func hexLines(b []byte) string {
	var s strings.Builder
	for len(b) > 0 {
		n := min(16, len(b))
		s.WriteString(strings.TrimSpace(hexSpaced(b[:n])))
		s.WriteByte('\n')
		b = b[n:]
	}
	return s.String()
}

func hexSpaced(b []byte) string {
	var s strings.Builder
	for i, c := range b {
		if i > 0 {
			s.WriteByte(' ')
		}
		s.WriteString(hex.EncodeToString([]byte{c}))
	}
	return s.String()
}

func BenchmarkText(b *testing.B) {
	s := strings.Repeat("PKB pokok           1.250.000\n", 20)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Text(s)
	}
}
