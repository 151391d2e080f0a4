package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/pkb"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/plate"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsbus"
	"github.com/sumbar-samsat/pkbkiosk/sync/outbox"
	"github.com/sumbar-samsat/pkbkiosk/ui"
)

// backend is the agent as the screen sees it (ui.Backend).
type backend struct{ a *Agent }

var _ ui.Backend = backend{}

func (b backend) Status(ctx context.Context) kiosk.Status { return b.a.status(ctx) }

func (b backend) Health(ctx context.Context) kiosk.Health {
	h := kiosk.Health{OK: true, Mode: b.a.mode()}
	switch {
	case b.a.diskFull():
		h.Mode, h.Reason = kiosk.ModeDegraded, faultDiskFull
	case !b.a.storeOK.OK:
		h.Mode, h.Reason = kiosk.ModeDegraded, "store.incompatible"
	}
	return h
}

func (b backend) Plate(input string) (string, *kiosk.Error) {
	b.a.touchSession()
	p, err := plate.Parse(input, nil)
	if err != nil {
		return plateOf(err), plate.ContractError(err)
	}
	return p.String(), nil
}

// plateOf returns the canonical plate of a rejected input when it parsed
// to one (DESIGN 4.8: steps 1-6 passed).
func plateOf(err error) string {
	var pe *plate.Error
	if errors.As(err, &pe) && !pe.Plate.IsZero() {
		return pe.Plate.String()
	}
	return ""
}

func (b backend) StartSession(ctx context.Context) (string, error) {
	id := make([]byte, 8)
	rand.Read(id)
	b.a.mu.Lock()
	// A new visit replaces whatever the previous one left behind.
	b.a.session = &session{id: hex.EncodeToString(id), lastSeen: b.a.cfg.Now(), results: map[string][]byte{}, jobs: map[string]*printJob{}}
	sid := b.a.session.id
	b.a.mu.Unlock()
	b.a.countSession()
	b.a.notify()
	return sid, nil
}

func (b backend) EndSession(ctx context.Context) error {
	b.a.endSession()
	return nil
}

func (b backend) Ping() {
	b.a.mu.Lock()
	b.a.lastPing = b.a.cfg.Now()
	b.a.mu.Unlock()
	// A page that pings is a working screen again.
	b.a.clearFault(faultUICrashed)
	b.a.clearFault(faultUIUnresponsive)
}

func (b backend) Lookup(ctx context.Context, req kiosk.LookupRequest) (ui.LookupAnswer, *kiosk.Error) {
	return b.a.lookup(ctx, req)
}

func (a *Agent) mode() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.maintenance.On {
		return kiosk.ModeMaintenance
	}
	if a.printingLocked() {
		return kiosk.ModePrinting
	}
	if a.session != nil {
		return kiosk.ModeSession
	}
	if _, full := a.faults[faultDiskFull]; full || !a.storeOK.OK {
		return kiosk.ModeDegraded
	}
	return kiosk.ModeReady
}

// lookup answers POST /api/lookup (DESIGN 4.8) and counts it for
// usage.summary.
func (a *Agent) lookup(ctx context.Context, req kiosk.LookupRequest) (ui.LookupAnswer, *kiosk.Error) {
	ans, kerr := a.lookupOnce(ctx, req)
	switch {
	case kerr == nil:
		a.countLookup(usageFound)
	case kerr.Code == kiosk.CodeMaintenance: // the screen was closed: no lookup
	case kerr.Code == kiosk.CodeNotFound, kerr.Code == kiosk.CodeRangkaMismatch:
		a.countLookup(usageNotFound) // the taxpayer learns there is no such vehicle (for these digits)
	case kerr.Code == kiosk.CodeInvalidPlate, kerr.Code == kiosk.CodeRangkaRequired:
		a.countLookup(usageInvalid)
	default:
		a.countLookup(usageError)
	}
	return ans, kerr
}

