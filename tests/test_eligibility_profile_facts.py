"""`dmi eligibility` on a 问卷星 or KoboToolbox export of the MIIT survey with the firms' facts:
the survey's profile answers (所在省份 ``region``, 所属行业 ``sector``, 从业人员数 ``employees``)
give the facts ``province``, ``sector`` and ``staff`` when the export has no column of its own
for them, read by the tool's layout as `dmi score` reads them, so that an agency's cohort by
province and sector counts the firms where they said they are.

The exports are made as in tests/test_eligibility_tool_exports.py (the survey `dmi wjx` and `dmi
xlsform` write, the facts' questions after it), without a staff question. What each firm should
get is what a plain facts file gives it with the answers written as the facts (the province by
its Chinese name, the sector by its code and name, the staff as the number of employees) and
the level `dmi score` gives its answers.
"""

from __future__ import annotations

import json
from collections import Counter

import pandas as pd
import pytest

from dmi.bulk.eligibility import evaluate_file
from dmi.eligibility import FACTS
from dmi.eligibility.facts import parse_facts_table
from dmi.errors import FactsFileError
from dmi.service.bulkview import note_text
from tests.survey_tools_data import plain_answers
from tests.test_eligibility_tool_exports import (
    FACTS as FIRM_FACTS,
)
from tests.test_eligibility_tool_exports import (
    KOBO_FACTS,
    WJX_FACTS,
    assert_rejects_as_dmi_score,
    dmi_score,
    kobo_with_facts,
    levels_by_score,
    matched_name,
    read,
    run,
    wjx_with_facts,
    write,
)

N = 12
OWN_FACTS = ("revenue_y1", "revenue_y2", "rd_y1", "debt_ratio", "quality_items")
"""The facts the exports ask (no staff, no stated digital level: the survey gives them)."""
# the survey's profile questions as the exports head them
WJX_PROFILE = {
    "region": "3、所在省份（省级行政区）",
    "sector": "1、所属行业（国民经济行业分类 GB/T 4754-2017 制造业大类）",
    "employees": "4、从业人员数（人）",
}
KOBO_PROFILE = {code: f"profile/{code}" for code in WJX_PROFILE}
FED = {"region": "province", "sector": "sector", "employees": "staff"}

EXPORTS = [
    ("wjx", "codes", "one", ".csv"),
    ("wjx", "texts", "one", ".csv"),
    ("wjx", "codes", "one", ".xlsx"),
    ("kobo", "values", "one", ".csv"),
    ("kobo", "zh", "split", ".csv"),
    ("kobo", "en", "one", ".csv"),
]


@pytest.fixture(scope="module")
def answers(miit) -> pd.DataFrame:
    found = plain_answers(miit, N, seed=43)
    # a province and a sector written the same in two rows (counted together), one blank
    found.loc[3, ["region", "sector"]] = found.loc[1, ["region", "sector"]].to_list()
    found.loc[5, ["region", "sector", "employees"]] = None
    # more staff than a 科技型 SME has (at most 500): its size condition is not met
    found.loc[0, "employees"] = "800"
    return found


def export_of(answers, miit, tool: str, variant: str, multi: str) -> pd.DataFrame:
    """The export of ``answers`` with the facts of :data:`OWN_FACTS` after the survey."""
    if tool == "wjx":
        export = wjx_with_facts(answers, miit, variant, None)
        own = [WJX_FACTS[c] for c in OWN_FACTS]
        return export.drop(columns=[h for h in WJX_FACTS.values() if h not in own])
    export = kobo_with_facts(answers, miit, variant, multi, None)
    own = [KOBO_FACTS[c] for c in OWN_FACTS]
    return export.drop(columns=[h for h in KOBO_FACTS.values() if h not in own])


def profile_headers(tool: str) -> dict[str, str]:
    return WJX_PROFILE if tool == "wjx" else KOBO_PROFILE


def ids_of(tool: str, answers) -> list[str]:
    """The respondent ids the export's rows are named by (问卷星's 序号, KoboToolbox's _uuid)."""
    return [r if tool == "wjx" else f"uuid-{r}" for r in answers["respondent_id"]]


