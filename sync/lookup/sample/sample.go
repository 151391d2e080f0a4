// Package sample is the gateway's "sample" source: a deterministic, seeded generator of realistic Sumatera Barat vehicles, stored once in SQLite and priced at lookup time by the pkb estimator.
//
// # Concepts
//
// The store holds vehicle facts only (domain/pkb.md 8): plate, make and
// model, year, colours, SWDKLLJ class, the yearly PKB pokok, the due dates
// and the blocking flag, plus the last five characters of the chassis
// number (the rangka5 factor). There is no owner data at all. Amounts are
// never stored: Lookup runs pkb.Estimate for today, so a bill grows its
// fines day by day like a real one, and the result is the source's own
// figure (sumber "DEMO", estimasi false).
//
// The vehicles follow from Config.Seed, Size and Ref alone. Ref is the day
// the due dates are spread around so that every category of Plates occurs:
// paid up, a few months late, more than a year late, blocked, STNK renewal
// due. A vehicle's identity (plate, rangka5, make, model) depends on Seed
// and its number only, not on Ref, so a store regenerated on another day
// keeps its plates and rangka5 and only the dates move.
//
// With a zero Config.Ref the store is generated once, with today as Ref,
// and reused on later days, so a vehicle's due dates stay put and its fines
// grow day by day like a real one's. Only a store older than MaxRefAge is
// generated anew, because by then too few vehicles would still be paid up
// for the demo's categories.
package sample

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/kiosk/pkb"
	"github.com/sumbar-samsat/pkbkiosk/sync/lookup"
)

// Sumber is the origin of every result of this source.
const Sumber = "DEMO"

// Defaults of Config.
const (
	DefaultSeed = 1
	DefaultSize = 100_000
	// MaxSize bounds Size: the plate ranges of domain/pkb.md 3.1 hold far
	// more, but a store this big is already ~1.3 GB.
	MaxSize = 10_000_000
)

// Config configures Open.
type Config struct {
	Path string // SQLite file, e.g. <hub data>/sample.db
	Seed int64  // 0 means DefaultSeed (1)
	Size int    // number of vehicles; 0 means DefaultSize (100,000)
	// Ref is the reference day the due dates are spread around (the
	// generation day). Zero means today in TZ, so a store opened on a later
	// day is regenerated around that day (same plates, moved dates).
	Ref pkb.Date
	// TZ is the zone of "today"; nil means Asia/Jakarta (a fixed +07:00
	// zone when the machine has no tzdata).
	TZ *time.Location
	// Now is the clock; nil means time.Now. Today and dihitung_pada come
	// from it.
	Now func() time.Time
	// Rules are the estimator rules; nil means pkb.DefaultRules().
	Rules *pkb.Rules
}

// Stats describes how Open got the store.
type Stats struct {
	Vehicles  int           // vehicles in the store
	Generated bool          // Open generated the store rather than reusing it
	Took      time.Duration // how long generation took (0 when reused)
}

// Source is the sample source. It is safe for concurrent use: every field
// is set by Open and never changes.
type Source struct {
	db      *sql.DB
	byPlate *sql.Stmt
	byRow   *sql.Stmt
	tz      *time.Location
	now     func() time.Time
	rules   pkb.Rules
	seed    int64
	stats   Stats
}

var _ lookup.Source = (*Source)(nil)

// Open opens the store at cfg.Path, generating it first when it is missing
// or was generated with another seed, size, ref day or generator version
// (kept in a meta table), or fails SQLite's integrity check. Generation
// writes a temp file and renames it, so a crash never leaves a half store.
// The store is then read through a read-only connection pool.
func Open(ctx context.Context, cfg Config) (*Source, error) {
	if cfg.Path == "" {
		return nil, errors.New("sample: no store path")
	}
	if cfg.Size < 0 || cfg.Size > MaxSize {
		return nil, fmt.Errorf("sample: size %d is outside 1..%d", cfg.Size, MaxSize)
	}
	s := &Source{tz: cfg.TZ, now: cfg.Now, seed: cfg.Seed, rules: pkb.DefaultRules()}
	if s.seed == 0 {
		s.seed = DefaultSeed
	}
	size := cfg.Size
	if size == 0 {
		size = DefaultSize
	}
	if s.tz == nil {
		s.tz, _ = kiosk.LoadTZ("") // never fails for the default zone
	}
	if s.now == nil {
		s.now = time.Now
	}
	if cfg.Rules != nil {
		s.rules = *cfg.Rules
	}
	if err := s.rules.Validate(); err != nil {
		return nil, fmt.Errorf("sample: %w", err)
	}
	ref := cfg.Ref
	var reuseSince pkb.Date
	if ref.IsZero() {
		ref = s.today()
		reuseSince = ref.AddDays(-MaxRefAge)
	} else if ref.String() != pkb.NewDate(ref.Year, ref.Month, ref.Day).String() {
		return nil, fmt.Errorf("sample: ref %04d-%02d-%02d is not a calendar date", ref.Year, int(ref.Month), ref.Day)
	}
	p := params{Version: generatorVersion, Seed: s.seed, Size: size, Ref: ref, reuseSince: reuseSince}

	db, n, err := openStore(ctx, cfg.Path, p)
	if errors.Is(err, errStale) {
		t0 := time.Now()
		if err := build(ctx, cfg.Path, p); err != nil {
			return nil, err
		}
		s.stats = Stats{Generated: true, Took: time.Since(t0)}
		db, n, err = openStore(ctx, cfg.Path, p)
	}
	if err != nil {
		return nil, fmt.Errorf("sample: open %s: %w", cfg.Path, err)
	}
	s.db = db
	s.stats.Vehicles = n
	if s.byPlate, err = db.PrepareContext(ctx, selectByPlate); err == nil {
		s.byRow, err = db.PrepareContext(ctx, selectByRow)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("sample: prepare: %w", err)
	}
	return s, nil
}

