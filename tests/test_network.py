"""The edge-list Barabasi-Albert generator: its structure, its seed, its degree law."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy import stats

from sim import accel, network
from sim.network import barabasi_albert_edges

numba_or_skip = pytest.mark.skipif(not accel.numba_installed(), reason="numba not installed")


@pytest.mark.parametrize(("n", "attach"), [(2, 1), (5, 4), (50, 1), (300, 3), (2000, 2)])
def test_edge_count_and_each_new_node_links_to_distinct_earlier_nodes(n, attach):
    edges = barabasi_albert_edges(n, attach, np.random.default_rng(0))
    assert edges.shape == (attach * (n - attach), 2)
    # The star on nodes 0..attach, then `attach` edges per further node.
    np.testing.assert_array_equal(edges[:attach, 0], np.arange(1, attach + 1))
    assert (edges[:attach, 1] == 0).all()
    later = edges[attach:]
    assert (later[:, 1] < later[:, 0]).all()
    np.testing.assert_array_equal(np.bincount(later[:, 0], minlength=n)[attach + 1 :], attach)
    pairs = {(int(a), int(b)) for a, b in edges}
    assert len(pairs) == len(edges)  # no repeated edge, so the graph is simple


def test_bad_attach_is_refused():
    with pytest.raises(ValueError, match="attach = 3"):
        barabasi_albert_edges(3, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="attach = 0"):
        barabasi_albert_edges(10, 0, np.random.default_rng(0))


def test_same_seed_same_edges_other_seed_other_edges():
    a = barabasi_albert_edges(3000, 2, np.random.default_rng(np.random.SeedSequence(5)))
    b = barabasi_albert_edges(3000, 2, np.random.default_rng(np.random.SeedSequence(5)))
    c = barabasi_albert_edges(3000, 2, np.random.default_rng(np.random.SeedSequence(6)))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_running_out_of_draws_mid_graph_gives_the_same_edges(monkeypatch):
    plain = barabasi_albert_edges(1500, 3, np.random.default_rng(2), compiled=False)
    monkeypatch.setattr(network, "_spare_draws", lambda n_edges: 1)
    starved = barabasi_albert_edges(1500, 3, np.random.default_rng(2), compiled=False)
    np.testing.assert_array_equal(plain, starved)


@numba_or_skip
@pytest.mark.parametrize(("n", "attach"), [(2, 1), (400, 1), (3000, 2), (5000, 5)])
def test_compiled_loop_gives_the_same_edges(n, attach, monkeypatch):
    python = barabasi_albert_edges(n, attach, np.random.default_rng(n), compiled=False)
    numba = barabasi_albert_edges(n, attach, np.random.default_rng(n), compiled=True)
    np.testing.assert_array_equal(python, numba)
    monkeypatch.setattr(network, "_spare_draws", lambda n_edges: 1)
    starved = barabasi_albert_edges(n, attach, np.random.default_rng(n), compiled=True)
    np.testing.assert_array_equal(python, starved)


@pytest.mark.parametrize("attach", [1, 2, 3])
def test_degrees_follow_the_barabasi_albert_law_as_networkx_does(attach):
    # The Barabasi-Albert degree law: P(K >= k) = m (m + 1) / (k (k + 1)) for k >= m, a
    # power-law tail of exponent 3. Both generators match it and each other; an
    # Erdos-Renyi graph with as many edges would have P(K >= 4 m) of a few percent at most.
    n = 20_000
    ours, theirs = [], []
    for seed in range(3):
        edges = barabasi_albert_edges(n, attach, np.random.default_rng(seed))
        ours.append(np.bincount(edges.ravel(), minlength=n))
        g = nx.barabasi_albert_graph(n, attach, seed=seed)
        theirs.append(np.array([d for _, d in g.degree()]))
    ours_all, theirs_all = np.concatenate(ours), np.concatenate(theirs)
    assert ours_all.sum() == theirs_all.sum()  # same edge count formula
    assert ours_all.min() == theirs_all.min() == attach
    assert stats.ks_2samp(ours_all, theirs_all).statistic < 0.01
    for k in (2 * attach, 5 * attach, 10 * attach):
        law = attach * (attach + 1) / (k * (k + 1))
        assert (ours_all >= k).mean() == pytest.approx(law, rel=0.15), k
        assert (theirs_all >= k).mean() == pytest.approx(law, rel=0.15), k
    # Hubs: the largest degree grows like m sqrt(n) (about 140 m here) in both.
    for degree in (ours, theirs):
        assert 0.5 * attach * np.sqrt(n) < np.median([d.max() for d in degree])
        assert np.median([d.max() for d in degree]) < 5 * attach * np.sqrt(n)
