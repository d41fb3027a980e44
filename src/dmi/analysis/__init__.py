"""What researchers use to defend an index: comparisons of weighting schemes (and, as they are
added, reliability, data treatment, uncertainty and sensitivity)."""

from dmi.analysis.compare import RankingComparison, compare_rankings

__all__ = ["RankingComparison", "compare_rankings"]
