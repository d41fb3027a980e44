"""`dmi analyse` and `dmi compare`, and `dmi.analysis.analyse`: one self-contained report that
records what reruns it, the same bytes for the same seed, bad input said in one line."""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pytest

from dmi.analysis import analyse
from dmi.cli.main import main
from dmi.instruments.synth import synthesise

pytest.importorskip("SALib")

METHOD = """\
uncertainty:
  runs: 16
  resamples: 10
  weightings: [instrument, equal, entropy]
  aggregations: [arithmetic, geometric]
comparison:
  schemes: [instrument, equal, critic, ahp, bod]
"""


@pytest.fixture()
def files(miit, tmp_path):
    answers = tmp_path / "answers.csv"
    synthesise(miit, 80, 12).to_csv(answers, index=False)
    method = tmp_path / "method.yaml"
    method.write_text(METHOD, encoding="utf-8")
    return answers, method, tmp_path


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_analyse_writes_one_self_contained_report_with_its_provenance(miit, files, capsys):
    answers, method, tmp = files
    report, data = tmp / "report.html", tmp / "report.json"
    code, out, err = _run(
        capsys,
        "analyse",
        answers,
        "-o",
        report,
        "--method",
        method,
        "--lang",
        "en",
        "--json",
        data,
        "--seed",
        4,
    )
    assert code == 0, err
    assert "analysed 80 of 80 rows" in out and "wrote" in out
    assert "note: scheme ahp not run: AHP needs a pairwise comparison" in err
    html = report.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") >= 4
    # readable offline: no script, no external resource (the SVG namespace is not fetched)
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert miit.hash in html and "0.1.0" in html
    sha = hashlib.sha256(method.read_bytes()).hexdigest()
    assert sha in html
    payload = json.loads(data.read_text(encoding="utf-8"))
    p = payload["provenance"]
    assert p["instrument"] == {
        "id": miit.id,
        "version": miit.version,
        "hash": miit.hash,
        "source": "miit-2024-manufacturing",
    }
    assert p["method"] == {"path": str(method), "sha256": sha}
    assert p["seed"] == 4 and p["runs"] == 16 and p["dmi_version"] == "0.1.0"
    assert p["input"]["rows_read"] == 80 and p["reference"]["kind"] == "input"
    assert "--seed 4 --runs 16" in p["command"] and "--method" in p["command"]
    assert payload["method"]["uncertainty"]["seed"] == 4
    tables = payload["tables"]
    for name in (
        "reliability",
        "effective_weights",
        "scheme_summary",
        "sensitivity",
        "uncertainty_companies",
        "coverage_indicators",
        "outliers",
    ):
        assert tables[name], name
    assert len(tables["uncertainty_companies"]) == 80


def test_the_same_seed_gives_the_same_bytes_and_zh_is_chinese(files, capsys):
    answers, method, tmp = files
    outputs = []
    for name in ("a", "b"):
        code, _, err = _run(
            capsys,
            "analyse",
            answers,
            "-o",
            tmp / f"{name}.html",
            "--method",
            method,
            "--json",
            tmp / f"{name}.json",
            "--runs",
            10,
        )
        assert code == 0, err
        outputs.append(((tmp / f"{name}.html").read_bytes(), (tmp / f"{name}.json").read_bytes()))
    assert outputs[0] == outputs[1]
    html = outputs[0][0].decode("utf-8")
    assert '<html lang="zh-CN">' in html and "研究分析报告" in html


