"""Normalisation, weighting and aggregation through IndexModel, against independent oracles."""

from __future__ import annotations

import json
import math
import statistics
import warnings

import numpy as np
import pandas as pd
import pytest
from pymcdm.weights import critic_weights, entropy_weights
from scipy import stats

import dmi
from dmi.instruments.synth import synthesise
from dmi.scoring import aggregate as agg
from dmi.scoring.answers import encode_answers
from dmi.scoring.normalise import Normaliser

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.fixture(scope="module")
def population(miit) -> pd.DataFrame:
    return synthesise(miit, 400, seed=11, missing_rate=0.0)


@pytest.fixture(scope="module")
def nodes(miit, population):
    """Indicator and dimension scores computed independently of IndexModel's aggregation."""
    encoded = encode_answers(miit, population)
    items = pd.DataFrame(encoded.scores, columns=encoded.item_codes)
    indicators = {}
    for ind in miit.indicators:
        w = np.array([miit.item_weight(i) for i in ind.items])
        indicators[ind.code] = items[[i.code for i in ind.items]].to_numpy() @ w / w.sum()
    indicators = pd.DataFrame(indicators)
    dims = {}
    for d in miit.dimensions:
        w = np.array([miit.indicator_weight(i) for i in d.indicators])
        dims[d.code] = indicators[[i.code for i in d.indicators]].to_numpy() @ w / w.sum()
    return indicators, pd.DataFrame(dims)


def test_equal_weights_at_dimension_level_is_the_plain_mean(miit, population, nodes):
    _, dims = nodes
    scores = (
        dmi.IndexModel(miit, weighting="equal", weight_level="dimension").fit().score(population)
    )
    np.testing.assert_allclose(scores["dmi"], 100 * dims.mean(axis=1), atol=1e-7)


def test_entropy_and_critic_weights_match_pymcdm(miit, population, nodes):
    indicators, _ = nodes
    positive = indicators[(indicators > 0).all(axis=1)].to_numpy()
    answers = population[(indicators > 0).all(axis=1).to_numpy()]
    for method, oracle in (("entropy", entropy_weights), ("critic", critic_weights)):
        model = dmi.IndexModel(miit, weighting=method).fit(answers)
        np.testing.assert_allclose(model.weights_, oracle(positive), atol=1e-9)
        # and the index is the weighted sum of the indicators with those weights
        scores = model.score(answers)
        np.testing.assert_allclose(scores["dmi"], 100 * positive @ model.weights_, atol=1e-7)


def test_pca_weights_are_a_distribution_over_indicators(miit, population):
    model = dmi.IndexModel(miit, weighting="pca").fit(population)
    assert model.weights_.shape == (13,)
    assert model.weights_.min() >= 0 and model.weights_.sum() == pytest.approx(1)
    scores = model.score(population)
    assert scores["dmi"].between(0, 100).all()


def test_ahp_weights_over_dimensions(miit, population, nodes):
    _, dims = nodes
    # foundation 3x operations and management, 5x performance; judgements consistent
    w = np.array([0.5, 1 / 6, 1 / 6, 0.1 + 1 / 15])
    matrix = w[:, None] / w[None, :]
    model = dmi.IndexModel(miit, weighting="ahp", weight_level="dimension", ahp_matrix=matrix).fit()
    np.testing.assert_allclose(model.weights_, w / w.sum(), atol=1e-9)
    assert model.ahp_.cr == pytest.approx(0, abs=1e-9)
    scores = model.score(population)
    np.testing.assert_allclose(scores["dmi"], 100 * dims.to_numpy() @ (w / w.sum()), atol=1e-7)


def test_ahp_matrix_of_wrong_size_is_refused(miit):
    with pytest.raises(ValueError, match="4 dimension nodes"):
        dmi.IndexModel(
            miit, weighting="ahp", weight_level="dimension", ahp_matrix=np.ones((3, 3))
        ).fit()


def test_percentile_normalisation_matches_scipy(miit, population, nodes):
    indicators, _ = nodes
    normaliser = Normaliser("percentile").fit(indicators.to_numpy())
    probe = np.linspace(0, 1, 23)
    out = normaliser.transform(np.tile(probe[:, None], (1, indicators.shape[1])))
    for j, code in enumerate(indicators.columns):
        expected = [stats.percentileofscore(indicators[code], x, kind="mean") / 100 for x in probe]
        np.testing.assert_allclose(out[:, j], expected, atol=1e-12)


