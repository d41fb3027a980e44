"""The fast paths of `dmi eligibility` give what the plain ones give (issue 16's speed goal).

A CSV gives every cell as text: number facts are parsed by Arrow in one call where a cell is a
plain ASCII number (:func:`dmi.eligibility.facts._text_numbers`), by the per-distinct-cell
parser otherwise. Both must give the same values and the same problems, on any text.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dmi.eligibility as el
from dmi.eligibility.facts import _parse_column, _Rejects, _text_numbers, facts_table

ODD = [
    "1", "1.", ".5", "-0", "+3", "1e3", "1E-2", " 12 ", "\u300012", "1,500", "1,5000", "35%",
    "１２", "三级", "二级", "abc", "", "   ", None, "nan", "NaN", "inf", "-inf", "1e400",
    "1e-400", "0x10", "1_000", "-5", "2.5", "101", "00012", "٣", "4.0", "-1e3", "1 000",
    "+", "-", ".", "e5", "1e", "3.14.15", "½", "٣.٥", "12%", "100%", "-0.0",
]  # fmt: skip


def _random_cells(seed: int, n: int) -> list:
    rng = np.random.default_rng(seed)
    cells: list = list(rng.choice(np.array(ODD, dtype=object), n))
    forms = [
        lambda x: repr(float(x)),
        lambda x: f"{x:.2f}",
        lambda x: f"{x:.17g}",
        lambda x: f"{round(x):d}",
        lambda x: f"{x:e}",
    ]
    for i in range(n):
        if rng.random() < 0.6:
            x = rng.normal(0, 10 ** rng.integers(0, 7))
            cells[i] = forms[rng.integers(len(forms))](x)
    return cells


def _both(
    column: pd.Series, code: str
) -> tuple[np.ndarray, pd.DataFrame, np.ndarray, pd.DataFrame]:
    fact = facts_table()[code]
    n = len(column)
    rows, ids = np.arange(2, n + 2), np.full(n, "", dtype=object)
    fast_rejects, slow_rejects = _Rejects(n), _Rejects(n)
    fast = _text_numbers(column, fact, fast_rejects)
    assert fast is not None
    slow = _parse_column(column, fact, slow_rejects, np.arange(n))  # the per-cell parser
    return fast, fast_rejects.table(rows, ids), slow, slow_rejects.table(rows, ids)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "code",
    ["revenue_y1", "net_profit_y1", "debt_ratio", "ip_class1", "digital_level", "award_rank"],
)
@pytest.mark.parametrize("dtype", ["str", object])
def test_text_numbers_are_parsed_as_the_plain_parser_does(seed, code, dtype):
    column = pd.Series(_random_cells(seed, 3000), dtype=dtype)
    fast, fast_rejects, slow, slow_rejects = _both(column, code)
    np.testing.assert_array_equal(fast, slow)  # NaN where NaN, the same floats elsewhere
    pd.testing.assert_frame_equal(fast_rejects, slow_rejects)
    assert np.isfinite(fast).sum() > 200 and len(fast_rejects) > 300  # both kinds of cells


def test_a_column_without_blanks_or_odd_cells():
    # Arrow's parse without a null can be a read-only view: the values must still be ours
    column = pd.Series(["1", "2.5", "300"], dtype="str")
    fast, rejects, slow, _ = _both(column, "debt_ratio")
    np.testing.assert_array_equal(fast, slow)
    assert list(fast[:2]) == [1.0, 2.5] and np.isnan(fast[2])
    assert list(rejects["reason"]) == ["300 is above the maximum 100 %"]
    fast[0] = 7.0  # writable


def test_a_firms_file_evaluates_as_its_frame_does(tmp_path):
    # the file's cells as text (the CSV path) against the frame's floats (the numeric path)
    firms = el.synthetic_firms(2000, seed=8)
    firms.to_csv(tmp_path / "f.csv", index=False)
    as_text = pd.read_csv(tmp_path / "f.csv", dtype=str, keep_default_na=False)
    as_text = as_text.replace("", None)
    pd.testing.assert_frame_equal(
        el.evaluate(as_text, "2026", lang="en"), el.evaluate(firms, "2026", lang="en")
    )


# cells Arrow's float cast takes whole: a column of only these is cast in one call, blanks
# made null (the common case of a real file); the non-plain ones among them ("nan", "inf",
# "1e400") must still be worded as the per-cell parser words them
_ARROW_TAKES = ["1", "1.", ".5", "-0", "1e3", "1E-2", " 12 ", "", "   ", None, "nan", "NaN"]
_ARROW_TAKES += ["inf", "-inf", "1e400", "1e-400", "-5", "2.5", "101", "00012", "4.0", "-0.0"]


# without spaces, a column Arrow casts as it is (the usual column of a real file), taken without
# a pattern per cell; with them, its plain cells are cast after trimming
_ARROW_WHOLE = [c for c in _ARROW_TAKES if c is None or c == c.strip()]


@pytest.mark.parametrize(
    ("seed", "cells"),
    [(3, _ARROW_TAKES), (4, _ARROW_TAKES), (5, _ARROW_TAKES), (6, _ARROW_WHOLE), (7, _ARROW_WHOLE)],
    ids=["spaces-3", "spaces-4", "spaces-5", "no-spaces-6", "no-spaces-7"],
)
@pytest.mark.parametrize(
    "code", ["revenue_y1", "debt_ratio", "ip_class1", "digital_level", "award_rank"]
)
@pytest.mark.parametrize("dtype", ["str", object])
def test_a_column_arrow_casts_whole_is_parsed_as_the_plain_parser_does(seed, cells, code, dtype):
    rng = np.random.default_rng(seed)
    cells = list(rng.choice(np.array(cells, dtype=object), 3000))
    for i in np.flatnonzero(rng.random(3000) < 0.6):
        cells[i] = f"{rng.normal(0, 10 ** rng.integers(0, 7)):.{rng.integers(0, 4)}f}"
    column = pd.Series(cells, dtype=dtype)
    fast, fast_rejects, slow, slow_rejects = _both(column, code)
    np.testing.assert_array_equal(fast, slow)
    pd.testing.assert_frame_equal(fast_rejects, slow_rejects)
    assert np.isfinite(fast).sum() > 200 and len(fast_rejects) > 100


@pytest.mark.parametrize("decimals", [0, 2])
@pytest.mark.parametrize("mode", ["floor", "ceil", "round"])
def test_gap_numbers_are_written_as_percent_g_writes_them(decimals, mode):
    # the gap texts' numbers are written by Arrow: the same text as "%.15g" / "%+.15g"
    from dmi.eligibility.gaps import _number_texts, _Signed, rounded

    rng = np.random.default_rng(decimals * 10 + len(mode))
    values = rng.normal(0, 1, 50_000) * 10.0 ** rng.integers(-6, 14, 50_000)
    edges = [0.0, -0.0, 1e9, 1e9 - 0.01, 1e-4, 0.01, -0.01, 999_999_999.99, 1e15, 1e21]
    values = rounded(np.r_[values, edges, np.nan, np.inf, -np.inf], decimals, mode)
    assert _number_texts(values).to_pylist() == [format(v, ".15g") for v in values.tolist()]
    signed = _number_texts(_Signed(values)).to_pylist()
    assert signed == [format(v, "+.15g") for v in values.tolist()]
    # a gap's numbers are nearly always all in hundredths below 1e9: written part by part
    plain = values[np.abs(values) < 1e9]
    assert _number_texts(plain).to_pylist() == [format(v, ".15g") for v in plain.tolist()]
    signed = _number_texts(_Signed(plain)).to_pylist()
    assert signed == [format(v, "+.15g") for v in plain.tolist()]
