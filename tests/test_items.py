"""Item types: each type's reading of a cell and of a column, maximum, score, codebook rows,
widget, report text, improvement step and synthetic rule, worked by hand on an instrument with
every type; and a type added in a test (one class, one registry entry) used end to end."""

from __future__ import annotations

import ast
import hashlib
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dmi
from dmi.instruments import InstrumentError, parse_instrument
from dmi.instruments.export import codebook, template
from dmi.instruments.items import (
    ITEM_TYPES,
    Choice,
    ItemType,
    MultipleChoice,
    Parser,
    Step,
    Widget,
    item_type,
)
from dmi.instruments.items.base import ordinal
from dmi.instruments.items.cells import one_value, parse_number
from dmi.instruments.synth import synthesise
from dmi.report.content import _answer_text
from dmi.results.recommend import candidate_rows, improvements
from dmi.scoring import answers as answers_module
from dmi.scoring.answers import cell_key, encode_answers, parse_column
from dmi.service.survey import item_widget

from .conftest import ALL_TYPES_YAML, BEST, ROOT, WORST, best_answers, worst_answers


def test_one_class_per_type_in_a_module_of_its_own():
    assert list(ITEM_TYPES) == [
        "single",
        "multi",
        "yesno",
        "likert",
        "number",
        "scenario",
        "rating",
        "checklist",
    ]
    classes = [type(kind) for kind in ITEM_TYPES.values()]
    assert all(issubclass(c, ItemType) for c in classes) and len(set(classes)) == 8
    assert [c.__module__ for c in classes] == [f"dmi.instruments.items.{n}" for n in ITEM_TYPES]


# -- the item type is asked, never tested, outside instruments/items ----------------------------

_ITEM_TYPE_NAMES = {"single", "multi", "likert", "scenario"}  # "number", "yesno": facts too


