"""The table of interface text: its rules, the loader, and that the code asks only for what is
there and the table holds only what the code asks for."""

from __future__ import annotations

import ast
from importlib.resources import files
from pathlib import Path

import pytest

from dmi import locales
from dmi.locales import LANGS, _read_area, _read_table, fields, table, text

ROOT = Path(__file__).resolve().parents[1]


def _shipped_files() -> list:
    return sorted(
        (p for p in files("dmi.locales").iterdir() if p.name.endswith(".yaml")),
        key=lambda p: p.name,
    )


# -- the shipped table --------------------------------------------------------------------------


def test_every_text_has_one_zh_and_one_en_with_the_same_fields():
    assert table(), "the table is empty"
    for key, entry in table().items():
        assert tuple(entry) == LANGS, key
        assert all(isinstance(entry[lang], str) for lang in LANGS), key
        # the same {field}s: a value given in one language is never lost in the other
        assert fields(entry["zh"]) == fields(entry["en"]), key
        # a text blank in one language is blank in both (only separators are blank)
        assert bool(entry["zh"].strip()) == bool(entry["en"].strip()), key


def test_no_chinese_text_has_a_space_after_its_punctuation():
    # a YAML text folded over lines (>-) joins them with a space: "中小企业、 专精特新" on the page
    for key, entry in table().items():
        zh = entry["zh"]
        for i, char in enumerate(zh[:-1]):
            if char in "，、。：；！？）】」》" and zh[i + 1] == " ":
                seen = zh[max(0, i - 8) : i + 8]
                raise AssertionError(f"{key}: a space after {char!r}: {seen!r}")


def test_keys_are_area_dot_name_and_unique_across_the_files():
    areas = {}
    for path in _shipped_files():
        # _read_area refuses a name given twice in one file (plain YAML keeps the last)
        areas[path.name.removesuffix(".yaml")] = _read_area(
            path.name, path.read_text(encoding="utf-8")
        )
    assert {"app", "report", "levels"} <= set(areas)
    assert sum(len(entries) for entries in areas.values()) == len(table())
    for area, entries in areas.items():
        for name, entry in entries.items():
            assert table()[f"{area}.{name}"] == entry


def test_the_table_is_package_data():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"locales/*.yaml"' in pyproject


# -- the loader ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("a: {zh: 甲, en: A}\na: {zh: 乙, en: B}\n", "'a' is given twice"),
        ("a: {zh: 甲}\n", "expected exactly the texts zh, en, got ['zh']"),
        ("a: {zh: 甲, en: A, fr: A}\n", "got ['en', 'fr', 'zh']"),
        ("a: 甲\n", "got str"),
        ("a: {zh: 甲, en: 1}\n", "a.en: expected a text, got 1"),
        ("a: {zh: '第 {n} 页', en: 'Page {page}'}\n", "zh ['n']; en ['page']"),
        ("a: {zh: '第 {n} 页', en: 'Page'}\n", "zh ['n']; en []"),
        ("a: {zh: '{} 页', en: '{} page'}\n", "is not a name"),
        ("a: {zh: '{n 页', en: '{n page'}\n", "a: "),
        ("- a\n", "expected a mapping of text keys, got list"),
        ("a-b: {zh: 甲, en: A}\n", "a-b: a text key is a name"),
    ],
)
def test_a_broken_area_file_is_refused_naming_the_file_and_the_key(document, message):
    with pytest.raises(ValueError, match="^x.yaml: ") as caught:
        _read_area("x.yaml", document)
    assert message in str(caught.value)


def test_a_nested_duplicate_is_refused_too():
    with pytest.raises(ValueError, match="'zh' is given twice"):
        _read_area("x.yaml", "a: {zh: 甲, zh: 乙, en: A}\n")


def test_the_file_name_is_the_area(tmp_path):
    (tmp_path / "one.yaml").write_text("same: {zh: 一, en: one}\n", encoding="utf-8")
    (tmp_path / "two.yaml").write_text("same: {zh: 二, en: two}\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a table", encoding="utf-8")
    found = _read_table(tmp_path)
    assert found == {"one.same": {"zh": "一", "en": "one"}, "two.same": {"zh": "二", "en": "two"}}


