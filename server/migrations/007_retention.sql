-- Indexes for pruning and for paging lists in name order.

-- Pruning finds expired rows by their expiry, a batch at a time, without scanning the tables.
CREATE INDEX access_tokens_by_expiry ON access_tokens(expires_at);
CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens(expires_at);
-- Codes whose family still has tokens are kept (a replay must still revoke them): only codes
-- without a family are candidates, so only they are indexed by expiry.
CREATE INDEX authorization_codes_by_expiry ON authorization_codes(expires_at) WHERE family_id IS NULL;
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
CREATE INDEX outbox_delivered ON outbox(delivered_at) WHERE delivered_at IS NOT NULL;
-- Deleting a token family sets the family of its codes to NULL: find them by family.
CREATE INDEX authorization_codes_by_family ON authorization_codes(family_id);

-- The catalog and a developer's apps are read a page at a time, ordered by (name, id).
CREATE INDEX apps_catalog ON apps(name, id) WHERE deleted_at IS NULL AND first_party = 0;
CREATE INDEX apps_by_developer ON apps(developer_id, name, id) WHERE deleted_at IS NULL;
