"""Learning and leakage, fused: the customers' part of ``MarketModel._learn``.

Computes, in place on the population's arrays, what these compute one array at a time:
:func:`sim.mechanisms.diffusion.received_samples` (the diffusion step: the sparse
product ``W E`` is scipy's in the numpy body; the loop body takes each row's sum itself, in
scipy's order, inside that row's update), the own (no-leakage) path's growth,
:func:`sim.mechanisms.distillation.months_behind`, :func:`~sim.mechanisms.distillation.head_start`,
:func:`~sim.mechanisms.distillation.with_head_start` and
:func:`~sim.mechanisms.distillation.narrow_closure`, and returns the stocks that
:func:`~sim.mechanisms.diffusion.domestic_absorption` weighs. Three loops around numpy's
``log``, ``expm1`` and ``exp``; each loop has a numpy body and a numba one (:mod:`sim.accel`)
that give the same bits.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from sim import accel


class LearningTerms(NamedTuple):
    """The month's scalars of learning and leakage."""

    rate: float
    own_growth: float
    frontier: float
    teacher: float
    growth: float
    broad_ceiling: float
    broad_half: float
    narrow_ceiling: float
    narrow_half: float


class Stocks(NamedTuple):
    """The customers' learning state, updated in place (one array per customer)."""

    samples: np.ndarray
    received: np.ndarray
    own: np.ndarray
    head_start: np.ndarray
    capability: np.ndarray
    narrow: np.ndarray


def learn(
    terms: LearningTerms,
    state: Stocks,
    weights: sp.csr_array,
    has_neighbours: np.ndarray,
    compiled: bool = False,
) -> np.ndarray:
    """Diffuse, grow, and learn for one month; returns the stocks ``E`` after diffusion.

    ``E = samples + received`` is each customer's stock: ``received += rate * max(W E - E, 0)``
    (isolated customers receive nothing); ``own <- min(frontier, own (1 + own_growth))``;
    ``H <- max(H, c_b (1 - exp(-E / E_b)) G)`` with ``G = max(ln(teacher / own), 0) / ln(1 + g)``
    (zero when the teacher or ``g`` is not positive); ``capability = min(frontier, own (1 + g)^H)``;
    ``narrow = c_n (1 - exp(-E / E_n))``.
    """
    n = state.samples.shape[0]
    before = state.samples + state.received
    stock, lead, broad, narrow = (np.empty(n) for _ in range(4))
    if compiled:  # the loop takes W E row by row, in scipy's order, with the rest of the row
        grow, raise_head_start, finish = (accel.compiled(body) for body in _LOOPS)
        indices = weights.indices  # read as unsigned: numba skips its negative-index check
        neighbours = (weights.indptr, indices.view(f"u{indices.itemsize}"), weights.data)
    else:
        grow, raise_head_start, finish = _NUMPY
        neighbours = weights @ before
    grow(
        terms,
        state.samples,
        state.received,
        state.own,
        before,
        neighbours,
        has_neighbours,
        stock,
        lead,
        broad,
        narrow,
    )
    teaches = terms.growth > 0 and terms.teacher > 0
    if teaches:
        np.log(lead, out=lead)
    np.expm1(broad, out=broad)
    np.expm1(narrow, out=narrow)
    log_growth = float(np.log1p(terms.growth))
    factor = lead  # reused: the exponent H ln(1 + g), then the factor (1 + g)^H
    raise_head_start(terms, teaches, log_growth, lead, broad, state.head_start, factor)
    np.exp(factor, out=factor)
    finish(terms, state.own, state.capability, state.narrow, factor, narrow)
    return stock


# ---------------------------------------------------------------- numpy bodies


def _grow_numpy(
    t, samples, received, own, before, neighbours, has_neighbours, stock, lead, broad, narrow
):
    gain = t.rate * np.where(has_neighbours, np.maximum(neighbours - before, 0.0), 0.0)
    np.add(received, gain, out=received)
    np.minimum(t.frontier, own * (1.0 + t.own_growth), out=own)
    np.add(samples, received, out=stock)
    np.divide(t.teacher, np.maximum(own, 1e-12), out=lead)
    np.divide(-stock, t.broad_half, out=broad)
    np.divide(-stock, t.narrow_half, out=narrow)


def _raise_numpy(t, teaches, log_growth, lead, broad, head_start, exponent):
    months = np.maximum(lead, 0.0) / log_growth if teaches else np.zeros_like(lead)
    np.maximum(head_start, t.broad_ceiling * -broad * months, out=head_start)
    np.multiply(head_start, log_growth, out=exponent)


def _finish_numpy(t, own, capability, narrow_skill, factor, narrow):
    np.minimum(t.frontier, own * factor, out=capability)
    np.multiply(t.narrow_ceiling, -narrow, out=narrow_skill)


_NUMPY = (_grow_numpy, _raise_numpy, _finish_numpy)


# ---------------------------------------------------------------- loop bodies (numba)


@accel.parallel
def _grow_loop(
    t, samples, received, own, before, neighbours, has_neighbours, stock, lead, broad, narrow
):
    indptr, indices, weight = neighbours
    factor = 1.0 + t.own_growth
    for i in accel.prange(stock.shape[0]):
        gain = 0.0
        if has_neighbours[i]:
            mean = 0.0
            k, stop = np.uint64(indptr[i]), np.uint64(indptr[i + 1])
            while k < stop:  # unsigned positions, as for the indices
                mean += weight[k] * before[indices[k]]
                k += np.uint64(1)
            gain = max(mean - before[i], 0.0)
        received[i] += t.rate * gain
        own[i] = min(t.frontier, own[i] * factor)
        stock[i] = samples[i] + received[i]
        lead[i] = t.teacher / max(own[i], 1e-12)
        broad[i] = -stock[i] / t.broad_half
        narrow[i] = -stock[i] / t.narrow_half


@accel.parallel
def _raise_loop(t, teaches, log_growth, lead, broad, head_start, exponent):
    for i in accel.prange(head_start.shape[0]):
        months = max(lead[i], 0.0) / log_growth if teaches else 0.0
        head_start[i] = max(head_start[i], t.broad_ceiling * -broad[i] * months)
        exponent[i] = head_start[i] * log_growth


@accel.parallel
def _finish_loop(t, own, capability, narrow_skill, factor, narrow):
    for i in accel.prange(factor.shape[0]):
        capability[i] = min(t.frontier, own[i] * factor[i])
        narrow_skill[i] = t.narrow_ceiling * -narrow[i]


_LOOPS = (_grow_loop, _raise_loop, _finish_loop)
