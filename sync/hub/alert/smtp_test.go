package alert

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCert makes a self-signed certificate for 127.0.0.1 and a pool that
// trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sink.test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// sink is an SMTP server for tests: it speaks enough of RFC 5321 for
// net/smtp (EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, RSET, QUIT) and
// keeps what it received.
type sink struct {
	ln        net.Listener
	tls       *tls.Config // nil: no STARTTLS
	user      string      // "": AUTH not offered
	pass      string
	rcptReply string // "": accept every recipient

	mu    sync.Mutex
	mails []sunk
	auths []string // "user:pass" of each AUTH seen, right or wrong
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

type sunk struct {
	from, to string
	tls      bool
	authed   string
	data     []byte
}

func startSink(t *testing.T, s *sink) *sink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	s.conns = map[net.Conn]bool{}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c)
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *sink) addr() string { return s.ln.Addr().String() }

func (s *sink) received() []sunk {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sunk(nil), s.mails...)
}

func (s *sink) serve(c net.Conn) {
	defer func() { c.Close() }()
	tp := textproto.NewConn(c)
	tp.PrintfLine("220 sink.test ESMTP ready")
	isTLS := false
	authed := ""
	var from, to string
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			ext := []string{"sink.test greets " + arg}
			if s.tls != nil && !isTLS {
				ext = append(ext, "STARTTLS")
			}
			if s.user != "" && (isTLS || s.tls == nil) {
				ext = append(ext, "AUTH PLAIN")
			}
			ext = append(ext, "8BITMIME")
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				tp.PrintfLine("250%s%s", sep, e)
			}
		case "STARTTLS":
			if s.tls == nil || isTLS {
				tp.PrintfLine("502 5.5.1 not now")
				continue
			}
			tp.PrintfLine("220 2.0.0 go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, tp, isTLS = tc, textproto.NewConn(tc), true
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			b, err := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(b), "\x00")
			if strings.ToUpper(mech) != "PLAIN" || err != nil || len(parts) != 3 {
				tp.PrintfLine("504 5.5.4 PLAIN with an initial response only")
				continue
			}
			s.mu.Lock()
			s.auths = append(s.auths, parts[1]+":"+parts[2])
			s.mu.Unlock()
			if parts[1] != s.user || parts[2] != s.pass {
				tp.PrintfLine("535 5.7.8 authentication failed")
				continue
			}
			authed = parts[1]
			tp.PrintfLine("235 2.7.0 authenticated")
		case "MAIL":
			from = addrArg(arg)
			tp.PrintfLine("250 2.1.0 ok")
		case "RCPT":
			if s.rcptReply != "" {
				tp.PrintfLine("%s", s.rcptReply)
				continue
			}
			to = addrArg(arg)
			tp.PrintfLine("250 2.1.5 ok")
		case "DATA":
			tp.PrintfLine("354 end with <CRLF>.<CRLF>")
			data, err := tp.ReadDotBytes() // undoes dot-stuffing, turns CRLF into LF
			if err != nil {
				return
			}
			s.mu.Lock()
			s.mails = append(s.mails, sunk{from: from, to: to, tls: isTLS, authed: authed, data: data})
			s.mu.Unlock()
			tp.PrintfLine("250 2.0.0 queued")
		case "RSET", "NOOP":
			tp.PrintfLine("250 2.0.0 ok")
		case "QUIT":
			tp.PrintfLine("221 2.0.0 bye")
			return
		default:
			tp.PrintfLine("502 5.5.2 unknown command")
		}
	}
}

// addrArg takes the address out of "FROM:<a@b> BODY=8BITMIME".
func addrArg(arg string) string {
	_, rest, _ := strings.Cut(arg, "<")
	addr, _, _ := strings.Cut(rest, ">")
	return addr
}

func emailConfig(s *sink, pool *x509.CertPool) Config {
	c := Config{
		DashboardURL: "https://hub.samsat-sumbar.go.id/",
		SMTP:         &SMTPConfig{Addr: s.addr(), From: "kioskhub@samsat-sumbar.go.id", RootCAs: pool},
	}
	if s.user != "" {
		c.SMTP.Username = s.user
		c.SMTP.Password = Secret(s.pass)
	}
	return c
}

