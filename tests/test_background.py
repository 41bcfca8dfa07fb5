"""io.background: a generator run in a forked child (``oncorisk call`` on a GPU builds its tensors there while torch
loads)."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from oncorisk.errors import UserError
from oncorisk.io.background import Background


def _blocks(n: int, fail_at: int | None = None, die_at: int | None = None):
    for i in range(n):
        if i == fail_at:
            raise UserError(f"block {i}: bad value: fix it")
        if i == die_at:
            os._exit(3)
        yield i, np.full((1000, 5), i, dtype=np.float16)


def test_items_arrive_in_order_and_equal_to_running_in_process():
    with Background(_blocks, 7) as bg:
        got = list(bg)
    want = list(_blocks(7))
    assert [i for i, _ in got] == list(range(7))
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(got, want))


def test_an_error_in_the_child_reaches_the_parent_with_its_message():
    seen = []
    with pytest.raises(UserError, match="block 2: bad value: fix it"):
        with Background(_blocks, 5, 2) as bg:
            for i, _ in bg:
                seen.append(i)
    assert seen == [0, 1]


def test_a_child_that_dies_is_an_error_not_a_hang():
    with pytest.raises(RuntimeError, match="exit code 3"):
        with Background(_blocks, 5, None, 1) as bg:
            list(bg)


def test_leaving_early_stops_the_child():
    t = time.monotonic()
    with Background(_blocks, 10_000) as bg:  # far more than the queue holds: the child blocks on a full queue
        proc = bg._proc
        next(iter(bg))
    assert time.monotonic() - t < 10
    assert not proc.is_alive()


def test_without_fork_the_generator_runs_in_process(monkeypatch):
    import multiprocessing

    def no_fork(method=None):
        raise ValueError(f"cannot find context for {method!r}")

    monkeypatch.setattr(multiprocessing, "get_context", no_fork)
    with Background(_blocks, 3) as bg:
        assert bg._proc is None
        assert [i for i, _ in bg] == [0, 1, 2]
    with pytest.raises(UserError, match="block 1"):
        with Background(_blocks, 3, 1) as bg:
            list(bg)