def test_zscore_and_minmax_match_hand_formulas():
    X = np.array([[0.2, 0.5], [0.4, 0.5], [0.9, 0.5]])
    z = Normaliser("zscore").fit(X).transform(X)
    np.testing.assert_allclose(z[:, 0], stats.zscore(X[:, 0], ddof=1))
    assert (z[:, 1] == 0).all()  # a constant column carries no information
    m = Normaliser("minmax").fit(X).transform(np.array([[0.3, 0.5], [1.0, 0.1]]))
    np.testing.assert_allclose(m[:, 0], [(0.3 - 0.2) / 0.7, 1.0])
    np.testing.assert_allclose(m[:, 1], [0.5, 0.1])  # constant on the reference: unchanged
    t = Normaliser("target", target_quantile=0.5).fit(X).transform(np.array([[0.2, 1.0]]))
    np.testing.assert_allclose(t, [[0.5, 1.0]])  # median 0.4 is the target; capped at 1


@pytest.mark.parametrize("seed", range(6))
def test_target_of_a_reference_quantile_of_0_never_gives_full_marks(seed):
    """min(x / q, 1) is undefined at q = 0: the target is the reference maximum instead (the
    Handbook's distance to the leader), and a column that is 0 for every reference company keeps
    its own score (as minmax keeps a constant column)."""
    rng = np.random.default_rng(seed)
    quantile = float(rng.choice([0.5, 0.75, 0.9, 1.0]))
    n = int(rng.integers(10, 60))
    zeros = np.zeros(n)
    mostly_zero = np.where(np.arange(n) < int(np.ceil(quantile * n)) + 1, 0.0, 0.5)
    if quantile == 1.0:
        mostly_zero = np.zeros(n)  # the maximum itself is the quantile: only all-zero has q = 0
    usual = rng.choice([0.0, 0.25, 0.5, 1.0], n)
    usual[0] = 1.0
    X = np.column_stack([mostly_zero, zeros, usual])
    normaliser = Normaliser("target", target_quantile=quantile).fit(X)
    q = np.quantile(X, quantile, axis=0)  # numpy as the oracle of the quantile
    assert q[0] == 0 and q[1] == 0
    probe = np.array([[0.0, 0.0, 0.0], [0.25, 0.25, 0.25], [0.5, 0.5, 0.5], [1.0, 1.0, 1.0]])
    out = normaliser.transform(probe)
    top = X[:, 0].max()
    expected_first = probe[:, 0] if top == 0 else np.minimum(probe[:, 0] / top, 1.0)
    np.testing.assert_allclose(out[:, 0], expected_first)
    np.testing.assert_allclose(out[:, 1], probe[:, 1])  # nobody has points: x itself
    np.testing.assert_allclose(out[:, 2], np.minimum(probe[:, 2] / q[2], 1.0))  # the usual rule
    assert (out[0] == 0).all()  # no points never earns credit
    assert [f["column"] for f in normaliser.fallbacks_] == [0, 1]
    assert all(f["quantile_value"] == 0.0 for f in normaliser.fallbacks_)


def test_target_normalisation_with_a_zero_quantile_keeps_companies_apart(miit):
    reference = synthesise(miit, 400, seed=5, missing_rate=0.0)
    reference.loc[reference.index[:390], "network"] = "A"  # 97.5 % have no network
    model = dmi.IndexModel(
        miit, weighting="equal", normalisation="target", weight_level="item"
    ).fit(reference)
    at = model.nodes_.index("network")
    top = encode_answers(miit, reference).scores[:, at].max()
    assert model.normaliser_.params_[at] == {"target": top} and top > 0
    none = reference.iloc[[0]].assign(respondent_id="NONE", network="A")
    all4 = none.assign(respondent_id="ALL4", network="B;C;D;E")
    scores = model.score(pd.concat([none, all4], ignore_index=True))
    assert scores["dmi"].iloc[0] < scores["dmi"].iloc[1]
    note = [n for n in model.fit_info_["notes"] if "network" in n]
    assert len(note) == 1 and "0.9 quantile" in note[0] and "maximum" in note[0]


