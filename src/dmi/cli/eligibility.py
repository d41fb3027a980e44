"""``dmi eligibility``: the 梯度培育 ladder for a file of firms, and its template and codebook.

- ``dmi eligibility INPUT -o OUT [--policy 2022|2026|FILE] [--rejects FILE] [--summary FILE]
  [--cohort FILE] [--candidates FILE] [--lang zh|en] [--chunk-size N] [--id-column COLUMN]
  [--strict]``: every row evaluated (:func:`dmi.bulk.eligibility.evaluate_file`), on the reading
  and reconciliation machinery of ``dmi score`` (``--id-column`` and ``--strict`` as ``dmi
  score``'s);
- ``dmi eligibility template -o FILE`` / ``dmi eligibility codebook -o FILE``: the empty
  bulk-import file and the data dictionary of the facts (CSV, XLSX or Parquet);
- ``dmi eligibility rules -o FILE [--policy ...] [--year Y]``: the data dictionary of the
  output's condition and route columns, with each rule's source and confidence;
- ``dmi eligibility xlsform -o FILE.xlsx [--no-survey]``: the KoboToolbox / ODK form asking the
  facts after the MIIT survey (``--no-survey``: alone), whose export this command reads.

An option of an evaluation given to template, codebook or rules is refused, not ignored (but
``--policy`` and ``--year``, which say which rules ``rules`` lists).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dmi.errors import FactsFileError, PolicyError, UsageError

__all__ = ["add_commands", "cmd_eligibility"]

ACTIONS = ("template", "codebook", "rules", "xlsform")

EVALUATING = "evaluating a file of firms"
"""What the options of an evaluation are for (their group in ``-h``, the refusal below)."""
EVALUATION_ONLY = (
    "{action}: {options} {verb} to " + EVALUATING + ", not to writing the {action}; "
    "leave {them} out"
)
"""Why ``template`` / ``codebook`` / ``rules`` refuse an option of an evaluation (it would do
nothing)."""

RULES_OPTIONS = ("--policy", "--year")
"""The options of an evaluation that ``rules`` takes: which rules it lists."""

XLSFORM_OPTIONS = ("--no-survey",)
"""The option of an evaluation that ``xlsform`` takes: the form without the survey."""


def _one_line(exc: PolicyError | FactsFileError) -> UsageError:
    """A rule or facts file's problems in one line (the command line's error is one line)."""
    problems = "; ".join(str(p) for p in exc.problems)
    return UsageError(f"{exc.source}: {problems}")


def _gaps(text: str) -> int | None:
    if text == "all":
        return None
    try:
        number = int(text)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of 0 or more, or all; got {text!r}"
        )
    return number


def _positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1; got {text!r}")
    return number


def cmd_eligibility(args: argparse.Namespace) -> int:
    if args.input in ACTIONS:
        return _export(args)
    from dmi.bulk.eligibility import evaluate_file
    from dmi.bulk.run import check_outputs
    from dmi.cli.score import _column_map, rejected_lines, row_progress

    # before the map is read (evaluate_file checks them again, for its other callers)
    outputs = (args.output, args.rejects, args.cohort, args.summary, args.candidates)
    reads = {"the column map": args.map, "the rule file": args.policy}
    check_outputs(*outputs, input_path=args.input, reads=reads)
    custom = _column_map(args.map) if args.map else None
    try:
        with row_progress(args.quiet) as progress:
            summary, mapping = evaluate_file(
                args.input,
                args.output,
                policy=args.policy,
                year=args.year,
                lang=args.lang,
                max_gaps=args.max_gaps,
                rejects_path=args.rejects,
                summary_path=args.summary,
                cohort_path=args.cohort,
                candidates_path=args.candidates,
                encoding=args.encoding,
                sheet=args.sheet,
                column_map=custom,
                id_column=args.id_column,
                chunk_rows=args.chunk_size,
                duplicates=args.duplicates,
                survey=not args.no_survey,
                progress=progress,
            )
    except (PolicyError, FactsFileError) as exc:
        raise _one_line(exc) from None
    for note in summary.notes:
        print(f"note: {note}", file=sys.stderr)
    if not args.quiet:
        from dmi.eligibility.headers import ignored_lines

        for line in ignored_lines(mapping):  # each column once, where it says why
            print(line, file=sys.stderr)
        from dmi.eligibility import status_label

        # a line per rung and rule version applied (a 2026 小巨人 复核 is judged under 2022)
        for rung, by_policy in summary.statuses_by_policy.items():
            for policy, counts in by_policy.items():
                shown = ", ".join(f"{status_label(s, args.lang)} {n}" for s, n in counts.items())
                print(f"{rung} ({policy}): {shown}")
        for line in rejected_lines(summary.rejected_rows_by_reason, args.rejects):
            print(line)
        written = [args.output] + [
            p for p in (args.rejects, args.cohort, args.candidates, args.summary) if p
        ]
        print(f"wrote {', '.join(written)}")
    print(summary.line())
    return 1 if args.strict and summary.rejected else 0


def _export(args: argparse.Namespace) -> int:
    from dmi.eligibility import facts_codebook, facts_template, rules_codebook
    from dmi.io import write_table

    taken = {"rules": RULES_OPTIONS, "xlsform": XLSFORM_OPTIONS}.get(args.input, ())
    _refuse_evaluation_options(args, taken)
    if args.input == "xlsform":
        from dmi.cli.tools import write_xlsform
        from dmi.eligibility import facts_xlsform

        if not str(args.output).lower().endswith(".xlsx"):
            raise UsageError(f"an XLSForm is an .xlsx workbook; got {args.output}")
        sheets = facts_xlsform(survey=not args.no_survey)
        write_xlsform(sheets, args.output)
        questions = sheets["survey"]["type"].map(lambda k: k not in ("begin_group", "end_group"))
        n = int(questions.sum())
        print(f"wrote {args.output}: {n} questions (sheets survey, choices, settings)")
        return 0
    if args.input == "rules":
        try:
            table = rules_codebook(args.policy, year=args.year)
        except PolicyError as exc:
            raise _one_line(exc) from None
        write_table(table, args.output)
        print(f"wrote {args.output}: {len(table)} condition and route columns described")
        return 0
    table = facts_template() if args.input == "template" else facts_codebook()
    write_table(table, args.output)
    if args.input == "template":
        print(f"wrote {args.output}: {len(table.columns)} columns")
    else:
        print(
            f"wrote {args.output}: {len(table)} rows, {table['column'].nunique()} facts described"
        )
    return 0


def _refuse_evaluation_options(args: argparse.Namespace, taken: tuple[str, ...] = ()) -> None:
    """Refuse, for ``template`` / ``codebook`` / ``rules``, every evaluation option given but
    those ``taken``.

    An option counts as given when its value is not the parser's default (a default given
    explicitly, ``--lang zh``, changes nothing, and passes).
    """
    given = [
        flag
        for flag, (dest, default) in args.evaluation_defaults.items()
        if getattr(args, dest) != default and flag not in taken
    ]
    if not given:
        return
    options = given[0] if len(given) == 1 else f"{', '.join(given[:-1])} and {given[-1]}"
    one = len(given) == 1
    raise UsageError(
        EVALUATION_ONLY.format(
            action=args.input,
            options=options,
            verb="applies" if one else "apply",
            them="it" if one else "them",
        )
    )


def add_commands(sub: Any) -> None:
    """Add ``eligibility`` to the main parser's subparsers."""
    from dmi.bulk.run import DUPLICATE_POLICIES
    from dmi.cli.score import STRICT_ROWS_HELP, add_id_column_option

    p = sub.add_parser(
        "eligibility",
        help="where firms stand on the 梯度培育 ladder (创新型 / 专精特新 / 小巨人); "
        "also `eligibility template|codebook|rules|xlsform -o FILE`",
    )
    p.add_argument(
        "input",
        metavar="INPUT|template|codebook|rules|xlsform",
        help="a facts file (CSV/XLSX/Parquet), or template / codebook (of the facts) / rules "
        "(of the output's condition columns, by --policy and --year) / xlsform (a KoboToolbox "
        "form asking the facts after the MIIT survey, or alone with --no-survey) to write those",
    )
    p.add_argument("-o", "--output", required=True, help="CSV, XLSX or Parquet")
    # the options of an evaluation in their own group: template and codebook refuse them
    run = p.add_argument_group(
        f"{EVALUATING} (not template, codebook or rules; rules takes --policy and --year)"
    )
    evaluation = [
        run.add_argument(
            "--policy",
            metavar="2022|2026|FILE",
            help="the rules: a shipped version or a rule file (default: the version in force "
            "today, 2026 from 2026-04-01)",
        ),
        run.add_argument("--year", type=int, help="application year (default: the policy's first)"),
        run.add_argument(
            "--lang",
            default="zh",
            choices=("zh", "en"),
            help="language of the gaps and flags (a 问卷星 export's rows answered implausibly "
            "fast among them) and of the provinces' and sectors' names in --cohort and "
            "--candidates (default: zh)",
        ),
        run.add_argument(
            "--max-gaps",
            type=_gaps,
            default=3,
            metavar="N|all",
            help="gaps listed per firm (default 3; 0 none)",
        ),
        run.add_argument("--rejects", help="write the rejected rows' problems here"),
        run.add_argument("--summary", help="write the run summary as JSON here"),
        run.add_argument(
            "--cohort",
            help="write firms per rung and status by province, city and sector, the firms one "
            "condition away and the conditions most often missing",
        ),
        run.add_argument(
            "--candidates",
            help="write the candidates: firms eligible, with only manual review left, or one "
            "condition away, per rung",
        ),
        run.add_argument(
            "--duplicates",
            default="reject",
            choices=DUPLICATE_POLICIES,
            help="repeated respondent ids (default: reject every occurrence)",
        ),
        run.add_argument(
            "--chunk-size",
            type=_positive_int,
            default=50_000,
            help="rows read and evaluated at a time (default 50000)",
        ),
        run.add_argument("--encoding", help="input encoding (default: detected)"),
        run.add_argument("--sheet", help="XLSX sheet (default: the active sheet)"),
        run.add_argument(
            "--map",
            help="CSV (column,code) or YAML mapping of file headers to facts or survey items",
        ),
        add_id_column_option(run),  # dmi score's: the layout takes the ids from it
        run.add_argument(
            "--no-survey",
            action="store_true",
            help="do not score the MIIT survey's item columns (use the digital_level column) "
            "nor take facts from its profile answers; with xlsform, a form of the facts alone",
        ),
        run.add_argument("--strict", action="store_true", help=STRICT_ROWS_HELP),
    ]
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or details")
    p.set_defaults(
        func=cmd_eligibility,
        evaluation_defaults={a.option_strings[-1]: (a.dest, a.default) for a in evaluation},
    )
