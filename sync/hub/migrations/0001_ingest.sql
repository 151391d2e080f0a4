-- The hub's projection of KIOSK_EVENTS (DESIGN 7): every event once, by id.
CREATE TABLE events (
    n      INTEGER PRIMARY KEY AUTOINCREMENT, -- arrival order at the hub
    id     TEXT NOT NULL UNIQUE,              -- UUIDv7, Nats-Msg-Id
    kiosk  TEXT NOT NULL,
    office TEXT NOT NULL,
    type   TEXT NOT NULL,
    at     TEXT,                              -- RFC 3339 as sent; NULL when absent
    at_ns  INTEGER,                           -- at in Unix nanoseconds, for ordering
    boot   TEXT NOT NULL,
    epoch  TEXT NOT NULL,
    seq    INTEGER NOT NULL CHECK (seq >= 1),
    data   TEXT                               -- JSON; NULL when absent
);
CREATE INDEX events_kiosk_at ON events(kiosk, at_ns DESC, seq DESC);

-- Highest seq seen per kiosk and epoch; a new epoch starts at the first
-- seq seen of it (DESIGN 4.2).
CREATE TABLE epochs (
    kiosk    TEXT NOT NULL,
    epoch    TEXT NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (kiosk, epoch)
) WITHOUT ROWID;

-- Missing seqs from_seq..to_seq (inclusive) of a kiosk's epoch; disjoint
-- ranges, shrunk or removed as late events fill them.
CREATE TABLE gaps (
    kiosk    TEXT NOT NULL,
    epoch    TEXT NOT NULL,
    from_seq INTEGER NOT NULL,
    to_seq   INTEGER NOT NULL CHECK (to_seq >= from_seq),
    PRIMARY KEY (kiosk, epoch, from_seq)
) WITHOUT ROWID;
