package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
)

// The message catalogues: every string of the page and every error
// message, keyed. The handler serves them to the page as they are and
// fills kiosk.Error.Message from them.
//
//go:embed i18n/*.json
var i18nFS embed.FS

// Languages of the catalogues. The first is the default: a request without
// X-Kiosk-Lang: en gets Indonesian.
var languages = []string{"id", "en"}

const defaultLang = "id"

// langHeader names the request header that selects the language of the
// messages in a reply.
const langHeader = "X-Kiosk-Lang"

// codeInternal is the code of a failure the backend did not classify (a
// plain Go error). It is not part of the lookup contract; the page treats
// it like any unknown code.
const codeInternal = "internal"

// catalogue is one language's messages by key.
type catalogue map[string]string

// catalogues holds every language's catalogue, parsed and raw (as served
// at /i18n/<lang>.json). It is immutable after loadCatalogues.
type catalogues struct {
	byLang map[string]catalogue
	raw    map[string]servedFile
}

// servedFile is an embedded file ready for http.ServeContent.
type servedFile struct {
	data  []byte
	ctype string
	etag  string
}

func newServedFile(data []byte, ctype string) servedFile {
	sum := sha256.Sum256(data)
	return servedFile{data: data, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// loadCatalogues parses the embedded catalogues.
func loadCatalogues() (*catalogues, error) {
	c := &catalogues{byLang: map[string]catalogue{}, raw: map[string]servedFile{}}
	for _, lang := range languages {
		data, err := i18nFS.ReadFile("i18n/" + lang + ".json")
		if err != nil {
			return nil, fmt.Errorf("ui: read catalogue %s: %w", lang, err)
		}
		var cat catalogue
		dec := json.NewDecoder(bytes.NewReader(data))
		if err := dec.Decode(&cat); err != nil {
			return nil, fmt.Errorf("ui: parse catalogue %s: %w", lang, err)
		}
		c.byLang[lang] = cat
		c.raw[lang] = newServedFile(data, "application/json")
	}
	return c, nil
}

// requestLang returns the language of the messages for r: English when
// the page says so in X-Kiosk-Lang, Indonesian otherwise.
func requestLang(r *http.Request) string {
	v := strings.ToLower(strings.TrimSpace(r.Header.Get(langHeader)))
	if v == "en" || strings.HasPrefix(v, "en-") {
		return "en"
	}
	return defaultLang
}

// errorKeys are the catalogue keys that may hold e's message, most
// specific first. The page (app.js errorKeys) uses the same order.
func errorKeys(e *kiosk.Error) []string {
	var keys []string
	if e.Code == kiosk.CodeInvalidPlate && e.Reason != "" {
		keys = append(keys, "err."+kiosk.CodeInvalidPlate+"."+e.Reason)
	}
	return append(keys, "err."+e.Code, "err."+codeInternal)
}

// placeholder matches {name} in a message.
var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// fill substitutes the placeholders of tmpl from vars. It reports false
// when a placeholder has no non-empty value, so that the caller can fall
// back to a less specific message rather than show "terdaftar di ."
func fill(tmpl string, vars map[string]string) (string, bool) {
	ok := true
	s := placeholder.ReplaceAllStringFunc(tmpl, func(m string) string {
		v := vars[m[1:len(m)-1]]
		if v == "" {
			ok = false
		}
		return v
	})
	return s, ok
}

// errorMessage returns the message for e in lang. key, when not empty, is
// tried before the keys derived from e's code and reason.
func (c *catalogues) errorMessage(lang, key string, e *kiosk.Error) string {
	cat := c.byLang[lang]
	if cat == nil {
		cat = c.byLang[defaultLang]
	}
	keys := errorKeys(e)
	if key != "" {
		keys = append([]string{key}, keys...)
	}
	vars := map[string]string{"suggestion": e.Suggestion, "province": e.Province}
	for _, k := range keys {
		tmpl, found := cat[k]
		if !found {
			continue
		}
		if s, ok := fill(tmpl, vars); ok {
			return s
		}
	}
	return "" // unreachable with a complete catalogue: err.internal has no placeholder
}
