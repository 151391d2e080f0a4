package printersim

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Errors that callers map: ErrConfig to a usage error (exit 2), ErrBadState
// to HTTP 400.
var (
	ErrConfig   = errors.New("printersim: bad config")
	ErrBadState = errors.New("printersim: bad state")
)

// Models.
const (
	ModelEpson = "epson" // TM-T88-class: near-end sensor, autocutter
	ModelPOS58 = "pos58" // 58 mm clone (ZJ-5870/POS-58): no near-end sensor, no cutter
)

// Paper states (State.Paper).
const (
	PaperOK      = "ok"
	PaperNearEnd = "near_end"
	PaperOut     = "out"
)

// Error states (State.Error).
const (
	ErrorNone          = ""
	ErrorCutter        = "cutter"
	ErrorUnrecoverable = "unrecoverable"
	ErrorRecoverable   = "recoverable"
)

// MaxSlowMS is the largest State.SlowMS accepted.
const MaxSlowMS = 60_000

// writeTimeout bounds a write to a session; what does not fit is dropped.
const writeTimeout = 50 * time.Millisecond

// Config says where the printer listens and what it is.
type Config struct {
	// PTY is the symlink to create for the slave side, e.g.
	// /run/kiosk/printer0 ("" = no pty). Missing parent directories are
	// created. An existing symlink is replaced; anything else is an error.
	PTY string
	// TCP is the listen address of a raw 9100-style port ("" = none); port
	// 0 picks a free port, which is kept across unplug and replug.
	TCP string
	// Model is "epson" (near-end sensor, cutter; the default) or "pos58"
	// (58 mm clone: no near-end sensor, so DLE EOT 4 and GS r never report
	// near end; no cutter, so GS V, ESC i and ESC m are ignored).
	Model string
	// Columns is the Font A line width: 32, 42 or 48. 0 picks the model's:
	// epson 42 (TM-T88-class, 512 dots), pos58 32 (384 dots).
	Columns int
	// Rand makes State.Garbage bytes. If nil, a generator seeded from the
	// runtime's random source is used.
	Rand *rand.Rand
}

// State is what the printer's sensors and mechanism report; it is also the
// JSON of the control API (DESIGN 6).
type State struct {
	Paper     string `json:"paper"`      // ok | near_end | out
	CoverOpen bool   `json:"cover_open"` //
	Offline   bool   `json:"offline"`    // offline for another reason (e.g. the online button)
	Unplugged bool   `json:"unplugged"`  // pty and TCP gone (power cut, cable out)
	Error     string `json:"error"`      // "" | cutter | unrecoverable | recoverable
	SlowMS    int    `json:"slow_ms"`    // delay of every reply, milliseconds
	Garbage   bool   `json:"garbage"`    // random non-status bytes before every transmission
}

// Validate reports a value outside the documented sets; the error wraps
// ErrBadState.
func (st State) Validate() error {
	switch st.Paper {
	case PaperOK, PaperNearEnd, PaperOut:
	default:
		return fmt.Errorf("%w: paper %q: want ok, near_end or out", ErrBadState, st.Paper)
	}
	switch st.Error {
	case ErrorNone, ErrorCutter, ErrorUnrecoverable, ErrorRecoverable:
	default:
		return fmt.Errorf("%w: error %q: want \"\", cutter, unrecoverable or recoverable", ErrBadState, st.Error)
	}
	if st.SlowMS < 0 || st.SlowMS > MaxSlowMS {
		return fmt.Errorf("%w: slow_ms %d: want 0..%d", ErrBadState, st.SlowMS, MaxSlowMS)
	}
	return nil
}

// offline reports whether the printer is offline, for whatever reason.
func (st State) offline() bool {
	return st.Offline || st.CoverOpen || st.Paper == PaperOut || st.Error != ErrorNone
}

// Sim is a running virtual printer. Its methods may be called from any
// goroutine.
type Sim struct {
	cfg Config // immutable after Start (defaults filled in)

	wg sync.WaitGroup // every goroutine the Sim started: pty reader, acceptor, TCP readers

	// mu guards the fields below, the sessions' parser and ASB fields, and
	// every write to a session (writes are bounded by writeTimeout).
	// It is the only mutex of the package.
	mu       sync.Mutex
	state    State
	closed   bool
	pty      *ptyDev // nil when there is no pty or it is unplugged
	ln       net.Listener
	tcpAddr  string // bound address, reused on replug
	sessions map[*session]struct{}
	out      strings.Builder // printed output
	r        render          // print modes and the print buffer
	rng      *rand.Rand
}

// conn is one way in: the pty master or a TCP connection.
type conn interface {
	io.ReadWriteCloser
	SetWriteDeadline(time.Time) error
}

