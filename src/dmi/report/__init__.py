"""One company's report, in Chinese or English, as self-contained HTML or as PDF."""

from dmi.report.content import LANGS, PreviousResult, render_html, render_pdf

__all__ = ["LANGS", "PreviousResult", "render_html", "render_pdf"]
