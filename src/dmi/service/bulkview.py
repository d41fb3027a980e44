"""What the agency's bulk page shows of a file and its run, in the page's language.

The run itself is :func:`dmi.bulk.run.score_file`, the same as ``dmi score``; its files keep the
instrument's codes (``it_coverage``, ``C14``, ``33``, level ``2``), so that they can be read
again. People see names: this module names the columns a file's headers map to, the reasons
rows were rejected, the reader's notes, the distributions, and makes the scores table for
people (company names, level and tier names, sectors and regions by name).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Formatter
from typing import Any

import numpy as np
import pandas as pd

from dmi.columns import ID_COLUMN
from dmi.instruments import Instrument
from dmi.io import ColumnMapping, map_columns, open_table
from dmi.io.readers import XLS_IS_XLSX_NOTE
from dmi.io.tools import REJECT_REASONS, HeaderUse, LayoutReader, open_source
from dmi.locales import text
from dmi.scoring.answers import id_text
from dmi.service.dashboard import labels

__all__ = [
    "IGNORE",
    "FileMapping",
    "column_labels",
    "company_names",
    "edited_mapping",
    "file_mapping",
    "how_read",
    "instrument_title",
    "mapping_choices",
    "mapping_table",
    "missing_answers",
    "level_counts",
    "named_distribution",
    "named_rejects",
    "named_scores",
    "note_text",
    "reason_text",
    "reasons_table",
]

IGNORE = ""
"""The mapping's value for a header left out."""


def column_labels(instrument: Instrument, lang: str) -> dict[str, str]:
    """Every column a file's header can map to, by code, named in ``lang``: the respondent id,
    the profile fields, then the questions (their text), each name once."""
    zh = lang == "zh"
    found = {ID_COLUMN: text("agency.col_respondent_id", lang)}
    found |= {f.code: f.zh if zh else f.en for f in instrument.profile}
    found |= {i.code: i.zh if zh else i.en for i in instrument.items}
    seen: dict[str, int] = {}
    for code, name in found.items():  # two columns of one name would be one choice
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            found[code] = f"{name} ({seen[name]})"
    return found


def mapping_choices(instrument: Instrument, lang: str) -> list[str]:
    """What a header can be mapped to, by name: 'left out' first, then every column."""
    return [text("agency.left_out", lang), *column_labels(instrument, lang).values()]


@dataclass(frozen=True)
class FileMapping:
    """How an uploaded file's headers are read, as the run will read them.

    Attributes
    ----------
    headers : list of str
        The headers the page lists: a plain file's as they are matched, a survey tool's
        export's as it writes them (what its layout and a custom mapping name).
    mapping : ColumnMapping
        Header -> the column it feeds (``rename``; for an export, every 0/1 option column and
        matrix row its layout reads, under its question), the headers matching nothing, the
        items with no column.
    uses : dict of str to HeaderUse
        What is done with each header: the column it feeds, or why none (a kind of
        :data:`dmi.io.tools.HEADER_USES`, or ``duplicate`` in a plain file).
    layout : {"plain", "wjx", "kobo"}
        The layout the file is read in (told from its headers).
    sheet : str, optional
        The workbook's sheet read (None for a CSV).
    """

    headers: list[str]
    mapping: ColumnMapping
    uses: dict[str, HeaderUse]
    layout: str = "plain"
    sheet: str | None = None


def file_mapping(
    path: str | Path,
    instrument: Instrument,
    custom: Mapping[str, str] | None = None,
    *,
    encoding: str | None = None,
    header_row: int = 1,
) -> FileMapping:
    """How the file at ``path`` is read with the custom mapping ``custom`` (header -> code, or
    ``""``, as :func:`edited_mapping` gives it): opened as :func:`~dmi.bulk.run.score_file`
    opens it (:func:`dmi.io.tools.open_source`, its layout told from the headers), so that a
    survey tool's export shows what its layout reads, as the run's notes say it.

    Raises
    ------
    FileFormatError
        The file cannot be read, or the mapping asks what the layout refuses (a 0/1 option
        column sent to a question).
    """
    column_map = dict(custom) if custom else None
    reader = open_source(
        path, instrument, encoding=encoding, header_row=header_row, column_map=column_map
    )
    if isinstance(reader, LayoutReader):
        layout = reader.layout
        plain = map_columns(instrument, reader.columns, None, reader.passthrough)
        mapping = ColumnMapping(
            rename={h: use.column for h, use in layout.uses.items() if use.feeds},
            unmatched=[h for h, use in layout.uses.items() if use.kind == "unmatched"],
            missing_items=plain.missing_items,
            missing_profile=plain.missing_profile,
            passthrough=list(reader.passthrough),
            unused_map=list(layout.unused_map),
        )
        uses = dict(layout.uses)
        return FileMapping(list(uses), mapping, uses, layout.name, reader.sheet)
    headers = list(reader.columns)
    mapping = map_columns(instrument, headers, column_map)
    uses = {}
    for header in headers:
        code = mapping.rename.get(header)
        if code is not None:
            uses[header] = HeaderUse("id" if code == ID_COLUMN else "answer", code)
        elif header in mapping.duplicates:
            uses[header] = HeaderUse("duplicate", mapping.duplicates[header])
        elif column_map is not None and column_map.get(header) == IGNORE:
            uses[header] = HeaderUse("left_out")
        else:
            uses[header] = HeaderUse("unmatched")
    return FileMapping(headers, mapping, uses, sheet=reader.sheet)