def test_a_model_file_with_a_target_of_0_is_refused(miit, tmp_path):
    reference = synthesise(miit, 50, seed=2, missing_rate=0.0)
    model = dmi.IndexModel(miit, normalisation="target").fit(reference)
    data = model.to_dict()
    data["normaliser"]["params"][4] = {"target": 0.0}  # as dmi wrote it before: full marks
    with pytest.raises(dmi.ModelFileError) as caught:
        dmi.IndexModel.from_dict(data, miit)
    assert caught.value.field == "normaliser.params[4].target"
    assert "above 0" in caught.value.problem and "refit" in caught.value.problem


def test_geometric_aggregation_by_hand():
    X = np.array([[0.25, 1.0], [0.0, 1.0], [0.5, np.nan]])
    out = agg.geometric(X, np.array([1.0, 1.0]), offset=0.0 + 1e-300)
    assert out[0] == pytest.approx(0.5)
    assert out[1] == pytest.approx(0.0, abs=1e-100)
    assert out[2] == pytest.approx(0.5)  # NaN excluded, the other input alone
    shifted = agg.geometric(X[:1], np.array([3.0, 1.0]), offset=0.01)[0]
    assert shifted == pytest.approx(math.exp((3 * math.log(0.26) + math.log(1.01)) / 4) - 0.01)


def test_mazziotta_pareto_by_the_handbook_formula():
    rng = np.random.default_rng(3)
    X = rng.uniform(0, 1, (6, 4))
    mean, sd = X.mean(axis=0), X.std(axis=0, ddof=1)
    out = agg.mazziotta_pareto(X, np.ones(4), mean, sd)
    for i in range(6):
        z = [100 + 10 * (X[i, j] - mean[j]) / sd[j] for j in range(4)]
        m, s = statistics.fmean(z), statistics.pstdev(z)
        assert out[i] == pytest.approx(m - s * (s / m))


def test_arithmetic_skips_nan_and_reweights():
    X = np.array([[0.2, np.nan, 0.8], [np.nan, np.nan, np.nan]])
    out = agg.arithmetic(X, np.array([1.0, 5.0, 3.0]))
    assert out[0] == pytest.approx((0.2 + 3 * 0.8) / 4)
    assert np.isnan(out[1])


def test_arithmetic_adds_in_column_order_to_the_bit():
    # the oracle: Python floats (IEEE doubles) added one column after another, as documented;
    # a batch-size-dependent summation (a BLAS product, pairwise sums) would differ in the
    # last bits on some rows, and a unit would score differently alone and in a batch
    rng = np.random.default_rng(3)
    X = rng.random((500, 9)) * rng.choice([1e-3, 1.0, 1e3], size=(500, 9))
    X[rng.random(X.shape) < 0.2] = np.nan
    w = rng.random(9) * 10
    for matrix in (X, np.asfortranarray(X)):
        out = agg.arithmetic(matrix, w)
        for i in range(len(X)):
            numerator = denominator = 0.0
            for j in range(X.shape[1]):
                if not math.isnan(X[i, j]):
                    numerator = numerator + X[i, j] * w[j]
                    denominator = denominator + w[j]
            expected = numerator / denominator if denominator > 0 else math.nan
            assert out[i] == expected or (math.isnan(out[i]) and math.isnan(expected))


def test_bod_scores_against_the_reference_frontier(miit, population):
    model = dmi.IndexModel(
        miit, weighting="bod", weight_level="dimension", bod_bounds=(0.1, 0.6)
    ).fit(population)
    scores = model.score(population)
    assert scores["dmi"].max() == pytest.approx(100)
    assert scores["dmi"].between(0, 100).all()
    # BoD is at least the score under any admissible fixed weights, e.g. equal ones, scaled
    # by the frontier: a unit never does worse than its equal-weight share of the best unit
    equal = (
        dmi.IndexModel(miit, weighting="equal", weight_level="dimension")
        .fit()
        .score(population)["dmi"]
    )
    assert (scores["dmi"] + 1e-9 >= 100 * equal / equal.max()).all()


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"weighting": "entropy"},
        {"weighting": "critic", "weight_level": "item"},
        {"weighting": "pca", "weight_level": "dimension"},
        {"weighting": "equal", "normalisation": "zscore"},
        {"weighting": "equal", "normalisation": "percentile", "aggregation": "geometric"},
        {"weighting": "critic", "normalisation": "minmax", "aggregation": "mazziotta-pareto"},
        {"weighting": "bod", "weight_level": "dimension", "bod_bounds": (0.05, 0.7)},
        {"weighting": "instrument", "normalisation": "target"},
    ],
)
def test_json_round_trip_reproduces_scores_bit_for_bit(miit, population, params, tmp_path):
    model = dmi.IndexModel(miit, **params).fit(population)
    path = tmp_path / "model.json"
    model.save(path)
    again = dmi.IndexModel.load(path, miit)
    a, b = model.score(population), again.score(population)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert a["dmi"].between(0, 100).all()


