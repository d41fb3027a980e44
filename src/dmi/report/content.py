"""What the company report says: its sections, built once from an assessment, whatever the format.

:func:`build_report` turns an :class:`~dmi.results.assess.Assessment` into a :class:`Report`:
the index and level with the reason for the level, the dimension scores with their weights and a
bar chart (against the peer group's median when peers are known), the peer percentile, the
support tier, the next-best improvements, the points of every item, the change since an earlier
submission and a note on the method. Its blocks (:class:`Para`, :class:`Table`, :class:`Cards`,
:class:`Chart`) hold plain text: :mod:`dmi.report.html` and :mod:`dmi.report.pdf` escape it as
their format needs. The fixed texts are the ``report.*`` entries of :mod:`dmi.locales`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from dmi.eligibility import FirmResult
from dmi.errors import UsageError
from dmi.instruments import Instrument, Item
from dmi.instruments.items import item_type
from dmi.locales import LANGS, text
from dmi.results.assess import Assessment, NodeScore
from dmi.results.ladder import (
    confidence_note,
    documents_cited,
    ladder_view,
    left_out,
    rules_of,
)
from dmi.scoring.levels import band_ranges, format_index

__all__ = [
    "Cards",
    "Chart",
    "Para",
    "PreviousResult",
    "Report",
    "Section",
    "Table",
    "build_ladder_report",
    "build_report",
    "confidence_phrase",
    "format_score",
    "is_nan",
    "peer_group_label",
    "plain_number",
    "tier_sentences",
    "wide",
]


@dataclass(frozen=True)
class PreviousResult:
    """A company's earlier result, for the "change since" section.

    Attributes
    ----------
    dmi
        The earlier index (0-100).
    level
        The earlier level number.
    dimensions
        Dimension code (``foundation`` or ``dim_foundation``) -> earlier score (0-100).
    submitted_at
        When the earlier answers were submitted (shown as a date), or None.
    tier
        The earlier support tier, or None.
    method
        The :attr:`~dmi.IndexModel.method_id` of the index that gave ``dmi``; None when not
        known (then the caller vouches that it is the method of the result it is compared with).
    """

    dmi: float
    level: int
    dimensions: Mapping[str, float] = field(default_factory=dict)
    submitted_at: datetime | date | str | None = None
    tier: int | None = None
    method: str | None = None

    @classmethod
    def from_assessment(
        cls, assessment: Assessment, submitted_at: datetime | date | str | None = None
    ) -> PreviousResult:
        """The earlier result from an earlier :class:`~dmi.results.assess.Assessment`."""
        return cls(
            assessment.dmi,
            assessment.level,
            dict(assessment.dimensions),
            submitted_at,
            assessment.tier.tier if assessment.tier is not None else None,
            assessment.method or None,
        )

    def comparable(self, assessment: Assessment) -> bool:
        """Whether a difference from ``assessment`` is a change of the company: False when the
        two indices come from different methods (or fits), whose difference says nothing."""
        return self.method is None or not assessment.method or self.method == assessment.method

    def dimension(self, code: str) -> float | None:
        """The earlier score of dimension ``code``, or None when it is not known."""
        value = self.dimensions.get(code, self.dimensions.get(f"dim_{code}"))
        return None if value is None or is_nan(value) else float(value)


# -- the content, independent of the output format -------------------------------------------


@dataclass
class Para:
    """A paragraph (or a small heading: ``style="heading3"``)."""

    text: str
    style: str = "normal"  # normal | lead | note | heading3


@dataclass
class Table:
    """A table of texts; ``kinds`` marks the rows of the per-item table's levels."""

    header: list[str] | None
    rows: list[list[str]]
    align: list[str]  # "l" or "r" per column
    kinds: list[str] = field(default_factory=list)  # per row: row | group | subgroup
    widths: list[float] = field(default_factory=list)  # relative column widths


@dataclass
class Cards:
    """The headline numbers, side by side."""

    cards: list[tuple[str, str, str]]  # (label, value, note)


