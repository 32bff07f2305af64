"""The region's police router: one force's single feed in, each notification out to the hub of the child's area.

    MASH_REGION_FILE=region.yaml MASH_POLICE_ROUTER_FORCE=shires-police python -m mash_intake.police_router

A police force that serves several councils sends everything to one topic in the region's namespace
(`<region>.mash.police.feed.<force>`). This process, one per force (copies share its consumer group), reads
it and writes each notification, unchanged but for `routing`, to `<hub>.mash.police.notification` of the
hub whose area holds the child's address (domain/police_routing.py); that hub's intake triages it as any
notification. It runs beside the hubs, not inside one: it logs in as `police-router-<force>`, which may
read only the force's feed and write only the police topics of the hubs the force serves (and the default
hub's dead-letter topic), so a force's feed never reaches a council it does not serve. The event keeps its
event_id, so a notification routed twice (a restart before the commit) is applied once by intake.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from faststream import FastStream
from faststream.kafka import KafkaBroker
from mash_runtime.broker import build_broker
from mash_runtime.consuming import DeadLetters, MessageOrigin, subscribe
from mash_runtime.logs import configure_logging
from mash_runtime.region import Region, load_region
from mash_runtime.settings import HubSettings
from mash_runtime.topics_admin import ensure_topics
from mash_schemas.police import PoliceNotificationReceived
from mash_schemas.topics import POLICE_NOTIFICATION
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from mash_intake.domain.police_routing import route_notification

log = logging.getLogger("police-router")


class PoliceRouterSettings(HubSettings):
    """The region file and the force whose feed this router passes on (prefix MASH_POLICE_ROUTER_, then MASH_)."""

    model_config = SettingsConfigDict(env_prefix="MASH_POLICE_ROUTER_", extra="ignore")

    service_name: str = "police-router"
    region_file: Path = Field(description="The region (MASH_REGION_FILE): hubs, their areas, the forces.")
    force: str = Field(min_length=1, description="The id of the police force, as the region file names it.")


def declare_router(broker: KafkaBroker, settings: PoliceRouterSettings, region: Region) -> None:
    """Subscribe to the force's feed and pass every notification on to its hub's police topic.

    A record that is not a police notification is set aside on the default hub's dead-letter topic
    (its operators watch it), so the feed keeps flowing; a hub's topic that cannot be written is retried.
    """
    force = region.police_force(settings.force)
    default_hub = region.hub(force.default_hub)
    # Dead letters and the producer name are the default hub's: settings.topic() prefixes its namespace.
    settings = settings.model_copy(update={"topic_namespace": default_hub.namespace})

    async def route(event: PoliceNotificationReceived, origin: MessageOrigin) -> None:
        hub_route, routed = route_notification(region, force.id, event.payload)
        forwarded = event.model_copy(update={"payload": routed})
        await broker.publish(
            forwarded.model_dump_json().encode(),
            topic=hub_route.hub.topic(POLICE_NOTIFICATION),
            key=routed.notification_id.encode(),
            headers={"content-type": "application/json"},
        )
        log.info("police notification %s routed to %s (%s, %s)", routed.notification_id, hub_route.hub.id,
                 hub_route.district or "no postcode", "area matched" if hub_route.matched else "DEFAULT HUB")

    subscribe(broker, settings, topic=region.police_feed_topic(force.id), event_model=PoliceNotificationReceived,
              group_id=region.police_router_group(force.id), handler=route,
              dead_letters=DeadLetters(broker, settings))


def main() -> None:
    """Run the router until stopped."""
    settings = PoliceRouterSettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_file)
    region = load_region(settings.region_file)
    broker = build_broker(settings)
    declare_router(broker, settings, region)
    feed = region.police_feed_topic(settings.force)

    async def run() -> None:
        # The router owns the feed: it creates it, so the force's system (which may only WRITE) finds it.
        await ensure_topics(settings, [feed])
        log.info("routing %s's feed %s to the hubs it serves: %s", settings.force, feed,
                 ", ".join(region.police_force(settings.force).hubs))
        await FastStream(broker).run()

    asyncio.run(run())


if __name__ == "__main__":
    main()
