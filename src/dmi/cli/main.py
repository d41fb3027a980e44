"""The ``dmi`` command: the parser, :func:`main` and what an error becomes.

The commands live in one module per group: :mod:`~dmi.cli.score` (score, fit, weights),
:mod:`~dmi.cli.instruments` (instrument list/check, codebook, template, synth),
:mod:`~dmi.cli.tiers`, :mod:`~dmi.cli.report`, :mod:`~dmi.cli.app`, :mod:`~dmi.cli.eligibility` and
:mod:`~dmi.cli.tools` (wjx, xlsform).

Exit codes: 0 the job was done (rows may still have been rejected: see the summary); 1 ``--strict``
and some rows were rejected, or an instrument check found problems; 2 a problem with what the
user gave (a :class:`~dmi.errors.DmiError`: a file, an instrument, answers, a model file, an
option value; a file that is not there or cannot be opened), said in one plain line; 3 an internal
error, a bug in dmi (any other exception, such as a ``dmi score`` run whose counts do not
reconcile): one line, and how to see the traceback (``--debug``) and report it; 130 stopped with
Ctrl-C.
"""

from __future__ import annotations

import argparse
import errno
import sys
import traceback
from collections.abc import Sequence

from dmi.cli.analyse import add_commands as add_analysis_commands
from dmi.cli.app import add_commands as add_app_commands
from dmi.cli.eligibility import add_commands as add_eligibility_commands
from dmi.cli.instruments import add_commands as add_instrument_commands
from dmi.cli.report import add_commands as add_report_commands
from dmi.cli.score import add_commands as add_score_commands
from dmi.cli.tiers import add_commands as add_tier_commands
from dmi.cli.tools import add_commands as add_tool_commands
from dmi.errors import DmiError

__all__ = ["build_parser", "main"]

ISSUES = "the dmi issue tracker"
"""Where a bug is reported (said by the hint of an internal error)."""

DEBUG_FLAG = "--debug"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dmi", description="SME Digital Maturity Index (中小企业数字化发展指数)"
    )
    parser.add_argument("--version", action="version", version="dmi 0.1.0")
    parser.add_argument(
        DEBUG_FLAG,
        action="store_true",
        help="on an error, show the traceback (accepted anywhere on the line)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_score_commands(sub)
    add_tier_commands(sub)
    add_report_commands(sub)
    add_app_commands(sub)
    add_analysis_commands(sub)
    add_instrument_commands(sub)
    add_tool_commands(sub)
    add_eligibility_commands(sub)
    return parser


def _message(exc: BaseException, text: str | None = None) -> str:
    """An error's one line: its message (or ``text``), then its notes (what a failed run
    left behind, say)."""
    if text is None:
        text = str(exc).strip().strip('"') or type(exc).__name__
    return "; ".join([text, *getattr(exc, "__notes__", ())])


_ENVIRONMENT = frozenset({errno.ENOSPC, errno.EDQUOT})
"""Errors of the machine, not of dmi: a full disk, a quota reached."""


def _user_problem(exc: BaseException) -> str | None:
    """The one line that tells the user what was wrong with what they gave, or None when
    ``exc`` is a bug in dmi."""
    if isinstance(exc, DmiError):
        return _message(exc)
    if isinstance(exc, OSError):
        if exc.filename is not None and exc.strerror:  # a file the user named, as the OS says
            return _message(exc, f"{exc.filename}: {exc.strerror}")
        if isinstance(exc, FileNotFoundError) or exc.errno in _ENVIRONMENT:
            return _message(exc, exc.strerror or None)
    return None


def _internal_error(exc: BaseException, debug: bool) -> None:
    """Say that dmi failed (not the user), and how to report it."""
    prefix = "internal error: "
    text = str(exc).strip().strip('"')
    if text.startswith(prefix):  # a ReconciliationError says it already
        text = text[len(prefix) :]
    else:
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    print(f"dmi: {prefix}{_message(exc, text)}", file=sys.stderr)
    seen = "the traceback is above" if debug else f"run the command again with {DEBUG_FLAG} to see"
    print(
        f"dmi: this is a bug in dmi, not a problem with your input: {seen}"
        f"{'' if debug else ' the traceback'}, and report it on {ISSUES} with the command and "
        "the traceback",
        file=sys.stderr,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dmi`` console script (see the module's exit codes)."""
    words = list(sys.argv[1:] if argv is None else argv)
    # --debug is taken anywhere on the line, so it can be added to a command that failed
    debug = DEBUG_FLAG in words
    args = build_parser().parse_args([w for w in words if w != DEBUG_FLAG])
    try:
        return int(args.func(args))
    except KeyboardInterrupt as exc:
        if debug:
            traceback.print_exc()
        print(f"dmi: {_message(exc, 'interrupted')}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of the output went away (`dmi ... | head`)
        return 0
    except Exception as exc:
        if debug:
            traceback.print_exc()
        problem = _user_problem(exc)
        if problem is not None:
            print(f"dmi: error: {problem}", file=sys.stderr)
            return 2
        _internal_error(exc, debug)
        return 3


if __name__ == "__main__":
    sys.exit(main())
