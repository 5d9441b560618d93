-- Invitations to join a company. A user becomes a member only by accepting one.
--
-- An invitation names the invitee by username, exactly as the owner typed it, and is never
-- checked against `users` when it is made: the answer to "invite X" is then the same whether
-- or not X exists. It is matched to a user when that user lists or accepts their invitations.
-- Rows are deleted when accepted, declined or revoked; expired ones are swept when any
-- invitation is made, so a company holds at most its cap of rows.
CREATE TABLE invitations (
    id          INTEGER PRIMARY KEY,
    company_id  INTEGER NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    username    TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    invited_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;
-- One invitation per company and username (inviting again renews it).
CREATE UNIQUE INDEX invitations_once ON invitations(company_id, username);
CREATE INDEX invitations_by_username ON invitations(username);
CREATE INDEX invitations_by_expiry ON invitations(expires_at);
