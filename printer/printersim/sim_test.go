//go:build linux

package printersim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tarm/serial"
)

// How the tests talk to the pty: os.OpenFile on the symlink with
// O_RDWR|O_NOCTTY. On Linux os.OpenFile puts a tty descriptor in
// non-blocking mode and registers it with the runtime poller, so
// SetReadDeadline works on it like on a net.Conn (the simulator's raw
// termios, VMIN 1 VTIME 0, is what makes a read return as soon as a byte is
// there). After hang-up the slave reads (0, io.EOF) at once and writes fail
// with EIO.

const waitReply = 2 * time.Second // a reply that does not come in this long is missing

type deadlineReader interface {
	io.ReadWriter
	SetReadDeadline(time.Time) error
}

func start(t *testing.T, cfg Config) *Sim {
	t.Helper()
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func startPTY(t *testing.T, model string) (*Sim, *os.File) {
	t.Helper()
	link := filepath.Join(t.TempDir(), "run", "kiosk", "printer0")
	s := start(t, Config{PTY: link, Model: model})
	return s, openSlave(t, link)
}

func openSlave(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// readN reads n bytes or until the deadline.
func readN(r deadlineReader, n int, within time.Duration) ([]byte, error) {
	r.SetReadDeadline(time.Now().Add(within))
	defer r.SetReadDeadline(time.Time{})
	buf := make([]byte, n)
	got := 0
	for got < n {
		k, err := r.Read(buf[got:])
		got += k
		if err != nil {
			return buf[:got], err
		}
	}
	return buf, nil
}

func write(t *testing.T, w io.Writer, b []byte) {
	t.Helper()
	if _, err := w.Write(b); err != nil {
		t.Fatalf("write % X: %v", b, err)
	}
}

// ask writes cmd and reads an n-byte reply.
func ask(t *testing.T, rw deadlineReader, cmd []byte, n int) []byte {
	t.Helper()
	write(t, rw, cmd)
	got, err := readN(rw, n, waitReply)
	if err != nil {
		t.Fatalf("reply to % X: got % X, %v", cmd, got, err)
	}
	return got
}

// silence checks that nothing arrives for a while.
func silence(t *testing.T, r deadlineReader, what string) {
	t.Helper()
	if got, err := readN(r, 1, 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("%s: got % X, %v; want nothing", what, got, err)
	}
}

// settle waits until everything written before has been processed: the
// simulator answers DLE EOT after feeding all earlier bytes.
func settle(t *testing.T, rw deadlineReader) {
	t.Helper()
	ask(t, rw, []byte{dle, eot, 1}, 1)
}

func setState(t *testing.T, s *Sim, st State) {
	t.Helper()
	if err := s.SetState(st); err != nil {
		t.Fatal(err)
	}
}

func TestPTYStatus(t *testing.T) {
	for _, tt := range []struct {
		model string
		st    State
		want  [4]byte
	}{
		{ModelEpson, State{Paper: PaperOK}, [4]byte{0x12, 0x12, 0x12, 0x12}},
		{ModelEpson, State{Paper: PaperNearEnd}, [4]byte{0x12, 0x12, 0x12, 0x1E}},
		{ModelEpson, State{Paper: PaperOut}, [4]byte{0x1A, 0x32, 0x12, 0x7E}},
		{ModelEpson, State{Paper: PaperOK, CoverOpen: true}, [4]byte{0x1A, 0x16, 0x12, 0x12}},
		{ModelEpson, State{Paper: PaperOK, Offline: true}, [4]byte{0x1A, 0x12, 0x12, 0x12}},
		{ModelEpson, State{Paper: PaperOK, Error: ErrorCutter}, [4]byte{0x1A, 0x52, 0x1A, 0x12}},
		{ModelEpson, State{Paper: PaperOK, Error: ErrorUnrecoverable}, [4]byte{0x1A, 0x52, 0x32, 0x12}},
		{ModelEpson, State{Paper: PaperOK, Error: ErrorRecoverable}, [4]byte{0x1A, 0x52, 0x52, 0x12}},
		{ModelEpson, State{Paper: PaperOut, CoverOpen: true}, [4]byte{0x1A, 0x36, 0x12, 0x7E}},
		{ModelPOS58, State{Paper: PaperOK}, [4]byte{0x12, 0x12, 0x12, 0x12}},
		{ModelPOS58, State{Paper: PaperNearEnd}, [4]byte{0x12, 0x12, 0x12, 0x12}},
		{ModelPOS58, State{Paper: PaperOut}, [4]byte{0x1A, 0x32, 0x12, 0x72}},
	} {
		t.Run(tt.model+"/"+strings.Trim(strings.ReplaceAll(jsonOf(tt.st), `"`, ""), "{}"), func(t *testing.T) {
			s, f := startPTY(t, tt.model)
			setState(t, s, tt.st)
			for n := byte(1); n <= 4; n++ {
				if got := ask(t, f, []byte{dle, eot, n}, 1); got[0] != tt.want[n-1] {
					t.Errorf("DLE EOT %d = %02X, want %02X", n, got[0], tt.want[n-1])
				}
			}
			// Up to 8 in a row, as printers.md 3 allows.
			write(t, f, bytes.Repeat([]byte{dle, eot, 1, dle, eot, 4}, 4))
			got, err := readN(f, 8, waitReply)
			want := bytes.Repeat([]byte{tt.want[0], tt.want[3]}, 4)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("8 queries: % X, %v; want % X", got, err, want)
			}
		})
	}
}

func jsonOf(st State) string {
	b, _ := json.Marshal(st)
	return string(b)
}

func TestPTYSymlink(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "a", "b", "printer0") // parents are created
	s := start(t, Config{PTY: link})
	target, err := os.Readlink(link)
	if err != nil || target != s.PTYPath() || !strings.HasPrefix(target, "/dev/pts/") {
		t.Errorf("symlink -> %q, %v; PTYPath %q", target, err, s.PTYPath())
	}
	s.Close()
	if _, err := os.Lstat(link); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Close: Lstat(link) = %v, want not exist", err)
	}

	// A stale symlink is replaced; a regular file is left alone.
	os.Symlink("/dev/pts/999999", link)
	s2 := start(t, Config{PTY: link})
	if target, _ := os.Readlink(link); target != s2.PTYPath() {
		t.Errorf("stale symlink not replaced: -> %q", target)
	}
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("keep"), 0o644)
	if s3, err := Start(Config{PTY: file}); err == nil {
		s3.Close()
		t.Errorf("Start over a regular file: nil error")
	}
	if b, _ := os.ReadFile(file); string(b) != "keep" {
		t.Errorf("regular file clobbered: %q", b)
	}
}

