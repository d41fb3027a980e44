"""``python -m dmi`` and the ``dmi`` console script: :func:`dmi.cli.main`, started early.

``dmi score FILE.csv ...`` starts parsing FILE in a thread before the rest of dmi (and pandas)
is imported, which takes about a second on one core (see :mod:`dmi._csvstream`). Every command
then runs exactly as :func:`dmi.cli.main` runs it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from dmi._csvstream import drop_early_read, start_early_read


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dmi`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    start_early_read(args)
    try:
        from dmi.cli import main as cli_main

        return cli_main(args)
    finally:
        drop_early_read()


if __name__ == "__main__":
    sys.exit(main())
