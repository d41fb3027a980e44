"""The crosswalks MIIT -> EU DMA -> DII: a MIIT row worked by hand into its DMA and DII
answers and scores, through the API and ``dmi score --also`` (prefixed columns, what could not
be mapped listed in the summary, the unmapped count per row); the files checked when loaded,
and the docs' table kept to the files."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

import dmi
from dmi.cli.main import main
from dmi.errors import InstrumentError
from dmi.instruments.crosswalk import available_crosswalks, find_crosswalk, load_crosswalk
from dmi.scoring.crosswalk import also_scores, map_answers

from .conftest import ROOT, best_answers

MIIT = "miit-2024-manufacturing"
SCENARIOS = [
    "sc_product_design",
    "sc_process_design",
    "sc_marketing",
    "sc_after_sales",
    "sc_planning",
    "sc_production_control",
    "sc_quality",
    "sc_equipment",
    "sc_safety",
    "sc_energy",
    "sc_procurement",
    "sc_warehousing",
    "sc_finance",
    "sc_hr",
    "sc_collaboration",
    "sc_decision_support",
]


def miit_row(**changes) -> dict:
    """A valid MIIT row: the worked example below, with ``changes``."""
    answers = best_answers(dmi.load_instrument(MIIT))
    answers |= {code: 0 for code in SCENARIOS}
    answers |= {
        "respondent_id": "worked",
        "sc_product_design": 2,
        "sc_production_control": 4,
        "sc_finance": 1,
        "sc_energy": 1,
        "sc_decision_support": 3,
        "sc_quality": 4,
        "strategy": "C",
        "talent": "B;C",
        "mechanisms": "D",
        "network": "B",
        "it_coverage": "D",
        "data_collection": "G",
        "network_security": "D",
        "data_security": "B;C",
        "equipment_networked": "C",
    }
    return answers | changes


# The worked row, question by question (docs/crosswalk.md gives each rule):
# D1 rows: product design (level 2), operations (4), finance (1) done; 6 others none; the
#   security row has no mapping (left out): 3/9.  Readiness: b (plan adopted), d (a digital
#   post) of 10: 0.2.
# D2 basic: a (a network) of 10: 0.1.  Advanced: CAD 4/5, MES 5/5, IoT 3/5 (networked 20-40%),
#   four rows left out: 0.8.
# D3 upskilling: g (digital staff) of 7; engagement: h (a digital post) of 8.
# D4 data: a, c, d, e of 7; security: a, b, c of 6.
# D5: vision 5 (quality level 4), robots 5 (production control 4), decision 1 (level 3): 11/15.
# D6 green: none ticked (energy only level 1): 0; practices: tracking partly (0.5), others left
#   out: 0.5.
DMA_DIMS = {
    "strategy": (3 / 9 + 0.2) / 2 * 100,
    "readiness": (0.1 + 0.8) / 2 * 100,
    "human": (1 / 7 + 1 / 8) / 2 * 100,
    "data": (4 / 7 + 3 / 6) / 2 * 100,
    "automation": 11 / 15 * 100,
    "green": (0 + 0.5) / 2 * 100,
}
DMA_OVERALL = sum(DMA_DIMS.values()) / 6  # 39.49...


def test_the_worked_row_maps_to_these_dma_answers():
    crosswalk = find_crosswalk(MIIT, "eu-dma-sme")
    mapped = map_answers(crosswalk, pd.DataFrame([miit_row()])).iloc[0]
    assert mapped["d1_product_design"] == "done" and mapped["d1_finance"] == "done"
    assert mapped["d1_project_planning"] == "none"
    assert mapped["d1_ready"] == "b;d"
    assert mapped["d2_basic_tech"] == "a"
    assert (mapped["adv_cad"], mapped["adv_mes"], mapped["adv_iot"]) == ("4", "5", "3")
    assert (mapped["d3_upskilling"], mapped["d3_engage"]) == ("g", "h")
    assert (mapped["d4_data"], mapped["d4_secure"]) == ("a;c;d;e", "a;b;c")
    assert (mapped["ai_vision"], mapped["ai_robots"], mapped["ai_decision"]) == ("5", "5", "1")
    assert (mapped["d6_green_tech"], mapped["green_tracking"]) == ("none", "partly")
    assert "d1_security_compliance" not in mapped.index
    assert len(mapped) == 23 and crosswalk.unmapped_items[:2] == (
        "d1_security_compliance",
        "adv_sim",
    )


def test_the_worked_row_scores_by_hand_in_both_targets():
    row = pd.DataFrame([miit_row(), miit_row(sc_marketing=3, respondent_id="more")])
    dma = also_scores(find_crosswalk(MIIT, "eu-dma-sme"), row)
    for code, value in DMA_DIMS.items():
        assert dma[f"eu_dma_sme_dim_{code}"][0] == pytest.approx(value, abs=1e-8), code
    assert dma["eu_dma_sme_dmi"][0] == pytest.approx(DMA_OVERALL, abs=1e-8)
    assert dma["eu_dma_sme_indicative_level"][0] == 2  # Average
    assert dma["eu_dma_sme_unmapped"].tolist() == [11, 11]
    # DII from MIIT: ERP (finance level 1: no), CRM (marketing 0 / 3), AI (decision support
    # at 4: no), analytics (decision support at 3: yes); 8 indicators count as no
    dii = also_scores(find_crosswalk(MIIT, "eurostat-dii-2023"), row)
    assert dii["eurostat_dii_2023_score"].tolist() == [1, 2]
    assert dii["eurostat_dii_2023_indicative_level"].tolist() == [1, 1]
    assert dii["eurostat_dii_2023_basic"].tolist() == [False, False]
    assert dii["eurostat_dii_2023_unmapped"].tolist() == [8, 8]
    richer = miit_row(sc_marketing=3, sc_finance=2, sc_decision_support=4)
    dii = also_scores(find_crosswalk(MIIT, "eurostat-dii-2023"), pd.DataFrame([richer]))
    assert dii["eurostat_dii_2023_score"][0] == 4  # erp, crm, ai, analytics: basic
    assert (
        bool(dii["eurostat_dii_2023_basic"][0])
        and dii["eurostat_dii_2023_indicative_level"][0] == 2
    )


def test_a_blank_source_leaves_what_it_feeds_blank():
    row = miit_row(talent=None)
    dma = also_scores(find_crosswalk(MIIT, "eu-dma-sme"), pd.DataFrame([row]))
    # the two human-centric questions both read talent: the dimension has no answer, and the
    # crosswalk cannot score the row (it is not guessed)
    assert np.isnan(dma["eu_dma_sme_dmi"][0])
    assert dma["eu_dma_sme_unmapped"][0] == 11 + 3  # d1_ready, d3_upskilling, d3_engage


def test_score_also_adds_prefixed_columns_and_lists_the_unmapped(tmp_path, capsys):
    answers = tmp_path / "miit.csv"
    pd.DataFrame([miit_row(), miit_row(respondent_id="05")]).to_csv(answers, index=False)
    out, summary = tmp_path / "scores.csv", tmp_path / "summary.json"
    argv = ["score", str(answers), "-o", str(out), "--summary", str(summary)]
    assert main([*argv, "--also", "eu-dma-sme", "--also", "eurostat-dii-2023"]) == 0
    printed = capsys.readouterr().out
    assert (
        "also eu-dma-sme: 23 items mapped, 11 not mapped (left out): d1_security_compliance"
        in printed
    )
    assert "also eurostat-dii-2023: 4 items mapped, 8 not mapped (counted as lowest)" in printed
    scores = pd.read_csv(out, dtype={"respondent_id": str})
    assert scores["respondent_id"].tolist() == ["worked", "05"]
    assert scores["eu_dma_sme_dmi"].tolist() == pytest.approx([DMA_OVERALL] * 2, abs=1e-8)
    assert scores["eurostat_dii_2023_score"].tolist() == [1, 1]
    assert scores["eu_dma_sme_unmapped"].tolist() == [11, 11]
    plain = tmp_path / "plain.csv"
    assert main(["score", str(answers), "-o", str(plain)]) == 0
    before = pd.read_csv(plain, dtype={"respondent_id": str})
    pd.testing.assert_frame_equal(scores[before.columns], before, check_dtype=False)
    also = json.loads(summary.read_text(encoding="utf-8"))["also"]
    assert set(also["eurostat-dii-2023"]["unmapped"]) == {
        "internet_staff",
        "broadband_30",
        "web_sales_b2c",
        "ecommerce_1",
        "social_any",
        "social_two",
        "cloud_any",
        "cloud_advanced",
    }


def test_score_also_refuses_a_target_without_a_crosswalk(tmp_path, capsys):
    answers = tmp_path / "miit.csv"
    pd.DataFrame([miit_row()]).to_csv(answers, index=False)
    out = tmp_path / "scores.csv"
    assert main(["score", str(answers), "-o", str(out), "--also", "nowhere"]) == 2
    error = capsys.readouterr().err
    assert (
        "dmi: error: --also nowhere: no crosswalk from miit-2024-manufacturing to nowhere" in error
    )
    assert "eu-dma-sme, eurostat-dii-2023" in error and not out.exists()


def test_dma_answers_reach_the_dii():
    dma = dmi.load_instrument("eu-dma-sme")
    answers = best_answers(dma)
    answers["d2_basic_tech"] = "e;f;i"  # ERP, CRM, online marketing
    answers["d4_data"] = "b"  # stored centrally (cloud), not analysed
    answers["ai_decision"] = 3  # testing: not yet in use
    dii = also_scores(find_crosswalk("eu-dma-sme", "eurostat-dii-2023"), pd.DataFrame([answers]))
    assert dii["eurostat_dii_2023_score"][0] == 4  # erp, crm, social_any, cloud_any
    assert bool(dii["eurostat_dii_2023_basic"][0])


def test_a_crosswalk_file_is_checked_when_loaded(tmp_path):
    good = ROOT / "src/dmi/instruments/data/crosswalks" / f"{MIIT}--eurostat-dii-2023.yaml"
    text = good.read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        text.replace("any: [2, 3, 4]", "any: [2, 3, 9]", 1)
        .replace("  - target: cloud_any\n    none: MIIT does not ask about cloud services\n", "")
        .replace("target: crm", "target: crms"),
        encoding="utf-8",
    )
    with pytest.raises(InstrumentError) as refused:
        load_crosswalk(bad)
    message = str(refused.value)
    assert "9 are not values of miit-2024-manufacturing item 'sc_finance'" in message
    assert "'crms' is not an item of eurostat-dii-2023" in message
    assert "missing: crm, cloud_any" in message


def test_the_docs_table_has_every_rule_of_every_crosswalk():
    docs = (ROOT / "docs" / "crosswalk.md").read_text(encoding="utf-8")
    for source, target in available_crosswalks():
        crosswalk = find_crosswalk(source, target)
        section = docs.split(f"## {source} → {target}")[1].split("\n## ")[0]
        for rule in crosswalk.rules:
            line = next(
                (ln for ln in section.splitlines() if re.match(rf"\| `{rule.target}` \|", ln)),
                None,
            )
            assert line is not None, (source, target, rule.target)
            assert ("no mapping" in line) == (not rule.mapped), line
