"""The scoring engine against hand-worked cases and the official point totals."""

from __future__ import annotations

import datetime
import decimal
import fractions

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import dmi
from dmi.instruments import parse_instrument
from dmi.scoring.answers import encode_answers, factorize_cells, parse_number

from .conftest import best_answers, frame, mixed_answers, worst_answers


@pytest.fixture(scope="module")
def official(miit):
    return dmi.IndexModel(miit).fit()


def test_all_best_answers_score_100_and_level_4(miit, official):
    scores = official.score(frame(best_answers(miit)))
    row = scores.iloc[0]
    assert row["dmi"] == 100
    assert row["level"] == 4
    for d in miit.dimensions:
        assert row[f"dim_{d.code}"] == 100


def test_all_worst_answers_score_0_and_no_level(miit, official):
    row = official.score(frame(worst_answers(miit))).iloc[0]
    assert row["dmi"] == 0
    assert row["level"] == 0
    assert all(row[f"dim_{d.code}"] == 0 for d in miit.dimensions)


# A mixed case worked out by hand from the official points (frameworks.md section 1):
#   foundation: network B;C = 2 + 2 = 4; equipment_digitised 35 % -> band (20,40] = 3;
#     equipment_networked 5 % -> [0,10] = 0; data_collection B;C;O = 0.7 + 0.7 + 0.9 = 2.3;
#     it_coverage C = 5; network_security B = 1.25; data_security A = 0       -> 15.55 of 50
#   management: strategy D = 4.5; mechanisms B;C = 2 x 1.875 = 3.75; talent B = 1.5;
#     investment 15 % -> (10,20] = 1.875                                         -> 11.625 of 30
#   performance: energy C = 7; pass_rate B = 3.5; revenue/employee A = 0; cost C = 3 -> 13.5 of 20
#   index = 15.55 + 11.625 + 13.5 = 40.675 -> 二级 (40 <= x < 60)
def test_mixed_case_worked_by_hand(miit, official):
    row = official.score(frame(mixed_answers(miit))).iloc[0]
    assert row["dmi"] == pytest.approx(40.675, abs=1e-9)
    assert row["level"] == 2
    assert row["dim_foundation"] == pytest.approx(15.55 / 50 * 100)
    assert row["dim_management"] == pytest.approx(11.625 / 30 * 100)
    assert row["dim_performance"] == pytest.approx(13.5 / 20 * 100)
    # scenarios: (4 + 3 + 2 + 1) / (16 x 4) of the operations dimension
    assert row["dim_operations"] == pytest.approx(10 / 64 * 100)


def test_labels_full_width_digits_and_separators_mean_the_same(miit, official):
    variant = mixed_answers(miit)
    variant.update(
        {
            "network": "b，c",  # lower-case codes, full-width comma
            "equipment_digitised": "３５%",  # full-width digits, percent sign
            "energy_intensity": miit.item("energy_intensity").options[2].zh,  # the zh label
            "sc_product_design": "４",
        }
    )
    a = official.score(frame(mixed_answers(miit))).iloc[0]
    b = official.score(frame(variant)).iloc[0]
    assert b["dmi"] == a["dmi"]


def test_band_value_and_number_agree(miit, official):
    by_number = mixed_answers(miit) | {"equipment_digitised": 40}  # 40 is in (20, 40]: band C
    by_band = mixed_answers(miit) | {"equipment_digitised": "C"}
    assert (
        official.score(frame(by_number))["dmi"].iloc[0]
        == official.score(frame(by_band))["dmi"].iloc[0]
    )
    edge = official.score(frame(mixed_answers(miit) | {"equipment_digitised": 40.01}))["dmi"].iloc[
        0
    ]
    assert edge == pytest.approx(40.675 - 3 + 4.5)  # just above 40 % -> band D, 4.5 points


def test_level_boundaries_are_inclusive_at_the_lower_bound(miit):
    levels = dmi.scoring.assign_levels(
        miit, np.array([19.999, 20, 39.9999999999999, 60, 80, 100]), np.zeros((6, 0), dtype=int), []
    )
    assert levels.tolist() == [0, 1, 2, 3, 4, 4]


def test_rejects_name_row_column_value_and_reason(miit, official):
    bad = mixed_answers(miit) | {"network": "A;B", "investment": "120", "strategy": "Z"}
    result = official.score_batch(frame(mixed_answers(miit), bad))
    assert result.n_read == 2 and result.n_scored == 1 and result.n_rejected == 1
    rejects = result.rejects.set_index("column")
    assert set(rejects.index) == {"network", "investment", "strategy"}
    assert (rejects["row"] == 3).all()  # header is row 1, the bad row is row 3
    assert (rejects["respondent_id"] == "r2").all()
    assert "cannot be ticked together" in rejects.loc["network", "reason"]
    assert "outside the valid range 0 to 100" in rejects.loc["investment", "reason"]
    assert "expected one of A, B, C, D, E, F" in rejects.loc["strategy", "reason"]
    with pytest.raises(dmi.AnswerError, match="1 of 2 rows"):
        official.score(frame(mixed_answers(miit), bad))


def test_duplicate_and_blank_ids_are_rejected(miit, official):
    answers = pd.DataFrame([mixed_answers(miit)] * 3)
    answers["respondent_id"] = ["a", "a", None]
    result = official.score_batch(answers)
    assert result.n_scored == 0
    reasons = result.rejects["reason"].tolist()
    assert reasons.count("duplicate respondent_id (rows 2, 3)") == 2
    assert "respondent_id is blank" in reasons


def test_missing_answer_policy_lowest_is_counted_not_silent(miit, official):
    answers = mixed_answers(miit)
    del answers["it_coverage"]  # 5 points lost under policy "lowest"
    result = official.score_batch(frame(answers))
    assert result.scores["dmi"].iloc[0] == pytest.approx(40.675 - 5)
    assert result.imputed == {"it_coverage": 1}


def _variant_instrument(miit, edit):
    data = yaml.safe_load(open(miit.source, encoding="utf-8"))
    edit(data)
    return parse_instrument(yaml.safe_dump(data, allow_unicode=True))


