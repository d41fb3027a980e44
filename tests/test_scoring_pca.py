"""PCA weights: the factor-retention rule and the varimax rotation are documented options of the
index model (``IndexModel``), of the analysis method file and of ``dmi weights``.

The data are built so that the rules must differ: block-correlated columns whose correlation
matrix is known exactly, so its eigenvalues are known in closed form (a block of ``s`` columns
with common correlation ``r`` has eigenvalue ``1 + (s - 1) r`` once and ``1 - r`` ``s - 1``
times).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from dmi.analysis import Kernel
from dmi.analysis.method import method_from_dict
from dmi.cli.main import main
from dmi.errors import ModelFileError, ParameterError
from dmi.scoring import IndexModel, encode_answers
from dmi.scoring import weighting as W
from dmi.scoring.weighting import pca


def _exact(R: np.ndarray, n: int = 400, seed: int = 0) -> np.ndarray:
    """``n`` rows whose sample correlation matrix is exactly ``R``."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, len(R)))
    Z -= Z.mean(axis=0)
    Z = Z @ np.linalg.inv(np.linalg.cholesky(np.cov(Z, rowvar=False))).T  # sample cov = I
    return Z @ np.linalg.cholesky(R).T


def _blocks(sizes: tuple[int, ...], r: tuple[float, ...]) -> np.ndarray:
    R = np.zeros((sum(sizes), sum(sizes)))
    start = 0
    for size, rho in zip(sizes, r):
        R[start : start + size, start : start + size] = rho
        start += size
    np.fill_diagonal(R, 1.0)
    return R


# eigenvalues 2.6 (32.5 %), 2.3 (28.75 %), 1.86 (23.25 %); the rest 0.35, 0.35, 0.2, 0.2, 0.14
ISSUE_R = _blocks((3, 3, 2), (0.8, 0.65, 0.86))


def test_a_third_factor_of_eigenvalue_1_86_is_kept_by_the_default_and_dropped_at_60_percent():
    X = _exact(ISSUE_R)
    default = pca(X)
    assert_allclose(default.eigenvalues[:3], [2.6, 2.3, 1.86], atol=1e-9)
    assert default.eigenvalues[2] / 8 == pytest.approx(0.2325)
    assert default.n_factors == 3 and default.retain == "kaiser+10%"
    stop = pca(X, retain="cumulative-60%")
    assert stop.n_factors == 2  # 32.5 % + 28.75 % = 61.25 % >= 60 %: the 1.86 factor is dropped
    # the two rules give different weights: with three factors each block has its own factor
    assert not np.allclose(default.weights, stop.weights, atol=1e-3)
    blocks = [range(0, 3), range(3, 6), range(6, 8)]
    assert [len({default.assigned_factor[i] for i in b}) for b in blocks] == [1, 1, 1]
    assert len(set(default.assigned_factor)) == 3
    # a fixed number keeps that many factors, whatever the tests say (and the note says so)
    assert pca(X, retain=1).n_factors == 1
    four = pca(X, retain=4)
    assert four.n_factors == 4
    assert "1 of the 4 factors kept by number fails" in four.note


def test_retention_by_number_is_bounded_and_a_whole_number():
    X = _exact(ISSUE_R)
    for bad in (0, -1, True, 2.0, "3", "scree"):
        with pytest.raises(ValueError, match="kaiser\\+10%, cumulative-60% or a whole number"):
            pca(X, retain=bad)
    with pytest.raises(ValueError, match="at most 8 factors.*got 9"):
        pca(X, retain=9)


def _nodes(miit, R: np.ndarray) -> np.ndarray:
    """13 indicator scores in [0, 1] with the correlation matrix ``R``."""
    X = _exact(R, n=300, seed=5)
    return (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0))


def test_the_analysis_kernel_applies_the_rule_and_the_rotation(miit):
    # 13 indicators in blocks of 5, 4, 4: eigenvalues 4.6 (35.4 %), 3.7 (28.5 %), 2.8 (21.5 %)
    R = _blocks((5, 4, 4), (0.9, 0.9, 0.6))
    nodes = _nodes(miit, R)
    for retain, factors in (("kaiser+10%", 3), ("cumulative-60%", 2), (1, 1), (4, 4)):
        for rotation in ("varimax", "varimax-kaiser"):
            kernel = Kernel(miit, "indicator", nodes, pca_retain=retain, pca_rotation=rotation)
            w, _ = kernel.weights("pca")
            expected = pca(nodes, retain=retain, kaiser_normalisation=rotation == "varimax-kaiser")
            assert expected.n_factors == factors
            assert_allclose(w, expected.weights, atol=1e-12)
    with pytest.raises(ValueError, match="pca_rotation: expected one of varimax, varimax-kaiser"):
        Kernel(miit, "indicator", nodes, pca_rotation="promax")