@dataclass
class Chart:
    """Horizontal grouped bars on a 0-100 axis, one group per category."""

    title: str
    categories: list[str]
    series: list[tuple[str, list[float | None], str]]  # (name, values, colour)


@dataclass
class Section:
    """A titled part of the report."""

    title: str
    blocks: list[Any]


@dataclass
class Report:
    """The whole report: title, header lines (label, value) and sections."""

    lang: str
    title: str
    meta: list[tuple[str, str]]
    sections: list[Section]


_BLUE = "#1f5fa8"
_GREY = "#9aa4b1"


def wide(value: str) -> bool:
    """True when a card value is too wide for the large type (CJK characters count double)."""
    return sum(2 if ord(c) > 0x2E7F else 1 for c in value) > 10


def is_nan(value: Any) -> bool:
    """True for a NaN; False for anything that is not a number."""
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or is_nan(value)


def format_score(value: float | None) -> str:
    """A score with one decimal (rounded as the level explanation rounds), or a dash; an index
    value, beside a level, is written with :func:`_index`."""
    return format_index(None if value is None or is_nan(value) else float(value))


def _pts(value: float | None) -> str:
    """Points with up to three decimals, trailing zeros dropped (15.55, 1.875, 5)."""
    if value is None or is_nan(value):
        return "—"
    out = f"{float(value):.3f}".rstrip("0").rstrip(".")
    return "0" if out in ("-0", "") else out


def plain_number(value: Any) -> str:
    """A number as people write it: 85 (not 85.00 or 85.0), 12.5, 0.125; a dash when missing;
    text that is no number stays as it is."""
    if _missing(value):
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.6f}".rstrip("0").rstrip(".")


def peer_group_label(instrument: Instrument, group: Mapping[str, Any], lang: str) -> str:
    """A peer group as people name it: its profile values' labels ("通用设备制造业 · 小型企业"),
    never field=code; a value the instrument does not name stays as given. The empty group (every
    reference company) is named as such."""
    if not group:
        return text("report.peers_all", lang)
    shown = []
    for code, value in group.items():
        label = str(value)
        try:
            spec = instrument.profile_field(code)
        except KeyError:
            spec = None
        for option in spec.options if spec is not None else ():
            if option.value.casefold() == label.strip().casefold():
                label = option.zh if lang == "zh" else option.en
                break
        shown.append(label)
    return text("report.group_sep", lang).join(shown)


def confidence_phrase(confidence: float, lang: str) -> str:
    """The tier's membership confidence (0-1) said in words: clearly in the tier, fairly
    clearly, or near the border with a neighbouring tier (where a small change of scores could
    move the company)."""
    if confidence >= 0.5:
        return text("report.confidence_high", lang)
    if confidence >= 0.2:
        return text("report.confidence_mid", lang)
    return text("report.confidence_low", lang)


def tier_sentences(tier: Any, lang: str) -> list[str]:
    """The tier explanation's sentences after its first two (which tier, with the confidence as
    a number, and its support package): a page or report says those once, in its own words."""
    sentences = list(tier.zh if lang == "zh" else tier.en)
    label = tier.label
    support = label.support_zh if lang == "zh" else label.support_en
    said = {
        text(
            "tiers.tier",
            lang,
            tier=tier.tier,
            k=tier.n_tiers,
            label=label.name(lang),
            conf=tier.confidence,
        ),
        text("tiers.support", lang, support=support),
    }
    return [s for s in sentences if s not in said]


def _band_legend(instrument: Instrument, lang: str) -> str:
    """Every band's name and range on the levels' scale, by their edge convention."""
    return text("report.list_sep", lang).join(band_ranges(instrument, lang))


def _index(value: float | None, instrument: Instrument) -> str:
    """An index value: one decimal, never written across a band edge (see
    :func:`dmi.scoring.levels.format_index`)."""
    return format_index(value, instrument)


