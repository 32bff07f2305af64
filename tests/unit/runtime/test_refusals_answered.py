"""A use case's one table of answers to its domain's refusals: the first match wins, anything unlisted passes."""

from __future__ import annotations

import pytest
from mash_runtime.http import DomainError, Refusal, refusals_answered

pytestmark = pytest.mark.unit


class StepRefused(Exception):
    """The domain's base refusal."""


class ReasonMissing(StepRefused):
    """A specific refusal, listed before its base."""


class Conflict(DomainError):
    status = 409


class Unprocessable(DomainError):
    status = 422


REFUSALS: tuple[Refusal, ...] = ((ReasonMissing, Unprocessable, "reason"), (StepRefused, Conflict, None))


def test_a_specific_refusal_is_answered_by_its_own_entry_naming_the_field() -> None:
    with pytest.raises(Unprocessable) as answered, refusals_answered(REFUSALS):
        raise ReasonMissing("a reason is needed")
    assert (answered.value.message, answered.value.field) == ("a reason is needed", "reason")
    assert isinstance(answered.value.__cause__, ReasonMissing)


def test_any_other_refusal_is_answered_by_its_base_entry() -> None:
    with pytest.raises(Conflict) as answered, refusals_answered(REFUSALS):
        raise StepRefused("out of order")
    assert (answered.value.message, answered.value.field) == ("out of order", None)


def test_what_the_table_does_not_list_passes_through_unchanged() -> None:
    with pytest.raises(KeyError), refusals_answered(REFUSALS):
        raise KeyError("not a refusal")
    with pytest.raises(Conflict, match="already a DomainError"), refusals_answered(REFUSALS):
        raise Conflict("already a DomainError")
