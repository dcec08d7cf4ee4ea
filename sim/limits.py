"""How big a run may be: estimates of its memory and time, and the bounds on its numbers.

Three kinds of limit, each stated here and checked by :mod:`sim.validate` before any work:

1. **Memory**: a run's peak memory is estimated from its sizes with per-unit costs measured
   on the current model (below); a config whose estimate exceeds the memory available to
   this process (read from the operating system) is refused, naming the key that takes the
   most and the largest value that would fit.
2. **Time**: a run estimated to take more than :data:`MAX_SECONDS` on the reference machine
   is refused the same way (split a big study into a sweep of smaller runs instead).
3. **Numbers**: every parameter is at most :data:`MAX_MAGNITUDE` in size (integers at most
   :data:`MAX_INTEGER`), and every quantity that compounds over the horizon (budgets,
   capabilities, falling prices) changes by a factor of at most :data:`MAX_GROWTH`, so no
   headline can overflow to ``inf`` or turn into ``NaN``.

Every refusal names the key, its value, the estimate and the largest value that would fit.

The estimate is deliberately a simple formula that is easy to re-measure when the model
changes: ``benchmarks/bench_limits.py`` prints every cost below.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

#: The largest absolute value any parameter may take (``seed`` excepted). The model
#: multiplies at most a handful of parameters into any quantity; with each factor at most
#: 1e12 and every compounding factor at most :data:`MAX_GROWTH`, the largest product stays
#: near 1e240 even over ten million customer-months, below the float limit of 1.8e308.
MAX_MAGNITUDE = 1e12

#: The largest integer parameter (``seed`` excepted): months and counts live in 32-bit
#: arrays in the model (at most 2.1e9), and a month plus a duration must still fit.
MAX_INTEGER = 10**9

#: The largest factor by which a quantity may compound over the horizon (see module doc).
MAX_GROWTH = 1e100

#: The longest estimated run time accepted (on the reference machine): one day.
MAX_SECONDS = 24 * 3600.0

#: Per-unit costs measured by ``benchmarks/bench_limits.py`` on the reference machine (2
#: cores, Python 3.11, numpy 2.4, mesa 3.3.1, numba 0.68 for the large cases), rounded up.
#: Memory is the peak resident set size added to the process; three runs on 2026-11-27 (git
#: 9c60f10) agreed within 3% except per link: 1,660-1,710 B per customer (at 200,000
#: customers, so numba's import is in it), 36-47 B per knowledge link, 116 B per international
#: customer (its Mesa agent is made only when asked for), 8.0-8.2 kB per month, 24 MB fixed;
#: the network plot adds 760-790 B per customer, 488-497 B per link and 1,010 B per
#: international customer (the networkx graph of the whole network). The interpreter with
#: every import takes about 155 MiB (180 MiB with matplotlib). Against the benchmark's five
#: cases (180 MiB to 1.6 GiB measured) the estimate is 4-18% high; against a million
#: customers x 120 months end to end (1.11 GiB, ``bench_engine.py``) it is 1.95 GiB.
BYTES_FIXED = 210 * 2**20
BYTES_PER_CUSTOMER = 1_750
BYTES_PER_EDGE = 50
BYTES_PER_INTERNATIONAL = 120
BYTES_PER_MONTH = 8_200
BYTES_PER_CUSTOMER_PLOT = 810
BYTES_PER_EDGE_PLOT = 500
BYTES_PER_INTERNATIONAL_PLOT = 1_020

#: Times on the same machine, load average about 1, the largest of three runs, rounded up:
#: building costs 3.8-4.4 us per customer, 0.07-0.18 us per link and 57-67 ns per
#: international customer; a month costs 1.0-1.8 ms plus 0.21-0.23 us per customer (compiled
#: loops on two threads; the numpy loops below 20,000 customers cost more, hence 0.3), 0.4-2.6
#: ns per link and 69-87 ns per international customer; the network plot's graph 7-11 us per
#: customer and 4.2-4.9 us per link. The time limit is a guard against runs that cannot be
#: meant, not a promise.
SECONDS_BUILD_PER_CUSTOMER = 5e-6
SECONDS_BUILD_PER_EDGE = 2e-7
SECONDS_BUILD_PER_INTERNATIONAL = 1e-7
SECONDS_PER_MONTH = 2e-3
SECONDS_PER_CUSTOMER_MONTH = 3e-7
SECONDS_PER_EDGE_MONTH = 3e-9
SECONDS_PER_INTERNATIONAL_MONTH = 1e-7
SECONDS_PLOT_PER_CUSTOMER = 1.4e-5
SECONDS_PLOT_PER_EDGE = 5e-6


@dataclass(frozen=True)
class Sizes:
    """The sizes that drive a run's cost, read from a config."""

    customers: int
    sector_shares: tuple[float, ...]
    attach: int
    cross_sector_degree: float
    international: int
    horizon: int
    plots: bool

    @classmethod
    def of(cls, cfg: Any) -> Sizes:
        """The sizes of a config (a :class:`~sim.schema.Config` or a DictConfig)."""
        shares = tuple(float(s.share) for s in cfg.customers.sectors.values())
        return cls(
            customers=int(cfg.customers.n),
            sector_shares=shares,
            attach=int(cfg.network.attach),
            cross_sector_degree=float(cfg.network.cross_sector_degree),
            international=int(cfg.international.n),
            horizon=int(cfg.horizon),
            plots=cfg.output.plots is not False,
        )

    @property
    def edges(self) -> float:
        """Expected knowledge-network links: each sector of ``m`` customers is a
        Barabasi-Albert graph with about ``attach * m`` links (a complete graph, ``m(m-1)/2``,
        when ``attach`` is not below ``m``), plus ``cross_sector_degree * n / 2`` random links.
        """
        total = math.fsum(self.sector_shares) or 1.0
        within = 0.0
        for share in self.sector_shares:
            m = self.customers * share / total
            within += min(self.attach * m, m * (m - 1) / 2) if m > 1 else 0.0
        return within + self.cross_sector_degree * self.customers / 2


