"""The local provider's demo users (infra/oidc/users.yaml): one per hub role, one per partner agency."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import yaml

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[3]
AGENCIES = REPO / "services" / "enquiry" / "src" / "mash_enquiry" / "config" / "agencies.yaml"


def launcher() -> ModuleType:
    spec = importlib.util.spec_from_file_location("oidc_provider_launcher", REPO / "infra" / "oidc" / "provider.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_partner_agency_has_exactly_one_demo_user() -> None:
    users = launcher().load_users()
    agencies = set(yaml.safe_load(AGENCIES.read_text())["agencies"])

    by_agency = [claims["agency"] for claims in users.values() if "agency" in claims]

    assert sorted(by_agency) == sorted(agencies)
    assert all(claims["roles"] == ["agency"] for claims in users.values() if "agency" in claims)


def test_each_hub_role_has_its_demo_user() -> None:
    users = launcher().load_users()

    assert users["sam.screener"]["roles"] == ["screener"]
    assert users["morgan.manager"]["roles"] == ["manager"]
    assert users["ali.analyst"]["roles"] == ["analyst"]
    assert users["pat.police"]["agency"] == "police"
    assert all(claims["name"] and "@" in claims["email"] for claims in users.values())


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ({"name": "A", "email": "a@x", "roles": ["agency"]}, "agency"),
        ({"name": "A", "email": "a@x", "roles": ["screener"], "agency": "police"}, "agency"),
        ({"name": "A", "email": "a@x", "roles": ["superuser"]}, "unknown roles"),
        ({"email": "a@x", "roles": ["screener"]}, "name"),
    ],
)
def test_a_malformed_user_is_refused_with_its_name(tmp_path: Path, entry: dict[str, object], complaint: str) -> None:
    path = tmp_path / "users.yaml"
    path.write_text(yaml.safe_dump({"users": {"someone": entry}}))

    with pytest.raises(ValueError, match=complaint) as caught:
        launcher().load_users(path)
    assert "someone" in str(caught.value)
