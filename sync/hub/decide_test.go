package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/kiosktest"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsbus/natsbustest"
)

var wib = time.FixedZone("WIB", 7*3600)

// decideEnv is a hub's decision machinery on a real NATS server and a real
// SQLite projection, with a fake clock; the test drives Reconcile.
type decideEnv struct {
	t     *testing.T
	clk   *kiosktest.Clock // the decider's and the fleet's
	js    jetstream.JetStream
	st    *hub.Store
	fleet *hub.Fleet
	pub   *hub.Publisher
	dec   *hub.Decider
	seq   map[string]int64
}

func newDecideEnv(t *testing.T) *decideEnv {
	ns := natsbustest.RunServer(t, nil)
	nc := natsbustest.Connect(t, ns)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hub.EnsureStreams(t.Context(), js, hub.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	e := &decideEnv{t: t, js: js, seq: map[string]int64{},
		clk: kiosktest.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, wib))} // a Monday, working hours
	e.st = e.openStore(filepath.Join(t.TempDir(), "hub.db"))
	e.fleet = hub.NewFleet(e.clk.Now)
	e.pub = hub.NewPublisher(js, e.st)
	e.dec = e.decider(e.st)
	return e
}

func (e *decideEnv) openStore(path string) *hub.Store {
	st, err := hub.OpenStore(e.t.Context(), path)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		hub.RunProjector(ctx, hub.ProjectorConfig{Store: st, JS: e.js})
	}()
	e.t.Cleanup(func() { cancel(); <-done; st.Close() })
	return st
}

func (e *decideEnv) decider(st *hub.Store) *hub.Decider {
	return hub.NewDecider(hub.DeciderConfig{Store: st, Pub: hub.NewPublisher(e.js, st), Fleet: e.fleet, TZ: wib, Now: e.clk.Now,
		AliveAt: -1})
}

func (e *decideEnv) reconcile() {
	e.t.Helper()
	if err := e.dec.Reconcile(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
}

// fault stores a fault event of kiosk as the fleet monitor would.
func (e *decideEnv) fault(kioskID, office, typ, code string) {
	e.t.Helper()
	e.seq[kioskID]++
	d, _ := json.Marshal(kiosk.FaultData{Code: code, Severity: kiosk.Severity[code], Detail: "DLE EOT 4 = 0x7e"})
	ev := kiosk.Event{ID: fmt.Sprintf("0193a8f2-0000-7000-8000-%04d%08d", len(e.seq), e.seq[kioskID]), Kiosk: kioskID, Office: office,
		Type: typ, At: e.clk.Now(), Boot: "b", Epoch: "ep-" + kioskID, Seq: e.seq[kioskID], Data: d}
	if _, err := e.st.Ingest(e.t.Context(), ev); err != nil {
		e.t.Fatal(err)
	}
}

func (e *decideEnv) beat(id, office string, battery bool) {
	st := kiosk.Status{Kiosk: id, Office: office, HBIntervalS: 10, Mode: kiosk.ModeReady, Power: kiosk.PowerStatus{Source: "mains"}}
	if battery {
		st.Power.Source = "battery"
		st.Faults = []string{"power.on_battery"}
	}
	b, _ := json.Marshal(st)
	e.fleet.Heartbeat(id, b)
}

func (e *decideEnv) incidents(q hubapi.IncidentsRequest) []hubapi.Incident {
	e.t.Helper()
	is, err := e.st.Incidents(e.t.Context(), q)
	if err != nil {
		e.t.Fatal(err)
	}
	return is
}

func (e *decideEnv) alerts() []hubapi.Alert {
	e.t.Helper()
	as, err := e.st.Alerts(e.t.Context(), 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	slices.Reverse(as)
	return as
}

func alertKinds(as []hubapi.Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Kind+":"+a.Incident)
	}
	return out
}