def test_missing_policy_required_and_exclude(miit):
    def required(data):
        data["dimensions"][0]["indicators"][2]["items"][0]["missing"] = "required"

    def exclude(data):
        data["dimensions"][0]["indicators"][0]["items"][0]["missing"] = "exclude"

    answers = mixed_answers(miit)
    del answers["it_coverage"]
    inst = _variant_instrument(miit, required)
    result = dmi.IndexModel(inst).fit().score_batch(frame(answers))
    assert result.n_scored == 0
    assert result.rejects["reason"].tolist() == ["required answer missing"]

    answers = mixed_answers(miit)
    del answers["network"]  # network (8 pts) excluded from 设备系统
    inst = _variant_instrument(miit, exclude)
    row = dmi.IndexModel(inst).fit().score(frame(answers)).iloc[0]
    # 设备系统 keeps its weight 20; its score is now (3 + 0) / 12 of the two rate items
    expected = 40.675 - 4 - 3 + 20 * 3 / 12
    assert row["dmi"] == pytest.approx(expected)
    assert row["dim_foundation"] == pytest.approx((15.55 - 7 + 20 * 3 / 12) / 50 * 100)


def test_scenario_rule_lowers_the_level_when_enabled(miit):
    def enable(data):
        data["levels"]["scenario_rule"]["enabled"] = True

    inst = _variant_instrument(miit, enable)
    answers = best_answers(miit)
    for item in miit.scenario_items():  # 9 mandatory scenarios at level 4 ...
        answers[item.code] = 4 if item.mandatory else 2
    answers["sc_finance"] = 3  # ... so only 9 at level 4: 四级 needs 10
    model = dmi.IndexModel(inst).fit()
    row = model.score(frame(answers)).iloc[0]
    assert row["dmi"] == 100
    assert row["level"] == 3  # 10 scenarios >= 3 (all mandatory): 三级 holds
    off = dmi.IndexModel(miit).fit().score(frame(answers)).iloc[0]
    assert off["level"] == 4
    encoded = encode_answers(inst, frame(answers))
    why = dmi.explain_level(inst, 100.0, encoded.scenario_levels[0], encoded.scenario_codes)
    assert why.level == 3 and why.score_level == 4
    assert "at least 10 scenarios at level 4" in why.en and "you have 9" in why.en
    assert "四级" in why.zh


