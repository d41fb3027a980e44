"""Every exception and warning dmi raises on purpose, in one place.

A :class:`DmiError` is a problem with what the user gave dmi (a file, an instrument, answers, a
model file, a call made before ``fit``): the command line prints its message as one line and
exits 2, the app words it in the page's language. Any other exception is a bug in dmi: the
command line exits 3 with "internal error" (``--debug`` shows the traceback).

This module imports nothing heavy: it is imported while ``dmi score`` is still starting.
:class:`NotFittedError` is also scikit-learn's ``NotFittedError``; it is made the first time it
is asked for, because importing scikit-learn takes a second or more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AnswerError",
    "ApplicationYearError",
    "DataError",
    "DmiError",
    "FactsError",
    "FactsFileError",
    "FactsNoteWarning",
    "FileFormatError",
    "IgnoredColumnsWarning",
    "InstrumentError",
    "InstrumentProblem",
    "MissingExtraError",
    "MissingFileError",
    "MethodWarning",
    "ModelFileError",
    "NotComputable",
    "NotFittedError",  # noqa: F822 (made on first use, see __getattr__)
    "ParameterError",
    "PasswordTooShort",
    "PolicyError",
    "ReconciliationError",
    "SecretsChanged",
    "TierStabilityWarning",
    "UsageError",
]


class DmiError(Exception):
    """A problem with what was given to dmi (not a bug): said in one plain message."""


class MissingFileError(DmiError, FileNotFoundError):
    """A file, or a shipped instrument or policy asked for by name, is not there (also a
    ``FileNotFoundError``, as Python's own is)."""


@dataclass(frozen=True)
class InstrumentProblem:
    """One problem found in an instrument file."""

    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


class InstrumentError(DmiError, ValueError):
    """An instrument file could not be loaded; ``problems`` lists every problem found."""

    def __init__(self, source: str, problems: Sequence[InstrumentProblem]):
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in problems)
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{source}: {count} in the instrument file:\n{lines}")


class AnswerError(DmiError, ValueError):
    """Some answers are invalid; ``rejects`` holds every problem (row, column, value, reason)."""

    def __init__(self, rejects: pd.DataFrame, n_rows: int):
        self.rejects = rejects
        bad_rows = rejects["row"].nunique()
        first = rejects.head(5)
        lines = "\n".join(
            f"  row {r.row}, column {r.column}: {r.value!r} - {r.reason}"
            for r in first.itertuples()
        )
        more = f"\n  ... and {len(rejects) - 5} more" if len(rejects) > 5 else ""
        super().__init__(
            f"{bad_rows} of {n_rows} rows have invalid answers "
            f"({len(rejects)} problem{'' if len(rejects) == 1 else 's'}):\n"
            f"{lines}{more}"
        )


def _problem_lines(source: str, problems: Sequence[Any], what: str) -> str:
    lines = "\n".join(f"  - {p}" for p in problems)
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    return f"{source}: {count} in the {what}:\n{lines}"


class FactsError(DmiError, ValueError):
    """Some 梯度培育 facts are invalid; ``rejects`` holds every problem (row, column, value,
    reason), as :class:`AnswerError` does for survey answers.

    ``n_rows`` is None for one firm's facts (a dict): the message names the facts, not rows.
    """

    def __init__(self, rejects: pd.DataFrame, n_rows: int | None):
        self.rejects = rejects
        one_firm = n_rows is None
        lines = "\n".join(
            f"  {r.column}: {r.value!r} - {r.reason}"
            if one_firm
            else f"  row {r.row}{_named(r)}, column {r.column}: {r.value!r} - {r.reason}"
            for r in rejects.head(5).itertuples()
        )
        more = f"\n  ... and {len(rejects) - 5} more" if len(rejects) > 5 else ""
        problems = f"{len(rejects)} problem{'' if len(rejects) == 1 else 's'}"
        head = (
            f"the firm's facts are invalid ({problems})"
            if one_firm
            else f"{rejects['row'].nunique()} of {n_rows} rows have invalid facts ({problems})"
        )
        super().__init__(f"{head}:\n{lines}{more}")


