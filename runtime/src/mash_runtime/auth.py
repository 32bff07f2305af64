"""Bearer tokens with hub roles (screener, manager, agency, analyst), checked on every HTTP route.

Two kinds of token are accepted, told apart by their signing algorithm:
- the identity provider's (OpenID Connect): public-key signed (RS256 by default), checked against the keys
  the provider publishes at the `jwks_uri` of `<issuer>/.well-known/openid-configuration` (cached; fetched
  again when a token names a key not seen yet), with issuer, audience and expiry checked. Roles come from
  a claim (`roles` by default, optionally renamed through a map) and an agency user's agency from another
  (`agency`). This is how people sign in: the council's identity provider, or locally infra/oidc.sh.
- the hub's own (HS256 with `jwt_secret`): `issue_token` makes them for the demo, the tests and
  operations' break-glass scripts, and intake gives referrers one to follow their contact. Any role is
  accepted in development and test; in production only a referrer's status token is.

A token that is refused gives 401 with a JSON message saying why; a missing role gives 403.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mash_runtime.roles import Role as Role  # re-exported: the token checks and routes name roles from here too
from mash_runtime.settings import HubSettings

ALGORITHM = "HS256"
AUDIENCE = "mash-hub"
HUB_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
AGENCY_ID = re.compile(r"^[a-z][a-z0-9-]{1,39}$")

log = logging.getLogger("mash.auth")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as named in the audit log; `agency` is set for a partner agency's user."""

    subject: str
    roles: frozenset[Role]
    agency: str | None = None
    name: str | None = None

    @property
    def role_names(self) -> str:
        """Roles as one comma-separated text, for audit records."""
        return ",".join(sorted(self.roles))


class TokenRefused(PermissionError):
    """The token is not acceptable (forged, expired, someone else's); the message says why."""


class IdentityProviderUnavailable(RuntimeError):
    """The identity provider's keys could not be fetched, so no token of its can be checked."""


def _principal(subject: Any, roles: frozenset[Role], agency: Any, name: Any) -> Principal:
    if not isinstance(subject, str) or not subject:
        raise TokenRefused("token names no subject")
    if agency is not None and (not isinstance(agency, str) or not AGENCY_ID.match(agency)):
        raise TokenRefused("token names an agency that is not an agency id")
    if Role.AGENCY in roles and agency is None:
        raise TokenRefused("token has the agency role but names no agency")
    return Principal(subject=subject, roles=roles, agency=agency, name=name if isinstance(name, str) else None)


# ------------------------------------------------------------------ the hub's own tokens (HS256)


def issue_token(
    secret: str,
    subject: str,
    roles: list[Role],
    ttl: timedelta = timedelta(hours=8),
    *,
    agency: str | None = None,
    name: str | None = None,
) -> str:
    """A token signed with the hub's secret for `subject` with `roles` (and, for an agency user, `agency`)."""
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject, "roles": [r.value for r in roles], "aud": AUDIENCE, "iat": now, "exp": now + ttl,
    }
    if agency is not None:
        claims["agency"] = agency
    if name is not None:
        claims["name"] = name
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(secret: str, token: str) -> Principal:
    """Check a hub token's signature, audience and expiry; raise TokenRefused with a plain reason otherwise."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE)
    except jwt.ExpiredSignatureError as exc:
        raise TokenRefused("token expired") from exc
    except jwt.PyJWTError as exc:
        raise TokenRefused("token invalid") from exc
    try:
        roles = frozenset(Role(r) for r in claims.get("roles", []))
    except ValueError as exc:
        raise TokenRefused("token names an unknown role") from exc
    return _principal(claims.get("sub"), roles, claims.get("agency"), claims.get("name"))


# ------------------------------------------------------------------ the identity provider's tokens


@dataclass(frozen=True)
class OidcSettings:
    """How to check the identity provider's tokens and read the caller from them (see HubSettings.oidc_*)."""

    issuer: str
    audience: str = AUDIENCE
    algorithms: tuple[str, ...] = ("RS256",)
    roles_claim: str = "roles"
    role_map: Mapping[str, str] = field(default_factory=dict)
    agency_claim: str = "agency"
    name_claim: str = "name"
    leeway_seconds: float = 30.0

    @classmethod
    def from_settings(cls, settings: HubSettings) -> OidcSettings | None:
        """The provider named by the settings, or None when none is configured."""
        if not settings.oidc_issuer:
            return None
        return cls(
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience,
            algorithms=tuple(settings.oidc_algorithm_list()),
            roles_claim=settings.oidc_roles_claim,
            role_map=dict(settings.oidc_role_map),
            agency_claim=settings.oidc_agency_claim,
            name_claim=settings.oidc_name_claim,
            leeway_seconds=settings.oidc_leeway_seconds,
        )


