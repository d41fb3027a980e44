"""The company report as one self-contained, printable HTML document.

Every text is escaped with ``html.escape``: what can come from a respondent or a file (company
name, ids, answers, profile values, even the instrument's own texts) can never become markup.
The document has inline CSS only, no scripts and no external resources, and a
Content-Security-Policy that forbids both.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from dmi.eligibility import FirmResult
from dmi.instruments import Instrument
from dmi.report import content
from dmi.report.content import PreviousResult
from dmi.results.assess import Assessment

__all__ = ["render_html"]

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
table.meta td:first-child { color: #5a6675; width: 28%; }
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


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _html_table(table: content.Table) -> str:
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


def _svg_chart(chart: content.Chart) -> str:
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
            if value is None or content.is_nan(value):
                parts.append(f'<text x="{x0 + 4}" y="{by + bar_h - 3}">—</text>')
                continue
            w = bar_area * max(0.0, min(float(value), 100.0)) / 100
            parts.append(
                f'<rect x="{x0}" y="{by}" width="{w:.1f}" height="{bar_h - 2}" fill="{colour}"/>'
            )
            shown = _e(content.format_score(value))
            parts.append(f'<text x="{x0 + w + 4:.1f}" y="{by + bar_h - 4}">{shown}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _html_block(block: Any) -> str:
    if isinstance(block, content.Para):
        if block.style == "heading3":
            return f"<h3>{_e(block.text)}</h3>"
        return f'<p class="{_e(block.style)}">{_e(block.text)}</p>'
    if isinstance(block, content.Table):
        return _html_table(block)
    if isinstance(block, content.Cards):
        cards = "".join(
            f'<div class="card"><div class="label">{_e(label)}</div>'
            f'<div class="value{" small" if content.wide(value) else ""}">{_e(value)}</div>'
            f'<div class="note">{_e(note)}</div></div>'
            for label, value, note in block.cards
        )
        return f'<div class="cards">{cards}</div>'
    if isinstance(block, content.Chart):
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
    ladder: FirmResult | None = None,
    ladder_refused: Mapping[str, Any] | None = None,
    ladder_cautions: Sequence[str] = (),
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
    ladder
        The company's 梯度培育 pre-check (:func:`dmi.eligibility.evaluate` of its facts, in
        ``lang``): adds the ladder section (each rung's status, points and top gaps). Without
        it the report has no such section.
    ladder_refused
        The values the pre-check refused and left out of ``ladder`` (fact code -> the value as
        typed): named in the section as left out, as the page names them.
    ladder_cautions
        The values taken that may not mean what they say (revenue typed in yuan), as the page
        says them (:func:`dmi.service.ladder.caution_lines`): said in the section.

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
    report = content.build_report(
        assessment,
        instrument,
        lang,
        previous,
        reference_version,
        generated_at,
        company_name,
        answers,
        ladder,
        ladder_refused,
        ladder_cautions,
    )
    return _document(report)


def render_ladder_html(
    ladder: FirmResult,
    *,
    refused: Mapping[str, Any] | None = None,
    generated_at: datetime | date | str | None = None,
    cautions: Sequence[str] = (),
) -> str:
    """The 梯度培育 pre-check alone as one self-contained, printable HTML document, in
    ``ladder.lang`` (:func:`dmi.report.content.build_ladder_report`): for a firm that took the
    pre-check without the survey.

    Parameters
    ----------
    ladder : FirmResult
        :func:`dmi.eligibility.evaluate` of the firm's facts.
    refused : dict, optional
        The values the pre-check refused and left out (fact code -> the value as typed).
    generated_at : datetime, date or str, optional
        The report date (default: now).
    cautions : sequence of str, optional
        The values taken that may not mean what they say, as the page says them under their
        fields (:func:`dmi.service.ladder.caution_lines`): said under the ladder.
    """
    return _document(content.build_ladder_report(ladder, refused, generated_at, cautions))


def _document(report: content.Report) -> str:
    """A report as the HTML document: title, header lines, sections; inline CSS only."""
    lang = report.lang
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
