"""One firm's 梯度培育 ladder as it is shown to the firm: the app's pre-check page and the report.

:func:`ladder_view` turns a :class:`dmi.eligibility.FirmResult` into plain texts in the result's
language, rung by rung (创新型 → 专精特新 → 小巨人): the status, the scorecard points against the
pass mark, every condition's state with the values behind it (named as the firm knows them:
"资产负债率 81%", never a column code), its source and confidence, the evidence to prepare for a
manual one, the route used, and the gaps in the firm's own numbers. A rung whose title the firm
holds (``RungResult.held``) is drawn as held: no application, no gaps, nothing to prepare; its
conditions are still listed. Condition ids are kept apart
(``ConditionLine.id``, ``GapLine.condition``) so that a page shows them only as a small reference.
The fixed words are the ``ladder.*`` entries of :mod:`dmi.locales`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from dmi.eligibility import (
    FACTS,
    RUNGS,
    ConditionResult,
    FirmResult,
    Policy,
    RungResult,
    citation,
    load_policy,
    status_label,
)
from dmi.eligibility.gaps import rounded
from dmi.eligibility.policy import Compare, document_titles, iter_leaves
from dmi.locales import text

__all__ = [
    "ConditionLine",
    "GapLine",
    "RungView",
    "confidence_note",
    "documents_cited",
    "fact_value_text",
    "ladder_view",
    "left_out",
    "number_text",
    "rules_of",
    "status_text",
    "unit_label",
]

# units written after a number, per language ("" = none): counts go bare in English
_UNITS = {
    "zh": {},
    "en": {"年": " years", "人": "", "项": "", "名": "", "级": "", "分": " points"},
}
_CODE = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class ConditionLine:
    """One condition (or route) of a rung, as the firm reads it."""

    id: str
    kind: str  # condition | direct | exemption
    state: str  # met | not_met | unknown | manual | "" (not assessed)
    state_text: str
    label: str
    values: str  # the values behind it, e.g. "资产负债率 81%"
    source: str  # "依据 2号附件1 · 来自汇编，待核实（I）"
    via: str | None  # "由 … 替代" when a route or exemption replaced it
    evidence: str | None  # what to prepare for a manual review


@dataclass(frozen=True)
class GapLine:
    """One gap: what would change, in the firm's own numbers; ``condition`` is the reference,
    ``also`` those of the other conditions the same change meets (named by label in ``text``)."""

    condition: str
    kind: str  # change | points | missing | manual
    text: str
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class RungView:
    """One rung, every text in the result's language."""

    rung: str
    label: str
    status: str  # eligible | not_yet | unknown | manual
    status_text: str  # a title held: "已持有该称号"
    meta: str  # "2026 版 · 新申请"; a title held: its evaluation, "按 2026 版各项条件评估：…"
    points: str | None  # "评价得分 45 分（及格线 60 分）"
    groups: tuple[str, ...]  # the scorecard's groups with their points and floors
    # per group (in ``groups``' order), its indicators with their points: "数字化水平 3/5 分"
    indicators: tuple[tuple[str, ...], ...]
    route: str | None  # the direct route or exemption used
    path: str | None  # which of a rung's ways was assessed (创新型 / 科技型)
    conditions: tuple[ConditionLine, ...]
    routes: tuple[ConditionLine, ...]
    gaps: tuple[GapLine, ...]  # none for a title held
    held: bool = False  # the firm holds the title (``RungResult.held``): no application


def status_text(status: str, lang: str) -> str:
    """A rung's status (``eligible``, ``not_yet``, ``unknown``, ``manual``) in words, as a
    heading: the words of :func:`dmi.eligibility.status_label` (the same on every page, file
    and report), an English one capitalised."""
    words = status_label(str(status), lang)
    return words[:1].upper() + words[1:] if lang == "en" else words


