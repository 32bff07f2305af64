"""Insight's use cases: read the facts, apply the rules of the figures, give the reports ('today' is the clock's)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from mash_runtime.clock import Clock, utc_now
from mash_runtime.timescales import Timescales

from mash_insight.domain import figures, thresholds
from mash_insight.domain.export import commissioners_csv
from mash_insight.domain.periods import Grouping, Period
from mash_insight.domain.rising_concern import RisingConcernReport, RisingConcernRule, rising_concern
from mash_insight.store import FactStore

MAX_DAYS = 731


class PeriodRefused(ValueError):
    """A period the reports cannot give (backwards, or longer than two years)."""


class Reports:
    """The figures over the facts in a store, on the hub's calendar."""

    def __init__(self, store: FactStore, timescales: Timescales, rule: RisingConcernRule,
                 clock: Clock = utc_now) -> None:
        self.store = store
        self.timescales = timescales
        self.rule = rule
        self._clock = clock

    def today(self) -> date:
        """Today in the hub's timezone."""
        return self._clock().astimezone(self.timescales.working.zone).date()

    def period(self, first: date | None, last: date | None, default_days: int = 30) -> Period:
        """The period asked for: up to today, `default_days` long, when not given."""
        last = last or self.today()
        first = first or last - timedelta(days=default_days - 1)
        if last < first:
            raise PeriodRefused("the period ends before it starts")
        if (last - first).days >= MAX_DAYS:
            raise PeriodRefused(f"a period may be at most {MAX_DAYS} days")
        return Period(first, last, self.timescales.working.zone)

    async def performance(self, period: Period, grouping: Grouping) -> figures.PerformanceReport:
        """The hub's performance."""
        return figures.performance(await self.store.facts(), period, grouping, self.timescales)

    async def agencies(self, period: Period) -> figures.AgencyReport:
        """Agencies' answers to enquiries."""
        return figures.agencies(await self.store.facts(), period, self.timescales)

    async def areas(self, period: Period, grouping: Grouping) -> figures.AreaReport:
        """Contacts and outcomes by postcode district."""
        return figures.areas(await self.store.facts(), period, grouping)

    def drift_moment(self, period: Period) -> datetime:
        """When drift is measured: the end of the period, or now if the period has not ended."""
        return min(self._clock(), period.end())

    async def threshold_counts(self, period: Period, grouping: Grouping,
                               as_of: datetime | None = None) -> thresholds.ThresholdCounts:
        """Threshold consistency as numbers (before small numbers are suppressed); drift as of `as_of`."""
        return thresholds.threshold_counts(await self.store.facts(), period, grouping, self.timescales,
                                           as_of or self.drift_moment(period))

    async def thresholds(self, period: Period, grouping: Grouping) -> thresholds.ThresholdReport:
        """Threshold consistency as published: every count under 5 shown as "<5"."""
        as_of = self.drift_moment(period)
        counts = await self.threshold_counts(period, grouping, as_of)
        return thresholds.threshold_report(counts, period, grouping, as_of)

    async def consultations(self, period: Period) -> figures.ConsultationReport:
        """Consultations."""
        return figures.consultations(await self.store.facts(), period)

    async def federation(self, period: Period) -> figures.FederationReport:
        """Transfers in and out by hub, and enquiries that asked a neighbouring hub (issue 20)."""
        return figures.federation(await self.store.facts(), period)

    async def rising_concern(self, as_of: datetime) -> RisingConcernReport:
        """Families to look at, as of `as_of`."""
        facts = await self.store.facts()
        decisions = {d.referral_id: d for d in facts.decisions}
        return rising_concern(facts.contacts, decisions, self.rule, as_of)

    async def commissioners_csv(self, period: Period, grouping: Grouping) -> str:
        """The commissioners' export."""
        return commissioners_csv(await self.store.facts(), period, grouping)

    def end_of(self, day: date) -> datetime:
        """The last moment of `day` in the hub's timezone (rising concern looks back from it)."""
        return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=self.timescales.working.zone) \
            - timedelta(microseconds=1)