@pytest.mark.parametrize(
    "text, expected",
    [
        ("35%", 35.0),
        ("１,２３４.５", 1234.5),
        (" 7 ", 7.0),
        ("1,234", 1234.0),
        ("-3", -3.0),
        ("\u22123", -3.0),  # typeset text's minus sign
        ("\uff0d3", -3.0),
        ("abc", None),
        ("1,23", None),
        ("", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_parse_number(text, expected):
    assert parse_number(text) == expected


# -- the estimator contract (scikit-learn's) -----------------------------------------------------


def test_index_model_is_a_scikit_learn_estimator(miit):
    from sklearn.base import clone

    model = dmi.IndexModel(miit, weighting="equal", weight_level="dimension")
    params = model.get_params()
    assert params == {
        "instrument": miit,
        "weighting": "equal",
        "normalisation": "goalposts",
        "aggregation": "arithmetic",
        "weight_level": "dimension",
        "ahp_matrix": None,
        "bod_bounds": (0.0, 1.0),
        "geometric_offset": 0.01,
        "target_quantile": 0.9,
        "pca_retain": "kaiser+10%",
        "pca_rotation": "varimax",
    }
    model.fit()
    twin = clone(model)  # the same parameters, nothing learned
    assert twin is not model and twin.get_params(deep=False).keys() == params.keys()
    assert twin.weighting == "equal" and twin.weight_level == "dimension"
    assert not hasattr(twin, "weights_")
    with pytest.raises(dmi.NotFittedError):
        twin.score(frame(best_answers(miit)))
    assert model.set_params(weighting="instrument") is model
    assert model.weighting == "instrument"
    # the repr shows the instrument and the parameters that differ from their defaults
    text = repr(dmi.IndexModel("miit-2024-manufacturing", weighting="entropy", target_quantile=0.8))
    assert text.startswith("IndexModel(") and "weighting='entropy'" in text
    assert "target_quantile=0.8" in text and "normalisation" not in text
    # parameters after the instrument are keyword-only
    with pytest.raises(TypeError):
        dmi.IndexModel(miit, "entropy")


def test_unfitted_use_raises_not_fitted_error_that_scikit_learn_catches(miit):
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError
    from sklearn.utils.validation import check_is_fitted

    model = dmi.IndexModel(miit)
    for use in (
        lambda: model.score(frame(best_answers(miit))),
        model.to_dict,
        model.node_weights,
        lambda: model.method_id,
    ):
        with pytest.raises(SklearnNotFittedError, match="IndexModel is not fitted yet: call fit"):
            use()
    with pytest.raises(dmi.DmiError):
        model.to_dict()
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(model)
    assert model.nodes() == [i.code for i in miit.indicators]  # needs no fit, fits nothing
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(model)
    # a fit that stops half-way leaves no fitted model behind
    with pytest.raises(dmi.errors.DataError, match="learn from data"):
        dmi.IndexModel(miit, weighting="entropy").fit()
    half = dmi.IndexModel(miit, weighting="entropy")
    with pytest.raises(dmi.errors.DataError):
        half.fit()
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(half)
    check_is_fitted(model.fit())


WEIGHTINGS_LISTED = "{'instrument', 'equal', 'entropy', 'critic', 'pca', 'ahp', 'bod'}"
BOD = {"weighting": "bod", "weight_level": "dimension"}


@pytest.mark.parametrize(
    ("params", "parameter", "message"),
    [
        (
            {"weighting": "magic"},
            "weighting",
            "The 'weighting' parameter of IndexModel must be a str among "
            f"{WEIGHTINGS_LISTED}. Got 'magic' instead.",  # in the same order on every run
        ),
        ({"aggregation": "sum"}, "aggregation", "'aggregation' parameter of IndexModel must"),
        ({"weight_level": "leaf"}, "weight_level", "'weight_level' parameter"),
        ({"normalisation": "magic"}, "normalisation", "unknown normalisation 'magic'"),
        ({"normalisation": 3}, "normalisation", "must be an instance of 'str'"),
        ({"geometric_offset": -0.1}, "geometric_offset", "a float in the range [0.0, inf)"),
        ({"target_quantile": 0}, "target_quantile", "a float in the range (0.0, 1.0]"),
        ({"target_quantile": 1.5}, "target_quantile", "a float in the range (0.0, 1.0]"),
        ({"bod_bounds": (0.1,)}, "bod_bounds", "bod_bounds: expected (lower, upper)"),
        ({"bod_bounds": "wide"}, "bod_bounds", "'bod_bounds' parameter"),
        ({"ahp_matrix": "equal"}, "ahp_matrix", "'ahp_matrix' parameter"),
        ({"instrument": 42}, "instrument", "'instrument' parameter of IndexModel"),
        ({"normalisation": "zscore", "aggregation": "geometric"}, "aggregation", "zscore"),
        ({**BOD, "weight_level": "item"}, "weight_level", "use weight_level='dimension'"),
        ({**BOD, "aggregation": "geometric"}, "aggregation", "use aggregation='arithmetic'"),
        ({"weighting": "ahp"}, "ahp_matrix", "needs ahp_matrix"),
    ],
)
def test_every_bad_parameter_is_named_at_fit(miit, params, parameter, message):
    model = dmi.IndexModel(**{"instrument": miit, **params})  # __init__ only stores them
    assert model.get_params()[next(iter(params))] == params[next(iter(params))]
    for call in (model.fit, model.nodes):
        with pytest.raises(dmi.errors.ParameterError) as caught:
            call()
        assert message in str(caught.value)
        assert caught.value.parameter == parameter
        assert isinstance(caught.value, (ValueError, TypeError, dmi.DmiError))


@pytest.mark.parametrize(
    "params",
    [
        {"target_quantile": 1},  # the edges of the ranges are allowed
        {"geometric_offset": 0, "aggregation": "geometric"},
        {"normalisation": "Min-Max"},  # an alias, in any case
        {"bod_bounds": [0.0, 1.0]},
        {"instrument": "miit-2024-manufacturing"},
        {"weighting": "ahp", "weight_level": "dimension", "ahp_matrix": np.ones((4, 4))},
    ],
)
def test_good_parameters_pass(miit, params):
    dmi.IndexModel(**{"instrument": miit, **params})._validate_params()


@pytest.mark.parametrize("weighting", ["instrument", "equal", "entropy", "critic", "pca", "ahp"])
@pytest.mark.parametrize("normalisation", ["goalposts", "minmax", "zscore", "rank", "target"])
@pytest.mark.parametrize("aggregation", ["arithmetic", "geometric", "mazziotta-pareto"])
def test_needs_data_says_exactly_when_fit_learns_from_data(
    miit, weighting, normalisation, aggregation
):
    if normalisation == "zscore" and aggregation == "geometric":
        return  # refused (see above)
    model = dmi.IndexModel(
        miit,
        weighting=weighting,
        normalisation=normalisation,
        aggregation=aggregation,
        weight_level="dimension",
        ahp_matrix=np.ones((4, 4)),
    )
    learns = (
        weighting in ("entropy", "critic", "pca")
        or normalisation != "goalposts"
        or aggregation == "mazziotta-pareto"
    )
    assert model.needs_data() is learns
    if learns:
        with pytest.raises(dmi.errors.DataError, match="learn from data"):
            model.fit()
    else:
        assert model.fit().fit_info_["rows"] == 0


@pytest.mark.parametrize("order", [[True, 1], [1, True], [1.0, True, 1]])
def test_a_bool_never_takes_the_meaning_of_a_number_in_the_same_column(miit, official, order):
    # Python has True == 1 == 1.0, so a plain pd.factorize of an XLSX/API column holding both
    # would give every such cell the meaning of whichever came first
    scenario = miit.scenario_items()[0].code
    rows = [mixed_answers(miit) | {scenario: value} for value in order]
    result = official.score_batch(frame(*rows))
    is_bool = [isinstance(v, bool) for v in order]
    rejected_rows = sorted(set(result.rejects["row"]))
    assert rejected_rows == [i + 2 for i, b in enumerate(is_bool) if b]
    assert set(result.rejects["column"]) == {scenario}
    assert result.rejects["value"].str.lower().tolist() == ["true"]
    one = official.score(frame(mixed_answers(miit) | {scenario: 1}))["dmi"].iloc[0]
    assert result.scores["dmi"].tolist() == [one] * (len(order) - 1)


def test_factorize_cells_keys_bools_apart_and_keeps_blanks():
    cells = pd.Series([1, True, None, 1.0, False, 0, "1"], dtype=object)
    codes, uniques = factorize_cells(cells)
    assert codes[2] == -1
    assert codes[0] == codes[3]  # 1 and 1.0 are the same answer
    assert len({codes[0], codes[1], codes[6]}) == 3  # 1, True and "1" are not merged
    assert codes[4] != codes[5]
    assert [uniques[c] for c in (codes[1], codes[4])] == ["true", "false"]
    plain = pd.Series(["a", "b", "a"], dtype=object)  # no bools: exactly pd.factorize
    np.testing.assert_array_equal(factorize_cells(plain)[0], pd.factorize(plain)[0])


@pytest.mark.parametrize("dtype", ["str", "string[pyarrow]", object])
def test_factorize_cells_of_text_is_pd_factorize(dtype):
    # Arrow-backed text (what the CSV reader gives) goes straight to Arrow's hash kernel
    cells = pd.Series(["b", None, "a", "b", "", "ａ", "a", None], dtype=dtype)
    codes, uniques = factorize_cells(cells)
    expected_codes, expected_uniques = pd.factorize(cells, use_na_sentinel=True)
    np.testing.assert_array_equal(codes, expected_codes)
    assert codes.dtype == expected_codes.dtype
    assert list(uniques) == list(expected_uniques) == ["b", "a", "", "ａ"]


# -- the small-batch path (one submission) gives what the vectorised path gives ----------------


def _encode_both_ways(instrument, answers, monkeypatch):
    from dmi.scoring import answers as module

    encoded = {}
    for name, limit in (("vectorised", -1), ("small", 10**9)):
        monkeypatch.setattr(module, "SMALL_BATCH_ROWS", limit)
        encoded[name] = encode_answers(instrument, answers)
    return encoded["vectorised"], encoded["small"]


def _assert_same_encoding(a, b):
    assert a.scores.tobytes() == b.scores.tobytes()  # NaN where the other has NaN, bit for bit
    np.testing.assert_array_equal(a.scenario_levels, b.scenario_levels)
    np.testing.assert_array_equal(a.respondent_id, b.respondent_id)
    np.testing.assert_array_equal(a.valid, b.valid)
    pd.testing.assert_frame_equal(a.rejects, b.rejects)
    assert (a.imputed, a.excluded) == (b.imputed, b.excluded)
    pd.testing.assert_frame_equal(a.profile, b.profile)


@pytest.mark.parametrize(
    "path",
    [
        "data/example-bulk.csv",
        "tests/fixtures/duplicates.csv",
        "tests/fixtures/labels-gbk.csv",
        "tests/fixtures/semicolon-numbers.csv",
        "tests/fixtures/totals-row.csv",
    ],
)
@pytest.mark.parametrize("as_objects", [False, True])
def test_small_and_vectorised_paths_agree_on_messy_files(miit, monkeypatch, path, as_objects):
    from dmi.io import read_answers

    from .conftest import ROOT

    answers = read_answers(ROOT / path, miit)
    if as_objects:  # what an API caller or a spreadsheet reader hands over
        answers = answers.astype(object)
    vectorised, small = _encode_both_ways(miit, answers, monkeypatch)
    if path.startswith("data/"):  # the shipped example is messy: both paths reject its rows
        assert vectorised.n_valid < vectorised.n_rows
    _assert_same_encoding(vectorised, small)


def test_leaving_out_free_text_changes_nothing_else(miit):
    from dmi.io import read_answers

    from .conftest import ROOT

    answers = read_answers(ROOT / "data/example-bulk.csv", miit)
    full = encode_answers(miit, answers)
    lean = encode_answers(miit, answers, free_text=False)
    free_text = [f.code for f in miit.profile if f.type == "text"]
    assert free_text and all(code in full.profile for code in free_text)
    assert not any(code in lean.profile for code in free_text)
    pd.testing.assert_frame_equal(lean.profile, full.profile.drop(columns=free_text))
    assert lean.scores.tobytes() == full.scores.tobytes()
    pd.testing.assert_frame_equal(lean.rejects, full.rejects)
    np.testing.assert_array_equal(lean.respondent_id, full.respondent_id)


def test_unique_ids_skips_only_the_check_for_repeated_ids(miit):
    from dmi.io import read_answers

    from .conftest import ROOT

    answers = read_answers(ROOT / "tests/fixtures/duplicates.csv", miit)
    checked = encode_answers(miit, answers)
    trusted = encode_answers(miit, answers, unique_ids=True)
    repeated = checked.rejects["reason"].str.startswith("duplicate respondent_id")
    assert repeated.any() and not trusted.rejects["reason"].str.startswith("duplicate").any()
    # every other problem is found all the same
    assert trusted.rejects.to_dict("records") == checked.rejects[~repeated].to_dict("records")
    unique = answers.drop_duplicates("respondent_id", keep=False).reset_index(drop=True)
    a, b = encode_answers(miit, unique), encode_answers(miit, unique, unique_ids=True)
    assert a.scores.tobytes() == b.scores.tobytes()
    pd.testing.assert_frame_equal(a.rejects, b.rejects)


def test_small_and_vectorised_paths_agree_on_python_objects(miit, monkeypatch):
    # XLSX and API input: numbers, bools, NaN and full-width text side by side in one column
    scenario = miit.scenario_items()[0].code
    base = mixed_answers(miit)
    rows = [
        base | {"respondent_id": "a", scenario: 1, "equipment_digitised": 35.0},
        base | {"respondent_id": "b", scenario: True, "equipment_digitised": "３５%"},
        base | {"respondent_id": "ｃ", scenario: 1.0, "equipment_digitised": float("nan")},
        base | {"respondent_id": "c", scenario: "level 9", "equipment_digitised": 350},
        base | {"respondent_id": " ", scenario: None, "equipment_digitised": "1,234"},
        base | {"respondent_id": "e", scenario: False, "network": "B；C", "strategy": "Z"},
    ]
    answers = pd.DataFrame(rows, dtype=object)
    vectorised, small = _encode_both_ways(miit, answers, monkeypatch)
    assert set(vectorised.rejects["column"]) >= {"respondent_id", scenario, "equipment_digitised"}
    _assert_same_encoding(vectorised, small)


def test_both_paths_normalise_text_by_the_same_unicode_version(miit, monkeypatch):
    # Arrow's NFKC follows a newer Unicode than Python 3.11's unicodedata: U+1CCF1 and U+1CCF3
    # are digits to one and not to the other. Both paths must read a cell the same way, or a
    # row would score differently in a chunk of 64 rows than in a bigger one.
    scenario = miit.scenario_items()[0].code
    base = mixed_answers(miit)
    rows = [
        base | {"respondent_id": "SYN-\U0001ccf1", scenario: "\U0001ccf3"},
        base | {"respondent_id": "\U0001e030", scenario: "１"},
        base | {"respondent_id": "ＩＤ-７", scenario: 2},
    ]
    answers = pd.DataFrame(rows * 30).astype({"respondent_id": "str", scenario: "str"})
    answers["respondent_id"] = answers["respondent_id"] + pd.Series(
        [f"-{i}" for i in range(len(answers))]
    )
    vectorised, small = _encode_both_ways(miit, answers, monkeypatch)
    _assert_same_encoding(vectorised, small)
    assert vectorised.respondent_id[0] == "SYN-\U0001ccf1-0"  # Python 3.11 leaves it as it is


_WORDS_AND_RUNS = ["No", "NO", "no", "N/A", "bed", "BCE", "bce", "ace", "None", ";", "B C"]
_MESSY_CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 120),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        ["A", "b", "B;C", "B，C", "ＢＣ", "35%", "1,234.5", "３５", " 2 ", "", "是", "yes"]
        + _WORDS_AND_RUNS
        + ["3 5", "2%", "Industrial control network in the workshop;C"]
    ),
    st.text(max_size=6),
    # what Python callers hand over: lists (the app's multi answers), and objects that are
    # not answers at all
    st.lists(st.sampled_from(["B", "c", "No", "x", None, 3]), max_size=3),
    st.sets(st.sampled_from(["B", "C", "E"]), max_size=2),
    st.sampled_from([{"B": 1}, b"B", 3 + 0j, decimal.Decimal("2"), np.int64(2), pd.NA, pd.NaT]),
)