def twin_of(miit, answers, ids: list[str], levels: pd.Series, path, **own) -> None:
    """The same firms as a plain facts file: the profile's answers written as the facts (the
    province by its Chinese name, the sector by its code and name, the staff as the employees),
    the level `dmi score` gives as computed before; ``own`` overrides a fact's cells."""
    region = {o.value: o.zh for o in miit.profile_field("region").options}
    sector = {o.value: f"{o.value} {o.zh}" for o in miit.profile_field("sector").options}
    frame = pd.DataFrame({"respondent_id": ids})
    for code in OWN_FACTS:
        frame[code] = FIRM_FACTS[code][: len(ids)]
    frame["staff"] = [v or "" for v in answers["employees"]]
    frame["province"] = [region.get(v, "") for v in answers["region"]]
    frame["sector"] = [sector.get(v, "") for v in answers["sector"]]
    for code, cells in own.items():
        frame[code] = cells
    frame["digital_level_computed"] = [levels[i] for i in ids]
    frame.to_csv(path, index=False)


def ladder(capsys, path, tmp_path, *more) -> tuple[pd.DataFrame, pd.DataFrame, dict, str]:
    """``dmi eligibility`` with a cohort: the results, the cohort, the summary and stderr."""
    out = tmp_path / f"{path.stem}-out.csv"
    cohort, summary = tmp_path / f"{path.stem}-cohort.csv", tmp_path / f"{path.stem}-sum.json"
    code, _, err = run(
        capsys, "eligibility", path, "-o", out, "--cohort", cohort, "--summary", summary, *more
    )
    assert code == 0, err
    return read(out), read(cohort), json.loads(summary.read_text(encoding="utf-8")), err


def groups(cohort: pd.DataFrame, by: str) -> dict[str, int]:
    """The firms per group of ``by`` (a rung's statuses added up: every firm once)."""
    part = cohort[
        (cohort["table"] == "status") & (cohort["rung"] == "specialised") & (cohort["by"] == by)
    ]
    return part.groupby("group")["n"].apply(lambda n: sum(map(int, n))).to_dict()


def map_file(path, entries: dict[str, str]):
    """A ``--map`` file (``column,code``) of ``entries``."""
    pd.DataFrame({"column": list(entries), "code": list(entries.values())}).to_csv(
        path, index=False
    )
    return path


@pytest.mark.parametrize(("tool", "variant", "multi", "suffix"), EXPORTS)
def test_the_surveys_profile_answers_are_the_firms_province_sector_and_staff(
    capsys, tmp_path, miit, answers, tool, variant, multi, suffix
):
    # the profile's headers were left unmatched (问卷星) or, KoboToolbox's profile/sector, read
    # as written: the cohort by province had every firm under (blank)
    path = tmp_path / f"{tool}-{variant}{suffix}"
    write(export_of(answers, miit, tool, variant, multi), path)
    levels = levels_by_score(capsys, path, tmp_path)
    ids = ids_of(tool, answers)
    results, cohort, summary, err = ladder(capsys, path, tmp_path)
    assert summary["read"] == summary["evaluated"] + summary["rejected"] == N
    assert summary["rejected"] == 0
    assert summary["digital_level"]["computed"] == N
    twin_of(miit, answers, ids, levels, tmp_path / "twin.csv")
    expected, expected_cohort, _, _ = ladder(capsys, tmp_path / "twin.csv", tmp_path)
    pd.testing.assert_frame_equal(results, expected)
    pd.testing.assert_frame_equal(cohort, expected_cohort)
    assert results["ts_size"][0] == "not_met"  # 800 employees, more than 500 staff
    # the answers' provinces and sectors, by name as the app's pre-check writes them
    region = {o.value: o.zh for o in miit.profile_field("region").options}
    sector = {o.value: f"{o.value} {o.zh}" for o in miit.profile_field("sector").options}
    assert groups(cohort, "province") == Counter(
        region.get(v, "(blank)") for v in answers["region"]
    )
    assert groups(cohort, "sector") == Counter(sector.get(v, "(blank)") for v in answers["sector"])
    assert groups(cohort, "province")[region[answers["region"][1]]] >= 2
    # which header fed each fact, and none of them is left unmatched
    matched = summary["mapping"]["matched"]
    for field, header in profile_headers(tool).items():
        assert matched[matched_name(header)] == FED[field]
        assert matched_name(header) not in summary["unmatched_columns"]
    # and a note says so, the headers as the file writes them (on the bulk page in Chinese)
    (note,) = [n for n in summary["notes"] if "survey's profile answers" in n]
    assert f"note: {note}\n" in err
    for field, header in profile_headers(tool).items():
        assert f"{header} -> {FED[field]}" in note
    worded = note_text(note, "zh")
    assert worded.startswith("文件中没有以下企业信息列") and "→ 所在省份 (province)" in worded
    # the Python API reads it as the command does
    api, mapping = evaluate_file(path, tmp_path / "api.csv", cohort_path=tmp_path / "api-c.csv")
    assert api.reconciles and (api.read, api.evaluated) == (N, N)
    pd.testing.assert_frame_equal(read(tmp_path / "api.csv"), results)
    pd.testing.assert_frame_equal(read(tmp_path / "api-c.csv"), cohort)
    assert api.mapping["matched"] == matched
    assert {FED[f] for f in FED} <= set(mapping.rename.values())


