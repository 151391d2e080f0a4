package printerdev

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// listenPrinter accepts one connection on 127.0.0.1 and hands it over.
func listenPrinter(t *testing.T) (addr string, accepted <-chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(ch)
			return
		}
		t.Cleanup(func() { c.Close() })
		ch <- c
	}()
	return ln.Addr().String(), ch
}

func openTCPPair(t *testing.T) (Port, net.Conn) {
	t.Helper()
	addr, accepted := listenPrinter(t)
	s, err := ParseSpec("tcp:" + addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Open(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if got := p.Transport(); got != "tcp" {
		t.Errorf("Transport() = %q, want tcp", got)
	}
	select {
	case c := <-accepted:
		return p, c
	case <-time.After(2 * time.Second):
		t.Fatal("no connection accepted")
		return nil, nil
	}
}

func TestTCPDataAndDeadline(t *testing.T) {
	checkLeaks(t)
	p, peer := openTCPPair(t)

	// Nothing sent: the read deadline.
	start := time.Now()
	n, err := p.Read(make([]byte, 8))
	el := time.Since(start)
	if k := kindOf(n, err); k != gotDeadline {
		t.Fatalf("Read = %d, %v (%v); want a deadline error", n, err, k)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("Read error %v is not a net timeout", err)
	}
	if el < 150*time.Millisecond || el > 400*time.Millisecond {
		t.Errorf("Read timed out after %v, want about 200 ms", el)
	}

	in := []byte{0x16, 0x12}
	if _, err := peer.Write(in); err != nil {
		t.Fatal(err)
	}
	if got := readFull(t, p, len(in), 2*time.Second); string(got) != string(in) {
		t.Errorf("Read got % x, want % x", got, in)
	}

	out := []byte("\x1b@receipt\n\x1dV\x00")
	if n, err := p.Write(out); n != len(out) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	peer.SetReadDeadline(time.Now().Add(2 * time.Second))
	got := make([]byte, len(out))
	if _, err := io.ReadFull(peer, got); err != nil || string(got) != string(out) {
		t.Errorf("peer read %q, %v; want %q", got, err, out)
	}

	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := p.Write(out); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close = %v, want os.ErrClosed", err)
	}
}

func TestTCPPeerClose(t *testing.T) {
	checkLeaks(t)
	p, peer := openTCPPair(t)
	peer.Close()

	buf := make([]byte, 8)
	n, err := p.Read(buf)
	if k := kindOf(n, err); k != gotEOF {
		t.Fatalf("Read after peer close = %d, %v (%v); want io.EOF", n, err, k)
	}
	// No spinning on a dead connection.
	calls := 0
	for start := time.Now(); time.Since(start) < 500*time.Millisecond; calls++ {
		if n, err := p.Read(buf); kindOf(n, err) != gotEOF {
			t.Fatalf("Read = %d, %v; want io.EOF again", n, err)
		}
	}
	if calls > 5 {
		t.Errorf("%d Reads in 500 ms after the peer closed: busy loop", calls)
	}
	if _, err := p.Write([]byte("x")); !errors.Is(err, io.EOF) {
		t.Errorf("Write after peer close = %v, want io.EOF", err)
	}
}

func TestTCPPeerReset(t *testing.T) {
	checkLeaks(t)
	p, peer := openTCPPair(t)
	peer.(*net.TCPConn).SetLinger(0) // close sends RST
	peer.Close()
	n, err := p.Read(make([]byte, 8))
	if k := kindOf(n, err); k != gotEOF {
		t.Fatalf("Read after reset = %d, %v (%v); want io.EOF", n, err, k)
	}
	if !strings.Contains(err.Error(), "reset") {
		t.Errorf("Read after reset = %v, want the cause named", err)
	}
}

func TestTCPCloseDuringRead(t *testing.T) {
	checkLeaks(t)
	p, _ := openTCPPair(t)
	res := make(chan error, 1)
	go func() {
		buf := make([]byte, 8)
		for {
			n, err := p.Read(buf)
			if kindOf(n, err) != gotDeadline {
				res <- err
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	within(t, "Close", time.Second, func() { p.Close() })
	if err := <-res; !errors.Is(err, os.ErrClosed) {
		t.Errorf("Read during Close = %v, want os.ErrClosed", err)
	}
}

func TestTCPOpenRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Open(t.Context(), Spec{Kind: KindTCP, Addr: addr})
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("Open(closed port) = %v, want an error naming %s", err, addr)
	}
}

func TestOpenNoneAndUnknown(t *testing.T) {
	for _, s := range []Spec{{Kind: KindNone}, {Kind: "lpt"}, {}} {
		if p, err := Open(t.Context(), s); err == nil {
			p.Close()
			t.Errorf("Open(%+v) succeeded, want an error", s)
		}
	}
}
