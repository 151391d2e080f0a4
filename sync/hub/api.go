package hub

import "github.com/sumbar-samsat/pkbkiosk/sync/hubapi"

// The wire types of the hub service live in sync/hubapi (cgo-free, for
// clients); the names here keep the hub's own code short.
type (
	Presence      = hubapi.Presence
	FleetKiosk    = hubapi.FleetKiosk
	Gap           = hubapi.Gap
	Fault         = hubapi.Fault
	Transition    = hubapi.Transition
	FleetRequest  = hubapi.FleetRequest
	FleetReply    = hubapi.FleetReply
	FaultsRequest = hubapi.FaultsRequest
	FaultsReply   = hubapi.FaultsReply
	KioskRequest  = hubapi.KioskRequest
	KioskReply    = hubapi.KioskReply
)

// Presences.
const (
	Online  = hubapi.Online
	Late    = hubapi.Late
	Offline = hubapi.Offline
	Unknown = hubapi.Unknown
)

// FetchFleet is hubapi.FetchFleet.
var FetchFleet = hubapi.FetchFleet