def test_a_broken_method_file_is_one_line_naming_the_field(files, capsys):
    answers, _, tmp = files
    broken = tmp / "broken.yaml"
    broken.write_text("uncertainty:\n  runs: many\n", encoding="utf-8")
    code, _, err = _run(capsys, "analyse", answers, "-o", tmp / "r.html", "--method", broken)
    assert code == 2
    assert err.startswith("dmi: error: ") and err.count("\n") == 1
    assert f"{broken}, field uncertainty.runs" in err
    code, _, err = _run(capsys, "analyse", answers, "-o", tmp / "r.pdf")
    assert code == 2 and "HTML" in err and err.count("\n") == 1
    code, _, err = _run(capsys, "analyse", answers, "-o", tmp / "no" / "r.html")
    assert code == 2 and "no such folder" in err
    assert sorted(p.name for p in tmp.iterdir()) == ["answers.csv", "broken.yaml", "method.yaml"]


def test_a_broken_map_file_is_one_line_naming_it(files, capsys):
    # it was an internal error ("a bug in dmi"): the map is read by the one reader of --map
    answers, _, tmp = files
    broken = tmp / "map.yaml"
    broken.write_text("a: [\n", encoding="utf-8")
    code, _, err = _run(capsys, "analyse", answers, "-o", tmp / "r.html", "--map", broken)
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"dmi: error: {broken}: not a column mapping file (")


def test_bad_input_is_reported_as_not_computable_with_the_reason(miit, tmp_path):
    frame = synthesise(miit, 12, 3)
    frame["talent"] = ""  # an all-missing column: scored as lowest, but never answered
    result = analyse(frame, runs=8)
    flags = result.reliability.flags
    management = flags[flags["dimension"] == "management"]
    assert management["message"].str.contains("column talent has no values").any()
    coverage = result.coverage.items.set_index("item")
    assert coverage.loc["talent", "share"] == 0 and coverage.loc["talent", "below"]
    # 12 companies are too few for KMO over the 16 scenario items: said, not a NaN
    operations = result.reliability.table().set_index("dimension").loc["operations"]
    assert np.isnan(operations["kmo"]) and "more respondents" in operations["note"]
    with pytest.raises(Exception, match="at least 2"):
        analyse(frame.head(1), runs=8)


def test_data_treatment_needs_the_companies_as_their_own_reference(miit, tmp_path):
    from dmi.analysis import Method
    from dmi.errors import UsageError

    frame = synthesise(miit, 30, 3)
    method = Method.model_validate({"treatment": {"imputation": "mean"}, "reference": "shipped"})
    with pytest.raises(UsageError, match="own reference"):
        analyse(frame, method=method, runs=8)


def test_compare_prints_the_schemes_side_by_side(files, capsys, tmp_path):
    answers, _, tmp = files
    judgements = tmp / "ahp.yaml"
    judgements.write_text(
        "judgements:\n"
        "  - [foundation, operations, 2]\n  - [foundation, management, 3]\n"
        "  - [foundation, performance, 4]\n  - [operations, management, 3/2]\n"
        "  - [operations, performance, 2]\n  - [management, performance, 4/3]\n",
        encoding="utf-8",
    )
    companies = tmp / "companies.csv"
    code, out, err = _run(
        capsys,
        "compare",
        answers,
        "--level",
        "dimension",
        "--ahp",
        judgements,
        "--schemes",
        "instrument,equal,ahp,bod",
        "-o",
        companies,
    )
    assert code == 0, err
    assert "80 of 80 rows compared against instrument/goalposts/arithmetic" in out
    assert "indicative" in out
    assert re.search(r"^\s+ahp\s+\d\.\d{4}", out, re.M)
    assert "dmi_ahp" in companies.read_text(encoding="utf-8").splitlines()[0]
    code, out, _ = _run(capsys, "compare", answers, "--json", "--schemes", "instrument,ahp")
    payload = json.loads(out)
    assert "ahp" in payload["not_run"] and payload["rows_valid"] == 80


# -- the command that reruns an analysis -----------------------------------------------------------


def _rerun(capsys, first: dict) -> dict:
    """Run the command an analysis printed (its report and JSON written beside), return the
    JSON."""
    import shlex

    argv = shlex.split(first["provenance"]["command"])
    assert argv[:2] == ["dmi", "analyse"] and argv.count("REPORT.html") == 1
    argv = [("again.html" if a == "REPORT.html" else a) for a in argv[1:]]
    code, _, err = _run(capsys, *argv, "--json", "again.json")
    assert code == 0, err
    with open("again.json", encoding="utf-8") as file:
        return json.load(file)


