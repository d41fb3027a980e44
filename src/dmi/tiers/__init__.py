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

from dmi.errors import TierStabilityWarning
from dmi.tiers.choice import KChoice
from dmi.tiers.cluster import WARD_MAX_ROWS
from dmi.tiers.explain import DimensionChange, DimensionGap, TierExplanation, TierLabel
from dmi.tiers.files import TIER_MODEL_FORMAT, shipped_tier_model_path
from dmi.tiers.model import METHODS, TierModel, load_shipped_tier_model
from dmi.tiers.report import TierFitReport, TierSummary, format_tier_report, tier_report
from dmi.tiers.stability import TierStability

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
