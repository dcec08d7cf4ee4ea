"""Builds the world from a config and one SeedSequence: populations and the knowledge network.

Every random draw of a run derives from ``numpy.random.SeedSequence(config.seed)``: the
streams below are spawned children, so adding draws to one stream never shifts another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import scipy.sparse as sp

from sim import accel
from sim.agents.customers import CustomerPopulation, InternationalPopulation
from sim.mechanisms.demand import RESELLER
from sim.network import barabasi_albert_edges
from sim.schema import Config, CustomersConfig, InternationalConfig

if TYPE_CHECKING:
    from sim.model import MarketModel

STREAMS = ("mesa", "customers", "network", "dynamics", "international")


@dataclass
class Streams:
    """Independent random streams of one run, all spawned from ``SeedSequence(seed)``."""

    mesa: np.random.Generator
    customers: np.random.Generator
    network: np.random.SeedSequence
    dynamics: np.random.Generator
    international: np.random.Generator

    @classmethod
    def from_seed(cls, seed: int) -> Streams:
        """Spawn one child sequence per stream, in a fixed order."""
        children = dict(zip(STREAMS, np.random.SeedSequence(seed).spawn(len(STREAMS)), strict=True))
        return cls(
            mesa=np.random.default_rng(children["mesa"]),
            customers=np.random.default_rng(children["customers"]),
            network=children["network"],
            dynamics=np.random.default_rng(children["dynamics"]),
            international=np.random.default_rng(children["international"]),
        )


def beta_with_mean(
    rng: np.random.Generator, mean: np.ndarray | float, n: int, concentration: float = 4.0
):
    """Beta draws with the given mean(s) and concentration; means of exactly 0 or 1 give 0 or 1.

    One draw per customer is taken whatever the means, so the stream stays aligned.
    """
    mean = np.broadcast_to(np.asarray(mean, dtype=float), (n,))
    inner = np.clip(mean, 1e-9, 1 - 1e-9)
    draws = rng.beta(concentration * inner, concentration * (1.0 - inner), n)
    return np.where(mean <= 0.0, 0.0, np.where(mean >= 1.0, 1.0, draws))


def child_seeds(seed: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """The ``n`` children ``seed.spawn(n)`` would give, without changing ``seed``.

    Keeps functions that take a SeedSequence pure: the same sequence, the same result.
    """
    return [
        np.random.SeedSequence(
            seed.entropy, spawn_key=(*seed.spawn_key, i), pool_size=seed.pool_size
        )
        for i in range(n)
    ]


def pareto_budgets(
    rng: np.random.Generator, n: int, alpha: float, total_usd: float, weights: np.ndarray
) -> np.ndarray:
    """Heavy-tailed budgets: Pareto(alpha) draws times sector weights, scaled to ``total_usd``.

    All zero when every customer drawn falls in sectors of zero weight (nothing to scale).
    """
    raw = (rng.pareto(alpha, n) + 1.0) * weights
    total = raw.sum()
    return raw * (total_usd / total) if total > 0 else np.zeros(n)


def build_customers(
    cfg: CustomersConfig,
    domestic_capability0: float,
    intermediary_shares: np.ndarray,
    rng: np.random.Generator,
) -> CustomerPopulation:
    """The Chinese customer population: the named archetypes first, then the drawn rest.

    Archetypes take their traits from the config (no draws), so the few buyers that dominate
    spend do not change with the seed; they pass the intermediary's screens (established,
    well-known firms). The rest draw sectors, heavy-tailed budgets, intent, exposure and
    capability.
    """
    names = tuple(cfg.sectors)
    sectors = [cfg.sectors[s] for s in names]
    named = list(cfg.archetypes.values())
    k = len(named)
    m = cfg.n - k
    share = np.array([s.share for s in sectors])
    drawn_sector = rng.choice(len(names), size=m, p=share / share.sum()).astype(np.int16)
    sector = np.concatenate(
        [np.array([names.index(a.sector) for a in named], dtype=np.int16), drawn_sector]
    )
    col = lambda attr: np.array([getattr(s, attr) for s in sectors])[drawn_sector]  # noqa: E731
    given = lambda attr: np.array([float(getattr(a, attr)) for a in named])  # noqa: E731
    budget0 = np.concatenate(
        [
            given("budget_musd") * 1e6,
            pareto_budgets(
                rng, m, cfg.pareto_alpha, cfg.budget_total_musd * 1e6, col("budget_weight")
            ),
        ]
    )
    harvester = rng.random(m) < col("harvesters")
    intent = np.concatenate([given("intent"), np.where(harvester, rng.beta(2.0, 3.0, m), 0.0)])
    listing = np.concatenate([given("listing"), beta_with_mean(rng, col("listing"), m)])
    evade = np.concatenate([given("evade"), beta_with_mean(rng, cfg.evade_propensity, m)])
    quality_weight = np.concatenate(
        [given("quality_weight"), col("quality_weight") * np.exp(rng.normal(0.0, 0.1, m))]
    )
    capability = np.minimum(
        np.concatenate(
            [
                given("inhouse") * domestic_capability0,
                col("inhouse") * domestic_capability0 * np.exp(rng.normal(0.0, 0.15, m)),
            ]
        ),
        domestic_capability0,
    )
    established = budget0 >= cfg.approval_min_budget_musd * 1e6
    established[:k] = True
    screen_draw = np.concatenate([np.ones(k), rng.random(m)])
    friction_draw = np.concatenate([np.ones(k), rng.random(m)])
    intermediary = rng.choice(
        len(intermediary_shares), size=cfg.n, p=intermediary_shares / intermediary_shares.sum()
    ).astype(np.int16)
    return CustomerPopulation(
        sector=sector,
        sector_names=names,
        budget0=budget0,
        listing=listing,
        intent=intent,
        evade=evade,
        quality_weight=quality_weight,
        capability=capability,
        established=established,
        screen_draw=screen_draw,
        friction_draw=friction_draw,
        intermediary=intermediary,
        names=tuple(cfg.archetypes),
    )


def build_international(
    cfg: InternationalConfig, rng: np.random.Generator
) -> InternationalPopulation:
    """Draw the international customers of the two-way flow."""
    budget0 = pareto_budgets(
        rng, cfg.n, cfg.pareto_alpha, cfg.budget_total_musd * 1e6, np.ones(cfg.n)
    )
    return InternationalPopulation(budget0=budget0, barred_draw=rng.random(cfg.n))


def knowledge_network(
    sector: np.ndarray,
    budget0: np.ndarray,
    attach: int,
    cross_sector_degree: float,
    seed: np.random.SeedSequence,
) -> sp.csr_array:
    """The customer-to-customer knowledge network as a symmetric 0/1 sparse adjacency.

    Within each sector a Barabasi-Albert graph (:func:`sim.network.barabasi_albert_edges`,
    seeded by the sector's child of ``seed``) gives heavy-tailed degrees; its hubs are
    mapped to the sector's largest spenders (big platforms are knowledge hubs). Random
    cross-sector links join the clusters. Indices are 32-bit while they fit.
    """
    n = sector.shape[0]
    sector_ids = np.unique(sector)
    children = child_seeds(seed, len(sector_ids) + 1)
    compiled = accel.use_numba(n)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for sid, child in zip(sector_ids, children[:-1], strict=True):
        members = np.flatnonzero(sector == sid)
        members = members[np.argsort(-budget0[members], kind="stable")]
        m = len(members)
        if m < 2:
            continue
        if m > attach:
            edges = barabasi_albert_edges(m, attach, np.random.default_rng(child), compiled)
        else:
            edges = np.argwhere(np.triu(np.ones((m, m), dtype=bool), k=1))
        degree = np.bincount(edges.ravel(), minlength=m)
        rank_of_node = np.empty(m, dtype=np.int64)
        rank_of_node[np.argsort(-degree, kind="stable")] = np.arange(m)
        rows.append(members[rank_of_node[edges[:, 0]]])
        cols.append(members[rank_of_node[edges[:, 1]]])
    rng = np.random.default_rng(children[-1])
    n_cross = round(cross_sector_degree * n / 2)
    if n_cross and len(sector_ids) > 1:
        u = rng.integers(0, n, n_cross)
        v = rng.integers(0, n, n_cross)
        keep = sector[u] != sector[v]
        rows.append(u[keep])
        cols.append(v[keep])
    index = np.int32 if n < 2**31 else np.int64
    r = np.concatenate(rows).astype(index) if rows else np.zeros(0, dtype=index)
    c = np.concatenate(cols).astype(index) if cols else np.zeros(0, dtype=index)
    adjacency = sp.coo_array(
        (np.ones(2 * len(r)), (np.concatenate([r, c]), np.concatenate([c, r]))), shape=(n, n)
    ).tocsr()
    adjacency.data[:] = 1.0
    return adjacency


def intermediary_shares(config: Config) -> np.ndarray:
    """Shares of customers served by each configured intermediary, in config order."""
    return np.array([i.share for i in config.intermediaries.values()], dtype=float)


def typed_graph(model: MarketModel) -> nx.Graph:
    """The whole network as a typed networkx graph.

    Nodes carry ``kind`` (developer, intermediary, customer, international, domestic,
    reseller, regulator); edges carry ``kind`` (licensing, service, knowledge, oversight).
    Customers are nodes ``("c", i)``; the knowledge edges are the sparse adjacency the
    dynamics use. Service edges reflect the state at the time of the call.
    """
    g = nx.Graph()
    pop = model.population
    for key, dev in model.developers.items():
        g.add_node(("dev", key), kind="developer", home=dev.home)
    inter_keys = list(model.intermediaries)
    for key in inter_keys:
        g.add_node(("int", key), kind="intermediary")
        for dkey, dev in model.developers.items():
            role = "china_channel" if dev.home == "US" else "international_catalog"
            g.add_edge(("dev", dkey), ("int", key), kind="licensing", role=role)
    g.add_node(("dom", "providers"), kind="domestic")
    g.add_node(("res", "resellers"), kind="reseller")
    g.add_node(("reg", "us"), kind="regulator")
    g.add_node(("reg", "cn"), kind="regulator")
    g.add_nodes_from(
        (("c", i), {"kind": "customer", "sector": pop.sector_names[pop.sector[i]]})
        for i in range(pop.size)
    )
    g.add_nodes_from((("i", i), {"kind": "international"}) for i in range(model.international.size))
    rows, cols = model.adjacency.nonzero()
    upper = rows < cols
    g.add_edges_from(
        ((("c", int(a)), ("c", int(b))) for a, b in zip(rows[upper], cols[upper], strict=True)),
        kind="knowledge",
    )
    g.add_edges_from(
        (
            (("int", inter_keys[pop.intermediary[i]]), ("c", i))
            for i in np.flatnonzero(pop.approved)
        ),
        kind="service",
    )
    g.add_edges_from(
        ((("int", inter_keys[0]), ("i", i)) for i in range(model.international.size)),
        kind="service",
    )
    g.add_edges_from(
        (
            (("res", "resellers"), ("c", int(i)))
            for i in np.flatnonzero(pop.spend_total[:, RESELLER])
        ),
        kind="service",
    )
    for key in inter_keys:
        g.add_edge(("res", "resellers"), ("int", key), kind="service")
        g.add_edge(("reg", "us"), ("int", key), kind="oversight")
    for key, dev in model.developers.items():
        g.add_edge(("reg", dev.home.lower()), ("dev", key), kind="oversight")
    g.add_edge(("reg", "us"), ("res", "resellers"), kind="oversight")
    g.add_edge(("reg", "cn"), ("dom", "providers"), kind="oversight")
    g.add_edges_from(((("reg", "cn"), ("c", i)) for i in range(pop.size)), kind="oversight")
    return g
