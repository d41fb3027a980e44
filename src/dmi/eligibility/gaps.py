"""Gaps: the smallest changes that would make a rung eligible, in the firm's own numbers.

For a rung that is ``not_yet``, every condition that is not met gives its changes: a threshold
on a fact ("debt ratio 81% → 80% meets sr26_debt"), a share or a growth rate worked back to the
amount that moves it ("R&D share 2.4% → 3% (+23万元 R&D) meets sr26_rd"), a category or a
yes/no to change, and for a scorecard the indicator moves that add the missing points, cheapest
first ("in22_score: +5 points (55 → 60): R&D share 2.4% → 3% (+23万元 R&D) +5"). Of alternatives
("any of"), the one needing the fewest changes is shown. A rung that is ``unknown`` lists the
facts to provide; one that is ``manual`` lists the conditions left for review.

Everything is computed on whole columns for the rows that need it, and the text is made from
numbers formatted once per distinct value. Amounts are worked out in float64 with the policy's
precision (derived values rounded to 12 decimals) and shown rounded *towards the threshold's far
side* (an amount to add is rounded up to 0.01万元, a current value is never shown as meeting a
threshold it misses), so that adding the amount shown always meets the condition.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from dmi.eligibility.engine import (
    MANUAL,
    MET,
    NOT_MET,
    UNKNOWN,
    Context,
    RungEval,
    facts_read,
    is_bar,
    rounded_to,
)
from dmi.eligibility.facts import COMPUTED, facts_table, unit_text
from dmi.eligibility.policy import (
    AllOf,
    AnyOf,
    Compare,
    Indicator,
    Is,
    Manual,
    Member,
    ScorecardPass,
    iter_leaves,
    resolve_bands,
)
from dmi.locales import text as _locale_text

__all__ = ["Gap", "Piece", "join_pieces", "rounded", "rung_gaps"]


def t(key: str, lang: str, **values: Any) -> str:
    """The text ``key`` (``eligibility.<name>``) in ``lang`` (``zh``, else ``en``)."""
    return _locale_text(key, "zh" if lang == "zh" else "en", **values)


# units shown after numbers; counts go without one in English ("class-I IP 0 → 1 (+1)")


# -- numbers as text ----------------------------------------------------------------------------


def rounded(values: np.ndarray, decimals: int, mode: str = "round") -> np.ndarray:
    """Values rounded to ``decimals`` (``floor``/``ceil``/``round``), -0 made 0: the one
    rounding of the numbers every page, report and file shows (a mean of 605.035 is 605.04
    in a gap and on the condition's line alike)."""
    scale = 10.0**decimals
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):  # 1e300 and up: shown as it is
        scaled = values * scale
        # a whole step within float error is that step (2.9999999999999996 % is 3 %), no more:
        # 2.999999999 % of a huge revenue is below 3 % and shown so (a rounding to 6 places
        # made it 3 %)
        whole = np.round(scaled)
        near = np.abs(scaled - whole) <= np.maximum(1e-9, 8 * np.spacing(np.abs(scaled)))
        scaled = np.where(near, whole, scaled)
    if mode == "floor":
        q = np.floor(scaled)
    elif mode == "ceil":
        q = np.ceil(scaled)
    else:
        q = np.round(scaled)
    out = q / scale + 0.0
    big = ~np.isfinite(out) & np.isfinite(values)
    if big.any():
        out[big] = values[big]
    return out


def _fixed(value: float, decimals: int = 2) -> str:
    """One number as text, rounded as every number shown is (:func:`rounded`)."""
    return f"{rounded(np.array([value]), decimals)[0]:.15g}"


def _decimals(unit: str | None) -> int:
    return 0 if unit in ("人", "项", "名", "级") else 2


def _cut_text(text: Any, at: np.ndarray) -> Any:
    """The texts (an Arrow string array) at positions ``at``."""
    import pyarrow as pa

    return text.take(pa.array(np.asarray(at, dtype=np.intp)))


def _worded(words: list[str], which: np.ndarray, large: bool = False) -> Any:
    """Per row, ``words[which]``: an Arrow string array (``large_string`` if ``large``)
    gathered from a few words (a text that takes one of a few forms is worded once per form,
    not once per row)."""
    import pyarrow as pa

    return _cut_text(pa.array(words, type=pa.large_string() if large else pa.string()), which)


def _spread(texts: Any, rows: np.ndarray, n: int) -> Any:
    """``n`` texts: row ``rows[k]`` takes ``texts[k]``, the other rows ``""``."""
    import pyarrow as pa

    at = np.full(n, len(texts), dtype=np.intp)  # the others take the "" after the texts
    at[rows] = np.arange(len(texts))
    return _cut_text(pa.concat_arrays([texts, pa.array([""], texts.type)]), at)


def _joined_runs(entries: Any, starts: np.ndarray, separator: str) -> Any:
    """The entries of each run joined by ``separator``: one text per run, the runs being
    consecutive entries that start at ``starts`` (ascending, the first at 0)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    offsets = pa.array(np.r_[starts, len(entries)], type=pa.int32())
    lists = pa.ListArray.from_arrays(offsets, entries)
    return pc.binary_join(lists, pa.scalar(separator, entries.type))


def _made_by_group(group: np.ndarray, make: Callable[[int, np.ndarray], Any]) -> Any:
    """One text per entry (at least one), made group by group and put back in the entries'
    order: ``make(g, at)`` gives the texts of group ``g``'s entries at positions ``at``
    (ascending), so each group's texts are made in one call."""
    import pyarrow as pa

    by_group = np.argsort(group, kind="stable")
    bounds = np.flatnonzero(np.r_[True, group[by_group][1:] != group[by_group][:-1], True])
    made = [make(int(group[by_group[a]]), by_group[a:b]) for a, b in zip(bounds, bounds[1:])]
    place = np.empty(len(group), dtype=np.intp)
    place[by_group] = np.arange(len(group))
    return _cut_text(pa.concat_arrays(made), place)


# -- the pieces of a gap ------------------------------------------------------------------------


