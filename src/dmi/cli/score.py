"""The scoring commands: ``dmi score`` (a file, in bulk), ``dmi fit`` (a method, saved as
JSON) and ``dmi weights`` (the weights a method gives)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd

from dmi.bulk.run import DUPLICATE_POLICIES, check_outputs, score_file
from dmi.errors import MethodWarning, UsageError
from dmi.instruments import Instrument, load_instrument
from dmi.io import read_answers, read_mapping_file
from dmi.io.tools import (
    DEFAULT_MIN_SECONDS_PER_QUESTION,
    KOBO_ANSWERS,
    SOURCES,
    WJX_VARIANTS,
    Source,
)
from dmi.scoring.aggregate import AGGREGATIONS
from dmi.scoring.normalise import NORMALISATIONS
from dmi.scoring.weighting import (
    PCA_RETAIN,
    PCA_ROTATIONS,
    WEIGHT_LEVELS,
    WEIGHTINGS,
    read_pairwise_file,
)
from dmi.text import counted

if TYPE_CHECKING:  # the model and the tiers need scikit-learn: imported where they are used
    from dmi.scoring.model import IndexModel
    from dmi.tiers import TierModel

__all__ = [
    "STRICT_ROWS_HELP",
    "add_commands",
    "add_id_column_option",
    "cmd_fit",
    "cmd_score",
    "cmd_weights",
]

DEFAULT_INSTRUMENT = "miit-2024-manufacturing"

STRICT_ROWS_HELP = "exit 1 when any row was rejected (every output is written all the same)"
"""``--strict``'s meaning for a file's rows, in ``dmi score`` and ``dmi eligibility`` alike."""


def _positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1; got {text!r}")
    return number


SHOWN_REASONS = 8
"""Reasons for rejecting rows listed on stdout (the most common first); the others are counted."""


def rejected_lines(by_reason: dict[str, int], rejects: str | None) -> list[str]:
    """The stdout lines of the reasons rows were rejected for (each row under its first): the
    most common :data:`SHOWN_REASONS`, then how many more reasons and rows there are, and where
    every one is listed."""
    items = list(by_reason.items())
    lines = [
        f"  rejected: {counted(count, 'row')}, {reason}" for reason, count in items[:SHOWN_REASONS]
    ]
    rest = items[SHOWN_REASONS:]
    if rest:
        rows = sum(count for _, count in rest)
        where = f"every one is in {rejects}" if rejects else "--rejects FILE lists every one"
        lines.append(
            f"  rejected: {counted(rows, 'row')} more, for {len(rest)} other reasons: {where}"
        )
    return lines


@contextlib.contextmanager
def row_progress(quiet: bool) -> Iterator[Callable[[int], None] | None]:
    """A progress bar of the rows done on a terminal (``progress(rows_done)``), else None."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(unit=" rows", unit_scale=True, file=sys.stderr) as bar:
        yield lambda done: bar.update(done - bar.n)


def _column_map(path: str | None) -> dict[str, str] | None:
    """The ``--map`` file's header mapping (None without one)."""
    return read_mapping_file(path) if path else None


def _read_answers(path: str, instrument: Instrument, args: argparse.Namespace) -> pd.DataFrame:
    return read_answers(
        path,
        instrument,
        encoding=getattr(args, "encoding", None),
        sheet=getattr(args, "sheet", None),
        column_map=_column_map(getattr(args, "map", None)),
        source=_source(args),
    )


def _source(args: argparse.Namespace) -> Source:
    """The input layout options (``--from``, ``--id-column``, ``--min-seconds``)."""
    return Source(
        getattr(args, "source", "auto"),
        getattr(args, "id_column", None),
        getattr(args, "min_seconds", DEFAULT_MIN_SECONDS_PER_QUESTION),
        getattr(args, "wjx_variant", "auto"),
        getattr(args, "kobo_answers", "auto"),
    )


