"""Properties of the index that must hold for any answers (hypothesis)."""

from __future__ import annotations

import decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dmi
from dmi.instruments.synth import synthesise

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _multi_answers(item, instrument):
    ticks = [o.value for o in item.options if not o.exclusive]
    none = [o.value for o in item.options if o.exclusive]
    return st.one_of(
        st.sets(st.sampled_from(ticks), min_size=1).map(";".join),
        st.sampled_from(none or ticks),
    )


# valid answers of an item, by the item types the shipped instrument uses
_ANSWERS = {
    "single": lambda item, instrument: st.sampled_from([o.value for o in item.options]),
    "multi": _multi_answers,
    "number": lambda item, instrument: st.floats(item.min, item.max, allow_nan=False).map(
        lambda x: round(x, 2)
    ),
    "scenario": lambda item, instrument: st.integers(
        0, max(lv.value for lv in instrument.scenario_levels)
    ),
}


def _answer_strategy(item, instrument):
    return _ANSWERS[item.type](item, instrument)


@st.composite
def answer_rows(draw, instrument):
    row = {}
    for item in instrument.items:
        row[item.code] = draw(st.one_of(st.none(), _answer_strategy(item, instrument)))
    return row


MIIT = dmi.load_instrument("miit-2024-manufacturing")
OFFICIAL = dmi.IndexModel(MIIT).fit()
REFERENCE = synthesise(MIIT, 300, seed=5)
MODELS = {
    "official": OFFICIAL,
    "equal-dimension": dmi.IndexModel(MIIT, weighting="equal", weight_level="dimension").fit(),
    "entropy": dmi.IndexModel(MIIT, weighting="entropy").fit(REFERENCE),
    "geometric": dmi.IndexModel(MIIT, aggregation="geometric").fit(),
}


def _better_option(item, value):
    current = next(o for o in item.options if o.value == value)
    better = [o for o in item.options if o.points > current.points]
    return better[0].value if better else None


def _more_ticks(item, value):
    ticked = set(value.split(";"))
    free = [o.value for o in item.options if not o.exclusive and o.value not in ticked]
    if any(o.exclusive and o.value in ticked for o in item.options):
        return next(o.value for o in item.options if not o.exclusive)
    return ";".join(sorted(ticked | {free[0]})) if free else None


# a strictly better answer, by item type (None when the answer is already the best)
_BETTER = {
    "single": _better_option,
    "multi": _more_ticks,
    "number": lambda item, value: item.max if value < item.max else None,
    "scenario": lambda item, value: value + 1 if value < 4 else None,
}


def _improve(item, value):
    """A strictly better answer for one item, or None when the answer is already the best."""
    return None if value is None else _BETTER[item.type](item, value)


@SETTINGS
@given(rows=st.lists(answer_rows(MIIT), min_size=1, max_size=6))
def test_index_is_within_0_and_100(rows):
    frame = pd.DataFrame([{"respondent_id": f"r{i}", **r} for i, r in enumerate(rows)])
    for model in MODELS.values():
        scores = model.score(frame)
        assert scores["dmi"].between(0, 100).all()
        for d in MIIT.dimensions:
            assert scores[f"dim_{d.code}"].between(0, 100).all()


@SETTINGS
@given(row=answer_rows(MIIT), which=st.integers(0, len(MIIT.items) - 1))
def test_improving_one_answer_never_lowers_the_index(row, which):
    item = MIIT.items[which]
    better = _improve(item, row[item.code])
    if better is None:
        return
    frame = pd.DataFrame(
        [{"respondent_id": "before", **row}, {"respondent_id": "after", **row, item.code: better}]
    )
    for name, model in MODELS.items():
        before, after = model.score(frame)["dmi"].tolist()
        assert after >= before - 1e-9, (name, item.code, row[item.code], better)


@SETTINGS
@given(rows=st.lists(answer_rows(MIIT), min_size=2, max_size=8), seed=st.integers(0, 10_000))
def test_row_order_and_batching_do_not_change_any_result(rows, seed):
    frame = pd.DataFrame([{"respondent_id": f"r{i}", **r} for i, r in enumerate(rows)])
    order = np.random.default_rng(seed).permutation(len(frame))
    for model in MODELS.values():
        batch = model.score(frame).set_index("respondent_id")
        shuffled = model.score(frame.iloc[order]).set_index("respondent_id")
        pd.testing.assert_frame_equal(batch, shuffled.loc[batch.index], check_exact=True)
    for model in (MODELS["official"], MODELS["entropy"]):
        batch = model.score(frame).set_index("respondent_id")
        for i in range(len(frame)):
            alone = model.score(frame.iloc[[i]]).set_index("respondent_id")
            pd.testing.assert_frame_equal(alone, batch.iloc[[i]], check_exact=True)