// TestFaultIncidentLifecycle: a critical fault opens one incident with one
// alert however often the decider runs; a warning opens none; the clear
// resolves it automatically with a note and one "resolved" alert; the
// same fault flapping back within 30 minutes opens a new incident without
// a new alert.
func TestFaultIncidentLifecycle(t *testing.T) {
	e := newDecideEnv(t)
	e.beat("padang-01", "padang", false)
	e.fault("padang-01", "padang", kiosk.EventFaultRaised, "printer.paper_out")
	e.fault("padang-01", "padang", kiosk.EventFaultRaised, "printer.paper_near_end") // warning: no incident
	for range 3 {
		e.reconcile()
	}
	is := e.incidents(hubapi.IncidentsRequest{})
	if len(is) != 1 || is[0].Code != "printer.paper_out" || is[0].State != "open" || is[0].Kiosk != "padang-01" || is[0].Title != "Kertas printer habis" {
		t.Fatalf("incidents = %+v, want one open paper_out incident of padang-01", is)
	}
	inc := is[0].ID
	as := e.alerts()
	if len(as) != 1 || as[0].Kind != "opened" || as[0].Office != "padang" {
		t.Fatalf("alerts = %+v, want one opened alert", as)
	}
	for _, want := range []string{"GANGGUAN: Kertas printer habis", "padang-01 (UPTD padang)"} {
		if !strings.Contains(as[0].Subject, want) {
			t.Errorf("alert subject %q lacks %q", as[0].Subject, want)
		}
	}
	if !strings.Contains(as[0].Text, "Target: ditanggapi sebelum 23-11-2026 09:30 WIB") {
		t.Errorf("alert text lacks the acknowledge target:\n%s", as[0].Text)
	}

	// Someone acknowledges; the fault clears 10 minutes later.
	e.clk.Add(5 * time.Minute)
	e.beat("padang-01", "padang", false)
	ack := hub.HubEvent{ID: "ack-1", Type: hub.HEIncidentAcked, At: e.clk.Now(), By: "uptd-padang", Office: "padang", Target: inc}
	if err := e.pub.Do(t.Context(), ack); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(5 * time.Minute)
	e.beat("padang-01", "padang", false)
	e.fault("padang-01", "padang", kiosk.EventFaultCleared, "printer.paper_out")
	e.reconcile()
	got, err := e.st.Incident(t.Context(), inc)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "resolved" || got.ResolvedBy != hub.ByHub || got.AckedBy != "uptd-padang" ||
		!strings.Contains(got.Note, "Gangguan sudah pulih (Kertas printer habis), setelah 10 menit") {
		t.Fatalf("after the clear: %+v", got)
	}
	e.dec.Judge(&got, e.clk.Now())
	if got.TimeToAckS != 300 || got.TimeToResolveS != 600 || got.Overdue() {
		t.Errorf("timings = ack %ds resolve %ds overdue %v, want 300/600/false", got.TimeToAckS, got.TimeToResolveS, got.Overdue())
	}
	if k := alertKinds(e.alerts()); !slices.Equal(k, []string{"opened:" + inc, "resolved:" + inc}) {
		t.Fatalf("alerts = %v\nincidents %+v", k, e.incidents(hubapi.IncidentsRequest{}))
	}

	// Flapping: the same fault again 2 minutes later.
	e.clk.Add(2 * time.Minute)
	e.beat("padang-01", "padang", false)
	e.fault("padang-01", "padang", kiosk.EventFaultRaised, "printer.paper_out")
	e.reconcile()
	if is := e.incidents(hubapi.IncidentsRequest{State: "open"}); len(is) != 1 || is[0].ID == inc {
		t.Fatalf("after the flap: open incidents %+v, want a new one", is)
	}
	if n := len(e.alerts()); n != 2 {
		t.Fatalf("the flap was alerted again: %v", alertKinds(e.alerts()))
	}
}

