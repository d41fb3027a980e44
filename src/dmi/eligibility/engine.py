"""The vectorised evaluator: rule files applied to typed facts, column by column.

No input validation here (see :mod:`dmi.eligibility.facts`): this module takes typed columns and
a loaded :class:`~dmi.eligibility.policy.Policy` and works on whole numpy arrays. Every test
gives a state per row in a four-valued logic ordered ``not_met < unknown < manual < met``: "all
of" is the minimum, "any of" the maximum, so a missing fact gives ``unknown`` unless another
fact already settles the outcome, and ``manual`` survives only where nothing else is missing or
failing. A scorecard is evaluated as an interval (the fewest and most points the firm can have
given what is missing), so it is ``met`` or ``not_met`` as soon as the missing facts cannot
change the outcome, and ``unknown`` only when they could.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dmi.eligibility.facts import FactColumns, facts_table
from dmi.eligibility.places import province_key
from dmi.eligibility.policy import (
    RUNGS,
    AllOf,
    AnyOf,
    Compare,
    Condition,
    Indicator,
    Is,
    Manual,
    Member,
    Metric,
    Policy,
    PolicyError,
    Problem,
    Routing,
    Scorecard,
    ScorecardPass,
    resolve_bands,
)

__all__ = [
    "MANUAL",
    "MET",
    "NA",
    "NOT_MET",
    "STATES",
    "STATUSES",
    "UNKNOWN",
    "Context",
    "Evaluation",
    "Part",
    "Plan",
    "RungEval",
    "ScorecardEval",
    "evaluate_columns",
    "holds",
    "plan",
]

NOT_MET, UNKNOWN, MANUAL, MET, NA = 0, 1, 2, 3, 4
STATES = ("not_met", "unknown", "manual", "met")
STATUSES = ("not_yet", "unknown", "manual", "eligible")
_HOLDS_FACT = {r: f"holds_{r}" for r in RUNGS}


def holds(facts: FactColumns, rung: str, value: str) -> np.ndarray:
    """Rows whose ``holds_<rung>`` fact is ``value`` (``no``, ``yes`` or ``recheck``)."""
    fact = _HOLDS_FACT[rung]
    return facts.values[fact] == float(facts_table()[fact].value_index(value))


POINTS_DECIMALS = 9
"""The places a scorecard's sums of points are rounded to: far more than a rule file's points
have, far fewer than a float's error of adding them."""


