"""The rule files: they load, every rule says where it comes from, and a broken file says where.

Thresholds, edge conventions, pass marks and province blocks are settings: a changed copy of a
shipped file changes the evaluation, with no code change.
"""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml

import dmi.eligibility as el
from dmi.eligibility._data import DATA
from dmi.eligibility.facts import FactsFileError, parse_facts_table
from dmi.eligibility.policy import iter_leaves
from dmi.errors import UsageError

from .test_eligibility import IN22, SR22, SR26, firm


def shipped(name: str) -> dict:
    return yaml.safe_load(DATA.joinpath(f"policy-{name}.yaml").read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict, name: str = "custom.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def find(items: list[dict], id_: str) -> dict:
    return next(i for i in items if i["id"] == id_)


def problems_of(tmp_path: Path, data: dict) -> str:
    path = write(tmp_path, data, "broken.yaml")
    with pytest.raises(el.PolicyError) as info:
        el.load_policy(path)
    message = str(info.value)
    assert str(path) in message  # the file is named
    return message


def test_the_shipped_versions_load():
    assert el.available_policies() == ["2022", "2026"]
    p22, p26 = el.load_policy("2022"), el.load_policy("2026")
    assert p22.effective.isoformat() == "2022-06-01"
    assert p26.effective.isoformat() == "2026-04-01"
    # the 2026 file takes tier 1's 创新型 scorecard from 2022 rather than copying it
    assert p26.origin["in22_score"] == "2022" and p26.origin["in22s"] == "2022"
    assert p26.scorecards["in22s"] == p22.scorecards["in22s"]


def test_the_condition_ids_are_the_references():
    def ids(policy: str, rung: str) -> set[str]:
        spec = el.load_policy(policy).rungs[rung]
        return set(spec.conditions) | {c for p in spec.paths for c in p.conditions}

    base = {"base_sme", "base_credit", "base_product", "base_incident"}
    assert ids("2022", "specialised") == base | {
        "sr22_niche",
        "sr22_rd",
        "sr22_rev",
        "sr22_score",
    }
    assert ids("2022", "little_giant") == base | {
        f"lg22_{x}"
        for x in "prereq niche main growth is cert debt share brand rd lab ip chain field".split()
    }
    assert ids("2026", "specialised") == base | {
        f"sr26_{x}" for x in "prereq niche rev main debt rd ip share score".split()
    }
    assert ids("2026", "little_giant") == base | {
        f"lg26_{x}"
        for x in "prereq niche rev main growth debt rd ip share field score excl".split()
    }
    assert ids("2026", "innovative") == base | {"in22_score", "ts_size", "ts_score"}


def test_every_rule_carries_its_source_and_confidence():
    for name in el.available_policies():
        policy = el.load_policy(name)
        elements = [
            *policy.conditions.values(),
            *policy.routes.values(),
            *policy.scorecards.values(),
            *policy.metrics.values(),
            *policy.routing,
            *policy.rungs.values(),
        ]
        for element in elements:
            assert element.source.strip(), element
            assert element.confidence in ("V", "I", "U"), element


def test_qualitative_conditions_are_never_auto_passed():
    """Market position in words, chain role, IP in use, qualified investors: all manual."""
    from dmi.eligibility.policy import Manual

    policy = el.load_policy("2026")
    for cid in ("sr26_share", "sr26_ip", "lg26_ip", "lg26_field", "lg26_excl"):
        leaves = list(iter_leaves(policy.conditions[cid].test))
        assert any(isinstance(leaf, Manual) for leaf in leaves), cid
    p22 = el.load_policy("2022")
    for cid in ("lg22_ip", "lg22_chain", "lg22_share", "sr22_rev"):
        assert any(isinstance(x, Manual) for x in iter_leaves(p22.conditions[cid].test)), cid


@pytest.mark.parametrize(
    ("edit", "where", "what"),
    [
        (
            lambda d: find(d["conditions"], "sr26_rd")["test"]["all"][2].update(at_least="three"),
            "(id 'sr26_rd').test.all[2].at_least",
            "valid number",
        ),
        (
            lambda d: find(d["conditions"], "sr26_debt").pop("confidence"),
            "(id 'sr26_debt').confidence",
            "required key is missing",
        ),
        (
            lambda d: find(d["conditions"], "sr26_debt").update(confidence="X"),
            "(id 'sr26_debt').confidence",
            "'X'",
        ),
        (
            lambda d: find(d["conditions"], "sr26_debt")["test"].update(of="debt_rate"),
            "(id 'sr26_debt').test",
            "unknown fact or metric 'debt_rate'",
        ),
        (
            lambda d: find(d["conditions"], "sr26_debt")["test"].update(below=80),
            "(id 'sr26_debt').test",
            "exactly one of",
        ),
        (
            lambda d: find(d["routes"], "sr26_ip_waiver")["options"][0]["test"]["all"][0].update(
                {"in": ["provincal"]}
            ),
            "(id 'sr26_ip_waiver').options[0] (id 'award').test",
            "'provincal' is not a value of 'award'",
        ),
        (
            lambda d: find(d["scorecards"], "ts115s")["indicators"][0]["bands"].append(
                {"min": 22, "max": 28, "points": 3}
            ),
            "(id 'ts115s').indicators[0] (id 'ts115s_staff').bands",
            "bands overlap",
        ),
        (
            lambda d: find(d["scorecards"], "ts115s")["groups"][1].update(points=40),
            "(id 'ts115s').groups (id 'rd')",
            "indicators add up to 50",
        ),
        (
            lambda d: find(d["scorecards"], "ts115s").update(pass_mark=120),
            "(id 'ts115s').pass_mark",
            "above the total 100",
        ),
        (
            lambda d: d["rungs"]["specialised"]["routes"].append("lg26_ip_waiver"),
            "rungs.specialised.routes",
            "replaces 'lg26_ip', not a condition here",
        ),
        (lambda d: d["routing"][5].update(policy="2031"), "routing[5].policy", "'2031'"),
        (lambda d: d["rungs"].pop("little_giant"), "rungs", "'little_giant' is missing"),
        (
            lambda d: d["imports"][0]["conditions"].append("in22_nothing"),
            "imports[0].conditions",
            "no condition 'in22_nothing'",
        ),
        (
            lambda d: d["conditions"].append(copy.deepcopy(find(d["conditions"], "sr26_niche"))),
            "(id 'sr26_niche')",
            "condition id 'sr26_niche' is already defined",
        ),
        (
            lambda d: find(d["metrics"], "revenue_cagr_2y").update(method="geometric"),
            "metrics[3] (id 'revenue_cagr_2y').method",
            "'geometric'",
        ),
        (
            lambda d: find(d["conditions"], "lg26_excl").update(surprise=1),
            "(id 'lg26_excl').surprise",
            "unknown key",
        ),
    ],
)
def test_a_broken_file_names_the_file_and_the_field(tmp_path, edit, where, what):
    data = shipped("2026")
    edit(data)
    message = problems_of(tmp_path, data)
    line = next((ln for ln in message.splitlines() if where in ln), None)
    assert line is not None, message
    assert what in line, message


def test_not_yaml_and_missing_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rungs: [unclosed", encoding="utf-8")
    with pytest.raises(
        el.PolicyError, match=r"(?s)bad.yaml: 1 problem.*line \d+, column \d+: not valid YAML"
    ):
        el.load_policy(bad)
    with pytest.raises(FileNotFoundError, match="no policy named '2031'.*2022, 2026"):
        el.load_policy("2031")
    with pytest.raises(FileNotFoundError, match="rule file not found"):
        el.load_policy(tmp_path / "none.yaml")


def test_a_broken_facts_table_names_the_field():
    text = DATA.joinpath("facts.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    fact = next(f for f in data["facts"] if f["code"] == "debt_ratio")
    fact["type"] = "percentage"
    with pytest.raises(FactsFileError) as info:
        parse_facts_table(yaml.safe_dump(data, allow_unicode=True), "facts-broken.yaml")
    message = str(info.value)
    assert "facts-broken.yaml" in message
    assert "facts[" in message and "(code 'debt_ratio').type" in message


# -- settings, not constants ---------------------------------------------------------------------


def test_a_threshold_is_a_setting(tmp_path):
    data = shipped("2026")
    find(data["conditions"], "sr26_debt")["test"]["at_most"] = 70
    custom = write(tmp_path, data)
    assert el.evaluate(firm(SR26, debt_ratio=75), "2026").row["sr26_debt"] == "met"
    assert el.evaluate(firm(SR26, debt_ratio=75), custom).row["sr26_debt"] == "not_met"
    # the copy's imports and routing still find the shipped 2022 file
    assert (
        el.evaluate(firm(SR26, holds_little_giant="recheck"), custom).row["little_giant_policy"]
        == "2022"
    )


def test_the_band_edge_convention_is_a_setting(tmp_path):
    data = shipped("2022")
    find(data["scorecards"], "in22s")["edges"] = "lower_points"
    custom = write(tmp_path, data)

    def debt_points(policy, debt):
        result = el.evaluate(firm(IN22, debt_ratio=debt), policy)
        return next(
            i.points for i in result["innovative"].scorecard.indicators if i.id == "in22s_debt"
        )

    assert debt_points("2022", 55) == 10 and debt_points(custom, 55) == 5
    assert debt_points("2022", 75) == 5 and debt_points(custom, 75) == 0
    # a band may say it holds its own edge, whatever the convention
    find(data["scorecards"], "in22s")["indicators"][3]["bands"][0]["include_max"] = True
    find(data["scorecards"], "in22s")["indicators"][3]["bands"][1]["include_min"] = False
    assert debt_points(write(tmp_path, data, "again.yaml"), 55) == 10


def test_group_floors_and_pass_marks_are_settings(tmp_path):
    data = shipped("2022")
    sc = find(data["scorecards"], "in22s")
    sc["pass_mark"] = 85
    custom = write(tmp_path, data)
    assert el.evaluate(IN22, "2022")["innovative"].status == "eligible"  # 80 points
    assert el.evaluate(IN22, custom)["innovative"].status == "not_yet"
    sc["pass_mark"] = 60
    sc["groups"][2]["floor"] = 25  # 专业化 has 20
    assert el.evaluate(IN22, write(tmp_path, data, "floor.yaml"))["innovative"].status == "not_yet"


def test_a_province_block(tmp_path):
    data = shipped("2022")
    sc = find(data["scorecards"], "sr22s")
    sc["provinces"] = [
        {
            "names": ["广东", "Guangdong"],
            "pass_mark": 70,
            "source": "a test",
            "confidence": "U",
            "indicators": [
                {
                    "id": "gd_share",
                    "group": "featured",
                    "zh": "市场占有率",
                    "en": "market share",
                    "of": "market_share",
                    "bands": [{"min": 10, "points": 15}, {"min": 5, "max": 10, "points": 8}],
                }
            ],
        }
    ]
    custom = write(tmp_path, data)
    gd = firm(SR22, province="广东省", market_share=6, featured_points=None)
    r = el.evaluate(gd, custom)
    sc_result = r["specialised"].scorecard
    assert {g.id: g.points for g in sc_result.groups}["featured"] == 8
    assert sc_result.pass_mark == 70 and sc_result.points == 65
    assert r["specialised"].condition("sr22_score").state == "not_met"  # 65 < 70
    assert r["specialised"].status == "not_yet"
    # another province: the firm's own 特色化 points, else unknown
    r = el.evaluate(firm(SR22, province="江苏"), custom)
    assert r["specialised"].scorecard.points == 65 and r["specialised"].scorecard.pass_mark == 60
    r = el.evaluate(firm(SR22, province="江苏", featured_points=None), custom)
    assert r["specialised"].scorecard.state == "unknown"


def test_a_province_block_matches_every_spelling_of_its_province(tmp_path):
    data = shipped("2022")
    sc = find(data["scorecards"], "sr22s")
    block = {"pass_mark": 70, "source": "a test", "confidence": "U", "indicators": []}
    # a unit by its full name only; a city (not a unit) by its name with 市
    sc["provinces"] = [
        {**block, "names": ["广东省"]},
        {**block, "names": ["苏州市"], "pass_mark": 50},
    ]
    custom = write(tmp_path, data)
    for spelling in ("广东", "Guangdong", " GUANGDONG Province", "44", "44 广东省"):
        r = el.evaluate(firm(SR22, province=spelling), custom)
        assert r["specialised"].scorecard.pass_mark == 70, spelling

    def pass_mark(province: str) -> float:
        return el.evaluate(firm(SR22, province=province), custom)["specialised"].scorecard.pass_mark

    assert pass_mark("苏州") == pass_mark("苏州市") == 50
    # a city designated in the state plan is a unit of its own, not its province
    assert pass_mark("深圳") == 60


def test_the_docs_list_every_condition_and_route():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "eligibility.md").read_text("utf-8")
    for name in el.available_policies():
        policy = el.load_policy(name)
        for element in (*policy.conditions, *policy.routes, *policy.scorecards):
            assert f"`{element}`" in doc, (name, element)
    for fact in el.FACTS:
        assert f"`{fact.code}`" in doc, fact.code


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 4, 1), "2026"),  # 2号 applies from 2026-04-01
        (date(2026, 3, 31), "2022"),
        (date(2030, 1, 1), "2026"),
        (date(2020, 1, 1), "2022"),  # before every version: the first
    ],
)
def test_the_policy_in_force_on_a_day(today, expected):
    assert el.policy_in_force(today) == expected