def add_id_column_option(parser: Any) -> argparse.Action:
    """``--id-column``: the column of a survey tool's export that holds the respondent ids
    (:attr:`dmi.io.tools.Source.id_column`), for ``dmi score`` and ``dmi eligibility`` alike.

    Parameters
    ----------
    parser : ArgumentParser or argument group
        Where the option is added.

    Returns
    -------
    argparse.Action
        The option added.
    """
    return parser.add_argument(
        "--id-column",
        help=(
            "问卷星/KoboToolbox: the column holding the respondent id (default an id question, "
            "else 序号 / _uuid)"
        ),
    )


def _input_layout_options(parser: argparse.ArgumentParser) -> None:
    """``--from``, ``--id-column``, ``--min-seconds``: how a survey tool's export is read."""
    parser.add_argument(
        "--from",
        dest="source",
        default="auto",
        choices=SOURCES,
        help="the input's layout: a plain table, a 问卷星 (wjx) or a KoboToolbox export "
        "(default auto: the one its headers show; the summary says which)",
    )
    add_id_column_option(parser)
    parser.add_argument(
        "--min-seconds",
        type=float,
        default=DEFAULT_MIN_SECONDS_PER_QUESTION,
        metavar="SECONDS",
        help="问卷星: flag rows answered in less than this many seconds per question "
        f"(default {DEFAULT_MIN_SECONDS_PER_QUESTION:g}; flagged, not rejected)",
    )
    parser.add_argument(
        "--wjx-variant",
        default="auto",
        choices=WJX_VARIANTS,
        help="问卷星: the export variant, codes (按选项序号, option numbers) or texts (按选项文本, "
        "option texts); default auto: told from the cells (choose it when options are digits)",
    )
    parser.add_argument(
        "--kobo-answers",
        default="auto",
        choices=KOBO_ANSWERS,
        help="KoboToolbox: the choices as XML values or as labels (default auto: either)",
    )


def _pca_retain(text: str) -> str | int:
    """An argparse type: a PCA retention rule by name, or a whole number of factors."""
    if text in PCA_RETAIN:
        return text
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(
            f"expected {', '.join(PCA_RETAIN)} or a whole number of factors (1 or more); "
            f"got {text!r}"
        )
    return number


def _model_from_args(args: argparse.Namespace, instrument: Instrument) -> IndexModel:
    from dmi.scoring.model import IndexModel

    method = args.weights
    ahp_matrix = None
    if method.startswith("ahp:"):
        probe = IndexModel(instrument, weighting="ahp", weight_level=args.level, ahp_matrix=[[1.0]])
        ahp_matrix = read_pairwise_file(method[4:], probe.nodes())
        method = "ahp"
    elif method == "ahp":
        raise UsageError(
            "AHP needs a pairwise matrix: use --weights ahp:FILE (a CSV matrix with "
            "node codes as header and first column, or a YAML judgements file)"
        )
    return IndexModel(
        instrument,
        weighting=method,
        normalisation=args.normalisation,
        aggregation=args.aggregation,
        weight_level=args.level,
        ahp_matrix=ahp_matrix,
        pca_retain=getattr(args, "pca_retain", "kaiser+10%"),
        pca_rotation=getattr(args, "pca_rotation", "varimax"),
    )


def _fit(model: IndexModel, answers: pd.DataFrame | None = None) -> IndexModel:
    """``model.fit(answers)``; its :class:`MethodWarning` texts are printed from ``fit_info_``
    as ``warning:`` lines (see :func:`_print_fit_notes`), not by the warnings module."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MethodWarning)
        return model.fit(answers)


def _print_fit_notes(model: IndexModel, *, notes_to_stdout: bool = False) -> None:
    """The fit's notes (on stderr, or stdout) and its warnings (always on stderr)."""
    for note in model.fit_info_["notes"]:
        print(f"note: {note}", file=sys.stdout if notes_to_stdout else sys.stderr)
    for text in model.fit_info_.get("warnings", []):
        print(f"warning: {text}", file=sys.stderr)


