"""Uncertainty and sensitivity: Sobol' indices of the Ishigami function against SALib and the
closed form; the rank interval always holds the nominal rank; one seed, the same numbers; the
shares of runs that change a band, worked out independently; alternatives that cannot run."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dmi.analysis import NotComputable, Population, sobol_indices, uncertainty
from dmi.analysis.schemes import Scheme
from dmi.instruments.synth import synthesise
from dmi.scoring import IndexModel

SALib = pytest.importorskip("SALib")

A, B = 7.0, 0.1


def ishigami(X: np.ndarray) -> np.ndarray:
    return np.sin(X[:, 0]) + A * np.sin(X[:, 1]) ** 2 + B * X[:, 2] ** 4 * np.sin(X[:, 0])


ISHIGAMI = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}


def ishigami_closed_form():
    """Variance decomposition of the Ishigami function (Ishigami and Homma 1990)."""
    v1 = 0.5 * (1 + B * np.pi**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * np.pi**8 * (1 / 18 - 1 / 50)
    total = v1 + v2 + v13
    return {
        "S1": [v1 / total, v2 / total, 0.0],
        "ST": [(v1 + v13) / total, v2 / total, v13 / total],
    }


def test_ishigami_indices_match_salib_and_the_closed_form():
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    ours = sobol_indices(ishigami, ISHIGAMI, runs=5 * 4096, seed=7)
    X = sample.sample(ISHIGAMI, 4096, calc_second_order=False, scramble=True, seed=7)
    theirs = analyze.analyze(ISHIGAMI, ishigami(X), calc_second_order=False, seed=7)
    np.testing.assert_allclose(ours["S1"], theirs["S1"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["ST"], theirs["ST"], rtol=0, atol=1e-12)
    truth = ishigami_closed_form()
    np.testing.assert_allclose(ours["S1"], truth["S1"], atol=0.03)
    np.testing.assert_allclose(ours["ST"], truth["ST"], atol=0.03)
    assert list(ours["input"]) == ["x1", "x2", "x3"]


@pytest.fixture(scope="module")
def population(miit):
    return Population.from_answers(miit, synthesise(miit, 150, 77))


@pytest.mark.parametrize("seed", [0, 5])
def test_one_seed_gives_the_same_numbers(population, seed):
    first = uncertainty(population, runs=40, seed=seed)
    np.random.seed(seed + 1)  # noqa: NPY002 (numpy's global state must play no part)
    again = uncertainty(population, runs=40, seed=seed)
    pd.testing.assert_frame_equal(first.companies, again.companies)
    pd.testing.assert_frame_equal(first.sensitivity, again.sensitivity)
    pd.testing.assert_frame_equal(first.runs, again.runs)
    other = uncertainty(population, runs=40, seed=seed + 1)
    assert not first.runs["mean_abs_shift"].equals(other.runs["mean_abs_shift"])


def test_design_size_inputs_and_exclusion_rules(population):
    result = uncertainty(population, runs=100, seed=1)
    groups = list(result.sensitivity["input"])
    assert groups == ["normalisation", "weighting", "aggregation", "weights"]
    assert result.n_runs == result.base_size * (len(groups) + 2) >= 100
    assert result.base_size & (result.base_size - 1) == 0  # a power of two
    runs = result.runs
    assert len(runs) == result.n_runs
    assert not ((runs["aggregation"] == "geometric") & (runs["normalisation"] == "zscore")).any()
    assert (runs.loc[runs["weighting"] == "bod", "aggregation"] == "arithmetic").all()
    assert sum(result.rules.values()) == int((runs["rule"] != "").sum())


def _check_intervals(companies: pd.DataFrame) -> None:
    assert (companies["rank_low"] <= companies["rank_nominal"]).all()
    assert (companies["rank_nominal"] <= companies["rank_high"]).all()
    assert (companies["rank_p05"] <= companies["rank_median"] + 1e-9).all()
    assert (companies["rank_median"] <= companies["rank_p95"] + 1e-9).all()
    assert (companies["dmi_p05"] <= companies["dmi_median"] + 1e-4).all()
    assert (companies["dmi_median"] <= companies["dmi_p95"] + 1e-4).all()
    outside = (companies["rank_nominal"] < companies["rank_p05"]) | (
        companies["rank_nominal"] > companies["rank_p95"]
    )
    assert (companies["nominal_outside"] == outside).all()
    assert companies["share_band_changed"].between(0, 1).all()


@settings(max_examples=8)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(5, 60),
    weightings=st.sets(st.sampled_from(["instrument", "equal", "entropy", "critic"]), min_size=1),
    perturbation=st.sampled_from([0.0, 0.1, 0.5]),
)
def test_the_rank_interval_always_holds_the_nominal_rank(miit, seed, n, weightings, perturbation):
    population = Population.from_answers(miit, synthesise(miit, n, seed))
    if len(weightings) == 1 and perturbation == 0:
        perturbation = 0.2  # something must be uncertain
    result = uncertainty(
        population,
        runs=24,
        seed=seed,
        weightings=sorted(weightings),
        aggregations=["arithmetic", "geometric"],
        normalisations=["goalposts", "percentile"],
        perturbation=perturbation,
    )
    _check_intervals(result.companies)


def test_shares_of_band_changes_worked_out_from_index_models(miit, population):
    """Two schemes, no perturbation: a run is either the instrument's own (no change) or equal
    weights; a company's share of runs with a changed band is the share of equal-weight runs if
    its band differs under equal weights, else 0."""
    result = uncertainty(
        population,
        runs=16,
        seed=3,
        normalisations=["goalposts"],
        weightings=["instrument", "equal"],
        aggregations=["arithmetic"],
        perturbation=0.0,
    )
    data = synthesise(miit, 150, 77)
    official = IndexModel(miit).fit().score(data)
    equal = IndexModel(miit, weighting="equal").fit().score(data)
    share_equal = (result.runs["weighting"] == "equal").mean()
    assert 0 < share_equal < 1
    expected = np.where(equal["indicative_level"] != official["level"], share_equal, 0.0)
    np.testing.assert_allclose(result.companies["share_band_changed"], expected)
    np.testing.assert_allclose(result.companies["dmi_nominal"], official["dmi"], atol=1e-9)
    assert result.band_name == "level"
    # the instrument's runs shift no rank
    assert (result.runs.loc[result.runs["weighting"] == "instrument", "mean_abs_shift"] == 0).all()


def test_tiers_per_run_from_the_tier_model(miit, population):
    from dmi.tiers import load_shipped_tier_model

    tier_model = load_shipped_tier_model(miit)
    result = uncertainty(
        population,
        runs=16,
        seed=2,
        normalisations=["goalposts", "minmax"],
        weightings=["instrument"],
        aggregations=["arithmetic"],
        perturbation=0.0,
        tier_model=tier_model,
    )
    data = synthesise(miit, 150, 77)
    official = IndexModel(miit).fit().score(data)
    np.testing.assert_array_equal(result.companies["tier_nominal"], tier_model.predict(official))
    minmax = IndexModel(miit, normalisation="minmax").fit(data)  # the companies are the reference
    tiers_minmax = tier_model.predict(minmax.score(data))
    share = (result.runs["normalisation"] == "minmax").mean()
    expected = np.where(tiers_minmax != tier_model.predict(official), share, 0.0)
    np.testing.assert_allclose(result.companies["share_tier_changed"], expected)


def test_alternatives_that_cannot_run_are_reported(population):
    result = uncertainty(
        population,
        runs=20,
        seed=0,
        normalisations=["zscore"],
        weightings=["instrument", "ahp", "equal"],
        aggregations=["arithmetic", "geometric"],
    )
    assert set(result.not_run) == {"weighting ahp", "aggregation geometric"}
    assert "judgement" in result.not_run["weighting ahp"]
    assert result.inputs["weighting"] == ["instrument", "equal"]
    assert set(result.runs["aggregation"]) == {"arithmetic"}


def test_nothing_uncertain_or_a_broken_nominal_is_not_computable(population):
    with pytest.raises(NotComputable, match="nothing is uncertain"):
        uncertainty(
            population,
            normalisations=["goalposts"],
            weightings=["instrument"],
            aggregations=["arithmetic"],
            perturbation=0.0,
        )
    with pytest.raises(NotComputable, match="nominal method"):
        uncertainty(population, nominal=Scheme("ahp"), runs=10)


@pytest.mark.parametrize(("seed", "n"), [(1, 120), (4, 37), (9, 200)])
def test_percentiles_are_of_the_values_run_exactly(miit, seed, n):
    """Two schemes and nothing else uncertain: every run's index is one of two known values, so
    the 5th and 95th percentiles are exactly the lower and the higher (stored in float32 they
    were off by up to 3.5e-6, outside the values run)."""
    from dmi.analysis import Kernel
    from dmi.analysis.schemes import rank_desc

    population = Population.from_answers(miit, synthesise(miit, n, seed))
    result = uncertainty(
        population,
        normalisations=("goalposts",),
        weightings=("instrument", "equal"),
        aggregations=("arithmetic",),
        perturbation=0.0,
        runs=64,
        seed=seed,
    )
    counts = result.runs["weighting"].value_counts()
    assert counts.min() > 0.05 * result.n_runs  # both schemes beyond the 5th percentile
    kernel = Kernel.from_populations(population, "indicator")
    values = np.column_stack(
        [
            kernel.evaluate("goalposts", "arithmetic", kernel.weights(w)[0])[1][:, 0]
            for w in ("instrument", "equal")
        ]
    )
    ranks = np.column_stack([rank_desc(values[:, 0]), rank_desc(values[:, 1])])
    c = result.companies
    np.testing.assert_array_equal(c["dmi_p05"], values.min(axis=1))
    np.testing.assert_array_equal(c["dmi_p95"], values.max(axis=1))
    assert ((c["dmi_median"] >= values.min(axis=1)) & (c["dmi_median"] <= values.max(axis=1))).all()
    np.testing.assert_array_equal(c["rank_p05"], ranks.min(axis=1))
    np.testing.assert_array_equal(c["rank_p95"], ranks.max(axis=1))


def test_ranks_are_stored_in_a_type_that_holds_them_exactly():
    from dmi.analysis.uncertainty import _rank_dtype

    for n in (1, 10_000, 2**23 - 1, 2**23, 10**8):
        dtype = _rank_dtype(n)
        halves = np.array([n - 0.5, n - 1.5, n], dtype=np.float64)
        np.testing.assert_array_equal(halves.astype(dtype).astype(np.float64), halves)
    assert _rank_dtype(10_000) == np.float32 and _rank_dtype(2**23) == np.float64


# -- Sobol' indices that are not defined, or not stable -------------------------------------------


def _eurostat_population(seed: int) -> Population:
    import dmi

    instrument = dmi.load_instrument("eurostat-dii-2023")
    return Population.from_answers(instrument, synthesise(instrument, 120, seed))


@pytest.mark.parametrize("seed", [1, 2])
def test_indices_of_an_output_that_never_varies_are_not_defined(miit, seed):
    # one indicator: no normalisation, weighting, aggregation or weight changes the ranking
    result = uncertainty(_eurostat_population(seed), runs=64, seed=seed)
    assert (result.runs["mean_abs_shift"] == 0).all()
    s = result.sensitivity
    assert s[["S1", "S1_conf", "ST", "ST_conf"]].isna().all().all()
    assert [n.key for n in result.notes] == ["sobol_undefined"]
    assert "not defined" in result.notes[0]
    assert "无定义" in result.notes[0].render("zh")
    # identical companies: every rank ties in every run, the same
    same = synthesise(miit, 1, seed)
    tied = pd.concat([same] * 6, ignore_index=True).assign(
        respondent_id=[f"r{i}" for i in range(6)]
    )
    result = uncertainty(
        Population.from_answers(miit, tied), weightings=("instrument", "equal"), runs=40, seed=seed
    )
    assert result.sensitivity[["S1", "ST"]].isna().all().all()
    assert [n.key for n in result.notes] == ["sobol_undefined"]


def test_sobol_indices_of_a_constant_function_are_not_defined():
    table = sobol_indices(lambda X: np.full(len(X), 3.0), ISHIGAMI, runs=500, seed=1)
    assert table[["S1", "S1_conf", "ST", "ST_conf"]].isna().all().all()


@pytest.mark.parametrize("runs", [1, 12, 100])
def test_a_design_too_small_for_stable_indices_says_so(population, runs):
    result = uncertainty(population, runs=runs, seed=0)
    assert result.base_size < 64
    keys = [n.key for n in result.notes]
    assert "sobol_small_design" in keys
    note = result.notes[keys.index("sobol_small_design")]
    assert f"N = {result.base_size}" in note and "64" in note
    assert "设计太小" in note.render("zh")


def test_an_index_outside_0_1_beyond_its_interval_is_noted(miit):
    # the review's case: 120 companies, --runs 1 (12 runs): weighting's S1 came out as 2.39
    population = Population.from_answers(miit, synthesise(miit, 120, 0))
    result = uncertainty(population, runs=1, seed=0)
    s = result.sensitivity.set_index("input")
    beyond = [
        (name, index)
        for name in s.index
        for index in ("S1", "ST")
        if s.loc[name, index] - s.loc[name, f"{index}_conf"] > 1
        or s.loc[name, index] + s.loc[name, f"{index}_conf"] < 0
    ]
    assert beyond  # the case this test is about
    notes = {n.key: n for n in result.notes}
    assert "sobol_out_of_range" in notes
    for name, index in beyond:
        assert f"{index} of {name}" in notes["sobol_out_of_range"]


def test_a_design_large_enough_has_no_note(population):
    result = uncertainty(population, runs=400, seed=0)
    assert result.base_size >= 64
    s = result.sensitivity
    inside = ((s["S1"] - s["S1_conf"] <= 1) & (s["S1"] + s["S1_conf"] >= 0)).all() and (
        (s["ST"] - s["ST_conf"] <= 1) & (s["ST"] + s["ST_conf"] >= 0)
    ).all()
    assert inside
    assert result.notes == []


def test_indices_are_not_defined_when_only_the_base_samples_do_not_vary():
    from dmi.analysis.uncertainty import _analyse, sensitivity_notes

    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1]] * 2}
    N = 8
    Y = np.zeros(N * 4)
    Y[1::4] = np.arange(N)  # AB_a varies, A and B do not
    table = _analyse(problem, Y, 0, 10)
    assert table[["S1", "ST"]].isna().all().all()
    notes = sensitivity_notes(table, Y, N, len(Y))
    assert [n.key for n in notes] == ["sobol_undefined_base"] and "16 runs" in notes[0]


# -- the runs' memory: estimated before anything is allocated --------------------------------------


def test_runs_that_would_not_fit_in_memory_are_refused_before_they_start(population, monkeypatch):
    # a million runs over 10,000 companies needed ~120 GB and died with MemoryError after the
    # other parts had run; now the estimate is checked first and the message says what to do
    from dmi.errors import ParameterError

    module = importlib.import_module("dmi.analysis.uncertainty")

    n = population.n
    small = uncertainty(population, runs=64, seed=1, weightings=("instrument", "equal"))
    need = module.runs_memory(n, small.n_runs, inputs=len(small.runs.columns))
    assert need >= small.n_runs * n * (8 + 4)
    monkeypatch.setattr(module, "memory_limit", lambda: (need - 1, "a test limit"))
    allocated = []
    monkeypatch.setattr(module, "_allocate_runs", lambda *a: allocated.append(a))
    with pytest.raises(ParameterError) as caught:
        uncertainty(population, runs=64, seed=1, weightings=("instrument", "equal"))
    assert not allocated
    message = str(caught.value)
    assert caught.value.parameter == "runs"
    for words in (f"{small.n_runs} runs", "64 requested", f"{n} companies", "a test limit"):
        assert words in message, (words, message)
    assert "--runs" in message and "uncertainty.runs" in message and "fewer companies" in message
    assert "at most" in message
    # the runs it says fit do fit
    fits = int(message.split("at most ")[1].split(" ")[0].replace(",", ""))
    monkeypatch.undo()
    monkeypatch.setattr(module, "memory_limit", lambda: (need - 1, "a test limit"))
    result = uncertainty(population, runs=fits, seed=1, weightings=("instrument", "equal"))
    assert 0 < result.n_runs < small.n_runs


@pytest.mark.parametrize("n,runs", [(10_000, 1_000_000), (10_000, 1_536), (2**24, 10)])
def test_the_runs_memory_estimate_counts_indices_and_ranks(n, runs):
    from dmi.analysis.uncertainty import _rank_dtype, runs_memory

    rank_bytes = np.dtype(_rank_dtype(n)).itemsize
    need = runs_memory(n, runs, inputs=4)
    assert n * runs * (8 + rank_bytes) <= need <= 1.05 * n * runs * (8 + rank_bytes) + 2**20
    if (n, runs) == (10_000, 1_000_000):
        assert need > 100e9  # the ~120 GB that died with MemoryError


def test_the_memory_limit_is_half_the_machine_s_memory():
    from dmi.analysis.uncertainty import RUNS_MEMORY_SHARE, memory_limit

    limit, what = memory_limit()
    assert RUNS_MEMORY_SHARE == 0.5 and limit > 0 and what


def test_analyse_refuses_runs_beyond_memory_with_exit_2(miit, tmp_path, capsys, monkeypatch):
    from dmi.cli.main import main

    module = importlib.import_module("dmi.analysis.uncertainty")

    path = tmp_path / "a.csv"
    synthesise(miit, 50, 2).to_csv(path, index=False)
    monkeypatch.setattr(module, "memory_limit", lambda: (10**6, "1 MB (a test limit)"))
    code = main(["analyse", str(path), "-o", str(tmp_path / "r.html"), "--runs", "5000"])
    _, err = capsys.readouterr()
    assert code == 2, err
    assert err.startswith("dmi: error: ") and err.count("\n") == 1
    assert "50 companies" in err and "5000 requested" in err and "--runs" in err
    assert not (tmp_path / "r.html").exists()
