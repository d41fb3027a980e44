"""Iterating in a background thread (dmi.io.background)."""

from __future__ import annotations

import threading

import pytest

from dmi.io.background import prefetched


def test_prefetched_keeps_order_raises_where_it_failed_and_stops_early():
    assert list(prefetched(iter(range(50)), depth=3)) == list(range(50))

    def failing():
        yield 1
        yield 2
        raise ValueError("row 3 is broken")

    got = []
    with pytest.raises(ValueError, match="row 3 is broken"):
        for item in prefetched(failing()):
            got.append(item)
    assert got == [1, 2]

    produced = []

    def endless():
        while True:
            produced.append(len(produced))
            yield produced[-1]

    before = set(threading.enumerate())
    stream = prefetched(endless(), depth=2)
    assert [next(stream) for _ in range(5)] == [0, 1, 2, 3, 4]
    started = set(threading.enumerate()) - before
    assert [t.name for t in started] == ["dmi-prefetch"]
    stream.close()  # the consumer stops: the producer thread ends instead of running on
    assert not any(t.is_alive() for t in started)
    assert len(produced) <= 5 + 2 + 1
