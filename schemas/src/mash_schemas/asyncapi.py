"""The AsyncAPI 3.0 document of the hub's events, for tools and for agencies that do not use Python.

Each event has a channel whose address is the deployed topic name, with the deployment's namespace
(`{namespace}`) and, on an agency's own topics, the agency (`{agency}`) as channel parameters; a message
with its payload (the event's JSON Schema beside this document), its headers and its Kafka key (the
referral id); a send operation for its producer and a receive operation per consumer group, whose Kafka
binding states the group id. The AsyncAPI parser validates it (infra/asyncapi/validate.sh, run by
`make test`).
"""

from __future__ import annotations

import re
from typing import Any

from mash_schemas.catalogue import CONSUMER_GROUPS, EVENTS, PRODUCERS
from mash_schemas.topics import agency_response_topic, enquiry_request_topic

KAFKA_BINDINGS = "0.5.0"
NAMESPACE_PATTERN = r"([a-z0-9-]+\.)?"  # MASH_TOPIC_NAMESPACE (a-z, 0-9, -) and its dot, or nothing

PARAMETERS: dict[str, Any] = {
    "namespace": {
        "description": "The deployment's namespace followed by a dot (`MASH_TOPIC_NAMESPACE`, e.g. `westshire.`), "
        "or nothing when the hub runs without one. It prefixes every topic and every consumer group, so "
        "several hubs (or test runs) can share one cluster.",
        "default": "",
        "examples": ["", "westshire."],
    },
    "agency": {
        "description": "The partner agency's id as configured in the hub: lower case letters, digits and "
        "hyphens, 2 to 40 characters, starting with a letter (`^[a-z][a-z0-9-]{1,39}$`).",
        "examples": ["police", "health", "school-nursing"],
    },
}

HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "Kafka record headers. Readers must not depend on any being present.",
    "properties": {
        "content-type": {"type": "string", "const": "application/json"},
        "event-type": {
            "type": "string",
            "description": "The envelope's event_type, set by the hub's outbox relay (not by every producer).",
        },
        "traceparent": {
            "type": "string",
            "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
            "description": "W3C trace context, so one trace follows a referral through every service.",
        },
    },
}

MESSAGE_KEY: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 64,
    "description": "The referral id (the envelope's correlation_id), UTF-8: one referral's events stay in order "
    "on one partition.",
}


def _key(event_type: str) -> str:
    return event_type.replace(".", "_")


def _address(event_type: str) -> str:
    if event_type == "enquiry.request":
        return "{namespace}" + enquiry_request_topic("{agency}")
    if event_type == "agency.response":
        return "{namespace}" + agency_response_topic("{agency}")
    topic: str = getattr(EVENTS[event_type], "TOPIC")  # noqa: B009 - ClassVar on a generic subclass
    return "{namespace}" + topic


def _group_pattern(group: str) -> str:
    """A group id template as a pattern: the namespace in front, `{agency}` and `{generation}` as names."""
    parts = re.split(r"(\{agency\}|\{generation\})", group)
    body = "".join(
        "[a-z][a-z0-9-]{1,39}" if part == "{agency}" else "[a-z0-9-]+" if part == "{generation}" else re.escape(part)
        for part in parts
    )
    return f"^{NAMESPACE_PATTERN}{body}$"


def _operation_name(group: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", group.replace("{", "").replace("}", "")).strip("_")


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document: channels, messages, operations and Kafka bindings of every event."""
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for name in sorted(EVENTS):
        key = _key(name)
        model = EVENTS[name]
        messages[key] = {
            "name": name,
            "title": name,
            "summary": (model.__doc__ or name).strip().splitlines()[0],
            "contentType": "application/json",
            "headers": HEADERS,
            "payload": {"$ref": f"./{name}.schema.json"},
            "correlationId": {"description": "The referral.", "location": "$message.payload#/correlation_id"},
            "bindings": {"kafka": {"key": MESSAGE_KEY, "bindingVersion": KAFKA_BINDINGS}},
        }
        address = _address(name)
        parameters = {param: {"$ref": f"#/components/parameters/{param}"}
                      for param in re.findall(r"\{(\w+)\}", address)}
        channels[key] = {
            "address": address,
            "title": name,
            "description": f"`{name}` events, schema_version {model.SCHEMA_VERSION}. Written by {PRODUCERS[name]}.",
            "parameters": parameters,
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
            "bindings": {"kafka": {"bindingVersion": KAFKA_BINDINGS}},
        }
        message_ref = [{"$ref": f"#/channels/{key}/messages/{key}"}]
        operations[f"send_{key}"] = {
            "action": "send",
            "title": f"{PRODUCERS[name]} publishes {name}",
            "channel": {"$ref": f"#/channels/{key}"},
            "messages": message_ref,
        }
        for group in CONSUMER_GROUPS[name]:
            operations[f"receive_{key}_{_operation_name(group)}"] = {
                "action": "receive",
                "title": f"consumer group {group} reads {name}",
                "description": "Offsets are committed after the event's effects are stored, so an event may be "
                "read again after a restart or a rebalance; readers recognise a repeat (by event_id, and by "
                "the domain's identity) and apply it once.",
                "channel": {"$ref": f"#/channels/{key}"},
                "messages": message_ref,
                "bindings": {"kafka": {
                    "groupId": {"type": "string", "pattern": _group_pattern(group),
                                "description": f"`{group}`, with the namespace and its dot in front when set."},
                    "bindingVersion": KAFKA_BINDINGS,
                }},
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Multi-Agency Safeguarding Hub events",
            "version": "1.1.0",
            "description": (
                "Every event travels in one JSON envelope (event_id, event_type, schema_version, occurred_at, "
                "correlation_id, causation_id, producer, payload), keyed by referral id. Topic names and "
                "consumer groups carry the deployment's namespace in front (`{namespace}`). Readers ignore "
                "properties they do not know and upcast older schema versions they know; writers send only "
                "what the schemas list. Each channel's description gives the schema_version its writers emit."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "parameters": PARAMETERS},
    }
