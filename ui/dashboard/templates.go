package dashboard

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"
)

// pageNames are the page templates, each templates/<name>.html defining
// "content" inside templates/layout.html.
var pageNames = []string{"login", "error", "fleet", "kiosk", "incidents", "incident",
	"audit", "alerts", "credentials", "revoke", "users"}

func (d *Dashboard) funcs() template.FuncMap {
	return template.FuncMap{
		"pe":    url.PathEscape,
		"domid": domID,
		"asset": func(name string) string {
			return "/assets/" + name + "?v=" + d.assets[name].etag
		},
		"when":       func(t time.Time) string { return d.clock().full(t) },
		"iso":        func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"action":     actionLabel,
		"role":       roleLabel,
		"alertKind":  func(k string) string { return label(alertKindLabels, k) },
		"alertState": func(s string) string { return label(alertStateLabels, s) },
		"join":       strings.Join,
	}
}

// parseTemplates parses every page with the layout and fragments, and
// the fragments alone for the live stream.
func (d *Dashboard) parseTemplates() (map[string]*template.Template, *template.Template, error) {
	base, err := template.New("").Funcs(d.funcs()).ParseFS(files, "templates/layout.html", "templates/fragments.html")
	if err != nil {
		return nil, nil, fmt.Errorf("dashboard: templates: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, n := range pageNames {
		t, err := base.Clone()
		if err == nil {
			t, err = t.ParseFS(files, "templates/"+n+".html")
		}
		if err != nil {
			return nil, nil, fmt.Errorf("dashboard: template %s: %w", n, err)
		}
		pages[n] = t
	}
	frags, err := base.Clone()
	if err != nil {
		return nil, nil, fmt.Errorf("dashboard: templates: %w", err)
	}
	return pages, frags, nil
}