def test_the_profile_gives_the_same_cohort_whatever_the_chunks(capsys, tmp_path, miit, answers):
    path = tmp_path / "wjx.csv"
    write(export_of(answers, miit, "wjx", "codes", "one"), path)
    whole = ladder(capsys, path, tmp_path)
    chunked = ladder(capsys, path, tmp_path, "--chunk-size", "5")
    pd.testing.assert_frame_equal(chunked[0], whole[0])
    pd.testing.assert_frame_equal(chunked[1], whole[1])


@pytest.mark.parametrize("tool", ["wjx", "kobo"])
def test_a_column_of_the_facts_own_wins_over_the_profiles_answer(
    capsys, tmp_path, miit, answers, tool
):
    # the firms were asked their province, sector and staff as facts too: those are read, the
    # profile's answers not
    export = export_of(answers, miit, tool, "codes" if tool == "wjx" else "values", "one")
    own = {
        "province": ["浙江"] * N,
        "sector": ["汽车零部件"] * N,
        "staff": [str(40 + i) for i in range(N)],
    }
    headers = (
        {"province": "32、所在省份", "sector": "33、所属行业", "staff": "34、职工总数"}
        if tool == "wjx"
        else {code: f"facts/{code}" for code in own}
    )
    for code, header in headers.items():
        export[header] = own[code]
    path = tmp_path / f"{tool}-own.csv"
    write(export, path)
    levels = levels_by_score(capsys, path, tmp_path)
    ids = ids_of(tool, answers)
    results, cohort, summary, _ = ladder(capsys, path, tmp_path)
    assert summary["read"] == summary["evaluated"] == N
    twin_of(miit, answers, ids, levels, tmp_path / "twin.csv", **own)
    expected, expected_cohort, _, _ = ladder(capsys, tmp_path / "twin.csv", tmp_path)
    pd.testing.assert_frame_equal(results, expected)
    pd.testing.assert_frame_equal(cohort, expected_cohort)
    assert groups(cohort, "province") == {"浙江省": N}
    assert groups(cohort, "sector") == {"汽车零部件": N}
    matched = summary["mapping"]["matched"]
    for code, header in headers.items():
        assert matched[matched_name(header)] == code
    for header in profile_headers(tool).values():  # the survey's questions: not read
        assert matched_name(header) not in matched
        assert matched_name(header) in summary["unmatched_columns"]
    assert not [n for n in summary["notes"] if "survey's profile answers" in n]


