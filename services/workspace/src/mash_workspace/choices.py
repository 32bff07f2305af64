"""The contract's values as the pages offer them, each with the words a person reads.

Every value a form sends or a page compares is named by the contract's own enum (`mash_schemas`), so a value
the contract renames or drops fails here, at import, instead of in the browser. Only the words are the
workspace's: the order and wording follow what each page asks.
"""

from __future__ import annotations

from typing import Final, TypeVar, get_args

from mash_schemas.agency import AgencyResponse, Sensitivity
from mash_schemas.common import BragRating, ConcernCategory, ConsentStatus, SubjectKind
from mash_schemas.decision import Outcome
from mash_schemas.quality import PracticeGrade

Choice = tuple[str, str]
"""(value the service takes, words on the page): what a radio, checkbox or select offers."""
Value = TypeVar("Value", bound=str)


def _offered(words: dict[Value, str]) -> list[Choice]:
    return [(str(value), text) for value, text in words.items()]


# Most serious first, as the queue and the forms list them.
RATINGS: Final = _offered({BragRating.RED: "Red", BragRating.AMBER: "Amber", BragRating.GREEN: "Green",
                           BragRating.BLUE: "Blue"})
OUTCOMES: Final = _offered({
    Outcome.CHILD_PROTECTION: "Child protection (section 47)",
    Outcome.STATUTORY_ASSESSMENT: "Statutory assessment (section 17)",
    Outcome.EARLY_HELP: "Early help",
    Outcome.TARGETED_FAMILY_SUPPORT: "Targeted family support",
    Outcome.UNIVERSAL_SERVICES: "Universal services and advice",
    Outcome.NO_FURTHER_ACTION: "No further action (information only)",
    Outcome.ALLOCATED_WORKER: "Pass to the allocated social worker",
})

# Report a concern: who it is about, what worries the referrer, and whether the family agreed.
SUBJECT_KINDS: Final = _offered({SubjectKind.CHILD: "A child", SubjectKind.UNBORN_CHILD: "An unborn child",
                                 SubjectKind.ADULT_AT_RISK: "An adult at risk"})
# The categories a referrer is offered (intake derives the others, e.g. offending behaviour, from the police feed).
CATEGORIES: Final = _offered({
    ConcernCategory.NEGLECT: "Neglect", ConcernCategory.PHYSICAL_ABUSE: "Physical abuse",
    ConcernCategory.SEXUAL_ABUSE: "Sexual abuse", ConcernCategory.EMOTIONAL_ABUSE: "Emotional abuse",
    ConcernCategory.DOMESTIC_ABUSE: "Domestic abuse",
    ConcernCategory.CHILD_EXPLOITATION: "Exploitation (criminal or sexual)",
    ConcernCategory.FGM: "Female genital mutilation", ConcernCategory.RADICALISATION: "Radicalisation",
    ConcernCategory.MISSING: "Missing from home or school",
    ConcernCategory.PARENTAL_MENTAL_HEALTH: "A parent's mental health",
    ConcernCategory.PARENTAL_SUBSTANCE_MISUSE: "A parent's drug or alcohol use",
    ConcernCategory.SEXUAL_OFFENDER_CONTACT: "Contact with a person who poses a risk to children",
    ConcernCategory.OTHER: "Something else",
})
REFERRER_CONSENT: Final = _offered({ConsentStatus.GIVEN: "Yes, they agreed", ConsentStatus.REFUSED: "No, they refused",
                                    ConsentStatus.NOT_SOUGHT: "I have not asked them"})
# The manager's consent re-check before an enquiry (overriding is what "proceed without consent" records).
CONSENT_CHECKS: Final = _offered({ConsentStatus.GIVEN: "The family has given consent",
                                  ConsentStatus.REFUSED: "The family refused consent",
                                  ConsentStatus.NOT_SOUGHT: "Consent has not been sought"})

# The agency portal's answer: whether the agency holds information, and whether an item may be shared.
ANSWER_OUTCOMES: Final = get_args(AgencyResponse.model_fields["outcome"].annotation)
INFORMATION_HELD: Final = "information_held"
NOTHING_KNOWN: Final = "nothing_known"
if (INFORMATION_HELD, NOTHING_KNOWN) != ANSWER_OUTCOMES:
    raise RuntimeError(f"the contract's agency answer outcomes are {ANSWER_OUTCOMES}: update the portal's words")
AGENCY_ANSWERS: Final = _offered({INFORMATION_HELD: "Yes, we hold information",
                                  NOTHING_KNOWN: "No, nothing is known to us"})
SENSITIVITIES: Final = frozenset(str(value) for value in Sensitivity)

# Quality assurance (issue 23): the practice lead's grade of the practice on an audited case, best first.
PRACTICE_GRADES: Final = _offered({
    PracticeGrade.OUTSTANDING: "Outstanding", PracticeGrade.GOOD: "Good",
    PracticeGrade.REQUIRES_IMPROVEMENT: "Requires improvement", PracticeGrade.INADEQUATE: "Inadequate"})
# Whether the practice lead agrees with the threshold decision (the service takes true or false).
AGREEMENT: Final = [("true", "Yes, I agree with the threshold decision"),
                    ("false", "No, I disagree with the threshold decision")]
