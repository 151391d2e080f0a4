package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsbus"
)

// conn is kioskctl's connection to the hub's NATS.
type conn struct {
	nc *nats.Conn
}

// withConn connects, runs fn and closes the connection.
func (c *cli) withConn(ctx context.Context, fn func(*conn) error) error {
	nc, err := natsbus.Connect(natsbus.ClientConfig{URL: c.o.nats, Creds: c.o.creds, CA: c.o.ca,
		// Applied after natsbus's kiosk settings: an operator's name, the
		// standard inbox (operators may subscribe to _INBOX.>, not to a
		// kiosk's _INBOX_<id>) and no retrying of the first connect: a
		// CLI says at once that it cannot reach the hub.
		Options: []nats.Option{
			nats.Name("kioskctl"),
			nats.CustomInboxPrefix("_INBOX"),
			nats.RetryOnFailedConnect(false),
			nats.Timeout(c.o.timeout),
		}})
	if err != nil {
		hint := ""
		switch {
		case errors.Is(err, nats.ErrAuthorization) && c.o.creds == "":
			hint = ": the hub wants credentials: give --creds FILE (from 'kioskhub creds operator') or set KIOSKCTL_CREDS"
		case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthRevoked), errors.Is(err, nats.ErrAuthExpired):
			hint = ": the hub does not accept " + c.o.creds
		case errors.Is(err, nats.ErrNoServers):
			hint = ": is kioskhub running, and is the URL right?"
		}
		return fail(exitError, "cannot connect to %s: %v%s", c.o.nats, errors.Unwrap(err), hint)
	}
	defer nc.Close()
	return fn(&conn{nc: nc})
}

// credsName returns the name in the user JWT of a .creds file, "" when it
// cannot be read.
func credsName(file string) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	tok, err := jwt.ParseDecoratedJWT(b)
	if err != nil {
		return ""
	}
	uc, err := jwt.DecodeUserClaims(tok)
	if err != nil {
		return ""
	}
	return uc.Name
}

// cmd is one command to a kiosk with its headers.
type cmd struct {
	kiosk, verb string
	id          string    // Kiosk-Cmd-Id
	expires     time.Time // Kiosk-Cmd-Expires
	by          string    // Kiosk-Requested-By
	body        []byte
}

// newCmd prepares verb for kiosk id: a fresh UUIDv7 (or --cmd-id) and
// the expiry, in whole seconds of the display zone as RFC 3339 wants it.
func (c *cli) newCmd(id, verb string, body any) (cmd, error) {
	k := cmd{kiosk: id, verb: verb, id: c.o.cmdID, by: c.o.as,
		expires: c.now().Add(c.o.expires).In(c.tz).Truncate(time.Second)}
	if k.id == "" {
		u, err := uuid.NewV7()
		if err != nil {
			return k, fmt.Errorf("command id: %w", err)
		}
		k.id = u.String()
	}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return k, fmt.Errorf("command body: %w", err)
		}
		k.body = b
	}
	return k, nil
}

// send sends the command and decodes the reply. No responders means the
// kiosk is offline (exit 3); no reply in time is an error (exit 1).
func (c *cli) send(ctx context.Context, k *conn, m cmd) (kiosk.CommandReply, []byte, error) {
	var rep kiosk.CommandReply
	msg := nats.NewMsg(kiosk.CommandSubject(m.kiosk, m.verb))
	msg.Header.Set(kiosk.HeaderCmdID, m.id)
	msg.Header.Set(kiosk.HeaderCmdExpires, m.expires.Format(time.RFC3339))
	if m.by != "" {
		msg.Header.Set(kiosk.HeaderRequestedBy, m.by)
	}
	msg.Data = m.body
	rctx, cancel := context.WithTimeout(ctx, c.o.timeout)
	defer cancel()
	r, err := k.nc.RequestMsgWithContext(rctx, msg)
	switch {
	case err == nil:
	case errors.Is(err, nats.ErrNoResponders):
		c.offline(ctx, k, m.kiosk)
		return rep, nil, &failure{code: exitOffline}
	case ctx.Err() != nil:
		return rep, nil, fail(exitError, "interrupted before kiosk %s replied (cmd %s); it may still run the command", m.kiosk, m.id)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return rep, nil, fail(exitError, "timeout: no reply from kiosk %s to %s within %v (cmd %s); it may have run it anyway: "+
			"send it again with --cmd-id %s to get its reply without running it twice", m.kiosk, m.verb, c.o.timeout, m.id, m.id)
	default:
		return rep, nil, fail(exitError, "%s to kiosk %s: %v", m.verb, m.kiosk, err)
	}
	if err := json.Unmarshal(r.Data, &rep); err != nil {
		return rep, nil, fail(exitError, "kiosk %s sent a reply that is not a command reply: %v: %.200q", m.kiosk, err, r.Data)
	}
	return rep, r.Data, nil
}

// offline says that kiosk id is offline and, when the hub answers
// quickly, when it was last heard of.
func (c *cli) offline(ctx context.Context, k *conn, id string) {
	fmt.Fprintf(c.stderr, "kioskctl: kiosk %s is offline (no responders): it is not connected to the hub\n", id)
	body, _ := json.Marshal(hubapi.KioskRequest{Kiosk: id, Events: 1})
	rctx, cancel := context.WithTimeout(ctx, min(c.o.timeout, 2*time.Second))
	defer cancel()
	r, err := k.nc.RequestWithContext(rctx, "hub.kiosk", body)
	if err != nil {
		return
	}
	var rep hubapi.KioskReply
	if json.Unmarshal(r.Data, &rep) != nil {
		return
	}
	switch {
	case rep.Kiosk != nil && !rep.Kiosk.LastSeen.IsZero():
		fmt.Fprintf(c.stderr, "kioskctl: the hub last heard from %s at %s (%s); presence %s\n",
			id, c.when(rep.Kiosk.LastSeen), c.ago(rep.Kiosk.LastSeen), rep.Kiosk.Presence)
	case rep.Error != nil && rep.Error.Code == kiosk.CodeNotFound:
		fmt.Fprintf(c.stderr, "kioskctl: the hub has never heard of a kiosk %s: is the id right? (kioskctl ls lists them)\n", id)
	}
}

// hubRequest asks the hub's service on subject and decodes the reply.
func (c *cli) hubRequest(ctx context.Context, k *conn, subject string, req, rep any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, c.o.timeout)
	defer cancel()
	r, err := k.nc.RequestWithContext(rctx, subject, body)
	if err != nil {
		return c.hubErr(subject, err)
	}
	if err := json.Unmarshal(r.Data, rep); err != nil {
		return fail(exitError, "%s: bad reply from the hub: %v", subject, err)
	}
	return nil
}

// hubErr explains a failed request to the hub's service.
func (c *cli) hubErr(subject string, err error) error {
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return fail(exitError, "the hub does not answer on %s (no responders): is kioskhub running?", subject)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return fail(exitError, "timeout: no reply from the hub on %s within %v", subject, c.o.timeout)
	case errors.Is(err, context.Canceled):
		return fail(exitError, "interrupted")
	}
	return fail(exitError, "%s", strings.TrimPrefix(err.Error(), "natsbus: "))
}
