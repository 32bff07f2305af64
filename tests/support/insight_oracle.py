"""Insight's headline figures computed again, independently, straight from the raw events' JSON.

Written apart from mash_insight on purpose (plain dicts and loops, no readers, no facts): a replay test
compares what insight serves with what this computes from the same events. Only the desk's timescale
rules (mash_runtime.timescales, the definition of "on time") are shared.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from mash_runtime.timescales import Timescales
from mash_schemas import BragRating

SOCIAL_CARE = {"child_protection", "statutory_assessment", "allocated_worker"}
EARLY_HELP = {"early_help", "targeted_family_support"}


def _t(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _sector(payload: dict[str, Any]) -> str:
    referrer = payload["referrer"]
    if referrer.get("sector"):
        return str(referrer["sector"])
    if payload["source"] == "police_notification":
        return "police"
    return "public" if referrer.get("is_member_of_public") else "not_stated"


def _district(payload: dict[str, Any]) -> str | None:
    for person in [*payload["subjects"], *payload.get("household", [])]:
        postcode = (person.get("address") or {}).get("postcode")
        if postcode:
            return str(postcode).split(" ")[0]
    return None


def expected_figures(raw: dict[str, list[dict[str, Any]]], first: date, last: date,
                     timescales: Timescales) -> dict[str, Any]:
    """The figures for the days first..last from events by topic base name (mash.referral.received, ...)."""
    zone = timescales.working.zone

    def day(moment: datetime) -> date:
        return moment.astimezone(zone).date()

    def within(moment: datetime) -> bool:
        return first <= day(moment) <= last

    referrals = [e["payload"] for e in raw.get("mash.referral.received", [])]
    decisions = {e["payload"]["referral_id"]: e["payload"] for e in raw.get("mash.decision.made", [])}
    contacts = [r for r in referrals if within(_t(r["received_at"]))]

    again = set()
    for contact in referrals:
        mine = {m["person_ref"] for m in contact["matches"]}
        at = _t(contact["received_at"])
        for other in referrals:
            if other is contact or not mine & {m["person_ref"] for m in other["matches"]}:
                continue
            if at - timedelta(days=365) <= _t(other["received_at"]) < at:
                again.add(contact["referral_id"])
                break

    per_day: dict[str, dict[str, Any]] = {}
    worked: list[float] = []
    for n in range((last - first).days + 1):
        label = (first + timedelta(days=n)).isoformat()
        per_day[label] = {"contacts": 0, "decided": 0, "to_social_care": 0, "to_early_help": 0, "within_target": 0,
                          "within_one_working_day": 0, "re_referrals": 0}
    by_source: Counter[str] = Counter()
    by_district: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    for contact in contacts:
        received = _t(contact["received_at"])
        row = per_day[day(received).isoformat()]
        row["contacts"] += 1
        row["re_referrals"] += contact["referral_id"] in again
        by_source[_sector(contact)] += 1
        by_district[_district(contact) or "-"] += 1
        decision = decisions.get(contact["referral_id"])
        if decision is None:
            continue
        decided = _t(decision["decided_at"])
        row["decided"] += 1
        outcomes[decision["outcome"]] += 1
        row["to_social_care"] += decision["outcome"] in SOCIAL_CARE
        row["to_early_help"] += decision["outcome"] in EARLY_HELP
        due = timescales.decision_deadline(BragRating(decision["rating"]), received).due_at
        row["within_target"] += decided <= due
        row["within_one_working_day"] += decided <= timescales.working.one_working_day_after(received)
        start = timescales.working.clock_start(received)
        worked.append(max(0.0, timescales.working.working_time_between(start, decided).total_seconds() / 3600))

    totals = {key: sum(row[key] for row in per_day.values()) for key in next(iter(per_day.values()))}
    totals["median_working_hours"] = round(statistics.median(worked), 2) if worked else None
    return {
        "per_day": per_day,
        "total": totals,
        "by_source": dict(by_source),
        "by_district": dict(by_district),
        "outcomes": dict(outcomes),
        "agencies": _agencies(raw, within),
        "consultations": sum(within(_t(e["payload"]["recorded_at"])) for e in raw.get("mash.consultation.recorded", [])),
        "police_notifications": sum(within(_t(e["occurred_at"])) for e in raw.get("mash.police.notification", [])),
    }


def _agencies(raw: dict[str, list[dict[str, Any]]], within: Any) -> dict[str, dict[str, int]]:
    completed = {e["payload"]["enquiry_id"]: e["payload"] for e in raw.get("mash.enquiry.completed", [])}
    late = {(e["payload"]["enquiry_id"], e["payload"]["findings"]["agency"])
            for e in raw.get("mash.enquiry.addendum", [])}
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for event in raw.get("mash.enquiry.opened", []):
        if not within(_t(event["occurred_at"])):
            continue
        enquiry = event["payload"]
        outcome = completed.get(enquiry["enquiry_id"])
        for agency in enquiry["agencies"]:
            table[agency]["asked"] += 1
            answer = next((f for f in (outcome or {}).get("findings", []) if f["agency"] == agency), None)
            if answer is not None and _t(answer["responded_at"]) <= _t(enquiry["due_at"]):
                table[agency]["answered_in_time"] += 1
            elif answer is not None or (enquiry["enquiry_id"], agency) in late:
                table[agency]["answered_late"] += 1
            elif outcome is not None:
                table[agency]["silent"] += 1
    return {agency: dict(counts) for agency, counts in table.items()}


def flagged_families(raw: dict[str, list[dict[str, Any]]], as_of: datetime, window_days: int = 90,
                     threshold: int = 3, low: frozenset[str] = frozenset({"blue", "green"})) -> dict[str, list[str]]:
    """Families flagged as of `as_of`: their smallest person reference -> the referral ids that raised it."""
    decisions = {e["payload"]["referral_id"]: e["payload"] for e in raw.get("mash.decision.made", [])}
    since = as_of - timedelta(days=window_days)
    contacts = [e["payload"] for e in raw.get("mash.referral.received", [])
                if since < _t(e["payload"]["received_at"]) <= as_of and e["payload"]["matches"]]
    groups: list[set[str]] = []
    for contact in contacts:
        refs = {m["person_ref"] for m in contact["matches"]}
        joined = [g for g in groups if g & refs]
        for g in joined:
            groups.remove(g)
            refs |= g
        groups.append(refs)
    flagged = {}
    for group in groups:
        raising = sorted(c["referral_id"] for c in contacts if {m["person_ref"] for m in c["matches"]} & group and (
            decisions[c["referral_id"]]["rating"] if c["referral_id"] in decisions
            else c["suggested_rating"]["rating"]) in low)
        if len(raising) >= threshold:
            flagged[min(group)] = raising
    return flagged


def served_figures(performance: dict[str, Any], agencies: dict[str, Any], areas: dict[str, Any],
                   consultations: dict[str, Any]) -> dict[str, Any]:
    """The parts of insight's reports (as JSON) that `expected_figures` computes, in its shape."""
    total = performance["total"]

    def day(group: dict[str, Any]) -> dict[str, Any]:
        times = group["decision_times"]
        return {"contacts": group["contacts"], "decided": group["decided"], "to_social_care": group["to_social_care"],
                "to_early_help": group["to_early_help"], "within_target": times["within_target"],
                "within_one_working_day": times["within_one_working_day"], "re_referrals": group["re_referrals"]}

    return {
        "per_day": {group["label"]: day(group) for group in performance["groups"]},
        "total": {**day(total), "median_working_hours": total["decision_times"]["median_working_hours"]},
        "by_source": {row["sector"]: row["contacts"] for row in performance["by_source"]},
        "by_district": {**{a["district"]: a["contacts"] for a in areas["areas"]},
                        **({"-": areas["without_district"]} if areas["without_district"] else {})},
        "outcomes": total["outcomes"],
        "agencies": {a["agency"]: {k: a[k] for k in ("asked", "answered_in_time", "answered_late", "silent") if a[k]}
                     for a in agencies["agencies"]},
        "consultations": consultations["consultations"],
        "police_notifications": total["police_notifications"],
    }