def test_model_for_another_instrument_version_is_refused(miit, tmp_path):
    model = dmi.IndexModel(miit).fit()
    data = model.to_dict()
    data["instrument"]["version"] = "2022.1"
    with pytest.raises(
        dmi.ModelFileError,
        match="index model .in memory., field instrument: this model was fitted for instrument "
        "miit-2024-manufacturing version 2022.1",
    ):
        dmi.IndexModel.from_dict(data, miit)


# -- the model file ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(miit, population, tmp_path_factory):
    """A fitted entropy model with Mazziotta-Pareto aggregation, its file and its JSON."""
    model = dmi.IndexModel(
        miit, weighting="entropy", normalisation="rank", aggregation="mazziotta-pareto"
    ).fit(population)
    path = tmp_path_factory.mktemp("model") / "model.json"
    model.save(path)
    return model, path, json.loads(path.read_text(encoding="utf-8"))


def test_the_file_records_the_dmi_version_and_files_without_it_still_load(
    miit, population, saved, tmp_path
):
    model, path, data = saved
    assert data["dmi_version"] == dmi.__version__ and list(data)[:2] == ["format", "dmi_version"]
    before = {key: value for key, value in data.items() if key != "dmi_version"}
    old = tmp_path / "old.json"  # as dmi wrote it before it recorded its version
    old.write_text(json.dumps(before), encoding="utf-8")
    again = dmi.IndexModel.load(old, miit)
    pd.testing.assert_frame_equal(again.score(population), model.score(population))
    # what the model is does not depend on which dmi wrote it
    assert again.method_id == model.method_id
    written_later = dict(data, dmi_version="9.9.9")
    assert dmi.IndexModel.from_dict(written_later, miit).method_id == model.method_id
    assert again.to_dict() == dict(data, dmi_version=dmi.__version__)


def _broken(data, path, change):
    """A copy of the model's JSON with one change (a (keys..., value) tuple, None deletes)."""
    copy = json.loads(json.dumps(data))
    *keys, value = change
    target = copy
    for key in keys[:-1]:
        target = target[key]
    if value is None:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return copy


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (("weights", None), "weights", "missing"),
        (("params", "bod_bounds", None), "params.bod_bounds", "missing"),
        (("weights", "heavy"), "weights", "input should be a valid list, got the text 'heavy'"),
        (("nodes", 0, 7), "nodes[0]", "input should be a valid string, got the number 7"),
        (("fit_info", "rows", "4"), "fit_info.rows", "valid integer, got the text '4'"),
        (("params", "geometric_offset", True), "params.geometric_offset", "got true"),
        (("format", "dmi-index-model/2"), "format", "unknown format 'dmi-index-model/2'"),
        (("format", None), "format", "missing: expected 'dmi-index-model/1'"),
        (("extra", 1), "extra", "not a field of dmi-index-model/1"),
        (("weights", [0.5]), "weights", "expected 13 weights (one per node), got 1"),
        (("normaliser", "params", 3, {"values": [1]}), "normaliser.params[3]", "keys values"),
        (("normaliser", "params", 2, "counts", [1, 0]), "normaliser.params[2].counts", "above 0"),
        (("output_scale", "dmi", None), "output_scale", "missing dmi"),
        (("aggregation_stats", "index", None), "aggregation_stats", "missing index"),
        (("params", "weighting", "magic"), "params.weighting", "'weighting' parameter"),
        (("params", "normalisation", "zscore"), "normaliser.method", "expected zscore"),
        (("nodes", ["a"] * 13), "nodes", "expected the indicator codes of miit-2024"),
    ],
)
def test_a_broken_model_file_names_the_file_and_the_field(
    miit, saved, tmp_path, change, field, problem
):
    _, _, data = saved
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(_broken(data, path, change)), encoding="utf-8")
    with pytest.raises(dmi.ModelFileError) as caught:
        dmi.IndexModel.load(path, miit)
    error = caught.value
    assert (error.source, error.field) == (f"index model file {path}", field)
    assert problem in error.problem
    assert str(error).startswith(f"index model file {path}, field {field}: ")


