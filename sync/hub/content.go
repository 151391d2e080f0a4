// Package hub is the hub's side of the fleet: the micro service "hub" that
// kiosks and operators ask (DESIGN 4.1). It serves the kiosks' content
// bundles now; the fleet monitor, incidents and alerts join it later.
package hub

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// ContentDir serves the content bundles kept as files in a directory:
// <office>.json for one office, default.json for every other office, and
// the bundle built into this release when neither exists. Files are re-read
// when they change, so an edit reaches the kiosks at their next refresh
// without a restart.
type ContentDir struct {
	dir string // immutable

	mu    sync.Mutex // guards cache
	cache map[string]cachedBundle
}

type cachedBundle struct {
	mod    time.Time
	size   int64
	bundle kiosk.ContentBundle
	err    error
}

// NewContentDir serves bundles from dir (which may not exist yet).
func NewContentDir(dir string) *ContentDir {
	return &ContentDir{dir: dir, cache: map[string]cachedBundle{}}
}

// Bundle returns the bundle for office and the file it came from ("" for
// the built-in default). A file that exists but is invalid is an error,
// not a silent fallback: falling back would replace an office's pages
// with the defaults on every kiosk.
func (c *ContentDir) Bundle(office string) (kiosk.ContentBundle, string, error) {
	for _, name := range []string{office + ".json", "default.json"} {
		file := filepath.Join(c.dir, name)
		b, err := c.load(file)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		return b, file, err
	}
	return kiosk.DefaultContent(), "", nil
}

