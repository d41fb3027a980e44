"""`dmi.analysis.analyse`: every part of an analysis scores the method the method file describes,
names its bands as what they are, and records a command that reruns it."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytest

from dmi.analysis import Kernel, Method, analyse
from dmi.analysis.schemes import MethodSettings
from dmi.instruments.synth import synthesise
from dmi.scoring import IndexModel, encode_answers

pytest.importorskip("SALib")

FAST = {
    "uncertainty": {"runs": 8, "resamples": 10, "weightings": ["instrument", "equal"]},
    "comparison": {"schemes": ["instrument", "equal"]},
    "tiers": "none",
}
DIMENSION_JUDGEMENTS = [
    ["foundation", "operations", 2],
    ["foundation", "management", 3],
    ["foundation", "performance", 4],
    ["operations", "management", "3/2"],
    ["operations", "performance", 2],
    ["management", "performance", "4/3"],
]


def _method(**settings) -> Method:
    return Method.model_validate({**FAST, **settings})


# Each case sets one method setting away from its default, under a nominal method it changes.
SETTING_CASES = {
    "geometric_offset": {
        "nominal": {"aggregation": "geometric"},
        "geometric_offset": 0.2,
    },
    "geometric_offset at the dimension level": {
        "level": "dimension",
        "nominal": {"normalisation": "minmax", "aggregation": "geometric"},
        "geometric_offset": 0.5,
    },
    "pca": {
        "nominal": {"weighting": "pca"},
        "pca": {"retain": 1, "rotation": "varimax-kaiser"},
    },
    "bod_bounds": {
        "level": "dimension",
        "nominal": {"weighting": "bod"},
        "bod_bounds": [0.1, 0.4],
    },
    "ahp": {
        "level": "dimension",
        "nominal": {"weighting": "ahp"},
        "ahp": {"judgements": DIMENSION_JUDGEMENTS},
    },
}


@pytest.mark.parametrize("case", list(SETTING_CASES))
@pytest.mark.parametrize("seed", [3, 8])
def test_every_part_scores_the_nominal_method_with_all_its_settings(miit, case, seed):
    answers = synthesise(miit, 60, seed)
    method = _method(**SETTING_CASES[case])
    result = analyse(answers, instrument=miit, method=method)
    assert result.problems == {}
    nominal = result.nominal["dmi"].to_numpy()
    comparison = result.comparison.companies[f"dmi_{method.nominal.weighting}"].to_numpy()
    spread = result.uncertainty.companies["dmi_nominal"].to_numpy()
    np.testing.assert_array_equal(comparison, nominal)
    np.testing.assert_array_equal(spread, nominal)
    # and it is the index IndexModel gives with the same settings (fitted on the companies)
    matrix = None
    if method.ahp is not None:
        from dmi.analysis.method import ahp_matrix_from_judgements

        codes = [d.code for d in miit.dimensions]
        matrix = ahp_matrix_from_judgements(codes, DIMENSION_JUDGEMENTS, "test")
    model = IndexModel(
        miit,
        weighting=method.nominal.weighting,
        normalisation=method.nominal.normalisation,
        aggregation=method.nominal.aggregation,
        weight_level=method.level,
        geometric_offset=method.geometric_offset,
        bod_bounds=method.bod_bounds,
        pca_retain=method.pca.retain,
        pca_rotation=method.pca.rotation,
        ahp_matrix=matrix,
    ).fit(encode_answers(miit, answers))
    np.testing.assert_allclose(nominal, model.score(answers)["dmi"], atol=2e-9)


def test_the_method_s_settings_are_every_setting_of_the_kernel(miit):
    """One object carries a method's settings to every part: a setting the kernel gains must be
    in it (and so reach the nominal index, the comparison and the uncertainty analysis alike)."""
    keywords = {
        name
        for name, p in inspect.signature(Kernel.__init__).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    assert keywords == {f.name for f in dataclasses.fields(MethodSettings)}
    method = _method(
        geometric_offset=0.3,
        bod_bounds=[0.05, 0.6],
        pca={"retain": 2, "rotation": "varimax-kaiser"},
    )
    settings = method.settings(ahp_matrix=np.eye(4))
    assert settings.geometric_offset == 0.3
    assert settings.bod_bounds == (0.05, 0.6)
    assert (settings.pca_retain, settings.pca_rotation) == (2, "varimax-kaiser")
    np.testing.assert_array_equal(settings.ahp_matrix, np.eye(4))
    kernel = settings.kernel(miit, "dimension", np.full((3, 4), 0.5))
    assert kernel.instrument is miit and kernel.level == "dimension"
    for name in keywords - {"ahp_matrix"}:
        assert getattr(kernel, name) == getattr(settings, name)
