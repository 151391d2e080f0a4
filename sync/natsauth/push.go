package natsauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// ClaimsUpdateSubject is where a system account user sends an account JWT
// to the servers' account resolvers (nats-server's "full" directory
// resolver; DirAccResolver answers it on every server of a cluster).
const ClaimsUpdateSubject = "$SYS.REQ.CLAIMS.UPDATE"

// Push sends account JWT token over nc, a connection of the system
// account's user (SysCreds), and returns the server's verdict. The server
// stores the JWT in its resolver directory and applies it at once: clients
// of revoked users are disconnected.
func Push(ctx context.Context, nc *nats.Conn, token string) error {
	msg, err := nc.RequestWithContext(ctx, ClaimsUpdateSubject, []byte(token))
	if err != nil {
		return fmt.Errorf("natsauth: push account jwt: %w", err)
	}
	var r struct {
		Data *struct {
			Account string `json:"account"`
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"data"`
		Error *struct {
			Code        int    `json:"code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &r); err != nil {
		return fmt.Errorf("natsauth: push account jwt: bad reply %q: %w", msg.Data, err)
	}
	if r.Error != nil {
		return fmt.Errorf("natsauth: push account jwt: server: %s (%d)", r.Error.Description, r.Error.Code)
	}
	if r.Data == nil {
		return fmt.Errorf("natsauth: push account jwt: reply without verdict: %q", msg.Data)
	}
	return nil
}

// PushTo connects to url as the system user and pushes the current
// account JWT (an external cluster, or a hub reached over the network).
// ca, if set, is the CA file of the servers' TLS certificates.
func (a *Auth) PushTo(ctx context.Context, url, ca string) error {
	token, err := a.AccountJWT()
	if err != nil {
		return err
	}
	opts := []nats.Option{nats.Name("kioskhub creds"), nats.UserCredentials(a.SysCreds()), nats.MaxReconnects(0)}
	if d, ok := ctx.Deadline(); ok {
		opts = append(opts, nats.Timeout(time.Until(d)))
	}
	if ca != "" {
		opts = append(opts, nats.RootCAs(ca))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		if errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) {
			return fmt.Errorf("natsauth: %s does not trust this operator (%s): %w", url, a.dir, err)
		}
		return fmt.Errorf("natsauth: connect %s: %w", url, err)
	}
	defer nc.Close()
	return Push(ctx, nc, token)
}
