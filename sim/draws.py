"""Uniform draws read by a few customers, taken as if drawn for every customer.

Several of the month's draws are taken for every customer, so that the value a customer gets
does not depend on who else needs one (the stream stays aligned across scenarios), yet only
a few customers read theirs: the ones with an offence, the ones audited, the active
campaigns. :func:`uniform_at` gives those customers the values ``rng.random(n)`` would have
given them and leaves the generator where ``rng.random(n)`` would have left it, by jumping
over the other customers' draws (PCG64's ``advance``) instead of making them. The same bits,
at a fraction of the cost when few customers read a draw.
"""

from __future__ import annotations

import numpy as np

#: Use jumps when at most one customer in this many reads the draw. A jump and a single draw
#: cost about 2-3 us from Python, a draw inside a block about 3-5 ns (2-core Xeon, PCG64).
SPARSE_RATIO = 1024

#: Bit generators whose ``advance(k)`` skips exactly ``k`` doubles (Philox's steps are blocks
#: of four outputs; MT19937 and SFC64 cannot jump).
ONE_STEP_PER_DOUBLE = (np.random.PCG64, np.random.PCG64DXSM)


def uniform_at(rng: np.random.Generator, n: int, rows: np.ndarray) -> np.ndarray:
    """``rng.random(n)[rows]``, leaving ``rng`` in the same state, for ascending unique ``rows``.

    With many rows (more than ``n / SPARSE_RATIO``) or a generator whose ``advance`` is not
    one step per double (only PCG64 and PCG64DXSM jump here), this is exactly
    ``rng.random(n)[rows]``. Otherwise it jumps to each row's draw, takes it, and jumps to
    the end of the block; a half-used 32-bit draw the generator holds (which ``advance``
    would discard) is put back. Rows out of order or range are refused before any draw.
    """
    bits = rng.bit_generator
    if rows.size * SPARSE_RATIO > n or not isinstance(bits, ONE_STEP_PER_DOUBLE):
        return rng.random(n)[rows]
    if rows.size and (rows[0] < 0 or rows[-1] >= n or (np.diff(rows) <= 0).any()):
        raise ValueError(f"rows must be ascending, unique and in [0, {n}): got {rows}")
    state = bits.state
    values = np.empty(rows.size)
    position = 0
    for k, row in enumerate(rows.tolist()):
        if row > position:
            bits.advance(row - position)
        values[k] = rng.random()
        position = row + 1
    if n > position:
        bits.advance(n - position)
    if state.get("has_uint32"):
        after = bits.state
        after["has_uint32"], after["uinteger"] = state["has_uint32"], state["uinteger"]
        bits.state = after
    return values
