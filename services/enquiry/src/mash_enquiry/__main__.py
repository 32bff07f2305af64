"""Run the enquiry service: `python -m mash_enquiry`."""

from __future__ import annotations

from mash_runtime.service import serve

from mash_enquiry.app import create_app
from mash_enquiry.settings import EnquirySettings


def main() -> None:
    """Serve the HTTP view and run the consumers and the sweeper."""
    settings = EnquirySettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
