"""The regression corpus of hostile values, replayed against every page and form of the workspace (issue 22).

Every route of the real app, as every role and signed out, with each corpus value in every path parameter,
every query parameter a page reads and every field any form has (with the session's CSRF token); the
services behind answer as a real one would to such input (a 422 naming a field for a form, 404 for a read).
No answer may be a 5xx, and every answer carries the security headers.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from mash_workspace.security import HEADERS
from starlette.routing import Route

from tests.unit.runtime.test_hostile_every_operation import CORPUS
from tests.unit.workspace.workspace_builders import CSRF, FakeHub, app, person, workspace

pytestmark = pytest.mark.unit

TEMPLATES = Path(__file__).resolve().parents[3] / "services" / "workspace" / "src" / "mash_workspace" / "templates"
# Every input any form has (read from the templates) and every query parameter the pages read.
FIELDS = sorted({name for page in TEMPLATES.rglob("*.html")
                 for name in re.findall(r'"name": "([a-z_-]+)"|name="([a-z_-]+)"', page.read_text())
                 for name in name if name} - {"csrf_token"}
                | {f"item-{n}-{part}" for n in (1, 2, 3)  # the portal's item slots are named in a loop
                   for part in ("about", "summary", "sensitivity", "release", "permitted_wording", "rating_reason")})
QUERY = ["state", "rating", "referral_id", "person_ref", "from", "to", "reason", "next", "group", "as_of", "done",
         "started", "extended", "answered", "ended"]
FEW = (0, 3, 8, 10)  # blank, NUL, right-to-left, script: what each other role is also sent
WHO = [person("screener"), person("manager"), person("analyst"), person("agency", agency="police"), None]


class Refusing(FakeHub):
    """Every service refuses what it is sent: 422 on the field for a write, 404 for a read."""

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(404, json={"error": "not_found", "message": "no such thing"})
        return httpx.Response(422, json={"error": "invalid_request", "message": "Some fields need correcting.",
                                         "fields": [{"field": "reason", "message": "String should have at least 3 "
                                                                                   "characters"}]})


def routes() -> list[tuple[str, str]]:
    """(method, path) of every page and form of the app (not its static files)."""
    found = []
    pending = list(app().routes)
    while pending:
        route = pending.pop(0)
        included = getattr(route, "original_router", None)  # FastAPI's included routers keep their routes
        if included is not None:
            pending += list(included.routes)
        elif isinstance(route, Route) and not route.path.startswith("/static"):
            found += [(method, route.path) for method in sorted(route.methods or ()) if method != "HEAD"]
    return sorted(set(found))


def test_the_corpus_reaches_every_form_field() -> None:
    assert {"rationale", "reason", "concern-narrative", "family_name", "note", "item-1-summary"} <= set(FIELDS)
    assert len(routes()) > 30


@pytest.mark.parametrize(("method", "path"), routes())
async def test_no_hostile_value_is_a_server_error_on_any_page(method: str, path: str) -> None:
    failures: list[str] = []
    for who in WHO:
        async with workspace(Refusing(), who, csrf=CSRF) as client:
            for index, value in enumerate(CORPUS):
                if who is not None and "manager" not in who["roles"] and index not in FEW:
                    continue  # every value signed out and as a manager; a few as each other role
                quoted = quote(value.encode("utf-8", "surrogatepass"), safe="")
                # In the address at most 2,000 characters a value (clients and proxies refuse longer); the body takes all.
                in_url = quoted[:2000]  # (only the long value is cut: it is all 'x')
                url = re.sub(r"\{[^}]+\}", in_url, path)
                url += "?" + "&".join(f"{name}={in_url}" for name in QUERY)
                if method == "POST":
                    body = "&".join([f"csrf_token={CSRF}", *(f"{name}={quoted}" for name in FIELDS)])
                    response = await client.post(url, content=body.encode(),
                                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
                else:
                    response = await client.request(method, url)
                # No identity provider answers here: sign-in says so (503, "Sign-in is not available"), whatever
                # was sent; that is the provider's absence, not the value's doing.
                unavailable = response.status_code == 503 and "Sign-in is not available" in response.text
                if response.status_code >= 500 and not unavailable:
                    failures.append(f"{method} {path} corpus[{index}] as {who and who['roles']}: "
                                    f"{response.status_code}")
                missing = [name for name in HEADERS if name not in response.headers]
                if missing:
                    failures.append(f"{method} {path} corpus[{index}]: no {missing}")
    assert failures == []
