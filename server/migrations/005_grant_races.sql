-- What lets concurrent grant steps agree, and lets a client retry a refresh whose answer it lost.

-- Set when a used code comes back. An exchange that writes its tokens after this was set
-- issues nothing: "replay seen" implies "nothing of the code's grant is live".
ALTER TABLE authorization_codes ADD COLUMN replayed_at INTEGER;

-- The latest rotation of each token family, kept for the reuse interval: a retry with the
-- rotated refresh token, while the new one is unused, gets the same new pair. The pair is not
-- stored: it derives from the salt, the server key and the OLD refresh token (of which only the
-- digest is stored), so this table alone reveals nothing. A family's next rotation replaces
-- its row, so a row always names the family's newest pair.
CREATE TABLE refresh_retries (
    family_id         INTEGER PRIMARY KEY REFERENCES token_families(id) ON DELETE CASCADE,
    old_digest        BLOB NOT NULL,
    salt              BLOB NOT NULL,
    access_expires_at INTEGER NOT NULL,
    until             INTEGER NOT NULL
) STRICT;
CREATE INDEX refresh_retries_by_until ON refresh_retries(until);
