"""One call for the whole research analysis, and what it records to be rerun exactly.

:func:`analyse` reads the answers, applies the method file (:mod:`dmi.analysis.method`) and runs,
in order: coverage and data treatment, reliability, the nominal index and its effective weights,
the weighting schemes side by side, and the uncertainty and sensitivity analysis. A part that
cannot be computed on the data is kept with its reason (:attr:`Analysis.problems`) and the others
still run. :class:`Analysis` renders one self-contained HTML report (zh or en) and a JSON of every
table, both with the provenance: dmi's version, the instrument and its content hash, the method
file and its hash with the method as it ran, the input and the reference with their data hashes,
the seed.
"""

from __future__ import annotations

import json
import math
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dmi.analysis.effective import effective_weights
from dmi.analysis.method import Method, ahp_matrix, load_method, read_ahp_matrix, resolve
from dmi.analysis.reliability import Reliability, reliability
from dmi.analysis.schemes import (
    MethodSettings,
    Scheme,
    SchemeComparison,
    band_names,
    compare_schemes,
)
from dmi.analysis.structure import NotComputable, Population
from dmi.analysis.text import reason
from dmi.analysis.treatment import Coverage, Treatment, coverage, treat
from dmi.analysis.uncertainty import Uncertainty, uncertainty
from dmi.errors import ModelFileError, ParameterError, UsageError
from dmi.instruments import Instrument, load_instrument, shipped_reference_population
from dmi.io import read_answers

__all__ = ["DEFAULT_INSTRUMENT", "Analysis", "analyse"]

DEFAULT_INSTRUMENT = "miit-2024-manufacturing"


