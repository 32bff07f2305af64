"""Run intake (`python -m mash_intake`), or import the register (`... import-register FILE`)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from mash_runtime.service import ServiceRuntime, serve

from mash_intake.app import create_app, import_register_file
from mash_intake.settings import IntakeSettings
from mash_intake.store import IntakeStore


async def _import(path: Path) -> int:
    runtime = ServiceRuntime(IntakeSettings())
    try:
        return await import_register_file(IntakeStore(runtime), path)
    finally:
        await runtime.close()


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
