"""Finding the respondent ids that repeat across a whole file, with flat memory.

Two ways, chosen by the run (:mod:`dmi.bulk.run`) and used by either engine:

- the duplicate pass (:func:`find_duplicates`): a read of the id column only, in a thread beside
  the first chunks, which are scored provisionally meanwhile
  (:class:`dmi.bulk.kernel.ChunkTask`);
- read once (:class:`IdLedger`): each chunk is scored as if no id repeated and its ids are noted;
  when the whole file has been read, the chunks holding an id that repeats are read and scored
  again and their rows written over. It needs outputs whose earlier chunks can be written again
  (CSV), and saves the pass's read of the file: about a fifth of a run on a million rows.

Either way the index is the same (:class:`DuplicateIndex`), and so are the outputs.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dmi.bulk.checks import control_characters, looks_like_totals
from dmi.io import Chunk, TableReader
from dmi.scoring.answers import arrow_id_text, id_text

__all__ = ["DuplicateIndex", "IdLedger", "RunStopped", "find_duplicates", "id_keys"]


@dataclass
class DuplicateIndex:
    """Rows of every respondent id that occurs more than once in a file.

    Attributes
    ----------
    rows
        Normalised id -> its row numbers, ascending (only ids seen twice or more).
    """

    rows: dict[str, list[int]] = field(default_factory=dict)

    def repeats(self, ids: np.ndarray) -> np.ndarray:
        """Which of these normalised ids repeat in the file."""
        if not self.rows:
            return np.zeros(len(ids), dtype=bool)
        return pd.Series(ids, dtype=object).isin(self.rows.keys()).to_numpy()

    def reasons(self, ids: np.ndarray, rows: np.ndarray, policy: str) -> tuple[np.ndarray, list]:
        """Which of these rows the policy rejects, and why (naming the other rows)."""
        reject = np.zeros(len(ids), dtype=bool)
        reasons: list[str] = []
        if not self.rows:
            return reject, reasons
        candidates = np.flatnonzero(self.repeats(ids))
        for i in candidates.tolist():
            rid, row = ids[i], int(rows[i])
            same = self.rows[rid]
            if policy == "keep-first" and row == same[0]:
                continue
            if policy == "keep-last" and row == same[-1]:
                continue
            reject[i] = True
            if policy == "reject":
                others = [r for r in same if r != row]
                shown = ", ".join(map(str, others[:5])) + (" ..." if len(others) > 5 else "")
                word = "row" if len(others) == 1 else "rows"
                reasons.append(f"duplicate respondent_id (also on {word} {shown})")
            else:
                kept = same[0] if policy == "keep-first" else same[-1]
                reasons.append(f"duplicate respondent_id (row {kept} is the one taken: {policy})")
        return reject, reasons


class RunStopped(RuntimeError):
    """The run was stopped (an error elsewhere, or the caller gave up) before this finished."""


def id_keys(column: pd.Series, rows: np.ndarray) -> tuple[Any, np.ndarray]:
    """A chunk's normalised ids and their row numbers, as the duplicate index counts them.

    Blank ids, ids with a control character (no id: "F-001" and a line break is not "F-001")
    and totals rows are left out (they are rejected for their own reason). The ids stay in
    Arrow (a CSV's text column): only the repeated ones become Python text.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = arrow_id_text(column)
    if ids is None:
        ids = pa.array(id_text(column), type=pa.large_string())
    keep = (np.asarray(pc.binary_length(ids)) > 0) & ~looks_like_totals(column)
    keep &= ~control_characters(column)
    return ids.filter(keep).cast(pa.large_string()), rows[keep]


def _repeated_ids(keys: list[Any], numbers: list[np.ndarray]) -> tuple[DuplicateIndex, np.ndarray]:
    """The index of the ids that occur more than once among ``keys`` (from :func:`id_keys`),
    and the positions of their rows in the keys laid end to end."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not keys:
        return DuplicateIndex(), np.empty(0, dtype=np.intp)
    all_ids = pa.chunked_array(keys, type=pa.large_string()).combine_chunks()
    all_rows = np.concatenate(numbers)
    codes = np.asarray(pc.dictionary_encode(all_ids).indices, dtype=np.int64)  # without the GIL
    repeated = np.flatnonzero(np.bincount(codes)[codes] > 1) if len(codes) else codes
    index: dict[str, list[int]] = {}
    for rid, row in zip(all_ids.take(repeated).to_pylist(), all_rows[repeated].tolist()):
        index.setdefault(rid, []).append(row)
    for rows in index.values():
        rows.sort()
    return DuplicateIndex(index), repeated


def find_duplicates(
    reader: TableReader, id_header: str | None, stop: threading.Event | None = None
) -> DuplicateIndex:
    """The cheap first pass: read only the id column and find the ids that repeat.

    Blank ids and totals rows are left out (they are rejected for their own reason). Memory
    is one text column of the file, not the file. When ``stop`` is set, the pass ends at the
    next chunk with :class:`RunStopped`.
    """
    if id_header is None:
        return DuplicateIndex()
    keys: list[Any] = []
    numbers: list[np.ndarray] = []
    for chunk in reader.chunks(columns=[id_header]):
        if stop is not None and stop.is_set():
            raise RunStopped("the duplicate pass was stopped: the run ended before it")
        ids, rows = id_keys(chunk.frame[id_header], chunk.rows)
        keys.append(ids)
        numbers.append(rows)
    return _repeated_ids(keys, numbers)[0]


class IdLedger:
    """The ids of the chunks of a run that reads the file once, without the duplicate pass.

    Each chunk adds its ids as it is scored. Once the reader has said how many chunks the file
    has (:meth:`expect`) and all of them have, the ids that repeat are worked out in a thread,
    beside the scoring and writing of the last chunks; :meth:`settle` gives the result.
    """

    def __init__(self, id_header: str) -> None:
        self.id_header = id_header
        self.active = True  # False when the run took the duplicate pass after all
        self._keys: dict[int, tuple[Any, np.ndarray]] = {}
        self._lock = threading.Lock()
        self._total: int | None = None
        self._settled: Future[tuple[DuplicateIndex, list[int]]] | None = None

    def add(self, number: int, chunk: Chunk) -> tuple[Any, np.ndarray]:
        """Note the ids of chunk ``number`` (once), and return them as :func:`id_keys` does."""
        keys = self._keys.get(number)
        if keys is None:
            keys = id_keys(chunk.frame[self.id_header], chunk.rows)
            with self._lock:
                self._keys[number] = keys
                self._start_when_complete()
        return keys

    def expect(self, total: int) -> None:
        """The file has ``total`` chunks."""
        with self._lock:
            self._total = total
            self._start_when_complete()

    def settle(self) -> tuple[DuplicateIndex, list[int]]:
        """The index of the ids that repeat in the file, and the chunks holding one of them."""
        with self._lock:
            settled = self._settled
        return self._repeats() if settled is None else settled.result()

    def _start_when_complete(self) -> None:
        if self._settled is None and len(self._keys) == self._total:
            settled = self._settled = Future()

            def work() -> None:
                try:
                    settled.set_result(self._repeats())
                except BaseException as exc:  # raised by settle()
                    settled.set_exception(exc)

            threading.Thread(target=work, name="dmi-ledger", daemon=True).start()

    def _repeats(self) -> tuple[DuplicateIndex, list[int]]:
        numbers = sorted(self._keys)
        index, repeated = _repeated_ids(
            [self._keys[j][0] for j in numbers], [self._keys[j][1] for j in numbers]
        )
        chunk_of = np.repeat(
            np.array(numbers, dtype=np.intp), [len(self._keys[j][1]) for j in numbers]
        )
        return index, sorted(set(chunk_of[repeated].tolist()))
