-- Users, companies, apps (OAuth clients), sessions and grant artefacts.
-- Secrets are never stored: only SHA-256 digests (BLOB, 32 bytes) or argon2id hashes.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    email         TEXT,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    joined_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE companies (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE memberships (
    company_id INTEGER NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    PRIMARY KEY (company_id, user_id)
) STRICT;
CREATE INDEX memberships_by_user ON memberships(user_id);

-- An app and its OAuth client, 1:1.
CREATE TABLE apps (
    id                 INTEGER PRIMARY KEY,
    client_id          TEXT NOT NULL UNIQUE,
    secret_digest      BLOB,            -- NULL for public clients
    name               TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    developer_id       INTEGER REFERENCES users(id) ON DELETE SET NULL,
    redirect_uris      TEXT NOT NULL,   -- JSON array of exact URIs
    iframe_url         TEXT,
    webhook_url        TEXT,
    scopes             TEXT NOT NULL,   -- space-separated, what the app may ask for
    allow_code         INTEGER NOT NULL,
    allow_token        INTEGER NOT NULL,
    first_party        INTEGER NOT NULL DEFAULT 0,
    loopback_any_port  INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL
) STRICT;

-- Atrium's own desktop client: public, PKCE required, consent implied (RFC 8252).
INSERT INTO apps (client_id, secret_digest, name, description, developer_id, redirect_uris,
                  scopes, allow_code, allow_token, first_party, loopback_any_port, created_at)
VALUES ('atrium-desktop', NULL, 'Atrium', 'The Atrium desktop dashboard', NULL,
        '["atrium://oauth/callback","http://127.0.0.1/callback","http://[::1]/callback"]',
        'profile email company company.members dashboard', 1, 0, 1, 1, unixepoch());

CREATE TABLE sessions (
    digest     BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- One grant: the tokens issued from one authorization (code, implicit or client credentials).
-- Refresh-token rotation keeps the family; revoking the family revokes every token in it.
CREATE TABLE token_families (
    id          INTEGER PRIMARY KEY,
    app_id      INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user_id     INTEGER REFERENCES users(id) ON DELETE CASCADE,
    company_id  INTEGER REFERENCES companies(id) ON DELETE CASCADE,
    scopes      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;

CREATE TABLE authorization_codes (
    digest         BLOB PRIMARY KEY,
    app_id         INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    company_id     INTEGER REFERENCES companies(id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    code_challenge TEXT,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    family_id      INTEGER REFERENCES token_families(id) ON DELETE SET NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE access_tokens (
    digest     BLOB PRIMARY KEY,
    family_id  INTEGER NOT NULL REFERENCES token_families(id) ON DELETE CASCADE,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX access_tokens_by_family ON access_tokens(family_id);

CREATE TABLE refresh_tokens (
    digest     BLOB PRIMARY KEY,
    family_id  INTEGER NOT NULL REFERENCES token_families(id) ON DELETE CASCADE,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    rotated_at INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX refresh_tokens_by_family ON refresh_tokens(family_id);
