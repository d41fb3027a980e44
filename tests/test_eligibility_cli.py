"""`dmi eligibility`: a facts file through the run of `dmi score` (issue 16).

Firms are hand-made; what they should get is worked out by hand in the comments (2026 rules:
专精特新 needs debt ratio ≤ 80 %, R&D ≥ 100万 and ≥ 3 % of revenue in each of two years, main
business ≥ 80 %, ≥ 3 niche years, revenue ≥ 1500万, the 创新型 title, score ≥ 50; the class-I IP
and market-position conditions are manual).
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dmi.eligibility as el
from dmi.cli.main import main

from .conftest import ROOT

# the docs' firm A1: debt 81 % (> 80), last year's R&D 96 / 4000 = 2.4 % (< 3) -> 专精特新 not_yet
A1 = {
    "respondent_id": "A1",
    "holds_innovative": "yes",
    "holds_specialised": "no",
    "holds_little_giant": "no",
    "revenue_y1": 4000,
    "revenue_y2": 3600,
    "main_revenue_y1": 3600,
    "rd_y1": 96,
    "rd_y2": 120,
    "debt_ratio": 81,
    "niche_years": 4,
    "ip_class1": 1,
    "eval_score": 55,
    "sme": "yes",
    "credit_clean": "yes",
    "product_allowed": "yes",
    "no_incident": "yes",
    "province": "广东",
    "city": "深圳",
    "sector": "C34",
}
# at the edges: debt exactly 80 % (≤ 80: met), last year's R&D 120 / 4000 = exactly 3 % (met); every
# hard condition met, the IP and market-position conditions manual -> 专精特新 manual
A2 = {**A1, "respondent_id": "A2", "debt_ratio": 80, "rd_y1": 120}
# the same with the debt ratio blank: unknown, never not_met
A3 = {**A2, "respondent_id": "A3", "debt_ratio": None}
FIRMS = [A1, A2, A3]
COLUMNS = list(A1)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _cell(value) -> str:
    return "" if value is None else str(value)


def write_csv(path: Path, firms: list[dict], extra_lines: list[str] = ()) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        for firm in firms:
            writer.writerow([_cell(firm.get(c)) for c in COLUMNS])
        for line in extra_lines:
            f.write(line + "\n")
    return path


def read(path: Path) -> pd.DataFrame:
    if path.suffix == ".xlsx":
        return pd.read_excel(path, dtype=str, keep_default_na=False)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def test_edge_firms_get_the_statuses_worked_by_hand(capsys, tmp_path):
    src = write_csv(tmp_path / "firms.csv", FIRMS)
    out, summary = tmp_path / "out.csv", tmp_path / "summary.json"
    code, stdout, _ = run(
        capsys, "eligibility", src, "-o", out, "--summary", summary, "--lang", "en"
    )
    assert code == 0
    got = read(out).set_index("respondent_id")
    assert got.loc["A1", "specialised_status"] == "not_yet"
    assert got.loc["A1", "sr26_debt"] == "not_met" and got.loc["A1", "sr26_rd"] == "not_met"
    assert "debt ratio 81% → 80% meets sr26_debt" in got.loc["A1", "gaps"]
    assert "last year's R&D share 2.4% → 3% (+24万元 last year's R&D)" in got.loc["A1", "gaps"]
    assert got.loc["A2", "sr26_debt"] == "met" and got.loc["A2", "sr26_rd"] == "met"
    assert got.loc["A2", "specialised_status"] == "manual"
    assert got.loc["A3", "sr26_debt"] == "unknown"
    assert got.loc["A3", "specialised_status"] == "unknown"
    assert "missing facts: debt_ratio" in got.loc["A3", "gaps"]
    # the columns of the issue, in order
    expected = ["respondent_id"]
    for rung in el.RUNGS:
        expected += [f"{rung}_status", f"{rung}_points", f"{rung}_policy"]
    assert list(got.reset_index().columns[: len(expected)]) == expected
    # then the conditions, the gaps and flags, and the path 2026 tier 1 was assessed by
    assert list(got.columns[-3:]) == ["innovative_path", "flags", "gaps"]
    assert (got["specialised_policy"] == "2026").all()
    facts = json.loads(summary.read_text(encoding="utf-8"))
    assert facts["read"] == 3 == facts["evaluated"] and facts["rejected"] == 0
    # every status, 0 too
    assert facts["statuses"]["specialised"] == {
        "not_yet": 1,
        "unknown": 1,
        "manual": 1,
        "eligible": 0,
    }
    assert stdout.splitlines()[-1] == "read 3 rows: 3 evaluated, 0 rejected (0 problems)"


def test_bad_values_are_rejected_with_their_reasons_and_the_counts_reconcile(capsys, tmp_path):
    bad = [
        {**A2, "respondent_id": "B1", "debt_ratio": 180},
        {**A2, "respondent_id": "B2", "main_revenue_y1": 5000},
        {**A2, "respondent_id": "B3", "ip_class1": -1, "sme": "maybe"},
        {**A2, "respondent_id": "D1"},
        {**A2, "respondent_id": "D1"},
    ]
    src = write_csv(
        tmp_path / "firms.csv",
        [*FIRMS, *bad],
        extra_lines=["", "R1,yes,too,few", "合计" + "," * (len(COLUMNS) - 1)],
    )
    out, rej, summary = tmp_path / "out.csv", tmp_path / "rej.csv", tmp_path / "s.json"
    code, stdout, _ = run(
        capsys, "eligibility", src, "-o", out, "--rejects", rej, "--summary", summary, "-q"
    )
    assert code == 0
    results, rejects = read(out), read(rej)
    facts = json.loads(summary.read_text(encoding="utf-8"))
    # 11 lines after the header: A1-A3 evaluated; B1-B3, D1 twice, the blank, ragged and
    # totals lines rejected
    assert facts["read"] == 11 and facts["evaluated"] == 3 and facts["rejected"] == 8
    assert facts["evaluated"] == len(results) and facts["rejected"] == rejects["row"].nunique()
    assert list(results["respondent_id"]) == ["A1", "A2", "A3"]
    by_row = {int(r): g for r, g in rejects.groupby(rejects["row"].astype(int))}
    assert set(by_row) == {5, 6, 7, 8, 9, 10, 11, 12}
    b1 = by_row[5].iloc[0]
    assert (b1["column"], b1["value"], b1["reason"]) == (
        "debt_ratio",
        "180",
        "180 is above the maximum 100 %",
    )
    assert by_row[6].iloc[0]["reason"] == (
        "main_revenue_y1 (5000 万元) is above revenue_y1 (4000 万元): main-business revenue is "
        "part of revenue"
    )
    b3 = by_row[7].set_index("column")["reason"].to_dict()  # every problem of the row
    # (a text cell starting with "-" is escaped against spreadsheet formulas, as for dmi score)
    assert b3 == {"ip_class1": "'-1 is below the minimum 0", "sme": "expected yes or no"}
    assert all(r.startswith("duplicate respondent_id") for r in by_row[8]["reason"])
    assert "9" in by_row[8].iloc[0]["reason"] and "8" in by_row[9].iloc[0]["reason"]
    assert by_row[10].iloc[0]["reason"] == "blank line"
    assert by_row[11].iloc[0]["reason"].startswith("ragged row")
    assert by_row[12].iloc[0]["reason"] == "looks like a totals row"
    assert stdout.strip() == "read 11 rows: 3 evaluated, 8 rejected (9 problems)"


def test_xlsx_in_and_out_give_the_csv_results(capsys, tmp_path):
    frame = pd.DataFrame(FIRMS, columns=COLUMNS)
    frame.to_excel(tmp_path / "firms.xlsx", index=False)
    src = write_csv(tmp_path / "firms.csv", FIRMS)
    assert run(capsys, "eligibility", tmp_path / "firms.xlsx", "-o", tmp_path / "x.xlsx")[0] == 0
    assert run(capsys, "eligibility", src, "-o", tmp_path / "c.csv")[0] == 0
    pd.testing.assert_frame_equal(read(tmp_path / "x.xlsx"), read(tmp_path / "c.csv"))


def test_chinese_headers_are_the_facts(capsys, tmp_path):
    # the facts' labels and aliases are headers too (an agency's export)
    labels = {f.code: f.zh for f in el.FACTS}
    frame = pd.DataFrame(FIRMS, columns=COLUMNS).rename(columns=labels)
    frame.to_csv(tmp_path / "zh.csv", index=False)
    src = write_csv(tmp_path / "firms.csv", FIRMS)
    assert run(capsys, "eligibility", tmp_path / "zh.csv", "-o", tmp_path / "zh-out.csv")[0] == 0
    assert run(capsys, "eligibility", src, "-o", tmp_path / "out.csv")[0] == 0
    assert (tmp_path / "zh-out.csv").read_bytes() == (tmp_path / "out.csv").read_bytes()


def test_policy_2022_and_2026_route_firms_to_their_rules(capsys, tmp_path):
    # a 小巨人 due for 复核 in 2026 is re-checked by the 2022 standard (117号); a new applicant
    # by the 2026 one; under --policy 2022 everyone by 2022
    recheck = {**A2, "respondent_id": "R1", "holds_specialised": "yes"}
    recheck["holds_little_giant"] = "recheck"
    src = write_csv(tmp_path / "firms.csv", [A2, recheck])
    run(capsys, "eligibility", src, "-o", tmp_path / "26.csv")
    run(capsys, "eligibility", src, "-o", tmp_path / "22.csv", "--policy", "2022")
    new26, old = read(tmp_path / "26.csv"), read(tmp_path / "22.csv")
    assert list(new26["little_giant_policy"]) == ["2026", "2022"]
    assert list(new26["specialised_policy"]) == ["2026", "2026"]
    assert (old[[f"{r}_policy" for r in el.RUNGS]] == "2022").all().all()
    # a 2026 rule's column is blank where the firm was evaluated by 2022, and the reverse
    assert new26.loc[1, "lg26_niche"] == "" and new26.loc[1, "lg22_niche"] != ""
    assert new26.loc[0, "lg26_niche"] != "" and new26.loc[0, "lg22_niche"] == ""
    assert "sr26_debt" not in old.columns and "sr22_rd" in old.columns
    # a rule file by path: the shipped 2026 file named by its path gives the same bytes
    shipped = el.load_policy("2026").source
    run(capsys, "eligibility", src, "-o", tmp_path / "path.csv", "--policy", shipped)
    assert (tmp_path / "path.csv").read_bytes() == (tmp_path / "26.csv").read_bytes()


def test_the_api_and_the_cli_give_the_same_rows(capsys, tmp_path):
    firms = el.synthetic_firms(300, seed=11)
    firms.to_csv(tmp_path / "firms.csv", index=False)
    for policy in ("2026", "2022"):
        out = tmp_path / f"{policy}.csv"
        args = ["eligibility", tmp_path / "firms.csv", "-o", out, "--policy", policy]
        assert run(capsys, *args, "--lang", "en")[0] == 0
        api = el.evaluate(firms, policy, lang="en")
        api.to_csv(tmp_path / "api.csv", index=False)
        cli = pd.read_csv(out, encoding="utf-8-sig")
        pd.testing.assert_frame_equal(cli, pd.read_csv(tmp_path / "api.csv"), check_dtype=False)
        assert cli["gaps"].notna().sum() > 100  # the gap texts are compared too


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_chunk_sizes_give_the_same_bytes(capsys, tmp_path, suffix):
    firms = el.synthetic_firms(60, seed=4)
    firms.loc[[3, 40], "respondent_id"] = "SAME"  # a repeated id, in two chunks
    firms.loc[7, "debt_ratio"] = 150.0
    if suffix == ".csv":
        firms.to_csv(tmp_path / "in.csv", index=False)
    else:
        firms.to_excel(tmp_path / "in.xlsx", index=False)
    outputs = {}
    for size in (1, 7, 100_000):
        names = [tmp_path / f"{k}-{size}.csv" for k in ("out", "rej", "coh", "cand")]
        args = ["eligibility", tmp_path / f"in{suffix}", "-o", names[0], "--rejects", names[1]]
        args += ["--cohort", names[2], "--candidates", names[3], "--chunk-size", size, "-q"]
        assert run(capsys, *args)[0] == 0
        outputs[size] = [p.read_bytes() for p in names]
    assert outputs[1] == outputs[7] == outputs[100_000]
    rejected = read(tmp_path / "rej-1.csv")
    assert set(rejected["row"].astype(int)) == {5, 42, 9}


def test_exit_codes(capsys, tmp_path):
    src = write_csv(tmp_path / "firms.csv", FIRMS)
    out = tmp_path / "out.csv"
    assert run(capsys, "eligibility", src, "-o", out)[0] == 0
    # 2: what the user gave, in one line
    for argv, says in [
        ([tmp_path / "nope.csv"], "nope.csv"),
        ([src, "--policy", "2019"], "no policy named '2019'"),
        ([src, "--policy", "2026", "--year", "2020"], "year 2020 is before it"),
    ]:
        code, _, err = run(capsys, "eligibility", *argv, "-o", out)
        assert code == 2, err
        assert err.startswith("dmi: error: ") and says in err and len(err.splitlines()) == 1
    broken = tmp_path / "broken.yaml"
    broken.write_text("format: dmi-cultivation-policy/1\nid: x\n", encoding="utf-8")
    code, _, err = run(capsys, "eligibility", src, "-o", out, "--policy", broken)
    assert code == 2 and len(err.splitlines()) == 1 and "broken.yaml" in err
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    code, _, err = run(capsys, "eligibility", other, "-o", out)
    assert code == 2 and "no column is a fact" in err


def test_a_row_lost_before_the_writers_is_an_internal_error_and_nothing_is_written(
    capsys, tmp_path, monkeypatch
):
    from dmi.bulk.eligibility import EligibilityKernel

    real = EligibilityKernel.__call__

    def loses_a_row(self, prepared):
        result = real(self, prepared)
        result.scores = result.scores.iloc[1:]
        return result

    monkeypatch.setattr(EligibilityKernel, "__call__", loses_a_row)
    src = write_csv(tmp_path / "firms.csv", FIRMS)
    code, _, err = run(capsys, "eligibility", src, "-o", tmp_path / "out.csv")
    assert code == 3
    assert err.startswith("dmi: internal error: the row counts do not reconcile: read 3 rows")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["firms.csv"]


def test_template_and_codebook_come_from_the_facts_table(capsys, tmp_path):
    code, out, _ = run(capsys, "eligibility", "template", "-o", tmp_path / "t.csv")
    assert code == 0
    template = read(tmp_path / "t.csv")
    assert list(template.columns) == [
        f.code for f in el.FACTS if f.code != "digital_level_computed"
    ]
    assert len(template) == 0
    assert run(capsys, "eligibility", "codebook", "-o", tmp_path / "c.xlsx")[0] == 0
    book = read(tmp_path / "c.xlsx")
    facts = book[book["type"] != "value"].set_index("column")
    assert facts.loc["debt_ratio", "unit"] == "%" and facts.loc["revenue_y1", "unit"] == "万元"
    assert facts.loc["debt_ratio", "label_zh"] == el.FACTS["debt_ratio"].zh
    assert facts.loc["city", "note"] == "added by dmi"
    assert facts.loc["digital_level_computed", "note"].startswith("computed: ")
    award = book[(book["column"] == "award") & (book["type"] == "value")]
    assert list(award["value"]) == ["none", "provincial", "national"]
    # the template's header, filled in, is a file dmi reads
    filled = pd.DataFrame(FIRMS).reindex(columns=template.columns)
    filled.to_csv(tmp_path / "filled.csv", index=False)
    assert run(capsys, "eligibility", tmp_path / "filled.csv", "-o", tmp_path / "o.csv")[0] == 0


# -- the digital level: computed from survey answers on the row, or the stated one ----------


def _survey_answers(n: int, seed: int) -> pd.DataFrame:
    from dmi.instruments import load_instrument
    from dmi.instruments.synth import synthesise

    items = [i.code for i in load_instrument("miit-2024-manufacturing").items]
    return synthesise("miit-2024-manufacturing", n, seed)[items].astype(object)


def test_the_digital_level_comes_from_the_survey_on_the_row_else_the_column(capsys, tmp_path):
    from dmi.instruments import load_instrument
    from dmi.scoring.model import IndexModel

    answers = _survey_answers(4, seed=5)
    levels = IndexModel(load_instrument("miit-2024-manufacturing")).fit().score(answers)["level"]
    # rows 1-3 answered the survey; row 4 did not (its answers blank): its stated level is used
    answers.loc[3, :] = None
    firms = pd.DataFrame([{**A2, "respondent_id": f"S{i}"} for i in range(4)])
    given = [int(levels[0]), (int(levels[1]) + 1) % 5, int(levels[2]), 3]
    firms["digital_level"] = given
    pd.concat([firms, answers], axis=1).to_csv(tmp_path / "in.csv", index=False)
    out, summary = tmp_path / "out.csv", tmp_path / "s.json"
    args = ["eligibility", tmp_path / "in.csv", "-o", out, "--policy", "2022", "--lang", "en"]
    assert run(capsys, *args, "--summary", summary)[0] == 0
    got = read(out)
    # only row 2's stated level differs from its computed one
    flags = list(got["flags"])
    assert flags[0] == flags[2] == flags[3] == ""
    assert flags[1] == (
        f"digital level: {given[1]} given, {int(levels[1])} computed from the survey "
        "(the computed one used)"
    )
    facts = json.loads(summary.read_text(encoding="utf-8"))
    assert facts["digital_level"] == {"computed": 3, "disagrees": 1}
    assert facts["survey_items"] == answers.shape[1]

    # the 2022 专精特新 scorecard reads the level used: the same firm without its survey
    # answers and with each stated level gets 三级+ 5 / 二级 3 / else 0 points more or less
    def points(level: int) -> float:
        firm = {**A2, "digital_level": level}
        return el.evaluate(firm, "2022")["specialised"].points

    expected = {0: 0, 1: 0, 2: 3, 3: 5, 4: 5}
    base = points(0)
    for row in range(4):
        used = int(levels[row]) if row < 3 else 3
        assert float(got.loc[row, "specialised_points"]) == base + expected[used]


def test_the_survey_answers_missing_are_counted_as_dmi_score_counts_them(capsys, tmp_path):
    # a row that answered 1 question of 31 had a level computed with 30 answers scored as the
    # lowest, and nothing said so (dmi score on the same answers says it)
    answers = _survey_answers(3, seed=12)
    answers.iloc[0, 1:] = None  # one answer only
    answers.iloc[1, [2, 5, 7]] = None
    ids = [f"S{i}" for i in range(3)]
    firms = pd.DataFrame([{**A2, "respondent_id": i} for i in ids])
    pd.concat([firms, answers], axis=1).to_csv(tmp_path / "in.csv", index=False)
    summ = tmp_path / "s.json"
    argv = ["eligibility", tmp_path / "in.csv", "-o", tmp_path / "o.csv", "--summary", summ]
    code, stdout, _ = run(capsys, *argv)
    assert code == 0
    imputed = json.loads(summ.read_text("utf-8"))["survey_imputed"]
    # the oracle: dmi score on the same answers
    answers.assign(respondent_id=ids).to_csv(tmp_path / "survey.csv", index=False)
    score_summ = tmp_path / "score.json"
    argv = ["score", tmp_path / "survey.csv", "-o", tmp_path / "sc.csv", "--summary", score_summ]
    assert run(capsys, *argv)[0] == 0
    expected = json.loads(score_summ.read_text("utf-8"))["imputed"]
    assert imputed == expected and sum(imputed.values()) >= 30
    assert f"; {sum(imputed.values())} missing survey answers scored as lowest" in stdout


def test_survey_answers_that_are_invalid_reject_the_row(capsys, tmp_path):
    answers = _survey_answers(2, seed=6)
    first = answers.columns[0]
    answers.loc[1, first] = "not an answer"
    firms = pd.DataFrame([{**A2, "respondent_id": f"S{i}"} for i in range(2)])
    pd.concat([firms, answers], axis=1).to_csv(tmp_path / "in.csv", index=False)
    rej = tmp_path / "rej.csv"
    code, stdout, _ = run(
        capsys, "eligibility", tmp_path / "in.csv", "-o", tmp_path / "o.csv", "--rejects", rej
    )
    assert code == 0
    rejects = read(rej)
    assert list(rejects["row"]) == ["3"] and list(rejects["column"]) == [first]
    assert rejects.loc[0, "value"] == "not an answer"
    assert "1 evaluated, 1 rejected" in stdout
    # without the survey, the answers are ignored and both rows are evaluated
    code, stdout, _ = run(
        capsys, "eligibility", tmp_path / "in.csv", "-o", tmp_path / "o2.csv", "--no-survey", "-q"
    )
    assert "2 evaluated, 0 rejected" in stdout


def test_the_level_computed_is_the_one_dmi_score_gives(capsys, tmp_path):
    answers = _survey_answers(30, seed=9)
    ids = [f"S{i}" for i in range(30)]
    survey = answers.assign(respondent_id=ids)[["respondent_id", *answers.columns]]
    survey.to_csv(tmp_path / "survey.csv", index=False)
    assert (
        run(capsys, "score", tmp_path / "survey.csv", "-o", tmp_path / "scores.csv", "-q")[0] == 0
    )
    scored = read(tmp_path / "scores.csv")
    firms = pd.DataFrame([{**A2, "respondent_id": i, "digital_level": 0} for i in ids])
    pd.concat([firms, answers], axis=1).to_csv(tmp_path / "in.csv", index=False)
    out = tmp_path / "out.csv"
    args = ["eligibility", tmp_path / "in.csv", "-o", out, "--policy", "2022", "--lang", "en"]
    assert run(capsys, *args)[0] == 0
    flags = read(out)["flags"]
    computed = [
        int(f.split(", ")[1].split(" ")[0]) if f else 0 for f in flags
    ]  # "0 given, N computed ..."
    assert computed == [int(v) for v in scored["level"]]
    assert np.any(np.array(computed) > 0)


@pytest.mark.parametrize("order", ["mapped first", "mapped last"])
def test_a_mapped_column_takes_its_fact_and_a_second_column_of_it_is_named_as_such(
    capsys, tmp_path, order
):
    # a header the map sends to a fact takes it, wherever the column whose header is the
    # fact's own code stands; that one is ignored and said to be a second column of it (it
    # crashed when it stood before; it was called "not a fact")
    firms = el.synthetic_firms(12, seed=3).drop(columns=["digital_level_computed"])
    mapped = firms["revenue_y2"] * 2
    at = 1 if order == "mapped first" else len(firms.columns)
    firms.insert(at, "营收2025", mapped)
    firms["上年营业收入"] = firms["revenue_y1"] + 1  # a label of revenue_y1, after its code
    src, out, summ = tmp_path / "in.csv", tmp_path / "out.csv", tmp_path / "s.json"
    firms.to_csv(src, index=False)
    (tmp_path / "map.csv").write_text("column,code\n营收2025,revenue_y2\n", encoding="utf-8")
    code, _, err = run(
        capsys, "eligibility", src, "-o", out, "--map", tmp_path / "map.csv", "--summary", summ
    )
    assert code == 0, err
    assert "ignored columns (a second column for the same code): " in err
    assert "revenue_y2 (also revenue_y2, read from '营收2025')" in err
    assert "上年营业收入 (also revenue_y1, read from 'revenue_y1')" in err
    assert "not a fact" not in err
    summary = json.loads(summ.read_text(encoding="utf-8"))
    assert summary["mapping"]["duplicates"] == {
        "revenue_y2": "revenue_y2",
        "上年营业收入": "revenue_y1",
    }
    # the values are the mapped column's: the same results as the facts with them
    expected = el.evaluate(
        firms.drop(columns=["营收2025", "上年营业收入"]).assign(revenue_y2=mapped)
    )
    got = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    want = expected.astype(str).replace({"nan": ""})
    assert got["specialised_status"].tolist() == want["specialised_status"].tolist()
    assert got["gaps"].tolist() == expected["gaps"].tolist()


def test_a_rule_file_that_is_not_utf8_or_not_a_file_is_one_line(capsys, tmp_path):
    # a rule file saved in GB18030 (an editor's default on a Chinese system) or binary, a folder,
    # and a rule file whose name does not end in .yaml: each a line naming it, never a traceback
    from dmi.eligibility.policy import DATA

    shipped = DATA.joinpath("policy-2026.yaml").read_text(encoding="utf-8")
    src = write_csv(tmp_path / "firms.csv", FIRMS)
    out = tmp_path / "out.csv"
    gb = tmp_path / "p_gb.yaml"
    gb.write_bytes(shipped.encode("gb18030"))
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(bytes(range(256)))
    folder = tmp_path / "rules"
    folder.mkdir()
    for policy, says in [
        (gb, f"{gb}: file: not UTF-8 text (byte 2); save the rule file as UTF-8"),
        (binary, f"{binary}: file: not UTF-8 text (byte 128)"),
        (folder, f"{folder}: file: is a folder; expected a YAML rule file"),
    ]:
        code, _, err = run(capsys, "eligibility", src, "-o", out, "--policy", policy)
        assert code == 2, err
        assert says in err and len(err.splitlines()) == 1 and "Traceback" not in err
    txt = tmp_path / "p.txt"
    txt.write_text(shipped, encoding="utf-8")
    assert run(capsys, "eligibility", src, "-o", out, "--policy", txt, "-q")[0] == 0


def test_a_computed_level_column_in_a_file_is_read_and_a_disagreement_flagged(capsys, tmp_path):
    # digital_level_computed is the level dmi computes from the survey's answers: a file may
    # carry one computed before (as the app carries the survey's level to evaluate()); it is
    # read before the stated level, and where the two differ the row is flagged and counted
    firms = el.synthetic_firms(40, seed=15).assign(digital_level=1, digital_level_computed=3)
    src, out, summ = tmp_path / "with.csv", tmp_path / "o.csv", tmp_path / "s.json"
    firms.to_csv(src, index=False)
    code, _, err = run(capsys, "eligibility", src, "-o", out, "--policy", "2022", "--summary", summ)
    assert code == 0, err
    levels = json.loads(summ.read_text(encoding="utf-8"))["digital_level"]
    assert (levels["computed"], levels["disagrees"]) == (0, 40)  # none computed here
    assert "digital_level_computed" not in err
    flags = read(out)["flags"]
    assert flags.str.len().gt(0).all()


def test_a_map_entry_for_a_column_the_file_lacks_is_named(capsys, tmp_path):
    # a typo in the map did nothing, silently
    firms = el.synthetic_firms(5, seed=3)
    src = tmp_path / "in.csv"
    firms.to_csv(src, index=False)
    (tmp_path / "map.csv").write_text(
        "column,code\nnotthere,revenue_y1\nRevenue_Y1,revenue_y1\n", encoding="utf-8"
    )
    argv = ["eligibility", src, "-o", tmp_path / "out.csv", "--map", tmp_path / "map.csv"]
    argv += ["--summary", tmp_path / "s.json"]
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    assert "the map names columns the file does not have: notthere\n" in err
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert summary["mapping"]["unused_map"] == ["notthere"]


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-16"])
@pytest.mark.parametrize("kind", ["csv", "yaml"])
def test_a_map_file_saved_by_a_chinese_spreadsheet_is_read(capsys, tmp_path, encoding, kind):
    # Excel on a Chinese Windows saves CSV in GBK; Notepad puts a BOM: both are read as the
    # input files are (they were refused as "not a column mapping file")
    firms = el.synthetic_firms(6, seed=2).rename(columns={"revenue_y2": "前年营业收入额"})
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    firms.to_csv(src, index=False)
    text = {
        "csv": "column,code\n前年营业收入额,revenue_y2\n",
        "yaml": "前年营业收入额: revenue_y2\n",
    }
    mapping = tmp_path / f"map.{kind}"
    mapping.write_bytes(text[kind].encode(encoding))
    summ = tmp_path / "s.json"
    code, _, err = run(capsys, "eligibility", src, "-o", out, "--map", mapping, "--summary", summ)
    assert code == 0, err
    summary = json.loads(summ.read_text(encoding="utf-8"))
    assert summary["mapping"]["matched"]["前年营业收入额"] == "revenue_y2"


@pytest.mark.parametrize("kind", ["csv", "yaml"])
@pytest.mark.parametrize("command", ["eligibility", "score"])
def test_a_map_sending_a_header_to_two_columns_is_refused(capsys, tmp_path, kind, command):
    # the last entry won without a word: revenue read as R&D, its checks never made
    src = tmp_path / "in.csv"
    el.synthetic_firms(3, seed=2).to_csv(src, index=False)
    text = {
        "csv": "column,code\nrevenue_y1,revenue_y1\nstaff,staff\n Revenue_Y1 ,rd_y1\n",
        "yaml": "revenue_y1: revenue_y1\nstaff: staff\nREVENUE_Y1: rd_y1\n",
    }
    mapping = tmp_path / f"map.{kind}"
    mapping.write_text(text[kind], encoding="utf-8")
    code, _, err = run(capsys, command, src, "-o", tmp_path / "o.csv", "--map", mapping)
    assert code == 2 and err.count("\n") == 1, err
    where = ("row 2", "row 4") if kind == "csv" else ("key 'revenue_y1'", "key 'REVENUE_Y1'")
    assert f"{mapping}: a header can be sent to one column only: " in err
    assert f"to 'revenue_y1' ({where[0]}) and to 'rd_y1' ({where[1]})" in err


def test_a_map_file_that_is_not_text_is_named(capsys, tmp_path):
    src = tmp_path / "in.csv"
    el.synthetic_firms(3, seed=2).to_csv(src, index=False)
    mapping = tmp_path / "map.csv"
    mapping.write_bytes(b"column,code\n\x80\xff\x80,revenue_y2\n")
    code, _, err = run(capsys, "eligibility", src, "-o", tmp_path / "o.csv", "--map", mapping)
    assert code == 2 and err.count("\n") == 1
    assert f"{mapping}: not a column mapping file" in err


def test_the_summary_groups_reasons_by_column_not_by_the_cells_value(capsys, tmp_path):
    # "-1 is below the minimum 0" of two columns were one reason, and each bad debt ratio one
    # of its own: the summary counts a column's reason whatever the cell held
    firms = el.synthetic_firms(6, seed=1)
    firms.loc[0, "staff"] = -1
    firms.loc[1, "ip_class1"] = -1
    firms.loc[2, "debt_ratio"] = 101
    firms.loc[3, "debt_ratio"] = 102
    firms.loc[4, "main_revenue_y1"] = firms.loc[4, "revenue_y1"] + 5
    src, summ = tmp_path / "in.csv", tmp_path / "s.json"
    firms.to_csv(src, index=False)
    code, out, err = run(capsys, "eligibility", src, "-o", tmp_path / "o.csv", "--summary", summ)
    assert code == 0, err
    summary = json.loads(summ.read_text(encoding="utf-8"))
    assert summary["rejected_rows_by_reason"] == {
        "debt_ratio is above the maximum 100 %": 2,
        "ip_class1 is below the minimum 0": 1,
        "main_revenue_y1 is above revenue_y1: main-business revenue is part of revenue": 1,
        "staff is below the minimum 0": 1,
    }
    assert summary["rejected_by_reason"] == summary["rejected_rows_by_reason"]
    assert "rejected: 2 rows, debt_ratio is above the maximum 100 %" in out


@pytest.mark.parametrize("command", ["eligibility", "score"])
def test_a_header_row_repeated_inside_the_file_is_one_reason(capsys, tmp_path, command):
    # two exports joined: the second's header was a row whose every cell was a problem (about
    # 48 of them), and a file of one column of ids would have taken it for a firm
    source = (
        pd.read_csv(ROOT / "data" / "example-bulk.csv", dtype=str, keep_default_na=False)
        if command == "score"
        else el.synthetic_firms(6, seed=9).astype(object)
    ).head(6)
    header = pd.DataFrame([dict(zip(source.columns, source.columns))])
    joined = pd.concat([source.iloc[:3], header, source.iloc[3:]], ignore_index=True)
    src, rejects, summ = tmp_path / "in.csv", tmp_path / "r.csv", tmp_path / "s.json"
    joined.to_csv(src, index=False)
    argv = [command, src, "-o", tmp_path / "o.csv", "--rejects", rejects, "--summary", summ]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    found = pd.read_csv(rejects, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    again = found[found["row"] == "5"]  # the header is row 1: the three rows, then it
    assert again[["column", "value", "reason"]].values.tolist() == [
        ["respondent_id", "respondent_id", "repeats the header row (files joined together?)"]
    ]
    summary = json.loads(summ.read_text("utf-8"))
    assert summary["read"] == 7 and summary["rejected"] >= 1
    done = summary["scored"] if command == "score" else summary["evaluated"]
    assert done + summary["rejected"] == 7


def test_a_row_that_only_starts_like_the_header_is_not_one():
    from dmi.bulk.checks import repeats_header

    frame = pd.DataFrame(
        {"respondent_id": ["respondent_id", " respondent_id ", "respondent_id", "F1"],
         "revenue_y1": ["revenue_y1", "revenue_y1", "120", "revenue_y1"]}
    )  # fmt: skip
    assert repeats_header(frame, ["respondent_id", "revenue_y1"]).tolist() == [
        True,
        True,
        False,
        False,
    ]
    assert repeats_header(frame, ["respondent_id"]).tolist() == [True, True, True, False]
    assert repeats_header(frame, []).tolist() == [False] * 4


def test_headers_with_a_question_number_or_a_unit_are_matched(capsys, tmp_path):
    # an agency's template says the unit in the header, a questionnaire numbers its questions:
    # "上年营业收入（万元）" and "Q5.上年研发费用" were ignored, and their facts unknown
    from dmi.eligibility.headers import map_fact_columns

    headers = ["企业编号", "上年营业收入（万元）", "Q5.上年研发费用", "上年末资产负债率(%)"]
    headers += ["第 7 题：职工总数【人】", "上年营业收入 (万元)", "sector (old)", "3 上年净利润"]
    mapping = map_fact_columns(headers)
    assert mapping.rename == {
        "企业编号": "respondent_id",
        "上年营业收入（万元）": "revenue_y1",
        "Q5.上年研发费用": "rd_y1",
        "上年末资产负债率(%)": "debt_ratio",
        "第 7 题：职工总数【人】": "staff",
    }
    # a bracket that is not a unit, a number without its mark; a second column of revenue is
    # a duplicate (it was "not a fact")
    assert mapping.unmatched == ["sector (old)", "3 上年净利润"]
    assert mapping.duplicates == {"上年营业收入 (万元)": "revenue_y1"}
    firms = el.synthetic_firms(4, seed=8)
    src = tmp_path / "in.csv"
    firms.rename(columns={"revenue_y1": "上年营业收入（万元）", "rd_y1": "Q5.上年研发费用"}).to_csv(
        src, index=False
    )
    code, _, err = run(capsys, "eligibility", src, "-o", tmp_path / "o.csv")
    assert code == 0 and "上年营业收入" not in err, err
    plain = tmp_path / "plain.csv"
    firms.to_csv(plain, index=False)
    assert run(capsys, "eligibility", plain, "-o", tmp_path / "p.csv")[0] == 0
    assert (tmp_path / "o.csv").read_bytes() == (tmp_path / "p.csv").read_bytes()


def test_a_facts_short_label_is_a_header_too():
    # the docs' `资产负债率(%)` was left unmatched (the label is 上年末资产负债率): its debt
    # ratio unknown for every firm
    from dmi.eligibility.headers import map_fact_columns

    headers = ["资产负债率(%)", "上年营收", "last year's R&D", "last year's main revenue (万元)"]
    mapping = map_fact_columns(headers)
    assert mapping.rename == {
        "资产负债率(%)": "debt_ratio",
        "上年营收": "revenue_y1",
        "last year's R&D": "rd_y1",
        "last year's main revenue (万元)": "main_revenue_y1",
    }
    shorts = [f.short_label(lang) for f in el.FACTS for lang in ("zh", "en") if f.short]
    assert len(shorts) == len(set(shorts))  # each names one fact


def test_a_label_without_its_note_in_brackets_is_a_header_too():
    # 从事特定细分市场年限 (the label goes on "（截至上年末）") was left out as no fact at all
    from dmi.eligibility.facts import COMPUTED
    from dmi.eligibility.headers import map_fact_columns
    from dmi.text import match_key as _key

    for lang in ("zh", "en"):
        pairs = [
            (" ".join(re.sub(r"[（(][^）)]*[）)]", "", label).split()), f.code)
            for f in el.FACTS
            if f.code not in COMPUTED
            for label in [f.zh if lang == "zh" else f.en]
            if re.search(r"[（(]", label)
        ]
        bare = dict(pairs)
        assert len({_key(label) for label, _ in pairs}) == len(pairs)  # each names one fact
        assert {"niche_years", "eval_score", "market_share", "holds_innovative"} <= set(
            bare.values()
        )
        mapping = map_fact_columns(list(bare))
        assert mapping.rename == bare
    with_unit = map_fact_columns(["从事特定细分市场年限（年）"]).rename
    assert with_unit == {"从事特定细分市场年限（年）": "niche_years"}


@pytest.mark.parametrize("command", ["eligibility", "score"])
def test_a_file_without_an_id_column_says_its_rows_are_named_by_number(capsys, tmp_path, command):
    # rows were named 2, 3, 4 and a firm given twice went unseen, with no word in the summary
    from dmi.io.mapping import NO_ID_NOTE
    from dmi.service.bulkview import note_text

    firms = el.synthetic_firms(3, seed=4)
    if command == "score":
        firms = pd.read_csv(ROOT / "data" / "example-bulk.csv", dtype=str).head(3)
    src, summ = tmp_path / "in.csv", tmp_path / "s.json"
    firms.drop(columns="respondent_id").to_csv(src, index=False)
    code, _, err = run(capsys, command, src, "-o", tmp_path / "o.csv", "--summary", summ)
    assert code == 0, err
    assert f"note: {NO_ID_NOTE}\n" in err
    assert json.loads(summ.read_text("utf-8"))["notes"] == [NO_ID_NOTE]
    ids = pd.read_csv(tmp_path / "o.csv", encoding="utf-8-sig")["respondent_id"]
    assert ids.tolist() == [2, 3, 4]
    worded = note_text(NO_ID_NOTE, "zh")
    assert worded.startswith("文件没有编号列") and "row number" not in worded
    firms.to_csv(src, index=False)  # with its ids: nothing to say
    code, _, err = run(capsys, command, src, "-o", tmp_path / "o.csv", "--summary", summ)
    assert code == 0 and "no id column" not in err
    assert json.loads(summ.read_text("utf-8"))["notes"] == []


@pytest.mark.parametrize("given", [True, False])
def test_stdout_counts_the_reasons_past_those_it_lists(capsys, tmp_path, given):
    # 11 reasons, one row each but debt ratio's three: 8 listed (the most common first), then
    # the 3 rows of the 3 others counted, and where every one of them is
    firms = el.synthetic_firms(13, seed=2)
    bad = ["staff", "rd_staff", "ip_class1", "ip_class2", "niche_years", "quality_items"]
    bad += ["domestic_rank", "award_rank", "rd_y1", "equity_3y"]
    for row, fact in enumerate(bad):
        firms.loc[row, fact] = -1
    firms.loc[10:12, "debt_ratio"] = 180
    src, rejects = tmp_path / "in.csv", tmp_path / "r.csv"
    firms.to_csv(src, index=False)
    argv = ["eligibility", src, "-o", tmp_path / "o.csv", *(["--rejects", rejects] * given)]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    listed = [line for line in out.splitlines() if line.startswith("  rejected:")]
    assert len(listed) == 9
    assert listed[0] == "  rejected: 3 rows, debt_ratio is above the maximum 100 %"
    assert all(", " in line and " row, " in line for line in listed[1:8])
    where = f"every one is in {rejects}" if given else "--rejects FILE lists every one"
    assert listed[8] == f"  rejected: 3 rows more, for 3 other reasons: {where}"


@pytest.mark.parametrize("policy", ["reject", "keep-first"])
@pytest.mark.parametrize("chunk", ["1", "50000"])
def test_a_repeated_rows_other_problems_are_listed_too(capsys, tmp_path, policy, chunk):
    # every problem of a row, as the rejects promise: a repeated id hid the row's bad cells
    # (fixed, then run again, the file came back with them)
    firms = el.synthetic_firms(5, seed=4)
    firms.loc[3, "respondent_id"] = firms.loc[1, "respondent_id"]
    firms.loc[3, "debt_ratio"] = 180
    firms.loc[3, "staff"] = -2
    src, rej = tmp_path / "in.csv", tmp_path / "rej.csv"
    firms.to_csv(src, index=False)
    argv = ["eligibility", src, "-o", tmp_path / "o.csv", "--rejects", rej]
    code, out, err = run(capsys, *argv, "--duplicates", policy, "--chunk-size", chunk)
    assert code == 0, err
    rejects = pd.read_csv(rej, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    row5 = rejects[rejects["row"] == "5"]
    assert row5["column"].tolist() == ["respondent_id", "debt_ratio", "staff"]
    assert row5["reason"].iloc[0].startswith("duplicate respondent_id")
    rejected = {"reject": {"3", "5"}, "keep-first": {"5"}}[policy]
    assert set(rejects["row"]) == rejected
    assert f"read 5 rows: {5 - len(rejected)} evaluated, {len(rejected)} rejected" in out


def test_the_rejects_are_in_row_order_whatever_their_kinds(capsys, tmp_path):
    # a chunk's row checks found a blank line (row 4) before a repeated id (rows 2 and 8): the
    # rejects file had them in that order, 4, 2, 8
    firms = el.synthetic_firms(6, seed=4)
    firms.loc[5, "respondent_id"] = firms.loc[0, "respondent_id"]
    lines = firms.to_csv(index=False).splitlines()
    lines.insert(3, "")
    src, rej = tmp_path / "in.csv", tmp_path / "rej.csv"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = run(capsys, "eligibility", src, "-o", tmp_path / "o.csv", "--rejects", rej)
    assert code == 0, err
    rejects = pd.read_csv(rej, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert rejects["row"].tolist() == ["2", "4", "8"]


def test_the_statuses_are_counted_by_the_rules_each_firm_was_judged_under(capsys, tmp_path):
    # in 2026 a 小巨人 复核 is judged under the 2022 rules: the counts said "little_giant (2026)"
    # for every firm of the rung
    firms = el.synthetic_firms(40, seed=5)
    firms["holds_little_giant"] = ["recheck" if i % 4 == 0 else "no" for i in range(40)]
    src, summ, out_csv = tmp_path / "in.csv", tmp_path / "s.json", tmp_path / "o.csv"
    firms.to_csv(src, index=False)
    code, out, err = run(
        capsys, "eligibility", src, "-o", out_csv, "--policy", "2026", "--summary", summ
    )
    assert code == 0, err
    results = pd.read_csv(out_csv, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    summary = json.loads(summ.read_text(encoding="utf-8"))
    by_policy = summary["statuses_by_policy"]["little_giant"]
    expected = results.groupby(["little_giant_policy", "little_giant_status"]).size()
    assert by_policy == {
        policy: {
            status: int(expected.get((policy, status), 0)) for status in el.STATUSES
        }  # every status, 0 too
        for policy in ("2022", "2026")
    }
    assert set(results["little_giant_policy"]) == {"2022", "2026"}
    assert sum(sum(v.values()) for v in by_policy.values()) == summary["evaluated"]
    for policy in ("2022", "2026"):
        assert f"little_giant ({policy}): " in out


def test_fractions_for_percent_and_id_only_rows_are_noted_whatever_the_chunks(capsys, tmp_path):
    # a debt ratio of 0.45 (meaning 45 %) passed every ceiling, and a footnote under the table
    # was counted as a firm, with no word in the summary
    from dmi.service.bulkview import note_text

    firms = el.synthetic_firms(6, seed=3).astype(object)
    firms["debt_ratio"] = firms["debt_ratio"].map(lambda v: "" if pd.isna(v) else float(v) / 100)
    src = tmp_path / "in.csv"
    footnote = pd.DataFrame({"respondent_id": ["注：数据截至2025年底"]})
    pd.concat([firms, footnote], ignore_index=True).to_csv(src, index=False)
    found = []
    for chunk in ("1", "50000"):
        summ = tmp_path / f"s{chunk}.json"
        code, _, err = run(
            capsys, "eligibility", src, "-o", tmp_path / "o.csv", "--summary", summ,
            "--chunk-size", chunk,
        )  # fmt: skip
        assert code == 0, err
        notes = json.loads(summ.read_text("utf-8"))["notes"]
        assert [n.split(" ")[0] for n in notes] == ["debt_ratio:", "1"], notes
        assert "(row 8)" in notes[1]
        assert all(f"note: {n}\n" in err for n in notes)
        found.append(notes)
    assert found[0] == found[1]
    zh = [note_text(n, "zh") for n in found[0]]
    assert zh[0].startswith("资产负债率 (debt_ratio)：所填的值都不超过 1") and "第 8 行" in zh[1]
    firms["debt_ratio"] = firms["debt_ratio"].map(lambda v: v if v == "" else v * 100)
    firms.to_csv(src, index=False)  # percent, and no footnote: nothing to say
    code, _, err = run(capsys, "eligibility", src, "-o", tmp_path / "o.csv", "--summary", summ)
    assert code == 0 and json.loads(summ.read_text("utf-8"))["notes"] == []


@pytest.mark.parametrize("chunk", ["1", "5", "50000"])
def test_the_rows_rejected_for_a_repeated_id_still_show_the_column_s_unit(capsys, tmp_path, chunk):
    # ten debt ratios of 0.45 and two of 45 % on rows sharing an id: the run said the column
    # held fractions (the API, which reads the two rows, did not); the ten are noted alike
    rows = [{"respondent_id": f"R{i}", "debt_ratio": 0.45, "revenue_y1": 100} for i in range(10)]
    rows += [{"respondent_id": "D", "debt_ratio": v, "revenue_y1": 100} for v in (45, 46)]
    src, summ = tmp_path / "in.csv", tmp_path / "s.json"
    pd.DataFrame(rows).to_csv(src, index=False)
    argv = ["eligibility", src, "-o", tmp_path / "o.csv", "--summary", summ]
    code, _, err = run(capsys, *argv, "--chunk-size", chunk)
    assert code == 0, err
    summary = json.loads(summ.read_text("utf-8"))
    assert summary["rejected"] == 2
    # not the column's note (45 and 46 show its unit): the ten values at most 1 are counted
    # among every value read, whatever rejected their rows and however the file is chunked
    [note] = [n for n in summary["notes"] if n.startswith("debt_ratio:")]
    assert note.startswith("debt_ratio: 10 of the 12 values given are at most 1")
    assert el.evaluate_batch(pd.DataFrame(rows)).facts_tally.notes() == [note]


def test_the_summary_names_the_rule_file_read_and_its_content(capsys, tmp_path):
    # a changed copy that kept the id "2026" looked like the shipped rules in the summary
    import yaml

    from dmi.eligibility._data import DATA

    src = tmp_path / "in.csv"
    el.synthetic_firms(5, seed=2).to_csv(src, index=False)
    data = yaml.safe_load(DATA.joinpath("policy-2026.yaml").read_text(encoding="utf-8"))
    data["scorecards"][0]["pass_mark"] = 65
    copy = tmp_path / "gd.yaml"
    copy.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    found = {}
    for name, policy in (("shipped", []), ("copy", ["--policy", str(copy)])):
        summ = tmp_path / f"{name}.json"
        code, _, err = run(
            capsys, "eligibility", src, "-o", tmp_path / "o.csv", "--summary", summ, *policy
        )
        assert code == 0, err
        found[name] = json.loads(summ.read_text("utf-8"))
    assert found["shipped"]["policy"] == found["copy"]["policy"] == "2026"
    assert found["shipped"]["policy_file"] is None
    assert found["copy"]["policy_file"] == str(copy)
    assert found["shipped"]["policy_hash"] == el.load_policy("2026").hash
    assert (
        found["copy"]["policy_hash"] == el.load_policy(copy).hash != found["shipped"]["policy_hash"]
    )


def _with_headers(path: Path, firms: list[dict], headers: dict[str, str], scale: dict) -> Path:
    """The firms under other headers (code -> header), their amounts times ``scale`` (worked
    out in decimal: 0.36亿元 is written 0.36)."""
    from decimal import Decimal

    def scaled(code: str, value):
        if code not in scale or value is None:
            return value
        return format((Decimal(str(value)) * Decimal(scale[code])).normalize(), "f")

    rows = [{c: scaled(c, v) for c, v in f.items()} for f in firms]
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow([headers.get(c, c) for c in COLUMNS])
        for firm in rows:
            writer.writerow([_cell(firm.get(c)) for c in COLUMNS])
    return path


def _in_units_and_plain(tmp_path, capsys, headers: dict, scale: dict) -> list[tuple]:
    """``FIRMS`` run with ``headers`` naming units (the values scaled by ``scale``), then as
    plain: each run's output, summary and stderr."""
    given = _with_headers(tmp_path / "units.csv", FIRMS, headers, scale)
    plain = write_csv(tmp_path / "plain.csv", FIRMS)
    outs = []
    for src in (given, plain):
        out = tmp_path / f"{src.stem}-out.csv"
        summary = tmp_path / f"{src.stem}.json"
        code, _, err = run(capsys, "eligibility", src, "-o", out, "--summary", summary, "-q")
        assert code == 0, err
        outs.append((read(out), json.loads(summary.read_text(encoding="utf-8")), err))
    return outs


