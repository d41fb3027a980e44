"""dmi.errors: every mistake in what dmi was given is a DmiError (README), a file that is not
there a FileNotFoundError too."""

from __future__ import annotations

import numpy as np
import pytest

import dmi
import dmi.eligibility as el
from dmi.errors import DmiError, ParameterError


@pytest.mark.parametrize(
    "call",
    [
        lambda tmp: dmi.load_instrument("nope"),
        lambda tmp: el.load_policy("nope.yaml"),
        lambda tmp: el.evaluate({}, policy="2030"),
        lambda tmp: dmi.io.open_table(tmp / "none.csv"),
        lambda tmp: dmi.io.read_mapping_file(tmp / "nomap.csv"),
        lambda tmp: dmi.TierModel.load(tmp / "nope.json"),
        lambda tmp: dmi.score_file(
            tmp / "none.csv",
            tmp / "o.csv",
            dmi.IndexModel(dmi.load_instrument("miit-2024-manufacturing")).fit(),
        ),
    ],
)
def test_a_file_or_a_name_that_is_not_there_is_a_dmi_error_and_a_file_not_found(tmp_path, call):
    # they were plain FileNotFoundErrors: `except dmi.DmiError` missed them
    with pytest.raises(DmiError) as info:
        call(tmp_path)
    assert isinstance(info.value, FileNotFoundError)


def test_a_pairwise_table_given_wrong_is_a_dmi_error():
    pairwise_matrix = dmi.weights.pairwise_matrix  # as the README writes it

    missing = np.array([[1, np.nan, 3], [np.nan, 1, 2], [1 / 3, 1 / 2, 1]])
    with pytest.raises(ParameterError, match="missing judgement for pair"):
        pairwise_matrix(missing, ["a", "b", "c"])
    with pytest.raises(DmiError, match="square"):
        pairwise_matrix(np.ones((2, 3)))