@settings(max_examples=25)
@given(
    cells=st.lists(st.tuples(_MESSY_CELLS, _MESSY_CELLS, _MESSY_CELLS), min_size=1, max_size=8),
    ids=st.lists(st.sampled_from(["a", "Ａ", "b", " ", None, 7]), min_size=8, max_size=8),
    as_text=st.booleans(),
)
def test_small_and_vectorised_paths_agree_on_any_cells(miit, cells, ids, as_text):
    scenario = miit.scenario_items()[0].code
    base = mixed_answers(miit)
    rows = [
        base
        | {"respondent_id": ids[i], "network": a, "equipment_digitised": b, scenario: c}
        | {"size_class": a, "employees": b}
        for i, (a, b, c) in enumerate(cells)
    ]
    answers = pd.DataFrame(rows, dtype=object)
    if as_text:  # what the CSV reader gives: Arrow-backed text
        answers = answers.map(lambda v: None if v is None or v is pd.NA else str(v)).astype("str")
    with pytest.MonkeyPatch.context() as monkeypatch:
        vectorised, small = _encode_both_ways(miit, answers, monkeypatch)
    _assert_same_encoding(vectorised, small)


@pytest.mark.parametrize("cache_size", [3, 1 << 15])
def test_the_memo_of_distinct_texts_changes_no_result(miit, monkeypatch, cache_size):
    # chunks of a column meet texts again, and new ones (valid, invalid, blank); with a memo
    # shared by two threads, and one too small to hold them all, every chunk parses as without
    import concurrent.futures

    import dmi.scoring.answers as answers

    monkeypatch.setattr(answers, "_PARSE_CACHE_SIZE", cache_size)
    plan = answers._plan(miit)
    scenario = miit.scenario_items()[0].code
    options = ["A", "b;c", "No", "B，C", "Z", "bed", "", " a ", "BCE", "A;Z", "ＢＣ", "N/A"]
    cells = {
        "network": options
        + ["E;A", "x;y", "C;D", "a;b;c;d", "A,B", "e", "B;D", "Ｅ", "d"]
        + ["B C", ";", "Industrial control network in the workshop;C", "ace", "b;c"],
        "equipment_digitised": ["35%", "1,234.5", "3 5", "３５", "about half", "101", ""]
        + [str(i) for i in range(0, 100, 7)],
        scenario: ["0", "４", "9", "x", "", "2", " 3 ", "1", "2%", "4", "５", "-1", "2.0", "three"]
        + ["０", "１", "２", "３", " 0", "1 ", "", "7"],
        "strategy": ["A", "z", "", "B", "b", "E", "a", "C", "D", "F", "G", "AB", "d", "f"]
        + ["c", " e ", "Ｂ", "x", "e", "", "A"],
    }
    rng = np.random.default_rng(7)
    for code, texts in cells.items():
        j = next(k for k, (item, _) in enumerate(plan.items) if item.code == code)
        _, parser = plan.items[j]
        chunks = [  # each chunk meets three texts more than the one before
            pd.Series(rng.choice(texts[: 3 * k + 3], size=300).tolist(), dtype="str").replace(
                "", None
            )
            for k in range(7)
        ]
        expected = [answers.parse_column(c, len(c), parser) for c in chunks]
        memo = answers._TextMemo()

        def parse_chunk(c, parser=parser, memo=memo):
            return answers.parse_column(c, len(c), parser, memo=memo)

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            got = list(pool.map(parse_chunk, chunks))
        assert memo._known is not None and len(memo._known[0]) <= cache_size
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a.raw, b.raw)
            np.testing.assert_array_equal(a.missing, b.missing)
            np.testing.assert_array_equal(a.error_rows, b.error_rows)
            assert (a.error_values, a.error_reasons) == (b.error_values, b.error_reasons)
        assert any(len(r.error_rows) for r in expected)  # invalid texts were met


