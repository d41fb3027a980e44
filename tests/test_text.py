"""dmi.text: the one folding of what people type."""

from __future__ import annotations

import pytest

from dmi.text import folded, match_key, mid_sentence


@pytest.mark.parametrize(
    "typed, read",
    [
        ("专精特新“小巨人”", '专精特新"小巨人"'),  # a Chinese input method's quotes
        ("专精特新〝小巨人〞", '专精特新"小巨人"'),
        ("the firm’s ‘title’", "the firm's 'title'"),
        ("４０００", "4000"),  # full-width, as NFKC folds it
        ("（万元）", "(万元)"),
        ("4000\u200b", "4000"),  # a zero-width space pasted from a web page
        ("\ufeffB1", "B1"),  # a byte-order mark inside a cell
        ("是\u2060", "是"),  # word joiner
        ("B\u200d1\u200e", "B1"),  # a joiner and a direction mark
        ("soft\u00adhyphen", "softhyphen"),
        (" spaces stay ", " spaces stay "),  # callers trim as their cells need
        ("plain ASCII \"quotes\" 'stay'", "plain ASCII \"quotes\" 'stay'"),
        ("2′30″", "2′30′′"),  # primes are no quotes: only NFKC's own folding
    ],
)
def test_folded_reads_text_that_looks_the_same_as_the_same(typed, read):
    assert folded(typed) == read


def test_folding_is_done_once_for_all():
    # a zero-width space between a letter and its accent kept NFKC from composing them: café
    # and cafe\u200b\u0301 look the same and stayed two ids
    assert folded("cafe\u200b\u0301") == folded("café") == "café"
    for text in ("cafe\u200b\u0301", "“a”\ufeff", "Ａ\u200bＢ", "专精特新“小巨人”"):
        assert folded(folded(text)) == folded(text)


def test_match_key_folds_case_width_quotes_and_every_space():
    assert match_key("是否持有专精特新“小巨人”称号") == match_key('是否持有专精特新"小巨人"称号')
    assert match_key("上年营业收入 （万元）") == "上年营业收入(万元)"
    assert match_key("Revenue\u3000Y1\t") == "revenuey1"  # an ideographic space, a tab
    assert match_key("Ｒｅｖｅｎｕｅ") == "revenue"


@pytest.mark.parametrize(
    ("label", "inside"),
    [
        ("Revenue, the year before", "revenue, the year before"),
        ("R&D expenses, last fiscal year", "R&D expenses, last fiscal year"),
        ("SME", "SME"),
        ("MIIT digital level", "MIIT digital level"),
        ("上年营业收入", "上年营业收入"),
        ("a", "a"),
        ("", ""),
    ],
)
def test_a_label_inside_an_english_sentence_keeps_its_acronyms(label, inside):
    assert mid_sentence(label) == inside