# ------------------------------------------------------------------ threshold consistency (issue 23 item 3)

RATING_ORDER = ("red", "amber", "green", "blue")


def _label(day: date, by: str) -> str:
    if by == "day":
        return day.isoformat()
    if by == "week":
        iso = day.isocalendar()
        return f"{iso[0]}-W{iso[1]:02d}"
    return day.strftime("%Y-%m")


def _agree(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, int]:
    out = {"decided": len(pairs), "screened": 0, "suggested_screened_agree": 0, "screened_decided_agree": 0,
           "all_agree": 0, "changed_at_screening": 0, "changed_at_screening_with_rationale": 0,
           "changed_at_decision": 0, "changed_at_decision_with_rationale": 0}
    for _, d in pairs:
        s, c, f = d.get("suggested_rating"), d.get("screened_rating"), d["rating"]
        if not s or not c:
            continue
        out["screened"] += 1
        if s == c:
            out["suggested_screened_agree"] += 1
        else:
            out["changed_at_screening"] += 1
            if d.get("screening_rationale_recorded") is True:
                out["changed_at_screening_with_rationale"] += 1
        if c == f:
            out["screened_decided_agree"] += 1
        else:
            out["changed_at_decision"] += 1
            if d.get("rating_change_rationale_recorded") is True:
                out["changed_at_decision_with_rationale"] += 1
        if s == c == f:
            out["all_agree"] += 1
    return out