def _named(row: Any) -> str:
    """`` (id F1)`` for a reject of a row with an id (the caller's, not its row number, which
    names a row without one), else ``""``."""
    rid = getattr(row, "respondent_id", None)
    if rid is None or (isinstance(rid, float) and rid != rid) or not str(rid).strip():
        return ""
    if str(rid) == str(row.row):
        return ""
    return f" (id {rid})"


class FactsFileError(DmiError, ValueError):
    """The 梯度培育 facts table could not be loaded; ``problems`` lists every problem found."""

    def __init__(self, source: str, problems: Sequence[Any]):
        self.source = source
        self.problems = list(problems)
        super().__init__(_problem_lines(source, problems, "facts file"))


class PolicyError(DmiError, ValueError):
    """A 梯度培育 rule file could not be loaded (or a name is not a shipped policy);
    ``problems`` lists every problem, each naming the field."""

    def __init__(self, source: str, problems: Sequence[Any]):
        self.source = source
        self.problems = list(problems)
        super().__init__(_problem_lines(source, problems, "rule file"))


class FileFormatError(DmiError, ValueError):
    """A file cannot be read as a table (a file-level failure, not a problem of one row).

    The message names the file and what was expected, for the command line. The attributes say
    the same as data, for an interface that words it in its own language and names the file as
    its user knows it.

    Attributes
    ----------
    path : Path or None
        The file.
    problem : str or None
        What is wrong: ``file_type`` (``suffix``), ``empty``, ``no_header``, ``decode``
        (``encoding``: the start of the file is not in it), ``csv_unreadable`` (``encoding``,
        ``row``: it fails near that row), ``xlsx_unreadable``, ``parquet_unreadable``,
        ``no_sheet`` (``sheet``, ``sheets``), ``sheet_in_doubt`` (``sheet``, ``sheets``),
        ``no_items`` (``instrument``: no column is an item), ``no_header_row`` (``rows``,
        ``sheet``, ``instrument``: none of an XLSX sheet's first rows names an item), ``xls``
        (an ``.xls`` file that is no .xlsx workbook: an Excel 97-2003 one, or none); None for
        the others.
    details : dict
        The values named in parentheses above.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        problem: str | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.path = None if path is None else Path(path)
        self.problem = problem
        self.details = details


class DataError(DmiError, ValueError):
    """Data given to a model cannot be used as it is: a score table without the columns it
    needs, a column that is not numbers or is constant, too few rows, scores of another
    instrument. The message names the column, the first row and what was expected."""


class ModelFileError(DmiError, ValueError):
    """A saved model, reference or method file is not what dmi wrote: names the file and the
    field (``source``, ``field``: dotted, e.g. ``index_model.weights``, or "" for the whole
    file) and says what is wrong (``problem``)."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        where = f", field {field}" if field else ""
        super().__init__(f"{source}{where}: {problem}")


class NotComputable(DmiError, ValueError):
    """A statistic cannot be computed on these data (too few respondents, a constant or an
    all-missing column ...); the message says why and where."""


class UsageError(DmiError, ValueError):
    """A mistake in how a command or function was called (an unknown option value, say).

    Also a ``ValueError``, as a bad parameter value is in Python (and scikit-learn)."""


class ApplicationYearError(UsageError):
    """A year the rules cannot be applied for: before the policy applies, or further ahead than
    :data:`dmi.eligibility.YEARS_AHEAD`. The message is the command line's; the attributes say
    the same as data, for an interface that words it in its own language.

    Attributes
    ----------
    year : int
        The year given.
    problem : {"before", "ahead"}
    policy : str
        The policy's id.
    effective : datetime.date
        The policy's first day (for ``before``).
    latest : int
        The latest year taken (for ``ahead``).
    """

    def __init__(
        self, message: str, *, year: int, problem: str, policy: str, effective: Any, latest: int
    ) -> None:
        super().__init__(message)
        self.year = year
        self.problem = problem
        self.policy = policy
        self.effective = effective
        self.latest = latest


class MissingExtraError(UsageError, ImportError):
    """What was asked for needs an optional part of dmi that is not installed; the message
    says what to install (``pip install "dmi[distributed]"``). Also an ``ImportError``."""