# -- answers are never misread -----------------------------------------------------------------


def _encode_every_way(instrument, answers, monkeypatch):
    """Encodings of ``answers`` by every path that parses a column: one cell at a time (a
    small batch), the vectorised path over Python objects, and, for text, the vectorised path
    over Arrow text through the memo of the texts met before (what ``dmi score`` uses)."""
    from dmi.scoring import answers as module

    ways = {}
    for name, limit in (("small", 10**9), ("vectorised", -1)):
        monkeypatch.setattr(module, "SMALL_BATCH_ROWS", limit)
        ways[name] = encode_answers(instrument, answers)
        text = answers.map(lambda v: v if v is None or isinstance(v, str) else None)
        if text.equals(answers):  # text cells only: also as the CSV reader gives them
            ways[f"{name}, Arrow text"] = encode_answers(instrument, answers.astype("str"))
            if name == "vectorised":  # twice: the second time every text is in the memo
                ways["memo"] = encode_answers(instrument, answers.astype("str"))
    return ways


def _rejects_of(instrument, answers, monkeypatch):
    """The rejects of ``answers``, after checking every path gives the same encoding."""
    ways = _encode_every_way(instrument, answers, monkeypatch)
    first = ways.pop("small")
    for name, other in ways.items():
        assert first.scores.tobytes() == other.scores.tobytes(), name
        pd.testing.assert_frame_equal(first.rejects, other.rejects, obj=name)
    return first.rejects


# Letters that are all option codes of data_collection (A ... O) or network (A ... E)
@pytest.mark.parametrize(
    "code, cell",
    [
        ("data_collection", "No"),
        ("data_collection", "NO"),
        ("data_collection", "no"),
        ("data_collection", "On"),
        ("data_collection", "N/A"),
        ("data_collection", "n / a"),
        ("data_collection", "NA"),
        ("data_collection", "Nil"),
        ("network", "bed"),
        ("network", "BED"),
        ("network", "Bed"),
        ("network", "BCE"),
        ("network", "bce"),
        ("network", "ace"),
    ],
)
def test_letters_that_spell_a_word_are_not_read_as_option_codes(miit, monkeypatch, code, cell):
    answers = frame(mixed_answers(miit), mixed_answers(miit) | {code: cell})
    rejects = _rejects_of(miit, answers, monkeypatch)
    assert rejects[["row", "column", "value"]].values.tolist() == [[3, code, cell]]
    reason = rejects["reason"].iloc[0]
    assert reason.startswith(f"{cell!r} is not an option; ")
    allowed = ", ".join(o.value for o in miit.item(code).options)
    assert f"option values from {allowed} separated by ';'" in reason


