"""The PDF report embeds its font: every character of a company name prints as written.

Checked from the PDF itself: every font it uses carries its font file; the text a reader
extracts is the name; and the page, rendered to an image by PDFium, shows each rare character's
glyph as the font draws it (compared with the same character drawn by PIL from the same font
file, and against the common character a wrong font would show instead).
"""

from __future__ import annotations

import io

import numpy as np
import pytest

import dmi
from dmi.errors import UsageError
from dmi.report import fonts as report_fonts
from dmi.report import render_pdf
from dmi.report.fonts import PLACEHOLDER, find_font
from dmi.report.pdf import PdfFontWarning

from .conftest import mixed_answers

pypdf = pytest.importorskip("pypdf")
pdfium = pytest.importorskip("pypdfium2")

FONT = find_font()
needs_font = pytest.mark.skipif(FONT is None, reason="no CJK font on this machine")

# 𠮷 (U+20BB7, 土 over 口) is printed as 吉 (士 over 口) by a font without it; 𬭚 (U+2CB5A) is
# beyond the Basic Multilingual Plane too
RARE = "𠮷𬭚"
NAME = f"{RARE}精密机械有限公司"


@pytest.fixture(scope="module")
def miit():
    return dmi.load_instrument("miit-2024-manufacturing")


@pytest.fixture(scope="module")
def assessment(miit):
    from dmi.service.reference import shipped_reference

    answers = {**mixed_answers(miit), "sector": "C34", "size_class": "small", "region": "33"}
    return shipped_reference(miit.id).assess(answers), answers


def _pdf(miit, assessment, name, lang="zh", **kw):
    result, answers = assessment
    return render_pdf(
        result,
        instrument=miit,
        lang=lang,
        company_name=name,
        answers={**answers, "company_name": name},
        **kw,
    )


def _fonts_of(data: bytes) -> list[dict]:
    """Every font the PDF's pages use (a Type 0 font: its descendant), resolved."""
    found = []
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for part in font.get("/DescendantFonts", [font]):
                found.append(part.get_object())
    return found


def _extracted(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    return "\n".join(
        page.get_textpage().get_text_range() for page in (document[i] for i in range(len(document)))
    )


@needs_font
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_font_of_the_pdf_is_embedded(miit, assessment, lang):
    data = _pdf(miit, assessment, NAME, lang)
    fonts = _fonts_of(data)
    assert fonts
    for font in fonts:
        descriptor = font.get("/FontDescriptor")
        assert descriptor is not None, f"{font.get('/BaseFont')} is not embedded"
        descriptor = descriptor.get_object()
        assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font
        assert "Helvetica" not in str(font.get("/BaseFont"))
        assert "STSong" not in str(font.get("/BaseFont"))


@needs_font
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_text_of_the_pdf_is_the_name_as_written(miit, assessment, lang):
    data = _pdf(miit, assessment, NAME, lang)
    assert NAME in _extracted(data)
    # and so for another reader (the ToUnicode map is right beyond U+FFFF)
    first = pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert NAME in first


def _ink(image, size=64):
    """The ink of a glyph image: cropped to its dark pixels, scaled to size x size, as bools."""
    from PIL import Image

    grey = np.asarray(image.convert("L"))
    dark = grey < 128
    rows, cols = np.where(dark)
    assert len(rows), "no ink"
    crop = Image.fromarray(grey[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1])
    return np.asarray(crop.resize((size, size), Image.Resampling.BILINEAR)) < 128


def _drawn_by_pil(char: str):
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT.path), size=120, index=FONT.index)
    image = Image.new("L", (240, 240), 255)
    ImageDraw.Draw(image).text((40, 40), char, font=font, fill=0)
    return image


def _drawn_in_pdf(data: bytes, char: str, scale: float = 12.0):
    """The image of the first ``char`` on the PDF's first page, rendered by PDFium."""
    page = pdfium.PdfDocument(data)[0]
    text = page.get_textpage()
    whole = text.get_text_range()
    # PDFium counts a character beyond U+FFFF as two (its UTF-16 units)
    units = whole.encode("utf-16-le", "surrogatepass")
    at = units.find(char.encode("utf-16-le", "surrogatepass")) // 2
    assert at >= 0, f"{char!r} is not on the page"
    left, bottom, right, top = text.get_charbox(at)
    height = page.get_height()
    image = page.render(scale=scale).to_pil()
    pad = 0.25  # the box is the glyph's own: a wider crop takes in the neighbours
    return image.crop(
        (
            int((left - pad) * scale),
            int((height - top - pad) * scale),
            int((right + pad) * scale),
            int((height - bottom + pad) * scale),
        )
    )


