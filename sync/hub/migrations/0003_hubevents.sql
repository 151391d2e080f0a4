-- The projection of HUB_EVENTS, the hub's own decisions (DESIGN 7). Each
-- table is rebuilt by replaying the stream from sequence 1 (kioskhub
-- rebuild); hub_position is the last sequence applied, written in the same
-- transaction as what it changed, so every event applies exactly once.
CREATE TABLE hub_position (
    stream TEXT PRIMARY KEY,
    seq    INTEGER NOT NULL
) WITHOUT ROWID;

-- Every hub event, for the timeline and the audit view.
CREATE TABLE hub_events (
    seq    INTEGER PRIMARY KEY,  -- HUB_EVENTS stream sequence
    id     TEXT NOT NULL UNIQUE, -- Nats-Msg-Id (deterministic for decisions)
    type   TEXT NOT NULL,
    at_ns  INTEGER NOT NULL,
    by     TEXT NOT NULL,        -- logged-in user, or 'hub'
    office TEXT NOT NULL DEFAULT '',
    kiosk  TEXT NOT NULL DEFAULT '',
    target TEXT NOT NULL DEFAULT '',
    data   TEXT NOT NULL
);
CREATE INDEX hub_events_by ON hub_events(by, seq);
CREATE INDEX hub_events_kiosk ON hub_events(kiosk, seq);

CREATE TABLE incidents (
    id          TEXT PRIMARY KEY,
    scope       TEXT NOT NULL CHECK (scope IN ('kiosk', 'office')),
    kiosk       TEXT NOT NULL DEFAULT '',
    office      TEXT NOT NULL,
    code        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    cause       TEXT NOT NULL DEFAULT '',
    title       TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT '',  -- the fault event that opened it
    notify      INTEGER NOT NULL DEFAULT 0, -- alert people (not a flap of an alerted one)
    state       TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    opened_ns   INTEGER NOT NULL,
    acked_ns    INTEGER NOT NULL DEFAULT 0,
    acked_by    TEXT NOT NULL DEFAULT '',
    resolved_ns INTEGER NOT NULL DEFAULT 0,
    resolved_by TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX incidents_state ON incidents(state, office);
CREATE INDEX incidents_opened ON incidents(opened_ns DESC);
CREATE INDEX incidents_kiosk ON incidents(kiosk, code, opened_ns DESC);

-- The kiosks an incident covers: its own kiosk, or an office incident's.
CREATE TABLE incident_kiosks (
    incident TEXT NOT NULL,
    kiosk    TEXT NOT NULL,
    PRIMARY KEY (incident, kiosk)
) WITHOUT ROWID;
CREATE INDEX incident_kiosks_kiosk ON incident_kiosks(kiosk);

CREATE TABLE users (
    name       TEXT PRIMARY KEY,
    role       TEXT NOT NULL,
    offices    TEXT NOT NULL DEFAULT '[]', -- JSON array
    hash       TEXT NOT NULL,              -- bcrypt
    disabled   INTEGER NOT NULL DEFAULT 0,
    changed_ns INTEGER NOT NULL,
    epoch      INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;

CREATE TABLE alerts (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    incident   TEXT NOT NULL DEFAULT '',
    office     TEXT NOT NULL DEFAULT '',
    kiosk      TEXT NOT NULL DEFAULT '',
    code       TEXT NOT NULL DEFAULT '',
    subject    TEXT NOT NULL,
    text       TEXT NOT NULL,
    queued_ns  INTEGER NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed')),
    sent_ns    INTEGER NOT NULL DEFAULT 0,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX alerts_state ON alerts(state);
CREATE INDEX alerts_kiosk_code ON alerts(kiosk, code, queued_ns);

-- Outcome per alert and target (from alert.delivered events), and the
-- local log of every attempt (not rebuilt: a delivery log for the
-- operator, the outcome is what counts).
CREATE TABLE alert_targets (
    alert      TEXT NOT NULL,
    target     TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('sent', 'failed')),
    attempts   INTEGER NOT NULL,
    at_ns      INTEGER NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (alert, target)
) WITHOUT ROWID;
CREATE TABLE alert_attempts (
    n      INTEGER PRIMARY KEY AUTOINCREMENT,
    alert  TEXT NOT NULL,
    target TEXT NOT NULL,
    at_ns  INTEGER NOT NULL,
    ok     INTEGER NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_attempts_alert ON alert_attempts(alert, target, n);

-- presence.changed events on HUB_EVENTS rebuild the presence log; the
-- running hub also writes it when it saves the fleet: the same row twice
-- is one.
DELETE FROM presence_log WHERE n NOT IN (SELECT MIN(n) FROM presence_log GROUP BY kiosk, at_ns, to_state);
CREATE UNIQUE INDEX presence_log_once ON presence_log(kiosk, at_ns, to_state);
