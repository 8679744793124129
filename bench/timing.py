"""Shared timing helpers: repeat a callable after a warm-up, summarise by median and spread, hold one result.

Every benchmark figure is a :class:`Result`: the measured median, its spread (interquartile range
of the repeats, in the same unit), and the baseline measured the same way in the same run. The
``ratio`` is always "how many times better than the baseline" (> 1 = better): ``baseline / median``
for lower-is-better units (seconds, ms, MiB), ``median / baseline`` for higher-is-better ones
(progressions/s, sequences/s).
"""

from __future__ import annotations

import gc
import math
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

#: units where a larger number is better (throughputs); every other unit is lower-is-better.
HIGHER_IS_BETTER_UNITS: frozenset[str] = frozenset({"progressions/s", "sequences/s", "steps/s"})


@dataclass(frozen=True)
class Stats:
    """Median and spread (interquartile range) of repeated measurements, with min, max and count."""

    median: float
    spread: float
    minimum: float
    maximum: float
    repeats: int

    @classmethod
    def of(cls, values: list[float]) -> Stats:
        """Summarise ``values`` (at least one)."""
        if not values:
            raise ValueError("no measurements to summarise")
        ordered = sorted(values)
        if len(ordered) >= 4:
            quartiles = statistics.quantiles(ordered, n=4, method="inclusive")
            spread = quartiles[2] - quartiles[0]
        else:
            spread = ordered[-1] - ordered[0]
        return cls(statistics.median(ordered), spread, ordered[0], ordered[-1], len(ordered))

    def scaled(self, factor: float) -> Stats:
        """The same statistics multiplied by ``factor`` (a unit change, e.g. seconds to ms)."""
        return Stats(self.median * factor, self.spread * factor, self.minimum * factor, self.maximum * factor, self.repeats)

    def inverted(self, numerator: float) -> Stats:
        """``numerator / x`` of each statistic (seconds per batch to items per second); median of the inverses."""
        low, high = numerator / self.maximum, numerator / self.minimum
        # the median maps exactly; the IQR is approximated by the inverse of the quartile distances
        median = numerator / self.median
        spread = median * (self.spread / self.median) if self.median else 0.0
        return Stats(median, spread, low, high, self.repeats)


def repeat(function: Callable[[], object], repeats: int, warmup: int = 1) -> list[float]:
    """Seconds taken by each of ``repeats`` calls of ``function``, after ``warmup`` untimed calls.

    The garbage collector runs before and is disabled during each timed call, so a collection
    triggered by an earlier call does not land in a later one's time.
    """
    for _ in range(warmup):
        function()
    times = []
    for _ in range(max(1, repeats)):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return times


def measure(function: Callable[[], object], repeats: int, warmup: int = 1) -> Stats:
    """:func:`repeat` summarised."""
    return Stats.of(repeat(function, repeats, warmup))


@dataclass
class Result:
    """One benchmark figure beside its baseline (see the module docstring for ``ratio``)."""

    name: str
    group: str
    description: str
    unit: str
    median: float
    spread: float
    repeats: int
    baseline: str
    baseline_median: float | None
    baseline_spread: float | None = None
    target: str = ""
    notes: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def higher_is_better(self) -> bool:
        return self.unit in HIGHER_IS_BETTER_UNITS

    @property
    def ratio(self) -> float | None:
        """Times better than the baseline (> 1: better), or ``None`` without a baseline."""
        if self.baseline_median is None or not self.median or not self.baseline_median:
            return None
        value = self.median / self.baseline_median if self.higher_is_better else self.baseline_median / self.median
        return value if math.isfinite(value) else None

    @classmethod
    def from_stats(cls, name: str, group: str, description: str, unit: str, stats: Stats, baseline: str,
                   baseline_stats: Stats | None, **kwargs) -> Result:
        """A result from measured :class:`Stats` (and the baseline's, if any)."""
        return cls(name=name, group=group, description=description, unit=unit, median=stats.median, spread=stats.spread,
                   repeats=stats.repeats, baseline=baseline,
                   baseline_median=None if baseline_stats is None else baseline_stats.median,
                   baseline_spread=None if baseline_stats is None else baseline_stats.spread, **kwargs)

    def to_dict(self) -> dict:
        """JSON-ready, with ``ratio`` and ``higher_is_better`` included."""
        return {**asdict(self), "ratio": self.ratio, "higher_is_better": self.higher_is_better}


def peak_rss_mib() -> float:
    """This process's peak resident set size so far (VmHWM), in MiB."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
