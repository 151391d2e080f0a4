package printerdev

import (
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    Spec
		wantErr string // substring; "" = no error
	}{
		{in: "usb", want: Spec{Kind: KindUSB}},
		{in: "USB", want: Spec{Kind: KindUSB}},
		{in: "usb:04b8:0202", want: Spec{Kind: KindUSB, VID: 0x04b8, PID: 0x0202}},
		{in: "usb:04B8:202", want: Spec{Kind: KindUSB, VID: 0x04b8, PID: 0x0202}},
		{in: "usb:04b8", wantErr: "want usb:VID:PID"},
		{in: "usb:", wantErr: "want usb:VID:PID"},
		{in: "usb:xyz:0202", wantErr: "hex"},
		{in: "usb:04b8:0202:1", wantErr: "hex"},
		{in: "usb:12345:0202", wantErr: "hex"},
		{in: "usb:0x4b8:0202", wantErr: "hex"},
		{in: "usb:0000:0000", wantErr: "non-zero"},
		{in: "serial:/dev/ttyUSB0", want: Spec{Kind: KindSerial, Path: "/dev/ttyUSB0", Baud: 9600}},
		{in: "serial:/dev/ttyS0?baud=115200", want: Spec{Kind: KindSerial, Path: "/dev/ttyS0", Baud: 115200}},
		{in: "serial:/dev/ttyS0?baud=19200", want: Spec{Kind: KindSerial, Path: "/dev/ttyS0", Baud: 19200}},
		{in: "serial:", wantErr: "want serial:PATH"},
		{in: "serial", wantErr: "want serial:PATH"},
		{in: "serial:?baud=9600", wantErr: "want serial:PATH"},
		{in: "serial:/dev/ttyS0?baud=12345", wantErr: "bad baud"},
		{in: "serial:/dev/ttyS0?baud=", wantErr: "bad baud"},
		{in: "serial:/dev/ttyS0?baud=fast", wantErr: "bad baud"},
		{in: "serial:/dev/ttyS0?speed=9600", wantErr: "unknown option"},
		{in: "serial:/dev/ttyS0?", wantErr: "unknown option"},
		{in: "serial:/dev/tty\x00", wantErr: "control"},
		{in: "tcp:192.168.1.50:9100", want: Spec{Kind: KindTCP, Addr: "192.168.1.50:9100"}},
		{in: "tcp:printer.local:9100", want: Spec{Kind: KindTCP, Addr: "printer.local:9100"}},
		{in: "tcp:[::1]:9100", want: Spec{Kind: KindTCP, Addr: "[::1]:9100"}},
		{in: "tcp:host:09100", want: Spec{Kind: KindTCP, Addr: "host:9100"}},
		{in: "tcp:host", wantErr: "want tcp:HOST:PORT"},
		{in: "tcp:host:", wantErr: "want tcp:HOST:PORT"},
		{in: "tcp::9100", wantErr: "want tcp:HOST:PORT"},
		{in: "tcp:host:0", wantErr: "bad port"},
		{in: "tcp:host:65536", wantErr: "bad port"},
		{in: "tcp:host:ipp", wantErr: "bad port"},
		{in: "tcp:a b:9100", wantErr: "bad host"},
		{in: "tcp", wantErr: "want tcp:HOST:PORT"},
		{in: "none", want: Spec{Kind: KindNone}},
		{in: "none:x", wantErr: "no arguments"},
		{in: "", wantErr: "empty kind"},
		{in: ":x", wantErr: "empty kind"},
		{in: "lpt:/dev/lp0", wantErr: "unknown kind"},
		{in: "bluetooth", wantErr: "unknown kind"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSpec(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSpec(%q) = %+v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSpec(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			again, err := ParseSpec(got.String())
			if err != nil || again != got {
				t.Errorf("ParseSpec(%q) = %+v, %v; want %+v (round trip of %q)", got.String(), again, err, got, tt.in)
			}
		})
	}
}

func TestSpecString(t *testing.T) {
	for _, tt := range []struct {
		s    Spec
		want string
	}{
		{Spec{Kind: KindUSB}, "usb"},
		{Spec{Kind: KindUSB, VID: 0x4b8, PID: 0x202}, "usb:04b8:0202"},
		{Spec{Kind: KindSerial, Path: "/dev/ttyS0", Baud: 9600}, "serial:/dev/ttyS0"},
		{Spec{Kind: KindSerial, Path: "/dev/ttyS0"}, "serial:/dev/ttyS0"},
		{Spec{Kind: KindSerial, Path: "/dev/ttyS0", Baud: 38400}, "serial:/dev/ttyS0?baud=38400"},
		{Spec{Kind: KindTCP, Addr: "10.0.0.9:9100"}, "tcp:10.0.0.9:9100"},
		{Spec{Kind: KindNone}, "none"},
	} {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.s, got, tt.want)
		}
	}
}

// FuzzParseSpec checks that ParseSpec does not panic, that what it
// accepts is well formed, and that String round-trips.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		"usb", "usb:04b8:0202", "usb:04b8", "serial:/dev/ttyUSB0", "serial:/dev/ttyS0?baud=115200",
		"serial:", "tcp:192.168.1.50:9100", "tcp:[fe80::1%eth0]:9100", "tcp:host", "none", "", "x:y:z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSpec(in)
		if err != nil {
			if s != (Spec{}) {
				t.Fatalf("ParseSpec(%q) = %+v with error %v; want zero Spec", in, s, err)
			}
			return
		}
		switch s.Kind {
		case KindUSB:
			if (s.VID == 0) != (s.PID == 0) {
				t.Fatalf("ParseSpec(%q) = %+v: half an ID", in, s)
			}
		case KindSerial:
			if s.Path == "" || !validBaud(s.Baud) {
				t.Fatalf("ParseSpec(%q) = %+v: bad serial spec", in, s)
			}
		case KindTCP:
			if s.Addr == "" {
				t.Fatalf("ParseSpec(%q) = %+v: no address", in, s)
			}
		case KindNone:
		default:
			t.Fatalf("ParseSpec(%q) = %+v: unknown kind", in, s)
		}
		str := s.String()
		again, err := ParseSpec(str)
		if err != nil || again != s {
			t.Fatalf("ParseSpec(%q) = %+v, %v; want %+v (from %q)", str, again, err, s, in)
		}
		if again.String() != str {
			t.Fatalf("String not stable: %q then %q", str, again.String())
		}
	})
}
