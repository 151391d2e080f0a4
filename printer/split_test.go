package printer

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sumbar-samsat/pkbkiosk/printer/escpos"
)

func TestCmdLen(t *testing.T) {
	qr, err := escpos.QR(strings.Repeat("x", 300), 6, escpos.ECLow)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		in   []byte
		n    int
		ok   bool
	}{
		{"text", []byte("AB"), 1, true},
		{"LF", []byte{'\n'}, 1, true},
		{"ESC @", escpos.Init(), 2, true},
		{"ESC t n", escpos.CodePage(0), 3, true},
		{"ESC a n", escpos.Align(escpos.Center), 3, true},
		{"ESC d n", escpos.Feed(3), 3, true},
		{"GS !", escpos.Size(2, 2), 3, true},
		{"GS V 66 n", escpos.Cut(true, 0), 4, true},
		{"GS V 1", []byte{0x1D, 'V', 1}, 3, true},
		{"GS ( k model", qr[:9], 9, true},
		{"GS ( k store 300", qr[25:], 5 + 303, true},
		{"GS v 0 raster 2x3", append([]byte{0x1D, 'v', '0', 0, 2, 0, 3, 0}, make([]byte, 6)...), 14, true},
		{"ESC * 33 2 columns", append([]byte{0x1B, '*', 33, 2, 0}, make([]byte, 6)...), 11, true},
		{"GS k 73 len 3", []byte{0x1D, 'k', 73, 3, 'a', 'b', 'c'}, 7, true},
		{"GS k 4 NUL-terminated", []byte{0x1D, 'k', 4, 'A', 'B', 0}, 6, true},
		{"DLE EOT n", escpos.StatusQuery(4), 3, true},
		{"DLE DC4 clear", []byte{0x10, 0x14, 8, 1, 3, 20, 1, 6, 2, 8}, 10, true},
		{"FS p", []byte{0x1C, 'p', 1, 0}, 4, true},
		{"cut short GS ( k", qr[25:35], 0, false},
		{"cut short ESC", []byte{0x1B}, 0, false},
		{"unknown ESC", []byte{0x1B, 0x01, 0}, 0, false},
		{"unknown GS V m", []byte{0x1D, 'V', 7, 0}, 0, false},
		{"NUL", []byte{0}, 0, false},
		{"empty", nil, 0, false},
	} {
		n, ok := cmdLen(tt.in)
		if n != tt.n || ok != tt.ok {
			t.Errorf("cmdLen(%s) = %d, %v; want %d, %v", tt.name, n, ok, tt.n, tt.ok)
		}
	}
}

func TestSplitJob(t *testing.T) {
	qr, _ := escpos.QR(strings.Repeat("x", 600), 6, escpos.ECLow)
	text := bytes.Repeat([]byte("0123456789\n"), 30) // 330 bytes
	for _, tt := range []struct {
		name string
		job  []byte
		size int
		want []int  // chunk lengths
		chk  []bool // check flags
	}{
		{"empty", nil, 256, nil, nil},
		{"small", []byte("AB\n"), 256, []int{3}, []bool{true}},
		{"text splits anywhere", text, 256, []int{256, 74}, []bool{true, true}},
		{"commands are not cut", append(bytes.Repeat([]byte("x"), 254), escpos.Cut(true, 0)...), 256, []int{254, 4}, []bool{true, true}},
		// ESC @ + model/size/level (2+9+8+8) = 27, then the 608-byte store in
		// 256-byte pieces, checked only after its last piece, then print (8).
		{"long QR store in pieces", append(escpos.Init(), qr...), 256, []int{27, 256, 256, 96, 8}, []bool{true, false, false, true, true}},
		{"unknown command: no checks after it", append([]byte("AB\x1b\x01"), text...), 100, []int{2, 100, 100, 100, 32}, []bool{true, false, false, false, false}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := splitJob(tt.job, tt.size)
			var lens []int
			var chk []bool
			var joined []byte
			for _, c := range got {
				lens = append(lens, len(c.b))
				chk = append(chk, c.check)
				joined = append(joined, c.b...)
			}
			if !bytes.Equal(joined, tt.job) {
				t.Errorf("chunks do not add up to the job")
			}
			if !equal(lens, tt.want) || !equal(chk, tt.chk) {
				t.Errorf("splitJob(%d bytes, %d) = lengths %v checks %v; want %v %v", len(tt.job), tt.size, lens, chk, tt.want, tt.chk)
			}
		})
	}
}

func equal[T comparable](a, b []T) bool {
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

// FuzzSplitJob: chunks add up to the job, none is empty or too long, and
// a checked boundary is never inside a command the scanner knows.
func FuzzSplitJob(f *testing.F) {
	qr, _ := escpos.QR("https://example.invalid/", 4, escpos.ECMedium)
	f.Add(append(escpos.Init(), qr...), uint8(16))
	f.Add([]byte("AB\x1b\x01\x1dV\x42\x00"), uint8(3))
	f.Add([]byte{0x1D, 'v', '0', 0, 0xFF, 0xFF, 0xFF, 0xFF}, uint8(8))
	f.Fuzz(func(t *testing.T, job []byte, size uint8) {
		chunks := splitJob(job, int(size))
		var joined []byte
		parsed := 0 // job[:parsed] is whole commands
		for i, c := range chunks {
			if len(c.b) == 0 || len(c.b) > max(int(size), 1) {
				t.Fatalf("chunk %d has %d bytes, size %d", i, len(c.b), size)
			}
			joined = append(joined, c.b...)
			if c.check {
				// Everything before a checked boundary parses as whole commands.
				for parsed < len(joined) {
					n, ok := cmdLen(job[parsed:])
					if !ok {
						t.Fatalf("checked boundary at %d, but bytes at %d do not parse", len(joined), parsed)
					}
					parsed += n
				}
				if parsed != len(joined) {
					t.Fatalf("checked boundary at %d is inside the command ending at %d", len(joined), parsed)
				}
			}
		}
		if !bytes.Equal(joined, job) {
			t.Fatalf("chunks do not add up to the job")
		}
	})
}
