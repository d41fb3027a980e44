"""The ``dmi`` command: a thin shell over the library.

Exit codes: 0 the job was done (rows may still have been rejected: see the summary); 1 ``--strict``
and some rows were rejected, or an instrument check found problems; 2 a file-level failure or a
usage mistake, reported in one plain line (no stack trace); 3 an internal error: the counts of a
``dmi score`` run did not reconcile (a bug; no output was written).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from dmi.bulk.run import DUPLICATE_POLICIES, ReconciliationError, score_file
from dmi.cli.app import add_commands as add_app_commands
from dmi.cli.report import add_commands as add_report_commands
from dmi.cli.tiers import add_commands as add_tier_commands
from dmi.errors import UsageError
from dmi.instruments import Instrument, InstrumentError, available_instruments, load_instrument
from dmi.instruments.export import codebook, template
from dmi.io import FileFormatError, read_answers, read_mapping_file, write_table
from dmi.scoring.aggregate import AGGREGATIONS
from dmi.scoring.model import WEIGHT_LEVELS, WEIGHTINGS, AnswerError, IndexModel
from dmi.scoring.normalise import NORMALISATIONS
from dmi.tiers import TierModel, shipped_tier_model_path

__all__ = ["main"]

DEFAULT_INSTRUMENT = "miit-2024-manufacturing"


def _positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1; got {text!r}")
    return number


def _instrument(name: str) -> Instrument:
    return load_instrument(name)


def _read_answers(path: str, instrument: Instrument, args: argparse.Namespace) -> pd.DataFrame:
    return read_answers(
        path,
        instrument,
        encoding=getattr(args, "encoding", None),
        sheet=getattr(args, "sheet", None),
        column_map=read_mapping_file(args.map) if getattr(args, "map", None) else None,
    )


def _parse_ahp_file(path: str, nodes: list[str]) -> np.ndarray:
    """An AHP matrix file: CSV with node codes as header and first column, or YAML judgements."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no such AHP matrix file: {path}")
    if file.suffix.lower() in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "judgements" not in data:
            raise UsageError(f"{path}: expected a 'judgements' list of [a, b, value] rows")
        judgements = {(str(a), str(b)): float(v) for a, b, v in data["judgements"]}
        return _matrix_from_judgements(nodes, judgements, path)
    frame = pd.read_csv(file, index_col=0)
    codes = [str(c) for c in frame.columns]
    if sorted(codes) != sorted(nodes) or sorted(map(str, frame.index)) != sorted(nodes):
        raise UsageError(
            f"{path}: the matrix must have exactly the nodes {', '.join(nodes)} as "
            f"header and first column, got {', '.join(codes)}"
        )
    frame.index = frame.index.map(str)
    frame.columns = codes
    return frame.loc[nodes, nodes].to_numpy(dtype=float)


def _matrix_from_judgements(
    nodes: list[str], judgements: dict[tuple[str, str], float], path: str
) -> np.ndarray:
    n = len(nodes)
    matrix = np.ones((n, n))
    index = {code: i for i, code in enumerate(nodes)}
    for (a, b), value in judgements.items():
        if a not in index or b not in index:
            raise UsageError(
                f"{path}: judgement ({a}, {b}) names a code that is not one of {', '.join(nodes)}"
            )
        matrix[index[a], index[b]] = value
        matrix[index[b], index[a]] = 1.0 / value
    return matrix


def _model_from_args(args: argparse.Namespace, instrument: Instrument) -> IndexModel:
    method = args.weights
    ahp_matrix = None
    if method.startswith("ahp:"):
        probe = IndexModel(instrument, weighting="ahp", weight_level=args.level, ahp_matrix=[[1.0]])
        ahp_matrix = _parse_ahp_file(method[4:], probe.nodes())
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
    )


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
        return IndexModel.load(args.model, instrument)
    model = _model_from_args(args, instrument)
    if model._needs_data():
        choice = args.reference
        if choice is None:
            from dmi.instruments import shipped_reference_population

            path = shipped_reference_population(instrument)
            model.fit(read_answers(path, instrument))  # the shipped file needs no --map
            where = f"the instrument's shipped reference population ({path.name})"
            after = "; pass --reference FILE to fit on another population"
        elif choice == REFERENCE_INPUT and input_path is not None:
            model.fit(_read_answers(input_path, instrument, args))
            where = f"the input file itself ({input_path})"
            after = (
                ": the scores depend on which companies are in the file (the same company "
                "scores differently in another file)"
            )
        else:
            model.fit(_read_answers(choice, instrument, args))
            where, after = choice, ""
        print(
            f"note: the method ({_method_name(args)}) was fitted on {where}, "
            f"{model.fit_info_['rows_used']} valid rows{after}",
            file=sys.stderr,
        )
    else:
        model.fit()
    for note in model.fit_info_["notes"]:
        print(f"note: {note}", file=sys.stderr)
    return model


