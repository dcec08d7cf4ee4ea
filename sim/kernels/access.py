"""Access, fused: who reaches the channel this month, directly or through a shell.

The numpy body is :func:`sim.mechanisms.access.foreign_access` and
:func:`~sim.mechanisms.access.reseller_access` themselves; the loop body (compiled by numba
for large runs, :mod:`sim.accel`) computes both in one pass with the same comparisons.
"""

from __future__ import annotations

import numpy as np

from sim import accel
from sim.mechanisms import access


def routes(
    month: int,
    approved: np.ndarray,
    restricted: np.ndarray,
    barred: np.ndarray,
    suspended_until: np.ndarray,
    blocked_until: np.ndarray,
    terminated: np.ndarray,
    channel_open: np.ndarray,
    evade: np.ndarray,
    kyc: np.ndarray,
    draw: np.ndarray,
    compiled: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """``(direct, evading)``: approved, unrestricted customers not suspended, terminated or
    barred reach foreign models directly; restricted ones not blocked, terminated or barred
    get through a shell when ``draw < evade * (1 - kyc)``; both need the channel open."""
    if not compiled:
        direct = access.foreign_access(
            approved, restricted, suspended_until >= month, terminated, channel_open, barred
        )
        evading = access.reseller_access(
            restricted,
            (blocked_until >= month) | terminated,
            channel_open,
            barred,
            evade,
            kyc,
            draw,
        )
        return direct, evading
    n = approved.shape[0]
    direct, evading = np.empty(n, dtype=bool), np.empty(n, dtype=bool)
    accel.compiled(_routes_loop)(
        month,
        approved,
        restricted,
        barred,
        suspended_until,
        blocked_until,
        terminated,
        channel_open,
        evade,
        kyc,
        draw,
        direct,
        evading,
    )
    return direct, evading


@accel.parallel
def _routes_loop(
    month,
    approved,
    restricted,
    barred,
    suspended_until,
    blocked_until,
    terminated,
    channel_open,
    evade,
    kyc,
    draw,
    direct,
    evading,
):
    for i in accel.prange(direct.shape[0]):
        reachable = channel_open[i] and not barred[i]
        direct[i] = (
            reachable
            and approved[i]
            and not restricted[i]
            and not suspended_until[i] >= month
            and not terminated[i]
        )
        evading[i] = (
            reachable
            and restricted[i]
            and not blocked_until[i] >= month
            and not terminated[i]
            and draw[i] < evade[i] * (1.0 - kyc[i])
        )
