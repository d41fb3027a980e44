"""The method file: defaults, validation that names the file and the field, AHP judgements."""

from __future__ import annotations

import numpy as np
import pytest

from dmi.analysis import Method, load_method, read_ahp_matrix
from dmi.analysis.method import ahp_matrix_from_judgements
from dmi.errors import ModelFileError, UsageError


def test_no_file_and_an_empty_file_are_the_default_method(tmp_path):
    default, info = load_method(None)
    assert default == Method() and info == {"path": None, "sha256": None}
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    method, info = load_method(empty)
    assert method == Method()
    assert info["sha256"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_a_method_file_round_trips_through_its_yaml(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(
        "level: dimension\n"
        "nominal: {weighting: equal, normalisation: rank}\n"
        "uncertainty: {runs: 64, seed: 9, weightings: [equal, entropy],"
        " normalisations: [min-max]}\n"
        "treatment: {outliers: winsorise-then-log, imputation: group-median, group_by: sector}\n",
        encoding="utf-8",
    )
    method, _ = load_method(path)
    assert method.nominal.normalisation == "percentile"  # aliases resolved
    assert method.uncertainty.normalisations == ["minmax"]
    again = tmp_path / "again.yaml"
    again.write_text(method.to_yaml(), encoding="utf-8")
    assert load_method(again)[0] == method


@pytest.mark.parametrize(
    "text,field,words",
    [
        ("uncertainty: {runs: 0}\n", "uncertainty.runs", "greater than or equal to 1"),
        ("uncertainty: {weightings: [entropy, magic]}\n", "uncertainty.weightings.1", "instrument"),
        ("nominal: {normalisation: log}\n", "nominal.normalisation", "goalposts"),
        ("level: company\n", "level", "indicator"),
        ("treatment: {outliers: trim}\n", "treatment.outliers", "winsorise"),
        ("reliability: {alpha_min: 1.5}\n", "reliability.alpha_min", "less than or equal"),
        ("colour: blue\n", "colour", "unknown setting"),
        ("format: dmi-analysis-method/9\n", "format", "dmi-analysis-method/1"),
        # a grouped imputation with no group
        ("treatment: {imputation: group-mean}\n", "treatment.group_by", "group-mean"),
        ("treatment: {imputation: group-median, group_by: ''}\n", "treatment.group_by", "sector"),
        # a group with an imputation that takes none: it was silently ignored
        ("treatment: {imputation: mean, group_by: sector}\n", "treatment.group_by", "group-mean"),
        ("treatment: {imputation: median, group_by: region}\n", "treatment.group_by", "median"),
        ("treatment: {group_by: sector}\n", "treatment.group_by", "imputation none"),
        (
            "treatment: {imputation: none, group_by: size_class}\n",
            "treatment.group_by",
            "group-median",
        ),
        ("target_quantile: 0\n", "target_quantile", "greater than 0"),
        ("target_quantile: 1.5\n", "target_quantile", "less than or equal to 1"),
        ("target_quantile: -0.2\n", "target_quantile", "greater than 0"),
        ("target_quantile: high\n", "target_quantile", "'high'"),
        ("bod_bounds: [0.5, 0.2]\n", "bod_bounds", "0 <= lower <= upper <= 1"),
        ("bod_bounds: [-0.1, 0.9]\n", "bod_bounds", "got [-0.1, 0.9]"),
        ("bod_bounds: [0.1, 1.5]\n", "bod_bounds", "got [0.1, 1.5]"),
    ],
)
def test_a_broken_method_file_names_the_file_and_the_field(tmp_path, text, field, words):
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ModelFileError) as caught:
        load_method(path)
    message = str(caught.value)
    assert message.startswith(f"{path}, field {field}: ")
    assert words in message
    assert caught.value.field == field


def test_not_yaml_or_not_a_mapping(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("uncertainty: [runs: 3\n", encoding="utf-8")
    with pytest.raises(ModelFileError, match="not a valid YAML file"):
        load_method(path)
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(ModelFileError, match="expected a mapping"):
        load_method(path)
    with pytest.raises(FileNotFoundError, match="no such method file"):
        load_method(tmp_path / "missing.yaml")


NODES = ["a", "b", "c"]


def test_judgements_with_fractions_build_a_reciprocal_matrix():
    matrix = ahp_matrix_from_judgements(
        NODES, [["a", "b", 3], ["b", "c", "1/2"], ["c", "a", "1/6"]], "t"
    )
    expected = np.array([[1, 3, 6], [1 / 3, 1, 0.5], [1 / 6, 2, 1]])
    np.testing.assert_allclose(matrix, expected)


@pytest.mark.parametrize(
    "judgements,match",
    [
        ([["a", "b", 3], ["b", "c", 2]], "1 pairs are not judged: \\(a, c\\)"),
        ([["a", "b", 3], ["b", "a", 2], ["a", "c", 1], ["b", "c", 1]], "judged twice"),
        ([["a", "b", 0], ["a", "c", 1], ["b", "c", 1]], "positive number"),
        ([["a", "b", "x/2"], ["a", "c", 1], ["b", "c", 1]], "positive number"),
        ([["a", "d", 2], ["a", "c", 1], ["b", "c", 1]], "names 'd'"),
    ],
)
def test_bad_judgements_are_named(judgements, match):
    with pytest.raises(UsageError, match=match):
        ahp_matrix_from_judgements(NODES, judgements, "judgements.yaml")


def test_judgement_files_yaml_and_csv(tmp_path):
    yaml_file = tmp_path / "j.yaml"
    yaml_file.write_text(
        "judgements:\n  - [a, b, 3]\n  - [a, c, '1/3']\n  - [b, c, 1/5]\n", encoding="utf-8"
    )
    from_yaml = read_ahp_matrix(yaml_file, NODES)
    csv_file = tmp_path / "m.csv"
    csv_file.write_text(",a,b,c\na,1,3,1/3\nb,1/3,1,1/5\nc,3,5,1\n", encoding="utf-8")
    from_csv = read_ahp_matrix(csv_file, NODES)
    np.testing.assert_allclose(from_yaml, from_csv)
    assert from_csv[0, 2] == pytest.approx(1 / 3)
    csv_file.write_text(",a,b\na,1,3\nb,1/3,1\n", encoding="utf-8")
    with pytest.raises(UsageError, match="exactly the nodes a, b, c"):
        read_ahp_matrix(csv_file, NODES)


@pytest.mark.parametrize("q", [0.01, 0.5, 0.9, 1])
def test_the_target_quantile_is_a_setting_of_the_method_file(tmp_path, q):
    path = tmp_path / "m.yaml"
    path.write_text(f"target_quantile: {q}\n", encoding="utf-8")
    method, _ = load_method(path)
    assert method.target_quantile == q and method.settings().target_quantile == q
    assert f"target_quantile: {q}" in method.to_yaml()
    assert load_method(None)[0].target_quantile == 0.9
