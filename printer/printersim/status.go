package printersim

// Status bytes (domain/printers.md 3-5). All are built from Sim.state
// under Sim.mu.

// nearEndLocked reports what the near-end sensor sees: near end, or no
// paper at all. The pos58 model has no near-end sensor.
func (s *Sim) nearEndLocked() bool {
	p := s.state.Paper
	return s.cfg.Model == ModelEpson && (p == PaperNearEnd || p == PaperOut)
}

// errorBits are the error bits shared by DLE EOT 3 and ASB byte 2.
func errorBits(e string) byte {
	switch e {
	case ErrorCutter:
		return 0x08
	case ErrorUnrecoverable:
		return 0x20
	case ErrorRecoverable:
		return 0x40
	}
	return 0
}

// statusLocked is the reply to DLE EOT n, n=1..4 (pattern 0xx1xx10).
func (s *Sim) statusLocked(n byte) byte {
	st := s.state
	b := byte(0x12)
	switch n {
	case 1: // printer status
		if st.offline() {
			b |= 0x08
		}
	case 2: // offline cause
		if st.CoverOpen {
			b |= 0x04
		}
		if st.Paper == PaperOut {
			b |= 0x20
		}
		if st.Error != ErrorNone {
			b |= 0x40
		}
	case 3: // error cause
		b |= errorBits(st.Error)
	case 4: // roll paper sensor
		if s.nearEndLocked() {
			b |= 0x0C
		}
		if st.Paper == PaperOut {
			b |= 0x60
		}
	}
	return b
}

// paperSensorLocked is the reply to GS r 1 (pattern 0xx0xxxx): bits 0,1
// near end, bits 2,3 paper end. GS r is not executed while offline, so the
// paper-end bits are never seen by a host.
func (s *Sim) paperSensorLocked() byte {
	var b byte
	if s.nearEndLocked() {
		b |= 0x03
	}
	if s.state.Paper == PaperOut {
		b |= 0x0C
	}
	return b
}

// asbBlockLocked is the 4-byte Automatic Status Back block.
func (s *Sim) asbBlockLocked() [4]byte {
	st := s.state
	b := [4]byte{0x10, errorBits(st.Error), 0, 0}
	if st.offline() {
		b[0] |= 0x08
	}
	if st.CoverOpen {
		b[0] |= 0x20
	}
	if s.nearEndLocked() {
		b[2] |= 0x03
	}
	if st.Paper == PaperOut {
		b[2] |= 0x0C
	}
	return b
}

// asbChanged reports whether an item selected by the GS a mask differs
// between two blocks: bit 1 online/offline (byte 1), bit 2 error (byte 2),
// bit 3 paper (byte 3). Bit 0, the drawer, never changes here.
func asbChanged(mask byte, a, b [4]byte) bool {
	return mask&0x02 != 0 && a[0] != b[0] ||
		mask&0x04 != 0 && a[1] != b[1] ||
		mask&0x08 != 0 && a[2] != b[2]
}
