"""The company report: the right numbers, both languages, escaping, HTML and PDF, the command."""

from __future__ import annotations

import json
import re
from datetime import date
from io import BytesIO

import pandas as pd
import pytest

import dmi
from dmi.cli import main
from dmi.locales import table, text
from dmi.report import PreviousResult, render_html, render_pdf
from dmi.results.assess import assess
from dmi.results.peers import PeerBenchmark
from dmi.tiers import load_shipped_tier_model

from .conftest import mixed_answers

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("reportlab")

EVIL = "<script>alert(1)</script>"
DAY = date(2025, 3, 1)


def _peer_scores() -> pd.DataFrame:
    """50 reference companies scoring 0, 2, ..., 98 on everything (hand-countable percentiles)."""
    values = [2.0 * i for i in range(50)]
    table = {"respondent_id": [f"P{i}" for i in range(50)], "dmi": values}
    for code in ("foundation", "operations", "management", "performance"):
        table[f"dim_{code}"] = values
    return pd.DataFrame(table)


@pytest.fixture(scope="module")
def official(miit):
    return dmi.IndexModel(miit).fit()


@pytest.fixture(scope="module")
def tiers(miit):
    return load_shipped_tier_model(miit)


@pytest.fixture(scope="module")
def peers():
    # one group (everyone): 21 of the 50 values (0 ... 40) are below 40.675 -> percentile 42
    return PeerBenchmark(levels=[()], min_group_size=30).fit(_peer_scores())


@pytest.fixture(scope="module")
def answers(miit):
    return {"respondent_id": "R-001", "company_name": "合成企业 A", **mixed_answers(miit)}


@pytest.fixture(scope="module")
def full(official, tiers, peers, answers):
    return assess(official, answers, tier_model=tiers, peers=peers)


@pytest.fixture(scope="module")
def bare(official, answers):
    return assess(official, answers)


@pytest.fixture(scope="module")
def expected(miit, official, tiers, answers):
    """The numbers as `dmi score` computes them, and the hand-worked ones of test_scoring."""
    row = official.score(pd.DataFrame([answers])).iloc[0]
    assert row["dmi"] == pytest.approx(40.675)
    tier = int(tiers.predict(row)[0])
    return {
        "dmi": f"{row['dmi']:.1f}",
        "dims": {
            "foundation": f"{15.55 / 50 * 100:.1f}",
            "management": f"{11.625 / 30 * 100:.1f}",
            "performance": f"{13.5 / 20 * 100:.1f}",
            "operations": f"{10 / 64 * 100:.1f}",
        },
        "tier": miit.tier(tier),
        "tier_number": tier,
    }