def test_a_rejected_run_of_codes_says_how_to_write_it(miit, official):
    cells = {"network": "BCE", "data_collection": "BE;H", "mechanisms": "bed"}
    rejects = official.score_batch(frame(mixed_answers(miit) | cells)).rejects
    reasons = dict(zip(rejects["column"], rejects["reason"]))
    assert reasons["network"].endswith("separated by ';' (write B;C;E)")
    assert reasons["data_collection"].startswith("'BE' is not an option")
    assert reasons["data_collection"].endswith("(write B;E)")
    assert "(write" not in reasons["mechanisms"]  # not in option order: no codes to suggest


@pytest.mark.parametrize(
    "cell, reason",
    [
        (";", "no option value, only separators"),
        (" ;，、 ", "no option value, only separators"),
        ("B;x;C", "'x' is not an option"),
        ("B;Product desing", "'Product desing' is not an option"),
        ("B C X", "'X' is not an option"),
        ("x;y", "'x', 'y' are not options"),
        pytest.param("x" * 100_000, "'" + "x" * 37 + "...' is not an option", id="long-text"),
    ],
)
def test_a_multi_answer_that_is_not_options_is_rejected(miit, official, cell, reason):
    rejects = official.score_batch(frame(mixed_answers(miit) | {"network": cell})).rejects
    assert rejects["column"].tolist() == ["network"]
    assert rejects["reason"].iloc[0].startswith(reason)
    assert len(rejects["reason"].iloc[0]) < 200


@pytest.mark.parametrize(
    "cell, points",
    [
        ("B;C", 4),
        ("b , c", 4),
        ("B C", 4),  # spaces separate codes
        ("B|C/D", 6),
        ("Industrial control network in the workshop;C", 4),  # a label between separators
        ("车间工控网络、5G工业网络（自建或租用）", 4),
        ("B;B;C", 4),  # a value ticked twice counts once
        ("None", 0),  # the en label of A
    ],
)
def test_separators_and_labels_still_read_as_options(miit, official, cell, points):
    # network is B;C (4 of its 8 points) in the hand-worked mixed case (40.675)
    row = official.score(frame(mixed_answers(miit) | {"network": cell})).iloc[0]
    assert row["dmi"] == pytest.approx(40.675 - 4 + points)


def _with_letter_runs(miit, where="defaults"):
    def edit(data):
        if where == "defaults":
            data["defaults"]["letter_runs"] = True
        else:
            data["dimensions"][0]["indicators"][0]["items"][0]["letter_runs"] = True

    return _variant_instrument(miit, edit)


@pytest.mark.parametrize(
    "code, cell, points",
    [
        ("network", "BCE", 6),  # B;C;E: 2 + 2 + 2 of network's 8 points (mixed: B;C = 4)
        ("network", "BCDE", 8),
        ("network", "B;CE", 6),
        ("network", "ＢＣＥ", 6),  # full-width letters are the letters
        ("network", "BC D", 6),
        ("data_collection", "BCO", 2.3),  # the mixed case's B;C;O, written as a run
    ],
)
def test_letter_runs_read_runs_of_codes_where_the_instrument_says_so(
    miit, monkeypatch, code, cell, points
):
    inst = _with_letter_runs(miit)
    before = {"network": 4, "data_collection": 2.3}[code]
    answers = frame(mixed_answers(miit) | {code: cell})
    assert _rejects_of(inst, answers, monkeypatch).empty
    row = dmi.IndexModel(inst).fit().score(answers).iloc[0]
    assert row["dmi"] == pytest.approx(40.675 - before + points)
    # the shipped file does not read runs: its template and codebook join codes with ';'
    assert not _rejects_of(miit, answers, monkeypatch).empty


@pytest.mark.parametrize(
    "code, cell, reason",
    [
        ("network", "bce", "'bce' is not an option"),  # not in the case of the codes
        ("network", "CBE", "'CBE' is not an option"),  # not in option order
        ("network", "BBC", "'BBC' is not an option"),  # a letter twice
        ("network", "BCX", "'BCX' is not an option"),
        ("data_collection", "NO", "'NO' is not an option"),  # a word, though N and O are codes
        ("data_collection", "N/A", "'N/A' is not an option"),
        ("data_collection", "No", "'No' is not an option"),
        ("network", "AB", "option A (none) cannot be ticked together with other options"),
    ],
)
def test_letter_runs_never_read_what_could_be_something_else(miit, monkeypatch, code, cell, reason):
    inst = _with_letter_runs(miit)
    rejects = _rejects_of(inst, frame(mixed_answers(miit) | {code: cell}), monkeypatch)
    assert rejects["column"].tolist() == [code]
    assert rejects["reason"].iloc[0].startswith(reason)


def test_letter_runs_on_one_item_only_and_in_lower_case_codes(miit, all_types, monkeypatch):
    inst = _with_letter_runs(miit, where="network")
    assert inst.letter_runs(inst.item("network"))
    assert not inst.letter_runs(inst.item("data_collection"))
    answers = frame(mixed_answers(miit) | {"network": "BCE", "data_collection": "BCO"})
    rejects = _rejects_of(inst, answers, monkeypatch)
    assert rejects["column"].tolist() == ["data_collection"]
    # codes written in lower case: a run is read in lower case only
    cells = ["bce", "BCE", "b;c;e", "cb"]
    answers = pd.DataFrame({"respondent_id": ["a", "b", "c", "d"], "runs": cells, "one": "B"})
    encoded = encode_answers(all_types, answers)
    runs = encoded.item_codes.index("runs")
    assert encoded.valid.tolist() == [True, False, True, False]
    assert encoded.scores[[0, 2], runs].tolist() == [0.75, 0.75]  # 6 of 8 points
    _rejects_of(all_types, answers, monkeypatch)