def _method_name(args: argparse.Namespace) -> str:
    return (
        f"{args.weights} weights, {args.normalisation} normalisation, "
        f"{args.aggregation} aggregation"
    )


# -- commands ---------------------------------------------------------------------------------


def cmd_score(args: argparse.Namespace) -> int:
    instrument = _instrument(args.instrument)
    custom = read_mapping_file(args.map) if args.map else None
    if args.engine == "dask":
        from dmi.bulk.engines.dask import _import_dask

        _import_dask()  # fail early, before a reference fit, when the extra is missing
    model = _fit_model(args, instrument, input_path=args.input)
    tier_model = _tier_model(args, instrument, model)
    progress = None
    bar = None
    if not args.quiet and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit=" rows", unit_scale=True, file=sys.stderr)

        def progress(done: int) -> None:
            bar.update(done - bar.n)

    try:
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
        )
    finally:
        if bar is not None:
            bar.close()
    for note in summary.notes:
        print(f"note: {note}", file=sys.stderr)
    if not args.quiet:
        if mapping.unmatched:
            print(
                f"ignored columns (no match in {instrument.id}): {', '.join(mapping.unmatched)}",
                file=sys.stderr,
            )
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
        for reason, count in list(summary.rejected_rows_by_reason.items())[:8]:
            print(f"  rejected: {count} rows, {reason}")
        written = [args.output] + [p for p in (args.rejects, args.cohort, args.summary) if p]
        print(f"wrote {', '.join(written)}")
    print(summary.line())
    return 1 if args.strict and summary.rejected else 0


def _tier_model(
    args: argparse.Namespace, instrument: Instrument, model: IndexModel
) -> TierModel | None:
    """The tier model to add ``tier`` and ``tier_confidence`` with, if any."""
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
    instrument = _instrument(args.instrument)
    args.reference = args.reference_file  # the population is the command's argument
    model = _fit_model(args, instrument)
    if not model._needs_data():
        model.fit(_read_answers(args.reference_file, instrument, args))
    model.save(args.output)
    print(f"wrote {args.output}: {model!r}, fitted on {model.fit_info_['rows_used']} rows")
    return 0


def cmd_weights(args: argparse.Namespace) -> int:
    instrument = _instrument(args.instrument)
    args.weights = args.method
    args.reference = args.input
    model = _model_from_args(args, instrument)
    model.fit(_read_answers(args.input, instrument, args))
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
        if model.ahp_ is not None:
            payload["ahp"] = {
                "cr": model.ahp_.cr,
                "consistent": bool(model.ahp_.consistent),
                "lambda_max": model.ahp_.lambda_max,
            }
        if model.fit_info_["notes"]:
            payload["notes"] = model.fit_info_["notes"]
        print(json.dumps(payload, ensure_ascii=False, indent=1))
        return 0
    print(
        f"{args.method} weights at the {args.level} level "
        f"({model.fit_info_['rows_used']} rows, {args.normalisation} normalisation):"
    )
    width = max(len(code) for code in table["code"])
    for row in table.itertuples():
        zh, en = labels.get(row.code, ("", ""))
        print(f"  {row.code:<{width}}  {row.weight:8.4f}  {zh} / {en}")
    if model.ahp_ is not None:
        verdict = "acceptable" if model.ahp_.consistent else "NOT acceptable (>= 0.10)"
        print(f"AHP consistency ratio {model.ahp_.cr:.4f}: {verdict}")
    for note in model.fit_info_["notes"]:
        print(f"note: {note}")
    return 0


