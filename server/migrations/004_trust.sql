-- Trust boundaries: how an app is registered, how the desktop signs in, single-use login forms.

-- `web` (a server or browser app) or `native` (RFC 8252: an app on the user's device).
-- A public native app with a loopback-IP redirect may use any port (RFC 8252 §7.3).
ALTER TABLE apps ADD COLUMN application_type TEXT NOT NULL DEFAULT 'web'
    CHECK (application_type IN ('web', 'native'));
-- Where the dashboard sends the user to install the app: the app then starts the authorization
-- request itself, with its own PKCE and state (OpenID Connect's `initiate_login_uri`).
ALTER TABLE apps ADD COLUMN install_url TEXT;

-- The desktop signs in through its deep link only; loopback redirects would let any local
-- program that listens on a port receive a dashboard code.
UPDATE apps SET redirect_uris = '["atrium://oauth/callback"]', loopback_any_port = 0,
                application_type = 'native'
 WHERE client_id = 'atrium-desktop';

-- Login forms already used (digest of the form's pre-session id), kept until they expire, so
-- that each form can be submitted once.
CREATE TABLE login_forms_used (
    digest     BLOB PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX login_forms_used_expiry ON login_forms_used(expires_at);
