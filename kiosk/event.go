package kiosk

import (
	"encoding/json"
	"time"
)

// Event is the envelope of every kiosk event (DESIGN 4.2), one per NATS
// message on kiosk.<id>.evt.<type>, with the Nats-Msg-Id header = ID.
type Event struct {
	ID     string          `json:"id"` // UUIDv7
	Kiosk  string          `json:"kiosk"`
	Office string          `json:"office"`
	Type   string          `json:"type"`
	At     time.Time       `json:"at"`
	Boot   string          `json:"boot"`  // kernel boot id
	Epoch  string          `json:"epoch"` // the store's random id
	Seq    int64           `json:"seq"`   // +1 per event within an epoch, from 1
	Data   json.RawMessage `json:"data,omitempty"`
}

// Event types (DESIGN 4.2).
const (
	EventBoot         = "lifecycle.boot"
	EventShutdown     = "lifecycle.shutdown"
	EventFaultRaised  = "fault.raised"
	EventFaultCleared = "fault.cleared"
	EventCommand      = "command.result"
	EventUsage        = "usage.summary"
	EventDropped      = "outbox.dropped"
)

// EventSubject is where kiosk id publishes an event of type typ.
func EventSubject(id, typ string) string { return "kiosk." + id + ".evt." + typ }

// FaultData is the data of fault.raised and fault.cleared.
type FaultData struct {
	Code      string  `json:"code"`
	Severity  string  `json:"severity"`
	Detail    string  `json:"detail"`
	DurationS *int64  `json:"duration_s,omitempty"` // cleared only
	Outage    *Outage `json:"outage,omitempty"`     // power.unclean_shutdown only
}

// Outage is the window a kiosk was down (lifecycle.boot, power.unclean_shutdown).
type Outage struct {
	LastAlive time.Time `json:"last_alive"`
	BootAt    time.Time `json:"boot_at"`
	Seconds   int64     `json:"seconds"`
}

// Severities of fault codes (DESIGN 4.3). ui.crashed becomes critical
// after 3 in 10 minutes; the agent decides that, not this table.
var Severity = map[string]string{
	"printer.paper_near_end": "warning", "printer.paper_out": "critical", "printer.cover_open": "critical",
	"printer.offline": "critical", "printer.error": "critical", "printer.missing": "critical",
	"ui.crashed": "warning", "ui.unresponsive": "warning", "security.lookup_burst": "warning",
	"power.unclean_shutdown": "warning", "power.on_battery": "warning", "power.battery_low": "critical",
	"disk.low": "warning", "disk.full": "critical", "store.incompatible": "critical",
	"lookup.unreachable": "critical", "clock.skew": "warning",
}

// UsageData is the data of usage.summary: one clock hour of a kiosk's use,
// counts only (no plates, no results), so it can be kept and shipped
// without touching taxpayers' data.
type UsageData struct {
	Hour     string `json:"hour"` // start of the hour, RFC 3339 in the kiosk's zone
	Lookups  int64  `json:"lookups"`
	Found    int64  `json:"found"`
	NotFound int64  `json:"not_found"`
	Errors   int64  `json:"errors"`
	Prints   int64  `json:"prints"`
	Sessions int64  `json:"sessions"`
}

// DroppedData is the data of outbox.dropped, the tombstone written when
// old usage.summary events are deleted unsent under disk pressure: seqs
// FromSeq..ToSeq contain Count dropped events (the others in the range
// were sent), so the hub can tell this gap from a lost event.
type DroppedData struct {
	FromSeq int64  `json:"from_seq"`
	ToSeq   int64  `json:"to_seq"`
	Count   int    `json:"count"`
	Type    string `json:"type"`   // what was dropped: usage.summary
	Reason  string `json:"reason"` // disk_low, disk_full, outbox_full
}
