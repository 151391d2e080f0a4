package hubserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/sync/natsauth"
)

// ErrConfig marks errors in the configuration of NATS security that no
// retry fixes (kioskhub exits with 2).
var ErrConfig = errors.New("hubserver: configuration")

// authPoll is how often the running hub looks for a changed account JWT
// (a revocation by `kioskhub creds revoke`, another process).
const authPoll = time.Second

// authState is the operator (JWT) mode of the embedded server
// (DESIGN 4.7). The trust material is in <data>/auth (natsauth); the
// server resolves accounts with a directory resolver in <data>/auth/jwt.
// A revocation reaches the running server like this: `kioskhub creds
// revoke` rewrites auth/account.jwt; the hub notices within authPoll and
// pushes it through the system account ($SYS.REQ.CLAIMS.UPDATE, over an
// in-process connection), the server applies it at once (closing the
// revoked users' connections) and stores it in the resolver directory, and
// the hub records it as applied, which the command waits for.
type authState struct {
	auth    *natsauth.Auth
	release func() // the "hub running" lock

	sys  *nats.Conn // system user, in-process
	stop context.CancelFunc
	done chan struct{} // closed when the watch loop has returned
}

// Auth returns the trust material of the embedded server in operator
// mode, nil otherwise.
func (h *Hub) Auth() *natsauth.Auth {
	if h.auth == nil {
		return nil
	}
	return h.auth.auth
}