@pytest.mark.parametrize(
    ("tool", "field", "cell"),
    [
        ("wjx", "region", "40"),  # no such option number: 第3题 has 31
        ("wjx", "employees", "很多"),
        ("kobo", "region", "99"),  # no such choice
        ("kobo", "sector", "C99"),
        ("kobo", "employees", "-5"),
    ],
)
def test_an_invalid_profile_answer_rejects_its_row_as_dmi_score_rejects_it(
    capsys, tmp_path, miit, answers, tool, field, cell
):
    export = export_of(answers, miit, tool, "codes" if tool == "wjx" else "values", "one")
    export[profile_headers(tool)[field]] = export[profile_headers(tool)[field]].astype(object)
    export.loc[4, profile_headers(tool)[field]] = cell
    path = tmp_path / f"{tool}-bad.csv"
    write(export, path)
    rejects = tmp_path / "r.csv"
    _, cohort, summary, _ = ladder(capsys, path, tmp_path, "--rejects", rejects)
    assert (summary["read"], summary["evaluated"], summary["rejected"]) == (N, N - 1, 1)
    assert sum(groups(cohort, "province").values()) == N - 1
    found = read(rejects)
    shown = f"'{cell}" if cell.startswith("-") else cell  # a CSV cell is never a formula
    assert found[["row", "respondent_id", "column", "value"]].values.tolist() == [
        ["6", ids_of(tool, answers)[4], field, shown]
    ]
    # the row, the column, the cell and the reason `dmi score` gives the same export
    assert_rejects_as_dmi_score(capsys, path, tmp_path, found)


def test_a_survey_export_without_a_fact_of_its_own_is_still_no_facts_file(
    capsys, tmp_path, miit, answers
):
    # the profile's answers alone do not make the survey's export a file of firms' facts
    export = export_of(answers, miit, "wjx", "codes", "one")
    path = tmp_path / "survey-only.csv"
    write(export.drop(columns=[WJX_FACTS[c] for c in OWN_FACTS]), path)
    code, _, err = run(capsys, "eligibility", path, "-o", tmp_path / "out.csv")
    assert code == 2 and "no column is a fact of the 梯度培育 ladder" in err


def test_without_the_survey_step_the_profile_gives_no_fact(capsys, tmp_path, miit, answers):
    # --no-survey ignores the survey's columns, its profile's too: the file gives no province
    # (no group of it, as for a file without the column)
    path = tmp_path / "wjx.csv"
    write(export_of(answers, miit, "wjx", "codes", "one"), path)
    _, cohort, summary, _ = ladder(capsys, path, tmp_path, "--no-survey")
    assert groups(cohort, "province") == {}
    assert groups(cohort, "all") == {"all": N}
    assert "province" not in summary["mapping"]["matched"].values()


def test_the_table_of_profile_facts_names_the_surveys_fields_and_the_facts(miit):
    fed = {entry.field: entry.fact for entry in FACTS.survey_profile}
    assert fed == FED
    for entry in FACTS.survey_profile:
        field = miit.profile_field(entry.field)  # a field of the survey
        assert entry.fact in FACTS
        assert (field.type == "choice") == (entry.written_as != "value")


def test_a_profile_answer_is_written_as_the_apps_pre_check_writes_it(miit):
    # one form for the agency's file and the firm's own pre-check, so that a cohort counts
    # them together
    from dmi.eligibility import profile_fact_text
    from dmi.service.ladder import profile_facts

    by_field = {entry.field: entry for entry in FACTS.survey_profile}
    for region in miit.profile_field("region").options[:5]:
        for sector in miit.profile_field("sector").options[:5]:
            answers = {"region": region.value, "sector": sector.value}
            written = {
                by_field[f].fact: profile_fact_text(miit.profile_field(f), by_field[f], v)
                for f, v in answers.items()
            }
            assert written == profile_facts(miit, answers)
    entry = by_field["employees"]
    assert profile_fact_text(miit.profile_field("employees"), entry, "120") == "120"


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        ("{field: region, fact: provinces, as: name}", "unknown fact 'provinces'"),
        ("{field: region, fact: province, as: label}", "survey_profile[0]"),
        ("{field: region, fact: respondent_id, as: name}", "not the id"),
        # a choice's name is no number, and a number as given no text fact's
        ("{field: employees, fact: staff, as: name}", "'name' writes text"),
        ("{field: sector, fact: sector, as: value}", "'value' gives a number"),
        (
            "{field: region, fact: province, as: name}\n  - {field: city, fact: province, as: "
            "value}",
            "fed by two fields",
        ),
    ],
)
def test_a_broken_table_of_profile_facts_is_refused_naming_the_entry(entry, said):
    from dmi.eligibility._data import DATA

    text = DATA.joinpath("facts.yaml").read_text(encoding="utf-8")
    start = text.index("survey_profile:")
    end = text.index("\n\n", start)
    broken = text[:start] + f"survey_profile:\n  - {entry}" + text[end:]
    with pytest.raises(FactsFileError) as caught:
        parse_facts_table(broken, "facts.yaml")
    assert said in str(caught.value)


