"""The adapter an agency writes to search its own records, and the answer it gives back.

The kit calls `search` once per enquiry request (and again for each reminder). The adapter reads the
agency's own systems and returns either "nothing known" or items labelled by sensitivity, with the
agency's own BRAG view. It never talks to Kafka: the kit does that.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from mash_schemas import BragRating, EnquiryRequest, InformationItem

MAX_ITEMS = 100  # the contract's limit on items in one agency response


class AnswerWithoutRating(ValueError):
    """An agency that holds information must give its own BRAG view of it."""


class TooManyItems(ValueError):
    """An answer carries more items than one agency response may hold."""


class AdapterNotFound(LookupError):
    """The configured adapter import path ("module:attr") does not name an adapter."""


@dataclass(frozen=True)
class AgencyAnswer:
    """What the agency's search found: nothing known, or items plus the agency's BRAG view.

    `responded_by` names the team or officer answering; the kit fills in a default when it is None.
    """

    items: tuple[InformationItem, ...] = ()
    rating: BragRating | None = None
    responded_by: str | None = None
    # The agency's own Signs of Safety scale, if it uses one (0: harm is certain to happen or happen again;
    # 10: there is enough safety for the hub to close its involvement). Optional: the hub reads answers without it.
    safety_scale: int | None = None

    def __post_init__(self) -> None:
        if self.items and self.rating is None:
            raise AnswerWithoutRating("an agency that holds information must give its BRAG rating")
        if self.safety_scale is not None and not 0 <= self.safety_scale <= 10:
            raise ValueError(f"a safety scale runs from 0 to 10, got {self.safety_scale}")
        if len(self.items) > MAX_ITEMS:
            raise TooManyItems(f"an agency response holds at most {MAX_ITEMS} items, got {len(self.items)}")

    @classmethod
    def nothing_known(cls, responded_by: str | None = None) -> AgencyAnswer:
        """The agency searched and holds nothing on the family."""
        return cls(responded_by=responded_by)

    @classmethod
    def information_held(
        cls, items: Iterable[InformationItem], rating: BragRating, responded_by: str | None = None
    ) -> AgencyAnswer:
        """The agency holds these items and rates the risk `rating`."""
        held = tuple(items)
        if not held:
            # An empty "information held" would be rejected by the hub; say what it really is.
            return cls.nothing_known(responded_by)
        return cls(items=held, rating=rating, responded_by=responded_by)

    @property
    def outcome(self) -> Literal["information_held", "nothing_known"]:
        """The response outcome the hub records for this answer."""
        return "information_held" if self.items else "nothing_known"


@runtime_checkable
class AgencyAdapter(Protocol):
    """What an agency implements: search its own records for the people in one enquiry request."""

    async def search(self, request: EnquiryRequest) -> AgencyAnswer:
        """Look up the request's subjects and household; return what the agency holds."""
        ...


def load_adapter(import_path: str, agency: str) -> AgencyAdapter:
    """Load the adapter named by "package.module:attr".

    `attr` may be an adapter object, or a class or factory that the kit calls with the agency's name
    (so one adapter class can serve several agencies, as the simulated one does).
    """
    module_name, sep, attr = import_path.partition(":")
    if not sep or not module_name or not attr:
        raise AdapterNotFound(f"adapter must be given as 'module:attr', got {import_path!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AdapterNotFound(f"cannot import adapter module {module_name!r}: {exc}") from exc
    try:
        target: object = getattr(module, attr)
    except AttributeError as exc:
        raise AdapterNotFound(f"module {module_name!r} has no attribute {attr!r}") from exc
    if isinstance(target, AgencyAdapter) and not inspect.isclass(target):
        candidate: object = target
    elif callable(target):
        candidate = target(agency)
    else:
        raise AdapterNotFound(f"{import_path!r} is neither an adapter nor a factory of one")
    if not isinstance(candidate, AgencyAdapter) or not inspect.iscoroutinefunction(candidate.search):
        raise AdapterNotFound(f"{import_path!r} does not provide an async search(request) method")
    return candidate
