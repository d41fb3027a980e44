"""The company report as a PDF (A4), drawn with reportlab from the same content as the HTML.

The PDF needs reportlab and fontTools (``pip install "dmi[report]"``). Its text is set in a CJK
font found on the system or named by the ``DMI_PDF_FONT`` setting (:mod:`dmi.report.fonts`),
embedded as a subset of the glyphs the report uses, so every character prints as it was written
in any reader, rare ones (𠮷, 𬭚) included; a character the font cannot draw (an emoji) shows as
``□`` and the report says which it stands for. With no such font (a :class:`PdfFontWarning` and
a note in the PDF say so) the PDF falls back to naming reportlab's built-in CID font
``STSong-Light`` and Helvetica, which the reader supplies. Every text is XML-escaped for
reportlab's paragraph markup.
"""

from __future__ import annotations

import html
import os
import re
import string
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
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
from dmi.report.fonts import PLACEHOLDER, embed_subset, find_font
from dmi.results.assess import Assessment

__all__ = ["PdfFontWarning", "render_pdf"]


class PdfFontWarning(UserWarning):
    """No CJK font file was found for the PDF report: it names fonts the reader supplies."""


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
    try:
        import fontTools  # noqa: F401  (the font subset the PDF embeds)
    except ImportError:
        raise MissingExtraError(
            'PDF reports need fontTools: pip install "dmi[report]" (or fonttools>=4.40)'
        ) from None
    pdfmetrics.registerFont(UnicodeCIDFont(_CJK_FONT))
    return pdfmetrics


@dataclass(frozen=True)
class _Fonts:
    """The fonts of one PDF and the characters they cannot draw (shown as the placeholder)."""

    regular: str
    bold: str
    missing: frozenset[str]
    embedded: bool
    lang: str

    def clean(self, value: Any) -> str:
        """``value`` with each character no font can draw replaced by the placeholder."""
        shown = str(value)
        if self.missing and any(c in self.missing for c in shown):
            shown = "".join(PLACEHOLDER if c in self.missing else c for c in shown)
        return shown

    def markup(self, value: Any) -> str:
        """Text for a reportlab Paragraph: XML-escaped; without an embedded font, CJK runs of
        an English report set in the CID font."""
        escaped = html.escape(self.clean(value), quote=False)
        if self.embedded or self.lang == "zh":
            return escaped
        return _CJK_RUN.sub(lambda m: f'<font name="{_CJK_FONT}">{m.group(0)}</font>', escaped)

    def of(self, value: str, bold: bool = False) -> str:
        """The font for a drawn string (chart labels)."""
        if self.embedded:
            return self.bold if bold else self.regular
        if self.lang == "zh" or _CJK_RUN.search(value):
            return _CJK_FONT
        return "Helvetica-Bold" if bold else "Helvetica"


def _texts(report: content.Report) -> Iterator[str]:
    """Every text the report prints."""
    yield report.title
    for pair in report.meta:
        yield from pair
    for section in report.sections:
        yield section.title
        for block in section.blocks:
            if isinstance(block, content.Para):
                yield block.text
            elif isinstance(block, content.Table):
                yield from block.header or []
                for row in block.rows:
                    yield from row
            elif isinstance(block, content.Cards):
                for card in block.cards:
                    yield from card
            elif isinstance(block, content.Chart):
                yield block.title
                yield from block.categories
                yield from (name for name, _, _ in block.series)


