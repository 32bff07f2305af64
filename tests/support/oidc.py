"""The local OpenID Connect provider in tests: start it, sign a demo user in, add a user.

    with running_provider(log_dir) as issuer:            # infra/oidc/provider.py on a free port
        tokens = await sign_in(issuer, "morgan.manager")  # the authorization-code flow over HTTP
        headers = {"Authorization": f"Bearer {tokens.access_token}"}

`sign_in` does what a browser and the workspace do together: it opens the provider's sign-in page, types
the user name into its `sub` field, follows the redirect back with the code, and exchanges the code at the
token endpoint (client_secret_basic, with PKCE and a nonce as a real client sends them).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import httpx
import jwt

from demo.ports import free_port

REPO = Path(__file__).resolve().parents[2]
LAUNCHER = REPO / "infra" / "oidc" / "provider.py"
TEST_CLIENT_ID = "mash-tests"
TEST_CLIENT_SECRET = "mash-tests-secret"
TEST_REDIRECT_URI = "http://127.0.0.1/signed-in"


@dataclass(frozen=True)
class OidcTokens:
    """What the token endpoint answered: the access token is what the services take."""

    access_token: str
    id_token: str
    refresh_token: str | None
    expires_in: int
    scope: str

    @property
    def bearer(self) -> dict[str, str]:
        """An Authorization header with the access token."""
        return {"Authorization": f"Bearer {self.access_token}"}


def wait_for_discovery(issuer: str, process: subprocess.Popen[bytes] | None = None, *, timeout: float = 30.0) -> None:
    """Poll `<issuer>/.well-known/openid-configuration` until it names `issuer`; fail if `process` exits."""
    deadline = time.monotonic() + timeout
    last: str = "no answer yet"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the OIDC provider exited with {process.returncode} during start-up")
        try:
            answer = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=2.0)
            if answer.status_code == 200 and answer.json().get("issuer") == issuer:
                return
            last = f"HTTP {answer.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.1)  # noqa: sleep-ok - the polling interval of a condition wait bounded by `timeout`
    raise TimeoutError(f"the OIDC provider at {issuer} was not ready after {timeout}s ({last})")


@contextmanager
def running_provider(
    log_dir: Path, *, port: int | None = None, audience: str = "mash-hub", token_max_age: int = 3600
) -> Iterator[str]:
    """Run infra/oidc/provider.py on 127.0.0.1 (a free port unless given) and yield its issuer URL."""
    port = port or free_port()
    issuer = f"http://127.0.0.1:{port}"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"oidc-{port}.log"
    command = [sys.executable, str(LAUNCHER), "--host", "127.0.0.1", "--port", str(port),
               "--audience", audience, "--token-max-age", str(token_max_age)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        try:
            wait_for_discovery(issuer, process)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}; its log:\n{log_path.read_text(errors='replace')[-4000:]}") from exc
        yield issuer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


async def register_user(issuer: str, user: str, claims: dict[str, Any]) -> None:
    """Add a user to the provider, or replace its claims (the provider's PUT /users/<sub>)."""
    async with httpx.AsyncClient(timeout=10.0) as client:
        response = await client.put(f"{issuer}/users/{quote(user, safe='')}", json=claims)
        response.raise_for_status()


async def sign_in(
    issuer: str,
    user: str,
    *,
    client_id: str = TEST_CLIENT_ID,
    client_secret: str = TEST_CLIENT_SECRET,
    redirect_uri: str = TEST_REDIRECT_URI,
    scope: str = "openid profile email",
    timeout: float = 10.0,
) -> OidcTokens:
    """Sign `user` in through the provider's sign-in page (authorization-code flow); return the tokens."""
    state, nonce, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(16), secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    async with httpx.AsyncClient(timeout=timeout) as client:
        discovery = (await client.get(f"{issuer}/.well-known/openid-configuration")).raise_for_status().json()
        params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope,
                  "state": state, "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"}
        page = (await client.get(discovery["authorization_endpoint"], params=params)).raise_for_status()
        if 'name="sub"' not in page.text:
            raise AssertionError(f"the sign-in page has no `sub` field:\n{page.text[:2000]}")
        # The form posts back to the page's own address (query included), as a browser would.
        answer = await client.post(str(page.url), data={"sub": user})
        if answer.status_code != 302:
            raise AssertionError(f"sign-in as {user!r} answered {answer.status_code}, not a redirect:\n{answer.text}")
        query = parse_qs(urlparse(answer.headers["location"]).query)
        if query.get("state") != [state] or "code" not in query:
            raise AssertionError(f"the redirect back does not carry our state and a code: {answer.headers['location']}")
        token = await client.post(
            discovery["token_endpoint"],
            auth=(client_id, client_secret),
            data={"grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": redirect_uri,
                  "code_verifier": verifier},
        )
        if token.status_code != 200:
            raise AssertionError(f"the token endpoint answered {token.status_code}: {token.text}")
    body = token.json()
    id_claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    if id_claims.get("nonce") != nonce:
        raise AssertionError("the ID token does not carry our nonce")
    return OidcTokens(
        access_token=body["access_token"],
        id_token=body["id_token"],
        refresh_token=body.get("refresh_token"),
        expires_in=int(body.get("expires_in", 0)),
        scope=str(body.get("scope", "")),
    )
