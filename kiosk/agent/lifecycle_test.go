package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/sync/lookup/sample"
)

// TestAgentStartsBeforeHub: a kiosk that boots while the hub is down comes
// up, serves (unavailable at once, no hang), and goes live when the hub
// appears, without a restart.
func TestAgentStartsBeforeHub(t *testing.T) {
	e := newEnv(t)
	v := e.sample(sample.Paid)
	e.stopHub()

	cfg := agent.DefaultConfig()
	cfg.ID, cfg.Office, cfg.Data, cfg.HTTP, cfg.UI = "padang-02", "padang", t.TempDir(), "127.0.0.1:0", "off"
	cfg.NATS = "nats://" + e.hubCfg.NATSListen
	cfg.Now, cfg.Logger = e.clk.Now, testLogger(t)
	a, err := agent.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New with the hub down: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		<-done
		a.Close()
	}()

	lookup := func() (int, string) {
		b, _ := json.Marshal(map[string]string{"plate": v.Plate, "rangka5": v.Rangka5})
		c := &http.Client{Timeout: time.Second}
		resp, err := c.Post(a.URL()+"api/lookup", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatalf("lookup: %v", err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		src, _ := m["source"].(string)
		return resp.StatusCode, src
	}
	if code, _ := lookup(); code != 503 {
		t.Errorf("lookup before the hub exists = %d, want 503", code)
	}
	e.startHub()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, src := lookup()
		if code == 200 && src == "live" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lookup never went live after the hub started (last %d %q)", code, src)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestNoGoroutineLeak: after a hub and an agent have run, looked up,
// lost and regained the hub, and stopped, no goroutine of theirs is left.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Run("run", func(t *testing.T) {
		e := newEnv(t)
		v := e.sample(sample.Late)
		e.lookup(v.Plate, v.Rangka5)
		e.stopHub()
		e.waitBus(false)
		e.lookup(v.Plate, v.Rangka5)
	})
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), leaked(buf[:n]))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// leaked keeps the stacks that are not the test framework's own.
func leaked(stacks []byte) string {
	var out []string
	for _, g := range bytes.Split(stacks, []byte("\n\n")) {
		s := string(g)
		if strings.Contains(s, "testing.(*T).Run") || strings.Contains(s, "testing.tRunner") || strings.Contains(s, "runtime.Stack") {
			continue
		}
		out = append(out, s)
	}
	return strings.Join(out, "\n\n")
}