@pytest.fixture(scope="module")
def reference(miit):
    from dmi.instruments import shipped_reference_population
    from dmi.io import read_answers

    return read_answers(shipped_reference_population(miit), miit)


def _reference_nodes(miit, reference) -> np.ndarray:
    model = IndexModel(miit).fit()
    encoded = encode_answers(miit, reference)
    nodes = model._below(encoded.scores[encoded.valid])
    return nodes[~np.isnan(nodes).any(axis=1)]


@pytest.mark.parametrize("retain", ["kaiser+10%", "cumulative-60%", 1, 3])
@pytest.mark.parametrize("rotation", ["varimax", "varimax-kaiser"])
def test_index_model_weights_are_the_pca_of_its_reference_under_its_options(
    miit, reference, retain, rotation
):
    model = IndexModel(miit, weighting="pca", pca_retain=retain, pca_rotation=rotation)
    assert model.fit(reference) is model  # fit returns self
    expected = pca(
        _reference_nodes(miit, reference),
        retain=retain,
        kaiser_normalisation=rotation == "varimax-kaiser",
    )
    assert_allclose(model.weights_, expected.weights, atol=1e-12)
    assert model.pca_.n_factors == expected.n_factors
    assert model.pca_.retain == retain
    assert model.pca_.kaiser_normalisation == (rotation == "varimax-kaiser")
    # the default is kept as the weights dmi has always given
    if (retain, rotation) == ("kaiser+10%", "varimax"):
        assert_allclose(
            model.weights_, IndexModel(miit, weighting="pca").fit(reference).weights_, atol=0
        )


def test_kaiser_normalised_varimax_matches_factor_analyzers_rotator(miit, reference):
    rotator = pytest.importorskip("factor_analyzer.rotator")
    nodes = _reference_nodes(miit, reference)
    model = IndexModel(miit, weighting="pca", pca_retain=3, pca_rotation="varimax-kaiser")
    model.fit(reference)
    ev, vec = np.linalg.eigh(np.corrcoef(nodes.T))
    order = np.argsort(ev)[::-1][:3]
    unrotated = vec[:, order] * np.sqrt(ev[order])
    expected = rotator.Rotator(
        method="varimax", normalize=True, tol=0, max_iter=200_000
    ).fit_transform(unrotated)
    ours = model.pca_.loadings
    # the same factors up to order and sign
    for j in range(3):
        assert (
            sum(
                np.allclose(np.abs(ours[:, j]), np.abs(expected[:, c]), atol=1e-6) for c in range(3)
            )
            == 1
        )
    raw = IndexModel(miit, weighting="pca", pca_retain=3).fit(reference).pca_.loadings
    assert not np.allclose(np.abs(raw), np.abs(ours), atol=1e-3)  # the options differ here


def test_fit_learns_only_attributes_ending_in_underscore(miit, reference):
    model = IndexModel(miit, weighting="pca", pca_retain="cumulative-60%")
    before = set(vars(model))
    model.fit(reference)
    learned = {a for a in set(vars(model)) - before if not a.startswith("_")}
    assert "pca_" in learned and "weights_" in learned
    assert all(a.endswith("_") for a in learned), learned
    assert model.get_params()["pca_retain"] == "cumulative-60%"
    assert IndexModel(miit).fit().pca_ is None


@pytest.mark.parametrize(
    "params, expected, got",
    [
        ({"pca_retain": "scree"}, "'kaiser\\+10%', 'cumulative-60%'", "'scree'"),
        ({"pca_retain": 0}, "int in the range \\[1, inf\\)", "0"),
        ({"pca_retain": True}, "whole number of factors", "True"),
        ({"pca_rotation": "promax"}, "'varimax', 'varimax-kaiser'", "'promax'"),
        ({"pca_retain": 14}, "at most 13 factors", "14"),
    ],
)
def test_a_bad_option_names_what_was_expected_and_what_was_got(
    miit, reference, params, expected, got
):
    with pytest.raises(ParameterError, match=expected) as info:
        IndexModel(miit, weighting="pca", **params).fit(reference)
    assert got in str(info.value)
    assert info.value.parameter == next(iter(params))


