"""Properties of the index that must hold for any answers (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dmi
from dmi.synth import synthesise

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _answer_strategy(item, instrument):
    if item.type == "single":
        return st.sampled_from([o.value for o in item.options])
    if item.type == "multi":
        ticks = [o.value for o in item.options if not o.exclusive]
        none = [o.value for o in item.options if o.exclusive]
        return st.one_of(
            st.sets(st.sampled_from(ticks), min_size=1).map(";".join),
            st.sampled_from(none or ticks),
        )
    if item.type == "number":
        return st.floats(item.min, item.max, allow_nan=False).map(lambda x: round(x, 2))
    if item.type == "scenario":
        return st.integers(0, max(lv.value for lv in instrument.scenario_levels))
    raise AssertionError(item.type)


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


def _improve(item, value):
    """A strictly better answer for one item, or None when the answer is already the best."""
    if value is None:
        return None
    if item.type == "single":
        current = next(o for o in item.options if o.value == value)
        better = [o for o in item.options if o.points > current.points]
        return better[0].value if better else None
    if item.type == "multi":
        ticked = set(value.split(";"))
        free = [o.value for o in item.options if not o.exclusive and o.value not in ticked]
        if any(o.exclusive and o.value in ticked for o in item.options):
            return next(o.value for o in item.options if not o.exclusive)
        return ";".join(sorted(ticked | {free[0]})) if free else None
    if item.type == "number":
        return item.max if value < item.max else None
    return value + 1 if value < 4 else None


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
    from dmi.scoring.answers import (
        _number_parser,
        _number_texts_kernel,
        _parse_column,
        normalise_cell,
    )

    item = MIIT.item("equipment_digitised")
    parse = _number_parser(item)
    for dtype in (object, "str"):
        column = pd.Series(texts, dtype=dtype)
        batch = _parse_column(column, len(texts), parse, None, _number_texts_kernel(item))
        reasons = dict(zip(batch.error_rows.tolist(), batch.error_reasons))
        for i, text in enumerate(texts):
            alone = _parse_column(column.iloc[[i]], 1, parse, None, _number_texts_kernel(item))
            assert alone.raw.tobytes() == batch.raw[[i]].tobytes()
            assert alone.missing[0] == batch.missing[i]
            assert alone.error_reasons == ([reasons[i]] if i in reasons else [])
            normalised = normalise_cell(text)
            points, reason = (np.nan, None) if normalised is None else parse(normalised)
            assert np.array([points]).tobytes() == batch.raw[[i]].tobytes()
            assert reasons.get(i) == reason
