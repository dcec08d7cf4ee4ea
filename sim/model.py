"""MarketModel: the month-by-month story of the channel, as a Mesa 3 model.

The step reads as the phases of a month; each phase takes what earlier phases produced and
returns what later ones need (no hidden side channels). The arithmetic lives in
:mod:`sim.mechanisms`, customers are updated as whole arrays (no Python loop over
customers), and the month's metrics are computed in :mod:`sim.metrics`.
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
from sim.mechanisms import access, demand, detection, diffusion, distillation
from sim.mechanisms.demand import DOMESTIC, FOREIGN, INHOUSE, RESELLER
from sim.mechanisms.enforcement import fine_amounts
from sim.mechanisms.politics import attention_update
from sim.metrics import METRIC_NAMES, MonthOutcome, month_metrics
from sim.policy import PolicyTimeline
from sim.schema import Config
from sim.world import (
    Streams,
    build_customers,
    build_international,
    intermediary_shares,
    knowledge_network,
    typed_graph,
)


@dataclass
class Safeguards:
    """What each customer faces this month from its intermediary and the rules (arrays)."""

    monitoring: np.ndarray
    kyc: np.ndarray
    channel_open: np.ndarray
    rate_limit: np.ndarray
    false_reject: np.ndarray


@dataclass
class Access:
    """Who can reach foreign models this month, and how."""

    restricted: np.ndarray
    barred: np.ndarray
    direct: np.ndarray
    evading: np.ndarray


@dataclass
class Campaigns:
    """This month's extraction plans: volume, accounts used, and their cost."""

    active: np.ndarray
    volume: np.ndarray
    accounts: np.ndarray
    proxy_cost: np.ndarray