def _item_type_tests(path: Path) -> list[int]:
    """The lines of the comparisons of an item's ``type`` (``item.type == ...``, ``x.type in
    (...)`` with an item type's name) and of ``match item.type`` statements in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
        elif isinstance(node, ast.Match):
            operands = [node.subject]
        else:
            continue
        names = {
            c.value
            for o in operands
            for c in ast.walk(o)
            if isinstance(c, ast.Constant) and isinstance(c.value, str)
        }
        types = [o for o in operands if isinstance(o, ast.Attribute) and o.attr == "type"]
        if any("item" in ast.unparse(o.value) or ast.unparse(o.value) == "i" for o in types) or (
            types and names & _ITEM_TYPE_NAMES
        ):
            found.append(node.lineno)
    return sorted(found)


def test_no_code_outside_the_item_types_tests_an_item_type():
    items = ROOT / "src" / "dmi" / "instruments" / "items"
    files = [
        p
        for folder in (ROOT / "src", ROOT / "app")
        for p in sorted(folder.rglob("*.py"))
        if items not in p.parents
    ]
    assert len(files) > 50
    assert [f"{p.relative_to(ROOT)}:{line}" for p in files for line in _item_type_tests(p)] == []


def test_the_scan_finds_each_way_of_testing_an_item_type(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "if item.type == 'single': pass\n"
        "if path.item.type in ('number', 'x'): pass\n"
        "ok = [i for i in items if i.type != 'scenario']\n"
        "if field.type == 'multi': pass\n"
        "match item.type:\n    case 'likert': pass\n"
        "if fact.type == 'number': pass\n",  # a fact or profile field: not an item
        encoding="utf-8",
    )
    assert _item_type_tests(sample) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("which", ["all_types", "miit"])
def test_the_tests_best_and_worst_answers_score_1_and_0(which, request):
    # the answers the other tests build by type: every registered type has both
    assert BEST.keys() == WORST.keys() == ITEM_TYPES.keys()
    instrument = request.getfixturevalue(which)
    for answers, score in ((best_answers(instrument), 1.0), (worst_answers(instrument), 0.0)):
        for item in instrument.items:
            kind = item_type(item)
            raw, error = kind.read(item, instrument, cell_key(answers[item.code]))
            assert error is None
            assert kind.score(item, instrument, np.array([raw]))[0] == score, item.code


# -- reading, maximum and score, by hand ---------------------------------------------------------

MAXIMA = {
    "one": 2.0,  # the best option
    "many": 5.0,  # B, C, D, N, O: 1 each; A is exclusive
    "runs": 8.0,  # b, c, d, e: 2 each
    "has_plan": 2.0,  # its points
    "agree": 1.0,  # no points given
    "share": 3.0,  # the best band
    "hours": 1.0,  # goalposts, no points given
    "scene": 2.0,  # the top scenario level
}


def test_maximum_points_by_hand(all_types):
    assert {i.code: all_types.max_points(i) for i in all_types.items} == MAXIMA
    assert {i.code: item_type(i).max_points(i, all_types) for i in all_types.items} == MAXIMA


# (item, cell, raw points or level or scale value, item score)
VALID = [
    ("one", "B", 1.0, 0.5),
    ("one", "全部", 2.0, 1.0),
    ("one", " c ", 2.0, 1.0),
    ("one", "Ａ", 0.0, 0.0),
    ("many", "B;C", 2.0, 0.4),
    ("many", ["B", "C"], 2.0, 0.4),
    ("many", "B C", 2.0, 0.4),
    ("many", "产品设计、Marketing", 2.0, 0.4),
    ("many", "A", 0.0, 0.0),
    ("runs", "bce", 6.0, 0.75),
    ("runs", "b;c;d;e", 8.0, 1.0),
    ("has_plan", "是", 2.0, 1.0),
    ("has_plan", "F", 0.0, 0.0),
    ("has_plan", True, 2.0, 1.0),
    ("agree", "2", 2.0, 0.75),  # lower is better: (5 - 2) / 4
    ("agree", 5, 5.0, 0.0),
    ("agree", "1", 1.0, 1.0),
    ("share", "75%", 3.0, 1.0),
    ("share", "50", 0.0, 0.0),  # intervals (lower, upper]: 50 is in the first band
    ("share", "B", 3.0, 1.0),
    ("share", "50%以上", 3.0, 1.0),
    ("hours", "10", 0.5, 0.5),  # 10 of the goalposts 0 to 20
    ("hours", 30, 1.0, 1.0),
    ("hours", "1,0", None, None),  # not a number (commas group thousands)
    ("scene", "１", 1.0, 0.5),
    ("scene", "成熟", 2.0, 1.0),
    ("scene", 0, 0.0, 0.0),
]
VALID = [case for case in VALID if case[2] is not None]

INVALID = [
    ("one", "Z", "not an option; expected one of A, B, C"),
    ("one", ["B"], "only a multiple-choice item takes several values"),
    ("many", "A;B", "option A (none) cannot be ticked together with other options"),
    ("many", "BC", "(write B;C)"),
    ("many", {"B": 1}, "got a mapping (dict)"),
    ("runs", "cb", "'cb' is not an option"),
    ("has_plan", "maybe", "expected yes or no"),
    ("agree", "3%", "expected a whole number from 1 to 5"),
    ("agree", "2.5", "expected a whole number from 1 to 5"),
    ("share", "135%", "outside the valid range 0 to 100 %"),
    ("hours", "5%", "a percentage, but the unit is not %"),
    ("hours", 41, "outside the valid range 0 to 40 小时"),
    ("hours", "1,0", "not a number"),
    ("scene", "3", "expected a level from 0 to 2"),
]


@pytest.mark.parametrize("code, cell, raw, score", VALID)
def test_a_valid_answer_reads_and_scores_by_hand(all_types, code, cell, raw, score):
    item = all_types.item(code)
    kind = item_type(item)
    assert kind.read(item, all_types, cell_key(cell)) == (raw, None)
    assert kind.score(item, all_types, np.array([raw]))[0] == pytest.approx(score)
    encoded = encode_answers(all_types, pd.DataFrame({"respondent_id": ["r"], code: [cell]}))
    assert encoded.valid.all()
    assert encoded.scores[0, encoded.item_codes.index(code)] == pytest.approx(score)


@pytest.mark.parametrize("code, cell, reason", INVALID)
def test_an_invalid_answer_is_refused_with_its_reason(all_types, code, cell, reason):
    item = all_types.item(code)
    raw, error = item_type(item).read(item, all_types, cell_key(cell))
    assert math.isnan(raw) and reason in error
    encoded = encode_answers(all_types, pd.DataFrame({"respondent_id": ["r"], code: [cell]}))
    assert not encoded.valid.any()
    assert encoded.rejects[["column", "reason"]].values.tolist() == [[code, error]]


@pytest.mark.parametrize("code", list(MAXIMA))
def test_a_column_reads_each_cell_as_the_cell_alone_on_every_path(all_types, code):
    item = all_types.item(code)
    kind = item_type(item)
    parser = kind.parser(item, all_types)
    cells = [c for k, c, *_ in VALID + INVALID if k == code]
    cells += [None, "", "  ", cells[0], np.nan]
    alone = [kind.read(item, all_types, cell_key(c)) for c in cells]
    column = pd.Series(cells, dtype=object)
    results = {
        "small": parse_column(column, len(cells), parser, small=True),
        "distinct": parse_column(column, len(cells), parser),
    }
    texts = [c for c in cells if c is None or isinstance(c, str)]
    if len(texts) == len(cells) - 1:  # all but NaN: as the CSV reader gives them, twice
        arrow = pd.Series(cells[:-1], dtype="str")
        memo = answers_module._TextMemo()
        for name in ("arrow", "memo"):
            result = parse_column(arrow, len(arrow), parser, memo=memo)
            results[name] = answers_module._ColumnResult(
                np.append(result.raw, np.nan),
                np.append(result.missing, True),
                result.error_rows,
                result.error_values,
                result.error_reasons,
            )
    for name, result in results.items():
        errors = dict(zip(result.error_rows.tolist(), result.error_reasons))
        for i, read in enumerate(alone):
            if read is None:
                assert result.missing[i] and math.isnan(result.raw[i]), (name, cells[i])
            else:
                assert not result.missing[i], (name, cells[i])
                assert np.array([read[0]]).tobytes() == result.raw[[i]].tobytes(), name
                assert errors.get(i) == read[1], (name, cells[i])


# -- codebook and template -------------------------------------------------------------------------


def _rows(book: pd.DataFrame, code: str) -> list[tuple]:
    part = book[book["column"] == code][["value", "label_en", "points", "min", "max"]]
    return [
        tuple(None if (v is None or (isinstance(v, float) and math.isnan(v))) else v for v in row)
        for row in part.itertuples(index=False)
    ]


def test_codebook_rows_of_every_type_by_hand(all_types):
    book = codebook(all_types)
    assert _rows(book, "one") == [
        ("A", "None", 0, None, None),
        ("B", "Some", 1, None, None),
        ("C", "All", 2, None, None),
    ]
    assert _rows(book, "many")[0] == ("A", "None (cannot be combined)", 0, None, None)
    assert [r[0] for r in _rows(book, "many")] == ["A", "B", "C", "D", "N", "O"]
    assert _rows(book, "has_plan") == [("yes", "yes", 2, None, None), ("no", "no", 0, None, None)]
    assert _rows(book, "agree") == [  # lower is better
        ("1", "", 1.0, None, None),
        ("2", "", 0.75, None, None),
        ("3", "", 0.5, None, None),
        ("4", "", 0.25, None, None),
        ("5", "", 0.0, None, None),
    ]
    assert _rows(book, "share") == [("A", "50% or less", 0, 0, 50), ("B", "Over 50%", 3, 50, 100)]
    assert _rows(book, "hours") == [("", "number (小时)", 1.0, 0, 40)]
    assert _rows(book, "scene") == [
        ("0", "Not yet", 0, None, None),
        ("1", "Starting", 1, None, None),
        ("2", "Mature", 2, None, None),
    ]
    items = book[book["dimension"] == "first"]
    assert dict(zip(items["column"], items["type"])) == {i.code: i.type for i in all_types.items}
    assert set(items["missing"]) == {"exclude"}


@pytest.mark.parametrize("which", ["all_types", "miit"])
def test_every_codebook_value_earns_its_points_when_scored(which, request):
    # the rule behind the rows: a value written in a file scores what the codebook says
    instrument = request.getfixturevalue(which)
    book = codebook(instrument)
    for item in instrument.items:
        kind = item_type(item)
        for row in book[book["column"] == item.code].itertuples():
            if row.value == "":  # a range, not one value
                continue
            raw, error = kind.read(item, instrument, cell_key(row.value))
            assert error is None, (item.code, row.value)
            points = instrument.max_points(item) * kind.score(item, instrument, np.array([raw]))[0]
            assert points == pytest.approx(row.points), (item.code, row.value)


def test_the_template_has_one_column_per_item_after_the_profile(all_types):
    assert list(template(all_types).columns) == ["respondent_id", "sector", "employees"] + list(
        MAXIMA
    )


# -- the app's widget and the report's text ------------------------------------------------


def test_widgets_of_every_type_by_hand(all_types):
    def widget(code, answer=None, lang="en"):
        return item_widget(all_types, all_types.item(code), answer, lang)

    one = widget("one", "B")
    assert (one.kind, one.values, one.value, one.horizontal) == (
        "radio",
        ["A", "B", "C"],
        "B",
        False,
    )
    assert one.labels == {"A": "None", "B": "Some", "C": "All"}
    assert widget("one", "Z").value is None
    many = widget("many", "B;C", "zh")
    assert (many.kind, many.value, many.labels["B"]) == ("multiselect", ["B", "C"], "产品设计")
    assert widget("many", ["C", "D"]).value == ["C", "D"]
    assert widget("many").value == []
    plan = widget("has_plan", "yes", "zh")
    assert (plan.kind, plan.values, plan.labels, plan.value, plan.horizontal) == (
        "radio",
        ["yes", "no"],
        {"yes": "是", "no": "否"},
        "yes",
        True,
    )
    agree = widget("agree", "4")
    assert (agree.values, agree.value) == ([1, 2, 3, 4, 5], 4)
    assert agree.labels == {v: str(v) for v in range(1, 6)}  # the scale has no end labels
    share = widget("share", "A")
    assert (share.kind, share.values, share.labels["B"], share.value) == (
        "radio",
        ["A", "B"],
        "Over 50%",
        "A",
    )
    hours = widget("hours", "12")
    assert (hours.kind, hours.unit, hours.min, hours.max, hours.value) == (
        "number",
        "小时",
        0,
        40,
        12.0,
    )
    assert widget("hours", "").value is None
    scene = widget("scene", 1.0)
    assert (scene.values, scene.labels[1], scene.value) == ([0, 1, 2], "1 · Starting", 1)
    assert widget("scene", "2", "zh").value == 2


def test_likert_widget_labels_the_ends_of_the_scale():
    instrument = parse_instrument(
        ALL_TYPES_YAML.replace(
            "scale: {min: 1, max: 5}",
            "scale: {min: 1, max: 3, zh_low: 不同意, en_low: disagree, en_high: agree}",
        ),
        source="likert-labels.yaml",
    )
    labels = item_widget(instrument, instrument.item("agree"), None, "en").labels
    assert labels == {1: "1 disagree", 2: "2", 3: "3 agree"}
    assert item_widget(instrument, instrument.item("agree"), None, "zh").labels == {
        1: "1 不同意",
        2: "2",
        3: "3",
    }


@pytest.mark.parametrize(
    "code, answer, lang, shown",
    [
        ("one", "B", "zh", "B: 部分"),
        ("many", "B;C", "en", "B: Product design; C: Process design"),
        ("many", "B，x", "zh", "B: 产品设计；x"),
        ("has_plan", "yes", "en", "yes"),
        ("agree", 2, "en", "2"),
        ("share", "A", "en", "A: 50% or less"),
        ("share", "30", "en", "30 %"),
        ("hours", "10", "zh", "10 小时"),
        ("scene", "1", "en", "1: Starting"),
        ("scene", "x", "en", "x"),
        ("one", None, "en", ""),
    ],
)
def test_the_report_shows_an_answer_with_what_it_stands_for(all_types, code, answer, lang, shown):
    assert _answer_text(all_types, all_types.item(code), answer, lang) == shown


# -- the improvement step ------------------------------------------------------------------------


_MANY = [
    ("B", "Product design"),
    ("C", "Process design"),
    ("D", "Marketing"),
    ("N", "Finance"),
    ("O", "Human resources"),
]


def _steps(instrument, code, current):
    item = instrument.item(code)
    return [(s.answer, s.en) for s in item_type(item).improvements(item, instrument, current)]


@pytest.mark.parametrize(
    "code, current, steps",
    [
        ("one", "B", [("C", "improve to 'All'")]),
        ("one", "部分", [("C", "improve to 'All'")]),
        ("one", None, [("A", "improve to 'None'")]),
        ("one", "C", []),
        ("many", "B;C", [(f"B;C;{v}", f"add '{en}'") for v, en in _MANY[2:]]),
        ("many", ["C", "产品设计"], [(f"B;C;{v}", f"add '{en}'") for v, en in _MANY[2:]]),
        ("many", "A", [(v, f"add '{en}'") for v, en in _MANY]),  # "none" is not kept
        ("runs", "bc", [("b;c;d", "add 'Data'"), ("b;c;e", "add 'Security'")]),
        ("has_plan", "no", [("yes", "put this in place")]),
        ("has_plan", None, [("yes", "put this in place")]),
        ("has_plan", "t", []),
        ("has_plan", "有", []),
        ("agree", "3", [(2, "move to 2")]),  # lower is better
        ("agree", "1", []),
        ("share", "A", [("B", "raise it above 50%")]),
        ("share", "30", [("B", "raise it above 50%")]),
        ("share", "50%及以下", [("B", "raise it above 50%")]),
        ("share", "75%", []),
        ("hours", "5", []),  # goalposts: no next band to name
        ("scene", None, [(1, "reach level 1: Starting")]),
        ("scene", "１", [(2, "reach level 2: Mature")]),
        ("scene", "起步", [(2, "reach level 2: Mature")]),
        ("scene", 2, []),
    ],
)
def test_the_next_better_answer_by_hand(all_types, code, current, steps):
    assert _steps(all_types, code, cell_key(current)) == steps


@pytest.mark.parametrize("which", ["all_types", "miit"])
def test_every_step_is_an_answer_worth_more(which, request):
    # the rule: a proposed answer is valid, never scores less, and scores more unless the
    # item is at its maximum; a multiple-choice step keeps every option already ticked (but
    # "none")
    instrument = request.getfixturevalue(which)
    book = codebook(instrument)
    for item in instrument.items:
        kind = item_type(item)
        values = [v for v in book[book["column"] == item.code]["value"] if v != ""]
        currents = values + [";".join(values[1:3])] if isinstance(kind, MultipleChoice) else values
        for current in currents:
            raw, error = kind.read(item, instrument, cell_key(current))
            if error is not None:
                continue
            old = kind.score(item, instrument, np.array([raw]))[0]
            for step in kind.improvements(item, instrument, cell_key(current)):
                new_raw, new_error = kind.read(item, instrument, cell_key(step.answer))
                assert new_error is None, (item.code, current, step)
                new = kind.score(item, instrument, np.array([new_raw]))[0]
                assert new > old or (isinstance(kind, MultipleChoice) and old == 1.0)
                if isinstance(kind, MultipleChoice):
                    ticked = kind.ticked(item, instrument, cell_key(current))
                    before = {i for i in ticked if not item.options[i].exclusive}
                    assert before < set(kind.ticked(item, instrument, cell_key(step.answer)))


@pytest.mark.parametrize(
    "written",
    [["B", "C"], ("C", "B"), "B C", "b，c", "c;b", "车间工控网络;C", np.array(["B", "C"])],
)
def test_advice_reads_ticked_options_as_the_scoring_does(miit, written):
    # one answer written in any way the scoring accepts gets the same advice: never "add" an
    # option already ticked (its candidate would drop the other ticks and lower the score)
    official = dmi.IndexModel(miit).fit()
    company = {"respondent_id": "c", **worst_answers(miit)}
    _, expected = candidate_rows(miit, {**company, "network": "B;C"}, "foundation")
    _, found = candidate_rows(miit, {**company, "network": written}, "foundation")
    network = [(c.answer, c.change_en) for c in found if c.item.code == "network"]
    assert network == [(c.answer, c.change_en) for c in expected if c.item.code == "network"]
    assert [a for a, _ in network] == ["B;C;D", "B;C;E"]
    same = improvements(official, {**company, "network": "B;C"}, top=40)
    assert improvements(official, {**company, "network": written}, top=40) == same
    assert any(i.item == "network" for i in same)


# -- synthetic answers -----------------------------------------------------------------------------

# sha256 of synthesise(..., 300, seed=11).to_csv(index=False), made by the implementation before
# the item types had their own classes: the same seed must keep giving the same file
SYNTHETIC_FILES = {
    ("all_types", False): "2134f7bb66c007b8b1347dd4448549f80f8b94f05b330f5bd85f038bf05611c1",
    ("all_types", True): "096a56ca60b9ac2c8b1d9c1d9c577bd265a020b5be79a3e7a0176edc63152f35",
    ("miit", False): "5e5e0234debf36a8cd25d6195e7267f9eedb584b0815f70507424299106becbf",
    ("miit", True): "dfdd6f15897e644732932ae20e9117a695f27493f507fe66045b41342fa7fb21",
}


@pytest.mark.parametrize("which, messy", list(SYNTHETIC_FILES))
def test_synthetic_files_are_the_draws_they_were(which, messy, request):
    frame = synthesise(request.getfixturevalue(which), 300, seed=11, messy=messy)
    digest = hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()
    assert digest == SYNTHETIC_FILES[which, messy]


@pytest.mark.parametrize("code", list(MAXIMA))
def test_synthetic_answers_are_valid_and_better_as_maturity_rises(all_types, code):
    item = all_types.item(code)
    kind = item_type(item)
    latent = np.linspace(-3, 3, 4000)
    answers = kind.synthesise(item, all_types, latent, np.random.default_rng(4))
    again = kind.synthesise(item, all_types, latent, np.random.default_rng(4))
    assert len(answers) == len(latent) and list(answers) == list(again)
    scores = []
    for answer in answers.tolist():
        raw, error = kind.read(item, all_types, cell_key(answer))
        assert error is None, (code, answer)
        scores.append(kind.score(item, all_types, np.array([raw]))[0])
    low, high = np.mean(scores[:2000]), np.mean(scores[2000:])
    assert high > low + 0.2, (code, low, high)


def test_messy_files_plant_each_problem_where_a_type_can(all_types):
    frame = synthesise(all_types, 60, seed=2, messy=True)
    rejects = encode_answers(all_types, frame).rejects
    reasons = " | ".join(rejects["reason"])
    for planted in (
        "not an option; expected one of A, B, C",  # single: unknown option code
        "outside the valid range 0 to 100 %",  # number: percentage out of range
        "cannot be ticked together",  # multi: none with another option
        "not a number",  # number: not a number
        "duplicate respondent_id",
    ):
        assert planted in reasons


# -- a type added in a test: one class and one registry entry ------------------------------


class Stars(ItemType):
    """A rating written as stars (``★★★``) or their number, from 0 to the item's ``points``."""

    keys = frozenset({"points"})

    def check(self, item, instrument, where, add):
        if item.points is not None and (item.points > 10 or not float(item.points).is_integer()):
            add(where, f"a stars item gives a whole number of stars up to 10, got {item.points}")

    def max_points(self, item, instrument):
        return item.points if item.points is not None else 5.0

    def parser(self, item, instrument):
        top = self.max_points(item, instrument)
        expected = f"0 to {top:g} stars (★)"

        def parse(text):
            stars = float(len(text)) if set(text) == {"★"} else parse_number(text, percent=False)
            if stars is None or not stars.is_integer() or not 0 <= stars <= top:
                return math.nan, f"expected {expected}"
            return stars, None

        return Parser(one_value(parse, expected, math.nan))

    def codebook_rows(self, item, instrument):
        top = int(self.max_points(item, instrument))
        return [
            {"value": "★" * k, "label_zh": f"{k}星", "label_en": f"{k} stars", "points": k}
            for k in range(top + 1)
        ]

    def widget(self, item, instrument):
        top = int(self.max_points(item, instrument))
        return Widget("radio", tuple(Choice(k, "★" * k, "★" * k) for k in range(top + 1)), True)

    def improvements(self, item, instrument, current):
        read = self.read(item, instrument, current)
        stars = 0 if read is None or read[1] is not None else int(read[0])
        if stars >= self.max_points(item, instrument):
            return []
        return [Step("★" * (stars + 1), "多一颗星", "one more star")]

    def synthesise(self, item, instrument, latent, rng):
        stars = ordinal(latent, int(self.max_points(item, instrument)) + 1, 0.0)
        return np.array(["★" * k or "0" for k in stars.tolist()], dtype=object)


