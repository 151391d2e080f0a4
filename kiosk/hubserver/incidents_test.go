package hubserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
	"github.com/sumbar-samsat/pkbkiosk/sync/hub/backup"
	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// receiver is a webhook endpoint that records the alerts it accepted.
type receiver struct {
	mu   sync.Mutex
	keys []string // Idempotency-Key of every request, in order
	got  []map[string]any
	srv  *httptest.Server
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var m map[string]any
		json.Unmarshal(b, &m)
		r.mu.Lock()
		r.keys = append(r.keys, req.Header.Get("Idempotency-Key"))
		r.got = append(r.got, m)
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) snapshot() ([]string, []map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.keys), slices.Clone(r.got)
}

// wait waits until an accepted alert satisfies ok.
func (r *receiver) wait(t *testing.T, what string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		_, got := r.snapshot()
		for _, m := range got {
			if ok(m) {
				return m
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, got := r.snapshot()
	t.Fatalf("no %s alert arrived; got %v", what, got)
	return nil
}

func alertsFile(t *testing.T, url string) string {
	p := filepath.Join(t.TempDir(), "alerts.toml")
	body := fmt.Sprintf("dashboard_url = \"https://hub.example/\"\n[[route]]\nname = \"Bidang Sistim\"\noffices = [\"*\"]\nwebhook = [%q]\n", url)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// publishKiosk makes the hub know kiosk id: a heartbeat, and an event
// into KIOSK_EVENTS as its outbox would send it.
func publishKiosk(t *testing.T, nc *nats.Conn, id, office string, seq int64, typ, code string) {
	t.Helper()
	st, _ := json.Marshal(kiosk.Status{Kiosk: id, Office: office, HBIntervalS: 10, Mode: kiosk.ModeReady, Version: "test"})
	if err := nc.Publish("kiosk."+id+".hb", st); err != nil {
		t.Fatal(err)
	}
	if typ == "" {
		return
	}
	d, _ := json.Marshal(kiosk.FaultData{Code: code, Severity: kiosk.Severity[code], Detail: "DLE EOT 4 = 0x7e"})
	e := kiosk.Event{ID: fmt.Sprintf("0193a8f2-0000-7000-8000-%012d", seq), Kiosk: id, Office: office, Type: typ,
		At: time.Now(), Boot: "b", Epoch: "e-" + id, Seq: seq, Data: d}
	b, _ := json.Marshal(e)
	m := nats.NewMsg(kiosk.EventSubject(id, typ))
	m.Header.Set(nats.MsgIdHdr, e.ID)
	m.Data = b
	js, _ := jetstream.New(nc)
	if _, err := js.PublishMsg(t.Context(), m); err != nil {
		t.Fatal(err)
	}
}

// TestAlertsAndRebuildNoReAlert: a paper-out at a kiosk opens an incident
// whose alert reaches the webhook once (with the incident's link); after
// the hub stopped, its projection deleted and `rebuild`, the restarted hub
// has the same fleet, incidents and users, and sends nothing again.
func TestAlertsAndRebuildNoReAlert(t *testing.T) {
	rcv := newReceiver(t)
	cfg := testConfig(t)
	cfg.Auth = false
	cfg.Alerts = alertsFile(t, rcv.srv.URL+"/hook")
	cfg.AliveAt = -1
	h, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(h.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	publishKiosk(t, nc, "padang-01", "padang", 0, "", "")
	publishKiosk(t, nc, "padang-02", "padang", 1, kiosk.EventFaultRaised, "printer.paper_out")
	opened := rcv.wait(t, "opened", func(m map[string]any) bool { return m["kind"] == "opened" })
	if !strings.Contains(opened["subject"].(string), "Kertas printer habis") || !strings.HasPrefix(opened["url"].(string), "https://hub.example/incidents/inc-") {
		t.Errorf("opened alert = %v", opened)
	}
	if err := h.AddUser(t.Context(), hubapi.User{Name: "ani", Role: "uptd", Offices: []string{"padang"}, Hash: "$2a$04$abcdefghijklmnopqrstuu"}, "test"); err != nil {
		t.Fatal(err)
	}
	// The alert is marked delivered before the hub stops.
	waitFor(t, "the alert recorded as sent", func() bool {
		as, _ := h.Store().Alerts(t.Context(), 10)
		return len(as) == 1 && as[0].State == "sent"
	})
	state := func(h *Hub) string {
		is, err := h.Store().Incidents(t.Context(), hubapi.IncidentsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		us, _ := h.Store().Users(t.Context())
		var ks []string
		for _, k := range h.fleet.Kiosks() {
			ks = append(ks, k.Kiosk+"@"+k.Office)
		}
		b, _ := json.Marshal([]any{is, us, ks})
		return string(b)
	}
	waitFor(t, "both kiosks in the fleet", func() bool { return len(h.fleet.Kiosks()) == 2 })
	before := state(h)
	keysBefore, _ := rcv.snapshot()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}

	for _, suf := range []string{"", "-wal", "-shm"} {
		os.Remove(filepath.Join(cfg.Data, "hub.db"+suf))
	}
	s, err := OpenStreams(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := s.Rebuild(t.Context())
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	if stats.KioskEvents != 1 || stats.HubEvents < 4 {
		t.Errorf("rebuild stats %+v", stats)
	}

	h2, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	if after := state(h2); after != before {
		t.Fatalf("after rebuild:\n%s\nbefore:\n%s", after, before)
	}
	time.Sleep(3 * time.Second) // a few decider rounds and a sender poll
	if keys, _ := rcv.snapshot(); !slices.Equal(keys, keysBefore) {
		t.Fatalf("alerts after the rebuild: %v, before %v", keys, keysBefore)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shortCert writes a self-signed certificate for 127.0.0.1 valid for d.
func shortCert(t *testing.T, d time.Duration) (certFile, keyFile string) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "kioskhub"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(d),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(k)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

// TestHubChecks: the hub warns Bidang Sistim ahead of the expiry of its
// dashboard certificate (a test certificate valid two days) and of a
// kiosk's credentials, when its data disk is short of space, and makes a
// verified backup at start.
func TestHubChecks(t *testing.T) {
	rcv := newReceiver(t)
	cfg := testConfig(t)
	cfg.Alerts = alertsFile(t, rcv.srv.URL)
	cfg.AliveAt = -1
	cfg.HTTP = "127.0.0.1:0"
	cfg.HTTPTLSCert, cfg.HTTPTLSKey = shortCert(t, 48*time.Hour)
	cfg.DiskMinFree = 1 << 62 // more than any disk
	cfg.BackupDir = filepath.Join(t.TempDir(), "backups")
	h, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if _, _, err := h.Auth().IssueKiosk("padang-01", "padang", false); err != nil {
		t.Fatal(err)
	}
	cert := rcv.wait(t, "certificate expiry", func(m map[string]any) bool {
		return m["kind"] == "expiry" && strings.Contains(m["text"].(string), "Sertifikat TLS hub dasbor kedaluwarsa dalam")
	})
	if _, ok := cert["incident"]; ok {
		t.Errorf("a hub alert names an incident: %v", cert)
	}
	rcv.wait(t, "disk", func(m map[string]any) bool {
		return m["kind"] == "disk" && strings.Contains(m["subject"].(string), "Disk data hub hampir penuh")
	})
	waitFor(t, "the first backup", func() bool {
		_, _, err := backup.Latest(cfg.BackupDir)
		return err == nil
	})
	m, _, _ := backup.Latest(cfg.BackupDir)
	if err := backup.Verify(t.Context(), m.Dir); err != nil {
		t.Fatalf("the hub's backup does not verify: %v", err)
	}
	ev, err := h.Store().HubEvents(t.Context(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ev, func(e hub.HubEvent) bool { return e.Type == hub.HEBackup }) {
		t.Errorf("backup.done not on HUB_EVENTS")
	}
	// The kiosk's credentials expire in a year: no warning yet; the
	// expiry check itself is in sync/hub/expiry's tests.
	keys, _ := rcv.snapshot()
	if n := len(keys); n != 2 {
		t.Errorf("alerts = %d, want the certificate and the disk once each", n)
	}
}