@dataclass
class Piece:
    """One gap for some rows: which condition, what kind, its text and numbers per row.

    A change's text is made only when asked for (``texts``), and only for the rows asked for:
    a frame shows a few gaps per row, and most changes worked out are never shown. Texts made
    beforehand are an Arrow string array, one per row (an array of ``str`` given is made one):
    they are gathered from a few words by Arrow, not written per row in Python.
    """

    positions: np.ndarray
    condition: str
    kind: str  # change | points | missing | manual
    text: Any  # an Arrow string array, one text per row; None: made from ``source`` when needed
    suffix: str = ""  # " meets sr26_rd": said once for all the changes of a condition
    fact: str | None = None
    current: np.ndarray | None = None
    target: np.ndarray | None = None
    change: np.ndarray | None = None
    points: np.ndarray | None = None
    source: _Change | None = None
    lang: str = dataclasses.field(kw_only=True)  # of its words: every piece is made in one
    # a scorecard's piece: the amounts its moves change, (fact, rows of the piece, change) ...
    moves: tuple[tuple[str, np.ndarray, np.ndarray], ...] = ()
    # ... and the points each indicator should have after them (NaN: not checked), by id
    planned: dict[str, np.ndarray] | None = None
    scorecard: str | None = None
    # worked out on the facts after the changes listed before it (a follow-up): said so, as its
    # numbers are not the firm's own (R&D of 130 is 3.25% of revenue 4000, 2.6% of 5000)
    after_changes: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.text, np.ndarray):
            import pyarrow as pa

            self.text = pa.array(self.text, type=pa.string())

    def amount_changes(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """The amounts the piece changes: (fact, rows of the piece, change) for each."""
        if self.kind == "change" and self.fact is not None and self.change is not None:
            known = np.flatnonzero(np.isfinite(self.change))  # none where it cannot be computed
            return [(self.fact, known, self.change[known])] if len(known) else []
        return list(self.moves)

    def texts(
        self,
        at: np.ndarray | None = None,
        before: np.ndarray | None = None,
        after: np.ndarray | None = None,
    ) -> np.ndarray:
        """The text of every row, or of the rows at positions ``at``, between ``before`` and
        ``after`` (one text per row) if given."""
        text = self.arrow_texts(np.arange(len(self.positions)) if at is None else at)
        if before is not None and after is not None:
            text = _joined_arrow([before, text, after])
        return text.to_numpy(zero_copy_only=False)

    def arrow_texts(self, at: np.ndarray, said: np.ndarray | None = None) -> Any:
        """The text of the rows at positions ``at``, as an Arrow string array (for
        :func:`join_pieces`: a change's text is made by Arrow and stays there). ``said`` marks
        the rows where the gap already said it is worked out after the changes (an entry of
        its group before this one did): this one does not say it again."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.text is not None:
            text = _cut_text(self.text, at)
        else:
            assert self.source is not None
            text = _change_arrow(self.source.subset(at), self.lang)
        if not self.after_changes:
            return text
        marked = _joined_arrow([t("eligibility.after_changes", self.lang), text])
        if said is None or not said.any():
            return marked
        return pc.if_else(pa.array(said), text, marked)

    def subset(self, keep: np.ndarray) -> Piece:
        """The piece on some of its rows (a mask or positions)."""

        def cut(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[keep]

        at = np.flatnonzero(keep) if keep.dtype == bool else np.asarray(keep)
        text = None if self.text is None else _cut_text(self.text, at)
        source = None if self.source is None else self.source.subset(at)
        moves = []
        for fact, rows, change in self.moves:
            inside = np.isin(rows, at)
            moves.append((fact, np.searchsorted(at, rows[inside]), change[inside]))
        return Piece(
            self.positions[keep],
            self.condition,
            self.kind,
            text,
            self.suffix,
            self.fact,
            cut(self.current),
            cut(self.target),
            cut(self.change),
            cut(self.points),
            source,
            moves=tuple(moves),
            planned=None if self.planned is None else {k: v[keep] for k, v in self.planned.items()},
            scorecard=self.scorecard,
            after_changes=self.after_changes,
            lang=self.lang,
        )


@dataclass(frozen=True)
class Gap:
    """One change that brings a firm closer to a rung, for one firm.

    Attributes
    ----------
    rung : str
    condition : str
        The condition id (or route id) the change is for; "" for a list of facts to provide
        or of conditions left to review (``kind`` ``missing``, ``manual``).
    kind : {"change", "points", "missing", "manual"}
    text : str
        The change in words, in the language asked for.
    fact : str or None
        The fact to change (e.g. ``rd_y1`` for an R&D share).
    current, target : float or None
        The compared value now and the value that meets the threshold; None for a change of a
        category or a yes/no (``holds_innovative`` no → yes: ``fact`` names it, ``text`` says
        both values) and where the value now cannot be computed.
    change : float or None
        How much ``fact`` must change (in its unit; negative = reduce), rounded away from
        missing the threshold (0.01 for amounts, whole numbers for counts).
    points : float or None
        For a scorecard: the points the moves add.
    changes : tuple of (str, float)
        The amounts the gap changes, (fact, change) each: ``fact`` and ``change`` for a change,
        the moves' amounts for a scorecard (a move to a category is in ``text`` only). A fact
        that is part of another (main-business revenue of revenue, R&D staff of staff, R&D of
        total costs, 2-year of 3-year equity: the facts table's ``at_most`` checks) changes its
        whole alike, which is not listed again here: apply the change to both, as ``text`` says
        where the firm gives the whole ("…, last year's revenue +1000万元 too"), or the part is
        refused as above its whole.
    """

    rung: str
    condition: str
    kind: str
    text: str
    fact: str | None = None
    current: float | None = None
    target: float | None = None
    change: float | None = None
    points: float | None = None
    changes: tuple[tuple[str, float], ...] = ()


@dataclass
class _Change:
    """What it takes, per row, to bring ``of`` to a threshold."""

    positions: np.ndarray
    label: str
    of_unit: str | None
    current: np.ndarray
    target: float
    op: str
    fact: str | None
    fact_label: str
    fact_unit: str | None
    fact_current: np.ndarray | None
    delta: np.ndarray | None
    undefined: np.ndarray  # rows where the compared value cannot be computed
    # ... and, per row, why (the wholes of 0 named): None where no row is undefined
    undefined_text: np.ndarray | None = None
    # the whole ``fact`` is part of (:func:`_part_of`: revenue of main-business revenue), which
    # the change grows alike, and the rows that give it: there the text says so, as a firm
    # that changed the part alone had its facts refused (main revenue above revenue)
    whole_label: str = ""
    whole_given: np.ndarray | None = None

    def subset(self, at: np.ndarray) -> _Change:
        """The change on some of its rows (``at``: positions in ``positions``)."""

        def cut(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[at]

        return _Change(
            self.positions[at],
            self.label,
            self.of_unit,
            self.current[at],
            self.target,
            self.op,
            self.fact,
            self.fact_label,
            self.fact_unit,
            cut(self.fact_current),
            cut(self.delta),
            self.undefined[at],
            cut(self.undefined_text),
            self.whole_label,
            cut(self.whole_given),
        )


def _is_integer(name: str | None) -> bool:
    if name is None or name not in facts_table():
        return False
    return facts_table()[name].integer


def _label(ctx: Context, name: str, lang: str) -> tuple[str, str | None]:
    if name in ctx.policy.metrics:
        m = ctx.policy.metrics[name]
        return m.short_label(lang), m.unit
    f = facts_table()[name]
    return f.short_label(lang), f.unit


def _change(ctx: Context, name: str, op: str, t: float, pos: np.ndarray, lang: str) -> _Change:
    """Work a threshold on ``name`` back to the fact to change and by how much."""
    label, unit = _label(ctx, name, lang)
    values = ctx.get(name)[0][pos]
    undefined = np.isnan(values)
    up = op in ("at_least", "above")
    strict = op in ("above", "below")
    fact: str | None = None
    fact_current: np.ndarray | None = None
    delta: np.ndarray | None = None
    wholes: list[str] = []  # what the compared value divides by
    metric = ctx.policy.metrics.get(name)
    with np.errstate(divide="ignore", invalid="ignore"):
        if metric is None:
            fact, fact_current, delta = name, values, t - values
        elif metric.kind in ("ratio", "share"):
            num_name, den_name = metric.of
            num, den = ctx.get(num_name)[0][pos], ctx.get(den_name)[0][pos]
            f = t / metric.scale
            if metric.kind == "ratio":
                wanted = f * den
            elif f < 1:
                wanted = f * (den - num) / (1 - f)
            else:
                wanted = np.where(num == den, num, np.nan)
            fact, fact_current, delta = num_name, num, wanted - num
            wholes = [den_name]
        elif metric.kind == "growth":
            series = [ctx.get(n)[0][pos] for n in metric.inputs]
            f = t / metric.scale
            last_name = metric.of[-1]
            if len(series) == 2:  # one year's rate, or a compound rate over the span
                wanted = series[0] * (1 + f) ** metric.span
            else:
                rates = [b / a - 1 for a, b in zip(series[:-2], series[1:-1])]
                needed_last = f * (len(series) - 1) - sum(rates, np.zeros(len(pos)))
                wanted = series[-2] * (1 + needed_last)
            fact, fact_current, delta = last_name, series[-1], wanted - series[-1]
            wholes = list(metric.inputs[:-1])  # each year's rate divides by the year before
        elif metric.kind in ("sum", "mean"):
            # a total of years (R&D of the last 2 years) asked of its first, the last year's:
            # a change of one fact, which the follow-ups make and check the shares after
            fact = metric.of[0]
            fact_current = ctx.get(fact)[0][pos]
            delta = (t - values) * (len(metric.of) if metric.kind == "mean" else 1)
        else:  # first given: the value itself
            fact, fact_current, delta = name, values, t - values
    if delta is not None:
        # a value that cannot be computed (a share of a whole of 0) asks for no amount: the
        # text says why, and nothing is applied after it (masked before the rounding: its
        # amount may be inf)
        delta = np.where(undefined, np.nan, delta)
        step = 1.0 if _is_integer(fact) or (fact is None and unit == "级") else 0.01
        # rounded away from missing: up when adding, further down when reducing; a value within
        # float error of a whole step is that step (3 % of 4000 less 96 is 24, not 24.01). The
        # error is that of the amounts the change was worked out from (80 % of 732,539.66 less
        # 585,958.47, over 0.2, is 366.29 give or take 1e-10, not 366.30)
        scaled = delta / step
        whole = np.round(scaled)
        size = np.abs(scaled)
        if fact_current is not None:
            size = size + np.abs(fact_current) / step
        close = np.abs(scaled - whole) <= 1e-9 + 1e-12 * size
        scaled = np.where(close, whole, scaled)
        delta = (np.ceil(scaled) if up else np.floor(scaled)) * step
        if strict:
            delta = delta + (step if up else -step)
    fact_label, fact_unit = _label(ctx, fact, lang) if fact else (label, unit)
    return _whole_grown(
        ctx,
        _Change(
            positions=pos,
            label=label,
            of_unit=unit,
            current=values,
            target=t,
            op=op,
            fact=fact,
            fact_label=fact_label,
            fact_unit=fact_unit if fact else (unit if metric is not None else None),
            fact_current=fact_current,
            delta=delta,
            undefined=undefined,
            undefined_text=_undefined_text(ctx, wholes, pos, undefined, lang),
        ),
        lang,
    )


def _whole_grown(ctx: Context, ch: _Change, lang: str) -> _Change:
    """``ch`` saying, on the rows that give it, the whole its fact is part of: the change to
    the part changes the whole alike (the follow-ups make it so, :func:`_context_after`)."""
    whole = _part_of().get(ch.fact) if ch.fact is not None else None
    if whole is None or ch.delta is None:
        return ch
    given = ~ctx.get(whole)[1][ch.positions] & np.isfinite(ch.delta) & (ch.delta != 0)
    if not given.any():
        return ch
    return dataclasses.replace(ch, whole_label=_label(ctx, whole, lang)[0], whole_given=given)


def _undefined_text(
    ctx: Context, wholes: list[str], pos: np.ndarray, undefined: np.ndarray, lang: str
) -> np.ndarray | None:
    """Per row where the value cannot be computed, why: the wholes it divides by that are 0
    (not above 0) named, each distinct wording made once; None where no row is undefined."""
    if not undefined.any():
        return None
    zero = np.zeros((len(pos), len(wholes)), dtype=bool)
    for j, whole in enumerate(wholes):
        with np.errstate(invalid="ignore"):
            zero[:, j] = ctx.get(whole)[0][pos] <= 0  # (one undefined itself is not 0)
    labels = [_label(ctx, whole, lang)[0] for whole in wholes]
    separator = t("eligibility.list_separator", lang)
    out = np.full(len(pos), None, dtype=object)
    rows = np.flatnonzero(undefined)
    found, at = np.unique(zero[rows], axis=0, return_inverse=True)
    for k, named in enumerate(found):
        which = [label for label, z in zip(labels, named) if z]
        what = separator.join(which)
        if len(which) == 1:
            why = t("eligibility.undefined", lang, what=what)
        elif which:
            why = t("eligibility.undefined_many", lang, what=what)
        else:  # no whole of 0 (one computed from others, in a rule file of one's own)
            why = t("eligibility.undefined_bare", lang)
        out[rows[at.ravel() == k]] = why
    return out


def _made_by_part(ctx: Context, ch: _Change, lang: str) -> list[tuple[np.ndarray, _Change]]:
    """An increase of an amount made by its part where the firm gives the part, as
    ``(positions in ch, change)`` pairs: more revenue as more main-business revenue.

    A whole grown by its part keeps every share of the part (the main-business share rises,
    where more revenue of another business would lower it, and its gap would then ask for far
    more), and the whole grows the same (:func:`_part_of`: a part changes its whole alike). So a
    revenue gap reads ``last year's revenue 4000万元 → 5000万元 (+1000万元 last year's main
    revenue)`` and is one fact with a main-business share's gap (the bigger kept,
    :func:`_one_change_per_fact`).
    An increase only of amounts in 万元 (money put in a business, not staff hired as R&D
    staff). A decrease stays on the whole (less revenue of another business) unless it is more
    than the rest of the whole (revenue of 25000 with 24500 of main business, 5000 less: main
    revenue too; 650 staff with 600 in R&D, 150 fewer: R&D staff too), so that the facts
    after it are a firm's (a part no bigger than its whole).
    """
    everything = [(np.arange(len(ch.positions)), ch)]
    if ch.delta is None or ch.fact is None or ch.fact_current is None:
        return everything
    part = next((p for p, whole in _part_of().items() if whole == ch.fact), None)
    if part is None or part not in ctx.facts.values:
        return everything
    money = facts_table()[ch.fact].unit == "万元"
    values = ctx.facts.values[part][ch.positions]
    with np.errstate(invalid="ignore"):
        beyond_rest = -ch.delta > ch.fact_current - values
        by_part = np.flatnonzero(~np.isnan(values) & (((ch.delta > 0) & money) | beyond_rest))
    if not len(by_part):
        return everything
    label, unit = _label(ctx, part, lang)
    made = dataclasses.replace(
        ch.subset(by_part),
        fact=part,
        fact_label=label,
        fact_unit=unit,
        fact_current=values[by_part],
        whole_label="",
        whole_given=None,
    )
    made = _whole_grown(ctx, made, lang)
    rest = np.setdiff1d(np.arange(len(ch.positions)), by_part)
    return [(by_part, made)] + ([(rest, ch.subset(rest))] if len(rest) else [])


_OP_TEXT = {"at_least": "", "above": ">", "at_most": "", "below": "<"}


def _literal(text: str) -> str:
    return text.replace("%", "%%")


def _change_arrow(ch: _Change, lang: str) -> Any:
    """``label current → target (+delta unit fact)`` for every row of a change, as an Arrow
    string array.

    The words are put together once; each row's numbers (rounded first) are joined to them by
    :func:`_joined_arrow`.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    cur = _current_shown(ch)
    target = _OP_TEXT[ch.op] + _fixed(ch.target) + unit_text(ch.of_unit, lang)
    parts: list[Any] = [f"{ch.label} ", cur, f"{unit_text(ch.of_unit, lang)} → {target}"]
    metric_changes_other = ch.fact is not None and ch.fact_label != ch.label
    if ch.delta is not None and (
        ch.fact_unit == "万元"
        or (ch.fact is None and ch.of_unit == "万元")
        or metric_changes_other
        or _is_integer(ch.fact)
        or ch.fact is None
    ):
        open_, close = t("eligibility.open", lang), t("eligibility.close", lang)
        what = f" {ch.fact_label}" if metric_changes_other else ""
        delta = rounded(ch.delta, _decimals(ch.fact_unit), "round")
        unit = unit_text(ch.fact_unit, lang)
        parts += [open_, _Signed(delta), f"{unit}{what}"]
        if ch.whole_given is not None:
            # "(+1000万元 last year's main revenue, last year's revenue +1000万元 too)": both are to
            # be entered
            whole = t("eligibility.whole_too", lang, whole=ch.whole_label, amount="\0")
            whole = whole.split("\0")
            grown = _joined_arrow([whole[0], _Signed(delta), unit + whole[1] + close])
            parts.append(pc.if_else(pa.array(ch.whole_given), grown, pa.scalar(close)))
        else:
            parts.append(close)
    text = _joined_arrow(parts)
    if ch.undefined.any():
        assert ch.undefined_text is not None
        whys, which = np.unique(ch.undefined_text[ch.undefined].astype(str), return_inverse=True)
        at = np.zeros(len(ch.undefined), dtype=np.intp)
        at[ch.undefined] = which.ravel()
        words = _worded([f"{ch.label} {why}" for why in whys], at)
        text = pc.if_else(pa.array(ch.undefined), words, text)
    return text


def _current_shown(ch: _Change) -> np.ndarray:
    """A change's current values as shown: to the unit's decimals, nearest (100/3500 is
    2.86 %, as the condition's line says it, not the 2.85 % a rounding down gave), and away
    from the threshold's side where the nearest would be on it (2.996 % below a floor of 3 % is
    2.99 %, never the 3 % it misses)."""
    decimals = _decimals(ch.of_unit)
    current = np.asarray(ch.current, dtype=np.float64)
    shown = rounded(current, decimals, "round")
    with np.errstate(invalid="ignore"):
        if ch.op in ("at_least", "above"):
            wrong = (shown >= ch.target) & (current < ch.target)
            away = "floor"
        else:
            wrong = (shown <= ch.target) & (current > ch.target)
            away = "ceil"
    if wrong.any():
        shown = np.where(wrong, rounded(current, decimals, away), shown)
    return shown


