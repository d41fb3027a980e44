"""The company report: one company's result as a printable HTML document or a PDF, in zh or en.

Both formats are rendered from the same content, built once from an
:class:`~dmi.results.assess.Assessment`: the index and level with the reason for the level, the
dimension scores with their weights and a bar chart (against the peer group's median when peers
are known), the peer percentile, the support tier, the next-best improvements, the points of every
item, the change since an earlier submission and a note on the method.

Every text that can come from a respondent or a file (company name, ids, answers, profile values,
even the instrument's own texts) is escaped by the renderer: ``html.escape`` in HTML, XML escaping
in reportlab's paragraph markup. The HTML has inline CSS only, no scripts and no external
resources, and a Content-Security-Policy that forbids both.

The PDF needs reportlab (``pip install "dmi[report]"``). Chinese text uses reportlab's built-in
CID font ``STSong-Light`` (no font file needed), English text Helvetica; Chinese characters in an
English report (a company name, say) are set in ``STSong-Light`` too.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from io import BytesIO
from typing import Any

from dmi.errors import MissingExtraError, UsageError
from dmi.instruments import Instrument, Item
from dmi.results.assess import Assessment, NodeScore
from dmi.scoring.levels import format_index

__all__ = [
    "LANGS",
    "STRINGS",
    "PreviousResult",
    "render_html",
    "render_pdf",
    "text",
]

LANGS = ("zh", "en")
"""The report languages."""

# Every fixed text of the report, in both languages. ``{name}`` fields are filled by ``text``.
STRINGS: dict[str, dict[str, str]] = {
    "title": {"zh": "中小企业数字化发展指数报告", "en": "SME Digital Maturity Index report"},
    "company": {"zh": "企业名称", "en": "Company"},
    "respondent_id": {"zh": "企业编号", "en": "Respondent id"},
    "date": {"zh": "报告日期", "en": "Date"},
    "instrument": {"zh": "测评体系", "en": "Instrument"},
    "reference_version": {"zh": "参考基准版本", "en": "Reference version"},
    "not_recorded": {"zh": "未记录", "en": "not recorded"},
    "result": {"zh": "测评结果", "en": "Result"},
    "index": {"zh": "数字化发展指数", "en": "Digital Maturity Index"},
    "of_100": {"zh": "满分 100", "en": "out of 100"},
    "level": {"zh": "数字化水平等级", "en": "Maturity level"},
    "tier": {"zh": "帮扶梯队", "en": "Support tier"},
    "tier_of": {"zh": "第 {tier} 梯队（共 {n} 个）", "en": "Tier {tier} of {n}"},
    "percentile": {"zh": "同行百分位", "en": "Peer percentile"},
    "percentile_value": {"zh": "第 {p} 百分位", "en": "percentile {p} of 100"},
    "why_level": {"zh": "等级评定依据", "en": "Why this level"},
    "dimensions": {"zh": "各维度得分", "en": "Dimension scores"},
    "dimension": {"zh": "维度", "en": "Dimension"},
    "weight": {"zh": "权重", "en": "Weight"},
    "score": {"zh": "得分（0-100）", "en": "Score (0-100)"},
    "peer_median": {"zh": "同行中位数", "en": "Peer median"},
    "chart_company": {"zh": "本企业", "en": "This company"},
    "chart_peers": {"zh": "同行中位数", "en": "Peer-group median"},
    "chart_title": {"zh": "各维度得分（0-100）", "en": "Dimension scores (0-100)"},
    "peers": {"zh": "同行比较", "en": "Peer comparison"},
    "peers_text": {
        "zh": "在 {group}的 {size} 家参考企业中，贵企业的指数高于约 {p}% 的企业"
        "（第 {p} 百分位；同组中位数 {median}）。",
        "en": "Among the {size} reference companies in {group}, your index is higher than about "
        "{p}% of them (percentile {p}; the group's median is {median}).",
    },
    "peers_all": {"zh": "全部参考企业", "en": "the whole reference population"},
    "peers_group": {"zh": "同组（{parts}）", "en": "your peer group ({parts})"},
    "peers_none": {
        "zh": "本报告不显示同行比较：没有可用的参考企业群体，或贵企业所在的同行分组未达到最小"
        "规模（分组太小时百分位意义不大，还可能暴露组内企业）。",
        "en": "No peer comparison is shown: no reference population was available for this "
        "report, or no peer group of your company reached the minimum size (a percentile among a "
        "few companies says little and could reveal them).",
    },
    "tier_section": {"zh": "帮扶梯队", "en": "Support tier"},
    "support": {"zh": "帮扶措施", "en": "Support offered"},
    "tier_none": {
        "zh": "本报告未给出帮扶梯队：没有可用的梯队模型。",
        "en": "No support tier is shown: no tier model was available for this report.",
    },
    "confidence": {"zh": "归属置信度 {c}", "en": "membership confidence {c}"},
    "improvements": {"zh": "最值得改进的事项", "en": "Improvements worth most points"},
    "improvements_intro": {
        "zh": "下列每一项都是对一道题作答的单项改变，按能增加的指数分值从高到低排列。",
        "en": "Each line is one change to one answer, the ones that add most to the index first.",
    },
    "improvements_none": {
        "zh": "没有能提高指数的单项改变：各题均已达到最高分。",
        "en": "No single change raises the index: every item already scores its maximum.",
    },
    "question": {"zh": "题目", "en": "Question"},
    "change": {"zh": "建议", "en": "Change"},
    "gain": {"zh": "可增加", "en": "Adds"},
    "new_index": {"zh": "改后指数（等级）", "en": "New index (level)"},
    "items": {"zh": "逐题得分", "en": "Points per item"},
    "items_intro": {
        "zh": "题目 → 指标 → 维度：每道题的得分与满分，以及计入指数的分值。",
        "en": "Item → indicator → dimension: the points of each item out of its maximum, and "
        "what it adds to the index.",
    },
    "answer": {"zh": "作答", "en": "Answer"},
    "points": {"zh": "得分", "en": "Points"},
    "max": {"zh": "满分", "en": "Max"},
    "index_points": {"zh": "计入指数", "en": "Index points"},
    "no_answer": {"zh": "未作答", "en": "no answer"},
    "imputed": {"zh": "未作答，按最低分计", "en": "no answer, scored as lowest"},
    "previous": {"zh": "与上次测评相比", "en": "Change since the earlier submission"},
    "previous_intro": {
        "zh": "上次提交：{when}。",
        "en": "Earlier submission: {when}.",
    },
    "measure": {"zh": "项目", "en": "Measure"},
    "then": {"zh": "上次", "en": "Then"},
    "now": {"zh": "本次", "en": "Now"},
    "delta": {"zh": "变化", "en": "Change"},
    "method": {"zh": "计分方法说明", "en": "Method"},
    "method_text": {
        "zh": "每道题按测评体系的计分规则得分（得分 ÷ 满分），再逐级加权合成为指标、维度得分"
        "（0-100）和数字化发展指数（0-100）；各维度权重见上表。数字化水平等级按指数分数线划分："
        "{bands}。",
        "en": "Each answer is scored by the instrument's rules (points out of the item's maximum); "
        "item scores are weighted into indicator and dimension scores (0-100) and the index "
        "(0-100), with the dimension weights shown above. The maturity level follows the "
        "index thresholds: {bands}.",
    },
    "method_tier": {
        "zh": "帮扶梯队由在参考企业群体上拟合的聚类模型给出：按各维度得分归入最接近的梯队，"
        "梯队按平均指数从低到高排序。",
        "en": "The support tier comes from a clustering model fitted on a reference population: "
        "the company joins the nearest tier by its dimension scores; tiers are ordered by their "
        "mean index.",
    },
    "method_peers": {
        "zh": "同行百分位为同组参考企业中得分低于本企业的比例（并列计一半）；"
        "分组小于最小规模时改用更大的分组或不显示。",
        "en": "The peer percentile is the share of the group's reference companies scoring "
        "below the company (ties count half); groups below a minimum size are replaced by "
        "a broader group or not shown.",
    },
    "method_imputed": {
        "zh": "以下题目未作答，按测评体系的规定计为最低分：{items}。",
        "en": "These items were not answered and scored as lowest, as the instrument "
        "prescribes: {items}.",
    },
    "method_instrument": {
        "zh": "测评体系 {id}，版本 {version}，内容指纹 {hash}。",
        "en": "Instrument {id}, version {version}, content hash {hash}.",
    },
    "index_row": {"zh": "数字化发展指数", "en": "Index"},
    "level_row": {"zh": "等级", "en": "Level"},
    "official_index": {
        "zh": "数字化发展指数（官方方法）",
        "en": "Digital Maturity Index (official method)",
    },
    "research_index": {"zh": "研究方法指数", "en": "Index under the research method"},
    "indicative_level": {
        "zh": "参考等级（非官方方法）",
        "en": "indicative band (non-official method)",
    },
    "new_index_indicative": {
        "zh": "改后研究方法指数（参考等级）",
        "en": "New research index (indicative band)",
    },
    "method_research": {
        "zh": "本报告的研究方法指数按 {method} 计算，不是测评体系的官方方法：它只用于研究，"
        "其参考等级（非官方方法）不是数字化水平等级。企业的数字化发展指数和数字化水平等级"
        "始终按官方方法计算：{official}，{level}。",
        "en": "The research index of this report comes from {method}, not the instrument's "
        "official method: it serves research only, and its indicative band (non-official "
        "method) is not a maturity level. The company's Digital Maturity Index and maturity "
        "level always come from the official method: {official}, {level}.",
    },
    "method_changed": {"zh": "方法已变更", "en": "method changed"},
    "method_changed_text": {
        "zh": "上次结果与本次结果按不同的指数方法计算（方法已变更），两者不可直接比较，"
        "因此不显示变化。",
        "en": "The earlier result and this one come from different index methods (method "
        "changed): they cannot be compared, so no change is shown.",
    },
    "tier_row": {"zh": "梯队", "en": "Tier"},
    "page": {"zh": "第 {n} 页", "en": "Page {n}"},
    "list_sep": {"zh": "；", "en": "; "},
    "colon": {"zh": "：", "en": ": "},
}


def text(key: str, lang: str, **fields: Any) -> str:
    """One fixed text of the report in ``lang``, with its ``{name}`` fields filled in.

    Parameters
    ----------
    key
        A key of :data:`STRINGS`.
    lang
        ``"zh"`` or ``"en"``.
    **fields
        Values for the text's ``{name}`` fields.
    """
    return STRINGS[key][lang].format(**fields) if fields else STRINGS[key][lang]


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
        return None if value is None or _isnan(value) else float(value)


# -- the content, independent of the output format -------------------------------------------


@dataclass
class _Para:
    text: str
    style: str = "normal"  # normal | lead | note | heading3


@dataclass
class _Table:
    header: list[str] | None
    rows: list[list[str]]
    align: list[str]  # "l" or "r" per column
    kinds: list[str] = field(default_factory=list)  # per row: row | group | subgroup
    widths: list[float] = field(default_factory=list)  # relative column widths


@dataclass
class _Cards:
    cards: list[tuple[str, str, str]]  # (label, value, note)


@dataclass
class _Chart:
    title: str
    categories: list[str]
    series: list[tuple[str, list[float | None], str]]  # (name, values, colour)


@dataclass
class _Section:
    title: str
    blocks: list[Any]


@dataclass
class _Report:
    lang: str
    title: str
    meta: list[tuple[str, str]]
    sections: list[_Section]


_BLUE = "#1f5fa8"
_GREY = "#9aa4b1"


def _isnan(value: Any) -> bool:
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or _isnan(value)


def _f1(value: float | None) -> str:
    """A score with one decimal (rounded as the level explanation rounds), or a dash; an index
    value, beside a level, is written with :func:`_index`."""
    return format_index(None if value is None or _isnan(value) else float(value))


def _pts(value: float | None) -> str:
    """Points with up to three decimals, trailing zeros dropped (15.55, 1.875, 5)."""
    if value is None or _isnan(value):
        return "—"
    out = f"{float(value):.3f}".rstrip("0").rstrip(".")
    return "0" if out in ("-0", "") else out


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


def _profile_value(instrument: Instrument, code: str, value: Any, lang: str) -> tuple[str, str]:
    """(field label, value label) of a profile field; unknown codes and values stay as given."""
    try:
        spec = instrument.profile_field(code)
    except KeyError:
        return code, str(value)
    label = spec.zh if lang == "zh" else spec.en
    shown = str(value)
    for option in spec.options:
        if option.value.casefold() == shown.strip().casefold():
            if lang == "zh":
                return label, f"{option.zh}（{option.value}）"
            return label, f"{option.en} ({option.value})"
    return label, shown


def _answer_text(instrument: Instrument, item: Item, answer: Any, lang: str) -> str:
    """An answer as the respondent gave it, with the option labels it stands for."""
    if _missing(answer):
        return ""
    raw = str(answer).strip()
    label = (lambda o: o.zh) if lang == "zh" else (lambda o: o.en)
    if item.type in ("single", "multi"):
        tokens = [t.strip() for t in re.split(r"[;,，；]", raw) if t.strip()]
        by_value = {o.value.casefold(): o for o in item.options}
        names = [
            f"{t}: {label(by_value[t.casefold()])}" if t.casefold() in by_value else t
            for t in tokens
        ]
        return text("list_sep", lang).join(names)
    if item.type == "number" and item.bands:
        for band in item.bands:
            if band.value.casefold() == raw.casefold():
                return f"{raw}: {label(band)}"
        return f"{raw} {item.unit}".strip()
    if item.type == "scenario":
        for level in instrument.scenario_levels:
            try:
                if float(raw) == level.value:
                    return f"{level.value}: {label(level).split('：')[0].split(':')[0]}"
            except ValueError:
                break
    if item.type == "number":
        return f"{raw} {item.unit}".strip()
    return raw


def _build(
    assessment: Assessment,
    instrument: Instrument,
    lang: str,
    previous: PreviousResult | None,
    reference_version: str | None,
    generated_at: datetime | date | str | None,
    company_name: str | None,
    answers: Mapping[str, Any] | None,
) -> _Report:
    if lang not in LANGS:
        raise UsageError(f"report language must be one of {', '.join(LANGS)}, got {lang!r}")
    t = lambda key, **kw: text(key, lang, **kw)  # noqa: E731
    name_of = (lambda n: n.zh) if lang == "zh" else (lambda n: n.en)
    answers = dict(answers or {})
    known = {**{k: v for k, v in assessment.scores_row.items() if not _missing(v)}, **answers}

    # -- header --------------------------------------------------------------------------------
    meta: list[tuple[str, str]] = []
    name = company_name if not _missing(company_name) else known.get("company_name")
    if not _missing(name):
        meta.append((t("company"), str(name)))
    rid = known.get("respondent_id", assessment.respondent_id)
    if not _missing(rid) and str(rid) != "company":  # "company": assess()'s placeholder
        meta.append((t("respondent_id"), str(rid)))
    for spec in instrument.profile:
        if spec.type == "choice" and not _missing(known.get(spec.code)):
            meta.append(_profile_value(instrument, spec.code, known[spec.code], lang))
    meta.append((t("date"), _when(generated_at if generated_at is not None else datetime.now())))
    title = instrument.title.get(lang)
    if lang == "zh":
        meta.append((t("instrument"), f"{title}（{instrument.id}，版本 {instrument.version}）"))
    else:
        meta.append((t("instrument"), f"{title} ({instrument.id}, version {instrument.version})"))
    meta.append(
        (t("reference_version"), str(reference_version) if reference_version else t("not_recorded"))
    )

    sections: list[_Section] = []
    peers = assessment.peers
    tier = assessment.tier
    level_label = assessment.level_label.get(lang) or _level_name(
        instrument, assessment.level, lang
    )

    # -- result --------------------------------------------------------------------------------
    if assessment.official:
        cards = [
            (t("index"), _index(assessment.dmi, instrument), t("of_100")),
            (t("level"), level_label, ""),
        ]
    else:  # the official index and level first; the research index only with its band
        band = _level_name(instrument, assessment.indicative_level, lang)
        cards = [
            (t("official_index"), _index(assessment.official_dmi, instrument), t("of_100")),
            (t("level"), level_label, ""),
            (
                t("research_index"),
                _index(assessment.dmi, instrument),
                f"{t('indicative_level')}{text('colon', lang)}{band}",
            ),
        ]
    if tier is not None:
        cards.append(
            (t("tier"), tier.label.name(lang), t("tier_of", tier=tier.tier, n=tier.n_tiers))
        )
    if peers is not None and "dmi" in peers.percentile:
        p = f"{peers.percentile['dmi']:.0f}"
        cards.append((t("percentile"), p, t("percentile_value", p=p)))
    why = assessment.level_explanation.zh if lang == "zh" else assessment.level_explanation.en
    sections.append(
        _Section(t("result"), [_Cards(cards), _Para(t("why_level"), "heading3"), _Para(why)])
    )

    # -- dimensions ----------------------------------------------------------------------------
    dim_nodes = [n for n in assessment.nodes if n.level == "dimension"]
    header = [t("dimension"), t("weight"), t("score")]
    align = ["l", "r", "r"]
    if peers is not None:
        header += [t("peer_median"), t("percentile")]
        align += ["r", "r"]
    rows = []
    for node in dim_nodes:
        row = [name_of(node), f"{node.weight * 100:.1f}%", _f1(node.score)]
        if peers is not None:
            col = f"dim_{node.code}"
            row += [
                _f1(peers.median.get(col)),
                f"{peers.percentile[col]:.0f}" if col in peers.percentile else "—",
            ]
        rows.append(row)
    series: list[tuple[str, list[float | None], str]] = [
        (t("chart_company"), [n.score for n in dim_nodes], _BLUE)
    ]
    if peers is not None:
        series.append(
            (t("chart_peers"), [peers.median.get(f"dim_{n.code}") for n in dim_nodes], _GREY)
        )
    chart = _Chart(t("chart_title"), [name_of(n) for n in dim_nodes], series)
    sections.append(
        _Section(t("dimensions"), [_Table(header, rows, align, widths=[4, 2, 2, 2, 2]), chart])
    )

    # -- peers ---------------------------------------------------------------------------------
    if peers is not None and "dmi" in peers.percentile:
        if peers.group:
            parts = text("list_sep", lang).join(
                text("colon", lang).join(_profile_value(instrument, k, v, lang))
                for k, v in peers.group.items()
            )
            group = t("peers_group", parts=parts)
        else:
            group = t("peers_all")
        p = f"{peers.percentile['dmi']:.0f}"
        median = _index(peers.median.get("dmi"), instrument)
        peer_text = t("peers_text", group=group, size=peers.size, p=p, median=median)
    else:
        peer_text = t("peers_none")
    sections.append(_Section(t("peers"), [_Para(peer_text)]))

    # -- tier ----------------------------------------------------------------------------------
    if tier is not None:
        label = tier.label
        support = label.support_zh if lang == "zh" else label.support_en
        sentences = list(tier.zh if lang == "zh" else tier.en)
        blocks: list[Any] = [
            _Para(
                f"{t('tier_of', tier=tier.tier, n=tier.n_tiers)}{text('colon', lang)}"
                f"{label.name(lang)}",
                "heading3",
            )
        ]
        if not any(support in s for s in sentences):
            blocks.append(_Para(f"{t('support')}{text('colon', lang)}{support}"))
        blocks += [_Para(s) for s in sentences]
    else:
        blocks = [_Para(t("tier_none"))]
    sections.append(_Section(t("tier_section"), blocks))

    # -- improvements --------------------------------------------------------------------------
    if assessment.improvements:

        def new_index(imp: Any) -> str:
            # the band beside the research index is its indicative band, never a level
            shown = imp.new_level if assessment.official else imp.new_indicative_level
            name = _level_name(instrument, shown, lang)
            value = _index(imp.new_dmi, instrument)
            return f"{value}（{name}）" if lang == "zh" else f"{value} ({name})"

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
        last = t("new_index") if assessment.official else t("new_index_indicative")
        blocks = [
            _Para(t("improvements_intro")),
            _Table(
                ["#", t("question"), t("change"), t("gain"), last],
                rows,
                ["r", "l", "l", "r", "r"],
                widths=[0.5, 5, 3, 1.3, 2],
            ),
        ]
    else:
        blocks = [_Para(t("improvements_none"))]
    sections.append(_Section(t("improvements"), blocks))

    # -- change since the earlier submission -----------------------------------------------------
    if previous is not None:
        # across methods a difference is no progress or regress: "method changed", no delta
        same = previous.comparable(assessment)
        changed = t("method_changed")
        rows = [
            [
                t("index_row"),
                _index(previous.dmi, instrument),
                _index(assessment.dmi, instrument),
                _signed(round(assessment.dmi, 9) - round(previous.dmi, 9)) if same else changed,
            ],
            [
                t("level_row"),
                _level_name(instrument, previous.level, lang),
                level_label,
                _signed(assessment.level - previous.level, 0) if same else changed,
            ],
        ]
        if tier is not None and previous.tier is not None:
            rows.append(
                [
                    t("tier_row"),
                    str(previous.tier),
                    str(tier.tier),
                    _signed(tier.tier - previous.tier, 0) if same else changed,
                ]
            )
        for node in dim_nodes:
            before = previous.dimension(node.code)
            change = "—" if before is None or _isnan(node.score) else _signed(node.score - before)
            rows.append([name_of(node), _f1(before), _f1(node.score), change if same else changed])
        intro = [_Para(t("previous_intro", when=_when(previous.submitted_at)))]
        if not same:
            intro.append(_Para(t("method_changed_text")))
        sections.append(
            _Section(
                t("previous"),
                [
                    *intro,
                    _Table(
                        [t("measure"), t("then"), t("now"), t("delta")],
                        rows,
                        ["l", "r", "r", "r"],
                        widths=[4, 2, 2, 2],
                    ),
                ],
            )
        )

    # -- points per item -------------------------------------------------------------------------
    sections.append(
        _Section(
            t("items"),
            [
                _Para(t("items_intro")),
                _item_table(assessment, instrument, lang, answers),
            ],
        )
    )

    # -- method ----------------------------------------------------------------------------------
    bands = text("list_sep", lang).join(
        f"{b.zh if lang == 'zh' else b.en} ≥ {b.min:g}" for b in instrument.levels.bands
    )
    notes = [_Para(t("method_text", bands=bands), "note")]
    if not assessment.official:
        official = _index(assessment.official_dmi, instrument)
        method = assessment.method or "?"
        notes.insert(
            0, _Para(t("method_research", method=method, official=official, level=level_label))
        )
    if tier is not None:
        notes.append(_Para(t("method_tier"), "note"))
    if peers is not None:
        notes.append(_Para(t("method_peers"), "note"))
    if assessment.imputed:
        items = text("list_sep", lang).join(f"{code}" for code in assessment.imputed)
        notes.append(_Para(t("method_imputed", items=items), "note"))
    notes.append(
        _Para(
            t(
                "method_instrument",
                id=instrument.id,
                version=instrument.version,
                hash=instrument.hash,
            ),
            "note",
        )
    )
    sections.append(_Section(t("method"), notes))
    return _Report(lang, t("title"), meta, sections)


def _item_table(
    assessment: Assessment, instrument: Instrument, lang: str, answers: Mapping[str, Any]
) -> _Table:
    t = lambda key, **kw: text(key, lang, **kw)  # noqa: E731
    name_of = (lambda n: n.zh) if lang == "zh" else (lambda n: n.en)
    with_answers = bool(answers)
    children: dict[str, list[NodeScore]] = {}
    for node in assessment.nodes:
        children.setdefault(node.parent, []).append(node)
    imputed = set(assessment.imputed)

    def sums(nodes: Sequence[NodeScore]) -> tuple[float, float]:
        got = [n.points for n in nodes if n.points is not None and not _isnan(n.points)]
        return math.fsum(got), math.fsum(n.max_points or 0.0 for n in nodes)

    def contribution(node: NodeScore) -> str:
        if _isnan(node.score):
            return "—"
        return f"{node.weight * node.score:.2f}"

    header = [t("question")] + ([t("answer")] if with_answers else [])
    header += [t("points"), t("max"), t("index_points")]
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
                        given = t("imputed") if node.code in imputed else t("no_answer")
                    row.append(given)
                row += [_pts(node.points), _pts(node.max_points), contribution(node)]
                rows.append(row)
                kinds.append("row")
    align = ["l"] + (["l"] if with_answers else []) + ["r", "r", "r"]
    widths = [6] + ([3.2] if with_answers else []) + [1.2, 1.2, 1.5]
    return _Table(header, rows, align, kinds, widths)


# -- HTML ------------------------------------------------------------------------------------

_CSS = """
@page { size: A4; margin: 15mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
  "Helvetica Neue", Arial, sans-serif; color: #1d2733; margin: 0 auto; max-width: 190mm;
  padding: 8mm 0; font-size: 10.5pt; line-height: 1.5; }
