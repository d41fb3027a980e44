"""The gaps of a frame joined by Arrow give what a plain Python join gives, row by row.

:func:`dmi.eligibility.gaps.join_pieces` makes every row's text without a Python string per
entry (the pieces' texts made by Arrow, gathered in row order, each row's entries one list
joined by Arrow, "N more" added by Arrow). The plain join below is the rule written row by row:
a row's entries in the pieces' order; consecutive pieces of one condition (the same suffix) are
one gap, their texts joined by a comma and the suffix said once; the gaps joined by the
separator after the prefix, at most ``max_gaps`` of them, then "N more" when the row has more
(``total`` counts the gaps only counted); a row without a gap shown is "".
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dmi.eligibility.gaps import Piece, _Change, join_pieces, joined_rows
from dmi.locales import text as words


def plain_join(n, pieces, positions_of, max_gaps, lang, total=None, prefix=""):
    en = lang != "zh"
    comma, sep = (", ", "; ") if en else ("，", "；")
    entries = [[] for _ in range(n)]
    for p in pieces:
        for k, position in enumerate(p.positions):
            joins = (p.condition, p.suffix) if p.suffix else None
            text = p.texts(np.array([k]))[0]
            mark = words("eligibility.after_changes", p.lang) if p.after_changes else ""
            assert text.startswith(mark)
            entries[positions_of[position]].append((joins, text, p.suffix, mark))
    out = []
    for row in range(n):
        # a row's entries of one condition and suffix are one gap, where its first is; a gap
        # says once that it is worked out after the changes: an entry after one that said it
        # does not say it again; a gap one of whose entries is so worked out goes where its last
        # entry is (the changes it follows stay above it)
        gaps = []
        for g, text, suffix, mark in entries[row]:
            at = next((i for i, gap in enumerate(gaps) if g is not None and gap[0] == g), None)
            if at is not None:
                if mark and gaps[at][3]:
                    text = text[len(mark) :]
                joined = (g, gaps[at][1] + comma + text, suffix, mark, gaps[at][4] or bool(mark))
                if joined[4]:
                    del gaps[at]
                    gaps.append(joined)
                else:
                    gaps[at] = joined
            else:
                gaps.append((g, text, suffix, mark, bool(mark)))
        said = [text + suffix for _, text, suffix, _, _ in gaps]
        shown = said if max_gaps is None else said[:max_gaps]
        if not shown:
            out.append("")
            continue
        text = prefix + sep.join(shown)
        count = max(len(said), 0 if total is None else int(total[row]))
        if max_gaps is not None and count > max_gaps:
            more = count - max_gaps
            text += sep + (f"{more} more" if en else f"另有 {more} 项")
        out.append(text)
    return out


# texts with what could trip a join: empty, CJK, separators, "%" and braces
_text = st.text(alphabet=st.sampled_from(list("ab1 ,;%{}→研发（）：\u3000é")), max_size=6)


@st.composite
def _pieces(draw):
    n = draw(st.integers(0, 8))
    m = draw(st.integers(n, n + 3))  # the rung's rows: some are not rows of the frame
    to_frame = np.full(m, -1)
    to_frame[draw(st.permutations(range(m)))[:n]] = np.arange(n)
    on_frame = np.flatnonzero(to_frame >= 0)
    pieces = []
    for _ in range(draw(st.integers(0, 6))):
        chosen = draw(st.lists(st.sampled_from(list(on_frame)), unique=True) if n else st.just([]))
        positions = np.array(chosen, dtype=np.intp)
        condition = draw(st.sampled_from(["c1", "c2", ""]))
        suffix = draw(st.sampled_from(["", f" meets {condition}", " x"]))
        if draw(st.booleans()) or not len(positions):
            text = np.array([draw(_text) for _ in positions], dtype=object)
            after = draw(st.booleans())  # worked out after the changes (a follow-up)
            pieces.append(
                Piece(positions, condition, "missing", text, suffix, after_changes=after, lang="zh")
            )
            continue
        # a change: its text made by Arrow from the numbers, some undefined
        k = len(positions)
        numbers = st.one_of(
            st.integers(-(10**6), 10**6).map(lambda x: x / 100), st.floats(-1e12, 1e12)
        )
        source = _Change(
            positions=positions,
            label=draw(_text),
            of_unit=draw(st.sampled_from([None, "万元", "%", "人"])),
            current=np.array(draw(st.lists(numbers, min_size=k, max_size=k))),
            target=draw(numbers),
            op=draw(st.sampled_from(["at_least", "above", "at_most", "below"])),
            fact=None,
            fact_label="",
            fact_unit=draw(st.sampled_from([None, "万元"])),
            fact_current=None,
            delta=np.array(draw(st.lists(numbers, min_size=k, max_size=k))),
            undefined=np.array(draw(st.lists(st.booleans(), min_size=k, max_size=k)), bool),
            undefined_text=np.array([draw(_text) for _ in range(k)], dtype=object),
        )
        lang = draw(st.sampled_from(["zh", "en"]))
        after = draw(st.booleans())
        pieces.append(
            Piece(
                positions, condition, "change", None, suffix, source=source, lang=lang,
                after_changes=after,
            )
        )  # fmt: skip
    total = np.array(draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)), dtype=np.int32)
    return n, pieces, to_frame, total


@settings(max_examples=300, deadline=None)
@given(
    case=_pieces(),
    max_gaps=st.sampled_from([0, 1, 2, 3, None]),
    lang=st.sampled_from(["zh", "en"]),
    counted=st.booleans(),
    prefix=st.sampled_from(["", "专精特新（2026）：", "P: "]),
)
def test_the_arrow_join_is_the_plain_join_row_by_row(case, max_gaps, lang, counted, prefix):
    n, pieces, to_frame, total = case
    total = total if counted else None
    got = join_pieces(n, pieces, to_frame, max_gaps, lang, total, prefix=prefix)
    assert got.dtype == object and len(got) == n
    assert list(got) == plain_join(n, pieces, to_frame, max_gaps, lang, total, prefix)
    assert all(type(v) is str for v in got)
    rows, texts = joined_rows(n, pieces, to_frame, max_gaps, lang, total, prefix=prefix)
    assert list(rows) == sorted(set(rows.tolist())) and texts.to_pylist() == list(got[rows])
    assert set(np.flatnonzero(got != "").tolist()) <= set(rows.tolist())
    for p in pieces:  # a piece's own texts, alone and between others, row by row
        at = np.arange(len(p.positions))[::-1]
        alone = [p.texts(np.array([k]))[0] for k in at]
        assert list(p.texts(at)) == alone == p.arrow_texts(at).to_pylist()
        before = np.array([f"<{k}" for k in at], dtype=object)
        after = np.array([f"{k}>" for k in at], dtype=object)
        assert list(p.texts(at, before, after)) == [f"<{k}{x}{k}>" for k, x in zip(at, alone)]


def _piece(positions, condition, texts, suffix=""):
    return Piece(
        np.array(positions), condition, "change", np.array(texts, dtype=object), suffix, lang="en"
    )


WORKED = [
    _piece([0, 1, 3], "c1", ["a0", "a1", "a3"], " meets c1"),
    _piece([0, 3], "c1", ["b0", "b3"], " meets c1"),  # one gap with the piece above
    _piece([3], "c2", ["c3"], " meets c2"),
    _piece([], "c2", [], " meets c2"),  # empty: does not part c2's pieces
    _piece([1, 3], "c2", ["d1", "d3"], " meets c2"),  # one gap with "c3" on row 3
    _piece([3, 4], "", ["missing: x", "missing: y"]),
]


@pytest.mark.parametrize(
    ("max_gaps", "expected"),
    [
        (
            None,
            [
                "P: a0, b0 meets c1",
                "P: a1 meets c1; d1 meets c2",
                "",
                "P: a3, b3 meets c1; c3, d3 meets c2; missing: x",
                "P: missing: y",
            ],
        ),
        (
            1,
            [
                "P: a0, b0 meets c1",
                "P: a1 meets c1; 1 more",
                "",
                "P: a3, b3 meets c1; 2 more",
                "P: missing: y; 4 more",  # 5 counted on the row (total)
            ],
        ),
        (0, ["", "", "", "", ""]),
    ],
)
def test_joined_gaps_worked_by_hand(max_gaps, expected):
    total = np.array([0, 0, 0, 0, 5])
    # row 2 has no gap: ""; row 4 has 5 gaps counted, 1 worked out
    assert list(join_pieces(5, WORKED, np.arange(5), max_gaps, "en", total, "P: ")) == expected
    assert plain_join(5, WORKED, np.arange(5), max_gaps, "en", total, "P: ") == expected


@settings(max_examples=60, deadline=None)
@given(
    names=st.integers(0, 100),
    rows=st.integers(0, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_listed_names_of_each_row_are_its_masks_names_in_order(names, rows, seed):
    # the lists of facts to provide and of conditions for review: each distinct combination of
    # masks is joined once (as one 64-bit number a row up to 64 names, as bytes beyond)
    from dmi.eligibility.gaps import _list_texts

    rng = np.random.default_rng(seed)
    items = [(f"n{k}", rng.random(rows) < rng.random()) for k in range(names)]
    words, which = _list_texts(rows, items)
    expected = [", ".join(name for name, mask in items if mask[r]) for r in range(rows)]
    assert [words[w] for w in which] == expected


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_gap_says_once_that_it_is_worked_out_after_the_changes(lang):
    after = words("eligibility.after_changes", lang)
    pieces = [
        _piece([0, 1], "c1", ["a0", "a1"], " meets c1"),
        dataclasses.replace(_piece([0, 1], "c2", ["b0", "b1"], " meets c2"), after_changes=True),
        dataclasses.replace(_piece([0], "c2", ["c0"], " meets c2"), after_changes=True),
        _piece([1], "c2", ["d1"], " meets c2"),
        dataclasses.replace(_piece([1], "c2", ["e1"], " meets c2"), after_changes=True),
    ]
    for p in pieces:
        p.lang = lang
    got = join_pieces(2, pieces, np.arange(2), None, lang)
    comma, sep = (", ", "; ") if lang == "en" else ("，", "；")
    assert list(got) == [
        f"a0 meets c1{sep}{after}b0{comma}c0 meets c2",
        # an entry after one that does not say it says it again
        f"a1 meets c1{sep}{after}b1{comma}d1{comma}{after}e1 meets c2",
    ]


def test_a_gap_with_a_follow_up_goes_below_the_changes_the_follow_up_is_after():
    # a reviewer's list: "last year's R&D share 1.22% → 3% (+79.71万元), after the changes above,
    # R&D share
    # y1 2.56% → 3% (+22.92万元) meets sr22_rd; sr22_score: … (+764.03万元 last year's main
    # revenue)": the
    # change that lowered the share came after the words "above"
    pieces = [
        _piece([0, 1], "c1", ["a0", "a1"], " meets c1"),
        _piece([0, 1], "c2", ["b0", "b1"], " meets c2"),
        dataclasses.replace(_piece([0], "c1", ["e0"], " meets c1"), after_changes=True),
        _piece([0, 1], "", ["missing: x", "missing: y"]),
    ]
    for p in pieces:
        p.lang = "en"
    after = words("eligibility.after_changes", "en")
    got = join_pieces(2, pieces, np.arange(2), None, "en")
    assert list(got) == [
        f"b0 meets c2; a0, {after}e0 meets c1; missing: x",
        "a1 meets c1; b1 meets c2; missing: y",  # no follow-up: where its first is
    ]
    capped = join_pieces(2, pieces, np.arange(2), 1, "en")
    assert list(capped) == ["b0 meets c2; 2 more", "a1 meets c1; 2 more"]