def number_text(value: float, apart: tuple[float, ...] = ()) -> str:
    """A number with at most two decimals, trailing zeros dropped (3.333… → 3.33, 80.0 → 80),
    and more where two would put it on another side of a number in ``apart`` (a threshold it is
    compared with, another value it must not be taken for): 79.995 beside 80 is 79.995, not the
    80 it does not reach."""
    value = float(value)
    for decimals in range(2, 16):
        # rounded as the gaps round (605.035 is 605.04 in both, not round()'s 605.03)
        shown = f"{float(rounded(np.array([value]), decimals)[0]):.15g}"
        back = float(shown)  # the number as shown, on the side of each that the value is
        if all((back < a) == (value < a) and (back == a) == (value == a) for a in apart):
            return shown
    return repr(value + 0.0)  # apart only past 15 digits: every digit


def _unit(unit: str | None, lang: str) -> str:
    if not unit:
        return ""
    return _UNITS[lang].get(unit, unit)


def unit_label(unit: str | None, lang: str) -> str:
    """A fact's unit as a form's label says it in ``lang`` ("" where a count needs none in
    English: Staff, not Staff (人))."""
    return _unit(unit, lang).strip()


def fact_value_text(code: str, value: Any, lang: str, apart: tuple[float, ...] = ()) -> str:
    """A fact's value as the form shows it: a category's label, 是/否, a number with its unit
    (kept ``apart`` from some numbers, see :func:`number_text`)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return text("ladder.no_value", lang)
    if code in FACTS:
        fact = FACTS[code]
        if fact.type == "category":
            for v in fact.values:
                if v.value == value:
                    return v.label(lang)
            return str(value)
        if fact.type == "yesno":
            if value == "yes":
                return text("ladder.answer_yes", lang)
            return text("ladder.answer_no", lang)
        if fact.type == "number":
            return number_text(value, apart) + _unit(fact.unit, lang)
    return str(value)


def _value_text(
    name: str,
    value: Any,
    metrics: dict[str, Any],
    lang: str,
    apart: tuple[float, ...] = (),
    refused: Mapping[str, Any] | None = None,
) -> str:
    refused = refused or {}
    if name in FACTS and value is None and name in refused:
        # typed, and refused by the facts' rules: left out as unknown, not "not given"
        label = FACTS[name].short_label(lang)
        shown = _refused_text(name, refused[name], lang)
    elif name in FACTS:
        label = FACTS[name].short_label(lang)
        shown = fact_value_text(name, value, lang, apart)
        if FACTS[name].type == "yesno" and lang == "en":
            shown = shown.lower()  # "SME yes", as "innovative title yes (valid)" reads
    elif name in metrics:
        metric = metrics[name]
        label = metric.short.get(lang) if metric.short else metric.label(lang)
        typed = _refused_inputs(name, metrics, refused)
        if value is None and typed:
            # worked out from a value refused: said so, not "not given" (主营收入占比 —（上年主营
            # 收入 2500万元（未采纳））)
            said = text("ladder.list_sep", lang).join(
                text(
                    "ladder.value",
                    lang,
                    label=FACTS[c].short_label(lang),
                    value=_refused_text(c, refused[c], lang),
                )
                for c in typed
            )
            shown = text("ladder.value_from_refused", lang, values=said)
        elif value is None:
            shown = text("ladder.no_value", lang)
        elif isinstance(value, float) and math.isnan(value):  # given, but a share of 0
            shown = text("eligibility.undefined_bare", lang)
        else:
            shown = number_text(value, apart) + _unit(metric.unit, lang)
    else:
        label, shown = name, str(value)
    return text("ladder.value", lang, label=label, value=shown)


def _refused_text(code: str, value: Any, lang: str) -> str:
    """A value the facts' rules refused, as typed, said so: a number as the form writes it,
    with its unit (180 %, not 180.0), anything else as it is."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and math.isfinite(value) and FACTS[code].type == "number":
        value = fact_value_text(code, value, lang)
    return text("ladder.value_refused", lang, value=value)


def _refused_inputs(name: str, metrics: dict[str, Any], refused: Mapping[str, Any]) -> list[str]:
    """The refused facts a metric is worked out from (through the metrics it is worked out
    from), in ``of``'s order."""
    found: list[str] = []
    queue, seen = [name], set()
    while queue:
        current = queue.pop(0)
        if current in seen:
            continue
        seen.add(current)
        if current in metrics:
            queue += list(metrics[current].of)
        elif current in refused and current in FACTS:
            found.append(current)
    return found