def _inconsistent_ahp(model: IndexModel, args: argparse.Namespace) -> str | None:
    """Why ``--strict`` refuses the model's AHP judgements (CR >= 0.10), or None."""
    ahp = model.ahp_
    if ahp is None or ahp.consistent:
        return None
    source = args.weights[4:] if args.weights.startswith("ahp:") else "the model's matrix"
    return (
        f"the AHP judgements in {source} are inconsistent: consistency ratio {ahp.cr:.3f} is "
        "not below 0.10 (Saaty's rule); revise them, or leave out --strict"
    )


REFERENCE_INPUT = "input"
"""``--reference input``: fit on the file being scored (scores then depend on who is in it)."""


REFERENCE_INPUT = "input"
"""``--reference input``: fit on the file being scored (scores then depend on who is in it)."""


def _fit_model(
    args: argparse.Namespace, instrument: Instrument, input_path: str | None = None
) -> IndexModel:
    """The model of the command's method, fitted where the user said.

    A method that learns from data is fitted on ``--reference FILE``; without it, on the
    instrument's shipped reference population, never silently on the file being scored, so
    that a company's score does not depend on who else is in the file. ``--reference input``
    (when the command has an input) fits on the input itself, on request.
    """
    if getattr(args, "model", None):
        from dmi.scoring.model import IndexModel

        return IndexModel.load(args.model, instrument)
    model = _model_from_args(args, instrument)
    if model.needs_data():
        choice = args.reference
        if choice is None:
            from dmi.instruments import shipped_reference_population

            path = shipped_reference_population(instrument)
            _fit(model, read_answers(path, instrument))  # the shipped file needs no --map
            where = f"the instrument's shipped reference population ({path.name})"
            after = "; pass --reference FILE to fit on another population"
        elif choice == REFERENCE_INPUT and input_path is not None:
            _fit(model, _read_answers(input_path, instrument, args))
            where = f"the input file itself ({input_path})"
            after = (
                ": the scores depend on which companies are in the file (the same company "
                "scores differently in another file)"
            )
        else:
            _fit(model, _read_answers(choice, instrument, args))
            where, after = choice, ""
        print(
            f"note: the method ({_method_name(args)}) was fitted on {where}, "
            f"{model.fit_info_['rows_used']} valid rows{after}",
            file=sys.stderr,
        )
    else:
        _fit(model)
    _print_fit_notes(model)
    return model


def _method_name(args: argparse.Namespace) -> str:
    return (
        f"{args.weights} weights, {args.normalisation} normalisation, "
        f"{args.aggregation} aggregation"
    )


# -- commands ---------------------------------------------------------------------------------


def cmd_score(args: argparse.Namespace) -> int:
    # before the map is read and the method fitted (on the input itself, with --reference input)
    reads = {
        "the column map": args.map,
        "the model": args.model,
        "the tier model": args.tier_model,
        "the reference file": args.reference,
        "the pairwise matrix": args.weights[4:] if args.weights.startswith("ahp:") else None,
        "the instrument file": args.instrument,
    }
    check_outputs(
        args.output, args.rejects, args.cohort, args.summary, input_path=args.input, reads=reads
    )
    instrument = load_instrument(args.instrument)
    custom = _column_map(args.map)
    if args.engine == "dask":
        from dmi.bulk.engines.dask import _import_dask

        _import_dask()  # fail early, before a reference fit, when the extra is missing
    model = _fit_model(args, instrument, input_path=args.input)
    refused = _inconsistent_ahp(model, args) if args.strict else None
    if refused:
        print(f"dmi: --strict: {refused}; nothing was scored", file=sys.stderr)
        return 1
    tier_model = _tier_model(args, instrument, model)
    also = _crosswalks(instrument, getattr(args, "also", None))
    with row_progress(args.quiet) as progress:
        summary, mapping = score_file(
            args.input,
            args.output,
            model,
            rejects_path=args.rejects,
            encoding=args.encoding,
            sheet=args.sheet,
            column_map=custom,
            chunk_rows=args.chunk_rows,
            progress=progress,
            tier_model=tier_model,
            duplicates=args.duplicates,
            cohort_path=args.cohort,
            summary_path=args.summary,
            engine=args.engine,
            scheduler=args.scheduler,
            source=_source(args),
            also=also,
        )
    for note in summary.notes:
        print(f"note: {note}", file=sys.stderr)
    if not args.quiet:
        _print_also(summary.also)
        for line in mapping.ignored_lines(f"no match in {instrument.id}"):
            print(line, file=sys.stderr)
        if mapping.missing_items:
            print(
                f"missing item columns (every row lacks these answers): "
                f"{', '.join(mapping.missing_items)}",
                file=sys.stderr,
            )
        names = {b.level: b.en for b in instrument.levels.bands}
        if summary.levels:
            shown = ", ".join(f"{names.get(int(k), k)} {v}" for k, v in summary.levels.items())
            if model.is_official:
                print(f"levels: {shown}")
            else:
                print(f"official levels (the instrument's own method): {shown}")
                print(
                    "note: dmi is the research index of this method and indicative_level its "
                    "band under the instrument's bands (not an official level); official_dmi "
                    "and level are the official index and level",
                    file=sys.stderr,
                )
        for line in rejected_lines(summary.rejected_rows_by_reason, args.rejects):
            print(line)
        written = [args.output] + [p for p in (args.rejects, args.cohort, args.summary) if p]
        print(f"wrote {', '.join(written)}")
    print(summary.line())
    return 1 if args.strict and summary.rejected else 0


