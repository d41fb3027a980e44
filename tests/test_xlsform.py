"""The XLSForm `dmi xlsform` writes: its sheets and columns (read with openpyxl), its rows
checked against the instrument, and pyxform's conversion as an oracle."""

from __future__ import annotations

import openpyxl
import pytest

from dmi.cli import main
from dmi.instruments import parse_instrument
from dmi.instruments.export.xlsform import xlsform_sheets
from tests.conftest import ALL_TYPES_YAML

ZH, EN = "中文 (zh)", "English (en)"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def sheet_rows(path, name: str) -> list[dict]:
    sheet = openpyxl.load_workbook(path)[name]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


@pytest.fixture(scope="module")
def form(tmp_path_factory):
    path = tmp_path_factory.mktemp("xlsform") / "form.xlsx"
    assert main(["xlsform", "miit-2024-manufacturing", "-o", str(path)]) == 0
    return path


def test_the_workbook_has_the_sheets_and_columns_xlsform_requires(form):
    book = openpyxl.load_workbook(form)
    assert book.sheetnames == ["survey", "choices", "settings"]
    survey = [c.value for c in book["survey"][1]]
    for column in (
        "type",
        "name",
        f"label::{ZH}",
        f"label::{EN}",
        f"hint::{ZH}",
        f"hint::{EN}",
        "required",
        "constraint",
        f"constraint_message::{ZH}",
        f"constraint_message::{EN}",
    ):
        assert column in survey
    assert [c.value for c in book["choices"][1]] == [
        "list_name",
        "name",
        f"label::{ZH}",
        f"label::{EN}",
    ]
    settings = sheet_rows(form, "settings")
    assert settings == [
        {
            "form_title": "中小企业数字化水平评测（制造业，2024版）",
            "form_id": "miit-2024-manufacturing",
            "version": "2024.1",
            "default_language": ZH,
        }
    ]


def test_every_column_is_one_question_named_by_its_code(form, miit):
    rows = sheet_rows(form, "survey")
    names = [r["name"] for r in rows if r["type"] not in ("begin_group", "end_group")]
    assert names == [f.code for f in miit.profile] + [i.code for i in miit.items]
    groups = [r["name"] for r in rows if r["type"] == "begin_group"]
    assert groups == ["profile"] + [d.code for d in miit.dimensions]
    by_name = {r["name"]: r for r in rows}
    assert by_name["network"]["type"] == "select_multiple network"
    assert by_name["strategy"]["type"] == "select_one strategy"
    assert by_name["network"][f"label::{ZH}"] == miit.item("network").zh
    assert by_name["network"][f"hint::{EN}"] == miit.item("network").help.en
    # MIIT scores a missing answer as lowest: nothing is required
    assert {r["required"] for r in rows if r["name"] in names} == {None}


def test_choices_are_the_answers_the_template_holds(form, miit):
    choices = sheet_rows(form, "choices")
    network = [(c["name"], c[f"label::{ZH}"]) for c in choices if c["list_name"] == "network"]
    assert network == [(o.value, o.zh) for o in miit.item("network").options]
    # a banded number is asked by its bands; the scenarios share one list
    survey = {r["name"]: r for r in sheet_rows(form, "survey")}
    assert survey["equipment_digitised"]["type"] == "select_one equipment_digitised"
    bands = [c["name"] for c in choices if c["list_name"] == "equipment_digitised"]
    assert bands == ["A", "B", "C", "D", "E"]
    lists = {survey[i.code]["type"] for i in miit.items if i.type == "scenario"}
    assert lists == {"select_one sc_product_design"}
    levels = [c["name"] for c in choices if c["list_name"] == "sc_product_design"]
    assert levels == ["0", "1", "2", "3", "4"]
    regions = [c["name"] for c in choices if c["list_name"] == "region"]
    assert regions[:2] == ["11", "12"]


def test_the_none_option_is_exclusive_and_numbers_keep_their_range(form):
    survey = {r["name"]: r for r in sheet_rows(form, "survey")}
    assert survey["network"]["constraint"] == "not(selected(., 'A') and count-selected(.) > 1)"
    assert "不能与其他选项同选" in survey["network"][f"constraint_message::{ZH}"]
    assert survey["employees"]["type"] == "decimal"
    assert survey["employees"]["constraint"] == ". >= 0"


def test_an_instrument_with_required_answers_and_number_ranges(tmp_path):
    text = ALL_TYPES_YAML.replace("defaults: {missing: exclude}", "defaults: {missing: required}")
    sheets = xlsform_sheets(parse_instrument(text, source="t.yaml"))
    survey = sheets["survey"].set_index("name")
    assert survey.loc["hours", "type"] == "decimal"
    assert survey.loc["hours", "constraint"] == ". >= 0 and . <= 40"
    assert survey.loc["hours", f"constraint_message::{EN}"] == "Enter a number from 0 to 40"
    assert survey.loc["one", "required"] == "yes" and survey.loc["sector", "required"] == ""
    assert survey.loc["many", "constraint"] == "not(selected(., 'A') and count-selected(.) > 1)"
    assert survey.loc["runs", "constraint"] == "not(selected(., 'a') and count-selected(.) > 1)"
    assert survey.loc["has_plan", "type"] == "select_one has_plan"


@pytest.mark.parametrize("name", ["miit-2024-manufacturing", "all-types"])
def test_pyxform_converts_the_form(tmp_path, name):
    pyxform = pytest.importorskip("pyxform.xls2xform")
    from dmi.cli.tools import write_xlsform

    if name == "all-types":
        instrument = parse_instrument(ALL_TYPES_YAML, source="all-types.yaml")
    else:
        from dmi.instruments import load_instrument

        instrument = load_instrument(name)
    path = tmp_path / "form.xlsx"
    write_xlsform(xlsform_sheets(instrument), path)
    warnings: list[str] = []
    xform = pyxform.convert(str(path), warnings=warnings).xform
    assert warnings == []
    assert f'id="{instrument.id}"' in xform
    assert 'lang="中文 (zh)"' in xform and 'lang="English (en)"' in xform
    item = instrument.items[0]
    assert f"/{instrument.dimensions[0].code}/{item.code}" in xform


def test_dmi_xlsform_wants_an_xlsx_name(capsys, tmp_path):
    code, _, err = run(capsys, "xlsform", "miit-2024-manufacturing", "-o", tmp_path / "f.csv")
    assert code == 2 and err.startswith("dmi: error: ") and ".xlsx" in err
    assert err.count("\n") == 1
