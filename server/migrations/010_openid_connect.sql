-- OpenID Connect: versioned signing keys, what an ID token needs from its code, and the
-- OpenID fields of a client.

-- One row per signing-key version; the highest version signs, older ones stay published until
-- what they signed has expired (`retired_at` plus the longest token lifetime).
-- The version's RSA private key (PKCS#8) is generated at random and stored only wrapped:
-- AES-256-GCM under a key derived from the master key file, which never enters the database
-- (`nonce || ciphertext || tag`). The version's Ed25519 key is derived from the master key and
-- stored nowhere. See src/jose.rs.
CREATE TABLE signing_keys (
    version     INTEGER PRIMARY KEY,
    rsa_wrapped BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER
) STRICT;

-- An authorization request with the `openid` scope: the `nonce` to echo in the ID token, and
-- when the user signed in (`auth_time`).
ALTER TABLE authorization_codes ADD COLUMN nonce TEXT;
ALTER TABLE authorization_codes ADD COLUMN auth_time INTEGER;

-- The algorithm the client registered for its ID tokens (OpenID Connect Registration
-- `id_token_signed_response_alg`); RS256 unless it asked for EdDSA.
ALTER TABLE apps ADD COLUMN id_token_signed_response_alg TEXT NOT NULL DEFAULT 'RS256'
    CHECK (id_token_signed_response_alg IN ('RS256', 'EdDSA'));
-- Where RP-initiated logout may send the user back to (JSON array of exact URIs).
ALTER TABLE apps ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';
