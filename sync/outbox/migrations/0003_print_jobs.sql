-- 0003: print jobs. Only the job's state is kept, never the slip: after a
-- crash or power cut an unfinished job is marked failed at start and is
-- never printed later for someone else (DESIGN 5), and the slip's plate
-- never lands on disk.
CREATE TABLE print_jobs (
	id         TEXT PRIMARY KEY,
	state      TEXT NOT NULL,   -- queued | printing | done | failed | quarantined
	reason     TEXT NOT NULL,   -- why failed or quarantined, "" otherwise
	created_at INTEGER NOT NULL, -- unix milliseconds
	updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX print_jobs_state ON print_jobs(state);
