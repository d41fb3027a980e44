"""Support tiers: companies clustered on their dimension scores into ordered tiers (1 = most
support needed), with membership confidence, stability checks and an explanation per company."""

from dmi.tiers.model import (
    METHODS,
    TIER_MODEL_FORMAT,
    WARD_MAX_ROWS,
    DimensionChange,
    DimensionGap,
    KChoice,
    TierExplanation,
    TierFitReport,
    TierLabel,
    TierModel,
    TierStability,
    TierStabilityWarning,
    TierSummary,
    format_tier_report,
    load_shipped_tier_model,
    shipped_tier_model_path,
    tier_report,
)

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