def cmd_instrument_check(args: argparse.Namespace) -> int:
    try:
        instrument = load_instrument(args.path)
    except InstrumentError as exc:
        print(str(exc))
        return 1
    n_scored = sum(1 for d in instrument.dimensions if instrument.dimension_weight(d) > 0)
    print(
        f"{args.path}: ok — {instrument.id} {instrument.version}: "
        f"{len(instrument.dimensions)} dimensions ({n_scored} weighted), "
        f"{len(instrument.indicators)} indicators, {len(instrument.items)} items"
    )
    for dimension in instrument.dimensions:
        points = sum(instrument.max_points(i) for ind in dimension.indicators for i in ind.items)
        print(
            f"  {dimension.code:<14} weight {instrument.dimension_weight(dimension):g}"
            f"  max points {points:g}  {dimension.zh} / {dimension.en}"
        )
    return 0


def cmd_instrument_list(args: argparse.Namespace) -> int:
    for name in available_instruments():
        instrument = load_instrument(name)
        print(f"{name}  {instrument.version}  {instrument.title.zh} / {instrument.title.en}")
    return 0


def cmd_codebook(args: argparse.Namespace) -> int:
    table = codebook(_instrument(args.instrument))
    write_table(table, args.output)
    print(f"wrote {args.output}: {len(table)} rows, {table['column'].nunique()} columns described")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    table = template(_instrument(args.instrument))
    write_table(table, args.output)
    print(f"wrote {args.output}: {len(table.columns)} columns")
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    from dmi.instruments.synth import (
        synthesise,  # scipy's import costs ~1 s that `dmi score` need not pay
    )

    frame = synthesise(
        args.instrument, args.n, args.seed, missing_rate=args.missing_rate, messy=args.messy
    )
    write_table(frame, args.output)
    print(f"wrote {args.output}: {len(frame)} synthetic companies (seed {args.seed})")
    return 0


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
    parser.add_argument("--encoding", help="input encoding (default: detected)")
    parser.add_argument("--sheet", help="XLSX sheet (default: the active sheet)")
    parser.add_argument("--map", help="CSV (column,code) or YAML mapping of file headers")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dmi", description="SME Digital Maturity Index (中小企业数字化发展指数)"
    )
    parser.add_argument("--version", action="version", version="dmi 0.1.0")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    p.add_argument("--strict", action="store_true", help="exit 1 when any row was rejected")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or details")
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
    p.set_defaults(func=cmd_weights)

    add_tier_commands(sub)
    add_report_commands(sub)
    add_app_commands(sub)
    __import__("dmi.cli.analyse", fromlist=["add_commands"]).add_commands(sub)

    p = sub.add_parser("instrument", help="check or list instruments")
    isub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    c = isub.add_parser("check", help="validate an instrument file")
    c.add_argument("path")
    c.set_defaults(func=cmd_instrument_check)
    c = isub.add_parser("list", help="list the shipped instruments")
    c.set_defaults(func=cmd_instrument_list)

    p = sub.add_parser("codebook", help="write the data dictionary of an instrument")
    p.add_argument("instrument")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_codebook)

    p = sub.add_parser("template", help="write the empty bulk-import file")
    p.add_argument("instrument")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("synth", help="generate seeded synthetic answers")
    p.add_argument("instrument")
    p.add_argument("-n", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--missing-rate", type=float, default=0.02)
    p.add_argument(
        "--messy",
        action="store_true",
        help="plant formatting variants and one row per kind of bad input",
    )
    p.set_defaults(func=cmd_synth)
    return parser


def _message(exc: BaseException, text: str | None = None) -> str:
    """An error's one line: its message (or ``text``), then its notes (what a failed run
    left behind, say)."""
    if text is None:
        text = str(exc).strip().strip('"') or type(exc).__name__
    return "; ".join([text, *getattr(exc, "__notes__", ())])


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dmi`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ReconciliationError as exc:  # a bug, never a user mistake
        print(f"dmi: {_message(exc)}", file=sys.stderr)
        return 3
    except (
        UsageError,
        FileFormatError,
        FileNotFoundError,
        InstrumentError,
        AnswerError,
        ValueError,
        KeyError,
    ) as exc:
        print(f"dmi: error: {_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(f"dmi: {_message(exc, 'interrupted')}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
