"""The dead-letter record: a message a consumer could not accept, with why and where it came from."""

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
    origin_key: str | None = None
    consumer: str = Field(description="Service and consumer group that rejected it.")
    reason: str
    error_type: str
    raw_base64: str = Field(description="The message's bytes exactly as received.")
    dead_lettered_at: AwareDatetime


class DeadLetter(EventEnvelope[DeadLetterRecord]):
    """A message was set aside so that its partition keeps flowing."""

    TOPIC: ClassVar[str] = DEAD_LETTER
    event_type: Literal["dead.letter"] = "dead.letter"
