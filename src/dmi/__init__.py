"""dmi: the SME Digital Maturity Index (中小企业数字化发展指数).

Survey answers are scored, normalised and weighted into a composite index per company; see
``docs/`` and the README for the method and the command line.
"""

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
