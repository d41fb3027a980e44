"""The research commands: a thin shell over :mod:`dmi.analysis`.

``dmi analyse INPUT [--instrument ...] [--method METHOD.yaml] [--reference FILE|input|shipped]
-o REPORT.html [--lang zh|en] [--seed N] [--runs N] [--ahp FILE] [--json OUT.json]``
    The whole analysis (coverage and treatment, reliability, effective weights, the weighting
    schemes side by side, uncertainty and sensitivity) as one self-contained HTML report, and
    every table as JSON; both record what reruns it.

``dmi compare INPUT [--schemes instrument,equal,...] [--ahp FILE] [--reference ...]
[--level ...] [-o COMPANIES.csv] [--json]``
    The weighting schemes side by side: weights, Spearman and Kendall against the instrument's
    own method, the biggest movers, band and tier changes.

Wire into the main parser with ``dmi.cli.analyse.add_commands(subparsers)``; the commands raise
``DmiError`` / ``ValueError`` / ``FileNotFoundError`` with a one-line message on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from dmi.errors import UsageError
from dmi.locales import text

__all__ = ["add_commands", "cmd_analyse", "cmd_compare"]

DEFAULT_INSTRUMENT = "miit-2024-manufacturing"


def _whole(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 0; got {text!r}")
    return number


def _positive(text: str) -> int:
    number = _whole(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1; got {text!r}")
    return number


def _read_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--encoding", help="input encoding (default: detected)")
    p.add_argument("--sheet", help="XLSX sheet (default: the active sheet)")
    p.add_argument("--map", help="CSV (column,code) or YAML mapping of file headers")


def add_commands(subparsers: Any) -> None:
    """Add ``analyse`` and ``compare`` to the main parser's subparsers."""
    p = subparsers.add_parser(
        "analyse",
        help="research report: reliability, treatment, effective weights, schemes, uncertainty",
    )
    p.add_argument("input", metavar="INPUT", help="answers (CSV/XLSX/Parquet)")
    p.add_argument("-o", "--output", required=True, metavar="REPORT.html")
    p.add_argument(
        "--instrument",
        help=f"shipped name or YAML path (default: the method file's, else {DEFAULT_INSTRUMENT})",
    )
    p.add_argument(
        "--method", metavar="METHOD.yaml", help="the method file (default: the default method)"
    )
    p.add_argument(
        "--reference",
        metavar="FILE|input|shipped",
        help="population the methods are fitted on (default: the method file's, else input: "
        "the companies analysed)",
    )
    p.add_argument(
        "--lang", default="zh", choices=("zh", "en"), help="report language (default zh)"
    )
    p.add_argument(
        "--seed",
        type=_whole,
        help="seed of the uncertainty design (default: the method file's, else 0)",
    )
    p.add_argument(
        "--runs",
        type=_positive,
        help="at least this many uncertainty runs (default: the method file's, else 1000)",
    )
    p.add_argument(
        "--ahp", metavar="FILE", help="AHP judgements: YAML [a, b, value] rows or a CSV matrix"
    )
    p.add_argument(
        "--tier-model",
        metavar="FILE|shipped|none",
        help="tier model (default: the method file's, else shipped)",
    )
    p.add_argument(
        "--json", metavar="OUT.json", help="also write every table and the provenance as JSON"
    )
    _read_options(p)
    p.set_defaults(func=cmd_analyse)

    p = subparsers.add_parser(
        "compare", help="weighting schemes side by side (ranks, bands, tiers)"
    )
    p.add_argument("input", metavar="INPUT", help="answers (CSV/XLSX/Parquet)")
    p.add_argument(
        "--instrument",
        default=DEFAULT_INSTRUMENT,
        help=f"shipped name or YAML path (default {DEFAULT_INSTRUMENT})",
    )
    p.add_argument(
        "--schemes",
        default="instrument,equal,entropy,critic,pca,ahp,bod",
        help="comma-separated weightings (default: all; ahp needs --ahp)",
    )
    p.add_argument(
        "--ahp", metavar="FILE", help="AHP judgements: YAML [a, b, value] rows or a CSV matrix"
    )
    p.add_argument(
        "--level",
        default="indicator",
        choices=("item", "indicator", "dimension"),
        help="weight level (default indicator)",
    )
    p.add_argument(
        "--reference",
        metavar="FILE|input|shipped",
        default="input",
        help="population data-driven schemes are fitted on (default input: the companies compared)",
    )
    p.add_argument("--tier-model", metavar="FILE|shipped|none", default="shipped")
    p.add_argument(
        "-o",
        "--output",
        metavar="COMPANIES.csv",
        help="write every company's index, rank, band and tier per scheme",
    )
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.add_argument("--lang", default="en", choices=("zh", "en"), help="language of what is printed")
    _read_options(p)
    p.set_defaults(func=cmd_compare)


def _read_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    from dmi.io import read_mapping_file

    return {
        "encoding": args.encoding,
        "sheet": args.sheet,
        "column_map": read_mapping_file(args.map) if args.map else None,
    }