def _limit_arrow(ch: _Change, lang: str) -> Any:
    """``label current (at most limit)`` for every row of a change, as an Arrow string array:
    a limit failed as a bar, with no change asked."""
    cur = _current_shown(ch)
    unit = unit_text(ch.of_unit, lang)
    limit = t(f"eligibility.limit_{ch.op}", lang, limit=_fixed(ch.target) + unit)
    return _joined_arrow([f"{ch.label} ", cur, f"{unit}{limit}"])


@dataclass(frozen=True)
class _Signed:
    """Numbers to be written with their sign (``%+.15g``) by :func:`_joined_arrow`."""

    values: np.ndarray


def _joined_arrow(parts: list[Any]) -> Any:
    """Per row, the parts written one after the other: a ``str`` is the same on every row, an
    object array holds each row's text, a float array (or :class:`_Signed`) each row's number
    as ``%.15g`` (``%+.15g``) writes it, an Arrow string array each row's text. Returns an
    Arrow string array.

    The speed trick of the gap texts: every row is written by Arrow in one call per part (a
    %-format per row in Python was most of the time of a bulk run's gaps); the numbers are
    written as :func:`_number_parts` says.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays: list[Any] = []
    for part in parts:
        if isinstance(part, str):
            arrays.append(pa.scalar(part, pa.string()))
        elif isinstance(part, _Signed) or (isinstance(part, np.ndarray) and part.dtype.kind == "f"):
            arrays += _number_parts(part)
        elif isinstance(part, np.ndarray):
            arrays.append(pa.array(part, type=pa.string()))
        else:
            arrays.append(part)
    return pc.binary_join_element_wise(*arrays, "")


# the hundredths as written after a whole number: "" for none, trailing zeros dropped
_CENTS = [""] + ["." + f"{c:02d}".rstrip("0") for c in range(1, 100)]


def _number_parts(numbers: np.ndarray | _Signed) -> list[Any]:
    """``%.15g`` (``%+.15g`` for :class:`_Signed`) of each number, as Arrow string arrays to be
    written one after the other (see :func:`_number_texts`).

    The gaps' numbers are rounded to hundredths, and below 1e9 ``%.15g`` writes such a number
    as its sign, its whole part and its hundredths without trailing zeros: the whole parts are
    written by Arrow as integers (a quarter of the time of writing a float) and the hundredths
    gathered from 100 texts. Other numbers (more decimals, 1e9 and up, NaN, infinities) are
    written by Arrow's shortest round-trip text, which is ``%.15g``'s for every value with at
    most 15 significant digits from 1e-4 up to 1e9 (the range neither writes with an
    exponent), and outside that range by Python.
    """
    import pyarrow as pa

    signed = isinstance(numbers, _Signed)
    values = np.asarray(numbers.values if signed else numbers, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        hundredths = np.round(values * 100)
        plain = (hundredths / 100 == values) & (np.abs(values) < 1e9)
    if plain.all():
        return _hundredths_parts(hundredths, np.signbit(values), signed)
    text = _float_texts(values[~plain], signed)
    if plain.any():  # the others beside the plain ones, put back in order
        rows = np.flatnonzero(plain)
        parts = _hundredths_parts(hundredths[rows], np.signbit(values[rows]), signed)
        fast = _joined_arrow(parts)
        at = np.empty(len(values), dtype=np.intp)
        at[~plain] = np.arange(len(text))
        at[rows] = len(text) + np.arange(len(rows))
        text = _cut_text(pa.concat_arrays([text, fast]), at)
    return [text]


def _hundredths_parts(hundredths: np.ndarray, minus: np.ndarray, signed: bool) -> list[Any]:
    """The sign, whole part and hundredths of numbers given in hundredths, as texts."""
    import pyarrow as pa
    import pyarrow.compute as pc

    size = np.abs(hundredths).astype(np.int64)
    parts = [pc.cast(pa.array(size // 100), pa.string()), _worded(_CENTS, size % 100)]
    if signed:
        parts.insert(0, _worded(["+", "-"], minus))
    elif minus.any():
        parts.insert(0, _worded(["", "-"], minus))
    return parts


def _float_texts(values: np.ndarray, signed: bool) -> Any:
    """``%.15g`` (``%+.15g``) of any numbers: Arrow's shortest round-trip text where it is
    the same, Python's elsewhere."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.cast(pa.array(values), pa.string())
    if signed:
        plus = pc.binary_join_element_wise(pa.scalar("+"), text, "")
        text = pc.if_else(pa.array(~np.signbit(values)), plus, text)
    size = np.abs(values)
    # Arrow writes an exponent from 1e10 on, %.15g below 1e-4 and from 15 digits on
    exact = (values == 0) | ((size >= 1e-4) & (size < 1e9))
    if not exact.all():
        fmt = "%+.15g" if signed else "%.15g"
        written = text.to_pylist()
        for i in np.flatnonzero(~exact).tolist():
            written[i] = fmt % values[i]
        text = pa.array(written, type=pa.string())
    return text


def _number_texts(numbers: np.ndarray | _Signed) -> Any:
    """``%.15g`` (``%+.15g`` for :class:`_Signed`) of each number, as an Arrow string array."""
    return _joined_arrow([numbers] if isinstance(numbers, _Signed) else [np.asarray(numbers)])


# -- leaves -------------------------------------------------------------------------------------


def _change_piece(positions: np.ndarray, cid: str, suffix: str, ch: _Change, lang: str) -> Piece:
    """The piece of a change of an amount (its text made from ``ch`` when shown)."""
    target = np.full(len(positions), ch.target)
    return Piece(
        positions, cid, "change", None, suffix, ch.fact, ch.current, target, ch.delta,
        source=ch, lang=lang,
    )  # fmt: skip


def _leaf_pieces(ctx: Context, leaf: Any, pos: np.ndarray, cid: str, lang: str) -> list[Piece]:
    """The change a not-met leaf asks for, on the rows ``pos`` (where it is not met): one
    piece, or one per fact changed (an amount made by its part on some rows)."""
    meets = f" {t('eligibility.meets', lang)} {cid}"
    facts = facts_table()
    if isinstance(leaf, Compare):
        ch = _change(ctx, leaf.of, leaf.op, leaf.threshold, pos, lang)
        if is_bar(leaf):  # a limit the firm is not asked to move to: said as the bar it fails
            bar = t("eligibility.fixed_bar", lang, cid=cid)
            return [Piece(pos, cid, "change", _limit_arrow(ch, lang), bar, leaf.of, lang=lang)]
        pieces = []
        for _, sub in _made_by_part(ctx, ch, lang):
            # a value that cannot be computed is a change asked for by no amount: it meets
            # nothing, the condition needs it
            for rows, suffix in (
                (~sub.undefined, meets),
                (sub.undefined, t("eligibility.needed_for", lang, cid=cid)),
            ):
                if rows.all():
                    pieces.append(_change_piece(sub.positions, cid, suffix, sub, lang))
                elif rows.any():
                    part = sub.subset(np.flatnonzero(rows))
                    pieces.append(_change_piece(part.positions, cid, suffix, part, lang))
        return pieces
    if isinstance(leaf, Member):
        fact = facts[leaf.of]
        codes = ctx.codes(leaf.of)[pos]
        wanted = sorted(fact.value_index(v) for v in leaf.in_)
        labels = [v.label(lang) for v in fact.values] + ["?"]
        safe = np.where(np.isnan(codes), len(fact.values), codes).astype(np.intp)
        target = fact.values[wanted[0]].label(lang)
        head = fact.short_label(lang) + t("eligibility.colon", lang)
        words = [f"{head}{label} → {target}" for label in labels]
        if leaf.window is not None:  # held, but not within the window
            words.append(head + t("eligibility.within", lang, n=leaf.window.years))
            safe = np.where(np.isin(codes, wanted), len(words) - 1, safe)
        return [Piece(pos, cid, "change", _worded(words, safe), meets, leaf.of, lang=lang)]
    if isinstance(leaf, Is):
        fact = facts[leaf.of]
        want = leaf.is_
        other = "no" if want == "yes" else "yes"
        colon = t("eligibility.colon", lang)
        words = {"yes": t("eligibility.yes_word", lang), "no": t("eligibility.no_word", lang)}
        was, wanted = words[other], words[want]
        if is_bar(leaf):  # no change the firm can make meets it
            text = f"{fact.short_label(lang)}{colon}{was}"
            bar = t("eligibility.fixed_bar", lang, cid=cid)
            return [
                Piece(
                    pos, cid, "change", _worded([text], np.zeros(len(pos))), bar, leaf.of, lang=lang
                )
            ]
        text = f"{fact.short_label(lang)}{colon}{was} → {wanted}"
        return [
            Piece(
                pos, cid, "change", _worded([text], np.zeros(len(pos))), meets, leaf.of, lang=lang
            )
        ]
    return []


def _unmet(ctx: Context, node: Any, pos: np.ndarray) -> np.ndarray:
    """How many changes a test needs on rows ``pos`` (inf when one cannot be asked for)."""
    if isinstance(node, AllOf):
        return sum((_unmet(ctx, sub, pos) for sub in node.all), np.zeros(len(pos)))
    if isinstance(node, AnyOf):
        return np.minimum.reduce([_unmet(ctx, sub, pos) for sub in node.any])
    if isinstance(node, Manual):
        return np.zeros(len(pos))
    state = ctx.state(node)[pos]
    unmet = (state == NOT_MET).astype(np.float64)
    if (isinstance(node, (Compare, Member, Is)) and not node.gap) or is_bar(node):
        unmet[state == NOT_MET] = np.inf  # no change the gaps make meets it
    return unmet


def _test_pieces(
    ctx: Context, node: Any, pos: np.ndarray, cid: str, lang: str, rung: RungEval
) -> list[Piece]:
    """The pieces of a test that is not met on rows ``pos``."""
    if len(pos) == 0:
        return []
    if isinstance(node, AllOf):
        made = [_test_pieces(ctx, sub, pos, cid, lang, rung) for sub in node.all]
        after: list[Piece] = []  # a total worked out after the other parts' changes: said last
        for k, sub in enumerate(node.all):
            if made[k] and _is_total(ctx, sub):
                others = [p for j, found in enumerate(made) if j != k for p in found]
                made[k], later = _total_after_others(ctx, sub, made[k], others, cid, lang, rung)
                after += later
        out: list[Piece] = [p for found in made for p in found] + after
        out = _one_change_per_fact(out, lang)[0]  # R&D 40万 → 100万 lifts the share too
        if any(isinstance(sub, Manual) for sub in node.all):
            # the amounts met, the condition waits for its review: said, not "meets" alone
            meets = f" {t('eligibility.meets', lang)} "
            then = t("eligibility.then_manual", lang)
            out = [
                dataclasses.replace(p, suffix=p.suffix + then)
                if p.suffix.startswith(meets) and not p.suffix.endswith(then)
                else p
                for p in out
            ]
        return out
    if isinstance(node, AnyOf):
        counts = np.stack([_unmet(ctx, sub, pos) for sub in node.any])
        choice = np.argmin(counts, axis=0)
        feasible = np.isfinite(counts.min(axis=0))
        out = []
        for k, sub in enumerate(node.any):
            out += _test_pieces(ctx, sub, pos[(choice == k) & feasible], cid, lang, rung)
        return out
    if isinstance(node, Manual):
        return []
    state = ctx.state(node)[pos]
    bad = pos[state == NOT_MET]
    if len(bad) == 0:
        return []
    if isinstance(node, ScorecardPass):
        return _scorecard_pieces(ctx, node.scorecard, bad, cid, lang)
    if not node.gap:
        return []
    return _leaf_pieces(ctx, node, bad, cid, lang)


def _is_total(ctx: Context, node: Any) -> bool:
    """Whether ``node`` compares a total (a sum or mean of facts) whose gap is asked of one of
    them (:func:`_change`): the others may be changed by the condition's other parts."""
    if not isinstance(node, Compare) or not node.gap:
        return False
    metric = ctx.policy.metrics.get(node.of)
    return metric is not None and metric.kind in ("sum", "mean")


