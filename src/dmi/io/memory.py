"""The memory Arrow allocates from in a whole-file run (``dmi score``, ``dmi eligibility``).

A run makes and lets go of many short-lived column buffers, chunk after chunk, from several
threads. Arrow's default pool on Linux (mimalloc) hands the pages of freed buffers back to the
system soon after, and the next chunk's buffers fault them in again, each zeroed by the kernel
(a tenth of ``dmi eligibility``'s CPU time, sampled); jemalloc keeps them a little longer for
reuse. Measured in alternating pairs of whole processes (2026-12-05, five pairs, medians):
``dmi score`` on 1,000,000 rows 0.94 of the wall time and 0.95 of the CPU (three pairs), its
peak the same (921 MiB); ``dmi eligibility`` on 1,000,000 firms 0.99 of the wall time and the
CPU (noise), its system time 2.6 s instead of 3.2 and its peak 748 MiB instead of 856.

The pool is the process's, so only the command line chooses it (it owns its process), first
thing, before ``dmi score`` starts reading its file early (:mod:`dmi.io.csvstream`): buffers
made from two pools would leave both holding freed pages (chosen after the early read had
started, ``dmi score`` peaked at 1,029 MiB instead of 963, with 1,000 ms below). A program calling :func:`dmi.bulk.score_file` keeps its own choice.
Like :mod:`dmi.io.csvstream`, this module imports neither pandas nor the rest of dmi.
"""

from __future__ import annotations

import os

__all__ = ["DECAY_MS", "POOL_VARIABLE", "use_bulk_memory_pool"]

POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"
"""Arrow's own setting of its default pool: when the user has set it, it is kept."""

DECAY_MS = 300
"""How long jemalloc keeps freed pages before it hands them back (ms), chosen on ``dmi score``
(paired runs against mimalloc): 300 ms, 0.94 of the wall time at the same peak; 1,000 ms 0.92
and 3,000 ms 0.90 of it, but peaks 40 and 75 MiB higher (as with Arrow's own setting, about
70 MiB higher); 0 ms was slower than mimalloc."""


def use_bulk_memory_pool() -> str:
    """Make jemalloc Arrow's default memory pool, unless the user chose one or this build of
    Arrow has none (Windows wheels); buffers made before keep the pool they came from.

    Returns
    -------
    str
        The name of the pool now in use (``"jemalloc"``, ``"mimalloc"`` or ``"system"``).
    """
    import pyarrow as pa

    if not os.environ.get(POOL_VARIABLE):
        try:
            pool = pa.jemalloc_memory_pool()
            pa.jemalloc_set_decay_ms(DECAY_MS)
            pa.set_memory_pool(pool)
        except NotImplementedError:  # Arrow built without jemalloc: its default stays
            pass
    return str(pa.default_memory_pool().backend_name)
