"""MarketModel: the month-by-month story of the channel, as a Mesa 3 model.

The step reads as the phases of a month; the arithmetic lives in :mod:`sim.mechanisms`,
and customers are updated as whole arrays (no Python loop over customers).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import mesa
import networkx as nx
import numpy as np
from omegaconf import DictConfig

from sim.agents import (
    ChinaRegulator,
    ChineseCustomer,
    CloudIntermediary,
    DomesticProviders,
    InternationalCustomer,
    ModelDeveloper,
    USRegulator,
)
from sim.config import as_config
from sim.mechanisms import access, capability, demand, detection, diffusion, distillation
from sim.mechanisms.demand import DOMESTIC, FOREIGN, INHOUSE, RESELLER
from sim.mechanisms.enforcement import fine_amounts
from sim.mechanisms.politics import attention_update
from sim.metrics import METRIC_NAMES
from sim.policy import PolicyTimeline
from sim.schema import Config
from sim.world import (
    Streams,
    build_customers,
    build_international,
    intermediary_shares,
    knowledge_network,
)


@dataclass
class MonthOutcome:
    """What the phases of one month produced, gathered for the month's metrics."""

    spend: np.ndarray
    receipts: np.ndarray
    reseller_margin: np.ndarray
    prices: np.ndarray
    harvested: np.ndarray
    flagged: np.ndarray
    leak: float
    best_inhouse: float
    q_frontier: float
    restricted: np.ndarray
    violations: np.ndarray
    found: np.ndarray
    fines: float
    true_pos: np.ndarray
    policy_move: bool
    two_way: float
    international_margin: float
    served: ModelDeveloper | None


