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
        m: TierModel(4, m, random_state=0, n_bootstrap=0, instrument=miit).fit(frame)
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
    model = TierModel("auto", method, random_state=0, n_bootstrap=0).fit(frame)
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
    with pytest.raises(
        ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")
    ):
        TierModel(4, random_state=0, n_bootstrap=0, **kwargs).fit(frame)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_tiers": 1}, "n_tiers: expected a whole number >= 2 or 'auto', got 1"),
        ({"method": "dbscan"}, "method: expected one of kmeans, gmm, ward, got 'dbscan'"),
        ({"k_range": (5, 3)}, "k_range: expected"),
        ({"n_bootstrap": -1}, "n_bootstrap: expected a whole number >= 0"),
        ({"min_ari": 2}, "min_ari: expected a number in [0, 1]"),
        ({"features": ["dim_nope"]}, "missing columns dim_nope"),
    ],
)
def test_bad_parameters_raise_clearly(data4, kwargs, message):
    frame, _ = data4
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        TierModel(**{"n_bootstrap": 0, **kwargs}).fit(frame)


def test_predict_rejects_bad_tables(models, data4):
    frame, _ = data4
    model = models["kmeans"]
    with pytest.raises(ValueError, match="missing columns dim_management"):
        model.predict(frame.drop(columns="dim_management"))
    with pytest.raises(ValueError, match="'dim_foundation' has 1 missing values"):
        model.predict(frame.assign(dim_foundation=[np.nan] + [1.0] * (len(frame) - 1)))
    with pytest.raises(RuntimeError, match="not fitted"):
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


def test_truncated_and_edited_model_files_fail_clearly(models, tmp_path):
    path = tmp_path / "m.json"
    models["kmeans"].save(path)
    text = path.read_text(encoding="utf-8")
    (tmp_path / "cut.json").write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(ValueError, match=r"tier model file .*cut.json: not valid JSON"):
        TierModel.load(tmp_path / "cut.json")
    data = json.loads(text)
    for key, message in [
        ("centroids", "missing 'centroids'"),
        ("scaler", "missing 'scaler'"),
        ("report", "missing 'report'"),
    ]:
        broken = {k: v for k, v in data.items() if k != key}
        (tmp_path / "b.json").write_text(json.dumps(broken), encoding="utf-8")
        with pytest.raises(ValueError, match=rf"tier model file .*b.json: {message}"):
            TierModel.load(tmp_path / "b.json")
    edited = json.loads(text)
    edited["centroids"] = edited["centroids"][:3]
    with pytest.raises(ValueError, match=r"'centroids' must be numbers of shape \(4, 4\)"):
        TierModel.from_dict(edited)
    edited = json.loads(text)
    edited["n_tiers"] = "4"
    with pytest.raises(ValueError, match="'n_tiers' must be int, got str"):
        TierModel.from_dict(edited)
    edited = json.loads(text)
    edited["format"] = "dmi-tier-model/0"
    with pytest.raises(ValueError, match="expected format 'dmi-tier-model/1'"):
        TierModel.from_dict(edited)
    with pytest.raises(FileNotFoundError, match="no such tier model file"):
        TierModel.load(tmp_path / "nope.json")


def test_model_for_another_instrument_version_is_refused(models, miit):
    data = models["kmeans"].to_dict()
    data["instrument"]["version"] = "1999.1"
    with pytest.raises(
        ValueError,
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
