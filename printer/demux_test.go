package printer

import (
	"bytes"
	"testing"
)

// TestDemux feeds streams as a printer could send them and checks what
// the Demux makes of them (domain/printers.md 6).
func TestDemux(t *testing.T) {
	type want struct {
		answer  *Answer // nil: none
		asb     ASB
		asbSeen int
		xoff    bool
		stats   DemuxStats
	}
	st := func(b byte) *Answer { return &Answer{Query: QueryStatus, Byte: b} }
	for _, tt := range []struct {
		name string
		q    Query
		in   []byte
		want want
	}{
		{"reply", QueryStatus, []byte{0x12},
			want{answer: st(0x12), stats: DemuxStats{Status: 1}}},
		{"reply 16 (drawer HIGH) is a reply", QueryStatus, []byte{0x16},
			want{answer: st(0x16), stats: DemuxStats{Status: 1}}},
		{"unsolicited reply is counted, not an answer", QueryNone, []byte{0x12},
			want{stats: DemuxStats{Status: 1}}},
		{"first reply answers, later ones are unsolicited", QueryStatus, []byte{0x1A, 0x12},
			want{answer: st(0x1A), stats: DemuxStats{Status: 2}}},
		{"garbage before and after", QueryStatus, []byte{0xFF, 0x80, 0x01, 0x1A, 0xFE},
			want{answer: st(0x1A), stats: DemuxStats{Status: 1, Garbage: 4}}},
		{"ASB before the reply", QueryStatus, []byte{0x18, 0x00, 0x0C, 0x00, 0x1A},
			want{answer: st(0x1A), asb: ASB{0x18, 0, 0x0C, 0}, asbSeen: 1, stats: DemuxStats{Status: 1, ASB: 4}}},
		{"XOFF inside ASB is skipped", QueryStatus, []byte{0x18, 0x00, 0x13, 0x0C, 0x00, 0x12},
			want{answer: st(0x12), asb: ASB{0x18, 0, 0x0C, 0}, asbSeen: 1, xoff: true, stats: DemuxStats{Status: 1, ASB: 4, Flow: 1}}},
		{"XOFF then XON", QueryNone, []byte{0x13, 0x11},
			want{stats: DemuxStats{Flow: 2}}},
		{"reply breaks a false ASB block", QueryStatus, []byte{0x10, 0x00, 0x1E},
			want{answer: st(0x1E), stats: DemuxStats{Status: 1, Garbage: 2}}},
		{"two ASB blocks: the last counts", QueryNone, []byte{0x10, 0, 0, 0, 0x18, 0, 0x0C, 0},
			want{asb: ASB{0x18, 0, 0x0C, 0}, asbSeen: 2, stats: DemuxStats{ASB: 8}}},
		{"ASB in progress", QueryNone, []byte{0x10, 0},
			want{stats: DemuxStats{Partial: 2}}},
		{"GS r reply while pending", QueryTransmit, []byte{0x0C},
			want{answer: &Answer{Query: QueryTransmit, Byte: 0x0C}, stats: DemuxStats{Transmit: 1}}},
		{"GS r pattern while not pending is garbage", QueryStatus, []byte{0x0C, 0x12},
			want{answer: st(0x12), stats: DemuxStats{Status: 1, Garbage: 1}}},
		{"GS r pending: ASB data stays ASB", QueryTransmit, []byte{0x10, 0x00, 0x0C, 0x00, 0x03},
			want{answer: &Answer{Query: QueryTransmit, Byte: 0x03}, asb: ASB{0x10, 0, 0x0C, 0}, asbSeen: 1, stats: DemuxStats{ASB: 4, Transmit: 1}}},
		{"GS I text", QueryInfo, []byte("_TM-T20II\x00"),
			want{answer: &Answer{Query: QueryInfo, Text: "TM-T20II"}, stats: DemuxStats{Info: 10}}},
		{"GS I header while not asked is garbage", QueryStatus, []byte("_2"),
			want{answer: st('2'), stats: DemuxStats{Status: 1, Garbage: 1}}},
		{"a control byte ends a false text and is sorted afresh", QueryInfo, []byte{'_', 'A', 0x12},
			want{stats: DemuxStats{Status: 1, Garbage: 2}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var m Demux
			m.Expect(tt.q)
			m.Feed(tt.in)
			a, ok := m.Answer()
			switch {
			case tt.want.answer == nil && ok:
				t.Errorf("Answer() = %+v, want none", a)
			case tt.want.answer != nil && (!ok || a != *tt.want.answer):
				t.Errorf("Answer() = %+v, %v; want %+v", a, ok, *tt.want.answer)
			}
			if asb, n := m.LastASB(); asb != tt.want.asb || n != tt.want.asbSeen {
				t.Errorf("LastASB() = % x, %d; want % x, %d", asb, n, tt.want.asb, tt.want.asbSeen)
			}
			if m.XOFF() != tt.want.xoff {
				t.Errorf("XOFF() = %v, want %v", m.XOFF(), tt.want.xoff)
			}
			if s := m.Stats(); s != tt.want.stats {
				t.Errorf("Stats() = %+v, want %+v", s, tt.want.stats)
			}
		})
	}
}

func TestDemuxAnswerIsTakenOnce(t *testing.T) {
	var m Demux
	m.Expect(QueryStatus)
	m.Feed([]byte{0x12})
	if _, ok := m.Answer(); !ok {
		t.Fatal("Answer() = none, want 12")
	}
	if a, ok := m.Answer(); ok {
		t.Errorf("second Answer() = %+v, want none", a)
	}
}

