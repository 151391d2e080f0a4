package printerdev

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// ptyPair is a socat pty pair: the port under test opens A, the test
// plays the printer on B.
type ptyPair struct {
	A, B   string
	hangUp func() // kills socat: both masters close
}

func startPTYPair(t *testing.T) *ptyPair {
	t.Helper()
	if _, err := exec.LookPath("socat"); err != nil {
		t.Skip("socat not installed")
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	logf, err := os.Create(filepath.Join(dir, "socat.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "socat", "-d", "-d", "pty,raw,echo=0,link="+a, "pty,raw,echo=0,link="+b)
	cmd.Stdout, cmd.Stderr = logf, logf // files: no copying goroutines
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			cmd.Wait()
		})
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, ea := os.Stat(a)
		_, eb := os.Stat(b)
		if ea == nil && eb == nil {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("socat links not there after 5 s: %v, %v\n%s", ea, eb, log)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return &ptyPair{A: a, B: b, hangUp: stop}
}

// openPeer opens the printer end of the pair; reads honour deadlines.
func openPeer(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func openSerialSpec(t *testing.T, path string) Port {
	t.Helper()
	p, err := Open(t.Context(), Spec{Kind: KindSerial, Path: path, Baud: 115200})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Transport(); got != "serial" {
		t.Errorf("Transport() = %q, want serial", got)
	}
	return p
}

func TestSerialDataBothWays(t *testing.T) {
	checkLeaks(t)
	pair := startPTYPair(t)
	p := openSerialSpec(t, pair.A)
	defer p.Close()
	peer := openPeer(t, pair.B)

	// Printer to host: a DLE EOT 1 reply and an ASB block.
	in := []byte{0x16, 0x14, 0x00, 0x00, 0x0f}
	if _, err := peer.Write(in); err != nil {
		t.Fatal(err)
	}
	if got := readFull(t, p, len(in), 2*time.Second); string(got) != string(in) {
		t.Errorf("Read got % x, want % x", got, in)
	}

	// Host to printer.
	out := []byte("\x1b@\x10\x04\x01hello\n")
	if n, err := p.Write(out); n != len(out) || err != nil {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(out))
	}
	if err := peer.SetReadDeadline(time.Now().Add(2 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(out))
	if _, err := io.ReadFull(peer, got); err != nil || string(got) != string(out) {
		t.Errorf("peer read %q, %v; want %q", got, err, out)
	}

	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := p.Read(make([]byte, 1)); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Read after Close = %v, want os.ErrClosed", err)
	}
}

func TestSerialTimeout(t *testing.T) {
	checkLeaks(t)
	pair := startPTYPair(t)
	p := openSerialSpec(t, pair.A)
	defer p.Close()
	openPeer(t, pair.B) // present but silent

	buf := make([]byte, 16)
	for i := range 3 {
		start := time.Now()
		n, err := p.Read(buf)
		el := time.Since(start)
		if k := kindOf(n, err); k != gotDeadline {
			t.Fatalf("Read %d = %d, %v (%v); want a deadline error", i, n, err, k)
		}
		t.Logf("timeout %d after %v: %v", i, el.Round(time.Millisecond), err)
		if el < 100*time.Millisecond || el > 400*time.Millisecond {
			t.Errorf("Read %d timed out after %v, want 100-400 ms", i, el)
		}
	}
}

func TestSerialHangUp(t *testing.T) {
	checkLeaks(t)
	pair := startPTYPair(t)
	p := openSerialSpec(t, pair.A)
	defer p.Close()
	peer := openPeer(t, pair.B)
	if _, err := peer.Write([]byte{0x12}); err != nil {
		t.Fatal(err)
	}
	readFull(t, p, 1, 2*time.Second)

	pair.hangUp()
	killed := time.Now()

	buf := make([]byte, 16)
	var calls int
	var first time.Duration
	for time.Since(killed) < time.Second {
		start := time.Now()
		n, err := p.Read(buf)
		el := time.Since(start)
		calls++
		switch k := kindOf(n, err); {
		case k == gotEOF:
			if first == 0 {
				first = time.Since(killed)
				t.Logf("hang-up reported %v after the kill (this Read %v): %v", first.Round(time.Microsecond), el.Round(time.Microsecond), err)
			}
		case first != 0:
			t.Fatalf("Read after the hang-up = %d, %v (%v); want io.EOF again", n, err, k)
		case k != gotDeadline:
			t.Fatalf("Read = %d, %v (%v); want io.EOF", n, err, k)
		}
	}
	t.Logf("%d Read calls in the second after the hang-up", calls)
	if first == 0 || first > 300*time.Millisecond {
		t.Errorf("hang-up reported after %v, want within 300 ms", first)
	}
	if calls > 10 {
		t.Errorf("%d Read calls in 1 s after the hang-up: busy loop", calls)
	}
	if _, err := p.Write([]byte{0x10, 0x04, 0x01}); !errors.Is(err, io.EOF) {
		t.Errorf("Write after hang-up = %v, want io.EOF", err)
	}
	d := within(t, "Close", time.Second, func() { p.Close() })
	t.Logf("Close after hang-up took %v", d)
}

// TestSerialHangUpDuringRead hangs up while a Read waits in VTIME.
func TestSerialHangUpDuringRead(t *testing.T) {
	checkLeaks(t)
	pair := startPTYPair(t)
	p := openSerialSpec(t, pair.A)
	defer p.Close()
	openPeer(t, pair.B)

	res := make(chan error, 1)
	go func() {
		buf := make([]byte, 16)
		for {
			n, err := p.Read(buf)
			if k := kindOf(n, err); k != gotDeadline {
				res <- err
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	killed := time.Now() // hangUp returns once socat has been reaped
	pair.hangUp()
	select {
	case err := <-res:
		t.Logf("hang-up during a Read reported after %v: %v", time.Since(killed).Round(time.Microsecond), err)
		if !errors.Is(err, io.EOF) {
			t.Errorf("Read = %v, want io.EOF", err)
		}
	case <-time.After(time.Second):
		t.Fatal("no io.EOF within 1 s of the hang-up")
	}
}

func TestSerialCloseDuringRead(t *testing.T) {
	checkLeaks(t)
	pair := startPTYPair(t)
	p := openSerialSpec(t, pair.A)
	openPeer(t, pair.B)

	res := make(chan error, 1)
	go func() {
		buf := make([]byte, 16)
		for {
			n, err := p.Read(buf)
			if k := kindOf(n, err); k != gotDeadline {
				res <- err
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	d := within(t, "Close", time.Second, func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	t.Logf("Close with a Read in flight took %v", d)
	select {
	case err := <-res:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("Read during Close = %v, want os.ErrClosed", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Read did not return within 1 s of Close")
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestSerialOpenMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ttyUSB9")
	_, err := Open(t.Context(), Spec{Kind: KindSerial, Path: path, Baud: 9600})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Open(missing) = %v, want an error naming %s", err, path)
	}
}

// fakeRaw is a tarm port that replays results; it sleeps to take time,
// which synctest turns into fake time.
type fakeRaw struct {
	mu       sync.Mutex
	results  []rawResult
	calls    int
	writeErr error
}

type rawResult struct {
	after time.Duration
	data  string
	err   error
}

func (f *fakeRaw) Read(b []byte) (int, error) {
	f.mu.Lock()
	f.calls++
	if len(f.results) == 0 {
		f.mu.Unlock()
		panic("fakeRaw: unexpected Read")
	}
	r := f.results[0]
	f.results = f.results[1:]
	f.mu.Unlock()
	time.Sleep(r.after)
	return copy(b, r.data), r.err
}

func (f *fakeRaw) Write(b []byte) (int, error) {
	if f.writeErr != nil {
		return 0, f.writeErr
	}
	return len(b), nil
}

func (f *fakeRaw) Close() error { return nil }

// TestSerialClassify checks the hang-up/timeout logic in fake time.
func TestSerialClassify(t *testing.T) {
	const to = 200 * time.Millisecond
	eio := errors.New("read /dev/ttyUSB0: input/output error")
	for _, tt := range []struct {
		name    string
		results []rawResult
		want    readKind
		calls   int
		took    time.Duration
	}{
		{"data", []rawResult{{after: time.Millisecond, data: "\x12"}}, gotData, 1, time.Millisecond},
		{"timeout", []rawResult{{after: to, err: io.EOF}}, gotDeadline, 1, to},
		{"late timeout", []rawResult{{after: 150 * time.Millisecond, err: io.EOF}}, gotDeadline, 1, 150 * time.Millisecond},
		{"hang-up", []rawResult{{err: io.EOF}, {err: io.EOF}}, gotEOF, 2, hangupConfirm},
		{"quick EOF then data", []rawResult{{err: io.EOF}, {data: "x"}}, gotData, 2, hangupConfirm},
		{"quick EOF then timeout", []rawResult{{err: io.EOF}, {after: to, err: io.EOF}}, gotDeadline, 2, hangupConfirm + to},
		{"I/O error", []rawResult{{err: eio}}, gotEOF, 1, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				raw := &fakeRaw{results: tt.results}
				p := newSerialPort(raw, "/dev/fake", to)
				start := time.Now()
				n, err := p.Read(make([]byte, 8))
				took := time.Since(start)
				if k := kindOf(n, err); k != tt.want {
					t.Errorf("Read = %d, %v (%v); want %v", n, err, k, tt.want)
				}
				if raw.calls != tt.calls || took != tt.took {
					t.Errorf("Read made %d raw reads in %v; want %d in %v", raw.calls, took, tt.calls, tt.took)
				}
				if tt.want != gotEOF {
					return
				}
				// Gone: later Reads repeat io.EOF after the read timeout,
				// without touching the device; Write fails at once.
				start = time.Now()
				n, err = p.Read(make([]byte, 8))
				if k := kindOf(n, err); k != gotEOF || time.Since(start) != to || raw.calls != tt.calls {
					t.Errorf("Read after hang-up = %d, %v (%v) in %v, %d raw reads; want EOF in %v, %d", n, err, k, time.Since(start), raw.calls, to, tt.calls)
				}
				if _, err := p.Write([]byte{1}); !errors.Is(err, io.EOF) {
					t.Errorf("Write after hang-up = %v, want io.EOF", err)
				}
				// Close interrupts the pacing wait.
				res := make(chan error)
				go func() {
					_, err := p.Read(make([]byte, 8))
					res <- err
				}()
				synctest.Wait()
				p.Close()
				if err := <-res; !errors.Is(err, os.ErrClosed) {
					t.Errorf("Read during Close = %v, want os.ErrClosed", err)
				}
			})
		})
	}
}

func TestSerialWriteError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		raw := &fakeRaw{writeErr: errors.New("write /dev/ttyUSB0: input/output error")}
		p := newSerialPort(raw, "/dev/fake", 200*time.Millisecond)
		if _, err := p.Write([]byte("x")); !errors.Is(err, io.EOF) {
			t.Errorf("Write = %v, want io.EOF", err)
		}
		if n, err := p.Read(make([]byte, 1)); kindOf(n, err) != gotEOF || raw.calls != 0 {
			t.Errorf("Read after a failed Write = %d, %v (%d raw reads); want io.EOF, no raw read", n, err, raw.calls)
		}
	})
}
