-- Failed sign-ins, counted for the back-off (see src/store/login_throttle.rs). A fixed-size
-- hash table: a key (a 16-byte keyed hash of a username or a client network, never the name
-- or address itself) holds the slot its hash picks, so the table has at most as many rows as
-- there are slots. A count is forgotten at `forget_at` (Unix seconds) and then pruned.
CREATE TABLE login_backoff (
    slot            INTEGER PRIMARY KEY,
    digest          BLOB NOT NULL CHECK (length(digest) = 16),
    failures        INTEGER NOT NULL CHECK (failures > 0),
    last_failure_ms INTEGER NOT NULL,
    forget_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX login_backoff_by_forget_at ON login_backoff(forget_at);
