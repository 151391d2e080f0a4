package expiry_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/sync/hub/expiry"
)

// writeCert writes a self-signed certificate valid until notAfter, with a
// key block first and an intermediate-looking second certificate, as a
// chain file may be.
func writeCert(t *testing.T, cn string, notAfter time.Time) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der := func(cn string, notAfter time.Time) []byte {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(time.Now().UnixNano()),
			Subject:      pkix.Name{CommonName: cn, Organization: []string{"Bapenda Sumbar"}},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     notAfter,
			DNSNames:     []string{cn},
		}
		b, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})...)
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der(cn, notAfter)})...)
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der("intermediate", notAfter.Add(1000*24*time.Hour))})...)
	path := filepath.Join(t.TempDir(), cn+".pem")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCertExpiryWarning(t *testing.T) {
	jakarta := time.FixedZone("WIB", 7*3600)
	now := time.Now().In(jakarta)
	soon := writeCert(t, "hub.sumbar.example", now.Add(2*24*time.Hour+time.Hour).Truncate(time.Second))
	later := writeCert(t, "later.sumbar.example", now.Add(90*24*time.Hour).Truncate(time.Second))
	var items []expiry.Item
	for _, f := range []struct{ file, name string }{{soon, "hub"}, {later, "dashboard"}} {
		na, subject, err := expiry.CertExpiry(f.file)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(subject, "CN=") || !strings.Contains(subject, ".sumbar.example") {
			t.Errorf("CertExpiry(%s) subject %q", f.file, subject)
		}
		items = append(items, expiry.Item{Kind: expiry.KindTLS, Name: f.name, NotAfter: na})
	}
	if d := items[0].NotAfter.Sub(now); d < 2*24*time.Hour || d > 3*24*time.Hour {
		t.Errorf("first certificate of the chain: expires in %v, want the leaf's 2 days", d)
	}
	ws := expiry.Check(now, 30*24*time.Hour, items)
	want := "Sertifikat TLS hub kedaluwarsa dalam 2 hari (" + items[0].NotAfter.In(jakarta).Format("2006-01-02") + ")"
	if len(ws) != 1 || ws[0].Name != "hub" || ws[0].Expired || ws[0].Text != want {
		t.Errorf("Check = %+v, want one warning %q", ws, want)
	}
}

func TestCertExpiryErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "key.pem")
	os.WriteFile(notPEM, []byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"), 0o600)
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("nonsense")}), 0o600)
	for _, f := range []string{filepath.Join(dir, "missing.pem"), notPEM, bad} {
		if _, _, err := expiry.CertExpiry(f); err == nil || !strings.Contains(err.Error(), filepath.Base(f)) {
			t.Errorf("CertExpiry(%s) = %v, want an error naming the file", filepath.Base(f), err)
		}
	}
}

func TestCheck(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.FixedZone("WIB", 7*3600))
	day := 24 * time.Hour
	items := []expiry.Item{
		{expiry.KindCreds, "kiosk padang-02", now.Add(200 * day)},
		{expiry.KindTLS, "hub", now.Add(12*day + time.Hour)},
		{expiry.KindCreds, "kiosk padang-01", now.Add(-3 * day)},
		{expiry.KindCreds, "operator budi", time.Time{}}, // issued before expiry existed
		{expiry.KindCreds, "kiosk solok-01", now.Add(5 * time.Hour)},
		{expiry.KindCreds, "kiosk solok-02", now.Add(30 * day)},
	}
	ws := expiry.Check(now, 30*day, items)
	var got []string
	for _, w := range ws {
		got = append(got, w.Text)
	}
	want := []string{
		"Kredensial kiosk padang-01 sudah kedaluwarsa sejak 2026-11-20",
		"Kredensial kiosk solok-01 kedaluwarsa dalam kurang dari sehari (2026-11-23 14:00)",
		"Sertifikat TLS hub kedaluwarsa dalam 12 hari (2026-12-05)",
		"Kredensial kiosk solok-02 kedaluwarsa dalam 30 hari (2026-12-23)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Check texts:\n got %q\nwant %q", got, want)
	}
	if !ws[0].Expired || ws[0].Left != -3*day || ws[1].Expired {
		t.Errorf("Expired/Left: %+v %+v", ws[0], ws[1])
	}
	if ws := expiry.Check(now, 30*day, nil); len(ws) != 0 {
		t.Errorf("Check(nil) = %v", ws)
	}
}

func TestDiskFree(t *testing.T) {
	free, total, err := expiry.DiskFree(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if total == 0 || free > total {
		t.Errorf("DiskFree = %d free of %d", free, total)
	}
	if _, _, err := expiry.DiskFree(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("DiskFree of a missing path succeeded")
	}
}
