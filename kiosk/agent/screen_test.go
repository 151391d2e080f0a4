package agent_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
	"github.com/sumbar-samsat/pkbkiosk/sync/lookup/sample"
)

type content struct {
	Version int    `json:"version"`
	Updated string `json:"updated"`
	Lang    string `json:"lang"`
	Pages   []struct {
		ID     string `json:"id"`
		Title  string `json:"title"`
		Blocks []struct {
			P string `json:"p"`
		} `json:"blocks"`
	} `json:"pages"`
}

func writeBundle(t testing.TB, dir, office string, version int, text string) {
	t.Helper()
	b := map[string]any{"version": version, "updated": "2026-11-2" + string(rune('0'+version)), "pages": []any{
		map[string]any{"id": "help", "title": map[string]string{"id": "Bantuan " + text, "en": "Help " + text},
			"blocks": map[string]any{"id": []any{map[string]string{"p": "isi " + text}}}},
	}}
	data, _ := json.Marshal(b)
	os.MkdirAll(dir, 0o755)
	tmp := filepath.Join(dir, office+".json.tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, office+".json")); err != nil {
		t.Fatal(err)
	}
}

func (e *env) content(lang string) content {
	e.t.Helper()
	var c content
	if code := e.get("/api/content?lang="+lang, &c); code != 200 {
		e.t.Fatalf("GET /api/content = %d", code)
	}
	return c
}

func (e *env) waitContentVersion(v int) content {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := e.content("id")
		if c.Version == v {
			return c
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("content version stayed %d, want %d", c.Version, v)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestContentFromHubKeptOffline(t *testing.T) {
	contentDir := t.TempDir()
	writeBundle(t, contentDir, "padang", 2, "padang v2")
	writeBundle(t, contentDir, "default", 7, "default") // another office's fallback
	agentDir := t.TempDir()
	e := newEnv(t, func(h *hubserver.Config, a *agent.Config) {
		h.Content, a.Data, a.ContentRefresh = contentDir, agentDir, 200*time.Millisecond
	})
	c := e.waitContentVersion(2)
	if c.Pages[0].Title != "Bantuan padang v2" || c.Updated != "2026-11-22" {
		t.Errorf("content = %+v; want the office's bundle", c)
	}
	if en := e.content("en"); en.Lang != "en" || en.Pages[0].Title != "Help padang v2" || en.Pages[0].Blocks[0].P != "isi padang v2" {
		t.Errorf("English content = %+v; want English title, Indonesian body where English is missing", en)
	}

	// An edit on the hub reaches the kiosk without a restart.
	writeBundle(t, contentDir, "padang", 3, "padang v3")
	e.waitContentVersion(3)

	// A broken file on the hub: the kiosk keeps what it has.
	os.WriteFile(filepath.Join(contentDir, "padang.json"), []byte(`{"version":4,`), 0o644)
	time.Sleep(600 * time.Millisecond)
	if c := e.content("id"); c.Version != 3 {
		t.Errorf("after a broken hub file the kiosk shows version %d, want 3 kept", c.Version)
	}

	// Hub down and the agent restarted: the last pages are still there.
	e.stopHub()
	e2 := e.restartAgent()
	if c := e2.content("id"); c.Version != 3 || c.Pages[0].Title != "Bantuan padang v3" {
		t.Errorf("offline after restart: content = %+v; want version 3 kept", c)
	}
}

func TestBuiltInContentOnNewKiosk(t *testing.T) {
	e := newEnv(t, func(h *hubserver.Config, a *agent.Config) { h.Content = t.TempDir() })
	c := e.content("id")
	ids := []string{}
	for _, p := range c.Pages {
		ids = append(ids, p.ID)
	}
	if c.Version != 1 || !strings.Contains(strings.Join(ids, ","), "help") || !strings.Contains(strings.Join(ids, ","), "pembayaran") {
		t.Errorf("content of a new kiosk = version %d pages %v; want the built-in bundle", c.Version, ids)
	}
}

func TestMaintenance(t *testing.T) {
	agentDir := t.TempDir()
	e := newEnv(t, func(h *hubserver.Config, a *agent.Config) { a.Data = agentDir })
	v := e.sample(sample.Paid)
	if code, m, _ := e.post("/api/session", nil, 2*time.Second); code != 200 {
		t.Fatalf("session: %d %v", code, m)
	}
	if err := e.agent.SetMaintenance(t.Context(), true, "Kios sedang diperbaiki, silakan ke loket 3."); err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	e.get("/api/status", &st)
	if st["mode"] != "maintenance" {
		t.Errorf("mode = %v, want maintenance", st["mode"])
	}
	code, m := e.lookup(v.Plate, v.Rangka5)
	if code != 503 || errCode(m) != "maintenance" {
		t.Errorf("lookup in maintenance = %d %v; want 503 maintenance", code, m)
	}
	// It survives a restart of the agent.
	e2 := e.restartAgent()
	e2.get("/api/status", &st)
	if st["mode"] != "maintenance" {
		t.Errorf("mode after restart = %v, want maintenance", st["mode"])
	}
	if err := e2.agent.SetMaintenance(t.Context(), false, ""); err != nil {
		t.Fatal(err)
	}
	if code, m := e2.lookup(v.Plate, v.Rangka5); code != 200 {
		t.Errorf("lookup after maintenance = %d %v", code, m)
	}
}

func TestSessionExpiresWithoutPage(t *testing.T) {
	e := newEnv(t)
	if code, _, _ := e.post("/api/session", nil, 2*time.Second); code != 200 {
		t.Fatal(code)
	}
	var st map[string]any
	e.get("/api/status", &st)
	if st["mode"] != "session" {
		t.Fatalf("mode = %v, want session", st["mode"])
	}
	// The page vanished: after idle 60 s + countdown 15 s + 30 s grace the
	// agent ends the session itself.
	e.clk.Add(106 * time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.get("/api/status", &st)
		if st["mode"] == "ready" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mode stayed %v after the session went quiet", st["mode"])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// restartAgent stops the env's agent and starts a new one on the same data
// directory and hub address; the returned env shares the hub and clock.
func (e *env) restartAgent() *env { return e.restartAgentWith(nil) }

// restartAgentWith is restartAgent; onExit, if set, gets Run's error.
func (e *env) restartAgentWith(onExit func(error)) *env {
	e.t.Helper()
	e.agentStop()
	cfg := e.agentCfg
	a, err := agent.New(e.t.Context(), cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e2 := *e
	e2.agent, e2.base = a, strings.TrimSuffix(a.URL(), "/")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		err := a.Run(ctx)
		if onExit != nil {
			onExit(err)
		}
		close(done)
	}()
	var once sync.Once
	e2.agentStop = func() {
		once.Do(func() {
			cancel()
			<-done
			a.Close()
		})
	}
	e.t.Cleanup(e2.agentStop)
	return &e2
}