def cmd_analyse(args: argparse.Namespace) -> int:
    from dmi.analysis import analyse
    from dmi.analysis.text import localise
    from dmi.io import PendingFile

    output = Path(args.output)
    if output.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"-o {args.output}: the report is an HTML file (.html)")
    # the outputs' folders are checked before the analysis runs; the files appear at the end
    pending = [PendingFile(output)] + ([PendingFile(args.json)] if args.json else [])
    try:
        result = analyse(
            args.input,
            instrument=args.instrument,
            method=args.method,
            reference=args.reference,
            seed=args.seed,
            runs=args.runs,
            ahp=args.ahp,
            tier_model=args.tier_model,
            # the mapping file by its path: the command printed to rerun the analysis names it
            read_kwargs={"encoding": args.encoding, "sheet": args.sheet, "column_map": args.map},
        )
        pending[0].path.write_text(result.to_html(args.lang), encoding="utf-8")
        if args.json:
            pending[1].path.write_text(result.json_text(args.lang), encoding="utf-8")
        for file in pending:
            file.commit()
    finally:
        for file in pending:
            file.discard()
    lang = args.lang
    for part, reason in result.problems.items():
        print(
            text(
                "analysis.cli_not_computed",
                lang,
                part=text(f"analysis.part_{part}", lang),
                reason=localise(reason, lang),
            ),
            file=sys.stderr,
        )
    notes = {}
    if result.comparison is not None:
        notes.update(
            {
                text("analysis.cli_scheme", lang, scheme=k): v
                for k, v in result.comparison.not_run.items()
            }
        )
    if result.uncertainty is not None:
        for name, why in result.uncertainty.not_run.items():
            kind, _, option = name.partition(" ")
            notes[f"{text(f'analysis.input_{kind}', lang)} {option}"] = why
    for what, reason in notes.items():
        print(
            text("analysis.cli_not_run", lang, what=what, reason=localise(reason, lang)),
            file=sys.stderr,
        )
    if result.uncertainty is not None:
        for note in result.uncertainty.notes:
            print(
                text("analysis.cli_sensitivity_note", lang, note=localise(note, lang)),
                file=sys.stderr,
            )
    source = result.provenance["input"]
    runs = result.uncertainty.n_runs if result.uncertainty is not None else 0
    written = [str(output)] + ([args.json] if args.json else [])
    print(
        text(
            "analysis.cli_analysed",
            lang,
            valid=source["rows_valid"],
            read=source["rows_read"],
            rejected=source["rows_rejected"],
            runs=runs,
            written=", ".join(written),
        )
    )
    return 0


def _correlation(value: float) -> str:
    """A rank correlation in its column; an undefined one as a dash (the row's note says why)."""
    return f"{value:8.4f}" if value == value else f"{'—':>8}"


def cmd_compare(args: argparse.Namespace) -> int:
    from dmi.analysis import Population, compare_schemes, read_ahp_matrix
    from dmi.analysis.pipeline import load_tier_model
    from dmi.analysis.schemes import MethodSettings, check_schemes
    from dmi.analysis.text import localise
    from dmi.instruments import load_instrument, shipped_reference_population
    from dmi.io import read_answers, write_table

    # before anything is read
    schemes = check_schemes(
        [s.strip() for s in args.schemes.split(",") if s.strip()], name="--schemes"
    )
    instrument = load_instrument(args.instrument)
    kwargs = _read_kwargs(args)
    population = Population.from_answers(
        instrument, read_answers(args.input, instrument, **kwargs), source=args.input
    )
    reference = None
    if args.reference != "input":
        path = (
            shipped_reference_population(instrument)
            if args.reference == "shipped"
            else args.reference
        )
        reference = Population.from_answers(
            instrument, read_answers(path, instrument, **kwargs), source=str(path)
        )
    matrix = None
    if args.ahp:
        matrix = read_ahp_matrix(args.ahp, list(population.hierarchy.codes(args.level)))
    tiers, _ = load_tier_model(args.tier_model, instrument, None)
    result = compare_schemes(
        population,
        schemes=schemes,
        level=args.level,
        reference=reference,
        tier_model=tiers,
        settings=MethodSettings(ahp_matrix=matrix),
    )
    if args.output:
        write_table(result.companies, args.output)
    if args.json:
        from dmi.analysis.pipeline import records

        payload = {
            "instrument": {
                "id": instrument.id,
                "version": instrument.version,
                "hash": instrument.hash,
            },
            "input": args.input,
            "rows_read": population.n_read,
            "rows_valid": population.n,
            "nominal": result.nominal,
            "level": args.level,
            "weights": records(result.weights),
            "summary": records(result.summary),
            "not_run": result.not_run,
        }
        print(json.dumps(payload, ensure_ascii=False, indent=1))
        return 0
    lang = args.lang
    print(
        text(
            "analysis.cli_compared",
            lang,
            valid=population.n,
            read=population.n_read,
            nominal=result.nominal,
        )
    )
    summary = result.summary
    print(
        text(
            "analysis.cli_compare_head",
            lang,
            scheme=text("analysis.col_scheme", lang),
            spearman=text("analysis.col_spearman", lang),
            kendall=text("analysis.col_kendall", lang),
            bands=text("analysis.col_bands", lang),
            tiers=text("analysis.col_tiers", lang),
            move=text("analysis.col_max_move", lang),
        )
    )
    for row in summary.itertuples():
        if row.scheme in result.not_run:
            print(
                text(
                    "analysis.cli_compare_not_run",
                    lang,
                    scheme=row.scheme,
                    reason=localise(result.not_run[row.scheme], lang),
                )
            )
            continue
        tiers_text = (
            "-"
            if row.tier_changed is None or row.tier_changed != row.tier_changed
            else f"{int(row.tier_changed)}"
        )
        print(
            f"  {row.scheme:<11} {_correlation(row.spearman)} {_correlation(row.kendall)} "
            f"{int(row.band_changed):6d} {tiers_text:>6} {row.largest_move:9.1f}"
        )
        if row.notes:
            print(text("analysis.cli_compare_note", lang, blank="", note=localise(row.notes, lang)))
    if args.output:
        print(text("analysis.cli_wrote", lang, path=args.output))
    return 0