def expected_thresholds(raw: dict[str, list[dict[str, Any]]], first: date, last: date, by: str,
                        timescales: Timescales, as_of: datetime) -> dict[str, Any]:
    """Agreement, changes, step-up/step-down, outcomes by rating and safety scale, and drift, from the raw events."""
    zone = timescales.working.zone

    def local(moment: datetime) -> date:
        return moment.astimezone(zone).date()

    referrals = [e["payload"] for e in raw.get("mash.referral.received", [])]
    decisions = {e["payload"]["referral_id"]: e["payload"] for e in raw.get("mash.decision.made", [])}
    contacts = [r for r in referrals if first <= local(_t(r["received_at"])) <= last]
    labels: list[str] = []
    for n in range((last - first).days + 1):
        if _label(first + timedelta(days=n), by) not in labels:
            labels.append(_label(first + timedelta(days=n), by))
    pairs = [(c, decisions[c["referral_id"]]) for c in contacts if c["referral_id"] in decisions]

    grouped: dict[str, dict[str, list[tuple[dict[str, Any], dict[str, Any]]]]] = {
        "all": {"all": pairs}, "source": {}, "screener": {}, "manager": {}, "period": {label: [] for label in labels}}
    for c, d in pairs:
        grouped["source"].setdefault(_sector(c), []).append((c, d))
        grouped["screener"].setdefault(d.get("screened_by") or "not_recorded", []).append((c, d))
        grouped["manager"].setdefault(d.get("decided_by") or "not_recorded", []).append((c, d))
        grouped["period"][_label(local(_t(c["received_at"])), by)].append((c, d))
    agreement = {name: {cat: _agree(p) for cat, p in groups.items()} for name, groups in grouped.items()}

    changes: dict[str, dict[str, dict[str, int]]] = {}
    for step, before, after, why in (("screening", "suggested_rating", "screened_rating",
                                      "screening_rationale_recorded"),
                                     ("decision", "screened_rating", "rating", "rating_change_rationale_recorded")):
        changes[step] = {f"{a}->{b}": {"changed": 0, "with_rationale": 0}
                         for a in RATING_ORDER for b in RATING_ORDER if a != b}
        for _, d in pairs:
            if not d.get("suggested_rating") or not d.get("screened_rating") or d[before] == d[after]:
                continue
            changes[step][f"{d[before]}->{d[after]}"]["changed"] += 1
            changes[step][f"{d[before]}->{d[after]}"]["with_rationale"] += d.get(why) is True

    def earlier(contact: dict[str, Any], kinds: set[str]) -> bool:
        refs = {m["person_ref"] for m in contact["matches"]}
        received = _t(contact["received_at"])
        for other in referrals:
            dec = decisions.get(other["referral_id"])
            if other["referral_id"] == contact["referral_id"] or dec is None or dec["outcome"] not in kinds:
                continue
            if refs & {m["person_ref"] for m in other["matches"]}:
                at = _t(dec["decided_at"])
                if at < received <= at + timedelta(days=365):
                    return True
        return False

    flows = {label: {"to_early_help": 0, "to_social_care": 0, "step_up": 0, "step_down": 0}
             for label in [*labels, "total"]}
    for c, d in pairs:
        for label in (_label(local(_t(c["received_at"])), by), "total"):
            if d["outcome"] in SOCIAL_CARE:
                flows[label]["to_social_care"] += 1
                flows[label]["step_up"] += earlier(c, EARLY_HELP)
            if d["outcome"] in EARLY_HELP:
                flows[label]["to_early_help"] += 1
                flows[label]["step_down"] += earlier(c, SOCIAL_CARE)

    kinds = sorted({d["outcome"] for _, d in pairs})
    by_rating = {r: dict.fromkeys(kinds, 0) for r in RATING_ORDER}
    by_scale = {s: dict.fromkeys(kinds, 0) for s in [*(str(n) for n in range(11)), "not_recorded"]}
    for _, d in pairs:
        by_rating[d["rating"]][d["outcome"]] += 1
        scale = (d.get("risk_analysis") or {}).get("safety_scale")
        by_scale["not_recorded" if scale is None else str(scale)][d["outcome"]] += 1

    return {"agreement": agreement, "changes": changes, "flows": flows,
            "outcomes": {"rating": by_rating, "safety_scale": by_scale},
            "drift": _expected_drift(raw, contacts, decisions, first, last, timescales, as_of)}


