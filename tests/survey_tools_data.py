"""Answers made up for the survey-tool tests: plain answers of an instrument, and the same
answers as a 问卷星 export (built from the text `dmi wjx` writes) or a KoboToolbox export (built
from the XLSForm `dmi xlsform` writes), in the tools' layouts as docs/survey-tools.md describes
them. Built here from the instrument, the survey text and the form, not with the importers."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from dmi.instruments.items import item_type


def plain_answers(instrument, n: int, seed: int, blank: float = 0.1) -> pd.DataFrame:
    """``n`` companies' answers in the template's layout (text cells, None when blank), ids
    ``"1"`` ... ``str(n)``: random choices, subsets, numbers in range; ``blank`` of them blank."""
    rng = np.random.default_rng(seed)
    columns: dict[str, list] = {"respondent_id": [str(i + 1) for i in range(n)]}

    def draw(kind, choices, exclusive, low, high):
        if rng.random() < blank:
            return None
        if kind == "radio":
            return str(choices[rng.integers(len(choices))])
        if kind == "multiselect":
            others = [c for c in choices if c not in exclusive]
            if exclusive and rng.random() < 0.15:
                return exclusive[0]
            picked = rng.choice(others, size=rng.integers(1, len(others) + 1), replace=False)
            return ";".join(c for c in others if c in set(picked))
        return str(int(rng.integers(int(low or 0), int(high or 500) + 1)))

    for field in instrument.profile:
        values = [o.value for o in field.options]
        kind = {"choice": "radio", "number": "number"}.get(field.type, "text")
        columns[field.code] = [
            f"企业{i}"
            if kind == "text" and rng.random() >= blank
            else (None if kind == "text" else draw(kind, values, [], field.min, field.max))
            for i in range(n)
        ]
    for item in instrument.items:
        widget = item_type(item).widget(item, instrument)
        values = [str(c.value) for c in widget.choices]
        exclusive = [o.value for o in item.options if o.exclusive]
        columns[item.code] = [
            draw(widget.kind, values, exclusive, widget.min, widget.max) for _ in range(n)
        ]
    return pd.DataFrame(columns, dtype=object)


# -- 问卷星 ----------------------------------------------------------------------------------------

_TITLE = re.compile(r"^(\d+)\. (.*)\[(单选题|多选题|填空题|矩阵单选题)\]$")


def parse_wjx_text(text: str) -> list[dict]:
    """The questions of a 问卷星 import text: number, title, type, rows (matrix), options."""
    questions = []
    for block in text.strip().split("\n\n")[1:]:
        lines = block.split("\n")
        match = _TITLE.match(lines[0])
        assert match, lines[0]
        rest = lines[1:]
        rows: list[str] = []
        if match.group(3) == "矩阵单选题":
            at = rest.index("【选项】")
            rows, rest = rest[:at], rest[at + 1 :]
        questions.append(
            {
                "number": int(match.group(1)),
                "title": match.group(2),
                "type": match.group(3),
                "rows": rows,
                "options": rest,
            }
        )
    return questions


def wjx_export(
    plain: pd.DataFrame,
    text: str,
    plan: list,
    variant: str,
    *,
    seconds: list[int] | None = None,
    skip: str = "-3",
) -> pd.DataFrame:
    """``plain``'s answers as 问卷星 would export them from the survey ``text``.

    ``plan`` is `wjx_questions` (which columns question N fills, and each option's value: the
    numbering the text was made from). ``variant`` ``codes`` (按选项序号: option numbers, one
    0/1 column per option of a multiple choice, ``skip`` for a skipped question) or ``texts``
    (按选项文本: the option lines of the text, ``┋``-joined, ``(跳过)``).
    """
    n = len(plain)
    seconds = seconds if seconds is not None else [300 + 7 * i for i in range(n)]
    out: dict[str, list] = {
        "序号": list(plain["respondent_id"]),
        "提交答卷时间": ["2026/11/30 10:00:00"] * n,
        "所用时间": [f"{s // 60}分{s % 60}秒" if s >= 60 else f"{s}秒" for s in seconds],
        "来源": ["手机提交"] * n,
        "来源详情": ["直接访问"] * n,
        "来自IP": ["10.0.0.1(浙江-杭州)"] * n,
    }
    skipped = skip if variant == "codes" else "(跳过)"
    for q, asked in zip(plan, parse_wjx_text(text), strict=True):
        assert q.number == asked["number"]
        values = [c.value for c in q.choices]

        def cell(v, asked=asked, values=values):
            if v is None:
                return skipped
            k = values.index(v)
            return str(k + 1) if variant == "codes" else asked["options"][k]

        if asked["type"] == "矩阵单选题":
            for code, row in zip(q.codes, asked["rows"], strict=True):
                out[f"第{q.number}题({row})"] = [cell(v) for v in plain[code]]
        elif asked["type"] == "单选题":
            out[f"{q.number}、{asked['title']}"] = [cell(v) for v in plain[q.codes[0]]]
        elif asked["type"] == "填空题":
            out[f"{q.number}、{asked['title']}"] = [
                "(空)" if v is None else v for v in plain[q.codes[0]]
            ]
        elif variant == "codes":
            for k, option in enumerate(asked["options"]):
                out[f"第{q.number}题({option})"] = [
                    skipped if v is None else ("1" if values[k] in v.split(";") else "0")
                    for v in plain[q.codes[0]]
                ]
        else:
            out[f"{q.number}、{asked['title']}"] = [
                skipped
                if v is None
                else "┋".join(asked["options"][values.index(x)] for x in v.split(";"))
                for v in plain[q.codes[0]]
            ]
    return pd.DataFrame(out, dtype=object)


# -- KoboToolbox -----------------------------------------------------------------------------

LABEL = {"zh": "label::中文 (zh)", "en": "label::English (en)"}


def kobo_export(
    plain: pd.DataFrame,
    sheets: dict[str, pd.DataFrame],
    *,
    answers: str = "values",
    multi: str = "one",
    headers: str = "names",
) -> pd.DataFrame:
    """``plain``'s answers as KoboToolbox would export them from the XLSForm ``sheets``.

    ``answers``: ``values`` (the choices' names) or ``zh``/``en`` labels; ``multi``: a
    select_multiple as ``one`` space-separated column, ``split`` 0/1 columns
    (``question/choice``) or ``both``; ``headers``: ``names`` with their groups
    (``group/question``) or the questions' ``zh``/``en`` labels. Meta columns around them; the
    ids are ``_uuid`` (``uuid-<respondent_id>``).
    """
    n = len(plain)
    out: dict[str, list] = {
        "start": ["2026-11-30T10:00:00.000+08:00"] * n,
        "end": ["2026-11-30T10:20:00.000+08:00"] * n,
    }
    choices = sheets["choices"]
    groups: list[str] = []
    for row in sheets["survey"].to_dict("records"):
        kind = row["type"]
        if kind == "begin_group":
            groups.append(row["name"])
            continue
        if kind == "end_group":
            groups.pop()
            continue
        name = row["name"]
        head = "/".join([*groups, name]) if headers == "names" else row[LABEL[headers]]
        values = list(plain[name])
        if not kind.startswith("select_"):
            out[head] = values
            continue
        listed = choices[choices["list_name"] == kind.split()[1]]
        label = dict(
            zip(listed["name"], listed[LABEL[answers]] if answers != "values" else listed["name"])
        )
        if kind.startswith("select_one"):
            out[head] = [None if v is None else label[v] for v in values]
            continue
        if multi in ("one", "both"):
            out[head] = [
                None if v is None else " ".join(label[x] for x in v.split(";")) for v in values
            ]
        if multi in ("split", "both"):
            for choice in listed["name"]:
                tail = choice if answers == "values" else label[choice]
                out[f"{head}/{tail}"] = [
                    None if v is None else ("1" if choice in v.split(";") else "0") for v in values
                ]
    out |= {
        "_id": [str(1000 + i) for i in range(n)],
        "_uuid": [f"uuid-{r}" for r in plain["respondent_id"]],
        "_submission_time": ["2026-11-30T02:20:00"] * n,
        "_validation_status": [None] * n,
        "_index": [str(i + 1) for i in range(n)],
    }
    return pd.DataFrame(out, dtype=object)