// session is the host's end of one conn.
type session struct {
	c    conn
	stop chan struct{} // closed when the session is closed
	done chan struct{} // closed when its reader goroutine has returned

	// guarded by Sim.mu
	closed bool
	asb    byte // GS a items (bits 0-3); 0 = off
	rt     rtScanner
	p      parser
}

// ptyDev is a plugged-in pty.
type ptyDev struct {
	master *os.File
	slave  *os.File // held open so master reads never fail with EIO
	pts    string   // /dev/pts/N
}

// Start checks cfg, opens the pty and the TCP port and starts serving.
// The printer starts healthy: paper ok, online, no error.
func Start(cfg Config) (*Sim, error) {
	switch cfg.Model {
	case "":
		cfg.Model = ModelEpson
	case ModelEpson, ModelPOS58:
	default:
		return nil, fmt.Errorf("%w: model %q: want epson or pos58", ErrConfig, cfg.Model)
	}
	switch cfg.Columns {
	case 0:
		cfg.Columns = 42
		if cfg.Model == ModelPOS58 {
			cfg.Columns = 32
		}
	case 32, 42, 48:
	default:
		return nil, fmt.Errorf("%w: columns %d: want 32, 42 or 48", ErrConfig, cfg.Columns)
	}
	if cfg.PTY != "" {
		abs, err := filepath.Abs(cfg.PTY)
		if err != nil {
			return nil, fmt.Errorf("%w: pty %q: %v", ErrConfig, cfg.PTY, err)
		}
		cfg.PTY = abs
	}
	rng := cfg.Rand
	if rng == nil {
		rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	s := &Sim{
		cfg:      cfg,
		state:    State{Paper: PaperOK},
		tcpAddr:  cfg.TCP,
		sessions: map[*session]struct{}{},
		rng:      rng,
	}
	s.mu.Lock()
	err := s.plugLocked()
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Model returns the model simulated ("epson" or "pos58").
func (s *Sim) Model() string { return s.cfg.Model }

// Columns returns the Font A line width.
func (s *Sim) Columns() int { return s.cfg.Columns }

// PTYLink returns the symlink path of Config.PTY (made absolute), "" if none.
func (s *Sim) PTYLink() string { return s.cfg.PTY }

// PTYPath returns the slave device the symlink points to, /dev/pts/N, or ""
// while unplugged or without a pty.
func (s *Sim) PTYPath() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pty == nil {
		return ""
	}
	return s.pty.pts
}

// TCPAddr returns the TCP address the printer listens on (also while
// unplugged: it listens there again after replug), "" without TCP.
func (s *Sim) TCPAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.TCP == "" {
		return ""
	}
	return s.tcpAddr
}

// State returns the current state.
func (s *Sim) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// SetState replaces the state. Values are checked first (errors wrap
// ErrBadState). Unplugged true closes the pty master (the host's reads see
// hang-up), removes the symlink and closes the TCP listener and
// connections; false again opens a new pty, re-points the symlink and
// listens again. A change of an item selected with GS a sends an ASB block.
func (s *Sim) SetState(st State) error {
	return s.update(func(State) (State, error) { return st, nil })
}

// PatchState applies a JSON object whose fields (those of State) are the
// ones to change, as POST /state does, and returns the new state. Unknown
// fields, wrong types and bad values are errors wrapping ErrBadState.
func (s *Sim) PatchState(js []byte) (State, error) {
	p, err := parsePatch(js)
	if err != nil {
		return State{}, err
	}
	var next State
	err = s.update(func(cur State) (State, error) {
		next = p.apply(cur)
		return next, nil
	})
	return next, err
}

// update moves to the state fn returns, atomically with respect to other
// updates, and then waits for the readers of closed sessions to return.
func (s *Sim) update(fn func(State) (State, error)) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errors.New("printersim: closed")
	}
	st, err := fn(s.state)
	if err == nil {
		err = st.Validate()
	}
	if err != nil {
		s.mu.Unlock()
		return err
	}
	old := s.state
	var gone []*session
	switch {
	case st.Unplugged && !old.Unplugged:
		gone = s.unplugLocked()
		s.state = st
	case !st.Unplugged && old.Unplugged:
		if err := s.plugLocked(); err != nil {
			s.mu.Unlock()
			return fmt.Errorf("printersim: replug: %w", err)
		}
		s.state = st
	default:
		before := s.asbBlockLocked()
		s.state = st
		after := s.asbBlockLocked()
		for ss := range s.sessions {
			if ss.asb != 0 && asbChanged(ss.asb, before, after) {
				s.sendLocked(ss, after[:])
			}
		}
	}
	s.mu.Unlock()
	for _, ss := range gone {
		<-ss.done
	}
	return nil
}

