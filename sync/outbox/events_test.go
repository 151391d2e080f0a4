package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

var testAt = time.UnixMilli(1_700_000_000_000)

// envelopeOf builds a minimal envelope carrying the assigned id and seq.
func envelopeOf(typ string) func(id string, seq int64) ([]byte, error) {
	return func(id string, seq int64) ([]byte, error) {
		return json.Marshal(map[string]any{"id": id, "type": typ, "seq": seq})
	}
}

// tombstone is the data of an outbox.dropped test envelope.
type tombstone struct {
	ID    string `json:"id"`
	Seq   int64  `json:"seq"`
	From  int64  `json:"from_seq"`
	To    int64  `json:"to_seq"`
	Count int    `json:"count"`
}

func buildTombstone(id string, seq, from, to int64, count int) ([]byte, error) {
	return json.Marshal(tombstone{id, seq, from, to, count})
}

// emitN emits the given types, one transaction each.
func emitN(t testing.TB, s *Store, types ...string) {
	t.Helper()
	for _, typ := range types {
		if err := s.Update(context.Background(), func(tx *Tx) error {
			_, err := tx.Emit(typ, testAt, envelopeOf(typ))
			return err
		}); err != nil {
			t.Fatalf("emit %s: %v", typ, err)
		}
	}
}