// Close closes the store.
func (s *Source) Close() error {
	for _, st := range []*sql.Stmt{s.byPlate, s.byRow} {
		if st != nil {
			st.Close()
		}
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("sample: close: %w", err)
	}
	return nil
}

// Stats reports whether Open generated the store, the number of vehicles
// and how long generation took.
func (s *Source) Stats() Stats { return s.stats }

// today is the current day in the source's zone.
func (s *Source) today() pkb.Date { return pkb.DateOf(s.now().In(s.tz)) }

// Lookup implements lookup.Source; q.Plate is canonical. An unknown plate
// gives lookup.ErrNotFound; a non-empty q.Rangka5 that differs from the
// vehicle's gives lookup.ErrRangkaMismatch (compared in constant time; an
// empty one is not checked, the gateway decides whether it is required).
//
// The result is the vehicle's facts and pkb.Estimate for today in the
// source's zone, with Sumber "DEMO", Estimasi false, DihitungPada the
// current time in the zone to the second, and Jumlah the sum of the line
// items. When the estimator cannot price the vehicle, in particular
// pkb.ErrTooManyPeriods (arrears beyond its limit, which the generator
// avoids until two years after the reference day), there is no figure this
// source could stand behind, so Lookup returns an error wrapping both
// lookup.ErrUnavailable and the estimator's error: the kiosk then shows the
// source as unavailable and its own estimator says "hubungi petugas".
// Errors never contain the plate or the rangka5.
func (s *Source) Lookup(ctx context.Context, q lookup.Query) (pkb.Result, error) {
	var v vehicle
	if err := scanVehicle(s.byPlate.QueryRowContext(ctx, q.Plate), &v); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return pkb.Result{}, fmt.Errorf("sample: %w", lookup.ErrNotFound)
		}
		return pkb.Result{}, fmt.Errorf("sample: %w: %w", lookup.ErrUnavailable, err)
	}
	if q.Rangka5 != "" && subtle.ConstantTimeCompare([]byte(q.Rangka5), []byte(v.Rangka5)) != 1 {
		return pkb.Result{}, fmt.Errorf("sample: %w", lookup.ErrRangkaMismatch)
	}
	now := s.now().In(s.tz)
	today := pkb.DateOf(now)
	bill, err := pkb.Estimate(v.facts(), today, s.rules)
	if err != nil {
		return pkb.Result{}, fmt.Errorf("sample: %w: %w", lookup.ErrUnavailable, err)
	}
	return pkb.Result{
		Nopol: v.Nopol,
		Kendaraan: pkb.Kendaraan{
			Merk:      v.Merk,
			Tipe:      v.Tipe,
			Tahun:     strconv.Itoa(v.Tahun),
			Warna:     v.Warna,
			WarnaTNKB: v.WarnaTNKB,
		},
		TglAkhirPKB:  v.TglAkhirPKB,
		TglAkhirSTNK: v.TglAkhirSTNK,
		Status:       pkb.Status{Blokir: v.Blokir, Keterangan: keterangan(&v, today)},
		Rincian:      bill.Rincian,
		Jumlah:       bill.Rincian.Sum(),
		DihitungPada: now.Truncate(time.Second),
		Sumber:       Sumber,
		Estimasi:     false,
	}, nil
}

// keterangan is the backend remark of v on day p: BLOKIR when blocked,
// BELUM BAYAR once the due date is reached, BELUM JATUH TEMPO before.
func keterangan(v *vehicle, p pkb.Date) string {
	switch {
	case v.Blokir:
		return "BLOKIR"
	case !v.TglAkhirPKB.After(p):
		return "BELUM BAYAR"
	default:
		return "BELUM JATUH TEMPO"
	}
}
