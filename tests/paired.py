"""Paired comparisons over seeds (common random numbers), shared by the scenario, lever and
mechanism-chain tests."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from scipy import stats

from sim import run


@cache
def summary(scenario: str, overrides: tuple[str, ...], seed: int) -> dict:
    """The run summary of a scenario with overrides and a seed (cached per session)."""
    return run(scenario=scenario, overrides=[f"seed={seed}", *overrides]).summary


def paired_effect(
    key: str,
    scenario: str,
    seeds: range,
    overrides: tuple[str, ...] = (),
    reference: str = "baseline",
) -> tuple[float, float, float]:
    """Mean paired difference (scenario minus reference) of ``key`` and its 95% t-interval.

    Both sides get the same ``overrides`` and seeds, so the interval is that of a paired
    design. Missing values (no foreign spend) count as 0.
    """
    diffs = np.array(
        [
            (summary(scenario, overrides, s)[key] or 0.0)
            - (summary(reference, overrides, s)[key] or 0.0)
            for s in seeds
        ]
    )
    mean = float(diffs.mean())
    if np.all(diffs == diffs[0]):
        return mean, mean, mean
    half = float(stats.t.ppf(0.975, len(diffs) - 1) * diffs.std(ddof=1) / math.sqrt(len(diffs)))
    return mean, mean - half, mean + half
