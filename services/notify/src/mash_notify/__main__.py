"""Run notify: `python -m mash_notify`."""

from __future__ import annotations

from mash_runtime.service import serve

from mash_notify.app import create_app
from mash_notify.settings import NotifySettings


def main() -> None:
    """Serve the delivery log and run the consumer and the delivery worker."""
    settings = NotifySettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
