package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var ingestT0 = time.Date(2026, 11, 23, 10, 15, 0, 123_000_000, time.FixedZone("WIB", 7*3600))

// ingestEvent returns a valid event of kiosk padang-01 in epoch ep with sequence seq.
func ingestEvent(ep string, seq int64) Envelope {
	return Envelope{
		ID: fmt.Sprintf("evt-%s-%d", ep, seq), Kiosk: "padang-01", Office: "padang", Type: "fault.raised",
		At: ingestT0.Add(time.Duration(seq) * time.Second), Boot: "boot-1", Epoch: ep, Seq: seq,
		Data: json.RawMessage(`{"code":"printer.paper_out","severity":"critical","detail":""}`),
	}
}

func openTestStore(t testing.TB) (*Store, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "hub.db")
	s, err := OpenStore(t.Context(), file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, file
}

func mustIngest(t *testing.T, s *Store, e Envelope) IngestResult {
	t.Helper()
	r, err := s.Ingest(t.Context(), e)
	if err != nil {
		t.Fatalf("Ingest(%s seq %d): %v", e.Epoch, e.Seq, err)
	}
	return r
}

func mustCount(t *testing.T, s *Store) int64 {
	t.Helper()
	n, err := s.Count(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustGaps(t *testing.T, s *Store) []Gap {
	t.Helper()
	gs, err := s.Gaps(t.Context(), "padang-01")
	if err != nil {
		t.Fatal(err)
	}
	return gs
}

func TestIngestDuplicate(t *testing.T) {
	s, file := openTestStore(t)
	e := ingestEvent("ep1", 1)
	if r := mustIngest(t, s, e); r.Duplicate || r.Gap != nil {
		t.Errorf("first Ingest = %+v, want a new event", r)
	}
	if r := mustIngest(t, s, e); !r.Duplicate {
		t.Errorf("second Ingest = %+v, want Duplicate", r)
	}
	// A replay after the stream's dedupe window, with another body: still
	// the same event, and nothing else changes (no gap from seq 9).
	replay := e
	replay.Seq = 9
	if r := mustIngest(t, s, replay); !r.Duplicate || r.Gap != nil {
		t.Errorf("replay with another seq = %+v, want Duplicate without gap", r)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenStore(t.Context(), file)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if r := mustIngest(t, s2, e); !r.Duplicate {
		t.Errorf("Ingest after reopen = %+v, want Duplicate", r)
	}
	if n := mustCount(t, s2); n != 1 {
		t.Errorf("Count = %d, want 1", n)
	}
	if gs := mustGaps(t, s2); len(gs) != 0 {
		t.Errorf("Gaps = %+v, want none", gs)
	}
	// seq 2 follows 1: the replayed seq 9 did not move last seq.
	if r := mustIngest(t, s2, ingestEvent("ep1", 2)); r.Gap != nil {
		t.Errorf("seq 2 after 1: gap %+v", *r.Gap)
	}
}

func TestIngestGaps(t *testing.T) {
	gap := func(ep string, from, to int64) Gap { return Gap{Kiosk: "padang-01", Epoch: ep, From: from, To: to} }
	for _, tt := range []struct {
		name     string
		seqs     []int64 // of epoch "a"; -n means seq n of epoch "b"
		wantGaps []*Gap  // the gap each ingest reports
		final    []Gap
	}{
		{name: "in order", seqs: []int64{1, 2, 3}, wantGaps: []*Gap{nil, nil, nil}},
		{name: "jump", seqs: []int64{1, 2, 5}, wantGaps: []*Gap{nil, nil, {Kiosk: "padang-01", Epoch: "a", From: 3, To: 4}}, final: []Gap{gap("a", 3, 4)}},
		{name: "late events close the gap", seqs: []int64{1, 2, 5, 3, 4}, wantGaps: []*Gap{nil, nil, {Kiosk: "padang-01", Epoch: "a", From: 3, To: 4}, nil, nil}},
		{name: "late events in reverse", seqs: []int64{1, 2, 5, 4, 3}, wantGaps: []*Gap{nil, nil, {Kiosk: "padang-01", Epoch: "a", From: 3, To: 4}, nil, nil}},
		{name: "fill the middle splits", seqs: []int64{1, 6, 3}, wantGaps: []*Gap{nil, {Kiosk: "padang-01", Epoch: "a", From: 2, To: 5}, nil}, final: []Gap{gap("a", 2, 2), gap("a", 4, 5)}},
		{name: "fill the end shrinks", seqs: []int64{1, 6, 5}, wantGaps: []*Gap{nil, {Kiosk: "padang-01", Epoch: "a", From: 2, To: 5}, nil}, final: []Gap{gap("a", 2, 4)}},
		{name: "two gaps", seqs: []int64{1, 3, 6, 2}, wantGaps: []*Gap{nil, {Kiosk: "padang-01", Epoch: "a", From: 2, To: 2}, {Kiosk: "padang-01", Epoch: "a", From: 4, To: 5}, nil}, final: []Gap{gap("a", 4, 5)}},
		{name: "older seq without gap", seqs: []int64{3, 4, 1, 5}, wantGaps: make([]*Gap, 4)},
		{name: "first seq of an epoch is its start", seqs: []int64{7, 8}, wantGaps: make([]*Gap, 2)},
		{name: "new epoch restarts at 1", seqs: []int64{1, 2, 3, -1, -2, 4}, wantGaps: make([]*Gap, 6)},
		{name: "gaps per epoch", seqs: []int64{1, -1, -3, 2, 3}, wantGaps: []*Gap{nil, nil, {Kiosk: "padang-01", Epoch: "b", From: 2, To: 2}, nil, nil}, final: []Gap{gap("b", 2, 2)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTestStore(t)
			for i, seq := range tt.seqs {
				ep := "a"
				if seq < 0 {
					ep, seq = "b", -seq
				}
				r := mustIngest(t, s, ingestEvent(ep, seq))
				if r.Duplicate {
					t.Errorf("event %d (%s %d): Duplicate", i, ep, seq)
				}
				if (r.Gap == nil) != (tt.wantGaps[i] == nil) || r.Gap != nil && *r.Gap != *tt.wantGaps[i] {
					t.Errorf("event %d (%s %d): gap %v, want %v", i, ep, seq, r.Gap, tt.wantGaps[i])
				}
			}
			if gs := mustGaps(t, s); !slices.Equal(gs, tt.final) {
				t.Errorf("Gaps = %+v, want %+v", gs, tt.final)
			}
		})
	}
}

func TestParseEnvelope(t *testing.T) {
	good := `{"id":"0193a8f2-0000-7000-8000-000000000001","kiosk":"padang-01","office":"padang","type":"fault.raised",` +
		`"at":"2026-11-23T10:15:00.123+07:00","boot":"b","epoch":"e1","seq":1234,"data":{"code":"printer.paper_out"}}`
	e, err := ParseEnvelope([]byte(good))
	if err != nil {
		t.Fatalf("ParseEnvelope(good) = %v", err)
	}
	want := Envelope{ID: "0193a8f2-0000-7000-8000-000000000001", Kiosk: "padang-01", Office: "padang", Type: "fault.raised",
		At: ingestT0.Truncate(time.Millisecond), Boot: "b", Epoch: "e1", Seq: 1234, Data: json.RawMessage(`{"code":"printer.paper_out"}`)}
	if !envelopeEqual(e, want) {
		t.Errorf("ParseEnvelope(good) = %+v, want %+v", e, want)
	}

	set := func(field, value string) string { // good with one field replaced (value "" drops it)
		var m map[string]json.RawMessage
		json.Unmarshal([]byte(good), &m)
		if value == "" {
			delete(m, field)
		} else {
			m[field] = json.RawMessage(value)
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	for _, tt := range []struct {
		name, in, wantErr string
	}{
		{"no id", set("id", ""), "id is required"},
		{"no kiosk", set("kiosk", ""), "kiosk is required"},
		{"no office", set("office", ""), "office is required"},
		{"no type", set("type", ""), "type is required"},
		{"no epoch", set("epoch", ""), "epoch is required"},
		{"null id", set("id", "null"), "id is required"},
		{"bad kiosk", set("kiosk", `"Padang 01"`), `kiosk "Padang 01" is invalid`},
		{"bad office", set("office", `"x"`), `office "x" is invalid`},
		{"unknown field", set("extra", "1"), `unknown field "extra"`},
		{"no seq", set("seq", ""), "seq is 0, must be 1 or more"},
		{"seq 0", set("seq", "0"), "seq is 0, must be 1 or more"},
		{"seq negative", set("seq", "-3"), "seq is -3"},
		{"seq fraction", set("seq", "1.5"), "cannot unmarshal"},
		{"seq string", set("seq", `"1"`), "cannot unmarshal"},
		{"bad at", set("at", `"yesterday"`), "cannot parse"},
		{"long type", set("type", `"`+strings.Repeat("x", 200)+`"`), "type is 200 bytes long"},
		{"not JSON", "hello", "invalid character"},
		{"empty", "", "EOF"},
		{"array", "[1]", "cannot unmarshal array"},
		{"trailing", good + "{}", "trailing data"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEnvelope([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseEnvelope(%s) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
		})
	}
}

func envelopeEqual(a, b Envelope) bool {
	return a.ID == b.ID && a.Kiosk == b.Kiosk && a.Office == b.Office && a.Type == b.Type && a.At.Equal(b.At) &&
		a.Boot == b.Boot && a.Epoch == b.Epoch && a.Seq == b.Seq && string(a.Data) == string(b.Data)
}

// TestIngestBad: bad envelopes built by a caller are refused and change
// nothing, also when one bad event is in a batch.
func TestIngestBad(t *testing.T) {
	s, _ := openTestStore(t)
	mustIngest(t, s, ingestEvent("a", 1))
	for _, tt := range []struct {
		name  string
		spoil func(*Envelope)
	}{
		{"no id", func(e *Envelope) { e.ID = "" }},
		{"no kiosk", func(e *Envelope) { e.Kiosk = "" }},
		{"bad kiosk", func(e *Envelope) { e.Kiosk = "PADANG" }},
		{"no type", func(e *Envelope) { e.Type = "" }},
		{"no epoch", func(e *Envelope) { e.Epoch = "" }},
		{"seq 0", func(e *Envelope) { e.Seq = 0 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bad := ingestEvent("a", 5)
			tt.spoil(&bad)
			if _, err := s.Ingest(t.Context(), bad); err == nil {
				t.Error("Ingest(bad) succeeded")
			}
			if _, err := s.IngestBatch(t.Context(), []Envelope{ingestEvent("a", 2), bad}); err == nil {
				t.Error("IngestBatch(good, bad) succeeded")
			}
			if n := mustCount(t, s); n != 1 {
				t.Errorf("Count = %d, want 1", n)
			}
			if gs := mustGaps(t, s); len(gs) != 0 {
				t.Errorf("Gaps = %+v, want none", gs)
			}
		})
	}
	if r := mustIngest(t, s, ingestEvent("a", 2)); r.Gap != nil || r.Duplicate {
		t.Errorf("seq 2 after refused batches = %+v, want new without gap", r)
	}
}

func TestIngestBatch(t *testing.T) {
	s, _ := openTestStore(t)
	mustIngest(t, s, ingestEvent("a", 1))
	rs, err := s.IngestBatch(t.Context(), []Envelope{ingestEvent("a", 2), ingestEvent("a", 1), ingestEvent("a", 4), ingestEvent("a", 2), ingestEvent("a", 3)})
	if err != nil {
		t.Fatal(err)
	}
	want := []IngestResult{{}, {Duplicate: true}, {Gap: &Gap{Kiosk: "padang-01", Epoch: "a", From: 3, To: 3}}, {Duplicate: true}, {}}
	if len(rs) != len(want) {
		t.Fatalf("IngestBatch returned %d results, want %d", len(rs), len(want))
	}
	for i := range want {
		if rs[i].Duplicate != want[i].Duplicate || (rs[i].Gap == nil) != (want[i].Gap == nil) || rs[i].Gap != nil && *rs[i].Gap != *want[i].Gap {
			t.Errorf("result %d = %+v, want %+v", i, rs[i], want[i])
		}
	}
	if n := mustCount(t, s); n != 4 {
		t.Errorf("Count = %d, want 4", n)
	}
	if gs := mustGaps(t, s); len(gs) != 0 {
		t.Errorf("Gaps = %+v, want none (3 arrived in the batch)", gs)
	}
	if rs, err := s.IngestBatch(t.Context(), nil); err != nil || len(rs) != 0 {
		t.Errorf("IngestBatch(nil) = %v, %v", rs, err)
	}
}

func TestEvents(t *testing.T) {
	s, _ := openTestStore(t)
	other := ingestEvent("x", 1)
	other.ID, other.Kiosk, other.At = "other", "solok-02", ingestT0.Add(time.Hour)
	noData := ingestEvent("a", 1)
	noData.Data = nil
	for _, e := range []Envelope{ingestEvent("a", 2), noData, other, ingestEvent("a", 3)} {
		mustIngest(t, s, e)
	}
	got, err := s.Events(t.Context(), "padang-01", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Envelope{ingestEvent("a", 3), ingestEvent("a", 2), noData}
	if len(got) != len(want) {
		t.Fatalf("Events = %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if !envelopeEqual(got[i], want[i]) {
			t.Errorf("Events[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if got, _ := s.Events(t.Context(), "padang-01", 2); len(got) != 2 || got[0].Seq != 3 {
		t.Errorf("Events(limit 2) = %+v, want seq 3, 2", got)
	}
	if got, _ := s.Events(t.Context(), "", 1); len(got) != 1 || got[0].ID != "other" {
		t.Errorf("Events(all, 1) = %+v, want the newest, of solok-02", got)
	}
	if got, _ := s.Events(t.Context(), "nobody", 10); len(got) != 0 {
		t.Errorf("Events(nobody) = %+v, want none", got)
	}
}

func TestIngestConcurrent(t *testing.T) {
	s, _ := openTestStore(t)
	const workers, per = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				// Each worker sends every event of epoch w, and every other
				// worker's event 1 as a duplicate race.
				e := ingestEvent(fmt.Sprint("w", w), int64(i+1))
				if _, err := s.Ingest(context.Background(), e); err != nil {
					errs <- err
					return
				}
				if _, err := s.Ingest(context.Background(), ingestEvent(fmt.Sprint("w", (w+1)%workers), 1)); err != nil {
					errs <- err
					return
				}
				if _, err := s.Events(context.Background(), "padang-01", 5); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := mustCount(t, s); n != workers*per {
		t.Errorf("Count = %d, want %d", n, workers*per)
	}
	if gs := mustGaps(t, s); len(gs) != 0 {
		t.Errorf("Gaps = %+v, want none", gs)
	}
}

func TestOpenStoreRefuses(t *testing.T) {
	s, file := openTestStore(t)
	if _, err := s.w.ExecContext(t.Context(), "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := OpenStore(t.Context(), file); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("OpenStore(newer) = %v, want ErrNewerSchema", err)
	}
	s2, file2 := openTestStore(t)
	s2.w.ExecContext(t.Context(), "PRAGMA application_id = 42")
	s2.Close()
	if _, err := OpenStore(t.Context(), file2); !errors.Is(err, ErrForeignStore) {
		t.Errorf("OpenStore(foreign) = %v, want ErrForeignStore", err)
	}
}

func compactJSON(t *testing.T, b json.RawMessage) json.RawMessage {
	if b == nil {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("accepted data is not JSON: %v", err)
	}
	return buf.Bytes()
}

func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte(`{"id":"0193a8f2-0000-7000-8000-000000000001","kiosk":"padang-01","office":"padang","type":"lifecycle.boot","at":"2026-11-23T10:15:00.123+07:00","boot":"b","epoch":"e","seq":1,"data":{"version":"0.3.0"}}`))
	f.Add([]byte(`{"id":"x","kiosk":"padang-01","office":"padang","type":"t","epoch":"e","seq":0}`))
	f.Add([]byte(`{"id":"x","kiosk":"padang-01","office":"padang","type":"t","epoch":"e","seq":9223372036854775807,"data":null}`))
	f.Add([]byte(`{"ID":"x","Kiosk":"padang-01","office":"padang","type":"t","epoch":"e","seq":1,"seq":2}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEnvelope(b)
		if err != nil {
			if !envelopeEqual(e, Envelope{}) {
				t.Errorf("ParseEnvelope error %v with a non-zero envelope %+v", err, e)
			}
			return
		}
		if err := checkEnvelope(&e); err != nil {
			t.Fatalf("ParseEnvelope accepted an envelope check refuses: %v", err)
		}
		// What the hub accepts it can write back and read again the same.
		out, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", e, err)
		}
		e2, err := ParseEnvelope(out)
		if err != nil {
			t.Fatalf("ParseEnvelope(Marshal(e)) = %v; json %s", err, out)
		}
		// Marshal compacts Data; compare it compacted.
		e.Data, e2.Data = compactJSON(t, e.Data), compactJSON(t, e2.Data)
		if !envelopeEqual(e, e2) {
			t.Errorf("round trip changed the envelope: %+v -> %+v", e, e2)
		}
	})
}

// BenchmarkIngestBatch measures the projection's throughput in batches of
// 100 new events (the fleet consumer's fetch size).
func BenchmarkIngestBatch(b *testing.B) {
	s, _ := openTestStore(b)
	const batch = 100
	es := make([]Envelope, batch)
	var seq int64
	n := 0
	for b.Loop() {
		for i := range es {
			seq++
			es[i] = ingestEvent("bench", seq)
		}
		if _, err := s.IngestBatch(b.Context(), es); err != nil {
			b.Fatal(err)
		}
		n += batch
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