@dataclass
class Harvest:
    """What monitoring saw of this month's extraction, and what it cost the harvesters."""

    obtained: np.ndarray
    detected: np.ndarray
    flagged_accounts: np.ndarray
    offence: np.ndarray
    exposed: np.ndarray
    false_positive: np.ndarray
    account_risk: np.ndarray
    campaign_risk: np.ndarray


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
        self.domestic = DomesticProviders(self, cfg.domestic, cfg.distillation)
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
        self._spend_weights = self.population.budget0 / max(self.population.budget0.sum(), 1e-300)
        self._sector_ids = {name: i for i, name in enumerate(self.population.sector_names)}
        self._ambition = (
            np.clip(self.population.capability0 / cfg.domestic.capability0, 0.0, 1.0)
            ** cfg.distillation.ambition_exponent
        )
        self.teacher = 0.0
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
        if cfg.check.invariants:
            from sim.invariants import start

            start(self)

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
        """The whole network as a typed networkx graph, built on first use
        (:func:`sim.world.typed_graph`)."""
        return typed_graph(self)

    # ------------------------------------------------------------------ the month

    def step(self) -> None:
        """One month: policy, access, extraction plans, demand, detection, sanctions,
        learning and leakage, developers, enforcement, politics, safeguard review, the
        two-way flow, metrics."""
        t = self.month
        self.timeline.apply(self, t)
        self.budget_factor = (1.0 + self.config.customers.budget_growth) ** t
        served = self.served_developer()
        frontier_end = self.frontier.capability(t + 1)

        guards = self._safeguards(served)
        reach = self._access(t, guards)
        plan = self._plan_campaigns(reach, guards)
        spend, prices = self._demand(served, reach, guards, plan)
        tokens, receipts, reseller_margin = self._tokens_and_receipts(spend, prices)
        harvest = self._detect(plan, guards, tokens)
        self._sanction(t, harvest, reach, guards, plan)
        self._learn(served, harvest, frontier_end)
        withdrawals = self._developers_respond(served, harvest)
        violations, found, fines = self._enforce(t, reach, spend)
        policy_move = self._politics(t, spend, harvest, found)
        objective = self._review_safeguards(t, receipts, fines, served)
        international = self._two_way_flow(t)

        outcome = MonthOutcome(
            spend=spend,
            receipts=receipts,
            reseller_margin=reseller_margin,
            proxy_cost=plan.proxy_cost,
            prices=prices,
            campaigns=plan.active,
            accounts=plan.accounts,
            planned=plan.volume,
            obtained=harvest.obtained,
            detected=harvest.detected,
            flagged_accounts=harvest.flagged_accounts,
            flagged_volume=2.0 * harvest.detected,
            offences=harvest.offence,
            exposed=harvest.exposed,
            false_positives=harvest.false_positive,
            using=tokens > 0,
            frontier=frontier_end,
            restricted=reach.restricted,
            violations=violations,
            found=found,
            fines=fines,
            withdrawals=withdrawals,
            policy_move=policy_move,
            objective=objective,
            international=international,
            served=served,
        )
        self.metrics = month_metrics(self, outcome)
        if self.config.check.invariants:
            from sim.invariants import check_month

            check_month(self, outcome, self.metrics)
        self.records.append(self.metrics)
        self.datacollector.collect(self)
        self.month += 1
        if self.month >= self.horizon:
            self.running = False
            self._release_id_counter()

    # ------------------------------------------------------------------ phases

    def _per_customer(self, values: list[float]) -> np.ndarray:
        return np.asarray(values, dtype=float)[self.population.intermediary]

    def _safeguards(self, served: ModelDeveloper | None) -> Safeguards:
        inters = list(self.intermediaries.values())
        return Safeguards(
            monitoring=self._per_customer([i.monitoring for i in inters]),
            kyc=self._per_customer([max(i.kyc, self.us.kyc_duty) for i in inters]),
            channel_open=self._per_customer(
                [i.channel_open and served is not None for i in inters]
            ).astype(bool),
            rate_limit=self._per_customer([i.rate_limit for i in inters]),
            false_reject=self._per_customer([i.false_reject for i in inters]),
        )

    def _sector_mask(self, names: list[str]) -> np.ndarray:
        ids = [self._sector_ids[n] for n in names]
        return np.isin(self.population.sector, ids)

    def _access(self, t: int, guards: Safeguards) -> Access:
        pop = self.population
        restricted = access.restricted_mask(
            pop.listing_percentile,
            self.us.rule_level,
            self._sector_mask(self.us.restricted_sectors),
        )
        barred = self._sector_mask(self.cn.barred_sectors)
        pop.restricted = restricted
        pop.approved = access.approved_mask(
            pop.established,
            pop.screen_draw,
            pop.intent,
            guards.kyc,
            pop.friction_draw,
            guards.false_reject,
        )
        direct = access.foreign_access(
            pop.approved,
            restricted,
            pop.suspended_until >= t,
            pop.terminated,
            guards.channel_open,
            barred,
        )
        evading = access.reseller_access(
            restricted,
            pop.blocked_until >= t,
            guards.channel_open,
            barred,
            pop.evade,
            guards.kyc,
            self.streams.dynamics.random(pop.size),
        )
        return Access(restricted, barred, direct, evading)

    def _plan_campaigns(self, reach: Access, guards: Safeguards) -> Campaigns:
        """Harvesters plan this month's extraction and the accounts they spread it over.

        A harvester with its own route (direct or a shell) extracts through its account
        until it is shut out or its extraction is exposed; from then on it runs proxy
        accounts, as many as minimise its exposure to the detector, within what KYC lets it
        open and its budget pays for (if they leave it fewer than two, it falls back on its
        own account when it has one). Rate limits cap what each account can extract.
        """
        pop, cfg = self.population, self.config
        learning = cfg.distillation
        harvester = pop.intent > 0
        own_route = reach.direct | reach.evading
        pop.on_proxies |= harvester & ~own_route & guards.channel_open
        planned = distillation.campaign_volume(
            pop.intent,
            self._ambition,
            guards.monitoring,
            pop.campaign_risk,
            learning.campaign_samples,
            learning.deterrence,
        )
        cap = 1.0 + learning.proxy_accounts_max * (1.0 - guards.kyc)
        if learning.proxy_cost_usd > 0:  # no more accounts than the budget pays for
            budget = pop.budget0 * self.budget_factor
            cap = np.minimum(cap, np.floor(budget / learning.proxy_cost_usd))
        spread = detection.least_exposed_accounts(
            planned, cfg.detection.threshold_samples, cfg.detection.link_accounts
        )
        use_proxies = pop.on_proxies & (cap >= 2.0)
        accounts = np.floor(np.where(use_proxies, np.clip(spread, 2.0, np.maximum(cap, 2.0)), 1.0))
        active = harvester & guards.channel_open & (own_route | use_proxies)
        capacity = accounts * learning.campaign_samples * (1.0 - guards.rate_limit)
        volume = np.where(active, np.minimum(planned, capacity), 0.0)
        active = active & (volume > 0)
        proxies = active & use_proxies
        proxy_cost = np.where(proxies, accounts * learning.proxy_cost_usd, 0.0)
        return Campaigns(active, volume, np.where(active, accounts, 0.0), proxy_cost)

    def _demand(
        self,
        served: ModelDeveloper | None,
        reach: Access,
        guards: Safeguards,
        plan: Campaigns,
    ) -> tuple[np.ndarray, np.ndarray]:
        pop, cfg = self.population, self.config.demand
        t = self.month
        q_served = served.capability(t) if served else 1.0
        p_served = served.price(t) if served else 1.0
        withdrawal_risk = cfg.withdrawal_salience * (served.pressure_ratio if served else 0.0)
        p_dom = self.domestic.price(t)
        n = pop.size
        quality = np.empty((n, 4))
        quality[:, FOREIGN] = q_served
        quality[:, RESELLER] = q_served
        quality[:, DOMESTIC] = self.domestic.capability
        quality[:, INHOUSE] = distillation.own_use_quality(
            pop.capability, pop.narrow, self.teacher, self.config.distillation.narrow_use
        )
        price = np.empty((n, 4))
        price[:, FOREIGN] = p_served
        price[:, RESELLER] = p_served * (1.0 + cfg.reseller_markup) * (1.0 + guards.kyc)
        price[:, DOMESTIC] = p_dom
        price[:, INHOUSE] = p_dom * cfg.inhouse_price_factor
        cutoff = pop.perceived_risk + withdrawal_risk
        penalty = self.us.audit_prob * (1.0 + self.us.penalty_multiplier / 2.0)
        risk = np.zeros((n, 4))
        risk[:, FOREIGN] = self.cn.disapproval + cutoff
        risk[:, RESELLER] = self.cn.disapproval + cutoff + penalty
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
        available[:, FOREIGN] = reach.direct
        available[:, RESELLER] = reach.evading
        shares = demand.choice_shares(utility, available)
        offshore_cap = np.minimum(
            1.0 - self.cn.localisation, 1.0 - guards.rate_limit * cfg.bulk_share
        )
        shares = demand.cap_offshore(shares, [FOREIGN, RESELLER], offshore_cap)
        budget = np.maximum(pop.budget0 * self.budget_factor - plan.proxy_cost, 0.0)
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

    def _detect(self, plan: Campaigns, guards: Safeguards, tokens: np.ndarray) -> Harvest:
        """Monitoring reads each account's traffic; flagged accounts are stopped mid-month.

        A flagged account is cut off, on average, half way through the month: its obtained
        samples are booked as detected, the rest of its plan is prevented. A flag on a
        harvester's own account is an offence. A proxy network is linked as a whole with a
        chance rising with its size (every account flagged, the firm identified); otherwise
        each flagged proxy account is traced to the firm with probability ``attribution``.
        Honest accounts are flagged at ``fp * mu``.
        """
        pop, cfg = self.population, self.config
        rng = self.streams.dynamics
        n = pop.size
        per_account = np.divide(
            plan.volume, plan.accounts, out=np.zeros(n), where=plan.accounts > 0
        )
        p_account = detection.account_detection(
            per_account,
            guards.monitoring,
            cfg.detection.sensitivity,
            cfg.detection.threshold_samples,
        )
        p_account = np.where(plan.active, p_account, 0.0)
        flagged = rng.binomial(plan.accounts.astype(np.int64), p_account).astype(float)
        in_own_account = plan.active & (plan.accounts <= 1)
        on_proxies = plan.active & (plan.accounts > 1)
        p_link = detection.network_linking(
            np.where(on_proxies, plan.accounts, 0.0),
            guards.monitoring,
            cfg.detection.sensitivity,
            cfg.detection.link_accounts,
        )
        linked = on_proxies & (rng.random(n) < p_link)
        flagged = np.where(linked, plan.accounts, flagged)
        share_flagged = np.divide(flagged, plan.accounts, out=np.zeros(n), where=plan.accounts > 0)
        obtained = plan.volume * (1.0 - 0.5 * share_flagged)
        detected = 0.5 * plan.volume * share_flagged
        p_traced = -np.expm1(flagged * np.log1p(-cfg.distillation.attribution))
        traced = on_proxies & (linked | (rng.random(n) < p_traced))
        offence = in_own_account & (flagged > 0)
        exposed = offence | traced
        p_fp = detection.false_positive_probability(
            guards.monitoring, cfg.detection.false_positive_rate
        )
        honest_account = (tokens > 0) & ~in_own_account
        false_positive = honest_account & (rng.random(n) < p_fp)
        account_risk = np.where(in_own_account, p_account, p_fp * (tokens > 0))
        trace_risk = 1.0 - (1.0 - p_link) * np.exp(
            plan.accounts * np.log1p(-p_account * cfg.distillation.attribution)
        )
        campaign_risk = np.where(on_proxies, trace_risk, account_risk)
        return Harvest(
            obtained,
            detected,
            flagged,
            offence,
            exposed,
            false_positive,
            account_risk,
            campaign_risk,
        )

    def _sanction(
        self, t: int, harvest: Harvest, reach: Access, guards: Safeguards, plan: Campaigns
    ) -> None:
        """Sanctions on the firm's own account: suspensions that lengthen with each detected
        extraction, then termination; appeals for honest accounts flagged by mistake. A
        harvester whose extraction was exposed (own account flagged, or proxy network linked
        or traced) moves it to proxy accounts. Perceived risks follow: of losing the account
        (demand), and of the campaign being exposed (planned volume)."""
        pop, cfg = self.population, self.config
        inters = list(self.intermediaries.values())
        base = self._per_customer([i.suspension_months for i in inters])
        escalation = self._per_customer([i.escalation for i in inters])
        terminate_after = self._per_customer([i.terminate_after for i in inters])
        appeal = self._per_customer([i.appeal_months for i in inters]).astype(np.int64)
        draw = self.streams.dynamics.random(pop.size)

        offence = harvest.offence
        pop.offences += offence
        terminate = offence & (pop.offences >= terminate_after)
        pop.terminated |= terminate
        suspend = offence & ~terminate
        length = detection.suspension_length(pop.offences, base, escalation, draw)
        pop.suspended_until = np.where(suspend & reach.direct, t + length, pop.suspended_until)
        pop.blocked_until = np.where(
            (suspend | terminate) & reach.evading, t + length, pop.blocked_until
        )
        fp = harvest.false_positive
        pop.suspended_until = np.where(fp & reach.direct, t + appeal, pop.suspended_until)
        pop.blocked_until = np.where(fp & reach.evading, t + appeal, pop.blocked_until)

        pop.on_proxies |= harvest.exposed & ~pop.terminated

        pop.detected_count += harvest.exposed
        pop.suspension_count += offence | fp
        memory = cfg.distillation.risk_memory
        own_signal = np.maximum(harvest.account_risk, (offence | fp).astype(float))
        pop.perceived_risk = memory * pop.perceived_risk + (1.0 - memory) * own_signal
        campaign_signal = np.maximum(harvest.campaign_risk, harvest.exposed.astype(float))
        pop.campaign_risk = memory * pop.campaign_risk + (1.0 - memory) * campaign_signal

    def _learn(self, served: ModelDeveloper | None, harvest: Harvest, frontier: float) -> None:
        """Sample stocks grow and diffuse; each party's head start (months) follows from its
        stock and the teacher's lead over its own path; capabilities are the own paths plus
        the head start (customers, then domestic providers). The own paths are the shadow
        state: they never see leakage."""
        pop, cfg = self.population, self.config
        learning = cfg.distillation
        growth = self.frontier.growth
        if served is not None:
            self.teacher = served.capability(self.month)
        pop.samples += harvest.obtained
        pop.received += diffusion.received_samples(
            self._weights, pop.stock, cfg.diffusion.rate, self._has_neighbours
        )
        pop.own = np.minimum(frontier, pop.own * (1.0 + cfg.customers.inhouse_growth))
        stock = pop.stock
        lead = distillation.months_behind(self.teacher, pop.own, growth)
        pop.head_start = distillation.head_start(
            pop.head_start, stock, lead, learning.broad_ceiling, learning.broad_half_samples
        )
        pop.capability = np.minimum(
            frontier, distillation.with_head_start(pop.own, pop.head_start, growth)
        )
        pop.narrow = distillation.narrow_closure(
            stock, learning.narrow_ceiling, learning.narrow_half_samples
        )
        absorbed = diffusion.domestic_absorption(
            stock, self._spend_weights, self.domestic.samples, self.domestic.spillover
        )
        self.domestic.advance(frontier, self.teacher, growth, absorbed)

    def _developers_respond(self, served: ModelDeveloper | None, harvest: Harvest) -> int:
        """The served lab learns of extraction of its model; every lab's pressure decays."""
        reported = float(harvest.detected.sum())
        missed = float(harvest.obtained.sum()) - reported
        withdrawals = 0
        for dev in self.developers.values():
            mine = dev is served
            if dev.respond(reported if mine else 0.0, missed if mine else 0.0):
                withdrawals += 1
        return withdrawals

    def _enforce(self, t: int, reach: Access, spend: np.ndarray):
        pop = self.population
        rng = self.streams.dynamics
        violations = reach.evading & (spend[:, RESELLER] > 0)
        found = violations & (rng.random(pop.size) < self.us.audit_prob)
        amounts = fine_amounts(
            spend[found, RESELLER], self.us.penalty_fixed_usd, self.us.penalty_multiplier
        )
        base = self._per_customer([i.suspension_months for i in self.intermediaries.values()])
        length = _geometric(base, rng.random(pop.size))
        pop.blocked_until = np.where(found, t + length, pop.blocked_until)
        per_inter = np.bincount(
            pop.intermediary[found], weights=amounts, minlength=len(self.intermediaries)
        )
        self._fines_by_intermediary = per_inter
        return violations, found, float(amounts.sum())

    def _politics(self, t: int, spend: np.ndarray, harvest: Harvest, found: np.ndarray) -> bool:
        incidents = int(harvest.exposed.sum() + found.sum())
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

    def _review_safeguards(
        self, t: int, receipts: np.ndarray, fines: float, served: ModelDeveloper | None
    ) -> float:
        """Each intermediary books its month (objective) and, on review months, climbs."""
        pop = self.population
        share_dev = served.revenue_share if served else 0.0
        k = len(self.intermediaries)
        net = np.bincount(pop.intermediary, weights=receipts, minlength=k) * (1.0 - share_dev)
        budget = np.bincount(pop.intermediary, weights=pop.budget0, minlength=k)
        budget = budget * self.budget_factor
        pressure = max(
            (d.pressure_ratio for d in self.developers.values() if d.home == "US"), default=0.0
        )
        values = []
        for j, inter in enumerate(self.intermediaries.values()):
            values.append(
                inter.book_month(
                    float(net[j]), float(self._fines_by_intermediary[j]), pressure, float(budget[j])
                )
            )
            inter.review_safeguards(t, self.us.kyc_duty)
        weights = np.array([i.share for i in self.intermediaries.values()])
        return float((weights * np.array(values)).sum() / weights.sum())

    def _two_way_flow(self, t: int) -> dict[str, float]:
        """International buyers split their spend over US and Chinese models on the catalogue
        and elsewhere; the Chinese model's quality is the Chinese lab's own path plus the head
        start the Chinese ecosystem took from leakage."""
        intl, cfg = self.international, self.config
        us_dev, cn_dev = self.frontier, self.chinese_developer
        q_us = us_dev.capability(t)
        q_cn = min(
            q_us,
            float(
                distillation.with_head_start(
                    cn_dev.capability(t), self.domestic.head_start, us_dev.growth
                )
            ),
        )
        shares = demand.international_shares(
            q_us,
            us_dev.price(t),
            q_cn,
            cn_dev.price(t),
            intl.barred_draw < self.us.two_way_restriction,
            cfg.demand.quality_weight,
            cfg.demand.price_weight,
            cfg.international.asc_chinese,
            cfg.international.asc_elsewhere,
        )
        budget = intl.budget0 * (1.0 + cfg.international.budget_growth) ** t
        intl.spend_us = budget * shares[:, 0]
        intl.spend_chinese = budget * shares[:, 1]
        intl.spend_elsewhere = budget * shares[:, 2]
        spend_us, spend_cn = float(intl.spend_us.sum()), float(intl.spend_chinese.sum())
        return {
            "spend_us": spend_us,
            "spend_chinese": spend_cn,
            "spend_elsewhere": float(intl.spend_elsewhere.sum()),
            "margin": spend_us * (1.0 - us_dev.revenue_share)
            + spend_cn * (1.0 - cn_dev.revenue_share),
            "us_developers": spend_us * us_dev.revenue_share,
            "cn_developer": spend_cn * cn_dev.revenue_share,
            "price_chinese": cn_dev.price(t),
            "quality_chinese": q_cn,
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


def _geometric(mean: np.ndarray, draw: np.ndarray) -> np.ndarray:
    return detection.suspension_length(np.ones_like(mean), mean, 1.0, draw)


def _reporter(name: str):
    return lambda m: m.metrics.get(name, np.nan)
