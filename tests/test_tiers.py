"""Support tiers: recovery, order, determinism, persistence, stability, explanations, reports."""

from __future__ import annotations

import argparse
import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import adjusted_rand_score

import dmi
from dmi.instruments import parse_instrument, shipped_path
from dmi.instruments.synth import synthesise
from dmi.tiers import (
    TIER_MODEL_FORMAT,
    TierModel,
    TierStabilityWarning,
    format_tier_report,
    load_shipped_tier_model,
    shipped_tier_model_path,
    tier_report,
)

FEATURES = ["dim_foundation", "dim_operations", "dim_management", "dim_performance"]
# well separated: groups 20+ points apart on every dimension, noise sd 4
CENTRES_4 = [[12, 10, 15, 20], [35, 30, 40, 45], [60, 55, 62, 60], [85, 80, 88, 82]]
CENTRES_3 = CENTRES_4[:3]


def planted(
    centres: list[list[float]], n_per: int, seed: int, sd: float = 4.0
) -> tuple[pd.DataFrame, np.ndarray]:
    """A score table with one group of ``n_per`` companies around each centre, shuffled."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(len(centres)), n_per)
    rng.shuffle(truth)
    x = np.clip(
        np.asarray(centres, dtype=float)[truth] + rng.normal(0, sd, (len(truth), 4)), 0, 100
    )
    frame = pd.DataFrame(x, columns=FEATURES)
    frame.insert(0, "respondent_id", [f"r{i}" for i in range(len(frame))])
    frame.insert(1, "dmi", x @ np.array([0.5, 0.0, 0.3, 0.2]))
    frame.insert(2, "level", np.digitize(frame["dmi"], [20, 40, 60, 80]))
    frame["sector"] = rng.choice(["C13", "C14", "C17"], len(frame))
    frame["region"] = rng.choice(["32", "44", None], len(frame))
    frame["size_class"] = rng.choice(["micro", "small", "medium"], len(frame))
    return frame, truth


def uniform_noise(n: int, seed: int) -> pd.DataFrame:
    x = np.random.default_rng(seed).uniform(0, 100, (n, 4))
    frame = pd.DataFrame(x, columns=FEATURES)
    frame["dmi"] = x.mean(axis=1)
    return frame


@pytest.fixture(scope="module")
def data4() -> tuple[pd.DataFrame, np.ndarray]:
    return planted(CENTRES_4, 50, seed=1)


@pytest.fixture(scope="module")
def models(data4, miit) -> dict[str, TierModel]:
    """One model per method on the four planted groups (with the MIIT instrument)."""
    frame, _ = data4
    return {
        m: TierModel(4, method=m, random_state=0, n_bootstrap=0, instrument=miit).fit(frame)
        for m in ("kmeans", "gmm", "ward")
    }


# -- fitting and prediction ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["kmeans", "gmm", "ward"])
def test_planted_groups_are_recovered(models, data4, method):
    frame, truth = data4
    assert adjusted_rand_score(truth, models[method].predict(frame)) >= 0.9


@pytest.mark.parametrize("method", ["kmeans", "gmm", "ward"])
def test_tiers_are_ordered_by_mean_index(models, data4, method):
    frame, truth = data4
    model = models[method]
    assert np.all(np.diff(model.tier_dmi_) > 0)
    tiers = model.predict(frame)
    means = [frame["dmi"][tiers == t].mean() for t in range(1, 5)]
    assert means == sorted(means)
    # the planted group with the lowest centre is tier 1, the highest tier 4
    assert np.all(tiers[truth == 0] == 1) and np.all(tiers[truth == 3] == 4)
    assert model.labels_[0].en == "Digital starter support"
    assert [t.tier for t in model.report_.tiers] == [1, 2, 3, 4]


@pytest.mark.parametrize(("method", "k", "seed"), [("gmm", 7, 5), ("ward", 4, 5), ("gmm", 5, 1)])
def test_tiers_are_ordered_and_summarised_by_the_companies_they_hold(miit, method, k, seed):
    # ordered by the clustering's own members (a mixture's responsibilities, Ward's labels), a
    # lower tier held companies of a higher mean index than the next, and the report's means
    # were of other companies than its sizes
    scores = dmi.IndexModel(miit).fit().score(synthesise(miit, 400, 202))
    model = TierModel(k, method=method, random_state=seed, instrument=miit, n_bootstrap=0)
    tiers = model.fit(scores).predict(scores)
    for summary in model.report_.tiers:
        held = scores["dmi"][tiers == summary.tier]
        assert summary.size == len(held)
        if len(held):
            assert summary.dmi == pytest.approx(held.mean(), abs=1e-9)
    held_means = [scores["dmi"][tiers == t].mean() for t in range(1, k + 1) if (tiers == t).any()]
    assert held_means == sorted(held_means)


def test_same_random_state_gives_identical_tiers():
    frame, _ = planted(CENTRES_4, 40, seed=5, sd=14.0)  # overlapping: the seed matters
    a = TierModel(4, random_state=7, n_bootstrap=2).fit(frame)
    b = TierModel(4, random_state=7, n_bootstrap=2).fit(frame)
    assert np.array_equal(a.predict(frame), b.predict(frame))
    assert np.array_equal(a.centroids_, b.centroids_)
    assert a.report_ == b.report_


@pytest.mark.parametrize("method", ["kmeans", "gmm", "ward"])
def test_one_row_predict_equals_batch(models, data4, method):
    frame, _ = data4
    model = models[method]
    small = frame.iloc[:25]
    tiers, confidence = model.predict_with_confidence(small)
    for i in range(len(small)):
        one_tier, one_conf = model.predict_with_confidence(small.iloc[[i]])
        assert one_tier[0] == tiers[i] and one_conf[0] == confidence[i]  # bit for bit
        assert model.predict(small.iloc[i])[0] == tiers[i]
        assert model.predict(small.iloc[i][FEATURES].to_dict())[0] == tiers[i]


@pytest.mark.parametrize("method", ["kmeans", "gmm", "ward"])
def test_json_round_trip_gives_identical_results(models, data4, method, tmp_path, miit):
    frame, _ = data4
    model = models[method]
    path = tmp_path / "tiers.json"
    model.save(path)
    loaded = TierModel.load(path, miit)
    t1, c1 = model.predict_with_confidence(frame)
    t2, c2 = loaded.predict_with_confidence(frame)
    assert np.array_equal(t1, t2) and np.array_equal(c1, c2)
    assert loaded.report_.to_text() == model.report_.to_text()
    assert loaded.labels_ == model.labels_
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == TIER_MODEL_FORMAT
    assert "respondent_id" not in path.read_text(encoding="utf-8")  # no data embedded


def test_gmm_numpy_posterior_equals_sklearn(models, data4):
    from sklearn.mixture import GaussianMixture

    frame, _ = data4
    model = models["gmm"]
    z = (frame[FEATURES].to_numpy() - model.mean_) / model.scale_
    reference = GaussianMixture(n_components=4, covariance_type="full")
    reference.weights_ = model.weights_
    reference.means_ = model.centroids_
    reference.covariances_ = model.covariances_
    reference.precisions_cholesky_ = np.stack(
        [np.linalg.cholesky(np.linalg.inv(c)) for c in model.covariances_]
    )
    np.testing.assert_allclose(
        model.predict_proba(frame), reference.predict_proba(z), rtol=0, atol=1e-8
    )
    np.testing.assert_array_equal(model.predict(frame), reference.predict(z) + 1)
    np.testing.assert_allclose(
        model.predict_confidence(frame), reference.predict_proba(z).max(axis=1), rtol=0, atol=1e-8
    )


def test_confidence_formula_for_centroid_methods(models, data4):
    frame, _ = data4
    model = models["kmeans"]
    z = (frame[FEATURES].to_numpy() - model.mean_) / model.scale_
    d = np.sort(np.linalg.norm(z[:, None, :] - model.centroids_[None], axis=2), axis=1)
    np.testing.assert_allclose(model.predict_confidence(frame), 1 - d[:, 0] / d[:, 1], atol=1e-12)
    with pytest.raises(ValueError, match="predict_proba needs a mixture model"):
        model.predict_proba(frame)


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_auto_finds_three_planted_groups(method):
    frame, _ = planted(CENTRES_3, 40, seed=2)
    model = TierModel("auto", method=method, random_state=0, n_bootstrap=0).fit(frame)
    assert model.n_tiers_ == 3
    choice = model.report_.k_choice
    assert choice.mode == "auto" and sorted(choice.scores) == [2, 3, 4, 5, 6]
    assert choice.criterion == ("bic" if method == "gmm" else "silhouette")
    assert "K = 3" in choice.reason
    assert "chosen by" in model.report_.to_text()


def test_k_other_than_described_tiers_gets_generic_labels(miit):
    frame, _ = planted(CENTRES_3, 30, seed=3)
    model = TierModel(3, random_state=0, n_bootstrap=0, instrument=miit).fit(frame)
    assert [label.en for label in model.labels_] == ["Tier 1", "Tier 2", "Tier 3"]
    assert model.labels_[0].zh == "第 1 梯队" and model.labels_[0].generic
    assert any("describes 4 tiers but the model has 3" in w for w in model.report_.warnings)


def test_large_tables_are_fitted_on_a_stratified_sample():
    frame, truth = planted(CENTRES_4, 100, seed=4)
    model = TierModel(4, random_state=0, n_bootstrap=0, max_fit_rows=120).fit(frame)
    assert model.report_.n_fit_rows == 120 and model.report_.n_rows == 400
    assert model.report_.stratified_by == "level"
    assert len(model.predict(frame)) == 400
    assert adjusted_rand_score(truth, model.predict(frame)) >= 0.9
    no_level = TierModel(4, random_state=0, n_bootstrap=0, max_fit_rows=120).fit(
        frame.drop(columns="level")
    )
    assert no_level.report_.stratified_by == "dmi quintiles"
    assert "stratified sample of 120 of 400" in no_level.report_.to_text()


# -- stability -------------------------------------------------------------------------------


def test_stability_is_high_for_separated_groups(data4):
    frame, _ = data4
    with warnings.catch_warnings():
        warnings.simplefilter("error", TierStabilityWarning)
        model = TierModel(4, random_state=0, n_bootstrap=4).fit(frame)
    s = model.report_.stability
    assert model.stable_ and s.stable
    assert s.ari_mean >= 0.95 and s.ari_min <= s.ari_mean
    assert min(s.jaccard_mean) >= 0.9 and len(s.jaccard_min) == 4


def test_stability_is_low_and_warned_for_uniform_noise():
    frame = uniform_noise(240, seed=0)
    with pytest.warns(TierStabilityWarning, match="not stable"):
        model = TierModel(4, random_state=0, n_bootstrap=4).fit(frame)
    assert model.stable_ is False
    assert model.report_.stability.ari_mean < 0.75
    assert any("not stable" in w for w in model.report_.warnings)
    assert "NOT stable" in model.report_.to_text()


# -- bad input --------------------------------------------------------------------------------


def _bad(kind: str, instrument: dmi.Instrument) -> tuple[pd.DataFrame, dict]:
    frame, _ = planted(CENTRES_4, 10, seed=9)
    kwargs: dict = {}
    if kind == "few rows":
        frame = frame.iloc[:12]
    elif kind == "nan":
        frame = frame.copy()
        frame.loc[[2, 5, 7], "dim_management"] = np.nan
    elif kind == "constant":
        frame = frame.assign(dim_operations=50.0)
    elif kind == "missing dim":
        frame = frame.drop(columns="dim_operations")
        kwargs["instrument"] = instrument
    elif kind == "no dims":
        frame = frame[["respondent_id", "dmi"]]
    elif kind == "text":
        frame = frame.astype({"dim_foundation": object})
        frame.loc[3, "dim_foundation"] = "abc"
    elif kind == "no dmi":
        frame = frame.drop(columns="dmi")
    elif kind == "duplicates":
        frame = pd.concat([frame.iloc[[0, 1, 2]]] * 10, ignore_index=True)
    elif kind == "infinite":
        frame = frame.copy()
        frame.loc[1, "dim_performance"] = np.inf
    return frame, kwargs


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("few rows", "too few rows: fitting 4 tiers needs at least 20 rows"),
        ("nan", "column 'dim_management' has 3 missing values (NaN), first in row 3"),
        ("constant", "column 'dim_operations' is constant"),
        ("missing dim", "missing columns dim_operations"),
        ("no dims", "no dim_* columns"),
        ("text", "column 'dim_foundation' has 1 non-numeric values (first 'abc' in row 4)"),
        ("no dmi", "missing columns dmi"),
        ("duplicates", "too few distinct rows"),
        ("infinite", "column 'dim_performance' has 1 infinite values"),
    ],
)
def test_bad_input_raises_clearly(kind, message, miit):
    frame, kwargs = _bad(kind, miit)
    with pytest.raises(dmi.errors.DataError) as caught:
        TierModel(4, random_state=0, n_bootstrap=0, **kwargs).fit(frame)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "parameter", "message"),
    [
        (
            {"n_tiers": 1},
            "n_tiers",
            "The 'n_tiers' parameter of TierModel must be an int in the range [2, inf) or a str "
            "among {'auto'}. Got 1 instead.",
        ),
        ({"n_tiers": "four"}, "n_tiers", "Got 'four' instead"),
        ({"n_tiers": True}, "n_tiers", "Got True instead"),
        (
            {"method": "dbscan"},
            "method",
            "must be a str among {'kmeans', 'gmm', 'ward'}. Got 'dbscan' instead.",
        ),
        ({"random_state": -1}, "random_state", "an int in the range [0, inf) or None"),
        ({"k_range": (5, 3)}, "k_range", "k_range: expected (smallest, largest) whole numbers"),
        ({"k_range": (1, 3)}, "k_range", "2 <= smallest <= largest, got (1, 3)"),
        ({"k_range": (2, 3.5)}, "k_range", "k_range: expected"),
        ({"k_range": 4}, "k_range", "'k_range' parameter of TierModel must be an instance of"),
        ({"max_fit_rows": 1}, "max_fit_rows", "an int in the range [2, inf)"),
        ({"n_bootstrap": -1}, "n_bootstrap", "an int in the range [0, inf)"),
        ({"bootstrap_rows": 1.5}, "bootstrap_rows", "an int in the range [2, inf)"),
        ({"min_ari": 2}, "min_ari", "a float in the range [0.0, 1.0]. Got 2 instead."),
        ({"min_jaccard": -0.1}, "min_jaccard", "a float in the range [0.0, 1.0]"),
        ({"features": "dim_a"}, "features", "'features' parameter of TierModel must be an"),
        ({"features": ["dim_a", "dim_a"]}, "features", "distinct column names"),
        ({"features": []}, "features", "a non-empty list"),
        ({"instrument": 3}, "instrument", "'instrument' parameter of TierModel"),
    ],
)
def test_bad_parameters_are_named_at_fit(data4, kwargs, parameter, message):
    frame, _ = data4
    model = TierModel(**{"n_bootstrap": 0, **kwargs})  # __init__ only stores them
    with pytest.raises(dmi.errors.ParameterError) as caught:
        model.fit(frame)
    assert message in str(caught.value) and caught.value.parameter == parameter
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, dmi.DmiError)


def test_a_feature_the_table_lacks_is_named(data4):
    frame, _ = data4
    with pytest.raises(dmi.errors.DataError, match="missing columns dim_nope"):
        TierModel(n_bootstrap=0, features=["dim_nope"]).fit(frame)


# -- the estimator contract (scikit-learn's) -----------------------------------------------------


def test_tier_model_is_a_scikit_learn_estimator(data4, miit):
    from sklearn.base import clone

    frame, _ = data4
    model = TierModel(3, method="gmm", random_state=1, n_bootstrap=0, instrument=miit)
    assert model.get_params() == {
        "n_tiers": 3,
        "method": "gmm",
        "random_state": 1,
        "k_range": (2, 6),
        "max_fit_rows": 200_000,
        "n_bootstrap": 0,
        "features": None,
        "instrument": miit,
        "bootstrap_rows": 20_000,
        "min_ari": 0.75,
        "min_jaccard": 0.6,
    }
    model.fit(frame)
    twin = clone(model)  # a copy of every parameter (the instrument too), nothing learned
    params = twin.get_params()
    assert params.pop("instrument").hash == miit.hash
    assert params == {k: v for k, v in model.get_params().items() if k != "instrument"}
    assert not hasattr(twin, "centroids_")
    # the same parameters and seed: the same tiers
    assert np.array_equal(twin.fit(frame).predict(frame), model.predict(frame))
    assert twin.set_params(n_tiers=4, method="kmeans") is twin
    assert (twin.n_tiers, twin.method) == (4, "kmeans")
    assert twin.fit(frame).n_tiers_ == 4
    # the repr shows the parameters that differ from their defaults
    assert repr(TierModel(5, method="ward", random_state=3)) == (
        "TierModel(method='ward', n_tiers=5, random_state=3)"
    )
    assert repr(TierModel()) == "TierModel()"
    with pytest.raises(TypeError):
        TierModel(4, "gmm")  # parameters after the first are keyword-only


def test_unfitted_use_raises_not_fitted_error_that_scikit_learn_catches(data4):
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError
    from sklearn.utils.validation import check_is_fitted

    frame, _ = data4
    model = TierModel()
    for use in (
        lambda: model.predict(frame),
        lambda: model.assign(frame),
        lambda: model.explain(frame.iloc[0]),
        model.to_dict,
        model.centroid_values,
        lambda: model.check_instrument("miit-2024-manufacturing"),
    ):
        with pytest.raises(SklearnNotFittedError, match="call fit.scores. or TierModel.load"):
            use()
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(model)
    with pytest.raises(dmi.NotFittedError):  # dmi's own, also a DmiError
        model.predict(frame)
    # a fit that stops half-way leaves no fitted model behind
    with pytest.raises(dmi.errors.DataError):
        model.fit(frame.assign(dim_operations=1.0))
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(model)


def test_predict_rejects_bad_tables(models, data4):
    frame, _ = data4
    model = models["kmeans"]
    with pytest.raises(ValueError, match="missing columns dim_management"):
        model.predict(frame.drop(columns="dim_management"))
    with pytest.raises(ValueError, match="'dim_foundation' has 1 missing values"):
        model.predict(frame.assign(dim_foundation=[np.nan] + [1.0] * (len(frame) - 1)))
    with pytest.raises(dmi.NotFittedError, match="not fitted"):
        TierModel().predict(frame)
    # text columns from a file are read as numbers
    as_text = frame[FEATURES].astype(str)
    assert np.array_equal(model.predict(as_text), model.predict(frame))


def test_assign_can_leave_incomplete_rows_without_tier(models, data4):
    frame, _ = data4
    model = models["kmeans"]
    holed = frame.copy()
    holed.loc[4, "dim_operations"] = np.nan
    out = model.assign(holed, missing="na")
    assert out["tier"].isna().sum() == 1 and np.isnan(out.loc[4, "tier_confidence"])
    assert out["tier"].drop(index=4).tolist() == model.predict(frame.drop(index=4)).tolist()
    assert model.assign(frame)["tier"].dtype == np.int64


# -- persistence errors ------------------------------------------------------------------------


def test_truncated_and_foreign_files_fail_clearly(models, tmp_path):
    path = tmp_path / "m.json"
    models["kmeans"].save(path)
    text = path.read_text(encoding="utf-8")
    (tmp_path / "cut.json").write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(
        dmi.ModelFileError, match=r"tier model file .*cut.json: not valid JSON, perhaps truncated"
    ):
        TierModel.load(tmp_path / "cut.json")
    (tmp_path / "text.json").write_text('"tiers"', encoding="utf-8")
    with pytest.raises(dmi.ModelFileError, match="expected a JSON object, got the text 'tiers'"):
        TierModel.load(tmp_path / "text.json")
    with pytest.raises(FileNotFoundError, match="no such tier model file"):
        TierModel.load(tmp_path / "nope.json")


GONE = object()


def _edited(data: dict, change: tuple) -> dict:
    """A copy of a model's JSON with one change: (keys..., value); GONE deletes the last key."""
    copy = json.loads(json.dumps(data))
    *keys, value = change
    target = copy
    for key in keys[:-1]:
        target = target[key]
    if value is GONE:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return copy


