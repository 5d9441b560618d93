-- Signing out of the desktop ends the browser session it signed in with (OpenID Connect
-- RP-Initiated Logout). The desktop asks for `openid` at sign-in, so that it holds an ID token
-- to send as the `id_token_hint` (which names it and the user: the server then signs the
-- browser out without asking), and the server sends the browser back to the desktop's deep
-- link `atrium://signed-out` afterwards, named like its other links (`atrium://oauth/callback`,
-- `atrium://install-complete`).
UPDATE apps
   SET scopes = CASE WHEN ' ' || scopes || ' ' LIKE '% openid %' THEN scopes
                     ELSE scopes || ' openid' END,
       post_logout_redirect_uris = '["atrium://signed-out"]'
 WHERE client_id = 'atrium-desktop' AND first_party = 1;