def rounded_to(values: np.ndarray, decimals: int) -> np.ndarray:
    """``values`` rounded to ``decimals`` places; a value too big to scale (1e300 and up) is
    kept as it is (numpy's rounding scales it to infinity, with a warning)."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.round(values, decimals)
    big = ~np.isfinite(out) & np.isfinite(values)
    if big.any():
        out[big] = np.asarray(values)[big]
    return out


_FACTS_READ: dict[tuple[str, Any], frozenset[str]] = {}


def facts_read(policy: Policy, what: Any) -> frozenset[str]:
    """The facts a test, or a fact or metric by name, reads (through metrics, scorecards and
    award windows); remembered per policy (by its hash) and test."""
    key = (policy.hash, what)
    found = _FACTS_READ.get(key)
    if found is None:
        found = frozenset(_facts_read(policy, what))
        _FACTS_READ[key] = found
    return found


def _facts_read(policy: Policy, what: Any) -> set[str]:
    if isinstance(what, str):
        if what not in policy.metrics:
            return {what}
        return set().union(*(facts_read(policy, name) for name in policy.metrics[what].inputs))
    if isinstance(what, (AllOf, AnyOf)):
        subs = what.all if isinstance(what, AllOf) else what.any
        return set().union(*(facts_read(policy, t) for t in subs))
    if isinstance(what, Manual):
        return set()
    if isinstance(what, ScorecardPass):
        sc = policy.scorecards[what.scorecard]
        names: set[str] = {"province"}
        if sc.province_fact:
            names |= facts_read(policy, sc.province_fact)
        for ind in (*sc.indicators, *(i for b in sc.provinces for i in b.indicators)):
            for name in ([ind.of] if ind.of else []) + [sub.of for sub in ind.best_of or ()]:
                names |= facts_read(policy, name)
            for step in ind.first_of or ():
                names |= facts_read(policy, step.test)
        return names
    names = set(facts_read(policy, what.of))  # Compare, Member, Is
    window = getattr(what, "window", None)
    if window is not None:
        names.add(window.fact)
    return names


def _state(missing: np.ndarray, met: np.ndarray) -> np.ndarray:
    out = met.view(np.int8) * np.int8(MET)  # not_met is 0
    out[missing] = UNKNOWN
    return out


class Context:
    """The facts of a batch seen through one policy: facts and metrics by name, cached.

    ``get(name)`` gives ``(values, missing)``: float64 values (NaN where missing or undefined,
    e.g. a share of zero revenue) and a mask of the rows where a fact it needs is missing.
    Derived values are rounded to the policy's ``precision`` (12 decimals) before any comparison,
    so that 30 / 1000 is exactly 3.0 %.

    ``parent`` is ``(context, rows, changed)`` when the facts are those of the rows ``rows``
    (positions) of another context under the same policy and year, with the facts ``changed``
    changed (the gaps' follow-ups): a fact, metric or test that reads none of those is the other
    context's, taken at the rows, when it has it already (every value is a row's own).
    """

    def __init__(
        self,
        facts: FactColumns,
        policy: Policy,
        year: int,
        parent: tuple[Context, np.ndarray, frozenset[str]] | None = None,
    ):
        self.facts = facts
        self.policy = policy
        self.year = year
        self.n = facts.n
        self._cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._scorecards: dict[str, ScorecardEval] = {}
        self._states: dict[Any, np.ndarray] = {}
        self._parent = parent

    def _unchanged(self, kind: str, key: Any) -> Any:
        """The parent's ``_cache`` (kind "get") or ``_states`` (kind "state") entry for
        ``key`` at this context's rows, when it has one and ``key`` reads no changed fact;
        else None."""
        if self._parent is None:
            return None
        parent, rows, changed = self._parent
        found = (parent._cache if kind == "get" else parent._states).get(key)
        if found is None or not changed.isdisjoint(facts_read(self.policy, key)):
            return None
        if kind == "get":
            return found[0][rows], found[1][rows]
        return found[rows]

    def get(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        found = self._cache.get(name)
        if found is None:
            found = self._unchanged("get", name)
        if found is None:
            if name in self.policy.metrics:
                found = self._metric(self.policy.metrics[name])
            else:
                values = self.facts.values[name]
                found = (values, np.isnan(values))
            self._cache[name] = found
        return found

    def _metric(self, metric: Metric) -> tuple[np.ndarray, np.ndarray]:
        parts = [self.get(name) for name in metric.inputs]
        missing = np.zeros(self.n, dtype=bool)
        for _, m in parts:
            missing |= m
        values = [p[0] for p in parts]
        with np.errstate(divide="ignore", invalid="ignore"):
            if metric.kind in ("ratio", "share"):
                num, den = values
                out = np.where(den > 0, num / den * metric.scale, np.nan)
            elif metric.kind == "growth":
                if len(values) == 2:  # one year's rate, or a compound rate over the span
                    first, last = values
                    out = np.where(first > 0, (last / first) ** (1.0 / metric.span) - 1.0, np.nan)
                else:
                    rates = [
                        np.where(a > 0, b / a - 1.0, np.nan) for a, b in zip(values, values[1:])
                    ]
                    out = sum(rates[1:], rates[0]) / len(rates)
                out = out * metric.scale
            elif metric.kind == "sum":
                out = sum(values[1:], values[0])
            elif metric.kind == "mean":
                out = sum(values[1:], values[0]) / len(values)
            else:  # first given
                out = values[0].copy()
                missing = np.isnan(out)
                for v in values[1:]:
                    fill = missing & ~np.isnan(v)
                    out[fill] = v[fill]
                    missing &= ~fill
        out = rounded_to(out, self.policy.precision)
        out[missing] = np.nan
        return out, missing

    def codes(self, name: str) -> np.ndarray:
        return self.facts.values[name]

    def scorecard(self, sid: str) -> ScorecardEval:
        found = self._scorecards.get(sid)
        if found is None:
            found = _evaluate_scorecard(self, self.policy.scorecards[sid])
            self._scorecards[sid] = found
        return found

    # -- tests ---------------------------------------------------------------------------------

    def state(self, test: Any) -> np.ndarray:
        """The state (int8: not_met 0, unknown 1, manual 2, met 3) of a test on every row.

        Worked out once per test (tests are frozen: equal tests share it) and read-only: the
        rungs share their base conditions, and the gaps ask again for the tests they explain.
        """
        found = self._states.get(test)
        if found is None:
            found = self._unchanged("state", test)
            if found is None:
                found = self._state_of(test)
            found.flags.writeable = False
            self._states[test] = found
        return found

    def _state_of(self, test: Any) -> np.ndarray:
        if isinstance(test, AllOf):
            out = self.state(test.all[0])
            for t in test.all[1:]:
                out = np.minimum(out, self.state(t))
            return out
        if isinstance(test, AnyOf):
            out = self.state(test.any[0])
            for t in test.any[1:]:
                out = np.maximum(out, self.state(t))
            return out
        if isinstance(test, Manual):
            return np.full(self.n, MANUAL, dtype=np.int8)
        if isinstance(test, ScorecardPass):
            return self.scorecard(test.scorecard).state
        if isinstance(test, Compare):
            values, missing = self.get(test.of)
            t = test.threshold
            with np.errstate(invalid="ignore"):
                if test.op == "at_least":
                    met = values >= t
                elif test.op == "above":
                    met = values > t
                elif test.op == "at_most":
                    met = values <= t
                else:
                    met = values < t
            return self._windowed(_state(missing, met), test)
        if isinstance(test, Member):
            fact = facts_table()[test.of]
            codes = self.codes(test.of)
            wanted = [float(fact.value_index(v)) for v in test.in_]
            return self._windowed(_state(np.isnan(codes), np.isin(codes, wanted)), test)
        if isinstance(test, Is):
            codes = self.codes(test.of)
            return _state(np.isnan(codes), codes == (1.0 if test.is_ == "yes" else 0.0))
        raise TypeError(f"not a test: {test!r}")

    def _windowed(self, state: np.ndarray, leaf: Compare | Member) -> np.ndarray:
        if leaf.window is None:
            return state
        year = self.facts.values[leaf.window.fact]
        with np.errstate(invalid="ignore"):
            # an award dated after the application year is not within the years before it
            outside = (year < self.year - leaf.window.years) | (year > self.year)
        return np.where((state == MET) & outside, np.int8(NOT_MET), state)


# -- scorecards ----------------------------------------------------------------------------------


@dataclass
class ScorecardEval:
    """Points of every row: per indicator, per group and in total, each as an interval.

    ``lo`` is what the firm has for sure (a missing fact counts as its indicator's fewest
    points), ``hi`` the most it could have. Equal where nothing the scorecard needs is missing.
    """

    scorecard: Scorecard
    ind_lo: dict[str, np.ndarray]
    ind_hi: dict[str, np.ndarray]
    group_lo: dict[str, np.ndarray]
    group_hi: dict[str, np.ndarray]
    lo: np.ndarray
    hi: np.ndarray
    pass_mark: np.ndarray
    state: np.ndarray
    block: np.ndarray  # index of the province block of each row, -1 for none
    # per group with a floor, the rows whose most points are short of it (the scorecard surely
    # failed on that group, whatever the total)
    group_floor_short: dict[str, np.ndarray] = field(default_factory=dict)


def _band_points(
    values: np.ndarray, missing: np.ndarray, bands: Any, edges: str, else_points: float
) -> tuple[np.ndarray, np.ndarray]:
    points = np.full(len(values), else_points, dtype=np.float64)
    settled = resolve_bands(bands, edges, else_points)  # type: ignore[arg-type]
    with np.errstate(invalid="ignore"):
        for low, high, holds_low, holds_high, p in settled:
            inside = (values >= low if holds_low else values > low) & (
                values <= high if holds_high else values < high
            )
            points[inside] = p
    all_points = [b[4] for b in settled] + [else_points]
    lo = np.where(missing, np.float64(min(all_points)), points)
    hi = np.where(missing, np.float64(max(all_points)), points)
    return lo, hi


def indicator_points(
    ctx: Context, ind: Indicator, edges: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(lo, hi, wanting)`` of one indicator on every row: its fewest and most points
    (float64: a province's assessed points may have decimals, which single precision would
    round to the pass mark), and where they are apart for want of a fact (not only because a
    step waits on a review: a claim left to a reviewer)."""
    if ind.bands:
        assert ind.of is not None
        values, missing = ctx.get(ind.of)
        lo, hi = _band_points(values, missing, ind.bands, ind.edges or edges, ind.else_points)
        return lo, hi, missing & (lo < hi)
    if ind.categories is not None:
        assert ind.of is not None
        fact = facts_table()[ind.of]
        codes = ctx.codes(ind.of)
        order = fact.value_codes if fact.type == "category" else ("no", "yes")
        table = np.array([ind.categories.get(v, ind.else_points) for v in order], dtype=np.float64)
        missing = np.isnan(codes)
        safe = np.where(missing, 0, codes).astype(np.intp)
        points = table[safe]
        lo = np.where(missing, table.min(), points)
        hi = np.where(missing, table.max(), points)
        return lo, hi, missing & (lo < hi)
    if ind.best_of:
        lo = hi = None
        wanting = np.zeros(ctx.n, dtype=bool)
        for sub in ind.best_of:
            values, missing = ctx.get(sub.of)
            s_lo, s_hi = _band_points(
                values, missing, sub.bands, sub.edges or ind.edges or edges, sub.else_points
            )
            lo = s_lo if lo is None else np.maximum(lo, s_lo)
            hi = s_hi if hi is None else np.maximum(hi, s_hi)
            wanting |= missing
        assert lo is not None and hi is not None
        return lo, hi, wanting & (lo < hi)
    # first_of: the first step that holds; a step that may hold (unknown) keeps both outcomes
    assert ind.first_of
    n = ctx.n
    lo = np.full(n, np.inf, dtype=np.float64)
    hi = np.full(n, -np.inf, dtype=np.float64)
    alive = np.ones(n, dtype=bool)  # no earlier step surely holds
    wanting = np.zeros(n, dtype=bool)  # a step that may hold waits on a missing fact
    for step in ind.first_of:
        s = ctx.state(step.test)
        possible = alive & (s >= UNKNOWN)
        p = np.float64(step.points)
        lo[possible] = np.minimum(lo[possible], p)
        hi[possible] = np.maximum(hi[possible], p)
        wanting |= alive & (s == UNKNOWN)
        alive &= s != MET
    p = np.float64(ind.else_points)
    lo[alive] = np.minimum(lo[alive], p)
    hi[alive] = np.maximum(hi[alive], p)
    return lo, hi, wanting & (lo < hi)