@pytest.mark.parametrize(
    ("method", "change", "field", "problem"),
    [
        ("kmeans", ("centroids", GONE), "centroids", "missing"),
        ("kmeans", ("scaler", GONE), "scaler", "missing"),
        ("kmeans", ("report", "tiers", GONE), "report.tiers", "missing"),
        ("kmeans", ("labels", 1, "support", "zh", GONE), "labels[1].support.zh", "missing"),
        ("kmeans", ("n_tiers", "4"), "n_tiers", "valid integer, got the text '4'"),
        ("kmeans", ("stable", "yes"), "stable", "valid boolean, got the text 'yes'"),
        ("kmeans", ("scaler", "mean", 0, None), "scaler.mean[0]", "valid number, got null"),
        ("kmeans", ("format", "dmi-tier-model/2"), "format", "unknown format 'dmi-tier-model/2'"),
        ("kmeans", ("notes", "hi"), "notes", "not a field of dmi-tier-model/1"),
        ("kmeans", ("centroids", [[0.0] * 4] * 3), "centroids", "shape (4, 4), got shape (3, 4)"),
        ("kmeans", ("centroids", [[0.0] * 4, [1.0]] * 2), "centroids", "got ragged lists"),
        ("kmeans", ("scaler", "scale", [1.0, 0.0, 1.0, 1.0]), "scaler.scale", "above 0"),
        ("kmeans", ("tier_dmi", [1.0, float("nan"), 2.0, 3.0]), "tier_dmi", "finite numbers"),
        ("kmeans", ("mixture", {"weights": [], "covariances": []}), "mixture", "expected null"),
        ("kmeans", ("labels", 0, "tier", 2), "labels", "tiers 1..4 in order, got tiers [2, 2"),
        (
            "kmeans",
            ("feature_labels", "dim_management", GONE),
            "feature_labels.dim_management",
            "missing",
        ),
        ("kmeans", ("report", "n_tiers", 3), "report", "describes 3 tiers"),
        ("kmeans", ("params", "n_tiers", 1), "params.n_tiers", "The 'n_tiers' parameter of"),
        ("kmeans", ("params", "k_range", [4, 2]), "params.k_range", "2 <= smallest <= largest"),
        ("gmm", ("mixture", None), "mixture", "expected an object for method 'gmm'"),
        ("gmm", ("mixture", "weights", [0.5, 0.5, 0.5, 0.5]), "mixture.weights", "sum to 1"),
        ("gmm", ("mixture", "covariances", 2, 0, 1, 5.0), "mixture.covariances[2]", "symmetric"),
        ("kmeans", ("instrument", "version", "1999.1"), "instrument", "fitted for instrument"),
    ],
)
def test_a_broken_tier_model_file_names_the_file_and_the_field(
    models, miit, tmp_path, method, change, field, problem
):
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(_edited(models[method].to_dict(), change)), encoding="utf-8")
    with pytest.raises(dmi.ModelFileError) as caught:
        TierModel.load(path, miit)
    error = caught.value
    assert (error.source, error.field) == (f"tier model file {path}", field)
    assert problem in error.problem, error.problem
    assert str(error).startswith(f"tier model file {path}, field {field}: ")