def test_the_options_are_saved_with_a_pca_model_and_only_with_it(miit, reference, tmp_path):
    model = IndexModel(miit, weighting="pca", pca_retain=3, pca_rotation="varimax-kaiser")
    model.fit(reference)
    model.save(tmp_path / "pca.json")
    loaded = IndexModel.load(tmp_path / "pca.json", miit)
    assert (loaded.pca_retain, loaded.pca_rotation) == (3, "varimax-kaiser")
    assert loaded.pca_.n_factors == 3
    assert_allclose(loaded.pca_.loadings, model.pca_.loadings)
    assert loaded.method_id == model.method_id
    # other methods' files (and so their method ids) do not carry the PCA options
    entropy = IndexModel(miit, weighting="entropy").fit(reference)
    assert "pca_retain" not in entropy.params() and "pca" not in entropy.to_dict()
    data = entropy.to_dict()
    data["params"]["pca_retain"] = 2
    with pytest.raises(ModelFileError, match="params.pca_retain"):
        IndexModel.from_dict(data, miit)


def test_the_method_file_takes_the_options_and_names_a_bad_one():
    method = method_from_dict({"pca": {"retain": 2, "rotation": "varimax-kaiser"}}, "m.yaml")
    assert (method.pca.retain, method.pca.rotation) == (2, "varimax-kaiser")
    assert method_from_dict({}, "m.yaml").pca.retain == "kaiser+10%"
    assert "pca:\n  retain: 2\n  rotation: varimax-kaiser" in method.to_yaml()
    with pytest.raises(ValueError, match="m.yaml, field pca.retain: expected .* got 'scree'"):
        method_from_dict({"pca": {"retain": "scree"}}, "m.yaml")
    with pytest.raises(ValueError, match="field pca.rotation: .*got 'promax'"):
        method_from_dict({"pca": {"rotation": "promax"}}, "m.yaml")


def test_dmi_weights_takes_the_retention_rule_and_the_rotation(miit, reference, capsys):
    from dmi.instruments import shipped_reference_population

    path = str(shipped_reference_population(miit))
    args = ["weights", path, "--method", "pca", "--pca-retain", "3"]
    assert main([*args, "--pca-rotation", "varimax-kaiser", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    model = IndexModel(miit, weighting="pca", pca_retain=3, pca_rotation="varimax-kaiser")
    model.fit(reference)
    assert payload["pca"]["factors"] == 3 and payload["pca"]["rotation"] == "varimax-kaiser"
    assert payload["pca"]["retain"] == 3
    weights = pd.Series(payload["weights"])
    assert_allclose(weights[model.nodes_].to_numpy(), model.weights_, atol=1e-9)
    assert main(args) == 0
    assert "PCA: 3 factors kept by number" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main([*args[:-1], "scree"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--pca-retain: expected kaiser+10%, cumulative-60% or a whole number" in err
    assert "got 'scree'" in err


def test_varimax_of_two_factors_by_hand():
    # two factors: the raw varimax angle maximises the criterion over every rotation; the
    # Kaiser-normalised one maximises it on the rows scaled to unit length
    L = np.array([[0.8, 0.3], [0.7, 0.4], [0.2, 0.6], [0.3, 0.9], [0.5, 0.1]])

    def best(A):
        angles = np.linspace(0, np.pi / 2, 200_001)
        c, s = np.cos(angles), np.sin(angles)
        x = A[:, [0]] * c + A[:, [1]] * s
        y = -A[:, [0]] * s + A[:, [1]] * c
        crit = np.var(x**2, axis=0) + np.var(y**2, axis=0)
        return crit.max()

    for kaiser in (False, True):
        rotated, T, converged = W._varimax(L, kaiser_normalisation=kaiser)
        assert converged
        h = np.sqrt((L * L).sum(axis=1))[:, None] if kaiser else 1.0
        crit = np.var((rotated / h) ** 2, axis=0).sum()
        assert crit == pytest.approx(best(L / h), rel=1e-8)