def mapping_table(
    headers: list[str],
    mapping: ColumnMapping,
    instrument: Instrument,
    lang: str,
    uses: Mapping[str, HeaderUse] | None = None,
) -> pd.DataFrame:
    """The file's headers and the column each maps to, by name ('left out' for none), for
    the page to edit, and how each is read (:func:`how_read` of ``uses``, from
    :func:`file_mapping`: a survey tool's 0/1 option column under its question, a meta column,
    a header ignored and why): ``header, column`` (one of :func:`mapping_choices`)``, how``."""
    names = column_labels(instrument, lang)
    left_out = text("agency.left_out", lang)
    return pd.DataFrame(
        {
            "header": list(headers),
            "column": [names.get(mapping.rename.get(h, IGNORE), left_out) for h in headers],
            "how": how_read(headers, mapping, lang, uses),
        }
    )


def how_read(
    headers: Sequence[str],
    mapping: ColumnMapping,
    lang: str,
    uses: Mapping[str, HeaderUse] | None = None,
) -> list[str]:
    """How each header is read, in ``lang``: the ``how`` of :func:`mapping_table`.

    Parameters
    ----------
    headers : sequence of str
        The file's headers, as the table lists them.
    mapping : ColumnMapping
        How they are matched: a header without a use is read as its answer when ``mapping``
        maps it, else ignored as matching nothing.
    lang : {"zh", "en"}
    uses : dict of str to HeaderUse, optional
        What is done with each header (:attr:`FileMapping.uses`). Those of the file read with
        the page's edits (:func:`file_mapping` with :func:`edited_mapping`) say how each
        header is read as edited: a header left out, one that another header now takes the
        place of, one that now feeds a question.

    Returns
    -------
    list of str
        One text a header, in the order of ``headers``.
    """
    how = []
    for h in headers:
        use = (uses or {}).get(h)
        if use is None:
            use = HeaderUse("answer") if h in mapping.rename else HeaderUse("unmatched")
        how.append(text(f"agency.use_{use.kind}", lang))
    return how


def edited_mapping(
    table: pd.DataFrame, instrument: Instrument, lang: str, auto: ColumnMapping | None = None
) -> dict[str, str]:
    """The custom mapping of an edited :func:`mapping_table`: every header -> its code, or
    ``""`` (left out), for :func:`dmi.io.map_columns` and :func:`~dmi.bulk.run.score_file`.

    With ``auto`` (the mapping the table was made from), only the headers whose column was
    edited: a survey tool's export matches its other headers by its own layout (its 0/1 and
    matrix columns, which the table shows as left out), and a custom mapping applies to the
    export's headers."""
    codes = {name: code for code, name in column_labels(instrument, lang).items()}
    edited = {
        str(header): codes.get(column, IGNORE) if isinstance(column, str) else IGNORE
        for header, column in zip(table["header"], table["column"])
    }
    if auto is None:
        return edited
    return {h: code for h, code in edited.items() if code != auto.rename.get(h, IGNORE)}


# -- reasons and notes -----------------------------------------------------------------------

_EXPECTED = [
    (
        re.compile(
            r"a number from (?P<low>\S+) to (?P<high>\S+?)(?P<unit> ?%)?"
            r"(?: or a band value \((?P<bands>[^)]*)\))?"
        ),
        "number",
    ),
    (re.compile(r"a whole number from (?P<low>\S+) to (?P<high>\S+)"), "whole"),
    (re.compile(r"a number of at least (?P<low>\S+)"), "at_least"),
    (re.compile(r"a number of at most (?P<high>\S+)"), "at_most"),
    (re.compile(r"a number"), "any_number"),
]

