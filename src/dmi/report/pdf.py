"""The company report as a PDF (A4), drawn with reportlab from the same content as the HTML.

The PDF needs reportlab (``pip install "dmi[report]"``). Chinese text uses reportlab's built-in
CID font ``STSong-Light`` (no font file needed), English text Helvetica; Chinese characters in an
English report (a company name, say) are set in ``STSong-Light`` too. Every text is XML-escaped
for reportlab's paragraph markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from io import BytesIO
from typing import Any

from dmi.eligibility import FirmResult
from dmi.errors import MissingExtraError
from dmi.instruments import Instrument
from dmi.locales import text
from dmi.report import content
from dmi.report.content import PreviousResult
from dmi.results.assess import Assessment

__all__ = ["render_pdf"]

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
    ladder: FirmResult | None = None,
) -> bytes:
    """The company report as a PDF (A4), with the same content as
    :func:`~dmi.report.html.render_html`.

    Parameters
    ----------
    assessment, instrument, lang, previous, reference_version, generated_at, company_name, answers
        As for :func:`~dmi.report.html.render_html`.
    ladder
        As for :func:`~dmi.report.html.render_html` (the ladder section).

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

    def table(block: content.Table) -> Any:
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

    def cards(block: content.Cards) -> Any:
        cells = [
            [
                para(label, "card_label"),
                para(value, "card_small" if content.wide(value) else "card_value"),
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
            if isinstance(block, content.Para):
                flow.append(para(block.text, block.style))
            elif isinstance(block, content.Table):
                flow.append(table(block))
            elif isinstance(block, content.Cards):
                flow.append(cards(block))
            elif isinstance(block, content.Chart):
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
        canvas.drawRightString(page_w - 15 * mm, 8 * mm, text("report.page", lang, n=doc.page))
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


def _pdf_chart(chart: content.Chart, lang: str, frame_w: float) -> Any:
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
            if value is None or content.is_nan(value):
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
                    content.format_score(value),
                    fontName="Helvetica",
                    fontSize=7,
                )
            )
    return drawing
