package agent_test

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/agent"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/hubserver"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
	"github.com/sumbar-samsat/pkbkiosk/sync/lookup/sample"
)

// hubKiosk asks the hub service what it knows of the kiosk (hub.kiosk).
func (e *env) hubKiosk(events int) hub.KioskReply {
	e.t.Helper()
	nc, err := nats.Connect(e.hub.NATSURL())
	if err != nil {
		e.t.Fatal(err)
	}
	defer nc.Close()
	req, _ := json.Marshal(hub.KioskRequest{Kiosk: e.agentCfg.ID, Events: events})
	m, err := nc.Request("hub.kiosk", req, 5*time.Second)
	if err != nil {
		e.t.Fatal(err)
	}
	var rep hub.KioskReply
	if err := json.Unmarshal(m.Data, &rep); err != nil {
		e.t.Fatalf("hub.kiosk reply %s: %v", m.Data, err)
	}
	return rep
}

// waitHubEvents waits until the hub stored n events of the kiosk and
// returns them, oldest first.
func (e *env) waitHubEvents(n int) []kiosk.Event {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		rep := e.hubKiosk(500)
		if len(rep.Events) >= n || time.Now().After(deadline) {
			if len(rep.Events) != n {
				e.t.Fatalf("hub stored %d events of the kiosk, want %d", len(rep.Events), n)
			}
			out := make([]kiosk.Event, n)
			for i, ev := range rep.Events { // newest first
				out[n-1-i] = ev
			}
			return out
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// savedUsageHour reads the hour of the counts the agent saved, from its
// SQLite file (read-only, beside the running agent).
func (e *env) savedUsageHour() string {
	e.t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(e.agentDir, "kiosk.db")+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRow("SELECT value FROM state WHERE key = 'usage'").Scan(&v); err != nil {
		return ""
	}
	var d kiosk.UsageData
	json.Unmarshal([]byte(v), &d)
	return d.Hour
}

func (e *env) pending() int64 {
	var st kiosk.Status
	e.get("/api/status", &st)
	return st.Bus.OutboxPending
}

// TestUsageSummaryAndOutboxBound: each clock hour ends with one
// usage.summary of counts only; through a hub outage the outbox stays
// within --outbox-max by dropping the oldest summaries (never other
// events) with outbox.dropped tombstones, and the hub, once back, holds
// every other event once and reports no lost seq.
func TestUsageSummaryAndOutboxBound(t *testing.T) {
	e := newEnv(t, func(_ *hubserver.Config, a *agent.Config) {
		a.Heartbeat = time.Second
		a.DiskCheck = 100 * time.Millisecond
		a.OutboxMax = 3
	})
	found := e.sample(sample.Paid)
	if code, _ := e.lookup(found.Plate, found.Rangka5); code != 200 {
		t.Fatalf("lookup of a known plate: %d", code)
	}
	e.lookup(e.sample(sample.NotFound).Plate, "12345")
	e.lookup("XX 1", "12345") // refused before any lookup
	e.post("/api/session", map[string]string{}, 5*time.Second)

	hourNow := func() string { return e.clk.Now().Truncate(time.Hour).Format(time.RFC3339) }
	nextHour := func() {
		t.Helper()
		e.clk.Add(time.Hour)
		deadline := time.Now().Add(10 * time.Second)
		for e.savedUsageHour() != hourNow() {
			if time.Now().After(deadline) {
				t.Fatalf("usage hour saved %q, want %q", e.savedUsageHour(), hourNow())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	nextHour() // 10:00 ends
	evs := e.waitHubEvents(2)
	if evs[0].Type != kiosk.EventBoot || evs[1].Type != kiosk.EventUsage {
		t.Fatalf("hub events %s, %s; want lifecycle.boot, usage.summary", evs[0].Type, evs[1].Type)
	}
	var u kiosk.UsageData
	if err := json.Unmarshal(evs[1].Data, &u); err != nil {
		t.Fatal(err)
	}
	want := kiosk.UsageData{Hour: "2026-11-23T10:00:00+07:00", Lookups: 3, Found: 1, NotFound: 1, Sessions: u.Sessions}
	if u != want || u.Sessions < 1 {
		t.Errorf("usage.summary = %+v, want %+v with at least one session", u, want)
	}
	var raw map[string]any
	json.Unmarshal(evs[1].Data, &raw)
	if len(raw) != 7 {
		t.Errorf("usage.summary data %v: want the 7 fields of DESIGN 4.2 and nothing else", raw)
	}

	e.stopHub()
	e.waitBus(false)
	for range 6 { // 11:00 .. 16:00 end while the hub is away
		nextHour()
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.pending() > 3 {
		if time.Now().After(deadline) {
			t.Fatalf("outbox_pending = %d, want <= --outbox-max 3", e.pending())
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.startHub()
	e.waitBus(true)
	deadline = time.Now().Add(15 * time.Second)
	for e.pending() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("outbox_pending = %d after the hub came back", e.pending())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The stream acknowledged everything; the hub's projection follows
	// within moments: wait for the newest summary to be stored there.
	var rep hub.KioskReply
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		rep = e.hubKiosk(500)
		if hasType(rep.Events, kiosk.EventDropped) && hasHour(rep.Events, "2026-11-23T16:00:00+07:00") || time.Now().After(deadline) {
			break
		}
	}
	hours := map[string]bool{}
	var dropped int
	var lastHour string
	for _, ev := range rep.Events {
		switch ev.Type {
		case kiosk.EventUsage:
			var u kiosk.UsageData
			json.Unmarshal(ev.Data, &u)
			if hours[u.Hour] {
				t.Errorf("usage.summary of %s twice", u.Hour)
			}
			hours[u.Hour] = true
			if u.Hour > lastHour {
				lastHour = u.Hour
			}
		case kiosk.EventDropped:
			var d kiosk.DroppedData
			json.Unmarshal(ev.Data, &d)
			if d.Type != kiosk.EventUsage || d.Reason != "outbox_full" || d.Count < 1 {
				t.Errorf("tombstone %+v", d)
			}
			dropped += d.Count
		}
	}
	var maxSeq int64
	for _, ev := range rep.Events {
		maxSeq = max(maxSeq, ev.Seq)
	}
	// Every seq is either at the hub or counted by the tombstone (folded
	// earlier tombstones included), and only summaries were lost.
	if int64(len(rep.Events)+dropped) != maxSeq || len(hours) > 7 {
		t.Errorf("hub has %d events, tombstones count %d, highest seq %d", len(rep.Events), dropped, maxSeq)
	}
	for _, typ := range []string{kiosk.EventBoot} {
		if !hasType(rep.Events, typ) {
			t.Errorf("%s missing at the hub", typ)
		}
	}
	if dropped == 0 || lastHour != "2026-11-23T16:00:00+07:00" {
		t.Errorf("dropped %d, newest summary %s: want the oldest dropped and 16:00 kept", dropped, lastHour)
	}
	if len(rep.Gaps) != 0 {
		t.Errorf("hub reports gaps %+v: the tombstones should explain every dropped seq", rep.Gaps)
	}
	if rep.Kiosk == nil || rep.Kiosk.Presence != hub.Online {
		t.Errorf("hub.kiosk presence = %+v, want online", rep.Kiosk)
	}
}

func hasType(evs []kiosk.Event, typ string) bool {
	for _, e := range evs {
		if e.Type == typ {
			return true
		}
	}
	return false
}

func hasHour(evs []kiosk.Event, hour string) bool {
	for _, e := range evs {
		var u kiosk.UsageData
		if e.Type == kiosk.EventUsage && json.Unmarshal(e.Data, &u) == nil && u.Hour == hour {
			return true
		}
	}
	return false
}