_REASONS = [
    (re.compile(r"blank line"), "blank"),
    (re.compile(r"looks like a totals row"), "totals"),
    (re.compile(r"repeats the header row \(files joined together\?\)"), "header_again"),
    (re.compile(r"ragged row: expected (?P<expected>\d+) fields, got (?P<got>\d+)"), "ragged"),
    (re.compile(r"ragged row"), "ragged_any"),
    (re.compile(r"unbalanced quote from line (?P<first>\d+) to (?P<last>\d+)"), "quote"),
    (re.compile(r"unbalanced quote"), "quote_any"),
    (re.compile(r"duplicate respondent_id \(also on rows? (?P<rows>[^)]*)\)"), "dup_rows"),
    (re.compile(r"duplicate respondent_id \(rows (?P<rows>[^)]*)\)"), "dup_rows"),
    (
        re.compile(
            r"duplicate respondent_id \(row (?P<row>\d+) is the one taken: (?P<policy>[a-z-]+)\)"
        ),
        "dup_kept",
    ),
    (re.compile(r"duplicate respondent_id"), "dup"),
    (re.compile(r"respondent_id is blank"), "id_blank"),
    (
        re.compile(
            r"respondent_id holds a control character \(U\+(?P<code>[0-9A-F]{4})\); an id is "
            r"printable text"
        ),
        "id_control",
    ),
    (
        re.compile(r"not an option; expected one of .*\.\.\. \(or an option's label\)"),
        "not_option_many",
    ),
    (
        re.compile(r"not an option; expected one of (?P<values>.*) \(or an option's label\)"),
        "not_option",
    ),
    (re.compile(r"not a number; expected (?P<expected>.*)"), "not_number"),
    (re.compile(r"(?P<value>\S+) is out of range; expected (?P<expected>.*)"), "out_of_range"),
    (re.compile(r"outside the valid range (?P<low>\S+) to (?P<high>.+)"), "range"),
    (re.compile(r"expected a level from (?P<low>\S+) to (?P<high>\S+)"), "level_range"),
    (
        re.compile(
            r"(?P<value>.+) (?:is not an option|are not options); expected option values from "
            r"(?P<values>.+) separated by ';' \(write (?P<runs>.+)\)",
            re.DOTALL,
        ),
        "multi_not_option_runs",
    ),
    (
        re.compile(
            r"(?P<value>.+) (?:is not an option|are not options); expected option values from "
            r"(?P<values>.+) separated by ';'",
            re.DOTALL,
        ),
        "multi_not_option",
    ),
    (
        re.compile(
            r"(?P<value>.+) is not an option; leave the cell blank when there is no answer, or "
            r"give option values from (?P<values>.+) separated by ';'",
            re.DOTALL,
        ),
        "multi_no_answer",
    ),
    (
        re.compile(
            r"no option value, only separators; expected option values from (?P<values>.+) "
            r"separated by ';'"
        ),
        "multi_separators",
    ),
    (
        re.compile(r"option (?P<options>.+) \(none\) cannot be ticked together with other options"),
        "none_exclusive",
    ),
    (re.compile(r"formula without a computed value.*"), "formula"),
    (re.compile(r"an Excel error value.*"), "excel_error"),
    (
        re.compile(
            r"number format (?P<format>'.*') shows (?P<stored>\S+) scaled \(\"(?P<shown>.*)\"\); "
            r"write the number in the column's unit",
            re.DOTALL,
        ),
        "scaled",
    ),
    (
        re.compile(
            r"number format (?P<format>'.*') shows numbers scaled; write the number in the "
            r"column's unit",
            re.DOTALL,
        ),
        "scaled_any",
    ),
    (
        re.compile(
            r"cell (?P<cell>[A-Z]+\d+) has a value \(\"(?P<value>.*)\"\) in a column without a "
            r"header; give the column a header or clear the cell",
            re.DOTALL,
        ),
        "stray",
    ),
    (
        re.compile(
            r"cells (?P<cells>.+) and (?P<more>\d+) more have values in columns without a header; "
            r"give the columns headers or clear the cells",
            re.DOTALL,
        ),
        "stray_more",
    ),
    (
        re.compile(
            r"cells (?P<cells>.+) have values in columns without a header; give the columns "
            r"headers or clear the cells",
            re.DOTALL,
        ),
        "strays",
    ),
    (re.compile(r"a value in a column without a header"), "stray_any"),
    (re.compile(r"a number with more than 15 significant digits has lost digits.*"), "lost_digits"),
    (re.compile(r"a date, not an id.*"), "date_id"),
]


def _template_pattern(template: str) -> re.Pattern[str]:
    """A reason template (``... 第{number}题 ...``) as the pattern its reasons match, each
    field a named group."""
    parts = []
    for literal, name, _, _ in Formatter().parse(template):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P<{name}>.+?)")
    return re.compile("".join(parts), re.DOTALL)


# the survey tools' layouts (dmi.io.tools): each reason of their one table, worded by its key;
# the longest first, so that a field never swallows what tells one reason from another
_REASONS += [
    (_template_pattern(REJECT_REASONS[key]), key)
    for key in sorted(REJECT_REASONS, key=lambda k: -len(REJECT_REASONS[k]))
]