STARS_YAML = """
format: dmi-instrument/1
id: stars
version: "1"
title: {zh: 星级, en: Stars}
levels:
  bands:
    - {level: 0, min: 0, zh: 低, en: Low}
    - {level: 1, min: 50, zh: 高, en: High}
dimensions:
  - code: service
    zh: 服务
    en: Service
    indicators:
      - code: rating
        zh: 评价
        en: Rating
        items:
          - {code: stars, type: stars, zh: 星级, en: Stars, points: 5, missing: required}
          - code: plan
            type: single
            zh: 计划
            en: Plan
            options:
              - {value: A, zh: 无, en: None, points: 0}
              - {value: B, zh: 有, en: Some, points: 1}
"""


@pytest.fixture
def stars(monkeypatch):
    monkeypatch.setitem(ITEM_TYPES, "stars", Stars())
    return parse_instrument(STARS_YAML, source="stars.yaml")


def test_the_format_accepts_the_types_the_registry_holds(monkeypatch):
    with pytest.raises(InstrumentError) as refused:
        parse_instrument(STARS_YAML, source="stars-unregistered.yaml")
    assert (
        "item 'stars'.type: input should be 'single', 'multi', 'yesno', 'likert', 'number', "
        "'scenario', 'rating' or 'checklist', got 'stars'"
    ) in str(refused.value)
    monkeypatch.setitem(ITEM_TYPES, "stars", Stars())
    assert (
        parse_instrument(STARS_YAML, source="stars-registered.yaml").item("stars").type == "stars"
    )
    wrong = STARS_YAML.replace("points: 5, missing", "points: 12, unit: '%', missing")
    with pytest.raises(InstrumentError) as refused:
        parse_instrument(wrong, source="stars-wrong.yaml")
    assert [(p.where, p.problem) for p in refused.value.problems] == [
        ("item 'stars'", "key 'unit' does not apply to a 'stars' item"),
        ("item 'stars'", "a stars item gives a whole number of stars up to 10, got 12.0"),
    ]


