"""The analysis report and the research commands speak the language asked for: on data that
trigger every flag, every note and every "not computable" reason, the zh report holds no English
sentence and each flag's Chinese text; the en report holds the English ones."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

from dmi.analysis import analyse
from dmi.analysis.method import method_from_dict
from dmi.analysis.text import Message, join, localise, msg
from dmi.cli.main import main
from dmi.instruments.synth import synthesise
from dmi.locales import text

pytest.importorskip("SALib")

N = 60


def _answers(miit):
    """Answers that trip every rule of the report."""
    rng = np.random.default_rng(7)
    frame = synthesise(miit, N, 11)
    choice = np.array(["A", "B", "C"])
    # performance: cost_ratio runs against pass_rate (a negative correlation, a low alpha),
    # energy_intensity is noise (a weak item, and green a weak indicator)
    pick = rng.integers(0, 3, N)
    frame["pass_rate"] = choice[pick]
    frame["cost_ratio"] = choice[2 - pick]
    frame["revenue_per_employee"] = choice[rng.integers(0, 3, N)]
    frame["energy_intensity"] = choice[rng.integers(0, 3, N)]
    # management: nobody answers talent (a constant item: KMO and Bartlett not computable,
    # coverage 0, nothing to impute); strategy is blank for a whole sector (imputed from the
    # whole column, said)
    frame["talent"] = ""
    sector = frame["sector"].iloc[0]
    frame.loc[frame["sector"] == sector, "strategy"] = ""
    # data_acquisition: one item nobody answers: a constant indicator (not computable, no PCA)
    frame["data_collection"] = ""
    # supply_chain: almost everyone at 0, two companies at the top: an outlier column that
    # winsorising cannot mend (it would flatten it), so it is log-transformed
    for item in ("sc_procurement", "sc_warehousing"):
        frame[item] = 0.0
        frame.loc[:1, item] = 3.0
    # decision: 0 or 1, one company at 3: winsorised
    for item in ("sc_finance", "sc_hr", "sc_collaboration", "sc_decision_support"):
        frame[item] = rng.integers(0, 2, N).astype(float)
        frame.loc[5, item] = 3.0
    return frame


METHOD = {
    "treatment": {
        "outliers": "winsorise-then-log",
        "imputation": "group-mean",
        "group_by": "sector",
    },
    "comparison": {"schemes": ["instrument", "equal", "entropy", "critic", "pca", "ahp", "bod"]},
    "uncertainty": {
        "runs": 16,
        "resamples": 10,
        "normalisations": ["goalposts", "zscore"],
        "weightings": ["instrument", "equal", "pca", "ahp", "bod"],
        "aggregations": ["arithmetic", "geometric"],
    },
}


@pytest.fixture(scope="module")
def result(miit):
    return analyse(_answers(miit), method=method_from_dict(METHOD, "method.yaml"))


@pytest.fixture(scope="module")
def broken(miit):
    """The nominal method itself cannot run (PCA on a constant indicator): parts not computed."""
    method = dict(METHOD, nominal={"weighting": "pca"})
    return analyse(_answers(miit), method=method_from_dict(method, "method.yaml"))


def _visible_text(page: str) -> str:
    """What a reader sees, without the method YAML and the rerun command (code, not prose)."""
    page = re.sub(r"<pre>.*?</pre>", " ", page, flags=re.S)
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "\n", page))


def _code_names(result) -> set[str]:
    """Names the report may show as they are: codes of nodes, methods and files."""
    from dmi.analysis.uncertainty import DEFAULT_NORMALISATIONS
    from dmi.scoring.aggregate import AGGREGATIONS
    from dmi.scoring.model import WEIGHTINGS

    instrument = result.population.instrument
    names = {i.code for i in instrument.items} | {i.code for i in instrument.indicators}
    names |= {d.code for d in instrument.dimensions}
    names |= set(WEIGHTINGS) | set(AGGREGATIONS) | set(DEFAULT_NORMALISATIONS) | {"target"}
    names |= {"dmi", "sha256", "KMO", "Bartlett", "Spearman", "Kendall", "Sobol", "SALib"}
    names |= {"Saltelli", "Feldt", "Cronbach", "JRC", "COINr", "AHP", "Paruolo", "Saisana"}
    names |= {"alpha", "kmo", "bartlett", "mean", "median", "group-mean", "S1", "ST", "miit"}
    names |= {"manufacturing", "SYN", "csv", "json", "sector", "varimax"}
    return {n.lower() for n in names}


def _english_runs(page: str, allowed: set[str]) -> list[str]:
    """Runs of 3 or more English words (code names and numbers are not words)."""
    runs = []
    for line in _visible_text(page).splitlines():
        run: list[str] = []
        # a run is broken by anything that is not a space or light punctuation between words
        for token in re.split(r"([A-Za-z][A-Za-z'-]*)", line):
            if re.fullmatch(r"[A-Za-z][A-Za-z'-]*", token):
                if token.lower() in allowed or len(token) == 1:
                    if len(run) >= 3:
                        runs.append(" ".join(run))
                    run = []
                else:
                    run.append(token)
            elif not re.fullmatch(r"[ ,;:()'.-]*", token):
                if len(run) >= 3:
                    runs.append(" ".join(run))
                run = []
        if len(run) >= 3:
            runs.append(" ".join(run))
    return runs


def test_the_data_trip_every_flag_and_note(result, broken):
    flags = result.reliability.flags
    assert set(flags["kind"]) == {
        "alpha_low",
        "negative_correlation",
        "weak_item",
        "weak_indicator",
        "not_computable",
    }
    log = result.treatment.log.set_index("column")
    assert log.loc["supply_chain", "action"] == "log"
    assert log.loc["decision", "action"] == "winsorised"
    notes = set(result.treatment.imputation["note"])
    assert {
        text("analysis.note_not_imputed", "en"),
        text("analysis.note_group_fallback", "en"),
    } <= notes
    assert {"pca", "ahp"} <= set(result.comparison.not_run)
    assert {"weighting pca", "weighting ahp"} <= set(result.uncertainty.not_run)
    assert result.uncertainty.rules  # both exclusion rules ran
    assert set(broken.problems) == {"nominal", "comparison", "uncertainty"}


def test_the_zh_report_has_no_english_sentence_and_every_flag_in_chinese(result, broken):
    allowed = _code_names(result)
    for analysis in (result, broken):
        page = analysis.to_html("zh")
        assert _english_runs(page, allowed) == []
        # the English report of the same analysis is caught by the same scan
        assert len(_english_runs(analysis.to_html("en"), allowed)) > 20
    page = html.unescape(result.to_html("zh"))
    for flag in result.reliability.flags.itertuples():
        assert isinstance(flag.message, Message)
        assert flag.message.render("zh") in page
        assert text(f"analysis.kind_{flag.kind}", "zh") in page
    for note in result.treatment.log["note"]:
        assert localise(note, "zh") in page
    for reason in result.comparison.not_run.values():
        assert localise(reason, "zh") in page
    broken_page = html.unescape(broken.to_html("zh"))
    for part, reason in broken.problems.items():
        assert f"{text(f'analysis.part_{part}', 'zh')}: {localise(reason, 'zh')}" in broken_page


def test_the_en_report_and_the_api_keep_the_english_text(result):
    page = html.unescape(result.to_html("en"))
    for flag in result.reliability.flags.itertuples():
        assert str(flag.message) in page  # a message is its English text
    # the JSON (and the API's tables) hold the English text
    flags = {row["message"] for row in result.to_json()["tables"]["reliability_flags"]}
    assert flags == {str(m) for m in result.reliability.flags["message"]}
    assert any("correlate negatively" in m for m in flags)


def test_a_message_is_its_english_text_and_renders_nested_values():
    inner = msg("note_needs_3", n=2)
    outer = msg("flag_indicator_not_computable", indicator="green", reason=inner)
    assert outer == "indicator green: needs at least 3 respondents, got 2"
    assert outer.render("zh") == "指标 green：至少需要 3 家企业，实际 2 家"
    both = join([msg("note_log"), msg("note_still_outlier_log")])
    assert both == "log-transformed; still an outlier after the log transform"
    assert both.render("zh") == "已作对数变换；对数变换后仍为异常值"
    assert join([]) == "" and join(["", inner]) is inner
    import copy
    import pickle

    assert pickle.loads(pickle.dumps(outer)).render("zh") == outer.render("zh")
    assert copy.deepcopy(outer).key == "flag_indicator_not_computable"


def test_the_commands_print_in_the_language_asked(miit, tmp_path, capsys):
    answers = tmp_path / "answers.csv"
    _answers(miit).to_csv(answers, index=False)
    method = tmp_path / "method.yaml"
    import yaml

    method.write_text(yaml.safe_dump(dict(METHOD, nominal={"weighting": "pca"})), "utf-8")
    allowed = _code_names(analyse(_answers(miit), runs=8))
    for lang in ("zh", "en"):
        out = tmp_path / f"{lang}.html"
        code = main(
            ["analyse", str(answers), "-o", str(out), "--method", str(method), "--lang", lang]
        )
        assert code == 0
        printed = capsys.readouterr()
        lines = (printed.out + printed.err).replace(str(tmp_path), "").replace(str(answers), "")
        if lang == "zh":
            assert "已分析" in lines and "未能计算" in lines
            assert _english_runs(f"<p>{html.escape(lines)}</p>", allowed) == []
        else:
            assert "analysed 60 of 60 rows" in lines and "not computed" in lines
    code = main(["compare", str(answers), "--schemes", "instrument,equal,pca", "--lang", "zh"])
    assert code == 0
    out = capsys.readouterr().out
    assert "未运行" in out and "与 instrument/goalposts/arithmetic 比较" in out
    assert _english_runs(f"<p>{html.escape(out)}</p>", allowed) == []
