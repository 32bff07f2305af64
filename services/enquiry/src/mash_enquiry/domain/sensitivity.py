"""The wall between what may leave the hub and what stays sealed, and what may be written to logs.

Agencies label each item non-sensitive (may be shared onward) or sensitive (stays in the hub unless
the agency permits). Logs and trace spans never carry an item's content: `log_safe` is the only view
of an item they use.
"""

from __future__ import annotations

from mash_schemas import AgencyResponse, InformationItem, Sensitivity


def is_sensitive(item: InformationItem) -> bool:
    """Whether the owning agency labelled `item` sensitive."""
    return item.sensitivity is Sensitivity.SENSITIVE


def shareable_items(items: list[InformationItem]) -> list[InformationItem]:
    """The items that may be shared onward (non-sensitive), in the agency's order."""
    return [item for item in items if not is_sensitive(item)]


def sensitive_items(items: list[InformationItem]) -> list[InformationItem]:
    """The items that must stay sealed in the hub, in the agency's order."""
    return [item for item in items if is_sensitive(item)]


def log_safe(item: InformationItem, agency: str | None = None) -> dict[str, str]:
    """An item as logs and spans may show it: its agency, id and sensitivity, never its content.

    Neither the summary, nor whom it is about, nor a release wording appears, whatever the label:
    even non-sensitive items are personal data that logs have no need to hold.
    """
    view = {"item_id": item.item_id, "sensitivity": item.sensitivity.value}
    if agency is not None:
        view["agency"] = agency
    return view


def log_safe_response(response: AgencyResponse) -> dict[str, object]:
    """An agency response as logs and spans may show it: ids, outcome, rating and items by id only."""
    return {
        "enquiry_id": response.enquiry_id,
        "request_id": response.request_id,
        "agency": response.agency,
        "outcome": response.outcome,
        "rating": response.rating.value if response.rating else None,
        "items": [log_safe(item, response.agency) for item in response.items],
    }
