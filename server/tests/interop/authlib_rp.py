"""A relying party written as a Python developer would write one, with Authlib.

Run by server/tests/api/authlib.rs against a real Atrium server:

    authlib_rp.py ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI

1. discovers the provider (`/.well-known/openid-configuration`);
2. prints `{"authorize": URL}` (a code request with PKCE and a nonce) and reads back the URL the
   user's browser was redirected to, from stdin;
3. exchanges the code, verifies the ID token with the provider's JWKS (signature, iss, aud,
   exp, nonce, at_hash), calls userinfo, and checks that a tampered ID token is refused;
4. prints `{"claims": ..., "userinfo": ..., "alg": ..., "tampered_refused": true}`.

Any failure raises, and the process exits non-zero.
"""

import base64
import json
import sys

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.jose.errors import BadSignatureError
from authlib.oidc.core import CodeIDToken


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main() -> None:
    issuer, client_id, client_secret, redirect_uri = sys.argv[1:5]
    meta = requests.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert meta["issuer"] == issuer, meta["issuer"]
    session = OAuth2Session(
        client_id,
        client_secret,
        scope="openid profile",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )
    nonce = generate_token(24)
    verifier = generate_token(48)
    url, _state = session.create_authorization_url(
        meta["authorization_endpoint"], nonce=nonce, code_verifier=verifier
    )
    print(json.dumps({"authorize": url}), flush=True)
    callback = sys.stdin.readline().strip()
    token = session.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    keys = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
    options = {"iss": {"essential": True, "values": [meta["issuer"]]}}
    params = {"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]}
    claims = jwt.decode(
        token["id_token"], keys, claims_cls=CodeIDToken, claims_options=options, claims_params=params
    )
    claims.validate()
    header = json.loads(base64.urlsafe_b64decode(token["id_token"].split(".")[0] + "=="))

    head, payload, signature = token["id_token"].split(".")
    forged = dict(claims)
    forged["sub"] = "1"
    tampered = ".".join([head, b64(json.dumps(forged).encode()), signature])
    try:
        jwt.decode(tampered, keys)
        tampered_refused = False
    except BadSignatureError:
        tampered_refused = True

    userinfo = session.get(meta["userinfo_endpoint"], timeout=10).json()
    print(
        json.dumps(
            {
                "claims": dict(claims),
                "userinfo": userinfo,
                "alg": header["alg"],
                "tampered_refused": tampered_refused,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
