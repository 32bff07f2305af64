"""`python -m mash_agency` runs the agency kit's command line."""

from mash_agency.cli import main

raise SystemExit(main())
