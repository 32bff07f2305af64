"""The dead-letter record: a message a consumer could not accept, with why and where it came from.

A record always fits on the dead-letter topic, whatever was set aside: it keeps the raw bytes whole
when they are small, and otherwise a bounded prefix with the full value's size and SHA-256, enough to
recognise the original on the source topic (origin topic, partition, offset) and replay it from there.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from mash_schemas.common import Model
from mash_schemas.envelope import EventEnvelope
from mash_schemas.topics import DEAD_LETTER


class DeadLetterRecord(Model):
    """Enough to find, understand and replay the rejected message."""

    origin_topic: str
    origin_partition: int
    origin_offset: int
    origin_key: str | None = Field(None, description="The record's key (cut to 256 characters).")
    consumer: str = Field(description="Service and consumer group that rejected it.")
    reason: str
    error_type: str = Field(
        description="empty_value, oversize_value, invalid_event, unsupported_schema_version, rejected or "
        "handler_failed."
    )
    raw_base64: str = Field(
        description="The message's bytes as received; only their first bytes when raw_truncated is true."
    )
    raw_size: int | None = Field(None, ge=0, description="Length of the whole value in bytes.")
    raw_sha256: str | None = Field(None, description="SHA-256 (hex) of the whole value.")
    raw_truncated: bool = Field(False, description="True when raw_base64 holds only a prefix of the value.")
    dead_lettered_at: AwareDatetime


class DeadLetter(EventEnvelope[DeadLetterRecord]):
    """A message was set aside so that its partition keeps flowing."""

    TOPIC: ClassVar[str] = DEAD_LETTER
    event_type: Literal["dead.letter"] = "dead.letter"
