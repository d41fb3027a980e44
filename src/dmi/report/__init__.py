"""One company's report, in Chinese or English, as self-contained HTML or as PDF.

- :mod:`~dmi.report.content`: what the report says, built once from an assessment;
- :mod:`~dmi.report.html`: the self-contained HTML document;
- :mod:`~dmi.report.pdf`: the PDF (reportlab, ``pip install "dmi[report]"``).

Its fixed texts are the ``report.*`` entries of :mod:`dmi.locales`.
"""

from dmi.locales import LANGS
from dmi.report.content import PreviousResult
from dmi.report.html import render_html, render_ladder_html
from dmi.report.pdf import render_ladder_pdf, render_pdf

__all__ = [
    "LANGS",
    "PreviousResult",
    "render_html",
    "render_ladder_html",
    "render_ladder_pdf",
    "render_pdf",
]
