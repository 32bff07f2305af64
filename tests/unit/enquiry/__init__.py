"""Unit tests of the research desk's domain: agencies, fan-out, the enquiry record and sealing."""