def test_a_unit_in_a_header_is_read_as_that_unit(tmp_path, capsys):
    # a finance export in 元 (and 亿元, and a debt ratio in ‰) is the same firms as in 万元 and %:
    # 4000万元 written 40000000 under 上年营业收入（元） is not 40,000,000万元
    headers = {
        "revenue_y1": "上年营业收入（元）",
        "revenue_y2": "前年营业收入(亿元)",
        "rd_y1": "上年研发费用[千元]",
        "debt_ratio": "资产负债率（‰）",
        "main_revenue_y1": "上年主营业务收入（万元）",
    }
    scale = {"revenue_y1": "10000", "revenue_y2": "0.0001", "rd_y1": "10", "debt_ratio": "10"}
    (units_out, units_summary, err), (plain_out, _, _) = _in_units_and_plain(
        tmp_path, capsys, headers, scale
    )
    pd.testing.assert_frame_equal(units_out, plain_out)
    assert units_summary["evaluated"] == 3
    notes = " | ".join(units_summary["notes"])
    for header, unit, factor in [
        ("上年营业收入（元）", "元", "÷ 10000"),
        ("前年营业收入(亿元)", "亿元", "× 10000"),
        ("上年研发费用[千元]", "千元", "÷ 10"),
        ("资产负债率（‰）", "‰", "÷ 10"),
    ]:
        named = unicodedata.normalize("NFKC", header)  # as the reader names the column
        assert f"{named}: in {unit}, read" in notes and factor in notes, notes
    assert "上年主营业务收入" not in notes  # the fact's own unit: nothing to say
    assert units_summary["mapping"]["units"] == {
        "revenue_y1": "元", "revenue_y2": "亿元", "rd_y1": "千元", "debt_ratio": "‰"
    }  # fmt: skip
    assert all(f"note: {n}\n" in err for n in units_summary["notes"])
    from dmi.service.bulkview import note_text

    zh = note_text(units_summary["notes"][0], "zh")
    assert (
        zh == "上年营业收入(元)：表头注明单位 元，已换算为 万元（÷ 10000）读作上年营收 (revenue_y1)"
    )


