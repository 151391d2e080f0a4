-- The last unclean shutdown (power.unclean_shutdown) per kiosk, for the
-- fleet view's power column: a past event, never an active fault.
CREATE TABLE last_unclean (
    kiosk    TEXT PRIMARY KEY,
    at_ns    INTEGER NOT NULL,
    outage_s INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
