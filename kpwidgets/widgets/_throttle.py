"""When to redraw live plots: often enough to look live, rarely enough to be cheap."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from kpwidgets._validation import check_float


class PaintBudget:
    """Allow a redraw at most every ``interval`` seconds and ``share`` of the time.

    After a redraw that took ``d`` CPU seconds, the next one is due
    ``max(interval, d / share)`` seconds after the last one started: cheap
    redraws come every ``interval``; expensive ones (big figures, PNGs on a
    slow machine) back off so the training they share the machine with keeps
    its pace. CPU time, not wall time, so that other programs keeping the
    machine busy do not throttle the plots.

    Args:
        interval: Shortest time between redraws, in seconds (> 0).
        share: Largest fraction of wall time redraws may take, in (0, 1].

    Attributes:
        count: Redraws done so far.
    """

    def __init__(self, interval: float, share: float) -> None:
        self.interval = check_float("interval", interval, low=0.0, low_inclusive=False)
        self.share = check_float("share", share, low=0.0, high=1.0, low_inclusive=False)
        self.count = 0
        self._due = 0.0
        self._lock = threading.Lock()

    def due(self) -> bool:
        """Whether a redraw may start now."""
        return time.perf_counter() >= self._due

    def reset(self) -> None:
        """Make the next redraw due at once."""
        with self._lock:
            self._due = 0.0

    @contextmanager
    def spend(self) -> Iterator[list[float]]:
        """Time the redraw done inside the block and schedule the next one.

        Yields a list: append the CPU seconds of work the redraw causes
        elsewhere (ipympl renders on the kernel's main thread), to count them.
        """
        started, cpu_started = time.perf_counter(), time.thread_time()
        elsewhere: list[float] = []
        try:
            yield elsewhere
        finally:
            spent = time.thread_time() - cpu_started + sum(elsewhere)
            with self._lock:
                self.count += 1
                self._due = started + max(self.interval, spent / self.share)
