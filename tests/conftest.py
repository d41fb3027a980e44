"""Shared fixtures: the shipped instrument and answer builders."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

import dmi

ROOT = Path(__file__).resolve().parents[1]

# Shared CI machines can be slow: time limits on generating or running examples would make the
# property tests fail for the machine's sake, not the code's. The examples are the same on every
# run (derandomize): a property test that found a new example by chance would fail a run by
# chance; new examples are sought on purpose (HYPOTHESIS_PROFILE=explore).
settings.register_profile(
    "dmi",
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "explore",
    deadline=None,
    max_examples=500,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dmi"))
MIIT = "miit-2024-manufacturing"


@pytest.fixture(autouse=True)
def _collectable_after_the_app() -> Iterator[None]:
    """The app freezes what its runs import (``dmi_ui.freeze_loaded_modules``), in the test
    process too when a test runs it: each test's leftovers are made collectable again."""
    yield
    if gc.get_freeze_count():
        gc.unfreeze()


@pytest.fixture(scope="session")
def miit() -> dmi.Instrument:
    return dmi.load_instrument(MIIT)


# The best and the worst answer of an item, by item type (a type added to ITEM_TYPES must be
# added here: tests/test_items.py checks that every registered type has both).
BEST = {
    "single": lambda instrument, item: max(item.options, key=lambda o: o.points).value,
    "multi": lambda instrument, item: ";".join(o.value for o in item.options if not o.exclusive),
    "yesno": lambda instrument, item: "yes",
    "likert": lambda instrument, item: (
        item.scale.max if item.direction == "higher_is_better" else item.scale.min
    ),
    "number": lambda instrument, item: (
        item.max if item.direction == "higher_is_better" else item.min
    ),
    "scenario": lambda instrument, item: max(lv.value for lv in instrument.scenario_levels),
    "rating": lambda instrument, item: item.scale.max,
    "checklist": lambda instrument, item: ";".join(
        o.value for o in item.options if not o.exclusive
    ),
}
WORST = {
    "single": lambda instrument, item: min(item.options, key=lambda o: o.points).value,
    "multi": lambda instrument, item: min(item.options, key=lambda o: o.points).value,
    "yesno": lambda instrument, item: "no",
    "likert": lambda instrument, item: (
        item.scale.min if item.direction == "higher_is_better" else item.scale.max
    ),
    "number": lambda instrument, item: (
        item.min if item.direction == "higher_is_better" else item.max
    ),
    "scenario": lambda instrument, item: 0,
    "rating": lambda instrument, item: item.scale.min,
    "checklist": lambda instrument, item: next(
        (o.value for o in item.options if o.exclusive), item.options[0].value
    ),
}


def best_answers(instrument: dmi.Instrument) -> dict[str, object]:
    """The answer with the most points for every item."""
    return {item.code: BEST[item.type](instrument, item) for item in instrument.items}


def worst_answers(instrument: dmi.Instrument) -> dict[str, object]:
    """The answer with the fewest points for every item."""
    return {item.code: WORST[item.type](instrument, item) for item in instrument.items}


def frame(*rows: dict[str, object]) -> pd.DataFrame:
    """An answers table with respondent ids r1, r2, ..."""
    return pd.DataFrame([{"respondent_id": f"r{i + 1}", **row} for i, row in enumerate(rows)])


# A mixed case worked by hand in tests/test_scoring.py: 40.675 points, 二级.
MIXED = {
    "network": "B;C",
    "equipment_digitised": "35",
    "equipment_networked": 5,
    "data_collection": "B;C;O",
    "it_coverage": "C",
    "network_security": "B",
    "data_security": "A",
    "strategy": "D",
    "mechanisms": "B;C",
    "talent": "B",
    "investment": "15%",
    "energy_intensity": "C",
    "pass_rate": "B",
    "revenue_per_employee": "A",
    "cost_ratio": "C",
    # scenarios: levels 4,3,2,1 then 0 (weight 0 in the official index)
    **{
        code: lvl
        for code, lvl in zip(
            ["sc_product_design", "sc_process_design", "sc_marketing", "sc_after_sales"],
            [4, 3, 2, 1],
        )
    },
}


def mixed_answers(instrument: dmi.Instrument) -> dict[str, object]:
    """The hand-worked mixed case (40.675 points, 二级), every scenario answered."""
    answers = dict(MIXED)
    for item in instrument.scenario_items():
        answers.setdefault(item.code, 0)
    return answers


def sent_by_old_names(monkeypatch: pytest.MonkeyPatch, at: Any, names: dict[str, Any]) -> None:
    """Make the next run of the AppTest ``at`` receive the widgets ``names`` names (key -> the
    name, or a list of names for a multiple choice) as the browser sends a choice: by its name.

    After a switch of language, a run the browser asks for before it has drawn the new names
    sends the names of the language before. ``monkeypatch.undo()`` ends it.
    """
    stale = {}
    for key, name in names.items():
        widget = next(
            w
            for kind in ("selectbox", "radio", "button_group")
            for w in at.get(kind)
            if w.key == key
        )
        stale[widget.id] = name
        cls = type(widget)
        if getattr(cls, "_dmi_stale", None) is None:
            original = cls._widget_state

            def as_sent(self, original=original):
                state = original.fget(self)
                if self.id in stale:
                    if isinstance(stale[self.id], list):
                        del state.string_array_value.data[:]
                        state.string_array_value.data.extend(stale[self.id])
                    else:
                        state.string_value = stale[self.id]
                return state

            monkeypatch.setattr(cls, "_widget_state", property(as_sent))
            monkeypatch.setattr(cls, "_dmi_stale", True, raising=False)


