"""Uncertainty and sensitivity analysis of the index (OECD/JRC Handbook, step 7; Saisana,
Saltelli and Tarantola 2005).

Every choice of the method that a reasonable researcher could make differently is an uncertain
input: the normalisation, the weighting scheme, the aggregation and the weights themselves (each
node's weight multiplied by a factor drawn in ``1 ± perturbation``). A quasi-random Sobol' design
(Saltelli's scheme, drawn by SALib) samples these inputs; every run scores every company, and the
analysis reports:

- per company: the nominal index and rank (the nominal method), their median and 5th and 95th
  percentiles over the runs, the interval from the lower to the upper of those that always holds
  the nominal rank, and the share of runs in which its (indicative) level and tier differ from
  the nominal ones;
- per uncertain input: first-order and total Sobol' indices (SALib, with bootstrap confidence
  intervals) of the mean absolute shift in rank against the nominal ranking.

Two choices exclude each other, and the design stays complete by a stated rule, applied and
counted in every run: geometric aggregation cannot take z-scores (negative values), so under
geometric aggregation the normalisation input picks among the listed bounded normalisations;
benefit of the doubt is itself a weighted sum with each company's own weights, so under it the
aggregation is arithmetic and the weights are not perturbed. An alternative that cannot run at
all (AHP without judgements, benefit of the doubt beyond six dimensions, PCA on a constant node
...) is left out of the design and reported with the reason.

Runs are scored by :class:`~dmi.analysis.schemes.Kernel`: the normalised node scores are computed
once per normalisation, and a block of runs that share normalisation and aggregation is scored as
matrix products, so a thousand runs over ten thousand companies take seconds.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dmi.analysis.schemes import (
    _BLOCK_CELLS,
    LevelRule,
    MethodSettings,
    Scheme,
    _tiers_of,
    band_names,
    check_tier_model,
    rank_desc,
)
from dmi.analysis.structure import NotComputable, Population
from dmi.analysis.text import Message, join, msg, reason
from dmi.errors import ParameterError, UsageError
from dmi.locales import table as locale_table
from dmi.scoring.aggregate import AGGREGATIONS
from dmi.scoring.model import OFFICIAL_METHOD, WEIGHTINGS
from dmi.scoring.normalise import bounded, canonical_name

__all__ = [
    "DEFAULT_AGGREGATIONS",
    "DEFAULT_NORMALISATIONS",
    "DEFAULT_WEIGHTINGS",
    "MIN_BASE_SIZE",
    "RUNS_MEMORY_FALLBACK",
    "RUNS_MEMORY_SHARE",
    "Uncertainty",
    "check_runs_memory",
    "memory_limit",
    "runs_memory",
    "sobol_indices",
    "uncertainty",
]

DEFAULT_NORMALISATIONS = ("goalposts", "minmax", "zscore", "percentile")
DEFAULT_WEIGHTINGS = ("instrument", "equal", "entropy", "critic", "pca", "bod")
DEFAULT_AGGREGATIONS = AGGREGATIONS
_PERCENTILES = (5.0, 50.0, 95.0)
RULE_GEOMETRIC = "geometric-bounded"
"""A run's rule: geometric aggregation drew its normalisation among the bounded ones."""
RULE_BOD = "bod-own-weights"
"""A run's rule: benefit of the doubt, arithmetic and each company's own weights (nothing
perturbed)."""
MIN_BASE_SIZE = 64
"""The fewest base points ``N`` of a design whose Sobol' indices are reported without a note
that the design is too small for stable indices. The estimators' error and their bootstrap
intervals both rest on the N base points (the intervals resample them); with fewer than 64 an
interval cannot vouch for its estimate (12 runs, N = 2, gave a first-order index of 2.39).
The default 1,000 runs give N = 256 with four inputs."""
_SOBOL_COLUMNS = ["S1", "S1_conf", "ST", "ST_conf"]


def _salib():
    try:
        from SALib.analyze import sobol as analyse
        from SALib.sample import sobol as sample
    except ImportError:  # pragma: no cover - depends on the environment
        raise UsageError(
            'the uncertainty analysis needs SALib: pip install "dmi[analysis]"'
        ) from None
    return sample, analyse


def _base_size(runs: int, groups: int) -> int:
    """The smallest power of two N with N (groups + 2) >= runs (Sobol' points come in powers of
    two; Saltelli's scheme without second-order terms takes N (groups + 2) runs)."""
    n = 2
    while n * (groups + 2) < runs:
        n *= 2
    return n


