// Package models knows receipt printer models: capabilities from
// escpos-printer-db and our own status capabilities from firmware-notes.
//
// # Concepts
//
// capabilities.json is dist/capabilities.json of
// github.com/receipt-print-hq/escpos-printer-db, shipped unmodified under
// CC BY 4.0 (LICENSE-escpos-printer-db.md). It knows fonts and their
// column counts, paper width, resolution, code pages and features such as
// the cutter and native QR codes, but nothing about status reporting.
//
// status.json is ours: per profile id, whether the printer has a paper
// near-end sensor, whether it talks back (bidirectional USB, or serial),
// and whether it goes offline at paper end, each entry naming the
// firmware-notes/ page it comes from. A model without an entry has the zero
// StatusCaps, which means "not known": assume no near-end sensor and no
// status until a capture says otherwise.
package models

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
)

//go:embed capabilities.json
var capabilitiesJSON []byte

//go:embed status.json
var statusJSON []byte

// Model is one printer profile.
type Model struct {
	ID        string         // profile id in capabilities.json, e.g. "TM-T88V"
	Name      string         // e.g. "TM-T88V", "ZJ-5870 Thermal Receipt Printer"
	Vendor    string         // e.g. "Epson", "ZiJiang"
	Columns   map[string]int // font name ("Font A", "Font B", ...) → columns per line
	WidthMM   float64        // as the database has it: the paper width for some profiles, the printable width for others; 0 = unknown
	WidthDots int            // printable width in dots; 0 = unknown
	DPI       int            // 0 = unknown
	CodePages map[int]string // ESC t n → code page name ("CP437", "Unknown", ...)
	Cutter    bool           // features.paperFullCut or paperPartCut
	QR        bool           // features.qrCode: native QR (GS ( k)
	Status    StatusCaps     // ours, from status.json; zero = not known
}

// StatusCaps are the status capabilities we found for a model (not in
// escpos-printer-db). False means "absent or not known": a driver must not
// rely on a capability that is false here.
type StatusCaps struct {
	NearEndSensor     bool   // DLE EOT 4 bits 2-3 can report paper near end
	Bidirectional     bool   // replies reach the host (USB printer class protocol 2/3, or serial)
	OfflineOnPaperEnd bool   // at paper end the printer stops and goes offline, queueing later data
	Source            string // firmware-notes path the entry comes from, e.g. "firmware-notes/epson-tm-t20ii/README.md"
}

// FontAColumns returns the column count of Font A, the font the slip uses
// (printer/slip); 0 if the profile lists no Font A.
func (m Model) FontAColumns() int { return m.Columns["Font A"] }

// Lookup returns the profile with the given id as in capabilities.json,
// e.g. "TM-T88V", "ZJ-5870", "POS-5890", "RP-F10-80mm". The id is matched
// exactly.
func Lookup(id string) (Model, bool) {
	m, ok := load().byID[id]
	if !ok {
		return Model{}, false
	}
	return m.clone(), true
}

// IDs returns every profile id, sorted.
func IDs() []string {
	d := load()
	return append([]string(nil), d.ids...)
}

// generic are the catch-all profiles of the database, never the answer to
// a device id.
var generic = map[string]bool{"default": true, "simple": true, "safe": true}

// Match returns the profile for an IEEE 1284 device id as a printer reports
// it over USB (GET_DEVICE_ID, domain/printers.md 7), e.g.
// "MFG:EPSON;CMD:ESC/POS;MDL:TM-T20II;CLS:PRINTER;". The model (MDL or
// MODEL) and then the description (DES or DESCRIPTION) are tried, each as
// is, without a leading manufacturer name, and by its first word; each
// candidate is compared with profile ids and then names, ignoring case and
// everything but letters and digits. A name shared by several profiles
// (RP-F10 exists for 58 and 80 mm paper) cannot be told apart and gives
// false, as do the generic profiles and unknown models: configure the
// profile id then.
func Match(deviceID string) (Model, bool) {
	fields := parseDeviceID(deviceID)
	mfg := firstOf(fields, "MFG", "MANUFACTURER")
	d := load()
	for _, v := range []string{firstOf(fields, "MDL", "MODEL"), firstOf(fields, "DES", "DESCRIPTION")} {
		for _, cand := range candidates(v, mfg) {
			key := normalize(cand)
			if key == "" {
				continue
			}
			if ids := d.byKeyID[key]; len(ids) == 1 {
				return d.byID[ids[0]].clone(), true
			}
			switch ids := d.byKeyName[key]; len(ids) {
			case 0:
			case 1:
				return d.byID[ids[0]].clone(), true
			default:
				return Model{}, false // ambiguous: the paper width is not in the device id
			}
		}
	}
	return Model{}, false
}