h1 { font-size: 18pt; margin: 0 0 4mm; color: #12355b; }
h2 { font-size: 13pt; margin: 7mm 0 2mm; color: #12355b; border-bottom: 1px solid #c9d3de;
  padding-bottom: 1mm; break-after: avoid; page-break-after: avoid; }
h3 { font-size: 11pt; margin: 3mm 0 1mm; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; }
th, td { border: 1px solid #d5dde6; padding: 1.2mm 2mm; vertical-align: top; text-align: left; }
th { background: #eef3f8; font-weight: 600; }
td.r, th.r { text-align: right; white-space: nowrap; }
tr { break-inside: avoid; page-break-inside: avoid; }
tr.group td { background: #dde7f1; font-weight: 700; }
tr.subgroup td { background: #f4f7fa; font-weight: 600; }
tr.row td:first-child { padding-left: 6mm; }
table.meta td { border: none; padding: 0.5mm 2mm 0.5mm 0; }
table.meta td:first-child { color: #5a6675; white-space: nowrap; width: 28%; }
.cards { display: flex; flex-wrap: wrap; gap: 3mm; margin: 2mm 0 3mm; }
.card { flex: 1 1 35mm; border: 1px solid #c9d3de; border-radius: 2mm; padding: 2.5mm 3mm;
  background: #f7f9fc; }
.card .label { color: #5a6675; font-size: 9pt; }
.card .value { font-size: 20pt; font-weight: 700; color: #12355b; line-height: 1.2; }
.card .value.small { font-size: 13pt; padding: 1.5mm 0; }
.card .note { color: #5a6675; font-size: 9pt; }
p.lead { font-weight: 600; }
p.note { color: #5a6675; font-size: 9pt; margin: 1mm 0; }
figure { margin: 3mm 0; }
svg { max-width: 100%; height: auto; }
"""


def _long(value: str) -> bool:
    """True when a card value is too wide for the large type (CJK characters count double)."""
    return sum(2 if ord(c) > 0x2E7F else 1 for c in value) > 10


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _html_table(table: _Table) -> str:
    out = ["<table>"]
    if table.header:
        cells = "".join(f'<th class="{a}">{_e(h)}</th>' for h, a in zip(table.header, table.align))
        out.append(f"<thead><tr>{cells}</tr></thead>")
    out.append("<tbody>")
    for i, row in enumerate(table.rows):
        kind = table.kinds[i] if i < len(table.kinds) else "plain"
        cells = "".join(f'<td class="{a}">{_e(c)}</td>' for c, a in zip(row, table.align))
        out.append(f'<tr class="{_e(kind)}">{cells}</tr>')
    out.append("</tbody></table>")
    return "".join(out)


def _svg_chart(chart: _Chart) -> str:
    """Horizontal grouped bars on a 0-100 axis, as inline SVG."""
    label_w, bar_area, right = 150, 420, 40
    n_series = len(chart.series)
    bar_h, gap = 14, 12
    group_h = n_series * bar_h + gap
    top = 34
    height = top + len(chart.categories) * group_h + 30
    width = label_w + bar_area + right
    x0 = label_w
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-size="11" '
        f'font-family="sans-serif"><title>{_e(chart.title)}</title>'
    ]
    # legend
    lx = x0
    for name, _, colour in chart.series:
        parts.append(f'<rect x="{lx}" y="8" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 16}" y="18">{_e(name)}</text>')
        lx += 16 + 12 * max(len(name), 6) + 10
    # grid
    axis_y = top + len(chart.categories) * group_h
    for tick in range(0, 101, 20):
        x = x0 + bar_area * tick / 100
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{axis_y}" stroke="#d5dde6"/>'
        )
        parts.append(f'<text x="{x:.1f}" y="{axis_y + 14}" text-anchor="middle">{tick}</text>')
    for i, category in enumerate(chart.categories):
        y = top + i * group_h
        mid = y + n_series * bar_h / 2 + 4
        parts.append(f'<text x="{x0 - 6}" y="{mid:.1f}" text-anchor="end">{_e(category)}</text>')
        for j, (_, values, colour) in enumerate(chart.series):
            value = values[i]
            by = y + j * bar_h
            if value is None or _isnan(value):
                parts.append(f'<text x="{x0 + 4}" y="{by + bar_h - 3}">—</text>')
                continue
            w = bar_area * max(0.0, min(float(value), 100.0)) / 100
            parts.append(
                f'<rect x="{x0}" y="{by}" width="{w:.1f}" height="{bar_h - 2}" fill="{colour}"/>'
            )
            parts.append(f'<text x="{x0 + w + 4:.1f}" y="{by + bar_h - 4}">{_e(_f1(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _html_block(block: Any) -> str:
    if isinstance(block, _Para):
        if block.style == "heading3":
            return f"<h3>{_e(block.text)}</h3>"
        return f'<p class="{_e(block.style)}">{_e(block.text)}</p>'
    if isinstance(block, _Table):
        return _html_table(block)
    if isinstance(block, _Cards):
        cards = "".join(
            f'<div class="card"><div class="label">{_e(label)}</div>'
            f'<div class="value{" small" if _long(value) else ""}">{_e(value)}</div>'
            f'<div class="note">{_e(note)}</div></div>'
            for label, value, note in block.cards
        )
        return f'<div class="cards">{cards}</div>'
    if isinstance(block, _Chart):
        return f"<figure>{_svg_chart(block)}</figure>"
    raise TypeError(f"unknown report block {type(block).__name__}")


def render_html(
    assessment: Assessment,
    *,
    instrument: Instrument,
    lang: str = "zh",
    previous: PreviousResult | None = None,
    reference_version: str | None = None,
    generated_at: datetime | date | str | None = None,
    company_name: str | None = None,
    answers: Mapping[str, Any] | None = None,
) -> str:
    """The company report as one self-contained, printable HTML document.

    Parameters
    ----------
    assessment
        The company's result, from :func:`dmi.results.assess.assess`.
    instrument
        The instrument it was scored with (titles, labels, level bands).
    lang
        ``"zh"`` or ``"en"``.
    previous
        The company's earlier result: adds the "change since" section.
    reference_version
        The version of the published reference (method, tier model, peers) that produced the
        result; shown as "not recorded" when None.
    generated_at
        The report date (default: now).
    company_name
        Shown in the header (default: the ``company_name`` answer, if any).
    answers
        The company's answers: adds the answer column to the per-item table, and the profile
        (sector, size class, region) to the header.

    Returns
    -------
    str
        An HTML5 document with inline CSS and an inline SVG chart; no scripts, no external
        resources. Every text from the respondent or a file is escaped.

    Raises
    ------
    ValueError
        When ``lang`` is not a report language.
    """
    report = _build(
        assessment,
        instrument,
        lang,
        previous,
        reference_version,
        generated_at,
        company_name,
        answers,
    )
    meta = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in report.meta)
    body = [f"<h1>{_e(report.title)}</h1>", f'<table class="meta">{meta}</table>']
    for section in report.sections:
        body.append(f"<section><h2>{_e(section.title)}</h2>")
        body.extend(_html_block(b) for b in section.blocks)
        body.append("</section>")
    html_lang = "zh-CN" if lang == "zh" else "en"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html_lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(report.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


# -- PDF -------------------------------------------------------------------------------------

_CJK_FONT = "STSong-Light"
_CJK_RUN = re.compile(r"[^\x00-\xff]+")


@lru_cache(maxsize=1)
def _reportlab() -> Any:
    try:
        import reportlab  # noqa: F401
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    except ImportError:
        raise MissingExtraError(
            'PDF reports need reportlab: pip install "dmi[report]" (or reportlab>=4.0)'
        ) from None
    pdfmetrics.registerFont(UnicodeCIDFont(_CJK_FONT))
    return pdfmetrics


def _markup(value: Any, lang: str) -> str:
    """Text for a reportlab Paragraph: XML-escaped; in English, CJK runs set in the CID font."""
    escaped = html.escape(str(value), quote=False)
    if lang == "zh":
        return escaped
    return _CJK_RUN.sub(lambda m: f'<font name="{_CJK_FONT}">{m.group(0)}</font>', escaped)


def _string_font(value: str, lang: str, bold: bool = False) -> str:
    if lang == "zh" or _CJK_RUN.search(value):
        return _CJK_FONT
    return "Helvetica-Bold" if bold else "Helvetica"


def render_pdf(
    assessment: Assessment,
    *,
    instrument: Instrument,
    lang: str = "zh",
    previous: PreviousResult | None = None,
    reference_version: str | None = None,
    generated_at: datetime | date | str | None = None,
    company_name: str | None = None,
    answers: Mapping[str, Any] | None = None,
) -> bytes:
    """The company report as a PDF (A4), with the same content as :func:`render_html`.

    Parameters
    ----------
    assessment, instrument, lang, previous, reference_version, generated_at, company_name, answers
        As for :func:`render_html`.

    Returns
    -------
    bytes
        The PDF. Chinese text is set in reportlab's built-in CID font ``STSong-Light``, English
        in Helvetica. The same input gives the same bytes.

    Raises
    ------
    ValueError
        When ``lang`` is not a report language.
    ImportError
        When reportlab is not installed.
    """
    report = _build(
        assessment,
        instrument,
        lang,
        previous,
        reference_version,
        generated_at,
        company_name,
        answers,
    )
    _reportlab()
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    regular = _CJK_FONT if lang == "zh" else "Helvetica"
    bold = _CJK_FONT if lang == "zh" else "Helvetica-Bold"
    ink, accent, muted = (
        colors.HexColor("#1d2733"),
        colors.HexColor("#12355b"),
        colors.HexColor("#5a6675"),
    )
    wrap = "CJK" if lang == "zh" else None
    base = ParagraphStyle(
        "base", fontName=regular, fontSize=9.5, leading=13.5, textColor=ink, wordWrap=wrap
    )
    styles = {
        "normal": base,
        "lead": ParagraphStyle("lead", parent=base, fontName=bold),
        "note": ParagraphStyle("note", parent=base, fontSize=8, leading=11, textColor=muted),
        "heading3": ParagraphStyle("h3", parent=base, fontName=bold, fontSize=10.5, spaceBefore=4),
        "title": ParagraphStyle(
            "title", parent=base, fontName=bold, fontSize=18, leading=24, textColor=accent
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=bold,
            fontSize=13,
            leading=18,
            textColor=accent,
            spaceBefore=10,
            spaceAfter=4,
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
        "cell_r": ParagraphStyle("cell_r", parent=base, fontSize=8.5, leading=11, alignment=2),
        "cell_b": ParagraphStyle("cell_b", parent=base, fontName=bold, fontSize=8.5, leading=11),
        "card_label": ParagraphStyle("card_label", parent=base, fontSize=8, textColor=muted),
        "card_small": ParagraphStyle(
            "card_small", parent=base, fontName=bold, fontSize=12, leading=16, textColor=accent
        ),
        "card_value": ParagraphStyle(
            "card_value", parent=base, fontName=bold, fontSize=18, leading=22, textColor=accent
        ),
    }
    page_w, _ = A4
    frame_w = page_w - 30 * mm

    def para(value: Any, style: str = "normal") -> Any:
        return Paragraph(_markup(value, lang), styles[style])

    def table(block: _Table) -> Any:
        widths = block.widths[: len(block.align)] or [1.0] * len(block.align)
        total = sum(widths)
        col_w = [frame_w * w / total for w in widths]
        data = []
        if block.header:
            data.append(
                [
                    para(h, "cell_r" if a == "r" else "cell_b")
                    for h, a in zip(block.header, block.align)
                ]
            )
        for i, row in enumerate(block.rows):
            kind = block.kinds[i] if i < len(block.kinds) else "plain"
            data.append(
                [
                    para(c, "cell_r" if a == "r" else ("cell_b" if kind == "group" else "cell"))
                    for c, a in zip(row, block.align)
                ]
            )
        style = [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#d5dde6")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
        offset = 1 if block.header else 0
        if block.header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef3f8")))
        for i, kind in enumerate(block.kinds):
            if kind == "group":
                style.append(
                    ("BACKGROUND", (0, i + offset), (-1, i + offset), colors.HexColor("#dde7f1"))
                )
            elif kind == "subgroup":
                style.append(
                    ("BACKGROUND", (0, i + offset), (-1, i + offset), colors.HexColor("#f4f7fa"))
                )
            elif kind == "row":
                style.append(("LEFTPADDING", (0, i + offset), (0, i + offset), 12))
        out = Table(data, colWidths=col_w, repeatRows=offset, style=TableStyle(style))
        return out

    def cards(block: _Cards) -> Any:
        cells = [
            [
                para(label, "card_label"),
                para(value, "card_small" if _long(value) else "card_value"),
                para(note, "card_label"),
            ]
            for label, value, note in block.cards
        ]
        out = Table([cells], colWidths=[frame_w / len(cells)] * len(cells))
        out.setStyle(
            TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 0.5, colors.HexColor("#c9d3de")),
                    ("INNERGRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#c9d3de")),
                    ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f7f9fc")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return out

    story: list[Any] = [para(report.title, "title"), Spacer(1, 2 * mm)]
    meta = Table(
        [[para(k, "note"), para(v, "cell")] for k, v in report.meta],
        colWidths=[frame_w * 0.28, frame_w * 0.72],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        ),
    )
    story.append(meta)
    for section in report.sections:
        head = para(section.title, "h2")
        flow: list[Any] = []
        for block in section.blocks:
            if isinstance(block, _Para):
                flow.append(para(block.text, block.style))
            elif isinstance(block, _Table):
                flow.append(table(block))
            elif isinstance(block, _Cards):
                flow.append(cards(block))
            elif isinstance(block, _Chart):
                flow.append(Spacer(1, 2 * mm))
                flow.append(_pdf_chart(block, lang, frame_w))
            flow.append(Spacer(1, 1.5 * mm))
        # keep a heading with the start of its section
        story.append(KeepTogether([head, *flow[:2]]))
        story.extend(flow[2:])

    page_label = report.title

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(regular, 7.5)
        canvas.setFillColor(muted)
        canvas.drawString(15 * mm, 8 * mm, page_label)
        canvas.drawRightString(page_w - 15 * mm, 8 * mm, text("page", lang, n=doc.page))
        canvas.restoreState()

    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=report.title,
        author="dmi",
        subject=instrument.title.get(lang),
        lang="zh-CN" if lang == "zh" else "en",
        invariant=1,
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _pdf_chart(chart: _Chart, lang: str, frame_w: float) -> Any:
    """Horizontal grouped bars on a 0-100 axis, drawn with reportlab graphics shapes."""
    from reportlab.graphics.shapes import Drawing, Line, Rect, String
    from reportlab.lib import colors

    label_w, right = 120.0, 30.0
    bar_area = frame_w - label_w - right
    n_series = len(chart.series)
    bar_h, gap, top_pad, bottom_pad = 10.0, 8.0, 22.0, 16.0
    group_h = n_series * bar_h + gap
    height = top_pad + len(chart.categories) * group_h + bottom_pad
    drawing = Drawing(frame_w, height)
    grid = colors.HexColor("#d5dde6")

    def y_of(offset: float) -> float:  # offset from the top -> reportlab's y from the bottom
        return height - offset

    lx = label_w
    for name, _, colour in chart.series:
        drawing.add(Rect(lx, y_of(14), 9, 9, fillColor=colors.HexColor(colour), strokeColor=None))
        drawing.add(String(lx + 12, y_of(13), name, fontName=_string_font(name, lang), fontSize=8))
        lx += 12 + 8 * max(len(name), 6) * (1.0 if _CJK_RUN.search(name) else 0.55) + 14
    axis_bottom = top_pad + len(chart.categories) * group_h
    for tick in range(0, 101, 20):
        x = label_w + bar_area * tick / 100
        drawing.add(
            Line(x, y_of(top_pad - 3), x, y_of(axis_bottom), strokeColor=grid, strokeWidth=0.5)
        )
        drawing.add(
            String(
                x,
                y_of(axis_bottom + 10),
                str(tick),
                fontName="Helvetica",
                fontSize=7,
                textAnchor="middle",
            )
        )
    for i, category in enumerate(chart.categories):
        y = top_pad + i * group_h
        drawing.add(
            String(
                label_w - 5,
                y_of(y + n_series * bar_h / 2 + 3),
                category,
                fontName=_string_font(category, lang),
                fontSize=8,
                textAnchor="end",
            )
        )
        for j, (_, values, colour) in enumerate(chart.series):
            value = values[i]
            by = y + j * bar_h
            if value is None or _isnan(value):
                drawing.add(
                    String(label_w + 3, y_of(by + bar_h - 2), "-", fontName="Helvetica", fontSize=7)
                )
                continue
            w = bar_area * max(0.0, min(float(value), 100.0)) / 100
            drawing.add(
                Rect(
                    label_w,
                    y_of(by + bar_h - 1),
                    w,
                    bar_h - 1.5,
                    fillColor=colors.HexColor(colour),
                    strokeColor=None,
                )
            )
            drawing.add(
                String(
                    label_w + w + 3,
                    y_of(by + bar_h - 2.5),
                    _f1(value),
                    fontName="Helvetica",
                    fontSize=7,
                )
            )
    return drawing
