// Package dashboard is the hub's web dashboard for UPTD office admins and
// Bidang Sistim: an http.Handler with server-rendered pages, embedded
// assets and live updates (SSE), over the hub's Backend.
//
// # Concepts
//
// Users and roles. A user has one role (hubapi.RoleUPTD, RoleSistim,
// RoleAdmin). uptd sees and acts on its own offices only; sistim sees
// every office and may restart kiosks and revoke credentials; admin
// manages users and sees everything read-only. Which role may use which
// route is one table, Routes, that the handler is built from and that
// tests iterate over. Office scoping is enforced on the server on every
// route: a uptd user asking for another office's kiosk or incident gets
// 404, exactly as for an id that does not exist, so ids cannot be probed.
//
// Sessions. The dashboard keeps no session store: the session cookie is
// signed (HMAC-SHA256 with Config.SessionKey) and carries the user name,
// the user's Epoch, a random session id and an idle expiry. Every request
// reads the user again through Backend.User, so disabling a user or
// changing its password (which bumps Epoch) ends its sessions at once,
// even across hub restarts.
//
// Cross-site requests. Two independent layers: http.CrossOriginProtection
// refuses cross-origin browser POSTs by Sec-Fetch-Site/Origin, and every
// POST must carry a CSRF token bound to the session id (form field csrf
// or header X-CSRF-Token). GET never changes state.
//
// Live pages. One subscription to Backend.Subscribe per Dashboard feeds
// every SSE stream (/events). Each change is rendered once into an HTML
// fragment (the same template the page uses) and the encoded frame is
// shared by every viewer whose offices include it, so 50 viewers of an
// office cost one render per change, not 50.
package dashboard