func (a *Agent) lookupOnce(ctx context.Context, req kiosk.LookupRequest) (ui.LookupAnswer, *kiosk.Error) {
	start := time.Now()
	if a.inMaintenance() {
		return ui.LookupAnswer{}, &kiosk.Error{Code: kiosk.CodeMaintenance}
	}
	a.touchSession()
	p, err := plate.Parse(req.Plate, nil)
	if err != nil {
		return ui.LookupAnswer{Plate: plateOf(err)}, plate.ContractError(err)
	}
	ans := ui.LookupAnswer{Plate: p.String()}
	r5, err := kiosk.NormalizeRangka5(req.Rangka5)
	if err != nil || (r5 == "" && a.cfg.RequireRangka5) {
		return ans, &kiosk.Error{Code: kiosk.CodeRangkaRequired}
	}
	key := a.cacheKey(ans.Plate, r5)
	now := a.cfg.Now()
	log := a.log.With("plate", a.plateTag(ans.Plate))

	cached, cerr := a.store.CacheGet(ctx, key)
	haveCache := cerr == nil
	if cerr != nil && !errors.Is(cerr, outbox.ErrNotFound) {
		log.Warn("cache read failed", "err", cerr)
	}
	// A result computed today and only minutes ago is served without
	// asking the gateway: a repeat within a session must be instant.
	if haveCache && !a.stale(cached.FetchedAt, now) && now.Sub(cached.FetchedAt) < a.cfg.CacheFresh {
		log.Info("lookup", "outcome", "cache", "took", time.Since(start))
		return a.remember(a.fromCache(ans, cached, now)), nil
	}

	lctx, cancel := context.WithTimeout(ctx, a.cfg.LookupTimeout)
	defer cancel()
	reply, err := natsbus.Lookup(lctx, a.nc, a.cfg.ID, kiosk.LookupRequest{Plate: ans.Plate, Rangka5: r5})
	switch {
	case err != nil && errors.Is(err, natsbus.ErrUnreachable),
		err == nil && reply.Error != nil && reply.Error.Code == kiosk.CodeSourceUnavailable:
		if haveCache {
			log.Info("lookup", "outcome", "cache-fallback", "took", time.Since(start))
			return a.remember(a.fromCache(ans, cached, now)), nil
		}
		log.Info("lookup", "outcome", kiosk.CodeSourceUnavailable, "took", time.Since(start))
		return ans, &kiosk.Error{Code: kiosk.CodeSourceUnavailable}
	case err != nil:
		log.Warn("lookup", "outcome", "bad-reply", "err", err)
		return ans, &kiosk.Error{Code: kiosk.CodeSourceUnavailable}
	case reply.Error != nil:
		log.Info("lookup", "outcome", reply.Error.Code, "took", time.Since(start))
		e := *reply.Error
		e.Message = "" // the screen words it in the taxpayer's language
		return ans, &e
	}

	res, stored, err := splitResult(reply.Result)
	if err != nil {
		log.Warn("lookup", "outcome", "bad-result", "err", err)
		return ans, &kiosk.Error{Code: kiosk.CodeSourceUnavailable}
	}
	if res.Sumber != "DEMO" && res.Rincian.Sum() != res.Jumlah {
		// Shown as received (domain/pkb.md 1.1); the mismatch is a data
		// quality finding for the hub, logged without the plate.
		log.Warn("data quality: jumlah differs from the sum of line items", "jumlah", res.Jumlah, "sum", res.Rincian.Sum())
	}
	select {
	case a.cacheCh <- outbox.CacheEntry{Key: key, Result: stored, FetchedAt: now}:
	default:
		log.Warn("cache queue full; result not cached")
	}
	log.Info("lookup", "outcome", "live", "took", time.Since(start))
	ans.Result = reply.Result
	ans.Source = "live"
	ans.FetchedAt = now.In(a.cfg.TZ).Format(time.RFC3339)
	return a.remember(ans), nil
}

// remember keeps a shown result in the current session, so that the
// taxpayer can print it; it is dropped with the session.
func (a *Agent) remember(ans ui.LookupAnswer) ui.LookupAnswer {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.session != nil {
		a.session.results[ans.Plate] = ans.Result
	}
	return ans
}

// splitResult decodes the gateway's result and returns it together with
// the form that is cached: the same object without nopol, so the database
// holds no plate in clear.
func splitResult(raw json.RawMessage) (pkb.Result, []byte, error) {
	var res pkb.Result
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&res); err != nil {
		return res, nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return res, nil, err
	}
	delete(m, "nopol")
	stored, err := json.Marshal(m)
	return res, stored, err
}

// fromCache builds the answer for a cached result of plate ans.Plate.
func (a *Agent) fromCache(ans ui.LookupAnswer, e outbox.CacheEntry, now time.Time) ui.LookupAnswer {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(e.Result, &m); err == nil {
		m["nopol"], _ = json.Marshal(ans.Plate)
		ans.Result, _ = json.Marshal(m)
	} else {
		ans.Result = e.Result
	}
	ans.Source = "cache"
	ans.FetchedAt = e.FetchedAt.In(a.cfg.TZ).Format(time.RFC3339)
	ans.Stale = a.stale(e.FetchedAt, now)
	ans.AgeS = max(0, int64(now.Sub(e.FetchedAt)/time.Second))
	return ans
}

// stale reports whether a result fetched at t was computed before today
// (in the province's zone): fines change by date.
func (a *Agent) stale(t, now time.Time) bool {
	return pkb.DateOf(t.In(a.cfg.TZ)).Before(pkb.DateOf(now.In(a.cfg.TZ)))
}

// status builds the status snapshot (DESIGN 4.4).
func (a *Agent) status(ctx context.Context) kiosk.Status {
	now := a.cfg.Now()
	st := kiosk.Status{
		Kiosk:       a.cfg.ID,
		Office:      a.cfg.Office,
		Version:     kiosk.Version,
		Boot:        a.boot,
		Epoch:       a.epoch,
		UpS:         int64(now.Sub(a.started) / time.Second),
		At:          now.In(a.cfg.TZ).Format(time.RFC3339),
		HBIntervalS: int(a.cfg.Heartbeat / time.Second),
		Mode:        a.mode(),
		Power:       kiosk.PowerStatus{Source: "unknown"},
		Bus:         kiosk.BusStatus{Connected: a.nc.IsConnected()},
		Faults:      a.faultList(),
		Store:       a.storeOK,
	}
	if n, err := a.store.Pending(ctx); err == nil {
		st.Bus.OutboxPending = n
	}
	if free, total, err := diskFree(a.cfg.Data); err == nil {
		st.Disk = kiosk.DiskStatus{FreeBytes: free, TotalBytes: total}
	}
	a.mu.Lock()
	st.Printer = a.printer
	st.Power = kiosk.PowerStatus{Source: a.powerSource}
	if !a.lastPing.IsZero() {
		s := int64(now.Sub(a.lastPing) / time.Second)
		st.UI.LastPingS = &s
	}
	a.mu.Unlock()
	st.UI.Running = a.ui.running()
	return st
}