@dataclass(frozen=True)
class Estimate:
    """Estimated peak memory (bytes) and run time (seconds), split by what drives them."""

    memory: Mapping[str, float]
    seconds: float

    @property
    def total_memory(self) -> float:
        """Estimated peak memory of the whole process, in bytes."""
        return math.fsum(self.memory.values())


def estimate(sizes: Sizes) -> Estimate:
    """Peak memory and run time of a run of these sizes, from the measured per-unit costs."""
    n, e, i, t = sizes.customers, sizes.edges, sizes.international, sizes.horizon
    plot = 1.0 if sizes.plots else 0.0
    memory = {
        "fixed": float(BYTES_FIXED),
        "customers.n": n * (BYTES_PER_CUSTOMER + plot * BYTES_PER_CUSTOMER_PLOT),
        "network": e * (BYTES_PER_EDGE + plot * BYTES_PER_EDGE_PLOT),
        "international.n": i * (BYTES_PER_INTERNATIONAL + plot * BYTES_PER_INTERNATIONAL_PLOT),
        "horizon": t * BYTES_PER_MONTH,
    }
    build = (
        n * SECONDS_BUILD_PER_CUSTOMER
        + e * SECONDS_BUILD_PER_EDGE
        + i * SECONDS_BUILD_PER_INTERNATIONAL
        + plot * (n * SECONDS_PLOT_PER_CUSTOMER + e * SECONDS_PLOT_PER_EDGE)
    )
    month = (
        SECONDS_PER_MONTH
        + n * SECONDS_PER_CUSTOMER_MONTH
        + e * SECONDS_PER_EDGE_MONTH
        + i * SECONDS_PER_INTERNATIONAL_MONTH
    )
    return Estimate(memory, build + t * month)


