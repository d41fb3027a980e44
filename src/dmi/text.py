"""Text as dmi reads it: one folding of what people type, for every layer.

A cell, a header, an id or a label is matched after :func:`folded`: Unicode's compatibility
form (NFKC: full-width ``３`` and ``（`` are ``3`` and ``(``), typographic quotes as ASCII
ones (Chinese input methods and official texts write 专精特新“小巨人”, a file typed elsewhere
专精特新"小巨人"), and the invisible format characters (a zero-width space pasted from a web
page, a byte-order mark inside a cell) taken out, so that text that looks the same is the same.
:func:`match_key` is that, in any case and without spaces, for names matched loosely (headers,
places, units).
"""

from __future__ import annotations

import unicodedata

__all__ = ["counted", "folded", "match_key", "mid_sentence"]

_QUOTES = {
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u301d\u301e\u301f", '"'),  # “ ” „ ‟ 〝 〞 〟
    **dict.fromkeys("\u2018\u2019\u201a\u201b", "'"),  # ‘ ’ ‚ ‛
}
_INVISIBLE = "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e" + (
    "\u2060\u2061\u2062\u2063\u2064\ufeff"
)
"""Format characters with no width that people paste, never mean: soft hyphen, zero-width
spaces and joiners, direction marks and embeddings, the word joiner, the byte-order mark."""

_FOLD = str.maketrans({**_QUOTES, **dict.fromkeys(_INVISIBLE, None)})


def folded(text: str) -> str:
    """``text`` in NFKC, with typographic quotes as ASCII quotes and invisible format
    characters taken out (not trimmed: callers trim as their cells need).

    ASCII text is its own folded form and is returned as it is.
    """
    if text.isascii():
        return text
    # the invisible characters out first: one between a letter and its accent would keep NFKC
    # from composing them (café and cafe\u200b\u0301 would stay two texts); NFKC makes none
    # of the characters folded here, so once is enough
    return unicodedata.normalize("NFKC", text.translate(_FOLD))


def match_key(text: str) -> str:
    """``text`` :func:`folded`, in lower case (``casefold``), without any whitespace: how a
    header, a place or a unit is matched (``上年营业收入 （万元）`` is ``上年营业收入(万元)``)."""
    return "".join(folded(text).casefold().split())


def counted(n: int, noun: str) -> str:
    """``n`` and a noun, plural but for one (``1 row``, ``0 rows``, ``2 problems``), as dmi's
    messages count things."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def mid_sentence(label: str) -> str:
    """A label as it reads inside an English sentence: its first letter in lower case where the
    second is lower case ("… is above revenue, the year before 3500万元", not "… is above
    Revenue, …"); an acronym stays (R&D, SME, MIIT), as does a label in Chinese."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label