def _province_blocks(ctx: Context, sc: Scorecard) -> np.ndarray:
    block = np.full(ctx.n, -1, dtype=np.int16)
    if not sc.provinces:
        return block
    keys: dict[str, int] = {}
    for b, blk in enumerate(sc.provinces):
        for name in blk.names:
            keys.setdefault(province_key(name), b)
    province = ctx.facts.text.get("province")
    if province is None:
        return block
    import pandas as pd

    codes, uniques = pd.factorize(province, use_na_sentinel=True)
    table = np.array([keys.get(province_key(str(u)), -1) for u in uniques] + [-1], dtype=np.int16)
    return table[np.asarray(codes, dtype=np.intp)]


def _evaluate_scorecard(ctx: Context, sc: Scorecard) -> ScorecardEval:
    n = ctx.n
    ind_lo: dict[str, np.ndarray] = {}
    ind_hi: dict[str, np.ndarray] = {}
    group_lo = {g.id: np.zeros(n, dtype=np.float64) for g in sc.groups}
    group_hi = {g.id: np.zeros(n, dtype=np.float64) for g in sc.groups}
    wanting = np.zeros(n, dtype=bool)  # some points are open for want of a fact
    for ind in sc.indicators:
        lo, hi, short_of_a_fact = indicator_points(ctx, ind, sc.edges)
        ind_lo[ind.id], ind_hi[ind.id] = lo, hi
        group_lo[ind.group] += lo
        group_hi[ind.group] += hi
        wanting |= short_of_a_fact
    block = _province_blocks(ctx, sc)
    pass_mark = np.full(n, sc.pass_mark, dtype=np.float64)
    # a province whose block sets only its pass mark scores its 特色化 group as one without a
    # block does (the firm's featured points)
    with_indicators = [b for b, blk in enumerate(sc.provinces) if blk.indicators]
    for g in sc.groups:
        if not g.province:
            continue
        unmatched = ~np.isin(block, with_indicators)
        if sc.province_fact is not None:
            given, missing = ctx.get(sc.province_fact)
            known = unmatched & ~missing
            points = np.minimum(given, g.points).astype(np.float64)
            group_lo[g.id][known] = points[known]
            group_hi[g.id][known] = points[known]
            unmatched &= missing
        group_hi[g.id][unmatched] = g.points
        wanting |= unmatched
        for b, blk in enumerate(sc.provinces):
            rows = block == b
            if not rows.any():
                continue
            if blk.pass_mark is not None:
                pass_mark[rows] = blk.pass_mark
            for ind in blk.indicators:
                lo, hi, short_of_a_fact = indicator_points(ctx, ind, sc.edges)
                ind_lo[ind.id] = np.where(rows, lo, ind_lo.get(ind.id, np.float64(np.nan)))
                ind_hi[ind.id] = np.where(rows, hi, ind_hi.get(ind.id, np.float64(np.nan)))
                group_lo[g.id][rows] += lo[rows]
                group_hi[g.id][rows] += hi[rows]
                wanting |= rows & short_of_a_fact
    # sums of decimals (0.1 + 0.7 is 0.7999999999999999 in floats) rounded to what a rule file
    # writes, so that a group at its floor and a total at its pass mark meet them
    for sums in (group_lo, group_hi):
        for gid, points in sums.items():
            sums[gid] = rounded_to(points, POINTS_DECIMALS)
    lo = rounded_to(sum(group_lo.values(), np.zeros(n, dtype=np.float64)), POINTS_DECIMALS)
    hi = rounded_to(sum(group_hi.values(), np.zeros(n, dtype=np.float64)), POINTS_DECIMALS)
    surely = lo >= pass_mark
    never = hi < pass_mark
    floor_short: dict[str, np.ndarray] = {}
    for g in sc.groups:  # a floor or a floor_above, not both (the rule file's schema)
        if g.floor is not None:
            surely &= group_lo[g.id] >= g.floor
            floor_short[g.id] = group_hi[g.id] < g.floor
        if g.floor_above is not None:
            surely &= group_lo[g.id] > g.floor_above
            floor_short[g.id] = group_hi[g.id] <= g.floor_above
    for short in floor_short.values():
        never |= short
    # undecided: unknown while some points are open for want of a fact (asked for first), else
    # left to the review of a claim (a product said to fill a gap in the chain)
    state = np.where(wanting, UNKNOWN, MANUAL).astype(np.int8)
    state[surely] = MET
    state[never] = NOT_MET
    return ScorecardEval(
        sc, ind_lo, ind_hi, group_lo, group_hi, lo, hi, pass_mark, state, block, floor_short
    )