func (c *ContentDir) load(file string) (kiosk.ContentBundle, error) {
	fi, err := os.Stat(file)
	if err != nil {
		return kiosk.ContentBundle{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cb, ok := c.cache[file]; ok && cb.mod.Equal(fi.ModTime()) && cb.size == fi.Size() {
		return cb.bundle, cb.err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return kiosk.ContentBundle{}, fmt.Errorf("hub: read %s: %w", file, err)
	}
	b, err := kiosk.ParseContent(data)
	if err != nil {
		err = fmt.Errorf("hub: %s: %w", file, err)
	}
	c.cache[file] = cachedBundle{mod: fi.ModTime(), size: fi.Size(), bundle: b, err: err}
	return b, err
}

// Config configures the hub service.
type Config struct {
	Content *ContentDir
	// Observe, if set, is told about every content request (kiosk id, what
	// was answered, and the error for a broken file) for the hub's log.
	Observe func(kioskID, outcome string, err error)
	// Now is the hub's clock; nil means time.Now.
	Now func() time.Time
	// Fleet, if set, is served on hub.fleet.
	Fleet *Fleet
	// Store, with Fleet, serves hub.kiosk.
	Store *Store
	// Decider, with Store, serves hub.incidents (it judges timings).
	Decider *Decider
}

// AddService registers the micro service "hub" with its endpoint
// "content" on hub.content.*; the kiosk id is the last subject token.
func AddService(nc *nats.Conn, cfg Config) (micro.Service, error) {
	svc, err := micro.AddService(nc, micro.Config{Name: "hub", Version: kiosk.Version, Description: "PKB kiosk hub"})
	if err != nil {
		return nil, fmt.Errorf("hub: add service: %w", err)
	}
	if err := svc.AddEndpoint("content", micro.HandlerFunc(func(r micro.Request) { handleContent(cfg, r) }),
		micro.WithEndpointSubject("hub.content.*")); err != nil {
		svc.Stop()
		return nil, fmt.Errorf("hub: add endpoint: %w", err)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	// The hub's clock, for the kiosks' clock.skew check: command expiry
	// and "today" are judged by the kiosk's clock.
	if err := svc.AddEndpoint("time", micro.HandlerFunc(func(r micro.Request) {
		r.RespondJSON(kiosk.TimeReply{Now: now().UTC().Format(time.RFC3339Nano)})
	}), micro.WithEndpointSubject("hub.time.*")); err != nil {
		svc.Stop()
		return nil, fmt.Errorf("hub: add endpoint: %w", err)
	}
	if cfg.Fleet != nil {
		if err := svc.AddEndpoint("fleet", micro.HandlerFunc(func(r micro.Request) { handleFleet(cfg, r) }),
			micro.WithEndpointSubject("hub.fleet")); err != nil {
			svc.Stop()
			return nil, fmt.Errorf("hub: add endpoint: %w", err)
		}
	}
	if cfg.Store != nil {
		if err := svc.AddEndpoint("faults", micro.HandlerFunc(func(r micro.Request) { handleFaults(cfg, r) }),
			micro.WithEndpointSubject("hub.faults")); err != nil {
			svc.Stop()
			return nil, fmt.Errorf("hub: add endpoint: %w", err)
		}
	}
	if cfg.Fleet != nil && cfg.Store != nil {
		if err := svc.AddEndpoint("kiosk", micro.HandlerFunc(func(r micro.Request) { handleKiosk(cfg, r) }),
			micro.WithEndpointSubject("hub.kiosk")); err != nil {
			svc.Stop()
			return nil, fmt.Errorf("hub: add endpoint: %w", err)
		}
	}
	if cfg.Store != nil && cfg.Decider != nil {
		if err := svc.AddEndpoint("incidents", micro.HandlerFunc(func(r micro.Request) { handleIncidents(cfg, r) }),
			micro.WithEndpointSubject("hub.incidents")); err != nil {
			svc.Stop()
			return nil, fmt.Errorf("hub: add endpoint: %w", err)
		}
	}
	return svc, nil
}

func handleIncidents(cfg Config, r micro.Request) {
	fail := func(code, msg string) {
		body, _ := json.Marshal(hubapi.IncidentsReply{Incidents: []hubapi.Incident{}, Error: &kiosk.Error{Code: code, Message: msg}})
		r.Error(code, msg, body)
	}
	var req hubapi.IncidentsRequest
	if len(bytes.TrimSpace(r.Data())) > 0 {
		if err := json.Unmarshal(r.Data(), &req); err != nil || req.Limit < 0 ||
			(req.Office != "" && !kiosk.ValidID(req.Office)) || (req.Kiosk != "" && !kiosk.ValidID(req.Kiosk)) {
			fail(kiosk.CodeBadRequest, `want {"office","kiosk","state":"open|acknowledged|resolved|active","since","until","limit"} (all optional) on hub.incidents`)
			return
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	is, err := cfg.Decider.Incidents(ctx, req)
	if err != nil {
		fail(kiosk.CodeBadRequest, err.Error())
		return
	}
	r.RespondJSON(hubapi.IncidentsReply{Incidents: nonNil(is)})
}

// maxFleetPage bounds a page of hub.fleet; a snapshot is about 650 bytes.
const maxFleetPage = 1000

func handleFleet(cfg Config, r micro.Request) {
	var req FleetRequest
	if len(bytes.TrimSpace(r.Data())) > 0 {
		if err := json.Unmarshal(r.Data(), &req); err != nil || req.Limit < 0 ||
			(req.Office != "" && !kiosk.ValidID(req.Office)) {
			msg := `want {"office":"<code, optional>","after":"<kiosk id, optional>","limit":<n, optional>} on hub.fleet`
			body, _ := json.Marshal(FleetReply{Kiosks: []FleetKiosk{}, Error: &kiosk.Error{Code: kiosk.CodeBadRequest, Message: msg}})
			r.Error(kiosk.CodeBadRequest, msg, body)
			return
		}
	}
	if req.Limit == 0 || req.Limit > maxFleetPage {
		req.Limit = maxFleetPage
	}
	all := cfg.Fleet.Kiosks()
	rep := FleetReply{Kiosks: []FleetKiosk{}}
	// Half the default max payload leaves room for snapshots with long
	// fault lists; the page ends early rather than not arriving at all.
	const budget = 512 << 10
	size := 0
	for _, k := range all {
		if req.Office != "" && k.Office != req.Office {
			continue
		}
		rep.Total++
		if k.Kiosk <= req.After || rep.Next != "" {
			continue
		}
		if len(rep.Kiosks) == req.Limit || size > budget {
			rep.Next = rep.Kiosks[len(rep.Kiosks)-1].Kiosk
			continue
		}
		b, _ := json.Marshal(k)
		size += len(b) + 1
		rep.Kiosks = append(rep.Kiosks, k)
	}
	r.RespondJSON(rep)
}

func handleFaults(cfg Config, r micro.Request) {
	var req FaultsRequest
	if len(bytes.TrimSpace(r.Data())) > 0 {
		if err := json.Unmarshal(r.Data(), &req); err != nil || (req.Office != "" && !kiosk.ValidID(req.Office)) {
			msg := `want {"office":"<code, optional>"} on hub.faults`
			body, _ := json.Marshal(FaultsReply{Faults: []Fault{}, Error: &kiosk.Error{Code: kiosk.CodeBadRequest, Message: msg}})
			r.Error(kiosk.CodeBadRequest, msg, body)
			return
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fs, err := cfg.Store.Faults(ctx, "")
	if err != nil {
		body, _ := json.Marshal(FaultsReply{Faults: []Fault{}, Error: &kiosk.Error{Code: kiosk.CodeSourceUnavailable, Message: err.Error()}})
		r.Error(kiosk.CodeSourceUnavailable, "hub store", body)
		return
	}
	rep := FaultsReply{Faults: []Fault{}}
	for _, f := range fs {
		if req.Office == "" || f.Office == req.Office {
			rep.Faults = append(rep.Faults, f)
		}
	}
	r.RespondJSON(rep)
}

func handleKiosk(cfg Config, r micro.Request) {
	fail := func(code, msg string) {
		body, _ := json.Marshal(KioskReply{Error: &kiosk.Error{Code: code, Message: msg}})
		r.Error(code, msg, body)
	}
	var req KioskRequest
	if err := json.Unmarshal(r.Data(), &req); err != nil || !kiosk.ValidID(req.Kiosk) || req.Events < 0 {
		fail(kiosk.CodeBadRequest, `want {"kiosk":"<kiosk id>","events":<n, optional>} on hub.kiosk`)
		return
	}
	if req.Events == 0 {
		req.Events = 20
	}
	req.Events = min(req.Events, 500)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var rep KioskReply
	var err error
	if k, ok := cfg.Fleet.Kiosk(req.Kiosk); ok {
		rep.Kiosk = &k
	}
	if rep.Events, err = cfg.Store.Events(ctx, req.Kiosk, req.Events); err == nil {
		if rep.Faults, err = cfg.Store.Faults(ctx, req.Kiosk); err == nil {
			if rep.Gaps, err = cfg.Store.Gaps(ctx, req.Kiosk); err == nil {
				rep.Presence, err = cfg.Store.PresenceLog(ctx, req.Kiosk, 20)
			}
		}
	}
	if err != nil {
		fail(kiosk.CodeSourceUnavailable, "hub store: "+err.Error())
		return
	}
	if rep.Kiosk == nil && len(rep.Events) == 0 {
		fail(kiosk.CodeNotFound, "the hub has no heartbeat and no event of kiosk "+req.Kiosk)
		return
	}
	rep.Faults = nonNil(rep.Faults)
	rep.Events = nonNil(rep.Events)
	rep.Gaps = nonNil(rep.Gaps)
	rep.Presence = nonNil(rep.Presence)
	r.RespondJSON(rep)
}

// nonNil makes an empty list marshal as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func handleContent(cfg Config, r micro.Request) {
	id := r.Subject()[strings.LastIndexByte(r.Subject(), '.')+1:]
	observe := func(outcome string, err error) {
		if cfg.Observe != nil {
			cfg.Observe(id, outcome, err)
		}
	}
	fail := func(code, msg string) {
		body, _ := json.Marshal(kiosk.ContentReply{Error: &kiosk.Error{Code: code, Message: msg}})
		r.Error(code, msg, body)
	}
	var req kiosk.ContentRequest
	if err := json.Unmarshal(r.Data(), &req); err != nil || !kiosk.ValidID(id) || !kiosk.ValidID(req.Office) {
		observe(kiosk.CodeBadRequest, err)
		fail(kiosk.CodeBadRequest, "want {\"office\":\"<code>\",\"have\":<version>} on hub.content.<kiosk id>")
		return
	}
	b, file, err := cfg.Content.Bundle(req.Office)
	if err != nil {
		// The kiosk keeps the pages it has; the operator sees the error.
		observe(kiosk.CodeSourceUnavailable, err)
		fail(kiosk.CodeSourceUnavailable, "content file is invalid; kiosks keep their pages")
		return
	}
	if b.Version == req.Have {
		observe("unchanged", nil)
		r.RespondJSON(kiosk.ContentReply{Unchanged: true})
		return
	}
	observe(fmt.Sprintf("sent version %d from %s", b.Version, cmp.Or(file, "built-in default")), nil)
	r.RespondJSON(kiosk.ContentReply{Bundle: &b})
}