def test_an_option_number_in_a_wjx_exports_own_province_is_refused_not_read_as_a_code(
    capsys, tmp_path, miit, answers
):
    # 按选项序号 writes a province question's answer as its option's place (22, 31): taken as a
    # province code it made 吉林省 and 上海市 of firms in 重庆 and 新疆, without a word; like a
    # category's, a bare number in a text fact of such an export is refused, the map sending
    # that question to the fact or not
    export = export_of(answers, miit, "wjx", "codes", "one")
    export["32、所在省份"] = ["22"] + ["重庆市"] * (len(export) - 1)
    path = tmp_path / "own-numbered.csv"
    write(export, path)
    rejects = tmp_path / "rejects.csv"
    own = map_file(tmp_path / "own.csv", {"32、所在省份": "province"})
    for more in ((), ("--map", own)):
        results, _, summary, _ = ladder(capsys, path, tmp_path, "--rejects", rejects, *more)
        assert summary["read"] == summary["evaluated"] + summary["rejected"] == len(export)
        found = read(rejects)
        assert found[["row", "column", "value"]].values.tolist() == [["2", "province", "22"]]
        assert "option number" in found["reason"][0]
        assert set(results["respondent_id"]) == set(ids_of("wjx", answers)[1:])
    # the survey's own province question sent to the fact is read as the profile reads it (its
    # option numbers are the survey's options: 22 is 重庆市); its answers had all been refused
    mapped = map_file(tmp_path / "map.csv", {WJX_PROFILE["region"]: "province"})
    export = export_of(answers, miit, "wjx", "codes", "one")
    write(export, path)
    _, cohort, summary, _ = ladder(capsys, path, tmp_path, "--rejects", rejects, "--map", mapped)
    assert (summary["evaluated"], summary["rejected"]) == (len(export), 0)
    region = {o.value: o.zh for o in miit.profile_field("region").options}
    assert groups(cohort, "province") == Counter(
        region.get(v, "(blank)") for v in answers["region"]
    )


def test_a_kobo_export_without_group_names_reads_its_profile_as_the_grouped_one(
    capsys, tmp_path, miit, answers
):
    # KoboToolbox can export its headers without the groups (region, sector, employees): they
    # are the survey's profile questions all the same; region had been read as the province's
    # alias as written (99 and 火星 made cohort groups) and sector unchecked (C14, not the
    # code and name a grouped export gives)
    grouped = export_of(answers, miit, "kobo", "values", "one")
    bare = grouped.rename(columns=lambda h: h.rsplit("/", 1)[-1])
    write(grouped, tmp_path / "grouped.csv")
    write(bare, tmp_path / "bare.csv")
    results, cohort, summary, _ = ladder(capsys, tmp_path / "bare.csv", tmp_path)
    expected, expected_cohort, _, _ = ladder(capsys, tmp_path / "grouped.csv", tmp_path)
    pd.testing.assert_frame_equal(results, expected)
    pd.testing.assert_frame_equal(cohort, expected_cohort)
    assert summary["mapping"]["matched"]["region"] == "province"
    # an answer none of the survey's is rejected, as dmi score rejects it
    bare.loc[2, "region"] = "火星"
    write(bare, tmp_path / "bare.csv")
    rejects = tmp_path / "rejects.csv"
    _, _, summary, _ = ladder(capsys, tmp_path / "bare.csv", tmp_path, "--rejects", rejects)
    assert summary["read"] == summary["evaluated"] + 1
    assert read(rejects)[["row", "column", "value"]].values.tolist() == [["4", "region", "火星"]]


