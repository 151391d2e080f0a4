package outbox

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

func body(id string, seq int64) ([]byte, error) {
	return fmt.Appendf(nil, `{"id":%q,"seq":%d}`, id, seq), nil
}

func TestEmitAtomicWithState(t *testing.T) {
	file := filepath.Join(t.TempDir(), "kiosk.db")
	s, err := Open(t.Context(), file)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	at := time.UnixMilli(1_700_000_000_000)
	// A failing transaction leaves neither the state nor the event, and
	// consumes no seq.
	boom := errors.New("boom")
	if err := s.Update(ctx, func(tx *Tx) error {
		tx.SetState("k", "v")
		tx.Emit("x", at, body)
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	if _, err := s.State(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Errorf("state of a rolled-back transaction: %v", err)
	}
	for i := range 3 {
		if err := s.Update(ctx, func(tx *Tx) error {
			if err := tx.SetState("k", fmt.Sprint(i)); err != nil {
				return err
			}
			_, err := tx.Emit("x", at, body)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e, err := s.Emit(ctx, "y", at, body)
	if err != nil || e.Seq != 4 {
		t.Fatalf("Emit after reopen = seq %d, %v; want 4 (1..3 taken, none by the rollback)", e.Seq, err)
	}
	if u, err := uuid.Parse(e.ID); err != nil || u.Version() != 7 {
		t.Errorf("id %q is not a UUIDv7", e.ID)
	}
	es, err := s.Unsent(ctx, 0, 10)
	if err != nil || len(es) != 4 {
		t.Fatalf("Unsent = %d, %v", len(es), err)
	}
	for i, e := range es {
		if e.Seq != int64(i+1) || string(e.Body) != fmt.Sprintf(`{"id":%q,"seq":%d}`, e.ID, e.Seq) {
			t.Errorf("event %d = %+v", i, e)
		}
	}
	if err := s.MarkSent(ctx, []int64{1, 2}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Pending(ctx); n != 2 {
		t.Errorf("Pending = %d, want 2", n)
	}
	if es, _ := s.Unsent(ctx, 0, 10); len(es) != 2 || es[0].Seq != 3 {
		t.Errorf("Unsent after MarkSent = %+v", es)
	}
}

func TestEmitConcurrentGapFree(t *testing.T) {
	s := openTemp(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 25 {
				if _, err := s.Emit(t.Context(), "x", time.Now(), body); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	es, err := s.Unsent(t.Context(), 0, 1000)
	if err != nil || len(es) != 200 {
		t.Fatalf("Unsent = %d, %v; want 200", len(es), err)
	}
	seen := map[string]bool{}
	for i, e := range es {
		if e.Seq != int64(i+1) || seen[e.ID] {
			t.Fatalf("event %d: seq %d id %s (gap or duplicate)", i, e.Seq, e.ID)
		}
		seen[e.ID] = true
	}
}

func BenchmarkEmit(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "kiosk.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		if _, err := s.Emit(b.Context(), "x", time.Now(), body); err != nil {
			b.Fatal(err)
		}
	}
}
