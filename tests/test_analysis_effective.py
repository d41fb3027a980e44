"""Effective weights: the main effect of a node worked out by hand, and beside the nominal
weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dmi.analysis import NotComputable, effective_weights, main_effect


def test_main_effects_of_a_linear_index_of_independent_binary_nodes():
    # a full factorial of two balanced 0/1 nodes: Var(2 x1) = 4 v, Var(x2) = v, no interaction
    x1 = np.tile([0.0, 0.0, 1.0, 1.0], 25)
    x2 = np.tile([0.0, 1.0, 0.0, 1.0], 25)
    y = 2 * x1 + x2
    assert main_effect(x1, y) == pytest.approx(4 / 5)
    assert main_effect(x2, y) == pytest.approx(1 / 5)
    table = effective_weights(
        pd.DataFrame({"a": x1, "b": x2}), y, pd.Series({"a": 2 / 3, "b": 1 / 3}), level="indicator"
    ).set_index("code")
    assert table.loc["a", "effective_share"] == pytest.approx(0.8)
    assert table.loc["b", "nominal_weight"] == pytest.approx(1 / 3)
    assert table.loc["a", "correlation"] == pytest.approx(np.corrcoef(x1, y)[0, 1])


def test_main_effect_with_an_interaction_leaves_it_out():
    # y = x1 * x2 on a balanced factorial: each main effect is 1/3 of the variance
    x1 = np.tile([0.0, 0.0, 1.0, 1.0], 10)
    x2 = np.tile([0.0, 1.0, 0.0, 1.0], 10)
    y = x1 * x2
    assert main_effect(x1, y) == pytest.approx(1 / 3)


def test_main_effect_of_a_continuous_node_uses_bins():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=5000)
    noise = rng.normal(scale=0.1, size=5000)
    y = x + noise
    expected = np.var(x) / (np.var(x) + 0.01)
    assert main_effect(x, y) == pytest.approx(expected, abs=0.02)
    assert main_effect(rng.uniform(size=5000), y) < 0.01


def test_not_computable_and_notes():
    with pytest.raises(NotComputable, match="at least 3"):
        main_effect(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    with pytest.raises(NotComputable, match="same for every"):
        main_effect(np.arange(5.0), np.ones(5))
    table = effective_weights(
        pd.DataFrame({"flat": np.ones(10), "x": np.arange(10.0)}),
        np.arange(10.0),
        pd.Series({"flat": 0.5, "x": 0.5}),
        level="indicator",
    ).set_index("code")
    assert "constant" in table.loc["flat", "note"] and table.loc["flat", "main_effect"] == 0
    assert table.loc["x", "effective_share"] == pytest.approx(1.0)
