"""`dmi.analysis.analyse`: every part of an analysis scores the method the method file describes,
names its bands as what they are, and records a command that reruns it."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pandas as pd
import pytest

from dmi.analysis import Kernel, Method, analyse
from dmi.analysis.schemes import MethodSettings
from dmi.errors import UsageError
from dmi.instruments.synth import synthesise
from dmi.scoring import IndexModel, encode_answers

from .conftest import best_answers, worst_answers

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
    "target_quantile": {
        "nominal": {"normalisation": "target"},
        "target_quantile": 0.5,
    },
    "target_quantile at the dimension level, entropy": {
        "level": "dimension",
        "nominal": {"weighting": "entropy", "normalisation": "target"},
        "target_quantile": 0.75,
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
        target_quantile=method.target_quantile,
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
        target_quantile=0.6,
    )
    settings = method.settings(ahp_matrix=np.eye(4))
    assert settings.target_quantile == 0.6
    assert settings.geometric_offset == 0.3
    assert settings.bod_bounds == (0.05, 0.6)
    assert (settings.pca_retain, settings.pca_rotation) == (2, "varimax-kaiser")
    np.testing.assert_array_equal(settings.ahp_matrix, np.eye(4))
    kernel = settings.kernel(miit, "dimension", np.full((3, 4), 0.5))
    assert kernel.instrument is miit and kernel.level == "dimension"
    for name in keywords - {"ahp_matrix"}:
        assert getattr(kernel, name) == getattr(settings, name)


# -- the official level: the official method on the data as given -------------------------------


def _official(miit, answers):
    return IndexModel(miit).fit().score(answers)


@pytest.mark.parametrize("seed", [5, 9])
def test_level_is_the_official_level_of_dmi_score(miit, seed):
    answers = synthesise(miit, 80, seed, missing_rate=0.3)
    result = analyse(answers, instrument=miit, method=_method(tiers="shipped"))
    official = _official(miit, answers)
    assert {"level", "tier"} <= set(result.nominal.columns)
    np.testing.assert_array_equal(result.nominal["level"], official["level"])
    np.testing.assert_array_equal(result.comparison.companies["band_instrument"], official["level"])
    np.testing.assert_array_equal(result.uncertainty.companies["band_nominal"], official["level"])
    assert result.comparison.band_names["instrument"] == "level"
    assert result.uncertainty.band_name == "level"
    bands = result.to_json()["bands"]
    assert bands["scheme_companies"]["band_instrument"] == "level"
    if seed == 5:  # the rerun command's language is one the report has
        assert result.command("en").endswith("--lang en -o REPORT.html")
        with pytest.raises(UsageError, match="expected zh or en"):
            result.command("fr")
    assert bands["scheme_companies"]["band_equal"] == "indicative_level"
    assert bands["uncertainty_companies"] == {"band_nominal": "level", "tier_nominal": "tier"}


def _skewed(miit, answers, dimension="performance", high=3):
    """Answers in which nearly every company has the lowest answer to every item of a dimension
    (``high`` have the highest): outlier columns at every level."""
    best, worst = best_answers(miit), worst_answers(miit)
    out = answers.copy()
    codes = [p.item.code for p in miit.item_paths if p.dimension.code == dimension]
    for code in codes:
        out[code] = [best[code] if i < high else worst[code] for i in range(len(out))]
    return out


TREATMENTS = {
    "mean imputation": {"treatment": {"imputation": "mean"}},
    "median imputation at the item level": {"level": "item", "treatment": {"imputation": "median"}},
    "group imputation": {"treatment": {"imputation": "group-mean", "group_by": "sector"}},
    "winsorise-then-log": {"level": "item", "treatment": {"outliers": "winsorise-then-log"}},
    "log at the dimension level": {"level": "dimension", "treatment": {"outliers": "log"}},
}


@pytest.mark.parametrize("case", list(TREATMENTS))
@pytest.mark.parametrize("seed", [5, 9])
def test_treated_data_give_indicative_bands_only(miit, case, seed, tmp_path):
    answers = _skewed(miit, synthesise(miit, 80, seed, missing_rate=0.3))
    method = _method(tiers="shipped", **TREATMENTS[case])
    result = analyse(answers, instrument=miit, method=method)
    assert result.treatment.changed
    table = result.nominal
    # under the official method, on changed data, no column claims the official level or tier
    assert "level" not in table and "tier" not in table
    assert {"indicative_level", "indicative_tier"} <= set(table.columns)
    assert set(result.comparison.band_names.values()) == {"indicative_level"}
    assert result.uncertainty.band_name == "indicative_level"
    bands = result.to_json()["bands"]
    assert set(bands["scheme_companies"].values()) == {"indicative_level", "indicative_tier"}
    assert bands["uncertainty_companies"] == {
        "band_nominal": "indicative_level",
        "tier_nominal": "indicative_tier",
    }
    # and the report says so, in both languages, where it shows the nominal band
    for lang, heading in (("en", "indicative band"), ("zh", "参考等级")):
        html = result.to_html(lang)
        fragile = html.split('id="uncertainty"')[1]
        assert heading in fragile
        assert ("nominal band</th>" if lang == "en" else "名义等级</th>") not in fragile


def test_a_treatment_that_changes_nothing_keeps_the_official_level(miit):
    answers = synthesise(miit, 60, 4, missing_rate=0.0)
    result = analyse(answers, instrument=miit, method=_method(treatment={"imputation": "mean"}))
    assert not result.treatment.changed
    np.testing.assert_array_equal(result.nominal["level"], _official(miit, answers)["level"])
    assert result.uncertainty.band_name == "level"


# -- degenerate data: every company alike ---------------------------------------------------------


def _alike(miit, row, n=20):
    """``n`` companies with the same answers (distinct ids)."""
    import pandas as pd

    frame = pd.DataFrame([row] * n).reset_index(drop=True)
    frame["respondent_id"] = [f"c{i}" for i in range(n)]
    return frame


ALIKE_METHODS = {
    "default": {"comparison": {"schemes": list(Method().comparison.schemes)}},
    "bod nominal, zscore": {
        "level": "dimension",
        "nominal": {"weighting": "bod", "normalisation": "zscore"},
    },
    "treated": {"treatment": {"outliers": "winsorise-then-log", "imputation": "median"}},
    "bod compared, zscore nominal": {
        "nominal": {"normalisation": "zscore"},
        "comparison": {"schemes": ["instrument", "equal", "bod"]},
    },
}


@pytest.mark.parametrize("case", list(ALIKE_METHODS))
@pytest.mark.parametrize("seed", [3, 11, "best", "worst"])
def test_companies_all_alike_give_reasons_not_a_stop_nor_warnings(miit, case, seed, recwarn):
    # twenty copies of one company: benefit of the doubt raised "reference has no non-zero
    # row" (under zscore every company is 0) and stopped the whole analysis (exit 2), and
    # NumPy's and SciPy's RuntimeWarnings reached stderr (a standard deviation of 1e-17 took
    # a constant column for one that varies)
    if seed == "best":
        row = best_answers(miit)
    elif seed == "worst":
        row = worst_answers(miit)
    else:
        row = synthesise(miit, 1, seed).iloc[0].to_dict()
    method = _method(**ALIKE_METHODS[case])
    method = method.model_copy(
        update={
            "uncertainty": method.uncertainty.model_copy(update={"weightings": ["equal", "bod"]})
        }
    )
    result = analyse(_alike(miit, row), instrument=miit, method=method)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)], [
        str(w.message) for w in recwarn
    ]
    bod_nominal = method.nominal.weighting == "bod"
    for part, why in result.problems.items():
        assert bod_nominal and part in ("nominal", "comparison", "uncertainty"), (part, why)
        assert "every reference company is 0 on every dimension" in why
    if bod_nominal:
        assert result.problems  # zscore maps every company to 0: nothing to weigh against
    else:
        assert result.nominal is not None and result.comparison is not None
        assert result.reliability is not None and result.uncertainty is not None
        assert result.nominal["dmi"].nunique() == 1
        if "bod" in result.comparison.not_run:
            assert "every reference company is 0" in result.comparison.not_run["bod"]
        if method.nominal.normalisation == "zscore":
            assert "bod" in result.comparison.not_run
    # constant data are said to be constant, never judged by rounding noise
    outliers = result.treatment.outliers_before
    assert outliers["skew"].isna().all() and outliers["note"].astype(bool).all()
    if result.effective is not None:
        assert result.effective["correlation"].isna().all()
        assert result.effective["note"].astype(bool).all()
    table = result.reliability.table()
    assert table["alpha"].isna().all() and table["note"].astype(bool).all()
    result.to_html("zh")
    result.json_text()


def test_analyse_of_companies_all_alike_lists_bod_as_not_run(miit, tmp_path, capsys):
    from dmi.cli.main import main

    path = tmp_path / "alike.csv"
    _alike(miit, synthesise(miit, 1, 3).iloc[0].to_dict()).to_csv(path, index=False)
    method = tmp_path / "m.yaml"
    method.write_text("uncertainty: {runs: 16, resamples: 10}\ntiers: none\n", encoding="utf-8")
    code = main(["analyse", str(path), "-o", str(tmp_path / "r.html"), "--method", str(method)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Warning" not in err and "warn" not in err.lower()
    assert "bod" in err and "每家参照企业的每个维度都是 0" in err
    assert (tmp_path / "r.html").exists()


# -- benefit of the doubt's bounds that no weights can keep to ---------------------------------


@pytest.mark.parametrize("bounds", [[0.3, 1.0], [0.0, 0.2], [0.26, 0.3]])
@pytest.mark.parametrize("seed", [3, 8])
def test_bod_bounds_no_weights_meet_leave_bod_not_run_and_the_others_compared(miit, bounds, seed):
    # the bounds are within [0, 1], but no 4 shares summing to 1 keep to them: the whole
    # analysis stopped (exit 2) though bod was only one of the schemes compared
    method = _method(
        bod_bounds=bounds,
        comparison={"schemes": ["instrument", "equal", "entropy", "bod"]},
        uncertainty={"runs": 8, "resamples": 10, "weightings": ["instrument", "equal", "bod"]},
    )
    result = analyse(synthesise(miit, 40, seed), instrument=miit, method=method)
    assert result.problems == {}
    why = result.comparison.not_run["bod"]
    assert "bod_bounds" in why and "m = 4" in why and f"{bounds[0]:g}" in why
    assert "限" in why.render("zh")
    compared = set(result.comparison.summary["scheme"])
    assert compared == {"equal", "entropy", "bod"}
    assert {"dmi_equal", "dmi_entropy"} <= set(result.comparison.companies.columns)
    assert "bod_bounds" in result.uncertainty.not_run["weighting bod"]
    assert set(result.uncertainty.runs["weighting"]) == {"instrument", "equal"}


def test_bod_bounds_no_weights_meet_under_a_bod_nominal_name_the_method_file(miit, tmp_path):
    from dmi.errors import ModelFileError

    path = tmp_path / "m.yaml"
    path.write_text(
        "level: dimension\nnominal: {weighting: bod}\nbod_bounds: [0.3, 1.0]\n", encoding="utf-8"
    )
    with pytest.raises(ModelFileError, match=r"m\.yaml, field bod_bounds: .*m = 4"):
        analyse(synthesise(miit, 30, 3), instrument=miit, method=path)


@pytest.mark.parametrize("seed", [3, 8])
def test_the_target_quantile_of_the_method_file_changes_the_target_index(miit, seed):
    # it could not be set: every part scored the target normalisation at the 0.9 quantile
    answers = synthesise(miit, 60, seed)
    indices = {}
    for q in (0.5, 0.9, 1.0):
        method = _method(nominal={"normalisation": "target"}, target_quantile=q)
        result = analyse(answers, instrument=miit, method=method)
        assert result.method.target_quantile == q
        assert result.to_json()["method"]["target_quantile"] == q
        indices[q] = result.nominal["dmi"].to_numpy()
    default = analyse(answers, instrument=miit, method=_method(nominal={"normalisation": "target"}))
    np.testing.assert_array_equal(default.nominal["dmi"].to_numpy(), indices[0.9])
    # a lower target gives each node full marks sooner: no index falls, some rise
    assert (indices[0.5] >= indices[0.9]).all() and (indices[0.5] > indices[0.9]).any()
    assert (indices[1.0] <= indices[0.9]).all() and (indices[1.0] < indices[0.9]).any()


def test_the_settings_are_taken_by_name_as_before_the_settings_object(miit):
    # compare_schemes(population, bod_bounds=...) and uncertainty(..., ahp_matrix=...) were
    # the public calls before MethodSettings: they failed with a TypeError
    from dmi.analysis import MethodSettings, Population, compare_schemes, uncertainty

    population = Population.from_answers(miit, synthesise(miit, 60, 3))
    given = {"bod_bounds": (0.05, 0.6), "geometric_offset": 0.2}
    by_name = compare_schemes(population, schemes=["equal", "bod"], **given)
    by_object = compare_schemes(
        population, schemes=["equal", "bod"], settings=MethodSettings(**given)
    )
    pd.testing.assert_frame_equal(by_name.companies, by_object.companies)
    assert not by_name.companies.equals(
        compare_schemes(population, schemes=["equal", "bod"]).companies
    )
    runs = {"runs": 8, "weightings": ["equal", "bod"], "seed": 1}
    a = uncertainty(population, **runs, bod_bounds=(0.05, 0.6))
    b = uncertainty(population, **runs, settings=MethodSettings(bod_bounds=(0.05, 0.6)))
    pd.testing.assert_frame_equal(a.companies, b.companies)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bod_bound'"):
        compare_schemes(population, bod_bound=(0, 1))
