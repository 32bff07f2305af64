"""Integration tests of the enquiry service and the agency kit on the real broker and store."""
