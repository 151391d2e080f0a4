package printerdev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// tcpPort is a Port over a TCP connection (raw port 9100, "JetDirect").
type tcpPort struct {
	conn    net.Conn
	name    string // "tcp host:port", for errors
	timeout time.Duration

	life
	closeErr error // set once by Close
}

func openTCP(ctx context.Context, s Spec) (*tcpPort, error) {
	d := net.Dialer{
		Timeout: DialTimeout,
		// A printer that loses power without a FIN is noticed in about
		// Idle + Interval*Count = 30 s even when we only read.
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3},
	}
	c, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return nil, fmt.Errorf("printerdev: open tcp %s: %w", s.Addr, err)
	}
	return &tcpPort{conn: c, name: "tcp " + s.Addr, timeout: ReadTimeout, life: newLife()}, nil
}

func (p *tcpPort) Transport() string { return KindTCP }

// Read sets a read deadline of the read timeout and reads. The timeout
// error is net's own, which wraps os.ErrDeadlineExceeded.
func (p *tcpPort) Read(b []byte) (int, error) {
	op := p.name + " read"
	if p.closed() {
		return 0, closedErr(op)
	}
	if len(b) == 0 {
		return 0, nil
	}
	if p.goneErr() != nil {
		return p.readGone(op, p.timeout)
	}
	if err := p.conn.SetReadDeadline(time.Now().Add(p.timeout)); err != nil {
		return 0, p.classify(op, err)
	}
	n, err := p.conn.Read(b)
	if n > 0 {
		return n, nil
	}
	if err == nil { // not done by net.Conn; be safe
		return 0, deadlineErr(op, nil)
	}
	return 0, p.classify(op, err)
}

func (p *tcpPort) classify(op string, err error) error {
	switch {
	case p.closed() || errors.Is(err, net.ErrClosed):
		return closedErr(op)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return deadlineErr(op, err)
	default: // io.EOF, ECONNRESET, EPIPE, ETIMEDOUT from keep-alive...
		return p.markGone(goneErr(op, err))
	}
}

// tcpWriteChunk is the most one Write call to the socket carries, so that
// WriteTimeout means "no progress for 5 s" even for a large raster image.
const tcpWriteChunk = 16 << 10

// Write writes b in chunks of tcpWriteChunk, each within WriteTimeout; any
// error marks the port gone.
func (p *tcpPort) Write(b []byte) (int, error) {
	op := p.name + " write"
	if p.closed() {
		return 0, closedErr(op)
	}
	if err := p.goneErr(); err != nil {
		return 0, goneErr(op, errors.New("connection lost"))
	}
	written := 0
	for written < len(b) {
		if err := p.conn.SetWriteDeadline(time.Now().Add(WriteTimeout)); err != nil {
			return written, p.writeErr(op, err)
		}
		n, err := p.conn.Write(b[written:min(len(b), written+tcpWriteChunk)])
		written += n
		if err != nil {
			return written, p.writeErr(op, err)
		}
	}
	return written, nil
}

func (p *tcpPort) writeErr(op string, err error) error {
	if p.closed() || errors.Is(err, net.ErrClosed) {
		return closedErr(op)
	}
	p.markGone(goneErr(p.name+" read", err))
	if err == io.EOF {
		err = errors.New("connection closed")
	}
	return goneErr(op, err)
}

// Close closes the connection; a blocked Read or Write returns at once.
func (p *tcpPort) Close() error {
	p.closeOnce.Do(func() {
		close(p.done)
		if err := p.conn.Close(); err != nil {
			p.closeErr = fmt.Errorf("printerdev: close %s: %w", p.name, err)
		}
	})
	return p.closeErr
}
