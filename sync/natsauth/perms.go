package natsauth

import (
	"github.com/nats-io/jwt/v2"
)

// Names of the hub's JetStream objects that operators may read. They
// equal sync/hub's EventsStream, HubStream and FleetConsumer (a hubserver
// test checks); this package does not import sync/hub, which brings SQLite.
const (
	eventsStream  = "KIOSK_EVENTS"
	hubStream     = "HUB_EVENTS"
	fleetConsumer = "fleet"
)

// KioskPermissions are the permissions of kiosk id (DESIGN 4.7): it
// publishes only its heartbeat, its events (to the stream subject, with a
// reply inbox for the PubAck, never the JetStream API), its lookups, its
// content and time requests, and replies to requests it received
// (allow_responses: the command service "kiosk"). It subscribes only to its
// own commands, its own reply inbox (the client uses
// nats.CustomInboxPrefix("_INBOX_<id>")) and $SRV.> (the micro service's
// PING, INFO and STATS).
//
// One addition to DESIGN 4.7's list: publishing $SRV.PING.pkb, the agent's
// probe of the lookup gateway (lookup.unreachable), which costs the gateway
// nothing and leaves no lookup in its rate limits; it reaches only the
// gateway's own ping handler.
func KioskPermissions(id string) jwt.Permissions {
	var p jwt.Permissions
	p.Pub.Allow.Add(
		"kiosk."+id+".hb",
		"kiosk."+id+".evt.>",
		"pkb.lookup."+id,
		"hub.content."+id,
		"hub.time."+id,
		"$SRV.PING.pkb",
	)
	p.Sub.Allow.Add(
		"kiosk."+id+".cmd.>",
		"_INBOX_"+id+".>",
		"$SRV.>",
	)
	p.Resp = &jwt.ResponsePermission{MaxMsgs: 1}
	return p
}

// OperatorPermissions are the permissions of an operator (kioskctl, the
// stock nats CLI; DESIGN 4.7): command any kiosk, call the hub's services,
// use the micro services' $SRV subjects, read KIOSK_EVENTS and HUB_EVENTS
// through their own (ephemeral or ordered) consumers, and receive on
// kiosk.>, hub.>, _INBOX.> and $SRV.>.
//
// Two denials narrow DESIGN 4.7's "hub.>": an operator cannot publish into
// HUB_EVENTS (hub.evt.>, the hub's own record of its decisions, DESIGN 7)
// nor touch the hub's durable consumer "fleet" (create over it, pull from
// it, acknowledge its messages, delete it), whose position is the hub's
// progress.
func OperatorPermissions() jwt.Permissions {
	var p jwt.Permissions
	p.Pub.Allow.Add("kiosk.*.cmd.>", "hub.>", "$SRV.>", "$JS.API.INFO")
	for _, s := range []string{eventsStream, hubStream} {
		p.Pub.Allow.Add(
			"$JS.API.STREAM.INFO."+s,
			"$JS.API.STREAM.MSG.GET."+s,
			"$JS.API.DIRECT.GET."+s,
			"$JS.API.DIRECT.GET."+s+".>",
			"$JS.API.CONSUMER.CREATE."+s,
			"$JS.API.CONSUMER.CREATE."+s+".>",
			"$JS.API.CONSUMER.INFO."+s+".*",
			"$JS.API.CONSUMER.MSG.NEXT."+s+".*",
			"$JS.API.CONSUMER.DELETE."+s+".*", // ordered consumers delete theirs
			"$JS.ACK."+s+".>",
		)
	}
	p.Pub.Deny.Add(
		"hub.evt.>",
		"$JS.API.CONSUMER.CREATE."+eventsStream+"."+fleetConsumer,
		"$JS.API.CONSUMER.CREATE."+eventsStream+"."+fleetConsumer+".>",
		"$JS.API.CONSUMER.MSG.NEXT."+eventsStream+"."+fleetConsumer,
		"$JS.API.CONSUMER.DELETE."+eventsStream+"."+fleetConsumer,
		"$JS.ACK."+eventsStream+"."+fleetConsumer+".>",
	)
	p.Sub.Allow.Add("kiosk.>", "hub.>", "_INBOX.>", "$SRV.>")
	return p
}