def test_the_file_records_the_dmi_version_and_files_without_it_still_load(models, data4, miit):
    frame, _ = data4
    model = models["gmm"]
    data = model.to_dict()
    assert data["dmi_version"] == dmi.__version__
    assert list(data)[:2] == ["format", "dmi_version"]
    before = {key: value for key, value in data.items() if key != "dmi_version"}
    loaded = TierModel.from_dict(before, miit)  # as dmi wrote it before it recorded its version
    t1, c1 = model.predict_with_confidence(frame)
    t2, c2 = loaded.predict_with_confidence(frame)
    assert np.array_equal(t1, t2) and np.array_equal(c1, c2)
    assert loaded.to_dict() == data
    written_later = TierModel.from_dict(dict(data, dmi_version="9.9"), miit)
    assert np.array_equal(written_later.predict(frame), t1)


def test_dmi_tiers_report_with_a_broken_model_says_so_in_one_line(models, data4, tmp_path, capsys):
    from dmi.cli.main import main

    frame, _ = data4
    scores = tmp_path / "scores.csv"
    frame.to_csv(scores, index=False)
    broken = tmp_path / "model.json"
    broken.write_text(
        json.dumps(_edited(models["kmeans"].to_dict(), ("centroids", GONE))), encoding="utf-8"
    )
    code = main(["tiers", "report", str(scores), "--model", str(broken)])
    assert code == 2
    assert capsys.readouterr().err == (
        f"dmi: error: tier model file {broken}, field centroids: missing\n"
    )


