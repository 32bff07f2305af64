"""Which hub of a region a police notification belongs to: the council whose area holds the child's address.

A force that serves several councils sends one feed; under the Children Act 1989 (s47) the duty to make
enquiries falls on the council where the child lives, so the notification goes to that council's hub.
The addresses are tried children first (an unborn child's is the mother's home), then the adults named;
the first postcode in the area of a hub the force serves decides. None matching sends it to the force's
default hub, marked so that its screener establishes where the child lives (and transfers it if need be).
Pure: the region is data (mash_runtime.region).
"""

from __future__ import annotations

from mash_runtime.region import PoliceRoute, Region
from mash_schemas.common import SubjectKind
from mash_schemas.police import PoliceNotification, PoliceRouting

_CHILDREN_FIRST = {SubjectKind.CHILD: 0, SubjectKind.UNBORN_CHILD: 1}


def postcodes_in_order(notification: PoliceNotification) -> list[str | None]:
    """The subjects' postcodes, children's first, in the order the notification gives them."""
    subjects = sorted(notification.subjects, key=lambda subject: _CHILDREN_FIRST.get(subject.kind, 2))
    return [subject.address.postcode if subject.address else None for subject in subjects]


def route_notification(region: Region, force_id: str, notification: PoliceNotification) -> tuple[PoliceRoute,
                                                                                                 PoliceNotification]:
    """The hub for `notification`, and the notification carrying how it was routed."""
    route = region.route_for_force(force_id, postcodes_in_order(notification))
    routing = PoliceRouting(region=region.id, hub=route.hub.id, district=route.district, matched=route.matched)
    return route, notification.model_copy(update={"routing": routing})


def routing_note(routing: PoliceRouting | None) -> str | None:
    """What the screener must be told about how the notification reached this hub (None: nothing to say)."""
    if routing is None or routing.matched:
        return None
    where = f"postcode district {routing.district}" if routing.district else "no postcode"
    return (f"ADDRESS NOT IN THIS HUB'S AREA: the address ({where}) is in no area of a hub the force serves; "
            f"it came to {routing.hub} as the force's default hub. Establish which council's area the child "
            "lives in, and transfer the contact if it is another's.")
