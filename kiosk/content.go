package kiosk

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// ContentBundle is the versioned set of help and information pages a kiosk
// shows (DESIGN 4.1, hub.content.<id>). The hub keeps one per office, edited
// as a JSON file; kiosks keep the last one they got and show its date.
//
// Pages are structured blocks of plain text, never HTML: the screen renders
// them as text, so a bundle can never inject markup or script into the page.
type ContentBundle struct {
	Version int           `json:"version"` // increases with every edit
	Updated string        `json:"updated"` // YYYY-MM-DD, shown as "diperbarui"
	Pages   []ContentPage `json:"pages"`
}

// ContentPage is one page in every language of the bundle.
type ContentPage struct {
	ID     string                    `json:"id"`
	Title  map[string]string         `json:"title"`  // lang -> title
	Blocks map[string][]ContentBlock `json:"blocks"` // lang -> blocks
}

// ContentBlock is a heading, a paragraph or a list; exactly one is set.
type ContentBlock struct {
	H  string   `json:"h,omitempty"`
	P  string   `json:"p,omitempty"`
	UL []string `json:"ul,omitempty"`
	OL []string `json:"ol,omitempty"`
}

// LocalContent is a bundle in one language, as the screen gets it from
// GET /api/content.
type LocalContent struct {
	Version int         `json:"version"`
	Updated string      `json:"updated"`
	Lang    string      `json:"lang"`
	Pages   []LocalPage `json:"pages"`
}

// LocalPage is a page in one language.
type LocalPage struct {
	ID     string         `json:"id"`
	Title  string         `json:"title"`
	Blocks []ContentBlock `json:"blocks"`
}

// Content page ids the screen links to by name.
const (
	PageHelp      = "help"         // how to use the kiosk
	PageAnnual    = "tahunan"      // requirements for the annual payment
	PageRenewal   = "lima_tahunan" // 5-yearly STNK renewal
	PagePayment   = "pembayaran"   // where and how to pay
	PageHours     = "jam_layanan"  // office hours
	DefaultLang   = "id"
	maxBundleSize = 256 << 10
)

// Languages of the screen.
var Languages = []string{"id", "en"}

var pageIDPattern = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

//go:embed content_default.json
var defaultContent []byte

// DefaultContent returns the bundle built into this release: the kiosk's
// pages until the hub sends a newer one, and the hub's for offices without
// a file of their own.
func DefaultContent() ContentBundle {
	b, err := ParseContent(defaultContent)
	if err != nil {
		panic(err) // an embedded file: caught by every test
	}
	return b
}

// ParseContent decodes and validates a bundle. Unknown fields are errors,
// so a typo in the hub's file is reported, not silently ignored.
func ParseContent(data []byte) (ContentBundle, error) {
	var b ContentBundle
	if len(data) > maxBundleSize {
		return b, fmt.Errorf("kiosk: content bundle is %d bytes, at most %d", len(data), maxBundleSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return b, fmt.Errorf("kiosk: content bundle: %w", err)
	}
	if err := b.Validate(); err != nil {
		return b, err
	}
	return b, nil
}

// Validate checks a bundle: a positive version, a date, unique page ids,
// and for every page an Indonesian title and body (English may be missing:
// the screen falls back to Indonesian), each block exactly one kind.
func (b ContentBundle) Validate() error {
	var errs []error
	if b.Version < 1 {
		errs = append(errs, fmt.Errorf("version %d: must be 1 or more", b.Version))
	}
	if _, err := time.Parse(time.DateOnly, b.Updated); err != nil {
		errs = append(errs, fmt.Errorf("updated %q: want YYYY-MM-DD", b.Updated))
	}
	if len(b.Pages) == 0 || len(b.Pages) > 50 {
		errs = append(errs, fmt.Errorf("%d pages: want 1 to 50", len(b.Pages)))
	}
	seen := map[string]bool{}
	for i, p := range b.Pages {
		where := fmt.Sprintf("page %d (%q)", i+1, p.ID)
		if !pageIDPattern.MatchString(p.ID) {
			errs = append(errs, fmt.Errorf("%s: id must be 1-32 of a-z, 0-9, _", where))
		}
		if seen[p.ID] {
			errs = append(errs, fmt.Errorf("%s: duplicate id", where))
		}
		seen[p.ID] = true
		if p.Title[DefaultLang] == "" || len(p.Blocks[DefaultLang]) == 0 {
			errs = append(errs, fmt.Errorf("%s: needs an Indonesian (\"id\") title and blocks", where))
		}
		for lang := range p.Title {
			if !validLang(lang) {
				errs = append(errs, fmt.Errorf("%s: unknown language %q", where, lang))
			}
		}
		for lang, blocks := range p.Blocks {
			if !validLang(lang) {
				errs = append(errs, fmt.Errorf("%s: unknown language %q", where, lang))
			}
			for j, bl := range blocks {
				n := 0
				for _, set := range []bool{bl.H != "", bl.P != "", len(bl.UL) > 0, len(bl.OL) > 0} {
					if set {
						n++
					}
				}
				if n != 1 {
					errs = append(errs, fmt.Errorf("%s, %s block %d: exactly one of h, p, ul, ol", where, lang, j+1))
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kiosk: content bundle: %w", err)
	}
	return nil
}

// Local returns the bundle in lang, page by page falling back to
// Indonesian where lang is missing.
func (b ContentBundle) Local(lang string) LocalContent {
	if !validLang(lang) {
		lang = DefaultLang
	}
	lc := LocalContent{Version: b.Version, Updated: b.Updated, Lang: lang, Pages: []LocalPage{}}
	for _, p := range b.Pages {
		lp := LocalPage{ID: p.ID, Title: p.Title[lang], Blocks: p.Blocks[lang]}
		if lp.Title == "" {
			lp.Title = p.Title[DefaultLang]
		}
		if len(lp.Blocks) == 0 {
			lp.Blocks = p.Blocks[DefaultLang]
		}
		lc.Pages = append(lc.Pages, lp)
	}
	return lc
}

func validLang(l string) bool {
	for _, x := range Languages {
		if l == x {
			return true
		}
	}
	return false
}

// ContentSubject is where kiosk id asks the hub for its content bundle.
func ContentSubject(id string) string { return "hub.content." + id }

// ContentRequest asks for the bundle of an office; Have is the version the
// kiosk holds (0 for none), so the hub can answer "unchanged".
type ContentRequest struct {
	Office string `json:"office"`
	Have   int    `json:"have"`
}

// ContentReply carries a newer bundle, or Unchanged.
type ContentReply struct {
	Bundle    *ContentBundle `json:"bundle,omitempty"`
	Unchanged bool           `json:"unchanged,omitempty"`
	Error     *Error         `json:"error,omitempty"`
}

// TimeSubject is where kiosk id asks the hub for its clock.
func TimeSubject(id string) string { return "hub.time." + id }

// TimeReply is the hub's clock, RFC 3339 with nanoseconds, UTC.
type TimeReply struct {
	Now string `json:"now"`
}