# the export of each tool and variant, with the cells a question's choices do not have
MAPPED = [
    # tool, variant, multi, headers without groups, suffix, a region and a sector of no choice
    ("kobo", "values", "one", False, ".csv", "99", "C99"),
    ("kobo", "zh", "split", False, ".csv", "火星", "火星制造业"),
    ("kobo", "en", "one", False, ".xlsx", "Mars", "Manufacture of moons"),
    ("kobo", "values", "one", True, ".csv", "99", "C99"),
    ("wjx", "codes", "one", False, ".csv", "40", "40"),
    ("wjx", "texts", "one", False, ".xlsx", "火星", "火星制造业"),
]


@pytest.mark.parametrize(("tool", "variant", "multi", "bare", "suffix", "region", "sector"), MAPPED)
def test_a_map_sending_the_surveys_profile_question_to_its_fact_reads_it_as_the_profile_does(
    capsys, tmp_path, miit, answers, tool, variant, multi, bare, suffix, region, sector
):
    # --map profile/sector,sector sent KoboToolbox's cells to the fact as they are: C25 (or the
    # label 金属制品业) where the profile gives C25 金属制品业, and C99, no sector of the survey,
    # without a word; 问卷星's number export had every answer refused as an option number. The
    # map names the question the profile reads anyway: its answers are read through the
    # question's choices, checked and written as the facts, as without the map
    export = export_of(answers, miit, tool, variant, multi)
    headers = profile_headers(tool)
    if bare:  # KoboToolbox's export without the group names
        export = export.rename(columns=lambda h: h.rsplit("/", 1)[-1])
        headers = {field: field for field in headers}
    path = tmp_path / f"{tool}-{variant}{suffix}"
    write(export, path)
    levels = levels_by_score(capsys, path, tmp_path)
    ids = ids_of(tool, answers)
    mapped = map_file(tmp_path / "map.csv", {headers[f]: FED[f] for f in FED})
    results, cohort, summary, _ = ladder(capsys, path, tmp_path, "--map", mapped)
    assert (summary["read"], summary["evaluated"], summary["rejected"]) == (N, N, 0)
    # the same firms as a plain file with the answers written as the facts (by hand)
    twin_of(miit, answers, ids, levels, tmp_path / "twin.csv")
    expected, expected_cohort, _, _ = ladder(capsys, tmp_path / "twin.csv", tmp_path)
    pd.testing.assert_frame_equal(results, expected)
    pd.testing.assert_frame_equal(cohort, expected_cohort)
    codes = {o.value: f"{o.value} {o.zh}" for o in miit.profile_field("sector").options}
    assert groups(cohort, "sector") == Counter(codes.get(v, "(blank)") for v in answers["sector"])
    matched = summary["mapping"]["matched"]
    for field, header in headers.items():
        assert matched[matched_name(header)] == FED[field]
    assert not summary["mapping"]["unused_map"]
    (note,) = [n for n in summary["notes"] if "survey's profile answers" in n]
    assert f"{headers['sector']} -> sector" in note
    # an answer none of the question's choices is rejected as dmi score rejects it: named by
    # its row, the question, the cell and what was expected; never read as a fact
    export[headers["region"]] = export[headers["region"]].astype(object)
    export[headers["sector"]] = export[headers["sector"]].astype(object)
    export.loc[4, headers["region"]] = region
    export.loc[7, headers["sector"]] = sector
    write(export, path)
    rejects = tmp_path / "rejects.csv"
    results, cohort, summary, _ = ladder(
        capsys, path, tmp_path, "--map", mapped, "--rejects", rejects
    )
    assert (summary["read"], summary["evaluated"], summary["rejected"]) == (N, N - 2, 2)
    found = read(rejects)
    assert found[["row", "respondent_id", "column", "value"]].values.tolist() == [
        ["6", ids[4], "region", region],
        ["9", ids[7], "sector", sector],
    ]
    assert all("expected" in reason for reason in found["reason"])  # and what was expected
    assert_rejects_as_dmi_score(capsys, path, tmp_path, found)
    assert set(results["respondent_id"]) == set(ids) - {ids[4], ids[7]}
    assert sector not in groups(cohort, "sector") and "C99" not in str(groups(cohort, "sector"))