class MarketModel(mesa.Model):
    """Frontier-model access by Chinese enterprises through a cloud intermediary.

    Build it from a :class:`~sim.schema.Config` (or DictConfig), or from keyword arguments
    for ``mesa.batch_run``: ``MarketModel(seed=3, horizon=24, **{"customers.n": 500})``
    (double underscores work as dots: ``customers__n=500``). ``scenario="leaky_safeguards"``
    loads a scenario file. Parameters are validated before anything is built.
    """

    def __init__(
        self,
        config: Config | DictConfig | None = None,
        *,
        scenario: str | None = None,
        seed: int | None = None,
        rng: Any = None,
        **params: Any,
    ) -> None:
        cfg = as_config(config, scenario=scenario, seed=seed, params=params)
        self.config = cfg
        self.streams = Streams.from_seed(cfg.seed)
        super().__init__(rng=rng if rng is not None else self.streams.mesa)
        self.horizon = cfg.horizon
        self.month = 0
        self.budget_factor = 1.0

        self.developers = {k: ModelDeveloper(self, k, d) for k, d in cfg.developers.items()}
        self.intermediaries = {
            k: CloudIntermediary(self, k, i) for k, i in cfg.intermediaries.items()
        }
        self.domestic = DomesticProviders(self, cfg.domestic)
        self.us = USRegulator(self, cfg.us, cfg.politics)
        self.cn = ChinaRegulator(self, cfg.cn, cfg.politics)

        self.population = build_customers(
            cfg.customers,
            cfg.domestic.capability0,
            intermediary_shares(cfg),
            self.streams.customers,
        )
        self.international = build_international(cfg.international, self.streams.international)
        self.adjacency = knowledge_network(
            self.population.sector,
            self.population.budget0,
            cfg.network.attach,
            cfg.network.cross_sector_degree,
            self.streams.network,
        )
        self._weights = diffusion.row_normalised(self.adjacency)
        self._has_neighbours = np.diff(self.adjacency.indptr) > 0
        self._suspension_months = np.array(
            [i.suspension_months for i in self.intermediaries.values()]
        )[self.population.intermediary]
        self._spend_weights = self.population.budget0 / max(self.population.budget0.sum(), 1e-300)
        self._sector_ids = {name: i for i, name in enumerate(self.population.sector_names)}
        customers = ChineseCustomer.create_agents(
            self, self.population.size, list(range(self.population.size))
        )
        self.customer_ids = np.fromiter(
            (a.unique_id for a in customers), dtype=np.int64, count=len(customers)
        )
        InternationalCustomer.create_agents(
            self, self.international.size, list(range(self.international.size))
        )

        self.timeline = PolicyTimeline(cfg.scenario.events)
        self.records: list[dict[str, float]] = []
        self.metrics: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "month": _reporter("month"),
                **{name: _reporter(name) for name in METRIC_NAMES},
            }
        )
        self.running = self.horizon > 0

    # ------------------------------------------------------------------ structure

    @property
    def frontier(self) -> ModelDeveloper:
        """The US developer with the most capable model (the frontier, in or out of the channel)."""
        us = [d for d in self.developers.values() if d.home == "US"]
        return max(us, key=lambda d: d.capability(self.month))

    def served_developer(self) -> ModelDeveloper | None:
        """The best US model still offered to Chinese customers, or None."""
        offered = [d for d in self.developers.values() if d.home == "US" and d.in_channel]
        return max(offered, key=lambda d: d.capability(self.month)) if offered else None

    @property
    def chinese_developer(self) -> ModelDeveloper:
        """The Chinese open-weight lab whose model the intermediary sells abroad."""
        return next(d for d in self.developers.values() if d.home == "CN")

    @cached_property
    def network(self) -> nx.Graph:
        """The whole network as a typed networkx graph, built on first use.

        Nodes carry ``kind`` (developer, intermediary, customer, international, domestic,
        reseller, regulator); edges carry ``kind`` (licensing, service, knowledge, oversight).
        Customers are nodes ``("c", i)``; the knowledge edges are the sparse adjacency used
        for diffusion.
        """
        g = nx.Graph()
        pop = self.population
        for key, dev in self.developers.items():
            g.add_node(("dev", key), kind="developer", home=dev.home)
        inter_keys = list(self.intermediaries)
        for key in inter_keys:
            g.add_node(("int", key), kind="intermediary")
            for dkey, dev in self.developers.items():
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
        g.add_nodes_from(
            (("i", i), {"kind": "international"}) for i in range(self.international.size)
        )
        rows, cols = self.adjacency.nonzero()
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
            ((("int", inter_keys[0]), ("i", i)) for i in range(self.international.size)),
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
        for key, dev in self.developers.items():
            g.add_edge(("reg", dev.home.lower()), ("dev", key), kind="oversight")
        g.add_edge(("reg", "us"), ("res", "resellers"), kind="oversight")
        g.add_edge(("reg", "cn"), ("dom", "providers"), kind="oversight")
        g.add_edges_from(((("reg", "cn"), ("c", i)) for i in range(pop.size)), kind="oversight")
        return g

    # ------------------------------------------------------------------ the month

    def step(self) -> None:
        """One month: policy, prices, access, demand, distillation, detection, diffusion,
        enforcement, politics, safeguard review, two-way flow, metrics."""
        t = self.month
        self.timeline.apply(self, t)
        self.budget_factor = (1.0 + self.config.customers.budget_growth) ** t
        served = self.served_developer()
        q_frontier = self.frontier.capability(t)

        mu, kyc, channel_open = self._safeguards_per_customer(served)
        restricted, foreign_ok, evading, barred = self._access(t, kyc, channel_open)
        spend, prices = self._demand(served, foreign_ok, evading, kyc)
        tokens, receipts, reseller_margin = self._tokens_and_receipts(spend, prices)
        harvested, samples, gain_distil = self._distillation(served, tokens, mu)
        flagged, true_pos = self._detection(t, samples, mu, tokens, foreign_ok, evading, served)
        leak, best_inhouse = self._diffusion(q_frontier, gain_distil)
        violations, found, fines = self._enforcement(t, evading, spend)
        policy_move = self._politics(t, spend, true_pos, found)
        self._review_safeguards(t)
        two_way, international_margin = self._two_way_flow(t)

        month = MonthOutcome(
            spend=spend,
            receipts=receipts,
            reseller_margin=reseller_margin,
            prices=prices,
            harvested=harvested,
            flagged=flagged,
            leak=leak,
            best_inhouse=best_inhouse,
            q_frontier=q_frontier,
            restricted=restricted,
            violations=violations,
            found=found,
            fines=fines,
            true_pos=true_pos,
            policy_move=policy_move,
            two_way=two_way,
            international_margin=international_margin,
            served=served,
        )
        self.metrics = self._month_metrics(month)
        self.records.append(self.metrics)
        self.datacollector.collect(self)
        self.month += 1
        if self.month >= self.horizon:
            self.running = False
            self._release_id_counter()

    # ------------------------------------------------------------------ phases

    def _safeguards_per_customer(self, served: ModelDeveloper | None):
        inters = list(self.intermediaries.values())
        idx = self.population.intermediary
        mu = np.array([i.monitoring for i in inters])[idx]
        kyc = np.array([max(i.kyc, self.us.kyc_duty) for i in inters])[idx]
        open_ = np.array([i.channel_open and served is not None for i in inters])[idx]
        return mu, kyc, open_

    def _sector_mask(self, names: list[str]) -> np.ndarray:
        ids = [self._sector_ids[n] for n in names]
        return np.isin(self.population.sector, ids)

    def _access(self, t: int, kyc: np.ndarray, channel_open: np.ndarray):
        pop = self.population
        restricted = access.restricted_mask(
            pop.listing_percentile,
            self.us.rule_level,
            self._sector_mask(self.us.restricted_sectors),
        )
        barred = self._sector_mask(self.cn.barred_sectors)
        pop.restricted = restricted
        pop.approved = access.approved_mask(pop.established, pop.screen_draw, pop.intent, kyc)
        suspended = pop.suspended_until >= t
        foreign_ok = access.foreign_access(
            pop.approved, restricted, suspended, channel_open, barred
        )
        evading = access.reseller_access(
            restricted,
            pop.blocked_until >= t,
            channel_open,
            barred,
            pop.evade,
            kyc,
            self.streams.dynamics.random(pop.size),
        )
        return restricted, foreign_ok, evading, barred

    def _demand(self, served, foreign_ok, evading, kyc):
        pop, cfg = self.population, self.config.demand
        t = self.month
        q_served = served.capability(t) if served else 1.0
        p_served = served.price(t) if served else 1.0
        p_dom = self.domestic.price(t)
        n = pop.size
        quality = np.empty((n, 4))
        quality[:, FOREIGN] = q_served
        quality[:, RESELLER] = q_served
        quality[:, DOMESTIC] = self.domestic.capability
        quality[:, INHOUSE] = pop.capability
        price = np.empty((n, 4))
        price[:, FOREIGN] = p_served
        price[:, RESELLER] = p_served * (1.0 + cfg.reseller_markup) * (1.0 + kyc)
        price[:, DOMESTIC] = p_dom
        price[:, INHOUSE] = p_dom * cfg.inhouse_price_factor
        risk = np.zeros((n, 4))
        risk[:, FOREIGN] = self.cn.disapproval + pop.perceived_risk
        risk[:, RESELLER] = self.cn.disapproval + self.us.audit_prob + pop.perceived_risk
        asc = np.array([cfg.asc_foreign, cfg.asc_reseller, cfg.asc_domestic, cfg.asc_inhouse])
        utility = demand.utilities(
            quality,
            price,
            risk,
            asc,
            cfg.quality_weight * pop.quality_weight,
            cfg.price_weight,
            cfg.risk_weight,
        )
        available = np.ones((n, 4), dtype=bool)
        available[:, FOREIGN] = foreign_ok
        available[:, RESELLER] = evading
        shares = demand.choice_shares(utility, available)
        shares = demand.cap_offshore(shares, [FOREIGN, RESELLER], 1.0 - self.cn.localisation)
        budget = pop.budget0 * self.budget_factor
        spend = budget[:, None] * shares
        pop.spend = spend
        pop.spend_total += spend
        return spend, price

    @staticmethod
    def _tokens_and_receipts(spend: np.ndarray, price: np.ndarray):
        tokens = (
            spend[:, FOREIGN] / price[:, FOREIGN] * 1e6
            + spend[:, RESELLER] / price[:, RESELLER] * 1e6
        )
        reseller_receipts = spend[:, RESELLER] * price[:, FOREIGN] / price[:, RESELLER]
        receipts = spend[:, FOREIGN] + reseller_receipts
        return tokens, receipts, spend[:, RESELLER] - reseller_receipts

    def _distillation(self, served, tokens, mu):
        pop, cfg = self.population, self.config.distillation
        share = distillation.harvest_share(
            pop.intent, mu, pop.perceived_risk, cfg.harvest_max, cfg.deterrence
        )
        harvested = share * tokens
        samples = harvested / cfg.tokens_per_sample
        teacher = served.capability(self.month) if served else 0.0
        gain = distillation.distillation_gain(
            pop.capability, teacher, samples, cfg.efficiency, cfg.half_samples
        )
        return harvested, samples, gain

    def _detection(self, t, samples, mu, tokens, foreign_ok, evading, served):
        pop, cfg = self.population, self.config.detection
        using = tokens > 0
        p = detection.detection_probability(
            samples, mu, cfg.kappa, cfg.ref_samples, cfg.false_positive_rate
        )
        p = np.where(using, p, 0.0)
        flagged = self.streams.dynamics.random(pop.size) < p
        true_pos = flagged & (samples > 0)
        direct = flagged & foreign_ok
        shell = flagged & evading
        pop.suspended_until[direct] = t + self._suspension_months[direct]
        pop.blocked_until[shell] = t + self._suspension_months[shell]
        pop.detected_count += true_pos
        pop.suspension_count += flagged
        memory = self.config.distillation.risk_memory
        pop.perceived_risk = memory * pop.perceived_risk + (1.0 - memory) * np.maximum(p, flagged)
        channel_tokens = float(tokens.sum())
        flagged_harvest = (
            float(samples[true_pos].sum()) * self.config.distillation.tokens_per_sample
        )
        incidents = 100.0 * flagged_harvest / channel_tokens if channel_tokens > 0 else 0.0
        self._withdrawals = 0
        for dev in self.developers.values():
            if dev.respond_to_incidents(incidents if dev is served else 0.0):
                self._withdrawals += 1
        return flagged, true_pos

    def _diffusion(self, q_frontier: float, gain_distil: np.ndarray):
        pop, cfg = self.population, self.config
        leaked = pop.distilled + pop.diffused
        gain_diffuse = diffusion.diffusion_gain(
            self._weights, leaked, cfg.diffusion.rate, self._has_neighbours
        )
        own = pop.capability * cfg.customers.inhouse_growth
        wanted = gain_distil + gain_diffuse
        new = np.minimum(q_frontier, pop.capability + own + wanted)
        realised = np.clip(new - pop.capability - own, 0.0, wanted)
        frac = np.divide(realised, wanted, out=np.zeros_like(wanted), where=wanted > 0)
        pop.distilled += gain_distil * frac
        from_diffusion = gain_diffuse * frac
        pop.diffused += from_diffusion
        pop.capability = new
        best_inhouse = float(new.max()) if new.size else 0.0
        spill = diffusion.domestic_spillover(
            self.domestic.grown_capability(),
            new,
            pop.distilled + pop.diffused,
            self.domestic.spillover,
        )
        self.domestic.advance(q_frontier, spill)
        # An elementwise sum, not a BLAS dot: BLAS threading would change the last bits.
        leak = float((self._spend_weights * realised).sum()) + self.domestic.leakage_gain
        return leak, best_inhouse

    def _enforcement(self, t, evading, spend):
        pop = self.population
        violations = evading & (spend[:, RESELLER] > 0)
        found = violations & (self.streams.dynamics.random(pop.size) < self.us.audit_prob)
        amounts = fine_amounts(
            spend[found, RESELLER], self.us.penalty_fixed_usd, self.us.penalty_multiplier
        )
        pop.blocked_until[found] = t + np.maximum(self._suspension_months[found], 1)
        per_inter = np.bincount(
            pop.intermediary[found], weights=amounts, minlength=len(self.intermediaries)
        )
        for inter, amount in zip(self.intermediaries.values(), per_inter, strict=True):
            inter.record_fines(float(amount))
        return violations, found, float(amounts.sum())

    def _politics(self, t, spend, true_pos, found) -> bool:
        incidents = int(true_pos.sum() + found.sum())
        public = int(self.streams.dynamics.binomial(incidents, self.config.politics.publicity))
        self.us.attention = attention_update(
            self.us.attention,
            self.config.politics.decay,
            float(spend[:, RESELLER].sum()) / 1e6,
            public,
            self.config.politics.weight_spend,
            self.config.politics.weight_incident,
        )
        moved = self.us.react(t)
        if moved:
            self.cn.retaliate()
        return moved

    def _review_safeguards(self, t: int) -> None:
        ratio = max(
            (d.pressure_ratio for d in self.developers.values() if d.home == "US"), default=0.0
        )
        for inter in self.intermediaries.values():
            inter.review_safeguards(t, ratio, self.us.kyc_duty)

    def _two_way_flow(self, t: int) -> tuple[float, float]:
        intl, cfg = self.international, self.config
        if intl.size == 0:
            return 0.0, 0.0
        us_dev, cn_dev = self.frontier, self.chinese_developer
        quality = np.array([us_dev.capability(t), self.domestic.capability])
        price = np.array([us_dev.price(t), cn_dev.price(t)])
        u = cfg.demand.quality_weight * np.log(quality) - cfg.demand.price_weight * np.log(price)
        u = u + np.array([0.0, cfg.international.asc_chinese])
        available = np.ones((intl.size, 2), dtype=bool)
        available[:, 1] = intl.barred_draw >= self.us.two_way_restriction
        shares = demand.choice_shares(np.broadcast_to(u, (intl.size, 2)), available)
        budget = intl.budget0 * (1.0 + cfg.international.budget_growth) ** t
        intl.spend_us = budget * shares[:, 0]
        intl.spend_chinese = budget * shares[:, 1]
        two_way = float(intl.spend_chinese.sum())
        return two_way, two_way * (1.0 - cn_dev.revenue_share)

    def _month_metrics(self, m: MonthOutcome) -> dict[str, float]:
        """The month's metrics (the columns of ``timeseries.csv``) from what its phases produced."""
        pop = self.population
        t = self.month
        totals = m.spend.sum(axis=0)
        total = float(totals.sum())
        direct, reseller, dom, inhouse = (float(x) for x in totals)
        share_dev = m.served.revenue_share if m.served else 0.0
        china_receipts = float(m.receipts.sum())
        rev_china = china_receipts * (1.0 - share_dev)
        best = max(self.domestic.capability, m.best_inhouse)
        foreign = direct + reseller
        weights = np.array([i.share for i in self.intermediaries.values()])
        share = lambda x: x / total if total > 0 else 0.0  # noqa: E731
        return {
            "month": t,
            "china_spend_foreign": foreign,
            "spend_foreign_direct": direct,
            "spend_reseller": reseller,
            "spend_domestic": dom,
            "spend_inhouse": inhouse,
            "revenue_intermediary": rev_china + m.international_margin,
            "revenue_intermediary_china": rev_china,
            "revenue_intermediary_international": m.international_margin,
            "revenue_developers": china_receipts * share_dev,
            "revenue_domestic": dom,
            "revenue_resellers": float(m.reseller_margin.sum()),
            "revenue_two_way": m.two_way,
            "share_foreign_direct": share(direct),
            "share_reseller": share(reseller),
            "share_domestic": share(dom),
            "share_inhouse": share(inhouse),
            "intermediary_share": share(foreign),
            "price_foreign": float(m.prices[0, FOREIGN]) if m.served else float("nan"),
            "price_domestic": float(m.prices[0, DOMESTIC]),
            "harvested_tokens": float(m.harvested.sum()),
            "harvested_tokens_undetected": float(m.harvested[~m.flagged].sum()),
            "leakage_capability": m.leak,
            "capability_frontier": m.q_frontier,
            "capability_domestic": self.domestic.capability,
            "capability_best_china": best,
            "capability_gap": m.q_frontier - best,
            "capability_gap_months": capability.gap_months(
                m.q_frontier, best, self.frontier.growth
            ),
            "diffusion_reach": float((pop.diffused >= self.config.diffusion.reach_threshold).mean())
            if pop.size
            else 0.0,
            "violations": int(m.violations.sum()),
            "violations_detected": int(m.found.sum()),
            "fines": m.fines,
            "suspensions": int(m.flagged.sum()),
            "false_positive_suspensions": int((m.flagged & ~m.true_pos).sum()),
            "suspended_accounts": int((pop.suspended_until > t).sum()),
            "model_withdrawals": self._withdrawals,
            "models_in_channel": sum(
                d.in_channel for d in self.developers.values() if d.home == "US"
            ),
            "compliance_rate": direct / foreign if foreign > 0 else float("nan"),
            "restricted_customers": int(m.restricted.sum()),
            "approved_customers": int(pop.approved.sum()),
            "monitoring": float(weights @ [i.monitoring for i in self.intermediaries.values()])
            / weights.sum(),
            "kyc": float(
                weights @ [max(i.kyc, self.us.kyc_duty) for i in self.intermediaries.values()]
            )
            / weights.sum(),
            "developer_pressure": max(
                d.pressure_ratio for d in self.developers.values() if d.home == "US"
            ),
            "us_rule_level": self.us.rule_level,
            "localisation": self.cn.localisation,
            "attention": self.us.attention,
            "policy_moves": int(m.policy_move),
        }

    def _release_id_counter(self) -> None:
        """Drop Mesa's per-model agent-id counter once the run is over.

        Mesa 3.3 keeps it in a class-level dict keyed by the model (``Agent._ids``), which
        holds every model ever built alive: a long sweep in one process would grow without
        bound. All of this model's agents exist from construction, so the counter is spent.
        """
        mesa.Agent._ids.pop(self, None)

    def run(self) -> MarketModel:
        """Step until ``running`` turns false (after ``horizon`` months)."""
        while self.running:
            self.step()
        return self


def _reporter(name: str):
    return lambda m: m.metrics.get(name, np.nan)
