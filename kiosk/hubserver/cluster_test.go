package hubserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
	"github.com/sumbar-samsat/pkbkiosk/sync/lookup/sample"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsbus"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsbus/natsbustest"
)

// The cluster tests run the nats-server configurations that the README's
// "Scale-out" section documents (testdata/cluster), moved onto loopback
// test ports and temporary stores, so the documented files are the ones
// proven to work.

const clusterDir = "testdata/cluster"

// loadConf parses one documented configuration file.
func loadConf(t *testing.T, file string) *server.Options {
	t.Helper()
	o, err := server.ProcessConfigFile(filepath.Join(clusterDir, file))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return o
}

// testOpts moves o onto loopback test ports and a temporary store.
func testOpts(t *testing.T, o *server.Options) *server.Options {
	o.Host, o.Port = "127.0.0.1", server.RANDOM_PORT
	o.HTTPPort = 0 // no monitoring endpoint in tests
	if o.LeafNode.Port != 0 {
		o.LeafNode.Host, o.LeafNode.Port = "127.0.0.1", server.RANDOM_PORT
	}
	if o.JetStream {
		o.StoreDir = t.TempDir()
		o.JetStreamMaxMemory, o.JetStreamMaxStore = 64<<20, 256<<20
	}
	o.NoLog, o.NoSigs = true, true
	return o
}

// freePorts returns n loopback ports that were free a moment ago. The
// route ports must be known before any node starts, since every node
// lists all of them, as in the documented configuration.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// startServer starts a server from opts and stops it when the test ends.
func startServer(t *testing.T, opts *server.Options) *server.Server {
	t.Helper()
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("new server %s: %v", opts.ServerName, err)
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	go ns.Start()
	return ns
}

func ready(t *testing.T, ns *server.Server) {
	t.Helper()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatalf("server %s not ready", ns.Name())
	}
}

// testCluster is the documented three-node cluster on loopback.
type testCluster struct {
	nodes    []*server.Server
	url      string // client URLs of all three, as an operator passes to --nats-url
	leafURLs string // leafnode URLs of all three, as in leaf-office.conf
}

// startCluster starts the documented three-node cluster and waits until
// it has a JetStream meta leader.
func startCluster(t *testing.T) *testCluster {
	t.Helper()
	ports := freePorts(t, 6) // 3 route ports, 3 leafnode ports
	var routes, leafURLs, urls []string
	for i := range 3 {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[i]))
		leafURLs = append(leafURLs, fmt.Sprintf("nats-leaf://127.0.0.1:%d", ports[3+i]))
	}
	c := &testCluster{leafURLs: strings.Join(leafURLs, ",")}
	for i := range 3 {
		o := testOpts(t, loadConf(t, fmt.Sprintf("n%d.conf", i+1)))
		o.Cluster.Host, o.Cluster.Port = "127.0.0.1", ports[i]
		o.Routes = server.RoutesFromStr(strings.Join(routes, ","))
		o.LeafNode.Port = ports[3+i]
		c.nodes = append(c.nodes, startServer(t, o))
	}
	for _, ns := range c.nodes {
		ready(t, ns)
		urls = append(urls, ns.ClientURL())
	}
	c.url = strings.Join(urls, ",")
	nc := connect(t, c.url)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// Account info needs the JetStream meta leader: until the three have
	// elected one, the cluster answers 503.
	retry(t, 15*time.Second, "JetStream meta leader", func(ctx context.Context) error {
		_, err := js.AccountInfo(ctx)
		return err
	})
	return c
}