def test_a_short_unit_in_a_header_is_read_as_its_long_form(tmp_path, capsys):
    # 前年营业收入（亿）, 上年研发费用（百万）: the columns were left out as no fact at all
    headers = {
        "revenue_y1": "上年营业收入[千]",
        "revenue_y2": "前年营业收入（亿）",
        "rd_y1": "上年研发费用(百万)",
    }
    scale = {"revenue_y1": "10", "revenue_y2": "0.0001", "rd_y1": "0.01"}
    (units_out, units_summary, _), (plain_out, _, _) = _in_units_and_plain(
        tmp_path, capsys, headers, scale
    )
    pd.testing.assert_frame_equal(units_out, plain_out)
    assert units_summary["mapping"]["unmatched"] == []
    assert units_summary["mapping"]["units"] == {
        "revenue_y1": "千",
        "revenue_y2": "亿",
        "rd_y1": "百万",
    }


def test_a_value_out_of_range_is_told_in_the_unit_it_was_written_in(tmp_path, capsys):
    headers = {"debt_ratio": "资产负债率（‰）"}
    src = _with_headers(tmp_path / "f.csv", [{**A1, "debt_ratio": 1200}], headers, {})
    rejects = tmp_path / "rej.csv"
    code, shown, err = run(
        capsys, "eligibility", src, "-o", tmp_path / "o.csv", "--rejects", rejects
    )
    assert code == 0, err
    found = read(rejects)
    assert found["column"].tolist() == ["debt_ratio"]
    assert found["value"].tolist() == ["1200"]
    # after the file's header, as it writes it: the rejects name the file's column
    assert found["reason"].tolist() == ["资产负债率（‰）: 1200 is above the maximum 1000 ‰"]
    assert "rejected: 1 row, 资产负债率（‰）: debt_ratio is above the maximum 1000 ‰" in shown


