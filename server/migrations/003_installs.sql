-- Installs of apps into companies, and the durable outbox of install notifications.

-- Apps are soft-deleted so that their pending notifications can still be delivered.
ALTER TABLE apps ADD COLUMN deleted_at INTEGER;
-- Bumped to rotate the app's webhook secret (derived from the server key, never stored).
ALTER TABLE apps ADD COLUMN webhook_version INTEGER NOT NULL DEFAULT 1;

CREATE TABLE installs (
    id           INTEGER PRIMARY KEY,
    app_id       INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    company_id   INTEGER NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    installed_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    scopes       TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('active', 'uninstalled')),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;
-- One active install per app and company.
CREATE UNIQUE INDEX installs_one_active ON installs(app_id, company_id) WHERE state = 'active';
CREATE INDEX installs_by_company ON installs(company_id);

ALTER TABLE token_families ADD COLUMN install_id INTEGER REFERENCES installs(id) ON DELETE SET NULL;
CREATE INDEX token_families_by_install ON token_families(install_id);
ALTER TABLE authorization_codes ADD COLUMN install_id INTEGER REFERENCES installs(id) ON DELETE CASCADE;

-- Written in the same transaction as the change it announces; delivered by a background worker.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    event_id        TEXT NOT NULL UNIQUE,
    app_id          INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    event_type      TEXT NOT NULL,
    url             TEXT NOT NULL,
    body            TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    failed_at       INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_by_app ON outbox(app_id);
