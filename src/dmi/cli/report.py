"""The ``dmi report`` command: one company's report as HTML or PDF, a thin shell over
:mod:`dmi.report`.

``dmi report ANSWERS -o OUT.html|OUT.pdf [--lang zh|en] [--instrument ID] [--row RESPONDENT_ID]``
    ANSWERS is a JSON object of answers (item code -> answer, profile fields too) or a table
    (CSV/XLSX/Parquet, headers as in ``dmi template``) with one row, or several and ``--row``
    naming the respondent. The company is scored with the instrument's own method (the default of
    ``dmi score``), placed in a tier by the instrument's shipped tier model, and compared with
    its peers in the reference population (``--reference``, by default the instrument's shipped
    reference population, scored the same way; ``none`` leaves peers out).

Wire into the main parser with ``dmi.cli.report.add_commands(subparsers)``; the command raises
a :class:`~dmi.errors.DmiError` / ``FileNotFoundError`` with a one-line message on bad input
(exit 2).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from dmi.errors import DmiError, FileFormatError, MissingFileError, UsageError
from dmi.instruments import Instrument, load_instrument, shipped_reference_population
from dmi.instruments.export import template
from dmi.io import map_columns, open_table, read_answers
from dmi.locales import LANGS

if TYPE_CHECKING:  # the report, the model and the tiers need scikit-learn: imported where used
    from dmi.results.peers import PeerBenchmark
    from dmi.scoring.model import AnswerError, IndexModel
    from dmi.tiers import TierModel

__all__ = ["add_commands", "cmd_report", "read_one_company"]

DEFAULT_INSTRUMENT = "miit-2024-manufacturing"
"""The reference population peers are taken from by default (the repository's ``data/``)."""

_KINDS = {".html": "html", ".htm": "html", ".pdf": "pdf"}


def add_commands(subparsers: Any) -> None:
    """Add ``report`` to the main parser's subparsers."""
    p = subparsers.add_parser(
        "report", help="write one company's report (HTML or PDF, zh or en) from its answers"
    )
    p.add_argument(
        "answers",
        metavar="ANSWERS",
        help="JSON object of answers, or a CSV/XLSX/Parquet table (one row, or pick with --row)",
    )
    p.add_argument("-o", "--output", required=True, metavar="OUT.html|OUT.pdf")
    p.add_argument("--lang", default="zh", choices=LANGS, help="report language (default zh)")
    p.add_argument(
        "--instrument",
        default=DEFAULT_INSTRUMENT,
        help=f"shipped name or YAML path (default {DEFAULT_INSTRUMENT})",
    )
    p.add_argument("--row", metavar="RESPONDENT_ID", help="which row of a table to report on")
    p.add_argument(
        "--reference",
        metavar="FILE|none",
        help="population for the peer comparison: answers or a score table (default: the "
        "instrument's shipped reference population, when there is one; none: no peer comparison)",
    )
    p.add_argument(
        "--min-group-size",
        type=int,
        default=30,
        metavar="N",
        help="smallest peer group shown (default 30)",
    )
    p.add_argument(
        "--tier-model",
        metavar="FILE|none",
        help="tier model JSON (default: the instrument's shipped model; none: no tier)",
    )
    p.add_argument("--reference-version", help="reference version to print in the report")
    p.set_defaults(func=cmd_report)


def _clean(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def read_one_company(path: str | Path, instrument: Instrument, row: str | None = None) -> dict:
    """One company's answers from a JSON object or a one-row (or ``row``-picked) table.

    Raises
    ------
    FileFormatError
        When the file holds no usable answers, or several rows with the ``row`` id.
    UsageError
        When the file has several rows and no ``row``, or no row with that id. (Both are
        ``ValueError`` too.)
    FileNotFoundError
        When there is no such file.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"no such answers file: {path}")
    if path.suffix.lower() == ".json":
        if row is not None:
            raise UsageError("--row picks a row of a table; a JSON file holds one company")
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise FileFormatError(f"{path}: not valid JSON ({exc})", path=path) from None
        if not isinstance(data, dict) or not data:
            raise FileFormatError(
                f"{path}: expected a JSON object of answers (item code -> answer), "
                f"got {type(data).__name__ if data else 'an empty object'}"
            )
        bad = [k for k, v in data.items() if isinstance(v, (dict, list))]
        if bad:
            raise FileFormatError(
                f"{path}: answers must be plain values (text or numbers; several choices as "
                f"'A;B'), not lists or objects: {', '.join(map(str, bad[:5]))}"
            )
        return {str(k): _clean(v) for k, v in data.items()}
    frame = read_answers(path, instrument)
    known = set(template(instrument).columns)  # the id, the profile fields and the items
    frame = frame[[c for c in frame.columns if c in known]]
    if row is not None:
        if "respondent_id" not in frame.columns:
            raise FileFormatError(f"{path}: --row needs a respondent_id column, the file has none")
        ids = frame["respondent_id"].astype(str).str.strip()
        frame = frame[ids == row.strip()]
        if frame.empty:
            raise UsageError(f"{path}: no row has respondent_id {row!r}")
        if len(frame) > 1:
            raise FileFormatError(f"{path}: {len(frame)} rows have respondent_id {row!r}")
    elif len(frame) != 1:
        if frame.empty:
            raise FileFormatError(f"{path}: the table has no rows of answers")
        raise UsageError(
            f"{path}: the table has {len(frame)} rows; pick one with --row RESPONDENT_ID"
        )
    record = frame.iloc[0].to_dict()
    return {str(k): _clean(v) for k, v in record.items()}


def _peers(args: argparse.Namespace, model: IndexModel) -> PeerBenchmark | None:
    from dmi.results.peers import PeerBenchmark

    choice = args.reference
    if choice is not None and choice.strip().lower() == "none":
        return None
    if choice:
        path = Path(choice)
        if not path.is_file():
            raise MissingFileError(f"no such reference file: {path}")
    else:
        try:
            path = shipped_reference_population(model.instrument_)
        except FileNotFoundError:  # no population shipped for this instrument: no peers
            return None
    instrument = model.instrument_
    reader = open_table(path)
    if "dmi" in reader.columns and any(str(c).startswith("dim_") for c in reader.columns):
        scores = reader.read_all()
        for column in ["dmi", *[c for c in scores.columns if str(c).startswith("dim_")]]:
            scores[column] = pd.to_numeric(scores[column], errors="coerce")
    else:
        mapping = map_columns(instrument, reader.columns)
        scores = model.score_batch(reader.read_all().rename(columns=mapping.rename)).scores
    # groupings whose columns the reference lacks (a bare score table) are left out
    levels = [lv for lv in PeerBenchmark().levels if all(c in scores.columns for c in lv)]
    return PeerBenchmark(levels, min_group_size=args.min_group_size).fit(scores)


def _tiers(args: argparse.Namespace, instrument: Instrument) -> TierModel | None:
    from dmi.tiers import TierModel, load_shipped_tier_model, shipped_tier_model_path

    choice = args.tier_model
    if choice is not None and choice.strip().lower() == "none":
        return None
    if choice:
        return TierModel.load(choice, instrument)
    if not shipped_tier_model_path(instrument).is_file():
        return None
    return load_shipped_tier_model(instrument)


def _one_line(error: AnswerError) -> str:
    problems = "; ".join(
        f"{r.column}: {r.value!r} ({r.reason})" for r in error.rejects.head(5).itertuples()
    )
    more = f"; and {len(error.rejects) - 5} more" if len(error.rejects) > 5 else ""
    return f"invalid answers: {problems}{more}"


def cmd_report(args: argparse.Namespace) -> int:
    """Write the report of one company; print what was written."""
    from dmi.report import render_html, render_pdf
    from dmi.results.assess import Assessment, assess
    from dmi.scoring.levels import format_index
    from dmi.scoring.model import AnswerError, IndexModel

    output = Path(args.output)
    kind = _KINDS.get(output.suffix.lower())
    if kind is None:
        raise UsageError(f"the report file must end in .html or .pdf, got {output.name!r}")
    if not output.parent.is_dir():
        raise MissingFileError(f"the output folder does not exist: {output.parent}")
    if not Path(args.answers).is_file():  # before the instrument is loaded: fail fast
        raise MissingFileError(f"no such answers file: {args.answers}")
    instrument = load_instrument(args.instrument)
    answers = read_one_company(args.answers, instrument, args.row)
    model = IndexModel(instrument).fit()
    try:
        result: Assessment = assess(
            model, answers, tier_model=_tiers(args, instrument), peers=_peers(args, model)
        )
    except AnswerError as exc:
        raise DmiError(_one_line(exc)) from None
    options = {
        "instrument": instrument,
        "lang": args.lang,
        "reference_version": args.reference_version,
        "answers": answers,
    }
    if kind == "pdf":
        try:
            output.write_bytes(render_pdf(result, **options))
        except ImportError as exc:
            raise UsageError(str(exc)) from None
    else:
        output.write_text(render_html(result, **options), encoding="utf-8")
    level = result.level_label.get(args.lang, str(result.level))
    tier = f", tier {result.tier.tier}" if result.tier is not None else ""
    print(f"wrote {output}: index {format_index(result.dmi, instrument)}, {level}{tier}")
    return 0