def test_a_check_across_facts_tells_each_amount_in_the_unit_it_was_written_in(tmp_path, capsys):
    # it said "main_revenue_y1 (1500) is above revenue_y1 (1200)" beside a cell of 15000000 元
    headers = {"revenue_y1": "上年营业收入（元）"}
    firm = {**A1, "revenue_y1": 12_000_000, "main_revenue_y1": 1500}
    src = _with_headers(tmp_path / "f.csv", [firm], headers, {})
    rejects = tmp_path / "rej.csv"
    code, _, err = run(capsys, "eligibility", src, "-o", tmp_path / "o.csv", "--rejects", rejects)
    assert code == 0, err
    reasons = read(rejects).set_index("column")["reason"].to_dict()
    assert reasons["main_revenue_y1"] == (
        "main_revenue_y1 (1500 万元) is above revenue_y1 (12000000 元): main-business revenue is "
        "part of revenue"
    )


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("上年研发费用（人）", "rd_y1"),
        ("资产负债率（万元）", "debt_ratio"),
        ("职工总数（%）", "staff"),
    ],
)
def test_a_header_in_a_unit_of_another_kind_is_refused(tmp_path, capsys, header, code):
    # (a fact without a unit, 获奖年份（年）, is read whatever its header says: see below)
    firm = {**A1, "staff": 50}
    columns = [*COLUMNS, "staff"]
    src = tmp_path / "f.csv"
    with open(src, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow([header if c == code else c for c in columns])
        writer.writerow([_cell(firm.get(c)) for c in columns])
    code_, _, err = run(capsys, "eligibility", src, "-o", tmp_path / "o.csv")
    assert code_ == 2
    assert "Traceback" not in err
    unit = header[header.index("（") + 1 : -1]
    assert repr(unicodedata.normalize("NFKC", header)) in err, err  # as the reader names it
    assert f"gives {code} in {unit}" in err, err
    assert not (tmp_path / "o.csv").exists()


def _run_both(capsys, tmp_path, given: str, plain: str) -> tuple[dict, str]:
    """Run a survey tool's export and the same firms written plainly: the outputs must be the
    same. Returns the export's summary and stderr."""
    outs = []
    for name, text in (("given", given), ("plain", plain)):
        src = tmp_path / f"{name}.csv"
        src.write_text(text, encoding="utf-8")
        out, summ = tmp_path / f"{name}-out.csv", tmp_path / f"{name}.json"
        code, _, err = run(capsys, "eligibility", src, "-o", out, "--summary", summ)
        assert code == 0, err
        outs.append((read(out), json.loads(summ.read_text(encoding="utf-8")), err))
    (given_out, summary, err), (plain_out, plain_summary, _) = outs
    assert summary["read"] == summary["evaluated"] == plain_summary["evaluated"]
    pd.testing.assert_frame_equal(given_out, plain_out)
    return summary, err


def test_a_wjx_export_of_facts_reads_its_skip_marks_as_blank(capsys, tmp_path):
    # 问卷星 writes a skipped question as (跳过) (text export) or -3 / -2 (number export) and an
    # empty fill-in as (空): a row was rejected for (跳过), and -3 was read as a loss of 3万元
    meta = "序号,提交答卷时间,所用时间,来源,来源详情,来自IP"
    given = (
        f"{meta},1、企业编号,2、上年营业收入（万元）,3、上年净利润（万元）,4、获奖年份,5、资产负债率\n"
        "1,2026/5/1 10:00:00,120秒,手机提交,直接访问,1.2.3.4(北京),S1,3000,(跳过),(跳过),(空)\n"
        "2,2026/5/1 10:05:00,98秒,手机提交,直接访问,1.2.3.5(北京),S2,-2,-3,2025,（空）\n"
        "3,2026/5/1 10:09:00,77秒,手机提交,直接访问,1.2.3.6(北京),S3,2000,-3.5,-3,40\n"
    )
    plain = (
        "respondent_id,revenue_y1,net_profit_y1,award_year,debt_ratio\n"
        "S1,3000,,,\nS2,,,2025,\nS3,2000,-3.5,,40\n"
    )
    summary, err = _run_both(capsys, tmp_path, given, plain)
    wjx = [n for n in summary["notes"] if n.startswith("read as a 问卷星 export")]
    assert wjx == [
        "read as a 问卷星 export: (跳过), (空), -2 and -3 in a fact's column are a question "
        "skipped or left empty, read as blank: 7 cells (revenue_y1 1, net_profit_y1 2, "
        "debt_ratio 2, award_year 2)"
    ], summary["notes"]
    assert f"note: {wjx[0]}\n" in err
    from dmi.service.bulkview import note_text

    zh = note_text(wjx[0], "zh")
    assert zh.startswith("按问卷星导出文件读入") and "共 7 格" in zh
    assert "上年营收 (revenue_y1) 1、上年净利润 (net_profit_y1) 2" in zh  # facts by name


@pytest.mark.parametrize("cell", ["1", "2", "3", "1.0"])
def test_an_option_number_of_a_wjx_export_is_refused_not_read_as_yes(capsys, tmp_path, cell):
    # 问卷星's number export writes 否, the first option, as 1: it was read as yes (holds the
    # title), and 2 was refused as "expected one of: no, yes, recheck"
    meta = "序号,提交答卷时间,所用时间"
    questions = (
        "1、企业编号,2、是否持有创新型（科技和创新型）中小企业称号,3、拥有自主品牌,4、职工总数"
    )
    header = f"{meta},{questions}"
    src = tmp_path / "wjx.csv"
    src.write_text(
        f"{header}\n1,2026/5/1 10:00:00,120秒,E0,{cell},是,{cell}\n"
        "2,2026/5/1 10:00:00,120秒,E1,否,是,40\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "rej.csv"
    code, _, err = run(capsys, "eligibility", src, "-o", tmp_path / "o.csv", "--rejects", rejects)
    assert code == 0, err
    found = read(rejects)
    assert found[["column", "value"]].values.tolist() == [["holds_innovative", cell]]
    # the file's header first: the rejects named only holds_innovative, which the export lacks
    header = "2、是否持有创新型（科技和创新型）中小企业称号"
    assert found["reason"].tolist() == [f"{header}: {el.facts.NUMBERED_OPTION}"]
    out = read(tmp_path / "o.csv")
    assert out["respondent_id"].tolist() == ["E1"]  # a number in a count is a count
    from dmi.service.ladderbulk import fact_reason

    assert "按选项文本" in fact_reason(el.facts.NUMBERED_OPTION, "zh")
    assert fact_reason(el.facts.NUMBERED_OPTION, "zh") != el.facts.NUMBERED_OPTION
    # the page words it without the header (the column beside it names it)
    from dmi.service.ladderbulk import without_header

    bare = without_header(found["reason"].iat[0], "holds_innovative", {"holds_innovative": header})
    assert bare == el.facts.NUMBERED_OPTION
    # a plain file's 1 is yes, as a spreadsheet's yes/no column holds it
    plain = tmp_path / "plain.csv"
    plain.write_text(f"respondent_id,holds_innovative\nE0,{cell}\n", encoding="utf-8")
    run(capsys, "eligibility", plain, "-o", tmp_path / "p.csv", "--rejects", rejects)
    assert len(read(rejects)) == (0 if cell in ("1", "1.0") else 1)


@pytest.mark.parametrize(
    ("meta", "cells", "ids"),
    [
        (
            "序号,提交答卷时间,所用时间",
            ["1,2026/5/1 10:00:00,120秒", "2,2026/5/1 10:01:00,90秒"],
            ["1", "2"],
        ),
        (
            "_uuid,_submission_time",
            ["ab-1,2026-05-01T10:00:00", "ab-2,2026-05-01T10:01:00"],
            ["ab-1", "ab-2"],
        ),
        ("_id,_index,_submission_time", ["71,1,2026-05-01", "72,2,2026-05-01"], ["71", "72"]),
    ],
)
def test_a_survey_tools_export_without_an_id_question_is_named_as_dmi_score_names_it(
    capsys, tmp_path, meta, cells, ids
):
    # dmi score names a 问卷星 export's rows by 序号 and a KoboToolbox export's by _uuid (else
    # _id); dmi eligibility named them by their row numbers (序号 1 became "2"), so the two
    # outputs joined on respondent_id paired every firm with its neighbour
    src = tmp_path / "export.csv"
    lines = [f"{meta},1、上年营业收入（万元）,2、职工总数"]
    lines += [f"{c},{3000 + i},{40 + i}" for i, c in enumerate(cells)]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = tmp_path / "s.json"
    code, _, err = run(capsys, "eligibility", src, "-o", tmp_path / "o.csv", "--summary", summary)
    assert code == 0, err
    assert read(tmp_path / "o.csv")["respondent_id"].tolist() == ids
    said = json.loads(summary.read_text(encoding="utf-8"))
    assert said["mapping"]["matched"][meta.split(",")[0]] == "respondent_id"
    assert meta.split(",")[0] not in said["unmatched_columns"]
    # an id question the export asks is the id, as for dmi score
    src.write_text(
        "\n".join(
            [f"{meta},1、企业编号,2、上年营业收入（万元）"]
            + [f"{c},E{i},3000" for i, c in enumerate(cells)]
        )
        + "\n",
        encoding="utf-8",
    )
    run(capsys, "eligibility", src, "-o", tmp_path / "o.csv")
    assert read(tmp_path / "o.csv")["respondent_id"].tolist() == ["E0", "E1"]


def test_a_kobo_export_of_facts_matches_its_grouped_headers(capsys, tmp_path):
    # KoboToolbox names a question in a group `group/question`: the facts were ignored, and the
    # firm told to give the facts it had given
    given = (
        "start,end,respondent_id,finance/revenue_y1,finance/debt_ratio,profile/about/niche_years,"
        "_id,_uuid,_submission_time,_index\n"
        "2026-05-01,2026-05-01,K1,3000,45,6,1,ab-cd,2026-05-01T10:00:00,1\n"
    )
    plain = "respondent_id,revenue_y1,debt_ratio,niche_years\nK1,3000,45,6\n"
    summary, _ = _run_both(capsys, tmp_path, given, plain)
    matched = summary["mapping"]["matched"]
    assert matched["finance/revenue_y1"] == "revenue_y1"
    assert matched["profile/about/niche_years"] == "niche_years"


def test_a_few_columns_named_like_survey_items_are_not_the_survey(capsys, tmp_path):
    # one helper column named `investment` made the file a survey: its 30 other items scored as
    # the lowest answer, the computed level 0 put before the stated 三级, 5 points lost
    given = "respondent_id,revenue_y1,digital_level,investment,strategy\nI1,3000,三级,50,x\n"
    plain = "respondent_id,revenue_y1,digital_level\nI1,3000,三级\n"
    outs = []
    for name, text in (("given", given), ("plain", plain)):
        src = tmp_path / f"{name}.csv"
        src.write_text(text, encoding="utf-8")
        out, summ = tmp_path / f"{name}-out.csv", tmp_path / f"{name}.json"
        code, _, err = run(
            capsys, "eligibility", src, "-o", out, "--summary", summ, "--policy", "2022"
        )
        assert code == 0, err
        outs.append((read(out), json.loads(summ.read_text(encoding="utf-8"))))
    (given_out, summary), (plain_out, _) = outs
    pd.testing.assert_frame_equal(given_out, plain_out)
    assert summary["survey_items"] == 0 and summary["digital_level"]["computed"] == 0
    assert summary["unmatched_columns"] == ["investment", "strategy"]
    assert (
        "columns named like items of the MIIT survey, too few to be its answers (2 of 31; the "
        "digital level is computed from a file with at least 16): investment, strategy"
    ) in summary["notes"]
    from dmi.service.bulkview import note_text

    assert note_text(summary["notes"][-1], "zh").startswith("以下列名与工信部数字化水平问卷")


def _titled_workbook(path: Path, firms: pd.DataFrame, titles: int = 2) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "企业"
    sheet.append(["2026年 专精特新 申报企业信息汇总"])
    if titles > 1:
        sheet.append(["填报单位：某区工信局", None, "2026-05-01"])
    sheet.append(list(firms.columns))
    for row in firms.astype(object).itertuples(index=False):
        sheet.append([None if pd.isna(v) else v for v in row])
    book.save(path)
    return path


def test_a_workbook_with_title_rows_names_the_row_that_holds_the_header(capsys, tmp_path):
    # the CLI reads the header from row 1: "no column is a fact" said nothing of row 3
    firms = el.synthetic_firms(3, seed=2)
    src = _titled_workbook(tmp_path / "titled.xlsx", firms)
    code, _, err = run(capsys, "eligibility", src, "-o", tmp_path / "o.csv")
    assert code == 2, err
    assert "no column is a fact" in err and "row 3 of the sheet names facts" in err, err
    assert "Traceback" not in err


def test_the_bulk_ladder_reads_a_workbook_from_its_header_below_title_rows(tmp_path):
    from dmi.service import ladderbulk

    firms = el.synthetic_firms(5, seed=2)
    plain = tmp_path / "plain.csv"
    firms.to_csv(plain, index=False)
    src = _titled_workbook(tmp_path / "titled.xlsx", firms)
    runs = []
    for source in (src, plain):
        folder = tmp_path / source.stem
        folder.mkdir()
        runs.append(ladderbulk.run_file(source, folder, policy="2026", lang="zh"))
    titled, flat = runs
    assert titled.summary.header_row == 3 and flat.summary.header_row == 1
    assert titled.summary.read == 5 and titled.summary.evaluated == flat.summary.evaluated
    assert titled.files["results"] == flat.files["results"]
    assert titled.cohort.equals(flat.cohort)


def test_a_workbook_naming_no_fact_in_its_first_rows_is_refused_with_its_problem(tmp_path):
    from dmi.bulk.eligibility import fact_header_row
    from dmi.errors import FileFormatError
    from dmi.locales import text

    src = _titled_workbook(tmp_path / "none.xlsx", pd.DataFrame({"企业名称": ["甲"]}))
    with pytest.raises(FileFormatError) as info:
        fact_header_row(src)
    assert info.value.problem == "no_fact_header_row"
    worded = text(f"app.file_{info.value.problem}", "zh", name="none.xlsx", **info.value.details)
    assert "工作表 企业 前 20 行" in worded


def _notes_then_facts(path, firms):
    """A workbook that opens on a sheet of notes, the firms on its second sheet (数据)."""
    import openpyxl

    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "说明"
    notes.append(["本表为 2025 年企业情况"])
    data = book.create_sheet("数据")
    data.append(list(firms.columns))
    for row in firms.astype(object).where(firms.notna(), None).itertuples(index=False):
        data.append(list(row))
    book.save(path)
    return path


def test_a_sheet_without_facts_names_the_workbooks_other_sheets(tmp_path, capsys):
    # the page's advice was to move the header row up, when the facts were on another sheet
    from dmi.bulk.eligibility import evaluate_file, fact_header_row
    from dmi.errors import FileFormatError
    from dmi.locales import text

    firms = el.synthetic_firms(6, seed=3)
    src = _notes_then_facts(tmp_path / "two.xlsx", firms)
    for refuse in (
        lambda: fact_header_row(src),
        lambda: evaluate_file(src, tmp_path / "o.csv"),
    ):
        with pytest.raises(FileFormatError) as info:
            refuse()
        assert (
            info.value.problem.endswith("_other_sheets") and info.value.details["others"] == "数据"
        )
        assert "'数据' (choose one with --sheet NAME)" in str(info.value)
        worded = text(f"app.file_{info.value.problem}", "zh", name="two.xlsx", **info.value.details)
        assert "说明" in worded and "数据" in worded
    # chosen, the sheet reads as a file of its own
    flat = tmp_path / "flat.csv"
    firms.to_csv(flat, index=False)
    assert (
        run(capsys, "eligibility", src, "-o", tmp_path / "a.csv", "--sheet", "数据", "-q")[0] == 0
    )
    assert run(capsys, "eligibility", flat, "-o", tmp_path / "b.csv", "-q")[0] == 0
    a = pd.read_csv(tmp_path / "a.csv", dtype=str)
    assert a.equals(pd.read_csv(tmp_path / "b.csv", dtype=str))


def test_a_computed_level_given_in_the_file_is_read_as_the_api_reads_it(capsys, tmp_path):
    # a digital_level_computed column (a level dmi computed before) was used by
    # evaluate(frame) and ignored by the command, "not a fact": 5 points apart under 2022
    firms = el.synthetic_firms(20, seed=9)
    firms["digital_level_computed"] = 4
    src = tmp_path / "in.csv"
    firms.to_csv(src, index=False)
    out, summ = tmp_path / "o.csv", tmp_path / "s.json"
    code, _, err = run(capsys, "eligibility", src, "-o", out, "--policy", "2022", "--summary", summ)
    assert code == 0, err
    assert "digital_level_computed" not in json.loads(summ.read_text("utf-8"))["unmatched_columns"]
    api = el.evaluate(pd.read_csv(src, dtype=str, keep_default_na=False), "2022")
    cli = read(out)
    assert cli["specialised_points"].tolist() == [
        "" if pd.isna(v) else f"{v:g}" for v in api["specialised_points"]
    ]


def test_a_unit_in_the_header_of_a_fact_without_one_is_not_checked(capsys, tmp_path):
    # award_year has no unit: 获奖年份（年） stopped the whole file (exit 2), which it had read
    src = tmp_path / "f.csv"
    src.write_text("respondent_id,获奖年份（年）,上年营业收入\nA,2025,3000\n", encoding="utf-8")
    summ = tmp_path / "s.json"
    code, _, err = run(capsys, "eligibility", src, "-o", tmp_path / "o.csv", "--summary", summ)
    assert code == 0, err
    summary = json.loads(summ.read_text("utf-8"))
    assert summary["mapping"]["matched"]["获奖年份(年)"] == "award_year"
    assert summary["evaluated"] == 1 and summary["mapping"]["units"] == {}


def test_a_ratio_header_is_not_a_group_and_the_maps_blank_leaves_a_column_out():
    # 研发人员/职工总数 (a ratio) was read as staff; a map entry of "" did not leave out
    # finance/revenue_y1, nor a header with a unit of the wrong kind (which then stopped the run)
    from dmi.eligibility.headers import map_fact_columns

    mapping = map_fact_columns(["respondent_id", "研发人员", "研发人员/职工总数"])
    assert "研发人员/职工总数" in mapping.unmatched
    assert "staff" not in mapping.rename.values()
    custom = {"finance/revenue_y1": "", "职工总数（万元）": ""}
    mapping = map_fact_columns(["finance/revenue_y1", "职工总数（万元）", "rd_y1"], custom=custom)
    assert mapping.rename == {"rd_y1": "rd_y1"}
    assert mapping.units == {}


@pytest.mark.parametrize("duplicates", ["reject", "keep-first", "keep-last"])
def test_a_wjx_exports_marks_in_repeated_rows_are_blank_and_counted_alike(
    capsys, tmp_path, duplicates
):
    # a repeated id's rows were checked with their marks as cells: "(空) expected a whole
    # number" in the rejects, and a count that changed with --duplicates
    src = tmp_path / "d.csv"
    src.write_text(
        "序号,提交答卷时间,所用时间,1、企业编号,2、上年营业收入（万元）,3、上年净利润（万元）,4、职工总数\n"
        "1,2026/5/1,120秒,a,3000,(跳过),(空)\n2,2026/5/1,98秒,b,-2,-3,(空)\n"
        "3,2026/5/1,77秒,b,2000,(跳过),5\n",
        encoding="utf-8",
    )
    rej, summ = tmp_path / "r.csv", tmp_path / "s.json"
    code, _, err = run(
        capsys, "eligibility", src, "-o", tmp_path / "o.csv", "--rejects", rej,
        "--summary", summ, "--duplicates", duplicates,
    )  # fmt: skip
    assert code == 0, err
    notes = json.loads(summ.read_text("utf-8"))["notes"]
    assert any(n.endswith("6 cells (revenue_y1 1, net_profit_y1 3, staff 2)") for n in notes)
    assert set(read(rej)["column"]) == {"respondent_id"}  # no mark refused as a cell


def test_a_run_says_how_many_award_years_are_after_the_application_year(tmp_path, capsys):
    # --policy 2022 applies for 2022 unless --year says otherwise: awards of 2025 were left
    # outside their windows without a word
    from dmi.service.bulkview import note_text

    firms = [
        {**A1, "award": "provincial", "award_year": 2025, "award_rank": 1},
        {**A1, "respondent_id": "A2", "award": "national", "award_year": 2021},
    ]
    src, out, summ = tmp_path / "f.csv", tmp_path / "o.csv", tmp_path / "s.json"
    pd.DataFrame(firms).to_csv(src, index=False)
    code, _, err = run(capsys, "eligibility", src, "-o", out, "--policy", "2022", "--summary", summ)
    assert code == 0, err
    notes = json.loads(summ.read_text(encoding="utf-8"))["notes"]
    (note,) = [n for n in notes if "award year" in n]
    assert note.startswith("1 row gives an award year after the application year 2022 (row 2)")
    assert "获奖年份晚于申请年度 2022" in note_text(note, "zh")
    assert read(out)["flags"].fillna("").str.contains("2025").tolist() == [True, False]
    code, _, err = run(capsys, "eligibility", src, "-o", out, "--policy", "2022", "--year", "2026")
    assert "award year" not in err


def test_strict_exits_1_when_a_row_was_rejected_and_writes_everything(capsys, tmp_path):
    # as dmi score --strict: the outputs are written all the same, the exit code tells
    bad = write_csv(tmp_path / "bad.csv", [A1, {**A2, "debt_ratio": 180}])
    good = write_csv(tmp_path / "good.csv", FIRMS)
    out, rej = tmp_path / "out.csv", tmp_path / "rej.csv"
    assert run(capsys, "eligibility", bad, "-o", out, "-q")[0] == 0
    out.unlink()
    code, stdout, _ = run(capsys, "eligibility", bad, "-o", out, "--rejects", rej, "--strict")
    assert code == 1
    assert len(read(out)) == 1 and list(read(rej)["respondent_id"]) == ["A2"]
    assert stdout.splitlines()[-1] == "read 2 rows: 1 evaluated, 1 rejected (1 problem)"
    assert run(capsys, "eligibility", good, "-o", out, "--strict", "-q")[0] == 0


@pytest.mark.parametrize("action", ["template", "codebook"])
def test_template_and_codebook_refuse_the_options_of_an_evaluation(capsys, tmp_path, action):
    out = tmp_path / "t.csv"
    given = ["--policy", "2022", "--lang", "en", "--rejects", tmp_path / "r.csv"]
    code, stdout, err = run(capsys, "eligibility", action, "-o", out, *given)
    assert code == 2 and stdout == ""
    assert err == (
        f"dmi: error: {action}: --policy, --lang and --rejects apply to evaluating a file of "
        "firms, not to writing the " + action + "; leave them out\n"
    )
    assert not out.exists() and not (tmp_path / "r.csv").exists()
    for option in (
        ["--summary", "s.json"],
        ["--cohort", "c.csv"],
        ["--candidates", "k.csv"],
        ["--year", "2025"],
        ["--max-gaps", "all"],
        ["--map", "m.csv"],
        ["--id-column", "id"],
        ["--duplicates", "keep-first"],
        ["--chunk-size", "10"],
        ["--encoding", "gbk"],
        ["--sheet", "S"],
        ["--no-survey"],
        ["--strict"],
    ):
        code, _, err = run(capsys, "eligibility", action, "-o", out, *option)
        assert code == 2 and f"{action}: {option[0]} applies to evaluating" in err, option
    # -q is no evaluation's own: taken
    assert run(capsys, "eligibility", action, "-o", out, "-q")[0] == 0 and out.exists()


TABLES = ".csv, .xlsx or .parquet"


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("-o", f"a file name ending {TABLES}"),
        ("--rejects", f"a file name ending {TABLES}"),
        ("--cohort", f"a file name ending {TABLES}"),
        ("--candidates", f"a file name ending {TABLES}"),
        ("--summary", "a file name"),  # written as JSON whatever its name
    ],
)
@pytest.mark.parametrize("folder", ["adir", "folder.csv"])
def test_an_output_that_is_a_folder_is_named_before_anything_is_read(
    capsys, tmp_path, option, expected, folder
):
    (tmp_path / folder).mkdir()
    src = write_csv(tmp_path / "firms.csv", FIRMS)
    given = {"-o": tmp_path / "out.csv", option: tmp_path / folder}
    argv = [a for pair in given.items() for a in pair]
    code, _, err = run(capsys, "eligibility", src, *argv)
    assert code == 2
    assert err == f"dmi: error: {tmp_path / folder} is a folder; expected {expected}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["firms.csv", folder])
    # before the input is read: a missing input is not what is said
    code, _, err = run(capsys, "eligibility", tmp_path / "nope.csv", *argv)
    assert code == 2 and "is a folder" in err