// TestPTYRaw: bytes pass unchanged both ways: \n from the host is not
// turned into \r\n (the raster data would fall out of step), and 0x03 (^C)
// and 0x00 in an ASB block reach the host.
func TestPTYRaw(t *testing.T) {
	s, f := startPTY(t, ModelEpson)
	write(t, f, cat([]byte{gs, 'v', '0', 0, 1, 0, 3, 0}, []byte("\n\n\x03"), []byte("OK\n")))
	settle(t, f)
	if got, want := s.Output(), "[IMAGE 8x3]\nOK\n"; got != want {
		t.Errorf("Output() = %q, want %q", got, want)
	}
	setState(t, s, State{Paper: PaperNearEnd})
	if got, want := ask(t, f, []byte{gs, 'a', 0x08}, 4), []byte{0x10, 0x00, 0x03, 0x00}; !bytes.Equal(got, want) {
		t.Errorf("ASB = % X, want % X", got, want)
	}
}

func TestPTYGSr(t *testing.T) {
	for _, tt := range []struct {
		model string
		st    State
		want  []byte // nil: no reply
	}{
		{ModelEpson, State{Paper: PaperOK}, []byte{0x00}},
		{ModelEpson, State{Paper: PaperNearEnd}, []byte{0x03}},
		{ModelPOS58, State{Paper: PaperNearEnd}, []byte{0x00}},
		{ModelEpson, State{Paper: PaperOut}, nil},
		{ModelEpson, State{Paper: PaperOK, Offline: true}, nil},
		{ModelEpson, State{Paper: PaperOK, CoverOpen: true}, nil},
	} {
		t.Run(tt.model+"/"+jsonOf(tt.st), func(t *testing.T) {
			s, f := startPTY(t, tt.model)
			setState(t, s, tt.st)
			write(t, f, []byte{gs, 'r', 1})
			if tt.want == nil {
				silence(t, f, "GS r 1 while offline")
				// DLE EOT still answers, and no GS r reply comes late.
				if got := ask(t, f, []byte{dle, eot, 1}, 1); got[0] != 0x1A {
					t.Errorf("DLE EOT 1 = %02X, want 1A", got[0])
				}
				return
			}
			if got, err := readN(f, 1, waitReply); err != nil || !bytes.Equal(got, tt.want) {
				t.Errorf("GS r 1 = % X, %v; want % X", got, err, tt.want)
			}
		})
	}
}