def test_text_fills_the_fields_in_the_language_asked():
    assert text("report.page", "zh", n=3) == "第 3 页"
    assert text("report.page", "en", n=3) == "Page 3"
    assert text("app.peer_percentile", "en", p=41.6, group="C13", n=30) == (
        "Ahead of 42% of peers (peer group: C13, 30 companies)"
    )
    assert text("report.list_sep", "zh") == "；"
    # a value is put in as it is, never read as a field itself
    assert text("report.page", "en", n="{n}") == "Page {n}"


def test_text_refuses_an_unknown_key_language_or_a_missing_field():
    with pytest.raises(KeyError, match="no interface text 'report.nothing'"):
        text("report.nothing", "en")
    with pytest.raises(KeyError, match="'title'"):  # the key without its area is not a key
        text("title", "en")
    with pytest.raises(ValueError, match="one of zh, en, got 'fr'"):
        text("report.title", "fr")
    with pytest.raises(KeyError, match="'n'"):
        text("report.page", "en")


def test_the_table_is_read_only():
    with pytest.raises(TypeError):
        table()["report.title"] = {"zh": "x", "en": "x"}  # type: ignore[index]
    with pytest.raises(TypeError):
        table()["report.title"]["en"] = "x"  # type: ignore[index]


# -- the code and the table agree ---------------------------------------------------------------

# Where texts are asked for: ``text(key, lang)`` (``locales.text``) takes a whole key
# everywhere, and so does the report's local ``t``; in the app, ``t(name)`` (``ui.t``) is
# ``dmi_ui.t``, which adds ``app.``.


def _is_parameter(node: ast.Call, parents: dict) -> bool:
    """Whether the call's key is its enclosing function's own parameter (a thin wrapper)."""
    scope = parents.get(node)
    while scope is not None and not isinstance(scope, ast.FunctionDef | ast.Lambda):
        scope = parents.get(scope)
    own = {a.arg for a in scope.args.args} if scope is not None else set()
    return bool({n.id for n in ast.walk(node.args[0]) if isinstance(n, ast.Name)} & own)


