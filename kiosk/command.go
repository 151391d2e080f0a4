package kiosk

import "encoding/json"

// Commands of the micro service "kiosk" (DESIGN 4.5): one endpoint per
// verb on kiosk.<id>.cmd.<verb>, nothing else subscribed.
const (
	VerbStatus      = "status"
	VerbRestart     = "restart"
	VerbPrintTest   = "print-test"
	VerbMaintenance = "maintenance"
	VerbDiag        = "diag"
)

// Verbs lists every verb, in the order kioskctl documents them.
var Verbs = []string{VerbStatus, VerbRestart, VerbPrintTest, VerbMaintenance, VerbDiag}

// CommandSubject is where kiosk id takes verb.
func CommandSubject(id, verb string) string { return "kiosk." + id + ".cmd." + verb }

// Command headers (all optional, so the stock NATS CLI can send commands).
const (
	HeaderCmdID       = "Kiosk-Cmd-Id"       // idempotency key
	HeaderCmdExpires  = "Kiosk-Cmd-Expires"  // RFC 3339; default 5 min after receipt
	HeaderRequestedBy = "Kiosk-Requested-By" // operator name, logged and echoed
)

// Restart levels.
const (
	RestartUIReload = "ui-reload" // the page reloads itself
	RestartUI       = "ui"        // kioskui is replaced
	RestartAgent    = "agent"     // kioskd exits with code 3; systemd starts it again
	RestartHost     = "host"      // the PC reboots
)

// RestartRequest is the body of restart.
type RestartRequest struct {
	Level  string `json:"level"`
	Force  bool   `json:"force,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// MaintenanceRequest is the body of maintenance.
type MaintenanceRequest struct {
	On      bool   `json:"on"`
	Message string `json:"message,omitempty"`
}

// PrintTestRequest is the (optional) body of print-test.
type PrintTestRequest struct {
	Force bool `json:"force,omitempty"` // print even during a taxpayer's session
}

// Command outcomes (DESIGN 4.5).
const (
	OutcomeDone     = "done"     // finished before the reply
	OutcomeAccepted = "accepted" // runs right after the reply; result as a command.result event
	OutcomeDeferred = "deferred" // runs when the kiosk is idle, before expiry; result as an event
	OutcomeRejected = "rejected" // expired, malformed or refused, with a reason
	OutcomeFailed   = "failed"   // command.result only: it ran and did not work
	OutcomeExpired  = "expired"  // command.result only: deferred until it expired
)

// CommandReply is the reply of every verb.
type CommandReply struct {
	CmdID   string          `json:"cmd_id"`
	Outcome string          `json:"outcome"`
	Reason  string          `json:"reason,omitempty"`
	Status  *Status         `json:"status,omitempty"` // status
	Diag    json.RawMessage `json:"diag,omitempty"`   // diag
}

// CommandResult is the data of the command.result event.
type CommandResult struct {
	CmdID       string `json:"cmd_id"`
	Verb        string `json:"verb"`
	Outcome     string `json:"outcome"` // done, failed, expired
	Detail      string `json:"detail,omitempty"`
	RequestedBy string `json:"requested_by,omitempty"`
}
