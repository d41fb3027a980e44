"""Ids a spreadsheet has already changed (dmi.io.ids): found in every kind of column."""

from __future__ import annotations

import pandas as pd
import pytest

from dmi.io.ids import EXCEL_ERROR_ID, EXCEL_TEXT_FORMULA_ID, LOST_DIGITS, doubtful_ids


@pytest.mark.parametrize("dtype", [object, "str"])
def test_text_ids_excel_shortened_or_turned_into_errors_are_doubtful(dtype):
    # a CSV opened in Excel and saved again: an 18-digit 统一社会信用代码 is written as Excel
    # shows it (9.13101E+17, its digits gone), a formula's failure as #VALUE!
    cells = ["9.13101E+17", "1.23e+17", "9E+15", "#VALUE!", "#N/A", "1.5E+3", "E+17", "91310"]
    # a file written for Excel to show ids as text: ="0012" (the id left inside a formula)
    cells += ['="0012"', ' = "F-1" ', '=\u00a0"0013"']  # a no-break space: decided alike
    cells += ["SYN-1", "1e14", "#1", "2024/1/5", "a=b", '="0012', "=1+1"]
    at, shown, reasons = doubtful_ids(pd.Series(cells, dtype=dtype))
    assert at.tolist() == [0, 1, 2, 3, 4, 8, 9, 10]
    assert shown == cells[:5] + cells[8:11]
    assert reasons == [LOST_DIGITS] * 3 + [EXCEL_ERROR_ID] * 2 + [EXCEL_TEXT_FORMULA_ID] * 3


@pytest.mark.parametrize("command", ["score", "eligibility"])
def test_a_shortened_or_error_id_in_a_csv_file_is_rejected(tmp_path, capsys, command):
    import dmi
    import dmi.eligibility as el
    from dmi.cli import main
    from dmi.instruments.synth import synthesise

    if command == "score":
        frame = synthesise(dmi.load_instrument("miit-2024-manufacturing"), 5, seed=2)
    else:
        frame = el.synthetic_firms(5, seed=2)
    frame["respondent_id"] = frame["respondent_id"].astype(str)
    frame.loc[1, "respondent_id"] = "9.13101E+17"
    frame.loc[2, "respondent_id"] = "#VALUE!"
    frame.loc[3, "respondent_id"] = '="0012"'
    src, out, rejects = tmp_path / "in.csv", tmp_path / "out.csv", tmp_path / "rej.csv"
    frame.to_csv(src, index=False)
    assert main([command, str(src), "-o", str(out), "--rejects", str(rejects), "-q"]) == 0
    capsys.readouterr()
    got = pd.read_csv(rejects, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert got[["row", "value", "reason"]].values.tolist() == [
        ["3", "9.13101E+17", LOST_DIGITS],
        ["4", "#VALUE!", EXCEL_ERROR_ID],
        ["5", '\'="0012"', EXCEL_TEXT_FORMULA_ID],  # a CSV escapes what Excel would run
    ]