@pytest.mark.parametrize(
    ("tool", "suffix"), [("wjx", ".csv"), ("kobo", ".csv"), ("wjx", ".xlsx"), ("kobo", ".xlsx")]
)
def test_employees_the_staff_fact_cannot_hold_reject_the_row_under_the_surveys_question(
    capsys, tmp_path, miit, answers, tool, suffix
):
    # dmi score takes 120.5 employees (a number of at least 0); the staff fact they give is a
    # whole number, and the row was rejected under `staff`, a column the export does not have.
    # Now under the question as dmi score names it (`employees`), with the fact's reason; a
    # whole number written with decimals (35.0) is read, as the fact reads it
    export = export_of(answers, miit, tool, "codes" if tool == "wjx" else "values", "one")
    header = profile_headers(tool)["employees"]
    export[header] = export[header].astype(object)
    export.loc[4, header] = 120.5 if suffix == ".xlsx" else "120.5"  # a workbook's number
    export.loc[7, header] = "35.0"
    path = tmp_path / f"{tool}-staff{suffix}"
    write(export, path)
    levels = levels_by_score(capsys, path, tmp_path)  # every row scored by dmi score
    ids = ids_of(tool, answers)
    rejects = tmp_path / "rejects.csv"
    results, _, summary, _ = ladder(capsys, path, tmp_path, "--rejects", rejects)
    assert (summary["read"], summary["evaluated"], summary["rejected"]) == (N, N - 1, 1)
    assert read(rejects).values.tolist() == [
        ["6", ids[4], "employees", "120.5", "expected a whole number"]
    ]
    # the others as a plain file gives them, 35.0 employees as 35 staff
    staff = ["35" if i == 7 else (v or "") for i, v in enumerate(answers["employees"])]
    twin_of(miit, answers, ids, levels, tmp_path / "twin.csv", staff=staff)
    expected, _, _, _ = ladder(capsys, tmp_path / "twin.csv", tmp_path)
    expected = expected[expected["respondent_id"] != ids[4]].reset_index(drop=True)
    pd.testing.assert_frame_equal(results, expected)


@pytest.mark.parametrize(("tool", "suffix"), [("wjx", ".csv"), ("kobo", ".csv"), ("kobo", ".xlsx")])
def test_the_levels_computed_and_answers_scored_as_lowest_count_the_evaluated_rows(
    capsys, tmp_path, miit, answers, tool, suffix
):
    # a row rejected for a bad fact was counted among the digital levels computed (and its
    # missing answers among those scored as lowest), a row rejected for a bad profile answer
    # was not: the counts are the evaluated rows', whatever rejected the others, as dmi score
    # counts only the rows it scores
    export = export_of(answers, miit, tool, "codes" if tool == "wjx" else "values", "one")
    region = profile_headers(tool)["region"]
    export[region] = export[region].astype(object)
    export.loc[4, region] = "40" if tool == "wjx" else "99"  # no province of the survey
    debt = (WJX_FACTS if tool == "wjx" else KOBO_FACTS)["debt_ratio"]
    export[debt] = export[debt].astype(object)
    export.loc[7, debt] = "180"  # a debt ratio above 100 %
    export.loc[9, debt] = "abc"
    path = tmp_path / f"{tool}-counts{suffix}"
    write(export, path)
    _, _, summary, _ = ladder(capsys, path, tmp_path)
    assert (summary["read"], summary["evaluated"], summary["rejected"]) == (N, N - 3, 3)
    # every firm answered the survey: a level for each firm evaluated, none for the others
    assert answers[[item.code for item in miit.items]].notna().any(axis=1).all()
    assert summary["digital_level"]["computed"] == N - 3
    # the answers scored as lowest: those dmi score counts on the same rows
    kept = tmp_path / f"{tool}-kept{suffix}"
    write(export.drop(index=[4, 7, 9]), kept)
    scored = tmp_path / "score.json"
    dmi_score(capsys, kept, tmp_path, "--summary", scored)
    expected = json.loads(scored.read_text(encoding="utf-8"))["imputed"]
    assert summary["survey_imputed"] == expected and expected