def _expected(phrase: str, lang: str) -> str:
    """What a cell should hold, as a reason says it, in ``lang`` (as it is when unknown)."""
    for pattern, key in _EXPECTED:
        found = pattern.fullmatch(phrase)
        if found:
            fields = {k: v or "" for k, v in found.groupdict().items()}
            said = text(f"agency.expected_{key}", lang, **fields)
            if fields.get("bands"):
                said += text("agency.or_bands", lang, bands=fields["bands"])
            return said
    return phrase


def reason_text(reason: str, lang: str) -> str:
    """A reject's reason in ``lang``: the known reasons of the readers, the row checks and
    the item types are worded in the table of texts; any other is shown as it is."""
    for pattern, key in _REASONS:
        found = pattern.fullmatch(reason)
        if found:
            fields = dict(found.groupdict())
            if "expected" in fields and key in ("not_number", "out_of_range"):
                fields["expected"] = _expected(fields["expected"], lang)
            if "policy" in fields:
                fields["policy"] = text(f"agency.policy_{fields['policy'].replace('-', '_')}", lang)
            return text(f"agency.reason_{key}", lang, **fields)
    # a survey tool's column puts its header before the reason ("第3题(无): ..."): the header
    # as written, the reason worded
    # (a header may hold ": " itself: each place is tried)
    for found in re.finditer(": ", reason):
        header, rest = reason[: found.start()], reason[found.end() :]
        worded = reason_text(rest, lang) if rest else rest
        if worded != rest:
            return text("agency.reason_in_column", lang, column=header, reason=worded)
    return reason


