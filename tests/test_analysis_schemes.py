"""The vectorised kernel gives what IndexModel gives, for every method; levels for many runs
follow assign_levels; ranks tie at the levels' precision; schemes side by side."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau, spearmanr

from dmi.analysis import Kernel, NotComputable, Population, compare_schemes
from dmi.analysis.method import ahp_matrix_from_judgements
from dmi.analysis.schemes import LevelRule, MethodSettings, Scheme, rank_desc
from dmi.instruments import parse_instrument, shipped_path
from dmi.instruments.synth import synthesise
from dmi.scoring import IndexModel, encode_answers
from dmi.scoring.levels import assign_levels

WEIGHTINGS = ["instrument", "equal", "entropy", "critic", "pca", "bod"]
NORMALISATIONS = ["goalposts", "minmax", "zscore", "percentile", "target"]
AGGREGATIONS = ["arithmetic", "geometric", "mazziotta-pareto"]


@pytest.fixture(scope="module")
def excluding():
    """The shipped instrument with missing answers left out (NaN), not scored as lowest."""
    text = shipped_path("miit-2024-manufacturing.yaml").read_text(encoding="utf-8")
    assert "\n  missing: lowest\n" in text
    return parse_instrument(text.replace("\n  missing: lowest\n", "\n  missing: exclude\n"))


@pytest.fixture(scope="module")
def frames(excluding):
    data = synthesise(excluding, 150, 21, missing_rate=0.2)
    reference = synthesise(excluding, 400, 22, missing_rate=0.05)
    return data, reference


def _check_against_index_model(instrument, data, reference, level, same, combos):
    fit_on = encode_answers(instrument, data if same else reference)
    encoded = encode_answers(instrument, data)
    population = Population.from_answers(instrument, data)
    kernel = Kernel.from_populations(
        population, level, None if same else Population.from_answers(instrument, reference)
    )
    rule = LevelRule(instrument, population.scenario_levels, population.scenario_codes)
    checked = 0
    for weighting, normalisation, aggregation in combos:
        try:
            model = IndexModel(
                instrument,
                weighting=weighting,
                normalisation=normalisation,
                aggregation=aggregation,
                weight_level=level,
            ).fit(fit_on)
        except ValueError:
            continue  # a combination the engine refuses (geometric z-scores, BoD off its level)
        expected = model.score_encoded(encoded)
        if weighting == "bod":
            dims, index = kernel.evaluate_bod(normalisation)
        else:
            w, _ = kernel.weights(weighting, normalisation)
            np.testing.assert_allclose(w, model.weights_, atol=1e-12)
            dims, index = kernel.evaluate(normalisation, aggregation, w)
        what = (level, same, weighting, normalisation, aggregation)
        np.testing.assert_allclose(index[:, 0], expected["dmi"], atol=2e-9, err_msg=str(what))
        for j, d in enumerate(instrument.dimensions):
            np.testing.assert_allclose(
                dims[:, j, 0], expected[f"dim_{d.code}"], atol=2e-9, err_msg=str(what)
            )
        band = "level" if model.is_official else "indicative_level"
        np.testing.assert_array_equal(rule.levels(index[:, 0]), expected[band])
        checked += 1
    return checked


@pytest.mark.parametrize("same", [False, True], ids=["own-reference", "self-reference"])
def test_kernel_equals_index_model_for_every_method_at_the_indicator_level(excluding, frames, same):
    data, reference = frames
    population = Population.from_answers(excluding, data)
    assert np.isnan(population.nodes("indicator")).any()  # missing nodes are exercised
    combos = itertools.product(WEIGHTINGS, NORMALISATIONS, AGGREGATIONS)
    checked = _check_against_index_model(excluding, data, reference, "indicator", same, combos)
    assert checked >= 60


@pytest.mark.parametrize("level", ["item", "dimension"])
def test_kernel_equals_index_model_at_other_levels(excluding, frames, level):
    data, reference = frames
    combos = [
        ("instrument", "goalposts", "arithmetic"),
        ("equal", "minmax", "geometric"),
        ("entropy", "percentile", "mazziotta-pareto"),
        ("critic", "zscore", "arithmetic"),
        ("bod", "goalposts", "arithmetic"),
        ("bod", "zscore", "arithmetic"),
    ]
    checked = _check_against_index_model(excluding, data, reference, level, False, combos)
    assert checked == (6 if level == "dimension" else 4)


def test_kernel_scores_many_weight_vectors_as_one_each(miit):
    data = synthesise(miit, 80, 5)
    population = Population.from_answers(miit, data)
    kernel = Kernel.from_populations(population, "indicator")
    rng = np.random.default_rng(0)
    W = rng.uniform(size=(13, 7))
    W /= W.sum(axis=0)
    for aggregation in AGGREGATIONS:
        dims, index = kernel.evaluate("minmax", aggregation, W)
        for r in range(W.shape[1]):
            one_dims, one = kernel.evaluate("minmax", aggregation, W[:, r])
            np.testing.assert_allclose(index[:, r], one[:, 0], atol=1e-9)
            np.testing.assert_allclose(dims[:, :, r], one_dims[:, :, 0], atol=1e-9)


def test_geometric_z_scores_are_refused_with_the_reason(miit):
    population = Population.from_answers(miit, synthesise(miit, 20, 1))
    kernel = Kernel.from_populations(population, "indicator")
    with pytest.raises(NotComputable, match="geometric"):
        kernel.evaluate("zscore", "geometric", kernel.weights("equal")[0])


@pytest.fixture(scope="module")
def with_scenario_rule():
    """The shipped instrument with its scenario-count rule switched on."""
    text = shipped_path("miit-2024-manufacturing.yaml").read_text(encoding="utf-8")
    old = "  scenario_rule:\n    enabled: false\n"
    assert old in text
    return parse_instrument(text.replace(old, "  scenario_rule:\n    enabled: true\n"))


@pytest.mark.parametrize("rule_on", [False, True], ids=["bands", "bands-and-scenario-rule"])
def test_level_rule_equals_assign_levels_for_any_index(miit, with_scenario_rule, rule_on):
    miit = with_scenario_rule if rule_on else miit
    data = synthesise(miit, 300, 9)
    population = Population.from_answers(miit, data)
    rule = LevelRule(miit, population.scenario_levels, population.scenario_codes)
    if rule_on:  # some companies reach a band by score that their scenarios do not allow
        assert not rule.holds.all()
    rng = np.random.default_rng(1)
    edges = [b.min for b in miit.levels.bands]
    index = np.column_stack(
        [rng.uniform(0, 100, 300), rng.choice(edges, 300), rng.choice(edges, 300) - 1e-10]
    )
    index[5, 0] = np.nan
    levels = rule.levels(index)
    for r in range(index.shape[1]):
        expected = assign_levels(
            miit, index[:, r], population.scenario_levels, population.scenario_codes
        )
        np.testing.assert_array_equal(levels[:, r], expected)


def test_ranks_tie_at_the_levels_precision():
    values = np.array([44.6, np.nextafter(44.6, 100), 50.0, 10.0])  # one float path apart
    assert values[0] != values[1]
    np.testing.assert_array_equal(rank_desc(values), [2.5, 2.5, 1.0, 4.0])
    np.testing.assert_array_equal(rank_desc(np.array([1.0, np.nan, 3.0])), [2.0, np.nan, 1.0])


def test_compare_schemes_against_index_model_and_scipy(miit):
    data = synthesise(miit, 120, 31)
    reference = synthesise(miit, 300, 32)
    population = Population.from_answers(miit, data)
    ref = Population.from_answers(miit, reference)
    result = compare_schemes(
        population, schemes=["instrument", "equal", "entropy", "pca", "ahp", "bod"], reference=ref
    )
    assert set(result.not_run) == {"ahp"} and "judgement" in result.not_run["ahp"]
    summary = result.summary.set_index("scheme")
    assert summary.loc["ahp", "notes"].startswith("not run")
    assert "dimension level" in summary.loc["bod", "notes"]
    fitted = encode_answers(miit, reference)
    official = IndexModel(miit).fit().score(data)
    for scheme in ["equal", "entropy", "pca"]:
        model = IndexModel(miit, weighting=scheme).fit(fitted)
        np.testing.assert_allclose(result.weights[scheme], model.weights_, atol=1e-12)
        scores = model.score(data)
        np.testing.assert_allclose(result.companies[f"dmi_{scheme}"], scores["dmi"], atol=2e-9)
        rho = spearmanr(official["dmi"], scores["dmi"]).statistic
        tau = kendalltau(official["dmi"], scores["dmi"]).statistic
        assert summary.loc[scheme, "spearman"] == pytest.approx(rho, abs=1e-9)
        assert summary.loc[scheme, "kendall"] == pytest.approx(tau, abs=1e-9)
        changed = int((scores["indicative_level"] != official["level"]).sum())
        assert summary.loc[scheme, "band_changed"] == changed
        assert result.band_names[scheme] == "indicative_level"
    assert result.band_names["instrument"] == "level"
    np.testing.assert_array_equal(result.companies["band_instrument"], official["level"])
    # counts of companies are whole numbers, a scheme not run has none (they were 2.0 and nan)
    from dmi.analysis.pipeline import records

    rows = {r["scheme"]: r for r in records(result.summary)}
    assert type(rows["equal"]["band_changed"]) is int and rows["ahp"]["band_changed"] is None


def test_compare_schemes_ahp_with_judgements_and_tiers(miit):
    from dmi.tiers import load_shipped_tier_model

    data = synthesise(miit, 100, 41)
    population = Population.from_answers(miit, data)
    nodes = [d.code for d in miit.dimensions]
    matrix = ahp_matrix_from_judgements(
        nodes,
        [
            ["foundation", "operations", 2],
            ["foundation", "management", "3"],
            ["foundation", "performance", 4],
            ["operations", "management", "3/2"],
            ["operations", "performance", 2],
            ["management", "performance", "4/3"],
        ],
        "test",
    )
    tier_model = load_shipped_tier_model(miit)
    result = compare_schemes(
        population,
        schemes=["instrument", "ahp", "equal"],
        level="dimension",
        settings=MethodSettings(ahp_matrix=matrix),
        tier_model=tier_model,
    )
    assert result.not_run == {}
    expected = IndexModel(miit, weighting="ahp", weight_level="dimension", ahp_matrix=matrix).fit()
    np.testing.assert_allclose(result.weights["ahp"], expected.weights_, atol=1e-12)
    official = IndexModel(miit).fit().score(data)
    tiers = tier_model.predict(official)
    np.testing.assert_array_equal(result.companies["tier_instrument"], tiers)
    # dimension scores do not change with dimension-level weights: neither do tiers
    assert (result.summary["tier_changed"] == 0).all()
    assert pd.api.types.is_integer_dtype(result.companies["tier_ahp"])


def test_target_with_a_zero_reference_quantile_is_said_and_matches_index_model(miit):
    """The kernel normalises as IndexModel does where a node's reference quantile is 0 (its
    target is the reference maximum, never 0: no full marks for nothing) and says so."""
    data = synthesise(miit, 60, 51)
    reference = synthesise(miit, 200, 52)
    reference.loc[reference.index[:195], "network"] = "A"  # 97.5 % with no network
    population = Population.from_answers(miit, data)
    ref = Population.from_answers(miit, reference)
    kernel = Kernel.from_populations(population, "item", ref)
    model = IndexModel(miit, weighting="equal", normalisation="target", weight_level="item")
    model.fit(encode_answers(miit, reference))
    w, _ = kernel.weights("equal", "target")
    _, index = kernel.evaluate("target", "arithmetic", w)
    np.testing.assert_allclose(index[:, 0], model.score(data)["dmi"], atol=2e-9)
    at = kernel.codes.index("network")
    normalised = kernel.normalised("target")[0][:, at]
    raw = population.nodes("item")[:, at]
    np.testing.assert_allclose(normalised, raw / ref.nodes("item")[:, at].max())
    notes = kernel.normalisation_notes("target")
    assert len(notes) == 1 and "network" in notes[0] and "0.9 quantile" in notes[0]
    assert notes[0].render("zh").startswith("目标值标准化：")
    result = compare_schemes(
        population,
        schemes=["equal"],
        nominal=Scheme("instrument", "target", "arithmetic"),
        level="item",
        reference=ref,
    )
    assert "network" in result.summary.set_index("scheme").loc["equal", "notes"]


def test_an_unknown_scheme_is_refused_before_anything_runs(miit):
    from dmi.errors import DataError, ParameterError

    population = Population.from_answers(miit, synthesise(miit, 20, 61))
    with pytest.raises(ParameterError) as caught:
        compare_schemes(population, schemes=["equal", "bogus", "magic"])
    assert caught.value.parameter == "schemes"
    assert "'bogus', 'magic'" in str(caught.value)
    assert "instrument, equal, entropy, critic, pca, ahp, bod" in str(caught.value)
    kernel = Kernel.from_populations(population, "indicator")
    with pytest.raises(ParameterError, match="weighting: expected weightings among"):
        kernel.weights("bogus")
    with pytest.raises(ParameterError, match="aggregation: expected one of"):
        kernel.evaluate("goalposts", "median", kernel.weights("equal")[0])
    with pytest.raises(DataError, match="at least 2 companies"):
        compare_schemes(Population.from_answers(miit, synthesise(miit, 1, 62)))


def test_entropy_and_critic_rows_say_a_constant_node_got_weight_0(miit):
    data = synthesise(miit, 40, 71)
    data["network"] = "B;C;D;E"  # `equipment` at full points for every company
    data["equipment_digitised"] = 100
    data["equipment_networked"] = 100
    population = Population.from_answers(miit, data)
    result = compare_schemes(population, schemes=["instrument", "entropy", "critic", "equal"])
    at = list(result.weights["code"]).index("equipment")
    notes = result.summary.set_index("scheme")["notes"]
    for scheme in ("entropy", "critic"):
        assert result.weights[scheme][at] == 0
        note = notes[scheme]
        assert f"{scheme}: weight 0 for equipment, the same for every reference company" in note
        assert "权重为 0" in note.render("zh")
    assert "equipment" not in notes["equal"]
