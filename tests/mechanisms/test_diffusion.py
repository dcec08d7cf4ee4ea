"""Diffusion: harvested samples spread over the sparse knowledge network and into the
domestic providers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from sim.mechanisms.diffusion import domestic_absorption, received_samples, row_normalised


def diffusion_gain(weights, stock, rate, has_neighbours=None):
    return received_samples(weights, stock, rate, has_neighbours)


def _csr(edges, n):
    """Symmetric 0/1 csr_array from an undirected edge list."""
    r = [a for a, b in edges] + [b for a, b in edges]
    c = [b for a, b in edges] + [a for a, b in edges]
    return sp.csr_array((np.ones(len(r)), (r, c)), shape=(n, n))


def _dense(m):
    return m.toarray() if sp.issparse(m) else np.asarray(m)


def test_row_normalised_returns_sparse_and_rows_sum_to_one():
    # Star 0-1, 0-2, 0-3 plus 2-3, and isolated node 4.
    a = _csr([(0, 1), (0, 2), (0, 3), (2, 3)], 5)
    w = row_normalised(a)
    assert sp.issparse(w)
    expected = np.array(
        [
            [0, 1 / 3, 1 / 3, 1 / 3, 0],
            [1, 0, 0, 0, 0],
            [0.5, 0, 0, 0.5, 0],
            [0.5, 0, 0.5, 0, 0],
            [0, 0, 0, 0, 0],
        ]
    )
    np.testing.assert_allclose(_dense(w), expected, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(w.sum(axis=1)).ravel(), [1, 1, 1, 1, 0], rtol=1e-12)


def test_row_normalised_does_not_modify_input():
    a = _csr([(0, 1), (1, 2)], 3)
    before = a.toarray().copy()
    row_normalised(a)
    np.testing.assert_array_equal(a.toarray(), before)


def test_row_normalised_random_sparse_graph():
    rng = np.random.default_rng(8)
    n = 300
    edges = {tuple(sorted(e)) for e in rng.integers(0, n, (600, 2)) if e[0] != e[1]}
    a = _csr(sorted(edges), n)
    a.data[:] = 1.0
    w = row_normalised(a)
    assert sp.issparse(w)
    deg = a.toarray().sum(axis=1)
    sums = np.asarray(w.sum(axis=1)).ravel()
    np.testing.assert_allclose(sums[deg > 0], 1.0, rtol=1e-12)
    np.testing.assert_array_equal(sums[deg == 0], 0.0)


def test_path_graph_by_hand():
    # Path 0 - 1 - 2; leaked l = (0, 0.3, 0.9), rate 0.1.
    # Neighbour means: node 0 -> 0.3, node 1 -> (0 + 0.9) / 2 = 0.45, node 2 -> 0.3.
    # Surplus: 0.3 - 0 = 0.3, 0.45 - 0.3 = 0.15, 0.3 - 0.9 < 0 -> 0.
    w = row_normalised(_csr([(0, 1), (1, 2)], 3))
    gain = diffusion_gain(w, np.array([0.0, 0.3, 0.9]), 0.1)
    np.testing.assert_allclose(gain, [0.03, 0.015, 0.0], rtol=1e-12, atol=1e-15)


def test_no_gain_when_no_neighbour_holds_more():
    w = row_normalised(_csr([(0, 1), (1, 2), (2, 3), (3, 0)], 4))
    equal = diffusion_gain(w, np.full(4, 0.4), 0.5)
    np.testing.assert_array_equal(equal, 0.0)
    zero = diffusion_gain(w, np.zeros(4), 0.5)
    np.testing.assert_array_equal(zero, 0.0)


def test_local_maximum_gains_nothing_neighbours_gain():
    # Star centred on 0 holding all the leaked capability.
    w = row_normalised(_csr([(0, 1), (0, 2), (0, 3)], 4))
    gain = diffusion_gain(w, np.array([0.6, 0.0, 0.0, 0.0]), 0.05)
    np.testing.assert_allclose(gain, [0.0, 0.03, 0.03, 0.03], rtol=1e-12)


def test_isolated_nodes_gain_nothing():
    # Nodes 3 and 4 are isolated; node 3 holds nothing, node 4 holds some leakage.
    w = row_normalised(_csr([(0, 1), (1, 2)], 5))
    leaked = np.array([1.0, 0.0, 1.0, 0.0, 0.2])
    gain = diffusion_gain(w, leaked, 0.5)
    assert gain[3] == 0.0
    assert gain[4] == 0.0
    assert gain[1] == pytest.approx(0.5)  # neighbour mean 1.0, own 0


def test_gain_linear_in_rate():
    w = row_normalised(_csr([(0, 1), (1, 2), (0, 2), (2, 3)], 4))
    leaked = np.array([0.1, 0.7, 0.2, 0.0])
    g1 = diffusion_gain(w, leaked, 0.02)
    g2 = diffusion_gain(w, leaked, 0.06)
    np.testing.assert_allclose(g2, 3 * g1, rtol=1e-12)
    # Node 0: neighbours 1, 2 -> mean 0.45, surplus 0.35 -> 0.02 * 0.35.
    # Node 1: neighbours 0, 2 -> mean 0.15 < 0.7 -> 0.
    # Node 2: neighbours 0, 1, 3 -> mean 0.8 / 3, surplus 0.8 / 3 - 0.2 = 0.2 / 3.
    # Node 3: neighbour 2 -> surplus 0.2 -> 0.02 * 0.2.
    np.testing.assert_allclose(g1, [0.007, 0.0, 0.02 * 0.2 / 3, 0.004], rtol=1e-12, atol=1e-15)


def test_works_on_csr_array_and_large_sparse_graph():
    n = 10_000
    rng = np.random.default_rng(0)
    u = rng.integers(0, n, 3 * n)
    v = rng.integers(0, n, 3 * n)
    keep = u != v
    a = sp.csr_array(
        (np.ones(2 * keep.sum()), (np.r_[u[keep], v[keep]], np.r_[v[keep], u[keep]])),
        shape=(n, n),
    )
    a.data[:] = 1.0
    assert isinstance(a, sp.csr_array)
    w = row_normalised(a)
    assert sp.issparse(w)
    leaked = np.zeros(n)
    leaked[:10] = 1.0
    gain = diffusion_gain(w, leaked, 0.05)
    assert gain.shape == (n,)
    assert (gain >= 0).all()
    assert (gain <= 0.05).all()
    # Only direct neighbours of the ten leaking nodes can gain.
    dense_neigh = np.zeros(n, dtype=bool)
    src = a[:10].tocoo()
    dense_neigh[src.col] = True
    assert not gain[~dense_neigh].any()


# ---------------------------------------------------------------- domestic_absorption


def test_domestic_absorbs_a_share_of_the_spend_weighted_stock_it_lacks():
    stock = np.array([1e6, 0.0, 3e5])
    weights = np.array([0.5, 0.3, 0.2])
    # Weighted mean 5e5 + 6e4 = 5.6e5; domestic holds 1.6e5 -> 0.1 * 4e5.
    assert domestic_absorption(stock, weights, 1.6e5, 0.1) == pytest.approx(4e4, rel=1e-12)


def test_domestic_absorbs_nothing_when_it_holds_more_or_nothing_leaked():
    weights = np.array([0.5, 0.5])
    assert domestic_absorption(np.array([1e5, 1e5]), weights, 2e5, 0.5) == 0.0
    assert domestic_absorption(np.zeros(2), weights, 0.0, 0.5) == 0.0
    assert domestic_absorption(np.zeros(0), np.zeros(0), 0.0, 0.5) == 0.0


def test_domestic_absorption_is_smooth_in_each_customer():
    # Removing one harvester's stock moves the absorption by its weight, not all or nothing
    # (the old rule took the single largest lead).
    rng = np.random.default_rng(1)
    weights = rng.pareto(1.3, 500) + 1
    weights /= weights.sum()
    stock = np.where(rng.random(500) < 0.2, 10 ** rng.uniform(4, 7, 500), 0.0)
    full = domestic_absorption(stock, weights, 0.0, 0.1)
    for i in np.argsort(-stock)[:5]:
        without = stock.copy()
        without[i] = 0.0
        drop = full - domestic_absorption(without, weights, 0.0, 0.1)
        assert drop == pytest.approx(0.1 * weights[i] * stock[i], rel=1e-9)
