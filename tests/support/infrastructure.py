"""Where the real Kafka broker and MongoDB-protocol server are.

From MASH_KAFKA_BOOTSTRAP / MASH_MONGO_URL when set (CI and `make test` start the native stack and set
them); otherwise from testcontainers where a Docker engine answers. With neither, the real-server
tests FAIL with instructions: they are never silently skipped.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass


@dataclass(frozen=True)
class Infrastructure:
    """Addresses of the real servers the integration and end-to-end tests use."""

    kafka_bootstrap: str
    mongo_url: str


def _docker_available() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env().ping()
    except Exception:
        return False
    return True


def locate(stack: ExitStack) -> Infrastructure:
    """The servers to use; starts containers (closed by `stack`) only when no addresses are given."""
    kafka, mongo = os.environ.get("MASH_KAFKA_BOOTSTRAP"), os.environ.get("MASH_MONGO_URL")
    if kafka and mongo:
        return Infrastructure(kafka_bootstrap=kafka, mongo_url=mongo)
    if not _docker_available():
        raise RuntimeError(
            "No real servers: set MASH_KAFKA_BOOTSTRAP and MASH_MONGO_URL (run `make up`), "
            "or run `make test`, which starts the native stack; no Docker engine answers here either."
        )
    # Imported here so that machines without Docker never touch testcontainers.
    from testcontainers.kafka import KafkaContainer
    from testcontainers.mongodb import MongoDbContainer

    kafka_container = stack.enter_context(KafkaContainer("apache/kafka:4.1.1").with_kraft())
    mongo_container = stack.enter_context(MongoDbContainer("mongo:7.0"))
    return Infrastructure(
        kafka_bootstrap=kafka_container.get_bootstrap_server(),
        mongo_url=mongo_container.get_connection_url(),
    )
