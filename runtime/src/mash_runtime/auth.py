"""Bearer tokens with hub roles (screener, manager, agency, analyst), checked on every HTTP route.

Tokens are standard JWTs (PyJWT, HS256, key from settings) so a local authority's identity provider
can issue them; `issue_token` exists for the demo, the tests and operations' break-glass scripts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

ALGORITHM = "HS256"
AUDIENCE = "mash-hub"


class Role(StrEnum):
    """Who is acting: the hub's own staff, a partner agency, or an analyst (no sensitive detail)."""

    SCREENER = "screener"
    MANAGER = "manager"
    AGENCY = "agency"
    ANALYST = "analyst"
    REFERRER = "referrer"
    OPERATIONS = "operations"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as named in the audit log."""

    subject: str
    roles: frozenset[Role]

    @property
    def role_names(self) -> str:
        """Roles as one comma-separated text, for audit records."""
        return ",".join(sorted(self.roles))


def issue_token(secret: str, subject: str, roles: list[Role], ttl: timedelta = timedelta(hours=8)) -> str:
    """A signed token for `subject` with `roles`."""
    now = datetime.now(UTC)
    claims = {"sub": subject, "roles": [r.value for r in roles], "aud": AUDIENCE, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(secret: str, token: str) -> Principal:
    """Verify signature, audience and expiry; raise PermissionError with a plain reason otherwise."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE)
    except jwt.ExpiredSignatureError as exc:
        raise PermissionError("token expired") from exc
    except jwt.PyJWTError as exc:
        raise PermissionError("token invalid") from exc
    try:
        roles = frozenset(Role(r) for r in claims.get("roles", []))
    except ValueError as exc:
        raise PermissionError("token names an unknown role") from exc
    return Principal(subject=str(claims["sub"]), roles=roles)


_bearer = HTTPBearer(auto_error=False)


def require_roles(*allowed: Role) -> Any:
    """A FastAPI dependency admitting callers holding any of `allowed` (401 without token, 403 wrong role)."""

    async def dependency(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Principal:
        if credentials is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a bearer token is required",
                                headers={"WWW-Authenticate": "Bearer"})
        secret: str = request.app.state.jwt_secret
        try:
            principal = decode_token(secret, credentials.credentials)
        except PermissionError as exc:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc),
                                headers={"WWW-Authenticate": "Bearer"}) from exc
        if not principal.roles & set(allowed):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this needs one of the roles: {', '.join(sorted(allowed))}"
            )
        return principal

    return Depends(dependency)
