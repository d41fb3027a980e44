"""What the results page and the report write: numbers as people write them, peer groups by
their labels, the tier's confidence in words and its support once."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

import dmi
from dmi.locales import text
from dmi.report import render_html
from dmi.report.content import (
    confidence_phrase,
    peer_group_label,
    plain_number,
    tier_sentences,
)
from dmi.results.assess import assess
from dmi.results.peers import PeerBenchmark
from dmi.tiers import load_shipped_tier_model

from .conftest import mixed_answers


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (85, "85"),
        (85.0, "85"),
        ("85", "85"),
        ("85.00", "85"),
        (12.5, "12.5"),
        (0.125, "0.125"),
        (1 / 3, "0.333333"),
        (-0.0, "0"),
        (1200000.0, "1200000"),
        (None, "—"),
        (float("nan"), "—"),
        ("", "—"),
        ("about 80", "about 80"),
    ],
)
def test_numbers_are_written_as_people_write_them(value, shown):
    assert plain_number(value) == shown


def test_a_peer_group_is_named_by_its_labels_never_by_codes(miit):
    group = {"sector": "C34", "size_class": "small"}
    assert peer_group_label(miit, group, "zh") == "通用设备制造业 · 小型企业"
    assert (
        peer_group_label(miit, group, "en")
        == "Manufacture of general-purpose machinery · Small enterprise"
    )
    # every option of every choice field, in both languages: its label, never its code
    for spec in miit.profile:
        for option in spec.options:
            for lang, label in (("zh", option.zh), ("en", option.en)):
                assert peer_group_label(miit, {spec.code: option.value}, lang) == label
    # a value the instrument does not know is shown as given; everyone is named as such
    assert peer_group_label(miit, {"sector": "X99"}, "zh") == "X99"
    assert peer_group_label(miit, {}, "zh") == text("report.peers_all", "zh")


@pytest.mark.parametrize(
    ("conf", "key"),
    [
        (0.0, "low"),
        (0.05, "low"),
        (0.1999, "low"),
        (0.2, "mid"),
        (0.49, "mid"),
        (0.5, "high"),
        (1.0, "high"),
    ],
)
def test_the_tier_confidence_is_said_in_words(conf, key):
    for lang in ("zh", "en"):
        assert confidence_phrase(conf, lang) == text(f"report.confidence_{key}", lang)


@pytest.fixture(scope="module")
def company(miit):
    model = dmi.IndexModel(miit).fit()
    values = [2.0 * i for i in range(50)]
    table = {"respondent_id": [f"P{i}" for i in range(50)], "dmi": values}
    table["sector"] = ["C34"] * 50
    for code in ("foundation", "operations", "management", "performance"):
        table[f"dim_{code}"] = values
    peers = PeerBenchmark(levels=[("sector",)], min_group_size=30).fit(pd.DataFrame(table))
    answers = {"respondent_id": "R-1", **mixed_answers(miit), "sector": "C34"}
    tiers = load_shipped_tier_model(miit)
    return assess(model, answers, tier_model=tiers, peers=peers), answers


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_prints_the_support_once_and_the_confidence_in_words(miit, company, lang):
    result, answers = company
    page = render_html(result, instrument=miit, lang=lang, answers=answers)
    label = result.tier.label
    support = label.support_zh if lang == "zh" else label.support_en
    assert page.count(html.escape(support)) == 1
    assert confidence_phrase(result.tier.confidence, lang) in page
    # no bare "confidence 0.32" sentence: the number comes with what it means
    tier = result.tier
    bare = text(
        "tiers.tier",
        lang,
        tier=tier.tier,
        k=tier.n_tiers,
        label=label.name(lang),
        conf=tier.confidence,
    )
    assert html.escape(bare) not in page
    # the rest of the tier explanation is kept
    for sentence in tier_sentences(result.tier, lang):
        assert sentence.split("（")[0].split(" (")[0] in page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_names_the_peer_group_by_its_labels(miit, company, lang):
    result, answers = company
    assert result.peers is not None and result.peers.group == {"sector": "C34"}
    page = render_html(result, instrument=miit, lang=lang, answers=answers)
    section = page[page.index(text("report.peers", lang)) :]
    section = section[: section.index("</section>")]
    label = "通用设备制造业" if lang == "zh" else "Manufacture of general-purpose machinery"
    assert label in section
    assert not re.search(r"C34|sector=|所属行业=", section)
