-- 0004: the event outbox (DESIGN 4.2, 5). seq is the event's seq within the
-- store's epoch, assigned in the same transaction as the state change that
-- causes the event; the last one assigned is state key 'seq'. Drained in seq
-- order to KIOSK_EVENTS; sent = 1 once the stream acknowledged it.
CREATE TABLE outbox (
	seq  INTEGER PRIMARY KEY,
	id   TEXT NOT NULL UNIQUE, -- UUIDv7, also the Nats-Msg-Id
	type TEXT NOT NULL,
	at   INTEGER NOT NULL,     -- unix milliseconds
	body BLOB NOT NULL,        -- the envelope JSON as published
	sent INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX outbox_unsent ON outbox(sent, seq);
