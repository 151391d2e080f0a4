package printer

// Query names the reply the host waits for. The Demux takes a reply byte
// as an answer only while its query is pending, because GS r replies and
// ASB data bytes share one bit pattern (domain/printers.md 6).
type Query uint8

// Queries for Demux.Expect.
const (
	QueryNone     Query = iota
	QueryStatus         // DLE EOT n: one byte 0xx1xx10 (domain/printers.md 3)
	QueryTransmit       // GS r n: one byte 0xx0xxxx (domain/printers.md 4)
	QueryInfo           // GS I n, n = 65..69: 0x5F, up to 80 ASCII bytes, NUL
)

// Answer is the reply to the pending query.
type Answer struct {
	Query Query
	Byte  byte   // QueryStatus and QueryTransmit
	Text  string // QueryInfo
}

// ASB is one Automatic Status Back block (GS a, domain/printers.md 5):
// printer, error, paper and a reserved byte.
type ASB [4]byte

// DemuxStats counts the bytes fed to a Demux by what they turned out to
// be. The fields add up to the number of bytes fed.
type DemuxStats struct {
	Status   int // DLE EOT reply bytes, answers and unsolicited ones
	Transmit int // GS r replies
	Info     int // GS I text replies, header and NUL included
	ASB      int // bytes of complete ASB blocks
	Flow     int // XON and XOFF
	Garbage  int // bytes that fit nothing, and broken ASB blocks or texts
	Partial  int // bytes of an ASB block or a text still in progress
}

// maxInfo bounds a GS I text reply ([APG] printer information B: up to
// 80 bytes); a longer one is taken for garbage.
const maxInfo = 80

// lateInfoQueries is for how many later queries a GS I text that arrives
// after its own query gave up is still recognised (and kept out of the
// status replies: its ASCII bytes would otherwise look like DLE EOT
// replies and ASB blocks).
const lateInfoQueries = 8

// Demux sorts the bytes a printer sends into replies, ASB blocks, flow
// control and garbage, following domain/printers.md 6:
//
//   - XON (11) and XOFF (13) are flow control wherever they appear, even
//     inside an ASB block.
//   - A byte 0xx1xx00 starts an ASB block; the next three bytes
//     (0xx0xxxx, XON/XOFF skipped) complete it. A byte that cannot be
//     ASB data breaks the block, which becomes garbage, and is sorted
//     afresh, so a status reply is never lost inside a false block.
//   - A byte 0xx1xx10 is a DLE EOT reply: the answer when QueryStatus is
//     pending, otherwise unsolicited (bit-image data containing 10 04 n
//     triggers replies too, domain/printers.md 3) and only counted.
//   - A byte 0xx0xxxx outside an ASB block is a GS r reply only while
//     QueryTransmit is pending; otherwise garbage.
//   - 0x5F starts a GS I text while QueryInfo is pending (or was, recently);
//     printable ASCII follows up to a NUL. A control byte or an overlong
//     text ends it as garbage and is sorted afresh.
//   - Everything else is garbage and ignored.
//
// Feed never fails and never panics; the answer is taken with Answer. The
// zero value is ready to use. A Demux is not safe for concurrent use.
type Demux struct {
	pending Query
	answer  Answer
	has     bool // answer holds the reply to the last Expect

	asb     ASB
	asbN    int // bytes of the block in progress; 0 outside a block
	lastASB ASB
	asbSeen int

	inText   bool
	text     []byte
	infoLate int // later queries for which a late GS I text is still expected

	xoff  bool
	stats DemuxStats
}

// Expect makes q the pending query and drops an answer not yet taken.
// Call it before sending the query, so a quick reply is not missed.
func (m *Demux) Expect(q Query) {
	m.pending, m.has, m.answer = q, false, Answer{}
	switch {
	case q == QueryInfo:
		m.infoLate = lateInfoQueries
	case m.infoLate > 0:
		m.infoLate--
	}
}

// Answer returns and clears the answer to the pending query, if it came.
func (m *Demux) Answer() (Answer, bool) {
	a, ok := m.answer, m.has
	m.answer, m.has = Answer{}, false
	return a, ok
}

// LastASB returns the last complete ASB block and how many came so far.
func (m *Demux) LastASB() (ASB, int) { return m.lastASB, m.asbSeen }

// XOFF reports whether the printer last sent XOFF (its buffer is nearly
// full) rather than XON.
func (m *Demux) XOFF() bool { return m.xoff }

// Stats returns the byte counts so far.
func (m *Demux) Stats() DemuxStats {
	s := m.stats
	s.Partial = m.asbN
	if m.inText {
		s.Partial += 1 + len(m.text)
	}
	return s
}

// Feed sorts the bytes in p, which may be any part of the stream.
func (m *Demux) Feed(p []byte) {
	for _, b := range p {
		m.feed(b)
	}
}

func (m *Demux) feed(b byte) {
	switch b {
	case 0x11: // XON
		m.xoff = false
		m.stats.Flow++
		return
	case 0x13: // XOFF
		m.xoff = true
		m.stats.Flow++
		return
	}
	if m.asbN > 0 {
		if b&0x90 == 0 { // 0xx0xxxx: ASB data
			m.asb[m.asbN] = b
			m.asbN++
			if m.asbN == len(m.asb) {
				m.lastASB, m.asbN = m.asb, 0
				m.asbSeen++
				m.stats.ASB += len(m.asb)
			}
			return
		}
		m.stats.Garbage += m.asbN // a broken block; sort b afresh
		m.asbN = 0
	}
	if m.inText {
		switch {
		case b == 0:
			m.stats.Info += len(m.text) + 2
			if m.pending == QueryInfo {
				m.answerWith(Answer{Query: QueryInfo, Text: string(m.text)})
			}
			m.inText, m.text, m.infoLate = false, m.text[:0], 0
			return
		case b >= 0x20 && b <= 0x7E && len(m.text) < maxInfo:
			m.text = append(m.text, b)
			return
		}
		m.stats.Garbage += len(m.text) + 1 // not a text after all; sort b afresh
		m.inText, m.text = false, m.text[:0]
	}
	switch {
	case b&0x93 == 0x12: // 0xx1xx10: DLE EOT reply
		m.stats.Status++
		if m.pending == QueryStatus {
			m.answerWith(Answer{Query: QueryStatus, Byte: b})
		}
	case b&0x93 == 0x10: // 0xx1xx00: first ASB byte
		m.asb[0], m.asbN = b, 1
	case b == 0x5F && (m.pending == QueryInfo || m.infoLate > 0):
		m.inText = true
	case b&0x90 == 0 && m.pending == QueryTransmit:
		m.stats.Transmit++
		m.answerWith(Answer{Query: QueryTransmit, Byte: b})
	default:
		m.stats.Garbage++
	}
}

func (m *Demux) answerWith(a Answer) {
	m.answer, m.has, m.pending = a, true, QueryNone
}
