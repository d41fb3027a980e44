"""What researchers use to defend an index.

- reliability: :func:`cronbach_alpha`, :func:`kmo`, :func:`bartlett`, :func:`reliability` (per
  dimension, with flags);
- data: :func:`coverage` (the JRC's 65 % rule), :func:`outliers` (the COINr rule),
  :func:`winsorise`, :func:`log_transform`, :func:`impute`, :func:`treat`;
- :func:`effective_weights` (correlation and main effect beside the nominal weights);
- :func:`compare_schemes` (expert, equal, entropy, CRITIC, PCA, AHP, benefit of the doubt side by
  side) and :func:`compare_rankings` (two score tables);
- :func:`uncertainty` (Sobol'/Saltelli design over normalisation x weighting x aggregation x
  weights, per-company intervals, Sobol' indices) and :func:`sobol_indices`;
- :class:`Method` and :func:`load_method` (the method file), :func:`analyse` (all of it, with
  provenance) and its HTML report.

Statistics that cannot be computed raise :class:`NotComputable` with the reason. Formulas and
references: ``docs/methodology.md``.
"""

from dmi.analysis.compare import RankingComparison, compare_rankings
from dmi.analysis.effective import effective_weights, main_effect
from dmi.analysis.method import Method, load_method, read_ahp_matrix
from dmi.analysis.pipeline import Analysis, analyse
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
from dmi.analysis.schemes import (
    Kernel,
    MethodSettings,
    Scheme,
    SchemeComparison,
    compare_schemes,
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
from dmi.analysis.uncertainty import Uncertainty, sobol_indices, uncertainty

__all__ = [
    "AlphaResult",
    "Analysis",
    "BartlettResult",
    "Coverage",
    "Hierarchy",
    "KMOResult",
    "Kernel",
    "Method",
    "MethodSettings",
    "NotComputable",
    "Population",
    "RankingComparison",
    "Reliability",
    "Scheme",
    "SchemeComparison",
    "Treatment",
    "Uncertainty",
    "analyse",
    "bartlett",
    "compare_rankings",
    "compare_schemes",
    "coverage",
    "cronbach_alpha",
    "effective_weights",
    "impute",
    "kmo",
    "load_method",
    "log_transform",
    "main_effect",
    "outliers",
    "read_ahp_matrix",
    "reliability",
    "skew_kurtosis",
    "sobol_indices",
    "treat",
    "uncertainty",
    "winsorise",
]
