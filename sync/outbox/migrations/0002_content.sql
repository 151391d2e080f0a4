-- 0002: the help and information pages (DESIGN 4.1 hub.content.<id>).
-- One row: the last bundle the kiosk got (or the built-in default), kept so
-- that the pages survive restarts and hub outages.
CREATE TABLE content (
	id          INTEGER PRIMARY KEY CHECK (id = 1),
	version     INTEGER NOT NULL,
	bundle      BLOB NOT NULL,    -- the bundle JSON as received
	received_at INTEGER NOT NULL  -- unix milliseconds
) STRICT;