func TestDemuxExpectDropsStaleAnswer(t *testing.T) {
	var m Demux
	m.Expect(QueryStatus)
	m.Feed([]byte{0x1A})
	m.Expect(QueryStatus)
	if a, ok := m.Answer(); ok {
		t.Errorf("Answer() after a new Expect = %+v, want none", a)
	}
}

// TestDemuxLateText: a GS I text that comes after its query gave up must
// not be read as status replies ('T' looks like an ASB start, '2' like a
// paper-end DLE EOT reply).
func TestDemuxLateText(t *testing.T) {
	var m Demux
	m.Expect(QueryInfo) // timed out
	m.Expect(QueryStatus)
	m.Feed([]byte("_TM-T20II\x00"))
	m.Feed([]byte{0x12})
	a, ok := m.Answer()
	if !ok || a.Byte != 0x12 {
		t.Errorf("Answer() = %+v, %v; want the 12 after the late text", a, ok)
	}
	if s := m.Stats(); s.Info != 10 || s.Status != 1 {
		t.Errorf("Stats() = %+v, want Info 10, Status 1", s)
	}
}

// FuzzDemux: no panic on any stream; every byte is accounted for;
// feeding in pieces changes nothing; and a valid reply after arbitrary
// garbage is still recognised while pending.
func FuzzDemux(f *testing.F) {
	for _, s := range [][]byte{
		{},
		{0x12},
		{0x18, 0x00, 0x13, 0x0C, 0x00, 0x1A},
		{0xFF, 0x10, 0x00, 0x5F, 0x41, 0x00},
		[]byte("_TM-T20II\x00"),
		{0x10, 0x00, 0x00},
		{0x5F, 0x54, 0x4D},
	} {
		f.Add(s, byte(QueryStatus), byte(0x7E), uint8(3))
	}
	f.Fuzz(func(t *testing.T, garbage []byte, q, reply byte, cut uint8) {
		query := Query(q % 4)
		r := 0x12 | reply&0x6C // any valid DLE EOT reply

		// Whole and in pieces: the same state.
		var whole, pieces Demux
		whole.Expect(query)
		pieces.Expect(query)
		whole.Feed(garbage)
		step := int(cut%7) + 1
		for i := 0; i < len(garbage); i += step {
			pieces.Feed(garbage[i:min(i+step, len(garbage))])
		}
		if whole.Stats() != pieces.Stats() || whole.XOFF() != pieces.XOFF() {
			t.Fatalf("Feed whole vs in %d-byte pieces: %+v vs %+v", step, whole.Stats(), pieces.Stats())
		}
		a1, ok1 := whole.Answer()
		a2, ok2 := pieces.Answer()
		if a1 != a2 || ok1 != ok2 {
			t.Fatalf("Answer whole vs pieces: %+v %v vs %+v %v", a1, ok1, a2, ok2)
		}
		asb1, n1 := whole.LastASB()
		asb2, n2 := pieces.LastASB()
		if asb1 != asb2 || n1 != n2 {
			t.Fatalf("LastASB whole vs pieces: % x %d vs % x %d", asb1, n1, asb2, n2)
		}

		// Every byte is accounted for.
		s := whole.Stats()
		if sum := s.Status + s.Transmit + s.Info + s.ASB + s.Flow + s.Garbage + s.Partial; sum != len(garbage) {
			t.Fatalf("Stats %+v add up to %d, want %d", s, sum, len(garbage))
		}
		// Answers have the right shape.
		if ok1 {
			switch {
			case a1.Query != query:
				t.Fatalf("answer %+v to query %d", a1, query)
			case a1.Query == QueryStatus && !validStatusByte(a1.Byte):
				t.Fatalf("status answer %#02x fails the fixed bits", a1.Byte)
			case a1.Query == QueryTransmit && a1.Byte&0x90 != 0:
				t.Fatalf("GS r answer %#02x is not 0xx0xxxx", a1.Byte)
			}
		}
		if asb1[0]&0x93 != 0x10 && n1 > 0 || asb1[1]&0x90 != 0 || asb1[2]&0x90 != 0 || asb1[3]&0x90 != 0 {
			t.Fatalf("ASB % x fails the patterns", asb1)
		}

		// Garbage, then a query, then a valid reply: recognised.
		var m Demux
		m.Expect(query)
		m.Feed(garbage)
		m.Expect(QueryStatus)
		m.Feed([]byte{r})
		if query != QueryInfo || r < 0x20 { // a late GS I text may swallow a printable reply
			if a, ok := m.Answer(); !ok || a.Byte != r {
				t.Fatalf("after % x, reply %#02x not recognised: %+v %v", garbage, r, a, ok)
			}
		}

		// Pending from the start, garbage, then the reply: some valid
		// answer (maybe a reply-shaped byte inside the garbage).
		var p Demux
		p.Expect(QueryStatus)
		p.Feed(garbage)
		p.Feed([]byte{r})
		if a, ok := p.Answer(); !ok || !validStatusByte(a.Byte) {
			t.Fatalf("pending, % x then %#02x: answer %+v %v; want a valid reply", garbage, r, a, ok)
		}
	})
}

func BenchmarkDemux(b *testing.B) {
	// A status exchange with ASB, XOFF and garbage around it.
	stream := bytes.Repeat([]byte{0x18, 0x00, 0x13, 0x0C, 0x00, 0x11, 0xFF, 0x1A, 0x32, 0x12, 0x7E}, 100)
	var m Demux
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		m.Expect(QueryStatus)
		m.Feed(stream)
		m.Answer()
	}
}