def _expected_drift(raw: dict[str, list[dict[str, Any]]], contacts: list[dict[str, Any]],
                    decisions: dict[str, dict[str, Any]], first: date, last: date, timescales: Timescales,
                    as_of: datetime) -> dict[str, dict[str, Any]]:
    zone = timescales.working.zone
    alerts = [(e["payload"], _t(e["occurred_at"])) for e in raw.get("mash.case.timescale", [])]
    rows: dict[str, dict[str, Any]] = {r: {"open": 0, "past": [], "late": [], "breached": set()} for r in RATING_ORDER}

    def hours_after(rating: str, received: datetime, until: datetime) -> float | None:
        deadline = timescales.decision_deadline(BragRating(rating), received)
        if until <= deadline.due_at:
            return None
        return timescales.clock(deadline.clock).working_time_between(deadline.due_at, until).total_seconds() / 3600

    for c in contacts:
        received = _t(c["received_at"])
        if received > as_of:
            continue
        d = decisions.get(c["referral_id"])
        if d is not None and _t(d["decided_at"]) <= as_of:
            late = hours_after(d["rating"], received, _t(d["decided_at"]))
            if late is not None:
                rows[d["rating"]]["late"].append(late)
            continue
        mine = sorted(((at, a["status"], a["rating"]) for a, at in alerts
                       if a["referral_id"] == c["referral_id"] and at <= as_of))
        rating = mine[-1][2] if mine else c["suggested_rating"]["rating"]
        rows[rating]["open"] += 1
        past = hours_after(rating, received, as_of)
        if past is not None:
            rows[rating]["past"].append(past)
    for a, at in alerts:
        if a["status"] == "breached" and first <= at.astimezone(zone).date() <= last:
            rows[a["rating"]]["breached"].add(a["referral_id"])

    def med(values: list[float]) -> float | None:
        return round(statistics.median(values), 2) if values else None

    return {r: {"open": row["open"], "open_past_target": len(row["past"]), "median_hours_past_target": med(row["past"]),
                "longest_hours_past_target": round(max(row["past"]), 2) if row["past"] else None,
                "decided_late": len(row["late"]), "median_hours_late": med(row["late"]),
                "clock_breaches": len(row["breached"])} for r, row in rows.items()}
