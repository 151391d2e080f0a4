// Package natsbus is the kiosk's side of NATS: how the agent connects (retry
// forever, custom inbox, explicit ping and reconnect settings) and the
// request/reply calls it makes to the hub, such as the plate lookup.
package natsbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
)

// ClientConfig configures a kiosk's connection.
type ClientConfig struct {
	URL   string // e.g. nats://hub.example:4222; comma-separated for a cluster
	ID    string // kiosk id: connection name and reply-inbox prefix
	Creds string // .creds file (JWT + NKey); "" for none
	// TLS: CA is the private CA that signed the hub's certificate (""
	// trusts the system's CAs); Cert and Key are the kiosk's client
	// certificate, when the hub asks for one.
	CA, Cert, Key string

	// Logger gets connection changes; nil discards them.
	Logger *slog.Logger
	// Extra options, applied last (tests: nats.InProcessServer).
	Options []nats.Option
}

// Connect connects to NATS and keeps reconnecting forever, also when the
// first attempt fails: a kiosk that boots while the hub or the network is
// down must come up and serve from its cache. The returned connection may
// therefore not be connected yet; check IsConnected.
func Connect(cfg ClientConfig) (*nats.Conn, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cl := &connLog{log: log} // connlog.go
	opts := []nats.Option{
		nats.Name("kioskd " + cfg.ID),
		nats.ReconnectErrHandler(cl.failed),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		// Jitter spreads the reconnects of hundreds of kiosks after a hub
		// restart so they do not arrive in one burst.
		nats.ReconnectJitter(time.Second, 2*time.Second),
		nats.PingInterval(15 * time.Second),
		nats.MaxPingsOutstanding(2),
		nats.Timeout(5 * time.Second),
		// Requests made while disconnected must fail at once, not sit in a
		// buffer until a reconnect: the agent answers from its cache.
		nats.ReconnectBufSize(-1),
		nats.CustomInboxPrefix(kiosk.InboxPrefix(cfg.ID)),
		nats.ConnectHandler(func(nc *nats.Conn) {
			cl.connected()
			log.Info("nats connected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			cl.connected()
			log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err == nil {
				return // our own Close: nothing to report
			}
			log.Warn("nats disconnected; reconnecting", "err", err)
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			log.Warn("nats error", "err", err)
		}),
	}
	if cfg.Creds != "" {
		opts = append(opts, nats.UserCredentials(cfg.Creds))
	}
	if cfg.CA != "" {
		opts = append(opts, nats.RootCAs(cfg.CA))
	}
	if cfg.Cert != "" || cfg.Key != "" {
		opts = append(opts, nats.ClientCert(cfg.Cert, cfg.Key))
	}
	opts = append(opts, cfg.Options...)
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("natsbus: connect %s: %w", cfg.URL, err)
	}
	return nc, nil
}

// ErrUnreachable is returned by calls to the hub when no answer could be
// had: disconnected, no responders, or no reply before the deadline.
var ErrUnreachable = errors.New("natsbus: hub unreachable")

// Lookup asks the hub's gateway for a plate on behalf of kiosk id. A reply
// that carries an error object is a successful call (err nil, reply.Error
// set); ErrUnreachable means the gateway could not be asked.
func Lookup(ctx context.Context, nc *nats.Conn, id string, req kiosk.LookupRequest) (kiosk.LookupReply, error) {
	var reply kiosk.LookupReply
	if !nc.IsConnected() {
		return reply, fmt.Errorf("%w: not connected (%s)", ErrUnreachable, nc.Status())
	}
	body, err := json.Marshal(req)
	if err != nil {
		return reply, fmt.Errorf("natsbus: lookup: %w", err)
	}
	msg, err := nc.RequestWithContext(ctx, kiosk.LookupSubject(id), body)
	if err != nil {
		// Every failure to get an answer is the same to the kiosk: the
		// gateway is out of reach, so fall back to the cache.
		return reply, fmt.Errorf("%w: lookup: %w", ErrUnreachable, err)
	}
	if err := json.Unmarshal(msg.Data, &reply); err != nil {
		return reply, fmt.Errorf("natsbus: lookup: bad reply: %w", err)
	}
	if reply.Error == nil && len(reply.Result) == 0 {
		return reply, errors.New("natsbus: lookup: reply has neither result nor error")
	}
	return reply, nil
}

// GatewayAlive pings the lookup gateway (the micro service "pkb"): nil
// when an instance answers, ErrUnreachable otherwise.
func GatewayAlive(ctx context.Context, nc *nats.Conn) error {
	if !nc.IsConnected() {
		return fmt.Errorf("%w: not connected (%s)", ErrUnreachable, nc.Status())
	}
	if _, err := nc.RequestWithContext(ctx, "$SRV.PING.pkb", nil); err != nil {
		return fmt.Errorf("%w: gateway ping: %w", ErrUnreachable, err)
	}
	return nil
}

// FetchContent asks the hub for the content bundle of the kiosk's office.
// The reply is Unchanged when the hub's version equals req.Have.
func FetchContent(ctx context.Context, nc *nats.Conn, id string, req kiosk.ContentRequest) (kiosk.ContentReply, error) {
	var reply kiosk.ContentReply
	if !nc.IsConnected() {
		return reply, fmt.Errorf("%w: not connected (%s)", ErrUnreachable, nc.Status())
	}
	body, err := json.Marshal(req)
	if err != nil {
		return reply, fmt.Errorf("natsbus: content: %w", err)
	}
	msg, err := nc.RequestWithContext(ctx, kiosk.ContentSubject(id), body)
	if err != nil {
		return reply, fmt.Errorf("%w: content: %w", ErrUnreachable, err)
	}
	if err := json.Unmarshal(msg.Data, &reply); err != nil {
		return reply, fmt.Errorf("natsbus: content: bad reply: %w", err)
	}
	if reply.Error != nil {
		return reply, fmt.Errorf("natsbus: content: hub: %w", reply.Error)
	}
	if reply.Bundle == nil && !reply.Unchanged {
		return reply, errors.New("natsbus: content: reply has neither bundle nor unchanged")
	}
	if reply.Bundle != nil {
		if err := reply.Bundle.Validate(); err != nil {
			return reply, fmt.Errorf("natsbus: content: %w", err)
		}
	}
	return reply, nil
}

// Skew asks the hub for its clock and returns hub minus local time, taking
// the local time half-way through the round trip.
func Skew(ctx context.Context, nc *nats.Conn, id string, now func() time.Time) (time.Duration, error) {
	if !nc.IsConnected() {
		return 0, fmt.Errorf("%w: not connected (%s)", ErrUnreachable, nc.Status())
	}
	t0 := now()
	msg, err := nc.RequestWithContext(ctx, kiosk.TimeSubject(id), nil)
	if err != nil {
		return 0, fmt.Errorf("%w: time: %w", ErrUnreachable, err)
	}
	t1 := now()
	var r kiosk.TimeReply
	if err := json.Unmarshal(msg.Data, &r); err != nil {
		return 0, fmt.Errorf("natsbus: time: bad reply: %w", err)
	}
	hub, err := time.Parse(time.RFC3339Nano, r.Now)
	if err != nil {
		return 0, fmt.Errorf("natsbus: time: bad reply: %w", err)
	}
	mid := t0.Add(t1.Sub(t0) / 2)
	return hub.Sub(mid), nil
}
