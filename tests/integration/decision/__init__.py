"""The decision service (the MASH manager's desk) on the real broker and store."""
