"""Account risk, fused: who uses the channel, who is flagged by mistake, and the risk each
account runs; and the memory update of perceived risk.

Each has a numpy body (a few whole-array operations) and a loop body (compiled by numba for
large runs, :mod:`sim.accel`) that does the same comparisons, multiplications and additions
in one pass.
"""

from __future__ import annotations

import numpy as np

from sim import accel


def account_flags(
    tokens: np.ndarray, draw: np.ndarray, p_fp: np.ndarray, compiled: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(using, false_positive, account_risk)`` for accounts that are all honest: a customer
    uses the channel when it bought tokens; a user is flagged by mistake when
    ``draw < p_fp``; its account risk is ``p_fp`` (0 for non-users). The caller corrects the
    harvesters' own accounts."""
    n = tokens.shape[0]
    if not compiled:
        using = tokens > 0
        return using, using & (draw < p_fp), p_fp * using
    using, flagged, risk = np.empty(n, dtype=bool), np.empty(n, dtype=bool), np.empty(n)
    accel.compiled(_flags_loop)(tokens, draw, p_fp, using, flagged, risk)
    return using, flagged, risk


def remember(state: np.ndarray, signal: np.ndarray, memory: float, compiled: bool = False) -> None:
    """Move ``state`` (in place) towards ``signal``, keeping ``memory`` of the old value:
    ``state <- memory * state + (1 - memory) * signal``."""
    if compiled:
        accel.compiled(_remember_loop)(state, signal, float(memory))
        return
    np.multiply(state, memory, out=state)
    state += (1.0 - memory) * signal


@accel.parallel
def _flags_loop(tokens, draw, p_fp, using, flagged, risk):
    for i in accel.prange(tokens.shape[0]):
        uses = tokens[i] > 0
        using[i] = uses
        flagged[i] = uses and draw[i] < p_fp[i]
        risk[i] = p_fp[i] * (1.0 if uses else 0.0)


@accel.parallel
def _remember_loop(state, signal, memory):
    learning = 1.0 - memory
    for i in accel.prange(state.shape[0]):
        state[i] = state[i] * memory + learning * signal[i]
