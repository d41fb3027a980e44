"""The PDF report's font: a CJK font found on the system (or named), embedded as a subset.

A PDF that only names a font (reportlab's built-in ``STSong-Light``) leaves the characters to the
reader's own fonts, which print rare characters of a company name (𠮷, 𬭚) wrongly or not at
all. So the report embeds the glyphs it uses from a real font file:

1. the file named by the ``DMI_PDF_FONT`` setting (a ``.ttf``, ``.otf`` or ``.ttc``), or passed
   to :func:`dmi.report.render_pdf` as ``font=``;
2. else a CJK font that fontconfig (``fc-match``) names: Noto Sans CJK SC, Source Han Sans SC,
   Noto Serif CJK SC, ... (Debian/Ubuntu: ``apt-get install fonts-noto-cjk``);
3. else one of the usual places of such fonts on Linux, macOS and Windows.

The bold face is the file's sibling with ``Bold`` for ``Regular`` in its name, when there is one.
Noto and Source Han fonts have PostScript (CFF) outlines, which reportlab cannot embed: the subset
is converted to TrueType outlines (quadratic curves, within one font unit) with fontTools first.
A character the font has no glyph for (an emoji, say) is never drawn as another character: the
report shows :data:`PLACEHOLDER` and says which characters it stands for.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from dmi.errors import UsageError

__all__ = ["FONT_SETTING", "PLACEHOLDER", "FontFile", "embed_subset", "find_font"]

FONT_SETTING = "DMI_PDF_FONT"
"""The environment variable that names the PDF report's font file."""

PLACEHOLDER = "□"
"""What the PDF shows for a character that its font cannot draw (U+25A1 WHITE SQUARE)."""

# in order of preference; fontconfig names the file of the first one installed
_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
)
_KNOWN_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian, Ubuntu
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Fedora, Arch
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",  # macOS
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/msyh.ttc",  # Windows
    "C:/Windows/Fonts/simsun.ttc",
)
# a font is a CJK font when it draws these (中, 文)
_PROBE = (0x4E2D, 0x6587)


@dataclass(frozen=True)
class FontFile:
    """A font file and, in a collection (``.ttc``), the face to use."""

    path: Path
    index: int = 0
    bold: FontFile | None = None

    @property
    def name(self) -> str:
        """A name for the face (file name and index)."""
        return f"{self.path.stem}-{self.index}"


def find_font(font: str | os.PathLike[str] | None = None) -> FontFile | None:
    """The report's font: ``font``, else the ``DMI_PDF_FONT`` file, else a CJK font found on
    the system; None when there is none.

    Raises
    ------
    UsageError
        When a font file was named (argument or setting) but cannot be used: it does not exist,
        is no font, or draws no Chinese.
    """
    named = font if font is not None else os.environ.get(FONT_SETTING) or None
    if named is not None:
        where = "font" if font is not None else FONT_SETTING
        found = _open(Path(named))
        if isinstance(found, str):
            raise UsageError(f"{where}: {named}: {found}")
        return found
    for candidate in [*_fc_match(), *(Path(p) for p in _KNOWN_PATHS)]:
        found = _open(candidate)
        if isinstance(found, FontFile):
            return found
    return None


