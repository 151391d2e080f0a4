package hubserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsauth"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsbus"
)

// The permission tests run the hub as kioskhub does by default: the
// embedded server in operator mode, its own services (lookup gateway, hub
// service, fleet monitor) under the hub's user, and clients with .creds
// files issued by natsauth, as `kioskhub creds` writes them.

// startAuthHub starts a hub in operator mode on a loopback port.
func startAuthHub(t *testing.T, mod func(*Config)) *Hub {
	t.Helper()
	cfg := testConfig(t)
	cfg.Auth = true
	if mod != nil {
		mod(&cfg)
	}
	h, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// writeCreds writes a .creds file into the test's directory.
func writeCreds(t *testing.T, creds []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "user.creds")
	if err := os.WriteFile(p, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func issueKiosk(t *testing.T, a *natsauth.Auth, id string) string {
	t.Helper()
	creds, _, err := a.IssueKiosk(id, "padang", false)
	if err != nil {
		t.Fatal(err)
	}
	return writeCreds(t, creds)
}

func issueOperator(t *testing.T, a *natsauth.Auth, name string) string {
	t.Helper()
	creds, _, err := a.IssueOperator(name, false)
	if err != nil {
		t.Fatal(err)
	}
	return writeCreds(t, creds)
}

// client is a connection whose asynchronous errors (permission
// violations) are collected.
type client struct {
	*nats.Conn
	mu   sync.Mutex
	errs []string
}

func (c *client) onErr(_ *nats.Conn, _ *nats.Subscription, err error) {
	c.mu.Lock()
	c.errs = append(c.errs, err.Error())
	c.mu.Unlock()
}

// violation waits for a permissions violation naming subject.
func (c *client) violation(t *testing.T, what, subject string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for _, e := range c.errs {
			if strings.Contains(strings.ToLower(e), "permissions violation") && strings.Contains(e, `"`+subject+`"`) {
				c.mu.Unlock()
				return
			}
		}
		c.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t.Errorf("%s: no permissions violation for %q; errors seen: %q", what, subject, c.errs)
}

// kioskClient connects as kiosk id the way kioskd does (natsbus.Connect:
// custom inbox prefix, .creds).
func kioskClient(t *testing.T, h *Hub, id, creds string) *client {
	t.Helper()
	c := &client{}
	nc, err := natsbus.Connect(natsbus.ClientConfig{URL: h.NATSURL(), ID: id, Creds: creds,
		Options: []nats.Option{nats.ErrorHandler(c.onErr)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	c.Conn = nc
	waitConnected(t, nc)
	return c
}

func operatorClient(t *testing.T, h *Hub, creds string) *client {
	t.Helper()
	c := &client{}
	nc, err := nats.Connect(h.NATSURL(), nats.UserCredentials(creds), nats.ErrorHandler(c.onErr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	c.Conn = nc
	return c
}

func waitConnected(t *testing.T, nc *nats.Conn) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !nc.IsConnected() {
		if time.Now().After(deadline) {
			t.Fatalf("not connected: %v (last error %v)", nc.Status(), nc.LastError())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAuthPermissions checks DESIGN 4.7 on a running hub: what a kiosk, an
// operator and a stranger may do.
func TestAuthPermissions(t *testing.T) {
	h := startAuthHub(t, nil)
	a := h.Auth()
	if a == nil {
		t.Fatal("Auth() = nil with Config.Auth")
	}
	credsA, credsB := issueKiosk(t, a, "padang-01"), issueKiosk(t, a, "padang-02")
	ka, kb := kioskClient(t, h, "padang-01", credsA), kioskClient(t, h, "padang-02", credsB)
	op := operatorClient(t, h, issueOperator(t, a, "budi"))
	ctx := t.Context()

	t.Run("unauthenticated client refused", func(t *testing.T) {
		nc, err := nats.Connect(h.NATSURL(), nats.MaxReconnects(0))
		if err == nil {
			nc.Close()
			t.Fatal("connected without credentials")
		}
		if !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("connect without credentials: %v, want an authorization violation", err)
		}
	})

	t.Run("kiosk publishes its own subjects", func(t *testing.T) {
		hb, err := op.SubscribeSync("kiosk.padang-01.hb")
		if err != nil {
			t.Fatal(err)
		}
		op.Flush()
		if err := ka.Publish(kiosk.HeartbeatSubject("padang-01"), []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		if _, err := hb.NextMsg(3 * time.Second); err != nil {
			t.Errorf("heartbeat not delivered: %v", err)
		}
		// Events: the agent's own path (PublishMsgAsync with a reply
		// inbox) gets the stream's PubAck without the JetStream API.
		js, err := jetstream.New(ka.Conn)
		if err != nil {
			t.Fatal(err)
		}
		n, err := natsbus.PublishBatch(ctx, js, []natsbus.OutMsg{
			{Subject: kiosk.EventSubject("padang-01", "test.one"), ID: "ev-1", Body: []byte(`{"id":"ev-1"}`)},
			{Subject: kiosk.EventSubject("padang-01", "test.two"), ID: "ev-2", Body: []byte(`{"id":"ev-2"}`)},
		}, 5*time.Second)
		if n != 2 || err != nil {
			t.Errorf("PublishBatch = %d, %v; want both acknowledged", n, err)
		}
		if ack, err := js.Publish(ctx, kiosk.EventSubject("padang-01", "test.three"), []byte(`{}`)); err != nil || ack.Stream != hub.EventsStream {
			t.Errorf("event publish = %+v, %v; want a PubAck from %s", ack, err, hub.EventsStream)
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err := natsbus.Skew(rctx, ka.Conn, "padang-01", time.Now); err != nil {
			t.Errorf("hub.time: %v", err)
		}
		if _, err := natsbus.FetchContent(rctx, ka.Conn, "padang-01", kiosk.ContentRequest{Office: "padang"}); err != nil && errors.Is(err, natsbus.ErrUnreachable) {
			t.Errorf("hub.content: %v", err)
		}
		if r, err := natsbus.Lookup(rctx, ka.Conn, "padang-01", kiosk.LookupRequest{Plate: "BA 1 XX", Rangka5: "12345"}); err != nil {
			t.Errorf("pkb.lookup: %v", err)
		} else if r.Error == nil && len(r.Result) == 0 {
			t.Errorf("pkb.lookup reply %+v", r)
		}
		if err := natsbus.GatewayAlive(rctx, ka.Conn); err != nil {
			t.Errorf("$SRV.PING.pkb: %v", err)
		}
	})

	t.Run("kiosk cannot publish another kiosk's subjects", func(t *testing.T) {
		for _, subj := range []string{
			"kiosk.padang-02.evt.fault.raised", "kiosk.padang-02.hb", "pkb.lookup.padang-02",
			"hub.content.padang-02", "hub.time.padang-02",
		} {
			ka.Publish(subj, []byte(`{}`))
			ka.violation(t, "publish "+subj, subj)
		}
		// A forged event never reaches the stream.
		js, _ := jetstream.New(op.Conn)
		s, err := js.Stream(ctx, hub.EventsStream)
		if err != nil {
			t.Fatal(err)
		}
		if info, err := s.Info(ctx, jetstream.WithSubjectFilter("kiosk.padang-02.>")); err != nil || len(info.State.Subjects) != 0 {
			t.Errorf("KIOSK_EVENTS holds padang-02 subjects %v (%v); want none", info.State.Subjects, err)
		}
	})

	t.Run("kiosk cannot command any kiosk", func(t *testing.T) {
		for _, subj := range []string{"kiosk.padang-02.cmd.status", "kiosk.padang-01.cmd.status", "kiosk.padang-02.cmd.restart"} {
			ka.Publish(subj, []byte(`{}`))
			ka.violation(t, "publish "+subj, subj)
		}
	})

	t.Run("kiosk cannot listen to others", func(t *testing.T) {
		for _, subj := range []string{"kiosk.padang-02.cmd.>", "kiosk.padang-02.cmd.status", "_INBOX_padang-02.>", "kiosk.>", "_INBOX.>", "hub.>", "pkb.lookup.*"} {
			if _, err := ka.SubscribeSync(subj); err != nil {
				t.Fatal(err)
			}
			ka.violation(t, "subscribe "+subj, subj)
		}
		if _, err := kb.SubscribeSync("_INBOX_padang-01.>"); err != nil {
			t.Fatal(err)
		}
		kb.violation(t, "padang-02 subscribes to padang-01's inbox", "_INBOX_padang-01.>")
	})

	t.Run("kiosk cannot use the JetStream API", func(t *testing.T) {
		js, _ := jetstream.New(ka.Conn)
		actx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if _, err := js.AccountInfo(actx); err == nil {
			t.Error("kiosk got JetStream account info")
		}
		ka.violation(t, "$JS.API.INFO", "$JS.API.INFO")
		ka.Publish("$JS.API.CONSUMER.CREATE."+hub.EventsStream, []byte(`{}`))
		ka.violation(t, "consumer create", "$JS.API.CONSUMER.CREATE."+hub.EventsStream)
	})

	t.Run("operator commands a kiosk", func(t *testing.T) {
		// A tiny command service stands in for kiosk padang-01's agent, on
		// the kiosk's own connection: its permissions must allow serving it
		// (subscribe kiosk.<id>.cmd.> and $SRV.>, reply via allow_responses).
		svc, err := micro.AddService(ka.Conn, micro.Config{Name: "kiosk", Version: "0.0.0-dev", Metadata: map[string]string{"id": "padang-01"}})
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Stop()
		err = svc.AddGroup("kiosk.padang-01.cmd").AddEndpoint("status", micro.HandlerFunc(func(r micro.Request) {
			r.RespondJSON(map[string]string{"outcome": "done"})
		}))
		if err != nil {
			t.Fatal(err)
		}
		ka.Flush()
		m, err := op.Request("kiosk.padang-01.cmd.status", nil, 3*time.Second)
		if err != nil {
			t.Fatalf("operator request kiosk.padang-01.cmd.status: %v", err)
		}
		if !strings.Contains(string(m.Data), `"done"`) {
			t.Errorf("status reply %s", m.Data)
		}
		m, err = op.Request("$SRV.PING.kiosk", nil, 3*time.Second)
		if err != nil {
			t.Fatalf("operator $SRV.PING.kiosk: %v", err)
		}
		var ping struct {
			Name     string            `json:"name"`
			Metadata map[string]string `json:"metadata"`
		}
		json.Unmarshal(m.Data, &ping)
		if ping.Name != "kiosk" || ping.Metadata["id"] != "padang-01" {
			t.Errorf("ping reply %s", m.Data)
		}
		// The hub's service too.
		if _, err := op.Request("$SRV.PING.hub", nil, 3*time.Second); err != nil {
			t.Errorf("operator $SRV.PING.hub: %v", err)
		}
		// Kiosk B cannot serve or hijack A's commands.
		kb.Publish("kiosk.padang-01.cmd.status", nil)
		kb.violation(t, "padang-02 commands padang-01", "kiosk.padang-01.cmd.status")
	})

	t.Run("operator reads the streams", func(t *testing.T) {
		js, err := jetstream.New(op.Conn)
		if err != nil {
			t.Fatal(err)
		}
		c, err := js.OrderedConsumer(ctx, hub.EventsStream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"kiosk.padang-01.evt.>"}})
		if err != nil {
			t.Fatalf("ordered consumer on %s: %v", hub.EventsStream, err)
		}
		m, err := c.Next(jetstream.FetchMaxWait(3 * time.Second))
		if err != nil {
			t.Fatalf("read %s: %v", hub.EventsStream, err)
		}
		if !strings.HasPrefix(m.Subject(), "kiosk.padang-01.evt.") {
			t.Errorf("read %s", m.Subject())
		}
		if _, err := js.Stream(ctx, hub.HubStream); err != nil {
			t.Errorf("stream info %s: %v", hub.HubStream, err)
		}
		// The hub's own record and its durable consumer are off limits.
		op.Publish("hub.evt.incident.opened", []byte(`{}`))
		op.violation(t, "operator writes HUB_EVENTS", "hub.evt.incident.opened")
		op.PublishRequest("$JS.API.CONSUMER.MSG.NEXT."+hub.EventsStream+"."+hub.FleetConsumer, op.NewRespInbox(), []byte(`{"batch":1}`))
		op.violation(t, "operator pulls from fleet", "$JS.API.CONSUMER.MSG.NEXT."+hub.EventsStream+"."+hub.FleetConsumer)
		op.Publish("$JS.API.CONSUMER.DELETE."+hub.EventsStream+"."+hub.FleetConsumer, nil)
		op.violation(t, "operator deletes fleet", "$JS.API.CONSUMER.DELETE."+hub.EventsStream+"."+hub.FleetConsumer)
		op.Publish("$JS.API.STREAM.DELETE."+hub.EventsStream, nil)
		op.violation(t, "operator deletes the stream", "$JS.API.STREAM.DELETE."+hub.EventsStream)
	})
}

// TestAuthIssueAndRevokeLive issues a kiosk while the hub runs (usable at
// once) and revokes it (its connection is closed and it cannot connect
// again), without a restart: the revocation is made the way `kioskhub
// creds revoke` makes it, in the directory, and the hub applies it.
func TestAuthIssueAndRevokeLive(t *testing.T) {
	h := startAuthHub(t, nil)
	// Another process's view of the directory, as the CLI has.
	cli, err := natsauth.Open(filepath.Join(h.cfg.Data, "auth"))
	if err != nil {
		t.Fatal(err)
	}
	if running, err := cli.Running(); err != nil || !running {
		t.Errorf("Running() = %v, %v while the hub runs", running, err)
	}
	creds := issueKiosk(t, cli, "solok-01")
	keep := issueKiosk(t, cli, "solok-02")
	k := kioskClient(t, h, "solok-01", creds)
	other := kioskClient(t, h, "solok-02", keep)

	closed := make(chan error, 1)
	nc, err := nats.Connect(h.NATSURL(), nats.UserCredentials(creds), nats.CustomInboxPrefix("_INBOX_solok-01"),
		nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case closed <- err:
			default:
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	revoked, err := cli.Revoke("solok-01")
	if err != nil || len(revoked) != 1 || revoked[0].Name != "solok-01" {
		t.Fatalf("Revoke = %+v, %v", revoked, err)
	}
	wctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := cli.WaitApplied(wctx, revoked); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for k.IsConnected() || nc.IsConnected() {
		if time.Now().After(deadline) {
			t.Fatalf("revoked kiosk still connected (%v, %v)", k.Status(), nc.Status())
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case err := <-closed:
		t.Logf("revoked connection: %v", err)
	case <-time.After(3 * time.Second):
		t.Error("no error reported to the revoked connection")
	}
	if c, err := nats.Connect(h.NATSURL(), nats.UserCredentials(creds), nats.MaxReconnects(0)); err == nil {
		c.Close()
		t.Error("revoked credentials connect again")
	} else if !strings.Contains(strings.ToLower(err.Error()), "authorization") && !strings.Contains(strings.ToLower(err.Error()), "revoked") {
		t.Errorf("revoked credentials: %v, want an authorization error", err)
	}
	if !other.IsConnected() {
		t.Error("revoking solok-01 disconnected solok-02")
	}

	// A new credential for the same kiosk works at once.
	again, _, err := cli.IssueKiosk("solok-01", "solok", false)
	if err != nil {
		t.Fatal(err)
	}
	kioskClient(t, h, "solok-01", writeCreds(t, again))

	// After a restart the revocation still holds (resolver directory and
	// account.jwt agree).
	h.Close()
	h2, err := Start(t.Context(), h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	if c, err := nats.Connect(h2.NATSURL(), nats.UserCredentials(creds), nats.MaxReconnects(0)); err == nil {
		c.Close()
		t.Error("revoked credentials connect after a restart")
	}
	kioskClient(t, h2, "solok-02", keep)
}

// TestAuthRevokeWhileDown revokes while the hub is stopped: the next
// start applies it.
func TestAuthRevokeWhileDown(t *testing.T) {
	noLeaks(t) // the watch loop and the system connection stop with the hub
	h := startAuthHub(t, nil)
	cfg := h.cfg
	creds := issueKiosk(t, h.Auth(), "bukit-01")
	kioskClient(t, h, "bukit-01", creds)
	h.Close()
	a, err := natsauth.Open(filepath.Join(cfg.Data, "auth"))
	if err != nil {
		t.Fatal(err)
	}
	if running, _ := a.Running(); running {
		t.Error("Running() after Close")
	}
	if _, err := a.Revoke("bukit-01"); err != nil {
		t.Fatal(err)
	}
	h2, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	if c, err := nats.Connect(h2.NATSURL(), nats.UserCredentials(creds), nats.MaxReconnects(0)); err == nil {
		c.Close()
		t.Error("credentials revoked while the hub was down still connect")
	}
}

// TestAuthPushToServer pushes the account JWT over NATS as the system user
// (`kioskhub creds revoke --nats-url`, the path for an external cluster).
func TestAuthPushToServer(t *testing.T) {
	h := startAuthHub(t, nil)
	a := h.Auth()
	creds := issueKiosk(t, a, "agam-01")
	k := kioskClient(t, h, "agam-01", creds)
	// Stop the hub's own watcher so that only the push applies it.
	h.auth.stop()
	<-h.auth.done
	if _, err := a.Revoke("agam-01"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := a.PushTo(ctx, h.NATSURL(), ""); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for k.IsConnected() {
		if time.Now().After(deadline) {
			t.Fatal("revoked kiosk still connected after the push")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAuthOff(t *testing.T) {
	cfg := testConfig(t)
	cfg.Auth = false
	h, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.Auth() != nil {
		t.Error("Auth() != nil without Config.Auth")
	}
	nc, err := nats.Connect(h.NATSURL())
	if err != nil {
		t.Fatalf("connect without credentials to a hub without auth: %v", err)
	}
	nc.Close()
	if _, err := os.Stat(filepath.Join(cfg.Data, "auth")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("auth directory created without Config.Auth: %v", err)
	}
}

func TestAuthSecondHubRefused(t *testing.T) {
	h := startAuthHub(t, nil)
	cfg := h.cfg
	_, err := Start(t.Context(), cfg)
	if !errors.Is(err, natsauth.ErrHubRunning) {
		t.Errorf("second hub on the same data: %v, want ErrHubRunning", err)
	}
}

// testPKI is a private CA with a server certificate for 127.0.0.1 and
// localhost and a client certificate, as README "TLS" makes them with
// openssl.
type testPKI struct {
	ca, serverCert, serverKey, clientCert, clientKey string
}

func newPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	now := time.Now()
	caKey := key()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "PKB kiosk test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, certName, keyName string) (string, string) {
		k := key()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		if usage == x509.ExtKeyUsageServerAuth {
			tmpl.DNSNames = []string{"localhost"}
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return write(certName, "CERTIFICATE", der), write(keyName, "EC PRIVATE KEY", kder)
	}
	p := testPKI{ca: write("ca.pem", "CERTIFICATE", caDER)}
	p.serverCert, p.serverKey = leaf(2, "kioskhub", x509.ExtKeyUsageServerAuth, "server.pem", "server-key.pem")
	p.clientCert, p.clientKey = leaf(3, "padang-01", x509.ExtKeyUsageClientAuth, "client.pem", "client-key.pem")
	return p
}

// TestTLS: with a server certificate from a private CA, a kiosk that
// trusts the CA connects over TLS, one that does not is refused; with
// client verification a kiosk needs its certificate too. The hub's own
// services keep working (in-process connection).
func TestTLS(t *testing.T) {
	pki := newPKI(t)
	h := startAuthHub(t, func(c *Config) { c.TLSCert, c.TLSKey = pki.serverCert, pki.serverKey })
	if !strings.HasPrefix(h.NATSURL(), "tls://127.0.0.1:") {
		t.Errorf("NATSURL = %q, want tls://", h.NATSURL())
	}
	creds := issueKiosk(t, h.Auth(), "padang-01")

	nc, err := natsbus.Connect(natsbus.ClientConfig{URL: h.NATSURL(), ID: "padang-01", Creds: creds, CA: pki.ca})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	waitConnected(t, nc)
	if !nc.TLSRequired() {
		t.Error("connection not over TLS")
	}
	if cs, err := nc.TLSConnectionState(); err != nil || !cs.HandshakeComplete {
		t.Errorf("TLS state %+v, %v", cs, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := natsbus.GatewayAlive(ctx, nc); err != nil {
		t.Errorf("gateway over TLS: %v", err)
	}

	// Without the CA: the certificate is not trusted.
	for _, url := range []string{h.NATSURL(), strings.Replace(h.NATSURL(), "tls://", "nats://", 1)} {
		bad, err := nats.Connect(url, nats.UserCredentials(creds), nats.MaxReconnects(0), nats.Timeout(2*time.Second))
		if err == nil {
			bad.Close()
			t.Errorf("%s: connected without trusting the private CA", url)
		} else if !strings.Contains(err.Error(), "certificate") {
			t.Errorf("%s without the CA: %v, want a certificate error", url, err)
		}
	}

	t.Run("client certificates", func(t *testing.T) {
		h := startAuthHub(t, func(c *Config) {
			c.TLSCert, c.TLSKey, c.TLSClientCA = pki.serverCert, pki.serverKey, pki.ca
		})
		creds := issueKiosk(t, h.Auth(), "padang-01")
		nc, err := natsbus.Connect(natsbus.ClientConfig{URL: h.NATSURL(), ID: "padang-01", Creds: creds,
			CA: pki.ca, Cert: pki.clientCert, Key: pki.clientKey})
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		waitConnected(t, nc)
		if _, err := nats.Connect(h.NATSURL(), nats.UserCredentials(creds), nats.RootCAs(pki.ca), nats.MaxReconnects(0)); err == nil {
			t.Error("connected without a client certificate")
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if err := natsbus.GatewayAlive(ctx, nc); err != nil {
			t.Errorf("gateway with client certificates: %v", err)
		}
	})
}

func TestListenBeyondLoopback(t *testing.T) {
	for _, tt := range []struct {
		name, listen string
		mod          func(*Config)
		want         string // "" = starts
	}{
		{"all interfaces without TLS", "0.0.0.0:0", nil, "--nats-insecure"},
		{"empty host without TLS", ":0", nil, "--nats-insecure"},
		{"insecure accepted", "0.0.0.0:0", func(c *Config) { c.Insecure = true }, ""},
		{"loopback without TLS", "127.0.0.1:0", nil, ""},
		{"cert without key", "127.0.0.1:0", func(c *Config) { c.TLSCert = "x.pem" }, "go together"},
		{"client CA without cert", "127.0.0.1:0", func(c *Config) { c.TLSClientCA = "ca.pem" }, "--nats-tls-ca"},
		{"missing cert file", "127.0.0.1:0", func(c *Config) { c.TLSCert, c.TLSKey = "/nonexistent.pem", "/nonexistent-key.pem" }, "no such file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Auth = false
			cfg.NATSListen = tt.listen
			if tt.mod != nil {
				tt.mod(&cfg)
			}
			h, err := Start(t.Context(), cfg)
			if err == nil {
				h.Close()
			}
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Start: %v", err)
			case tt.want != "" && err == nil:
				t.Errorf("Start succeeded, want an error mentioning %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("Start: %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// TestAuthExternalServer runs the hub against an external nats-server
// configured as README "NATS security" documents for a cluster: trusting
// the operator, a full resolver preloaded with the hub's account JWTs. The
// hub connects with auth/hub.creds; kiosks with their own; a revocation
// pushed with `creds revoke --nats-url` (PushTo) takes effect there.
func TestAuthExternalServer(t *testing.T) {
	data := t.TempDir()
	a, err := natsauth.Open(filepath.Join(data, "auth"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	opJWT, err := os.ReadFile(filepath.Join(a.Dir(), "operator.jwt"))
	if err != nil {
		t.Fatal(err)
	}
	opFile := filepath.Join(dir, "operator.jwt")
	os.WriteFile(opFile, opJWT, 0o600)
	sysPub, sysJWT := a.SystemAccount()
	accJWT, _ := a.AccountJWT()
	conf := "listen: 127.0.0.1:-1\n" +
		"jetstream { store_dir: " + strconv.Quote(filepath.Join(dir, "js")) + ", max_memory_store: 64MB, max_file_store: 256MB }\n" +
		"operator: " + strconv.Quote(opFile) + "\n" +
		"system_account: " + sysPub + "\n" +
		"resolver { type: full, dir: " + strconv.Quote(filepath.Join(dir, "jwt")) + ", allow_delete: false, interval: \"2m\" }\n" +
		"resolver_preload { " + sysPub + ": " + sysJWT + ", " + a.AccountPublicKey() + ": " + accJWT + " }\n"
	confFile := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := server.ProcessConfigFile(confFile)
	if err != nil {
		t.Fatalf("%v\n%s", err, conf)
	}
	o.NoLog, o.NoSigs = true, true
	ns := startServer(t, o)
	ready(t, ns)

	cfg := testConfig(t)
	cfg.Data = data
	cfg.NATSURL = ns.ClientURL()
	cfg.NATSCreds = a.HubCreds()
	h, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	k := kioskClient(t, h, "padang-01", issueKiosk(t, a, "padang-01"))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := natsbus.GatewayAlive(ctx, k.Conn); err != nil {
		t.Errorf("gateway on the external server: %v", err)
	}
	if _, err := a.Revoke("padang-01"); err != nil {
		t.Fatal(err)
	}
	if err := a.PushTo(ctx, ns.ClientURL(), ""); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for k.IsConnected() {
		if time.Now().After(deadline) {
			t.Fatal("revoked kiosk still connected to the external server")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