_NOTES = [
    (
        re.compile(
            r"read as gb18030: the file is not utf-8 from line (?P<line>\d+) \(row (?P<row>\d+)\) "
            r"on, and all of it is gb18030"
        ),
        "gb18030",
    ),
    (
        re.compile(
            r"merged cells read as their first cell's value in every row of the range: "
            r"(?P<ranges>.+)"
        ),
        "merged_down",
    ),
    (
        re.compile(
            r"merged cells over several columns read in their first cell only \(the other "
            r"columns are blank\): (?P<ranges>.+)"
        ),
        "merged_across",
    ),
    (
        re.compile(
            r"header cells merged over several columns \(the header is the first column's; the "
            r"others have none and are not read\): (?P<ranges>.+)"
        ),
        "merged_header",
    ),
    (
        re.compile(
            r"read the active sheet (?P<sheet>'.*'|\".*\"); not read: (?P<others>.+) \(choose a "
            r"sheet with --sheet NAME\)"
        ),
        "other_sheets",
    ),
    (re.compile(re.escape(XLS_IS_XLSX_NOTE)), "xls_is_xlsx"),
    (
        re.compile(
            r"no id column \(respondent_id, id, 编号, 企业编号, 统一社会信用代码 \.\.\.\): each "
            r"row's respondent_id is its row number, and a respondent given twice is not found "
            r"\(send the id column to respondent_id with --map\)"
        ),
        "no_id",
    ),
    # dmi eligibility's notes of the facts as a whole (dmi.eligibility.facts.FactsTally)
    (
        re.compile(
            r"(?P<fact>[a-z][a-z0-9_]*): (?:the value given is|all \d+ values given are) at "
            r"most 1, read as percent \(0\.45 is 0\.45%\); if the column holds fractions "
            r"\(0\.45 for 45%\), multiply it by 100"
        ),
        "percent_fractions",
    ),
    (
        re.compile(
            r"(?P<fact>[a-z][a-z0-9_]*): (?P<n>\d+) of the (?P<of>\d+) values given (?:is|are) "
            r"at most 1 \(above 0\), read as percent \(0\.45 is 0\.45%\); if they are fractions "
            r"\(0\.45 for 45%\), multiply them by 100"
        ),
        "percent_some_fractions",
    ),
    (
        re.compile(
            r"(?P<fact>[a-z][a-z0-9_]*): (?:the value given is|all (?P<all>\d+) values given are|"
            r"(?P<n>\d+) of the (?P<of>\d+) values given (?:is|are)) (?P<amount>\d+)万元 "
            r"\((?P<yi>\d+)亿元\) or "
            r"more, far beyond an SME, taken as given; amounts are in 万元: a column in yuan is "
            r"converted when its header names "
            r"the unit \(营业收入（元）\)"
        ),
        "amount_huge",
    ),
    (
        re.compile(
            r"(?P<n>\d+) rows? with an id and no fact \(rows? (?P<rows>[^)]*)\): evaluated with "
            r"every fact unknown \(a note or a footnote in the id column\?\)"
        ),
        "id_only",
    ),
    (
        re.compile(
            r"(?P<n>\d+) rows? with an id and no fact \(rows? (?P<rows>[^)]*)\): evaluated with "
            r"every fact unknown \(respondents who answered none of the facts' questions\)"
        ),
        "id_only_export",
    ),
    (
        re.compile(
            r"(?P<n>\d+) rows? gives? an award year after the application year (?P<year>\d+) "
            r"\(rows? (?P<rows>[^)]*)\): outside every award window, and flagged; the "
            r"application year is the policy's first unless one is given \(--year\)"
        ),
        "award_after_year",
    ),
    (
        re.compile(
            r"(?P<n>\d+) rows? gives? an R&D expense above the year's revenue "
            r"\(rows? (?P<rows>[^)]*)\): an R&D share above 100%, taken as given; amounts are in "
            r"万元: an R&D column in yuan is converted when its header names the unit "
            r"\(研发费用（元）\)"
        ),
        "rd_above_revenue",
    ),
    (
        re.compile(
            r"province: (?P<n>\d+) rows? names? no unit of provinces\.yaml \((?P<names>.*); "
            r"rows? (?P<rows>[^)]*)\): a cohort counts them under the name as written, and only "
            r"a rule file's block for that name applies to them \(a province, a 计划单列市 or the "
            r"Corps is expected: 广东, 广东省, Guangdong, 44\)",
            re.DOTALL,  # a name may hold a line break (a cell's Alt+Enter)
        ),
        "unplaced",
    ),
    (
        re.compile(
            r"the cohort has no groups by (?P<by>.+?): no column is read as (?:it|them) "
            r"\(headers read so: (?P<headers>.*); --map names another\)"
        ),
        "ungrouped",
    ),
    (
        re.compile(
            r"(?P<header>.+): in (?P<unit>\S+), read as (?P<fact>[a-z0-9_]+) in (?P<own>\S+) "
            r"\((?P<how>[÷×] \d+)\)"
        ),
        "unit_converted",
    ),
    (
        re.compile(
            r"read as a 问卷星 export: \(跳过\), \(空\), -2 and -3 in a fact's column are a "
            r"question skipped or left empty, read as blank: (?P<n>\d+) cells? \((?P<list>.*)\)"
        ),
        "wjx_facts_blank",
    ),
    (
        re.compile(
            r"read as a 问卷星 export: \(跳过\) and \(空\) in a fact's column are a "
            r"question skipped or left empty, read as blank: (?P<n>\d+) cells? \((?P<list>.*)\)"
        ),
        "wjx_facts_blank_texts",
    ),
    (
        re.compile(
            r"问卷星 export (?:(?P<codes>of option numbers)|\(option numbers or texts: not "
            r"known\)): bare numbers in a level's column are read as the "
            r"level written \((?P<list>.*)\); where the question was a single choice they are "
            r"option numbers \(1 for 未达一级, one more than the level\): download the 按选项文本 "
            r"export to be sure"
        ),
        "wjx_level_numbers",
    ),
    (
        re.compile(
            r"facts the file has no column of, read from the survey's profile answers \(as dmi "
            r"score reads them\): (?P<list>.+)"
        ),
        "profile_facts",
    ),
    (
        re.compile(
            r"columns named like items of the MIIT survey, too few to be its answers "
            r"\((?P<n>\d+) of (?P<of>\d+); the digital level is computed from a file with at "
            r"least (?P<least>\d+)\): (?P<list>.+)"
        ),
        "few_items",
    ),
]