def test_one_row_equals_its_place_in_a_large_batch():
    big = synthesise(MIIT, 5000, seed=99)
    batch = OFFICIAL.score_batch(big).scores.set_index("respondent_id")
    sample = big.sample(25, random_state=1)
    for _, row in sample.iterrows():
        alone = OFFICIAL.score_batch(row.to_frame().T).scores.set_index("respondent_id")
        pd.testing.assert_frame_equal(
            alone, batch.loc[alone.index], check_exact=True, check_dtype=False
        )


@pytest.mark.parametrize("name", list(MODELS))
def test_shipped_reference_scores_are_plausible(name):
    scores = MODELS[name].score_batch(REFERENCE).scores
    assert len(scores) == len(REFERENCE)
    assert 20 < scores["dmi"].mean() < 80


_NUMBER_PIECES = ["0", "1", "4", "5", "9", ".", ",", "%", "e", "-", "+", " ", "５", "％", "，", "C"]
_number_texts = st.one_of(
    st.lists(st.sampled_from(_NUMBER_PIECES), min_size=1, max_size=8).map("".join),
    st.floats(-5, 105, allow_nan=False).map(repr),
    st.floats(-5, 105, allow_nan=False).map(lambda x: f"{x:,.3f}%"),
    st.sampled_from(["10", "20.0", "40", "60%", "1e400", "nan", "10%及以下", "", None]),
)


@SETTINGS
@given(texts=st.lists(_number_texts, min_size=1, max_size=12))
def test_number_text_scores_like_its_parser_alone_and_in_any_batch(texts):
    # the number kernel scores the distinct texts of a column at once; every text must get
    # exactly what the one-value parser gives it, whatever else is in the column
    from dmi.instruments.items import item_type
    from dmi.scoring.answers import normalise_cell, parse_column

    item = MIIT.item("equipment_digitised")
    parser = item_type(item).parser(item, MIIT)
    parse = parser.parse
    assert parser.texts is not None
    for dtype in (object, "str"):
        column = pd.Series(texts, dtype=dtype)
        batch = parse_column(column, len(texts), parser)
        reasons = dict(zip(batch.error_rows.tolist(), batch.error_reasons))
        for i, text in enumerate(texts):
            alone = parse_column(column.iloc[[i]], 1, parser)
            assert alone.raw.tobytes() == batch.raw[[i]].tobytes()
            assert alone.missing[0] == batch.missing[i]
            assert alone.error_reasons == ([reasons[i]] if i in reasons else [])
            normalised = normalise_cell(text)
            points, reason = (np.nan, None) if normalised is None else parse(normalised)
            assert np.array([points]).tobytes() == batch.raw[[i]].tobytes()
            assert reasons.get(i) == reason


# -- any cell a user can hand in: a result or the documented error, the same on every path -------

from dmi.instruments import parse_instrument  # noqa: E402
from dmi.scoring import answers as answers_module  # noqa: E402

from .conftest import ALL_TYPES_YAML  # noqa: E402

ALL_TYPES = parse_instrument(ALL_TYPES_YAML, source="all-types.yaml")
ANY_CELL_MODELS = {
    "miit": (MIIT, OFFICIAL),
    "all-types": (ALL_TYPES, dmi.IndexModel(ALL_TYPES).fit()),
}


def _words(instrument):
    """Every option value and label, band and scenario level of an instrument."""
    words = set()
    for item in instrument.items:
        for choice in (*item.options, *item.bands):
            words |= {choice.value, choice.zh, choice.en}
    for level in instrument.scenario_levels:
        words |= {str(level.value), level.zh, level.en}
    return sorted(words)


_TRAPS = ["No", "NO", "no", "n/a", "N/A", "bed", "BCE", "bce", "ace", "NONE", "yes", "3%", "3 5"]
_SEPARATORS = [";", ",", "，", "、", "；", "|", "/", " ", ";;", " ; ", ""]
_PEOPLE_TEXT = "ABCDENOabcdeno0123456789;,，、；|/ %.-+ＡＢＣ１２３％　"


def _texts(words):
    numbers = st.one_of(
        st.floats(-10, 250, allow_nan=False).map(lambda x: f"{x:,.2f}%"),
        st.integers(-5, 10**7).map(lambda i: f"{i:,}"),
        st.integers(0, 120).map(str),
        st.integers(0, 120).map(
            lambda i: str(i).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        ),
    )
    return st.one_of(
        st.sampled_from(words + _TRAPS),
        st.tuples(
            st.lists(st.sampled_from(words + _TRAPS + ["", " "]), min_size=1, max_size=4),
            st.sampled_from(_SEPARATORS),
        ).map(lambda parts: parts[1].join(parts[0])),
        numbers,
        st.text(alphabet=_PEOPLE_TEXT, max_size=8),
        st.text(max_size=6),
        st.sampled_from(["B;" * 3000, "x" * 20000, "９" * 400]),
    )


