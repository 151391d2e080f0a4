package hubserver

import (
	"net"
	"strings"
	"testing"
)

func testConfig(t *testing.T) Config {
	cfg := DefaultConfig()
	cfg.Data = t.TempDir()
	cfg.NATSListen = "127.0.0.1:0"
	cfg.SampleSize = 200
	return cfg
}

func TestEmbeddedServerLimits(t *testing.T) {
	cfg := testConfig(t)
	cfg.JetStreamMaxMemory, cfg.JetStreamMaxStore = 32<<20, 512<<20
	h, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	jc := h.Server().JetStreamConfig()
	if jc == nil || jc.MaxMemory != 32<<20 || jc.MaxStore != 512<<20 {
		t.Errorf("JetStream config = %+v; want MaxMemory 32 MiB and MaxStore 512 MiB, not nats-server's share of the machine", jc)
	}
	js, err := h.Server().Jsz(nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := js.Streams; n < 2 {
		t.Errorf("JetStream has %d streams, want KIOSK_EVENTS and HUB_EVENTS", n)
	}
	if !strings.HasPrefix(h.NATSURL(), "nats://127.0.0.1:") || strings.HasSuffix(h.NATSURL(), ":0") {
		t.Errorf("NATSURL = %q, want the real loopback port", h.NATSURL())
	}
}

func TestStartErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tt := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no data", func(c *Config) { c.Data = "" }, "--data"},
		{"unknown source", func(c *Config) { c.Source = "oracle" }, "unknown source"},
		{"bad listen", func(c *Config) { c.NATSListen = "localhost" }, "--nats-listen"},
		{"port in use", func(c *Config) { c.NATSListen = busy.Addr().String() }, "address already in use"},
		{"bad http", func(c *Config) { c.HTTP = "127.0.0.1:99999" }, "--http"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			tt.mod(&cfg)
			h, err := Start(t.Context(), cfg)
			if err == nil {
				h.Close()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Start error %q does not mention %q", err, tt.want)
			}
		})
	}
}
