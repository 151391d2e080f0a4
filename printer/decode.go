package printer

import (
	"fmt"
	"strings"
)

// Error causes in Status.Error.
const (
	errCutter        = "cutter"
	errUnrecoverable = "unrecoverable"
	errRecoverable   = "recoverable"
	errMechanical    = "mechanical"
	errUnspecified   = "unspecified"
)

// validStatusByte reports the fixed bits of every DLE EOT reply: bit 0 = 0,
// bit 1 = 1, bit 4 = 1, bit 7 = 0, the pattern 0xx1xx10
// (domain/printers.md 3; python-escpos _check_valid_response).
func validStatusByte(b byte) bool { return b&0x93 == 0x12 }

// decodeStatus turns the replies to DLE EOT 1, 2, 3 and 4 into a Status
// (domain/printers.md 3). sensor says the printer is known to have a
// paper near-end sensor: only then is clear near-end bits "ok" rather
// than "unknown". A reply that fails the fixed bits is an error: it is
// garbage, not a status.
//
//   - n=1 bit 3: offline. Bits 2 (drawer), 5 and 6 (model-dependent) are
//     not reported.
//   - n=2 bit 2: cover open; bit 5: printing stopped by paper end, which
//     is also set at near end when "stop at near end" is selected (ESC c
//     4): either way the printer will not print, so Paper is out; bit 6:
//     an error occurred, its cause in n=3 ("unspecified" if n=3 names
//     none).
//   - n=3 bit 5 unrecoverable, bit 3 autocutter, bit 2 "mechanical"
//     (model-dependent: mechanical on TM-U220A, recoverable on TM-L90,
//     black mark on Citizen, undefined on TM-T88III; reported under one
//     name so it is seen at all), bit 6 auto-recoverable ("recoverable",
//     e.g. head overheat). The most severe one wins, in that order.
//   - n=4 bits 2-3 (0x0C): near end; bit 5 (0x20): paper end. Bit 6 is
//     not used because Citizen PPU-231II puts a presenter sensor there.
func decodeStatus(r [4]byte, sensor bool) (Status, error) {
	for i, b := range r {
		if !validStatusByte(b) {
			return Status{}, fmt.Errorf("DLE EOT %d reply %#02x lacks the fixed bits 0xx1xx10", i+1, b)
		}
	}
	st := Status{
		Connected: true,
		Online:    r[0]&0x08 == 0,
		CoverOpen: r[1]&0x04 != 0,
		Paper:     paperState(r[3]&0x20 != 0 || r[1]&0x20 != 0, r[3]&0x0C != 0, sensor),
		Error: errorCause(r[2]&0x20 != 0, r[2]&0x08 != 0, r[2]&0x04 != 0, r[2]&0x40 != 0,
			r[1]&0x40 != 0),
	}
	return st, nil
}

// paperState: out wins over near end; without a known sensor, "not near
// end" is unknown (status.go: a normal answer for such printers).
func paperState(out, nearEnd, sensor bool) Paper {
	switch {
	case out:
		return PaperOut
	case nearEnd:
		return PaperNearEnd
	case sensor:
		return PaperOK
	default:
		return PaperUnknown
	}
}

func errorCause(unrecoverable, cutter, mechanical, recoverable, other bool) string {
	switch {
	case unrecoverable:
		return errUnrecoverable
	case cutter:
		return errCutter
	case mechanical:
		return errMechanical
	case recoverable:
		return errRecoverable
	case other:
		return errUnspecified
	}
	return ""
}

// decodeASB turns an Automatic Status Back block into a Status
// (domain/printers.md 5). Byte 1: bit 3 offline, bit 5 cover open.
// Byte 2: bit 5 unrecoverable, bit 3 autocutter, bit 2 mechanical or
// recoverable (model-dependent, as DLE EOT 3 bit 2), bit 6
// auto-recoverable. Byte 3: bits 2-3 (0x0C) paper end, bits 0-1 (0x03)
// near end; unlike DLE EOT 4 the paper byte uses the low bits.
func decodeASB(a ASB, sensor bool) Status {
	return Status{
		Connected: true,
		Online:    a[0]&0x08 == 0,
		CoverOpen: a[0]&0x20 != 0,
		Paper:     paperState(a[2]&0x0C != 0, a[2]&0x03 != 0, sensor),
		Error:     errorCause(a[1]&0x20 != 0, a[1]&0x08 != 0, a[1]&0x04 != 0, a[1]&0x40 != 0, false),
	}
}

// USB printer class GET_PORT_STATUS bits (domain/printers.md 7; Linux
// usblp.c LP_POUTPA, LP_PSELECD, LP_PERRORP).
const (
	portPaperEmpty = 0x20
	portSelected   = 0x10
	portNoError    = 0x08 // active low: 1 = no error
)

// decodePortStatus turns a GET_PORT_STATUS byte into a Status. The byte
// has no near-end bit, so paper that is not empty is unknown, and no
// cover bit. Paper empty usually pulls the error line too (parallel-port
// heritage), so an error is reported only without paper empty. Cheap
// printers may answer a fixed 0x18 whatever their state.
func decodePortStatus(b byte) Status {
	empty := b&portPaperEmpty != 0
	noError := b&portNoError != 0
	st := Status{
		Connected: true,
		Online:    b&portSelected != 0 && noError && !empty,
		Paper:     PaperUnknown,
	}
	if empty {
		st.Paper = PaperOut
	}
	if !noError && !empty {
		st.Error = errUnspecified
	}
	return st
}

// modelFrom1284 makes "MFG MDL" from an IEEE 1284 device ID such as
// "MFG:EPSON;CMD:ESC/POS;MDL:TM-T20II;CLS:PRINTER;" (keys also spelled
// MANUFACTURER and MODEL, any case). "" when it names neither.
func modelFrom1284(id string) string {
	var mfg, mdl string
	for field := range strings.SplitSeq(id, ";") {
		k, v, ok := strings.Cut(field, ":")
		if !ok {
			continue
		}
		switch strings.ToUpper(strings.TrimSpace(k)) {
		case "MFG", "MANUFACTURER":
			mfg = strings.TrimSpace(v)
		case "MDL", "MODEL":
			mdl = strings.TrimSpace(v)
		}
	}
	return joinModel(mfg, mdl)
}

// joinModel is "mfg mdl", or just mdl when it already starts with mfg
// ("EPSON" + "EPSON TM-T20" is not doubled).
func joinModel(mfg, mdl string) string {
	switch {
	case mfg == "":
		return mdl
	case mdl == "":
		return mfg
	case strings.HasPrefix(strings.ToUpper(mdl), strings.ToUpper(mfg)):
		return mdl
	}
	return mfg + " " + mdl
}