def test_a_new_type_is_scored_end_to_end(stars, monkeypatch):
    answers = pd.DataFrame(
        {
            "respondent_id": ["r1", "r2", "r3", "r4", "r5"],
            "stars": ["★★★", "4", "★★★★★★", None, ["★"]],
            "plan": ["B", "B", "A", "A", "A"],
        }
    )
    ways = {}
    for name, limit in (("small", 10**9), ("vectorised", -1)):
        monkeypatch.setattr(answers_module, "SMALL_BATCH_ROWS", limit)
        ways[name] = encode_answers(stars, answers)
    text = answers.assign(stars=answers["stars"].where(answers.index < 4, None)).astype("str")
    ways["arrow"] = encode_answers(stars, text)
    for encoded in ways.values():
        np.testing.assert_array_equal(encoded.valid, [True, True, False, False, False])
        np.testing.assert_allclose(encoded.scores[:2], ways["small"].scores[:2])
    encoded = ways["small"]
    several = "got a list (only a multiple-choice item takes several values)"
    np.testing.assert_allclose(encoded.scores[:2], [[0.6, 1.0], [0.8, 1.0]])
    assert encoded.rejects[["row", "column", "reason"]].values.tolist() == [
        [4, "stars", "expected 0 to 5 stars (★)"],
        [5, "stars", "required answer missing"],
        [6, "stars", f"expected 0 to 5 stars (★), {several}"],
    ]
    scores = dmi.IndexModel(stars).fit().score(answers.iloc[:2])
    # points: 3 + 1 and 4 + 1 of 5 + 1 (weights default to the maximum points)
    assert scores["dmi"].tolist() == pytest.approx([400 / 6, 500 / 6])
    assert scores["level"].tolist() == [1, 1]

    book = codebook(stars)
    assert book[book["column"] == "stars"]["value"].tolist() == ["★" * k for k in range(6)]
    assert list(template(stars).columns) == ["respondent_id", "stars", "plan"]
    best = improvements(dmi.IndexModel(stars).fit(), {"stars": "★★★", "plan": "B"})
    assert [(i.item, i.answer, i.change_en) for i in best] == [("stars", "★★★★", "one more star")]
    assert best[0].gain == pytest.approx(100 / 6)
    widget = item_widget(stars, stars.item("stars"), "2", "zh")
    assert (widget.kind, widget.values, widget.value) == ("radio", list(range(6)), 2)
    assert widget.labels[3] == "★★★"
    frame = synthesise(stars, 50, seed=1)
    assert encode_answers(stars, frame).valid.all()