@pytest.mark.parametrize(
    "cell",
    [
        ["B", "C"],
        ("b", "C"),
        {"C", "B"},
        frozenset({"B", "C"}),
        np.array(["B", "C"]),
        np.array(["B", "C"], dtype=object),
        pd.Series(["C", "B"]),
        [" Ｂ ", "C", None, ""],  # elements are cells: trimmed, full-width folded, blanks left out
        ["Industrial control network in the workshop", "C"],  # a label with spaces
        [
            "车间工控网络",
            "应用系统网络（设备、人员和业务系统互联）",
        ],  # labels with separators in them
    ],
)
def test_a_list_in_a_multi_item_is_the_same_answer_as_its_values_joined(miit, official, cell):
    by_text = official.score(frame(mixed_answers(miit)))  # network: "B;C"
    by_list = official.score(frame(mixed_answers(miit) | {"network": cell}))
    pd.testing.assert_frame_equal(by_list, by_text)


def test_an_empty_list_is_a_blank_answer(miit, official):
    for cell in ([], (), set(), [None, float("nan")]):
        result = official.score_batch(frame(mixed_answers(miit) | {"network": cell}))
        assert result.imputed == {"network": 1}  # policy lowest: 0 of 8 points, and counted
        assert result.scores["dmi"].iloc[0] == pytest.approx(40.675 - 4)


@pytest.mark.parametrize(
    "code, cell, reason",
    [
        ("network", ["B", "X"], "'X' is not an option; expected option values from A, B, C"),
        ("network", ["B;C"], "'B;C' is not an option"),  # one option per element
        ("network", ["A", "B"], "option A (none) cannot be ticked together"),
        (
            "network",
            [["B"], "C"],
            "expected option values from A, B, C, D, E separated by ';', got a list holding a list",
        ),
        ("network", ["B", {"C": 1}], "got a list holding a mapping (dict)"),
        ("network", {"B": True}, "got a mapping (dict)"),
        (
            "strategy",
            ["D"],
            "expected one of A, B, C, D, E, F (or an option's label), got a list "
            "(only a multiple-choice item takes several values)",
        ),
        ("strategy", ("D",), "got a list (only a multiple-choice item takes several values)"),
        ("strategy", {"D"}, "got a set (only a multiple-choice item takes several values)"),
        ("equipment_digitised", [35], "got a list"),
        ("equipment_digitised", np.array([35.0]), "got a list"),
        ("sc_product_design", {"level": 4}, "expected a level from 0 to 4, got a mapping (dict)"),
        ("sc_product_design", b"4", "got bytes (decode them to text first)"),
        ("sc_product_design", bytearray(b"4"), "got bytes"),
        ("sc_product_design", complex(4, 1), "got a complex number"),
        ("equipment_digitised", np.complex128(35 - 2j), "got a complex number"),
        ("sc_product_design", True, "expected a level from 0 to 4"),
        ("sc_product_design", np.True_, "expected a level from 0 to 4"),
        ("sc_product_design", datetime.datetime(2024, 1, 4), "expected a level from 0 to 4"),
        ("sc_product_design", datetime.date(2024, 1, 4), "expected a level from 0 to 4"),
        ("sc_product_design", "4%", "expected a level from 0 to 4"),  # not the level 4
        pytest.param("equipment_digitised", 10**5000, "not a number", id="huge-int"),
        ("equipment_digitised", "3 5", "not a number"),  # not 35
        ("equipment_digitised", "1 234", "not a number"),
        pytest.param("equipment_digitised", "x" * 1_000_000, "not a number", id="long-text"),
        ("sector", ["C13"], "got a list"),
        ("employees", "35%", "not a number; expected a number of at least 0"),  # not 35 people
        ("employees", "-3", "-3 is out of range; expected a number of at least 0"),
        ("respondent_id", ["r1"], "expected one text or number, got a list"),
        ("respondent_id", {"id": 1}, "expected one text or number, got a mapping (dict)"),
    ],
)
def test_a_cell_that_is_not_an_answer_is_rejected_with_a_reason(
    miit, official, monkeypatch, code, cell, reason
):
    answers = frame(mixed_answers(miit), mixed_answers(miit))
    answers[code] = pd.Series(
        [answers[code].iloc[0] if code in answers else None, cell], dtype=object
    )
    result = official.score_batch(answers)  # never a TypeError
    assert (result.n_read, result.n_scored) == (2, 1)
    rejects = result.rejects
    assert rejects[["row", "column"]].values.tolist() == [[3, code]]
    assert rejects["reason"].iloc[0].startswith(reason) or reason in rejects["reason"].iloc[0]
    assert len(rejects["reason"].iloc[0]) < 300 and len(rejects["value"].iloc[0]) < 10**6 + 1
    with pytest.raises(dmi.AnswerError, match="1 of 2 rows"):
        official.score(answers)
    _rejects_of(miit, answers, monkeypatch)  # the same on every path


@pytest.mark.parametrize(
    "cell",
    [
        35,
        "35",
        np.int64(35),
        np.int8(35),
        np.uint16(35),
        np.float32(35.0),
        np.float64(35.0),
        decimal.Decimal("35"),
        decimal.Decimal("35.000"),
        decimal.Decimal("3.5E+1"),
        fractions.Fraction(70, 2),
        np.str_("35%"),
        "３５％",
        " 35 %",
        "+35",
    ],
)
def test_a_number_of_any_python_type_is_read_by_its_value(miit, official, cell):
    row = official.score(frame(mixed_answers(miit) | {"equipment_digitised": cell})).iloc[0]
    assert row["dmi"] == pytest.approx(40.675)  # 35 % -> band (20, 40]: 3 points


@pytest.mark.parametrize(
    "cell",
    [
        None,
        float("nan"),
        np.float32("nan"),
        pd.NA,
        pd.NaT,
        np.datetime64("NaT"),
        np.timedelta64("NaT"),
        decimal.Decimal("NaN"),
        decimal.Decimal("sNaN"),
        "",
        " \u3000\t",
        [],
    ],
)
def test_blank_cells_of_any_python_type_are_missing_answers(miit, official, cell):
    answers = frame(mixed_answers(miit) | {"equipment_digitised": cell})
    result = official.score_batch(answers)
    assert result.n_scored == 1 and result.imputed == {"equipment_digitised": 1}
    assert result.scores["dmi"].iloc[0] == pytest.approx(40.675 - 3)  # policy lowest: 0 points


