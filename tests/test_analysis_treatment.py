"""Coverage (the JRC's 65 % rule), outliers (the COINr rule), winsorisation, log transform and
imputation, each against hand-worked values; every treatment is in the log."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dmi.analysis import (
    NotComputable,
    Population,
    coverage,
    impute,
    log_transform,
    outliers,
    skew_kurtosis,
    treat,
    winsorise,
)
from dmi.errors import ParameterError
from dmi.instruments.synth import synthesise


def excel_skew(x):
    x = np.asarray(x, float)
    n, m, s = len(x), x.mean(), x.std(ddof=1)
    return n / ((n - 1) * (n - 2)) * (((x - m) / s) ** 3).sum()


def excel_kurt(x):
    x = np.asarray(x, float)
    n, m, s = len(x), x.mean(), x.std(ddof=1)
    a = n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * (((x - m) / s) ** 4).sum()
    return a - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))


@pytest.mark.parametrize(
    "x", [[1, 2, 3, 4], [1, 2, 3, 10], [5, 1, 1, 1, 2, 9, 30], list(range(40))]
)
def test_skew_and_kurtosis_are_the_bias_corrected_sample_statistics(x):
    s, k = skew_kurtosis(np.array(x, float))
    assert s == pytest.approx(excel_skew(x))
    assert k == pytest.approx(excel_kurt(x))


def test_skew_kurtosis_of_1_to_4_by_hand():
    assert skew_kurtosis(np.array([1.0, 2, 3, 4])) == pytest.approx((0.0, -1.2))


def test_outlier_rule_needs_both_skew_and_kurtosis():
    coinr = np.array([*range(1, 11), 30, 100], float)  # COINr's example: both high
    skewed_flat = np.array([*range(1, 11), 100, 100], float)  # skew 2.03, kurtosis 2.58
    table = outliers(
        pd.DataFrame({"a": coinr, "b": skewed_flat, "c": np.arange(12.0), "d": np.ones(12)})
    ).set_index("column")
    assert table.loc["a", "outlier"] and table.loc["a", "skew"] >= 2
    assert table.loc["b", "skew"] >= 2 and table.loc["b", "kurtosis"] < 3.5
    assert not table.loc["b", "outlier"] and not table.loc["c", "outlier"]
    assert not table.loc["d", "outlier"] and "constant" in table.loc["d", "note"]
    assert np.isnan(table.loc["d", "skew"])


def test_winsorise_replaces_the_extreme_by_the_next_value_until_it_passes():
    x = np.array([*range(1, 11), 30, 100], float)
    result = winsorise(x, max_points=5)
    assert result.changes == [(11, 100.0, 30.0)]
    assert result.passes and result.points == 1
    np.testing.assert_array_equal(result.values, [*range(1, 11), 30, 30])


def test_winsorise_moves_ties_together_and_respects_the_budget():
    x = np.array([*range(1, 21), 200, 200], float)
    assert winsorise(x, max_points=5).changes == [(20, 200.0, 20.0), (21, 200.0, 20.0)]
    one = winsorise(x, max_points=1)  # the two tied values cannot be moved within one point
    assert one.points == 0 and not one.passes
    np.testing.assert_array_equal(one.values, x)
    low = winsorise(-x, max_points=5)  # a negative skew treats the low end
    assert low.changes == [(20, -200.0, -20.0), (21, -200.0, -20.0)]


def _stepwise_winsorise(x, max_points, skew_max=2.0, kurtosis_max=3.5):
    """The documented rule by hand, with scipy's statistics: the extreme value on the side of
    the skew (and its ties) moves to the next value inward until the column passes; the budget
    counts the distinct data points ever moved (a point moved again counts once)."""
    from scipy.stats import kurtosis, skew

    v = np.asarray(x, float).copy()
    original: dict[int, float] = {}
    while True:
        s, k = skew(v, bias=False), kurtosis(v, bias=False)
        if not (abs(s) >= skew_max and k >= kurtosis_max):
            return v, original, True
        extreme = v.max() if s > 0 else v.min()
        inward = v[v < extreme] if s > 0 else v[v > extreme]
        rows = np.flatnonzero(v == extreme)
        if len(np.unique(inward)) < 2 or len(set(original) | set(rows.tolist())) > max_points:
            return v, original, False
        for r in rows.tolist():
            original.setdefault(r, float(v[r]))
        v[rows] = inward.max() if s > 0 else inward.min()


def test_winsorise_counts_each_point_once_when_it_moves_again():
    rng = np.random.default_rng(0)  # the review's column: three extreme points, 50 values
    x = np.round(rng.exponential(0.05, 50), 3)
    x[:5] = np.sort(rng.uniform(0.3, 1.0, 5))
    assert skew_kurtosis(x)[0] >= 2 and skew_kurtosis(x)[1] >= 3.5
    result = winsorise(x, max_points=5)
    # the three largest set to the fourth: three points, within the budget of five
    top3 = np.argsort(x)[-3:]
    expected = x.copy()
    expected[top3] = np.sort(x)[-4]
    assert result.passes and result.points == 3
    np.testing.assert_array_equal(result.values, expected)
    assert sorted(r for r, _, _ in result.changes) == sorted(top3.tolist())
    assert {r: (old, new) for r, old, new in result.changes} == {
        int(r): (x[r], np.sort(x)[-4]) for r in top3
    }
    s, k = skew_kurtosis(result.values)
    assert not (abs(s) >= 2 and k >= 3.5)
    tight = winsorise(x, max_points=2)  # the third step would move a third point
    assert not tight.passes and tight.points == 2


@pytest.mark.parametrize("seed", range(40))
def test_winsorise_follows_the_documented_rule_step_by_step(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 80))
    x = np.round(rng.exponential(0.05, n), 2)  # rounded: ties among the extremes
    tail = int(rng.integers(2, 7))
    x[:tail] = np.round(rng.uniform(0.3, 1.0, tail), 1)
    if seed % 2:
        x = 1 - x  # a negative skew: the low end is treated
    max_points = int(rng.integers(1, 8))
    values, original, passes = _stepwise_winsorise(x, max_points)
    result = winsorise(x, max_points=max_points)
    np.testing.assert_array_equal(result.values, values)
    assert result.passes == passes
    assert result.points == len(original) <= max_points
    assert {r: (old, new) for r, old, new in result.changes} == {
        r: (old, values[r]) for r, old in original.items()
    }


def test_winsorise_never_flattens_a_column():
    x = np.array([0.0] * 40 + [1.0] * 2)
    result = winsorise(x, max_points=5)
    assert not result.passes and result.points == 0


def test_log_transform_keeps_order_and_range_and_reduces_skew():
    x = np.array([*range(1, 11), 30, 100, np.nan], float)
    y = log_transform(x)
    assert np.isnan(y[-1])
    np.testing.assert_array_equal(np.argsort(x[:-1]), np.argsort(y[:-1]))
    assert (np.nanmin(y), np.nanmax(y)) == pytest.approx((1.0, 100.0))
    assert abs(skew_kurtosis(y)[0]) < abs(skew_kurtosis(x)[0])
    # by hand: y = ln(x - 1 + 0.99), mapped back onto [1, 100]
    raw = np.log(x[:-1] - 1 + 0.99)
    expected = 1 + (raw - raw.min()) / (raw.max() - raw.min()) * 99
    np.testing.assert_allclose(y[:-1], expected)


def test_impute_mean_median_and_within_group():
    values = np.array([[0.2, 1.0], [0.4, 0.0], [0.0, 0.5], [0.9, 0.0]])
    answered = np.array([[True, True], [True, False], [False, True], [True, False]])
    mean, log = impute(values, answered, "mean", columns=["a", "b"])
    assert mean[2, 0] == pytest.approx(0.5)  # (0.2 + 0.4 + 0.9) / 3
    assert mean[1, 1] == mean[3, 1] == pytest.approx(0.75)
    assert mean[0, 0] == 0.2 and mean[2, 1] == 0.5  # answered cells untouched
    assert log.set_index("column")["cells"].to_dict() == {"a": 1, "b": 2}
    median, _ = impute(values, answered, "median")
    assert median[2, 0] == pytest.approx(0.4)
    groups = np.array(["x", "x", "x", "y"])
    grouped, log = impute(values, answered, "group-mean", groups=groups, columns=["a", "b"])
    assert grouped[2, 0] == pytest.approx(0.3)  # mean of group x's answers 0.2, 0.4
    assert grouped[1, 1] == pytest.approx(0.75)  # group x's answers of b: 1.0, 0.5
    assert grouped[3, 1] == pytest.approx(0.75)  # group y has no answer of b: the column's mean
    row = log[(log["column"] == "b") & (log["group"] == "y")].iloc[0]
    assert "whole column" in row["note"]


def test_impute_a_column_nobody_answered_is_logged_not_invented():
    values = np.zeros((3, 1))
    filled, log = impute(values, np.zeros((3, 1), bool), "mean", columns=["q"])
    np.testing.assert_array_equal(filled, values)
    assert "no company answered" in log.iloc[0]["note"]


def _answers(miit, n=20, seed=3):
    return synthesise(miit, n, seed, missing_rate=0.0)


def test_coverage_counts_answers_given_against_the_threshold(miit):
    frame = _answers(miit).astype(object)
    frame.loc[0:9, "network"] = ""  # half the companies skip one item of `equipment`
    frame.loc[0:13, "strategy"] = None  # 70 % skip one item of `planning`
    frame.loc[19, [i.code for i in miit.items][:20]] = None  # one company skips 20 items
    population = Population.from_answers(miit, frame)
    result = coverage(population, threshold=0.65)
    items = result.items.set_index("item")
    assert items.loc["network", "share"] == pytest.approx(9 / 20)  # company 19 skipped it too
    assert items.loc["strategy", "share"] == pytest.approx(6 / 20)
    assert items.loc["talent", "share"] == 1.0
    indicators = result.indicators.set_index("indicator")
    # equipment is complete where network was answered: rows 10-18
    assert indicators.loc["equipment", "complete"] == 9
    assert indicators.loc["equipment", "below"]
    assert not indicators.loc["market", "below"]
    units = result.units.set_index("respondent_id")
    last = population.respondent_id[19]
    assert units.loc[last, "below"]
    assert units["below"].sum() == result.n_units_below


def test_coverage_of_nobody_is_not_computable(miit):
    population = Population.from_answers(miit, _answers(miit).iloc[:0])
    with pytest.raises(NotComputable, match="no valid rows"):
        coverage(population)


def test_treat_logs_every_column_and_changes_nothing_when_only_reporting(miit):
    population = Population.from_answers(miit, _answers(miit, 60))
    nodes = population.nodes("indicator")
    nodes[:, 0] = np.r_[np.zeros(57), [1.0, 1.0, 0.2]]  # make equipment an outlier column
    population.item_scores[:, :3] = nodes[:, [0]]  # the items of equipment say the same
    reported = treat(population, level="indicator")
    assert list(reported.log["column"]) == [i.code for i in miit.indicators]
    row = reported.log.set_index("column").loc["equipment"]
    assert row["action"] == "none" and "reported only" in row["note"]
    np.testing.assert_array_equal(reported.nodes, population.nodes("indicator"))
    assert not reported.changed
    treated = treat(population, level="indicator", outlier_treatment="winsorise-then-log")
    row = treated.log.set_index("column").loc["equipment"]
    assert row["action"] in ("winsorised", "log")
    assert treated.changed
    assert not treated.outliers_after.set_index("column").loc["equipment", "outlier"] or (
        "still" in row["note"]
    )
    untouched = [j for j, c in enumerate(treated.log["column"]) if c != "equipment"]
    np.testing.assert_array_equal(treated.nodes[:, untouched], reported.nodes[:, untouched])


def test_treat_imputation_needs_its_group(miit):
    population = Population.from_answers(miit, _answers(miit))
    fields = "sector, size_class, region, employees, revenue_band, company_name"
    for group_by in (None, "", "nosuch"):
        with pytest.raises(ParameterError) as caught:
            treat(population, imputation="group-mean", group_by=group_by)
        assert caught.value.parameter == "group_by"
        assert f"got {group_by!r}" in str(caught.value) and fields in str(caught.value)
    result = treat(population, imputation="group-mean", group_by="sector")
    assert result.settings["group_by"] == "sector"


@pytest.mark.parametrize(
    "call,parameter,words",
    [
        (lambda p: treat(p, outlier_treatment="trim"), "outlier_treatment", "'trim'"),
        (lambda p: treat(p, imputation="mode"), "imputation", "'mode'"),
        (lambda p: treat(p, level="company"), "level", "'company'"),
        (lambda p: coverage(p, threshold=0), "threshold", "got 0"),
        (lambda p: impute(p.item_scores, p.answered, "mode"), "method", "'mode'"),
        (lambda p: impute(p.item_scores, p.answered, "group-mean"), "groups", "group-mean"),
    ],
)
def test_settings_the_treatment_does_not_know_are_parameter_errors(miit, call, parameter, words):
    population = Population.from_answers(miit, _answers(miit, 20))
    with pytest.raises(ParameterError) as caught:
        call(population)
    assert caught.value.parameter == parameter and words in str(caught.value)
    assert "expected" in str(caught.value)


@pytest.mark.parametrize("imputation", ["none", "mean", "median"])
def test_treat_refuses_a_group_an_imputation_takes_none_of(miit, imputation):
    # group_by with mean, median or none was silently ignored: the cells were imputed over
    # everyone (or not at all) while the researcher asked for groups
    population = Population.from_answers(miit, _answers(miit))
    with pytest.raises(ParameterError) as caught:
        treat(population, imputation=imputation, group_by="sector")
    assert caught.value.parameter == "group_by"
    message = str(caught.value)
    assert f"imputation {imputation!r}" in message and "group-mean or group-median" in message
    assert "group_by 'sector'" in message
    for empty in (None, ""):  # no group: as before
        treat(population, imputation=imputation, group_by=empty)