# -- the EU DMA's types: rating (a labelled 0-5 scale) and checklist (a share of ticks) --------

NEW_TYPES_YAML = """
format: dmi-instrument/1
id: new-types
version: "1"
title: {zh: 新题型, en: New types}
defaults: {missing: exclude}
levels:
  bands: [{level: 0, min: 0, zh: 无, en: None}]
dimensions:
  - code: d
    zh: 维度
    en: Dimension
    indicators:
      - code: i
        zh: 指标
        en: Indicator
        items:
          - code: rate
            type: rating
            zh: 应用程度
            en: How far
            scale: {min: 0, max: 5}
            labels:
              - {zh: 未使用, en: Not used}
              - {zh: 考虑, en: Considering}
              - {zh: 原型, en: Prototyping}
              - {zh: 测试, en: Testing}
              - {zh: 实施, en: Implementing}
              - {zh: 运行, en: Operational}
          - code: ticks
            type: checklist
            zh: 做法
            en: Practices
            options:
              - {value: a, zh: 甲, en: Alpha}
              - {value: b, zh: 乙, en: Beta}
              - {value: c, zh: 丙, en: Gamma}
              - {value: d, zh: 丁, en: Delta}
              - {value: x, zh: 未以数字方式采集, en: Not collected digitally, exclusive: true}
"""