def test_model_for_another_instrument_version_is_refused(models, miit):
    data = models["kmeans"].to_dict()
    data["instrument"]["version"] = "1999.1"
    with pytest.raises(
        dmi.ModelFileError,
        match="fitted for instrument miit-2024-manufacturing version "
        "1999.1, not miit-2024-manufacturing version",
    ):
        TierModel.from_dict(data, miit)
    raw = shipped_path("miit-2024-manufacturing.yaml").read_text(encoding="utf-8")
    newer = parse_instrument(
        re.sub(r"^version: .*$", 'version: "2099.1"', raw, count=1, flags=re.MULTILINE)
    )
    assert newer.version == "2099.1"
    with pytest.raises(ValueError, match="not miit-2024-manufacturing version 2099.1"):
        models["kmeans"].check_instrument(newer)
    models["kmeans"].check_instrument(miit)  # its own instrument passes


# -- explanations ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["kmeans", "gmm", "ward"])
def test_following_the_advice_moves_the_company_up(models, method):
    model = models[method]
    # companies between the planted groups, where advice matters
    frame, _ = planted(CENTRES_4, 8, seed=11, sd=12.0)
    frame = frame[model.predict(frame) < 4]
    assert len(frame) >= 10
    for _, row in frame.iterrows():
        explanation = model.explain(row)
        assert explanation.next_tier == explanation.tier + 1
        assert explanation.move_up, explanation.text()
        changed = row.copy()
        for change in explanation.move_up:
            assert change.points > 0 and change.to_value <= 100
            changed[change.feature] = change.to_value
        after = model.predict(changed)[0]
        assert after > explanation.tier and after == explanation.move_up_tier
        assert explanation.respondent_id == row["respondent_id"]
        for gap in explanation.dimensions:
            assert gap.points_to_next == pytest.approx(max(0.0, gap.next_centroid - gap.value))
        assert set(explanation.holding) == {
            g.feature for g in explanation.dimensions if g.points_to_next > 0
        }