def _cells(words):
    scalars = st.one_of(
        st.sampled_from([None, np.nan, pd.NA, pd.NaT, np.datetime64("NaT")]),
        st.booleans(),
        st.booleans().map(np.bool_),
        st.integers(),
        st.integers(-5, 120).map(np.int64),
        st.floats(),
        st.floats(width=32).map(np.float32),
        st.decimals(),
        st.fractions(max_denominator=7),
        st.binary(max_size=3),
        st.datetimes(),
        st.dates(),
        st.timedeltas(),
        st.integers(-(2**40), 2**40).map(lambda i: np.timedelta64(i, "s")),
        st.integers(-(2**40), 2**40).map(lambda i: np.datetime64(i, "s")),
        st.sampled_from([np.timedelta64("NaT"), decimal.Decimal("sNaN"), float("inf")]),
        st.complex_numbers(max_magnitude=10),
        _texts(words),
    )
    few = st.one_of(st.sampled_from(words + _TRAPS), st.none(), st.integers(0, 4))
    return st.one_of(
        scalars,
        scalars,
        st.lists(few, max_size=3),
        st.lists(few, max_size=3).map(tuple),
        st.sets(st.sampled_from(words), max_size=3),
        st.lists(few, min_size=1, max_size=3).map(lambda v: np.array(v, dtype=object)),
        st.dictionaries(st.text(max_size=2), st.integers(0, 3), max_size=2),
        st.lists(st.lists(few, max_size=2), min_size=1, max_size=2),
    )


@st.composite
def any_cells_frame(draw):
    name = draw(st.sampled_from(sorted(ANY_CELL_MODELS)))
    instrument, model = ANY_CELL_MODELS[name]
    codes = [item.code for item in instrument.items] + [f.code for f in instrument.profile]
    columns = draw(st.lists(st.sampled_from(codes), min_size=1, max_size=5, unique=True))
    cells = _cells(_words(instrument))
    n = draw(st.integers(1, 7))
    rows = [{"respondent_id": f"r{i}", **{c: draw(cells) for c in columns}} for i in range(n)]
    return model, rows


def _every_path(model, rows):
    """score_batch of the rows, as ``(first row, result)`` pairs of each path: the vectorised
    and the small-batch path over the whole frame, chunks of the frame, each row alone (in a
    frame of its own, whose column types pandas infers from that row only)."""
    frame = pd.DataFrame(rows)
    results = {}
    with pytest.MonkeyPatch.context() as patch:
        for name, limit in (("vectorised", -1), ("small", 10**9)):
            patch.setattr(answers_module, "SMALL_BATCH_ROWS", limit)
            results[name] = [(2, model.score_batch(frame))]
        patch.setattr(answers_module, "SMALL_BATCH_ROWS", -1)
        results["chunks"] = [
            (2 + a, model.score_batch(frame.iloc[a : a + 3], first_row=2 + a))
            for a in range(0, len(frame), 3)
        ]
    results["rows alone"] = [
        (2 + i, model.score_batch(pd.DataFrame([row]), first_row=2 + i))
        for i, row in enumerate(rows)
    ]
    return results


def _combined(parts):
    scores = pd.concat([p.scores for _, p in parts], ignore_index=True)
    scores = scores.astype({"respondent_id": object}).sort_values("respondent_id")
    rejects = pd.concat([p.rejects for _, p in parts], ignore_index=True).astype(object)
    rejects = rejects.sort_values(list(rejects.columns), key=lambda c: c.astype(str))
    return scores.reset_index(drop=True), rejects.reset_index(drop=True)


@settings(max_examples=60, deadline=None)
@given(case=any_cells_frame())
def test_any_cells_are_scored_or_rejected_alike_on_every_path(case):
    model, rows = case
    results = _every_path(model, rows)  # no exception: every cell is read or rejected
    for parts in results.values():
        for first, part in parts:
            # every row read is scored or rejected, never both, never neither
            scored, rejected = set(part.rows.tolist()), set(part.rejects["row"].tolist())
            assert scored.isdisjoint(rejected)
            assert scored | rejected == set(range(first, first + part.n_read))
            assert part.n_read == part.n_scored + part.n_rejected
            assert part.n_rejected == len(rejected)
            assert all(len(reason) < 400 for reason in part.rejects["reason"])
    expected_scores, expected_rejects = _combined(results["vectorised"])
    for name, parts in results.items():
        scores, rejects = _combined(parts)
        pd.testing.assert_frame_equal(scores, expected_scores, check_exact=True, check_dtype=False)
        pd.testing.assert_frame_equal(rejects, expected_rejects, check_dtype=False, obj=name)
    frame = pd.DataFrame(rows)
    if len(expected_rejects):
        with pytest.raises(dmi.AnswerError) as info:  # the documented error, listing them all
            model.score(frame)
        assert len(info.value.rejects) == len(expected_rejects)
    else:
        pd.testing.assert_frame_equal(model.score(frame), results["vectorised"][0][1].scores)
