-- 0001: state and the lookup cache.
-- state holds small named values: the store's epoch, the event seq, boot
-- bookkeeping. Later migrations add the outbox, faults and print jobs.
CREATE TABLE state (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

-- lookup_cache is keyed by HMAC-SHA256(secret, plate + rangka5): a stolen
-- database alone reveals neither plates nor rangka5 (domain/pkb.md 4.2).
-- result is the gateway's result JSON with nopol removed.
CREATE TABLE lookup_cache (
	key         BLOB PRIMARY KEY,
	result      BLOB NOT NULL,
	fetched_at  INTEGER NOT NULL, -- unix milliseconds
	used_at     INTEGER NOT NULL  -- unix milliseconds, for eviction
) STRICT;
CREATE INDEX lookup_cache_used ON lookup_cache(used_at);
