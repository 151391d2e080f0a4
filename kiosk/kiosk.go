// Package kiosk holds what the kiosk agent, the hub and the operator CLI
// share: identities, NATS subjects, wire types and error codes. It imports
// only the standard library so that every other package may depend on it.
package kiosk

import (
	"fmt"
	"regexp"
	"time"
)

// Version is the release of this build, set with
// -ldflags "-X github.com/sumbar-samsat/pkbkiosk/kiosk.Version=0.3.0".
// It is SemVer without a leading "v" because the NATS micro services
// reject anything else.
var Version = "0.0.0-dev"

// idPattern is the shape of a kiosk id and of an office (UPTD) code
// (DESIGN 3). The id doubles as the kiosk's NATS user name and as a subject
// token, so it must not contain dots, wildcards or spaces.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$`)

// ValidID reports whether s is a well-formed kiosk id or office code.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// CheckID returns a descriptive error when s is not a valid kiosk id or
// office code; what names the field ("id", "office") in the message.
func CheckID(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s is required (e.g. %q)", what, "padang-01")
	}
	if !ValidID(s) {
		return fmt.Errorf("%s %q is invalid: use 3-32 characters a-z, 0-9 and '-', starting and ending with a letter or digit (e.g. %q)", what, s, "padang-01")
	}
	return nil
}

// Subjects of the NATS contract (DESIGN 4.1).

// LookupSubject is where kiosk id sends plate lookups to the hub's gateway.
func LookupSubject(id string) string { return "pkb.lookup." + id }

// LookupSubjectAll is the gateway's endpoint subject; the kiosk id is the
// last token, and the gateway trusts only that, never the request body.
const LookupSubjectAll = "pkb.lookup.*"

// HeartbeatSubject carries kiosk id's status snapshot.
func HeartbeatSubject(id string) string { return "kiosk." + id + ".hb" }

// InboxPrefix is the reply-inbox prefix of kiosk id; the kiosk's NATS
// permissions allow it to subscribe only below it (DESIGN 4.7).
func InboxPrefix(id string) string { return "_INBOX_" + id }

// LoadTZ returns the named zone, Asia/Jakarta (WIB) when name is empty.
// "Today", "data per" labels and working hours use it, never the machine's
// zone: minimal images run UTC. Without tzdata on the machine Asia/Jakarta
// falls back to a fixed +07:00 zone (Indonesia has no daylight saving).
func LoadTZ(name string) (*time.Location, error) {
	if name == "" {
		name = "Asia/Jakarta"
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		if name == "Asia/Jakarta" {
			return time.FixedZone("WIB", 7*3600), nil
		}
		return nil, fmt.Errorf("kiosk: time zone %q: %w", name, err)
	}
	return loc, nil
}
