package kiosk

import "fmt"

// Status is the status snapshot (DESIGN 4.4): the heartbeat payload, the
// reply of the status command and GET /api/status.
type Status struct {
	Kiosk       string        `json:"kiosk"`
	Office      string        `json:"office"`
	Version     string        `json:"version"`
	Boot        string        `json:"boot"`
	Epoch       string        `json:"epoch"`
	UpS         int64         `json:"up_s"`
	At          string        `json:"at"`
	HBIntervalS int           `json:"hb_interval_s"`
	Mode        string        `json:"mode"`
	Printer     PrinterStatus `json:"printer"`
	Disk        DiskStatus    `json:"disk"`
	Power       PowerStatus   `json:"power"`
	Bus         BusStatus     `json:"bus"`
	Faults      []string      `json:"faults"`
	UI          UIStatus      `json:"ui"`
	Store       StoreStatus   `json:"store"`
}

// Modes of a kiosk (DESIGN 4.4).
const (
	ModeReady       = "ready"
	ModeSession     = "session"
	ModePrinting    = "printing"
	ModeMaintenance = "maintenance"
	ModeDegraded    = "degraded"
)

// PrinterStatus is the printer part of the snapshot.
type PrinterStatus struct {
	Connected bool   `json:"connected"`
	Online    bool   `json:"online"`
	Paper     string `json:"paper"` // ok | near_end | out | unknown
	CoverOpen bool   `json:"cover_open"`
	Error     string `json:"error"`
	Model     string `json:"model"`
	Columns   int    `json:"columns"`
	Transport string `json:"transport"` // usb | serial | tcp | none
}

// DiskStatus is the free space of the agent's data directory.
type DiskStatus struct {
	FreeBytes  uint64 `json:"free_bytes"`
	TotalBytes uint64 `json:"total_bytes"`
}

// PowerStatus is the power source as far as the agent knows it.
type PowerStatus struct {
	Source string `json:"source"` // mains | battery | unknown
}

// BusStatus is the state of the agent's NATS connection.
type BusStatus struct {
	Connected     bool  `json:"connected"`
	OutboxPending int64 `json:"outbox_pending"`
}

// UIStatus is the liveness of the kiosk screen. LastPingS is nil before
// the page pinged for the first time, which JSON shows as null.
type UIStatus struct {
	Running   bool   `json:"running"`
	LastPingS *int64 `json:"last_ping_s"`
}

// StoreStatus says whether the agent runs on its own store; Detail says
// why not (for example a database written by a newer version).
type StoreStatus struct {
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Health is the body of GET /healthz.
type Health struct {
	OK     bool   `json:"ok"`
	Mode   string `json:"mode"`
	Reason string `json:"reason,omitempty"`
}

// FormatBytes shows n bytes for people, in binary units: 512 B, 1.5 GiB.
// Disk figures of the status snapshot are shown this way by kioskctl and
// the hub's messages.
func FormatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
