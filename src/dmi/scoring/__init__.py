"""The scoring engine: answers -> item scores -> normalised, weighted, aggregated index."""

from dmi.scoring.aggregate import AGGREGATIONS
from dmi.scoring.answers import EncodedAnswers, encode_answers
from dmi.scoring.levels import (
    LevelExplanation,
    assign_levels,
    explain_level,
    format_gap,
    format_index,
)
from dmi.scoring.model import (
    OFFICIAL_METHOD,
    WEIGHT_LEVELS,
    WEIGHTINGS,
    BatchResult,
    IndexModel,
)
from dmi.scoring.normalise import NORMALISATIONS, Normaliser

__all__ = [
    "AGGREGATIONS",
    "NORMALISATIONS",
    "OFFICIAL_METHOD",
    "WEIGHTINGS",
    "WEIGHT_LEVELS",
    "BatchResult",
    "EncodedAnswers",
    "IndexModel",
    "LevelExplanation",
    "Normaliser",
    "assign_levels",
    "encode_answers",
    "explain_level",
    "format_gap",
    "format_index",
]