@pytest.mark.parametrize(
    "code, cell, score",
    [
        ("agree", "3", 0.5),  # likert 1-5, lower is better
        ("agree", 1.0, 1.0),
        ("agree", "3%", None),
        ("agree", "3.5", None),
        ("scene", "2", 1.0),
        ("scene", "成熟", 1.0),
        ("scene", "2%", None),
        ("share", "55%", 1.0),  # unit %: band B, 3 of 3 points
        ("share", "55", 1.0),
        ("hours", "5", 0.25),  # unit 小时: goalposts 0-20
        ("hours", "5%", None),  # a percentage is not 5 hours
        ("has_plan", "是", 1.0),
        ("has_plan", "N", 0.0),
        ("has_plan", "nope", None),
        ("has_plan", ["yes"], None),
        ("one", "c", 1.0),
        ("one", "Some", 0.5),
        ("one", "BC", None),
    ],
)
def test_every_item_type_reads_only_what_it_documents(all_types, monkeypatch, code, cell, score):
    answers = pd.DataFrame({"respondent_id": ["a"], code: pd.Series([cell], dtype=object)})
    encoded = encode_answers(all_types, answers)
    got = encoded.scores[0, encoded.item_codes.index(code)]
    if score is None:
        assert not encoded.valid[0] and encoded.rejects["column"].tolist() == [code]
        if code == "hours":
            assert encoded.rejects["reason"].iloc[0].startswith("a percentage, but the unit")
    else:
        assert encoded.valid[0] and got == pytest.approx(score)
    _rejects_of(all_types, answers, monkeypatch)


def test_a_number_beside_a_complex_number_keeps_its_value(miit, official):
    # pandas makes the whole column complex (35 -> 35+0j): 35 is still 35
    answers = frame(mixed_answers(miit), mixed_answers(miit))
    answers["equipment_digitised"] = [35, 35 + 2j]
    assert answers["equipment_digitised"].dtype == np.complex128
    result = official.score_batch(answers)
    assert result.scores["dmi"].tolist() == [pytest.approx(40.675)]
    assert result.rejects[["row", "value"]].values.tolist() == [[3, "(35+2j)"]]
    assert result.rejects["reason"].iloc[0].endswith("got a complex number")


@pytest.mark.parametrize("cell", [float("inf"), float("-inf"), "inf", "1e400"])
def test_infinity_is_not_a_number_read_as_a_number_or_as_text(miit, official, cell):
    for column in ([cell], [cell, "35"]):  # a float column, or an object column with text
        answers = frame(*[mixed_answers(miit)] * len(column))
        answers["equipment_digitised"] = pd.Series(column, dtype=object).infer_objects()
        reasons = official.score_batch(answers).rejects["reason"].tolist()
        assert reasons == [
            "not a number; expected a number from 0 to 100 % or a band value (A, B, C, D, E)"
        ]


def test_dmi_score_reads_a_file_with_words_and_runs_in_a_multi_column(miit, tmp_path, capsys):
    # through the CSV reader, chunks of 50 rows and the memo of texts met in earlier chunks
    from dmi.cli import main

    traps = {"No": "'No' is not an option", "bed": "'bed' is not an option", "N/A": "'N/A'"}
    traps["BCE"] = "(write B;C;E)"
    base = pd.DataFrame([mixed_answers(miit)] * 180)
    base["respondent_id"] = [f"c{i}" for i in range(180)]
    cells = ["B;C", "B C", "b，c"] * 40 + list(traps) * 15
    base["data_collection"] = cells
    path, out, rejects = tmp_path / "in.csv", tmp_path / "out.csv", tmp_path / "rejects.csv"
    base.to_csv(path, index=False)
    argv = ["score", path, "-o", out, "--rejects", rejects, "--chunk-rows", "50", "-q"]
    code = main([str(a) for a in argv])
    assert code == 0, capsys.readouterr().err
    got = pd.read_csv(rejects, encoding="utf-8-sig", keep_default_na=False)
    assert len(got) == 60 and set(got["column"]) == {"data_collection"}
    for value, reason in traps.items():
        rows = got[got["value"] == value]
        assert rows["reason"].str.contains(reason, regex=False).all()
        assert rows["row"].tolist() == [i + 2 for i, c in enumerate(cells) if c == value]
    scores = pd.read_csv(out, encoding="utf-8-sig")
    # data_collection B;C is 0.7 + 0.7 points where the mixed case has B;C;O = 2.3
    assert scores["dmi"].tolist() == [pytest.approx(40.675 - 2.3 + 1.4)] * 120


@pytest.mark.parametrize("n", [5, 200])  # cell by cell, and by distinct cells
def test_a_profile_column_is_read_as_encode_answers_reads_it(miit, n):
    # dmi eligibility reads the survey's profile answers as the facts they give with the same
    # parser: the same values, the same cells refused with the same reasons
    from dmi.scoring.answers import read_profile_column

    cells = {
        "region": ["44", " 广东省 ", "Guangdong", "99", None],
        "sector": ["C34", "通用设备制造业", "C99", "", None],
        "employees": ["120", "120.5", "-5", "很多", None],
    }
    answers = pd.DataFrame({code: (values * n)[:n] for code, values in cells.items()})
    answers.insert(0, "respondent_id", [f"R{i}" for i in range(n)])
    encoded = encode_answers(miit, answers)
    for code in cells:
        read = read_profile_column(miit, code, answers[code])
        pd.testing.assert_series_equal(read.values, encoded.profile[code], check_names=False)
        found = encoded.rejects[encoded.rejects["column"] == code]
        assert (read.bad + 2).tolist() == found["row"].tolist()
        assert read.bad_values == found["value"].tolist()
        assert read.reasons == found["reason"].tolist()
    assert read_profile_column(miit, "region", answers["region"]).values[0] == "44"
    with pytest.raises(KeyError, match="no profile field 'province'"):
        read_profile_column(miit, "province", answers["region"])
