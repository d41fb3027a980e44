"""Support tiers: companies clustered on their dimension scores into ordered tiers (1 = most
support needed), with membership confidence, stability checks and an explanation per company.

- :mod:`~dmi.tiers.model`: :class:`TierModel`, the estimator;
- :mod:`~dmi.tiers.kernel`: the scores of rows against the tiers, chunk by chunk (prediction);
- :mod:`~dmi.tiers.cluster`: one clustering of standardised rows, the sample of a large table;
- :mod:`~dmi.tiers.choice`: the choice of the number of tiers;
- :mod:`~dmi.tiers.stability`: bootstrap stability;
- :mod:`~dmi.tiers.explain`: labels, explanations and every sentence they use (zh and en);
- :mod:`~dmi.tiers.report`: the fit report and the counts per tier by group;
- :mod:`~dmi.tiers.files`: the model file's schema and where the shipped models are.
"""

from importlib import import_module
from typing import Any

# imported on first use (PEP 562): the model needs scikit-learn, which a command that only
# parses its options (the CLI's parser takes METHODS) should not pay for
_WHERE = {
    "TierStabilityWarning": "dmi.errors",
    "KChoice": "dmi.tiers.choice",
    "METHODS": "dmi.tiers.cluster",
    "WARD_MAX_ROWS": "dmi.tiers.cluster",
    "DimensionChange": "dmi.tiers.explain",
    "DimensionGap": "dmi.tiers.explain",
    "TierExplanation": "dmi.tiers.explain",
    "TierLabel": "dmi.tiers.explain",
    "TIER_MODEL_FORMAT": "dmi.tiers.files",
    "shipped_tier_model_path": "dmi.tiers.files",
    "TierModel": "dmi.tiers.model",
    "load_shipped_tier_model": "dmi.tiers.model",
    "TierFitReport": "dmi.tiers.report",
    "TierSummary": "dmi.tiers.report",
    "format_tier_report": "dmi.tiers.report",
    "tier_report": "dmi.tiers.report",
    "TierStability": "dmi.tiers.stability",
}

__all__ = [
    "METHODS",
    "TIER_MODEL_FORMAT",
    "WARD_MAX_ROWS",
    "DimensionChange",
    "DimensionGap",
    "KChoice",
    "TierExplanation",
    "TierFitReport",
    "TierLabel",
    "TierModel",
    "TierStability",
    "TierStabilityWarning",
    "TierSummary",
    "format_tier_report",
    "load_shipped_tier_model",
    "shipped_tier_model_path",
    "tier_report",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
