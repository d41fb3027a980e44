"""dmi: the SME Digital Maturity Index (中小企业数字化发展指数).

Survey answers are scored, normalised and weighted into a composite index per company; see
``ARCHITECTURE.md`` for where each part lives, ``docs/`` and the README for the method and the
command line.

The names below are imported when first used, so that ``import dmi`` itself is cheap (``dmi
score`` starts reading its file before pandas is imported; see :mod:`dmi.io.csvstream`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dmi.bulk import RunSummary, score_file
    from dmi.errors import (
        AnswerError,
        DmiError,
        FileFormatError,
        InstrumentError,
        ModelFileError,
        NotFittedError,
    )
    from dmi.instruments import Instrument, available_instruments, load_instrument
    from dmi.results import Assessment, PeerBenchmark, assess
    from dmi.scoring import (
        BatchResult,
        EncodedAnswers,
        IndexModel,
        encode_answers,
        explain_level,
    )
    from dmi.scoring import weighting as weights
    from dmi.tiers import TierModel

__version__ = "0.1.0"

# public name -> the module that defines it
_HOMES = {
    "AnswerError": "dmi.errors",
    "DmiError": "dmi.errors",
    "FileFormatError": "dmi.errors",
    "InstrumentError": "dmi.errors",
    "ModelFileError": "dmi.errors",
    "NotFittedError": "dmi.errors",
    "BatchResult": "dmi.scoring",
    "EncodedAnswers": "dmi.scoring",
    "IndexModel": "dmi.scoring",
    "encode_answers": "dmi.scoring",
    "explain_level": "dmi.scoring",
    "Instrument": "dmi.instruments",
    "available_instruments": "dmi.instruments",
    "load_instrument": "dmi.instruments",
    "Assessment": "dmi.results",
    "PeerBenchmark": "dmi.results",
    "assess": "dmi.results",
    "TierModel": "dmi.tiers",
    "RunSummary": "dmi.bulk",
    "score_file": "dmi.bulk",
}
# modules offered under a short name
_MODULES = {"weights": "dmi.scoring.weighting", "eligibility": "dmi.eligibility"}


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        value = importlib.import_module(_MODULES[name])
    else:
        home = _HOMES.get(name)
        if home is None:
            raise AttributeError(f"module 'dmi' has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "AnswerError",
    "Assessment",
    "BatchResult",
    "DmiError",
    "EncodedAnswers",
    "FileFormatError",
    "IndexModel",
    "Instrument",
    "InstrumentError",
    "ModelFileError",
    "NotFittedError",
    "PeerBenchmark",
    "RunSummary",
    "TierModel",
    "__version__",
    "assess",
    "available_instruments",
    "eligibility",
    "encode_answers",
    "explain_level",
    "load_instrument",
    "score_file",
    "weights",
]
