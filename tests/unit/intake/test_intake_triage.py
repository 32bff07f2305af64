"""Police notification triage: which notices need the hub, over a realistic day's mix and rule by rule."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from mash_intake.domain.rulebook import RuleTableError
from mash_intake.domain.triage import TriageRules, children_involved, load_triage_rules, parse_triage_rules, triage
from mash_schemas.common import Subject, SubjectKind
from mash_schemas.police import PoliceNotification

from tests.unit.intake.intake_builders import child, notification, unborn

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def rules() -> TriageRules:
    return load_triage_rules()


def test_the_packaged_rules_load_and_end_with_a_default(rules: TriageRules) -> None:
    assert rules.rules[-1].id == "default-information"
    assert not rules.rules[-1].needs_hub


# --- a realistic day: archetypes with the outcome a police researcher would expect ------------------

Archetype = Callable[[random.Random, str], PoliceNotification]


def _kid(rng: random.Random, n: int = 1) -> list[Subject]:
    return [
        child(f"c{i}", given=rng.choice(["Liam", "Ava", "Noah"]), born=date(rng.randint(2010, 2024), 5, 1))
        for i in range(n)
    ]


def _household_child(rng: random.Random) -> list[dict[str, object]]:
    return [
        {
            "given_name": "Kai",
            "family_name": "Reed",
            "relationship": "son",
            "date_of_birth": date(rng.randint(2012, 2022), 3, 3).isoformat(),
        }
    ]


# (name, share of a day's notifications, builder, needs the hub?)
ARCHETYPES: list[tuple[str, float, Archetype, bool]] = [
    (
        "domestic abuse, standard, adults only",
        18,
        lambda rng, nid: notification("domestic_abuse", notification_id=nid, dash_risk="standard"),
        False,
    ),
    (
        "domestic abuse, standard, children present",
        10,
        lambda rng, nid: notification(
            "domestic_abuse", notification_id=nid, dash_risk="standard", children_present=True
        ),
        False,
    ),
    (
        "domestic abuse, medium, adults only",
        4,
        lambda rng, nid: notification("domestic_abuse", notification_id=nid, dash_risk="medium"),
        False,
    ),
    (
        "domestic abuse, medium, a child in the household",
        2,
        lambda rng, nid: notification(
            "domestic_abuse", notification_id=nid, dash_risk="medium", household=_household_child(rng)
        ),
        True,
    ),
    (
        "domestic abuse, high, children present",
        1,
        lambda rng, nid: notification("domestic_abuse", notification_id=nid, dash_risk="high", children_present=True),
        True,
    ),
    (
        "antisocial behaviour, adults only",
        8,
        lambda rng, nid: notification("antisocial_behaviour", notification_id=nid),
        False,
    ),
    (
        "antisocial behaviour, children at the address",
        1,
        lambda rng, nid: notification("antisocial_behaviour", notification_id=nid, flags=["Children at address"]),
        True,
    ),
    ("missing adult", 4, lambda rng, nid: notification("missing_person", notification_id=nid), False),
    (
        "missing child",
        1,
        lambda rng, nid: notification("missing_person", notification_id=nid, subjects=_kid(rng)),
        True,
    ),
    ("drugs warrant, adults only", 3, lambda rng, nid: notification("drugs_warrant", notification_id=nid), False),
    (
        "drugs warrant, pregnancy",
        0.4,
        lambda rng, nid: notification("drugs_warrant", notification_id=nid, flags=["pregnancy"]),
        True,
    ),
    ("adult crime suspect", 5, lambda rng, nid: notification("crime_suspect", notification_id=nid), False),
    (
        "child crime suspect",
        1,
        lambda rng, nid: notification("crime_suspect", notification_id=nid, subjects=_kid(rng)),
        True,
    ),
    ("sexual offender alert", 0.4, lambda rng, nid: notification("sexual_offender_alert", notification_id=nid), True),
    (
        "public protection, adults only",
        2,
        lambda rng, nid: notification("public_protection", notification_id=nid),
        False,
    ),
    ("other, adults only", 2, lambda rng, nid: notification("other", notification_id=nid), False),
]


def _a_day(seed: int, size: int = 60) -> list[tuple[str, PoliceNotification, bool]]:
    rng = random.Random(seed)
    picks = rng.choices(ARCHETYPES, weights=[share for _, share, _, _ in ARCHETYPES], k=size)
    return [(name, build(rng, f"PN-{seed}-{n}"), expected) for n, (name, _, build, expected) in enumerate(picks)]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_a_days_notifications_are_triaged_as_a_researcher_would(rules: TriageRules, seed: int) -> None:
    day = _a_day(seed)

    wrong = [
        (name, triage(notice, rules).rule)
        for name, notice, expected in day
        if triage(notice, rules).needs_hub is not expected
    ]

    assert wrong == []


def test_over_many_days_about_a_tenth_need_the_hub_and_none_is_dropped(rules: TriageRules) -> None:
    results = [triage(notice, rules) for seed in range(20) for _, notice, _ in _a_day(seed)]

    share = sum(result.needs_hub for result in results) / len(results)
    assert len(results) == 20 * 60
    assert all(result.rule and result.reason for result in results)
    assert 0.05 <= share <= 0.2
    # Kept notices are kept for a stated reason, not lost in a catch-all.
    kept_by = Counter(result.rule for result in results if not result.needs_hub)
    assert {"domestic-abuse-standard", "adult-only"} <= set(kept_by)


# --- rule by rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("notice", "rule", "needs_hub"),
    [
        (notification("sexual_offender_alert"), "sexual-offender-alert", True),
        (notification("crime_suspect", flags=["County-Lines"]), "exploitation-or-fgm-flag", True),
        (notification("domestic_abuse", dash_risk="high", flags=["pregnant"]), "domestic-abuse-high-pregnancy", True),
        (notification("domestic_abuse", dash_risk="high"), "adult-only", False),
        (
            notification("domestic_abuse", dash_risk="medium", children_present=True),
            "domestic-abuse-children-high-or-medium",
            True,
        ),
        (notification("domestic_abuse", children_present=True), "domestic-abuse-standard", False),
        (notification("drugs_warrant", subjects=[unborn()]), "drugs-warrant-children-or-pregnancy", True),
        (notification("antisocial_behaviour", flags=["neglect"]), "antisocial-behaviour-neglect", True),
        (notification("antisocial_behaviour", children_present=True), "antisocial-behaviour-children", True),
        (notification("other", flags=["poor home conditions"], children_present=True), "neglect-flag-children", True),
        (notification("public_protection", subjects=[child()]), "public-protection-children", True),
        (notification("missing_person"), "adult-only", False),
    ],
)
def test_each_rule(rules: TriageRules, notice: PoliceNotification, rule: str, needs_hub: bool) -> None:
    result = triage(notice, rules)

    assert (result.rule, result.needs_hub) == (rule, needs_hub)
    assert result.reason


def test_an_adult_household_member_does_not_count_as_a_child() -> None:
    adult = [{"given_name": "Ray", "family_name": "Reed", "relationship": "father", "date_of_birth": "1980-01-01"}]
    teenager = [{"given_name": "Kai", "family_name": "Reed", "relationship": "son", "date_of_birth": "2010-01-01"}]

    assert not children_involved(notification(household=adult))
    assert children_involved(notification(household=teenager))
    assert children_involved(notification(subjects=[child()]))
    assert children_involved(notification(flags=["children living at address"]))
    assert notification(subjects=[child()]).subjects[0].kind is SubjectKind.CHILD


# --- a hub's own rules ------------------------------------------------------------------------------

_RULES = """
name: test hub
rules:
  - id: all-domestic-abuse
    when: {notification_types: [domestic_abuse]}
    needs_hub: true
    reason: "this hub screens every domestic-abuse notice"
  - id: the-rest
    needs_hub: false
    reason: "kept"