# -- rungs ---------------------------------------------------------------------------------------


@dataclass
class RungEval:
    """One rung evaluated under one policy on the rows of a context.

    ``recheck`` marks the rows of a 复核 (``holds_<rung> = recheck``): their conditions with a
    ``recheck`` test are evaluated by that test.
    """

    rung: str
    policy: Policy
    recheck: np.ndarray
    ctx: Context
    raw: dict[str, np.ndarray]  # condition states before routes
    conditions: dict[str, np.ndarray]  # effective states (NA for a skipped condition)
    routes: dict[str, np.ndarray]
    options: dict[str, dict[str, np.ndarray]]
    paths: dict[str, np.ndarray]
    status: np.ndarray  # 0..3, in STATUSES order
    points: np.ndarray | None
    # per row, the position in the rung's paths of the path assessed (of the best state, the
    # one with fewest conditions not met, then the first: its points, route, gaps and column
    # are the result's); None for a rung without paths
    path: np.ndarray | None = None

    def test(self, cid: str, recheck: bool) -> Any:
        """The test of a condition for a new applicant or a 复核 (``"skip"``: none)."""
        cond = self.policy.conditions[cid]
        return cond.recheck if recheck and cond.recheck is not None else cond.test


BAR_WEIGHT = 64
"""What a bar not met (a condition no change meets, :func:`fails_as_bar`) counts among the
conditions a firm lacks: more than a rung or path has conditions, so that a way barred is
chosen last (the 2026 tier 1's paths) and never "one condition away" (the cohort)."""