// configureAuth puts the embedded server into operator mode.
func (h *Hub) configureAuth(opts *server.Options) error {
	a, err := natsauth.Open(filepath.Join(h.cfg.Data, "auth"))
	if errors.Is(err, natsauth.ErrCorrupt) {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err != nil {
		return fmt.Errorf("hubserver: %w", err)
	}
	if a.Created() {
		h.log.Info("created the NATS operator, account and system account", "dir", a.Dir())
	}
	release, err := a.LockRunning()
	if err != nil {
		return fmt.Errorf("hubserver: %w", err)
	}
	h.auth = &authState{auth: a, release: release}
	res, err := server.NewDirAccResolver(filepath.Join(a.Dir(), "jwt"), 0, 2*time.Minute, server.NoDelete)
	if err != nil {
		return fmt.Errorf("hubserver: account resolver: %w", err)
	}
	// The server needs both accounts before the first client connects;
	// Store keeps a newer JWT already in the directory.
	sysPub, sysJWT := a.SystemAccount()
	accJWT, err := a.AccountJWT()
	if err != nil {
		return fmt.Errorf("hubserver: %w", err)
	}
	for pub, token := range map[string]string{sysPub: sysJWT, a.AccountPublicKey(): accJWT} {
		if err := res.Store(pub, token); err != nil {
			return fmt.Errorf("hubserver: account resolver: %w", err)
		}
	}
	opts.TrustedOperators = []*jwt.OperatorClaims{a.Operator()}
	opts.SystemAccount = sysPub
	opts.AccountResolver = res
	return nil
}

// startAuth connects the system user and applies the current account JWT
// (a revocation made while the hub was down), then watches for changes.
func (h *Hub) startAuth() error {
	s := h.auth
	var err error
	s.sys, err = nats.Connect("", nats.InProcessServer(h.ns), nats.Name("kioskhub-sys"),
		nats.UserCredentials(s.auth.SysCreds()), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		return fmt.Errorf("hubserver: system account connection: %w", err)
	}
	token, err := s.auth.AccountJWT()
	if err != nil {
		return fmt.Errorf("hubserver: %w", err)
	}
	if err := h.applyAccount(context.Background(), token); err != nil {
		return fmt.Errorf("hubserver: %w", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	s.stop, s.done = stop, make(chan struct{})
	go func() {
		defer close(s.done)
		h.watchAccount(ctx, token)
	}()
	return nil
}

func (h *Hub) applyAccount(ctx context.Context, token string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := natsauth.Push(ctx, h.auth.sys, token); err != nil {
		return err
	}
	return h.auth.auth.MarkApplied(token)
}

// watchAccount pushes the account JWT to the server whenever the file
// changes; applied is the one the server has.
func (h *Hub) watchAccount(ctx context.Context, applied string) {
	t := time.NewTicker(authPoll)
	defer t.Stop()
	var lastErr string
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		token, err := h.auth.auth.AccountJWT()
		if err == nil && token == applied {
			continue
		}
		if err == nil {
			err = h.applyAccount(ctx, token)
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if err.Error() != lastErr { // log on change, not every second
				h.log.Error("account JWT not applied; revocations wait", "err", err)
				lastErr = err.Error()
			}
			continue
		}
		applied, lastErr = token, ""
		n := 0
		if ac, err := jwt.DecodeAccountClaims(token); err == nil {
			n = len(ac.Revocations)
		}
		h.log.Info("account JWT applied", "revocations", n)
	}
}

// closeAuth stops the watch loop and the system connection and releases
// the running lock. The server is already shut down.
func (h *Hub) closeAuth() {
	s := h.auth
	if s == nil {
		return
	}
	if s.stop != nil {
		s.stop()
		<-s.done
	}
	if s.sys != nil {
		s.sys.Close()
	}
	s.release()
}

// configureTLS sets the embedded listener's TLS (a server certificate from
// the operator's private CA, optionally client certificates checked
// against TLSClientCA) and refuses a listener beyond loopback without it:
// kiosks' credentials prove themselves by signing a nonce, but their
// lookups, commands and events would cross the network in clear.
func (h *Hub) configureTLS(opts *server.Options, host string) error {
	cfg := h.cfg
	if cfg.TLSCert == "" && cfg.TLSKey == "" {
		if cfg.TLSClientCA != "" {
			return fmt.Errorf("%w: --nats-tls-ca (client certificates) needs --nats-tls-cert and --nats-tls-key", ErrConfig)
		}
		if !isLoopback(host) && !cfg.Insecure {
			return fmt.Errorf("%w: --nats-listen %s is reachable beyond this machine: kiosks' lookups, commands and events would cross the network unencrypted; "+
				"give --nats-tls-cert and --nats-tls-key (a server certificate from your private CA, README \"TLS\"), or --nats-insecure to accept that", ErrConfig, cfg.NATSListen)
		}
		return nil
	}
	if cfg.TLSCert == "" || cfg.TLSKey == "" {
		return fmt.Errorf("%w: --nats-tls-cert and --nats-tls-key go together", ErrConfig)
	}
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{
		CertFile: cfg.TLSCert, KeyFile: cfg.TLSKey,
		CaFile: cfg.TLSClientCA, Verify: cfg.TLSClientCA != "",
	})
	if err != nil {
		return fmt.Errorf("%w: nats tls: %w", ErrConfig, err)
	}
	opts.TLSConfig = tc
	opts.TLS = true
	opts.TLSVerify = cfg.TLSClientCA != ""
	opts.TLSTimeout = 5 // seconds: slow office links
	return nil
}

// isLoopback reports whether a listen host stays on this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// connectURL is the URL of the hub's own connection: none for the
// embedded server, reached in-process (a tls:// URL would make the client
// attempt a handshake the server skips for in-process clients).
func (h *Hub) connectURL() string {
	if h.ns != nil {
		return ""
	}
	return h.url
}

// clientOptions are the options of the hub's own connection.
func (h *Hub) clientOptions() []nats.Option {
	var opts []nats.Option
	if h.ns != nil {
		// In-process: no TLS needed (the server skips it for in-process
		// clients) and no port to reach.
		opts = append(opts, nats.InProcessServer(h.ns))
		if h.auth != nil {
			opts = append(opts, nats.UserCredentials(h.auth.auth.HubCreds()))
		}
		return opts
	}
	if h.cfg.NATSCreds != "" {
		opts = append(opts, nats.UserCredentials(h.cfg.NATSCreds))
	}
	if h.cfg.NATSCA != "" {
		opts = append(opts, nats.RootCAs(h.cfg.NATSCA))
	}
	return opts
}
