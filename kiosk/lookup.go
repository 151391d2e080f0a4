package kiosk

import (
	"encoding/json"
	"errors"
	"strings"
)

// LookupRequest is the body of a pkb.lookup.<id> request (DESIGN 4.6).
// Rangka5 is the last five characters of the chassis number: a
// verification secret that is never logged or stored in clear.
type LookupRequest struct {
	Plate   string `json:"plate"`
	Rangka5 string `json:"rangka5,omitempty"`
}

// LookupReply is the gateway's answer: exactly one of Result and Error is
// set. Result is kept raw so that the kiosk caches and serves the bytes
// the gateway computed without a decode/encode round trip.
type LookupReply struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

// Error codes of the lookup contract (DESIGN 4.6, 4.8).
const (
	CodeInvalidPlate      = "invalid_plate"
	CodeRangkaRequired    = "rangka_required"
	CodeRangkaMismatch    = "rangka_mismatch"
	CodeNotFound          = "not_found"
	CodeRateLimited       = "rate_limited"
	CodeSourceUnavailable = "source_unavailable"
	CodeMaintenance       = "maintenance"
	// Printing (DESIGN 4.8 POST /api/print).
	CodePrinterUnavailable = "printer_unavailable"
	CodeNotLookedUp        = "not_looked_up" // plate not looked up in this session
	CodePrintLimit         = "print_limit"   // too many slips in this session
	// CodeBadRequest answers a body that is not a lookup request at all.
	// It is an addition to the contract's list: a malformed request is
	// neither of the listed failures.
	CodeBadRequest = "bad_request"
)

// Error is the error object of the NATS and HTTP contracts. Reason,
// Suggestion and Province are set for invalid_plate only (domain/pkb.md
// 3.4). Message is for people; programs act on Code and Reason.
type Error struct {
	Code       string `json:"code"`
	Reason     string `json:"reason,omitempty"`
	Suggestion string `json:"suggestion,omitempty"`
	Province   string `json:"province,omitempty"`
	Message    string `json:"message"`
}

func (e *Error) Error() string {
	s := e.Code
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// NormalizeRangka5 upper-cases and trims the rangka5 factor (the last five
// characters of the chassis number) and checks its shape, [0-9A-Z]{5}
// (domain/pkb.md 4.2). Empty input gives "" and no error. The error never
// contains the value: it is a secret.
func NormalizeRangka5(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return "", nil
	}
	if len(s) != 5 {
		return "", errRangkaShape
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return "", errRangkaShape
		}
	}
	return s, nil
}

var errRangkaShape = errors.New("kiosk: rangka5 must be exactly 5 letters or digits")