// TestOverdueReminder: an incident not acknowledged within 30 minutes of
// working time gets one reminder; the clock outside working hours does
// not count.
func TestOverdueReminder(t *testing.T) {
	e := newDecideEnv(t)
	e.clk.Set(time.Date(2026, 11, 23, 15, 50, 0, 0, wib)) // 10 minutes before closing
	e.beat("padang-01", "padang", false)
	e.fault("padang-01", "padang", kiosk.EventFaultRaised, "printer.cover_open")
	e.reconcile()
	e.clk.Add(2 * time.Hour) // 17:50: only 10 working minutes passed
	e.beat("padang-01", "padang", false)
	e.reconcile()
	if k := alertKinds(e.alerts()); len(k) != 1 {
		t.Fatalf("alerts at 17:50 = %v, want only the opening", k)
	}
	i := e.incidents(hubapi.IncidentsRequest{})[0]
	e.dec.Judge(&i, e.clk.Now())
	if want := time.Date(2026, 11, 24, 8, 20, 0, 0, wib); !i.AckDue.Equal(want) || i.AckOverdue {
		t.Fatalf("ack due %v overdue %v, want %v and not yet", i.AckDue, i.AckOverdue, want)
	}
	e.clk.Set(time.Date(2026, 11, 24, 8, 21, 0, 0, wib))
	e.beat("padang-01", "padang", false)
	e.reconcile()
	e.reconcile()
	as := e.alerts()
	if k := alertKinds(as); len(k) != 2 || as[1].Kind != "reminder" || !strings.Contains(as[1].Text, "belum ditanggapi") {
		t.Fatalf("alerts = %v, want the opening and one reminder", k)
	}
}

// TestOfficeCorrelation: three of four kiosks of one office going silent
// together are one office incident (a power cut: their last heartbeats
// ran on the UPS), one kiosk of another office alone is a kiosk incident
// (network); a fourth kiosk going silent later joins the office
// incident; the kiosks coming back resolve both.
func TestOfficeCorrelation(t *testing.T) {
	e := newDecideEnv(t)
	padang := []string{"padang-01", "padang-02", "padang-03", "padang-04"}
	bkt := []string{"bukittinggi-01", "bukittinggi-02", "bukittinggi-03"}
	beatAll := func(ids []string, office string, battery bool) {
		for _, id := range ids {
			e.beat(id, office, battery)
		}
	}
	beatAll(padang, "padang", false)
	beatAll(bkt, "bukittinggi", false)
	e.clk.Add(10 * time.Second)
	// The mains fail at padang: three kiosks run on their UPS, then die.
	beatAll(padang[:3], "padang", true)
	beatAll(padang[3:], "padang", false)
	beatAll(bkt, "bukittinggi", false)
	for range 12 { // two minutes: padang-04 and two of bukittinggi keep beating
		e.clk.Add(10 * time.Second)
		beatAll(padang[3:], "padang", false)
		beatAll(bkt[1:], "bukittinggi", false)
		e.fleet.Tick()
		e.reconcile()
	}
	office := e.incidents(hubapi.IncidentsRequest{Office: "padang"})
	if len(office) != 1 || office[0].Scope != "office" || office[0].Code != hub.CodeOfficeOffline || office[0].Cause != hub.CausePower ||
		!slices.Equal(office[0].Kiosks, padang[:3]) {
		t.Fatalf("padang incidents = %+v, want one office power incident of padang-01..03", office)
	}
	one := e.incidents(hubapi.IncidentsRequest{Office: "bukittinggi"})
	if len(one) != 1 || one[0].Scope != "kiosk" || one[0].Kiosk != "bukittinggi-01" || one[0].Cause != hub.CauseNetwork {
		t.Fatalf("bukittinggi incidents = %+v, want one kiosk network incident", one)
	}
	as := e.alerts()
	if len(as) != 2 {
		t.Fatalf("alerts = %v, want two", alertKinds(as))
	}
	for _, a := range as {
		if a.Incident == office[0].ID && !strings.Contains(a.Text, "3 dari 4 kiosk") {
			t.Errorf("office alert text:\n%s", a.Text)
		}
	}

	// padang-04 goes silent too: it joins the office incident, no alert.
	for range 8 {
		e.clk.Add(10 * time.Second)
		beatAll(bkt[1:], "bukittinggi", false)
		e.fleet.Tick()
		e.reconcile()
	}
	if got := e.incidents(hubapi.IncidentsRequest{Office: "padang"}); len(got) != 1 || !slices.Equal(got[0].Kiosks, padang) {
		t.Fatalf("after padang-04 went silent: %+v", got)
	}
	if n := len(e.alerts()); n != 2 {
		t.Fatalf("alerts = %v", alertKinds(e.alerts()))
	}

	// Power is back.
	beatAll(padang, "padang", false)
	beatAll(bkt, "bukittinggi", false)
	e.reconcile()
	if act := e.incidents(hubapi.IncidentsRequest{State: "active"}); len(act) != 0 {
		t.Fatalf("active incidents after all came back: %+v", act)
	}
	if n := len(e.alerts()); n != 4 {
		t.Fatalf("alerts = %v, want two opened and two resolved", alertKinds(e.alerts()))
	}
}

