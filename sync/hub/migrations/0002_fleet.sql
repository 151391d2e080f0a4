-- Fleet state that must survive a hub restart (DESIGN 7).

-- Every kiosk heard of, with its last heartbeat: a kiosk that died while
-- the hub was down is shown offline after the restart, not unknown.
CREATE TABLE kiosks (
    kiosk        TEXT PRIMARY KEY,
    office       TEXT NOT NULL DEFAULT '',
    last_seen_ns INTEGER NOT NULL,
    presence     TEXT NOT NULL,  -- recorded state of the state machine
    status       TEXT            -- last status snapshot (JSON)
) WITHOUT ROWID;

-- Presence transitions, for the dashboard's history and incidents.
CREATE TABLE presence_log (
    n          INTEGER PRIMARY KEY AUTOINCREMENT,
    kiosk      TEXT NOT NULL,
    at_ns      INTEGER NOT NULL,
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL
);
CREATE INDEX presence_log_kiosk ON presence_log(kiosk, n);

-- The last fault event per kiosk and code; state 'raised' rows are the
-- kiosk's active faults. epoch/seq keep a late, older event from
-- overwriting a newer one.
CREATE TABLE faults (
    kiosk    TEXT NOT NULL,
    office   TEXT NOT NULL,
    code     TEXT NOT NULL,
    state    TEXT NOT NULL CHECK (state IN ('raised', 'cleared')),
    severity TEXT NOT NULL,
    detail   TEXT NOT NULL,
    at       TEXT,
    epoch    TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    event    TEXT NOT NULL,   -- id of the event that set this row
    PRIMARY KEY (kiosk, code)
) WITHOUT ROWID;

-- Messages of KIOSK_EVENTS that are not valid events: kept with the reason
-- (never silently dropped), then acknowledged so they are not redelivered
-- forever.
CREATE TABLE rejected (
    n           INTEGER PRIMARY KEY AUTOINCREMENT,
    subject     TEXT NOT NULL,
    received_ns INTEGER NOT NULL,
    error       TEXT NOT NULL,
    raw         BLOB NOT NULL
);