def test_explanation_sentences_and_top_tier(models, data4):
    frame, truth = data4
    model = models["kmeans"]
    low = model.explain(frame[truth == 0].iloc[0])
    assert low.tier == 1 and low.label.en == "Digital starter support"
    assert "Tier 1 of 4" in low.text("en") and "第 1 梯队" in low.text("zh")
    assert "Smallest change found that moves it to tier 2" in low.text()
    assert "进入第 2 梯队的最小改进" in low.text("zh")
    top = model.explain(frame[truth == 3].iloc[0])
    assert top.tier == 4 and top.next_tier is None and top.move_up == ()
    assert "most advanced tier" in top.text()
    assert json.dumps(low.to_dict(), ensure_ascii=False)
    with pytest.raises(ValueError, match="explain takes one company"):
        model.explain(frame.iloc[:2])


def _hand_model(centres: list[tuple[float, float]]) -> TierModel:
    """A k-means model written by hand: features A (甲) and B (乙) with mean 50 and sd 10, tier
    t + 1 centred at ``centres[t]`` (0-100 units), labelled 低/Low, 中/Middle, 高/High."""
    from dmi.tiers import KChoice, TierFitReport, TierSummary

    k, features = len(centres), ["dim_a", "dim_b"]
    names = [("低", "Low", "帮扶甲", "Support A"), ("中", "Middle", "帮扶乙", "Support B")]
    names += [("高", "High", "帮扶丙", "Support C")]
    report = TierFitReport(
        "kmeans", k, KChoice("fixed", None, {}, k, "given"), 0, 0, None, tuple(features),
        tuple(
            TierSummary(t + 1, names[t][0], names[t][1], 0, 0.0, float(t), dict(zip(features, c)))
            for t, c in enumerate(centres)
        ),
        None, None, "sha256:0", (),
    )  # fmt: skip
    data = {
        "format": TIER_MODEL_FORMAT,
        "params": TierModel(k, n_bootstrap=0).params(),
        "instrument": None,
        "n_tiers": k,
        "features": features,
        "feature_labels": {"dim_a": {"zh": "甲", "en": "A"}, "dim_b": {"zh": "乙", "en": "B"}},
        "scaler": {"mean": [50.0, 50.0], "scale": [10.0, 10.0]},
        "centroids": [[(v - 50) / 10 for v in c] for c in centres],
        "mixture": None,
        "tier_dmi": [float(t) for t in range(k)],
        "labels": [
            {
                "tier": t + 1,
                "zh": zh,
                "en": en,
                "support": {"zh": s_zh, "en": s_en},
                "generic": False,
            }
            for t, (zh, en, s_zh, s_en) in enumerate(names[:k])
        ],
        "data_hash": "sha256:0",
        "stable": None,
        "report": report.to_dict(),
    }
    return TierModel.from_dict(data)