// TestRebuildSameStateNoReAlert: a projection rebuilt from the streams has
// the same incidents, users and alerts, and deciding on it queues nothing
// new.
func TestRebuildSameStateNoReAlert(t *testing.T) {
	e := newDecideEnv(t)
	e.beat("padang-01", "padang", false)
	e.beat("padang-02", "padang", false)
	e.fault("padang-01", "padang", kiosk.EventFaultRaised, "printer.paper_out")
	e.fault("padang-02", "padang", kiosk.EventFaultRaised, "disk.full")
	e.reconcile()
	user := hub.NewHubEvent(hub.HEUserAdded, "admin", e.clk.Now(), hub.UserData{Role: "uptd", Offices: []string{"padang"}, Hash: "$2a$10$x"})
	user.Target = "ani"
	if err := e.pub.Do(t.Context(), user); err != nil {
		t.Fatal(err)
	}
	inc := e.incidents(hubapi.IncidentsRequest{Kiosk: "padang-02"})[0].ID
	if err := e.pub.Do(t.Context(), hub.HubEvent{ID: "r1", Type: hub.HEIncidentResolved, At: e.clk.Now(), By: "ani", Target: inc,
		Data: json.RawMessage(`{"note":"disk dibersihkan"}`)}); err != nil {
		t.Fatal(err)
	}
	e.reconcile() // the "resolved" alert is queued
	// The kiosk events reach the stream too (the real hub stores them
	// from there).
	evs, err := e.st.Events(t.Context(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if _, err := e.js.PublishMsg(t.Context(), eventMsg(t, ev.ID, ev)); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, e.st)
	info, _ := e.js.Stream(t.Context(), hub.HubStream)
	lastBefore := info.CachedInfo().State.LastSeq

	fresh, err := hub.OpenStore(t.Context(), filepath.Join(t.TempDir(), "rebuilt.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fresh.Close() })
	stats, err := hub.Rebuild(t.Context(), e.js, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if stats.KioskEvents != uint64(len(evs)) || stats.HubEvents != lastBefore {
		t.Fatalf("rebuild stats %+v, want %d kiosk events and %d hub events", stats, len(evs), lastBefore)
	}
	if after := snapshot(t, fresh); after != before {
		t.Fatalf("rebuilt projection differs:\nbefore %s\nafter  %s", before, after)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); hub.RunProjector(ctx, hub.ProjectorConfig{Store: fresh, JS: e.js}) }()
	t.Cleanup(func() { cancel(); <-done })
	rctx, rcancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer rcancel()
	if err := e.decider(fresh).Reconcile(rctx); err != nil {
		t.Fatal(err)
	}
	info, _ = e.js.Stream(t.Context(), hub.HubStream)
	if last := info.CachedInfo().State.LastSeq; last != lastBefore {
		t.Fatalf("deciding on the rebuilt projection published %d events", last-lastBefore)
	}
}

func snapshot(t *testing.T, st *hub.Store) string {
	t.Helper()
	is, err := st.Incidents(t.Context(), hubapi.IncidentsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	us, err := st.Users(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	as, err := st.Alerts(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := st.Faults(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal([]any{is, us, as, fs})
	return string(b)
}

// TestLastUnclean: a kiosk's last unclean shutdown is kept for the fleet
// view; a late, older report does not replace a newer one.
func TestLastUnclean(t *testing.T) {
	e := newDecideEnv(t)
	e.beat("padang-01", "padang", false)
	e.fault("padang-01", "padang", kiosk.EventFaultRaised, "power.unclean_shutdown")
	first := e.clk.Now()
	e.clk.Add(-time.Hour) // an older report arriving late
	e.fault("padang-01", "padang", kiosk.EventFaultRaised, "power.unclean_shutdown")
	got, err := e.st.LastUnclean(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !got["padang-01"].Equal(first) {
		t.Fatalf("last unclean = %v, want %v", got["padang-01"], first)
	}
	if is := e.incidents(hubapi.IncidentsRequest{}); len(is) != 0 {
		t.Fatalf("an unclean shutdown (a past event) opened incidents: %+v", is)
	}
}