// parseDeviceID splits "KEY:value;KEY:value;" into a map with upper-case,
// trimmed keys. Pairs without a colon are skipped; the first value of a
// repeated key wins.
func parseDeviceID(s string) map[string]string {
	out := map[string]string{}
	for pair := range strings.SplitSeq(s, ";") {
		k, v, ok := strings.Cut(pair, ":")
		if !ok {
			continue
		}
		k = strings.ToUpper(strings.TrimSpace(k))
		if _, seen := out[k]; !seen {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

func firstOf(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := m[k]; v != "" {
			return v
		}
	}
	return ""
}

// candidates are the strings a device id value may name a profile by: the
// value, the value without a leading manufacturer name ("EPSON TM-T88V"),
// and the first word of that ("TM-T88V Receipt").
func candidates(v, mfg string) []string {
	if v == "" {
		return nil
	}
	out := []string{v}
	if mfg != "" && len(v) > len(mfg) && strings.EqualFold(v[:len(mfg)], mfg) && !isAlnum(v[len(mfg)]) {
		v = strings.TrimSpace(v[len(mfg):])
		out = append(out, v)
	}
	if f := strings.Fields(v); len(f) > 1 {
		out = append(out, f[0])
	}
	return out
}

func isAlnum(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// normalize upper-cases s and keeps only ASCII letters and digits, so that
// "TM-T20II", "tm t20ii" and "TMT20II" compare equal.
func normalize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (m Model) clone() Model {
	m.Columns = maps.Clone(m.Columns)
	m.CodePages = maps.Clone(m.CodePages)
	return m
}

// database is the parsed embedded data; immutable once built.
type database struct {
	byID      map[string]Model
	ids       []string            // sorted
	byKeyID   map[string][]string // normalize(id) → ids
	byKeyName map[string][]string // normalize(name) → ids
}

// load parses the embedded files once. They are part of the binary and
// checked by the tests, so a failure is a build defect and panics, as
// regexp.MustCompile does for a bad literal.
var load = sync.OnceValue(func() *database {
	d, err := parse(capabilitiesJSON, statusJSON)
	if err != nil {
		panic(err)
	}
	return d
})

// The JSON shapes of capabilities.json (only what we use).
type (
	capsFile struct {
		Profiles map[string]profile `json:"profiles"`
	}
	profile struct {
		Name      string            `json:"name"`
		Vendor    string            `json:"vendor"`
		Features  map[string]bool   `json:"features"`
		Fonts     map[string]font   `json:"fonts"` // "0", "1", ... → font
		Media     media             `json:"media"`
		CodePages map[string]string `json:"codePages"` // "0" → "CP437"
	}
	font struct {
		Name    string `json:"name"`
		Columns int    `json:"columns"`
	}
	media struct {
		DPI   number `json:"dpi"`
		Width struct {
			MM     number `json:"mm"`
			Pixels number `json:"pixels"`
		} `json:"width"`
	}
)

// number is a JSON number, or the string "Unknown" (0) that the database
// uses for unknown media values.
type number float64

func (n *number) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "Unknown" || s == "" {
			*n = 0
			return nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("value %q is neither a number nor \"Unknown\"", s)
		}
		*n = number(f)
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = number(f)
	return nil
}

// The JSON shape of status.json.
type (
	statusFile struct {
		About  string                 `json:"about"`
		Models map[string]statusEntry `json:"models"`
	}
	statusEntry struct {
		NearEndSensor     bool   `json:"near_end_sensor"`
		Bidirectional     bool   `json:"bidirectional"`
		OfflineOnPaperEnd bool   `json:"offline_on_paper_end"`
		Source            string `json:"source"`
		Note              string `json:"note"`
	}
)

func parse(capsJSON, statJSON []byte) (*database, error) {
	var caps capsFile
	if err := json.Unmarshal(capsJSON, &caps); err != nil {
		return nil, fmt.Errorf("models: capabilities.json: %w", err)
	}
	var stat statusFile
	dec := json.NewDecoder(bytes.NewReader(statJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&stat); err != nil {
		return nil, fmt.Errorf("models: status.json: %w", err)
	}
	d := &database{
		byID:      make(map[string]Model, len(caps.Profiles)),
		byKeyID:   map[string][]string{},
		byKeyName: map[string][]string{},
	}
	for id, p := range caps.Profiles {
		m := Model{
			ID:        id,
			Name:      p.Name,
			Vendor:    p.Vendor,
			Columns:   make(map[string]int, len(p.Fonts)),
			WidthMM:   float64(p.Media.Width.MM),
			WidthDots: int(p.Media.Width.Pixels),
			DPI:       int(p.Media.DPI),
			CodePages: make(map[int]string, len(p.CodePages)),
			Cutter:    p.Features["paperFullCut"] || p.Features["paperPartCut"],
			QR:        p.Features["qrCode"],
		}
		for key, f := range p.Fonts {
			if prev, dup := m.Columns[f.Name]; dup && prev != f.Columns {
				return nil, fmt.Errorf("models: capabilities.json: profile %s: font %q (key %s) listed twice", id, f.Name, key)
			}
			m.Columns[f.Name] = f.Columns
		}
		for key, name := range p.CodePages {
			n, err := strconv.Atoi(key)
			if err != nil {
				return nil, fmt.Errorf("models: capabilities.json: profile %s: code page key %q: %w", id, key, err)
			}
			m.CodePages[n] = name
		}
		d.byID[id] = m
		d.ids = append(d.ids, id)
		if !generic[id] {
			d.byKeyID[normalize(id)] = append(d.byKeyID[normalize(id)], id)
			d.byKeyName[normalize(p.Name)] = append(d.byKeyName[normalize(p.Name)], id)
		}
	}
	for id, s := range stat.Models {
		m, ok := d.byID[id]
		if !ok {
			return nil, fmt.Errorf("models: status.json: %s is not a profile id of capabilities.json", id)
		}
		if s.Source == "" {
			return nil, fmt.Errorf("models: status.json: %s has no source", id)
		}
		m.Status = StatusCaps{
			NearEndSensor:     s.NearEndSensor,
			Bidirectional:     s.Bidirectional,
			OfflineOnPaperEnd: s.OfflineOnPaperEnd,
			Source:            s.Source,
		}
		d.byID[id] = m
	}
	slices.Sort(d.ids)
	for _, m := range []map[string][]string{d.byKeyID, d.byKeyName} {
		for _, ids := range m {
			slices.Sort(ids)
		}
	}
	return d, nil
}
