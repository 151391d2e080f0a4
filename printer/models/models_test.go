package models

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Provenance of capabilities.json (LICENSE-escpos-printer-db.md): the git
// blob id of dist/capabilities.json at the commit we took. Equal blob ids
// mean the file is shipped unmodified.
const (
	upstreamCommit = "4d882a7da120bd7646483bfec086aef90b117ba6"
	upstreamBlob   = "f13c60aeaad8ad90f221b9849123e27eb1a669f0"
)

func TestCapabilitiesUnmodified(t *testing.T) {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(capabilitiesJSON))
	h.Write(capabilitiesJSON)
	if got := hex.EncodeToString(h.Sum(nil)); got != upstreamBlob {
		t.Errorf("git blob id of capabilities.json = %s, want %s (upstream dist/capabilities.json at %s); "+
			"if you updated or changed the file, say so in LICENSE-escpos-printer-db.md and update this test",
			got, upstreamBlob, upstreamCommit)
	}
	lic, err := os.ReadFile("LICENSE-escpos-printer-db.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{upstreamCommit, upstreamBlob, "CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/",
		"https://github.com/receipt-print-hq/escpos-printer-db", "receipt-print-hq contributors"} {
		if !strings.Contains(string(lic), want) {
			t.Errorf("LICENSE-escpos-printer-db.md does not mention %q", want)
		}
	}
}

func TestProfileCount(t *testing.T) {
	if got := len(IDs()); got != 50 {
		t.Errorf("len(IDs()) = %d, want 50 (domain/printers.md 9(c))", got)
	}
}

func TestLookup(t *testing.T) {
	for _, tt := range []struct {
		id                   string
		fontA, dots, dpi     int
		mm                   float64
		cutter, qr           bool
		vendor               string
		bidirectional        bool
		statusSource         string
		extraFont            string
		extraCols            int
		codePage0, codePage2 string
	}{
		{"TM-T88V", 42, 512, 180, 80, true, true, "Epson", false, "", "Font B", 56, "CP437", "CP850"},
		{"ZJ-5870", 32, 384, 203, 48, false, false, "ZiJiang", false, "firmware-notes/generic-pos58/README.md", "", 0, "CP437", "CP850"},
		{"POS-5890", 32, 384, 203, 57.5, false, false, "Zjiang", false, "firmware-notes/generic-pos58/README.md", "Font B", 42, "CP437", "CP850"},
		{"RP-F10-58mm", 36, 432, 203, 54, true, true, "Seiko", false, "", "Font B", 54, "CP437", "CP850"},
		{"RP-F10-80mm", 48, 576, 203, 72, true, true, "Seiko", false, "", "Font B", 72, "CP437", "CP850"},
		{"TM-T20II", 48, 576, 203, 72, true, true, "Epson", true, "firmware-notes/epson-tm-t20ii/README.md", "Font B", 64, "CP437", "CP850"},
		{"TM-T20III", 48, 576, 203, 80, true, true, "Epson", true, "firmware-notes/epson-tm-t20ii/README.md", "Font B", 64, "CP437", "CP850"},
		{"default", 42, 0, 0, 0, true, true, "Generic", false, "", "Font B", 56, "CP437", "CP850"}, // "Unknown" media values
	} {
		t.Run(tt.id, func(t *testing.T) {
			m, ok := Lookup(tt.id)
			if !ok {
				t.Fatalf("Lookup(%q) = _, false; want a model", tt.id)
			}
			if m.ID != tt.id || m.Vendor != tt.vendor {
				t.Errorf("Lookup(%q) ID, Vendor = %q, %q; want %q, %q", tt.id, m.ID, m.Vendor, tt.id, tt.vendor)
			}
			if got := m.FontAColumns(); got != tt.fontA {
				t.Errorf("FontAColumns() = %d, want %d", got, tt.fontA)
			}
			if m.WidthDots != tt.dots || m.DPI != tt.dpi || m.WidthMM != tt.mm {
				t.Errorf("WidthDots, DPI, WidthMM = %d, %d, %v; want %d, %d, %v", m.WidthDots, m.DPI, m.WidthMM, tt.dots, tt.dpi, tt.mm)
			}
			if m.Cutter != tt.cutter || m.QR != tt.qr {
				t.Errorf("Cutter, QR = %v, %v; want %v, %v", m.Cutter, m.QR, tt.cutter, tt.qr)
			}
			if m.Status.Bidirectional != tt.bidirectional || m.Status.Source != tt.statusSource {
				t.Errorf("Status = %+v; want Bidirectional %v, Source %q", m.Status, tt.bidirectional, tt.statusSource)
			}
			if m.Status.NearEndSensor {
				t.Errorf("Status.NearEndSensor = true; no model in status.json has a confirmed near-end sensor yet")
			}
			if tt.extraFont != "" && m.Columns[tt.extraFont] != tt.extraCols {
				t.Errorf("Columns[%q] = %d, want %d (all: %v)", tt.extraFont, m.Columns[tt.extraFont], tt.extraCols, m.Columns)
			}
			if m.CodePages[0] != tt.codePage0 || m.CodePages[2] != tt.codePage2 {
				t.Errorf("CodePages[0], [2] = %q, %q; want %q, %q", m.CodePages[0], m.CodePages[2], tt.codePage0, tt.codePage2)
			}
		})
	}
}