def test_a_truncated_or_foreign_file_is_one_clear_error(miit, saved, tmp_path):
    _, path, _ = saved
    text = path.read_text(encoding="utf-8")
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(dmi.ModelFileError, match=r"index model file .*cut.json: not valid JSON"):
        dmi.IndexModel.load(cut, miit)
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(dmi.ModelFileError, match="expected a JSON object, got a list of 2"):
        dmi.IndexModel.load(listed, miit)
    with pytest.raises(FileNotFoundError, match="no such index model file"):
        dmi.IndexModel.load(tmp_path / "nope.json", miit)


def test_dmi_score_with_a_broken_model_says_so_in_one_line(miit, saved, tmp_path, capsys):
    from dmi.cli.main import main

    _, _, data = saved
    broken = tmp_path / "model.json"
    broken.write_text(json.dumps(_broken(data, broken, ("weights", None))), encoding="utf-8")
    answers = tmp_path / "answers.csv"
    answers.write_text("respondent_id\nr1\n", encoding="utf-8")
    code = main(["score", str(answers), "-o", str(tmp_path / "out.csv"), "--model", str(broken)])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"dmi: error: index model file {broken}, field weights: missing\n"


def test_bod_is_refused_below_the_dimension_level(miit, population):
    with pytest.raises(ValueError, match="use weight_level='dimension'"):
        dmi.IndexModel(miit, weighting="bod", weight_level="indicator").fit(population)


# -- Mazziotta-Pareto: the paper's population sd, and where it is not monotone -------------------


