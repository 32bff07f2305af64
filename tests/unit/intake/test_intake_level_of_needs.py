"""The initial suggested rating from the Level of Needs table: the scenarios' contacts, modifiers, bad tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from mash_intake.domain.level_of_needs import (
    LevelOfNeedsTable,
    RatingIndicators,
    load_level_of_needs,
    parse_level_of_needs,
    suggest_rating,
)
from mash_intake.domain.rulebook import RuleTableError
from mash_schemas.common import BragRating, ConcernCategory, Subject, SubjectKind

from tests.unit.intake.intake_builders import TODAY, child, notification, submission, unborn

pytestmark = pytest.mark.unit

C = ConcernCategory


@pytest.fixture(scope="module")
def table() -> LevelOfNeedsTable:
    return load_level_of_needs()


def _rate_contact(
    table: LevelOfNeedsTable, categories: list[ConcernCategory], narrative: str, subjects: list[Subject] | None = None
) -> tuple[BragRating, list[str]]:
    contact = submission(categories, narrative, subjects)
    suggestion = suggest_rating(RatingIndicators.from_submission(contact, assessed_on=TODAY), table)
    return suggestion.rating, suggestion.reasons


def _fired(reasons: list[str]) -> set[str]:
    return {reason.split("rule '")[1].split("'")[0] for reason in reasons if "rule '" in reason}


def test_the_packaged_table_loads_and_validates(table: LevelOfNeedsTable) -> None:
    assert table.indicators
    assert {indicator.rating for indicator in table.indicators} == set(BragRating)


# --- the scenarios' contacts (SCENARIOS.md) --------------------------------------------------------


def test_scenario_1_bike_theft_starts_blue_or_green(table: LevelOfNeedsTable) -> None:
    notice = notification(
        "crime_suspect",
        subjects=[child(given="Tyler", family="Ward", born=date(2012, 2, 14))],
        narrative="Boy aged 14 suspected of stealing a bicycle from outside the leisure centre.",
    )

    suggestion = suggest_rating(RatingIndicators.from_police_notification(notice, assessed_on=TODAY), table)

    assert suggestion.rating in {BragRating.BLUE, BragRating.GREEN}
    assert "offending-behaviour" in _fired(suggestion.reasons)


def test_scenario_2_antisocial_behaviour_with_children_starts_green(table: LevelOfNeedsTable) -> None:
    notice = notification(
        "antisocial_behaviour",
        subjects=[child("c1", born=date(2014, 1, 5)), child("c2", given="Ava", born=date(2016, 9, 9))],
        flags=["Children at address"],
        narrative="Neighbours report shouting and visitors at all hours; two children live at the address.",
    )

    suggestion = suggest_rating(RatingIndicators.from_police_notification(notice, assessed_on=TODAY), table)

    assert suggestion.rating is BragRating.GREEN
    assert _fired(suggestion.reasons) == {"antisocial-behaviour"}


def test_scenario_3_drugs_warrant_and_pregnancy_starts_at_least_amber(table: LevelOfNeedsTable) -> None:
    notice = notification(
        "drugs_warrant",
        subjects=[unborn()],
        flags=["pregnancy"],
        narrative="Drugs warrant executed. A young woman was holding a large quantity of diazepam.",
    )

    suggestion = suggest_rating(RatingIndicators.from_police_notification(notice, assessed_on=TODAY), table)

    assert suggestion.rating in {BragRating.AMBER, BragRating.RED}
    assert "unborn-substance-misuse" in _fired(suggestion.reasons)


def test_scenario_4_sex_offender_alert_starts_red(table: LevelOfNeedsTable) -> None:
    notice = notification(
        "sexual_offender_alert",
        subjects=[child(born=date(2019, 3, 1))],
        narrative="A man suspected of sexual offences may visit his girlfriend, who lives with her daughter.",
    )

    suggestion = suggest_rating(RatingIndicators.from_police_notification(notice, assessed_on=TODAY), table)

    assert suggestion.rating is BragRating.RED
    assert "sexual-offender-contact" in _fired(suggestion.reasons)


def test_scenario_5_a_quiet_worry_at_school_starts_green(table: LevelOfNeedsTable) -> None:
    rating, reasons = _rate_contact(table, [C.EMOTIONAL_WELLBEING], "Mia seems withdrawn and quiet in class lately.")

    assert rating is BragRating.GREEN
    assert _fired(reasons) == {"emotional-wellbeing"}


def test_scenario_6_health_visitor_neglect_concern_starts_amber(table: LevelOfNeedsTable) -> None:
    rating, _ = _rate_contact(
        table, [C.NEGLECT], "Home conditions poor at the visit; the child's weight has dropped.", [child()]
    )

    assert rating is BragRating.AMBER


def test_scenario_8_a_bruised_baby_is_red_and_the_school_neglect_referral_amber(table: LevelOfNeedsTable) -> None:
    baby = child("b1", given="Noah", born=date(2025, 11, 2))
    red, red_reasons = _rate_contact(table, [C.OTHER], "Health visitor saw a bruise on the baby's cheek.", [baby])
    amber, _ = _rate_contact(table, [C.NEGLECT], "Children arriving hungry and unwashed.", [child()])

    assert red is BragRating.RED
    assert "baby-injury-words" in _fired(red_reasons)
    assert amber is BragRating.AMBER


# --- individual rules and modifiers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("categories", "expected"),
    [
        ([C.SEXUAL_ABUSE], BragRating.RED),
        ([C.FGM], BragRating.RED),
        ([C.DOMESTIC_ABUSE], BragRating.AMBER),
        ([C.CHILD_EXPLOITATION], BragRating.AMBER),
        ([C.MISSING], BragRating.AMBER),
        ([C.PARENTAL_MENTAL_HEALTH], BragRating.GREEN),
        ([C.ANTISOCIAL_BEHAVIOUR], BragRating.GREEN),
        ([C.OFFENDING_BEHAVIOUR], BragRating.BLUE),
    ],
)
def test_category_thresholds(table: LevelOfNeedsTable, categories: list[ConcernCategory], expected: BragRating) -> None:
    rating, _ = _rate_contact(table, categories, "Concern as described on the form.")

    assert rating is expected


def test_physical_injury_is_red_only_for_a_child_under_one(table: LevelOfNeedsTable) -> None:
    baby, _ = _rate_contact(table, [C.PHYSICAL_ABUSE], "Mark on arm.", [child(born=date(2025, 6, 1))])
    older, _ = _rate_contact(table, [C.PHYSICAL_ABUSE], "Mark on arm.", [child(born=date(2024, 6, 1))])

    assert baby is BragRating.RED
    assert older is BragRating.AMBER


def test_an_estimated_age_of_zero_counts_as_under_one(table: LevelOfNeedsTable) -> None:
    rating, _ = _rate_contact(table, [C.OTHER], "Injury to the infant's leg.", [child(born=None, estimated_age=0)])

    assert rating is BragRating.RED


def test_domestic_abuse_is_red_only_when_dash_is_high(table: LevelOfNeedsTable) -> None:
    def rate(dash: str) -> BragRating:
        notice = notification("domestic_abuse", dash_risk=dash, children_present=True, subjects=[child()])
        return suggest_rating(RatingIndicators.from_police_notification(notice, assessed_on=TODAY), table).rating

    assert rate("high") is BragRating.RED
    assert rate("medium") is BragRating.AMBER


def test_substance_misuse_is_amber_with_a_child_under_five_and_green_otherwise(table: LevelOfNeedsTable) -> None:
    young, _ = _rate_contact(table, [C.PARENTAL_SUBSTANCE_MISUSE], "Mother drinks.", [child(born=date(2023, 1, 1))])
    older, _ = _rate_contact(table, [C.PARENTAL_SUBSTANCE_MISUSE], "Mother drinks.", [child(born=date(2012, 1, 1))])

    assert young is BragRating.AMBER
    assert older is BragRating.GREEN


def test_drugs_mentioned_with_children_raise_to_amber_but_drugs_alone_do_not(table: LevelOfNeedsTable) -> None:
    with_children, reasons = _rate_contact(
        table, [C.ANTISOCIAL_BEHAVIOUR], "Drugs being sold from the flat while the children are home."
    )
    alone, _ = _rate_contact(table, [C.ANTISOCIAL_BEHAVIOUR], "Drugs being sold from the flat at night.")

    assert with_children is BragRating.AMBER
    assert "drugs-with-children-words" in _fired(reasons)
    assert alone is BragRating.GREEN


def test_a_knife_mentioned_raises_to_amber(table: LevelOfNeedsTable) -> None:
    rating, reasons = _rate_contact(table, [C.EMOTIONAL_WELLBEING], "He brought a knife to school.")

    assert rating is BragRating.AMBER
    assert _fired(reasons) == {"emotional-wellbeing", "weapon-words"}


def test_several_kinds_of_concern_step_up_one_level(table: LevelOfNeedsTable) -> None:
    two, _ = _rate_contact(table, [C.PARENTAL_MENTAL_HEALTH, C.EMOTIONAL_WELLBEING], "Family struggling.")
    three, reasons = _rate_contact(
        table, [C.PARENTAL_MENTAL_HEALTH, C.EMOTIONAL_WELLBEING, C.ANTISOCIAL_BEHAVIOUR], "Family struggling."
    )

    assert two is BragRating.GREEN
    assert three is BragRating.AMBER
    assert any("several-concerns" in reason and "green -> amber" in reason for reason in reasons)


def test_an_unborn_child_with_substance_misuse_is_at_least_amber(table: LevelOfNeedsTable) -> None:
    baby_due = unborn()
    rating, _ = _rate_contact(table, [C.PARENTAL_SUBSTANCE_MISUSE], "Mother uses alcohol daily.", [baby_due])

    assert baby_due.kind is SubjectKind.UNBORN_CHILD
    assert rating is BragRating.AMBER


# --- a hub's own table --------------------------------------------------------------------------

_SMALL_TABLE = """
name: test hub
indicators:
  - id: neglect
    when: {categories_any: [neglect]}
    rating: red
    reason: "This hub treats neglect as red"
