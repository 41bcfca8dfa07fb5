"""Run a generator in a forked child process and stream its items back, in order.

``oncorisk call`` on a GPU uses it to build the tensors from the BAMs while the parent imports torch and loads the
model (about a second of start-up that would otherwise come first): the two overlap on two cores. The child is
forked before torch is imported, and nothing random runs in it, so the output is the same as in one process. (On the
CPU, ``call`` runs the model without torch, caller/cpu.py, in one process.)

Where ``fork`` does not exist (Windows), the generator simply runs in the calling process.
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
import queue
import signal
from typing import Any, Callable, Iterable, Iterator

DEPTH = 2  # items the child may run ahead of the parent (bounds memory: two partitions)
POLL_S = 1.0  # how often a waiting parent checks that the child is still alive


def _produce(q, fn: Callable[..., Iterable], args: tuple) -> None:
    # the parent handles Ctrl-C and stops the child with SIGTERM (close()); the parent's own handlers, inherited
    # by the fork, would print a second traceback
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        for item in fn(*args):
            q.put(("item", item))
        q.put(("done", None))
    except BaseException as e:  # handed to the parent, raised there with its own message
        try:
            pickle.dumps(e)
        except Exception:  # an exception that does not pickle still reaches the parent, as text
            e = RuntimeError(f"{type(e).__name__}: {e}")
        q.put(("error", e))
    finally:
        q.close()
        q.join_thread()


class Background:
    """Iterate ``fn(*args)`` in a forked child, started now; the items arrive when iterated. Use it as a context
    manager: leaving it (or the end of the iteration) stops a child that is still running, so a parent that fails
    before reading everything does not wait at exit for a child blocked on a full queue."""

    def __init__(self, fn: Callable[..., Iterable], *args: Any, depth: int = DEPTH):
        try:
            ctx = mp.get_context("fork")
        except ValueError:
            ctx = None
        self._proc = None
        if ctx is None:
            self._local: Iterable = fn(*args)
            return
        self._q = ctx.Queue(maxsize=depth)
        self._proc = ctx.Process(target=_produce, args=(self._q, fn, args), name="oncorisk-background")
        self._proc.start()

    def __iter__(self) -> Iterator:
        if self._proc is None:
            yield from self._local
            return
        try:
            while True:
                try:
                    kind, item = self._q.get(timeout=POLL_S)
                except queue.Empty:
                    if not self._proc.is_alive() and self._q.empty():
                        raise RuntimeError(f"the background worker (pid {self._proc.pid}) ended with exit code "
                                           f"{self._proc.exitcode} before its results were sent (out of memory?)")
                    continue
                if kind == "item":
                    yield item
                elif kind == "error":
                    raise item
                else:
                    return
        finally:
            self.close()

    def __enter__(self) -> "Background":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._proc is None:
            return
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join()
        self._q.close()
        self._q.cancel_join_thread()
        self._proc = None
        self._local = ()
