"""Perceived risk, fused: the memory update ``state <- memory * state + (1 - memory) * signal``.

The numpy body updates in place in two passes; the loop body (compiled by numba for large
runs, :mod:`sim.accel`) does it in one, with the same multiplications and addition.
"""

from __future__ import annotations

import numpy as np

from sim import accel


def remember(state: np.ndarray, signal: np.ndarray, memory: float, compiled: bool = False) -> None:
    """Move ``state`` (in place) towards ``signal``, keeping ``memory`` of the old value."""
    if compiled:
        accel.compiled(_remember_loop)(state, signal, float(memory))
        return
    np.multiply(state, memory, out=state)
    state += (1.0 - memory) * signal


@accel.parallel
def _remember_loop(state, signal, memory):
    learning = 1.0 - memory
    for i in accel.prange(state.shape[0]):
        state[i] = state[i] * memory + learning * signal[i]
