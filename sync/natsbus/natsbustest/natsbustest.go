// Package natsbustest runs a real NATS server with JetStream inside a test
// process, for tests of everything that talks NATS.
package natsbustest

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// RunServer starts a NATS server with JetStream on a random loopback port
// and stops it when the test ends. Pass opts to change the defaults (nil
// for none); a non-zero opts.Port restarts a server on the same port.
func RunServer(t testing.TB, opts *server.Options) *server.Server {
	t.Helper()
	o := server.Options{}
	if opts != nil {
		o = *opts
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.Port == 0 {
		o.Port = -1
	}
	if o.StoreDir == "" {
		o.StoreDir = t.TempDir()
	}
	o.JetStream = true
	o.JetStreamMaxMemory = 64 << 20
	o.JetStreamMaxStore = 256 << 20
	o.NoLog = true
	o.NoSigs = true
	ns, err := server.NewServer(&o)
	if err != nil {
		t.Fatalf("natsbustest: new server: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		t.Fatal("natsbustest: server not ready")
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns
}

// Connect returns a client connection to ns, closed when the test ends.
func Connect(t testing.TB, ns *server.Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(ns.ClientURL(), opts...)
	if err != nil {
		t.Fatalf("natsbustest: connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}