def _crosswalks(instrument: Instrument, targets: list[str] | None) -> list[Any]:
    """The crosswalks of ``--also`` (checked before the run: a wrong target scores nothing)."""
    if not targets:
        return []
    from dmi.instruments.crosswalk import find_crosswalk

    found = []
    for target in dict.fromkeys(targets):
        try:
            found.append(find_crosswalk(instrument.id, target))
        except FileNotFoundError as exc:
            raise UsageError(f"--also {target}: {exc}") from None
    return found


def _print_also(also: dict[str, dict[str, Any]]) -> None:
    """What each ``--also`` target could not map, and the scored rows it could not score (the
    run's summary ``also``)."""
    for target, info in also.items():
        unmapped = info["unmapped"]
        treated = "left out" if info["unmapped_items_are"] == "exclude" else "counted as lowest"
        print(
            f"also {target}: {len(info['mapped'])} items mapped, {len(unmapped)} not mapped "
            f"({treated}): {', '.join(unmapped) or 'none'}"
        )
        if info["rows_without_score"]:
            print(
                f"  {info['rows_without_score']} scored rows have no {target} score (a source "
                "answer it needs is blank)"
            )


def _tier_model(
    args: argparse.Namespace, instrument: Instrument, model: IndexModel
) -> TierModel | None:
    """The tier model to add ``tier`` and ``tier_confidence`` with, if any."""
    from dmi.tiers import TierModel, shipped_tier_model_path

    choice = args.tier_model
    if choice == "none":
        return None
    if choice:
        return TierModel.load(choice, instrument)
    shipped = shipped_tier_model_path(instrument)
    if not shipped.is_file():
        return None
    if not model.is_official:
        if not args.quiet:
            print(
                "note: no tiers assigned: the shipped tier model was fitted on dimension scores "
                "under the instrument's own method; pass --tier-model MODEL.json to assign tiers",
                file=sys.stderr,
            )
        return None
    return TierModel.load(shipped, instrument)


def cmd_fit(args: argparse.Namespace) -> int:
    instrument = load_instrument(args.instrument)
    args.reference = args.reference_file  # the population is the command's argument
    model = _fit_model(args, instrument)
    if not model.needs_data():
        _fit(model, _read_answers(args.reference_file, instrument, args))
    model.save(args.output)
    print(f"wrote {args.output}: {model!r}, fitted on {model.fit_info_['rows_used']} rows")
    return 0