@pytest.mark.parametrize("option", ["--cohort", "--candidates"])
def test_an_output_of_an_unknown_type_is_refused_before_the_run(capsys, tmp_path, option):
    src = write_csv(tmp_path / "firms.csv", FIRMS)
    code, _, err = run(
        capsys, "eligibility", src, "-o", tmp_path / "o.csv", option, tmp_path / "c.txt"
    )
    assert code == 2
    assert err == f"dmi: error: {tmp_path / 'c.txt'}: unknown output type .txt; expected {TABLES}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["firms.csv"]


def test_the_codebook_lists_every_spelling_the_reader_takes(capsys, tmp_path):
    from dmi.eligibility.facts import parse_cell

    assert run(capsys, "eligibility", "codebook", "-o", tmp_path / "c.csv")[0] == 0
    book = read(tmp_path / "c.csv").fillna("")
    values = book[book["type"] == "value"]

    def spellings(column: str) -> dict[str, list[str]]:
        rows = values[values["column"] == column]
        return {
            r.value: [r.label_zh, r.label_en, *(a for a in r.aliases.split("|") if a)]
            for r in rows.itertuples()
        }

    # every spelling listed is read as its value, by the reader itself
    for column in ("high_tech_title", "no_incident", "digital_level", "award"):
        fact = el.FACTS[column]
        for value, words in spellings(column).items():
            wanted = float(value) if fact.type == "number" else parse_cell(fact, value)
            for word in filter(None, words):
                assert parse_cell(fact, word) == wanted, (column, value, word)
    plain = spellings("high_tech_title")
    for word in ("Y", "1", "TRUE", "T", "有", "√"):
        assert word.casefold() in map(str.casefold, plain["yes"]), word
    for word in ("N", "0", "FALSE", "F", "无", "没有", "×"):
        assert word.casefold() in map(str.casefold, plain["no"]), word
    # a fact said in the negative refuses 有/无 (was there one?): not listed
    negative = spellings("no_incident")
    assert "有" not in negative["yes"] and "无" not in negative["no"] and "1" in negative["yes"]
    level = spellings("digital_level")
    assert "三级" in level["3"] and "3级" in level["3"] and "未达一级" in level["0"]


