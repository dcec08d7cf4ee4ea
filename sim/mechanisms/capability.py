"""Capability paths, and the gap between the frontier and the best Chinese capability."""

from __future__ import annotations

import math


def grown(initial: float, growth: float, month: int) -> float:
    """``q(t) = q0 (1 + g)^t``."""
    return initial * (1.0 + growth) ** month


def adoption(month: int, growth: float, saturation: float) -> float:
    """Budget multiple at ``month``: logistic adoption ``L / (1 + (L - 1) (1 + g)^-t)``.

    Grows at about ``g`` a month while budgets are far below the saturation multiple ``L``,
    then levels off; ``L -> infinity`` gives plain compound growth ``(1 + g)^t``.
    """
    if growth <= -1.0:
        return 0.0 if month > 0 else 1.0
    decay = (1.0 + growth) ** (-month)
    return saturation / (1.0 + (saturation - 1.0) * decay)


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
