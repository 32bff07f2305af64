"""A service that does not answer, or fails, is the problem page for the person and a warning for the operator.

The person sees "Sorry, there is a problem with the service" (a 503 `ApiError` the pages turn into a 502); without a
log line nobody could tell which service was down or too slow (a browser test once met that page with nothing in
the workspace's log). The warning names the service and the method, never the path (it carries identifiers).
"""

from __future__ import annotations

import logging

import httpx
import pytest
from mash_workspace.clients.base import ApiError, ServiceClient

pytestmark = pytest.mark.unit


def client(handler: httpx.MockTransport) -> ServiceClient:
    return ServiceClient("http://decision.test", 10.0, handler)


async def test_a_service_too_slow_is_a_503_and_a_warning_naming_it(caplog: pytest.LogCaptureFixture) -> None:
    def too_slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    with caplog.at_level(logging.WARNING, logger="mash_workspace.clients.base"), pytest.raises(ApiError) as refused:
        await client(httpx.MockTransport(too_slow)).send("POST", "/cases/MASH-1/enquiry", "token")
    assert refused.value.status == 503
    [warning] = [r for r in caplog.records if r.getMessage() == "service did not answer"]
    fields = warning.__dict__["fields"]
    assert fields == {"service": "http://decision.test", "method": "POST", "error": "ReadTimeout"}
    assert "MASH-1" not in str(fields)


async def test_a_service_that_fails_is_a_warning_with_its_status(caplog: pytest.LogCaptureFixture) -> None:
    def fails(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"detail": "boom"})

    with caplog.at_level(logging.WARNING, logger="mash_workspace.clients.base"), pytest.raises(ApiError) as refused:
        await client(httpx.MockTransport(fails)).send("GET", "/cases/MASH-1", "token")
    assert refused.value.status == 500
    [warning] = [r for r in caplog.records if r.getMessage() == "service failed"]
    assert warning.__dict__["fields"] == {"service": "http://decision.test", "method": "GET", "status": 500}


async def test_a_refusal_is_not_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    def refuses(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"detail": "no"})

    with caplog.at_level(logging.WARNING, logger="mash_workspace.clients.base"), pytest.raises(ApiError):
        await client(httpx.MockTransport(refuses)).send("GET", "/cases/MASH-1", "token")
    assert not [r for r in caplog.records if r.name == "mash_workspace.clients.base"]
