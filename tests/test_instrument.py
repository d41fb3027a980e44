"""The instrument loader: the shipped file's facts, and one clear error per kind of mistake."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

import dmi
from dmi.instruments import InstrumentError, parse_instrument, shipped_path

from .conftest import ROOT

MANDATORY = {
    "sc_product_design",
    "sc_marketing",
    "sc_production_control",
    "sc_quality",
    "sc_equipment",
    "sc_safety",
    "sc_energy",
    "sc_procurement",
    "sc_warehousing",
    "sc_finance",
}


def test_shipped_instrument_is_listed(miit):
    assert "miit-2024-manufacturing" in dmi.available_instruments()
    assert miit.id == "miit-2024-manufacturing"
    assert miit.version == "2024.1"


def test_official_points_per_dimension(miit):
    # frameworks.md section 1: 基础 50 + 管理 30 + 成效 20; 经营 reported with weight 0
    points = {
        d.code: math.fsum(miit.max_points(i) for ind in d.indicators for i in ind.items)
        for d in miit.dimensions
    }
    assert points["foundation"] == pytest.approx(50)
    assert points["management"] == pytest.approx(30)
    assert points["performance"] == pytest.approx(20)
    weights = {d.code: miit.dimension_weight(d) for d in miit.dimensions}
    assert weights == {"foundation": 50, "operations": 0, "management": 30, "performance": 20}


def test_points_match_the_reference_table(miit):
    # every option's points, checked against the published table beside the references
    table = Path(ROOT.parent / "shared/reference/miit-2024-manufacturing-points.csv")
    if not table.exists():
        pytest.skip("reference table not available")
    import pandas as pd

    ref = pd.read_csv(table)
    scored = [i for i in miit.items if i.type != "scenario"]
    assert len(scored) == ref["question_short"].nunique() == 15
    ours = sorted(round(o.points, 4) for i in scored for o in (i.options or i.bands))
    assert len(ours) == len(ref) == 79
    assert ours == sorted(round(p, 4) for p in ref["points"])
    # question by question, in the table's order
    by_question = ref.groupby("question_short", sort=False)["points"].apply(list).tolist()
    for item, expected in zip(scored, by_question):
        got = [o.points for o in (item.options or item.bands)]
        assert got == pytest.approx(expected), item.code


def test_scenarios_and_mandatory_flags(miit):
    scenarios = miit.scenario_items("operations")
    assert len(scenarios) == 16
    assert {s.code for s in scenarios if s.mandatory} == MANDATORY
    assert [lv.value for lv in miit.scenario_levels] == [0, 1, 2, 3, 4]


def test_level_bands_and_rule_setting(miit):
    assert [(b.level, b.min) for b in miit.levels.bands] == [
        (0, 0),
        (1, 20),
        (2, 40),
        (3, 60),
        (4, 80),
    ]
    rule = miit.levels.scenario_rule
    assert rule is not None and rule.enabled is False
    req = {r.level: (r.min_scenario_level, r.count, r.mandatory_count) for r in rule.requirements}
    assert req == {4: (4, 10, 6), 3: (3, 8, 5), 2: (2, 6, 3)}


def test_every_text_is_bilingual(miit):
    for code, zh, en in miit.iter_texts():
        assert zh.strip() and en.strip(), code
    assert len(miit.tiers) == 4


def _spec(miit) -> dict:
    return yaml.safe_load(Path(miit.source).read_text(encoding="utf-8"))


def _problems(data: dict) -> list[str]:
    with pytest.raises(InstrumentError) as info:
        parse_instrument(yaml.safe_dump(data, allow_unicode=True), source="bad.yaml")
    assert str(info.value).startswith("bad.yaml:")
    return [str(p) for p in info.value.problems]


def test_errors_name_the_item_and_the_problem(miit):
    data = _spec(miit)
    items = data["dimensions"][0]["indicators"][0]["items"]
    items[0]["type"] = "checkbox"
    problems = _problems(data)
    assert any("item 'network'" in p and "checkbox" in p for p in problems), problems


def test_every_problem_is_collected_at_once(miit):
    data = _spec(miit)
    first = data["dimensions"][0]["indicators"][0]["items"]
    first[1]["code"] = first[0]["code"]  # duplicate code
    first[2]["bands"][1]["lower"] = 11  # gap between bands
    data["levels"]["bands"][2]["min"] = 10  # bands not ascending
    problems = _problems(data)
    assert any("already used" in p and "'network'" in p for p in problems), problems
    assert any("item 'equipment_networked'" in p and "not contiguous" in p for p in problems)
    assert any("levels.bands" in p and "increase" in p for p in problems)
    assert len(problems) >= 3


def test_unknown_key_and_missing_text(miit):
    data = _spec(miit)
    item = data["dimensions"][0]["indicators"][1]["items"][0]
    item["pointz"] = 3
    del item["en"]
    problems = _problems(data)
    assert any("item 'data_collection'" in p and "pointz" in p for p in problems), problems
    assert any("item 'data_collection'" in p and "en" in p and "missing" in p for p in problems)


def test_not_yaml_names_the_line():
    with pytest.raises(InstrumentError, match=r"line \d+"):
        parse_instrument("format: dmi-instrument/1\nid: [unclosed\n", source="x.yaml")


def test_unknown_name_lists_the_shipped_ones():
    with pytest.raises(FileNotFoundError, match="miit-2024-manufacturing"):
        dmi.load_instrument("no-such-instrument")


def test_hash_changes_with_content(miit):
    data = _spec(miit)
    same = parse_instrument(yaml.safe_dump(data, allow_unicode=True))
    data["dimensions"][0]["indicators"][0]["items"][0]["options"][1]["points"] = 3
    data["dimensions"][0]["indicators"][0]["items"][0]["max_points"] = 9
    changed = parse_instrument(yaml.safe_dump(data, allow_unicode=True))
    assert same.hash == miit.hash
    assert changed.hash != miit.hash


def test_the_same_text_is_parsed_once_and_an_edit_is_seen(tmp_path: Path) -> None:
    first = dmi.load_instrument("miit-2024-manufacturing")
    assert dmi.load_instrument("miit-2024-manufacturing") is first  # the app loads it per page run
    text = shipped_path("miit-2024-manufacturing.yaml").read_text(encoding="utf-8")
    copy = tmp_path / "copy.yaml"
    copy.write_text(text, encoding="utf-8")
    same_content = dmi.load_instrument(copy)
    assert same_content is not first and same_content.source == str(copy)
    assert same_content.hash == first.hash
    copy.write_text(text.replace("version:", "version: '9'\nold_version:", 1), encoding="utf-8")
    with pytest.raises(InstrumentError, match="old_version"):
        dmi.load_instrument(copy)  # the edited file is read again, not taken from the cache


def _items(data: dict) -> dict:
    return {
        item["code"]: item
        for dim in data["dimensions"]
        for ind in dim["indicators"]
        for item in ind["items"]
    }


def test_letter_runs_is_off_by_default_and_set_on_an_item_or_in_defaults(miit):
    assert not any(miit.letter_runs(item) for item in miit.items)
    data = _spec(miit)
    data["defaults"]["letter_runs"] = True
    _items(data)["network"]["letter_runs"] = False
    inst = parse_instrument(yaml.safe_dump(data, allow_unicode=True))
    runs = [i.code for i in inst.items if inst.letter_runs(i)]
    multi = [i.code for i in inst.items if i.type == "multi"]
    assert runs == [code for code in multi if code != "network"] and "data_collection" in runs
    assert not inst.letter_runs(inst.item("strategy"))  # a single item never reads runs


def test_an_unused_letter_runs_setting_leaves_the_content_hash_as_it_was(miit):
    # fitted models record the hash and refuse another: adding the setting to the format must
    # not make every existing file (and every model fitted for it) a different instrument
    assert "letter_runs" not in json.dumps(miit.to_dict())
    data = _spec(miit)
    data["defaults"]["letter_runs"] = False
    _items(data)["network"]["letter_runs"] = None
    assert parse_instrument(yaml.safe_dump(data, allow_unicode=True)).hash == miit.hash
    _items(data)["network"]["letter_runs"] = False  # said on the item: a change of content
    assert parse_instrument(yaml.safe_dump(data, allow_unicode=True)).hash != miit.hash
    data["defaults"]["letter_runs"] = True
    assert parse_instrument(yaml.safe_dump(data, allow_unicode=True)).hash != miit.hash


def test_letter_runs_needs_single_letters_of_one_case(miit):
    data = _spec(miit)
    items = _items(data)
    items["network"]["letter_runs"] = True
    items["network"]["options"][1]["value"] = "B1"
    items["data_collection"]["letter_runs"] = True
    items["data_collection"]["options"][2]["value"] = "c"
    items["strategy"]["letter_runs"] = True
    items["mechanisms"]["letter_runs"] = True
    items["mechanisms"]["options"][1]["en"] = "CD"
    problems = _problems(data)
    assert any(
        p.startswith("item 'network': letter_runs needs option values that are single letters")
        and "A, B1, C, D, E" in p
        for p in problems
    ), problems
    assert any(p.startswith("item 'data_collection': letter_runs needs") for p in problems)
    assert "item 'strategy': key 'letter_runs' does not apply to a 'single' item" in problems
    assert "item 'mechanisms': label 'CD' could also be read as the letter run 'CD'" in problems


def test_a_label_that_names_two_choices_is_ambiguous(miit):
    data = _spec(miit)
    items = _items(data)
    items["network"]["options"][2]["en"] = "industrial control network in the workshop "
    items["strategy"]["options"][1]["zh"] = "Ｃ"  # NFKC: the value of option C
    items["equipment_digitised"]["bands"][1]["zh"] = items["equipment_digitised"]["bands"][0]["en"]
    data["scenario_levels"][1]["en"] = "3"
    problems = _problems(data)
    assert any(p.startswith("item 'network': options B and C share the label") for p in problems), (
        problems
    )
    assert "item 'strategy': label 'Ｃ' is also another option's value (ambiguous)" in problems
    assert any(p.startswith("item 'equipment_digitised': bands A and B share") for p in problems)
    assert "scenario_levels: label '3' is also another scenario level's value (ambiguous)" in (
        problems
    )


def test_an_instrument_that_gives_a_key_twice_is_refused_naming_it():
    # YAML keeps the last: an instrument saying id twice loaded as the second, without a word
    from dmi.instruments import parse_instrument, shipped_path

    text = shipped_path("miit-2024-manufacturing.yaml").read_text("utf-8")
    twice = text.replace("\nid: ", "\nid: other-id\nid: ", 1)
    assert twice != text
    with pytest.raises(dmi.InstrumentError, match=r"'id' is given twice \(lines \d+ and \d+\)"):
        parse_instrument(twice, "twice.yaml")


def test_a_method_file_that_gives_a_key_twice_is_refused(tmp_path):
    from dmi.analysis.method import load_method
    from dmi.errors import ModelFileError

    path = tmp_path / "method.yaml"
    path.write_text("weighting: entropy\nweighting: critic\n", "utf-8")
    with pytest.raises(ModelFileError, match="'weighting' is given twice"):
        load_method(path)
