"""One company's report, in Chinese or English, as self-contained HTML or as PDF."""

from dmi.report.content import LANGS, STRINGS, PreviousResult, render_html, render_pdf, text

__all__ = ["LANGS", "STRINGS", "PreviousResult", "render_html", "render_pdf", "text"]
