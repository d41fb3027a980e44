"""The survey-tool commands: ``dmi wjx`` (the text of a 问卷星 survey) and ``dmi xlsform``
(an XLSForm for KoboToolbox and ODK). Their exports are read back by ``dmi score`` (``--from``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from dmi.errors import UsageError
from dmi.instruments import load_instrument
from dmi.io import PendingFile
from dmi.locales import LANGS

__all__ = ["add_commands", "cmd_wjx", "cmd_xlsform", "write_xlsform"]


def write_xlsform(sheets: dict[str, Any], path: str | Path) -> None:
    """Write an XLSForm's sheets (tables of text) to ``path``, all or nothing.

    Every cell is written as text, so that nothing in a label is taken for a formula
    (:func:`dmi.instruments.export.xlsform.xlsform_bytes`)."""
    from dmi.instruments.export.xlsform import xlsform_bytes

    data = xlsform_bytes(sheets)
    with PendingFile(path) as pending:
        pending.path.write_bytes(data)


def cmd_xlsform(args: argparse.Namespace) -> int:
    from dmi.instruments.export.xlsform import xlsform_sheets

    if Path(args.output).suffix.lower() != ".xlsx":
        raise UsageError(f"{args.output}: an XLSForm is an .xlsx workbook; name the output *.xlsx")
    instrument = load_instrument(args.instrument)
    sheets = xlsform_sheets(instrument)
    write_xlsform(sheets, args.output)
    questions = sum(1 for t in sheets["survey"]["type"] if not t.endswith("_group"))
    print(
        f"wrote {args.output}: {questions} questions, {len(sheets['choices'])} choices "
        f"(sheets survey, choices, settings)"
    )
    return 0


def cmd_wjx(args: argparse.Namespace) -> int:
    from dmi.instruments.export.wjx import wjx_questions, wjx_text

    instrument = load_instrument(args.instrument)
    text = wjx_text(instrument, args.lang)
    with PendingFile(args.output) as pending:
        pending.path.write_text(text, encoding="utf-8")
    print(
        f"wrote {args.output}: {len(wjx_questions(instrument))} questions to paste into "
        "问卷星's text import (批量导入); score its export with `dmi score EXPORT`"
    )
    return 0


def add_commands(sub: Any) -> None:
    """Add ``wjx`` and ``xlsform`` to the main parser's subparsers."""
    p = sub.add_parser("wjx", help="write the question text of a 问卷星 (wjx.cn) survey")
    p.add_argument("instrument", help="shipped name or YAML path")
    p.add_argument("-o", "--output", required=True, help="a text file (UTF-8)")
    p.add_argument("--lang", default="zh", choices=LANGS, help="the survey's language")
    p.set_defaults(func=cmd_wjx)

    p = sub.add_parser("xlsform", help="write an XLSForm (KoboToolbox, ODK) of an instrument")
    p.add_argument("instrument", help="shipped name or YAML path")
    p.add_argument("-o", "--output", required=True, help="an .xlsx file")
    p.set_defaults(func=cmd_xlsform)