def _thresholds(rule: Any) -> dict[str, tuple[float, ...]]:
    """Per fact or metric, the thresholds a condition's (or a route's) tests compare it with."""
    tests = [o.test for o in rule.options] if hasattr(rule, "options") else [rule.test]
    if getattr(rule, "recheck", None) not in (None, "skip"):
        tests.append(rule.recheck)
    found: dict[str, tuple[float, ...]] = {}
    for test in tests:
        for leaf in iter_leaves(test):
            if isinstance(leaf, Compare):
                found[leaf.of] = (*found.get(leaf.of, ()), float(leaf.threshold))
    return found


def _values(
    cond: ConditionResult,
    metrics: dict[str, Any],
    lang: str,
    thresholds: dict[str, tuple[float, ...]] | None = None,
    scorecard: Any = None,
    refused: Mapping[str, Any] | None = None,
) -> str:
    """The values behind a condition, each on its side of the thresholds it is compared with
    (a value ``refused``, fact code -> as typed, said as refused);
    the rung's ``scorecard`` (a :class:`~dmi.eligibility.ScorecardResult`) not yet sure as its
    range, as the rung's header says it."""
    apart = thresholds or {}
    parts = []
    values = dict(cond.values)
    for key in list(values):
        if key.endswith("_points") and key.removesuffix("_points") + "_pass_mark" in values:
            sid = key.removesuffix("_points")
            points, mark = values.pop(key), values.pop(f"{sid}_pass_mark")
            if scorecard is not None and scorecard.id == sid and scorecard.points is None:
                shown = _points_range(scorecard, lang)
            elif cond.state == "unknown":  # the lower bound while a fact it needs is missing
                shown = f"≥ {number_text(points, (mark,))}"
            else:
                shown = number_text(points, (mark,))
            parts.append(text("ladder.points", lang, points=shown, pass_mark=number_text(mark)))
            # a group short of its floor fails the scorecard whatever the total: said which
            for group, low, high, floor, strict in values.pop(f"{sid}_floors_short", ()):
                got = (
                    number_text(high)
                    if low == high
                    else text(
                        "ladder.points_range", lang, low=number_text(low), high=number_text(high)
                    )
                )
                said = {"group": group, "points": got, "floor": number_text(floor)}
                parts.append(
                    text("ladder.floor_above", lang, **said)
                    if strict
                    else text("ladder.floor_at_least", lang, **said)
                )
    # a fact not asked beside the one before it (an award's year without an award) is not
    # said "not given": the form skipped it, by the facts table's skipped_when
    shown = {k: v for k, v in values.items() if not (k in FACTS and FACTS[k].skipped(values))}
    parts += [_value_text(k, v, metrics, lang, apart.get(k, ()), refused) for k, v in shown.items()]
    return text("ladder.list_sep", lang).join(parts)


def _source(cond: Any, lang: str) -> str:
    mark = cond.confidence
    confidence = text(f"ladder.confidence_{mark}", lang)
    # the documents only: the notes after them are for researchers, in the rule file's words
    return text(
        "ladder.source", lang, source=citation(cond.source, lang), confidence=confidence, mark=mark
    )


def _route_name(policy: Any, used: str, lang: str) -> str:
    """``"in22_direct:high_tech"`` as the route's label and the option's."""
    rid, _, option = used.partition(":")
    route = policy.routes.get(rid)
    if route is None:
        return used
    for o in route.options:
        if o.id == option:
            return text("ladder.route_option", lang, route=route.label(lang), option=o.label(lang))
    return route.label(lang)