def _company(a: float, b: float) -> dict[str, float]:
    return {"dim_a": a, "dim_b": b}


def test_explanation_sentences_worked_by_hand():
    model = _hand_model([(30, 30), (50, 50), (70, 70)])
    # (44, 53): squared distances in sd units 7.25, 0.45, 9.65: tier 2, confidence
    # 1 - sqrt(0.45 / 7.25) = 0.751. Short of tier 3's centroid by 26 on A and 17 on B (A first).
    # Raising A alone crosses the tier 2/3 border at A = 67 (B = 53): the search steps 1/200 of
    # the way to 70 (A = 67.01) and rounds the points up to 0.1: +23.1, to 67.1.
    middle = model.explain(_company(44, 53))
    assert middle.en == (
        "Tier 2 of 3: Middle (membership confidence 0.75).",
        "Support: Support B",
        "Below the tier 3 average on (largest gap first): "
        "A (44.0 vs 70.0 for tier 3, 26.0 points short); "
        "B (53.0 vs 70.0 for tier 3, 17.0 points short).",
        "Smallest change found that moves it to tier 3: raise A by 23.1 points (to 67.1).",
    )
    assert middle.zh == (
        "所在梯队：第 2 梯队（共 3 个梯队）——中，归属置信度 0.75。",
        "帮扶措施：帮扶乙",
        "低于第 3 梯队平均水平的维度（差距从大到小）："
        "甲（44.0 分，第 3 梯队平均 70.0 分，差 26.0 分）；"
        "乙（53.0 分，第 3 梯队平均 70.0 分，差 17.0 分）。",
        "进入第 3 梯队的最小改进：甲提高 23.1 分（至 67.1 分）。",
    )
    assert model.predict(_company(67.1, 53))[0] == 3 and model.predict(_company(67.0, 53))[0] == 2
    # (75, 66): tier 3 (0.41 against 8.81: confidence 0.78), below its own centroid on B only
    top = model.explain(_company(75, 66))
    assert top.en[2:] == (
        "Already in the most advanced tier; below this tier's average on: B (66.0 vs 70.0).",
    )
    assert top.zh[2:] == (
        "已处于最高梯队；低于本梯队平均水平的维度：乙（66.0 分，本梯队平均 70.0 分）。",
    )
    assert top.en[0] == "Tier 3 of 3: High (membership confidence 0.78)."
    # (80, 90): tier 3 (5 against 25: confidence 1 - sqrt(0.2) = 0.55), above it everywhere
    above = model.explain(_company(80, 90))
    assert above.en[0] == "Tier 3 of 3: High (membership confidence 0.55)."
    assert above.en[2] == (
        "Already in the most advanced tier, at or above its average on every dimension."
    )
    assert above.zh[2] == "已处于最高梯队，各维度均不低于本梯队平均水平。"