def cmd_weights(args: argparse.Namespace) -> int:
    instrument = load_instrument(args.instrument)
    args.weights = args.method
    args.reference = args.input
    model = _model_from_args(args, instrument)
    _fit(model, _read_answers(args.input, instrument, args))
    refused = _inconsistent_ahp(model, args) if args.strict else None
    table = model.node_weights()
    table = table[table["level"] == args.level].reset_index(drop=True)
    labels = {code: (zh, en) for code, zh, en in instrument.iter_texts()}
    if args.json:
        payload = {
            "instrument": instrument.id,
            "version": instrument.version,
            "method": args.method,
            "level": args.level,
            "normalisation": args.normalisation,
            "rows_used": model.fit_info_["rows_used"],
            "weights": {row.code: round(row.weight, 10) for row in table.itertuples()},
        }
        if model.pca_ is not None:
            payload["pca"] = _pca_summary(model)
        if model.ahp_ is not None:
            payload["ahp"] = {
                "cr": model.ahp_.cr,
                "consistent": bool(model.ahp_.consistent),
                "lambda_max": model.ahp_.lambda_max,
            }
        if model.fit_info_["notes"]:
            payload["notes"] = model.fit_info_["notes"]
        if model.fit_info_["warnings"]:
            payload["warnings"] = model.fit_info_["warnings"]
        print(json.dumps(payload, ensure_ascii=False, indent=1))
        for text in model.fit_info_["warnings"]:
            print(f"warning: {text}", file=sys.stderr)
        if refused:
            print(f"dmi: --strict: {refused}", file=sys.stderr)
            return 1
        return 0
    print(
        f"{args.method} weights at the {args.level} level "
        f"({model.fit_info_['rows_used']} rows, {args.normalisation} normalisation):"
    )
    width = max(len(code) for code in table["code"])
    for row in table.itertuples():
        zh, en = labels.get(row.code, ("", ""))
        print(f"  {row.code:<{width}}  {row.weight:8.4f}  {zh} / {en}")
    if model.pca_ is not None:
        info = _pca_summary(model)
        print(
            f"PCA: {info['factors']} factors kept by "
            f"{'number' if isinstance(info['retain'], int) else info['retain']} (eigenvalues "
            f"{', '.join(f'{v:.3f}' for v in info['eigenvalues'][: info['factors'] + 1])}, ...), "
            f"{info['rotation']} rotation"
        )
    if model.ahp_ is not None:
        verdict = "acceptable" if model.ahp_.consistent else "NOT acceptable (>= 0.10)"
        print(f"AHP consistency ratio {model.ahp_.cr:.4f}: {verdict}")
    _print_fit_notes(model, notes_to_stdout=True)
    if refused:
        print(f"dmi: --strict: {refused}", file=sys.stderr)
        return 1
    return 0


def _pca_summary(model: IndexModel) -> dict[str, Any]:
    """The retention rule, rotation and factors of a PCA model (what ``dmi weights`` shows)."""
    result = model.pca_
    assert result is not None
    return {
        "retain": result.retain,
        "rotation": model.pca_rotation,
        "factors": int(result.n_factors),
        "eigenvalues": [round(float(v), 10) for v in result.eigenvalues],
        "explained_share": [round(float(v), 10) for v in result.explained_share],
    }


# -- parser -----------------------------------------------------------------------------------


