package printer

// A DLE EOT query must be sent alone, never inside another command
// (domain/printers.md 3): inside GS ( k QR data or GS v 0 raster data its
// three bytes would become part of the symbol or the image. So Print
// splits a job only where one command ends and the next begins, which
// needs the length of every command on the way. cmdLen knows the
// commands a slip uses and the common fixed-length ones ([APG] command
// summary); after an unknown command Print writes the rest without
// checks in between.

// chunk is one Write of a job; check says the chunk ends on a command
// boundary, so a status query may follow it.
type chunk struct {
	b     []byte
	check bool
}

// splitJob cuts job into chunks of at most size bytes. Whole commands are
// packed together; a command longer than size is written in size-byte
// pieces with a boundary only after its last piece. From the first byte
// cmdLen does not know, no chunk has check set.
func splitJob(job []byte, size int) []chunk {
	size = max(size, 1)
	var out []chunk
	known := true
	for pos := 0; pos < len(job); {
		end := pos
		var big int // length of a command longer than size at pos
		for known && end < len(job) {
			n, ok := cmdLen(job[end:])
			if !ok {
				known = false
				break
			}
			if end+n-pos > size {
				if end == pos {
					big = n
				}
				break
			}
			end += n
		}
		switch {
		case end > pos:
			out = append(out, chunk{b: job[pos:end], check: true})
			pos = end
		case big > 0:
			for stop := pos + big; pos < stop; {
				n := min(size, stop-pos)
				out = append(out, chunk{b: job[pos : pos+n], check: pos+n == stop})
				pos += n
			}
		default: // unknown bytes from here on
			n := min(size, len(job)-pos)
			out = append(out, chunk{b: job[pos : pos+n]})
			pos += n
		}
	}
	return out
}

// cmdLen returns the length of the command (or single text byte) at the
// start of b, and false for a command it does not know or one cut short.
func cmdLen(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	switch c := b[0]; {
	case c >= 0x20, c == '\n', c == '\r', c == '\t', c == 0x0C:
		return 1, true // text, LF, CR, HT, FF
	case c == 0x1B:
		return escLen(b)
	case c == 0x1D:
		return gsLen(b)
	case c == 0x10:
		return dleLen(b)
	case c == 0x1C:
		return fsLen(b)
	}
	return 0, false
}

// need reports n if b holds n bytes.
func need(b []byte, n int) (int, bool) {
	if n <= 0 || len(b) < n {
		return 0, false
	}
	return n, true
}

func le16(lo, hi byte) int { return int(lo) | int(hi)<<8 }

// nulTerminated is the length up to and including the first NUL at or
// after start, looking at most limit bytes.
func nulTerminated(b []byte, start, limit int) (int, bool) {
	for i := start; i < len(b) && i < start+limit; i++ {
		if b[i] == 0 {
			return i + 1, true
		}
	}
	return 0, false
}

func escLen(b []byte) (int, bool) {
	if len(b) < 2 {
		return 0, false
	}
	switch b[1] {
	case '@', '2', '<', 'i', 'm', 'L', 'S':
		return 2, true
	case ' ', '!', '%', '-', '3', '=', '?', 'E', 'G', 'J', 'K', 'M', 'R', 'T', 'U', 'V', 'a', 'd', 'e', 'r', 't', '{':
		return need(b, 3)
	case '$', '\\', 'c':
		return need(b, 4)
	case 'p':
		return need(b, 5)
	case 'W':
		return need(b, 10)
	case 'D': // tab positions, at most 32, NUL-terminated
		return nulTerminated(b, 2, 33)
	case '*': // ESC * m nL nH d1..dk: bit image
		if len(b) < 5 {
			return 0, false
		}
		n := le16(b[3], b[4])
		switch b[2] {
		case 0, 1:
			return need(b, 5+n)
		case 32, 33:
			return need(b, 5+3*n)
		}
	}
	return 0, false
}

func gsLen(b []byte) (int, bool) {
	if len(b) < 2 {
		return 0, false
	}
	switch b[1] {
	case '!', '/', 'B', 'H', 'I', 'T', 'a', 'b', 'f', 'h', 'r', 'w':
		return need(b, 3)
	case '$', 'L', 'P', 'W', '\\':
		return need(b, 4)
	case 'V':
		if len(b) < 3 {
			return 0, false
		}
		switch b[2] {
		case 0, 1, 48, 49:
			return 3, true
		case 65, 66, 97, 98, 103, 104:
			return need(b, 4)
		}
	case '(': // GS ( x pL pH data: QR, PDF417 and the other GS ( functions
		if len(b) < 5 {
			return 0, false
		}
		return need(b, 5+le16(b[3], b[4]))
	case 'v': // GS v 0 m xL xH yL yH d: raster, x bytes by y dots
		if len(b) < 8 || b[2] != '0' {
			return 0, false
		}
		return need(b, 8+le16(b[4], b[5])*le16(b[6], b[7]))
	case '*': // GS * x y d: downloaded bit image, x*y*8 bytes
		if len(b) < 4 {
			return 0, false
		}
		return need(b, 4+int(b[2])*int(b[3])*8)
	case 'k': // barcode: m 0..6 NUL-terminated, m 65..79 with a length byte
		if len(b) < 4 {
			return 0, false
		}
		switch m := b[2]; {
		case m <= 6:
			return nulTerminated(b, 3, 256)
		case m >= 65 && m <= 79:
			return need(b, 4+int(b[3]))
		}
	}
	return 0, false
}

func dleLen(b []byte) (int, bool) {
	if len(b) < 2 {
		return 0, false
	}
	switch b[1] {
	case 0x04, 0x05: // DLE EOT n, DLE ENQ n
		return need(b, 3)
	case 0x14: // DLE DC4 fn ...
		if len(b) < 3 {
			return 0, false
		}
		switch b[2] {
		case 1, 2: // pulse, power off
			return need(b, 5)
		case 8: // clear buffers
			return need(b, 10)
		}
	}
	return 0, false
}

func fsLen(b []byte) (int, bool) {
	if len(b) < 2 {
		return 0, false
	}
	switch b[1] {
	case '.', '&':
		return 2, true
	case '!', '-', 'C', 'W':
		return need(b, 3)
	case 'p':
		return need(b, 4)
	}
	return 0, false
}