def _signed(value: float, digits: int = 1) -> str:
    rounded = round(float(value), digits)
    if rounded == 0:
        return f"{0:.{digits}f}"
    return f"{rounded:+.{digits}f}"


def _when(value: datetime | date | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, (datetime, date)):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _level_name(instrument: Instrument, level: int, lang: str) -> str:
    try:
        band = instrument.level_band(int(level))
    except (KeyError, TypeError, ValueError):
        return str(level)
    return band.zh if lang == "zh" else band.en


_OFFICIAL_CODE = re.compile(r"[A-Z]?\d+|[A-Z]")
"""A code of an official classification (GB/T 4754's C34, GB/T 2260's 44, NACE's section C)."""


def _profile_value(instrument: Instrument, code: str, value: Any, lang: str) -> tuple[str, str]:
    """(field label, value label) of a profile field; unknown codes and values stay as given.
    An option's value follows its label where it is an official code (the sector's C34 or NACE
    section C, the province's 44), not dmi's own names of options (``small``, ``3m_20m``)."""
    try:
        spec = instrument.profile_field(code)
    except KeyError:
        return code, str(value)
    label = spec.zh if lang == "zh" else spec.en
    shown = str(value)
    for option in spec.options:
        if option.value.casefold() == shown.strip().casefold():
            named = option.zh if lang == "zh" else option.en
            if not _OFFICIAL_CODE.fullmatch(option.value):
                return label, named
            return label, text("report.with_note", lang, value=named, note=option.value)
    return label, shown


def _answer_text(instrument: Instrument, item: Item, answer: Any, lang: str) -> str:
    """An answer as the respondent gave it, with the option labels it stands for."""
    if _missing(answer):
        return ""
    parts = item_type(item).describe(item, instrument, str(answer).strip(), lang)
    return text("report.list_sep", lang).join(
        shown if label is None else f"{shown}: {label}" for shown, label in parts
    )


