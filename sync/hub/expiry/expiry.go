// Package expiry finds what the hub must renew before it stops working:
// its own TLS certificates and the kiosks' and operators' NATS
// credentials (the SOP's renewal cycle), and reads the free space of a
// disk. Check is pure: the hub gathers the items, Check decides which to
// warn about and words the warnings in Bahasa Indonesia.
package expiry

import (
	"cmp"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"
	"time"
)

// Kind is what expires.
type Kind string

// Kinds of items.
const (
	KindTLS   Kind = "tls"   // a TLS certificate of the hub
	KindCreds Kind = "creds" // a NATS credential (.creds) of a kiosk or operator
)

// Item is one thing that expires.
type Item struct {
	Kind Kind
	// Name says which one, as it reads after "Sertifikat TLS" or
	// "Kredensial": "hub", "kiosk padang-01", "operator budi".
	Name     string
	NotAfter time.Time // zero: never expires, never warned about
}

// Warning is an item that expires within the horizon given to Check, or
// has expired.
type Warning struct {
	Item
	Expired bool
	Left    time.Duration // until NotAfter; negative once expired
	Text    string        // Bahasa Indonesia, for the dashboard and alerts
}

// Check returns a warning for each item that has expired at now or
// expires within the duration within after it, the soonest first (then by
// name). Dates in the texts are in now's location: give the hub's time
// zone.
func Check(now time.Time, within time.Duration, items []Item) []Warning {
	var ws []Warning
	for _, it := range items {
		if it.NotAfter.IsZero() {
			continue
		}
		left := it.NotAfter.Sub(now)
		if left > within {
			continue
		}
		w := Warning{Item: it, Expired: left <= 0, Left: left}
		w.Text = text(w, now.Location())
		ws = append(ws, w)
	}
	slices.SortFunc(ws, func(a, b Warning) int {
		return cmp.Or(a.NotAfter.Compare(b.NotAfter), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Kind, b.Kind))
	})
	return ws
}

// text words a warning: "Sertifikat TLS hub kedaluwarsa dalam 12 hari
// (2026-12-05)", "Kredensial kiosk padang-01 sudah kedaluwarsa sejak
// 2026-12-05".
func text(w Warning, loc *time.Location) string {
	noun := "Kredensial"
	if w.Kind == KindTLS {
		noun = "Sertifikat TLS"
	}
	date := w.NotAfter.In(loc).Format("2006-01-02")
	if w.Expired {
		return fmt.Sprintf("%s %s sudah kedaluwarsa sejak %s", noun, w.Name, date)
	}
	// Whole days left, rounded down: "dalam 1 hari" means before this
	// time tomorrow, never later than promised.
	days := int(w.Left / (24 * time.Hour))
	if days == 0 {
		return fmt.Sprintf("%s %s kedaluwarsa dalam kurang dari sehari (%s)", noun, w.Name, w.NotAfter.In(loc).Format("2006-01-02 15:04"))
	}
	return fmt.Sprintf("%s %s kedaluwarsa dalam %d hari (%s)", noun, w.Name, days, date)
}

// CertExpiry returns the expiry and subject of the first certificate in a
// PEM file (the server's own certificate of a chain: the intermediates
// after it are renewed by the CA, not by us).
func CertExpiry(certFile string) (notAfter time.Time, subject string, err error) {
	b, err := os.ReadFile(certFile)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("expiry: %w", err)
	}
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return time.Time{}, "", fmt.Errorf("expiry: %s: %w", certFile, errNoCert)
		}
		if blk.Type != "CERTIFICATE" {
			continue // a key or parameters in the same file
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return time.Time{}, "", fmt.Errorf("expiry: %s: %w", certFile, err)
		}
		return c.NotAfter, c.Subject.String(), nil
	}
}

var errNoCert = errors.New("no PEM CERTIFICATE block")

// DiskFree returns the space free for the hub (not counting blocks
// reserved for root) and the size of the file system holding path.
func DiskFree(path string) (free, total uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, 0, fmt.Errorf("expiry: statfs %s: %w", path, err)
	}
	return st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize), nil
}
