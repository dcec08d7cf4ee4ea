"""Draws for a few customers jump over the others' and give the bits a block would give."""

from __future__ import annotations

import numpy as np
import pytest

from sim.draws import SPARSE_RATIO, uniform_at

N = 100_000


def _rows(kind: str, n: int) -> np.ndarray:
    rng = np.random.default_rng(11)
    return {
        "none": np.array([], dtype=np.int64),
        "first": np.array([0]),
        "last": np.array([n - 1]),
        "adjacent": np.array([5, 6, 7, n // 2, n // 2 + 1]),
        "scattered": np.sort(rng.choice(n, n // SPARSE_RATIO, replace=False)),
        "many": np.sort(rng.choice(n, n // 10, replace=False)),
    }[kind]


@pytest.mark.parametrize("kind", ["none", "first", "last", "adjacent", "scattered", "many"])
@pytest.mark.parametrize("half_used_32_bits", [False, True])
def test_draws_at_rows_are_a_blocks_draws_and_leave_the_stream_where_a_block_would(
    kind, half_used_32_bits
):
    rows = _rows(kind, N)
    block, jumped = np.random.default_rng(7), np.random.default_rng(7)
    if half_used_32_bits:
        for rng in (block, jumped):
            rng.integers(0, 1000, dtype=np.uint32)
        assert jumped.bit_generator.state["has_uint32"] == 1
    expected = block.random(N)[rows]
    got = uniform_at(jumped, N, rows)
    np.testing.assert_array_equal(got, expected)
    # the next draws of every width continue the same stream
    np.testing.assert_array_equal(
        jumped.integers(0, 1000, 5, dtype=np.uint32), block.integers(0, 1000, 5, dtype=np.uint32)
    )
    np.testing.assert_array_equal(jumped.random(3), block.random(3))
    assert jumped.bit_generator.state == block.bit_generator.state


class _CountingGenerator:
    """A generator that records the size of every ``random`` call it passes on."""

    def __init__(self, rng: np.random.Generator):
        self.rng, self.bit_generator, self.sizes = rng, rng.bit_generator, []

    def random(self, size=None):
        self.sizes.append(size)
        return self.rng.random(size)


def test_few_rows_are_jumped_to_rather_than_drawn_in_a_block():
    rng = _CountingGenerator(np.random.default_rng(3))
    uniform_at(rng, N, _rows("adjacent", N))
    assert rng.sizes == [None] * 5  # one value per row, no block
    rng.sizes.clear()
    uniform_at(rng, N, _rows("many", N))
    assert rng.sizes == [N]


@pytest.mark.parametrize("rows", [[5, 5], [9, 3], [N], [-1, 4]])
def test_rows_out_of_order_or_range_are_refused_before_any_draw(rows):
    rng = np.random.default_rng(1)
    before = rng.bit_generator.state
    with pytest.raises(ValueError, match="ascending, unique and in"):
        uniform_at(rng, N, np.array(rows))
    assert rng.bit_generator.state == before


@pytest.mark.parametrize("bits", [np.random.PCG64DXSM, np.random.Philox, np.random.SFC64])
def test_other_generators_get_a_blocks_draws_too(bits):
    rows = _rows("adjacent", N)
    block, jumped = np.random.Generator(bits(5)), np.random.Generator(bits(5))
    np.testing.assert_array_equal(uniform_at(jumped, N, rows), block.random(N)[rows])
    np.testing.assert_array_equal(jumped.random(4), block.random(4))