@needs_font
@pytest.mark.parametrize(("char", "wrong"), [("𠮷", "吉"), ("𬭚", "镩")])
def test_the_rendered_page_shows_each_rare_character_as_the_font_draws_it(
    miit, assessment, char, wrong
):
    data = _pdf(miit, assessment, NAME)
    shown = _ink(_drawn_in_pdf(data, char))
    right = _ink(_drawn_by_pil(char))
    other = _ink(_drawn_by_pil(wrong))
    # the glyphs differ: the comparison can tell them apart
    assert np.mean(right != other) > 0.03
    mismatch, wrong_mismatch = np.mean(shown != right), np.mean(shown != other)
    assert mismatch < 0.08
    assert mismatch < wrong_mismatch / 2


@needs_font
def test_a_character_no_font_draws_shows_the_placeholder_and_a_note(miit, assessment):
    data = _pdf(miit, assessment, "好运😀企业", "en")
    text = _extracted(data)
    assert f"好运{PLACEHOLDER}企业" in text
    assert "😀" not in text
    assert "U+1F600" in text and "shows them as" in text


@needs_font
def test_the_same_report_gives_the_same_bytes(miit, assessment):
    assert _pdf(miit, assessment, NAME) == _pdf(miit, assessment, NAME)


def test_with_no_font_found_it_says_so_and_falls_back(miit, assessment, monkeypatch):
    monkeypatch.setattr("dmi.report.pdf.find_font", lambda font=None: None)
    with pytest.warns(PdfFontWarning, match="DMI_PDF_FONT"):
        data = _pdf(miit, assessment, NAME, "zh")
    text = _extracted(data)
    assert "未找到可嵌入的中文字体" in text
    # STSong-Light has nothing beyond U+FFFF: the placeholder, never a wrong character
    assert f"{PLACEHOLDER}{PLACEHOLDER}精密机械" in text


def test_a_named_font_that_cannot_be_used_is_refused_naming_it(
    miit, assessment, tmp_path, monkeypatch
):
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"not a font at all")
    monkeypatch.setenv("DMI_PDF_FONT", str(junk))
    with pytest.raises(UsageError, match=r"DMI_PDF_FONT: .*junk\.ttf: not a font file"):
        _pdf(miit, assessment, NAME)
    with pytest.raises(UsageError, match="no such font file"):
        _pdf(miit, assessment, NAME, font=tmp_path / "missing.otf")


def test_a_font_without_chinese_is_refused(miit, assessment):
    from pathlib import Path

    latin = (
        next((p for p in Path("/usr/share/fonts").rglob("DejaVuSans.ttf")), None)
        if Path("/usr/share/fonts").is_dir()
        else None
    )
    if latin is None:
        pytest.skip("no DejaVu Sans here")
    with pytest.raises(UsageError, match="no Chinese characters"):
        _pdf(miit, assessment, NAME, font=latin)


@needs_font
def test_a_named_font_is_used(miit, assessment, monkeypatch):
    monkeypatch.setenv("DMI_PDF_FONT", str(FONT.path))
    assert NAME in _extracted(_pdf(miit, assessment, NAME))


def test_the_unicode_map_writes_characters_beyond_ffff_as_surrogate_pairs():
    report_fonts._patch_reportlab_tounicode()
    from reportlab.pdfbase import ttfonts

    cmap = ttfonts.makeToUnicodeCMap("X", [0x41, 0x20BB7, 0x2CB5A])
    assert "<00> <0041>" in cmap
    assert "<01> <D842DFB7>" in cmap  # 𠮷 in UTF-16BE
    assert "<02> <D872DF5A>" in cmap  # 𬭚
    assert "𠮷".encode("utf-16-be").hex().upper() == "D842DFB7"
    assert "𬭚".encode("utf-16-be").hex().upper() == "D872DF5A"
