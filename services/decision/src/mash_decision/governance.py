"""Decision's information governance: retention sweeps and legal holds over its case files and subject access
requests, erasure, and its own part of each subject access request (`govern` wires them; mash_runtime.governance
does the sweeping and holding; the subject access desk, subject_access_desk.py, runs the requests themselves).
"""

from __future__ import annotations

from mash_runtime.governance import Governance
from mash_runtime.service import ServiceRuntime
from mash_runtime.subject_access import answer_subject_access

from mash_decision.store import (
    DecisionStore,
    QualityAuditStore,
    RetainedCaseFiles,
    RetainedSubjectAccessRequests,
    SubjectAccessStore,
)
from mash_decision.subject_access_desk import SubjectAccessDesk


def govern(runtime: ServiceRuntime, store: DecisionStore, requests: SubjectAccessStore,
           desk: SubjectAccessDesk, audits: QualityAuditStore | None = None) -> Governance:
    """Sweep and hold case files (with their quality audits) and subject access requests by the retention schedule,
    and answer decision's own part of each subject access request (the desk finds it)."""
    governance = Governance(runtime, [RetainedCaseFiles(store, audits), RetainedSubjectAccessRequests(requests)])
    answer_subject_access(runtime, desk.find_own_part)
    return governance
