package lookup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/plate"
)

// Config configures the gateway.
type Config struct {
	Source Source
	// RequireRangka5 makes the gateway refuse lookups without the rangka5
	// factor, whatever the kiosk is configured to do: the gateway, not the
	// kiosk, guards the backend.
	RequireRangka5 bool
	// Plates are the plate rules (served prefixes); nil means the defaults.
	Plates *plate.Rules
	// RatePerMinute and Burst bound the lookups of one kiosk (a token
	// bucket per kiosk id): a kiosk, or someone who took its credentials,
	// cannot enumerate the backend. Zero RatePerMinute means unlimited.
	RatePerMinute int
	Burst         int
	// Timeout bounds one Source call; zero means 5 s.
	Timeout time.Duration
	// Now is the clock for rate limits; nil means time.Now.
	Now func() time.Time
	// Observe, if set, is told the outcome of every lookup ("ok" or an
	// error code) for logs and metrics. It never sees the plate.
	Observe func(kioskID, outcome string, took time.Duration)
}

// AddService registers the micro service "pkb" with its endpoint "lookup"
// on pkb.lookup.* and returns it; Stop it to unsubscribe.
func AddService(nc *nats.Conn, cfg Config) (micro.Service, error) {
	if cfg.Source == nil {
		return nil, errors.New("lookup: no source")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	g := &gateway{cfg: cfg, buckets: map[string]*bucket{}}
	svc, err := micro.AddService(nc, micro.Config{
		Name:        "pkb",
		Version:     kiosk.Version,
		Description: "PKB lookup gateway",
	})
	if err != nil {
		return nil, fmt.Errorf("lookup: add service: %w", err)
	}
	if err := svc.AddEndpoint("lookup", micro.HandlerFunc(g.handle), micro.WithEndpointSubject(kiosk.LookupSubjectAll)); err != nil {
		svc.Stop()
		return nil, fmt.Errorf("lookup: add endpoint: %w", err)
	}
	return svc, nil
}

type gateway struct {
	cfg Config // immutable

	mu      sync.Mutex // guards buckets
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// allow takes a token from the bucket of kiosk id.
func (g *gateway) allow(id string) bool {
	if g.cfg.RatePerMinute <= 0 {
		return true
	}
	now := g.cfg.Now()
	burst := float64(max(g.cfg.Burst, 1))
	g.mu.Lock()
	defer g.mu.Unlock()
	b := g.buckets[id]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		g.buckets[id] = b
		if len(g.buckets) > 100_000 {
			g.pruneLocked(now)
		}
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Minutes()*float64(g.cfg.RatePerMinute))
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// pruneLocked forgets full buckets, so the map stays bounded even if
// someone sends lookups with ever new ids.
func (g *gateway) pruneLocked(now time.Time) {
	for id, b := range g.buckets {
		if now.Sub(b.last) > time.Hour {
			delete(g.buckets, id)
		}
	}
}

func (g *gateway) handle(req micro.Request) {
	start := time.Now()
	id := req.Subject()[strings.LastIndexByte(req.Subject(), '.')+1:]
	outcome := "ok"
	defer func() {
		if g.cfg.Observe != nil {
			g.cfg.Observe(id, outcome, time.Since(start))
		}
	}()
	fail := func(e *kiosk.Error) {
		outcome = e.Code
		body, _ := json.Marshal(kiosk.LookupReply{Error: e})
		// Failures of the service itself are also flagged as micro errors
		// so that `nats micro stats pkb` counts them; a plate that is not
		// found is a normal answer.
		switch e.Code {
		case kiosk.CodeBadRequest, kiosk.CodeSourceUnavailable:
			req.Error(e.Code, e.Message, body)
		default:
			req.Respond(body)
		}
	}
	if !kiosk.ValidID(id) {
		fail(&kiosk.Error{Code: kiosk.CodeBadRequest, Message: "invalid kiosk id in subject"})
		return
	}
	var q kiosk.LookupRequest
	dec := json.NewDecoder(bytes.NewReader(req.Data()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		fail(&kiosk.Error{Code: kiosk.CodeBadRequest, Message: "body is not a lookup request: " + err.Error()})
		return
	}
	p, err := plate.Parse(q.Plate, g.cfg.Plates)
	if err != nil {
		fail(plate.ContractError(err))
		return
	}
	r5, err := kiosk.NormalizeRangka5(q.Rangka5)
	if err != nil {
		fail(&kiosk.Error{Code: kiosk.CodeRangkaRequired, Message: err.Error()})
		return
	}
	if r5 == "" && g.cfg.RequireRangka5 {
		fail(&kiosk.Error{Code: kiosk.CodeRangkaRequired, Message: "rangka5 is required"})
		return
	}
	if !g.allow(id) {
		fail(&kiosk.Error{Code: kiosk.CodeRateLimited, Message: "too many lookups from this kiosk"})
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.Timeout)
	defer cancel()
	res, err := g.cfg.Source.Lookup(ctx, Query{Plate: p.String(), Rangka5: r5, Kiosk: id})
	switch {
	case errors.Is(err, ErrNotFound):
		fail(&kiosk.Error{Code: kiosk.CodeNotFound, Message: "plate not found"})
		return
	case errors.Is(err, ErrRangkaMismatch):
		fail(&kiosk.Error{Code: kiosk.CodeRangkaMismatch, Message: "rangka5 does not match"})
		return
	case err != nil:
		fail(&kiosk.Error{Code: kiosk.CodeSourceUnavailable, Message: "source unavailable"})
		return
	}
	res.Nopol = p.String()
	b, err := json.Marshal(res)
	if err != nil {
		fail(&kiosk.Error{Code: kiosk.CodeSourceUnavailable, Message: "encode result"})
		return
	}
	body, _ := json.Marshal(kiosk.LookupReply{Result: b})
	req.Respond(body)
}