def build_report(
    assessment: Assessment,
    instrument: Instrument,
    lang: str,
    previous: PreviousResult | None,
    reference_version: str | None,
    generated_at: datetime | date | str | None,
    company_name: str | None,
    answers: Mapping[str, Any] | None,
    ladder: FirmResult | None = None,
    ladder_refused: Mapping[str, Any] | None = None,
    ladder_cautions: Sequence[str] = (),
) -> Report:
    """The report's content in ``lang``; the parameters are those of
    :func:`dmi.report.render_html`.

    Raises
    ------
    ValueError
        When ``lang`` is not a report language, or ``ladder`` was evaluated in another one.
    """
    if lang not in LANGS:
        raise UsageError(f"report language must be one of {', '.join(LANGS)}, got {lang!r}")
    if ladder is not None and ladder.lang != lang:
        raise UsageError(
            f"the ladder result is in {ladder.lang!r} but the report in {lang!r}: "
            f"evaluate it with lang={lang!r}"
        )
    t = lambda key, **kw: text(key, lang, **kw)  # noqa: E731
    name_of = (lambda n: n.zh) if lang == "zh" else (lambda n: n.en)
    answers = dict(answers or {})
    known = {**{k: v for k, v in assessment.scores_row.items() if not _missing(v)}, **answers}

    # -- header --------------------------------------------------------------------------------
    meta: list[tuple[str, str]] = []
    name = company_name if not _missing(company_name) else known.get("company_name")
    if not _missing(name):
        meta.append((t("report.company"), str(name)))
    rid = known.get("respondent_id", assessment.respondent_id)
    if not _missing(rid) and str(rid) != "company":  # "company": assess()'s placeholder
        meta.append((t("report.respondent_id"), str(rid)))
    for spec in instrument.profile:
        if spec.type == "choice" and not _missing(known.get(spec.code)):
            meta.append(_profile_value(instrument, spec.code, known[spec.code], lang))
    meta.append(
        (t("report.date"), _when(generated_at if generated_at is not None else datetime.now()))
    )
    title = instrument.title.get(lang)
    named = t("report.instrument_value", title=title, id=instrument.id, version=instrument.version)
    meta.append((t("report.instrument"), named))
    meta.append(
        (
            t("report.reference_version"),
            str(reference_version) if reference_version else t("report.not_recorded"),
        )
    )

    sections: list[Section] = []
    peers = assessment.peers
    tier = assessment.tier
    level_label = assessment.level_label.get(lang) or _level_name(
        instrument, assessment.level, lang
    )

    # -- result --------------------------------------------------------------------------------
    if assessment.official:
        cards = [
            (t("report.index"), _index(assessment.dmi, instrument), t("report.of_100")),
            (t("report.level"), level_label, ""),
        ]
    else:  # the official index and level first; the research index only with its band
        band = _level_name(instrument, assessment.indicative_level, lang)
        cards = [
            (
                t("report.official_index"),
                _index(assessment.official_dmi, instrument),
                t("report.of_100"),
            ),
            (t("report.level"), level_label, ""),
            (
                t("report.research_index"),
                _index(assessment.dmi, instrument),
                f"{t('report.indicative_level')}{text('report.colon', lang)}{band}",
            ),
        ]
    if tier is not None:
        cards.append(
            (
                t("report.tier"),
                tier.label.name(lang),
                t("report.tier_of", tier=tier.tier, n=tier.n_tiers),
            )
        )
    if peers is not None and "dmi" in peers.percentile:
        p = f"{peers.percentile['dmi']:.0f}"
        cards.append((t("report.percentile"), p, t("report.percentile_value", p=p)))
    why = assessment.level_explanation.zh if lang == "zh" else assessment.level_explanation.en
    sections.append(
        Section(
            t("report.result"), [Cards(cards), Para(t("report.why_level"), "heading3"), Para(why)]
        )
    )

    # -- dimensions ----------------------------------------------------------------------------
    dim_nodes = [n for n in assessment.nodes if n.level == "dimension"]
    header = [t("report.dimension"), t("report.weight"), t("report.score")]
    align = ["l", "r", "r"]
    if peers is not None:
        header += [t("report.peer_median"), t("report.percentile")]
        align += ["r", "r"]
    rows = []
    for node in dim_nodes:
        row = [name_of(node), f"{node.weight * 100:.1f}%", format_score(node.score)]
        if peers is not None:
            col = f"dim_{node.code}"
            row += [
                format_score(peers.median.get(col)),
                f"{peers.percentile[col]:.0f}" if col in peers.percentile else "—",
            ]
        rows.append(row)
    series: list[tuple[str, list[float | None], str]] = [
        (t("report.chart_company"), [n.score for n in dim_nodes], _BLUE)
    ]
    if peers is not None:
        series.append(
            (t("report.chart_peers"), [peers.median.get(f"dim_{n.code}") for n in dim_nodes], _GREY)
        )
    chart = Chart(t("report.chart_title"), [name_of(n) for n in dim_nodes], series)
    sections.append(
        Section(t("report.dimensions"), [Table(header, rows, align, widths=[4, 2, 2, 2, 2]), chart])
    )

    # -- peers ---------------------------------------------------------------------------------
    if peers is not None and "dmi" in peers.percentile:
        if peers.group:
            group = t("report.peers_group", parts=peer_group_label(instrument, peers.group, lang))
        else:
            group = t("report.peers_all")
        p = f"{peers.percentile['dmi']:.0f}"
        median = _index(peers.median.get("dmi"), instrument)
        peer_text = t("report.peers_text", group=group, size=peers.size, p=p, median=median)
    else:
        peer_text = t("report.peers_none")
    sections.append(Section(t("report.peers"), [Para(peer_text)]))

    # -- tier ----------------------------------------------------------------------------------
    if tier is not None:
        label = tier.label
        support = label.support_zh if lang == "zh" else label.support_en
        colon = text("report.colon", lang)
        # which tier, its support once, the confidence in words; then what holds it and what
        # would move it up
        blocks: list[Any] = [
            Para(
                f"{t('report.tier_of', tier=tier.tier, n=tier.n_tiers)}{colon}{label.name(lang)}",
                "heading3",
            ),
            Para(f"{t('report.support')}{colon}{support}"),
            Para(
                t(
                    "report.confidence",
                    phrase=confidence_phrase(tier.confidence, lang),
                    conf=f"{tier.confidence:.2f}",
                )
            ),
        ]
        blocks += [Para(s) for s in tier_sentences(tier, lang)]
    else:
        blocks = [Para(t("report.tier_none"))]
    sections.append(Section(t("report.tier_section"), blocks))

    # -- improvements --------------------------------------------------------------------------
    if assessment.improvements:

        def new_index(imp: Any) -> str:
            # the band beside the research index is its indicative band, never a level
            shown = imp.new_level if assessment.official else imp.new_indicative_level
            name = _level_name(instrument, shown, lang)
            value = _index(imp.new_dmi, instrument)
            return t("report.with_note", value=value, note=name)

        rows = [
            [
                str(i),
                imp.question_zh if lang == "zh" else imp.question_en,
                imp.change_zh if lang == "zh" else imp.change_en,
                f"+{_pts(imp.gain)}",
                new_index(imp),
            ]
            for i, imp in enumerate(assessment.improvements, 1)
        ]
        last = t("report.new_index") if assessment.official else t("report.new_index_indicative")
        blocks = [
            Para(t("report.improvements_intro")),
            Table(
                ["#", t("report.question"), t("report.change"), t("report.gain"), last],
                rows,
                ["r", "l", "l", "r", "r"],
                widths=[0.5, 5, 3, 1.3, 2],
            ),
        ]
    else:
        blocks = [Para(t("report.improvements_none"))]
    sections.append(Section(t("report.improvements"), blocks))

    # -- the 梯度培育 pre-check (only when the company gave its facts) ---------------------------
    if ladder is not None:
        sections.append(_ladder_section(ladder, lang, ladder_refused or {}, ladder_cautions))

    # -- change since the earlier submission -----------------------------------------------------
    if previous is not None:
        # across methods a difference is no progress or regress: "method changed", no delta
        same = previous.comparable(assessment)
        changed = t("report.method_changed")
        rows = [
            [
                t("report.index_row"),
                _index(previous.dmi, instrument),
                _index(assessment.dmi, instrument),
                _signed(round(assessment.dmi, 9) - round(previous.dmi, 9)) if same else changed,
            ],
            [
                t("report.level_row"),
                _level_name(instrument, previous.level, lang),
                level_label,
                _signed(assessment.level - previous.level, 0) if same else changed,
            ],
        ]
        if tier is not None and previous.tier is not None:
            rows.append(
                [
                    t("report.tier_row"),
                    str(previous.tier),
                    str(tier.tier),
                    _signed(tier.tier - previous.tier, 0) if same else changed,
                ]
            )
        for node in dim_nodes:
            before = previous.dimension(node.code)
            change = "—" if before is None or is_nan(node.score) else _signed(node.score - before)
            rows.append(
                [
                    name_of(node),
                    format_score(before),
                    format_score(node.score),
                    change if same else changed,
                ]
            )
        intro = [Para(t("report.previous_intro", when=_when(previous.submitted_at)))]
        if not same:
            intro.append(Para(t("report.method_changed_text")))
        sections.append(
            Section(
                t("report.previous"),
                [
                    *intro,
                    Table(
                        [t("report.measure"), t("report.then"), t("report.now"), t("report.delta")],
                        rows,
                        ["l", "r", "r", "r"],
                        widths=[4, 2, 2, 2],
                    ),
                ],
            )
        )

    # -- points per item -------------------------------------------------------------------------
    sections.append(
        Section(
            t("report.items"),
            [
                Para(t("report.items_intro")),
                _item_table(assessment, instrument, lang, answers),
            ],
        )
    )

    # -- method ----------------------------------------------------------------------------------
    notes = [Para(t("report.method_text", bands=_band_legend(instrument, lang)), "note")]
    if not assessment.official:
        official = _index(assessment.official_dmi, instrument)
        method = assessment.method or "?"
        notes.insert(
            0,
            Para(t("report.method_research", method=method, official=official, level=level_label)),
        )
    if tier is not None:
        notes.append(Para(t("report.method_tier"), "note"))
    if peers is not None:
        notes.append(Para(t("report.method_peers"), "note"))
    if assessment.imputed:
        items = text("report.list_sep", lang).join(f"{code}" for code in assessment.imputed)
        notes.append(Para(t("report.method_imputed", items=items), "note"))
    notes.append(
        Para(
            t(
                "report.method_instrument",
                id=instrument.id,
                version=instrument.version,
                hash=instrument.hash,
            ),
            "note",
        )
    )
    sections.append(Section(t("report.method"), notes))
    return Report(lang, t("report.title"), meta, sections)


