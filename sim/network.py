"""Barabasi-Albert preferential attachment, generated straight into an edge list.

The same process as ``networkx.barabasi_albert_graph`` (without a networkx graph): a star on
``attach + 1`` nodes, then each further node links to ``attach`` distinct earlier nodes, each
picked with probability proportional to its degree, by drawing uniformly from the list of
edge ends (a node appears in it once per link). So it has the same edge count,
``attach * (n - attach)``, and the same heavy-tailed degrees (a power-law tail of exponent
3). Draws come from a numpy Generator, in a fixed order: one uniform per pick, a repeated
pick drawing again. The loop is plain Python, compiled by numba for large graphs
(:mod:`sim.accel`); both give the same edges.
"""

from __future__ import annotations

import numpy as np

from sim import accel


def barabasi_albert_edges(
    n: int, attach: int, rng: np.random.Generator, compiled: bool | None = None
) -> np.ndarray:
    """The ``(attach * (n - attach), 2)`` edges of a Barabasi-Albert graph on ``n`` nodes.

    Row ``k`` is ``(new node, earlier node)``; nodes are ``0 .. n - 1`` and node ``i`` joins
    the graph before node ``i + 1``. Needs ``1 <= attach < n``. ``compiled`` forces the
    numba loop on or off (default: :func:`sim.accel.use_numba` for ``n``); the edges are the
    same either way.
    """
    if not 1 <= attach < n:
        raise ValueError(f"attach = {attach} must be at least 1 and below n = {n}")
    n_edges = attach * (n - attach)
    ends = np.empty(2 * n_edges, dtype=np.int64)
    edges = np.empty((n_edges, 2), dtype=np.int64)
    if compiled is None:
        compiled = accel.use_numba(n)
    grow = accel.compiled(_grow) if compiled else _grow
    source = grow(n, attach, np.empty(0), attach, ends, edges)[0]
    draws = rng.random(n_edges + _spare_draws(n_edges))
    while source < n:
        source, used = grow(n, attach, draws, source, ends, edges)
        if source < n:  # out of draws mid-node: keep the unused ones, append fresh draws
            draws = np.concatenate([draws[used:], rng.random(_spare_draws(n_edges))])
    return edges


def _spare_draws(n_edges: int) -> int:
    """Draws beyond one per edge, for repeated picks (rare once the graph has grown)."""
    return n_edges // 16 + 64


def _grow(
    n: int,
    attach: int,
    draws: np.ndarray,
    source: int,
    ends: np.ndarray,
    edges: np.ndarray,
) -> tuple[int, int]:
    """Add nodes ``source, source + 1, ...`` until ``n`` or the draws run out.

    ``ends`` lists every edge's two ends so far (``2 * attach * (source - attach)`` of them);
    ``edges`` receives each new edge. Called with ``source == attach`` it lays the initial
    star on nodes ``0 .. attach``. Returns the next node to add and how many draws were used
    by the nodes added (a node that ran out of draws is left for the next call, whole).
    """
    if source == attach:
        for k in range(attach):
            edges[k, 0] = k + 1
            edges[k, 1] = 0
            ends[2 * k] = 0
            ends[2 * k + 1] = k + 1
        source = attach + 1
    used = 0
    n_draws = draws.shape[0]
    while source < n:
        filled = 2 * attach * (source - attach)
        first_edge = attach * (source - attach)
        cursor = used
        picked = 0
        while picked < attach and cursor < n_draws:
            index = int(draws[cursor] * filled)
            cursor += 1
            target = ends[min(index, filled - 1)]
            repeated = False
            for j in range(picked):
                if edges[first_edge + j, 1] == target:
                    repeated = True
                    break
            if not repeated:
                edges[first_edge + picked, 0] = source
                edges[first_edge + picked, 1] = target
                picked += 1
        if picked < attach:
            break
        for j in range(attach):
            ends[filled + 2 * j] = source
            ends[filled + 2 * j + 1] = edges[first_edge + j, 1]
        used = cursor
        source += 1
    return source, used
