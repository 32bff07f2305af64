"""The real local OpenID Connect provider (infra/oidc) and the services' token checks, over HTTP.

Needs neither Kafka nor the store: the provider runs as its own process on a free port, people sign in
through its real authorization-code flow, and a tiny FastAPI app guarded by `require_roles` takes the
tokens exactly as the services do.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from mash_runtime.auth import Principal, Role, TokenVerifier, require_roles
from mash_runtime.http import install_error_handlers
from mash_runtime.settings import HubSettings

from demo.ports import free_port
from tests.support.oidc import REPO, register_user, running_provider, sign_in

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def oidc_issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The provider, started by its launcher on a free port for this session, stopped after it."""
    with running_provider(tmp_path_factory.mktemp("oidc")) as issuer:
        yield issuer


def guarded_app(issuer: str) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    settings = HubSettings(environment="test", oidc_issuer=issuer, oidc_audience="mash-hub")
    app.state.token_verifier = TokenVerifier.from_settings(settings)

    def described(principal: Principal) -> dict[str, object]:
        return {"subject": principal.subject, "roles": sorted(principal.roles), "agency": principal.agency,
                "name": principal.name}

    @app.get("/managers")
    async def managers(principal: Annotated[Principal, require_roles(Role.MANAGER)]) -> dict[str, object]:
        return described(principal)

    @app.get("/agencies")
    async def agencies(principal: Annotated[Principal, require_roles(Role.AGENCY)]) -> dict[str, object]:
        return described(principal)

    return app


@pytest.fixture
async def api(oidc_issuer: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=guarded_app(oidc_issuer))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


async def test_a_manager_signed_in_at_the_provider_is_admitted_as_a_manager(
    oidc_issuer: str, api: httpx.AsyncClient
) -> None:
    tokens = await sign_in(oidc_issuer, "morgan.manager")

    admitted = await api.get("/managers", headers=tokens.bearer)
    refused = await api.get("/agencies", headers=tokens.bearer)

    assert admitted.status_code == 200, admitted.text
    assert admitted.json() == {"subject": "morgan.manager", "roles": ["manager"], "agency": None,
                               "name": "Morgan Patel"}
    assert refused.status_code == 403


async def test_the_access_token_is_an_rs256_jwt_for_the_hub_from_the_provider(oidc_issuer: str) -> None:
    tokens = await sign_in(oidc_issuer, "morgan.manager")

    header = jwt.get_unverified_header(tokens.access_token)
    claims = jwt.decode(tokens.access_token, options={"verify_signature": False})
    assert header["alg"] == "RS256"
    assert header["kid"]
    assert claims["iss"] == oidc_issuer
    assert claims["aud"] == "mash-hub"
    assert claims["roles"] == ["manager"]
    assert claims["exp"] > claims["iat"]


async def test_a_police_user_carries_the_police_agency(oidc_issuer: str, api: httpx.AsyncClient) -> None:
    tokens = await sign_in(oidc_issuer, "pat.police")

    admitted = await api.get("/agencies", headers=tokens.bearer)
    refused = await api.get("/managers", headers=tokens.bearer)

    assert admitted.status_code == 200, admitted.text
    assert admitted.json() == {"subject": "pat.police", "roles": ["agency"], "agency": "police", "name": "Pat Quinn"}
    assert refused.status_code == 403


async def test_the_id_token_is_not_taken_as_an_access_token(oidc_issuer: str, api: httpx.AsyncClient) -> None:
    tokens = await sign_in(oidc_issuer, "morgan.manager")

    response = await api.get("/managers", headers={"Authorization": f"Bearer {tokens.id_token}"})

    assert response.status_code == 401
    assert "audience" in response.json()["message"]


async def test_a_token_signed_with_another_key_under_the_providers_key_id_is_refused(
    oidc_issuer: str, api: httpx.AsyncClient
) -> None:
    genuine = await sign_in(oidc_issuer, "sam.screener")
    claims = jwt.decode(genuine.access_token, options={"verify_signature": False})
    header = jwt.get_unverified_header(genuine.access_token)
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode({**claims, "roles": ["manager"]}, forger, algorithm="RS256", headers={"kid": header["kid"]})

    response = await api.get("/managers", headers={"Authorization": f"Bearer {forged}"})

    assert response.status_code == 401
    assert response.json() == {"error": "http_error",
                               "message": "token signature does not match the identity provider's keys"}


async def test_a_user_without_hub_roles_signs_in_but_is_admitted_nowhere(
    oidc_issuer: str, api: httpx.AsyncClient
) -> None:
    await register_user(oidc_issuer, "visitor.without.roles", {"name": "Vi Sitor", "email": "vi@example.org"})
    tokens = await sign_in(oidc_issuer, "visitor.without.roles")

    assert (await api.get("/managers", headers=tokens.bearer)).status_code == 403
    assert (await api.get("/agencies", headers=tokens.bearer)).status_code == 403


def test_the_stack_script_starts_reports_and_stops_the_provider(tmp_path: Path) -> None:
    env = {**os.environ, "MASH_CACHE_DIR": str(tmp_path / "cache"), "MASH_OIDC_PORT": str(free_port()),
           "UV_PROJECT_ENVIRONMENT": str(Path(sys.executable).parents[1])}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", str(REPO / "infra" / "oidc.sh"), *args], env=env, capture_output=True,
                              text=True, timeout=90, check=False)

    issuer = f"http://127.0.0.1:{env['MASH_OIDC_PORT']}"
    try:
        first, again = run("up"), run("up")
        running = run("status")
        assert first.returncode == 0, first.stderr
        assert first.stdout == f"export MASH_OIDC_ISSUER={issuer}\n"
        assert again.returncode == 0, again.stderr
        assert again.stdout == first.stdout
        assert "already running" in again.stderr
        assert running.returncode == 0
        assert (tmp_path / "cache" / "run" / "oidc.pid").exists()
        assert httpx.get(f"{issuer}/.well-known/openid-configuration").json()["issuer"] == issuer
    finally:
        stopped = run("down")
    assert stopped.returncode == 0, stopped.stderr
    assert run("status").returncode == 3
    assert (tmp_path / "cache" / "run" / "logs" / "oidc.log").exists()