def test_explanation_when_no_dimension_holds_it_and_no_increase_moves_it():
    # tier 3 is high on A and low on B: (72, 60) is at or above it on both, yet nearer tier 2
    # (13.84 against 25.04: confidence 1 - sqrt(13.84 / 25.04) = 0.26), and raising scores
    # only moves it away from tier 3's B (at 100, 100: 26 against 90)
    model = _hand_model([(20, 20), (50, 90), (70, 10)])
    stuck = model.explain(_company(72, 60))
    assert (stuck.tier, stuck.holding, stuck.move_up, stuck.move_up_tier) == (2, (), (), None)
    assert stuck.en[0] == "Tier 2 of 3: Middle (membership confidence 0.26)."
    assert stuck.en[2:] == (
        "At or above the tier 3 average on every dimension, yet the profile as a whole is "
        "still closer to the current tier.",
        "No increase of the dimension scores within 0-100 moves it to tier 3 under this model.",
    )
    assert stuck.zh[2:] == (
        "各维度均不低于第 3 梯队的平均水平，但整体组合仍更接近当前梯队。",
        "在 0-100 分范围内提高各维度得分都不能使其进入第 3 梯队。",
    )


def test_every_tier_sentence_has_a_zh_and_an_en_text():
    from dmi.locales import table

    tiers = {k: v for k, v in table().items() if k.startswith("tiers.")}
    assert len(tiers) >= 14 and all(set(entry) == {"zh", "en"} for entry in tiers.values())
    # the generic labels come from the same table
    model = _hand_model([(30, 30), (50, 50)])
    assert model.labels_[0].en == "Low"  # labels given in the file are kept
    from dmi.tiers.explain import generic_label

    label = generic_label(2)
    assert (label.zh, label.en, label.generic) == ("第 2 梯队", "Tier 2", True)
    assert label.support_en == "(the instrument does not describe the support for this tier)"