func TestLookupUnknown(t *testing.T) {
	for _, id := range []string{"", "TM-T99", "tm-t88v", "ZJ5870", " TM-T88V"} {
		if m, ok := Lookup(id); ok {
			t.Errorf("Lookup(%q) = %s, true; want false", id, m.ID)
		}
	}
}

func TestLookupReturnsCopies(t *testing.T) {
	m, _ := Lookup("TM-T88V")
	m.Columns["Font A"] = 1
	m.CodePages[0] = "changed"
	again, _ := Lookup("TM-T88V")
	if again.FontAColumns() != 42 || again.CodePages[0] != "CP437" {
		t.Errorf("changing a returned Model changed the database: Font A %d, code page 0 %q", again.FontAColumns(), again.CodePages[0])
	}
}

// TestColumnsMatchPaper checks domain/printers.md 1: Font A columns follow
// from the dots (12 dots a character) for the profiles the slip supports.
func TestColumnsMatchPaper(t *testing.T) {
	for _, id := range []string{"ZJ-5870", "POS-5890", "RP-F10-58mm", "RP-F10-80mm", "TM-T20II", "TM-T20III", "TM-T88V"} {
		m, _ := Lookup(id)
		if got, want := m.FontAColumns(), m.WidthDots/12; got != want {
			t.Errorf("%s: Font A %d columns, %d dots / 12 = %d", id, got, m.WidthDots, want)
		}
	}
}

func TestMatch(t *testing.T) {
	for _, tt := range []struct {
		deviceID string
		want     string // "" = no match
	}{
		{"MFG:EPSON;CMD:ESC/POS;MDL:TM-T20II;CLS:PRINTER;", "TM-T20II"},
		{"MFG:EPSON;CMD:ESC/POS;MDL:TM-T20II;CLS:PRINTER;DES:EPSON TM-T20II Receipt;", "TM-T20II"},
		{"MANUFACTURER:EPSON;COMMAND SET:ESC/POS;MODEL:TM-T88V;CLASS:PRINTER;", "TM-T88V"},
		{"mfg:epson;mdl:tm-t88v", "TM-T88V"},
		{"MFG:EPSON;MDL:EPSON TM-T20III;", "TM-T20III"},
		{"MFG:EPSON;MDL:TM-T20III Receipt;", "TM-T20III"},
		{"MFG:EPSON;MDL:;DES:EPSON TM-T88V Receipt;", "TM-T88V"},
		{"MFG:Zijiang;CMD:ESC/POS;MDL:ZJ-5870;", "ZJ-5870"},
		{"MFG:Zjiang;MDL:POS5890 Series;", "POS-5890"},
		{"MFG:Zjiang;MDL:POS-5890;", "POS-5890"},
		{"MDL:TM-T20II (42 column mode);", "TM-T20II-42col"},
		{"MFG:Seiko;MDL:RP-F10;", ""}, // 58 or 80 mm: ambiguous
		{"MFG:Generic;MDL:Default;", ""},
		{"MFG:Generic;MDL:simple;", ""},
		{"MFG:EPSON;MDL:TM-T99;", ""},
		{"MFG:Foo;CMD:ESC/POS;MDL:POS-58;", ""},
		{"", ""},
		{";;;:::", ""},
		{"TM-T20II", ""}, // not a device id
	} {
		m, ok := Match(tt.deviceID)
		got := ""
		if ok {
			got = m.ID
		}
		if got != tt.want {
			t.Errorf("Match(%q) = %q, %v; want %q", tt.deviceID, got, ok, tt.want)
		}
	}
}

