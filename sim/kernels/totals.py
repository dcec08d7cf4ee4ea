"""The month's totals over the customers, each exactly as numpy gives it.

:func:`totals` sums many arrays at once, each exactly as ``array.sum()`` does: numpy sums a
float array pairwise, halving it (at a multiple of 8) until a part has at most 128 values,
summing each such block with eight running partial sums, and adding the halves back up the
tree. The compiled body follows the same tree: it sums every block of every array over
numba's threads, then adds the blocks up each array's tree in numpy's order, so both bodies
give the same bits whatever the thread count. The tree depends only on the array's length and
is worked out once per length (:func:`_plan`). Arrays that are zero but for a few known rows
(the month's campaigns) have only the blocks holding those rows summed: a block of zeros sums
to zero, and adding zero changes no sum.

:func:`group_sums` is ``np.bincount`` with weights: a running sum in row order.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from sim import accel

#: numpy's largest block summed without halving (``PW_BLOCKSIZE`` in its source).
BLOCK = 128


def totals(
    arrays: Sequence[np.ndarray], compiled: bool = False, rows: np.ndarray | None = None
) -> list[float]:
    """``[float(a.sum()) for a in arrays]`` for 1-D float64 arrays of one length.

    ``rows``, when given, are ascending positions outside which every array holds only
    zeros: the compiled body then sums only the blocks that hold those rows, as every other
    block sums to zero. That is a promise the caller keeps (the model's campaign figures, an
    invariant checked with ``check.invariants``): a value outside the rows' blocks is not
    read. The numpy body ignores ``rows``.
    """
    if not compiled:
        return [float(a.sum()) for a in arrays]
    n = arrays[0].shape[0]
    if any(a.ndim != 1 or a.shape[0] != n for a in arrays):
        raise ValueError(f"totals: 1-D arrays of one length, got {[a.shape for a in arrays]}")
    starts, program = _plan(n)
    if rows is None:
        touched = np.arange(starts.size - 1)
    else:
        touched = np.unique(np.searchsorted(starts, rows, side="right") - 1)
    # One array type for numba's tuple: contiguous, float, writeable (a read-only one is copied).
    columns = tuple(
        c if c.flags.writeable else c.copy()
        for c in (np.ascontiguousarray(a, dtype=float) for a in arrays)
    )
    blocks = np.zeros((len(columns), starts.size - 1))
    out = np.empty(len(columns))
    accel.compiled(_block_sums_loop)(columns, starts, touched, blocks)
    accel.compiled(_add_up_loop)(blocks, program, out)
    return out.tolist()


def group_sums(
    groups: np.ndarray, weights: np.ndarray, k: int, compiled: bool = False
) -> np.ndarray:
    """``np.bincount(groups, weights, minlength=k)``: each group's weights added in row order,
    from zero (the compiled body adds them in the same order)."""
    if not compiled:
        return np.bincount(groups, weights=weights, minlength=k)
    out = np.zeros(k)
    accel.compiled(_group_sums_loop)(groups, weights, out)
    return out


@lru_cache(maxsize=32)
def _plan(n: int) -> tuple[np.ndarray, np.ndarray]:
    """numpy's pairwise tree for ``n`` values: the blocks' bounds (``starts``, with ``n``
    last) and the additions in postfix order (``k >= 0``: push block ``k``; ``-1``: replace
    the top two with their sum, the earlier one on the left)."""
    starts: list[int] = []
    program: list[int] = []

    def split(lo: int, size: int) -> None:
        if size <= BLOCK:
            program.append(len(starts))
            starts.append(lo)
            return
        half = size // 2
        half -= half % 8
        split(lo, half)
        split(lo + half, size - half)
        program.append(-1)

    split(0, n)
    starts.append(n)
    return np.array(starts, dtype=np.int64), np.array(program, dtype=np.int64)


@accel.parallel
def _block_sums_loop(columns, starts, touched, blocks):
    per_column = touched.shape[0]
    for job in accel.prange(len(columns) * per_column):
        c, b = job // per_column, touched[job % per_column]
        values = columns[c]
        lo, hi = starts[b], starts[b + 1]
        size = hi - lo
        if size < 8:
            total = -0.0
            for i in range(lo, hi):
                total += values[i]
        else:
            r0, r1, r2, r3 = values[lo], values[lo + 1], values[lo + 2], values[lo + 3]
            r4, r5, r6, r7 = values[lo + 4], values[lo + 5], values[lo + 6], values[lo + 7]
            i = lo + 8
            end = hi - size % 8
            while i < end:
                r0 += values[i]
                r1 += values[i + 1]
                r2 += values[i + 2]
                r3 += values[i + 3]
                r4 += values[i + 4]
                r5 += values[i + 5]
                r6 += values[i + 6]
                r7 += values[i + 7]
                i += 8
            total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
            while i < hi:
                total += values[i]
                i += 1
        blocks[c, b] = total


def _add_up_loop(blocks, program, out):
    stack = np.empty(program.shape[0])
    for c in range(blocks.shape[0]):
        top = 0
        for step in program:
            if step >= 0:
                stack[top] = blocks[c, step]
                top += 1
            else:
                stack[top - 2] = stack[top - 2] + stack[top - 1]
                top -= 1
        out[c] = 0.0 + stack[0]


def _group_sums_loop(groups, weights, out):
    if out.shape[0] == 1:  # one group: the running sum stays in a register
        total = 0.0
        for i in range(weights.shape[0]):
            total += weights[i]
        out[0] = total
        return
    for i in range(groups.shape[0]):
        out[groups[i]] += weights[i]