def test_the_codebook_says_the_computed_level_is_read_by_its_code_only(capsys, tmp_path):
    # digital_level_computed is dmi's (the survey's level on the row), not a template column:
    # a column of it is read by its code only, so that a person's column headed like it is
    # not taken for a level dmi computed (which outranks the stated digital_level)
    assert run(capsys, "eligibility", "codebook", "-o", tmp_path / "c.csv")[0] == 0
    book = read(tmp_path / "c.csv")
    row = book[(book["column"] == "digital_level_computed") & (book["type"] != "value")]
    note = row["note"].iloc[0]
    assert note.startswith("computed: ") and "by its code only" in note
    assert "digital_level" in note.replace("digital_level_computed", "")
    label = el.FACTS["digital_level_computed"].zh
    src = tmp_path / "in.csv"
    src.write_text(f"respondent_id,revenue_y1,{label}\nA,100,3\n", encoding="utf-8")
    summary = tmp_path / "s.json"
    code, _, _ = run(capsys, "eligibility", src, "-o", tmp_path / "o.csv", "--summary", summary)
    assert code == 0
    assert json.loads(summary.read_text("utf-8"))["unmatched_columns"] == [label]


@pytest.mark.parametrize("saved_as, found", [("utf-8", "utf-8"), ("gbk", "gb18030")])
def test_an_encoding_given_that_hides_every_fact_names_the_one_found(
    capsys, tmp_path, saved_as, found
):
    # the facts' Chinese names as headers, read as latin-1 (which reads any byte)
    frame = el.synthetic_firms(5, 1)
    frame = frame.rename(columns={fact.code: fact.label("zh") for fact in el.FACTS})
    path = tmp_path / "zh.csv"
    frame.to_csv(path, index=False, encoding=saved_as)
    code, _, err = run(
        capsys, "eligibility", path, "-o", tmp_path / "o.csv", "--encoding", "latin-1"
    )
    assert code == 2 and "no column is a fact" in err
    # every fact of the file but the ids and the level dmi computes (an output, never read)
    named = len(set(frame.columns) & {f.label("zh") for f in el.FACTS}) - 2
    assert (
        f"; read as {found} (the encoding found without --encoding), {named} of its headers name "
        "a fact: leave out --encoding latin-1"
    ) in err
    assert not (tmp_path / "o.csv").exists()
    # without --encoding it is read
    assert run(capsys, "eligibility", path, "-o", tmp_path / "o.csv", "-q")[0] == 0


