"""The local OpenID Connect provider: `oidc-provider-mock` with the hub's demo users and JWT access tokens.

    .venv/bin/python infra/oidc/provider.py --host 127.0.0.1 --port 9400 [--users infra/oidc/users.yaml]
        [--audience mash-hub] [--token-max-age 3600] [--refresh-token-max-age 28800]

What it serves (the mock's own endpoints): discovery at /.well-known/openid-configuration, the sign-in
page at /oauth2/authorize (type a user name in the `sub` field, or press one of the demo users' buttons),
/oauth2/token, /userinfo, /jwks (one RSA key, made afresh at every start), /oauth2/end_session, and
PUT /users/<sub> to add or replace a user's claims.

Five things it adds to the mock, for the hub:
- the demo users from users.yaml are loaded into the provider before its port opens, so there is no moment
  at which a sign-in finds them missing (and the sign-in page offers them as one-click buttons);
- access tokens are RS256 JWTs (RFC 9068 shape: header typ `at+jwt` with the key's `kid`; claims iss, sub,
  aud = --audience, iat, nbf, exp, jti, client_id, scope, and the user's claims: roles, agency, name,
  email), signed with the key the provider publishes in its JWKS. The mock on its own hands out opaque
  access tokens that only its /userinfo understands; a council's identity provider gives an API a JWT
  access token for its audience, and this is what the hub's services verify. A user whose claims carry
  `token_max_age` (seconds; PUT /users/<sub>) gets access tokens that short-lived, and the claim is not put
  in the token: the tests use it to have a token expire during a session without shortening everyone's;
- refresh tokens that end: the mock issues one with every sign-in and takes it at /oauth2/token
  (grant_type=refresh_token, the same refresh token again, a new access token each time) but never lets
  it expire. Here it is refused (400 invalid_grant) --refresh-token-max-age seconds after it was issued,
  as a council's provider ends a sign-in after a working day; `POST /users/<sub>/revoke-tokens` (the
  mock's) revokes a user's refresh tokens at once;
- RP-initiated logout without the mock's confirmation page: /oauth2/end_session with a
  `post_logout_redirect_uri` sends the browser straight back there (with `state`), as a council's provider
  does for a client it knows;
- back-channel logout (OpenID Connect Back-Channel Logout 1.0): `POST /users/<sub>/logout` stands for the
  council disabling an account or the person signing out everywhere. It signs a logout token for the user
  (iss, aud = --logout-audience, iat, exp, jti, sub, the back-channel logout event; no nonce) with the key
  in its JWKS, POSTs it as `logout_token` to each --backchannel-logout-uri, and answers with the token and
  what each receiver said.

The issuer is the address clients use to reach the provider (the mock takes it from the request), so use
http://127.0.0.1:<port> everywhere. Local development and tests only: it asks for no password.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
import uvicorn
import yaml

with warnings.catch_warnings():
    # authlib (under the mock) warns about its own deprecated modules on import; nothing to act on here.
    import authlib.deprecate  # noqa: F401 - it turns its own warnings to "always" when imported; override after

    warnings.simplefilter("ignore", DeprecationWarning)
    import flask
    import oidc_provider_mock  # type: ignore[import-untyped]

DEFAULT_USERS = Path(__file__).with_name("users.yaml")
DEFAULT_AUDIENCE = "mash-hub"
DEFAULT_TOKEN_MAX_AGE = 3600
DEFAULT_REFRESH_TOKEN_MAX_AGE = 8 * 3600  # the workspace's absolute session limit: a working day
TOKEN_MAX_AGE_CLAIM = "token_max_age"  # noqa: S105 - a claim name: a user's access-token lifetime (tests)
DEFAULT_LOGOUT_AUDIENCE = "mash-workspace"
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
HUB_ROLES = frozenset({"screener", "manager", "agency", "analyst", "referrer", "operations", "practice_lead"})
PEOPLE_CLAIMS = ("name", "email")

log = logging.getLogger("mash.oidc")


def load_users(path: Path = DEFAULT_USERS) -> dict[str, dict[str, Any]]:
    """User name -> claims, from users.yaml; raises ValueError naming the entry at fault."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, Mapping) or not isinstance(document.get("users"), Mapping):
        raise ValueError(f"{path}: expected a mapping with a `users` mapping")
    users: dict[str, dict[str, Any]] = {}
    for sub, claims in document["users"].items():
        where = f"{path}: user {sub!r}"
        if not isinstance(sub, str) or not sub or not isinstance(claims, Mapping):
            raise ValueError(f"{where}: expected `name: {{claims}}`")
        for claim in PEOPLE_CLAIMS:
            if not isinstance(claims.get(claim), str) or not claims[claim]:
                raise ValueError(f"{where}: `{claim}` is required")
        roles = claims.get("roles")
        if not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles):
            raise ValueError(f"{where}: `roles` must be a non-empty list of role names")
        unknown = set(roles) - HUB_ROLES
        if unknown:
            raise ValueError(f"{where}: unknown roles {sorted(unknown)}; the hub's roles are {sorted(HUB_ROLES)}")
        agency = claims.get("agency")
        if ("agency" in roles) != isinstance(agency, str):
            raise ValueError(f"{where}: an `agency` claim is required with the agency role, and only with it")
        users[sub] = dict(claims)
    return users