def is_bar(node: Any) -> bool:
    """Whether ``node`` is a test no change the gaps ask for meets: of a yes/no fact the firm
    cannot change by acting on it now (``Fact.fixed``: its size, a past incident), or a limit
    marked ``gap: bar`` (a size cap, not a cut to make)."""
    if isinstance(node, Compare):
        return node.gap == "bar"
    return isinstance(node, Is) and facts_table()[node.of].fixed


def fails_as_bar(node: Any) -> bool:
    """Whether ``node`` fails only as a bar (:func:`is_bar`): a condition on fixed yes/no facts
    or limits marked ``gap: bar`` alone (中小企业, 近三年无重大事故, 科技型's size cap), never met
    by a change."""
    if isinstance(node, AllOf):
        return all(fails_as_bar(sub) for sub in node.all)
    if isinstance(node, AnyOf):
        return all(fails_as_bar(sub) for sub in node.any)
    return is_bar(node)


def applies_for(rung: str, held: Callable[[str, str], np.ndarray]) -> np.ndarray:
    """Rows whose firm applies for ``rung``: it does not hold it (``yes``) nor hold, or stand
    for 复核 of, a rung above (a 小巨人 is 专精特新 and 创新型; its 复核 is an application for
    小巨人). ``held(rung, value)`` marks the rows whose title of ``rung`` is ``value``; the
    gaps' rung and the cohort's candidates both take this rule."""
    out = ~held(rung, "yes")
    for above in RUNGS[RUNGS.index(rung) + 1 :]:
        out &= ~(held(above, "yes") | held(above, "recheck"))
    return out


