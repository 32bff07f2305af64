"""Run intake (`python -m mash_intake`), or import the register (`... import-register FILE`)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from mash_runtime.service import serve

from mash_intake.app import create_app
from mash_intake.bootstrap import bootstrap
from mash_intake.settings import IntakeSettings


async def _import(path: Path) -> int:
    service = bootstrap(IntakeSettings())
    try:
        return await service.front_door.import_register_file(path)
    finally:
        await service.runtime.close()


def main() -> None:
    """Command line: serve (default) or import-register."""
    parser = argparse.ArgumentParser(prog="mash-intake", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the HTTP API and the consumers (default)")
    register = commands.add_parser("import-register", help="import known people from a CSV or JSON export")
    register.add_argument("file", type=Path)
    args = parser.parse_args()
    if args.command == "import-register":
        print(f"imported {asyncio.run(_import(args.file))} people")
        return
    settings = IntakeSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