class ParameterError(UsageError, ValueError, TypeError):
    """An estimator's parameter is not one it accepts, alone or with the others.

    Also a ``ValueError`` and a ``TypeError``, as scikit-learn's ``InvalidParameterError`` is,
    so that code written for scikit-learn estimators catches it.

    Attributes
    ----------
    parameter : str or None
        The parameter's name (the first of them when several do not go together).
    """

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class PasswordTooShort(UsageError):
    """A new password is shorter than the minimum (``DMI_PASSWORD_MIN_LENGTH``, default 10).

    Attributes
    ----------
    length : int
        The characters given.
    min_length : int
        The characters needed.
    """

    def __init__(self, length: int, min_length: int) -> None:
        super().__init__(
            f"the password has {length} character{'' if length == 1 else 's'}; "
            f"a password needs at least {min_length}"
        )
        self.length = length
        self.min_length = min_length


class SecretsChanged(UsageError):
    """An account was changed in the secrets file by someone else since this edit read it.

    The edit is refused, the file left as the other change made it: read the file again and
    redo the change (edits of other accounts made meanwhile are merged, not refused).

    Attributes
    ----------
    path : Path
        The secrets file.
    name : str
        The account.
    """

    def __init__(self, path: str | Path, name: str) -> None:
        super().__init__(
            f"{path}: the account {name!r} was changed by someone else since it was read; "
            "nothing was written: read it again and redo the change"
        )
        self.path = Path(path)
        self.name = name


class ReconciliationError(RuntimeError):
    """The counts of a finished run do not add up (``read != scored + rejected``).

    A bug in dmi, never a mistake in the input (so not a :class:`DmiError`): no output of the
    run is moved into place.

    Attributes
    ----------
    summary : RunSummary
        The run's summary, its counts as the reader and the writers made them.
    """

    def __init__(self, summary: Any) -> None:
        self.summary = summary
        lost = summary.read - summary.scored - summary.rejected
        if lost == 0:  # the --also targets' counts (see RunSummary.also)
            also = {
                target: counts["rows_with_score"] + counts["rows_without_score"]
                for target, counts in getattr(summary, "also", {}).items()
            }
            super().__init__(
                f"internal error: the --also counts do not reconcile: {summary.scored} rows "
                f"were written as scored, but the targets counted {also}; this is a bug in "
                "dmi, please report it"
            )
            return
        super().__init__(
            f"internal error: the row counts do not reconcile: read {summary.read} rows, but "
            f"{summary.scored} were written as scored and {summary.rejected} as rejected "
            f"({f'{lost} missing' if lost > 0 else f'{-lost} too many'}); this is a bug in "
            "dmi, please report it"
        )


class MethodWarning(UserWarning):
    """A method was fitted where its result is questionable: AHP judgements whose consistency
    ratio is 0.10 or more, or a Mazziotta-Pareto index that falls when an input rises. The
    text is kept in ``IndexModel.fit_info_["warnings"]`` and shown by the command line."""


class IgnoredColumnsWarning(UserWarning):
    """Columns of a frame were left out: neither a fact nor an item of the survey, or a second
    column for one (the lines ``dmi eligibility`` prints for a file's headers)."""


class FactsNoteWarning(UserWarning):
    """What a frame's (or a dict's) facts say as a whole that no one cell shows, evaluated as
    given: a debt ratio of fractions (0.45 for 45 %), amounts likely in yuan, R&D above revenue,
    rows with an id and no fact, award years after the application year (the notes
    ``dmi eligibility`` prints for a file)."""


class TierStabilityWarning(UserWarning):
    """The tiers change too much when the model is refitted on resampled data."""


def __getattr__(name: str) -> Any:
    if name == "NotFittedError":
        from sklearn.exceptions import NotFittedError as SklearnNotFitted

        class NotFittedError(DmiError, SklearnNotFitted):
            """The estimator was used before ``fit`` (also scikit-learn's ``NotFittedError``)."""

        NotFittedError.__module__ = __name__
        NotFittedError.__qualname__ = "NotFittedError"  # not __getattr__.<locals>.NotFittedError
        globals()["NotFittedError"] = NotFittedError
        return NotFittedError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
