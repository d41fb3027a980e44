"""Iterating in a background thread, a bounded number of items ahead (standard library only).

The chunk reader of :mod:`dmi.bulk.run` and the early read of :mod:`dmi.io.csvstream` both use it:
Arrow parses without holding the GIL, so items are made on one core while they are used on the
other.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any

_DONE = object()


class Ahead:
    """Iterate ``items`` in a thread, from now on, up to ``depth`` items ahead of the consumer.

    Order is kept; an exception in the producer is raised to the consumer at the item where it
    happened; :meth:`close` (the consumer stops early) ends the producer at its next item.
    """

    def __init__(self, items: Iterable[Any], depth: int, name: str) -> None:
        if depth < 1:
            raise ValueError(f"depth: expected 1 or more items ahead, got {depth}")
        self._handoff: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._ended = False
        self._thread = threading.Thread(target=self._produce, args=(items,), name=name, daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self, items: Iterable[Any]) -> None:
        try:
            for item in items:
                if not self._put((item, None)):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            self._put((_DONE, exc))
            return
        self._put((_DONE, None))

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        if self._ended:
            raise StopIteration
        item, error = self._handoff.get()
        if item is _DONE:
            self._ended = True
            self.close()
            if error is not None:
                raise error
            raise StopIteration
        return item

    def close(self) -> None:
        """End the producer (the items not taken are dropped) and wait for its thread."""
        self._stop.set()
        self._thread.join()


def prefetched(items: Iterable[Any], depth: int = 1) -> Iterator[Any]:
    """Iterate ``items`` in a background thread, up to ``depth`` items ahead of the consumer.

    Arrow parses CSV without holding the GIL, so the next chunk is read on the second core
    while this one is scored. Order is kept; an exception in the producer is raised here, at
    the item where it happened; when the consumer stops early the producer stops too.
    """
    ahead = Ahead(items, depth, "dmi-prefetch")
    try:
        yield from ahead
    finally:
        ahead.close()


__all__ = ["Ahead", "prefetched"]