# -- reports -----------------------------------------------------------------------------------


def test_tier_report_counts_add_up(models, data4):
    frame, _ = data4
    scored = models["kmeans"].assign(frame)
    table = tier_report(scored, by=("sector", "region", "size_class", "province"))
    for name, block in table.groupby("by"):
        assert block["count"].sum() == len(frame), name
        assert np.allclose(block.groupby("group")["share"].sum(), 1.0)
    assert set(table["by"]) == {"all", "sector", "region", "size_class"}
    assert "(missing)" in set(table.loc[table["by"] == "region", "group"])
    assert table.attrs["skipped"] == ["province"]
    text = format_tier_report(table, models["kmeans"].labels_)
    assert "by sector" in text and "skipped (no such column): province" in text
    with pytest.raises(ValueError, match="no 'tier' column"):
        tier_report(frame)


def test_fit_report_text(models):
    text = models["kmeans"].report_.to_text()
    assert "tier model: kmeans, 4 tiers, instrument miit-2024-manufacturing" in text
    assert "number of tiers: 4 (fixed)" in text
    assert "数字化启蒙帮扶 / Digital starter support" in text


# -- property ----------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    x=arrays(
        np.float64,
        st.tuples(st.integers(1, 20), st.just(4)),
        elements=st.floats(allow_nan=False, allow_infinity=False, width=64),
    )
)
def test_predict_is_always_a_tier_with_a_confidence(models, x):
    for model in models.values():
        tiers, confidence = model.predict_with_confidence(pd.DataFrame(x, columns=FEATURES))
        assert tiers.dtype == np.int64 and np.all((tiers >= 1) & (tiers <= 4))
        assert np.all((confidence >= 0) & (confidence <= 1))


# -- shipped model and command line -------------------------------------------------------------


def test_shipped_model_matches_the_instrument(miit):
    assert shipped_tier_model_path(miit).is_file()
    model = load_shipped_tier_model(miit)
    assert model.n_tiers_ == 4 and model.method == "kmeans" and model.random_state == 20241
    assert model.features_ == tuple(FEATURES) and model.stable_
    assert model.report_.n_rows == 3000
    assert shipped_tier_model_path(miit).stat().st_size < 50_000


def _run(argv: list[str]) -> int:
    from dmi.cli.tiers import add_commands

    parser = argparse.ArgumentParser(prog="dmi")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_fit_from_answers_and_report(tmp_path, capsys, miit):
    from dmi.instruments.synth import synthesise

    answers = tmp_path / "answers.csv"
    synthesise(miit, 150, seed=3).to_csv(answers, index=False)
    model_path = tmp_path / "model.json"
    assert (
        _run(
            [
                "tiers",
                "fit",
                str(answers),
                "-o",
                str(model_path),
                "--k",
                "3",
                "--seed",
                "1",
                "--bootstrap",
                "2",
            ]
        )
        == 0
    )
    out = capsys.readouterr()
    assert "tier model: kmeans, 3 tiers" in out.out and "scored" in out.err
    model = TierModel.load(model_path, miit)
    assert model.n_tiers_ == 3

    scores = tmp_path / "scores.csv"
    dmi.IndexModel(miit).fit().score(synthesise(miit, 80, seed=4)).to_csv(scores, index=False)
    assert (
        _run(
            [
                "tiers",
                "report",
                str(scores),
                "--by",
                "sector,size_class",
                "--model",
                str(model_path),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "all (80 rows)" in out and "by size_class (80 rows)" in out
    with pytest.raises(ValueError, match="--k: expected a whole number >= 2 or 'auto'"):
        _run(["tiers", "fit", str(scores), "-o", str(model_path), "--k", "one"])
