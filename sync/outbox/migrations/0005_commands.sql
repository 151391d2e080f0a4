-- 0005: remote commands (DESIGN 4.5). A command id is answered once: the
-- first reply is kept and returned for every repeat, also after a restart.
-- A deferred command waits here (state 'deferred') until the kiosk is idle
-- or it expires.
CREATE TABLE commands (
	id           TEXT PRIMARY KEY,
	verb         TEXT NOT NULL,
	body         BLOB NOT NULL,        -- the request body, to run a deferred command
	requested_by TEXT NOT NULL DEFAULT '',
	received_at  INTEGER NOT NULL,     -- unix milliseconds
	expires_at   INTEGER NOT NULL,     -- unix milliseconds
	reply        BLOB NOT NULL,        -- the first reply, returned for every repeat
	state        TEXT NOT NULL         -- done | pending | deferred | finished
) STRICT;
CREATE INDEX commands_deferred ON commands(state, received_at);
