"""The column names dmi's tables share (DESIGN's shared vocabulary), for every layer."""

from __future__ import annotations

__all__ = ["ID_COLUMN", "REJECT_COLUMNS"]

ID_COLUMN = "respondent_id"
"""The company's id, in every answers, scores and rejects table."""

REJECT_COLUMNS = ["row", "respondent_id", "column", "value", "reason"]
"""The rejects table: spreadsheet row number (the header is row 1), the id, the column, the value
as it was, and the reason it was not accepted."""