// plugLocked opens the TCP listener and the pty and starts serving them.
// On error nothing is left open.
func (s *Sim) plugLocked() error {
	s.r.reset() // power on
	var ln net.Listener
	if s.cfg.TCP != "" {
		var err error
		if ln, err = net.Listen("tcp", s.tcpAddr); err != nil {
			return fmt.Errorf("printersim: tcp: %w", err)
		}
	}
	if s.cfg.PTY != "" {
		master, slave, pts, err := openPTY()
		if err == nil {
			if err = linkPTY(s.cfg.PTY, pts); err != nil {
				master.Close()
				slave.Close()
			}
		}
		if err != nil {
			if ln != nil {
				ln.Close()
			}
			return fmt.Errorf("printersim: pty: %w", err)
		}
		ss := newSession(master)
		s.pty = &ptyDev{master: master, slave: slave, pts: pts}
		s.startSessionLocked(ss)
	}
	if ln != nil {
		s.ln = ln
		s.tcpAddr = ln.Addr().String()
		s.wg.Add(1)
		go s.accept(ln)
	}
	return nil
}

// unplugLocked closes the pty, the listener and every session, and removes
// the symlink. It returns the sessions whose readers the caller must wait
// for, after unlocking mu.
func (s *Sim) unplugLocked() []*session {
	var gone []*session
	for ss := range s.sessions {
		gone = append(gone, ss)
		s.closeSessionLocked(ss)
	}
	if p := s.pty; p != nil {
		s.pty = nil
		p.slave.Close()
		unlinkPTY(s.cfg.PTY, p.pts)
	}
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
	return gone
}

// Close stops the printer: closes the pty, the TCP port and every
// connection, waits for every goroutine it started and removes the
// symlink. It is safe to call more than once.
func (s *Sim) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.unplugLocked()
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func newSession(c conn) *session {
	return &session{c: c, stop: make(chan struct{}), done: make(chan struct{})}
}

func (s *Sim) startSessionLocked(ss *session) {
	s.sessions[ss] = struct{}{}
	s.wg.Add(1)
	go s.serve(ss)
}

func (s *Sim) closeSessionLocked(ss *session) {
	if ss.closed {
		return
	}
	ss.closed = true
	close(ss.stop)
	ss.c.Close()
	delete(s.sessions, ss)
}

// accept serves one listener until it is closed.
func (s *Sim) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil { // e.g. too many open files: pause, then retry
			t := time.NewTimer(50 * time.Millisecond)
			<-t.C
			continue
		}
		s.mu.Lock()
		if s.closed || s.ln != ln {
			s.mu.Unlock()
			c.Close()
			continue // the listener is closed: the next Accept returns
		}
		s.startSessionLocked(newSession(c))
		s.mu.Unlock()
	}
}

// serve reads one session until it is closed or the peer goes away.
func (s *Sim) serve(ss *session) {
	defer s.wg.Done()
	defer close(ss.done)
	buf := make([]byte, 4096)
	for {
		n, err := ss.c.Read(buf)
		if n > 0 && !s.handle(ss, buf[:n]) {
			err = io.EOF
		}
		if err != nil {
			s.mu.Lock()
			s.closeSessionLocked(ss)
			s.mu.Unlock()
			return
		}
	}
}

// handle feeds bytes from the host to the printer and sends the replies,
// each after State.SlowMS. It reports false if the session was closed
// meanwhile.
func (s *Sim) handle(ss *session, data []byte) bool {
	s.mu.Lock()
	replies := s.feedLocked(ss, data)
	s.mu.Unlock()
	for _, r := range replies {
		s.mu.Lock()
		slow := time.Duration(s.state.SlowMS) * time.Millisecond
		s.mu.Unlock()
		if slow > 0 {
			t := time.NewTimer(slow)
			select {
			case <-t.C:
			case <-ss.stop:
				t.Stop()
				return false
			}
		}
		s.mu.Lock()
		if !ss.closed {
			switch { // status replies tell the state when they are sent
			case r.status != 0:
				r.b = []byte{s.statusLocked(r.status)}
			case r.asb:
				blk := s.asbBlockLocked()
				r.b = blk[:]
			}
			s.sendLocked(ss, r.b)
		}
		s.mu.Unlock()
	}
	return true
}

// sendLocked writes one transmission, with garbage before it if asked.
// Errors are ignored: the reader sees the session end.
func (s *Sim) sendLocked(ss *session, b []byte) {
	if ss.closed {
		return
	}
	if s.state.Garbage {
		g := make([]byte, 1+s.rng.IntN(3), 3+len(b))
		for i := range g {
			g[i] = 0x80 | byte(s.rng.IntN(0x80))
		}
		b = append(g, b...)
	}
	ss.c.SetWriteDeadline(time.Now().Add(writeTimeout))
	ss.c.Write(b)
}

// Output returns everything printed so far as text, with a line
// "--- CUT ---" at each cut.
func (s *Sim) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// ResetOutput forgets the output printed so far (not the print buffer).
func (s *Sim) ResetOutput() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out.Reset()
}
