-- Signing out of the desktop ends the browser session it signed in with: the desktop may ask
-- for `openid` (its ID token is the logout's `id_token_hint`) and the server may send the
-- browser back to `atrium://signed-out`. See ../013_desktop_logout.sql.
UPDATE apps
   SET scopes = CASE WHEN ' ' || scopes || ' ' LIKE '% openid %' THEN scopes
                     ELSE scopes || ' openid' END,
       post_logout_redirect_uris = '["atrium://signed-out"]'
 WHERE client_id = 'atrium-desktop' AND first_party;