// connect is a client that keeps reconnecting, like the hub's own.
func connect(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// retry calls f until it succeeds or d has passed, giving each attempt
// at most 2 s.
func retry(t *testing.T, d time.Duration, what string, f func(context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		err := f(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %v", what, d, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// noLeaks fails the test if goroutines started during it outlive it.
// Register it first, so that it runs after every other cleanup.
func noLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("%d goroutines before the test, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// TestCluster runs the hub unchanged against an external three-node
// JetStream cluster with --replicas 3: the streams are replicated, lookups
// and events work, an office leaf node carries a kiosk's traffic, and
// losing the node that the hub is connected to and that leads KIOSK_EVENTS
// and the fleet consumer costs neither events nor lookups.
func TestCluster(t *testing.T) {
	noLeaks(t)
	c := startCluster(t)

	cfg := DefaultConfig()
	cfg.Data = t.TempDir()
	cfg.NATSURL = c.url
	cfg.Replicas = 3
	cfg.SampleSize = 2000
	// A plate the gateway finds: generating the sample store here also
	// spares Start the work.
	plates, err := SamplePlates(t.Context(), cfg, 12)
	if err != nil {
		t.Fatal(err)
	}
	var paid sample.Sample
	for _, p := range plates {
		if p.Category == sample.Paid {
			paid = p
		}
	}
	if paid.Plate == "" {
		t.Fatalf("no paid vehicle among %v", plates)
	}
	h, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })

	nc := connect(t, c.url)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{hub.EventsStream, hub.HubStream} {
		s, err := js.Stream(t.Context(), name)
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		info := s.CachedInfo()
		if info.Config.Replicas != 3 {
			t.Errorf("stream %s has %d replicas, want 3", name, info.Config.Replicas)
		}
		if c := info.Cluster; c == nil || c.Name != "kiosk-hub" || c.Leader == "" || len(c.Replicas) != 2 {
			t.Errorf("stream %s cluster info = %+v; want cluster kiosk-hub, a leader and 2 replicas", name, c)
		}
	}
	fleet, err := js.Consumer(t.Context(), hub.EventsStream, hub.FleetConsumer)
	if err != nil {
		t.Fatalf("consumer %s: %v", hub.FleetConsumer, err)
	}
	if c := fleet.CachedInfo().Cluster; c == nil || c.Leader == "" || len(c.Replicas) != 2 {
		t.Errorf("consumer %s cluster info = %+v; want a leader and 2 replicas", hub.FleetConsumer, c)
	}

	k := newKiosk(t, c.url, 1, paid)
	k.lookup(t)
	k.event(t, h, 15*time.Second)

	t.Run("more replicas than servers", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Data = t.TempDir()
		cfg.NATSURL = c.url
		cfg.Replicas = 5
		cfg.SampleSize = 200
		h, err := Start(t.Context(), cfg)
		if err == nil {
			h.Close()
			t.Fatal("Start with --replicas 5 on three servers succeeded")
		}
		t.Log(err)
		if want := "5 replicas (--replicas) need a JetStream cluster of at least 5 servers"; !strings.Contains(err.Error(), want) {
			t.Errorf("Start error %q does not say %q", err, want)
		}
	})

	t.Run("restart without --replicas keeps 3", func(t *testing.T) {
		var warned []string
		if _, err := hub.EnsureStreams(t.Context(), js, hub.StreamConfig{Replicas: 1,
			Warn: func(m string) { warned = append(warned, m) }}); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{hub.EventsStream, hub.HubStream} {
			s, err := js.Stream(t.Context(), name)
			if err != nil {
				t.Fatal(err)
			}
			if r := s.CachedInfo().Config.Replicas; r != 3 {
				t.Errorf("%s has %d replicas after a start with --replicas 1, want 3 kept", name, r)
			}
		}
		if len(warned) == 0 || !strings.Contains(warned[0], "keeping 3") {
			t.Errorf("warnings %q, want one saying it keeps 3", warned)
		}
	})

	t.Run("leaf node", func(t *testing.T) {
		// The office's leaf node reaches the cluster through its leafnode
		// port; the kiosk talks only to the leaf.
		o := testOpts(t, loadConf(t, "leaf-office.conf"))
		o.LeafNode.Remotes[0].URLs = server.RoutesFromStr(c.leafURLs)
		leaf := startServer(t, o)
		ready(t, leaf)
		retry(t, 10*time.Second, "leaf connection", func(context.Context) error {
			if leaf.NumLeafNodes() == 0 {
				return errors.New("not connected")
			}
			return nil
		})
		// Interest in the stream's subjects and the gateway's crosses the
		// leaf connection asynchronously; lookup and event retry until it
		// has.
		lk := newKiosk(t, leaf.ClientURL(), 2, paid)
		lk.lookup(t)
		lk.event(t, h, 15*time.Second)
		// The JetStream API itself does not cross a leaf connection
		// (nats-server denies $JS.API.> on it): operators' JetStream tools
		// connect to the cluster, kiosks never need them.
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := lk.js.AccountInfo(ctx); err == nil {
			t.Error("JetStream API reachable through the leaf node; the README says it is not")
		} else {
			t.Logf("JetStream API through the leaf: %v", err)
		}
	})

	t.Run("stream leader lost", func(t *testing.T) {
		// The hardest loss is the node that the hub is connected to and
		// that leads both KIOSK_EVENTS and the fleet consumer: the hub
		// must reconnect while the cluster elects new leaders. Move the
		// leadership there first.
		lost := h.nc.ConnectedServerName()
		stepDown(t, nc, fmt.Sprintf(server.JSApiStreamLeaderStepDownT, hub.EventsStream), lost, func(ctx context.Context) (*jetstream.ClusterInfo, error) {
			info, err := js.Stream(ctx, hub.EventsStream)
			if err != nil {
				return nil, err
			}
			return info.CachedInfo().Cluster, nil
		})
		stepDown(t, nc, fmt.Sprintf(server.JSApiConsumerLeaderStepDownT, hub.EventsStream, hub.FleetConsumer), lost, func(ctx context.Context) (*jetstream.ClusterInfo, error) {
			info, err := js.Consumer(ctx, hub.EventsStream, hub.FleetConsumer)
			if err != nil {
				return nil, err
			}
			return info.CachedInfo().Cluster, nil
		})
		for _, ns := range c.nodes {
			if ns.Name() == lost {
				t0 := time.Now()
				ns.Shutdown()
				ns.WaitForShutdown()
				// Stored within 0.5 s in most runs; when the hub's re-pull
				// reaches the cluster before the consumer's new leader
				// exists ("no responders"), RunMonitor's 1 s pull
				// heartbeat makes it pull again (about 2 s, measured;
				// with nats.go's default it took 30 s).
				k.event(t, h, 10*time.Second)
				t.Logf("event stored %v after %s (hub's server, %s and %s leader) went down", time.Since(t0).Round(time.Millisecond), lost, hub.EventsStream, hub.FleetConsumer)
			}
		}
		k.lookup(t)
		s, err := js.Stream(t.Context(), hub.EventsStream)
		if err != nil {
			t.Fatal(err)
		}
		if c := s.CachedInfo().Cluster; c == nil || c.Leader == "" || c.Leader == lost {
			t.Errorf("stream cluster info after losing %s = %+v; want a new leader", lost, c)
		}
		if got := h.nc.ConnectedServerName(); got == lost || !h.nc.IsConnected() {
			t.Errorf("hub connected to %q (connected %v) after losing %s", got, h.nc.IsConnected(), lost)
		}
	})
}

// stepDown makes server name the leader of the stream or consumer whose
// step-down API subject is subj, unless it leads already.
func stepDown(t *testing.T, nc *nats.Conn, subj, name string, info func(context.Context) (*jetstream.ClusterInfo, error)) {
	t.Helper()
	ci, err := info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if ci.Leader == name {
		return
	}
	req, _ := json.Marshal(server.JSApiLeaderStepdownRequest{Placement: &server.Placement{Preferred: name}})
	msg, err := nc.Request(subj, req, 5*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", subj, err)
	}
	var resp server.JSApiStreamLeaderStepDownResponse
	if err := json.Unmarshal(msg.Data, &resp); err != nil || !resp.Success {
		t.Fatalf("%s: %s", subj, msg.Data)
	}
	retry(t, 10*time.Second, "new leader "+name, func(ctx context.Context) error {
		ci, err := info(ctx)
		if err == nil && ci.Leader != name {
			err = fmt.Errorf("leader is %q", ci.Leader)
		}
		return err
	})
}

// testKiosk plays a kiosk: it connects like the agent and sends lookups
// and events as the agent does.
type testKiosk struct {
	id    string
	n     int // makes its event ids unique
	plate sample.Sample
	nc    *nats.Conn
	js    jetstream.JetStream
	seq   int64
}

func newKiosk(t *testing.T, url string, n int, plate sample.Sample) *testKiosk {
	t.Helper()
	k := &testKiosk{id: fmt.Sprintf("padang-%02d", n), n: n, plate: plate}
	var err error
	if k.nc, err = natsbus.Connect(natsbus.ClientConfig{URL: url, ID: k.id}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.nc.Close)
	if k.js, err = jetstream.New(k.nc); err != nil {
		t.Fatal(err)
	}
	return k
}

// lookup asks the gateway for the kiosk's plate until it answers with a
// result.
func (k *testKiosk) lookup(t *testing.T) {
	t.Helper()
	retry(t, 15*time.Second, "lookup", func(ctx context.Context) error {
		r, err := natsbus.Lookup(ctx, k.nc, k.id, kiosk.LookupRequest{Plate: k.plate.Plate, Rangka5: k.plate.Rangka5})
		if err == nil && r.Error != nil {
			err = fmt.Errorf("lookup error %+v, want a result", *r.Error)
		}
		return err
	})
}

// event publishes the kiosk's next event the way its outbox does
// (a stream subject with Nats-Msg-Id, no JetStream API), retrying until it
// gets a PubAck, then waits up to stored for the hub's fleet monitor to
// store it.
func (k *testKiosk) event(t *testing.T, h *Hub, stored time.Duration) {
	t.Helper()
	k.seq++
	d, _ := json.Marshal(kiosk.FaultData{Code: "printer.paper_out", Severity: "critical", Detail: "test"})
	e := kiosk.Event{ID: fmt.Sprintf("00000000-0000-7000-%04x-%012d", k.n, k.seq), Kiosk: k.id, Office: "padang",
		Type: kiosk.EventFaultRaised, At: time.Now(), Boot: "b1", Epoch: "e1", Seq: k.seq, Data: d}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	tries := 0
	retry(t, 15*time.Second, "publish to "+hub.EventsStream, func(ctx context.Context) error {
		tries++
		ack, err := k.js.Publish(ctx, kiosk.EventSubject(e.Kiosk, e.Type), b, jetstream.WithMsgID(e.ID))
		if err != nil {
			return err
		}
		// A duplicate is fine after a try whose PubAck was lost, as it
		// is for the outbox, never on the first.
		if ack.Stream != hub.EventsStream || (ack.Duplicate && tries == 1) {
			t.Fatalf("PubAck %+v, want a new message in %s", ack, hub.EventsStream)
		}
		return nil
	})
	retry(t, stored, "event stored by the hub", func(ctx context.Context) error {
		es, err := h.Store().Events(ctx, k.id, 0)
		if err != nil {
			return err
		}
		for _, got := range es {
			if got.ID == e.ID {
				return nil
			}
		}
		return fmt.Errorf("%d events of %s stored, not %s", len(es), k.id, e.ID)
	})
}

// TestClusterReplicasNeedCluster: --replicas 3 against a single server
// fails at start with an error that says why, instead of a hub without
// its streams.
func TestClusterReplicasNeedCluster(t *testing.T) {
	noLeaks(t)
	ns := natsbustest.RunServer(t, nil)
	cfg := DefaultConfig()
	cfg.Data = t.TempDir()
	cfg.NATSURL = ns.ClientURL()
	cfg.Replicas = 3
	cfg.SampleSize = 200
	h, err := Start(t.Context(), cfg)
	if err == nil {
		h.Close()
		t.Fatal("Start with --replicas 3 on a single server succeeded")
	}
	t.Log(err)
	if want := "3 replicas (--replicas) need a JetStream cluster of at least 3 servers"; !strings.Contains(err.Error(), want) {
		t.Errorf("Start error %q does not say %q", err, want)
	}
}

// TestDocumentedClusterConfigParses: the files the README shows are valid
// nats-server configurations with the settings it describes.
func TestDocumentedClusterConfigParses(t *testing.T) {
	for i := 1; i <= 3; i++ {
		o := loadConf(t, fmt.Sprintf("n%d.conf", i))
		if want := fmt.Sprintf("n%d", i); o.ServerName != want {
			t.Errorf("n%d.conf: server_name %q, want %q", i, o.ServerName, want)
		}
		if !o.JetStream || o.StoreDir != "/var/lib/nats" || o.JetStreamMaxStore != 20<<30 || o.JetStreamMaxMemory != 256<<20 {
			t.Errorf("n%d.conf: jetstream %v, store_dir %q, max_file_store %d, max_memory_store %d", i, o.JetStream, o.StoreDir, o.JetStreamMaxStore, o.JetStreamMaxMemory)
		}
		if o.Cluster.Name != "kiosk-hub" || o.Cluster.Port != 6222 || len(o.Routes) != 3 {
			t.Errorf("n%d.conf: cluster %q port %d with %d routes; want kiosk-hub, 6222, 3 routes", i, o.Cluster.Name, o.Cluster.Port, len(o.Routes))
		}
		if o.Port != 4222 || o.LeafNode.Port != 7422 {
			t.Errorf("n%d.conf: client port %d, leafnode port %d; want 4222 and 7422", i, o.Port, o.LeafNode.Port)
		}
	}
	o := loadConf(t, "leaf-office.conf")
	if o.JetStream {
		t.Error("leaf-office.conf enables JetStream; the kiosks' events must reach the hub's stream")
	}
	if len(o.LeafNode.Remotes) != 1 || len(o.LeafNode.Remotes[0].URLs) != 3 {
		t.Errorf("leaf-office.conf: remotes %+v; want one remote with the three hub nodes", o.LeafNode.Remotes)
	}
}
