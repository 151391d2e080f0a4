// Package alert delivers the hub's alerts to people: by webhook (a JSON
// POST) and by e-mail (SMTP), with retries, routed per office (DESIGN 7).
//
// Which alerts exist and what they say is decided elsewhere in the hub;
// this package only gets a queued [hubapi.Alert] to its recipients and
// reports every attempt back, so that the hub can persist the delivery log
// on HUB_EVENTS and a restarted hub neither forgets nor hammers.
//
// # Concepts
//
// Routing. A TOML file ([LoadConfig]) lists routes: a name, the offices it
// covers and where to send (webhook URLs, e-mail addresses). An alert
// about an office goes to the routes naming that office and to every route
// for "*"; an alert of the hub itself (office "") goes to the "*" routes
// only. At least one "*" route is required, because Bidang Sistim must
// receive every alert. [Config.Targets] resolves an office to a
// deduplicated list of [Target]s, which the hub stores with the alert
// when it queues it, so a later edit of the file does not change who an
// alert already queued goes to.
//
// Delivery. [Deliverer.Deliver] makes exactly one attempt and says whether
// it succeeded, failed for good (a 4xx answer, a 5xx SMTP reply) or may be
// retried (5xx, 408, 429, network errors, 4xx SMTP replies). Retries
// repeat the alert id (the webhook's Idempotency-Key header, the e-mail's
// Message-ID), so a receiver can drop a copy that arrives twice because an
// answer was lost on the way back.
//
// Retrying. [Sender] runs the loop: it asks the hub for pending
// (alert, target) pairs, delivers those whose time has come, a few in
// parallel, and records each attempt through a callback before deciding
// the next one. The delay after n failed attempts is [Backoff](n), from 5 s
// doubling to at most 10 minutes; a target that still fails [GiveUpAfter]
// after the alert was queued is given up and recorded as failed. The
// attempt counts and times come back from the hub on every round, so the
// schedule survives a restart of the hub.
//
// Secrets. The SMTP password is read from its own file (never from the
// routing file) and is never printed: [Secret] formats as "[redacted]".
// A webhook URL often carries a token, so [Target.String] shows only its
// host and [Target.ID] is a hash; the URL itself appears only in
// [Target.Addr].
package alert
