"""Shared fixtures: the shipped instrument and answer builders."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

import dmi

ROOT = Path(__file__).resolve().parents[1]

# Shared CI machines can be slow: time limits on generating or running examples would make the
# property tests fail for the machine's sake, not the code's.
settings.register_profile(
    "dmi", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile("dmi")
MIIT = "miit-2024-manufacturing"


@pytest.fixture(scope="session")
def miit() -> dmi.Instrument:
    return dmi.load_instrument(MIIT)


def best_answers(instrument: dmi.Instrument) -> dict[str, object]:
    """The answer with the most points for every item."""
    answers: dict[str, object] = {}
    for item in instrument.items:
        if item.type == "single":
            answers[item.code] = max(item.options, key=lambda o: o.points).value
        elif item.type == "multi":
            answers[item.code] = ";".join(o.value for o in item.options if not o.exclusive)
        elif item.type == "number":
            answers[item.code] = item.max if item.direction == "higher_is_better" else item.min
        elif item.type == "scenario":
            answers[item.code] = max(level.value for level in instrument.scenario_levels)
        elif item.type == "likert":
            answers[item.code] = item.scale.max
        else:
            answers[item.code] = "yes"
    return answers


def worst_answers(instrument: dmi.Instrument) -> dict[str, object]:
    """The answer with the fewest points for every item."""
    answers: dict[str, object] = {}
    for item in instrument.items:
        if item.type in ("single", "multi"):
            answers[item.code] = min(item.options, key=lambda o: o.points).value
        elif item.type == "number":
            answers[item.code] = item.min
        elif item.type == "scenario":
            answers[item.code] = 0
        elif item.type == "likert":
            answers[item.code] = item.scale.min
        else:
            answers[item.code] = "no"
    return answers


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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests first: they take longest, so with two workers (``make test``) the
    rest of the suite runs beside them instead of after them."""
    items.sort(key=lambda item: not item.nodeid.startswith("tests/test_e2e.py"))