@contextlib.contextmanager
def app_database(folder: Path, name: str = "app.sqlite") -> Iterator[str]:
    """The app's database in ``folder`` while the block runs (``DMI_DATABASE_URL``), then the one
    before: the app caches its store for the process, so the cache is cleared on both sides."""
    from streamlit.runtime.caching import cache_resource

    url = f"sqlite:///{folder / name}"
    old = os.environ.get("DMI_DATABASE_URL")
    os.environ["DMI_DATABASE_URL"] = url
    cache_resource.clear()
    try:
        yield url
    finally:
        cache_resource.clear()
        if old is None:
            os.environ.pop("DMI_DATABASE_URL", None)
        else:
            os.environ["DMI_DATABASE_URL"] = old


BROWSER_TESTS = "tests/e2e/"
# The browser tests in two groups of about equal time, one per worker of ``make test``: each
# worker then starts its own app server and browser, and each takes the rest of the suite when
# its group is done. The three journeys that fill in the whole survey (about a minute each) are
# split between the groups; a new file goes to the first group unless named here.
BROWSER_GROUPS = {
    "browser-2": {
        "test_flow.py",
        "test_results.py",
        "test_dashboard.py",
        "test_access.py",
        "test_admin.py",
    },
}


def browser_group(nodeid: str) -> str:
    """The xdist group of a browser test (``tests/e2e/<file>::<test>``)."""
    name = nodeid.split("::")[0].rsplit("/", 1)[-1]
    return next((group for group, files in BROWSER_GROUPS.items() if name in files), "browser-1")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests first, in two groups (``browser_group``): they take longest, so with
    two workers (``make test``, ``--dist loadgroup``) each worker starts on one group and takes
    the rest of the suite after it. Every other module stays on one worker, as ``loadfile`` has it
    (module fixtures are made once)."""
    for item in items:
        browser = item.nodeid.startswith(BROWSER_TESTS)
        group = browser_group(item.nodeid) if browser else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))
    # the groups' order: first group, second group, then the rest as collected
    items.sort(
        key=lambda item: (
            (0, browser_group(item.nodeid)) if item.nodeid.startswith(BROWSER_TESTS) else (1, "")
        )
    )


# Every item type, with the settings that change how answers are read: letter runs on one
# multi item (lower-case codes), a number item whose unit is not %, lower-is-better likert.
ALL_TYPES_YAML = """
format: dmi-instrument/1
id: all-types
version: "1"
title: {zh: 全部题型, en: Every item type}
defaults: {missing: exclude}
profile:
  - code: sector
    zh: 行业
    en: Sector
    type: choice
    peer_group: true
    options:
      - {value: C13, zh: 农副食品加工业, en: Food processing}
      - {value: C14, zh: 食品制造业, en: Foods}
  - {code: employees, zh: 从业人员数, en: Employees, type: number, min: 0}
scenario_levels:
  - {value: 0, zh: 未开展, en: Not yet}
  - {value: 1, zh: 起步, en: Starting}
  - {value: 2, zh: 成熟, en: Mature}
levels:
  bands:
    - {level: 0, min: 0, zh: 未达一级, en: Below level 1}
    - {level: 1, min: 50, zh: 一级, en: Level 1}
dimensions:
  - code: first
    zh: 第一
    en: First
    indicators:
      - code: choices
        zh: 选择
        en: Choices
        items:
          - code: one
            type: single
            zh: 单选
            en: Single
            options:
              - {value: A, zh: 无, en: None, points: 0}
              - {value: B, zh: 部分, en: Some, points: 1}
              - {value: C, zh: 全部, en: All, points: 2}
          - code: many
            type: multi
            zh: 多选
            en: Multiple
            options:
              - {value: A, zh: 无, en: None, points: 0, exclusive: true}
              - {value: B, zh: 产品设计, en: Product design, points: 1}
              - {value: C, zh: 工艺设计, en: Process design, points: 1}
              - {value: D, zh: 营销管理, en: Marketing, points: 1}
              - {value: N, zh: 财务管理, en: Finance, points: 1}
              - {value: O, zh: 人力资源, en: Human resources, points: 1}
          - code: runs
            type: multi
            zh: 多选（字母连写）
            en: Multiple (letter runs)
            letter_runs: true
            options:
              - {value: a, zh: 无, en: None, points: 0, exclusive: true}
              - {value: b, zh: 网络, en: Network, points: 2}
              - {value: c, zh: 平台, en: Platform, points: 2}
              - {value: d, zh: 数据, en: Data, points: 2}
              - {value: e, zh: 安全, en: Security, points: 2}
      - code: rest
        zh: 其他
        en: Other
        items:
          - {code: has_plan, type: yesno, zh: 是否有规划, en: Has a plan, points: 2}
          - code: agree
            type: likert
            zh: 同意程度
            en: Agreement
            scale: {min: 1, max: 5}
            direction: lower_is_better
          - code: share
            type: number
            zh: 比例
            en: Share
            unit: "%"
            min: 0
            max: 100
            bands:
              - {value: A, lower: 0, upper: 50, points: 0, zh: 50%及以下, en: 50% or less}
              - {value: B, lower: 50, upper: 100, points: 3, zh: 50%以上, en: Over 50%}
          - code: hours
            type: number
            zh: 培训时长
            en: Training hours
            unit: 小时
            min: 0
            max: 40
            goalposts: {low: 0, high: 20}
          - {code: scene, type: scenario, zh: 场景, en: Scenario}
"""


@pytest.fixture(scope="session")
def all_types() -> dmi.Instrument:
    from dmi.instruments import parse_instrument

    return parse_instrument(ALL_TYPES_YAML, source="all-types.yaml")
