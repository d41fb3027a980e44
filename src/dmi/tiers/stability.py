"""Bootstrap stability of the tiers, as in Hennig's clusterboot.

The model is refitted on ``n_bootstrap`` resamples (drawn with replacement from the rows fitted
on, each of at most ``bootstrap_rows`` rows, so that checking a 200,000-row fit does not take 20
full refits); each refit labels the rows fitted on, and the labels are compared with the main
fit's by the adjusted Rand index and, per tier, by the Jaccard index of the best-matching cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dmi.tiers.cluster import WARD_MAX_ROWS, fit_once

__all__ = ["TierStability", "bootstrap_stability", "instability_message"]


@dataclass(frozen=True)
class TierStability:
    """Bootstrap stability of the tiers (the clusterboot approach).

    ``ari_*`` compare each refit's labelling of the rows fitted on with the main fit's (adjusted
    Rand index, 1 = identical, about 0 = chance); ``jaccard_*[k]`` is, for tier k + 1, the Jaccard
    index of the refit's best-matching cluster, averaged (or minimised) over the resamples.
    """

    n_bootstrap: int
    resample_rows: int
    ari_mean: float
    ari_min: float
    jaccard_mean: tuple[float, ...]
    jaccard_min: tuple[float, ...]
    min_ari: float
    min_jaccard: float
    stable: bool


def bootstrap_stability(
    z: np.ndarray,
    main: np.ndarray,
    k: int,
    method: str,
    seed: np.random.SeedSequence,
    *,
    n_bootstrap: int,
    bootstrap_rows: int,
    min_ari: float,
    min_jaccard: float,
) -> tuple[TierStability, list[str]]:
    """Refit on ``n_bootstrap`` resamples and compare each refit's labels with ``main``.

    Parameters
    ----------
    z : ndarray of shape (n_rows, n_features)
        The standardised rows fitted on.
    main : ndarray of shape (n_rows,)
        The main fit's 0-based tier of each row.
    k : int
        The number of tiers.
    method : str
        ``kmeans``, ``gmm`` or ``ward``.
    seed : SeedSequence
        Draws the resamples and the refits' seeds.
    n_bootstrap, bootstrap_rows, min_ari, min_jaccard
        As :class:`~dmi.tiers.TierModel`'s parameters of the same names.

    Returns
    -------
    (TierStability, list of str)
        The measures, and notes for the fit report (resamples that could not be clustered,
        refits that did not converge).
    """
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(seed)
    n = len(z)
    m = min(bootstrap_rows, n)
    if method == "ward":
        m = min(m, WARD_MAX_ROWS)
    main_sizes = np.bincount(main, minlength=k)
    aris, jaccards = [], []
    failed = unconverged = 0
    for _ in range(n_bootstrap):
        idx = rng.integers(0, n, size=m)
        fit_seed = int(rng.integers(0, 2**31 - 1))
        zb = z[idx]
        if len(np.unique(zb, axis=0)) < k:
            failed += 1
            aris.append(0.0)
            jaccards.append(np.zeros(k))
            continue
        fit = fit_once(zb, k, method, fit_seed)
        unconverged += bool(fit.notes)
        boot = fit.kernel().label(z)
        aris.append(float(adjusted_rand_score(main, boot)))
        table = np.bincount(main * k + boot, minlength=k * k).reshape(k, k)
        union = main_sizes[:, None] + np.bincount(boot, minlength=k)[None, :] - table
        with np.errstate(invalid="ignore", divide="ignore"):
            jac = np.where(union > 0, table / np.maximum(union, 1), 0.0).max(axis=1)
        jaccards.append(jac)
    jac_all = np.vstack(jaccards)
    ari_mean = float(np.mean(aris))
    jac_mean = jac_all.mean(axis=0)
    stable = bool(ari_mean >= min_ari and np.all(jac_mean >= min_jaccard))
    notes = []
    if failed:
        notes.append(
            f"{failed} of {n_bootstrap} bootstrap resamples had fewer than {k} "
            "distinct rows and count as complete disagreement"
        )
    if unconverged:
        notes.append(f"{unconverged} of {n_bootstrap} bootstrap refits did not converge")
    return TierStability(
        n_bootstrap=n_bootstrap,
        resample_rows=m,
        ari_mean=ari_mean,
        ari_min=float(np.min(aris)),
        jaccard_mean=tuple(float(v) for v in jac_mean),
        jaccard_min=tuple(float(v) for v in jac_all.min(axis=0)),
        min_ari=float(min_ari),
        min_jaccard=float(min_jaccard),
        stable=stable,
    ), notes


def instability_message(s: TierStability) -> str:
    weak = [
        f"tier {t + 1} mean Jaccard {v:.2f}"
        for t, v in enumerate(s.jaccard_mean)
        if v < s.min_jaccard
    ]
    parts = [f"mean adjusted Rand index {s.ari_mean:.2f} (needs >= {s.min_ari:g})"]
    if weak:
        parts.append(", ".join(weak) + f" (each needs >= {s.min_jaccard:g})")
    return (
        "the tiers are not stable: refitted on bootstrap resamples they change too much ("
        + "; ".join(parts)
        + "). Which companies share a tier depends on who happens to be "
        "in the reference population; try fewer tiers, another method or a larger population"
    )