def test_without_a_policy_the_api_and_the_cli_take_the_one_in_force(tmp_path, capsys):
    from dmi.cli.main import main

    today = el.policy_in_force()
    facts = {"respondent_id": "A", "revenue_y1": 2000, "rd_y1": 50, "staff": 30}
    assert el.evaluate(facts)["specialised"].policy == today
    assert el.load_policy().id == today
    pd.DataFrame([facts]).to_csv(tmp_path / "in.csv", index=False)
    assert main(["eligibility", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv"), "-q"]) == 0
    capsys.readouterr()
    out = pd.read_csv(tmp_path / "o.csv", dtype=str)
    assert out.loc[0, "specialised_policy"] == today


@pytest.mark.parametrize("policy", ["2022", "2026"])
def test_without_a_year_the_application_year_is_the_policys_first(policy):
    # whatever day the command runs, the same file gives the same results
    loaded = el.load_policy(policy)
    assert el.application_year(loaded) == int(policy)
    assert el.application_year(loaded, 2030) == 2030  # a year given is kept
    assert el.evaluate(firm(SR22), policy).year == int(policy)


def test_a_year_before_the_policy_is_refused_with_its_first_day(tmp_path, capsys):
    from dmi.cli.main import main

    message = r"policy 2026 applies from 2026-04-01: year 2025 is before it"
    with pytest.raises(UsageError, match=message):
        el.application_year(el.load_policy("2026"), 2025)
    with pytest.raises(UsageError, match=message):  # the API says it as the CLI does
        el.evaluate(firm(SR26), "2026", year=2025)
    pd.DataFrame([firm(SR26)]).to_csv(tmp_path / "in.csv", index=False)
    args = ["eligibility", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv"), "-q"]
    assert main([*args, "--year", "2025"]) != 0
    assert "year 2025 is before it" in capsys.readouterr().err
