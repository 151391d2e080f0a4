package printerdev

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"testing"
	"time"
)

// checkLeaks records the goroutine count and, at cleanup, waits up to 2 s
// for it to fall back. Tests in this package do not run in parallel.
func checkLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(2 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("%d goroutines after the test, %d before:\n%s", n, before, buf)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

type readKind int

const (
	gotData readKind = iota
	gotDeadline
	gotEOF
	gotOther
)

func (k readKind) String() string {
	return [...]string{"data", "deadline", "EOF", "other"}[k]
}

// kindOf sorts a Read result by the Port contract.
func kindOf(n int, err error) readKind {
	switch {
	case n > 0 && err == nil:
		return gotData
	case n == 0 && errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, io.EOF):
		return gotDeadline
	case n == 0 && errors.Is(err, io.EOF) && !errors.Is(err, os.ErrDeadlineExceeded):
		return gotEOF
	}
	return gotOther
}

// readFull reads from p until it has want bytes, tolerating deadline
// errors, for at most d.
func readFull(t *testing.T, p io.Reader, want int, d time.Duration) []byte {
	t.Helper()
	var got bytes.Buffer
	buf := make([]byte, 64)
	end := time.Now().Add(d)
	for got.Len() < want && time.Now().Before(end) {
		n, err := p.Read(buf)
		got.Write(buf[:n])
		if err != nil && kindOf(n, err) != gotDeadline {
			t.Fatalf("Read: %v (after %q)", err, got.Bytes())
		}
	}
	return got.Bytes()
}

// within runs f and fails if it takes longer than d.
func within(t *testing.T, what string, d time.Duration, f func()) time.Duration {
	t.Helper()
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return time.Since(start)
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
		return 0
	}
}
