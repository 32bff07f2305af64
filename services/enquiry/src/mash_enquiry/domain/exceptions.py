"""Errors the research desk's rules raise, named as a MASH manager would describe the problem.

The names say what went wrong in the hub's words (UnknownAgency, CompletionNotDue) rather than carry an
"Error" suffix; all derive from EnquiryError. A broken seal is mash_runtime.sealing.SealBroken, the hub's one.
"""

from __future__ import annotations


class EnquiryError(Exception):
    """Base for the enquiry domain's errors, so the wiring can catch them in one place."""


class AgencyDirectoryInvalid(EnquiryError):
    """The partner-agency configuration cannot be used; the message names every field at fault."""


class UnknownAgency(EnquiryError):
    """An enquiry names an agency the hub has no configuration for (no topic, no contact)."""

    def __init__(self, agencies: list[str]) -> None:
        self.agencies = agencies
        names = ", ".join(repr(agency) for agency in agencies)
        super().__init__(f"not a configured partner agency: {names}")


class CompletionNotDue(EnquiryError):
    """Completing an enquiry was asked for while agencies are still within their time to answer."""