def build_app(
    users: Mapping[str, Mapping[str, Any]],
    *,
    audience: str = DEFAULT_AUDIENCE,
    token_max_age: int = DEFAULT_TOKEN_MAX_AGE,
    refresh_token_max_age: int = DEFAULT_REFRESH_TOKEN_MAX_AGE,
    backchannel_logout_uris: Sequence[str] = (),
    logout_audience: str = DEFAULT_LOGOUT_AUDIENCE,
    now: Callable[[], float] = time.time,
) -> flask.Flask:
    """The provider as a WSGI app: the mock's endpoints, the users preloaded, JWT access tokens, refresh, logout.

    `now` is the provider's time in seconds (tests move it to pass the refresh token's end).
    """
    refresh_issued: dict[str, float] = {}  # refresh token -> when it was issued (the mock keeps no such time)

    def access_token(client: Any, grant_type: str, user: Any, scope: str) -> str:
        # Called by authlib inside the token request: the issuer is the one the mock's discovery and ID
        # tokens name, and the key is the one its /jwks publishes (0.3.x keeps it on flask.g).
        key = flask.g.oidc_provider_mock_storage.jwk
        issued = int(now())
        lifetime = user.claims.get(TOKEN_MAX_AGE_CLAIM, token_max_age)
        claims: dict[str, Any] = {
            **{name: value for name, value in user.claims.items() if name != TOKEN_MAX_AGE_CLAIM},
            "iss": flask.request.host_url.rstrip("/"),
            "sub": user.sub,
            "aud": audience,
            "iat": issued,
            "nbf": issued,
            "exp": issued + int(lifetime),
            "jti": secrets.token_urlsafe(16),
            "client_id": client.get_client_id(),
            "scope": scope or "",
        }
        headers = {"kid": key.thumbprint(), "typ": "at+jwt"}
        return jwt.encode(claims, key.as_pem(is_private=True), algorithm="RS256", headers=headers)

    # Named after the mock's package so that Flask finds the mock's page templates.
    app = flask.Flask(oidc_provider_mock.__name__)
    app.config["OAUTH2_ACCESS_TOKEN_GENERATOR"] = access_token
    oidc_provider_mock.init_app(
        app,
        user_claims=[oidc_provider_mock.User(sub=sub, claims=dict(claims)) for sub, claims in users.items()],
        access_token_max_age=timedelta(seconds=token_max_age),
    )
    app.secret_key = secrets.token_bytes(32)

    @app.before_request
    def refuse_an_old_refresh_token() -> Any:
        if flask.request.path != "/oauth2/token" or flask.request.form.get("grant_type") != "refresh_token":
            return None
        issued = refresh_issued.get(flask.request.form.get("refresh_token") or "")
        if issued is None or now() - issued < refresh_token_max_age:
            return None  # unknown here (revoked, or from before a restart): the mock refuses it as invalid
        return flask.jsonify({"error": "invalid_grant", "error_description": "the refresh token has expired"}), 400

    @app.after_request
    def note_refresh_tokens(response: flask.Response) -> flask.Response:
        if flask.request.path == "/oauth2/token" and response.status_code == 200 and response.is_json:
            refresh_token = (response.get_json(silent=True) or {}).get("refresh_token")
            if isinstance(refresh_token, str):
                refresh_issued.setdefault(refresh_token, now())
        return response

    @app.before_request
    def end_session_at_once() -> Any:
        # RP-initiated logout: the mock shows a confirmation page first; a council's provider sends a known
        # client's user straight back. Nothing else to end: the mock keeps no sign-in session of its own.
        if flask.request.path != "/oauth2/end_session":
            return None
        back = flask.request.values.get("post_logout_redirect_uri")
        if not back or not back.startswith(("http://127.0.0.1:", "http://localhost:", "https://")):
            return None
        state = flask.request.values.get("state")
        separator = "&" if "?" in back else "?"
        return flask.redirect(back + (f"{separator}{urlencode({'state': state})}" if state else ""))

    @app.post("/users/<sub>/logout")
    def backchannel_logout(sub: str) -> Any:
        key = flask.g.oidc_provider_mock_storage.jwk
        issued = int(now())
        claims = {"iss": flask.request.host_url.rstrip("/"), "aud": logout_audience, "iat": issued,
                  "exp": issued + 120,
                  "jti": secrets.token_urlsafe(16), "sub": sub, "events": {BACKCHANNEL_EVENT: {}}}
        token = jwt.encode(claims, key.as_pem(is_private=True), algorithm="RS256",
                           headers={"kid": key.thumbprint(), "typ": "logout+jwt"})
        delivered: dict[str, int | str] = {}
        for uri in backchannel_logout_uris:
            try:
                answer = httpx.post(uri, data={"logout_token": token}, timeout=5.0)
                delivered[uri] = answer.status_code
            except httpx.HTTPError as exc:
                delivered[uri] = f"not delivered: {type(exc).__name__}"
        log.info("back-channel logout for %s: %s", sub, delivered)
        return flask.jsonify({"logout_token": token, "delivered": delivered})

    return app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("MASH_OIDC_PORT", "9400")))
    parser.add_argument("--users", type=Path, default=DEFAULT_USERS, help="the demo users (users.yaml)")
    parser.add_argument("--audience", default=os.environ.get("MASH_OIDC_AUDIENCE", DEFAULT_AUDIENCE),
                        help="`aud` of the access tokens (the services' MASH_OIDC_AUDIENCE)")
    parser.add_argument("--token-max-age", type=int, default=DEFAULT_TOKEN_MAX_AGE,
                        help="seconds until access and ID tokens expire")
    parser.add_argument("--refresh-token-max-age", type=int, default=DEFAULT_REFRESH_TOKEN_MAX_AGE,
                        help="seconds after which a refresh token is refused (default 8 hours)")
    parser.add_argument("--backchannel-logout-uri", action="append", default=[],
                        help="where to POST logout tokens (the workspace's /auth/backchannel-logout); repeatable")
    parser.add_argument("--logout-audience", default=DEFAULT_LOGOUT_AUDIENCE,
                        help="`aud` of logout tokens: the client id of the receiver (default mash-workspace)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # plain http on loopback; the mock needs this
    try:
        users = load_users(args.users)
    except (OSError, ValueError) as exc:
        log.error("cannot load the demo users: %s", exc)
        return 2
    app = build_app(users, audience=args.audience, token_max_age=args.token_max_age,
                    refresh_token_max_age=args.refresh_token_max_age,
                    backchannel_logout_uris=args.backchannel_logout_uri, logout_audience=args.logout_audience)
    config = uvicorn.Config(app, interface="wsgi", host=args.host, port=args.port, log_config=None,
                            access_log=False)
    server = uvicorn.Server(config)
    log.info("OpenID Connect provider: issuer http://%s:%d, %d demo users, access tokens for %r",
             args.host, args.port, len(users), args.audience)
    server.run()
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