def _gap_line(gap: Any, rung: RungResult, lang: str) -> GapLine:
    # labels hold commas ("Revenue, the year before"): joined by what none of them holds
    sep = text("ladder.item_sep", lang)
    if gap.kind == "missing":
        codes = [c for c in _CODE.findall(gap.text.partition("：" if lang == "zh" else ":")[2])]
        labels = [FACTS[c].label(lang) for c in codes if c in FACTS]
        return GapLine("", "missing", text("ladder.gap_missing", lang, facts=sep.join(labels)))
    if gap.kind == "manual":
        labels = []
        for cid in _CODE.findall(gap.text.partition("：" if lang == "zh" else ":")[2]):
            try:
                labels.append(rung.condition(cid).label)
            except KeyError:
                continue
        return GapLine("", "manual", text("ladder.gap_manual", lang, items=sep.join(labels)))
    shown = gap.text
    cid = gap.condition
    also: tuple[str, ...] = ()
    # a follow-up's "after the changes above, " stays said, before the rest read as any gap's
    after = text("eligibility.after_changes", lang)
    follow_up = shown.startswith(after)
    shown = shown.removeprefix(after)
    if cid:
        # "…, needed for sr26_main" (a value that cannot be computed): the condition by label
        needed = text("eligibility.needed_for", lang, cid=cid)
        named = {c.id: c.label for c in rung.conditions + rung.routes}
        if shown.endswith(needed) and cid in named:
            shown = shown[: -len(needed)] + text("eligibility.needed_for", lang, cid=named[cid])
        # "SME: no, which fails base_sme (a bar, …)": the condition by label too
        bar = text("eligibility.fixed_bar", lang, cid=cid)
        if shown.endswith(bar) and cid in named:
            shown = shown[: -len(bar)] + text("eligibility.fixed_bar", lang, cid=named[cid])
        # the engine's text names conditions by their ids ("sr26_debt: …", "in22_score [group
        # 15 → 20]: …" / "in22_score【…】：…", "… meets sr26_debt", "… meets lg26_main,
        # lg26_rev" for one change that meets both): the ids stay references beside the line,
        # another condition met is named by its label
        shown = re.sub(rf"^{re.escape(cid)}(?:\s*[:：]\s*|\s*(?=[\[【]))", "", shown)
        # "…, in place of sr22_score" (a direct route's change): the conditions by label, said
        # after the line as what the route stands in place of
        head, _, tail = text("eligibility.in_place_of", lang, cids="\x00").partition("\x00")
        instead = ""
        if shown.endswith(tail) and head in shown:
            at = shown.rindex(head)
            ids = re.split(
                re.escape(text("eligibility.comma", lang)),
                shown[at + len(head) : len(shown) - len(tail)],
            )
            labels = [named[i] for i in ids if i in named]
            if len(labels) == len(ids):
                shown = shown[:at]
                instead = text("ladder.gap_in_place_of", lang, conditions=sep.join(labels))
        comma = re.escape(text("eligibility.comma", lang))
        # ... and "(then manual review)" after them, which stays said
        then = text("eligibility.then_manual", lang)
        meets = re.compile(
            rf"\s+{re.escape(text('eligibility.meets', lang))}\s+"
            rf"(?P<ids>{_CODE.pattern}(?:{comma}{_CODE.pattern})*)(?P<then>{re.escape(then)})?$"
        )
        found = meets.search(shown)
        if found and cid in re.split(comma, found["ids"]):
            shown = shown[: found.start()] + (then if found["then"] else "")
            also = tuple(c for c in re.split(comma, found["ids"]) if c != cid)
            labels = [c.label for c in rung.conditions + rung.routes if c.id in also]
            if labels:
                items = text("ladder.item_sep", lang).join(labels)
                shown += text("ladder.gap_also", lang, conditions=items)
        shown += instead
    return GapLine(cid, gap.kind, (after if follow_up else "") + shown.strip(), also)


def _points_range(sc: Any, lang: str) -> str:
    """A scorecard's points not yet sure: "85–90" (each on its side of the pass mark)."""
    return text(
        "ladder.points_range",
        lang,
        low=number_text(sc.points_at_least, (sc.pass_mark,)),
        high=number_text(sc.points_at_most, (sc.pass_mark,)),
    )


def _points_of(part: Any, lang: str) -> str:
    """A group's or an indicator's points of its most: "3/5 分", "≥ 3/5 分" while not sure (a
    group's on its side of its floor)."""
    floor = getattr(part, "floor", None)
    apart = () if floor is None else (float(floor),)
    got = (
        number_text(part.points, apart)
        if part.points is not None
        else f"≥ {number_text(part.points_at_least, apart)}"
    )
    return text(
        "ladder.group_points", lang, group=part.label, points=got, most=number_text(part.max_points)
    )