def _total_after_others(
    ctx: Context,
    leaf: Compare,
    own: list[Piece],
    others: list[Piece],
    cid: str,
    lang: str,
    rung: RungEval,
) -> tuple[list[Piece], list[Piece]]:
    """A total's pieces (``own``) worked out again after the changes the condition's other parts
    ask (``others``) of the total's other facts: y2's R&D raised to 3 % of its revenue is part
    of the 2-year total, and the last year's R&D is asked only for the rest (not the whole
    shortfall again). A change of the fact the total is asked of is not counted: the bigger of
    the two is kept (:func:`_one_change_per_fact`). Returns the pieces of the rows no other
    change touches, as they were, and those worked out again, marked as after the changes
    (said after them, with the total after them as the value now: "after the changes above,
    R&D (2 years) 229万元 → 1200万元 (+971万元)", where the firm's own 224 beside +971 did not
    add up); on a row the others' changes bring to the total, none is left."""
    metric = ctx.policy.metrics[leaf.of]
    asked = metric.of[0]
    part_of = _part_of()
    moved = []
    for p in others:
        if p.kind != "change" or p.fact is None or p.change is None:
            continue
        touches = {p.fact, part_of.get(p.fact)}
        if asked not in touches and touches & set(metric.of):
            moved.append(p)
    if not moved:
        return own, []
    rows = np.unique(np.concatenate([p.positions for p in own]))
    rows = rows[np.isin(rows, np.concatenate([p.positions for p in moved]))]
    after = _context_after(ctx, rows, moved)
    if after is None:
        return own, []
    kept = [p.subset(~np.isin(p.positions, rows)) for p in own]
    again = []
    for p in _test_pieces(after, leaf, np.arange(len(rows)), cid, lang, rung):
        at = rows[p.positions]
        source = p.source and dataclasses.replace(p.source, positions=at)
        again.append(dataclasses.replace(p, positions=at, source=source, after_changes=True))
    return [p for p in kept if len(p.positions)], [p for p in again if len(p.positions)]


# -- scorecards ---------------------------------------------------------------------------------


@dataclass
class _Move:
    """Moving one indicator to one band (category, step): possible where ``valid``, at ``cost``.

    The text is made only for the rows that end up taking the move (``text_for``).
    """

    indicator: int
    group: str
    points: float
    valid: np.ndarray  # over the rows
    cost: np.ndarray
    text: Any = None  # per row (an Arrow string array), when cheap to make for all
    change: _Change | None = None  # for the rows ``change_rows``
    change_rows: np.ndarray | None = None

    def text_for(self, sel: np.ndarray, lang: str) -> Any:
        """The move's text on rows ``sel``, as an Arrow string array."""
        if self.text is not None:
            return _cut_text(self.text, sel)
        assert self.change is not None and self.change_rows is not None
        at = np.searchsorted(self.change_rows, sel)
        return _change_arrow(self.change.subset(at), lang)


def _indicator_moves(
    ctx: Context, ind: Indicator, k: int, pos: np.ndarray, edges: str, lang: str
) -> list[_Move]:
    moves: list[_Move] = []
    if ind.bands or ind.best_of:
        subs = (
            [(ind.of, ind.bands, ind.edges or edges, ind.else_points)]
            if ind.bands
            else [
                (s.of, s.bands, s.edges or ind.edges or edges, s.else_points)
                for s in ind.best_of or ()
            ]
        )
        for of, bands, sub_edges, else_points in subs:
            values, missing = ctx.get(of)
            v = values[pos]
            known = ~missing[pos]
            for low, high, holds_low, holds_high, p in resolve_bands(bands, sub_edges, else_points):
                with np.errstate(invalid="ignore"):
                    below = v < low if holds_low else v <= low
                    above = v > high if holds_high else v >= high
                for mask, op, edge in (
                    (below, "at_least" if holds_low else "above", low),
                    (above, "at_most" if holds_high else "below", high),
                ):
                    if not math.isfinite(edge):
                        continue
                    rows = np.flatnonzero(mask & known)
                    if len(rows) == 0:
                        continue
                    whole = _change(ctx, of, op, edge, pos[rows], lang)
                    for at, ch in _made_by_part(ctx, whole, lang):
                        sub = rows[at]
                        cost = np.full(len(pos), np.inf)
                        if ch.delta is not None and ch.fact_current is not None:
                            cost[sub] = _how_far(ch.fact_current, ch.fact_current + ch.delta)
                        else:
                            cost[sub] = 1.0
                        cost[sub[ch.undefined]] = np.inf
                        valid = np.zeros(len(pos), dtype=bool)
                        valid[sub] = ~ch.undefined
                        moves.append(
                            _Move(k, ind.group, p, valid, cost, change=ch, change_rows=sub)
                        )
        return moves
    if ind.categories is not None:
        fact = facts_table()[ind.of]  # type: ignore[index]
        codes = ctx.codes(ind.of)[pos]  # type: ignore[index]
        order = fact.value_codes if fact.type == "category" else ("no", "yes")
        labels_of = (
            [v.label(lang) for v in fact.values]
            if fact.type == "category"
            else [t("eligibility.no_word", lang), t("eligibility.yes_word", lang)]
        )
        now = np.where(np.isnan(codes), len(order), codes).astype(np.intp)
        head = fact.short_label(lang) + t("eligibility.colon", lang)
        for i, value in enumerate(order):
            p = ind.categories.get(value, ind.else_points)
            valid = ~np.isnan(codes) & (codes != i)
            text = _worded([f"{head}{label} → {labels_of[i]}" for label in labels_of + ["?"]], now)
            moves.append(_Move(k, ind.group, p, valid, np.where(valid, 1.0, np.inf), text))
        return moves
    for step in ind.first_of or ():
        state = ctx.state(step.test)[pos]
        valid = state == NOT_MET
        # a step whose claim a reviewer judges (补短板's "real results") earns its points only
        # then: the move says so, as a condition's gap does
        reviewed = any(isinstance(leaf, Manual) for leaf in iter_leaves(step.test))
        then = t("eligibility.then_manual", lang) if reviewed else ""
        text = _worded([step.label(lang) + then], np.zeros(len(pos)))
        moves.append(_Move(k, ind.group, step.points, valid, np.where(valid, 1.0, np.inf), text))
    return moves


def _drop_needless_moves(
    indicators: list[Indicator],
    current: np.ndarray,
    level: np.ndarray,
    taken_by: np.ndarray,
    taken_at: np.ndarray,
    total_need: np.ndarray,
    group_need: dict[str, np.ndarray],
    strict: frozenset[str] = frozenset(),
) -> None:
    """Leave out the moves the others make needless (in place): cheapest first can take two
    cheap moves and then, for a group's floor, one that alone gives the points of all three.

    The moves taken are tried latest (dearest) first: one is left out of a row where the
    points over the pass mark, and over the floor of its group, are at least what it gives
    (more than it gives, for a group in ``strict``: a floor the points must be above).
    ``total_need`` and ``group_need`` are what is still short after the moves (negative: over;
    a strict group's need is a hair above its floor's, so the hair is not forgiven again).
    """
    over = -total_need
    over_group = {gid: -need for gid, need in group_need.items()}
    group_of = [ind.group for ind in indicators]
    last = int(taken_at.max(initial=-1))
    for step in range(last, -1, -1):
        hit = taken_at == step
        rows = np.flatnonzero(hit.any(axis=0))
        if not len(rows):
            continue
        k = hit[:, rows].argmax(axis=0)
        gain = level[k, rows] - current[k, rows]
        spare = gain <= over[rows] + 1e-9
        for gid, extra in over_group.items():
            in_group = np.array([group_of[i] == gid for i in k], dtype=bool)
            room = extra[rows] if gid in strict else extra[rows] + 1e-9
            spare &= ~in_group | (gain <= room)
        if not spare.any():
            continue
        k, rows, gain = k[spare], rows[spare], gain[spare]
        over[rows] -= gain
        for gid, extra in over_group.items():
            in_group = np.array([group_of[i] == gid for i in k], dtype=bool)
            extra[rows[in_group]] -= gain[in_group]
        level[k, rows] = current[k, rows]
        taken_by[k, rows] = -1
        taken_at[k, rows] = -1


def _move_sizes(moves: list[_Move], n: int) -> np.ndarray:
    """Per move and row, the size of the change it asks (inf for a category or a step)."""
    size = np.full((len(moves), n), np.inf)
    for i, m in enumerate(moves):
        if m.change is not None and m.change_rows is not None and m.change.delta is not None:
            size[i, m.change_rows] = np.abs(m.change.delta)
    return size


def _lower_moves(
    moves: list[_Move],
    cost: np.ndarray,
    size: np.ndarray,
    current: np.ndarray,
    level: np.ndarray,
    taken_by: np.ndarray,
    total_need: np.ndarray,
    group_need: dict[str, np.ndarray],
    strict: frozenset[str],
) -> None:
    """Lower each move taken to the lowest band of its indicator that still makes the points
    (in place): the greedy pass lifts an indicator band by band while the total is short, and a
    later move (for a group's floor) can leave part of that lift spare.

    ``total_need`` and ``group_need`` are the points short before any move (a strict group's a
    hair more, as in :func:`_drop_needless_moves`); a band is taken only where it costs no more
    than the move it replaces, and of two moves to the lower band, the cheaper, then the
    smaller (a move left at its band stays as the greedy pass took it: its order already
    puts the cheaper, then the smaller, first).
    """
    gain = level - current
    over = gain.sum(axis=0) - total_need
    group_of = [m.group for m in moves]
    indicator_of = np.array([m.indicator for m in moves])
    over_group = {}
    for gid, need in group_need.items():
        in_group = np.array([m.group == gid for m in moves])
        ks = np.unique(indicator_of[in_group])
        over_group[gid] = gain[ks].sum(axis=0) - need
    for k in range(level.shape[0]):
        rows = np.flatnonzero(taken_by[k] >= 0)
        if not len(rows):
            continue
        mine = np.flatnonzero(indicator_of == k)
        gid = group_of[mine[0]]
        chosen = taken_by[k, rows].copy()
        to = level[k, rows].copy()
        limit = cost[chosen, rows]
        # from the highest band down, so that the lowest band that still makes the points wins
        for mi in sorted(mine.tolist(), key=lambda i: -moves[i].points):
            p = moves[mi].points
            lost = level[k, rows] - p
            c, z = cost[mi, rows], size[mi, rows]
            was_c, was_z = cost[chosen, rows], size[chosen, rows]
            better = (p < to) | ((p == to) & ((c < was_c) | ((c == was_c) & (z < was_z))))
            ok = (p > current[k, rows]) & better & (c <= limit)
            ok &= lost <= over[rows] + 1e-9
            if gid in over_group:
                room = over_group[gid][rows] + (0.0 if gid in strict else 1e-9)
                ok &= lost <= room
            chosen = np.where(ok, mi, chosen)
            to = np.where(ok, p, to)
        lower = to < level[k, rows]
        if not lower.any():
            continue
        at = rows[lower]
        lost = level[k, at] - to[lower]
        over[at] -= lost
        if gid in over_group:
            over_group[gid][at] -= lost
        level[k, at] = to[lower]
        taken_by[k, at] = chosen[lower]


