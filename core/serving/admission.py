"""Admission of heavy requests: a few run at once, a short queue waits, the rest get 503 with Retry-After.

A request costing more decoder row-steps than :data:`HEAVY_WORK` is heavy: it runs only in one of
the server's heavy slots (half the CPU cores by default, at least one); when every slot is busy it
waits in a short queue (:data:`QUEUE_PER_SLOT` per slot, in arrival order, at most
:data:`QUEUE_WAIT_S`), and beyond that it is answered at once with 503 and ``Retry-After``, so a
burst of heavy requests never piles up threads or memory while light ones (the usual short
progressions) keep being served.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import InputError

#: a request costing more row-steps than this is heavy: it needs a heavy slot (about half a second of one core).
HEAVY_WORK = 20_000
#: heavy requests that may wait for a slot, per slot; one more is refused at once (503).
QUEUE_PER_SLOT = 2
#: longest a queued heavy request waits for a slot before it is refused (503).
QUEUE_WAIT_S = 60.0
#: seconds a heavy request refused for want of a slot is told to wait (``Retry-After``).
RETRY_AFTER_S = 2


def default_heavy_slots() -> int:
    """Heavy requests served at once by default: half the CPU cores, at least one (each runs on one core)."""
    return max(1, (os.cpu_count() or 2) // 2)


class HeavySlots:
    """At most ``count`` heavy requests run at once and ``queue`` more wait their turn; one more gets 503 at once.

    A queued request waits for a free slot, in arrival order, up to :data:`QUEUE_WAIT_S`; a request
    finding the queue full, or still waiting then, is answered 503 with ``Retry-After``. So at most
    ``count + queue`` server threads ever hold heavy work, whatever arrives.
    """

    def __init__(self, count: int, queue: int | None = None) -> None:
        if count < 1:
            raise InputError(f"heavy slots must be at least 1, got {count}")
        self.count = count
        self.queue = QUEUE_PER_SLOT * count if queue is None else max(0, queue)
        self.waiting = 0
        self._free = threading.Semaphore(count)
        self._counter = threading.Lock()

    @contextmanager
    def taken(self, work: int) -> Iterator[None]:
        """Run the block in a slot when ``work`` is above :data:`HEAVY_WORK` (light work runs at once)."""
        if work <= HEAVY_WORK:
            yield
            return
        if not self._free.acquire(blocking=False):
            self._wait_in_line(work)
        try:
            yield
        finally:
            self._free.release()

    def _wait_in_line(self, work: int) -> None:
        with self._counter:
            full = self.waiting >= self.queue
            if not full:
                self.waiting += 1
        if full:
            raise self._busy(work, f"{self.count} heavy request(s) running and {self.queue} waiting")
        try:
            taken = self._free.acquire(timeout=QUEUE_WAIT_S)
        finally:
            with self._counter:
                self.waiting -= 1
        if not taken:
            raise self._busy(work, f"no heavy slot came free within {QUEUE_WAIT_S:g} s")

    @staticmethod
    def _busy(work: int, why: str) -> StarletteHTTPException:
        return StarletteHTTPException(
            status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)},
            detail=f"the server is busy: {why} (this request costs about {work:,} decoder steps, over {HEAVY_WORK:,}); "
            f"try again in {RETRY_AFTER_S} s, or ask for less")


#: the documented 503 of the model endpoints (every heavy slot busy).
BUSY_RESPONSE: dict[int | str, dict[str, Any]] = {
    503: {"description": "every heavy slot is busy and the queue full: retry after the Retry-After header's seconds"},
}