@pytest.fixture(scope="module")
def new_types() -> dmi.Instrument:
    return parse_instrument(NEW_TYPES_YAML, source="new-types.yaml")


@pytest.mark.parametrize(
    "code, cell, raw, score",
    [
        ("rate", "0", 0.0, 0.0),
        ("rate", 3, 3.0, 0.6),
        ("rate", "Testing", 3.0, 0.6),
        ("rate", "运行", 5.0, 1.0),
        ("rate", "５", 5.0, 1.0),
        ("ticks", "a", 2.5, 0.25),  # 10 points over 4 counted options
        ("ticks", "a;c", 5.0, 0.5),
        ("ticks", ["d", "b", "a"], 7.5, 0.75),
        ("ticks", "Alpha;Beta;Gamma;Delta", 10.0, 1.0),
        ("ticks", "x", 0.0, 0.0),  # the exclusive option scores 0
    ],
)
def test_new_types_read_and_score_by_hand(new_types, code, cell, raw, score):
    item = new_types.item(code)
    kind = item_type(item)
    assert kind.read(item, new_types, cell_key(cell)) == (raw, None)
    encoded = encode_answers(new_types, pd.DataFrame({"respondent_id": ["r"], code: [cell]}))
    assert encoded.valid.all()
    assert encoded.scores[0, encoded.item_codes.index(code)] == pytest.approx(score)