@pytest.mark.parametrize(
    "options, recorded",
    [
        ([], {"max_gaps": 3, "survey": True, "id_column": None}),
        (["--max-gaps", "all", "--no-survey"], {"max_gaps": None, "survey": False}),
        (["--max-gaps", "0"], {"max_gaps": 0, "survey": True}),
    ],
)
def test_the_summary_records_the_options_that_change_the_outputs(
    capsys, tmp_path, options, recorded
):
    # --no-survey changes the digital levels (and so the statuses), --max-gaps the gaps: a run
    # could not be made again from its summary
    src, summ = tmp_path / "in.csv", tmp_path / "s.json"
    el.synthetic_firms(20, seed=2).to_csv(src, index=False)
    code, _, err = run(
        capsys, "eligibility", src, "-o", tmp_path / "o.csv", "--summary", summ, *options
    )
    assert code == 0, err
    facts = json.loads(summ.read_text(encoding="utf-8"))
    assert {k: facts[k] for k in recorded} == recorded


def test_headers_with_curly_quotes_are_the_facts_they_name(tmp_path, capsys):
    # 专精特新“小巨人” with a Chinese input method's quotes: the columns were ignored, so every
    # firm's 小巨人 title (and so its 复核) and its 创客中国 result were unknown
    src = tmp_path / "f.csv"
    src.write_text(
        "企业编号,是否持有专精特新“小巨人”称号,近三年“创客中国”中小企业创新创业大赛全国企业组成绩\n"
        "A1,是,全国500强\nA2,复核,无\n",
        encoding="utf-8",
    )
    summary = tmp_path / "s.json"
    code, _, err = run(capsys, "eligibility", src, "-o", tmp_path / "o.csv", "--summary", summary)
    assert code == 0, err
    mapping = json.loads(summary.read_text(encoding="utf-8"))["mapping"]
    assert set(mapping["matched"].values()) == {
        "respondent_id",
        "holds_little_giant",
        "makers_china",
    }
    out = pd.read_csv(tmp_path / "o.csv", encoding="utf-8-sig", dtype=str)
    assert out["little_giant_policy"].tolist() == ["2026", "2022"]  # A2's 复核: the 2022 rules


