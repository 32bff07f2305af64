"""Security on every response: headers, the session cookie, CSRF on forms, and no open redirect."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from mash_workspace.pages.signin import _safe_next
from mash_workspace.session import COOKIE_NAME
from pydantic import SecretStr

from tests.unit.workspace.workspace_builders import CSRF, FakeHub, person, session_cookie, settings, store, workspace

pytestmark = pytest.mark.unit


def assert_security_headers(headers: object) -> None:
    csp = headers["content-security-policy"]  # type: ignore[index]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split("; ")}
    assert directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    assert headers["x-frame-options"] == "DENY"  # type: ignore[index]
    assert headers["x-content-type-options"] == "nosniff"  # type: ignore[index]
    assert headers["referrer-policy"] == "no-referrer"  # type: ignore[index]


async def test_a_page_carries_the_security_headers_and_is_never_cached() -> None:
    async with workspace(FakeHub()) as client:
        response = await client.get("/report-a-concern")

    assert response.status_code == 200
    assert_security_headers(response.headers)
    assert response.headers["cache-control"] == "no-store"


async def test_a_page_not_found_carries_the_security_headers_too() -> None:
    async with workspace(FakeHub()) as client:
        response = await client.get("/no-such-page")

    assert response.status_code == 404
    assert "Page not found" in response.text
    assert_security_headers(response.headers)
    assert response.headers["cache-control"] == "no-store"


async def test_static_assets_carry_the_headers_but_may_be_cached() -> None:
    async with workspace(FakeHub()) as client:
        response = await client.get("/static/govuk/application.css")

    assert response.status_code == 200
    assert_security_headers(response.headers)
    assert "cache-control" not in response.headers


async def test_pages_have_no_inline_script() -> None:
    async with workspace(FakeHub()) as client:
        page = (await client.get("/report-a-concern/professional")).text

    scripts = page.split("<script")[1:]
    assert scripts, "the layout loads its scripts from files"
    assert all(" src=" in script.split(">", 1)[0] and script.split(">", 1)[1].startswith("</script>")
               for script in scripts)


async def test_the_session_cookie_is_secure_httponly_and_samesite_lax() -> None:
    async with workspace(FakeHub()) as client:
        response = await client.get("/report-a-concern/professional")  # the form makes a CSRF token

    cookie = response.headers["set-cookie"]
    name, _, rest = cookie.partition("=")
    flags = {flag.strip().split("=")[0].lower() for flag in rest.split(";")[1:]}
    assert name == COOKIE_NAME
    assert {"secure", "httponly", "path", "max-age"} <= flags
    assert "samesite=lax" in cookie.lower().replace(" ", "")


async def test_the_session_cookie_holds_nothing_readable() -> None:
    async with workspace(FakeHub()) as client:
        response = await client.get("/report-a-concern/professional")

    value = response.cookies[COOKIE_NAME]
    assert "csrf" not in value
    assert value.startswith("gAAAAA")  # a Fernet token: encrypted and authenticated


async def test_a_tampered_session_cookie_is_no_session() -> None:
    hub = FakeHub().on("decision", "GET", "/queue", [])
    config = settings()
    async with workspace(hub) as client:
        session_id = await store().create({"user": person("manager"), "csrf": CSRF})
        good = session_cookie(config, session_id)
        tampered = good[:40] + ("A" if good[40] != "A" else "B") + good[41:]
        client.cookies.set(COOKIE_NAME, tampered, domain="127.0.0.1")
        refused = await client.get("/queue")
        client.cookies.set(COOKIE_NAME, good, domain="127.0.0.1")
        accepted = await client.get("/queue")

    assert refused.status_code == 303
    assert refused.headers["location"] == "/sign-in?next=/queue"
    assert accepted.status_code == 200
    assert len(hub.calls) == 1, "only the genuine session reached the queue"


async def test_a_session_made_with_another_key_is_no_session() -> None:
    other = settings().model_copy(update={"session_key": SecretStr(Fernet.generate_key().decode())})
    hub = FakeHub()
    async with workspace(hub) as client:
        session_id = await store().create({"user": person("manager")})
        client.cookies.set(COOKIE_NAME, session_cookie(other, session_id), domain="127.0.0.1")
        response = await client.get("/queue")

    assert response.status_code == 303
    assert hub.calls == []


@pytest.mark.parametrize("sent", [None, "", "wrong-token", CSRF + "x"])
async def test_a_form_without_its_csrf_token_is_refused_and_nothing_reaches_the_service(
    sent: str | None
) -> None:
    hub = FakeHub().on("decision", "POST", "/cases/REF-1/screening", {"state": "awaiting_decision"})
    form = {"rating": "amber", "rationale": "as suggested"} | ({"csrf_token": sent} if sent is not None else {})
    async with workspace(hub, person("screener")) as client:
        response = await client.post("/cases/REF-1/screening", data=form)

    assert response.status_code == 403
    assert "did not come from this site" in response.text
    assert hub.calls == []


async def test_a_form_with_its_csrf_token_reaches_the_service_as_the_person() -> None:
    hub = FakeHub().on("decision", "POST", "/cases/REF-1/screening", {"state": "awaiting_decision"})
    async with workspace(hub, person("screener")) as client:
        response = await client.post("/cases/REF-1/screening",
                                     data={"csrf_token": CSRF, "rating": "red", "rationale": "bruising seen"})

    assert response.status_code == 303
    assert response.headers["location"] == "/cases/REF-1?done=screened"
    [call] = hub.calls
    assert (call.service, call.method, call.path) == ("decision", "POST", "/cases/REF-1/screening")
    assert call.bearer == "token-of-screener"
    assert call.body == {"rating": "red", "rationale": "bruising seen"}


async def test_a_session_without_a_csrf_token_refuses_every_form() -> None:
    hub = FakeHub()
    async with workspace(hub) as client:
        client.cookies.set(COOKIE_NAME, session_cookie(settings(), await store().create({"user": person("screener")})),
                           domain="127.0.0.1")
        response = await client.post("/cases/REF-1/screening", data={"csrf_token": "", "rating": "red"})

    assert response.status_code == 403
    assert hub.calls == []


async def test_signing_out_needs_the_csrf_token_and_then_ends_the_session() -> None:
    async with workspace(FakeHub(), person("manager")) as client:
        forged = await client.post("/sign-out", data={})
        signed_out = await client.post("/sign-out", data={"csrf_token": CSRF})
        after = await client.get("/queue")

    assert forged.status_code == 403
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/signed-out"
    assert "Max-Age=0" in signed_out.headers["set-cookie"]
    assert after.status_code == 303
    assert after.headers["location"].startswith("/sign-in")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (None, "/"),
        ("", "/"),
        ("/queue", "/queue"),
        ("/cases/REF-1?done=screened", "/cases/REF-1?done=screened"),
        ("//evil.example", "/"),
        ("//evil.example/queue", "/"),
        ("https://evil.example/queue", "/"),
        ("http:evil.example", "/"),
        ("evil.example", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/\t/evil.example", "/"),
        ("/\n/evil.example", "/"),
    ],
)
def test_sign_in_returns_only_to_a_path_on_this_site(target: str | None, expected: str) -> None:
    assert _safe_next(target) == expected