def _case_tier_model_none(miit, tmp):
    synthesise(miit, 50, 21).to_csv("answers.csv", index=False)
    return ["answers.csv", "--tier-model", "none", "--runs", "8"]


def _case_map_and_encoding(miit, tmp):
    import pandas as pd

    answers = synthesise(miit, 40, 22).drop(columns=["company_name"], errors="ignore")
    answers["respondent_id"] = [f"Société {i}" for i in range(len(answers))]
    items = [item.code for item in miit.items]
    answers.rename(columns={c: f"Q {c}" for c in items}).to_csv(
        "latin.csv", index=False, encoding="latin-1"
    )
    pd.DataFrame({"column": [f"Q {c}" for c in items], "code": items}).to_csv(
        "map.csv", index=False
    )
    return ["latin.csv", "--map", "map.csv", "--encoding", "latin-1", "--runs", "8"]


def _case_sheet(miit, tmp):
    import pandas as pd

    with pd.ExcelWriter("two.xlsx") as writer:  # the first (active) sheet is not the one read
        synthesise(miit, 30, 98).to_excel(writer, sheet_name="Decoy", index=False)
        synthesise(miit, 40, 23).to_excel(writer, sheet_name="Answers", index=False)
    return ["two.xlsx", "--sheet", "Answers", "--runs", "8", "--seed", "3"]


def _case_method_folder(miit, tmp):
    """A method file in another folder naming its reference and judgements relative to itself;
    a tier model, a reference and an instrument given on the command line, relative to here."""
    import shutil

    from dmi.tiers import shipped_tier_model_path

    (tmp / "cfg").mkdir()
    (tmp / "models").mkdir()
    synthesise(miit, 40, 24).to_csv("answers.csv", index=False)
    synthesise(miit, 120, 25).to_csv(tmp / "cfg" / "ref.csv", index=False)
    shutil.copy(shipped_tier_model_path(miit), tmp / "models" / "tiers.json")
    (tmp / "cfg" / "judgements.yaml").write_text(
        "judgements:\n"
        "  - [foundation, operations, 2]\n  - [foundation, management, 3]\n"
        "  - [foundation, performance, 4]\n  - [operations, management, 3/2]\n"
        "  - [operations, performance, 2]\n  - [management, performance, 4/3]\n",
        encoding="utf-8",
    )
    (tmp / "cfg" / "m.yaml").write_text(
        "reference: ref.csv\nlevel: dimension\nahp: {file: judgements.yaml}\n"
        "comparison: {schemes: [instrument, equal, ahp]}\n"
        "uncertainty: {runs: 8, resamples: 10, weightings: [instrument, ahp]}\n",
        encoding="utf-8",
    )
    return ["answers.csv", "--method", "cfg/m.yaml", "--tier-model", "models/tiers.json"]


def _case_reference_on_the_command_line(miit, tmp):
    synthesise(miit, 40, 26).to_csv("answers.csv", index=False)
    synthesise(miit, 100, 27).to_csv("ref.csv", index=False)
    (tmp / "m.yaml").write_text(
        "nominal: {weighting: entropy, normalisation: minmax}\n"
        "uncertainty: {runs: 8, resamples: 10, weightings: [instrument, entropy]}\n",
        encoding="utf-8",
    )
    return [
        "answers.csv",
        "--method",
        "m.yaml",
        "--reference",
        "ref.csv",
        "--instrument",
        "miit-2024-manufacturing",
        "--seed",
        "5",
    ]


RERUN_CASES = {
    "tier model none": _case_tier_model_none,
    "map and encoding": _case_map_and_encoding,
    "sheet": _case_sheet,
    "method file in another folder": _case_method_folder,
    "reference on the command line": _case_reference_on_the_command_line,
}


