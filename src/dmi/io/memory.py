"""The memory Arrow allocates from in a whole-file run (``dmi score``, ``dmi eligibility``).

A run makes and lets go of many short-lived column buffers, chunk after chunk, from several
threads. Arrow's default pool on Linux (mimalloc) hands the pages of freed buffers back to the
system soon after, and the next chunk's buffers fault them in again, each zeroed by the kernel
(a tenth of ``dmi eligibility``'s CPU time, sampled); jemalloc keeps them a little longer for
reuse (:data:`DECAY_MS`). Measured in alternating pairs of whole processes (2026-12-05,
medians): ``dmi score`` on 1,000,000 rows 0.94 of the wall time and 0.95 of the CPU, its peak
the same (921 MiB); ``dmi eligibility`` on 1,000,000 firms, with 300 ms, 0.99 of the wall time
and the CPU (noise), its system time 2.6 s instead of 3.2 and its peak 748 MiB instead of 856,
and with its 3,000 ms 0.98 of that wall time and 0.95 of that CPU, its peak 825 MiB.

The pool is the process's, so only the command line chooses it (it owns its process), first
thing, before ``dmi score`` starts reading its file early (:mod:`dmi.io.csvstream`): buffers
made from two pools would leave both holding freed pages (chosen after the early read had
started, ``dmi score`` peaked at 1,029 MiB instead of 963, with 1,000 ms). A program calling
:func:`dmi.bulk.score_file` keeps its own choice. Like :mod:`dmi.io.csvstream`, this module
imports neither pandas nor the rest of dmi.
"""

from __future__ import annotations

import os

__all__ = ["DECAY_MS", "POOL_VARIABLE", "use_bulk_memory_pool"]

POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"
"""Arrow's own setting of its default pool: when the user has set it, it is kept."""

DECAY_MS = {"score": 300, "eligibility": 3000}
"""How long jemalloc keeps freed pages before it hands them back (ms), per command: the longer,
the fewer pages faulted in again, and the more memory held. Paired runs, 2026-12-05: ``dmi
score`` (whose peak is near the 1 GB goal) 300 ms, 0.94 of mimalloc's wall time at the same
peak; 1,000 ms 0.92 and 3,000 ms 0.90 of it, but peaks 41 and 72 MiB higher; Arrow's own
setting 3 MiB higher in one call and 41 in another; 0 ms slower than mimalloc (timed without
the early read). ``dmi eligibility`` 3,000 ms: against 300 ms 0.98 of the wall time and 0.95
of the CPU (system time 1.7 s against 2.6), its peak 825 MiB against 742 (and 856 with
mimalloc)."""


def use_bulk_memory_pool(command: str) -> str:
    """Make jemalloc Arrow's default memory pool for a run of ``command`` (one of
    :data:`DECAY_MS`), unless the user chose one or this build of Arrow has none (Windows
    wheels); buffers made before keep the pool they came from.

    Parameters
    ----------
    command : {"score", "eligibility"}
        The command about to run: how long freed pages are kept (:data:`DECAY_MS`).

    Returns
    -------
    str
        The name of the pool now in use (``"jemalloc"``, ``"mimalloc"`` or ``"system"``).

    Raises
    ------
    ValueError
        ``command`` is not a whole-file command.
    """
    import pyarrow as pa

    if command not in DECAY_MS:
        expected = ", ".join(DECAY_MS)
        raise ValueError(f"{command!r} is not a whole-file command; expected one of {expected}")
    if not os.environ.get(POOL_VARIABLE):
        try:
            pool = pa.jemalloc_memory_pool()
            pa.jemalloc_set_decay_ms(DECAY_MS[command])
            pa.set_memory_pool(pool)
        except NotImplementedError:  # Arrow built without jemalloc: its default stays
            pass
    return str(pa.default_memory_pool().backend_name)