def _waiting_on(
    cond: ConditionResult, routes: Iterable[ConditionResult], policy: Any, lang: str
) -> str | None:
    """For a condition not met on its own and unknown only for a route that would replace it:
    that route and the facts it waits on (:attr:`ConditionResult.waits_on`); else None. Its
    own values all fail, and "缺少数据" beside them said nothing of what was missing."""
    if not cond.waits_on:
        return None
    sep = text("ladder.item_sep", lang)
    waiting = [
        r.label
        for r in routes
        if r.state == "unknown"
        and r.id in policy.routes
        and cond.id in policy.routes[r.id].replaces
    ]
    facts = [FACTS[k].label(lang) for k in cond.waits_on if k in FACTS]
    return text("ladder.waits_on_route", lang, routes=sep.join(waiting), facts=sep.join(facts))


def _line(
    cond: ConditionResult,
    names: dict[str, str],
    policy: Any,
    lang: str,
    scorecard: Any = None,
    held: bool = False,
    refused: Mapping[str, Any] | None = None,
    routes: Iterable[ConditionResult] = (),
):
    state = cond.state or "skipped"
    rule = policy.conditions.get(cond.id) or policy.routes.get(cond.id)
    return ConditionLine(
        id=cond.id,
        kind=cond.kind,
        state=cond.state,
        state_text=text(f"ladder.state_{state}", lang),
        label=cond.label,
        values=_values(
            cond,
            dict(policy.metrics),
            lang,
            None if rule is None else _thresholds(rule),
            scorecard,
            refused,
        ),
        source=_source(cond, lang),
        via=(
            text("ladder.replaced_by", lang, route=names.get(cond.via, cond.via))
            if cond.via
            # a title held is no application: nothing is missing (as its gaps)
            else None
            if held
            else _waiting_on(cond, routes, policy, lang)
        ),
        # what to prepare, only for a condition left to a reviewer (met another way, or not met
        # at all, the papers of its manual way are not needed), and not for a title held
        evidence=(
            text("ladder.evidence", lang, items=text("ladder.list_sep", lang).join(cond.evidence))
            if cond.evidence and cond.state == "manual" and not held
            else None
        ),
    )


def _meta(r: RungResult, applicant: str, lang: str) -> str:
    """The rules applied and to whom (a title held: that it is held, the rules its conditions
    are listed by); with the routing that chose them, its source and mark (a 2026 小巨人 复核
    judged under 2022: as sure as that routing is)."""
    if r.held:
        meta = text(
            "ladder.rung_meta_held", lang, policy=r.policy, status=status_label(r.status, lang)
        )
    else:
        meta = text("ladder.rung_meta", lang, policy=r.policy, applicant=applicant)
    if r.routing_source is None or r.routing_confidence is None:
        return meta
    mark = r.routing_confidence
    confidence = text(f"ladder.confidence_{mark}", lang)
    routing = text(
        "ladder.routing",
        lang,
        source=citation(r.routing_source, lang),
        confidence=confidence,
        mark=mark,
    )
    return f"{meta} · {routing}"