def evaluate_rung(ctx: Context, rung_id: str, recheck: np.ndarray) -> RungEval:
    """Every condition, route and path of one rung, and the rung's status, on every row."""
    policy = ctx.policy
    rung = policy.rungs[rung_id]
    listed = list(rung.conditions) + [c for p in rung.paths for c in p.conditions]
    any_recheck, all_recheck = bool(recheck.any()), bool(recheck.all())
    raw: dict[str, np.ndarray] = {}
    for cid in listed:
        cond = policy.conditions[cid]
        if cond.recheck is None or not any_recheck:
            raw[cid] = ctx.state(cond.test)
            continue
        if cond.recheck == "skip":
            again = np.full(ctx.n, NA, dtype=np.int8)
        else:
            again = ctx.state(cond.recheck)
        raw[cid] = again if all_recheck else np.where(recheck, again, ctx.state(cond.test))
    effective = dict(raw)
    routes: dict[str, np.ndarray] = {}
    options: dict[str, dict[str, np.ndarray]] = {}
    for rid in rung.routes:
        route = policy.routes[rid]
        opts = {o.id: ctx.state(o.test) for o in route.options}
        state = np.maximum.reduce(list(opts.values()))
        routes[rid], options[rid] = state, opts
        for cid in route.replaces:
            effective[cid] = np.where(
                effective[cid] == NA, effective[cid], np.maximum(effective[cid], state)
            )
    status = np.full(ctx.n, NA, dtype=np.int8)
    for cid in rung.conditions:
        status = np.minimum(status, effective[cid])
    paths: dict[str, np.ndarray] = {}
    if rung.paths:
        best = np.full(ctx.n, NOT_MET, dtype=np.int8)
        for p in rung.paths:
            s = np.full(ctx.n, NA, dtype=np.int8)
            for cid in p.conditions:
                s = np.minimum(s, effective[cid])
            paths[p.id] = np.minimum(s, MET)
            best = np.maximum(best, paths[p.id])
        status = np.minimum(status, best)
    status = np.minimum(status, MET)
    points = ctx.scorecard(rung.points).lo if rung.points else None
    chosen = None
    if rung.paths:
        # the best state; of paths as good, the one lacking fewest conditions not met (the
        # one the gaps are of), a bar counting BAR_WEIGHT, then the first
        rank = []
        for p in rung.paths:
            short = np.zeros(ctx.n, dtype=np.int32)
            for cid in p.conditions:
                weight = BAR_WEIGHT if fails_as_bar(policy.conditions[cid].test) else 1
                short += weight * (effective[cid] == NOT_MET)
            rank.append(paths[p.id].astype(np.int32) * (BAR_WEIGHT * 64) - short)
        chosen = np.argmax(np.stack(rank), axis=0).astype(np.int8)
    if chosen is not None and any(p.points for p in rung.paths):
        # the points of the path assessed
        points = np.full(ctx.n, np.nan) if points is None else points.astype(np.float64)
        for k, p in enumerate(rung.paths):
            sid = p.points or rung.points
            if sid:
                at = chosen == k
                points[at] = ctx.scorecard(sid).lo[at]
    return RungEval(
        rung_id,
        policy,
        recheck,
        ctx,
        raw,
        effective,
        routes,
        options,
        paths,
        status,
        points,
        chosen,
    )