@pytest.mark.parametrize("case", list(RERUN_CASES))
def test_the_printed_command_reruns_the_analysis(miit, tmp_path, monkeypatch, capsys, case):
    monkeypatch.chdir(tmp_path)
    argv = RERUN_CASES[case](miit, tmp_path)
    code, _, err = _run(capsys, "analyse", *argv, "-o", "first.html", "--json", "first.json")
    assert code == 0, err
    with open("first.json", encoding="utf-8") as file:
        first = json.load(file)
    again = _rerun(capsys, first)
    assert again["provenance"]["command"] == first["provenance"]["command"]
    assert again == first  # the same tables, provenance and method, value for value


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_recorded_command_writes_the_report_in_its_language(
    miit, tmp_path, monkeypatch, capsys, lang
):
    """The report's language is an option of the command each output records: rerun, the
    command gives the same report, byte for byte (not one in the default language)."""
    import shlex

    monkeypatch.chdir(tmp_path)
    synthesise(miit, 40, 28).to_csv("answers.csv", index=False)
    argv = ["analyse", "answers.csv", "--runs", "8", "--lang", lang]
    code, _, err = _run(capsys, *argv, "-o", "first.html", "--json", "first.json")
    assert code == 0, err
    with open("first.json", encoding="utf-8") as file:
        command = json.load(file)["provenance"]["command"]
    first = (tmp_path / "first.html").read_text(encoding="utf-8")
    assert f"--lang {lang}" in command
    assert f"<pre>{command}</pre>" in first  # the report shows the same command
    rerun = [("again.html" if a == "REPORT.html" else a) for a in shlex.split(command)[1:]]
    code, _, err = _run(capsys, *rerun)
    assert code == 0, err
    assert (tmp_path / "again.html").read_text(encoding="utf-8") == first


def test_sobol_indices_not_defined_or_unstable_are_said_in_each_output(tmp_path, capsys):
    import dmi

    eurostat = dmi.load_instrument("eurostat-dii-2023")
    answers = tmp_path / "dii.csv"
    synthesise(eurostat, 80, 5).to_csv(answers, index=False)
    for lang, said in (("en", "not defined"), ("zh", "无定义")):
        code, _, err = _run(
            capsys,
            "analyse",
            answers,
            "--instrument",
            "eurostat-dii-2023",
            "-o",
            tmp_path / f"{lang}.html",
            "--json",
            tmp_path / "dii.json",
            "--runs",
            "64",
            "--tier-model",
            "none",
            "--lang",
            lang,
        )
        assert code == 0, err
        assert said in err
        sobol = (tmp_path / f"{lang}.html").read_text(encoding="utf-8").split('id="uncertainty"')[1]
        assert said in sobol
    payload = json.loads((tmp_path / "dii.json").read_text(encoding="utf-8"))
    assert all(row["S1"] is None and row["ST"] is None for row in payload["tables"]["sensitivity"])
    assert "not defined" in payload["notes"]["sensitivity"][0]
    # a design of 12 runs: the indices are given, with the note that they are not stable
    code, _, err = _run(
        capsys,
        "analyse",
        _miit_answers(tmp_path),
        "-o",
        tmp_path / "small.html",
        "--runs",
        "1",
        "--lang",
        "en",
    )
    assert code == 0, err
    assert "note: the design is too small for stable Sobol' indices: 12 runs, N = 2" in err