def test_a_run_says_which_rows_give_an_r_and_d_expense_above_revenue(tmp_path, capsys):
    # R&D typed in 元 beside revenue in 万元 (500,000 for 50万元): an R&D share of 12,500 %,
    # which met every R&D floor without a word
    from dmi.service.bulkview import note_text

    firms = [
        {**A1, "revenue_y1": 4000, "rd_y1": 500000},
        {**A1, "respondent_id": "A2", "revenue_y1": 4000, "rd_y1": 200},
        {**A1, "respondent_id": "A3", "revenue_y2": 100, "rd_y2": 100.5},  # the year before
    ]
    src, out, summ = tmp_path / "f.csv", tmp_path / "o.csv", tmp_path / "s.json"
    pd.DataFrame(firms).to_csv(src, index=False)
    for chunk in ("1", "100"):  # the rows are counted chunk by chunk and added up
        code, _, err = run(
            capsys, "eligibility", src, "-o", out, "--summary", summ, "--chunk-size", chunk
        )
        assert code == 0, err
        notes = json.loads(summ.read_text(encoding="utf-8"))["notes"]
        (note,) = [n for n in notes if "R&D expense above" in n]
        assert note.startswith("2 rows give an R&D expense above the year's revenue (rows 2, 4)")
        assert f"note: {note}" in err
        assert "研发费用高于当年营业收入（第 2, 4 行）" in note_text(note, "zh")
        assert "(row numbers: 2, 4)" in note_text(note, "en")
    assert read(out)["respondent_id"].tolist() == ["A1", "A2", "A3"]  # evaluated as given


def test_a_lone_survey_item_column_is_named_once_where_it_says_why(tmp_path, capsys):
    # "ignored columns (not a fact or a survey item): network" and then "columns named like
    # items of the MIIT survey, too few ...: network": one column named twice, first wrongly
    src = tmp_path / "f.csv"
    pd.DataFrame([{**A1, "network": 3, "helper": "x"}]).to_csv(src, index=False)
    code, _, err = run(capsys, "eligibility", src, "-o", tmp_path / "o.csv")
    assert code == 0, err
    assert err.count("network") == 1, err
    assert "too few to be its answers" in err
    assert "ignored columns (not a fact or a survey item): helper" in err


def test_headers_written_other_common_ways_name_their_facts_and_units(tmp_path, capsys):
    # a unit after a slash or a bare % (资产负债率%, 上年营业收入/万元), a question (是否...) and a
    # count (...数量) were ignored, those facts unknown for every firm; 前年营业收入／元 must be
    # read in 元, not in 万元
    headers = {
        "debt_ratio": "资产负债率%",
        "revenue_y1": "上年营业收入/万元",
        "revenue_y2": "前年营业收入／元",
        "ip_class1": "Ⅰ类知识产权数量",
        "sme": "是否中小企业",
    }
    (given_out, summary, _), (plain_out, _, _) = _in_units_and_plain(
        tmp_path, capsys, headers, {"revenue_y2": "10000"}
    )
    matched = summary["mapping"]["matched"]
    assert {code: unicodedata.normalize("NFKC", h) for code, h in headers.items()} == {
        code: h for h, code in matched.items() if code in headers
    }
    assert summary["mapping"]["units"] == {"revenue_y2": "元"}
    pd.testing.assert_frame_equal(given_out, plain_out)


def test_a_header_like_a_fact_with_a_unit_it_cannot_have_is_left_out_not_refused(tmp_path, capsys):
    # 研发人员% (a share) is no count of R&D staff, 是否科技奖励 no award level: the first
    # refused the whole file, the second had every row answered 是 rejected
    src = tmp_path / "f.csv"
    pd.DataFrame([{**A1, "研发人员%": 12.5, "是否科技奖励": "是", "是否研发机构": "否"}]).to_csv(
        src, index=False
    )
    summary = tmp_path / "s.json"
    code, _, err = run(capsys, "eligibility", src, "-o", tmp_path / "o.csv", "--summary", summary)
    assert code == 0, err
    found = json.loads(summary.read_text(encoding="utf-8"))
    assert found["evaluated"] == 1
    assert set(found["mapping"]["unmatched"]) == {"研发人员%", "是否科技奖励", "是否研发机构"}


def test_the_rules_codebook_of_a_policy_and_year(capsys, tmp_path):
    code, out, err = run(capsys, "eligibility", "rules", "-o", tmp_path / "r.csv")
    assert code == 0 and err == ""
    book = read(tmp_path / "r.csv")
    assert out == f"wrote {tmp_path / 'r.csv'}: {len(book)} condition and route columns described\n"
    # the columns of the output the same command writes under the same rules
    assert (
        list(book["column"]) == [c for c in el.output_columns("2026") if c in set(book["column"])]
        and len(book) == len(el.output_columns("2026")) - 13
    )
    assert (
        run(capsys, "eligibility", "rules", "-o", tmp_path / "r.xlsx", "--policy", "2022")[0] == 0
    )
    old = read(tmp_path / "r.xlsx")
    assert set(old["policies"]) == {"2022"} and "sr22_rd" in set(old["column"])
    code, _, err = run(capsys, "eligibility", "rules", "-o", tmp_path / "y.csv", "--year", "2027")
    assert code == 0 and "lg22_rd" not in set(read(tmp_path / "y.csv")["column"])
    # a year the rules do not apply to, a version that is none: one line, exit 2
    code, _, err = run(capsys, "eligibility", "rules", "-o", tmp_path / "e.csv", "--year", "2020")
    assert code == 2 and err.startswith("dmi: error: policy 2026 applies from 2026-04-01")
    code, _, err = run(capsys, "eligibility", "rules", "-o", tmp_path / "e.csv", "--lang", "en")
    assert code == 2 and err == (
        "dmi: error: rules: --lang applies to evaluating a file of firms, not to writing the "
        "rules; leave it out\n"
    )
    assert not (tmp_path / "e.csv").exists()


def test_a_survey_file_s_employees_are_the_firm_s_staff(capsys, tmp_path):
    # dmi's own layout of the survey with facts beside it: region and sector were read as the
    # firm's province and sector, its employees (从业人员数) not as its staff, which the survey
    # tools' exports feed from the same question
    path = tmp_path / "firms.csv"
    path.write_text(
        "respondent_id,region,sector,employees,rd_staff\nA1,32,C34,120,30\nA2,44,C35,20,30\n",
        encoding="utf-8",
    )
    summary, rejects = tmp_path / "s.json", tmp_path / "r.csv"
    argv = ["eligibility", path, "-o", tmp_path / "o.csv", "--summary", summary]
    code, _, _ = run(capsys, *argv, "--rejects", rejects)
    assert code == 0
    matched = json.loads(summary.read_text("utf-8"))["mapping"]["matched"]
    assert matched["employees"] == "staff" and matched["region"] == "province"
    # 30 R&D staff of 20 employees: refused as more R&D staff than staff
    refused = read(rejects)
    assert list(refused["respondent_id"]) == ["A2"] and set(refused["column"]) >= {"rd_staff"}


def test_the_run_line_says_one_of_a_count_as_one():
    # "1 rows", "1 problems", "1 digital levels computed …, 1 disagree"
    from dmi.bulk.eligibility import EligibilitySummary

    one = EligibilitySummary(
        input="in.csv", output="out.csv", policy="2026", year=2026, lang="en", read=1,
        evaluated=0, rejected=1, problems=1, digital_level={"computed": 1, "disagrees": 1},
        survey_imputed={"q1": 1},
    )  # fmt: skip
    assert one.line() == (
        "read 1 row: 0 evaluated, 1 rejected (1 problem); 1 digital level computed from the "
        "survey, 1 disagrees with the level given; 1 missing survey answer scored as lowest "
        "(instrument policy)"
    )
    two = EligibilitySummary(
        input="in.csv", output="out.csv", policy="2026", year=2026, lang="en", read=2,
        evaluated=0, rejected=2, problems=2, digital_level={"computed": 2, "disagrees": 0},
    )  # fmt: skip
    assert two.line() == (
        "read 2 rows: 0 evaluated, 2 rejected (2 problems); 2 digital levels computed from the "
        "survey, 0 disagree with the level given"
    )


def test_the_bulk_page_words_a_headed_reason_as_the_bare_one():
    # the rejects file's reasons start with the file's header; the page names the header in
    # its column cell and words the reason in the page's language, as before
    from dmi.service.ladderbulk import named_rejects, reasons_table

    bare = pd.DataFrame(
        {
            "row": [2, 3],
            "respondent_id": ["A", "B"],
            "column": ["debt_ratio", "revenue_y1"],
            "value": ["180", "1200万元"],
            "reason": [
                "180 is above the maximum 100 %",
                "expected a number alone, without the unit after it (万元)",
            ],
        }
    )
    headed = bare.assign(
        reason=[f"{h}: {r}" for h, r in zip(["资产负债率（%）", "上年营业收入"], bare["reason"])]
    )
    # the headers as the run read them (folded: the page's file_columns)
    read = {"debt_ratio": "资产负债率(%)", "revenue_y1": "上年营业收入"}
    for lang in ("zh", "en"):
        assert reasons_table(headed, lang, read).equals(reasons_table(bare, lang, read))
        assert named_rejects(headed, lang, read).equals(named_rejects(bare, lang, read))
    assert "maximum" not in named_rejects(headed, "zh", read).iloc[0, -1]


def test_a_header_with_a_colon_or_a_line_break_leaves_the_reasons_grouped_and_worded(
    tmp_path, capsys
):
    # a header holding ": " cut the page's wording in the header ("万元): -1 小于最小值"); a
    # header broken over two lines (Alt+Enter in Excel) made the summary count each value apart
    from dmi.service.ladderbulk import named_rejects, reasons_table

    headers = {"rd_y1": "Q5: 上年研发费用 (unit: 万元)", "debt_ratio": "上年末资产负债率\n（%）"}
    firms = [{**A1, "respondent_id": f"F{k}", "debt_ratio": 180 + k} for k in range(3)]
    firms[0]["rd_y1"] = -1
    src = _with_headers(tmp_path / "f.csv", firms, headers, {})
    rejects, summary = tmp_path / "rej.csv", tmp_path / "s.json"
    code, shown, err = run(
        capsys, "eligibility", src, "-o", tmp_path / "o.csv", "--rejects", rejects,
        "--summary", summary,
    )  # fmt: skip
    assert code == 0, err
    found = read(rejects)
    assert "上年末资产负债率 （%）: 180 is above the maximum 100 %" in found["reason"].tolist()
    by_reason = json.loads(summary.read_text("utf-8"))["rejected_by_reason"]
    assert by_reason["上年末资产负债率 （%）: debt_ratio is above the maximum 100 %"] == 3
    assert shown.count("debt_ratio is above the maximum 100 %") == 1
    matched = json.loads(summary.read_text("utf-8"))["mapping"]["matched"]
    columns = {code: header for header, code in matched.items()}  # the page's file_columns
    bare = found.assign(reason=[r.rsplit(": ", 1)[1] for r in found["reason"]])
    assert "-1 is below the minimum 0 万元" in bare["reason"].tolist()
    for lang in ("zh", "en"):
        assert named_rejects(found, lang, columns).equals(named_rejects(bare, lang, columns))
        assert reasons_table(found, lang, columns).equals(reasons_table(bare, lang, columns))


def test_the_xlsform_command_writes_the_facts_form(tmp_path, capsys):
    import openpyxl

    code, out, err = run(capsys, "eligibility", "xlsform", "-o", tmp_path / "f.xlsx")
    assert code == 0, err
    book = openpyxl.load_workbook(tmp_path / "f.xlsx")
    assert book.sheetnames == ["survey", "choices", "settings"]
    rows = list(book["survey"].iter_rows(min_row=2, values_only=True))
    names = [row[1] for row in rows]
    assert "network" in names and "revenue_y1" in names  # the survey's, then the facts'
    asked = [r for r in rows if r[0] not in ("begin_group", "end_group")]
    assert f"wrote {tmp_path / 'f.xlsx'}: {len(asked)} questions" in out
    code, out, err = run(capsys, "eligibility", "xlsform", "-o", tmp_path / "g.xlsx", "--no-survey")
    assert code == 0, err
    names = [
        r[1]
        for r in openpyxl.load_workbook(tmp_path / "g.xlsx")["survey"].iter_rows(
            min_row=2, values_only=True
        )
    ]
    assert "network" not in names and {"province", "sector", "staff"} <= set(names)
    code, _, err = run(capsys, "eligibility", "xlsform", "-o", tmp_path / "f.csv")
    assert code == 2 and "an XLSForm is an .xlsx workbook" in err
    code, _, err = run(capsys, "eligibility", "xlsform", "-o", tmp_path / "h.xlsx", "--lang", "en")
    assert code == 2 and "xlsform: --lang applies to evaluating" in err
