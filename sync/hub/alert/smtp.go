package alert

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// errNoTLS: the server offered no STARTTLS and is not on this machine, so
// the password stays home. Retried, since a server can be fixed; the
// attempt's error says why nothing was sent.
var errNoTLS = errors.New("the server offers no STARTTLS; not sending the password unencrypted")

func (d *Deliverer) email(ctx context.Context, a hubapi.Alert, t Target) Attempt {
	s := d.Config.SMTP
	if s == nil {
		return Attempt{Permanent: true, Err: "alert: email: no [smtp] table in the config"}
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return Attempt{Permanent: true, Err: fmt.Sprintf("alert: email: smtp.from: %v", err)}
	}
	msg := d.message(a, t, from, d.now())
	if err := d.sendMail(ctx, s, from.Address, t.Addr, msg); err != nil {
		at := Attempt{Err: "alert: email: " + err.Error()}
		var te *textproto.Error
		if errors.As(err, &te) {
			at.Status = strconv.Itoa(te.Code)
			// 5xx is the server's "do not send this again" (unknown
			// mailbox, login refused); 4xx is "later".
			at.Permanent = te.Code >= 500 && te.Code <= 599
		}
		return at
	}
	return Attempt{OK: true, Status: "250"}
}

// sendMail runs one SMTP session delivering msg to a single recipient.
func (d *Deliverer) sendMail(ctx context.Context, s *SMTPConfig, from, to string, msg []byte) (err error) {
	host, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("smtp.addr: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, SMTPTimeout)
	defer cancel()
	defer func() {
		// A session cut by the context fails with "use of closed
		// connection"; say what really happened.
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
	}()

	tlsConf := &tls.Config{ServerName: host, RootCAs: s.RootCAs, MinVersion: tls.VersionTLS12}
	dialer := &net.Dialer{}
	var conn net.Conn
	if port == "465" { // implicit TLS (RFC 8314)
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConf}).DialContext(ctx, "tcp", s.Addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", s.Addr)
	}
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	// net/smtp takes no context: a deadline and a close on cancel stand in.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	defer context.AfterFunc(ctx, func() { conn.Close() })()

	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(d.hostname()); err != nil {
		return fmt.Errorf("ehlo: %w", err)
	}
	if _, isTLS := c.TLSConnectionState(); !isTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConf); err != nil {
				return fmt.Errorf("starttls: %w", err)
			}
		}
	}
	if s.Username != "" {
		// net/smtp's PlainAuth refuses the same cases; checking first
		// gives a clearer message.
		if _, isTLS := c.TLSConnectionState(); !isTLS && !isLocalhost(host) {
			return errNoTLS
		}
		if err := c.Auth(smtp.PlainAuth("", s.Username, string(s.Password), host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("rcpt to: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := w.Close(); err != nil { // the server's verdict on the message
		return fmt.Errorf("data: %w", err)
	}
	// The message is accepted: a failing QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// isLocalhost is net/smtp's notion of a server where the password may go
// unencrypted.
func isLocalhost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// message is the RFC 5322 text of a to t: UTF-8 plain text,
// quoted-printable, with CRLF line ends.
func (d *Deliverer) message(a hubapi.Alert, t Target, from *mail.Address, now time.Time) []byte {
	var b bytes.Buffer
	h := func(name, value string) { fmt.Fprintf(&b, "%s: %s\r\n", name, value) }
	h("From", from.String())
	h("To", t.Addr)
	h("Subject", encodeHeader(a.Subject))
	h("Date", now.Format(time.RFC1123Z))
	h("Message-ID", messageID(a.ID, t, from.Address))
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	// Auto-Submitted (RFC 3834) keeps vacation responders from answering
	// the hub.
	h("Auto-Submitted", "auto-generated")
	h("X-Kioskhub-Alert", encodeHeader(a.ID))
	h("X-Kioskhub-Kind", encodeHeader(a.Kind))
	b.WriteString("\r\n")

	body := strings.TrimRight(a.Text, "\r\n ") + "\n"
	if u := incidentURL(d.Config.DashboardURL, a.Incident); u != "" {
		body += "\nBuka di dasbor: " + u + "\n"
	}
	body += "\n-- \nPesan otomatis dari kioskhub (Samsat Sumatera Barat).\n"
	qp := quotedprintable.NewWriter(&b) // also turns "\n" into CRLF
	qp.Write([]byte(body))
	qp.Close()
	return b.Bytes()
}

// encodeHeader makes s safe as a header value: no line breaks (they would
// start a new header), non-ASCII as RFC 2047 encoded words, folded
// between words so no line grows past the limit.
func encodeHeader(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
	return strings.ReplaceAll(mime.QEncoding.Encode("utf-8", s), "?= =?", "?=\r\n =?")
}

// messageID is the same for every attempt of one alert to one target, so a
// mail system that sees a retry of a message it has can drop it.
func messageID(alertID string, t Target, from string) string {
	domain := "kioskhub.invalid"
	if at := strings.LastIndexByte(from, '@'); at >= 0 && at < len(from)-1 {
		domain = from[at+1:]
	}
	sum := sha256.Sum256([]byte(t.ID()))
	return "<" + atom(alertID) + "." + hex.EncodeToString(sum[:4]) + "@" + domain + ">"
}

// atom keeps the characters allowed in a Message-ID's left part.
func atom(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+/=?^_`{|}~-", r)) {
			return r
		}
		return '-'
	}, s)
	if s == "" {
		return "alert"
	}
	return s
}