def _method_options(parser: argparse.ArgumentParser, *, weights_flag: str = "--weights") -> None:
    parser.add_argument(
        "--instrument",
        default=DEFAULT_INSTRUMENT,
        help=f"shipped name or YAML path (default {DEFAULT_INSTRUMENT})",
    )
    if weights_flag:
        parser.add_argument(
            weights_flag,
            default="instrument",
            metavar="METHOD",
            help=f"{'|'.join(w for w in WEIGHTINGS if w != 'ahp')}|ahp:FILE "
            "(default instrument: the official points)",
        )
    parser.add_argument(
        "--normalisation",
        default="goalposts",
        help=f"{'|'.join(NORMALISATIONS)} (default goalposts)",
    )
    parser.add_argument("--aggregation", default="arithmetic", choices=AGGREGATIONS)
    parser.add_argument(
        "--level",
        default="indicator",
        choices=WEIGHT_LEVELS,
        help="hierarchy level whose nodes are weighted (default indicator)",
    )
    parser.add_argument(
        "--pca-retain",
        type=_pca_retain,
        default="kaiser+10%",
        metavar="RULE",
        help="PCA weights: the factors kept: kaiser+10%% (default: every factor with eigenvalue "
        "> 1 and at least 10%% of the variance, as the OECD/JRC Handbook's example), "
        "cumulative-60%% (stop once 60%% is explained) or a number of factors",
    )
    parser.add_argument(
        "--pca-rotation",
        default="varimax",
        choices=PCA_ROTATIONS,
        help="PCA weights: varimax on the raw loadings (default) or on the Kaiser-normalised "
        "ones (varimax-kaiser)",
    )
    parser.add_argument("--encoding", help="input encoding (default: detected)")
    parser.add_argument("--sheet", help="XLSX sheet (default: the active sheet)")
    parser.add_argument("--map", help="CSV (column,code) or YAML mapping of file headers")


def add_commands(sub: Any) -> None:
    """Add ``score``, ``fit`` and ``weights`` to the main parser's subparsers."""
    p = sub.add_parser("score", help="score an answers file (CSV/XLSX/Parquet)")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True, help="CSV, XLSX or Parquet")
    _method_options(p)
    p.add_argument(
        "--reference",
        metavar="FILE|input",
        help="answers of the population a data-driven method is fitted on (default: the "
        "instrument's shipped reference population); 'input' fits on the input file itself, "
        "so that scores depend on who else is in it",
    )
    p.add_argument("--model", help="a fitted model JSON from `dmi fit` (overrides the method)")
    p.add_argument("--rejects", help="write the rejected rows' problems here")
    p.add_argument(
        "--tier-model",
        help="tier model JSON from `dmi tiers fit`, or 'none' (default: the shipped model of "
        "the instrument, with the instrument's own method)",
    )
    p.add_argument("--summary", help="write the run summary as JSON here")
    p.add_argument(
        "--also",
        action="append",
        metavar="INSTRUMENT",
        help="add the comparable measures of another instrument computed from the same answers "
        "through a shipped crosswalk, as columns prefixed with its id (repeatable; e.g. "
        "eu-dma-sme, eurostat-dii-2023); what cannot be mapped is listed",
    )
    p.add_argument(
        "--duplicates",
        default="reject",
        choices=DUPLICATE_POLICIES,
        help="repeated respondent ids: reject every occurrence (default), or keep the "
        "first / last one and reject the others",
    )
    p.add_argument(
        "--cohort", help="write counts, means and quartiles by level, tier, sector, region, size"
    )
    p.add_argument(
        "--engine",
        default="local",
        choices=("local", "dask"),
        help="dask: score on a Dask cluster (needs dmi[distributed])",
    )
    p.add_argument(
        "--scheduler",
        help="Dask scheduler address for --engine dask (default: a local cluster)",
    )
    p.add_argument(
        "--chunk-rows",
        type=_positive_int,
        default=100_000,
        help="rows read and scored at a time (default 100000)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help=f"{STRICT_ROWS_HELP}, or (before scoring) when AHP judgements are inconsistent "
        "(consistency ratio >= 0.10)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or details")
    _input_layout_options(p)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("fit", help="fit a method on a reference population, save it as JSON")
    p.add_argument("reference_file", metavar="REFERENCE")
    p.add_argument("-o", "--output", required=True)
    _method_options(p)
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_fit, model=None)

    p = sub.add_parser("weights", help="print the weights a method gives")
    p.add_argument("input")
    p.add_argument(
        "--method",
        default="instrument",
        metavar="METHOD",
        help=f"{'|'.join(w for w in WEIGHTINGS if w != 'ahp')}|ahp:FILE",
    )
    _method_options(p, weights_flag="")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when AHP judgements are inconsistent (consistency ratio >= 0.10)",
    )
    p.set_defaults(func=cmd_weights)