def _scorecard_pieces(ctx: Context, sid: str, pos: np.ndarray, cid: str, lang: str) -> list[Piece]:
    """The indicator moves, cheapest first, that lift a failed scorecard to its pass mark."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ev = ctx.scorecard(sid)
    sc = ev.scorecard
    indicators = list(sc.indicators)
    current = np.stack([ev.ind_lo[ind.id][pos] for ind in indicators]).astype(np.float64)
    moves: list[_Move] = []
    for k, ind in enumerate(indicators):
        moves += _indicator_moves(ctx, ind, k, pos, sc.edges, lang)
    n = len(pos)
    total_need = ev.pass_mark[pos] - ev.lo[pos]
    group_need: dict[str, np.ndarray] = {}
    for g in sc.groups:
        floor = g.floor if g.floor is not None else g.floor_above
        if floor is None:
            continue
        need = floor - ev.group_lo[g.id][pos]
        if g.floor_above is not None:
            need = np.where(need >= 0, need + 1e-9, need)  # strictly above
        group_need[g.id] = need.astype(np.float64)
    if not moves:
        return []
    need_before = total_need.copy()
    group_before = {gid: need.copy() for gid, need in group_need.items()}
    points = np.array([m.points for m in moves])
    cost = np.stack([m.cost for m in moves])
    valid = np.stack([m.valid for m in moves])
    gain_all = points[:, None] - current[[m.indicator for m in moves]]
    cost = np.where(valid & (gain_all > 0), cost, np.inf)
    size = _move_sizes(moves, n)
    # cheapest first; among equal costs the bigger gain first, then the smaller change (from 0
    # an amount's band and a share's cost alike, all of their targets)
    order = np.lexsort((size, -gain_all, cost), axis=0)
    taken_by = np.full((len(indicators), n), -1)  # the move each indicator ends at
    taken_at = np.full((len(indicators), n), -1)  # the step it was taken at
    level = current.copy()
    cols = np.arange(n)
    indicator_of = np.array([m.indicator for m in moves])
    in_group_of = {gid: np.array([m.group == gid for m in moves]) for gid in group_need}
    for step in range(len(moves)):
        m_idx = order[step]
        c = cost[m_idx, cols]
        ind_idx = indicator_of[m_idx]
        p = points[m_idx]
        gain = p - level[ind_idx, cols]
        group_short = np.zeros(n, dtype=bool)
        for gid, need in group_need.items():
            group_short |= in_group_of[gid][m_idx] & (need > 0)
        take = np.isfinite(c) & (gain > 0) & ((total_need > 0) | group_short)
        if not take.any():
            continue
        rows = cols[take]
        total_need[rows] -= gain[rows]
        for gid, need in group_need.items():
            sel = rows[in_group_of[gid][m_idx][rows]]
            need[sel] -= gain[sel]
        level[ind_idx[rows], rows] = p[rows]
        taken_by[ind_idx[rows], rows] = m_idx[rows]
        taken_at[ind_idx[rows], rows] = step
    strict = frozenset(g.id for g in sc.groups if g.floor_above is not None)
    _drop_needless_moves(
        indicators, current, level, taken_by, taken_at, total_need, group_need, strict
    )
    _lower_moves(moves, cost, size, current, level, taken_by, need_before, group_before, strict)
    # text: the moves in the order they were taken
    missing = rounded(ev.pass_mark[pos] - ev.lo[pos], 2, "round")
    points_word = _worded(
        [t("eligibility.points_gained", lang), t("eligibility.point_gained", lang)], missing == 1
    )
    head = _joined_arrow(
        [
            cid + t("eligibility.colon", lang) + "+",
            missing,
            points_word,
            t("eligibility.open", lang),
            rounded(ev.lo[pos], 2, "round"),
            " → ",
            rounded(ev.pass_mark[pos], 2, "round"),
            t("eligibility.close", lang),
        ]
    )
    at_pass_mark = ev.pass_mark[pos] - ev.lo[pos] <= 0
    if at_pass_mark.any():
        # the total is at the pass mark already: only a group's floor is short, said below
        head = pc.if_else(pa.array(at_pass_mark), pa.scalar(cid, head.type), head)
    for gid in group_need:
        g = next(g for g in sc.groups if g.id == gid)
        floor = g.floor if g.floor is not None else g.floor_above
        short = (
            ev.group_lo[gid][pos] < floor
            if g.floor is not None
            else (ev.group_lo[gid][pos] <= floor)
        )
        if short.any():
            note = [
                t("eligibility.group_open", lang) + g.label(lang) + " ",
                rounded(ev.group_lo[gid][pos], 2, "round"),
                " → " + ("" if g.floor is not None else ">") + _fixed(floor),
                t("eligibility.group_close", lang),
            ]
            head = pc.if_else(pa.array(short), _joined_arrow([head, *note]), head)
    # every move taken, in the order taken on each row; each move's texts made once, for all
    # the rows that take it (a text per step and move cost a call of Arrow each)
    taken_ind, taken_row = np.nonzero(taken_by >= 0)
    order = np.lexsort((taken_at[taken_ind, taken_row], taken_row))
    taken_ind, taken_row = taken_ind[order], taken_row[order]
    taken_move = taken_by[taken_ind, taken_row]
    gain = points[taken_move] - current[taken_ind, taken_row]
    gained = np.bincount(taken_row, weights=gain, minlength=n)
    text = head
    if len(taken_row):
        said = _made_by_group(taken_move, lambda mi, at: moves[mi].text_for(taken_row[at], lang))
        entries = _joined_arrow([said, " +", rounded(gain, 2, "round")])
        # each row's moves joined by commas
        starts = np.flatnonzero(np.r_[True, taken_row[1:] != taken_row[:-1]])
        body = _joined_runs(entries, starts, t("eligibility.comma", lang))
        body = _spread(body, taken_row[starts], n)
        moved = np.zeros(n, dtype=bool)
        moved[taken_row] = True
        with_body = _joined_arrow([head, t("eligibility.colon", lang), body])
        text = pc.if_else(pa.array(moved), with_body, head)
    amounts, planned = _planned_moves(moves, indicators, taken_by, level)
    return [
        Piece(
            pos,
            cid,
            "points",
            text,
            points=gained,
            moves=amounts,
            planned=planned,
            scorecard=sid,
            lang=lang,
        )
    ]


def _planned_moves(
    moves: list[_Move], indicators: list[Indicator], taken_by: np.ndarray, level: np.ndarray
) -> tuple[tuple[tuple[str, np.ndarray, np.ndarray], ...], dict[str, np.ndarray]]:
    """The amounts a scorecard's chosen moves change, (fact, rows, change) per move, and the
    points each indicator should have once they are made: its band after a move of an amount,
    its points now if not moved, NaN (not checked) after a move a follow-up cannot make (a
    category, a step)."""
    amounts = []
    planned = level.copy()
    for k in range(len(indicators)):
        for mi in np.unique(taken_by[k][taken_by[k] >= 0]):
            rows = np.flatnonzero(taken_by[k] == mi)
            move = moves[mi]
            ch = move.change
            if (
                ch is None
                or ch.fact not in facts_table()  # none, or a metric (the first level given)
                or ch.delta is None
                or move.change_rows is None
            ):
                planned[k, rows] = np.nan
                continue
            at = np.searchsorted(move.change_rows, rows)
            amounts.append((ch.fact, rows, ch.delta[at]))
    return tuple(amounts), {ind.id: planned[k] for k, ind in enumerate(indicators)}


# -- a rung's gaps ------------------------------------------------------------------------------


def _asked_names(
    ctx: Context, rung: RungEval, cid: str, recheck: bool, pos: np.ndarray
) -> dict[str, np.ndarray]:
    """Per fact or metric a condition (with the routes that replace it) reads: the rows of
    ``pos`` where it is missing and knowing it could change the condition.

    A name is asked for only under parts whose state is not settled: a part met or not met
    is so whatever the missing facts are (the states are those of ``ctx``: the firm's facts,
    or the facts after the changes listed), so nothing under it can change the condition. So
    not a part of an "all of" another part of which fails (high-value class-I IP without any
    class-I IP; the equity of a revenue band whose R&D falls short, a change or not: the gaps
    of an unknown condition change nothing of it), nor an alternative of an "any of" another
    of which is met; nor, in a scorecard that could still pass or fail, an indicator whose
    points are the same whatever the missing facts are, or a step of a "first of" after one
    that holds.
    """
    policy = ctx.policy
    tests: list[Any] = []
    if cid in policy.conditions:
        test = rung.test(cid, recheck)
        if test != "skip":
            tests.append(test)
    for rid, route in policy.routes.items():
        if rid in rung.routes and cid in route.replaces:
            tests += [o.test for o in route.options]
    asked: dict[str, np.ndarray] = {}

    def ask(name: str, where: np.ndarray) -> None:
        where = where & ctx.get(name)[1][pos]
        asked[name] = asked[name] | where if name in asked else where

    def unsettled(node: Any) -> np.ndarray:
        state = ctx.state(node)[pos]
        return (state != MET) & (state != NOT_MET)

    def walk(node: Any, open_: np.ndarray) -> None:
        # a part met or not met is so whatever is missing: an "all of" with a part that fails,
        # an "any of" with a part that is met, a scorecard sure to pass or to fail
        open_ = open_ & unsettled(node)
        if not open_.any():
            return
        if isinstance(node, AllOf):
            for sub in node.all:
                walk(sub, open_)
        elif isinstance(node, AnyOf):
            for sub in node.any:
                walk(sub, open_)
        elif isinstance(node, ScorecardPass):
            sc = ctx.scorecard(node.scorecard)
            spec = policy.scorecards[node.scorecard]
            for ind in spec.indicators:
                unsure = open_ & (sc.ind_lo[ind.id][pos] < sc.ind_hi[ind.id][pos])
                names = [ind.of] if ind.of else []
                names += [s.of for s in ind.best_of or ()]
                for name in names:
                    ask(name, unsure)
                # a step counts while no step before it holds, and then only its unsettled parts
                # (no high-value class-I IP without any class-I IP)
                for step in ind.first_of or ():
                    walk(step.test, unsure)
                    unsure = unsure & (ctx.state(step.test)[pos] != MET)
            if spec.province_fact:
                ask(spec.province_fact, open_)
        elif hasattr(node, "of"):
            # (not a window's year: a blank year is taken as within the window)
            ask(node.of, open_ & (ctx.state(node)[pos] == UNKNOWN))

    # the condition is met if its test or a route's option is: then nothing is asked
    if tests:
        open_ = ~np.logical_or.reduce([ctx.state(test)[pos] == MET for test in tests])
        for test in tests:
            walk(test, open_)
    return asked


def rung_gaps(
    rung: RungEval,
    pos: np.ndarray,
    lang: str,
    max_gaps: int | None = None,
    rounds: int = 3,
) -> tuple[list[Piece], np.ndarray]:
    """The gaps of one rung on rows ``pos`` (ascending positions in the rung's evaluation, as
    every :class:`~dmi.eligibility.engine.Part`'s are).

    ``not_yet`` rows get the changes of every unmet condition (of the path needing fewest), then
    the facts still missing; ``unknown`` rows the facts to provide; ``manual`` rows the
    conditions left for review. With ``max_gaps``, a row's gaps past that many are counted,
    not worked out. A change that would break a condition the firm meets (more main revenue is
    more revenue, so a lower R&D share) is followed by the gaps of what it breaks, worked out on
    the facts after the changes (up to ``rounds`` times). Returns the pieces and the number of
    gaps of each row.
    """
    ctx = rung.ctx
    policy = ctx.policy
    spec = policy.rungs[rung.rung]
    status = rung.status[pos]
    pieces: list[Piece] = []
    conditions = list(spec.conditions)
    chosen: dict[str, np.ndarray] = {}
    if spec.paths:
        assert rung.path is not None
        choice = rung.path[pos]  # the path assessed: on a not_yet row, the one needing fewest
        for k, p in enumerate(spec.paths):
            for cid in p.conditions:
                chosen[cid] = choice == k
                conditions.append(cid)
    count = np.zeros(len(pos), dtype=np.int32)
    budget = np.iinfo(np.int32).max if max_gaps is None else max_gaps
    # the changes, on the not_yet rows only
    ny = np.flatnonzero(status == NOT_MET)
    ny_pos = pos[ny]
    ny_count = np.zeros(len(ny), dtype=np.int32)
    for cid in conditions:
        unmet = rung.conditions[cid][ny_pos] == NOT_MET
        if cid in chosen:
            unmet &= chosen[cid][ny]
        # every unmet condition's changes, past the cap too: two of them may be one change of a
        # fact (merged below), and a capped list must be the start of the whole one
        rows = ny_pos[unmet]
        ny_count[unmet] += 1
        if len(rows):
            pieces += _condition_pieces(rung, cid, rows, lang)
    # a banded condition's gaps, of the band the other conditions' changes put the row in
    pieces = _rebanded(rung, pieces, ny_pos, ny_count, lang)
    # one change of a fact for two conditions: the bigger, naming both (not the two added)
    pieces, merged = _one_change_per_fact(pieces, lang)
    if merged:
        # per condition, a mark on the rows where some change of it is still shown (a mask,
        # not a union of sorted positions: a condition may have many pieces)
        kept_at: dict[str, np.ndarray] = {}
        for p in pieces:
            kept_at.setdefault(p.condition, np.zeros(ctx.n, dtype=bool))[p.positions] = True
        for p in merged:  # a condition all of whose changes went into another's: one gap less
            kept = kept_at.get(p.condition)
            gone = p.positions if kept is None else p.positions[~kept[p.positions]]
            ny_count[np.searchsorted(ny_pos, gone)] -= 1
    # a change may break a condition the firm met (more main revenue is more revenue: a lower
    # R&D share): the changes are applied, and what they broke gets its own gaps, after them,
    # on every row, a capped list's too (a follow-up may join a gap shown within the cap)
    # a condition of the path a row does not take is not its to meet again
    off_path: dict[str, np.ndarray] = {}
    for cid, mask in chosen.items():
        off_path[cid] = np.zeros(ctx.n, dtype=bool)
        off_path[cid][pos[~mask]] = True
    left_unknown: dict[str, np.ndarray] = {}  # filled by _follow_ups
    left_asked: dict[str, dict[str, np.ndarray]] = {}  # the same, the names they wait on
    for extra in _follow_ups(
        rung, ny_pos, pieces, lang, rounds, off_path, merged, left_unknown, left_asked
    ):
        # on a row with a gap of the same condition and suffix, the follow-up joins that gap
        # (joined_rows names the condition once): it is not one more gap there
        key = (extra.condition, extra.suffix)
        joins = [p.positions for p in pieces if extra.suffix and (p.condition, p.suffix) == key]
        pieces.append(extra)
        new = ~np.isin(extra.positions, np.concatenate(joins)) if joins else slice(None)
        ny_count[np.isin(ny_pos, extra.positions[new])] += 1
    # a direct route or exemption one change of an amount meets, where a condition it replaces
    # is not met: that change too, said to stand in place of what the route replaces (+10万元
    # of R&D for 专精特新 2022's route beside the 42 points its scorecard lacks)
    in_path = {cid: mask[ny] for cid, mask in chosen.items()}
    for extra in _route_alternatives(rung, ny_pos, in_path, lang):
        pieces.append(extra)
        ny_count[np.isin(ny_pos, extra.positions)] += 1
    count[ny] = ny_count
    # facts to provide (unknown conditions), for unknown rows and after the changes of not_yet
    lacking: dict[str, np.ndarray] = {}
    blank: dict[str, np.ndarray] = {}

    def is_blank(fact: str) -> np.ndarray:
        if fact not in blank:
            blank[fact] = np.isnan(ctx.facts.values[fact][pos])
        return blank[fact]

    def lack(name: str, unknown_name: np.ndarray) -> None:
        # a fact is asked for where what it stands in for is missing: not the given digital
        # level where the level computed from the survey is known
        for fact in facts_read(ctx.policy, name):
            if fact in ctx.facts.values and fact not in COMPUTED:
                found = unknown_name & is_blank(fact)
                lacking[fact] = lacking[fact] | found if fact in lacking else found

    for cid in conditions:
        in_path = chosen.get(cid, np.ones(len(pos), dtype=bool))
        open_ = in_path & (status <= UNKNOWN)
        unknown = open_ & (rung.conditions[cid][pos] == UNKNOWN)
        if cid in left_unknown:
            # not met, and unknown once its changes are made: what it then waits on, worked
            # out on the facts after the changes
            left = open_ & left_unknown[cid][pos]
            for name, asked in left_asked.get(cid, {}).items():
                if (asked[pos] & left).any():
                    lack(name, asked[pos] & left)
        if not unknown.any():
            continue
        again = rung.recheck[pos]
        for recheck in (False, True):
            which = unknown & (again if recheck else ~again)
            if not which.any():
                continue
            sel = np.flatnonzero(which)  # only these rows' tests are walked
            for name, asked in _asked_names(ctx, rung, cid, recheck, pos[sel]).items():
                if not asked.any():
                    continue
                unknown_name = np.zeros(len(pos), dtype=bool)
                unknown_name[sel] = asked
                lack(name, unknown_name)
    # in the facts table's order: a row's text must not depend on the other rows of the batch
    list_separator = t("eligibility.list_separator", lang)
    words, which = _list_texts(
        len(pos), [(f, lacking[f]) for f in facts_table().codes if f in lacking], list_separator
    )
    has_missing = np.array([w != "" for w in words])[which]
    if has_missing.any():
        rows = np.flatnonzero(has_missing & (count < budget))
        count[has_missing] += 1
        head = t("eligibility.missing", lang) + t("eligibility.colon", lang)
        text = _worded([head + w for w in words], which[rows])
        pieces.append(Piece(pos[rows], "", "missing", text, lang=lang))
    # conditions left for manual review
    manual_rows = status == MANUAL
    if manual_rows.any():
        left = []
        for cid in conditions:
            in_path = chosen.get(cid, np.ones(len(pos), dtype=bool))
            left.append((cid, manual_rows & in_path & (rung.conditions[cid][pos] == MANUAL)))
        # a route whose option is left to review (equity from qualified investors, say) is what
        # the review is of: named after the conditions it would replace
        for rid in spec.routes:
            # only where a condition it replaces waits on it (not one met on its own)
            waits = np.zeros(len(pos), dtype=bool)
            for cid in policy.routes[rid].replaces:
                in_path = chosen.get(cid, np.ones(len(pos), dtype=bool))
                waits |= in_path & (rung.conditions[cid][pos] == MANUAL)
            left.append((rid, manual_rows & waits & (rung.routes[rid][pos] == MANUAL)))
        words, which = _list_texts(len(pos), left, list_separator)
        listed = manual_rows & np.array([w != "" for w in words])[which]
        rows = np.flatnonzero(listed & (count < budget))
        count[listed] += 1
        if len(rows):
            head = t("eligibility.manual", lang) + t("eligibility.colon", lang)
            text = _worded([head + w for w in words], which[rows])
            pieces.append(Piece(pos[rows], "", "manual", text, lang=lang))
    return pieces, count


def _route_alternatives(
    rung: RungEval, rows: np.ndarray, in_path: dict[str, np.ndarray], lang: str
) -> list[Piece]:
    """On rows ``rows`` (not_yet), the change that meets a direct route or exemption of the
    rung where one change of an amount in 万元 within reach (:data:`ROUTE_REACH`) does (not a
    category, a rank or a count: an award is not a change to ask for) and a
    condition it replaces (of the path a row takes, ``in_path``: masks over ``rows``) is not
    met; its suffix names what it stands in place of.
    Not made with the other changes (it is an alternative to some of them): no follow-ups."""
    ctx = rung.ctx
    policy = ctx.policy
    out: list[Piece] = []
    for rid in policy.rungs[rung.rung].routes:
        route = policy.routes[rid]
        lacking = np.zeros(len(rows), dtype=bool)
        for cid in route.replaces:
            if cid in rung.conditions:
                unmet = rung.conditions[cid][rows] == NOT_MET
                lacking |= unmet & in_path[cid] if cid in in_path else unmet
        sel = rows[lacking & (rung.routes[rid][rows] == NOT_MET)]
        if not len(sel):
            continue
        instead = t("eligibility.in_place_of", lang, cids=", ".join(route.replaces))
        covered = np.zeros(len(sel), dtype=bool)  # a row takes the first option within reach
        for option in route.options:
            one = _unmet(ctx, option.test, sel) == 1
            for leaf in iter_leaves(option.test):
                if isinstance(leaf, (Member, Is)):  # a category to change: no amount
                    one &= ctx.state(leaf)[sel] != NOT_MET
            take = np.flatnonzero(one & ~covered)
            if not len(take):
                continue
            for p in _test_pieces(ctx, option.test, sel[take], rid, lang, rung):
                if p.current is None or p.target is None or p.fact is None:
                    continue
                if facts_table()[p.fact].unit != "万元":  # a rank, a count, years: not to ask
                    continue
                # within reach (995万元 of R&D for 1000, not new equity of 0 for 500)
                with np.errstate(invalid="ignore"):
                    near = _how_far(p.current, p.target) <= ROUTE_REACH
                if near.any():
                    kept = p if near.all() else p.subset(np.flatnonzero(near))
                    out.append(dataclasses.replace(kept, suffix=kept.suffix + instead))
                    covered[np.isin(sel, kept.positions)] = True
    return out


ROUTE_REACH = 0.5
"""How far (:func:`_how_far`) the value a direct route's or exemption's option compares may be
from its threshold for its one change to be listed beside the changes of what it replaces (the
change asked of a fact may be bigger: +10万元 of one year's R&D for +5 of a 2-year mean): a
route within reach (mean R&D of 995万元 for 1000), not one the firm is as far from as from
anything (new equity of 0 for 500万元)."""


def _how_far(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """How big a change from ``start`` to ``end`` is, as a share of the larger of the two (0 to
    1 for values of one sign): a scorecard move's cost, a route's reach."""
    return np.abs(end - start) / np.maximum(np.maximum(np.abs(start), np.abs(end)), 1e-9)


def _one_change_per_fact(pieces: list[Piece], lang: str) -> tuple[list[Piece], list[Piece]]:
    """Of two changes of one fact on a row, made the same way, keep the bigger: a threshold
    worked back to its fact is met by any bigger change that way, and the two added would ask
    for more than either needs. When they are two conditions' changes, the one kept names both
    (``last year's revenue 4000万元 → 5000万元 (+1000万元) meets lg26_rev, lg26_growth``).

    Returns the pieces shown and the parts left out (on their rows still their conditions'
    changes: the follow-ups check those conditions after the changes).
    """
    at = [
        i
        for i, p in enumerate(pieces)
        if p.kind == "change" and p.fact is not None and p.change is not None and p.suffix
    ]
    # a condition's bit in a row's mask of the conditions a change also meets (a rule file of
    # more than 62 such conditions has the others' changes shown apart)
    conditions = list(dict.fromkeys(pieces[i].condition for i in at))[:62]
    bit_of = {c: 1 << k for k, c in enumerate(conditions)}
    pairs = [
        (i, j)
        for k, i in enumerate(at)
        for j in at[k + 1 :]
        if pieces[i].fact == pieces[j].fact
        and pieces[i].condition in bit_of
        and pieces[j].condition in bit_of
    ]
    if not pairs:
        return pieces, []
    bit = {i: bit_of.get(pieces[i].condition, 0) for i in at}
    then = t("eligibility.then_manual", lang)
    # per row, whether a condition its change meets then waits for a review (see _test_pieces):
    # a row's own, whatever branch of an "any of" another row took
    review = {i: np.full(len(pieces[i].positions), pieces[i].suffix.endswith(then)) for i in at}
    drop = {i: np.zeros(len(pieces[i].positions), dtype=bool) for i in at}
    absorbed = {i: np.zeros(len(pieces[i].positions), dtype=np.int64) for i in at}
    for i, j in pairs:
        a, b = pieces[i], pieces[j]
        assert a.change is not None and b.change is not None
        _, ia, ib = np.intersect1d(a.positions, b.positions, return_indices=True)
        if not len(ia):
            continue
        da, db = a.change[ia], b.change[ib]
        with np.errstate(invalid="ignore"):
            same = (np.sign(da) == np.sign(db)) & ~drop[i][ia] & ~drop[j][ib]
            a_keeps = same & (np.abs(da) >= np.abs(db))
        b_keeps = same & ~a_keeps
        for keep, lose, ik, il, sel in ((i, j, ia, ib, a_keeps), (j, i, ib, ia, b_keeps)):
            drop[lose][il[sel]] = True
            absorbed[keep][ik[sel]] |= bit[lose] | absorbed[lose][il[sel]]
            review[keep][ik[sel]] |= review[lose][il[sel]]
    shown: list[Piece] = []
    left: list[Piece] = []
    meets = t("eligibility.meets", lang)
    separator = t("eligibility.comma", lang)
    for i, piece in enumerate(pieces):
        if i not in drop or not (drop[i].any() or absorbed[i].any()):
            shown.append(piece)
            continue
        if drop[i].any():
            left.append(piece.subset(drop[i]))
        kept = ~drop[i]
        others_of = absorbed[i] & ~bit[i]  # the other conditions a row's change also meets
        # one part per (other conditions met, a review waited for): the bit above them all
        key = others_of | (review[i].astype(np.int64) << 62)
        for combo in np.unique(key[kept]).tolist():
            part = piece.subset(kept & (key == combo))
            mask, waits = combo & ((1 << 62) - 1), bool(combo >> 62)
            if mask or waits != piece.suffix.endswith(then):
                named = [piece.condition, *(c for c in conditions if mask & bit_of[c])]
                tail = then if waits else ""
                part = dataclasses.replace(part, suffix=f" {meets} " + separator.join(named) + tail)
            shown.append(part)
    return shown, left


def _case_leaves(test: Any) -> list[Any]:
    """The leaves of a test marked ``gap: false``: those that select a case (a revenue band)."""
    if isinstance(test, (AllOf, AnyOf)):
        subs = test.all if isinstance(test, AllOf) else test.any
        return [leaf for sub in subs for leaf in _case_leaves(sub)]
    if isinstance(test, (Compare, Member, Is)) and not test.gap:
        return [test]
    return []


def _rebanded(
    rung: RungEval, pieces: list[Piece], ny_pos: np.ndarray, ny_count: np.ndarray, lang: str
) -> list[Piece]:
    """The gaps of a banded condition (one whose test selects a case by ``gap: false`` leaves,
    小巨人 2022's R&D by revenue band), worked out on the facts after the other conditions'
    changes where those put the row in another case (the growth gap lifts last year's revenue from
    1000万 to 8259万: the R&D asked is the 5000万-1亿 band's, not the first band's 8000万 of
    equity).

    On those rows the condition's first gaps are replaced by the new ones, none where the
    changes meet it (``ny_count``, the gaps per row of ``ny_pos``, one less there).
    """
    from dmi.eligibility.engine import evaluate_rung

    policy = rung.policy
    for cid in dict.fromkeys(p.condition for p in pieces):
        condition = policy.conditions.get(cid)
        leaves = [] if condition is None else _case_leaves(condition.test)
        if not leaves:
            continue
        others = [p for p in pieces if p.condition != cid and p.amount_changes()]
        if not others:
            continue
        # the changes as they will be asked: of two of one fact, the bigger (not both added)
        others, _ = _one_change_per_fact(others, lang)
        rows = np.unique(np.concatenate([p.positions for p in pieces if p.condition == cid]))
        ctx = _context_after(rung.ctx, rows, others)
        if ctx is None:
            continue
        moved = np.zeros(len(rows), dtype=bool)
        for leaf in leaves:
            moved |= ctx.state(leaf) != rung.ctx.state(leaf)[rows]
        if not moved.any():
            continue
        after = evaluate_rung(ctx, rung.rung, rung.recheck[rows])
        local = np.flatnonzero(moved)
        still = local[after.conditions[cid][local] == NOT_MET]
        at = rows[local]
        kept = []
        for p in pieces:
            stay = p.condition != cid or not np.isin(p.positions, at).any()
            if stay:
                kept.append(p)
                continue
            left = ~np.isin(p.positions, at)
            if left.any():
                kept.append(p.subset(left))
        if len(still):
            # worked out on the facts after the other changes, in the case they lead to: said
            # so, as a follow-up is (its numbers are not the firm's own)
            again = _condition_pieces(after, cid, still, lang)
            kept += [
                dataclasses.replace(p, positions=rows[p.positions], after_changes=True)
                for p in again
            ]
        # met, or unknown, once the others' changes are made: no gap of its own there
        gone = np.setdiff1d(at, rows[still])
        ny_count[np.searchsorted(ny_pos, gone)] -= 1
        pieces = kept
    return pieces


def _part_of() -> dict[str, str]:
    """Each fact that is part of another (the facts file's ``at_most`` checks: main-business
    revenue of revenue, R&D staff of staff, 2-year equity of 3-year): a change to the part
    changes the whole alike, as the share gaps are worked out (main / revenue reaches the
    threshold as both grow)."""
    return {c.fact: c.at_most for c in facts_table().checks if c.at_most is not None}


def _context_after(ctx: Context, rows: np.ndarray, pieces: list[Piece]) -> Context | None:
    """The rows ``rows`` (sorted positions of ``ctx``) after the amount changes of ``pieces``
    there, as a context of their own: each changed fact rounded to the policy's precision as a
    derived value is (64.9 - 14.9 is 50.00000000000001, above a band's edge of 50), and what
    reads no changed fact taken from ``ctx`` (not worked out again). None when no piece changes
    an amount on them."""
    if not len(rows):
        return None
    sub = ctx.facts.take(rows)
    part_of = _part_of()
    changed: set[str] = set()
    for piece in pieces:
        for name, local, change in piece.amount_changes():
            positions = piece.positions[local]
            at = np.searchsorted(rows, positions)
            inside = (at < len(rows)) & (rows[np.minimum(at, len(rows) - 1)] == positions)
            delta = np.asarray(change, dtype=np.float64)
            ok = inside & np.isfinite(delta)
            if not ok.any():
                continue
            for fact in (name, part_of.get(name)):
                if fact is not None and fact in sub.values:
                    # the taken column is a copy of our own. A row may take several changes,
                    # one per piece or move: each is added in a call of its own, whose rows are
                    # distinct (a piece's positions are), so a plain indexed add is right
                    sub.values[fact][at[ok]] += delta[ok]
                    changed.add(fact)
    if not changed:
        return None
    for fact in changed:
        sub.values[fact] = rounded_to(sub.values[fact], ctx.policy.precision)
    return Context(sub, ctx.policy, ctx.year, parent=(ctx, rows, frozenset(changed)))


def _follow_ups(
    rung: RungEval,
    rows: np.ndarray,
    pieces: list[Piece],
    lang: str,
    rounds: int,
    off_path: dict[str, np.ndarray],
    merged: list[Piece],
    left_unknown: dict[str, np.ndarray] | None = None,
    left_asked: dict[str, dict[str, np.ndarray]] | None = None,
) -> list[Piece]:
    """The gaps of what ``pieces`` (the changes of rows ``rows``, ascending) would break, worked
    out on the facts after those changes, and so on, ``rounds`` times at most.

    ``left_unknown`` is filled, per condition, with a mask of the rung's rows where it is not
    met and the changes leave it unknown (R&D 50万 → 100万 meets the year's part; the other
    year's is blank): its missing facts are then asked for too; ``left_asked`` with, per
    such condition, the rows where each fact or metric it reads is to be asked for, worked out
    on the facts after the changes (:func:`_asked_names`: a part the changes meet no longer
    fails, so the facts beside it count).

    Each round makes every change so far and evaluates the changed rows again: a condition met
    before the round and not after it gets its gaps, and so does a condition whose gaps on a row
    are all changes of amounts and that those changes, made with the others, leave unmet (more
    revenue for one condition is a lower main-business share for another's gap), and a
    scorecard indicator below the points its moves planned (:func:`_lost_points`); not a
    condition of a path the row does not take (``off_path``: per condition, a mask of the
    rung's rows). ``merged`` are the changes shown as another condition's bigger change of the
    same fact (:func:`_one_change_per_fact`): their conditions are checked like the others'.
    The pieces returned are on ``rung``'s rows.
    """
    from dmi.eligibility.engine import evaluate_rung

    applied = [p for p in pieces if p.amount_changes()]
    planned = [p for p in pieces if p.planned is not None]
    if not applied or not len(rows):
        return []
    changed = np.zeros(rung.ctx.n, dtype=bool)  # a mark per row, not a sort of every change
    for p in applied:
        for _, local, _ in p.amount_changes():
            changed[p.positions[local]] = True
    rows = rows[changed[rows]]
    before = {cid: state[rows] for cid, state in rung.conditions.items()}
    by_amounts = _ChangedBy(rung.ctx.n)
    if left_unknown is None:
        left_unknown = {}
    by_amounts.add([*pieces, *merged])  # a change merged into another's is still its own
    found_all: list[Piece] = []
    for _ in range(rounds):
        ctx = _context_after(rung.ctx, rows, applied)
        if ctx is None:
            break
        after = evaluate_rung(ctx, rung.rung, rung.recheck[rows])
        found: list[Piece] = []
        for cid, was in before.items():
            now = after.conditions[cid]
            # the latest round that made a row's changes says where it is left (every change so
            # far is made in it)
            unsure_now = (now == UNKNOWN) & (rung.conditions[cid][rows] == NOT_MET)
            if unsure_now.any() or cid in left_unknown:
                mask = left_unknown.setdefault(cid, np.zeros(rung.ctx.n, dtype=bool))
                mask[rows] = unsure_now
                if left_asked is not None:
                    _asked_after(after, cid, rows, unsure_now, left_asked, rung.ctx.n)
            unmet = now == NOT_MET
            # met before and no longer sure after: a scorecard the changes leave short unless a
            # missing fact (a route's) makes up for it gets the moves its lowest points need
            unsure = (now == UNKNOWN) & (was == MET)
            # met before, and the changes leave its scorecard open (a missing fact or a claim
            # under review decides it now): the moves its sure points need
            reopened = ((now == UNKNOWN) | (now == MANUAL)) & (was == MET)
            if cid in off_path:
                unmet &= ~off_path[cid][rows]
                unsure &= ~off_path[cid][rows]
                reopened &= ~off_path[cid][rows]
            # met before, or left to manual review (the changes fail it whatever the review
            # says: more revenue is another band of a banded rule), or unknown (they fail it
            # whatever the missing fact is), or left unmet by its own changes of amounts made
            # with the others
            broken = (was == MET) | (was == MANUAL) | (was == UNKNOWN) | by_amounts.only(cid, rows)
            hit = np.flatnonzero((unmet & broken) | unsure)
            if len(hit):
                found += _condition_pieces(after, cid, hit, lang)
            if reopened.any():
                found += _open_scorecard_pieces(after, cid, np.flatnonzero(reopened), lang)
        for piece in planned:
            found += _lost_points(after, piece, rows, lang)
        if not found:
            break
        found = [
            dataclasses.replace(p, positions=rows[p.positions], after_changes=True) for p in found
        ]
        by_amounts.add(found)
        found_all += found
        applied += [p for p in found if p.amount_changes()]
        planned += [p for p in found if p.planned is not None]
        again = np.isin(rows, np.concatenate([p.positions for p in found]))
        before = {cid: state[again] for cid, state in after.conditions.items()}
        rows = rows[again]
    return found_all


def _asked_after(
    after: RungEval,
    cid: str,
    rows: np.ndarray,
    where: np.ndarray,
    left_asked: dict[str, dict[str, np.ndarray]],
    n: int,
) -> None:
    """Record in ``left_asked[cid]`` (per name, a mask of the rung's ``n`` rows) the names to
    ask for on rows ``rows[where]``, worked out on the facts after the changes (``after``, on
    rows ``rows``), and clear the rest of ``rows``: the latest round a row is in says what it
    waits on (every change so far is made in it)."""
    by_name = left_asked.setdefault(cid, {})
    for mask in by_name.values():
        mask[rows] = False
    for recheck in (False, True):
        local = np.flatnonzero(where & (after.recheck if recheck else ~after.recheck))
        if not len(local):
            continue
        for name, asked in _asked_names(after.ctx, after, cid, recheck, local).items():
            mask = by_name.setdefault(name, np.zeros(n, dtype=bool))
            mask[rows[local[asked]]] = True


class _ChangedBy:
    """Per condition, the rows whose gaps so far are all changes of amounts (which the
    follow-ups make), and the rows with a gap of another kind (a category, a scorecard's
    moves: not made, so such a condition is not expected to be met after the changes)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.amounts: dict[str, np.ndarray] = {}
        self.other: dict[str, np.ndarray] = {}

    def add(self, pieces: list[Piece]) -> None:
        for p in pieces:
            # row by row: a change that cannot be computed there (a share of zero revenue) is
            # not made by the follow-ups, so its condition is not expected met after them
            made = np.zeros(len(p.positions), dtype=bool)
            if p.kind == "change":
                for _, local, _ in p.amount_changes():
                    made[local] = True
            for kind, rows in ((self.amounts, made), (self.other, ~made)):
                if rows.any():
                    kind.setdefault(p.condition, np.zeros(self.n, dtype=bool))[
                        p.positions[rows]
                    ] = True

    def only(self, cid: str, rows: np.ndarray) -> np.ndarray | bool:
        """Rows (of ``rows``) whose gaps for ``cid`` are all changes of amounts."""
        if cid not in self.amounts:
            return False
        out = self.amounts[cid][rows]
        if cid in self.other:
            out &= ~self.other[cid][rows]
        return out


def _lost_points(after: RungEval, piece: Piece, rows: np.ndarray, lang: str) -> list[Piece]:
    """The changes that bring back the points a scorecard's moves lose elsewhere.

    ``piece`` is the scorecard's (on the rung's rows), ``after`` the rung on rows ``rows`` once
    the changes are made. An indicator below the points planned for it (one the moves did not
    touch, whose value they moved: more main revenue is more revenue, a lower R&D share; or one
    moved, whose band another move undid) gets the cheapest move back to those points.
    """
    assert piece.planned is not None and piece.scorecard is not None
    ctx = after.ctx
    sc = ctx.policy.scorecards[piece.scorecard]
    ev = ctx.scorecard(piece.scorecard)
    at = np.searchsorted(rows, piece.positions)
    inside = (at < len(rows)) & (rows[np.minimum(at, len(rows) - 1)] == piece.positions)
    found: list[Piece] = []
    meets = f" {t('eligibility.meets', lang)} {piece.condition}"
    for k, ind in enumerate(sc.indicators):
        wanted = piece.planned[ind.id][inside]
        with np.errstate(invalid="ignore"):
            short = ev.ind_lo[ind.id][at[inside]] < wanted - 1e-9
        if not short.any():
            continue
        pos = at[inside][short]
        moves = [
            m
            for m in _indicator_moves(ctx, ind, k, pos, sc.edges, lang)
            if m.change is not None and m.change.fact in facts_table()
        ]
        if not moves:
            continue
        cost = np.stack(
            [np.where(m.valid & (m.points >= wanted[short] - 1e-9), m.cost, np.inf) for m in moves]
        )
        best = np.argmin(cost, axis=0)
        reachable = np.isfinite(cost.min(axis=0))
        for mi in np.unique(best[reachable]):
            sel = np.flatnonzero((best == mi) & reachable)
            move = moves[mi]
            assert move.change is not None and move.change_rows is not None
            ch = move.change.subset(np.searchsorted(move.change_rows, sel))
            found.append(_change_piece(pos[sel], piece.condition, meets, ch, lang))
    return found


def _tests_of(rung: RungEval, cid: str, rows: np.ndarray) -> Iterator[tuple[Any, np.ndarray]]:
    """Condition ``cid``'s test and the rows ``rows`` judged on it: a new applicant's, and a
    复核's where the condition has one of its own (none where it is skipped)."""
    if rung.policy.conditions[cid].recheck is None:
        yield rung.test(cid, False), rows
        return
    again = rung.recheck[rows]
    for recheck, sel in ((False, rows[~again]), (True, rows[again])):
        test = rung.test(cid, recheck)
        if len(sel) and test != "skip":
            yield test, sel


def _condition_pieces(rung: RungEval, cid: str, rows: np.ndarray, lang: str) -> list[Piece]:
    """The changes that meet condition ``cid`` on rows ``rows`` (where it is not met), each row
    by its own test (a 复核's where it has one)."""
    return [
        p
        for test, sel in _tests_of(rung, cid, rows)
        for p in _test_pieces(rung.ctx, test, sel, cid, lang, rung)
    ]


def _open_scorecard_pieces(rung: RungEval, cid: str, rows: np.ndarray, lang: str) -> list[Piece]:
    """The moves that lift the scorecards of condition ``cid`` that are open on rows ``rows``
    (unknown, or waiting on a review) from their sure points to the pass mark: met whatever
    the missing fact or the review then says."""
    pieces: list[Piece] = []
    for test, sel in _tests_of(rung, cid, rows):
        for leaf in iter_leaves(test):
            if isinstance(leaf, ScorecardPass):
                state = rung.ctx.state(leaf)[sel]
                open_ = sel[(state == UNKNOWN) | (state == MANUAL)]
                if len(open_):
                    pieces += _scorecard_pieces(rung.ctx, leaf.scorecard, open_, cid, lang)
    return pieces


def _list_texts(
    n: int, items: list[tuple[str, np.ndarray]], separator: str = ", "
) -> tuple[list[str], np.ndarray]:
    """Per row, the names whose mask holds there, joined by ``separator`` ("" when none), as a few
    words and which one each row takes (``words[which]`` is a row's text; ``words[0]`` is "").

    Rows share few combinations: each distinct combination is joined once (the masks of the
    rows that hold any are packed into bits per row, a number each when they fit in 64, and
    made unique; most rows hold none and are not sorted).
    """
    which = np.zeros(n, dtype=np.intp)
    if not items:
        return [""], which
    held = np.stack([mask for _, mask in items], axis=1)
    rows = np.flatnonzero(held.any(axis=1))
    if not len(rows):
        return [""], which
    packed = np.packbits(held[rows], axis=1)
    width = packed.shape[1]
    if width <= 8:  # one 64-bit number a row: unique numbers, not unique byte strings
        padded = np.zeros((len(rows), 8), dtype=np.uint8)
        padded[:, :width] = packed
        uniques, at = np.unique(padded.view(np.uint64).ravel(), return_inverse=True)
        bytes_of = uniques.view(np.uint8).reshape(len(uniques), 8)
    else:
        keys = np.ascontiguousarray(packed).view(f"V{width}").ravel()
        uniques, at = np.unique(keys, return_inverse=True)
        bytes_of = uniques.view(np.uint8).reshape(len(uniques), width)
    names = np.array([name for name, _ in items], dtype=object)
    holds = np.unpackbits(bytes_of, axis=1)[:, : len(names)].astype(bool)
    which[rows] = 1 + at.ravel()
    return ["", *(separator.join(names[row]) for row in holds)], which


def _split_keys(key_of: list[int]) -> bool:
    """Whether some key's pieces are not all next to each other in the list."""
    seen: set[int] = set()
    for k, key in enumerate(key_of):
        if key in seen and key_of[k - 1] != key:
            return True
        seen.add(key)
    return False


def _by_place_of_key(rows: np.ndarray, group: np.ndarray, after: np.ndarray) -> np.ndarray:
    """The order that puts each row's entries (sorted by row, in display order) of one group
    next to each other: at the place of the group's first entry on the row, or of its last
    where one of them is worked out after the changes (``after``), so that the changes it
    follows stay above it."""
    n = len(rows)
    at = np.arange(n)
    pair = np.lexsort((at, group, rows))  # by row, then group, then place
    r, g = rows[pair], group[pair]
    starts = np.r_[True, (r[1:] != r[:-1]) | (g[1:] != g[:-1])]
    run = np.cumsum(starts) - 1  # each entry's run (a group on a row)
    first = pair[starts]
    last = pair[np.r_[starts[1:], True]]
    follows = np.maximum.reduceat(after[pair], np.flatnonzero(starts))
    place = np.where(follows, last, first)  # each run's place
    lead = np.empty(n, dtype=np.int64)
    lead[pair] = place[run]
    return np.lexsort((at, lead, rows))


def join_pieces(
    n: int,
    pieces: list[Piece],
    positions_of: np.ndarray,
    max_gaps: int | None,
    lang: str,
    total: np.ndarray | None = None,
    prefix: str = "",
) -> np.ndarray:
    """One text per row: ``prefix``, then the gaps in order, at most ``max_gaps`` ("N more").

    A row's entries of one condition (and suffix) are one gap, where the first of them is:
    their changes are joined and the condition is named once ("last year's R&D …, last year's R&D
    share … meets sr26_rd"), a follow-up after other conditions' gaps too; what other rows have
    does not matter. ``total`` is each row's number of gaps when some were only counted. Rows
    without a gap shown are ``""``. Returns an object array of ``str`` (the texts of
    :func:`joined_rows`, made into Python strings once).
    """
    out = np.full(n, "", dtype=object)
    rows, text = joined_rows(n, pieces, positions_of, max_gaps, lang, total, prefix)
    out[rows] = text.to_numpy(zero_copy_only=False)
    return out


def joined_rows(
    n: int,
    pieces: list[Piece],
    positions_of: np.ndarray,
    max_gaps: int | None,
    lang: str,
    total: np.ndarray | None = None,
    prefix: str = "",
) -> tuple[np.ndarray, Any]:
    """The texts of :func:`join_pieces` for the rows that show a gap, made by Arrow.

    Returns those rows (ascending) and their texts (an Arrow ``large_string`` array).

    The speed trick of the joined texts: no Python string is made per row. The entries (a
    piece on a row) of all rows are sorted by row once; the texts of the entries kept are made
    by Arrow piece by piece (:meth:`Piece.arrow_texts`) and gathered in row order with one
    ``take``; what goes before and after each entry (the prefix, a separator, a comma, a
    condition's suffix) is gathered from a few strings; each row's entries are then one list
    (its offsets are where the rows start) joined by ``binary_join``, and "N more" is added by
    Arrow too.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    pieces = [p for p in pieces if len(p.positions)]
    none = (np.zeros(0, dtype=np.intp), pa.array([], type=pa.large_string()))
    if not pieces:
        return none
    # a row's entries with the same condition and suffix are one group (one "meets X" for them
    # all): told apart by a key per piece, so that what other rows have does not matter
    keys: dict[tuple[str, str], int] = {}
    key_of = [
        keys.setdefault((p.condition, p.suffix), len(keys)) if p.suffix else -1 - i
        for i, p in enumerate(pieces)
    ]
    sizes = [len(p.positions) for p in pieces]
    after_changes = np.array([p.after_changes for p in pieces])  # per piece: a follow-up's
    rows = np.concatenate([positions_of[p.positions] for p in pieces])
    group = np.repeat(np.array(key_of), sizes)
    pid = np.repeat(np.arange(len(pieces)), sizes)
    local = np.concatenate([np.arange(k) for k in sizes])
    # pieces come in display order: a stable sort by row keeps each row's in that order
    order = np.argsort(rows, kind="stable")
    rows, group, pid, local = rows[order], group[order], pid[order], local[order]
    if _split_keys(key_of):
        # a key's pieces apart in the list (a follow-up after other conditions' gaps): a row's
        # entries of one key are put together, so the condition is named once: where its first
        # is, or its last where one is a follow-up ("after the changes above": they stay above)
        together = _by_place_of_key(rows, group, after_changes[pid])
        rows, group, pid, local = rows[together], group[together], pid[together], local[together]
    new_row = np.r_[True, rows[1:] != rows[:-1]]
    new_group = new_row | np.r_[True, group[1:] != group[:-1]]
    last_of_group = np.r_[new_group[1:], True]
    counted = np.cumsum(new_group)
    row_start = np.flatnonzero(new_row)
    rank = counted - np.repeat(counted[row_start], np.diff(np.r_[row_start, len(rows)]))
    groups_in_row = np.zeros(n, dtype=np.int64)
    groups_in_row[rows[row_start]] = rank[np.r_[row_start[1:] - 1, len(rows) - 1]] + 1
    if max_gaps is not None:
        keep = rank < max_gaps
        rows, pid, local = rows[keep], pid[keep], local[keep]
        new_row, new_group, last_of_group = new_row[keep], new_group[keep], last_of_group[keep]
    if not len(rows):
        return none
    # the texts of the entries kept, made piece by piece (only those), then put in row order;
    # a group says once that it is worked out after the changes, at its first entry that is
    after = after_changes[pid]
    said = ~new_group & np.r_[False, after[:-1]]
    text = _made_by_group(
        pid, lambda i, at: pieces[i].arrow_texts(local[at], said[at]).cast(pa.large_string())
    )
    # what goes before and after each entry, gathered from a few strings
    seps = [prefix, t("eligibility.separator", lang), t("eligibility.comma", lang)]
    before = _worded(seps, np.where(new_row, 0, np.where(new_group, 1, 2)), large=True)
    suffixes = [p.suffix for p in pieces] + [""]
    after = _worded(suffixes, np.where(last_of_group, pid, len(pieces)), large=True)
    nothing = pa.scalar("", pa.large_string())
    entries = pc.binary_join_element_wise(before, text, after, nothing)
    del text, before, after  # each copy of the texts is let go once the next is made
    # each row's entries joined
    starts = np.flatnonzero(new_row)
    shown = rows[starts]
    joined = _joined_runs(entries, starts, "")
    del entries
    if max_gaps is not None:
        if total is not None:
            groups_in_row = np.maximum(groups_in_row, total)
        more = groups_in_row[shown] - max_gaps
        if (more > 0).any():
            # "N more": worded once per distinct N, gathered to the rows ("" where none)
            more = np.maximum(more, 0)
            sep = t("eligibility.separator", lang)
            extra = np.flatnonzero(np.bincount(more))  # the distinct Ns: small whole numbers
            words = [sep + t("eligibility.more", lang, n=int(k)) if k else "" for k in extra]
            at = np.zeros(int(extra[-1]) + 1, dtype=np.intp)
            at[extra] = np.arange(len(extra))
            tail = _worded(words, at[more], large=True)
            joined = pc.binary_join_element_wise(joined, tail, nothing)
    return shown, joined
