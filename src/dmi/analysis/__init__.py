"""What researchers use to defend an index.

- reliability: :func:`cronbach_alpha`, :func:`kmo`, :func:`bartlett`, :func:`reliability` (per
  dimension, with flags);
- data: :func:`coverage` (the JRC's 65 % rule), :func:`outliers` (the COINr rule),
  :func:`winsorise`, :func:`log_transform`, :func:`impute`, :func:`treat`;
- :func:`compare_rankings` (two score tables).

Statistics that cannot be computed raise :class:`NotComputable` with the reason.
"""

from dmi.analysis.compare import RankingComparison, compare_rankings
from dmi.analysis.reliability import (
    AlphaResult,
    BartlettResult,
    KMOResult,
    Reliability,
    bartlett,
    cronbach_alpha,
    kmo,
    reliability,
)
from dmi.analysis.structure import Hierarchy, NotComputable, Population
from dmi.analysis.treatment import (
    Coverage,
    Treatment,
    coverage,
    impute,
    log_transform,
    outliers,
    skew_kurtosis,
    treat,
    winsorise,
)

__all__ = [
    "AlphaResult",
    "BartlettResult",
    "Coverage",
    "Hierarchy",
    "KMOResult",
    "NotComputable",
    "Population",
    "RankingComparison",
    "Reliability",
    "Treatment",
    "bartlett",
    "compare_rankings",
    "coverage",
    "cronbach_alpha",
    "impute",
    "kmo",
    "log_transform",
    "outliers",
    "reliability",
    "skew_kurtosis",
    "treat",
    "winsorise",
]
