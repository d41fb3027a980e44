"""The scoring engine: answers -> item scores -> normalised, weighted, aggregated index.

The names below are imported on first use (PEP 562): the model needs scikit-learn, which the
commands that only read answers (``dmi eligibility``, the bulk checks) should not pay for.
"""

from importlib import import_module
from typing import Any

_WHERE = {
    "AGGREGATIONS": "aggregate",
    "EncodedAnswers": "answers",
    "encode_answers": "answers",
    "LevelExplanation": "levels",
    "assign_levels": "levels",
    "explain_level": "levels",
    "format_gap": "levels",
    "format_index": "levels",
    "OFFICIAL_METHOD": "model",
    "WEIGHT_LEVELS": "weighting",
    "WEIGHTINGS": "weighting",
    "BatchResult": "model",
    "IndexModel": "model",
    "NORMALISATIONS": "normalise",
    "Normaliser": "normalise",
}

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


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(import_module(f"dmi.scoring.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