func TestPTYASB(t *testing.T) {
	s, f := startPTY(t, ModelEpson)
	if got, want := ask(t, f, []byte{gs, 'a', 0x0F}, 4), []byte{0x10, 0, 0, 0}; !bytes.Equal(got, want) {
		t.Errorf("on enable: % X, want % X", got, want)
	}
	for _, tt := range []struct {
		st   State
		want []byte
	}{
		{State{Paper: PaperNearEnd}, []byte{0x10, 0, 0x03, 0}},
		{State{Paper: PaperOut}, []byte{0x18, 0, 0x0F, 0}},
		{State{Paper: PaperOut, SlowMS: 1}, nil}, // not an ASB item
		{State{Paper: PaperOK, CoverOpen: true}, []byte{0x38, 0, 0, 0}},
		{State{Paper: PaperOK, Error: ErrorCutter}, []byte{0x18, 0x08, 0, 0}},
		{State{Paper: PaperOK}, []byte{0x10, 0, 0, 0}},
	} {
		setState(t, s, tt.st)
		if tt.want == nil {
			silence(t, f, "ASB after "+jsonOf(tt.st))
			continue
		}
		if got, err := readN(f, 4, waitReply); err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("ASB after %s: % X, %v; want % X", jsonOf(tt.st), got, err, tt.want)
		}
	}
	// Only the online/offline item: a paper change alone sends nothing.
	ask(t, f, []byte{gs, 'a', 0x02}, 4)
	setState(t, s, State{Paper: PaperNearEnd})
	silence(t, f, "near end with ASB item 1 only")
	setState(t, s, State{Paper: PaperNearEnd, Offline: true})
	if got, err := readN(f, 4, waitReply); err != nil || !bytes.Equal(got, []byte{0x18, 0, 0x03, 0}) {
		t.Errorf("ASB after offline: % X, %v", got, err)
	}
	// GS a 0 disables.
	write(t, f, []byte{gs, 'a', 0})
	settle(t, f)
	setState(t, s, State{Paper: PaperOut})
	silence(t, f, "after GS a 0")
}

func TestPTYPrint(t *testing.T) {
	receipt := cat(
		[]byte{esc, '@', esc, 't', 0, esc, 'a', 1, esc, 'E', 1},
		[]byte("SAMSAT SUMBAR\n"),
		[]byte{esc, 'E', 0, esc, 'a', 0},
		[]byte("BA 1234 XY\tRp 1.250.000\n"),
		[]byte{gs, '(', 'k', 7, 0, 49, 80, 48, 'P', 'K', 'B', '1'},
		[]byte{gs, '(', 'k', 3, 0, 49, 81, 48},
		[]byte{esc, 'd', 3, gs, 'V', 66, 0},
	)
	for _, tt := range []struct {
		model string
		want  string
	}{
		{ModelEpson, "              SAMSAT SUMBAR\nBA 1234 XY      Rp 1.250.000\n[QR: PKB1]\n\n\n\n--- CUT ---\n"},
		{ModelPOS58, "         SAMSAT SUMBAR\nBA 1234 XY      Rp 1.250.000\n[QR: PKB1]\n\n\n\n"},
	} {
		t.Run(tt.model, func(t *testing.T) {
			s, f := startPTY(t, tt.model)
			write(t, f, receipt)
			settle(t, f)
			if got := s.Output(); got != tt.want {
				t.Errorf("Output() =\n%s\nwant\n%s", got, tt.want)
			}
			s.ResetOutput()
			if got := s.Output(); got != "" {
				t.Errorf("after ResetOutput: %q", got)
			}
		})
	}
}

