package natsbus

import (
	"log/slog"
	"sync"

	"github.com/nats-io/nats.go"
)

// connLog reports why (re)connecting fails, once per distinct reason: a
// kiosk retries every second or two, and an untrusted certificate, a
// revoked credential or a refused login must show in its log without
// flooding it.
type connLog struct {
	log *slog.Logger

	mu   sync.Mutex // guards last
	last string     // the reason last logged; "" once connected
}

func (c *connLog) failed(_ *nats.Conn, err error) {
	if err == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := err.Error(); s != c.last {
		c.last = s
		c.log.Warn("nats connect failed; retrying", "err", err)
	}
}

func (c *connLog) connected() {
	c.mu.Lock()
	c.last = ""
	c.mu.Unlock()
}
