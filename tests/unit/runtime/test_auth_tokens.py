"""Token checks: the identity provider's RS256 tokens (keys from its JWKS) and the hub's own HS256 ones.

The provider here is a function answering discovery and JWKS requests in memory (httpx.MockTransport),
with keys generated per test, so rotation, forgery and outages can be staged exactly.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from mash_runtime.auth import (
    IdentityProviderUnavailable,
    JwksCache,
    OidcSettings,
    Principal,
    Role,
    TokenRefused,
    TokenVerifier,
    issue_token,
    require_roles,
)
from mash_runtime.http import install_error_handlers
from mash_runtime.settings import DEVELOPMENT_JWT_SECRET, HubSettings
from pydantic import ValidationError

pytestmark = pytest.mark.unit

ISSUER = "https://idp.council.example"
AUDIENCE = "mash-hub"
HUB_SECRET = "unit-test-hub-secret-0123456789abcdef"
PRODUCTION_SEALING_KEY = "cHJvZHVjdGlvbi1saWtlLXNlYWxpbmcta2V5LTAwMDA="


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class FakeProvider:
    """Discovery and JWKS of an identity provider, answered by a function; counts requests."""

    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=lambda: {"key-1": new_key()})
    issuer_in_discovery: str = ISSUER
    down: bool = False
    jwks_requests: int = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={"issuer": self.issuer_in_discovery, "jwks_uri": f"{ISSUER}/jwks"})
        if request.url.path == "/jwks":
            self.jwks_requests += 1
            jwks = []
            for kid, key in self.keys.items():
                jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
                jwks.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
            return httpx.Response(200, json={"keys": jwks})
        return httpx.Response(404)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def token(self, kid: str | None = "key-1", *, key: rsa.RSAPrivateKey | None = None, **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"iss": ISSUER, "sub": "morgan.manager", "aud": AUDIENCE, "iat": now,
                                  "exp": now + 300, "roles": ["manager"], "name": "Morgan Patel"}
        claims.update(overrides)
        claims = {name: value for name, value in claims.items() if value is not None}
        signer = key or self.keys[kid or "key-1"]
        headers = {"kid": kid} if kid else {}
        return jwt.encode(claims, signer, algorithm="RS256", headers=headers)


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider()


def verifier_for(provider: FakeProvider, *, refetch_interval: float = 0.0, **oidc: Any) -> TokenVerifier:
    settings = OidcSettings(issuer=ISSUER, audience=AUDIENCE, **oidc)
    jwks = JwksCache(ISSUER, transport=provider.transport(), refetch_interval_seconds=refetch_interval)
    return TokenVerifier(hub_secret=HUB_SECRET, oidc=settings, jwks=jwks)


async def refused(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(TokenRefused) as caught:
        await verifier.verify(token)
    return str(caught.value)


# ------------------------------------------------------------------ the provider's tokens


async def test_a_provider_token_gives_the_subject_roles_and_name(provider: FakeProvider) -> None:
    principal = await verifier_for(provider).verify(provider.token())

    assert principal == Principal(subject="morgan.manager", roles=frozenset({Role.MANAGER}), name="Morgan Patel")


async def test_an_agency_users_agency_comes_from_the_agency_claim(provider: FakeProvider) -> None:
    token = provider.token(sub="pat.police", roles=["agency"], agency="police")

    principal = await verifier_for(provider).verify(token)

    assert principal.roles == {Role.AGENCY}
    assert principal.agency == "police"


async def test_an_agency_role_without_an_agency_is_refused(provider: FakeProvider) -> None:
    assert "names no agency" in await refused(verifier_for(provider), provider.token(roles=["agency"]))


async def test_an_agency_claim_that_is_not_an_agency_id_is_refused(provider: FakeProvider) -> None:
    token = provider.token(roles=["agency"], agency="Police; DROP")

    assert "not an agency id" in await refused(verifier_for(provider), token)


async def test_a_token_signed_with_another_key_under_a_known_key_id_is_refused(provider: FakeProvider) -> None:
    forged = provider.token(key=new_key())

    assert "signature" in await refused(verifier_for(provider), forged)


async def test_an_expired_token_is_refused(provider: FakeProvider) -> None:
    now = int(time.time())
    token = provider.token(iat=now - 3600, exp=now - 600)

    assert await refused(verifier_for(provider), token) == "token expired"


async def test_a_token_from_another_issuer_is_refused(provider: FakeProvider) -> None:
    token = provider.token(iss="https://somewhere-else.example")

    assert await refused(verifier_for(provider), token) == "token is from another issuer"


async def test_a_token_for_another_audience_is_refused(provider: FakeProvider) -> None:
    token = provider.token(aud="mash-workspace")  # e.g. an ID token, whose audience is the client

    assert "audience" in await refused(verifier_for(provider), token)


async def test_a_token_without_expiry_is_refused(provider: FakeProvider) -> None:
    token = provider.token(exp=None)

    assert "exp" in await refused(verifier_for(provider), token)


async def test_an_unsigned_token_is_refused(provider: FakeProvider) -> None:
    now = int(time.time())
    unsigned = jwt.encode({"iss": ISSUER, "sub": "x", "aud": AUDIENCE, "iat": now, "exp": now + 60,
                           "roles": ["manager"]}, "", algorithm="none")

    assert "not accepted" in await refused(verifier_for(provider), unsigned)


async def test_an_hs256_token_keyed_with_the_providers_public_key_is_refused(provider: FakeProvider) -> None:
    """The algorithm-confusion attack: HS256 goes to the hub's secret, never to the provider's keys."""
    public_pem = provider.keys["key-1"].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "x", "aud": AUDIENCE, "iat": now, "exp": now + 60, "roles": ["manager"]}

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    # PyJWT will not HMAC with a PEM key, so sign by hand as an attacker would.
    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{b64(json.dumps(claims).encode())}"
    confused = f"{signing_input}.{b64(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())}"

    assert await refused(verifier_for(provider), confused) == "token invalid"


async def test_keys_are_fetched_once_and_kept(provider: FakeProvider) -> None:
    verifier = verifier_for(provider)

    for _ in range(5):
        await verifier.verify(provider.token())

    assert provider.jwks_requests == 1


async def test_a_new_key_id_makes_the_keys_be_fetched_again(provider: FakeProvider) -> None:
    verifier = verifier_for(provider)
    await verifier.verify(provider.token())
    provider.keys = {"key-2": new_key()}  # the provider rotates its key

    principal = await verifier.verify(provider.token("key-2"))

    assert principal.subject == "morgan.manager"
    assert provider.jwks_requests == 2


async def test_made_up_key_ids_cannot_make_the_hub_refetch_more_than_once_per_interval(
    provider: FakeProvider,
) -> None:
    verifier = verifier_for(provider, refetch_interval=60.0)
    await verifier.verify(provider.token())

    for n in range(5):
        forged = provider.token(f"made-up-{n}", key=new_key())
        assert "signature" in await refused(verifier, forged)

    assert provider.jwks_requests == 1  # the keys were fetched less than the interval ago


async def test_a_token_without_a_key_id_is_checked_against_every_key(provider: FakeProvider) -> None:
    provider.keys["key-2"] = new_key()
    token = provider.token(None, key=provider.keys["key-2"])

    principal = await verifier_for(provider).verify(token)

    assert principal.roles == {Role.MANAGER}


async def test_a_discovery_document_naming_another_issuer_is_not_trusted(provider: FakeProvider) -> None:
    provider.issuer_in_discovery = "https://impostor.example"

    with pytest.raises(IdentityProviderUnavailable, match="issuer"):
        await verifier_for(provider).verify(provider.token())


async def test_roles_can_be_renamed_and_read_from_a_nested_claim(provider: FakeProvider) -> None:
    verifier = verifier_for(provider, roles_claim="realm_access.roles",
                            role_map={"MASH-Screeners": "screener", "MASH-Managers": "manager"})
    token = provider.token(roles=None, realm_access={"roles": ["MASH-Screeners", "offline_access", "analyst"]})

    principal = await verifier.verify(token)

    assert principal.roles == {Role.SCREENER, Role.ANALYST}  # unknown names are ignored, never an error


async def test_a_provider_token_is_refused_when_no_provider_is_configured(provider: FakeProvider) -> None:
    verifier = TokenVerifier(hub_secret=HUB_SECRET)

    assert "no identity provider" in await refused(verifier, provider.token())


# ------------------------------------------------------------------ the hub's own tokens


def production_settings(**overrides: Any) -> HubSettings:
    values: dict[str, Any] = {"environment": "production", "jwt_secret": HUB_SECRET,
                              "sealing_keys": PRODUCTION_SEALING_KEY, "oidc_issuer": ISSUER}
    values.update(overrides)
    return HubSettings(**values)


async def test_hub_tokens_carry_any_role_and_the_agency_in_development() -> None:
    settings = HubSettings(environment="development", jwt_secret=HUB_SECRET, oidc_issuer=None)
    verifier = TokenVerifier.from_settings(settings)

    principal = await verifier.verify(issue_token(HUB_SECRET, "pat.police", [Role.AGENCY], agency="police"))

    assert principal.roles == {Role.AGENCY}
    assert principal.agency == "police"


async def test_hub_signed_staff_tokens_are_refused_in_production(provider: FakeProvider) -> None:
    verifier = TokenVerifier.from_settings(production_settings(), transport=provider.transport())

    message = await refused(verifier, issue_token(HUB_SECRET, "Mo Patel", [Role.MANAGER]))

    assert "identity provider" in message


async def test_a_referrers_status_token_still_works_in_production(provider: FakeProvider) -> None:
    verifier = TokenVerifier.from_settings(production_settings(), transport=provider.transport())

    principal = await verifier.verify(issue_token(HUB_SECRET, "ref-123", [Role.REFERRER], timedelta(days=30)))

    assert principal.roles == {Role.REFERRER}


async def test_provider_tokens_are_accepted_in_production(provider: FakeProvider) -> None:
    verifier = TokenVerifier.from_settings(production_settings(), transport=provider.transport())

    assert (await verifier.verify(provider.token())).roles == {Role.MANAGER}


async def test_a_hub_token_signed_with_another_secret_is_refused() -> None:
    verifier = TokenVerifier(hub_secret=HUB_SECRET)

    assert await refused(verifier, issue_token("another-secret-of-enough-length!", "x", [Role.MANAGER])) == \
        "token invalid"


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"oidc_issuer": None}, "oidc_issuer"),
        ({"oidc_issuer": "http://idp.council.example"}, "https"),
        ({"oidc_algorithms": "RS256,HS256"}, "oidc_algorithms"),
    ],
)
def test_production_settings_demand_an_https_identity_provider_and_public_key_algorithms(
    overrides: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        production_settings(**overrides)


def test_the_development_secret_stays_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="jwt_secret"):
        production_settings(jwt_secret=DEVELOPMENT_JWT_SECRET)


# ------------------------------------------------------------------ over HTTP


async def get(app_or_verifier: FastAPI | TokenVerifier, path: str, token: str) -> httpx.Response:
    app = app_or_verifier if isinstance(app_or_verifier, FastAPI) else guarded(app_or_verifier)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        return await client.get(path, headers={"Authorization": f"Bearer {token}"})


def guarded(verifier: TokenVerifier) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.state.token_verifier = verifier

    @app.get("/decisions")
    async def decisions(principal: Annotated[Principal, require_roles(Role.MANAGER)]) -> dict[str, str]:
        return {"who": principal.subject}

    return app


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda p: p.token(key=new_key()), "signature"),
        (lambda p: p.token(exp=int(time.time()) - 600, iat=int(time.time()) - 900), "expired"),
        (lambda p: p.token(iss="https://elsewhere.example"), "issuer"),
        (lambda p: p.token(aud="someone-else"), "audience"),
    ],
)
async def test_a_refused_token_is_a_401_with_a_json_message(
    provider: FakeProvider, make_token: Callable[[FakeProvider], str], reason: str
) -> None:
    response = await get(verifier_for(provider), "/decisions", make_token(provider))

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"] == "http_error"
    assert reason in response.json()["message"]


async def test_a_good_token_without_the_role_is_a_403(provider: FakeProvider) -> None:
    response = await get(verifier_for(provider), "/decisions", provider.token(roles=["screener"]))

    assert response.status_code == 403


async def test_a_good_token_with_the_role_is_admitted(provider: FakeProvider) -> None:
    response = await get(verifier_for(provider), "/decisions", provider.token())

    assert response.status_code == 200
    assert response.json() == {"who": "morgan.manager"}


async def test_an_unreachable_provider_is_a_503_not_a_401(provider: FakeProvider) -> None:
    provider.down = True

    response = await get(verifier_for(provider), "/decisions", provider.token())

    assert response.status_code == 503
    assert "identity provider" in response.json()["message"]


async def test_a_bare_app_with_only_a_jwt_secret_takes_hub_tokens_as_before() -> None:
    app = FastAPI()
    app.state.jwt_secret = HUB_SECRET

    @app.get("/who")
    async def who(principal: Annotated[Principal, require_roles(Role.SCREENER)]) -> dict[str, str]:
        return {"who": principal.subject}

    response = await get(app, "/who", issue_token(HUB_SECRET, "Jo Reed", [Role.SCREENER]))

    assert response.json() == {"who": "Jo Reed"}