func TestPTYDropWhileOut(t *testing.T) {
	s, f := startPTY(t, ModelEpson)
	setState(t, s, State{Paper: PaperOut})
	write(t, f, []byte("LOST RECEIPT\n\x1dV\x00"))
	settle(t, f)
	setState(t, s, State{Paper: PaperOK})
	write(t, f, []byte("KEPT\n"))
	settle(t, f)
	if got, want := s.Output(), "KEPT\n"; got != want {
		t.Errorf("Output() = %q, want %q", got, want)
	}
}

func TestPTYSlow(t *testing.T) {
	s, f := startPTY(t, ModelEpson)
	setState(t, s, State{Paper: PaperOK, SlowMS: 300})
	begin := time.Now()
	ask(t, f, []byte{dle, eot, 4}, 1)
	if d := time.Since(begin); d < 300*time.Millisecond {
		t.Errorf("reply after %v, want >= 300ms", d)
	}
	// A slow reply tells the state when it is sent.
	write(t, f, []byte{dle, eot, 4})
	setState(t, s, State{Paper: PaperOut, SlowMS: 300})
	if got, err := readN(f, 1, waitReply); err != nil || got[0] != 0x7E {
		t.Errorf("slow reply = % X, %v; want 7E", got, err)
	}
}

func TestPTYGarbage(t *testing.T) {
	s, f := startPTY(t, ModelEpson)
	setState(t, s, State{Paper: PaperOK, Garbage: true})
	for range 5 {
		write(t, f, []byte{dle, eot, 1})
		var junk []byte
		for {
			b, err := readN(f, 1, waitReply)
			if err != nil {
				t.Fatalf("after % X: %v", junk, err)
			}
			if b[0]&0x93 == 0x12 { // a DLE EOT reply
				if b[0] != 0x12 {
					t.Errorf("status %02X, want 12", b[0])
				}
				break
			}
			junk = append(junk, b[0])
		}
		if len(junk) < 1 || len(junk) > 3 {
			t.Errorf("%d garbage bytes, want 1..3", len(junk))
		}
		for _, b := range junk {
			if b < 0x80 {
				t.Errorf("garbage byte %02X could pass for a status byte", b)
			}
		}
	}
}

func TestPTYUnplugReplug(t *testing.T) {
	link := filepath.Join(t.TempDir(), "printer0")
	s := start(t, Config{PTY: link})
	f := openSlave(t, link)
	settle(t, f)
	old := s.PTYPath()

	setState(t, s, State{Paper: PaperOK, Unplugged: true})
	begin := time.Now()
	n, err := readN(f, 1, waitReply)
	if len(n) != 0 || err != io.EOF {
		t.Errorf("read after unplug: % X, %v; want io.EOF", n, err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Errorf("hang-up seen after %v", d)
	}
	if _, err := f.Write([]byte{dle, eot, 1}); !errors.Is(err, syscall.EIO) {
		t.Errorf("write after unplug: %v, want EIO", err)
	}
	if _, err := os.Lstat(link); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("symlink while unplugged: %v, want not exist", err)
	}
	if _, err := os.OpenFile(link, os.O_RDWR|syscall.O_NOCTTY, 0); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("open while unplugged: %v, want not exist", err)
	}
	if p := s.PTYPath(); p != "" {
		t.Errorf("PTYPath() = %q while unplugged", p)
	}

	setState(t, s, State{Paper: PaperOK})
	target, err := os.Readlink(link)
	if err != nil || target != s.PTYPath() || target == "" {
		t.Fatalf("after replug: symlink -> %q, %v; PTYPath %q (was %q)", target, err, s.PTYPath(), old)
	}
	g := openSlave(t, link)
	if got := ask(t, g, []byte{dle, eot, 4}, 1); got[0] != 0x12 {
		t.Errorf("after replug: DLE EOT 4 = %02X", got[0])
	}
	if _, err := readN(f, 1, 200*time.Millisecond); err != io.EOF {
		t.Errorf("old descriptor after replug: %v, want io.EOF", err)
	}
}