@pytest.mark.parametrize(
    "code, cell, reason",
    [
        ("rate", "6", "expected a whole number from 0 to 5 (or its label)"),
        ("rate", "2.5", "expected a whole number from 0 to 5"),
        ("rate", "3%", "expected a whole number from 0 to 5"),
        ("ticks", "x;a", "option x (none) cannot be ticked together with other options"),
        ("ticks", "e", "'e' is not an option"),
    ],
)
def test_new_types_refuse_with_a_reason(new_types, code, cell, reason):
    item = new_types.item(code)
    raw, error = item_type(item).read(item, new_types, cell_key(cell))
    assert math.isnan(raw) and reason in error


def test_new_types_codebook_widget_and_steps_by_hand(new_types):
    book = codebook(new_types)
    assert _rows(book, "rate") == [
        ("0", "Not used", 0.0, None, None),
        ("1", "Considering", 0.2, None, None),
        ("2", "Prototyping", 0.4, None, None),
        ("3", "Testing", 0.6, None, None),
        ("4", "Implementing", 0.8, None, None),
        ("5", "Operational", 1.0, None, None),
    ]
    assert _rows(book, "ticks") == [
        ("a", "Alpha", 2.5, None, None),
        ("b", "Beta", 2.5, None, None),
        ("c", "Gamma", 2.5, None, None),
        ("d", "Delta", 2.5, None, None),
        ("x", "Not collected digitally (cannot be combined)", 0.0, None, None),
    ]
    rate, ticks = new_types.item("rate"), new_types.item("ticks")
    widget = item_type(rate).widget(rate, new_types)
    assert widget.kind == "radio" and widget.choices[3] == Choice(3, "3 测试", "3 Testing")
    assert item_type(ticks).widget(ticks, new_types).kind == "multiselect"
    steps = item_type(rate).improvements(rate, new_types, "3")
    assert [(s.answer, s.en) for s in steps] == [(4, "move to 4 (Implementing)")]
    assert item_type(rate).improvements(rate, new_types, "5") == []
    steps = item_type(ticks).improvements(ticks, new_types, "a;c")
    assert [s.answer for s in steps] == ["a;c;b", "a;c;d"]
    assert item_type(rate).describe(rate, new_types, "4", "en") == [("4", "Implementing")]


def test_new_types_synthesise_valid_answers_that_rise_with_maturity(new_types):
    answers = synthesise(new_types, 400, seed=5, missing_rate=0.0)
    encoded = encode_answers(new_types, answers)
    assert encoded.valid.all()
    for j in range(2):
        low, high = np.array_split(np.sort(encoded.scores[:, j]), 2)
        assert high.mean() > low.mean()
    messy = synthesise(new_types, 200, seed=5, messy=True, missing_rate=0.0)
    assert messy["rate"].map(lambda v: isinstance(v, str)).any()  # labels for numbers


def test_checklist_options_take_no_points_and_need_two_counted():
    bad = NEW_TYPES_YAML.replace(
        "{value: a, zh: 甲, en: Alpha}", "{value: a, zh: 甲, en: Alpha, points: 1}"
    )
    with pytest.raises(InstrumentError, match="checklist options take no points"):
        parse_instrument(bad)
    short = NEW_TYPES_YAML.replace("type: rating", "type: rating\n            points: 2").replace(
        "              - {zh: 运行, en: Operational}\n", ""
    )
    with pytest.raises(InstrumentError, match="one label per point of its scale"):
        parse_instrument(short)