default: {rating: blue, reason: "nothing matched"}
"""


def test_a_hub_table_loaded_from_a_path_changes_the_rating(tmp_path: Path) -> None:
    path = tmp_path / "lon.yaml"
    path.write_text(_SMALL_TABLE, encoding="utf-8")
    hub_table = load_level_of_needs(path)

    neglect, _ = _rate_contact(hub_table, [C.NEGLECT], "Neglect.")
    other, reasons = _rate_contact(hub_table, [C.MISSING], "Missing.")

    assert neglect is BragRating.RED
    assert other is BragRating.BLUE
    assert reasons == ["nothing matched (default: blue)"]


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        (_SMALL_TABLE.replace("rating: red", "rating: purple"), r"indicators\[0\] \(rule 'neglect'\)\.rating"),
        (_SMALL_TABLE.replace("categories_any: [neglect]", "categories_any: [negelct]"), "rule 'neglect'"),
        (_SMALL_TABLE.replace("{categories_any: [neglect]}", "{}"), "at least one condition"),
        (_SMALL_TABLE.replace("when:", "whenn:"), "whenn"),
        (_SMALL_TABLE + "modifiers:\n  - {id: m, when: {min_categories: 3}, reason: r}\n", "exactly one of"),
        ("indicators: [\n", "not valid YAML"),
    ],
)
def test_a_bad_table_is_refused_naming_the_entry(broken: str, expected: str) -> None:
    with pytest.raises(RuleTableError, match=expected):
        parse_level_of_needs(broken)


def test_repeated_rule_ids_are_refused() -> None:
    repeated = _SMALL_TABLE.replace(
        "default:", "  - {id: neglect, when: {categories_any: [fgm]}, rating: red, reason: r}\ndefault:"
    )

    with pytest.raises(RuleTableError, match="repeated: neglect"):
        parse_level_of_needs(repeated)


def test_a_missing_table_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuleTableError, match=r"Level of Needs table: cannot read .*absent\.yaml"):
        load_level_of_needs(tmp_path / "absent.yaml")
