"""The ``dmi tiers`` commands: a thin shell over :mod:`dmi.tiers`.

``dmi tiers fit REFERENCE -o MODEL.json [--k N|auto] [--method kmeans|gmm|ward] [--seed S]``
    Fit support tiers on a reference population and print the fit report. REFERENCE is either a
    score table (it has ``dmi`` and ``dim_*`` columns) or an answers file, which is first scored
    with the instrument's own weights (rejected rows are counted and left out).

``dmi tiers report SCORES [--by sector,region,size_class] [--model MODEL.json]``
    Count companies per tier, overall and by group. SCORES needs a ``tier`` column, or ``dim_*``
    columns and a tier model (``--model``, default: the instrument's shipped model).

The shipped default model (``src/dmi/instruments/data/models/tiers-miit-2024-manufacturing.json``)
is made by ``make data`` with::

    dmi tiers fit REFERENCE -o MODEL.json --k 4 --method kmeans --seed 20241

where REFERENCE is the shipped reference population (``instruments/data/reference/``).

Wire into the main parser with ``dmi.cli.tiers.add_commands(subparsers)``; each command sets
``func`` to a function taking the parsed arguments and returning an exit code, and raises
a :class:`~dmi.errors.DmiError` / ``FileNotFoundError`` with a one-line message on bad input.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

import pandas as pd

from dmi.errors import FileFormatError, TierStabilityWarning, UsageError
from dmi.instruments import Instrument, load_instrument
from dmi.io import map_columns, open_table
from dmi.tiers.cluster import METHODS

__all__ = ["add_commands", "cmd_tiers_fit", "cmd_tiers_report"]

DEFAULT_INSTRUMENT = "miit-2024-manufacturing"


def add_commands(subparsers: Any) -> None:
    """Add ``tiers fit`` and ``tiers report`` to the main parser's subparsers."""
    parser = subparsers.add_parser("tiers", help="fit support tiers; count companies per tier")
    sub = parser.add_subparsers(dest="tiers_action", required=True, metavar="ACTION")

    p = sub.add_parser("fit", help="fit support tiers on a reference population, save as JSON")
    p.add_argument(
        "reference",
        metavar="REFERENCE",
        help="score table (dmi, dim_* columns) or answers file (CSV/XLSX/Parquet)",
    )
    p.add_argument("-o", "--output", required=True, metavar="MODEL.json")
    p.add_argument(
        "--k",
        default="4",
        metavar="N|auto",
        help="number of tiers, or auto to choose 2..6 (default 4)",
    )
    p.add_argument("--method", default="kmeans", choices=METHODS)
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--bootstrap",
        type=int,
        default=20,
        metavar="N",
        help="bootstrap refits for the stability check (default 20; 0 skips it)",
    )
    p.add_argument(
        "--instrument",
        default=DEFAULT_INSTRUMENT,
        help=f"shipped name or YAML path (default {DEFAULT_INSTRUMENT})",
    )
    p.set_defaults(func=cmd_tiers_fit)

    p = sub.add_parser("report", help="count companies per tier, overall and by group")
    p.add_argument("scores", metavar="SCORES", help="score table with a tier or dim_* columns")
    p.add_argument(
        "--by",
        default="sector,region,size_class",
        help="comma-separated grouping columns (default sector,region,size_class)",
    )
    p.add_argument(
        "--model",
        metavar="MODEL.json",
        help="tier model for a table without a tier column (default: shipped model)",
    )
    p.add_argument(
        "--instrument",
        default=DEFAULT_INSTRUMENT,
        help=f"shipped name or YAML path (default {DEFAULT_INSTRUMENT})",
    )
    p.set_defaults(func=cmd_tiers_report)


def _parse_k(value: str) -> int | str:
    if value.strip().lower() == "auto":
        return "auto"
    try:
        k = int(value)
    except ValueError:
        k = 0
    if k < 2:
        raise UsageError(f"--k: expected a whole number >= 2 or 'auto', got {value!r}")
    return k


def _numeric_scores(frame: pd.DataFrame, path: str) -> pd.DataFrame:
    """Score columns read as text become numbers; anything unreadable is named."""
    out = frame.copy()
    for column in [
        c
        for c in out.columns
        if c in ("dmi", "tier", "tier_confidence") or str(c).startswith("dim_")
    ]:
        text = out[column].astype(object).map(lambda v: v.strip() if isinstance(v, str) else v)
        values = pd.to_numeric(text.where(text != "", None), errors="coerce")
        bad = values.isna() & text.notna() & (text != "")
        if bad.any():
            first = bad.to_numpy().nonzero()[0][0]
            raise FileFormatError(
                f"{path}: column {column!r} has {int(bad.sum())} values that are "
                f"not numbers (first {text.iloc[first]!r} in data row {first + 1})"
            )
        out[column] = values
    return out


def _is_score_table(columns: list[str]) -> bool:
    return "dmi" in columns and any(str(c).startswith("dim_") for c in columns)


def _read_scores(path: str, instrument: Instrument) -> pd.DataFrame:
    """A score table: read as is, or score an answers file with the instrument's weights."""
    reader = open_table(path)
    if _is_score_table(reader.columns):
        return _numeric_scores(reader.read_all(), path)
    from dmi.scoring.model import IndexModel

    mapping = map_columns(instrument, reader.columns)
    if not set(mapping.rename.values()) - {"respondent_id"}:
        raise FileFormatError(
            f"{path}: neither a score table (no dmi and dim_* columns) nor an "
            f"answers file of {instrument.id} (no column matches an item)"
        )
    answers = reader.read_all().rename(columns=mapping.rename)
    result = IndexModel(instrument).fit().score_batch(answers)
    print(
        f"scored {path} with the weights of {instrument.id}: {result.n_scored} rows scored, "
        f"{result.n_rejected} rejected (left out)",
        file=sys.stderr,
    )
    if result.n_scored == 0:
        raise FileFormatError(f"{path}: no row could be scored ({result.n_rejected} rejected)")
    return result.scores


def cmd_tiers_fit(args: argparse.Namespace) -> int:
    """``dmi tiers fit``: fit, save, print the fit report."""
    from dmi.tiers import TierModel

    instrument = load_instrument(args.instrument)
    k = _parse_k(args.k)
    scores = _read_scores(args.reference, instrument)
    model = TierModel(
        n_tiers=k,
        method=args.method,
        random_state=args.seed,
        n_bootstrap=args.bootstrap,
        instrument=instrument,
    )
    with warnings.catch_warnings():
        # the report lists the instability; a Python warning line would say it twice
        warnings.simplefilter("ignore", TierStabilityWarning)
        model.fit(scores)
    model.save(args.output)
    print(model.report_.to_text())
    print(f"wrote {args.output}")
    return 0


def cmd_tiers_report(args: argparse.Namespace) -> int:
    """``dmi tiers report``: counts and shares per tier, overall and by group."""
    from dmi.tiers import TierModel, format_tier_report, load_shipped_tier_model, tier_report

    frame = _numeric_scores(open_table(args.scores).read_all(), args.scores)
    labels = None
    if "tier" not in frame.columns or args.model:
        instrument = load_instrument(args.instrument)
        model = (
            TierModel.load(args.model, instrument)
            if args.model
            else load_shipped_tier_model(instrument)
        )
        frame = model.assign(frame)
        labels = model.labels_
    by = [c.strip() for c in args.by.split(",") if c.strip()]
    print(format_tier_report(tier_report(frame, by), labels))
    return 0
