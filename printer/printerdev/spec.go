package printerdev

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Spec is a parsed --printer value (DESIGN 9):
//
//	usb               first USB printer-class device
//	usb:VID:PID       that device, VID and PID in hex (usb:04b8:0202)
//	serial:PATH       a serial port at 9600 baud
//	serial:PATH?baud=N  N one of 9600, 19200, 38400, 57600, 115200
//	tcp:HOST:PORT     a network printer, usually port 9100
//	none              no printer
type Spec struct {
	Kind     string // usb, serial, tcp or none
	VID, PID uint16 // usb; both 0 = auto-detect
	Path     string // serial device, e.g. /dev/ttyUSB0
	Baud     int    // serial; ParseSpec fills in DefaultBaud
	Addr     string // tcp host:port
}

// Kinds of Spec.
const (
	KindUSB    = "usb"
	KindSerial = "serial"
	KindTCP    = "tcp"
	KindNone   = "none"
)

// DefaultBaud is the serial speed when the spec gives none.
const DefaultBaud = 9600

// bauds are the serial speeds receipt printers offer (DIP switches or
// memory switches); anything else is most likely a typo.
var bauds = []int{9600, 19200, 38400, 57600, 115200}

// ParseSpec parses a --printer value. Kinds are case-insensitive; errors
// say what form was expected.
func ParseSpec(s string) (Spec, error) {
	kind, rest, hasRest := strings.Cut(s, ":")
	kind = strings.ToLower(kind)
	fail := func(format string, args ...any) (Spec, error) {
		return Spec{}, fmt.Errorf("printerdev: printer %q: "+format, append([]any{s}, args...)...)
	}
	switch kind {
	case "":
		return fail("empty kind (want usb, usb:VID:PID, serial:PATH, tcp:HOST:PORT or none)")
	case KindNone:
		if hasRest {
			return fail("none takes no arguments")
		}
		return Spec{Kind: KindNone}, nil
	case KindUSB:
		if !hasRest {
			return Spec{Kind: KindUSB}, nil
		}
		v, p, ok := strings.Cut(rest, ":")
		if !ok {
			return fail("want usb:VID:PID with both IDs in hex, e.g. usb:04b8:0202 (or just usb to auto-detect)")
		}
		vid, err1 := parseUSBID(v)
		pid, err2 := parseUSBID(p)
		if err1 != nil || err2 != nil {
			return fail("want usb:VID:PID with both IDs as 1-4 hex digits, e.g. usb:04b8:0202")
		}
		if vid == 0 || pid == 0 {
			return fail("VID and PID must be non-zero (use plain usb to auto-detect)")
		}
		return Spec{Kind: KindUSB, VID: vid, PID: pid}, nil
	case KindSerial:
		path, query, hasQuery := strings.Cut(rest, "?")
		if path == "" {
			return fail("want serial:PATH, e.g. serial:/dev/ttyUSB0")
		}
		if strings.ContainsFunc(path, isControl) {
			return fail("path contains control characters")
		}
		sp := Spec{Kind: KindSerial, Path: path, Baud: DefaultBaud}
		if !hasQuery {
			return sp, nil
		}
		key, val, _ := strings.Cut(query, "=")
		if key != "baud" {
			return fail("unknown option %q (the only option is baud=N)", query)
		}
		baud, err := strconv.Atoi(val)
		if err != nil || !validBaud(baud) {
			return fail("bad baud %q (want one of %v)", val, bauds)
		}
		sp.Baud = baud
		return sp, nil
	case KindTCP:
		host, port, err := net.SplitHostPort(rest)
		if err != nil || host == "" || port == "" {
			return fail("want tcp:HOST:PORT, e.g. tcp:192.168.1.50:9100")
		}
		if strings.ContainsFunc(host, isControl) || strings.ContainsAny(host, " /?#@") {
			return fail("bad host %q", host)
		}
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fail("bad port %q (want 1-65535)", port)
		}
		return Spec{Kind: KindTCP, Addr: net.JoinHostPort(host, strconv.Itoa(n))}, nil
	default:
		return fail("unknown kind %q (want usb, serial, tcp or none)", kind)
	}
}

// String formats s as ParseSpec accepts it; the default baud is left out.
func (s Spec) String() string {
	switch s.Kind {
	case KindUSB:
		if s.VID == 0 && s.PID == 0 {
			return KindUSB
		}
		return fmt.Sprintf("usb:%04x:%04x", s.VID, s.PID)
	case KindSerial:
		if s.Baud == 0 || s.Baud == DefaultBaud {
			return "serial:" + s.Path
		}
		return fmt.Sprintf("serial:%s?baud=%d", s.Path, s.Baud)
	case KindTCP:
		return "tcp:" + s.Addr
	default:
		return s.Kind
	}
}

func parseUSBID(s string) (uint16, error) {
	if len(s) < 1 || len(s) > 4 {
		return 0, strconv.ErrSyntax
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return 0, strconv.ErrSyntax
		}
	}
	v, err := strconv.ParseUint(s, 16, 16)
	return uint16(v), err
}

func validBaud(b int) bool {
	for _, v := range bauds {
		if v == b {
			return true
		}
	}
	return false
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