# the survey tools' layouts (dmi.io.tools): what they read, dropped and flagged
_NOTES += [
    (
        re.compile(
            r"read as a 问卷星 export \((?P<variant>按选项序号|按选项文本), option "
            r"(?:numbers|texts); (?P<how>chosen|told from its cells)\)"
            r"(?P<auto>; the layout detected from its headers)?"
        ),
        "wjx_read",
    ),
    (
        re.compile(
            r"问卷星 export variant not told by the cells \(every option is written as a number "
            r"that is also an option's text: (?P<questions>.+)\); read as 按选项序号 \(option "
            r"numbers\); if the file is the 按选项文本 export, choose --wjx-variant texts"
        ),
        "wjx_undecided",
    ),
    (
        re.compile(r"问卷星 questions matched by their number in the dmi survey: (?P<list>.+)"),
        "wjx_numbered",
    ),
    (re.compile(r"问卷星 meta columns dropped: (?P<list>.+)"), "wjx_meta"),
    (
        re.compile(
            r"问卷星 '其他' \(other\) columns ignored \(the instrument has no such answer\): "
            r"(?P<list>.+)"
        ),
        "wjx_other_columns",
    ),
    (
        re.compile(
            r"(?:问卷星|KoboToolbox) columns matching no question of \S+ \(ignored\): "
            r"(?P<list>.+)"
        ),
        "tool_unmatched",
    ),
    (
        re.compile(
            r"(?P<tool>问卷星|KoboToolbox) options the instrument's questions do not have \(a "
            r"row ticking one is rejected\): (?P<list>.+)"
        ),
        "tool_lacking",
    ),
    (
        re.compile(
            r"(?P<tool>问卷星|KoboToolbox) columns read as the column map says: (?P<list>.+)"
        ),
        "tool_mapped",
    ),
    (
        re.compile(r"(?P<tool>问卷星|KoboToolbox) columns the column map leaves out: (?P<list>.+)"),
        "tool_map_left_out",
    ),
    (
        re.compile(
            r"问卷星 skipped or not shown answers \(-2, -3, \(跳过\)\) read as blank: "
            r"(?P<n>\d+) \((?P<detail>.+)\)"
        ),
        "wjx_skipped",
    ),
    (
        re.compile(
            r"问卷星 skipped or not shown answers \(\(跳过\)\) read as blank: "
            r"(?P<n>\d+) \((?P<detail>.+)\)"
        ),
        "wjx_skipped_texts",
    ),
    (re.compile(r"问卷星 empty fill-ins \(\(空\)\) read as blank: (?P<n>\d+)"), "wjx_empty"),
    (
        re.compile(
            r"问卷星 '其他' \(other\) options the questions do not have, ignored in (?P<n>\d+) "
            r"multiple-choice answers"
        ),
        "wjx_other_options",
    ),
    (
        re.compile(
            r"Rows answered implausibly fast \(under (?P<seconds>\S+) seconds for "
            r"(?P<questions>\d+) questions; flagged, not rejected\): (?P<n>\d+) \(row numbers: "
            r"(?P<rows>.+)\)"
        ),
        "wjx_fast",
    ),
    (
        re.compile(
            r"Rows whose 所用时间 is not a duration \(such as 2分3秒 or 123秒\), not checked "
            r"for speed: (?P<n>\d+) \(row numbers: (?P<rows>.+)\)"
        ),
        "wjx_no_time",
    ),
    (
        re.compile(
            r"read as a KoboToolbox export(?: \(choices as (?P<answers>\w+), chosen\))?"
            r"(?P<auto>; the layout detected from its headers)?"
        ),
        "kobo_read",
    ),
    (
        re.compile(
            r"KoboToolbox export without _uuid or _id: each row's respondent_id is its row "
            r"number \(choose a column with --id-column\)"
        ),
        "kobo_no_id",
    ),
    (re.compile(r"KoboToolbox respondent ids from column (?P<column>.+)"), "kobo_id"),
    (re.compile(r"KoboToolbox meta columns dropped: (?P<list>.+)"), "kobo_meta"),
    (
        re.compile(
            r"KoboToolbox split select_multiple columns ignored \(the question's own column is "
            r"read\): (?P<list>.+)"
        ),
        "kobo_split",
    ),
]


def instrument_title(code: str, lang: str) -> str:
    """An instrument's title in ``lang`` (an error's ``instrument`` detail is its id); the id
    itself for one dmi does not ship."""
    from dmi.errors import DmiError
    from dmi.instruments import load_instrument

    try:
        return load_instrument(code).title.get(lang)
    except DmiError:
        return code


def note_text(note: str, lang: str) -> str:
    """A note of the reader (what it had to decide) in ``lang``; an unknown one as it is."""
    for pattern, key in _NOTES:
        found = pattern.fullmatch(note)
        if found:
            if key in ("wjx_read", "kobo_read"):
                return _tool_read(key, found, lang)
            if key in ("wjx_facts_blank", "wjx_facts_blank_texts"):
                counts = _counts_named(found["list"], lang)
                return text(f"agency.note_{key}", lang, n=found["n"], list=counts)
            if key == "wjx_level_numbers":
                counts = _counts_named(found["list"], lang)
                known = "" if found["codes"] else "_unknown"
                return text(f"agency.note_{key}{known}", lang, list=counts)
            if key == "profile_facts":
                listed = _ARROW_FACT.sub(
                    lambda m: f" → {_fact_named(m['fact'], lang)}", found["list"]
                )
                return text(f"agency.note_{key}", lang, list=listed)
            if key == "amount_huge":
                n = found["n"] or found["all"] or "1"
                of = found["of"] or found["all"] or "1"
                return text(
                    "agency.note_amount_huge",
                    lang,
                    fact=_fact_named(found["fact"], lang),
                    n=n,
                    of=of,
                    amount=found["amount"],
                    yi=found["yi"],
                )
            if key == "ungrouped":
                named = [_fact_named(by, lang) for by in found["by"].split(" or ")]
                by = ("、" if lang == "zh" else ", ").join(named)
                return text("agency.note_ungrouped", lang, by=by, headers=found["headers"])
            if key in ("percent_fractions", "percent_some_fractions", "unit_converted"):
                values = {**found.groupdict(), "fact": _fact_named(found["fact"], lang)}
                return text(f"agency.note_{key}", lang, **values)
            return text(f"agency.note_{key}", lang, **found.groupdict())
    return note