def build_ladder_report(
    ladder: FirmResult,
    refused: Mapping[str, Any] | None = None,
    generated_at: datetime | date | str | None = None,
    cautions: Sequence[str] = (),
) -> Report:
    """A report of the 梯度培育 pre-check alone, in ``ladder.lang``: the firm that took it
    without the survey has its ladder to keep too. The same section as :func:`build_report`'s,
    under the date and the rules applied."""
    lang = ladder.lang
    t = lambda key, **kw: text(key, lang, **kw)  # noqa: E731
    when = generated_at if generated_at is not None else datetime.now()
    rules = rules_of(ladder).title.get(lang)
    meta = [(t("report.date"), _when(when)), (t("ladder.report_rules"), rules)]
    section = _ladder_section(ladder, lang, refused or {}, cautions)
    return Report(lang, section.title, meta, [replace(section, title=t("ladder.result"))])


def _ladder_section(
    ladder: FirmResult, lang: str, refused: Mapping[str, Any], cautions: Sequence[str] = ()
) -> Section:
    """Where the company stands on 创新型 / 专精特新 / 小巨人, and each rung's gaps, all of them
    as the page lists them (a saved report is read without the page; none for a title held);
    the values ``refused`` on the page named as left out (as the page names them)."""
    t = lambda key, **kw: text(key, lang, **kw)  # noqa: E731
    title = rules_of(ladder).title.get(lang)
    views = ladder_view(ladder, refused)
    rows = [[v.label, v.status_text, v.points or "—", v.meta] for v in views]
    blocks: list[Any] = [
        Para(t("ladder.report_intro", policy=title, year=ladder.year)),
        Table(
            [
                t("ladder.report_rung"),
                t("ladder.report_status"),
                t("ladder.report_points"),
                t("ladder.report_rules"),
            ],
            rows,
            ["l", "l", "l", "l"],
            widths=[3, 2, 3, 2],
        ),
    ]
    # the direct route or exemption used, the way assessed: why a rung is what it is
    blocks += [
        Para(f"{v.label}: {line}", "note") for v in views for line in (v.route, v.path) if line
    ]
    if refused:
        blocks.append(Para(left_out(refused, lang, on_the_page=False), "note"))
    # the values taken that may not mean what they say, as the page says them under the fields
    # (revenue typed in yuan: a report read without the page showed 40000000万元 unremarked)
    blocks += [Para(line, "note") for line in cautions]
    gap_rows = []
    for v in views:
        if v.status == "eligible":
            continue
        gap_rows += [[v.label, g.text] for g in v.gaps]
    if gap_rows:
        blocks.append(Para(t("ladder.report_gaps"), "heading3"))
        blocks.append(Table(None, gap_rows, ["l", "l"], widths=[3, 7]))
    # each scorecard indicator's points, under its group's
    points_rows = [
        [v.label, line]
        for v in views
        for group, lines in zip(v.groups, v.indicators)
        for line in (group, *lines)
    ]
    if points_rows:
        blocks.append(Para(t("ladder.report_indicators"), "heading3"))
        blocks.append(Table(None, points_rows, ["l", "l"], widths=[3, 7]))
    # every condition and route as the page lists it: its state, the values behind it, what
    # replaced it or what to prepare, and its source
    sep = t("ladder.list_sep")
    condition_rows = [
        [
            v.label,
            line.label,
            line.state_text,
            sep.join(x for x in (line.values, line.via, line.evidence) if x) or "—",
            line.source,
        ]
        for v in views
        for line in v.conditions + v.routes
    ]
    blocks.append(Para(t("ladder.report_conditions"), "heading3"))
    blocks.append(
        Table(
            [
                t("ladder.report_rung"),
                t("ladder.report_condition"),
                t("ladder.report_status"),
                t("ladder.report_values"),
                t("ladder.report_source"),
            ],
            condition_rows,
            ["l", "l", "l", "l", "l"],
            widths=[2, 4, 2, 3, 3],
        )
    )
    # the remarks on the facts the page shows beside the ladder (a stated level the survey
    # disagrees with, an award year after the application year)
    blocks += [Para(t("ladder.flag", text=flag), "note") for flag in ladder.flags]
    blocks.append(Para(confidence_note(lang), "note"))
    cited = documents_cited(ladder)
    if cited:  # what "No. 2 annex 1" beside each rule is
        blocks.append(Para(t("ladder.documents_cited"), "heading3"))
        blocks += [Para(d, "note") for d in cited]
    return Section(t("ladder.report_title"), blocks)


