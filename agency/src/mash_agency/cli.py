"""The `mash-agency` command: run an agency's kit, or show a simulated agency's records.

    mash-agency run --agency health [--adapter mash_agency.simulated:SimulatedAgency]
                    [--delay 0.5-2.0] [--never-answer] [--namespaces westshire,eastshire | --region-file F]
    mash-agency records --agency health

Anything not given on the command line comes from MASH_AGENCY_* environment variables.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any

import yaml
from aiokafka.errors import GroupAuthorizationFailedError, TopicAuthorizationFailedError
from faststream import FastStream
from pydantic import ValidationError

from mash_agency.adapter import AdapterNotFound
from mash_agency.kit import build_kit
from mash_agency.region import RegionFileInvalid
from mash_agency.settings import AgencySettings, DelayRangeInvalid, parse_delay
from mash_agency.simulated import load_records, records_path, simulated_agencies


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mash-agency", description="Join the MASH hub as a virtual member.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="answer this agency's enquiry requests until stopped")
    run.add_argument("--agency", help="the agency's id in the hub, e.g. health (MASH_AGENCY_NAME)")
    run.add_argument("--adapter", help="'module:attr' of the adapter (MASH_AGENCY_ADAPTER)")
    run.add_argument("--delay", help="simulations: answer after a random delay, e.g. 0.5-2.0 seconds")
    run.add_argument("--never-answer", action="store_true", help="simulations: a silent agency")
    run.add_argument("--bootstrap", help="Kafka bootstrap servers (MASH_AGENCY_BOOTSTRAP_SERVERS)")
    run.add_argument("--namespace", help="topic namespace (MASH_AGENCY_NAMESPACE)")
    run.add_argument("--namespaces", help="every hub answered, by namespace, comma-separated (MASH_AGENCY_NAMESPACES)")
    run.add_argument("--region-file", help="answer every hub of this region file that lists the agency "
                     "(MASH_AGENCY_REGION_FILE, or MASH_REGION_FILE)")
    run.add_argument("--workers", type=int, help="partitions answered concurrently by this copy")
    run.add_argument("--log-level", default="INFO", help="logging level (default INFO)")

    records = commands.add_parser("records", help="print a simulated agency's records")
    records.add_argument("--agency", help="the agency whose simulated records to print; all when omitted")
    return parser


def settings_from(args: argparse.Namespace) -> AgencySettings:
    """Environment settings, overridden by whatever the command line gave."""
    overrides: dict[str, Any] = {}
    if args.agency:
        overrides["name"] = args.agency
    if args.adapter:
        overrides["adapter"] = args.adapter
    if args.delay:
        overrides["response_delay"] = parse_delay(args.delay)
    if args.never_answer:
        overrides["never_answer"] = True
    if args.bootstrap:
        overrides["bootstrap_servers"] = args.bootstrap
    if args.namespace:
        overrides["namespace"] = args.namespace
    if args.namespaces:
        overrides["namespaces"] = args.namespaces
    if args.region_file:
        overrides["region_file"] = args.region_file
    if args.workers:
        overrides["workers"] = args.workers
    return AgencySettings(**overrides)


async def _run(settings: AgencySettings, log_level: int) -> None:
    kit = build_kit(settings)
    for namespace in settings.hub_namespaces():
        logging.getLogger("mash_agency").info(
            "agency %s: reading %s as group %s, answering on %s",
            settings.name,
            settings.request_topic_in(namespace),
            settings.consumer_group_in(namespace),
            settings.response_topic_in(namespace),
        )
    await FastStream(kit.broker).run(log_level=log_level)


def _print_records(agency: str | None) -> int:
    agencies = [agency] if agency else simulated_agencies()
    for name in agencies:
        if not records_path(name).exists():
            print(f"# {name}: no simulated records (answers 'nothing known' to everything)")
            continue
        loaded = load_records(name)
        print(f"# {name}: {len(loaded.records)} simulated record(s), from {records_path(name)}")
        print(yaml.safe_dump(loaded.model_dump(mode="json", exclude_none=True), sort_keys=False, width=100))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `mash-agency` and `python -m mash_agency`."""
    args = _parser().parse_args(argv)
    if args.command == "records":
        return _print_records(args.agency)
    level = getattr(logging, str(args.log_level).upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = settings_from(args)
    except (ValidationError, DelayRangeInvalid) as exc:
        print(f"mash-agency: invalid settings: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_run(settings, level))
    except (AdapterNotFound, RegionFileInvalid) as exc:
        print(f"mash-agency: {exc}", file=sys.stderr)
        return 2
    except (TopicAuthorizationFailedError, GroupAuthorizationFailedError) as exc:
        # A hub named in the settings that has not granted this agency its topics: the broker decides, and
        # the kit stops at start-up rather than answer some hubs and silently not others.
        print(f"mash-agency: the broker refused {settings.username or 'this connection'}: {exc}. A hub named in "
              "the settings has not made this agency a member; ask its operator, or stop naming it.", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        pass
    return 0