def available_memory() -> int | None:
    """Bytes this process may still use: the machine's available memory, or its control
    group's remaining limit when lower (containers, batch schedulers); None if unknown."""
    found = [m for m in (_meminfo_available(), _cgroup_remaining()) if m is not None]
    if not found and hasattr(os, "sysconf"):
        with contextlib.suppress(ValueError, OSError):
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    return min(found) if found else None


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_remaining() -> int | None:
    """Limit minus usage of this process's memory control group (cgroup v2, then v1)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    root = Path("/sys/fs/cgroup")
    for line in lines:
        hierarchy, _, controllers_path = line.partition(":")
        controllers, _, path = controllers_path.partition(":")
        if hierarchy == "0":
            files = (root / path.lstrip("/") / "memory.max", root / path.lstrip("/"))
            limit, usage = files[0], files[1] / "memory.current"
        elif "memory" in controllers.split(","):
            folder = root / "memory" / path.lstrip("/")
            limit, usage = folder / "memory.limit_in_bytes", folder / "memory.usage_in_bytes"
        else:
            continue
        try:
            cap = limit.read_text().strip()
            if cap != "max" and int(cap) < 2**60:
                return max(int(cap) - int(usage.read_text().strip()), 0)
        except (OSError, ValueError):
            continue
    return None


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB" if n >= 2**28 else f"{n / 2**20:,.0f} MiB"


def _hours(s: float) -> str:
    return f"{s / 3600:,.1f} h" if s >= 3600 else f"{s:,.0f} s"


def _largest_fitting(sizes: Sizes, field: str, fits: Callable[[Sizes], bool]) -> float:
    """The largest value of ``field``, at most its current one (others fixed), for which
    ``fits`` holds, by bisection."""
    if fits(sizes):
        return getattr(sizes, field)
    lo, hi = 0.0, float(getattr(sizes, field))
    as_int = isinstance(getattr(sizes, field), int)
    for _ in range(200):
        mid = (lo + hi) / 2
        value = math.floor(mid) if as_int else mid
        if fits(replace(sizes, **{field: value})):
            lo = mid
        else:
            hi = mid
        if hi - lo < (1 if as_int else 1e-3):
            break
    return math.floor(lo) if as_int else lo


KEYS = {
    "customers.n": "customers",
    "international.n": "international",
    "horizon": "horizon",
    "network": "attach",
}


def _allowed(sizes: Sizes, part: str, fits: Callable[[Sizes], bool]) -> str | None:
    """``KEY <= VALUE`` for the largest value of ``part`` that fits, with the larger value
    that fits without the network plot; None when not even the smallest value fits."""
    field = KEYS[part]
    key = "network.attach" if part == "network" else part
    best = _largest_fitting(sizes, field, fits)
    unplotted = _largest_fitting(replace(sizes, plots=False), field, fits) if sizes.plots else best
    if unplotted < 1:
        return None
    if unplotted == best:
        return f"{key} <= {best:,}"
    if unplotted == getattr(sizes, field):
        return f"{key} <= {best:,}, or this size with output.plots=false (no network plot)"
    return f"{key} <= {best:,} ({unplotted:,} with output.plots=false, no network plot)"


def _what(sizes: Sizes, part: str) -> str:
    if part == "network":
        return (
            f"network.attach = {sizes.attach} and network.cross_sector_degree = "
            f"{sizes.cross_sector_degree} (about {sizes.edges:,.0f} knowledge links)"
        )
    return f"{part} = {getattr(sizes, KEYS[part]):,}"


def check_size(cfg: Any, problems: list[str], memory: int | None = None) -> None:
    """Refuse a config whose estimated memory or time is beyond the limits (see module doc),
    naming the size that costs the most and the largest values that would fit.

    ``memory`` is the bytes available (default: :func:`available_memory`; None skips it).
    """
    sizes = Sizes.of(cfg)
    est = estimate(sizes)
    available = available_memory() if memory is None else memory
    parts = [k for k in est.memory if k != "fixed"]
    if available is not None and est.total_memory > available:
        part = max(parts, key=lambda k: est.memory[k])
        allowed = _allowed(sizes, part, lambda s: estimate(s).total_memory <= available)
        problems.append(
            f"{_what(sizes, part)}: the run needs an estimated {_gib(est.total_memory)} of "
            f"memory ({_gib(est.memory[part])} for {part}), more than the {_gib(available)} "
            f"available; allowed here: {allowed or 'nothing this size'}"
        )
    if est.seconds > MAX_SECONDS:
        part = max((k for k in parts if k != "horizon"), key=lambda k: est.memory[k])
        options = [
            _allowed(sizes, p, lambda s: estimate(s).seconds <= MAX_SECONDS)
            for p in ("horizon", part)
        ]
        problems.append(
            f"{_what(sizes, part)} with horizon = {sizes.horizon:,}: the run would take an "
            f"estimated {_hours(est.seconds)}, more than the limit of {_hours(MAX_SECONDS)}; "
            f"allowed: {' or '.join(o for o in options if o) or 'nothing this size'}"
        )


# ------------------------------------------------------------------------------ numbers


@dataclass(frozen=True)
class Compounding:
    """A quantity that compounds month by month: by ``per_month`` (log10) for ``months``
    months, times a one-off ``extra`` (log10), under the config key ``key``; ``zeroing_events``
    are the scenario events that would cut a price to zero."""

    key: str
    what: str
    per_month: float
    months: int
    extra: float = 0.0
    zeroing_events: tuple[int, ...] = ()

    @property
    def log10_factor(self) -> float:
        """log10 of the factor by which the quantity grows (or a price shrinks) over the run."""
        return self.per_month * self.months + self.extra


def compounding(cfg: Any) -> list[Compounding]:
    """Every quantity that compounds over the horizon: budgets and capabilities grow by
    ``(1 + rate)`` a month, prices fall by ``exp(-decline)`` a month (and domestic price-cut
    events cut them once more by ``1 - cut``)."""
    months = max(int(cfg.horizon) - 1, 0)

    def grows(rate: float) -> float:
        return math.log10(1.0 + rate) if rate > -1 else math.inf

    def falls(decline: float) -> float:
        return decline / math.log(10)

    out = [
        Compounding(
            "customers.budget_growth", "budgets grow", grows(cfg.customers.budget_growth), months
        ),
        Compounding(
            "international.budget_growth",
            "international budgets grow",
            grows(cfg.international.budget_growth),
            months,
        ),
        Compounding(
            "domestic.growth", "domestic capability grows", grows(cfg.domestic.growth), months
        ),
    ]
    for name, dev in cfg.developers.items():
        out.append(
            Compounding(f"developers.{name}.growth", "capability grows", grows(dev.growth), months)
        )
        out.append(
            Compounding(
                f"developers.{name}.price_decline",
                "the price falls",
                falls(dev.price_decline),
                months,
            )
        )
    cuts = [
        (i, float(ev.value))
        for i, ev in enumerate(cfg.scenario.events)
        if ev.lever == "domestic.price_cut"
        and isinstance(ev.value, int | float)
        and not isinstance(ev.value, bool)
    ]
    out.append(
        Compounding(
            "domestic.price_decline",
            "the domestic price falls" + (" (with its price-cut events)" if cuts else ""),
            falls(cfg.domestic.price_decline),
            months,
            math.fsum(-math.log10(1.0 - cut) for _, cut in cuts if cut < 1),
            tuple(i for i, cut in cuts if cut >= 1),
        )
    )
    return out


def check_numbers(cfg: Any, problems: list[str]) -> None:
    """Refuse a config in which a quantity compounds past :data:`MAX_GROWTH` over the run,
    naming the rate, the horizon and the largest rate and horizon that would stay within it."""
    limit = math.log10(MAX_GROWTH)
    for c in compounding(cfg):
        problems.extend(
            f"scenario.events.{i}.value = {cfg.scenario.events[i].value}: a domestic price cut "
            "of 1 or more makes the price zero; allowed: cuts below 1"
            for i in c.zeroing_events
        )
        if c.log10_factor <= limit:
            continue
        room = limit - c.extra
        rate = 10 ** (room / c.months) - 1 if c.months else math.inf
        if "price_decline" in c.key:
            rate = room * math.log(10) / c.months if c.months else math.inf
        horizon = math.floor(room / c.per_month) + 1 if c.per_month > 0 and room > 0 else 1
        problems.append(
            f"{c.key} with horizon = {cfg.horizon}: {c.what} by a factor of "
            f"1e{c.log10_factor:.0f} over the run, beyond the 1e{limit:.0f} within which the "
            f"model's numbers stay finite; allowed: {c.key} <= {rate:.4g} at this horizon, "
            f"or horizon <= {horizon:,} at this rate"
        )
