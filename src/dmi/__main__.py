"""``python -m dmi`` and the ``dmi`` console script: :func:`dmi.cli.main`, started early.

Three things make a run of ``dmi score`` (or ``dmi eligibility``) on a big file start sooner
and run smoother; none changes what any command does:

- the run's Arrow memory comes from jemalloc, chosen first thing (see :mod:`dmi.io.memory`);
- ``dmi score FILE.csv ...`` starts parsing FILE in a thread before the rest of dmi (and
  pandas) is imported, which takes about a second on one core (see :mod:`dmi.io.csvstream`);
- the garbage collector is off while those modules are imported, and the objects they made are
  then frozen (:func:`gc.freeze`): they live as long as the process, and a full collection in
  the middle of a million-row run would otherwise walk them all (about 0.2 s of stalls).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence

from dmi.io.csvstream import drop_early_read, start_early_read
from dmi.io.memory import DECAY_MS, use_bulk_memory_pool


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dmi`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in DECAY_MS:  # a whole-file command
        use_bulk_memory_pool(args[0])  # before the early read makes its first buffers
    start_early_read(args)
    collecting = gc.isenabled()
    freezing = False
    gc.disable()
    try:
        try:
            from dmi.cli import main as cli_main
        except KeyboardInterrupt:  # Ctrl-C while starting: as dmi.cli reports it later on
            print("dmi: interrupted", file=sys.stderr)
            return 130
        finally:
            if collecting:
                gc.enable()
        # only when nothing is frozen yet: unfreezing afterwards must not thaw a caller's objects
        freezing = gc.get_freeze_count() == 0
        if freezing:
            gc.freeze()
        return cli_main(args)
    finally:
        if freezing:
            gc.unfreeze()  # for a caller that goes on in the same process
        drop_early_read()


if __name__ == "__main__":
    sys.exit(main())