def _pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def _cells(page: str) -> list[str]:
    return [html_unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", page)]


def html_unescape(value: str) -> str:
    import html

    return html.unescape(value)


# -- HTML -------------------------------------------------------------------------------------


def test_html_has_the_numbers_in_chinese(miit, full, expected):
    page = render_html(
        full,
        instrument=miit,
        lang="zh",
        generated_at=DAY,
        reference_version="r7",
        company_name="合成企业 A",
    )
    assert page.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in page
    assert f'<div class="value">{expected["dmi"]}</div>' in page
    assert '<div class="value">二级</div>' in page
    assert full.level_explanation.zh in page and "40.7" in full.level_explanation.zh
    cells = _cells(page)
    # dimension table: name, weight, score, peer median, percentile
    i = cells.index("数字化基础")
    assert cells[i : i + 5] == ["数字化基础", "50.0%", expected["dims"]["foundation"], "49.0", "32"]
    i = cells.index("数字化管理")
    assert cells[i : i + 3] == ["数字化管理", "30.0%", expected["dims"]["management"]]
    i = cells.index("数字化成效")
    assert cells[i : i + 3] == ["数字化成效", "20.0%", expected["dims"]["performance"]]
    i = cells.index("数字化经营")
    assert cells[i : i + 3] == ["数字化经营", "0.0%", expected["dims"]["operations"]]
    # peers: size and percentile in words
    assert "50 家参考企业" in page and "约 42%" in page
    # tier: label, support package, explanation sentences
    tier = expected["tier"]
    assert tier.zh in page and tier.support.zh in page
    assert all(s in page for s in full.tier.zh[2:])
    # dates and versions
    assert "2025-03-01" in page and "r7" in page and miit.version in page and "合成企业 A" in page
    assert "R-001" in page


def test_html_per_item_points_and_improvements(miit, full, answers):
    page = render_html(full, instrument=miit, lang="zh", answers=answers, generated_at=DAY)
    cells = _cells(page)
    # dimension rows carry the points of their items: 15.55 of 50 (worked by hand)
    i = cells.index("数字化基础")
    i = cells.index("数字化基础", i + 1)  # the second: the per-item table
    assert cells[i : i + 5] == ["数字化基础", "", "15.55", "50", "15.55"]
    it = miit.item("it_coverage")
    i = cells.index(it.zh, cells.index("15.55"))  # in the per-item table, not the improvements
    assert cells[i + 2 : i + 5] == ["5", "10", "5.00"]
    assert cells[i + 1].startswith("C: ")
    top = full.improvements[0]
    assert top.question_zh in page and f"+{top.gain:g}" in page


def test_html_in_english(miit, full, expected):
    page = render_html(full, instrument=miit, lang="en", generated_at=DAY)
    assert '<html lang="en">' in page and "SME Digital Maturity Index report" in page
    assert f'<div class="value">{expected["dmi"]}</div>' in page
    assert "Level 2" in page and full.level_explanation.en in page
    assert "Digital foundation" in page and expected["tier"].en in page
    assert "higher than about 42%" in page and "50 reference companies" in page
    assert "二级" not in page  # no Chinese label leaks into the English report


def test_every_fixed_text_exists_in_both_languages():
    report = {key: texts for key, texts in table().items() if key.startswith("report.")}
    assert "report.title" in report and "report.peers_none" in report
    for key, texts in report.items():
        assert set(texts) == {"zh", "en"}, key
        assert all(t.strip() for t in texts.values()), key


def test_respondent_text_is_only_ever_escaped(miit, official, answers):
    evil = {**answers, "respondent_id": '"><img src=x onerror=alert(2)>', "company_name": EVIL}
    result = assess(official, evil)
    for lang in ("zh", "en"):
        page = render_html(
            result, instrument=miit, lang=lang, answers=evil, reference_version="<b>v</b>"
        )
        assert EVIL not in page and "<script" not in page.lower()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<img" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
        assert "<b>v</b>" not in page and "&lt;b&gt;v&lt;/b&gt;" in page
        # self-contained: no external resource, only the SVG namespace
        assert re.findall(r"https?://[^\s\"'<>]+", page) == ["http://www.w3.org/2000/svg"]
        assert not re.search(r"<(link|img|iframe|object|embed|script)\b|<[^>]*\b(src|href)=", page)
        assert "@import" not in page


def test_chart_is_inline_svg_against_the_peer_median(miit, full, bare, expected):
    page = render_html(full, instrument=miit, lang="en")
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert "Peer median" in svg and f">{expected['dims']['foundation']}<" in svg
    assert svg.count("<rect") == 2 + 2 * 4  # legend + company and median bar per dimension
    alone = render_html(bare, instrument=miit, lang="en")
    svg = alone[alone.index("<svg") : alone.index("</svg>")]
    assert "Peer median" not in svg and svg.count("<rect") == 1 + 4


def test_without_peers_or_tiers_the_report_says_why(miit, bare):
    page = render_html(bare, instrument=miit, lang="en")
    assert "No peer comparison is shown" in page and "Peer percentile" not in page
    assert "No support tier is shown" in page
    page = render_html(bare, instrument=miit, lang="zh")
    assert text("report.peers_none", "zh") in page and text("report.tier_none", "zh") in page


def test_previous_section_only_when_given(miit, full, expected):
    title = text("report.previous", "en")
    assert title not in render_html(full, instrument=miit, lang="en")
    before = PreviousResult(
        dmi=35.175,
        level=1,
        dimensions={"dim_foundation": 20.0, "management": 38.75},
        submitted_at=date(2024, 11, 2),
        tier=expected["tier_number"],
    )
    page = render_html(full, instrument=miit, lang="en", previous=before)
    assert title in page and "2024-11-02" in page
    cells = _cells(page)
    i = cells.index("Index")
    assert cells[i : i + 4] == ["Index", "35.2", expected["dmi"], "+5.5"]
    assert cells[cells.index("Level") : cells.index("Level") + 4] == [
        "Level",
        "Level 1",
        "Level 2",
        "+1",
    ]
    i = cells.index("Digital foundation", cells.index("Index"))
    assert cells[i : i + 4] == ["Digital foundation", "20.0", "31.1", "+11.1"]
    i = cells.index("Digital management", cells.index("Index"))
    assert cells[i : i + 4] == ["Digital management", "38.8", "38.8", "0.0"]
    i = cells.index("Digital performance", cells.index("Index"))
    assert cells[i : i + 4] == ["Digital performance", "—", "67.5", "—"]
    again = PreviousResult.from_assessment(full, "2024-11-02")
    assert again.dmi == full.dmi and again.dimension("foundation") == full.dimensions["foundation"]


def test_unknown_language_is_refused(miit, full):
    with pytest.raises(ValueError, match="'fr'"):
        render_html(full, instrument=miit, lang="fr")
    with pytest.raises(ValueError, match="'fr'"):
        render_pdf(full, instrument=miit, lang="fr")


# -- PDF --------------------------------------------------------------------------------------


def test_pdf_in_chinese_has_the_numbers_and_chinese_text(miit, full, expected, answers):
    data = render_pdf(
        full, instrument=miit, lang="zh", answers=answers, generated_at=DAY, company_name=EVIL
    )
    assert data.startswith(b"%PDF-")
    text = _pdf_text(data)
    assert "中小企业数字化发展指数报告" in text
    assert expected["dmi"] in text and "二级" in text
    assert expected["tier"].zh in text
    for value in expected["dims"].values():
        assert value in text
    assert "数字化基础" in text and "2025-03-01" in text
    assert EVIL in text  # a PDF shows the name as typed: the markup was escaped, not run
    # the font is embedded (tests/test_report_pdf.py), none left to the reader
    assert "STSong-Light" not in data.decode("latin-1") or not _has_cjk_font()


def test_pdf_in_english_with_previous_and_without_peers(miit, bare, expected):
    before = PreviousResult(dmi=30.175, level=1, dimensions={}, submitted_at="2024-06-30")
    data = render_pdf(bare, instrument=miit, lang="en", previous=before, company_name="合成企业 A")
    text = _pdf_text(data)
    flat = re.sub(r"\s+", " ", text)
    assert "SME Digital Maturity Index report" in text
    assert expected["dmi"] in text and "Level 2" in text and "Level 1" in text
    assert "Change since the earlier submission" in text and "+10.5" in text
    assert "No peer comparison is shown" in flat and "No support tier is shown" in flat
    assert "合成企业 A" in text  # Chinese in an English report is set in the CJK font
    assert "Helvetica" not in data.decode("latin-1") or not _has_cjk_font()


def _has_cjk_font() -> bool:
    from dmi.report.fonts import find_font

    return find_font() is not None


def test_html_needs_no_reportlab_and_the_pdf_says_how_to_get_it():
    import subprocess
    import sys

    # a fresh interpreter where ``import reportlab`` fails, before dmi.report is imported
    script = """
import sys
sys.modules["reportlab"] = None
import dmi
from dmi.report import render_html, render_pdf
miit = dmi.load_instrument("miit-2024-manufacturing")
result = dmi.assess(dmi.IndexModel(miit).fit(), {"respondent_id": "x"})
assert "SME Digital Maturity Index report" in render_html(result, instrument=miit, lang="en")
try:
    render_pdf(result, instrument=miit, lang="en")
except ImportError as exc:
    print(exc)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert 'PDF reports need reportlab: pip install "dmi[report]"' in done.stdout


# -- the command ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory, miit, answers):
    folder = tmp_path_factory.mktemp("report")
    (folder / "answers.json").write_text(json.dumps(answers, ensure_ascii=False), "utf-8")
    rows = pd.DataFrame([answers, {**answers, "respondent_id": "R-002", "strategy": "A"}])
    rows.to_csv(folder / "two.csv", index=False)
    _peer_scores().to_csv(folder / "peers.csv", index=False)
    (folder / "bad.json").write_text(json.dumps({**answers, "strategy": "Z"}), "utf-8")
    return folder


def test_cli_writes_html(files, expected, capsys):
    out = files / "r.html"
    code = main(
        ["report", str(files / "answers.json"), "-o", str(out), "--lang", "en"]
        + ["--reference", str(files / "peers.csv")]
    )
    assert code == 0
    page = out.read_text("utf-8")
    assert f'<div class="value">{expected["dmi"]}</div>' in page and "Level 2" in page
    assert "higher than about 42%" in page and expected["tier"].en in page
    assert f"index {expected['dmi']}, Level 2" in capsys.readouterr().out


def test_cli_writes_pdf_for_one_row_of_a_table(files, expected):
    out = files / "r.pdf"
    code = main(
        ["report", str(files / "two.csv"), "-o", str(out), "--row", "R-001"]
        + ["--reference", "none"]
    )
    assert code == 0
    text = _pdf_text(out.read_bytes())
    assert expected["dmi"] in text and "二级" in text and "R-001" in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["bad.json", "-o", "x.html"], "invalid answers: strategy: 'Z'"),
        (["two.csv", "-o", "x.html"], "has 2 rows; pick one with --row"),
        (["answers.json", "-o", "x.docx"], "must end in .html or .pdf"),
        (["missing.json", "-o", "x.html"], "no such answers file"),
    ],
)
def test_cli_user_mistakes_are_one_line_exit_2(files, capsys, args, message):
    args = [str(files / args[0]), args[1], str(files / args[2]), *args[3:]]
    code = main(["report", *args, "--reference", "none", "--tier-model", "none"])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.startswith("dmi: error: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_read_one_company(files, miit):
    from dmi.cli.report import read_one_company

    assert read_one_company(files / "two.csv", miit, "R-002")["strategy"] == "A"
    assert read_one_company(files / "answers.json", miit)["company_name"] == "合成企业 A"
    with pytest.raises(ValueError, match="no row has respondent_id 'R-404'"):
        read_one_company(files / "two.csv", miit, "R-404")
    with pytest.raises(ValueError, match="a JSON file holds one company"):
        read_one_company(files / "answers.json", miit, "R-001")
    (files / "list.json").write_text("[1, 2]", "utf-8")
    with pytest.raises(ValueError, match="expected a JSON object"):
        read_one_company(files / "list.json", miit)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_profile_names_an_option_by_its_label_and_an_official_code(miit, official, lang):
    # the zh report read "企业规模 小型企业（small）" and "上一年度营业收入 300万元-2000万元
    # （3m_20m）": dmi's own names of options, in English, in a Chinese report
    answers = {
        "respondent_id": "R-002",
        **mixed_answers(miit),
        "sector": "C34",
        "region": "44",
        "size_class": "small",
        "revenue_band": "3m_20m",
    }
    page = html_unescape(
        render_html(assess(official, answers), instrument=miit, lang=lang, answers=answers)
    )
    cells = _cells(page)
    options = {f.code: {o.value: o for o in f.options} for f in miit.profile if f.options}
    for code, value in [("size_class", "small"), ("revenue_band", "3m_20m")]:
        option = options[code][value]
        assert (option.zh if lang == "zh" else option.en) in cells
        assert not any(value in c for c in cells)
    for code, value in [("sector", "C34"), ("region", "44")]:  # official codes: kept
        option = options[code][value]
        label = option.zh if lang == "zh" else option.en
        assert text("report.with_note", lang, value=label, note=value) in cells


def test_the_header_labels_wrap_on_a_narrow_screen(miit, full):
    # on a phone (390 px) the header's first column kept "所属行业（国民经济行业分类 GB/T
    # 4754-2017 制造业大类）" on one line: the page was 591 px wide, the values cut off
    page = render_html(full, instrument=miit, lang="zh")
    rule = re.search(r"table\.meta td:first-child \{([^}]*)\}", page)
    assert rule is not None and "nowrap" not in rule.group(1)


def test_a_nace_section_is_an_official_code_too():
    # the EU instruments' sectors are NACE sections (A, C ...): kept beside their label
    eu = dmi.load_instrument("eu-dma-sme")
    from dmi.report.content import _profile_value

    sector = next(f for f in eu.profile if f.code == "sector")
    option = next(o for o in sector.options if o.value == "C")
    assert _profile_value(eu, "sector", "C", "en") == (
        sector.en,
        text("report.with_note", "en", value=option.en, note="C"),
    )
    assert _profile_value(eu, "size_class", "small", "en")[1] == next(
        o.en for f in eu.profile if f.code == "size_class" for o in f.options if o.value == "small"
    )