func openFile(t testing.TB, file string) *Store {
	t.Helper()
	s, err := Open(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func unsentAll(t testing.TB, s *Store) []Event {
	t.Helper()
	es, err := s.Unsent(context.Background(), 0, 1_000_000)
	if err != nil {
		t.Fatalf("Unsent: %v", err)
	}
	return es
}

func seqsOf(es []Event) []int64 {
	var qs []int64
	for _, e := range es {
		qs = append(qs, e.Seq)
	}
	return qs
}

func TestSeqStartsAtOneAndSurvivesReopen(t *testing.T) {
	file := filepath.Join(t.TempDir(), "kiosk.db")
	s := openFile(t, file)
	var got []int64
	emit := func(s *Store, k int) {
		t.Helper()
		if err := s.Update(t.Context(), func(tx *Tx) error {
			for range k {
				e, err := tx.Emit("x", testAt, envelopeOf("x"))
				if err != nil {
					return err
				}
				got = append(got, e.Seq)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	emit(s, 1)
	emit(s, 3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openFile(t, file)
	defer s.Close()
	emit(s, 2)
	for i, q := range got {
		if q != int64(i+1) {
			t.Fatalf("seqs = %v, want 1..%d", got, len(got))
		}
	}
	if v, err := s.State(t.Context(), "seq"); err != nil || v != "6" {
		t.Errorf("state seq = %q, %v; want 6", v, err)
	}
	// The stored body is what build returned, with the assigned id and seq.
	for _, e := range unsentAll(t, s) {
		var env tombstone
		if err := json.Unmarshal(e.Body, &env); err != nil || env.ID != e.ID || env.Seq != e.Seq {
			t.Errorf("body %s of seq %d id %s: %v", e.Body, e.Seq, e.ID, err)
		}
		if !e.At.Equal(testAt) || e.Type != "x" {
			t.Errorf("event %d: at %v type %q, want %v x", e.Seq, e.At, e.Type, testAt)
		}
	}
}

func TestUpdateErrorRollsBackStateAndEvents(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	emitN(t, s, "x")
	boom := errors.New("boom")
	for _, tt := range []struct {
		name string
		fn   func(tx *Tx) error
	}{
		{"fn error", func(tx *Tx) error {
			if err := tx.SetState("k", "v"); err != nil {
				return err
			}
			if _, err := tx.Emit("x", testAt, envelopeOf("x")); err != nil {
				return err
			}
			return boom
		}},
		{"build error", func(tx *Tx) error {
			if err := tx.SetState("k", "v"); err != nil {
				return err
			}
			if _, err := tx.Emit("x", testAt, envelopeOf("x")); err != nil {
				return err
			}
			_, err := tx.Emit("y", testAt, func(string, int64) ([]byte, error) { return nil, boom })
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Update(ctx, tt.fn); !errors.Is(err, boom) {
				t.Fatalf("Update = %v, want boom", err)
			}
			if v, err := s.State(ctx, "k"); !errors.Is(err, ErrNotFound) {
				t.Errorf("state k = %q, %v; want ErrNotFound", v, err)
			}
			if es := unsentAll(t, s); len(es) != 1 || es[0].Seq != 1 {
				t.Errorf("events after rollback = %v, want [1]", seqsOf(es))
			}
		})
	}
	emitN(t, s, "x")
	if es := unsentAll(t, s); fmt.Sprint(seqsOf(es)) != "[1 2]" {
		t.Errorf("seqs = %v, want [1 2]: a rolled-back transaction consumes no seq", seqsOf(es))
	}
}

func TestTxState(t *testing.T) {
	s := openTemp(t)
	if err := s.Update(t.Context(), func(tx *Tx) error {
		if _, err := tx.State("k"); !errors.Is(err, ErrNotFound) {
			t.Errorf("State(k) before set: %v, want ErrNotFound", err)
		}
		if err := tx.SetState("k", "v1"); err != nil {
			return err
		}
		if v, err := tx.State("k"); err != nil || v != "v1" {
			t.Errorf("State(k) in tx = %q, %v; want v1", v, err)
		}
		if _, err := tx.Emit("x", testAt, envelopeOf("x")); err != nil {
			return err
		}
		if v, err := tx.State("seq"); err != nil || v != "1" {
			t.Errorf("State(seq) after Emit = %q, %v; want 1", v, err)
		}
		if e, err := tx.State("epoch"); err != nil || e == "" {
			t.Errorf("State(epoch) = %q, %v", e, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestStateAndEventCommitTogether(t *testing.T) {
	file := filepath.Join(t.TempDir(), "kiosk.db")
	s := openFile(t, file)
	var want Event
	if err := s.Update(t.Context(), func(tx *Tx) error {
		if err := tx.SetState("clean", "0"); err != nil {
			return err
		}
		var err error
		want, err = tx.Emit("lifecycle.boot", testAt, envelopeOf("lifecycle.boot"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openFile(t, file)
	defer s.Close()
	if v, err := s.State(t.Context(), "clean"); err != nil || v != "0" {
		t.Errorf("state clean after reopen = %q, %v; want 0", v, err)
	}
	es := unsentAll(t, s)
	if len(es) != 1 || es[0].ID != want.ID || es[0].Seq != want.Seq || string(es[0].Body) != string(want.Body) {
		t.Errorf("events after reopen = %+v, want [%+v]", es, want)
	}
}

func TestEventIDsAreUniqueUUIDv7(t *testing.T) {
	s := openTemp(t)
	if err := s.Update(t.Context(), func(tx *Tx) error {
		for range 200 {
			if _, err := tx.Emit("x", testAt, envelopeOf("x")); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range unsentAll(t, s) {
		u, err := uuid.Parse(e.ID)
		if err != nil || u.Version() != 7 {
			t.Errorf("seq %d: id %q is not a UUIDv7 (%v)", e.Seq, e.ID, err)
		}
		if seen[e.ID] {
			t.Errorf("seq %d: duplicate id %s", e.Seq, e.ID)
		}
		seen[e.ID] = true
	}
	if len(seen) != 200 {
		t.Errorf("%d ids, want 200", len(seen))
	}
}

func TestUnsentMarkSentPending(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	emitN(t, s, "a", "b", "c", "d", "e", "f")
	pending := func(want int64) {
		t.Helper()
		if n, err := s.Pending(ctx); err != nil || n != want {
			t.Errorf("Pending = %d, %v; want %d", n, err, want)
		}
	}
	pending(6)
	for _, tt := range []struct {
		after int64
		limit int
		want  string
	}{
		{0, 100, "[1 2 3 4 5 6]"},
		{0, 2, "[1 2]"},
		{2, 2, "[3 4]"},
		{5, 10, "[6]"},
		{6, 10, "[]"},
	} {
		es, err := s.Unsent(ctx, tt.after, tt.limit)
		if got := fmt.Sprint(seqsOf(es)); err != nil || got != tt.want {
			t.Errorf("Unsent(%d, %d) = %s, %v; want %s", tt.after, tt.limit, got, err, tt.want)
		}
	}
	if err := s.MarkSent(ctx, []int64{2, 3, 5}); err != nil {
		t.Fatal(err)
	}
	pending(3)
	// Marking again, or marking a seq that does not exist, is harmless.
	if err := s.MarkSent(ctx, []int64{2, 3, 99}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, nil); err != nil {
		t.Fatal(err)
	}
	pending(3)
	if got := fmt.Sprint(seqsOf(unsentAll(t, s))); got != "[1 4 6]" {
		t.Errorf("Unsent after MarkSent = %s, want [1 4 6]", got)
	}
	if es, _ := s.Unsent(ctx, 1, 1); len(es) != 1 || es[0].Seq != 4 || es[0].Type != "d" {
		t.Errorf("Unsent(1, 1) = %+v, want seq 4 type d", es)
	}
}

func TestDropOldest(t *testing.T) {
	const u, f = "usage.summary", "fault.raised"
	for _, tt := range []struct {
		name      string
		types     []string // emitted as seq 1, 2, ...
		sent      []int64
		n         int
		wantCount int
		wantFrom  int64
		wantTo    int64
		wantLeft  string // unsent seqs after the drop, tombstone included
	}{
		{"oldest first", []string{u, f, u, u, f, u}, nil, 2, 2, 1, 3, "[2 4 5 6 7]"},
		{"fewer than n", []string{f, u, f, u}, nil, 10, 2, 2, 4, "[1 3 5]"},
		{"sent ones are not dropped", []string{u, u, f, u}, []int64{1}, 1, 1, 2, 2, "[3 4 5]"},
		{"nothing droppable", []string{f, f}, nil, 5, 0, 0, 0, "[1 2]"},
		{"only sent usage", []string{u, f}, []int64{1}, 5, 0, 0, 0, "[2]"},
		{"n = 0", []string{u}, nil, 0, 0, 0, 0, "[1]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := openTemp(t)
			ctx := t.Context()
			emitN(t, s, tt.types...)
			if err := s.MarkSent(ctx, tt.sent); err != nil {
				t.Fatal(err)
			}
			before := map[int64]Event{}
			for _, e := range unsentAll(t, s) {
				before[e.Seq] = e
			}
			got, err := s.DropOldest(ctx, u, tt.n, "outbox.dropped", buildTombstone)
			if err != nil || got != tt.wantCount {
				t.Fatalf("DropOldest = %d, %v; want %d", got, err, tt.wantCount)
			}
			es := unsentAll(t, s)
			if g := fmt.Sprint(seqsOf(es)); g != tt.wantLeft {
				t.Errorf("unsent after drop = %s, want %s", g, tt.wantLeft)
			}
			var tombs []Event
			for _, e := range es {
				if e.Type == "outbox.dropped" {
					tombs = append(tombs, e)
					continue
				}
				if b, ok := before[e.Seq]; !ok || b.ID != e.ID || string(b.Body) != string(e.Body) {
					t.Errorf("seq %d changed: %+v, was %+v", e.Seq, e, b)
				}
			}
			for q, b := range before {
				if b.Type != u && !containsSeq(es, q) {
					t.Errorf("%s event seq %d was dropped", b.Type, q)
				}
			}
			if tt.wantCount == 0 {
				if len(tombs) != 0 {
					t.Errorf("tombstones = %+v, want none", tombs)
				}
				return
			}
			if len(tombs) != 1 {
				t.Fatalf("tombstones = %+v, want one", tombs)
			}
			var tb tombstone
			if err := json.Unmarshal(tombs[0].Body, &tb); err != nil {
				t.Fatal(err)
			}
			want := tombstone{tombs[0].ID, int64(len(tt.types) + 1), tt.wantFrom, tt.wantTo, tt.wantCount}
			if tb != want || tombs[0].Seq != want.Seq {
				t.Errorf("tombstone seq %d = %+v, want %+v", tombs[0].Seq, tb, want)
			}
			// Seqs are never reused: the next event follows the tombstone.
			emitN(t, s, f)
			if v, _ := s.State(ctx, "seq"); v != strconv.Itoa(len(tt.types)+2) {
				t.Errorf("seq after drop + emit = %s, want %d", v, len(tt.types)+2)
			}
		})
	}
}

func TestDropOldestBuildErrorDropsNothing(t *testing.T) {
	s := openTemp(t)
	emitN(t, s, "usage.summary", "usage.summary")
	boom := errors.New("boom")
	n, err := s.DropOldest(t.Context(), "usage.summary", 1, "outbox.dropped",
		func(string, int64, int64, int64, int) ([]byte, error) { return nil, boom })
	if !errors.Is(err, boom) || n != 0 {
		t.Errorf("DropOldest = %d, %v; want 0, boom", n, err)
	}
	if got := fmt.Sprint(seqsOf(unsentAll(t, s))); got != "[1 2]" {
		t.Errorf("unsent = %s, want [1 2]: the drop and its tombstone are one transaction", got)
	}
}

func containsSeq(es []Event, q int64) bool {
	for _, e := range es {
		if e.Seq == q {
			return true
		}
	}
	return false
}

func TestPruneSent(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	emitN(t, s, "a", "b", "c", "d", "e", "f", "g")
	if err := s.MarkSent(ctx, []int64{1, 2, 3, 5, 6}); err != nil {
		t.Fatal(err)
	}
	all := func() string {
		var qs []int64
		rows, err := s.r.QueryContext(ctx, "SELECT seq FROM outbox ORDER BY seq")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var q int64
			rows.Scan(&q)
			qs = append(qs, q)
		}
		return fmt.Sprint(qs)
	}
	for _, tt := range []struct {
		keep int
		want string
	}{
		{10, "[1 2 3 4 5 6 7]"},
		{5, "[1 2 3 4 5 6 7]"},
		{2, "[4 5 6 7]"},
		{0, "[4 7]"}, // unsent events stay
	} {
		if err := s.PruneSent(ctx, tt.keep); err != nil {
			t.Fatal(err)
		}
		if got := all(); got != tt.want {
			t.Errorf("after PruneSent(%d): %s, want %s", tt.keep, got, tt.want)
		}
	}
	if err := s.PruneSent(ctx, -1); err == nil {
		t.Error("PruneSent(-1) = nil, want an error")
	}
	if n, _ := s.Pending(ctx); n != 2 {
		t.Errorf("Pending = %d, want 2", n)
	}
	// Pruning does not rewind seq.
	emitN(t, s, "h")
	if got := all(); got != "[4 7 8]" {
		t.Errorf("after emit: %s, want [4 7 8]", got)
	}
}

func TestUpdateConcurrentGapFree(t *testing.T) {
	s := openTemp(t)
	const workers, per = 6, 20
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				err := s.Update(t.Context(), func(tx *Tx) error {
					if err := tx.SetState(fmt.Sprintf("w%d", w), strconv.Itoa(i)); err != nil {
						return err
					}
					for range 2 {
						if _, err := tx.Emit("x", time.Now(), envelopeOf("x")); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	es := unsentAll(t, s)
	if len(es) != workers*per*2 {
		t.Fatalf("%d events, want %d", len(es), workers*per*2)
	}
	ids := map[string]bool{}
	for i, e := range es {
		if e.Seq != int64(i+1) || ids[e.ID] {
			t.Fatalf("event %d: seq %d id %s: gap or duplicate", i, e.Seq, e.ID)
		}
		ids[e.ID] = true
	}
}

// TestTwoStoresOnOneFile stands in for an interrupted writer: a second
// Store (as a restarted agent would open) sees everything the first
// committed, continues its seq, and the first sees the second's writes.
func TestTwoStoresOnOneFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "kiosk.db")
	a := openFile(t, file)
	defer a.Close()
	b := openFile(t, file)
	defer b.Close()
	ctx := t.Context()
	if err := a.Update(ctx, func(tx *Tx) error {
		if err := tx.SetState("k", "a"); err != nil {
			return err
		}
		_, err := tx.Emit("x", testAt, envelopeOf("x"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// An uncommitted transaction of a is invisible to b. fn returns an
	// error, so a rolls it back (as a kill -9 would).
	boom := errors.New("boom")
	if err := a.Update(ctx, func(tx *Tx) error {
		if _, err := tx.Emit("x", testAt, envelopeOf("x")); err != nil {
			return err
		}
		if es := unsentAll(t, b); len(es) != 1 {
			t.Errorf("b sees %v while a's transaction is open, want [1]", seqsOf(es))
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	if v, err := b.State(ctx, "k"); err != nil || v != "a" {
		t.Errorf("b: state k = %q, %v; want a", v, err)
	}
	emitN(t, b, "y")
	emitN(t, a, "z")
	es := unsentAll(t, a)
	var got []string
	for _, e := range es {
		got = append(got, fmt.Sprintf("%d%s", e.Seq, e.Type))
	}
	if fmt.Sprint(got) != "[1x 2y 3z]" {
		t.Errorf("a sees %v, want [1x 2y 3z]", got)
	}
	if n, _ := b.Pending(ctx); n != 3 {
		t.Errorf("b: Pending = %d, want 3", n)
	}
}

// BenchmarkEmitTx measures events stored per second when emitting in
// transactions of 1 and of 100 events (each commit is one fsync).
// BenchmarkEmit in outbox_test.go is the single-event Store.Emit.
func BenchmarkEmitTx(b *testing.B) {
	for _, per := range []int{1, 100} {
		b.Run(fmt.Sprintf("tx=%d", per), func(b *testing.B) {
			s := openFile(b, filepath.Join(b.TempDir(), "kiosk.db"))
			defer s.Close()
			build := envelopeOf("usage.summary")
			n := 0
			for b.Loop() {
				if err := s.Update(b.Context(), func(tx *Tx) error {
					for range per {
						if _, err := tx.Emit("usage.summary", testAt, build); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
				n += per
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkUnsentMarkSent is one drain step: read 500 unsent events and
// mark them sent, over a table of 50,000 unsent events.
func BenchmarkUnsentMarkSent(b *testing.B) {
	const total, batch = 50_000, 500
	s := openFile(b, filepath.Join(b.TempDir(), "kiosk.db"))
	defer s.Close()
	ctx := b.Context()
	build := envelopeOf("usage.summary")
	for range total / 5_000 {
		if err := s.Update(ctx, func(tx *Tx) error {
			for range 5_000 {
				if _, err := tx.Emit("usage.summary", testAt, build); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	var after int64
	n := 0
	for b.Loop() {
		es, err := s.Unsent(ctx, after, batch)
		if err != nil {
			b.Fatal(err)
		}
		if len(es) < batch {
			// Drained: make everything unsent again, off the clock.
			b.StopTimer()
			if _, err := s.w.ExecContext(ctx, "UPDATE outbox SET sent = 0"); err != nil {
				b.Fatal(err)
			}
			after = 0
			b.StartTimer()
			continue
		}
		if err := s.MarkSent(ctx, seqsOf(es)); err != nil {
			b.Fatal(err)
		}
		after = es[len(es)-1].Seq
		n += len(es)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// TestDropOldestFoldsTombstones: repeated drops through one outage leave
// a single unsent tombstone whose range and count cover everything that
// is missing (the earlier tombstone itself included), so a bounded outbox
// stays bounded; once a tombstone was sent, the next drop starts afresh.
func TestDropOldestFoldsTombstones(t *testing.T) {
	const u, f = "usage.summary", "fault.raised"
	s := openTemp(t)
	ctx := t.Context()
	emitN(t, s, u, f, u, u) // 1..4
	if n, err := s.DropOldest(ctx, u, 2, "outbox.dropped", buildTombstone); err != nil || n != 2 {
		t.Fatalf("first drop = %d, %v", n, err) // drops 1, 3; tombstone 5
	}
	emitN(t, s, u) // 6
	if n, err := s.DropOldest(ctx, u, 2, "outbox.dropped", buildTombstone); err != nil || n != 2 {
		t.Fatalf("second drop = %d, %v", n, err) // drops 4, 6 and folds 5; tombstone 7
	}
	es := unsentAll(t, s)
	if g := fmt.Sprint(seqsOf(es)); g != "[2 7]" {
		t.Fatalf("unsent = %s, want [2 7]: the fault and one tombstone", g)
	}
	var tb tombstone
	json.Unmarshal(es[1].Body, &tb)
	if tb.From != 1 || tb.To != 6 || tb.Count != 5 {
		t.Errorf("folded tombstone = %+v, want 1..6 with 5 missing (1, 3, 4, 5, 6)", tb)
	}
	if err := s.MarkSent(ctx, []int64{2, 7}); err != nil {
		t.Fatal(err)
	}
	emitN(t, s, u) // 8
	if n, err := s.DropOldest(ctx, u, 1, "outbox.dropped", buildTombstone); err != nil || n != 1 {
		t.Fatalf("third drop = %d, %v", n, err)
	}
	es = unsentAll(t, s)
	json.Unmarshal(es[0].Body, &tb)
	if len(es) != 1 || tb.From != 8 || tb.To != 8 || tb.Count != 1 {
		t.Errorf("after a sent tombstone: unsent %v, tombstone %+v; want a new one for 8 only", seqsOf(es), tb)
	}
}
