package printer

import "testing"

// TestDecodeStatus covers every documented bit of DLE EOT 1-4
// (domain/printers.md 3), one at a time and in the documented examples.
func TestDecodeStatus(t *testing.T) {
	const ok = 0x12 // the fixed bits alone
	healthy := Status{Connected: true, Online: true, Paper: PaperOK}
	with := func(f func(*Status)) Status { s := healthy; f(&s); return s }
	for _, tt := range []struct {
		name string
		r    [4]byte
		want Status
	}{
		{"healthy", [4]byte{ok, ok, ok, ok}, healthy},
		{"n1 bit2 drawer pin 3 HIGH is online (16)", [4]byte{0x16, ok, ok, ok}, healthy},
		{"n1 bit3 offline", [4]byte{0x1A, ok, ok, ok}, with(func(s *Status) { s.Online = false })},
		{"n1 bit5 waiting for recovery is not reported", [4]byte{0x32, ok, ok, ok}, healthy},
		{"n1 bit6 feed button is not reported", [4]byte{0x52, ok, ok, ok}, healthy},
		{"n2 bit2 cover open", [4]byte{0x1A, 0x16, ok, ok}, with(func(s *Status) { s.Online, s.CoverOpen = false, true })},
		{"n2 bit3 feeding by button is not reported", [4]byte{ok, 0x1A, ok, ok}, healthy},
		{"n2 bit5 paper-end stop is out", [4]byte{0x1A, 0x32, ok, ok}, with(func(s *Status) { s.Online, s.Paper = false, PaperOut })},
		{"n2 bit5 stop at near end is out", [4]byte{0x1A, 0x32, ok, 0x1E}, with(func(s *Status) { s.Online, s.Paper = false, PaperOut })},
		{"n2 bit6 error without cause", [4]byte{0x1A, 0x52, ok, ok}, with(func(s *Status) { s.Online, s.Error = false, "unspecified" })},
		{"n3 bit2 mechanical (model-dependent)", [4]byte{0x1A, 0x52, 0x16, ok}, with(func(s *Status) { s.Online, s.Error = false, "mechanical" })},
		{"n3 bit3 autocutter", [4]byte{0x1A, 0x52, 0x1A, ok}, with(func(s *Status) { s.Online, s.Error = false, "cutter" })},
		{"n3 bit5 unrecoverable", [4]byte{0x1A, 0x52, 0x32, ok}, with(func(s *Status) { s.Online, s.Error = false, "unrecoverable" })},
		{"n3 bit6 auto-recoverable", [4]byte{0x1A, 0x52, 0x52, ok}, with(func(s *Status) { s.Online, s.Error = false, "recoverable" })},
		{"n3 all bits: unrecoverable wins", [4]byte{0x1A, 0x52, 0x7E, ok}, with(func(s *Status) { s.Online, s.Error = false, "unrecoverable" })},
		{"n3 cutter beats mechanical and recoverable", [4]byte{0x1A, 0x52, 0x5E, ok}, with(func(s *Status) { s.Online, s.Error = false, "cutter" })},
		{"n4 bit2 near end", [4]byte{ok, ok, ok, 0x16}, with(func(s *Status) { s.Paper = PaperNearEnd })},
		{"n4 bit3 near end (Citizen second sensor)", [4]byte{ok, ok, ok, 0x1A}, with(func(s *Status) { s.Paper = PaperNearEnd })},
		{"n4 bits2-3 near end (1E)", [4]byte{ok, ok, ok, 0x1E}, with(func(s *Status) { s.Paper = PaperNearEnd })},
		{"n4 bit5 paper end", [4]byte{ok, ok, ok, 0x32}, with(func(s *Status) { s.Paper = PaperOut })},
		{"n4 bit6 alone is not paper end (PPU-231II presenter)", [4]byte{ok, ok, ok, 0x52}, healthy},
		{"n4 bits5-6 paper end (72)", [4]byte{ok, ok, ok, 0x72}, with(func(s *Status) { s.Paper = PaperOut })},
		{"out of paper, the §3 example", [4]byte{0x1A, 0x32, ok, 0x7E}, with(func(s *Status) { s.Online, s.Paper = false, PaperOut })},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeStatus(tt.r, true)
			if err != nil || got != tt.want {
				t.Errorf("decodeStatus(% x, sensor) = %+v, %v; want %+v", tt.r, got, err, tt.want)
			}
		})
	}
}