def _rung_view(r: RungResult, lang: str, refused: Mapping[str, Any] | None = None) -> RungView:
    held = r.held
    policy = rules_of(r)  # the file whose rung was applied
    names = {}
    for cond in r.routes:
        if cond.via:
            names[cond.via] = _route_name(policy, cond.via, lang)
    points = None
    groups: tuple[str, ...] = ()
    indicators: tuple[tuple[str, ...], ...] = ()
    if r.scorecard is not None:
        sc = r.scorecard
        shown = (
            number_text(sc.points, (sc.pass_mark,))
            if sc.points is not None
            else _points_range(sc, lang)
        )
        points = text("ladder.points", lang, points=shown, pass_mark=number_text(sc.pass_mark))
        group_texts = []
        for g in sc.groups:
            line = _points_of(g, lang)
            if g.floor is not None:
                line += text("ladder.group_floor", lang, floor=number_text(g.floor))
            group_texts.append(line)
        groups = tuple(group_texts)
        indicators = tuple(
            tuple(_points_of(i, lang) for i in sc.indicators if i.group == g.id) for g in sc.groups
        )
    route = None
    if r.route_used:
        rid = r.route_used.partition(":")[0]
        kind = policy.routes[rid].kind if rid in policy.routes else "direct"
        name = _route_name(policy, r.route_used, lang)
        if kind == "direct":
            route = text("ladder.route_used", lang, route=name)
        else:
            route = text("ladder.exemption_used", lang, route=name)
    path = None
    spec = policy.rungs[r.rung]
    if r.path and len(spec.paths) > 1:
        for p in spec.paths:
            if p.id == r.path:
                path = text("ladder.path_used", lang, path=p.zh if lang == "zh" else p.en)
    who = r.applicant
    applicant = text(f"ladder.applicant_{who}", lang)
    return RungView(
        rung=r.rung,
        label=r.label,
        status=r.status,
        # a title held is said as held, first: its evaluation is only for reference (the meta
        # line's); "信息不足" at the head of a title the firm holds read as something missing
        status_text=text("ladder.status_held", lang) if held else status_text(r.status, lang),
        meta=_meta(r, applicant, lang),
        points=points,
        groups=groups,
        indicators=indicators,
        route=route,
        path=path,
        conditions=tuple(
            _line(c, names, policy, lang, r.scorecard, held, refused, r.routes)
            for c in r.conditions
        ),
        # a route's own line says its state: "replaced by" is for what it replaces
        routes=tuple(
            replace(_line(c, names, policy, lang, r.scorecard, held, refused), via=None)
            for c in r.routes
        ),
        # a title held is no application: nothing is missing
        gaps=() if held else tuple(_gap_line(g, r, lang) for g in r.gaps),
        held=held,
    )


def left_out(refused: Any, lang: str, on_the_page: bool = True) -> str:
    """What is said once beside the ladder when values were refused (``refused``: fact code ->
    the value as typed): which facts were left out as unknown (in the form's order), until they
    are put right, under their fields (``on_the_page``, the pre-check's own) or on the
    pre-check page (the results page's and the report's)."""
    names = [f.label(lang) for f in FACTS if f.code in refused]
    names += [code for code in refused if code not in FACTS]
    facts = text("ladder.item_sep", lang).join(names)
    if on_the_page:
        return text("ladder.left_out", lang, facts=facts)
    return text("ladder.left_out_elsewhere", lang, facts=facts)


def ladder_view(result: FirmResult, refused: Mapping[str, Any] | None = None) -> list[RungView]:
    """The firm's ladder, rung by rung (创新型 → 专精特新 → 小巨人), in ``result.lang``; a title
    the firm holds (``RungResult.held``) drawn as held, its status the result's. ``refused``
    (fact code -> the value as typed) are the values the facts' rules refused, left out of
    ``result`` as unknown: a condition's values say them as refused, not as not given."""
    return [_rung_view(result[rung], result.lang, refused) for rung in RUNGS]


def confidence_note(lang: str) -> str:
    """What each mark beside a rule (V, I, U) means, by the words shown with it."""
    marks = {m: text(f"ladder.confidence_{m}", lang) for m in ("V", "I", "U")}
    return text("ladder.confidence_note", lang, **marks)


def rules_of(result: FirmResult | RungResult) -> Policy:
    """The loaded rules a firm (or one of its rungs) was evaluated under: those it carries
    (a rule file of one's own, whatever id it shares), else the shipped ones of its id."""
    if result.rules is not None:
        return result.rules
    if isinstance(result, RungResult):
        return load_policy(result.defined_in or result.policy)
    return load_policy(result.policy)


def documents_cited(result: FirmResult) -> list[str]:
    """The documents the firm's ladder cites (its rungs', conditions', routes' and routings'
    sources), each once, by its title in the rule file that applied it, in ``result.lang``
    (``No. 2: 工信部企业〔2026〕2号《优质中小企业梯度培育管理办法》…``): the page and the report
    cite ``No. 2 annex 1`` beside each rule, which a reader could not look up."""
    sources: list[str] = []
    documents: dict[str, str] = {}  # of every file a rung's rules come from (39号 is named by
    for rung in RUNGS:  # the 2022 file, whose 创新型 rules the 2026 file imports)
        r = result[rung]
        sources += [r.source, *(c.source for c in (*r.conditions, *r.routes))]
        if r.routing_source:
            sources.append(r.routing_source)
        for key, title in rules_of(r).documents_drawn_on().items():
            documents.setdefault(key, title)
    return document_titles(documents, sources, result.lang)