def sobol_indices(
    function: Callable[[np.ndarray], np.ndarray],
    problem: dict[str, Any],
    *,
    runs: int,
    seed: int,
    num_resamples: int = 100,
) -> pd.DataFrame:
    """First-order and total Sobol' indices of ``function`` over ``problem`` (SALib's format).

    A Sobol' sequence of at least ``runs`` points in Saltelli's scheme (SALib's ``sobol.sample``,
    scrambled with ``seed``), then SALib's estimators (Saltelli 2010 for the first order, Jansen
    1999 for the total) with bootstrap confidence intervals.

    Parameters
    ----------
    function : callable
        Maps a sample, an array of shape (n_samples, n_inputs), to the outputs, shape
        (n_samples,).
    problem : dict
        SALib's problem: ``num_vars``, ``names``, ``bounds`` and optional ``groups``.
    runs : int
        At least this many evaluations of ``function``: the base size is the smallest power of
        two N with N (groups + 2) >= ``runs``.
    seed : int
        Scrambles the sequence and seeds the bootstrap.
    num_resamples : int, default=100
        Bootstrap resamples of the confidence intervals.

    Returns
    -------
    pandas.DataFrame
        ``input, S1, S1_conf, ST, ST_conf`` (one row per group when ``problem`` has groups).
        When the output does not vary over the base points (``A`` and ``B``), the indices are
        not defined (a share of no variance): every value is NaN.
    """
    sample, analyse = _salib()
    groups = problem.get("groups") or problem["names"]
    n_groups = len(dict.fromkeys(groups))
    N = _base_size(runs, n_groups)
    X = sample.sample(problem, N, calc_second_order=False, scramble=True, seed=seed)
    Y = np.asarray(function(X), dtype=float)
    return _analyse(problem, Y, seed, num_resamples)


def _inputs(problem: dict[str, Any]) -> list[str]:
    """The inputs the indices are of: the groups (in order) when ``problem`` has them."""
    return list(dict.fromkeys(problem.get("groups") or problem["names"]))


def _constant(Y: np.ndarray, n_inputs: int) -> bool:
    """Whether the output is the same at every base point (``A`` and ``B`` of Saltelli's
    scheme, whose variance every index is a share of), up to rounding."""
    step = n_inputs + 2
    base = np.r_[Y[0::step], Y[step - 1 :: step]]
    scale = max(1.0, float(np.max(np.abs(base)))) if base.size else 1.0
    return not base.size or float(np.ptp(base)) <= 1e-12 * scale


def _analyse(problem: dict[str, Any], Y: np.ndarray, seed: int, num_resamples: int) -> pd.DataFrame:
    inputs = _inputs(problem)
    if _constant(Y, len(inputs)):  # no variance to share out: the indices are not defined
        table = pd.DataFrame({"input": inputs})
        for column in _SOBOL_COLUMNS:
            table[column] = np.nan
        return table
    _, analyse = _salib()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = analyse.analyze(
            problem,
            Y,
            calc_second_order=False,
            num_resamples=num_resamples,
            conf_level=0.95,
            # a generator, not the number: SALib takes a seed of 0 for "no seed" and would then
            # draw its bootstrap from numpy's global state
            seed=np.random.default_rng(seed),
        )
    total, first = result.to_df()
    table = first.join(total)
    table.index.name = "input"
    return table.reset_index()[["input", *_SOBOL_COLUMNS]]