"""


def test_a_hubs_own_rules_load_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "triage.yaml"
    path.write_text(_RULES, encoding="utf-8")
    hub_rules = load_triage_rules(path)

    assert triage(notification("domestic_abuse", dash_risk="standard"), hub_rules).needs_hub
    assert triage(notification("other"), hub_rules).rule == "the-rest"


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        (
            _RULES.replace('  - id: the-rest\n    needs_hub: false\n    reason: "kept"\n', ""),
            "last rule must be a default",
        ),
        (
            _RULES.replace('reason: "kept"', 'reason: "kept"\n  - {id: again, needs_hub: true, reason: x}'),
            "only the last rule may have no conditions",
        ),
        (_RULES.replace("[domestic_abuse]", "[domestic_abuses]"), r"rules\[0\] \(rule 'all-domestic-abuse'\)"),
        (_RULES.replace("needs_hub: true", "needs_hub: perhaps"), "needs_hub"),
        (_RULES.replace("id: the-rest", "id: all-domestic-abuse"), "repeated: all-domestic-abuse"),
        (_RULES.replace("when:", "if:"), "if"),
    ],
)
def test_bad_rules_are_refused_naming_the_rule(broken: str, expected: str) -> None:
    with pytest.raises(RuleTableError, match=expected):
        parse_triage_rules(broken)
