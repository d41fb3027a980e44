"""dmi: the SME Digital Maturity Index (中小企业数字化发展指数).

Survey answers are scored, normalised and weighted into a composite index per company; see
``docs/`` and the README for the method and the command line.

The names below are imported when first used, so that ``import dmi`` itself is cheap (``dmi
score`` starts reading its file before pandas is imported; see :mod:`dmi._csvstream`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dmi import weights
    from dmi.instrument import Instrument, InstrumentError, available_instruments, load_instrument
    from dmi.scoring import (
        AnswerError,
        BatchResult,
        EncodedAnswers,
        IndexModel,
        NotFittedError,
        encode_answers,
        explain_level,
    )

__version__ = "0.1.0"

# public name -> the module that defines it
_HOMES = {
    "AnswerError": "dmi.scoring",
    "BatchResult": "dmi.scoring",
    "EncodedAnswers": "dmi.scoring",
    "IndexModel": "dmi.scoring",
    "NotFittedError": "dmi.scoring",
    "encode_answers": "dmi.scoring",
    "explain_level": "dmi.scoring",
    "Instrument": "dmi.instrument",
    "InstrumentError": "dmi.instrument",
    "available_instruments": "dmi.instrument",
    "load_instrument": "dmi.instrument",
}


def __getattr__(name: str) -> Any:
    if name in ("weights", "eligibility"):  # subpackages, imported when first used
        return importlib.import_module(f"dmi.{name}")
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
    "BatchResult",
    "EncodedAnswers",
    "IndexModel",
    "Instrument",
    "InstrumentError",
    "NotFittedError",
    "__version__",
    "available_instruments",
    "encode_answers",
    "explain_level",
    "load_instrument",
    "weights",
]
