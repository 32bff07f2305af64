"""One small client per service the pages call, as alphagov/notifications-admin has (app/notify_client/).

Each `<service>_api_client.py` holds that service's calls; `base.py` the plumbing they share (the caller's
token, refusals as `ApiError`, path segments quoted). `ServiceClients` is the set the app is built with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from mash_workspace.clients.base import ApiError, QueryPairs
from mash_workspace.clients.decision_api_client import DecisionApiClient
from mash_workspace.clients.enquiry_api_client import EnquiryApiClient
from mash_workspace.clients.insight_api_client import InsightApiClient
from mash_workspace.clients.intake_api_client import IntakeApiClient
from mash_workspace.clients.notify_api_client import NotifyApiClient
from mash_workspace.settings import WorkspaceSettings

__all__ = ["ApiError", "ServiceClients"]


@dataclass(frozen=True)
class ServiceClients:
    """The five services' clients; a test hands in a transport that answers for all of them."""

    intake: IntakeApiClient
    decision: DecisionApiClient
    enquiry: EnquiryApiClient
    notify: NotifyApiClient
    insight: InsightApiClient

    @classmethod
    def from_settings(cls, settings: WorkspaceSettings,
                      transport: httpx.AsyncBaseTransport | None = None) -> ServiceClients:
        """Each service at its address from the settings, with the settings' timeout."""
        timeout = settings.api_timeout_seconds
        return cls(intake=IntakeApiClient(settings.intake_url, timeout, transport),
                   decision=DecisionApiClient(settings.decision_url, timeout, transport),
                   enquiry=EnquiryApiClient(settings.enquiry_url, timeout, transport),
                   notify=NotifyApiClient(settings.notify_url, timeout, transport),
                   insight=InsightApiClient(settings.insight_url, timeout, transport))

    async def close(self) -> None:
        """Close every client."""
        for client in (self.intake, self.decision, self.enquiry, self.notify, self.insight):
            await client.close()

    async def audit_records(self, token: str, referral_ids: list[str], person_ref: str | None,
                            period: dict[str, str], reason: str) -> list[dict[str, Any]]:
        """Every service's own audit records about the referrals or the person, each read by that service."""
        params: QueryPairs = [("referral_id", r) for r in referral_ids]
        params += [(name, value) for name, value in period.items() if value]
        params += [("person_ref", person_ref)] if person_ref else []
        params.append(("reason", reason))
        found: list[dict[str, Any]] = []
        for client in (self.intake, self.decision, self.enquiry, self.notify, self.insight):
            found += await client.audit(token, params)
        return sorted(found, key=lambda record: str(record.get("at", "")))