def _asks(path: Path, in_app: bool):
    """(call, key prefix the call adds, first argument) of every call asking for a text."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        analysis = path.parts[-2:] in {("analysis", "report.py"), ("analysis", "text.py")}
        if isinstance(func, ast.Name) and func.id in ("text", "t"):
            name = func.id
        elif isinstance(func, ast.Name) and func.id == "msg":
            # dmi.analysis.text.msg(name): the text analysis.<name>, written where it is shown
            yield node, "analysis.", node.args[0]
            continue
        elif analysis and isinstance(func, ast.Attribute) and func.attr == "t":
            # the analysis report's writer: w.t(name) is the text analysis.<name>
            if not _is_parameter(node, parents):
                yield node, "analysis.", node.args[0]
            continue
        elif (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and (func.value.id, func.attr) in (("locales", "text"), ("ui", "t"))
        ):
            name = func.attr
        else:
            continue
        # a thin wrapper (the report's ``t``, ``dmi_ui.t``) passes its own parameter on
        scope = parents.get(node)
        while scope is not None and not isinstance(scope, ast.FunctionDef | ast.Lambda):
            scope = parents.get(scope)
        own = {a.arg for a in scope.args.args} if scope is not None else set()
        if {n.id for n in ast.walk(node.args[0]) if isinstance(n, ast.Name)} & own:
            continue
        yield node, "app." if in_app and name == "t" else "", node.args[0]


def _uses() -> tuple[dict[str, list[tuple[str, ast.Call]]], dict[str, str]]:
    """Every key asked for by its whole name (with where and the call), and every family of
    keys asked for by an f-string (prefix -> where)."""
    literal: dict[str, list[tuple[str, ast.Call]]] = {}
    families: dict[str, str] = {}
    sources = [(p, False) for p in (ROOT / "src" / "dmi").rglob("*.py")]
    sources += [(p, True) for p in (ROOT / "app").rglob("*.py")]
    for path, in_app in sources:
        for call, prefix, arg in _asks(path, in_app):
            where = f"{path.relative_to(ROOT)}:{call.lineno}"
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                literal.setdefault(prefix + arg.value, []).append((where, call))
            elif isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant):
                families[prefix + arg.values[0].value] = where
            else:
                raise AssertionError(f"{where}: a key the scan cannot read: {ast.unparse(arg)}")
    return literal, families


def test_the_scan_finds_the_calls_of_every_area():
    literal, families = _uses()
    # every area file is asked for by whole key somewhere, so the scan reaches each area's callers
    yamls = [p.name for p in files("dmi.locales").iterdir() if p.name.endswith(".yaml")]
    assert {key.split(".")[0] for key in literal} == {name.removesuffix(".yaml") for name in yamls}
    assert "app.nav_company" in literal and "report.title" in literal
    assert "levels.reaches_short_of" in literal
    assert "tiers.below_next_item" in literal
    assert {"app.role_", "app.file_", "app.download_"} <= set(families)


def test_every_key_asked_for_is_in_the_table_with_every_field_given():
    literal, families = _uses()
    missing = sorted(f"{where}: {key}" for key, at in literal.items() for where, _ in at)
    missing = [m for m in missing if m.rsplit(": ", 1)[1] not in table()]
    assert not missing, "keys asked for but not in the table:\n" + "\n".join(missing)
    for prefix, where in families.items():
        assert any(key.startswith(prefix) for key in table()), f"{where}: no key {prefix}*"
    for key, at in literal.items():
        for where, call in at:
            if any(k.arg is None for k in call.keywords):  # **values: not known here
                continue
            given = {k.arg for k in call.keywords}
            assert fields(table()[key]["en"]) <= given, f"{where}: {key} needs its fields"


def test_every_key_in_the_table_is_asked_for():
    literal, families = _uses()
    unused = [
        key
        for key in table()
        if key not in literal and not any(key.startswith(prefix) for prefix in families)
    ]
    assert not unused, f"keys nobody asks for: {unused}"


def test_every_role_has_its_name():
    from dmi.service.auth import ROLES

    for role in ROLES:
        assert text(f"app.role_{role}", "en")


def _file_problems() -> dict[str, set[str]]:
    """problem -> the detail names given with it, wherever a reader raises one."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / "src" / "dmi").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id not in ("FileFormatError", "XlsxError", "CsvLayoutError"):
                continue
            problem = next((k.value for k in node.keywords if k.arg == "problem"), None)
            if problem is None and node.func.id != "FileFormatError" and len(node.args) > 1:
                problem = node.args[1]
            if isinstance(problem, ast.Constant) and isinstance(problem.value, str):
                details = {k.arg for k in node.keywords if k.arg not in (None, "path", "problem")}
                found.setdefault(problem.value, set()).update(details)
    return found


def test_every_file_problem_is_worded_in_the_app_with_the_details_it_carries():
    problems = _file_problems()
    assert {"decode", "no_header", "xlsx_unreadable", "no_sheet", "file_type"} <= set(problems)
    for problem, details in problems.items():
        key = f"app.file_{problem}"
        assert key in table(), f"the app cannot word the file problem {problem!r}"
        # dmi_ui.file_error fills the file's name and the error's details
        assert fields(table()[key]["en"]) <= {"name", *details}, problem


def test_the_report_takes_its_languages_from_the_table():
    import dmi.report

    assert dmi.report.LANGS is locales.LANGS == ("zh", "en")


def test_no_text_holds_an_emoji():
    # an emoji is a box where the font lacks it (a kiosk, an old phone, a PDF): pages use
    # Streamlit's own icon font (":material/person:") instead
    import re

    emoji = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")
    found = {
        key: entry[lang]
        for key, entry in table().items()
        for lang in LANGS
        if emoji.search(entry[lang])
    }
    assert not found


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_and_the_report_name_one_thing_alike(lang):
    # the page said "Digital maturity index" and "Peer median" where the report said "Digital
    # Maturity Index" and "Peer-group median" (a review in English)
    assert text("app.index", lang) == text("report.index", lang)
    assert text("app.radar_peers", lang) == text("report.chart_peers", lang)
    assert text("report.peer_median", lang) == text("report.chart_peers", lang)