_ARROW_FACT = re.compile(r" -> (?P<fact>[a-z][a-z0-9_]*)(?=, |$)")
"""A note's ``header -> fact`` (the profile's questions read as facts)."""


def _counts_named(listed: str, lang: str) -> str:
    """A note's ``"revenue_y1 1, net_profit_y1 2"`` with each fact by its name ("none": -)."""
    if listed == "none":
        return "-"
    parts = [part.rpartition(" ") for part in listed.split(", ")]
    named = [f"{_fact_named(code, lang)} {n}" for code, _, n in parts]
    return ("、" if lang == "zh" else ", ").join(named)


def _fact_named(code: str, lang: str) -> str:
    """A fact of the 梯度培育 ladder as a note names it: its short name and its code."""
    from dmi.eligibility import FACTS

    if code not in FACTS:
        return code
    return f"{FACTS[code].short_label(lang)} ({code})"


def _tool_read(key: str, found: re.Match[str], lang: str) -> str:
    """A survey tool's first note: the layout read, how its variant was told, and whether the
    layout was told from the headers."""
    auto = text("agency.note_tool_auto", lang) if found["auto"] else ""
    if key == "kobo_read":
        chosen = found["answers"]
        how = text("agency.note_kobo_chosen", lang, answers=chosen) if chosen else ""
        return text("agency.note_kobo_read", lang, how=how, auto=auto)
    codes = found["variant"] == "按选项序号"
    variant = text("agency.note_wjx_codes", lang) if codes else text("agency.note_wjx_texts", lang)
    chosen = found["how"] == "chosen"
    how = text("agency.note_wjx_chosen", lang) if chosen else text("agency.note_wjx_cells", lang)
    return text("agency.note_wjx_read", lang, variant=variant, how=how, auto=auto)


# -- tables for people -------------------------------------------------------------------------


def missing_answers(
    imputed: Mapping[str, int], excluded: Mapping[str, int], instrument: Instrument, lang: str
) -> pd.DataFrame:
    """The run's missing answers by question: how many were filled in as the lowest answer and
    how many left out with their weight spread over the others (the instrument's policy), as
    ``dmi score`` counts them; questions by name, in the instrument's order."""
    names = column_labels(instrument, lang)
    codes = [i.code for i in instrument.items if i.code in imputed or i.code in excluded]
    return pd.DataFrame(
        {
            text("agency.col_question", lang): [names[c] for c in codes],
            text("agency.col_imputed", lang): [int(imputed.get(c, 0)) for c in codes],
            text("agency.col_excluded", lang): [int(excluded.get(c, 0)) for c in codes],
        }
    )


def named_distribution(
    table: pd.DataFrame, by: str, of: str, instrument: Instrument, lang: str
) -> pd.DataFrame:
    """A :func:`dmi.bulk.cohort.distribution` table with names: the groups of ``by`` (sector,
    region ...) as rows, the values of ``of`` (level, tier) as columns and ``total``."""
    rows = labels(instrument, by, lang)
    columns = labels(instrument, of, lang)
    blank = text("agency.not_given", lang)
    out = table.copy()
    out.index = [blank if v == "(blank)" else rows.get(str(v), str(v)) for v in out.index]
    out.index.name = text(f"agency.group_{by}", lang) if by in _GROUP_NAMES else by
    out.columns = [
        text("agency.col_total", lang)
        if c == "total"
        else text("agency.not_given", lang)
        if c == "(none)"
        else columns.get(str(c), str(c))
        for c in out.columns
    ]
    return out


_GROUP_NAMES = ("region", "city", "sector", "size_class", "level", "tier")