# -- the plan: which rules apply, and the output columns ----------------------------------------


@dataclass
class Plan:
    """For a policy and a year: which version's rung applies to whom, and the output columns."""

    policy: Policy
    year: int
    routes: dict[tuple[str, str], Policy]  # (rung, applicant) -> policy applied
    condition_ids: list[str]  # condition and route columns, in order
    policy_ids: list[str]
    # (rung, applicant) -> the routing entry that chose the policy (None: the file's own rung)
    entries: dict[tuple[str, str], Routing | None] = field(default_factory=dict)

    @property
    def path_ids(self) -> dict[str, list[str]]:
        """Rung -> its paths' ids in order, for each rung that a version applied splits into
        paths (2026 tier 1: 创新型 or 科技型): the rung's ``<rung>_path`` column."""
        found: dict[str, list[str]] = {}
        for (rung_id, _), applied in self.routes.items():
            for p in applied.rungs[rung_id].paths:
                ids = found.setdefault(rung_id, [])
                if p.id not in ids:
                    ids.append(p.id)
        return found

    def path_codes(self, ev: RungEval) -> np.ndarray:
        """Per row of ``ev``, the position in :attr:`path_ids` of the path assessed
        (:attr:`RungEval.path`); -1 for a rung without paths."""
        if ev.path is None:
            return np.full(ev.ctx.n, -1, dtype=np.int8)
        ids = self.path_ids[ev.rung]
        paths = ev.policy.rungs[ev.rung].paths
        return np.array([ids.index(p.id) for p in paths], dtype=np.int8)[ev.path]


def plan(policy: Policy, year: int) -> Plan:
    """Settle the routing for ``year`` and the output columns (the same for every batch)."""
    routes: dict[tuple[str, str], Policy] = {}
    entries: dict[tuple[str, str], Routing | None] = {}
    columns: list[str] = []
    seen: dict[str, tuple[Policy, Any]] = {}
    problems: list[Problem] = []
    for rung_id in RUNGS:
        for applicant in ("new", "recheck"):
            applied, entries[rung_id, applicant] = policy.route(rung_id, applicant, year)
            routes[rung_id, applicant] = applied
            rung = applied.rungs[rung_id]
            ids = list(rung.conditions) + [c for p in rung.paths for c in p.conditions]
            for cid in ids + list(rung.routes):
                element = applied.conditions.get(cid) or applied.routes[cid]
                test = _test_of(element)
                if cid in seen:
                    other_policy, other_test = seen[cid]
                    if other_test != test:
                        problems.append(
                            Problem(
                                f"condition {cid!r}",
                                f"defined differently in {other_policy.id} and {applied.id}, "
                                f"whose rules apply to some firms in {year} (routing): an id "
                                "is one column of the output, so a changed condition needs an "
                                "id of its own",
                            )
                        )
                    continue
                seen[cid] = (applied, test)
                columns.append(cid)
    # a version names one rule file's rung in the results (<rung>_policy, the cohort's keys):
    # two files' rungs under one name could not be told apart
    named: dict[tuple[str, str], str] = {}
    for (rung_id, _), applied in routes.items():
        version = version_of(applied, rung_id)
        other = named.setdefault((rung_id, version), applied.id)
        if other != applied.id:
            problems.append(
                Problem(
                    f"rungs.{rung_id}.version",
                    f"{version!r} names the {rung_id} rung of both {other} and {applied.id}, "
                    f"whose rules apply to some firms in {year} (routing): give one rung a "
                    "version of its own",
                )
            )
    if problems:
        raise PolicyError(policy.source, problems)
    policy_ids = sorted({version_of(p, rung) for (rung, _), p in routes.items()})
    return Plan(policy, year, routes, columns, policy_ids, entries)