def _mpi(D: np.ndarray, w: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """MPI- written out row by row with the statistics module (the oracle)."""
    out = []
    for row in D:
        z = [100 + 10 * (x - m) / s for x, m, s in zip(row, mean, sd)]
        m_z = sum(wi * zi for wi, zi in zip(w, z)) / sum(w)
        s2 = sum(wi * (zi - m_z) ** 2 for wi, zi in zip(w, z)) / sum(w)
        out.append(m_z - s2 / m_z)
    return np.array(out)


def test_mazziotta_pareto_standardises_with_the_population_sd(miit, population, nodes):
    # Mazziotta & Pareto (2016): z = 100 + 10 (x - M) / S with S the population sd (divisor n)
    _, dims = nodes
    model = dmi.IndexModel(miit, aggregation="mazziotta-pareto", weight_level="dimension")
    scores = model.fit(population).score(population)
    D = dims.to_numpy()
    sd = np.array([statistics.pstdev(D[:, j]) for j in range(D.shape[1])])
    mean = np.array([statistics.fmean(D[:, j]) for j in range(D.shape[1])])
    stats_ = model.to_dict()["aggregation_stats"]["index"]
    np.testing.assert_allclose(stats_["sd"], sd, rtol=1e-12)
    np.testing.assert_allclose(stats_["mean"], mean, rtol=1e-12)
    w = np.array([miit.dimension_weight(d) for d in miit.dimensions], dtype=float)
    mpi = _mpi(D, w, mean, sd)
    expected = 100 * (mpi - mpi.min()) / (mpi.max() - mpi.min())
    np.testing.assert_allclose(scores["dmi"], expected, atol=1e-7)


def test_mazziotta_pareto_reference_skips_missing_values():
    X = np.array([[0.2, np.nan, 1.0], [0.4, 0.3, 1.0], [0.9, np.nan, 1.0], [np.nan, 0.7, 1.0]])
    mean, sd = agg.mazziotta_pareto_reference(X)
    np.testing.assert_allclose(mean, [0.5, 0.5, 1.0])
    np.testing.assert_allclose(
        sd, [statistics.pstdev([0.2, 0.4, 0.9]), statistics.pstdev([0.3, 0.7]), 0.0]
    )


@pytest.mark.parametrize("seed", range(12))
def test_mazziotta_pareto_decreasing_matches_a_walk_up_each_input(seed):
    # the oracle: raise each input in 2,000 small steps and look for a step that lowers MPI-
    rng = np.random.default_rng(seed)
    n, k = 25, 2 + seed % 4
    X = rng.random((n, k))
    X[rng.random((n, k)) < 0.1] = np.nan
    w = rng.random(k) + 0.05
    mean = rng.uniform(0.05, 0.5, k)
    sd = rng.uniform(0.1, 0.4, k)  # z stays above 0 on [0, 1]: no pole
    upper = np.ones(k)
    found = agg.mazziotta_pareto_decreasing(X, w, mean, sd, upper)
    for i in range(n):
        for j in range(k):
            if np.isnan(X[i, j]):
                assert not found[i, j]
                continue
            steps = np.linspace(X[i, j], 1.0, 2001)
            walk = np.repeat(X[i : i + 1], len(steps), axis=0)
            walk[:, j] = steps
            values = agg.mazziotta_pareto(walk, w, mean, sd)
            assert found[i, j] == bool((np.diff(values) < -1e-9).any()), (i, j)


def test_mazziotta_pareto_with_a_rare_option_warns_and_never_advises_a_loss(miit, population):
    from dmi.errors import MethodWarning
    from dmi.results.recommend import improvements

    # a reference in which almost nobody has a network: ticking network options is rare
    reference = population.copy()
    reference["network"] = "A"
    reference.loc[reference.index[:8], "network"] = "B"
    model = dmi.IndexModel(miit, aggregation="mazziotta-pareto", weight_level="item")
    with pytest.warns(MethodWarning, match=r"not monotone.*raising network \(in equipment"):
        model.fit(reference)
    assert "network" in model.fit_info_["warnings"][0]
    company = population.iloc[0].to_dict()
    ticks = ["A", "B", "B;C", "B;C;D", "B;C;D;E"]
    rows = [{**company, "respondent_id": f"t{i}", "network": t} for i, t in enumerate(ticks)]
    index = model.score(pd.DataFrame(rows))["dmi"]
    assert (np.diff(index) < 0).any()  # the reason for the warning: more ticks, lower index
    for ticked in ticks:
        answers = {**company, "network": ticked}
        base = model.score(pd.DataFrame([answers]))["dmi"].iloc[0]
        for imp in improvements(model, answers, top=40):
            again = model.score(pd.DataFrame([{**answers, imp.item: imp.answer}]))["dmi"].iloc[0]
            assert again > base and imp.gain > 0
    # the population it was drawn from has no such input: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", MethodWarning)
        plain = dmi.IndexModel(miit, aggregation="mazziotta-pareto", weight_level="item")
        assert plain.fit(population).fit_info_["warnings"] == []


# -- benefit of the doubt: beyond the frontier -----------------------------------------------


def test_bod_reports_the_uncapped_index_beside_the_capped_one(miit, population):
    from scipy.optimize import linprog

    reference, others = population.iloc[:60], population.iloc[60:]
    model = dmi.IndexModel(miit, weighting="bod", weight_level="dimension").fit(reference)
    assert model.output_columns()[:2] == ["dmi", "bod_uncapped"]
    scores = model.score(others)
    assert list(scores.columns[:3]) == ["respondent_id", "dmi", "bod_uncapped"]
    beyond = scores[scores["bod_uncapped"] > 100 + 1e-9]
    assert len(beyond) >= 2  # companies beyond the reference frontier...
    assert (beyond["dmi"] == 100).all()  # ...all score 100,
    assert beyond["bod_uncapped"].nunique() > 1  # but stay apart uncapped
    inside = scores[scores["bod_uncapped"] <= 100]
    np.testing.assert_allclose(inside["dmi"], inside["bod_uncapped"], atol=1e-9)
    # the oracle: one LP per company against the reference frontier (max w.x, w.r <= 1, w >= 0)
    encode = lambda frame: model._below(encode_answers(miit, frame).scores)  # noqa: E731
    R, X = encode(reference), encode(others)
    for i in beyond.index[:5]:
        x = X[others.index.get_loc(others.index[i])]
        res = linprog(-x, A_ub=R, b_ub=np.ones(len(R)), bounds=[(0, None)] * len(x))
        assert beyond.loc[i, "bod_uncapped"] == pytest.approx(-100 * res.fun, rel=1e-7)


# -- CRITIC over a reference in which one node is constant ---------------------------------------


def test_critic_gives_a_constant_node_weight_zero_with_a_note(miit, population, nodes):
    indicators, _ = nodes
    reference = population.copy()
    reference["network"] = "B;C;D;E"  # full points: the network item ...
    reference["equipment_digitised"] = 100
    reference["equipment_networked"] = 100  # ... and the whole indicator `equipment` constant
    model = dmi.IndexModel(miit, weighting="critic").fit(reference)
    nodes_ = model.nodes_
    at = nodes_.index("equipment")
    assert model.weights_[at] == 0
    assert any(
        "critic: equipment is the same for every reference company" in n
        for n in model.fit_info_["notes"]
    )
    encoded = encode_answers(miit, reference)
    X = model._below(encoded.scores[encoded.valid])
    rest = [j for j in range(len(nodes_)) if j != at]
    np.testing.assert_allclose(model.weights_[rest], critic_weights(X[:, rest]), rtol=1e-10)


def test_pca_over_a_constant_node_names_it_and_its_value(miit, population, tmp_path, capsys):
    reference = population.copy()
    reference["network"] = "B;C;D;E"  # the indicator `equipment` at full points for everyone
    reference["equipment_digitised"] = 100
    reference["equipment_networked"] = 100
    reference["data_collection"] = reference["data_collection"].iloc[0]  # and one more node
    with pytest.raises(dmi.errors.DataError) as caught:
        dmi.IndexModel(miit, weighting="pca").fit(reference)
    message = str(caught.value)
    assert (
        "equipment = 1, data_acquisition = " in message and "for every reference company" in message
    )
    assert "np.float64" not in message
    assert "column" not in message
    assert "another weighting" in message
    answers = tmp_path / "answers.csv"
    reference.to_csv(answers, index=False)
    code, out, err = _run(capsys, "weights", answers, "--method", "pca")
    assert code == 2 and out == ""
    assert err.startswith("dmi: error: PCA weights: equipment = 1, data_acquisition = ")


# -- AHP through the command line ---------------------------------------------------------------


def _ahp_csv(path, nodes, P, cell=lambda i, j, x: f"{x:g}"):
    lines = ["," + ",".join(nodes)]
    for i, code in enumerate(nodes):
        lines.append(code + "," + ",".join(cell(i, j, P[i, j]) for j in range(len(nodes))))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(capsys, *argv):
    from dmi.cli import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def indicator_nodes(miit):
    return dmi.IndexModel(miit, weighting="ahp", ahp_matrix=[[1.0]]).nodes()


def test_ahp_at_the_indicator_level_from_a_csv_written_by_hand(
    capsys, tmp_path, miit, indicator_nodes
):
    # 13 indicators, weights proportional to v: every cell v_i / v_j, the small ones written
    # as fractions ("1/3") or rounded decimals ("0.333", "0.67")
    assert len(indicator_nodes) == 13
    v = np.array([3, 3, 2, 2, 1, 1, 1, 1, 3, 3, 2, 2, 1], dtype=float)
    P = v[:, None] / v[None, :]

    def cell(i, j, x):
        if x >= 1:
            return f"{x:g}"
        return (
            f"1/{1 / x:g}" if (i + j) % 3 == 0 else (f"{x:.3f}" if (i + j) % 3 == 1 else f"{x:.2f}")
        )

    matrix = _ahp_csv(tmp_path / "ahp.csv", indicator_nodes, P, cell)
    assert "1/3" in matrix.read_text() and "0.333" in matrix.read_text()
    reference = tmp_path / "ref.csv"
    synthesise(miit, 50, seed=2, missing_rate=0.0).to_csv(reference, index=False)
    code, out, err = _run(capsys, "weights", reference, "--method", f"ahp:{matrix}", "--json")
    assert code == 0, err
    weights = json.loads(out)["weights"]
    np.testing.assert_allclose([weights[c] for c in indicator_nodes], v / v.sum(), atol=1e-9)
    assert json.loads(out)["ahp"]["consistent"] is True
    # blank lower triangle: the reciprocals are implied
    blank = _ahp_csv(
        tmp_path / "upper.csv",
        indicator_nodes,
        P,
        lambda i, j, x: "" if i > j else (f"{x:g}" if x >= 1 else f"1/{1 / x:g}"),
    )
    code, out, _ = _run(capsys, "weights", reference, "--method", f"ahp:{blank}", "--json")
    assert code == 0
    np.testing.assert_allclose(
        [json.loads(out)["weights"][c] for c in indicator_nodes], v / v.sum(), atol=1e-9
    )


def test_inconsistent_ahp_fails_strict_and_warns_otherwise(capsys, tmp_path, miit, indicator_nodes):
    v = np.array([3, 3, 2, 2, 1, 1, 1, 1, 3, 3, 2, 2, 1], dtype=float)
    P = v[:, None] / v[None, :]
    for i, j, x in ((0, 12, 1 / 9), (0, 1, 9), (2, 5, 1 / 9), (1, 11, 1 / 9)):
        P[i, j], P[j, i] = x, 1 / x  # reversed, exaggerated judgements
    res = dmi.weights.ahp(P)
    assert res.cr >= 0.10
    matrix = _ahp_csv(tmp_path / "bad.csv", indicator_nodes, P, lambda i, j, x: f"{x:.6g}")
    reference = tmp_path / "ref.csv"
    answers = tmp_path / "answers.csv"
    synthesise(miit, 30, seed=3, missing_rate=0.0).to_csv(reference, index=False)
    synthesise(miit, 10, seed=4, missing_rate=0.0).to_csv(answers, index=False)
    out_file = tmp_path / "scores.csv"
    for command in (
        ["weights", reference, "--method", f"ahp:{matrix}"],
        ["weights", reference, "--method", f"ahp:{matrix}", "--json"],
        ["score", answers, "-o", out_file, "--weights", f"ahp:{matrix}", "-q"],
    ):
        code, _, err = _run(capsys, *command)
        assert code == 0
        assert f"warning: AHP consistency ratio {res.cr:.3f} is not below 0.10" in err
        code, _, err = _run(capsys, *command, "--strict")
        assert code == 1
        assert f"--strict: the AHP judgements in {matrix} are inconsistent" in err
        assert f"consistency ratio {res.cr:.3f}" in err and "Traceback" not in err
    out_file.unlink()
    _run(capsys, "score", answers, "-o", out_file, "--weights", f"ahp:{matrix}", "--strict")
    assert not out_file.exists()  # refused before scoring


def test_ahp_files_with_bad_judgements_name_the_cell(capsys, tmp_path, miit, indicator_nodes):
    reference = tmp_path / "ref.csv"
    synthesise(miit, 20, seed=5, missing_rate=0.0).to_csv(reference, index=False)
    ones = np.ones((13, 13))
    bad_cell = _ahp_csv(
        tmp_path / "a.csv",
        indicator_nodes,
        ones,
        lambda i, j, x: "three" if (i, j) == (2, 4) else "1",
    )
    code, _, err = _run(capsys, "weights", reference, "--method", f"ahp:{bad_cell}")
    assert code == 2
    assert (
        f"row {indicator_nodes[2]}, column {indicator_nodes[4]}: 'three' is not a judgement" in err
    )
    P = ones.copy()
    P[0, 1], P[1, 0] = 3, 0.5
    not_reciprocal = _ahp_csv(tmp_path / "b.csv", indicator_nodes, P)
    code, _, err = _run(capsys, "weights", reference, "--method", f"ahp:{not_reciprocal}")
    assert code == 2 and "not reciprocal" in err and "expected 1/3 = 0.3333" in err
    yaml_file = tmp_path / "j.yaml"
    yaml_file.write_text(
        "judgements:\n"
        "  - [foundation, operations, 1/3]\n  - [foundation, management, 2]\n"
        "  - [foundation, performance, 3]\n  - [operations, management, 5]\n"
        "  - [operations, performance, 7]\n  - [management, performance, '1/2']\n",
        encoding="utf-8",
    )
    code, out, err = _run(
        capsys,
        "weights",
        reference,
        "--method",
        f"ahp:{yaml_file}",
        "--level",
        "dimension",
        "--json",
    )
    assert code == 0, err
    expected = dmi.weights.ahp(
        [[1, 1 / 3, 2, 3], [3, 1, 5, 7], [1 / 2, 1 / 5, 1, 1 / 2], [1 / 3, 1 / 7, 2, 1]]
    ).weights
    got = json.loads(out)["weights"]
    np.testing.assert_allclose(
        [got[c] for c in ("foundation", "operations", "management", "performance")],
        expected,
        atol=1e-9,
    )
    yaml_file.write_text("judgements:\n  - [foundation, operations, 3]\n", encoding="utf-8")
    code, _, err = _run(
        capsys, "weights", reference, "--method", f"ahp:{yaml_file}", "--level", "dimension"
    )
    assert code == 2 and "missing judgement for pair ('foundation', 'management')" in err