// TestStatusSources checks that every status.json entry points to a
// firmware-notes page that exists.
func TestStatusSources(t *testing.T) {
	n := 0
	for _, id := range IDs() {
		m, _ := Lookup(id)
		if m.Status == (StatusCaps{}) {
			continue
		}
		n++
		if !strings.HasPrefix(m.Status.Source, "firmware-notes/") {
			t.Errorf("%s: Status.Source = %q, want a firmware-notes/ path", id, m.Status.Source)
			continue
		}
		if _, err := os.Stat(filepath.Join("..", "..", filepath.FromSlash(m.Status.Source))); err != nil {
			t.Errorf("%s: Status.Source: %v", id, err)
		}
	}
	if n == 0 {
		t.Error("no model has status capabilities")
	}
}

func TestParseErrors(t *testing.T) {
	caps := `{"profiles": {"X": {"name": "X", "vendor": "V", "features": {}, "fonts": {"0": {"name": "Font A", "columns": 32}},
		"media": {"dpi": 203, "width": {"mm": "Unknown", "pixels": 384}}, "codePages": {"0": "CP437"}}}}`
	okStatus := `{"about": "", "models": {"X": {"bidirectional": true, "source": "firmware-notes/x.md"}}}`
	if d, err := parse([]byte(caps), []byte(okStatus)); err != nil {
		t.Fatalf("parse(valid) error: %v", err)
	} else if m := d.byID["X"]; m.FontAColumns() != 32 || m.WidthDots != 384 || m.WidthMM != 0 || !m.Status.Bidirectional {
		t.Errorf("parse(valid) = %+v", m)
	}
	for _, tt := range []struct{ name, caps, status string }{
		{"status for an unknown profile", caps, `{"models": {"Y": {"source": "s"}}}`},
		{"status without source", caps, `{"models": {"X": {"bidirectional": true}}}`},
		{"unknown status field", caps, `{"models": {"X": {"source": "s", "near_end": true}}}`},
		{"bad media value", strings.Replace(caps, `"Unknown"`, `"wide"`, 1), okStatus},
		{"bad code page key", strings.Replace(caps, `{"0": "CP437"}`, `{"zero": "CP437"}`, 1), okStatus},
		{"not JSON", "{", okStatus},
	} {
		if _, err := parse([]byte(tt.caps), []byte(tt.status)); err == nil {
			t.Errorf("parse(%s) error = nil, want an error", tt.name)
		}
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("MFG:EPSON;CMD:ESC/POS;MDL:TM-T20II;CLS:PRINTER;")
	f.Add("MFG:EPSON;MDL:;DES:EPSON TM-T88V Receipt;")
	f.Add("MFG:\xff;MDL:\xff\xfe")
	f.Fuzz(func(t *testing.T, id string) {
		if m, ok := Match(id); ok && m.FontAColumns() == 0 {
			t.Errorf("Match(%q) = %s with no Font A", id, m.ID)
		}
	})
}