@dataclass(frozen=True)
class _Key:
    kid: str | None
    algorithm: str | None  # the `alg` the provider declares for the key, if it does
    key: Any  # a public key object of `cryptography`


@dataclass(frozen=True)
class _Keys:
    issuer: str
    keys: tuple[_Key, ...]
    fetched_at: float


class JwksCache:
    """An identity provider's signing keys: found through discovery, kept, and fetched again when needed.

    Keys are fetched on first use, again after `max_age_seconds`, and again when a token names a key id
    not among them (a key rotation) -- at most once every `refetch_interval_seconds`, so that tokens with
    made-up key ids cannot make the hub hammer its provider.
    """

    def __init__(
        self,
        issuer: str,
        *,
        max_age_seconds: float = 3600.0,
        refetch_interval_seconds: float = 10.0,
        timeout_seconds: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self._max_age = max_age_seconds
        self._refetch_interval = refetch_interval_seconds
        self._timeout = timeout_seconds
        self._transport = transport
        self._current: _Keys | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def keys(self) -> _Keys:
        """The cached keys, fetched first if there are none yet or they are older than the maximum age."""
        current = self._current
        if current is not None and time.monotonic() - current.fetched_at < self._max_age:
            return current
        async with self._lock:
            current = self._current
            if current is not None and time.monotonic() - current.fetched_at < self._max_age:
                return current
            try:
                self._current = await self._fetch()
            except IdentityProviderUnavailable:
                if current is None:
                    raise
                log.warning("identity provider keys could not be refreshed; using the ones held",
                            extra={"fields": {"issuer": self.issuer}})
                self._current = _Keys(current.issuer, current.keys, time.monotonic())
            return self._current

    async def refetch(self, seen: _Keys) -> _Keys | None:
        """Fetch the keys again after `seen` failed to verify a token; None if done too recently or it fails."""
        async with self._lock:
            current = self._current
            if current is not None and current is not seen:
                return current  # another request has fetched them meanwhile
            if current is not None and time.monotonic() - current.fetched_at < self._refetch_interval:
                return None
            try:
                self._current = await self._fetch()
            except IdentityProviderUnavailable as exc:
                log.warning("identity provider keys could not be refetched: %s", exc)
                return None
            return self._current

    async def _fetch(self) -> _Keys:
        self.fetches += 1
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=self._timeout) as client:
                discovery = await self._json(client, f"{self.issuer}/.well-known/openid-configuration")
                issuer = discovery.get("issuer")
                if not isinstance(issuer, str) or issuer.rstrip("/") != self.issuer:
                    raise IdentityProviderUnavailable(
                        f"the discovery document names issuer {issuer!r}, not {self.issuer!r}"
                    )
                jwks_uri = discovery.get("jwks_uri")
                if not isinstance(jwks_uri, str):
                    raise IdentityProviderUnavailable("the discovery document has no jwks_uri")
                document = await self._json(client, jwks_uri)
        except httpx.HTTPError as exc:
            raise IdentityProviderUnavailable(f"cannot reach the identity provider: {type(exc).__name__}") from exc
        keys: list[_Key] = []
        for jwk in document.get("keys", []):
            if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig" or jwk.get("kty") == "oct":
                continue  # encryption keys and shared secrets are never signing keys of a provider
            try:
                parsed = jwt.PyJWK(jwk)
            except jwt.PyJWTError:
                continue  # a key type this hub cannot use; others may do
            keys.append(_Key(kid=parsed.key_id, algorithm=jwk.get("alg"), key=parsed.key))
        if not keys:
            raise IdentityProviderUnavailable("the identity provider publishes no usable signing keys")
        log.info("identity provider keys fetched", extra={"fields": {"issuer": issuer, "keys": len(keys)}})
        return _Keys(issuer=issuer, keys=tuple(keys), fetched_at=time.monotonic())

    @staticmethod
    async def _json(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
        response = await client.get(url, headers={"Accept": "application/json"})
        if response.status_code != 200:
            raise IdentityProviderUnavailable(f"{url} answered {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise IdentityProviderUnavailable(f"{url} did not answer JSON") from exc
        if not isinstance(body, dict):
            raise IdentityProviderUnavailable(f"{url} did not answer a JSON object")
        return body


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by name; dots reach into objects (e.g. Keycloak's `realm_access.roles`)."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


class TokenVerifier:
    """Checks a bearer token and says who is calling (see the module docstring for the rules)."""

    def __init__(
        self,
        *,
        hub_secret: str | None,
        hub_staff_tokens: bool = True,
        oidc: OidcSettings | None = None,
        jwks: JwksCache | None = None,
    ) -> None:
        self._hub_secret = hub_secret
        self._hub_staff_tokens = hub_staff_tokens
        self._oidc = oidc
        self._jwks = jwks if jwks is not None or oidc is None else JwksCache(oidc.issuer)

    @classmethod
    def from_settings(
        cls, settings: HubSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> TokenVerifier:
        """The verifier the settings describe: hub tokens for any role only in development and test."""
        oidc = OidcSettings.from_settings(settings)
        return cls(
            hub_secret=settings.jwt_secret.get_secret_value(),
            hub_staff_tokens=settings.environment != "production",
            oidc=oidc,
            jwks=JwksCache(oidc.issuer, transport=transport) if oidc else None,
        )

    async def verify(self, token: str) -> Principal:
        """The caller; raises TokenRefused (401) or IdentityProviderUnavailable (503)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenRefused("token invalid") from exc
        algorithm = header.get("alg")
        if algorithm in HUB_ALGORITHMS:
            return self._verify_hub_token(token)
        return await self._verify_provider_token(token, header)

    def _verify_hub_token(self, token: str) -> Principal:
        if not self._hub_secret:
            raise TokenRefused("tokens signed by the hub are not accepted here")
        principal = decode_token(self._hub_secret, token)
        if not self._hub_staff_tokens and principal.roles != {Role.REFERRER}:
            raise TokenRefused("hub-signed tokens are accepted in production only for referrers; "
                               "sign in with the identity provider")
        return principal

    async def _verify_provider_token(self, token: str, header: Mapping[str, Any]) -> Principal:
        oidc, jwks = self._oidc, self._jwks
        if oidc is None or jwks is None:
            raise TokenRefused("token invalid: no identity provider is configured (MASH_OIDC_ISSUER)")
        if header.get("alg") not in oidc.algorithms:
            raise TokenRefused(f"token algorithm {header.get('alg')!r} is not accepted")
        keys = await jwks.keys()
        claims = self._decode_with(token, header, keys, oidc)
        if claims is None:
            refetched = await jwks.refetch(keys)
            if refetched is not None:
                claims = self._decode_with(token, header, refetched, oidc)
        if claims is None:
            raise TokenRefused("token signature does not match the identity provider's keys")
        return self._principal_from(claims, oidc)

    @staticmethod
    def _decode_with(token: str, header: Mapping[str, Any], keys: _Keys, oidc: OidcSettings) -> dict[str, Any] | None:
        """The verified claims, or None if no key verifies the signature; TokenRefused for a bad claim."""
        kid, algorithm = header.get("kid"), header.get("alg")
        candidates = [k for k in keys.keys
                      if (kid is None or k.kid == kid) and k.algorithm in (None, algorithm)]
        for key in candidates:
            try:
                return jwt.decode(
                    token, key.key, algorithms=[str(algorithm)], audience=oidc.audience, issuer=keys.issuer,
                    leeway=oidc.leeway_seconds, options={"require": ["exp", "iat", "iss", "aud", "sub"]},
                )
            except (jwt.InvalidSignatureError, jwt.InvalidKeyError, jwt.InvalidAlgorithmError):
                continue
            except jwt.ExpiredSignatureError as exc:
                raise TokenRefused("token expired") from exc
            except jwt.InvalidAudienceError as exc:
                raise TokenRefused(f"token is not for this audience ({oidc.audience})") from exc
            except jwt.InvalidIssuerError as exc:
                raise TokenRefused("token is from another issuer") from exc
            except jwt.ImmatureSignatureError as exc:
                raise TokenRefused("token is not valid yet") from exc
            except jwt.PyJWTError as exc:
                raise TokenRefused(f"token invalid: {exc}") from exc
        return None

    @staticmethod
    def _principal_from(claims: Mapping[str, Any], oidc: OidcSettings) -> Principal:
        raw = _claim(claims, oidc.roles_claim)
        names: Sequence[Any] = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
        known = {role.value for role in Role}
        roles = frozenset(
            Role(mapped) for name in names if isinstance(name, str)
            if (mapped := oidc.role_map.get(name, name)) in known
        )
        return _principal(claims.get("sub"), roles, _claim(claims, oidc.agency_claim), _claim(claims, oidc.name_claim))


# ------------------------------------------------------------------ FastAPI


def install_token_verifier(app: FastAPI, settings: HubSettings) -> TokenVerifier:
    """Give `app` the verifier its settings describe (done on first use if not called)."""
    verifier = TokenVerifier.from_settings(settings)
    app.state.token_verifier = verifier
    return verifier


def token_verifier(app: FastAPI) -> TokenVerifier:
    """The app's verifier: the one installed, else one from its service's settings, else its jwt_secret's.

    An app with neither a verifier nor a service runtime (a bare test app with `app.state.jwt_secret`) gets
    a development verifier: hub tokens for any role, no identity provider.
    """
    verifier = getattr(app.state, "token_verifier", None)
    if isinstance(verifier, TokenVerifier):
        return verifier
    settings = getattr(getattr(app.state, "runtime", None), "settings", None)
    if isinstance(settings, HubSettings):
        return install_token_verifier(app, settings)
    verifier = TokenVerifier(hub_secret=getattr(app.state, "jwt_secret", None))
    app.state.token_verifier = verifier
    return verifier


_bearer = HTTPBearer(auto_error=False)


def require_roles(*allowed: Role) -> Any:
    """A FastAPI dependency admitting callers holding any of `allowed` (401 without token, 403 wrong role)."""

    async def dependency(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Principal:
        if credentials is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a bearer token is required",
                                headers={"WWW-Authenticate": "Bearer"})
        try:
            principal = await token_verifier(request.app).verify(credentials.credentials)
        except TokenRefused as exc:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc),
                                headers={"WWW-Authenticate": "Bearer"}) from exc
        except IdentityProviderUnavailable as exc:
            log.error("cannot check a token: %s", exc)
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                                "sign-in cannot be checked now: the identity provider does not answer") from exc
        if not principal.roles & set(allowed):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this needs one of the roles: {', '.join(sorted(allowed))}"
            )
        return principal

    return Depends(dependency)