def company_names(
    path: str | Path,
    mapping: ColumnMapping,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    header_row: int = 1,
    duplicates: str = "reject",
) -> dict[str, str]:
    """The company name of each respondent id of a file, as the scores name the ids (trimmed
    NFKC text), read from the columns mapped to ``respondent_id`` and ``company_name``; the
    kept occurrence's name where an id repeats (the last with ``keep-last``). Empty when the
    file has no such columns."""
    by_code = {code: header for header, code in mapping.rename.items()}
    id_header, name_header = by_code.get(ID_COLUMN), by_code.get("company_name")
    if id_header is None or name_header is None:
        return {}
    reader = open_table(path, encoding=encoding, sheet=sheet, header_row=header_row)
    ids, names = [], []
    for chunk in reader.chunks(columns=[id_header, name_header]):
        ids.append(id_text(chunk.frame[id_header]))
        names.append(chunk.frame[name_header].to_numpy(dtype=object))
    if not ids:
        return {}
    frame = pd.DataFrame({"id": np.concatenate(ids), "name": np.concatenate(names)})
    frame = frame[(frame["id"] != "") & frame["name"].notna()]
    keep = "last" if duplicates == "keep-last" else "first"
    frame = frame.drop_duplicates("id", keep=keep)
    return {i: str(n).strip() for i, n in zip(frame["id"], frame["name"]) if str(n).strip()}


def named_scores(
    scores: pd.DataFrame, instrument: Instrument, lang: str, names: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """The scores table for people: the company's id and name, the index, the level and tier
    by name, the dimensions by name, sector, size and region by name; headed in ``lang``.

    Parameters
    ----------
    scores : DataFrame
        As :func:`~dmi.bulk.run.score_file` writes it (``respondent_id``, ``dmi``, ``level``,
        ``dim_*``, ``tier`` and the peer-group fields, as codes).
    names : mapping, optional
        Company names by respondent id (:func:`company_names`).
    """
    zh = lang == "zh"
    out: dict[str, Any] = {}
    ids = scores[ID_COLUMN].astype(object) if ID_COLUMN in scores else None
    if ids is not None:
        out[text("agency.col_respondent_id", lang)] = ids.to_numpy()
        if names:
            out[text("agency.col_company_name", lang)] = ids.map(names).to_numpy()
    out[text("agency.col_dmi", lang)] = scores["dmi"].to_numpy()

    def named(column: str, group: str) -> np.ndarray:
        # a dict lookup per distinct value (pandas hashes the column once), not per row
        values = scores[column]
        names = labels(instrument, group, lang)
        if group in ("level", "tier"):
            values = pd.to_numeric(values, errors="coerce")
            names = {float(k): v for k, v in names.items()}
        shown = values.map(names)
        shown = shown.where(shown.notna(), values.astype(object))  # no name: as it is
        return shown.where(values.notna(), None).to_numpy(dtype=object)

    out[text("agency.col_level", lang)] = named("level", "level")
    for dim in instrument.dimensions:
        if f"dim_{dim.code}" in scores:
            out[dim.zh if zh else dim.en] = scores[f"dim_{dim.code}"].to_numpy()
    if "tier" in scores:
        out[text("agency.col_tier", lang)] = named("tier", "tier")
    for field_ in instrument.profile:
        if field_.code in scores:
            column = (
                named(field_.code, field_.code)
                if field_.options
                else scores[field_.code].to_numpy()
            )
            out[field_.zh if zh else field_.en] = column
    return pd.DataFrame(out)


def reasons_table(rows_by_reason: Mapping[str, int], lang: str) -> pd.DataFrame:
    """The rejected rows by reason (each row once, under its first problem: the counts add up
    to the rows rejected), reasons in ``lang``."""
    return pd.DataFrame(
        {
            text("agency.col_reason", lang): [reason_text(r, lang) for r in rows_by_reason],
            text("agency.col_rows", lang): [int(n) for n in rows_by_reason.values()],
        }
    )


def named_rejects(rejects: pd.DataFrame, instrument: Instrument, lang: str) -> pd.DataFrame:
    """A rejects table (``row, respondent_id, column, value, reason``) for people: headed in
    ``lang``, each column by its name (a header that maps to none as it is in the file), each
    reason in ``lang``. Each distinct reason is worded once."""
    names = column_labels(instrument, lang)
    reasons = {r: reason_text(r, lang) for r in pd.unique(rejects["reason"])}
    columns = rejects["column"].astype(object)
    return pd.DataFrame(
        {
            text("agency.col_row", lang): rejects["row"].to_numpy(),
            text("agency.col_respondent_id", lang): rejects["respondent_id"].to_numpy(),
            text("agency.col_column", lang): columns.map(names).fillna(columns).to_numpy(),
            text("agency.col_value", lang): rejects["value"].to_numpy(),
            text("agency.col_reason", lang): rejects["reason"].map(reasons).to_numpy(),
        }
    )


def level_counts(levels: Mapping[str, int], instrument: Instrument, lang: str) -> pd.DataFrame:
    """Scored rows by official level (a run summary's ``levels``), every level of the
    instrument by name, in order (0 where none): ``level, companies``."""
    names = labels(instrument, "level", lang)
    return pd.DataFrame(
        {
            text("agency.col_level", lang): list(names.values()),
            text("agency.col_companies", lang): [int(levels.get(k, 0)) for k in names],
        }
    )