def _miit_answers(tmp_path):
    import dmi

    path = tmp_path / "miit.csv"
    synthesise(dmi.load_instrument("miit-2024-manufacturing"), 60, 6).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    "setting,words",
    [
        # a grouped imputation without its group, or with a group that is no profile field
        ("treatment: {imputation: group-mean}", ["field treatment.group_by", "group-mean"]),
        (
            "treatment: {imputation: group-median, group_by: nosuch}",
            ["group_by", "'nosuch'", "sector, size_class, region"],
        ),
        ("bod_bounds: [0.5, 0.2]\nnominal: {weighting: bod}", ["field bod_bounds", "0.5, 0.2"]),
        # within [0, 1] but no weights of 4 dimensions can keep to them
        ("bod_bounds: [0.1, 0.2]\nnominal: {weighting: bod}", ["bod_bounds", "m = 4"]),
    ],
)
def test_a_method_setting_that_cannot_run_is_a_user_error(files, capsys, setting, words):
    # these were internal errors (exit 3, "a bug in dmi")
    answers, _, tmp = files
    method = tmp / "m.yaml"
    method.write_text(setting + "\n", encoding="utf-8")
    code, _, err = _run(capsys, "analyse", answers, "-o", tmp / "r.html", "--method", method)
    assert code == 2, err
    assert err.startswith("dmi: error: ") and err.count("\n") == 1
    assert "internal error" not in err
    for word in words:
        assert word in err
    assert not (tmp / "r.html").exists()


def test_bod_bounds_no_weights_meet_leave_only_bod_not_run(files, capsys):
    # the whole analysis stopped (exit 2) though bod was one scheme of five
    answers, method, tmp = files
    method.write_text(METHOD + "bod_bounds: [0.3, 1.0]\n", encoding="utf-8")
    code, out, err = _run(
        capsys, "analyse", answers, "-o", tmp / "r.html", "--method", method, "--lang", "en"
    )
    assert code == 0, err
    assert "note: scheme bod not run: " in err and "bod_bounds [0.3, 1]" in err
    assert (tmp / "r.html").exists() and "wrote" in out


@pytest.mark.parametrize(
    "schemes,words",
    [
        ("equal,bogus", ["'bogus'", "instrument, equal, entropy, critic, pca, ahp, bod"]),
        ("Equal", ["'Equal'"]),
    ],
)
def test_compare_with_an_unknown_scheme_names_it(files, capsys, schemes, words):
    answers, _, _ = files
    code, out, err = _run(capsys, "compare", answers, "--schemes", schemes)
    assert code == 2, err
    assert err.startswith("dmi: error: --schemes: ") and err.count("\n") == 1
    for word in words:
        assert word in err
    assert out == ""  # refused before anything is computed


def test_compare_of_fewer_than_two_companies_says_so(miit, tmp_path, capsys):
    one = tmp_path / "one.csv"
    synthesise(miit, 1, 4).to_csv(one, index=False)
    code, _, err = _run(capsys, "compare", one)
    assert code == 2, err
    assert "at least 2" in err and "internal error" not in err


def test_compare_says_an_undefined_correlation_with_its_reason(miit, tmp_path, capsys):
    # three companies all on their own BoD frontier: every BoD index is 100, ranks constant
    three = tmp_path / "three.csv"
    synthesise(miit, 3, 4).to_csv(three, index=False)
    code, out, err = _run(capsys, "compare", three, "--schemes", "instrument,equal,bod")
    assert code == 0, err
    assert "Warning" not in err and "nan" not in out
    row = re.search(r"^\s+bod\s+(\S+)\s+(\S+)\s", out, re.M)
    assert row and row.groups() == ("—", "—")
    assert "Spearman and Kendall are undefined: every company has the same index under bod" in out
    assert re.search(r"^\s+equal\s+\d\.\d{4}", out, re.M)  # a defined one is printed as before
    code, out, err = _run(capsys, "compare", three, "--schemes", "instrument,bod", "--json")
    assert code == 0 and "Warning" not in err
    bod = {r["scheme"]: r for r in json.loads(out)["summary"]}["bod"]
    assert bod["spearman"] is None and bod["kendall"] is None
    assert "constant ranks" in bod["notes"]
    code, out, _ = _run(capsys, "compare", three, "--schemes", "instrument,bod", "--lang", "zh")
    assert "相关系数无定义" in out
