"""Hostile paths and unexpected errors (issue 22, defect 2 and item 2).

A control character in a path parameter (`/cases/%00`) went into the service's URL unchecked; httpx refused
it and the person saw a plain-text 500 with none of the security headers. Every path parameter is now checked
at the edge against the identifier formats the services use (a 404 page, no service asked), and anything
unexpected becomes the GOV.UK problem page with every header and a reference that is in the log.
"""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from mash_workspace.security import HEADERS

from tests.unit.workspace.workspace_builders import CSRF, Call, FakeHub, person, workspace

pytestmark = pytest.mark.unit

HOSTILE = ["%00", "%0A", "%0D%0AX", "%1B", "a%20b", "a%2Fb", "..%2F..%2Fqueue", "%7F", "%C2%85", "%E2%80%AE", "x" * 201]
MANAGER = person("manager")
HEALTH = person("agency", agency="health")
PAGES = [  # (method, path with {} for the hostile value, who)
    ("GET", "/cases/{}", MANAGER),
    ("GET", "/cases/{}/enquiry", MANAGER),
    ("GET", "/cases/{}/decision", MANAGER),
    ("POST", "/cases/{}/screening", MANAGER),
    ("POST", "/cases/{}/routing", MANAGER),
    ("POST", "/cases/{}/enquiry", MANAGER),
    ("POST", "/cases/{}/decision/preview", MANAGER),
    ("POST", "/cases/{}/decision", MANAGER),
    ("GET", "/subject-access/{}", MANAGER),
    ("GET", "/subject-access/{}/export.json", MANAGER),
    ("POST", "/subject-access/{}/extension", MANAGER),
    ("GET", "/report-a-concern/status/{}", None),
    ("GET", "/report-a-concern/sent/{}", None),
    ("GET", "/portal/health/requests/{}", HEALTH),
    ("POST", "/portal/health/requests/{}", HEALTH),
    ("POST", "/portal/health/subject-access/{}", HEALTH),
    ("GET", "/portal/{}", HEALTH),
    ("GET", "/portal/{}/subject-access", HEALTH),
]


def assert_headers(response: httpx.Response) -> None:
    for name, value in HEADERS.items():
        if name == "Content-Security-Policy":  # the identity provider's origin is added to form-action
            assert response.headers[name].startswith(value.split("; form-action")[0]), name
        else:
            assert response.headers.get(name) == value, name
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(("method", "path", "who"), PAGES)
async def test_an_impossible_identifier_is_a_404_page_with_the_headers_and_no_service_is_asked(
        method: str, path: str, who: dict[str, object] | None) -> None:
    for hostile in HOSTILE:
        hub = FakeHub()
        async with workspace(hub, who, csrf=CSRF) as client:
            response = await client.request(method, path.format(hostile),
                                            data={"csrf_token": CSRF} if method == "POST" else None)
        assert response.status_code == 404, (path, hostile, response.status_code)
        assert "Page not found" in response.text
        assert response.headers["content-type"].startswith("text/html")
        assert_headers(response)
        assert hub.calls == [], (path, hostile)




class Collected(logging.Handler):
    """Keeps the records the workspace logs, to find the reference the page showed."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_an_unexpected_error_is_the_problem_page_with_the_headers_and_a_reference_in_the_log() -> None:
    # decision answers 200 with a body that is not JSON: nothing in the page expects that.
    collected = Collected()
    logger = logging.getLogger("mash_workspace.errors")
    logger.addHandler(collected)
    try:
        async with workspace(GarbageHub(), MANAGER) as client:
            response = await client.get("/queue")
    finally:
        logger.removeHandler(collected)
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.text
    assert_headers(response)
    shown = re.search(r"quote this reference: <strong>([0-9A-F]{8})</strong>", response.text)
    assert shown is not None
    logged = [getattr(record, "fields", {}).get("reference") for record in collected.records]
    assert shown.group(1) in logged
    assert "Traceback" not in response.text and "JSONDecodeError" not in response.text


class GarbageHub(FakeHub):
    """Every service answers 200 with a body that is not JSON."""

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(Call(request.url.host.split(".")[0], request.method, request.url.path, {}, request.headers,
                               None))
        return httpx.Response(200, text="<html>not json</html>")
