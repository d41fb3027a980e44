"""Reliability: alpha against pingouin and hand-worked cases, KMO and Bartlett against
factor_analyzer, the per-dimension flags, and statistics that cannot be computed."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from dmi.analysis import NotComputable, Population, bartlett, cronbach_alpha, kmo, reliability

pingouin = pytest.importorskip("pingouin")
factor_analyzer = pytest.importorskip("factor_analyzer")


def correlated(seed: int, n: int, k: int, noise: float = 1.0) -> pd.DataFrame:
    """k items sharing one factor, plus noise (different loadings per item)."""
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(n, 1))
    loadings = rng.uniform(0.2, 1.5, size=k)
    data = factor * loadings + noise * rng.normal(size=(n, k))
    return pd.DataFrame(data, columns=[f"q{j}" for j in range(k)])


@pytest.mark.parametrize("seed,n,k", [(1, 40, 3), (2, 200, 5), (3, 1000, 9), (4, 12, 2)])
def test_alpha_and_interval_match_pingouin(seed, n, k):
    data = correlated(seed, n, k)
    ours = cronbach_alpha(data)
    alpha, ci = pingouin.cronbach_alpha(data, ci=0.95)
    assert ours.alpha == pytest.approx(alpha, abs=1e-12)
    # pingouin rounds its interval to 3 decimals
    assert ours.ci == pytest.approx(tuple(ci), abs=5e-4 + 1e-12)
    assert ours.ci[0] < ours.alpha < ours.ci[1]
    assert (ours.n, ours.k, ours.n_dropped) == (n, k, 0)


def test_alpha_listwise_matches_pingouin_and_counts_dropped_rows():
    data = correlated(5, 120, 4)
    data.iloc[[3, 10, 11], 1] = np.nan
    data.iloc[10, 2] = np.nan
    ours = cronbach_alpha(data)
    alpha, _ = pingouin.cronbach_alpha(data, nan_policy="listwise")
    assert ours.alpha == pytest.approx(alpha, abs=1e-12)
    assert (ours.n, ours.n_dropped) == (117, 3)


def test_alpha_hand_worked():
    # identical items: all the variance is shared, alpha = 1
    x = np.array([1.0, 2.0, 4.0, 7.0, 3.0])
    assert cronbach_alpha(pd.DataFrame({"a": x, "b": x, "c": x})).alpha == pytest.approx(1.0)
    # two uncorrelated items of equal variance: alpha = 2 (1 - 2v / 2v) = 0
    a = np.array([1.0, -1.0, 1.0, -1.0])
    b = np.array([1.0, 1.0, -1.0, -1.0])
    assert cronbach_alpha(pd.DataFrame({"a": a, "b": b})).alpha == pytest.approx(0.0, abs=1e-12)
    # k = 3, covariance matrix worked by hand
    data = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 2, 4, 4], "c": [1, 3, 2, 4]}, dtype=float)
    C = np.cov(data.to_numpy(), rowvar=False)
    expected = 3 / 2 * (1 - np.trace(C) / C.sum())
    assert cronbach_alpha(data).alpha == pytest.approx(expected)


def test_item_total_and_alpha_if_deleted_follow_their_definitions():
    data = correlated(7, 150, 5)
    result = cronbach_alpha(data)
    for row in result.items.itertuples():
        rest = data.drop(columns=row.item)
        assert row.item_total == pytest.approx(np.corrcoef(data[row.item], rest.sum(axis=1))[0, 1])
        assert row.alpha_if_deleted == pytest.approx(pingouin.cronbach_alpha(rest)[0])


@pytest.mark.parametrize("seed,n,p", [(11, 60, 4), (12, 300, 7), (13, 2000, 12)])
def test_kmo_and_bartlett_match_factor_analyzer(seed, n, p):
    data = correlated(seed, n, p, noise=0.8)
    per_item, overall = factor_analyzer.factor_analyzer.calculate_kmo(data)
    chi2, p_value = factor_analyzer.factor_analyzer.calculate_bartlett_sphericity(data)
    ours = kmo(data)
    assert ours.overall == pytest.approx(overall, abs=1e-10)
    np.testing.assert_allclose(ours.per_item.to_numpy(), per_item, atol=1e-10)
    test = bartlett(data)
    assert test.statistic == pytest.approx(chi2, rel=1e-9)
    assert test.p_value == pytest.approx(p_value, abs=1e-12)
    assert test.df == p * (p - 1) // 2


def test_bartlett_of_uncorrelated_items_is_zero_and_their_kmo_is_not_computable():
    # orthogonal centred columns: the correlation matrix is exactly the identity
    base = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=float)
    data = pd.DataFrame(np.vstack([base] * 3), columns=["a", "b", "c"])
    test = bartlett(data)
    assert test.statistic == pytest.approx(0.0, abs=1e-9)
    assert test.p_value == pytest.approx(1.0)
    with pytest.raises(NotComputable, match="uncorrelated"):
        kmo(data)


@pytest.mark.parametrize(
    "frame,match",
    [
        (pd.DataFrame({"a": [1.0, 2.0]}), "at least 2 items"),
        (pd.DataFrame({"a": [1.0, 2.0], "b": [2.0, 1.0]}), "at least 3 respondents"),
        (pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [np.nan] * 3}), "b has no values"),
        (pd.DataFrame({"a": [1.0, 1.0, 1.0], "b": [2.0, 2.0, 2.0]}), "same for every"),
    ],
)
def test_alpha_not_computable_says_why(frame, match):
    with pytest.raises(NotComputable, match=match):
        cronbach_alpha(frame, what="dimension x")


def test_constant_item_keeps_alpha_but_has_no_item_total():
    data = correlated(3, 50, 3)
    data["flat"] = 1.0
    result = cronbach_alpha(data)
    row = result.items.set_index("item").loc["flat"]
    assert np.isnan(row["item_total"]) and "constant" in row["note"]
    C = np.cov(data.to_numpy(), rowvar=False)
    assert result.alpha == pytest.approx(4 / 3 * (1 - np.trace(C) / C.sum()))


@pytest.mark.parametrize("function", [kmo, bartlett])
def test_kmo_bartlett_not_computable(function):
    data = correlated(9, 30, 3)
    with pytest.raises(NotComputable, match="constant"):
        function(data.assign(flat=2.0))
    with pytest.raises(NotComputable, match="more respondents"):
        function(data.head(3))
    with pytest.raises(NotComputable, match="has no values"):
        function(data.assign(empty=np.nan))
    with pytest.raises(NotComputable, match="singular"):
        function(data.assign(total=data.sum(axis=1)))


def _population(instrument, scores: np.ndarray) -> Population:
    n = len(scores)
    return Population(
        instrument=instrument,
        respondent_id=np.array([f"R{i}" for i in range(n)]),
        item_scores=scores,
        answered=np.ones(scores.shape, dtype=bool),
        scenario_levels=np.zeros((n, len(instrument.scenario_items())), dtype=int),
        scenario_codes=[i.code for i in instrument.scenario_items()],
        profile=pd.DataFrame(index=range(n)),
        n_read=n,
    )


def test_reliability_flags_each_rule_where_it_holds(miit):
    rng = np.random.default_rng(0)
    n = 400
    codes = [i.code for i in miit.items]
    factor = rng.uniform(size=(n, 1))
    scores = np.clip(factor + 0.15 * rng.normal(size=(n, len(codes))), 0, 1)
    frame = pd.DataFrame(scores, columns=codes)
    # performance: one item runs against its sibling, another is pure noise
    frame["cost_ratio"] = 1 - frame["pass_rate"] + 0.05 * rng.normal(size=n)
    frame["energy_intensity"] = rng.uniform(size=n)
    # management: one item is the same for everyone
    frame["investment"] = 0.5
    result = reliability(_population(miit, frame.to_numpy()), alpha_min=0.7, item_total_min=0.3)
    flags = result.flags
    negative = flags[flags["kind"] == "negative_correlation"]
    assert set(negative["dimension"]) == {"performance"}
    assert any("pass_rate" in w and "cost_ratio" in w for w in negative["where"])
    weak = flags[flags["kind"] == "weak_item"]
    assert "energy_intensity" in set(weak["where"])
    assert not ({"network", "strategy", "sc_quality"} & set(weak["where"]))
    not_computable = flags[flags["kind"] == "not_computable"]
    assert set(not_computable["dimension"]) == {"management"}
    assert not_computable["message"].str.contains("investment is constant").all()
    table = result.table().set_index("dimension")
    assert (
        np.isnan(table.loc["management", "kmo"]) and "constant" in table.loc["management", "note"]
    )
    assert table.loc["operations", "alpha"] > 0.9
    low = flags[flags["kind"] == "alpha_low"]
    assert set(low["dimension"]) == {d for d in table.index if table.loc[d, "alpha"] < 0.7}
    # each indicator against the instrument-weighted mean of its siblings
    indicators = pd.DataFrame(
        _population(miit, frame.to_numpy()).nodes("indicator"),
        columns=[i.code for i in miit.indicators],
    )
    row = result.indicators.set_index("indicator").loc["planning"]
    assert row["r_rest"] == pytest.approx(
        np.corrcoef(indicators["planning"], indicators["resources"])[0, 1]
    )


def test_reliability_on_the_shipped_population_matches_the_oracles(miit):
    from dmi.instruments import shipped_reference_population
    from dmi.io import read_answers

    population = Population.from_answers(
        miit, read_answers(shipped_reference_population(miit), miit)
    )
    result = reliability(population)
    items = pd.DataFrame(population.item_scores, columns=[i.code for i in miit.items])
    answered = pd.DataFrame(population.answered, columns=items.columns)
    for d in result.dimensions:
        # on the rows that answered every item of the dimension (an unanswered item is scored
        # as the lowest answer by the MIIT rule: that 0 is no answer to correlate)
        table = items.loc[answered[d.items].all(axis=1), d.items]
        assert d.alpha.n == len(table) and d.alpha.n_dropped == len(items) - len(table)
        assert d.alpha.alpha == pytest.approx(pingouin.cronbach_alpha(table)[0], abs=1e-12)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, overall = factor_analyzer.factor_analyzer.calculate_kmo(table)
        assert d.kmo.overall == pytest.approx(overall, abs=1e-9)


@pytest.mark.parametrize("seed", [3, 77])
def test_an_answer_not_given_is_left_out_though_the_score_counts_it_as_the_lowest(miit, seed):
    # the unanswered items, scored 0 by the lowest-answer rule, had been correlated as answers:
    # alpha 0.44 where the rows that answered every item give 0.76
    from dmi.instruments.synth import synthesise

    answers = synthesise(miit, 300, seed, missing_rate=0.05)
    population = Population.from_answers(miit, answers)
    assert not population.answered.all()
    result = reliability(population)
    items = pd.DataFrame(population.item_scores, columns=[i.code for i in miit.items])
    answered = pd.DataFrame(population.answered, columns=items.columns)
    for d in result.dimensions:
        table = items.loc[answered[d.items].all(axis=1), d.items]
        assert (d.alpha.n, d.alpha.n_dropped) == (len(table), len(items) - len(table))
        assert d.alpha.alpha == pytest.approx(pingouin.cronbach_alpha(table)[0], abs=1e-12)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, overall = factor_analyzer.factor_analyzer.calculate_kmo(table)
        assert d.kmo.overall == pytest.approx(overall, abs=1e-9)
        assert d.bartlett.n == len(table)


def test_results_unpack_as_the_oracles_do():
    data = correlated(21, 80, 4)
    alpha, ci = cronbach_alpha(data)
    assert alpha == pytest.approx(pingouin.cronbach_alpha(data)[0])
    assert len(ci) == 2
    per_item, overall = kmo(data)
    expected_items, expected = factor_analyzer.factor_analyzer.calculate_kmo(data)
    np.testing.assert_allclose(per_item, expected_items, atol=1e-10)
    assert overall == pytest.approx(expected)
    chi2, p = bartlett(data)
    assert (chi2, p) == pytest.approx(
        factor_analyzer.factor_analyzer.calculate_bartlett_sphericity(data)
    )
