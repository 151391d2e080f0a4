package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// State returns the value of a state key as seen inside the transaction
// (including its own uncommitted writes), or ErrNotFound.
func (tx *Tx) State(key string) (string, error) {
	var v string
	err := tx.tx.QueryRowContext(tx.ctx, "SELECT value FROM state WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("outbox: read state %q: %w", key, err)
	}
	return v, nil
}

// PruneSent deletes sent events except the newest keep of them. Unsent
// events are never touched.
func (s *Store) PruneSent(ctx context.Context, keep int) error {
	if keep < 0 {
		return fmt.Errorf("outbox: prune sent events: keep %d < 0", keep)
	}
	// The subquery finds the newest sent seq that is not kept (NULL when
	// there are at most keep sent events: nothing is deleted). Both parts
	// walk the (sent, seq) index.
	_, err := s.w.ExecContext(ctx, `DELETE FROM outbox WHERE sent = 1 AND seq <= (
		SELECT seq FROM outbox WHERE sent = 1 ORDER BY seq DESC LIMIT 1 OFFSET ?)`, keep)
	if err != nil {
		return fmt.Errorf("outbox: prune sent events: %w", err)
	}
	return nil
}

// DropOldest makes room under disk pressure (DESIGN 5): it deletes up to n
// of the oldest unsent events of type dropType and, in the same
// transaction, emits one tombstone of type tombType whose body build makes
// from its own id and seq and the dropped range: fromSeq and toSeq are the
// lowest and highest dropped seq, count how many were dropped. Events of
// other types inside that range stay and are still sent; the hub tells
// them apart by seq. It returns the number of dropType events dropped; 0
// means nothing was droppable, and then no tombstone is written.
//
// Tombstones do not pile up: an earlier tombstone that is still unsent is
// deleted too and folded into the new one (its range joined, its count
// plus one for itself), so repeated drops through a long outage leave one
// tombstone, and a bounded outbox stays bounded.
//
// Seqs are never reused: the dropped ones stay a gap, explained by the
// tombstone. The tombstone's stored at (used only for local bookkeeping;
// the published time is the one build puts in the body) is the wall clock,
// as the Store has no clock of its own.
func (s *Store) DropOldest(ctx context.Context, dropType string, n int, tombType string,
	build func(id string, seq int64, fromSeq, toSeq int64, count int) ([]byte, error)) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	var dropped int
	err := s.Update(ctx, func(tx *Tx) error {
		var from, to sql.NullInt64
		var count int
		if err := tx.tx.QueryRowContext(ctx, `SELECT min(seq), max(seq), count(*) FROM (
			SELECT seq FROM outbox WHERE sent = 0 AND type = ? ORDER BY seq LIMIT ?)`, dropType, n).Scan(&from, &to, &count); err != nil {
			return fmt.Errorf("outbox: drop %s: find oldest: %w", dropType, err)
		}
		if count == 0 {
			return nil
		}
		// The chosen rows are exactly the unsent events of dropType in
		// [from, to]: they are the first count of them in seq order.
		res, err := tx.tx.ExecContext(ctx, "DELETE FROM outbox WHERE sent = 0 AND type = ? AND seq BETWEEN ? AND ?", dropType, from.Int64, to.Int64)
		if err != nil {
			return fmt.Errorf("outbox: drop %s: %w", dropType, err)
		}
		if got, err := res.RowsAffected(); err != nil || got != int64(count) {
			return fmt.Errorf("outbox: drop %s: deleted %d rows, want %d (%v)", dropType, got, count, err)
		}
		dropped = count
		lo, hi, total := from.Int64, to.Int64, count
		prev, err := tx.lastTombstone(tombType)
		if err != nil {
			return err
		}
		if prev != nil {
			res, err := tx.tx.ExecContext(ctx, "DELETE FROM outbox WHERE sent = 0 AND seq = ? AND type = ?", prev.Seq, tombType)
			if err != nil {
				return fmt.Errorf("outbox: fold tombstone %d: %w", prev.Seq, err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				lo, hi, total = min(lo, prev.From), max(hi, prev.Seq), total+prev.Count+1
			}
		}
		e, err := tx.Emit(tombType, time.Now(), func(id string, seq int64) ([]byte, error) {
			return build(id, seq, lo, hi, total)
		})
		if err != nil {
			return fmt.Errorf("outbox: drop %s: tombstone: %w", dropType, err)
		}
		b, _ := json.Marshal(tombRecord{Seq: e.Seq, From: lo, To: hi, Count: total})
		return tx.SetState("tombstone:"+tombType, string(b))
	})
	if err != nil {
		return 0, err
	}
	return dropped, nil
}

// tombRecord is the bookkeeping of the newest tombstone (state key
// "tombstone:<type>"), so the next drop can fold it in while unsent.
type tombRecord struct {
	Seq   int64 `json:"seq"`
	From  int64 `json:"from"`
	To    int64 `json:"to"`
	Count int   `json:"count"`
}

func (tx *Tx) lastTombstone(tombType string) (*tombRecord, error) {
	v, err := tx.State("tombstone:" + tombType)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var t tombRecord
	if json.Unmarshal([]byte(v), &t) != nil {
		return nil, nil // unreadable bookkeeping: start a new tombstone
	}
	return &t, nil
}
