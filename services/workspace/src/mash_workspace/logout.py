"""OpenID Connect back-channel logout: the identity provider tells the workspace that a person signed out there.

When a council disables someone's account, or they sign out at the provider, the provider POSTs a logout
token (a JWT it signs, OpenID Connect Back-Channel Logout 1.0) to `/auth/backchannel-logout`. The
workspace checks it as the specification asks -- signature from the provider's JWKS, issuer, audience (our
client id), issued-at, the back-channel logout event, a `sub` or `sid`, and no `nonce` (so an ID token
cannot be replayed as one) -- and ends that person's hub sessions: the provider session's (`sid`) if named,
else all of the person's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import jwt
from mash_runtime.auth import JwksCache

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256")


class LogoutTokenRefused(Exception):
    """The logout token did not pass a check; the reason is safe to give the provider."""


class LogoutTokens:
    """Verifies logout tokens from the workspace's identity provider."""

    def __init__(self, issuer: str, client_id: str, *, transport: httpx.AsyncBaseTransport | None = None,
                 leeway_seconds: float = 60.0) -> None:
        self._jwks = JwksCache(issuer, transport=transport)
        self._client_id = client_id
        self._leeway = leeway_seconds

    async def verify(self, token: str) -> tuple[str | None, str | None]:
        """(sub, sid) of a valid logout token; LogoutTokenRefused otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise LogoutTokenRefused("not a JWT") from exc
        if header.get("alg") not in ALGORITHMS:
            raise LogoutTokenRefused(f"algorithm {header.get('alg')!r} is not accepted")
        keys = await self._jwks.keys()
        claims = self._decode(token, header, keys)
        if claims is None:
            refetched = await self._jwks.refetch(keys)
            claims = self._decode(token, header, refetched) if refetched is not None else None
        if claims is None:
            raise LogoutTokenRefused("no key of the provider verifies the signature")
        events = claims.get("events")
        if not isinstance(events, Mapping) or not isinstance(events.get(BACKCHANNEL_EVENT), Mapping):
            raise LogoutTokenRefused("not a back-channel logout token (no logout event)")
        if "nonce" in claims:
            raise LogoutTokenRefused("a logout token has no nonce")
        sub, sid = claims.get("sub"), claims.get("sid")
        if not isinstance(sub, str) and not isinstance(sid, str):
            raise LogoutTokenRefused("a logout token names a sub or a sid")
        return (sub if isinstance(sub, str) else None, sid if isinstance(sid, str) else None)

    def _decode(self, token: str, header: Mapping[str, Any], keys: Any) -> dict[str, Any] | None:
        kid, algorithm = header.get("kid"), str(header.get("alg"))
        for key in keys.keys:
            if kid is not None and key.kid != kid:
                continue
            try:
                claims: dict[str, Any] = jwt.decode(
                    token, key.key, algorithms=[algorithm], audience=self._client_id, issuer=keys.issuer,
                    leeway=self._leeway, options={"require": ["iat", "iss", "aud", "jti"], "verify_exp": True})
            except (jwt.InvalidSignatureError, jwt.InvalidKeyError, jwt.InvalidAlgorithmError):
                continue
            except jwt.PyJWTError as exc:
                raise LogoutTokenRefused(f"logout token invalid: {exc}") from exc
            return claims
        return None