def _fc_match() -> list[Path]:
    """The files fontconfig gives for the preferred families (it falls back to any font, so
    the caller checks that a file draws Chinese)."""
    if shutil.which("fc-match") is None:
        return []
    found = []
    for family in _FAMILIES:
        try:
            done = subprocess.run(
                ["fc-match", "--format=%{file}", f"{family}:style=Regular"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return found
        if done.returncode == 0 and done.stdout.strip():
            path = Path(done.stdout.strip())
            if path not in found:
                found.append(path)
    return found


def _open(path: Path) -> FontFile | str:
    """The face of ``path`` to use (with its bold sibling), or what is wrong with the file."""
    face = _face(path)
    if isinstance(face, str):
        return face
    bold = None
    if "Regular" in path.name:
        sibling = path.with_name(path.name.replace("Regular", "Bold"))
        bold_face = _face(sibling) if sibling.is_file() else None
        bold = bold_face if isinstance(bold_face, FontFile) else None
    return FontFile(face.path, face.index, bold)


@lru_cache(maxsize=16)
def _face(path: Path) -> FontFile | str:
    if not path.is_file():
        return "no such font file"
    from fontTools.ttLib import TTCollection, TTFont, TTLibError

    try:
        with path.open("rb") as f:
            collection = f.read(4) == b"ttcf"
        faces = (
            TTCollection(str(path), lazy=True).fonts
            if collection
            else [TTFont(str(path), lazy=True)]
        )
        # in a collection of CJK faces, the Simplified Chinese one (reading a face's cmap
        # takes a while: only the chosen face's is read)
        names = [str(face["name"].getDebugName(1) or "") for face in faces]
    except (OSError, TTLibError, ValueError, KeyError) as exc:
        return f"not a font file ({exc})"
    index = next((i for i, n in enumerate(names) if n.endswith(" SC")), 0)
    if not _draws(faces[index], _PROBE):
        return "the font has no Chinese characters"
    return FontFile(path, index)


def _draws(font: Any, points: tuple[int, ...]) -> bool:
    try:
        cmap = font.getBestCmap() or {}
    except Exception:  # a broken cmap table: no use either
        return False
    return all(p in cmap for p in points)


# the subsets registered with reportlab, newest last: (name -> characters the font lacks); a
# report downloaded again reuses its subset, and the oldest are dropped so a server that makes
# many reports does not keep every subset
_REGISTERED: OrderedDict[str, frozenset[str]] = OrderedDict()
_KEEP = 32
_LOCK = threading.Lock()


def embed_subset(font: FontFile, text: str) -> tuple[str, frozenset[str]]:
    """Register with reportlab the glyphs of ``font`` that ``text`` needs (and
    :data:`PLACEHOLDER`): return the font's registered name and the characters of ``text`` the
    font cannot draw.

    The subset is a TrueType font (CFF outlines converted), which reportlab embeds in the PDF
    (as subsets of its own: every font of the PDF is embedded). Its name is a hash of the file,
    the face and the characters, so the same report uses the same subset.
    """
    wanted = {c for c in text if c == " " or (not c.isspace() and ord(c) >= 0x20)}
    key = f"{font.path.resolve()}|{font.index}|{''.join(sorted(wanted))}"
    name = "DMI" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:20]
    with _LOCK:
        if name in _REGISTERED:
            _REGISTERED.move_to_end(name)
            return name, _REGISTERED[name]
        missing = _register(font, wanted, name)
        _REGISTERED[name] = missing
        while len(_REGISTERED) > _KEEP:
            _forget(_REGISTERED.popitem(last=False)[0])
    return name, missing


def _forget(name: str) -> None:
    from reportlab.pdfbase import pdfmetrics

    # reportlab keeps registered fonts for the life of the process; these are ours to drop
    pdfmetrics._fonts.pop(name, None)
    pdfmetrics._dynFaceNames.pop(name, None)


@lru_cache(maxsize=4)
def _source(path: Path, index: int) -> tuple[Any, dict[int, str]]:
    """A font face, read once (lazily: only the glyphs drawn are decoded), and its cmap."""
    from fontTools.ttLib import TTFont

    face = TTFont(str(path), fontNumber=index, lazy=True)
    return face, face.getBestCmap()


def _register(font: FontFile, wanted: set[str], name: str) -> frozenset[str]:
    """Build a TrueType font of the glyphs of ``wanted`` (and the placeholder) from ``font``,
    register it with reportlab as ``name``, and return the characters it lacks.

    Only the glyphs used are read from the source font (the whole font is tens of MB), their
    outlines converted to quadratic curves (within one font unit) and components decomposed:
    reportlab embeds TrueType outlines only.
    """
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.recordingPen import DecomposingRecordingPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont as ReportlabFont

    _patch_reportlab_tounicode()
    source, cmap = _source(font.path, font.index)
    missing = frozenset(c for c in wanted if ord(c) not in cmap)
    points = sorted({ord(c) for c in wanted - missing} | ({ord(PLACEHOLDER)} & cmap.keys()))
    order = [".notdef", *sorted({cmap[p] for p in points} - {".notdef"})]
    outlines = source.getGlyphSet()
    glyphs = {}
    for glyph in order:
        recorded = DecomposingRecordingPen(outlines)
        outlines[glyph].draw(recorded)
        pen = TTGlyphPen(None)
        # PostScript (cubic) outlines run the other way round from TrueType ones
        cubic = "CFF " in source or "CFF2" in source
        recorded.replay(Cu2QuPen(pen, 1.0, reverse_direction=cubic))
        glyphs[glyph] = pen.glyph()
    builder = FontBuilder(source["head"].unitsPerEm, isTTF=True)
    builder.setupGlyphOrder(order)
    builder.setupCharacterMap({p: cmap[p] for p in points})
    builder.setupGlyf(glyphs)
    glyf = builder.font["glyf"]
    widths = source["hmtx"].metrics
    builder.setupHorizontalMetrics({g: (widths[g][0], getattr(glyf[g], "xMin", 0)) for g in order})
    hhea, os2 = source["hhea"], source["OS/2"]
    builder.setupHorizontalHeader(ascent=hhea.ascent, descent=hhea.descent)
    builder.setupNameTable({"familyName": name, "styleName": "Regular", "psName": name})
    builder.setupOS2(
        sTypoAscender=os2.sTypoAscender,
        sTypoDescender=os2.sTypoDescender,
        sTypoLineGap=os2.sTypoLineGap,
        usWinAscent=os2.usWinAscent,
        usWinDescent=os2.usWinDescent,
        sxHeight=getattr(os2, "sxHeight", 0),
        sCapHeight=getattr(os2, "sCapHeight", 0),
        usWeightClass=os2.usWeightClass,
        fsType=0,
    )
    builder.setupPost()
    data = BytesIO()
    builder.save(data)
    data.seek(0)
    pdfmetrics.registerFont(ReportlabFont(name, data))
    return missing


@lru_cache(maxsize=1)
def _patch_reportlab_tounicode() -> None:
    """Make reportlab's ToUnicode maps right for characters beyond U+FFFF.

    reportlab writes such a character as ``<20BB7>``, which no reader can decode (an odd number
    of hex digits): copying or searching 𠮷 in the PDF would fail. A PDF maps a code to UTF-16BE,
    so it is written as its surrogate pair, ``<D842DFB7>``.
    """
    from reportlab.pdfbase import ttfonts

    original = ttfonts.makeToUnicodeCMap

    def utf16(point: int) -> str:
        if point <= 0xFFFF:
            return f"{point:04X}"
        point -= 0x10000
        return f"{0xD800 + (point >> 10):04X}{0xDC00 + (point & 0x3FF):04X}"

    def make(fontname: str, subset: list[int]) -> str:
        text = original(fontname, [min(v, 0xFFFF) for v in subset])
        # the original's lines "<code> <value>" in order: put each right value in
        lines = text.split("\n")
        start = lines.index(f"{len(subset)} beginbfchar") + 1
        for i, value in enumerate(subset):
            lines[start + i] = f"<{i:02X}> <{utf16(value)}>"
        return "\n".join(lines)

    ttfonts.makeToUnicodeCMap = make