// TestDecodeStatusNoSensor: without a known near-end sensor clear bits
// are unknown, but near end and out still show.
func TestDecodeStatusNoSensor(t *testing.T) {
	for _, tt := range []struct {
		n4   byte
		want Paper
	}{
		{0x12, PaperUnknown},
		{0x1E, PaperNearEnd},
		{0x7E, PaperOut},
	} {
		got, err := decodeStatus([4]byte{0x12, 0x12, 0x12, tt.n4}, false)
		if err != nil || got.Paper != tt.want {
			t.Errorf("decodeStatus(n4=%#02x, no sensor).Paper = %q, %v; want %q", tt.n4, got.Paper, err, tt.want)
		}
	}
}

func TestDecodeStatusRejectsGarbage(t *testing.T) {
	for _, b := range []byte{0x00, 0x13, 0x10, 0x02, 0x92, 0xFF, 0x5F} {
		for i := range 4 {
			r := [4]byte{0x12, 0x12, 0x12, 0x12}
			r[i] = b
			if got, err := decodeStatus(r, true); err == nil {
				t.Errorf("decodeStatus(% x) = %+v, nil; want an error for %#02x", r, got, b)
			}
		}
	}
}

func TestDecodeASB(t *testing.T) {
	healthy := Status{Connected: true, Online: true, Paper: PaperOK}
	with := func(f func(*Status)) Status { s := healthy; f(&s); return s }
	for _, tt := range []struct {
		name string
		a    ASB
		want Status
	}{
		{"healthy", ASB{0x10, 0, 0, 0}, healthy},
		{"drawer pin 3 HIGH", ASB{0x14, 0, 0, 0}, healthy},
		{"offline", ASB{0x18, 0, 0, 0}, with(func(s *Status) { s.Online = false })},
		{"cover open", ASB{0x38, 0, 0, 0}, with(func(s *Status) { s.Online, s.CoverOpen = false, true })},
		{"mechanical", ASB{0x18, 0x04, 0, 0}, with(func(s *Status) { s.Online, s.Error = false, "mechanical" })},
		{"cutter", ASB{0x18, 0x08, 0, 0}, with(func(s *Status) { s.Online, s.Error = false, "cutter" })},
		{"unrecoverable", ASB{0x18, 0x20, 0, 0}, with(func(s *Status) { s.Online, s.Error = false, "unrecoverable" })},
		{"auto-recoverable", ASB{0x18, 0x40, 0, 0}, with(func(s *Status) { s.Online, s.Error = false, "recoverable" })},
		{"near end (03)", ASB{0x10, 0, 0x03, 0}, with(func(s *Status) { s.Paper = PaperNearEnd })},
		{"paper end (0C)", ASB{0x18, 0, 0x0C, 0}, with(func(s *Status) { s.Online, s.Paper = false, PaperOut })},
		{"paper end and near end (0F)", ASB{0x18, 0, 0x0F, 0}, with(func(s *Status) { s.Online, s.Paper = false, PaperOut })},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := decodeASB(tt.a, true); got != tt.want {
				t.Errorf("decodeASB(% x) = %+v, want %+v", tt.a, got, tt.want)
			}
		})
	}
}