var emailTarget = Target{Kind: KindEmail, Addr: "uptd.padang@samsat-sumbar.go.id", Route: "UPTD Padang"}

// parseMail reads what the sink received as a mail reader would.
func parseMail(t *testing.T, data []byte) (*mail.Message, string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("message does not parse: %v\n%s", err, data)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatalf("body is not quoted-printable: %v", err)
	}
	return m, string(body)
}

func TestEmailSTARTTLS(t *testing.T) {
	cert, pool := testCert(t)
	s := startSink(t, &sink{tls: &tls.Config{Certificates: []tls.Certificate{cert}}, user: "kioskhub", pass: "rahasia"})
	now := time.Date(2026, 3, 9, 8, 16, 0, 0, time.FixedZone("WIB", 7*3600))
	d := &Deliverer{Config: emailConfig(s, pool), Hostname: "hub.test", Now: func() time.Time { return now }}
	a := testAlert()
	a.Subject = "Insiden kios PDG-01: kertas habis – segera ganti ✓ (UPTD Padang, Jl. Khatib Sulaiman)"
	a.Text = "Kios PDG-01 kehabisan kertas.\n.\nBaris di atas hanya berisi titik; ±20 struk gagal dicetak."

	at := d.Deliver(t.Context(), a, emailTarget)
	if !at.OK || at.Status != "250" || at.Err != "" {
		t.Fatalf("Deliver() = %+v, want OK", at)
	}
	got := s.received()
	if len(got) != 1 {
		t.Fatalf("sink received %d messages, want 1", len(got))
	}
	m := got[0]
	if !m.tls || m.authed != "kioskhub" || m.from != "kioskhub@samsat-sumbar.go.id" || m.to != emailTarget.Addr {
		t.Errorf("session: tls %v, auth %q, from %q, to %q; want TLS, kioskhub, the config's from and the target", m.tls, m.authed, m.from, m.to)
	}
	msg, body := parseMail(t, m.data)
	h := msg.Header
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != a.Subject {
		t.Errorf("Subject decodes to %q (%v), want %q", subject, err, a.Subject)
	}
	if raw := h.Get("Subject"); !strings.HasPrefix(raw, "=?utf-8?q?") {
		t.Errorf("raw Subject %q is not Q-encoded", raw)
	}
	for line := range strings.SplitSeq(string(m.data), "\n") {
		if len(line) > 998 { // RFC 5322 2.1.1
			t.Errorf("line of %d characters: %q", len(line), line)
		}
	}
	if date, err := h.Date(); err != nil || !date.Equal(now) {
		t.Errorf("Date = %v (%v), want %v", date, err, now)
	}
	for k, want := range map[string]string{
		"From":                      "<kioskhub@samsat-sumbar.go.id>",
		"To":                        "uptd.padang@samsat-sumbar.go.id",
		"MIME-Version":              "1.0",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
		"Auto-Submitted":            "auto-generated",
		"X-Kioskhub-Alert":          "al-20260309-0001",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	id := h.Get("Message-ID")
	if !strings.HasPrefix(id, "<al-20260309-0001.") || !strings.HasSuffix(id, "@samsat-sumbar.go.id>") {
		t.Errorf("Message-ID %q, want <alert id.hash@sender domain>", id)
	}
	for _, want := range []string{a.Text, "Buka di dasbor: https://hub.samsat-sumbar.go.id/incidents/inc-42"} {
		if !strings.Contains(body, want) {
			t.Errorf("body\n%s\nlacks %q", body, want)
		}
	}

	// A retry is the same message to a mail system: same Message-ID.
	if at := d.Deliver(t.Context(), a, emailTarget); !at.OK {
		t.Fatalf("second Deliver() = %+v", at)
	}
	got = s.received()
	if msg2, _ := parseMail(t, got[1].data); msg2.Header.Get("Message-ID") != id {
		t.Errorf("retry has Message-ID %q, want %q", msg2.Header.Get("Message-ID"), id)
	}
}

// A server on this machine without TLS may get the password (net/smtp's
// rule, e.g. a local relay); mail goes out in any case.
func TestEmailPlainToLocalhost(t *testing.T) {
	s := startSink(t, &sink{user: "kioskhub", pass: "rahasia"})
	d := &Deliverer{Config: emailConfig(s, nil), Hostname: "hub.test"}
	if at := d.Deliver(t.Context(), testAlert(), emailTarget); !at.OK {
		t.Fatalf("Deliver() = %+v, want OK", at)
	}
	if got := s.received(); len(got) != 1 || got[0].tls || got[0].authed != "kioskhub" {
		t.Errorf("sink received %+v, want one message, authenticated, without TLS", got)
	}
}

// A certificate the hub does not trust stops the session before the
// password is sent; that may be fixed on the server, so it is retried.
func TestEmailUntrustedCertificate(t *testing.T) {
	cert, _ := testCert(t)
	_, otherPool := testCert(t)
	s := startSink(t, &sink{tls: &tls.Config{Certificates: []tls.Certificate{cert}}, user: "kioskhub", pass: "rahasia"})
	d := &Deliverer{Config: emailConfig(s, otherPool), Hostname: "hub.test"}
	at := d.Deliver(t.Context(), testAlert(), emailTarget)
	if at.OK || at.Permanent || !strings.Contains(at.Err, "starttls") {
		t.Errorf("Deliver() = %+v, want a starttls failure to retry", at)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.auths) != 0 || len(s.mails) != 0 {
		t.Errorf("sink saw AUTH %q and %d messages, want none", s.auths, len(s.mails))
	}
}

func TestEmailServerReplies(t *testing.T) {
	for _, tt := range []struct {
		name      string
		sink      *sink
		permanent bool
		status    string
	}{
		{"mailbox unknown", &sink{rcptReply: "550 5.1.1 no such mailbox"}, true, "550"},
		{"greylisted", &sink{rcptReply: "451 4.7.1 try again later"}, false, "451"},
		{"wrong password", &sink{user: "kioskhub", pass: "other"}, true, "535"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := startSink(t, tt.sink)
			c := emailConfig(s, nil)
			if c.SMTP.Username != "" {
				c.SMTP.Password = "rahasia"
			}
			at := (&Deliverer{Config: c, Hostname: "hub.test"}).Deliver(t.Context(), testAlert(), emailTarget)
			if at.OK || at.Permanent != tt.permanent || at.Status != tt.status {
				t.Errorf("Deliver() = %+v, want permanent %v, status %s", at, tt.permanent, tt.status)
			}
			if strings.Contains(at.Err, "rahasia") {
				t.Errorf("Err %q shows the password", at.Err)
			}
		})
	}
}

func TestEmailServerDown(t *testing.T) {
	c := Config{SMTP: &SMTPConfig{Addr: closedAddr(t), From: "kioskhub@example.org"}}
	at := (&Deliverer{Config: c}).Deliver(t.Context(), testAlert(), emailTarget)
	if at.OK || at.Permanent || !strings.Contains(at.Err, "dial") {
		t.Errorf("Deliver() = %+v, want a dial failure to retry", at)
	}
}

func TestEmailWithoutSMTP(t *testing.T) {
	at := (&Deliverer{}).Deliver(t.Context(), testAlert(), emailTarget)
	if at.OK || !at.Permanent {
		t.Errorf("Deliver() = %+v, want a permanent failure", at)
	}
}

// TestMessageHeaderInjection: a subject with a line break cannot add a
// header.
func TestMessageHeaderInjection(t *testing.T) {
	a := testAlert()
	a.Subject = "kertas habis\r\nBcc: someone@evil.example"
	from := &mail.Address{Address: "kioskhub@example.org"}
	raw := (&Deliverer{}).message(a, emailTarget, from, testQueued)
	m, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Bcc") != "" {
		t.Errorf("the subject added a Bcc header:\n%s", raw)
	}
}
