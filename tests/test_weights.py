"""Tests for :mod:`dmi.scoring.weighting` against independently computed truth.

Oracles: pymcdm (entropy, CRITIC), scipy.stats.entropy, numpy eigen-solvers (AHP, PCA),
closed-form 3x3 AHP algebra, factor_analyzer's Rotator and a brute-force search over rotation
angles (varimax), one scipy.optimize.linprog per unit (BoD).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.stats
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal
from pymcdm.weights import critic_weights, entropy_weights
from scipy.optimize import linprog

from dmi.scoring import weighting as W
from dmi.scoring.weighting import (
    AHPResult,
    BoDResult,
    PCAWeights,
    ahp,
    ahp_from_judgements,
    bod,
    bod_score,
    critic,
    entropy,
    equal,
    pca,
)

# Published fixture (6 units x 4 indicators) with reference weights.
FIXTURE = np.array(
    [
        [3.2, 2.5, 4.1, 1.8],
        [4.0, 3.1, 3.9, 2.2],
        [2.1, 1.9, 2.5, 1.5],
        [4.5, 4.2, 4.8, 3.9],
        [3.6, 2.8, 3.3, 2.6],
        [1.8, 1.5, 2.2, 1.2],
    ]
)
FIXTURE_ENTROPY = np.array([0.228334, 0.248164, 0.165131, 0.358371])
FIXTURE_CRITIC = np.array([0.227339, 0.139292, 0.330014, 0.303355])

# Saaty's random index (The Analytic Hierarchy Process, 1980), typed in literally
# (independent of dmi.scoring.weighting.RANDOM_INDEX).
SAATY_RI = {
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
    11: 1.51,
    12: 1.48,
    13: 1.56,
    14: 1.57,
    15: 1.59,
}


def _random_positive(seed: int, n: int, m: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.05, 10.0, size=(n, m))


# --------------------------------------------------------------------------------------
# equal
# --------------------------------------------------------------------------------------


def test_equal_weights() -> None:
    assert_allclose(equal(4), [0.25, 0.25, 0.25, 0.25], rtol=0, atol=1e-15)
    assert_allclose(equal(1), [1.0])


@pytest.mark.parametrize("n", [0, -3])
def test_equal_rejects_n_below_one(n: int) -> None:
    with pytest.raises(ValueError, match="n >= 1"):
        equal(n)


# --------------------------------------------------------------------------------------
# entropy and CRITIC
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "n", "m"), [(0, 6, 4), (1, 20, 3), (2, 50, 7), (3, 3, 2)])
def test_entropy_matches_pymcdm(seed: int, n: int, m: int) -> None:
    X = _random_positive(seed, n, m)
    assert_allclose(entropy(X), entropy_weights(X), rtol=0, atol=1e-9)


@pytest.mark.parametrize(("seed", "n", "m"), [(0, 6, 4), (1, 20, 3), (2, 50, 7), (3, 3, 2)])
def test_critic_matches_pymcdm(seed: int, n: int, m: int) -> None:
    X = _random_positive(seed, n, m)
    assert_allclose(critic(X), critic_weights(X), rtol=0, atol=1e-9)


def test_fixture_published_values() -> None:
    assert_allclose(entropy(FIXTURE), FIXTURE_ENTROPY, rtol=0, atol=5e-6)
    assert_allclose(critic(FIXTURE), FIXTURE_CRITIC, rtol=0, atol=5e-6)


def test_entropy_with_zeros_matches_scipy_entropy() -> None:
    # scipy.stats.entropy normalises the column and uses 0 ln 0 = 0 (pymcdm does not).
    rng = np.random.default_rng(11)
    X = rng.uniform(0, 5, size=(12, 4))
    X[[0, 3, 7], 1] = 0.0
    X[5, 3] = 0.0
    n = X.shape[0]
    e = np.array([scipy.stats.entropy(X[:, j]) for j in range(X.shape[1])]) / np.log(n)
    d = 1 - e
    assert_allclose(entropy(X), d / d.sum(), rtol=1e-12)


def test_entropy_constant_and_zero_columns_get_zero_weight() -> None:
    X = FIXTURE.copy()
    X[:, 1] = 7.0
    Xz = FIXTURE.copy()
    Xz[:, 2] = 0.0
    for data, j in ((X, 1), (Xz, 2)):
        w = entropy(data)
        assert w[j] == 0.0
        assert np.isclose(w.sum(), 1.0)
        others = np.delete(np.arange(4), j)
        assert_allclose(w[others], entropy(np.delete(data, j, axis=1)), rtol=1e-12)


def test_entropy_all_constant_gives_equal() -> None:
    X = np.tile([1.0, 0.0, 3.0], (5, 1))
    assert_allclose(entropy(X), np.full(3, 1 / 3))


def test_entropy_negative_value_names_column() -> None:
    X = FIXTURE.copy()
    X[4, 2] = -0.5
    with pytest.raises(ValueError, match=r"column 2.*-0\.5"):
        entropy(X)


def test_entropy_nan_names_column() -> None:
    X = FIXTURE.copy()
    X[1, 3] = np.nan
    with pytest.raises(ValueError, match=r"column 3.*nan"):
        entropy(X)


def test_entropy_needs_two_rows() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        entropy([[1.0, 2.0, 3.0]])


def test_critic_constant_column_is_left_out_of_the_conflict_sums() -> None:
    # Worked by hand: columns a = (0, 1, 2), b = (0, 2, 1), c = 5 (constant).
    # min-max: a = (0, .5, 1), b = (0, 1, .5); sd (ddof=1) = 0.5 each; r(a, b) = 0.5.
    # Without c: C_a = C_b = 0.5 * (1 - 0.5) = 0.25 -> weights (0.5, 0.5, 0).
    # (Treating c as r = 0 with both would add 0.5 * 1 to each conflict sum: the same here,
    # so the unequal case below is what tells the two rules apart.)
    X = np.array([[0.0, 0.0, 5.0], [1.0, 2.0, 5.0], [2.0, 1.0, 5.0]])
    assert_allclose(critic(X), [0.5, 0.5, 0.0], rtol=1e-12)
    # a = (0, 1, 2, 3), b = (0, 1, 3, 2), d = (3, 0, 1, 2), constant c.
    # Min-max scaled sd: a, b: sqrt(5/27) = 0.430331; d: the same (values 1, 0, 1/3, 2/3).
    # r(a, b) = 0.8, r(a, d) = -0.2, r(b, d) = -0.4 (centred sums of products / 5).
    # Conflict sums: a 0.2 + 1.2 = 1.4, b 0.2 + 1.4 = 1.6, d 1.2 + 1.4 = 2.6; the sd is common,
    # so w = (1.4, 1.6, 2.6) / 5.6 = (0.25, 0.285714, 0.464286).
    # Counting the constant column as r = 0 adds 1 to each sum: (0.2791, 0.3023, 0.4186).
    Y = np.array(
        [[0.0, 0.0, 7.0, 3.0], [1.0, 1.0, 7.0, 0.0], [2.0, 3.0, 7.0, 1.0], [3.0, 2.0, 7.0, 2.0]]
    )
    w = critic(Y)
    assert_allclose(w, [1.4 / 5.6, 1.6 / 5.6, 0.0, 2.6 / 5.6], rtol=1e-12)
    assert_allclose(w[[0, 1, 3]], [0.25, 0.285714, 0.464286], atol=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_critic_constant_columns_match_pymcdm_on_the_rest(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = 30, 6
    X = rng.uniform(0.1, 10.0, size=(n, m))
    constant = rng.choice(m, size=1 + seed % 3, replace=False)
    X[:, constant] = rng.uniform(0, 5, size=len(constant))
    w = critic(X)
    rest = np.setdiff1d(np.arange(m), constant)
    assert_array_equal(w[constant], 0.0)
    assert_allclose(w[rest], critic_weights(X[:, rest]), rtol=1e-12)
    assert_allclose(w[rest], critic(X[:, rest]), rtol=1e-15)


def test_critic_single_varying_column_takes_all_the_weight() -> None:
    X = np.column_stack([np.full(5, 2.0), np.arange(5.0), np.full(5, -1.0)])
    assert_allclose(critic(X), [0.0, 1.0, 0.0])


def test_critic_all_constant_gives_equal() -> None:
    assert_allclose(critic(np.ones((4, 3))), np.full(3, 1 / 3))


@pytest.mark.parametrize("func", [entropy, critic, pca, bod])
def test_one_dimensional_input_rejected(func) -> None:
    with pytest.raises(ValueError, match=r"2-D \(units x indicators\).*\(5,\)"):
        func(np.arange(1.0, 6.0))


# hypothesis: integer-valued data keeps d_j / C_j well away from rounding noise.
_int_matrix = st.tuples(st.integers(2, 8), st.integers(1, 5)).flatmap(
    lambda shape: hnp.arrays(np.float64, shape, elements=st.integers(0, 20).map(float))
)
_signed_matrix = st.tuples(st.integers(2, 8), st.integers(1, 5)).flatmap(
    lambda shape: hnp.arrays(np.float64, shape, elements=st.integers(-10, 10).map(float))
)


@pytest.mark.parametrize("func", [entropy, critic])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_property_weights_simplex_and_permutations(func, data) -> None:
    X = data.draw(_int_matrix if func is entropy else _signed_matrix)
    n, m = X.shape
    w = func(X)
    assert w.shape == (m,)
    assert np.all(w >= 0)
    assert np.isclose(w.sum(), 1.0, rtol=0, atol=1e-12)
    rows = np.array(data.draw(st.permutations(range(n))))
    assert_allclose(func(X[rows]), w, rtol=0, atol=1e-9)
    cols = np.array(data.draw(st.permutations(range(m))))
    assert_allclose(func(X[:, cols]), w[cols], rtol=0, atol=1e-9)


# --------------------------------------------------------------------------------------
# AHP
# --------------------------------------------------------------------------------------


def _principal(P: np.ndarray) -> tuple[float, np.ndarray]:
    vals, vecs = np.linalg.eig(P)
    k = np.argmax(vals.real)
    v = np.abs(vecs[:, k].real)
    return float(vals[k].real), v / v.sum()


def _perturbed(n: int, seed: int, scale: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = rng.uniform(1, 9, size=n)
    E = np.triu(rng.normal(0, scale, size=(n, n)), 1)
    E = E - E.T
    return (w[:, None] / w[None, :]) * np.exp(E)


@pytest.mark.parametrize("n", range(1, 16))
def test_ahp_recovers_consistent_weights(n: int) -> None:
    rng = np.random.default_rng(100 + n)
    w = rng.uniform(0.1, 5, size=n)
    w /= w.sum()
    res = ahp(w[:, None] / w[None, :])
    assert isinstance(res, AHPResult)
    assert res.n == n
    assert_allclose(res.weights, w, rtol=1e-9)
    assert res.lambda_max == pytest.approx(n, abs=1e-9)
    assert res.cr == pytest.approx(0.0, abs=1e-9)
    assert res.consistent


@pytest.mark.parametrize("n", range(3, 16))
def test_ahp_perturbed_matches_numpy_and_hand_cr(n: int) -> None:
    P = _perturbed(n, seed=n)
    lam, v = _principal(P)
    res = ahp(P)
    assert_allclose(res.weights, v, rtol=1e-9)
    assert res.lambda_max == pytest.approx(lam, rel=1e-12)
    ci = (lam - n) / (n - 1)
    assert ci > 1e-3  # the perturbation really is inconsistent
    assert res.ci == pytest.approx(ci, rel=1e-9)
    assert res.cr == pytest.approx(ci / SAATY_RI[n], rel=1e-9)
    assert res.consistent == (ci / SAATY_RI[n] < 0.10)


def test_ahp_random_index_not_off_by_one() -> None:
    P = _perturbed(3, seed=7)
    res = ahp(P)
    assert res.cr == pytest.approx(res.ci / 0.58, rel=1e-12)
    assert res.cr != pytest.approx(res.ci / 0.90, rel=1e-3)  # RI of n = 4


def test_ahp_textbook_3x3_worked_by_hand() -> None:
    # P = [[1, 3, 5], [1/3, 1, 3], [1/5, 1/3, 1]].
    # For a 3x3 reciprocal matrix with a = P01, b = P02, c = P12 the characteristic
    # polynomial is (1 - L)^3 - 3(1 - L) - (b/(ac) + ac/b) = 0, so with t = (b/(ac))^(1/3):
    #   lambda_max = 1 + t + 1/t,  t = (5/9)^(1/3) = 0.822071,  1/t = 1.216440
    #   lambda_max = 3.038511,  CI = 0.038511 / 2 = 0.019256,  CR = 0.019256 / 0.58 = 0.0332
    # and the principal eigenvector of a 3x3 reciprocal matrix equals the normalised row
    # geometric means: (15^(1/3), 1, 15^(-1/3)) = (2.466212, 1, 0.405480), sum 3.871692
    #   w = (0.636986, 0.258285, 0.104729).
    P = [[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]]
    res = ahp(P)
    assert_allclose(res.weights, [0.636986, 0.258285, 0.104729], atol=2e-6)
    assert res.lambda_max == pytest.approx(3.038511, abs=2e-6)
    assert res.ci == pytest.approx(0.019256, abs=2e-6)
    assert res.cr == pytest.approx(0.0332, abs=1e-4)
    assert res.consistent
    # exact closed forms
    t = (5 / 9) ** (1 / 3)
    assert res.lambda_max == pytest.approx(1 + t + 1 / t, rel=1e-12)
    g = np.array([15 ** (1 / 3), 1.0, 15 ** (-1 / 3)])
    assert_allclose(res.weights, g / g.sum(), rtol=1e-12)


def test_ahp_consistent_3x3_by_hand() -> None:
    # P_ij = w_i / w_j with w = (4, 2, 1) / 7: lambda_max = 3, CI = CR = 0.
    res = ahp([[1, 2, 4], [0.5, 1, 2], [0.25, 0.5, 1]])
    assert_allclose(res.weights, [4 / 7, 2 / 7, 1 / 7], rtol=1e-12)
    assert res.cr == pytest.approx(0.0, abs=1e-12)


def test_ahp_small_orders() -> None:
    one = ahp([[1.0]])
    assert_allclose(one.weights, [1.0])
    assert one.cr == 0.0 and one.ci == 0.0 and one.consistent
    two = ahp([[1, 3], [1 / 3, 1]])
    assert_allclose(two.weights, [0.75, 0.25], rtol=1e-12)
    assert two.cr == 0.0 and two.ci == 0.0


def test_ahp_inconsistent_flagged() -> None:
    # Cyclic preferences: 0 > 1 > 2 > 0.
    res = ahp([[1, 5, 1 / 5], [1 / 5, 1, 5], [5, 1 / 5, 1]])
    assert res.cr > 0.10
    assert not res.consistent


def test_ahp_non_reciprocal_names_cell() -> None:
    P = np.array([[1, 3, 5], [1 / 3, 1, 3], [1 / 4, 1 / 3, 1]])
    with pytest.raises(ValueError, match=r"\(0, 2\).*5\.0.*0\.25"):
        ahp(P)


def test_ahp_reciprocal_tolerance() -> None:
    P = np.array([[1, 3], [1 / 3 * (1 + 1e-8), 1]])
    ahp(P)  # within rtol 1e-6
    P[1, 0] = 1 / 3 * (1 + 1e-4)
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        ahp(P)


@pytest.mark.parametrize(
    ("P", "pattern"),
    [
        ([[1, 2], [0.5, 2]], r"diagonal.*\(1, 1\)"),
        ([[1, -2], [-0.5, 1]], r"positive.*\(0, 1\)"),
        ([[1, 2, 3], [0.5, 1, 2]], "square"),
        ([1, 2, 3], "square"),
        (np.ones((0, 0)), "n >= 1"),
    ],
)
def test_ahp_validation(P, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        ahp(P)


@pytest.mark.parametrize("n", [11, 12, 13, 14, 15])
def test_ahp_random_index_beyond_ten(n: int) -> None:
    # Saaty's table goes on to n = 15 (not monotone: 1.51, 1.48, 1.56, 1.57, 1.59)
    P = _perturbed(n, seed=50 + n, scale=0.1)
    lam, _ = _principal(P)
    res = ahp(P)
    assert res.cr == pytest.approx((lam - n) / (n - 1) / SAATY_RI[n], rel=1e-9)
    assert W.RANDOM_INDEX[n] == SAATY_RI[n]


def test_ahp_runs_at_the_indicator_level_of_thirteen_nodes() -> None:
    # 13 criteria with weights proportional to (1, 2, ..., 13): consistent, so w is recovered
    v = np.arange(1.0, 14.0)
    res = ahp(v[:, None] / v[None, :])
    assert res.n == 13
    assert_allclose(res.weights, v / v.sum(), rtol=1e-10)
    assert res.consistent


def test_ahp_beyond_fifteen_raises() -> None:
    with pytest.raises(ValueError, match="n = 16"):
        ahp(np.ones((16, 16)))


def test_ahp_consistency_threshold_is_saatys_tenth() -> None:
    # A 3x3 matrix with one free judgement x: lambda_max = 1 + t + 1/t with t = (x/6)^(1/3)
    # for P = [[1, 2, x], [1/2, 1, 3], [1/x, 1/3, 1]]; CR = (lambda_max - 3) / 2 / 0.58.
    for x in (1.0, 2.0, 6.0, 20.0, 60.0):
        t = (x / 6) ** (1 / 3)
        cr = (1 + t + 1 / t - 3) / 2 / 0.58
        res = ahp([[1, 2, x], [1 / 2, 1, 3], [1 / x, 1 / 3, 1]])
        assert res.cr == pytest.approx(cr, rel=1e-9, abs=1e-12)
        assert res.consistent == (cr < 0.10)
    assert W.CR_THRESHOLD == 0.10


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1/3", 1 / 3),
        (" 1 / 3 ", 1 / 3),
        ("3", 3.0),
        ("0.333", 0.333),
        ("2.5/5", 0.5),
        (7, 7.0),
        (0.25, 0.25),
    ],
)
def test_parse_judgement(text, value) -> None:
    assert W.parse_judgement(text) == value


@pytest.mark.parametrize("text", ["abc", "", "0", "-3", "1/0", "1/3/4", "nan", "inf", True, None])
def test_parse_judgement_refuses(text) -> None:
    with pytest.raises(ValueError, match="expected a positive number or a fraction"):
        W.parse_judgement(text)


@pytest.mark.parametrize("s", range(2, 10))
def test_pairwise_table_reads_written_reciprocals_within_the_stated_tolerance(s: int) -> None:
    # Saaty's scale: the reciprocal of s written to 2 or 3 decimals (0.33, 0.333, 0.14, ...)
    # stands for exactly 1/s; one unit more in the second decimal does not.
    for written in (round(1 / s, 2), round(1 / s, 3), 1 / s):
        P = W.pairwise_matrix([[1, s], [written, 1]], ["a", "b"])
        assert P[0, 1] == s and P[1, 0] == 1 / s
        Q = W.pairwise_matrix([[1, written], [s, 1]])
        assert Q[1, 0] == s and Q[0, 1] == 1 / s
    atol = W.RECIPROCAL_ATOL
    assert atol == 0.005
    W.pairwise_matrix([[1, s], [1 / s + 0.99 * atol, 1]])
    with pytest.raises(ValueError, match=r"not reciprocal: \(a, b\) = .*\(b, a\)"):
        W.pairwise_matrix([[1, s], [1 / s + 1.01 * atol, 1]], ["a", "b"])
    with pytest.raises(ValueError, match="not reciprocal"):
        W.pairwise_matrix([[1, s], [1 / s - 1.01 * atol, 1]])


def test_pairwise_table_blanks_and_errors() -> None:
    nan = np.nan
    P = W.pairwise_matrix([[nan, 3, nan], [nan, 1, "0.5"], [5, 2, 1]], ["a", "b", "c"])
    assert_allclose(P, [[1, 3, 1 / 5], [1 / 3, 1, 1 / 2], [5, 2, 1]], rtol=0)
    with pytest.raises(ValueError, match=r"missing judgement for pair \('a', 'b'\)"):
        W.pairwise_matrix([[1, nan], [nan, 1]], ["a", "b"])
    with pytest.raises(ValueError, match=r"\(a, a\) = 2: a criterion compared with itself is 1"):
        W.pairwise_matrix([[2, 1], [1, 1]], ["a", "b"])
    with pytest.raises(ValueError, match="positive"):
        W.pairwise_matrix([[1, -3], [nan, 1]])
    with pytest.raises(ValueError, match="square"):
        W.pairwise_matrix([[1, 2, 3]])


def test_ahp_from_judgements_reads_fractions() -> None:
    labels = ["infra", "data", "skills"]
    text = ahp_from_judgements(
        labels, {("infra", "data"): "3", ("skills", "infra"): "1/5", ("data", "skills"): 3}
    )
    direct = ahp([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]])
    assert_allclose(text.weights, direct.weights, rtol=1e-12)
    with pytest.raises(ValueError, match=r"\('infra', 'data'\).*'x/3' is not a judgement"):
        ahp_from_judgements(labels, {("infra", "data"): "x/3"})


def test_ahp_from_judgements() -> None:
    labels = ["infra", "data", "skills"]
    res = ahp_from_judgements(
        labels, {("infra", "data"): 3, ("infra", "skills"): 5, ("data", "skills"): 3}
    )
    direct = ahp([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]])
    assert_allclose(res.weights, direct.weights, rtol=1e-12)
    assert res.cr == pytest.approx(direct.cr, rel=1e-12)
    # lower-triangle orientation is inverted
    rev = ahp_from_judgements(
        labels, {("data", "infra"): 1 / 3, ("infra", "skills"): 5, ("data", "skills"): 3}
    )
    assert_allclose(rev.weights, direct.weights, rtol=1e-12)


def test_ahp_from_judgements_missing_pair() -> None:
    with pytest.raises(ValueError, match=r"missing.*'data'.*'skills'"):
        ahp_from_judgements(
            ["infra", "data", "skills"], {("infra", "data"): 3, ("infra", "skills"): 5}
        )
    with pytest.raises(ValueError, match="unknown"):
        ahp_from_judgements(["a", "b"], {("a", "z"): 2})


# --------------------------------------------------------------------------------------
# PCA
# --------------------------------------------------------------------------------------


def _blocks(sizes: tuple[int, ...], n: int = 300, noise: float = 0.35, seed: int = 5):
    rng = np.random.default_rng(seed)
    cols = []
    for b, size in enumerate(sizes):
        f = rng.normal(size=(n, 1))
        cols.append(f + noise * rng.normal(size=(n, size)) + 3 * b)
    return np.hstack(cols)


def _criterion(L: np.ndarray) -> float:
    # varimax criterion written out: sum_j var_i(l_ij^2) (population variance)
    return float(sum(np.var(L[:, j] ** 2) for j in range(L.shape[1])))


def _unrotated(X: np.ndarray, k: int) -> np.ndarray:
    vals, vecs = np.linalg.eigh(np.corrcoef(X.T))
    idx = np.argsort(vals)[::-1][:k]
    return vecs[:, idx] * np.sqrt(vals[idx])


def test_pca_two_planted_blocks() -> None:
    X = _blocks((3, 3))
    res = pca(X)
    assert isinstance(res, PCAWeights)
    assert res.n_factors == 2
    assert res.note == ""
    a, b = res.assigned_factor[:3], res.assigned_factor[3:]
    assert len(set(a)) == 1 and len(set(b)) == 1 and a[0] != b[0]
    assert np.all(res.weights >= 0)
    assert res.weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert res.loadings.shape == (6, 2)
    assert res.explained_share.sum() == pytest.approx(1.0, abs=1e-12)
    assert_allclose(
        res.eigenvalues, np.sort(np.linalg.eigvalsh(np.corrcoef(X.T)))[::-1], atol=1e-10
    )


def test_pca_weights_by_hand() -> None:
    X = _blocks((3, 3), seed=9)
    res = pca(X)
    L = res.loadings
    var = (L**2).sum(0)
    S = L**2 / var
    share = var / var.sum()
    w = np.array([S[i, np.argmax(S[i])] * share[np.argmax(S[i])] for i in range(6)])
    assert_allclose(res.weights, w / w.sum(), rtol=1e-12)
    assert_allclose(res.explained_share, share, rtol=1e-12)


def test_varimax_is_orthogonal_rotation_and_improves_criterion() -> None:
    X = _blocks((3, 2, 2), noise=0.6, seed=3)
    res = pca(X)
    k = res.n_factors
    assert k == 3
    L = _unrotated(X, k)
    L_rot = res.loadings
    assert_allclose(L_rot @ L_rot.T, L @ L.T, atol=1e-10)
    # communalities preserved and criterion does not decrease
    assert_allclose((L_rot**2).sum(1), (L**2).sum(1), atol=1e-10)
    assert _criterion(L_rot) >= _criterion(L) - 1e-12
    assert _criterion(L_rot) > _criterion(L) + 1e-3  # unrotated PCs mix the blocks


def _rotator(normalize: bool):
    rotator_mod = pytest.importorskip("factor_analyzer.rotator")
    # tol=0 and many iterations: factor_analyzer's own loop run to convergence
    return rotator_mod.Rotator(method="varimax", normalize=normalize, tol=0, max_iter=200_000)


def _same_columns(ours: np.ndarray, ref: np.ndarray, atol: float) -> None:
    """The same factors up to order and sign."""
    k = ref.shape[1]
    for j in range(k):
        match = [np.allclose(np.abs(ours[:, j]), np.abs(ref[:, c]), atol=atol) for c in range(k)]
        assert sum(match) == 1


def _kaiser_criterion(L: np.ndarray) -> float:
    h = np.sqrt((L**2).sum(1))
    return _criterion(L / h[:, None])


@pytest.mark.parametrize("kaiser", [False, True])
def test_varimax_matches_factor_analyzer(kaiser: bool) -> None:
    X = _blocks((3, 2, 2), noise=0.6, seed=3)
    L = _unrotated(X, 3)
    ref = _rotator(kaiser).fit_transform(L)
    ours = pca(X, kaiser_normalisation=kaiser).loadings
    assert pca(X, kaiser_normalisation=kaiser).n_factors == 3
    _same_columns(ours, ref, atol=1e-7)
    crit = _kaiser_criterion if kaiser else _criterion
    assert crit(ours) == pytest.approx(crit(ref), rel=1e-12)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("kaiser", [False, True])
def test_varimax_criterion_matches_factor_analyzer_on_random_loadings(
    seed: int, kaiser: bool
) -> None:
    rng = np.random.default_rng(seed)
    m, k = 6 + seed % 5, 2 + seed % 3
    X = rng.normal(size=(80, m)) @ rng.normal(size=(m, m))
    L = _unrotated(X, k)
    rotated, T, converged = W._varimax(L, kaiser_normalisation=kaiser)
    assert converged
    assert_allclose(T @ T.T, np.eye(k), atol=1e-12)
    assert_allclose(rotated, L @ T, atol=1e-12)
    ref = _rotator(kaiser).fit_transform(L)
    crit = _kaiser_criterion if kaiser else _criterion
    assert crit(rotated) == pytest.approx(crit(ref), rel=1e-10)
    _same_columns(rotated, ref, atol=1e-6)


def _best_over_angles(L: np.ndarray) -> float:
    """The largest varimax criterion over every rotation of two factors (brute force, then a
    bounded scalar search around the best grid angle)."""
    from scipy.optimize import minimize_scalar

    def crit(phi: float) -> float:
        c, s = np.cos(phi), np.sin(phi)
        return _criterion(L @ np.array([[c, -s], [s, c]]))

    grid = np.linspace(0.0, np.pi / 2, 20_001)
    best = grid[int(np.argmax([crit(p) for p in grid]))]
    step = grid[1] - grid[0]
    res = minimize_scalar(
        lambda p: -crit(p),
        bounds=(best - step, best + step),
        method="bounded",
        options={"xatol": 1e-12},
    )
    return max(-res.fun, crit(best))


def test_varimax_converges_where_a_fixed_number_of_steps_stops_short() -> None:
    # Two factors whose unrotated loadings sit near a saddle of the criterion: the SVD iteration
    # crawls (factor_analyzer's default 500 steps stop at 0.2568); the optimum is 0.3072.
    rng = np.random.default_rng(24)
    X = rng.normal(size=(60, 3)) @ rng.normal(size=(3, 3))
    res = pca(X, eigen_threshold=0.5, min_cumulative=0.9)
    assert res.n_factors == 2
    best = _best_over_angles(_unrotated(X, 2))
    assert best == pytest.approx(0.307201, abs=1e-6)
    assert _criterion(res.loadings) == pytest.approx(best, rel=1e-10)
    assert res.criterion == pytest.approx(best, rel=1e-10)
    assert res.criterion == pytest.approx(
        _criterion(_rotator(False).fit_transform(_unrotated(X, 2))), rel=1e-10
    )
    assert res.note == ""


def test_pca_default_keeps_every_factor_passing_kaiser_and_ten_percent() -> None:
    # Blocks of 4, 3, 2 columns: eigenvalues ~4, ~3, ~2, all > 1 and > 10% of 9.
    X = _blocks((4, 3, 2), noise=0.3, seed=21)
    ev = np.sort(np.linalg.eigvalsh(np.corrcoef(X.T)))[::-1]
    share = ev / ev.sum()
    assert ev[2] > 1 and share[2] > 0.10 and ev[3] < 1
    assert share[0] < 0.60 < share[0] + share[1]
    res = pca(X)
    assert res.retain == "kaiser+10%"
    assert res.n_factors == 3  # the third factor passes both tests: kept
    assert res.note == ""
    assert pca(X, retain="kaiser+10%").n_factors == 3
    # the other reading: stop at the first factor that takes the cumulative share past 60 %
    assert pca(X, retain="cumulative-60%").n_factors == 2
    assert pca(X, retain="cumulative-60%", min_cumulative=0.99).n_factors == 3
    assert pca(X, retain="cumulative-60%", min_cumulative=0.3).n_factors == 1
    # the rule counts the factors independently computed from the eigenvalues
    for threshold, share_min in ((1.0, 0.10), (2.5, 0.10), (1.0, 0.30)):
        expected = int(np.sum((ev > threshold) & (share >= share_min)))
        assert pca(X, eigen_threshold=threshold, min_share=share_min).n_factors == max(expected, 1)


def test_pca_says_when_the_kept_factors_explain_less_than_the_target() -> None:
    # one block of 3 and 9 noise columns: one factor with ~3/12 of the variance; the noise
    # factors' eigenvalues (~1.1) pass Kaiser's test but not the 10 % one
    rng = np.random.default_rng(4)
    f = rng.normal(size=(2000, 1))
    X = np.hstack([f + 0.3 * rng.normal(size=(2000, 3)), rng.normal(size=(2000, 9))])
    ev = np.sort(np.linalg.eigvalsh(np.corrcoef(X.T)))[::-1]
    kept = ev[(ev > 1) & (ev / 12 >= 0.10)]
    assert len(kept) == 1 and ev[1] > 1
    res = pca(X)
    assert res.n_factors == 1
    assert (
        f"1 kept factor explains {100 * kept.sum() / 12:.1f}% of the variance, less than 60%"
        in (res.note)
    )
    assert "less than 99%" in pca(X, retain="cumulative-60%", min_cumulative=0.99).note


def test_pca_retain_must_be_a_known_rule() -> None:
    with pytest.raises(ValueError, match="kaiser\\+10%, cumulative-60%"):
        pca(_blocks((3, 3)), retain="scree")


def test_pca_fallback_to_first_factor() -> None:
    X = _blocks((3, 3))
    res = pca(X, eigen_threshold=10.0)
    assert res.n_factors == 1
    assert "fell back" in res.note
    assert_allclose(np.abs(res.loadings[:, 0]), np.abs(_unrotated(X, 1)[:, 0]), atol=1e-10)
    L2 = res.loadings[:, 0] ** 2
    assert_allclose(res.weights, L2 / L2.sum(), rtol=1e-12)
    assert_allclose(res.explained_share, [1.0])


def test_pca_constant_column_rejected() -> None:
    X = _blocks((3, 3))
    X[:, 4] = 1.0
    with pytest.raises(ValueError, match="column 4"):
        pca(X)
    X[:, 1] = np.float64(0.5)
    with pytest.raises(ValueError) as caught:
        pca(X)
    message = str(caught.value)  # every constant column, each with its plain value
    assert "column 1 = 0.5, column 4 = 1 in every row" in message and "np.float64" not in message


# --------------------------------------------------------------------------------------
# Benefit of the Doubt
# --------------------------------------------------------------------------------------


def _lp_bod(x: np.ndarray, ref: np.ndarray, lower: float, upper: float) -> float:
    """Independent per-unit BoD linear programme (all constraints written out)."""
    m = x.size
    A = [ref]
    b = [np.ones(ref.shape[0])]
    for k in range(m):
        e = np.zeros(m)
        e[k] = 1.0
        A.append((lower * np.ones(m) - e)[None, :])  # lower * sum(w) <= w_k
        A.append((e - upper * np.ones(m))[None, :])  # w_k <= upper * sum(w)
        b += [np.zeros(1), np.zeros(1)]
    res = linprog(
        -x, A_ub=np.vstack(A), b_ub=np.concatenate(b), bounds=[(0, None)] * m, method="highs"
    )
    assert res.status == 0, res.message
    return -res.fun


def _check_share_bounds(w: np.ndarray, lower: float, upper: float) -> None:
    s = w.sum(axis=1, keepdims=True)
    assert np.all(w >= -1e-12)
    assert np.all(w >= lower * s - 1e-9)
    assert np.all(w <= upper * s + 1e-9)


BOUNDS = [(0.0, 1.0), (0.05, 0.7), (0.1, 0.5), (0.0, 0.6)]


@pytest.mark.parametrize("m", [2, 3, 4, 5])
@pytest.mark.parametrize(("lower", "upper"), BOUNDS)
def test_bod_matches_per_unit_linprog(m: int, lower: float, upper: float) -> None:
    rng = np.random.default_rng(1000 * m + int(100 * lower) + int(10 * upper))
    X = rng.uniform(0, 1, size=(25, m))
    res = bod(X, lower=lower, upper=upper)
    assert isinstance(res, BoDResult)
    assert res.note == ""
    truth = np.array([_lp_bod(x, X, lower, upper) for x in X])
    assert_allclose(res.scores, truth, rtol=0, atol=1e-7)
    assert_allclose((res.weights * X).sum(1), truth, rtol=0, atol=1e-7)  # objective value
    assert np.all(res.scores <= 1 + 1e-9)
    assert res.scores.max() == pytest.approx(1.0, abs=1e-9)
    _check_share_bounds(res.weights, lower, upper)
    s, w = bod_score(X, res.vertices)
    assert_allclose(s, res.scores, rtol=0, atol=1e-12)
    assert_allclose(w, res.weights, rtol=0, atol=1e-12)
    assert np.all(res.vertices @ X.T <= 1 + 1e-9)  # every vertex is feasible


def test_bod_single_indicator() -> None:
    X = np.array([[1.0], [4.0], [2.0]])
    res = bod(X)
    assert_allclose(res.scores, [0.25, 1.0, 0.5], rtol=1e-12)
    assert_allclose(res.weights[:, 0], 0.25)


def test_bod_with_reference_scores_new_units() -> None:
    rng = np.random.default_rng(42)
    ref = rng.uniform(0, 1, size=(20, 3))
    X = rng.uniform(0, 1.2, size=(15, 3))
    res = bod(X, lower=0.1, upper=0.6, reference=ref)
    truth = np.array([_lp_bod(x, ref, 0.1, 0.6) for x in X])
    assert_allclose(res.scores, truth, rtol=0, atol=1e-7)
    assert res.scores.max() > 1  # some new units lie beyond the reference frontier
    # fitted-model path: vertices fitted on ref alone score the same units identically
    fitted = bod(ref, lower=0.1, upper=0.6)
    s, _ = bod_score(X, fitted.vertices)
    assert_allclose(s, truth, rtol=0, atol=1e-7)


@pytest.mark.parametrize(("lower", "upper"), [(0.0, 1.0), (0.0, 0.6), (0.1, 0.8), (0.0, 0.4)])
def test_bod_all_zero_column(lower: float, upper: float) -> None:
    rng = np.random.default_rng(8)
    X = rng.uniform(0, 1, size=(20, 3))
    X[:, 1] = 0.0
    X[3] = 0.0  # an all-zero unit (and reference row) too
    res = bod(X, lower=lower, upper=upper)
    truth = np.array([_lp_bod(x, X, lower, upper) for x in X])
    assert_allclose(res.scores, truth, rtol=0, atol=1e-7)
    assert res.scores[3] == 0.0
    _check_share_bounds(res.weights, lower, upper)
    assert np.all(res.vertices @ X.T <= 1 + 1e-9)
    if upper == 1.0 and lower == 0.0:
        assert np.all(res.weights[:, 1] == 0.0)


def test_bod_unbounded_score_raises() -> None:
    ref = np.array([[1.0, 0.0], [0.5, 0.0]])
    with pytest.raises(ValueError, match="column 1"):
        bod([[0.5, 0.2]], reference=ref)
    # with lower > 0 the zero column's weight is bounded through the share constraint
    res = bod([[0.5, 0.2]], lower=0.2, reference=ref)
    assert res.scores[0] == pytest.approx(_lp_bod(np.array([0.5, 0.2]), ref, 0.2, 1.0), abs=1e-7)


def test_bod_equal_share_pinned() -> None:
    X = np.random.default_rng(3).uniform(0.1, 1, size=(10, 4))
    res = bod(X, lower=0.25, upper=0.25)
    means = X.mean(1)
    assert_allclose(res.scores, means / means.max(), rtol=1e-12)
    assert_allclose(res.weights, np.full((10, 4), 0.25 / means.max()), rtol=1e-12)


def test_bod_fallback_per_unit_lp(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("simulated Qhull failure")

    import scipy.spatial  # dmi.scoring.weighting imports it when a vertex enumeration needs it

    monkeypatch.setattr(scipy.spatial, "HalfspaceIntersection", broken)
    rng = np.random.default_rng(77)
    X = rng.uniform(0, 1, size=(12, 3))
    res = bod(X, lower=0.05, upper=0.8)
    assert "LP per unit" in res.note
    truth = np.array([_lp_bod(x, X, 0.05, 0.8) for x in X])
    assert_allclose(res.scores, truth, rtol=0, atol=1e-7)
    s, _ = bod_score(X, res.vertices)
    assert_allclose(s, res.scores, rtol=0, atol=1e-12)
    _check_share_bounds(res.weights, 0.05, 0.8)


@pytest.mark.parametrize(("lower", "upper"), [(0.0, 1.0), (0.05, 0.4)])
def test_bod_high_dimension_lp_path_and_method_agreement(lower: float, upper: float) -> None:
    rng = np.random.default_rng(99)
    m = W.BOD_VERTEX_MAX_DIM + 1
    X = rng.uniform(0, 1, size=(18, m))
    X = np.vstack([X, 0.5 * X[:3]])  # dominated rows: pruned from the reference
    auto = bod(X, lower=lower, upper=upper)
    assert "LP per unit" in auto.note
    truth = np.array([_lp_bod(x, X, lower, upper) for x in X])
    assert_allclose(auto.scores, truth, rtol=0, atol=1e-7)
    _check_share_bounds(auto.weights, lower, upper)
    assert np.all(auto.vertices @ X.T <= 1 + 1e-8)
    s, _ = bod_score(X, auto.vertices)
    assert_allclose(s, auto.scores, rtol=0, atol=1e-12)
    exact = bod(X, lower=lower, upper=upper, method="vertices")
    assert exact.note == ""
    assert_allclose(exact.scores, truth, rtol=0, atol=1e-7)
    # the exact vertex set scores new data at least as high as the LP-path vectors
    Y = rng.uniform(0, 1.1, size=(30, m))
    s_exact, _ = bod_score(Y, exact.vertices)
    s_lp, _ = bod_score(Y, auto.vertices)
    assert np.all(s_exact >= s_lp - 1e-9)
    assert_allclose(s_exact, [_lp_bod(y, X, lower, upper) for y in Y], rtol=0, atol=1e-7)


def test_bod_method_lp_matches_vertices_low_dimension() -> None:
    X = np.random.default_rng(5).uniform(0, 1, size=(30, 3))
    a = bod(X, lower=0.1, upper=0.6, method="lp")
    b = bod(X, lower=0.1, upper=0.6)
    assert "method='lp'" in a.note and b.note == ""
    assert_allclose(a.scores, b.scores, rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"lower": 0.5}, "lower"),  # 0.5 > 1/3
        ({"upper": 0.2}, "upper"),  # 0.2 < 1/3
        ({"lower": -0.1}, "lower"),
        ({"reference": np.zeros((3, 3))}, "non-zero"),
        ({"reference": np.ones((3, 2))}, "columns"),
        ({"method": "simplex"}, "method"),
    ],
)
def test_bod_validation(kwargs, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        bod(np.ones((4, 3)), **kwargs)


def test_bod_negative_rejected() -> None:
    with pytest.raises(ValueError, match="column 0"):
        bod([[-1.0, 2.0], [1.0, 1.0]])


def test_bod_score_shape_mismatch() -> None:
    with pytest.raises(ValueError, match="columns"):
        bod_score(np.ones((2, 3)), np.ones((4, 2)))


def test_bod_vertices_are_exact_polytope_vertices_small_case() -> None:
    # m = 2, no share bounds, reference {(1, 0.2), (0.2, 1), (0.6, 0.6)}:
    # feasible set {w >= 0, w.x_r <= 1}; vertices found by intersecting constraint pairs.
    ref = np.array([[1.0, 0.2], [0.2, 1.0], [0.6, 0.6]])
    lines = [(np.array([1.0, 0.0]), 0.0), (np.array([0.0, 1.0]), 0.0)]
    lines += [(r, 1.0) for r in ref]
    expected = []
    for (a1, b1), (a2, b2) in itertools.combinations(lines, 2):
        M = np.vstack([a1, a2])
        if abs(np.linalg.det(M)) < 1e-12:
            continue
        p = np.linalg.solve(M, [b1, b2])
        if np.all(p >= -1e-12) and np.all(ref @ p <= 1 + 1e-12):
            expected.append(p)
    expected = np.unique(np.round(expected, 12), axis=0)
    got = np.unique(np.round(bod(ref).vertices, 9), axis=0)
    assert_allclose(got, np.round(expected, 9), atol=1e-9)
