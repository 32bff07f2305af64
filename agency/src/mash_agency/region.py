"""Which hubs an agency answers, read from the region file the hubs share (docs/federation.md).

The kit imports only the contract, never the hub's runtime, so it reads just what it needs of the region
file: each hub's namespace (defaulting to its id) and its member agencies. The hubs validate the whole file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator


class RegionFileInvalid(ValueError):
    """The region file cannot be read, or names no hub this agency is a member of."""


class _RegionHub(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    namespace: str = Field(pattern=r"^[a-z0-9-]+$")
    agencies: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _namespace_defaults_to_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("namespace"):
            return {**data, "namespace": data.get("id")}
        return data


class _Region(BaseModel):
    model_config = ConfigDict(extra="ignore")

    hubs: list[_RegionHub] = Field(min_length=1)


def namespaces_served(region_file: Path, agency: str) -> list[str]:
    """The namespaces of the region's hubs that list `agency` as a member, in the file's order."""
    try:
        region = _Region.model_validate(yaml.safe_load(region_file.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise RegionFileInvalid(f"region file {region_file}: {exc}") from exc
    served = [hub.namespace for hub in region.hubs if agency in hub.agencies]
    if not served:
        raise RegionFileInvalid(f"region file {region_file}: no hub lists {agency!r} among its agencies")
    return served