@dataclass
class Analysis:
    """Everything :func:`analyse` found, and how to get it again.

    Attributes
    ----------
    method : Method
        The method as it ran (command-line choices applied).
    provenance : dict
        ``dmi_version``, ``instrument`` (id, version, hash, source), ``method`` (path, sha256),
        ``input`` and ``reference`` (path, rows read, valid, rejected, data hash), ``seed``,
        ``runs``, ``ahp``, ``tier_model``, ``read`` (``encoding``, ``sheet``, ``map``) and
        ``command`` (the ``dmi analyse`` command that reruns it; the report and the JSON
        record :meth:`command` of their language, with ``--lang``).
    population : Population
    coverage, treatment, reliability, comparison, uncertainty
        The parts' results (None when a part could not run: see ``problems``).
    nominal : pandas.DataFrame
        The nominal index, dimension scores, band and tier of every company: ``level`` and
        ``tier`` (the official ones) only under the official method on data no treatment
        changed, otherwise ``indicative_level`` and ``indicative_tier``.
    effective : pandas.DataFrame
        :func:`~dmi.analysis.effective.effective_weights` of the weight-level nodes and of the
        dimensions.
    problems : dict of str to str
        Parts that could not be computed, with the reason.
    """

    method: Method
    provenance: dict[str, Any]
    population: Population
    coverage: Coverage | None = None
    treatment: Treatment | None = None
    reliability: Reliability | None = None
    nominal: pd.DataFrame | None = None
    effective: pd.DataFrame | None = None
    comparison: SchemeComparison | None = None
    uncertainty: Uncertainty | None = None
    problems: dict[str, str] = field(default_factory=dict)

    def command(self, lang: str | None = None) -> str:
        """The ``dmi analyse`` command that reruns the analysis.

        Parameters
        ----------
        lang : {"zh", "en"}, optional
            The language of the report the command is to write (its ``--lang``); without it,
            the command of the provenance, which writes the report in the default language.

        Returns
        -------
        str
            The command line, its report ``REPORT.html`` (``-o`` last).

        Raises
        ------
        UsageError
            ``lang`` is neither ``zh`` nor ``en``.
        """
        command = self.provenance["command"]
        if lang is None:
            return command
        if lang not in ("zh", "en"):
            raise UsageError(f"unknown report language {lang!r}; expected zh or en")
        parts = shlex.split(command)
        parts[-2:-2] = ["--lang", lang]  # before ``-o REPORT.html``
        return shlex.join(parts)

    def to_html(self, lang: str = "en") -> str:
        """The report: one self-contained HTML page (charts inline as SVG), its command to
        rerun it with its language (:meth:`command`)."""
        from dmi.analysis.report import render_html

        return render_html(self, lang)

    def write_html(self, path: str | Path, lang: str = "en") -> None:
        """Write the report (the file appears only once it is whole)."""
        _write(path, self.to_html(lang))

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the analysis by name (what the JSON holds)."""
        out: dict[str, pd.DataFrame] = {}
        if self.coverage is not None:
            out["coverage_items"] = self.coverage.items
            out["coverage_indicators"] = self.coverage.indicators
            out["coverage_units"] = self.coverage.units
        if self.treatment is not None:
            out["outliers"] = self.treatment.outliers_before
            out["outliers_after_treatment"] = self.treatment.outliers_after
            out["treatment_log"] = self.treatment.log
            out["imputation_log"] = self.treatment.imputation
        if self.reliability is not None:
            out["reliability"] = self.reliability.table()
            out["reliability_items"] = pd.concat(
                [
                    d.alpha.items.assign(dimension=d.dimension)
                    for d in self.reliability.dimensions
                    if d.alpha is not None
                ]
                or [pd.DataFrame()],
                ignore_index=True,
            )
            out["reliability_indicators"] = self.reliability.indicators
            out["reliability_flags"] = self.reliability.flags
            out["correlation"] = self.reliability.correlation.reset_index(names="indicator")
        if self.nominal is not None:
            out["nominal"] = self.nominal
        if self.effective is not None:
            out["effective_weights"] = self.effective
        if self.comparison is not None:
            out["scheme_weights"] = self.comparison.weights
            out["scheme_summary"] = self.comparison.summary
            out["scheme_companies"] = self.comparison.companies
        if self.uncertainty is not None:
            out["uncertainty_companies"] = self.uncertainty.companies
            out["sensitivity"] = self.uncertainty.sensitivity
            out["uncertainty_runs"] = self.uncertainty.runs
        return out

    @property
    def treated(self) -> bool:
        """Whether a data treatment changed the data (then no band is an official level)."""
        return self.treatment is not None and self.treatment.changed

    def bands(self) -> dict[str, dict[str, str]]:
        """What each band and tier column of the tables is, by table: ``level`` and ``tier``
        (the official level and tier: the official method on the data as given) or
        ``indicative_level`` and ``indicative_tier``."""
        out: dict[str, dict[str, str]] = {}
        if self.nominal is not None:
            names = ("level", "indicative_level", "tier", "indicative_tier")
            out["nominal"] = {c: c for c in names if c in self.nominal.columns}
        if self.comparison is not None:
            columns: dict[str, str] = {}
            for scheme, name in self.comparison.band_names.items():
                columns[f"band_{scheme}"] = name
                if f"tier_{scheme}" in self.comparison.companies.columns:
                    columns[f"tier_{scheme}"] = _tier_name(name)
            out["scheme_companies"] = columns
        if self.uncertainty is not None:
            name = self.uncertainty.band_name
            columns = {"band_nominal": name}
            if "tier_nominal" in self.uncertainty.companies.columns:
                columns["tier_nominal"] = _tier_name(name)
            out["uncertainty_companies"] = columns
        return out

    def to_json(self, lang: str | None = None) -> dict[str, Any]:
        """Provenance, method, problems, what each band column is (:meth:`bands`), the notes
        on the Sobol' indices and every table (records), JSON-able.

        Parameters
        ----------
        lang : {"zh", "en"}, optional
            The language of the report written beside: the provenance's command writes it
            (:meth:`command`).
        """
        return {
            "format": "dmi-analysis/1",
            "provenance": {**self.provenance, "command": self.command(lang)},
            "method": self.method.model_dump(mode="json"),
            "problems": self.problems,
            "bands": self.bands(),
            "not_run": {
                **(
                    {}
                    if self.comparison is None
                    else {f"comparison {k}": v for k, v in self.comparison.not_run.items()}
                ),
                **(
                    {}
                    if self.uncertainty is None
                    else {f"uncertainty {k}": v for k, v in self.uncertainty.not_run.items()}
                ),
            },
            "notes": {
                "sensitivity": [] if self.uncertainty is None else list(self.uncertainty.notes)
            },
            "tables": {name: records(table) for name, table in self.tables().items()},
        }

    def json_text(self, lang: str | None = None) -> str:
        """:meth:`to_json` as text."""
        return json.dumps(self.to_json(lang), ensure_ascii=False, indent=1, allow_nan=False)

    def write_json(self, path: str | Path, lang: str | None = None) -> None:
        """Write :meth:`to_json` (the file appears only once it is whole)."""
        _write(path, self.json_text(lang))


def _tier_name(band_name: str) -> str:
    """A tier is official with its band: ``tier`` beside ``level``, else ``indicative_tier``."""
    return "tier" if band_name == "level" else "indicative_tier"


def _write(path: str | Path, text: str) -> None:
    from dmi.io import PendingFile

    with PendingFile(path) as pending:
        pending.path.write_text(text, encoding="utf-8")


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """A table as JSON-able rows (NaN as None, numpy scalars as Python's)."""
    return [{k: _plain(v) for k, v in row.items()} for row in table.to_dict(orient="records")]


def _plain(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is None or value is pd.NA:
        return None
    return value


def _population(
    source: pd.DataFrame | str | Path, instrument: Instrument, read_kwargs: dict[str, Any]
) -> tuple[Population, str | None]:
    if isinstance(source, pd.DataFrame):
        return Population.from_answers(instrument, source), None
    path = str(source)
    frame = read_answers(path, instrument, **read_kwargs)
    return Population.from_answers(instrument, frame, source=path), path


def _describe(population: Population, path: str | None) -> dict[str, Any]:
    return {
        "path": path,
        "rows_read": population.n_read,
        "rows_valid": population.n,
        "rows_rejected": population.n_read - population.n,
        "data_hash": population.data_hash,
    }


def load_tier_model(choice: Any, instrument: Instrument, method_path: str | None):
    """The tier model of a choice (``shipped``, ``none``, a path or a fitted model) and what
    identifies it."""
    from dmi.tiers import TierModel, shipped_tier_model_path

    if choice is None or (isinstance(choice, str) and choice == "none"):
        return None, {"source": "none"}
    if not isinstance(choice, (str, Path)):
        return choice, {"source": "given", "repr": repr(choice)}
    if choice == "shipped":
        path = shipped_tier_model_path(instrument)
        if not path.is_file():
            return None, {"source": "none (the instrument ships no tier model)"}
        return TierModel.load(path, instrument), {"source": "shipped", "path": path.name}
    path = resolve(str(choice), method_path)
    return TierModel.load(path, instrument), {"source": "file", "path": path}


def analyse(
    answers: pd.DataFrame | str | Path,
    *,
    instrument: Instrument | str | None = None,
    method: Method | str | Path | None = None,
    reference: pd.DataFrame | str | Path | None = None,
    seed: int | None = None,
    runs: int | None = None,
    ahp: str | Path | None = None,
    tier_model: Any = None,
    read_kwargs: dict[str, Any] | None = None,
) -> Analysis:
    """Run the whole analysis of a population (see the module docstring).

    Parameters
    ----------
    answers : DataFrame or path
        The companies analysed (CSV/XLSX/Parquet, headers as in ``dmi template``).
    instrument : Instrument or str, optional
        Default: the method file's, else ``miit-2024-manufacturing``.
    method : Method or path, optional
        The method (a YAML file; default: :class:`Method` ()).
    reference : DataFrame or path or "input" or "shipped", optional
        The population the methods are fitted on; default: the method file's (``input``: the
        companies analysed themselves).
    seed, runs : int, optional
        Override the method file's uncertainty seed and number of runs.
    ahp : path, optional
        Pairwise judgements (YAML or CSV), overriding the method file's.
    tier_model : TierModel or path or "shipped" or "none", optional
        Overrides the method file's ``tiers`` (a path relative to the current folder, as on the
        command line; the method file's own paths are relative to its folder).
    read_kwargs : dict, optional
        ``encoding``, ``sheet`` and ``column_map`` for the files read (the answers and the
        reference); ``column_map`` is a mapping of headers to item codes or the path of a
        mapping file (CSV or YAML, :func:`dmi.io.read_mapping_file`).

    Notes
    -----
    The provenance's ``command`` is the ``dmi analyse`` command line that gives the same
    results: every option that changes them and was given (the method file, the reference, the
    AHP judgements, the tier model, the instrument, the seed and the runs, the read options);
    the report and the JSON add the language of the report (:meth:`Analysis.command`).
    What was given as an object rather than a file (a data frame, a method or a tier model
    built in Python, a mapping) is written as a placeholder in capitals (``ANSWERS``,
    ``METHOD.yaml`` ...) to be replaced by its file.
    """
    import dmi

    read_kwargs, read_info = _read_options(read_kwargs)
    method_path: str | None = None
    method_given = method
    if isinstance(method, Method):
        method_info = {"path": None, "sha256": None}
    else:
        method, method_info = load_method(method)
        method_path = method_info["path"]
    updates: dict[str, Any] = {}
    if instrument is not None:
        updates["instrument"] = (
            instrument.id if isinstance(instrument, Instrument) else str(instrument)
        )
    if isinstance(reference, (str, Path)):
        updates["reference"] = str(reference)
    uncertainty_updates = {}
    if seed is not None:
        uncertainty_updates["seed"] = int(seed)
    if runs is not None:
        uncertainty_updates["runs"] = int(runs)
    if uncertainty_updates:
        updates["uncertainty"] = method.uncertainty.model_copy(update=uncertainty_updates)
    if isinstance(tier_model, (str, Path)):
        updates["tiers"] = str(tier_model)
    method = method.model_copy(update=updates)

    if isinstance(instrument, Instrument):
        inst = instrument
        instrument_source = instrument.id
    else:
        name = method.instrument or DEFAULT_INSTRUMENT
        if instrument is None and method.instrument and method_path:
            candidate = resolve(method.instrument, method_path)
            name = candidate if Path(candidate).is_file() else method.instrument
        inst = load_instrument(name)
        instrument_source = name

    population, input_path = _population(answers, inst, read_kwargs)
    if population.n < 2:
        raise NotComputable(
            f"{input_path or 'the answers'}: {population.n} valid rows of {population.n_read}; "
            "an analysis needs at least 2"
        )
    ref_population: Population | None = None
    if isinstance(reference, pd.DataFrame):
        ref_population = Population.from_answers(inst, reference)
        reference_info = {"kind": "data frame", **_describe(ref_population, None)}
    elif method.reference == "input":
        reference_info = {"kind": "input", "path": input_path}
    else:
        if method.reference == "shipped":
            ref_path = str(shipped_reference_population(inst))
        else:
            ref_path = resolve(method.reference, None if reference is not None else method_path)
        ref_population, _ = _population(ref_path, inst, read_kwargs)
        reference_info = {
            "kind": "shipped" if method.reference == "shipped" else "file",
            **_describe(ref_population, ref_path),
        }

    level = method.level
    nodes_codes = list(population.hierarchy.codes(level))
    if ahp is not None:
        matrix = read_ahp_matrix(ahp, nodes_codes)
        ahp_info: dict[str, Any] = {"source": str(ahp)}
    else:
        matrix = ahp_matrix(method, nodes_codes, method_path)
        ahp_info = {"source": "method file" if matrix is not None else None}
    if tier_model is None:  # the method file's: a path in it is relative to the file
        tiers, tier_info = load_tier_model(method.tiers, inst, method_path)
    else:  # given here: a path is relative to the current folder
        tiers, tier_info = load_tier_model(tier_model, inst, None)

    provenance = {
        "dmi_version": dmi.__version__,
        "instrument": {
            "id": inst.id,
            "version": inst.version,
            "hash": inst.hash,
            "source": instrument_source,
        },
        "method": method_info,
        "input": _describe(population, input_path),
        "reference": reference_info,
        "seed": method.uncertainty.seed,
        "runs": method.uncertainty.runs,
        "ahp": ahp_info,
        "tier_model": tier_info,
        "read": read_info,
    }
    provenance["command"] = _command(
        input_path,
        method_given,
        method_path,
        instrument=instrument,
        reference=reference,
        ahp=ahp,
        tier_model=tier_model,
        seed=method.uncertainty.seed,
        runs=method.uncertainty.runs,
        read=read_info,
    )
    result = Analysis(method=method, provenance=provenance, population=population)

    settings = method.treatment
    try:
        result.coverage = coverage(population, threshold=settings.coverage_min)
    except NotComputable as exc:
        result.problems["coverage"] = reason(exc)
    changes_data = settings.outliers != "none" or settings.imputation != "none"
    if changes_data and ref_population is not None:
        raise UsageError(
            "data treatment (outliers or imputation) applies to the companies analysed, which "
            "must then be their own reference: drop the reference or the treatment"
        )
    try:
        result.treatment = treat(
            population,
            level=level,
            outlier_treatment=settings.outliers,
            imputation=settings.imputation,
            group_by=settings.group_by,
            max_points=settings.max_points,
            skew_max=settings.skew_max,
            kurtosis_max=settings.kurtosis_max,
        )
    except NotComputable as exc:
        result.problems["treatment"] = reason(exc)
    nodes = result.treatment.nodes if result.treatment is not None else None
    analysed = population
    if result.treatment is not None and settings.imputation != "none":
        # every level above the items (BoD's dimensions too) is scored from the imputed items
        analysed = replace(population, item_scores=result.treatment.item_scores)

    try:
        result.reliability = reliability(
            population,
            alpha_min=method.reliability.alpha_min,
            item_total_min=method.reliability.item_total_min,
            ci=method.reliability.ci,
        )
    except NotComputable as exc:
        result.problems["reliability"] = reason(exc)

    nominal = Scheme(**method.nominal.model_dump())
    # one object carries the method's settings to every part: they all score the same method
    method_settings = method.settings(matrix)
    # a band is the official level only under the official method on the data as given
    treated = result.treated
    try:
        result.nominal, result.effective = _nominal(
            analysed,
            ref_population,
            nodes,
            nominal,
            level,
            method_settings,
            method,
            tiers,
            treated,
        )
    except NotComputable as exc:
        result.problems["nominal"] = reason(exc)
    except ParameterError as exc:
        # bounds no weights keep to, under a nominal benefit of the doubt: the method file's
        # mistake, named with its field (as a scheme compared, BoD is only listed as not run)
        if exc.parameter == "bod_bounds" and method_path:
            raise ModelFileError(method_path, "bod_bounds", str(exc)) from None
        raise

    try:
        result.comparison = compare_schemes(
            analysed,
            schemes=list(method.comparison.schemes),
            nominal=nominal,
            level=level,
            reference=ref_population,
            nodes=nodes,
            tier_model=tiers,
            settings=method_settings,
            treated=treated,
        )
    except NotComputable as exc:
        result.problems["comparison"] = reason(exc)

    u = method.uncertainty
    try:
        result.uncertainty = uncertainty(
            analysed,
            reference=ref_population,
            nodes=nodes,
            level=level,
            nominal=nominal,
            normalisations=u.normalisations,
            weightings=u.weightings,
            aggregations=u.aggregations,
            perturbation=u.perturbation,
            runs=u.runs,
            seed=u.seed,
            tier_model=tiers,
            settings=method_settings,
            treated=treated,
            num_resamples=u.resamples,
        )
    except NotComputable as exc:
        result.problems["uncertainty"] = reason(exc)
    return result


def _nominal(
    population: Population,
    reference: Population | None,
    nodes: np.ndarray | None,
    scheme: Scheme,
    level: str,
    settings: MethodSettings,
    method: Method,
    tiers: Any,
    treated: bool,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The nominal index of every company, and the effective weights of its nodes.

    Its band and tier are ``level`` and ``tier`` only under the official method on untreated
    data, otherwise ``indicative_level`` and ``indicative_tier`` (:func:`band_names`).
    """
    from dmi.analysis.schemes import LevelRule, _tiers_of

    node_values = population.nodes(level) if nodes is None else nodes
    kernel = settings.kernel(
        population.instrument,
        "dimension" if scheme.weighting == "bod" else level,
        node_values if scheme.weighting != "bod" else population.nodes("dimension"),
        None
        if reference is None
        else reference.nodes("dimension" if scheme.weighting == "bod" else level),
    )
    w = kernel.weights(scheme.weighting, scheme.normalisation)[0]
    if scheme.weighting == "bod":
        dims, index = kernel.evaluate_bod(scheme.normalisation)
    else:
        dims, index = kernel.evaluate(scheme.normalisation, scheme.aggregation, w)
    dims, index = dims[:, :, 0], index[:, 0]
    h = population.hierarchy
    rule = LevelRule(population.instrument, population.scenario_levels, population.scenario_codes)
    band, tier = band_names(scheme, treated=treated)
    table = pd.DataFrame({"respondent_id": population.respondent_id, "dmi": index})
    table[band] = rule.levels(index)
    for j, code in enumerate(h.dimensions):
        table[f"dim_{code}"] = dims[:, j]
    if tiers is not None:
        table[tier] = _tiers_of(tiers, dims, list(h.dimensions))
    normalised = kernel.normalised(scheme.normalisation)[0]
    node_weights = pd.Series(w, index=kernel.codes)
    dim_of = h.dimension_of(kernel.level)
    dimension_weights = pd.Series(
        np.bincount(dim_of, weights=w, minlength=len(h.dimensions)), index=list(h.dimensions)
    )
    bins = method.effective.bins
    parts = []
    if kernel.level != "dimension":
        parts.append(
            effective_weights(
                pd.DataFrame(normalised, columns=kernel.codes),
                index,
                node_weights,
                level=kernel.level,
                bins=bins,
            )
        )
    parts.append(
        effective_weights(
            pd.DataFrame(dims, columns=list(h.dimensions)),
            index,
            dimension_weights,
            level="dimension",
            bins=bins,
        )
    )
    return table, pd.concat(parts, ignore_index=True)


def _read_options(read_kwargs: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The keywords of :func:`dmi.io.read_answers` (a mapping file read) and what identifies
    them in the provenance: ``encoding``, ``sheet``, ``map`` (the mapping file's path, or
    ``given`` for a mapping given as such)."""
    from dmi.io import read_mapping_file

    kwargs = dict(read_kwargs or {})
    column_map = kwargs.get("column_map")
    map_info: str | None = None
    if isinstance(column_map, (str, Path)):
        map_info = str(column_map)
        kwargs["column_map"] = read_mapping_file(column_map)
    elif column_map is not None:
        map_info = "given"
    info = {"encoding": kwargs.get("encoding"), "sheet": kwargs.get("sheet"), "map": map_info}
    return kwargs, info


def _command(
    input_path: str | None,
    method: Any,
    method_path: str | None,
    *,
    instrument: Any,
    reference: Any,
    ahp: Any,
    tier_model: Any,
    seed: int,
    runs: int,
    read: dict[str, Any],
) -> str:
    """The command line that reruns the analysis: :func:`analyse`'s arguments as the options
    of ``dmi analyse`` that give them, each one that was given (what was not is the method
    file's, or the default, again). An object that has no file is a placeholder in capitals."""
    parts = ["dmi", "analyse", input_path or "ANSWERS"]
    if instrument is not None:
        parts += [
            "--instrument",
            instrument.id if isinstance(instrument, Instrument) else str(instrument),
        ]
    if method_path:
        parts += ["--method", method_path]
    elif isinstance(method, Method) and method != Method():
        parts += ["--method", "METHOD.yaml"]
    if reference is not None:
        parts += [
            "--reference",
            "REFERENCE.csv" if isinstance(reference, pd.DataFrame) else str(reference),
        ]
    if ahp is not None:
        parts += ["--ahp", str(ahp)]
    if tier_model is not None:
        parts += [
            "--tier-model",
            str(tier_model) if isinstance(tier_model, (str, Path)) else "TIER_MODEL.json",
        ]
    parts += ["--seed", str(seed), "--runs", str(runs)]
    if read.get("encoding"):
        parts += ["--encoding", str(read["encoding"])]
    if read.get("sheet"):
        parts += ["--sheet", str(read["sheet"])]
    if read.get("map"):
        parts += ["--map", "MAP.csv" if read["map"] == "given" else read["map"]]
    parts += ["-o", "REPORT.html"]
    return shlex.join(parts)
