"""Capability paths, and the gap between the frontier and the best Chinese capability."""

from __future__ import annotations

import math


def grown(initial: float, growth: float, month: int) -> float:
    """``q(t) = q0 (1 + g)^t``."""
    return initial * (1.0 + growth) ** month


def price_at(initial: float, decline: float, month: int) -> float:
    """``p(t) = p0 exp(-dp t)``."""
    return initial * math.exp(-decline * month)


def gap_months(frontier: float, best: float, growth: float) -> float:
    """The gap in months of frontier progress: ``log(qF / q_best) / log(1 + gF)``.

    Zero when China is level or ahead; infinite when it has no capability at all.
    """
    if best >= frontier or growth <= 0:
        return 0.0
    if best <= 0:
        return math.inf
    return math.log(frontier / best) / math.log1p(growth)