def _fonts(report: content.Report, lang: str, font: Any) -> _Fonts:
    """Embed the subsets the report needs of the font found (see :mod:`dmi.report.fonts`), or
    fall back to the reader's fonts, saying so."""
    found = find_font(font)
    # digits, signs and letters of numbers, page numbers and the notes, whatever they say
    extra = [
        string.printable,
        "—·…≥≤→−±",
        text("report.page", lang, n=0),
        text("report.missing_glyphs", lang, chars="", placeholder=PLACEHOLDER),
        text("report.no_embedded_font", lang),
    ]
    every = "".join([*_texts(report), *extra])
    if found is None:
        warnings.warn(
            PdfFontWarning(
                "no CJK font file found for the PDF report (install fonts-noto-cjk, or set "
                "DMI_PDF_FONT to a .ttf, .otf or .ttc file): it names STSong-Light and "
                "Helvetica instead, which the reader supplies, so rare characters may not print"
            ),
            stacklevel=3,
        )
        # the CID font covers no character beyond U+FFFF
        missing = frozenset(c for c in every if ord(c) > 0xFFFF)
        regular = _CJK_FONT if lang == "zh" else "Helvetica"
        bold = _CJK_FONT if lang == "zh" else "Helvetica-Bold"
        return _Fonts(regular, bold, missing, False, lang)
    regular, missing = embed_subset(found, every)
    bold = regular
    if found.bold is not None:
        bold, _ = embed_subset(found.bold, every)
    return _Fonts(regular, bold, missing, True, lang)


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
    font: str | os.PathLike[str] | None = None,
    ladder: FirmResult | None = None,
    ladder_refused: Mapping[str, Any] | None = None,
    ladder_cautions: Sequence[str] = (),
) -> bytes:
    """The company report as a PDF (A4), with the same content as
    :func:`~dmi.report.html.render_html`.

    Parameters
    ----------
    assessment, instrument, lang, previous, reference_version, generated_at, company_name, answers
        As for :func:`~dmi.report.html.render_html`.
    font
        The font file to embed (``.ttf``, ``.otf``, ``.ttc``); default the ``DMI_PDF_FONT``
        setting, else a CJK font found on the system (see :mod:`dmi.report.fonts`).
    ladder, ladder_refused, ladder_cautions
        As for :func:`~dmi.report.html.render_html` (the ladder section).

    Returns
    -------
    bytes
        The PDF, every font embedded (a subset of the font's glyphs); a character the font
        cannot draw is shown as ``□``, with a note naming it. The same input gives the same
        bytes.

    Raises
    ------
    ValueError
        When ``lang`` is not a report language.
    UsageError
        When ``font`` (or ``DMI_PDF_FONT``) names a file that is no usable CJK font.
    ImportError
        When reportlab or fontTools is not installed.

    Warns
    -----
    PdfFontWarning
        When no CJK font file is found: the PDF then names fonts the reader supplies.
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
    return _pdf(report, font, subject=instrument.title.get(lang))


def render_ladder_pdf(
    ladder: FirmResult,
    *,
    refused: Mapping[str, Any] | None = None,
    generated_at: datetime | date | str | None = None,
    font: str | os.PathLike[str] | None = None,
    cautions: Sequence[str] = (),
) -> bytes:
    """The 梯度培育 pre-check alone as a PDF (A4), the content of
    :func:`~dmi.report.html.render_ladder_html`.

    Parameters
    ----------
    ladder, refused, generated_at, cautions
        As for :func:`~dmi.report.html.render_ladder_html`.
    font : str or PathLike, optional
        As for :func:`render_pdf`.
    """
    report = content.build_ladder_report(ladder, refused, generated_at, cautions)
    return _pdf(report, font, subject=report.title)


def _pdf(report: content.Report, font: str | os.PathLike[str] | None, subject: str) -> bytes:
    """A report as the PDF: the same bytes for the same report and font."""
    lang = report.lang
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

    fonts = _fonts(report, lang, font)
    regular, bold = fonts.regular, fonts.bold
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
        return Paragraph(fonts.markup(value), styles[style])

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
            ("FONTNAME", (0, 0), (-1, -1), regular),  # else the cells name Helvetica
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
                    ("FONTNAME", (0, 0), (-1, -1), regular),  # else the cells name Helvetica
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
                ("FONTNAME", (0, 0), (-1, -1), regular),  # else the cells name Helvetica
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        ),
    )
    story.append(meta)
    # say what the PDF could not print as written
    if fonts.missing:
        chars = ", ".join(f"U+{ord(c):04X}" for c in sorted(fonts.missing))
        note = text("report.missing_glyphs", lang, chars=chars, placeholder=PLACEHOLDER)
        story.append(para(note, "note"))
    if not fonts.embedded:
        story.append(para(text("report.no_embedded_font", lang), "note"))
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
                flow.append(_pdf_chart(block, fonts, frame_w))
            flow.append(Spacer(1, 1.5 * mm))
        # keep a heading with the start of its section
        story.append(KeepTogether([head, *flow[:2]]))
        story.extend(flow[2:])

    page_label = fonts.clean(report.title)

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
        subject=subject,
        lang="zh-CN" if lang == "zh" else "en",
        invariant=1,
        # the canvas names its initial font on every page: the report's own, so that no font
        # of the PDF is left to the reader
        initialFontName=regular,
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _pdf_chart(chart: content.Chart, fonts: _Fonts, frame_w: float) -> Any:
    """Horizontal grouped bars on a 0-100 axis, drawn with reportlab graphics shapes."""
    from reportlab.graphics.shapes import Drawing, Line, Rect, String
    from reportlab.lib import colors

    label_w, right = 120.0, 30.0
    bar_area = frame_w - label_w - right
    n_series = len(chart.series)
    bar_h, gap, top_pad, bottom_pad = 10.0, 8.0, 22.0, 16.0
    group_h = n_series * bar_h + gap
    height = top_pad + len(chart.categories) * group_h + bottom_pad
    drawing = Drawing(frame_w, height, initialFontName=fonts.of("0"))
    grid = colors.HexColor("#d5dde6")

    def y_of(offset: float) -> float:  # offset from the top -> reportlab's y from the bottom
        return height - offset

    lx = label_w
    for name, _, colour in chart.series:
        drawing.add(Rect(lx, y_of(14), 9, 9, fillColor=colors.HexColor(colour), strokeColor=None))
        shown = fonts.clean(name)
        drawing.add(String(lx + 12, y_of(13), shown, fontName=fonts.of(shown), fontSize=8))
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
                fontName=fonts.of("0"),
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
                fonts.clean(category),
                fontName=fonts.of(category),
                fontSize=8,
                textAnchor="end",
            )
        )
        for j, (_, values, colour) in enumerate(chart.series):
            value = values[i]
            by = y + j * bar_h
            if value is None or content.is_nan(value):
                drawing.add(
                    String(
                        label_w + 3, y_of(by + bar_h - 2), "-", fontName=fonts.of("0"), fontSize=7
                    )
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
                    fontName=fonts.of("0"),
                    fontSize=7,
                )
            )
    return drawing