def _item_table(
    assessment: Assessment, instrument: Instrument, lang: str, answers: Mapping[str, Any]
) -> Table:
    t = lambda key, **kw: text(key, lang, **kw)  # noqa: E731
    name_of = (lambda n: n.zh) if lang == "zh" else (lambda n: n.en)
    with_answers = bool(answers)
    children: dict[str, list[NodeScore]] = {}
    for node in assessment.nodes:
        children.setdefault(node.parent, []).append(node)
    imputed = set(assessment.imputed)

    def sums(nodes: Sequence[NodeScore]) -> tuple[float, float]:
        got = [n.points for n in nodes if n.points is not None and not is_nan(n.points)]
        return math.fsum(got), math.fsum(n.max_points or 0.0 for n in nodes)

    def contribution(node: NodeScore) -> str:
        if is_nan(node.score):
            return "—"
        return f"{node.weight * node.score:.2f}"

    header = [t("report.question")] + ([t("report.answer")] if with_answers else [])
    header += [t("report.points"), t("report.max"), t("report.index_points")]
    rows: list[list[str]] = []
    kinds: list[str] = []
    blank = [""] if with_answers else []
    for dim in children.get("", []):
        if dim.level != "dimension":
            continue
        indicators = children.get(dim.code, [])
        items = [i for ind in indicators for i in children.get(ind.code, [])]
        got, most = sums(items)
        rows.append([name_of(dim), *blank, _pts(got), _pts(most), contribution(dim)])
        kinds.append("group")
        for ind in indicators:
            its = children.get(ind.code, [])
            got, most = sums(its)
            rows.append([name_of(ind), *blank, _pts(got), _pts(most), contribution(ind)])
            kinds.append("subgroup")
            for node in its:
                row = [name_of(node)]
                if with_answers:
                    given = _answer_text(
                        instrument, instrument.item(node.code), answers.get(node.code), lang
                    )
                    if not given:
                        given = (
                            t("report.imputed") if node.code in imputed else t("report.no_answer")
                        )
                    row.append(given)
                row += [_pts(node.points), _pts(node.max_points), contribution(node)]
                rows.append(row)
                kinds.append("row")
    align = ["l"] + (["l"] if with_answers else []) + ["r", "r", "r"]
    widths = [6] + ([3.2] if with_answers else []) + [1.2, 1.2, 1.5]
    return Table(header, rows, align, kinds, widths)