func TestDecodePortStatus(t *testing.T) {
	for _, tt := range []struct {
		b    byte
		want Status
	}{
		{0x18, Status{Connected: true, Online: true, Paper: PaperUnknown}},                        // selected, no error
		{0x38, Status{Connected: true, Online: false, Paper: PaperOut}},                           // paper empty
		{0x30, Status{Connected: true, Online: false, Paper: PaperOut}},                           // paper empty pulls the error line
		{0x08, Status{Connected: true, Online: false, Paper: PaperUnknown}},                       // not selected
		{0x10, Status{Connected: true, Online: false, Paper: PaperUnknown, Error: "unspecified"}}, // error
		{0x00, Status{Connected: true, Online: false, Paper: PaperUnknown, Error: "unspecified"}}, // nothing set
	} {
		if got := decodePortStatus(tt.b); got != tt.want {
			t.Errorf("decodePortStatus(%#02x) = %+v, want %+v", tt.b, got, tt.want)
		}
	}
}

func TestModelFrom1284(t *testing.T) {
	for _, tt := range []struct{ id, want string }{
		{"MFG:EPSON;CMD:ESC/POS;MDL:TM-T20II;CLS:PRINTER;", "EPSON TM-T20II"},
		{"MANUFACTURER:Citizen;COMMAND SET:ESC/POS;MODEL:CT-S2000;", "Citizen CT-S2000"},
		{"mfg: EPSON ; mdl: EPSON TM-T88V ;", "EPSON TM-T88V"},
		{"MDL:POS58;", "POS58"},
		{"MFG:Printer;", "Printer"},
		{"CLS:PRINTER;", ""},
		{"", ""},
		{"garbage without colons", ""},
	} {
		if got := modelFrom1284(tt.id); got != tt.want {
			t.Errorf("modelFrom1284(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

// FuzzDecode checks decodeStatus against the bit rules written out
// independently: invalid bytes are errors, valid ones map bit for bit.
func FuzzDecode(f *testing.F) {
	f.Add(byte(0x12), byte(0x12), byte(0x12), byte(0x12), true)
	f.Add(byte(0x1A), byte(0x32), byte(0x12), byte(0x7E), false)
	f.Add(byte(0x1A), byte(0x52), byte(0x1A), byte(0x12), true)
	f.Add(byte(0x16), byte(0x16), byte(0x7E), byte(0x1E), false)
	f.Add(byte(0xFF), byte(0x00), byte(0x13), byte(0x10), true)
	f.Fuzz(func(t *testing.T, b1, b2, b3, b4 byte, sensor bool) {
		r := [4]byte{b1, b2, b3, b4}
		st, err := decodeStatus(r, sensor)
		valid := true
		for _, b := range r {
			if b&1 != 0 || b&2 == 0 || b&0x10 == 0 || b&0x80 != 0 {
				valid = false
			}
		}
		if !valid {
			if err == nil {
				t.Fatalf("decodeStatus(% x) = %+v, nil; want an error", r, st)
			}
			return
		}
		if err != nil {
			t.Fatalf("decodeStatus(% x) error: %v", r, err)
		}
		out := b4&0x20 != 0 || b2&0x20 != 0
		near := b4&0x0C != 0
		var wantPaper Paper
		switch {
		case out:
			wantPaper = PaperOut
		case near:
			wantPaper = PaperNearEnd
		case sensor:
			wantPaper = PaperOK
		default:
			wantPaper = PaperUnknown
		}
		wantErr := b3&0x6C != 0 || b2&0x40 != 0
		if !st.Connected || st.Online != (b1&0x08 == 0) || st.CoverOpen != (b2&0x04 != 0) ||
			st.Paper != wantPaper || (st.Error != "") != wantErr {
			t.Fatalf("decodeStatus(% x, %v) = %+v; want online %v, cover %v, paper %s, error %v",
				r, sensor, st, b1&0x08 == 0, b2&0x04 != 0, wantPaper, wantErr)
		}
		switch st.Error {
		case "", "cutter", "unrecoverable", "recoverable", "mechanical", "unspecified":
		default:
			t.Fatalf("decodeStatus(% x).Error = %q, not a documented value", r, st.Error)
		}
	})
}