// TestPTYReopen: the kiosk may close and reopen the port; the pty keeps
// working (the simulator holds the slave open, so the master never sees EIO).
func TestPTYReopen(t *testing.T) {
	link := filepath.Join(t.TempDir(), "printer0")
	s := start(t, Config{PTY: link})
	for range 3 {
		f, err := os.OpenFile(link, os.O_RDWR|syscall.O_NOCTTY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := ask(t, f, []byte{dle, eot, 1}, 1); got[0] != 0x12 {
			t.Errorf("DLE EOT 1 = %02X", got[0])
		}
		f.Close()
	}
	write(t, openSlave(t, link), []byte("after reopen\n"))
	waitFor(t, func() bool { return s.Output() == "after reopen\n" }, "output after reopen")
}

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	for end := time.Now().Add(waitReply); !ok(); {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTCP(t *testing.T) {
	s := start(t, Config{TCP: "127.0.0.1:0"})
	addr := s.TCPAddr()
	if strings.HasSuffix(addr, ":0") {
		t.Fatalf("TCPAddr() = %q", addr)
	}
	dial := func() net.Conn {
		t.Helper()
		c, err := net.DialTimeout("tcp", addr, waitReply)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	c := dial()
	if got := ask(t, c.(*net.TCPConn), []byte{dle, eot, 1}, 1); got[0] != 0x12 {
		t.Errorf("DLE EOT 1 = %02X", got[0])
	}
	write(t, c, []byte("over tcp\n\x1dV\x01"))
	settle(t, c.(*net.TCPConn))
	if got, want := s.Output(), "over tcp\n--- CUT ---\n"; got != want {
		t.Errorf("Output() = %q, want %q", got, want)
	}
	setState(t, s, State{Paper: PaperOut})
	if got := ask(t, c.(*net.TCPConn), []byte{dle, eot, 4}, 1); got[0] != 0x7E {
		t.Errorf("DLE EOT 4 = %02X, want 7E", got[0])
	}

	setState(t, s, State{Paper: PaperOut, Unplugged: true})
	if got, err := readN(c.(*net.TCPConn), 1, waitReply); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read after unplug: % X, %v; want the connection closed", got, err)
	}
	if c2, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c2.Close()
		t.Errorf("dial while unplugged succeeded")
	}
	setState(t, s, State{Paper: PaperOK})
	if s.TCPAddr() != addr {
		t.Errorf("address after replug %q, want %q", s.TCPAddr(), addr)
	}
	if got := ask(t, dial().(*net.TCPConn), []byte{dle, eot, 4}, 1); got[0] != 0x12 {
		t.Errorf("after replug: DLE EOT 4 = %02X", got[0])
	}
}

func TestControlAPI(t *testing.T) {
	s := start(t, Config{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	do := func(method, path, body string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}

	setState(t, s, State{Paper: PaperOK, SlowMS: 20})
	code, _, body := do("POST", "/state", `{"paper":"out"}`)
	want := `{"paper":"out","cover_open":false,"offline":false,"unplugged":false,"error":"","slow_ms":20,"garbage":false}` + "\n"
	if code != 200 || body != want {
		t.Errorf("POST /state = %d %q, want 200 %q", code, body, want)
	}
	if code, _, body := do("GET", "/state", ""); code != 200 || body != want {
		t.Errorf("GET /state = %d %q", code, body)
	}
	for _, bad := range []struct{ body, msg string }{
		{`{"paper":"empty"}`, `paper "empty": want ok, near_end or out`},
		{`{"error":"jam"}`, `error "jam"`},
		{`{"slow_ms":-5}`, `slow_ms -5`},
		{`{"bogus":1}`, `unknown field "bogus"`},
		{`not json`, `invalid character`},
		{``, `empty body`},
	} {
		if code, _, body := do("POST", "/state", bad.body); code != 400 || !strings.Contains(body, bad.msg) {
			t.Errorf("POST /state %s = %d %q, want 400 mentioning %q", bad.body, code, body, bad.msg)
		}
	}
	if s.State().Paper != PaperOut {
		t.Errorf("bad POSTs changed the state: %+v", s.State())
	}

	s.mu.Lock()
	s.out.WriteString("printed\n--- CUT ---\n")
	s.mu.Unlock()
	if code, ct, body := do("GET", "/output", ""); code != 200 || body != "printed\n--- CUT ---\n" || !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("GET /output = %d %q %q", code, ct, body)
	}
	if code, _, _ := do("DELETE", "/output", ""); code != 204 || s.Output() != "" {
		t.Errorf("DELETE /output = %d, output %q", code, s.Output())
	}
	if code, _, _ := do("PUT", "/state", "{}"); code != 405 {
		t.Errorf("PUT /state = %d, want 405", code)
	}
	if code, _, body := do("GET", "/", ""); code != 200 || !strings.Contains(body, "POST   /state") {
		t.Errorf("GET / = %d %q", code, body)
	}
}

// TestTarmSerial goes through github.com/tarm/serial, the kiosk's serial
// path (deps.md 6): VTIME read timeout, (0, io.EOF) on timeout and on
// hang-up.
func TestTarmSerial(t *testing.T) {
	link := filepath.Join(t.TempDir(), "printer0")
	s := start(t, Config{PTY: link})
	p, err := serial.OpenPort(&serial.Config{Name: link, Baud: 9600, ReadTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	read1 := func() (byte, error) {
		buf := make([]byte, 1)
		for end := time.Now().Add(waitReply); time.Now().Before(end); {
			n, err := p.Read(buf)
			if n == 1 {
				return buf[0], nil
			}
			if err != nil && err != io.EOF {
				return 0, err
			}
		}
		return 0, os.ErrDeadlineExceeded
	}
	for _, tt := range []struct {
		st   State
		want byte
	}{{State{Paper: PaperOK}, 0x12}, {State{Paper: PaperNearEnd}, 0x1E}, {State{Paper: PaperOut}, 0x7E}} {
		setState(t, s, tt.st)
		if _, err := p.Write([]byte{dle, eot, 4}); err != nil {
			t.Fatal(err)
		}
		if b, err := read1(); err != nil || b != tt.want {
			t.Errorf("%s: DLE EOT 4 = %02X, %v; want %02X", tt.st.Paper, b, err, tt.want)
		}
	}
	// Timeout: (0, io.EOF) after about 200 ms.
	begin := time.Now()
	n, err := p.Read(make([]byte, 1))
	t.Logf("tarm/serial read with nothing to read: (%d, %v) after %v", n, err, time.Since(begin).Round(time.Millisecond))
	if n != 0 || err != io.EOF {
		t.Errorf("timeout read = (%d, %v), want (0, io.EOF)", n, err)
	}
	// Hang-up: (0, io.EOF) at once, writes fail.
	setState(t, s, State{Paper: PaperOK, Unplugged: true})
	begin = time.Now()
	n, err = p.Read(make([]byte, 1))
	d := time.Since(begin)
	_, werr := p.Write([]byte{dle, eot, 1})
	t.Logf("tarm/serial after hang-up: read (%d, %v) after %v; write %v", n, err, d.Round(time.Millisecond), werr)
	if n != 0 || err != io.EOF || d > 100*time.Millisecond {
		t.Errorf("read after hang-up = (%d, %v) after %v, want (0, io.EOF) at once", n, err, d)
	}
	if !errors.Is(werr, syscall.EIO) {
		t.Errorf("write after hang-up = %v, want EIO", werr)
	}
}

// TestCloseLeavesNoGoroutines: every goroutine of the Sim (pty reader,
// acceptor, TCP readers, a reply sleeping in slow_ms) stops in Close.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	link := filepath.Join(t.TempDir(), "printer0")
	s, err := Start(Config{PTY: link, TCP: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(link, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := net.Dial("tcp", s.TCPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ask(t, f, []byte{dle, eot, 1}, 1)
	ask(t, c.(*net.TCPConn), []byte{dle, eot, 1}, 1)
	setState(t, s, State{Paper: PaperOK, Unplugged: true}) // replug starts new goroutines
	setState(t, s, State{Paper: PaperOK, SlowMS: MaxSlowMS})
	g := openSlave(t, link)
	// The reply now sleeps for a minute; 'x' in the print buffer shows that
	// the bytes were fed.
	write(t, g, []byte{dle, eot, 1, 'x'})
	waitFor(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.r.line) > 0
	}, "the bytes to arrive")
	done := make(chan error)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	if err := s.SetState(State{Paper: PaperOK}); err == nil {
		t.Error("SetState after Close: nil error")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before }, "goroutines to stop")
}