def version_of(policy: Policy, rung: str) -> str:
    """The rule version a rung of ``policy`` names in its results (``<rung>_policy``): the
    rung's ``version`` where the file gives one (2026's tier 1: the 2022 standards kept),
    else the file's id."""
    return policy.rungs[rung].version or policy.id


def _test_of(element: Any) -> Any:
    if isinstance(element, Condition):
        return (element.test, element.recheck)
    return element.options


@dataclass
class Part:
    """The rows ``rows`` (of the batch) of a rung, evaluated in ``ev`` at positions ``at``."""

    rows: np.ndarray
    ev: RungEval
    at: np.ndarray


@dataclass
class Evaluation:
    """Every rung of every row: the rung evaluations, and where each one's rows are."""

    plan: Plan
    facts: FactColumns
    parts: dict[str, list[Part]]

    @property
    def n(self) -> int:
        return self.facts.n

    def status(self, rung: str) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.int8)
        for part in self.parts[rung]:
            out[part.rows] = part.ev.status[part.at]
        return out


def evaluate_columns(facts: FactColumns, the_plan: Plan) -> Evaluation:
    """Evaluate every rung on typed facts under a plan (no input validation).

    A rung is evaluated on all rows by the policy most of them follow (new applicants and
    复核 together when they follow the same one); only the rows another policy applies to are
    taken out and evaluated apart, so the common case copies no column.
    """
    n = facts.n
    everyone = np.arange(n)
    whole: dict[str, Context] = {}
    apart: dict[tuple[str, str], Context] = {}

    def on_all(policy: Policy) -> Context:
        if policy.hash not in whole:
            whole[policy.hash] = Context(facts, policy, the_plan.year)
        return whole[policy.hash]

    parts: dict[str, list[Part]] = {}
    for rung_id in RUNGS:
        recheck = holds(facts, rung_id, "recheck")
        p_new, p_re = the_plan.routes[rung_id, "new"], the_plan.routes[rung_id, "recheck"]
        n_re = int(recheck.sum())
        if p_new.hash == p_re.hash or n_re in (0, n):
            policy = p_re if n_re == n else p_new
            ev = evaluate_rung(on_all(policy), rung_id, recheck)
            parts[rung_id] = [Part(everyone, ev, everyone)]
            continue
        # most rows on all rows (the other rows' results there are not used), the rest apart
        few = recheck if n_re <= n - n_re else ~recheck
        many_policy, few_policy = (p_new, p_re) if n_re <= n - n_re else (p_re, p_new)
        many_rows, few_rows = np.flatnonzero(~few), np.flatnonzero(few)
        ev_many = evaluate_rung(on_all(many_policy), rung_id, recheck)
        key = (few_policy.hash, rung_id)
        if key not in apart:
            apart[key] = Context(facts.take(few_rows), few_policy, the_plan.year)
        ev_few = evaluate_rung(apart[key], rung_id, recheck[few_rows])
        parts[rung_id] = [
            Part(many_rows, ev_many, many_rows),
            Part(few_rows, ev_few, np.arange(len(few_rows))),
        ]
    return Evaluation(the_plan, facts, parts)