def sensitivity_notes(
    table: pd.DataFrame, Y: np.ndarray, base_size: int, n_runs: int
) -> list[Message]:
    """What a reader must know before reading Sobol' indices (messages in zh and en).

    - ``sobol_undefined``: the output is the same in every run, so the indices (shares of its
      variance) are not defined; the table holds NaN. ``sobol_undefined_base``: the same in
      every run of the base samples ``A`` and ``B`` (whose variance the indices divide by),
      though other runs differ.
    - ``sobol_small_design``: the design has fewer than :data:`MIN_BASE_SIZE` base points.
    - ``sobol_out_of_range``: an index lies outside [0, 1] by more than its 95 % interval
      (``S - conf > 1`` or ``S + conf < 0``), which no share of variance can: the estimate is
      noise, the design too small for these data.

    Parameters
    ----------
    table : pandas.DataFrame
        ``input, S1, S1_conf, ST, ST_conf`` (:func:`sobol_indices`).
    Y : ndarray of shape (n_runs,)
        The output of every run.
    base_size, n_runs : int
        The design's base points ``N`` and runs.
    """
    if table[_SOBOL_COLUMNS].isna().all().all():
        value = f"{float(Y[0]):.4g}" if len(Y) else "—"
        if len(Y) and float(np.ptp(Y)) == 0:
            return [msg("sobol_undefined", value=value, runs=n_runs)]
        # the base samples A and B alone do not vary (other runs do): as undefined, and the
        # design too small to say what varies it
        return [msg("sobol_undefined_base", value=value, base=2 * base_size)]
    notes: list[Message] = []
    if base_size < MIN_BASE_SIZE:
        notes.append(
            msg(
                "sobol_small_design",
                runs=n_runs,
                n=base_size,
                min=MIN_BASE_SIZE,
                min_runs=MIN_BASE_SIZE * (n_runs // base_size),
            )
        )
    beyond = []
    for row in table.itertuples(index=False):
        for index in ("S1", "ST"):
            value, conf = getattr(row, index), getattr(row, f"{index}_conf")
            if value - conf > 1 or value + conf < 0:
                beyond.append(
                    msg(
                        "sobol_estimate",
                        index=index,
                        input=msg(f"input_{row.input}")
                        if f"analysis.input_{row.input}" in locale_table()
                        else row.input,
                        value=f"{value:.3g}",
                        conf=f"{conf:.3g}",
                    )
                )
    if beyond:
        notes.append(msg("sobol_out_of_range", estimates=join(beyond)))
    return notes


@dataclass
class Uncertainty:
    """The result of :func:`uncertainty`.

    Attributes
    ----------
    companies : pandas.DataFrame
        One row per company: ``respondent_id``, ``dmi_nominal``, ``dmi_median``, ``dmi_p05``,
        ``dmi_p95``, ``rank_nominal``, ``rank_median``, ``rank_p05``, ``rank_p95`` (rank 1 =
        highest index; ties at 9 decimals share the average rank), ``rank_low``, ``rank_high``
        (the 5-95 % interval widened to the nominal rank where that lies outside it, so that it
        always holds it), ``nominal_outside`` (True where it did), ``band_nominal``,
        ``share_band_changed`` and, with a tier model, ``tier_nominal`` and
        ``share_tier_changed``. The band is the official ``level`` when the nominal method is the
        instrument's own and the data are as given (not ``treated``), otherwise indicative (and
        the tier with it); in a run under another method it is always indicative.
    sensitivity : pandas.DataFrame
        ``input, S1, S1_conf, ST, ST_conf``: Sobol' indices of the mean absolute rank shift
        (NaN where they are not defined: a shift that never varies).
    notes : list of Message
        What to know before reading the indices (:func:`sensitivity_notes`): not defined, or a
        design too small for stable indices.
    runs : pandas.DataFrame
        One row per run: ``normalisation, weighting, aggregation, mean_abs_shift, rule`` (the
        exclusion rule the run followed: :data:`RULE_GEOMETRIC`, :data:`RULE_BOD` or empty).
    inputs : dict
        The uncertain inputs and their alternatives (those that ran).
    not_run : dict of str to str
        Alternatives left out, with the reason.
    rules : dict of str to int
        How many runs followed each exclusion rule.
    nominal : str
        The nominal method.
    n_runs, base_size, seed : int
    band_name : str
        ``level`` or ``indicative_level`` (the nominal band's name; the nominal tier is
        ``tier`` or ``indicative_tier`` with it).
    """

    companies: pd.DataFrame
    sensitivity: pd.DataFrame
    runs: pd.DataFrame
    inputs: dict[str, Any]
    not_run: dict[str, str]
    rules: dict[str, int]
    nominal: str
    n_runs: int
    base_size: int
    seed: int
    band_name: str
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[Message] = field(default_factory=list)


def uncertainty(
    population: Population,
    *,
    reference: Population | None = None,
    nodes: np.ndarray | None = None,
    reference_nodes: np.ndarray | None = None,
    level: str = "indicator",
    nominal: Scheme | None = None,
    normalisations: tuple[str, ...] | list[str] = DEFAULT_NORMALISATIONS,
    weightings: tuple[str, ...] | list[str] = DEFAULT_WEIGHTINGS,
    aggregations: tuple[str, ...] | list[str] = DEFAULT_AGGREGATIONS,
    perturbation: float = 0.25,
    runs: int = 1000,
    seed: int = 0,
    tier_model: Any = None,
    settings: MethodSettings | None = None,
    treated: bool = False,
    num_resamples: int = 100,
    **setting: Any,
) -> Uncertainty:
    """Uncertainty and sensitivity of every company's index, rank, level and tier.

    Parameters
    ----------
    population : Population
        The companies analysed.
    reference : Population, optional
        The population the methods are fitted on (default: the companies themselves).
    nodes, reference_nodes : ndarray, optional
        Treated node scores at ``level`` in place of the populations' own.
    level : str, default="indicator"
        The weight level (the nodes whose weights are perturbed).
    nominal : Scheme, optional
        The nominal method (default: the instrument's own).
    normalisations, weightings, aggregations : sequence of str
        The alternatives of each choice.
    perturbation : float, default=0.25
        Each weight is multiplied by a factor in ``[1 - perturbation, 1 + perturbation]``
        (then the weights are rescaled to sum to 1); 0 leaves the weights as the scheme gives
        them.
    runs : int, default=1000
        At least this many runs: the design has ``N (inputs + 2)`` runs, N a power of two.
    seed : int
        Seeds the design and the bootstrap: one seed gives the same numbers.
    tier_model : TierModel, optional
        Assigns each run's tier from its dimension scores.
    settings : MethodSettings, optional
        The method's other settings (AHP judgements of the nodes at ``level`` for ``ahp``, BoD
        bounds, geometric offset, PCA options ...), the same in the nominal run and in every
        other run; default: :class:`~dmi.analysis.schemes.MethodSettings` ().
    treated : bool, default=False
        The scores were changed by a data treatment (outliers treated, answers imputed): the
        nominal band is then indicative even under the instrument's own method
        (:func:`~dmi.analysis.schemes.band_names`).
    num_resamples : int, default=100
        Bootstrap resamples of the Sobol' indices' confidence intervals.
    **setting
        Any of :class:`~dmi.analysis.schemes.MethodSettings`' fields by name
        (``bod_bounds=(0, 0.5)``, ``ahp_matrix=...``), as this function took them before
        ``settings``: they win over ``settings``'.

    Raises
    ------
    NotComputable
        When the nominal method cannot run, or nothing is uncertain.
    """
    sample, _ = _salib()
    instrument = population.instrument
    nominal = nominal or Scheme(**OFFICIAL_METHOD)
    normalisations = [canonical_name(n) for n in dict.fromkeys(normalisations)]
    weightings = list(dict.fromkeys(weightings))
    aggregations = list(dict.fromkeys(aggregations))
    for name, values, allowed in (
        ("weighting", weightings, WEIGHTINGS),
        ("aggregation", aggregations, AGGREGATIONS),
    ):
        unknown = [v for v in values if v not in allowed]
        if unknown or not values:
            raise UsageError(
                f"{name}s: expected one or more of {', '.join(allowed)}, got "
                f"{', '.join(unknown) or 'none'}"
            )
    if not normalisations:
        raise UsageError("normalisations: expected at least one")
    if not 0 <= perturbation < 1:
        raise UsageError(f"perturbation must be in [0, 1), got {perturbation}")
    if runs < 1:
        raise UsageError(f"runs must be at least 1, got {runs}")
    if tier_model is not None:
        check_tier_model(tier_model, instrument)

    data_nodes = population.nodes(level) if nodes is None else nodes
    ref_nodes = reference_nodes
    if ref_nodes is None and reference is not None:
        ref_nodes = reference.nodes(level)
    settings = MethodSettings.of(settings, setting)
    kernel = settings.kernel(instrument, level, data_nodes, ref_nodes)
    dim_kernel = kernel
    if level != "dimension":
        dim_kernel = settings.kernel(
            instrument,
            "dimension",
            population.nodes("dimension"),
            None if reference is None else reference.nodes("dimension"),
        )
    rule = LevelRule(instrument, population.scenario_levels, population.scenario_codes)
    dimension_codes = [d.code for d in instrument.dimensions]
    n = population.n

    def score(normalisation: str, bod: bool, aggregation: str, W: np.ndarray):
        """(dimensions (n, D, R), index (n, R)) of R runs sharing these choices."""
        if bod:  # each company's own weights: every run of the block is the same
            dims, index = dim_kernel.evaluate_bod(normalisation)
            R = W.shape[1] if W.ndim == 2 else 1
            return np.repeat(dims, R, axis=2), np.repeat(index, R, axis=1)
        return kernel.evaluate(normalisation, aggregation, W)

    def base_weights(weighting: str, normalisation: str) -> np.ndarray:
        if weighting == "bod":
            dim_kernel.evaluate_bod(normalisation)  # fits it, or says why it cannot run
            return np.zeros(len(kernel.codes))
        return kernel.weights(weighting, normalisation)[0]

    # the nominal run
    try:
        w_nominal = base_weights(nominal.weighting, nominal.normalisation)
        dims_nominal, index_nominal = score(
            nominal.normalisation, nominal.weighting == "bod", nominal.aggregation, w_nominal
        )
    except NotComputable as exc:
        raise NotComputable(
            msg("nc_nominal_method", method=nominal.name, reason=reason(exc))
        ) from None
    index_nominal = index_nominal[:, 0]
    rank_nominal = rank_desc(index_nominal)
    band_nominal = rule.levels(index_nominal)
    tier_nominal = (
        None
        if tier_model is None
        else _tiers_of(tier_model, dims_nominal[:, :, 0], dimension_codes)
    )

    # which alternatives can run
    not_run: dict[str, str] = {}
    usable_weightings = []
    for weighting in weightings:
        try:
            for normalisation in normalisations:
                base_weights(weighting, normalisation)
            usable_weightings.append(weighting)
        except NotComputable as exc:
            not_run[f"weighting {weighting}"] = reason(exc)
        except ParameterError as exc:  # BoD's bounds: one alternative that cannot run
            if exc.parameter != "bod_bounds":
                raise
            not_run[f"weighting {weighting}"] = reason(exc)
    bounded_normalisations = [n_ for n_ in normalisations if bounded(n_)]
    usable_aggregations = []
    for aggregation in aggregations:
        if aggregation == "geometric" and not bounded_normalisations:
            not_run["aggregation geometric"] = msg("nc_geometric_zscore")
            continue
        usable_aggregations.append(aggregation)
    if not usable_weightings:
        raise NotComputable(msg("nc_no_weighting", reasons=join(not_run.values())))
    if not usable_aggregations:
        raise NotComputable(msg("nc_no_aggregation"))
    perturbed = perturbation > 0 and any(w != "bod" for w in usable_weightings)

    # the design
    names: list[str] = []
    groups: list[str] = []
    for name, options in (
        ("normalisation", normalisations),
        ("weighting", usable_weightings),
        ("aggregation", usable_aggregations),
    ):
        if len(options) > 1:
            names.append(name)
            groups.append(name)
    k = len(kernel.codes)
    if perturbed:
        names += [f"weight {code}" for code in kernel.codes]
        groups += ["weights"] * k
    if not names:
        raise NotComputable(msg("nc_nothing_uncertain"))
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": [[0.0, 1.0]] * len(names),
        "groups": groups,
    }
    n_groups = len(dict.fromkeys(groups))
    N = _base_size(runs, n_groups)
    # refused before anything of the runs' size is drawn or allocated (a million runs over
    # 10,000 companies needed 120 GB and died with MemoryError)
    check_runs_memory(n, N, n_groups, runs, inputs=len(names) + k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X = sample.sample(problem, N, calc_second_order=False, scramble=True, seed=seed)
    n_runs = len(X)
    column = {name: j for j, name in enumerate(names)}

    def pick(row: np.ndarray, name: str, options: list[str]) -> str:
        if name not in column:
            return options[0]
        return options[min(int(row[column[name]] * len(options)), len(options) - 1)]

    plan = []
    rules: Counter[str] = Counter()
    for row in X:
        weighting = pick(row, "weighting", usable_weightings)
        aggregation = pick(row, "aggregation", usable_aggregations)
        options = bounded_normalisations if aggregation == "geometric" else normalisations
        normalisation = pick(row, "normalisation", options)
        note = ""
        if aggregation == "geometric" and options != normalisations:
            note = RULE_GEOMETRIC
        if weighting == "bod":
            if aggregation != "arithmetic" or perturbed:
                note = RULE_BOD
            aggregation = "arithmetic"
        if note:
            rules[note] += 1
        w = base_weights(weighting, normalisation)
        if perturbed and weighting != "bod":
            factors = 1.0 + perturbation * (
                2.0 * row[[column[f"weight {c}"] for c in kernel.codes]] - 1.0
            )
            w = w * factors
            w = w / w.sum() if w.sum() > 0 else w
        plan.append((normalisation, weighting, aggregation, w, note))

    # the runs, in blocks that share normalisation and aggregation. Indices are kept in float64,
    # as computed: their percentiles are then values run (or between two of them), exactly.
    # Ranks are average ranks, multiples of 1/2 up to n: float32 holds them exactly while
    # 2 n < 2^24 (half the memory: 10,000 companies x 1,536 runs take 123 MB of indices and
    # 61 MB of ranks), float64 beyond.
    index_runs, rank_runs = _allocate_runs(n, n_runs)
    shift = np.empty(n_runs)
    band_changed = np.zeros(n, dtype=np.int64)
    tier_changed = np.zeros(n, dtype=np.int64)
    width = max(k, len(dimension_codes), 1)
    block = max(1, _BLOCK_CELLS // max(1, n * width))
    by_key: dict[tuple[str, str, str], list[int]] = {}
    for r, (normalisation, weighting, aggregation, _, _) in enumerate(plan):
        key = (normalisation, "bod" if weighting == "bod" else "weights", aggregation)
        by_key.setdefault(key, []).append(r)
    for (normalisation, kind, aggregation), members in by_key.items():
        for start in range(0, len(members), block):
            cols = members[start : start + block]
            W = np.column_stack([plan[r][3] for r in cols])
            dims, index = score(normalisation, kind == "bod", aggregation, W)
            index_runs[:, cols] = index
            ranks = rank_desc(index)
            rank_runs[:, cols] = ranks
            shift[cols] = np.nanmean(np.abs(ranks - rank_nominal[:, None]), axis=0)
            band_changed += (rule.levels(index) != band_nominal[:, None]).sum(axis=1)
            if tier_model is not None:
                D = dims.shape[1]
                flat = np.moveaxis(dims, 2, 1).reshape(-1, D)
                tiers = _tiers_of(tier_model, flat, dimension_codes).reshape(n, len(cols))
                tier_changed += (tiers != tier_nominal[:, None]).sum(axis=1)

    companies = pd.DataFrame({"respondent_id": population.respondent_id})
    companies["dmi_nominal"] = index_nominal
    for name, matrix in (("dmi", index_runs), ("rank", rank_runs)):
        p05, p50, p95 = _row_percentiles(matrix)
        if name == "rank":
            companies["rank_nominal"] = rank_nominal
        companies[f"{name}_median"] = p50
        companies[f"{name}_p05"] = p05
        companies[f"{name}_p95"] = p95
    companies["rank_low"] = np.minimum(companies["rank_p05"], rank_nominal)
    companies["rank_high"] = np.maximum(companies["rank_p95"], rank_nominal)
    companies["nominal_outside"] = (rank_nominal < companies["rank_p05"]) | (
        rank_nominal > companies["rank_p95"]
    )
    companies["band_nominal"] = band_nominal
    companies["share_band_changed"] = band_changed / n_runs
    if tier_model is not None:
        companies["tier_nominal"] = tier_nominal
        companies["share_tier_changed"] = tier_changed / n_runs

    sensitivity = _analyse(problem, shift, seed, num_resamples)
    runs_table = pd.DataFrame(
        {
            "normalisation": [p[0] for p in plan],
            "weighting": [p[1] for p in plan],
            "aggregation": [p[2] for p in plan],
            "mean_abs_shift": shift,
            "rule": [p[4] for p in plan],
        }
    )
    return Uncertainty(
        companies=companies,
        sensitivity=sensitivity,
        runs=runs_table,
        inputs={
            "normalisation": normalisations,
            "weighting": usable_weightings,
            "aggregation": usable_aggregations,
            "perturbation": perturbation if perturbed else 0.0,
            "level": level,
        },
        not_run=not_run,
        rules=dict(rules),
        nominal=nominal.name,
        n_runs=n_runs,
        base_size=N,
        seed=seed,
        band_name=band_names(nominal, treated=treated)[0],
        settings={"runs_requested": runs, "num_resamples": num_resamples},
        notes=sensitivity_notes(sensitivity, shift, N, n_runs),
    )


RUNS_MEMORY_SHARE = 0.5
"""The share of the machine's physical memory the runs' arrays may take (:func:`memory_limit`)."""
RUNS_MEMORY_FALLBACK = 4 * 2**30
"""The limit where the machine's memory cannot be read: 4 GiB."""


def runs_memory(n: int, n_runs: int, *, inputs: int = 0) -> int:
    """Bytes the runs of an uncertainty analysis hold at once: every company's index in every run
    (float64, 8 bytes) and its rank (float32, 4 bytes, or float64 beyond 2^23 companies:
    :func:`_rank_dtype`), and per run its design point and weights (``inputs`` float64 values).
    The blocks scored at a time and the percentiles' working rows are bounded apart from this
    (:data:`~dmi.analysis.schemes._BLOCK_CELLS` values)."""
    per_company = 8 + np.dtype(_rank_dtype(n)).itemsize
    return int(n_runs) * (int(n) * per_company + 8 * int(inputs))


def memory_limit() -> tuple[int, str]:
    """The most the runs' arrays may take, and how to name it: :data:`RUNS_MEMORY_SHARE` of
    the machine's physical memory, or :data:`RUNS_MEMORY_FALLBACK` where it cannot be read."""
    import os

    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        total = 0
    if total <= 0:
        return RUNS_MEMORY_FALLBACK, f"{_size(RUNS_MEMORY_FALLBACK)} (dmi's limit)"
    limit = int(total * RUNS_MEMORY_SHARE)
    return limit, f"{_size(limit)} (half this machine's {_size(total)} of memory)"


def _size(count: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{int(count)} bytes"


def check_runs_memory(n: int, N: int, groups: int, requested: int, *, inputs: int = 0) -> None:
    """Refuse a design of ``N (groups + 2)`` runs over ``n`` companies whose arrays
    (:func:`runs_memory`) would exceed :func:`memory_limit`.

    Raises
    ------
    ParameterError
        ``parameter="runs"``: the runs (and those requested), the companies, the estimate, the
        limit, and the most runs that fit (or that even the smallest design does not).
    """
    n_runs = N * (groups + 2)
    need = runs_memory(n, n_runs, inputs=inputs)
    limit, what = memory_limit()
    if need <= limit:
        return
    fits = 2  # the smallest design (two base points), then the largest power of two that fits
    while runs_memory(n, 2 * fits * (groups + 2), inputs=inputs) <= limit:
        fits *= 2
    smallest = runs_memory(n, 2 * (groups + 2), inputs=inputs) > limit
    remedy = (
        f"even the smallest design ({2 * (groups + 2)} runs) does not fit: analyse fewer "
        "companies (a sample of them)"
        if smallest
        else f"ask for at most {fits * (groups + 2)} runs (--runs, or uncertainty.runs in the "
        "method file), or analyse fewer companies (a sample of them)"
    )
    raise ParameterError(
        f"runs: {n_runs} runs ({requested} requested) over {n} companies need about "
        f"{_size(need)} for the runs' indices and ranks ({8 + np.dtype(_rank_dtype(n)).itemsize} "
        f"bytes per company and run), more than the limit of {what}: {remedy}",
        parameter="runs",
    )


def _allocate_runs(n: int, n_runs: int) -> tuple[np.ndarray, np.ndarray]:
    """Every run's index (float64) and rank (:func:`_rank_dtype`) of every company."""
    return np.empty((n, n_runs), dtype=np.float64), np.empty((n, n_runs), dtype=_rank_dtype(n))


def _rank_dtype(n: int) -> type[np.floating]:
    """The smallest float type that holds every average rank of ``n`` companies (a multiple of
    1/2 from 1 to n) exactly: float32 while 2 n < 2^24, else float64."""
    return np.float32 if 2 * n < 2**24 else np.float64


def _row_percentiles(matrix: np.ndarray, rows: int = 4096) -> tuple[np.ndarray, ...]:
    """5th, 50th and 95th percentiles of each row, a block of rows at a time (bounded
    memory: at most 4096 rows and :data:`~dmi.analysis.schemes._BLOCK_CELLS` values)."""
    rows = max(1, min(rows, _BLOCK_CELLS // max(1, matrix.shape[1] if matrix.ndim == 2 else 1)))
    out = np.empty((len(_PERCENTILES), len(matrix)))
    for start in range(0, len(matrix), rows):
        part = matrix[start : start + rows].astype(np.float64)
        if not np.isnan(part).any():  # the common case, vectorised (nanpercentile goes row by row)
            out[:, start : start + rows] = np.percentile(part, _PERCENTILES, axis=1)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out[:, start : start + rows] = np.nanpercentile(part, _PERCENTILES, axis=1)
    return tuple(out)
