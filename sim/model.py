"""MarketModel: the month-by-month story of the channel, as a Mesa 3 model.

The step reads as the phases of a month; each phase takes what earlier phases produced and
returns what later ones need (no hidden side channels). The arithmetic lives in
:mod:`sim.mechanisms`, customers are updated as whole arrays (no Python loop over
customers), and the month's metrics are computed in :mod:`sim.metrics`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import mesa
import networkx as nx
import numpy as np
from omegaconf import DictConfig

from sim import accel
from sim.agents import (
    ChinaRegulator,
    ChineseCustomer,
    CloudIntermediary,
    DomesticProviders,
    InternationalCustomer,
    ModelDeveloper,
    USRegulator,
)
from sim.agents.views import RowViews
from sim.calendar import date_of, month_index
from sim.collector import MonthlyCollector
from sim.config import as_config
from sim.draws import uniform_at
from sim.kernels import access as fused_access
from sim.kernels import demand as fused_demand
from sim.kernels import learning as fused_learning
from sim.kernels import risk as fused_risk
from sim.kernels.demand import DemandTerms
from sim.kernels.learning import LearningTerms, Stocks
from sim.kernels.totals import group_sums, totals
from sim.mechanisms import access, demand, detection, diffusion, distillation
from sim.mechanisms.capability import adoption
from sim.mechanisms.demand import RESELLER
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

#: How many arrays derived from settings (:meth:`MarketModel._derived`) a model keeps.
DERIVED_KEPT = 32


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
    """This month's extraction plans: volume, accounts used, and their cost (one value per
    customer, zero outside the campaigns), and the campaigns' rows (ascending)."""

    active: np.ndarray
    volume: np.ndarray
    accounts: np.ndarray
    proxy_cost: np.ndarray
    rows: np.ndarray


@dataclass
class Purchases:
    """This month's spend by option, the prices paid, and what the spend bought."""

    spend: np.ndarray
    prices: np.ndarray
    tokens: np.ndarray
    receipts: np.ndarray
    reseller_margin: np.ndarray


@dataclass
class Harvest:
    """What monitoring saw of this month's extraction, and what it cost the harvesters.

    One value per customer, except ``campaign_risk``: one per harvester (the customers with
    an intent to distil, in row order), the only ones that plan campaigns.
    """

    obtained: np.ndarray
    detected: np.ndarray
    flagged_accounts: np.ndarray
    offence: np.ndarray
    exposed: np.ndarray
    false_positive: np.ndarray
    account_risk: np.ndarray
    campaign_risk: np.ndarray
    using: np.ndarray


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
        self._compiled = accel.use_numba(self.population.size)
        self._harvesters = np.flatnonzero(self.population.intent > 0)
        self._harvester_intent = self.population.intent[self._harvesters]
        self._harvester_ambition = self._ambition[self._harvesters]
        self._harvester_budget0 = self.population.budget0[self._harvesters]
        self._quality_weight = cfg.demand.quality_weight * self.population.quality_weight
        self._intermediary = self.population.intermediary.astype(np.intp)
        self._budget_by_intermediary = np.bincount(
            self._intermediary, weights=self.population.budget0, minlength=len(self.intermediaries)
        )
        self._derived_cache: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._row_views = RowViews(
            self,
            [
                (ChineseCustomer, self.population.size),
                (InternationalCustomer, self.international.size),
            ],
        )
        self.customer_ids = self._row_views.ids(ChineseCustomer)

        self.timeline = PolicyTimeline([*cfg.history.events, *cfg.scenario.events], cfg.start)
        self._initial_sanctions(cfg)
        self.records: list[dict[str, float]] = []
        self.metrics: dict[str, float] = {}
        self.datacollector = MonthlyCollector(
            model_reporters={
                "month": _reporter("month"),
                "date": lambda m: date_of(m.month, m.config.start),
                **{name: _reporter(name) for name in METRIC_NAMES},
            }
        )
        self.running = self.horizon > 0
        if cfg.check.invariants:
            from sim.invariants import start

            start(self)

    def _initial_sanctions(self, cfg: Config) -> None:
        """Archetypes' history before month 0: offences on record and running suspensions
        (a firm caught before has moved its extraction to proxy accounts)."""
        pop = self.population
        for i, arch in enumerate(cfg.customers.archetypes.values()):
            pop.offences[i] = arch.offences
            pop.on_proxies[i] = arch.offences > 0 and arch.intent > 0
            if arch.suspended_until:
                pop.suspended_until[i] = month_index(arch.suspended_until, cfg.start)

    # ------------------------------------------------------------------ structure

    @property
    def agents(self) -> mesa.AgentSet:
        """All agents; the customers' row agents are created on first use (:class:`RowViews`)."""
        self._row_views.create()
        return super().agents

    @property
    def agents_by_type(self) -> dict[type[mesa.Agent], mesa.AgentSet]:
        """Agents by class; the customers' row agents are created on first use."""
        self._row_views.create()
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        """Agent classes; the customers' row agents are created on first use."""
        self._row_views.create()
        return super().agent_types

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

    @property
    def compiled(self) -> bool:
        """Whether this run's hot loops use the compiled kernels (:mod:`sim.accel`)."""
        return self._compiled

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
        self.budget_factor = adoption(
            t, self.config.customers.budget_growth, self.config.customers.budget_saturation
        )
        served = self.served_developer()
        frontier_end = self.frontier.capability(t + 1)

        guards = self._safeguards(served)
        reach = self._access(t, guards)
        plan = self._plan_campaigns(reach, self._safeguards(served, self._per_harvester))
        bought = self._demand(served, reach, guards, plan)
        spend, tokens, receipts = bought.spend, bought.tokens, bought.receipts
        harvest = self._detect(plan, guards, tokens)
        self._sanction(t, harvest, reach, guards, plan)
        self._learn(served, harvest, plan, frontier_end)
        withdrawals = self._developers_respond(served, harvest, plan)
        violations, found, fines = self._enforce(t, reach, spend)
        policy_move = self._politics(t, spend, harvest, found)
        objective = self._review_safeguards(t, receipts, fines, served)
        international = self._two_way_flow(t)

        outcome = MonthOutcome(
            spend=spend,
            receipts=receipts,
            reseller_margin=bought.reseller_margin,
            proxy_cost=plan.proxy_cost,
            prices=bought.prices,
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
            using=harvest.using,
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

    def _spread(self, values: list[float]) -> np.ndarray:
        """Each customer's value of a per-intermediary quantity that changes every month; with
        one intermediary, its one value (a length-1 array, which broadcasts)."""
        if len(values) == 1:
            return np.array([float(values[0])])
        return np.asarray(values, dtype=float)[self.population.intermediary]

    def _per_customer(self, values: list[float], dtype: type = float) -> np.ndarray:
        """Each customer's value of an intermediary's setting (read-only, see :meth:`_derived`)."""
        return self._derived(
            ("per_customer", dtype, *values),
            lambda: np.asarray(values, dtype=dtype)[self.population.intermediary],
        )

    def _derived(self, key: tuple, make: Callable[[], np.ndarray]) -> np.ndarray:
        """An array that depends only on fixed traits and the settings named in ``key``.

        Settings change a few times a run, so the array is made once per distinct ``key``
        and kept (read-only: every month that uses it shares it); the least recently used
        arrays are dropped beyond :data:`DERIVED_KEPT`.
        """
        cache = self._derived_cache
        array = cache.get(key)
        if array is None:
            array = make()
            array.flags.writeable = False
            cache[key] = array
            if len(cache) > DERIVED_KEPT:
                cache.popitem(last=False)
        else:
            cache.move_to_end(key)
        return array

    def _scatter(self, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
        """A per-customer array holding ``values`` at ``rows`` and zeros (False) elsewhere."""
        out = np.zeros(self.population.size, dtype=values.dtype)
        out[rows] = values
        return out

    def _per_harvester(self, values: list[float], dtype: type = float) -> np.ndarray:
        """Each harvester's value of an intermediary's setting (read-only, see :meth:`_derived`)."""
        return self._derived(
            ("per_harvester", dtype, *values),
            lambda: np.asarray(values, dtype=dtype)[self.population.intermediary[self._harvesters]],
        )

    def _safeguards(self, served: ModelDeveloper | None, spread=None) -> Safeguards:
        """The safeguards each customer faces (``spread=self._per_harvester``: each harvester)."""
        spread = spread or self._per_customer
        inters = list(self.intermediaries.values())
        return Safeguards(
            monitoring=spread([i.monitoring for i in inters]),
            kyc=spread([max(i.kyc, self.us.kyc_duty) for i in inters]),
            channel_open=spread([i.channel_open and served is not None for i in inters], bool),
            rate_limit=spread([i.rate_limit for i in inters]),
            false_reject=spread([i.false_reject for i in inters]),
        )

    def _sector_mask(self, names: list[str]) -> np.ndarray:
        ids = [self._sector_ids[n] for n in names]
        return np.isin(self.population.sector, ids)

    def _access(self, t: int, guards: Safeguards) -> Access:
        """Who is restricted, approved, and reaches the channel directly or through a shell.

        Restriction, the bar on sectors and KYC approval depend only on fixed traits and on
        rules that change a few times a run, so each is worked out once per setting.
        """
        pop, us, cn = self.population, self.us, self.cn
        inters = list(self.intermediaries.values())
        restricted = self._derived(
            ("restricted", us.rule_level, *us.restricted_sectors),
            lambda: access.restricted_mask(
                pop.listing_percentile, us.rule_level, self._sector_mask(us.restricted_sectors)
            ),
        )
        barred = self._derived(
            ("barred", *cn.barred_sectors), lambda: self._sector_mask(cn.barred_sectors)
        )
        pop.restricted = restricted
        pop.approved = self._derived(
            (
                "approved",
                *(max(i.kyc, us.kyc_duty) for i in inters),
                *(i.false_reject for i in inters),
            ),
            lambda: access.approved_mask(
                pop.established,
                pop.screen_draw,
                pop.intent,
                guards.kyc,
                pop.friction_draw,
                guards.false_reject,
            ),
        )
        direct, evading = fused_access.routes(
            t,
            pop.approved,
            restricted,
            barred,
            pop.suspended_until,
            pop.blocked_until,
            pop.terminated,
            guards.channel_open,
            pop.evade,
            guards.kyc,
            self.streams.dynamics.random(pop.size),
            self._compiled,
        )
        return Access(restricted, barred, direct, evading)

    def _plan_campaigns(self, reach: Access, guards: Safeguards) -> Campaigns:
        """Harvesters plan this month's extraction and the accounts they spread it over
        (``guards``: the safeguards each harvester faces).

        A harvester with its own route (direct or a shell) extracts through its account
        until it is shut out or its extraction is exposed; from then on it runs proxy
        accounts, as many as minimise its exposure to the detector, within what KYC lets it
        open and its budget pays for (if they leave it fewer than two, it falls back on its
        own account when it has one). Rate limits cap what each account can extract.
        """
        pop, cfg = self.population, self.config
        learning = cfg.distillation
        h = self._harvesters
        own_route = reach.direct[h] | reach.evading[h]
        channel_open = guards.channel_open
        pop.on_proxies[h] |= ~own_route & channel_open
        planned = distillation.campaign_volume(
            self._harvester_intent,
            self._harvester_ambition,
            guards.monitoring,
            pop.campaign_risk[h],
            learning.campaign_samples * pop.campaign_scale,
            learning.deterrence,
        )
        cap = 1.0 + learning.proxy_accounts_max * (1.0 - guards.kyc)
        if learning.proxy_cost_usd > 0:  # no more accounts than the budget pays for
            budget = self._harvester_budget0 * self.budget_factor
            cap = np.minimum(cap, np.floor(budget / learning.proxy_cost_usd))
        spread = detection.least_exposed_accounts(
            planned, cfg.detection.threshold_samples, cfg.detection.link_accounts
        )
        use_proxies = pop.on_proxies[h] & (cap >= 2.0)
        accounts = np.floor(np.where(use_proxies, np.clip(spread, 2.0, np.maximum(cap, 2.0)), 1.0))
        active = channel_open & (own_route | use_proxies)
        capacity = accounts * learning.campaign_samples * (1.0 - guards.rate_limit)
        volume = np.where(active, np.minimum(planned, capacity), 0.0)
        active = active & (volume > 0)
        proxies = use_proxies[active]
        accounts = accounts[active]
        rows = h[active]
        return Campaigns(
            self._scatter(rows, np.ones(rows.size, dtype=bool)),
            self._scatter(rows, volume[active]),
            self._scatter(rows, accounts),
            self._scatter(rows, np.where(proxies, accounts * learning.proxy_cost_usd, 0.0)),
            rows,
        )

    def _demand(
        self,
        served: ModelDeveloper | None,
        reach: Access,
        guards: Safeguards,
        plan: Campaigns,
    ) -> Purchases:
        """Each customer splits its budget over the options it can reach (multinomial logit,
        capped offshore) and buys tokens with it (:mod:`sim.kernels.demand`)."""
        pop, cfg = self.population, self.config.demand
        t = self.month
        q_served = served.capability(t) if served else 1.0
        p_served = served.price(t) if served else 1.0
        withdrawal_risk = cfg.withdrawal_salience * (served.pressure_ratio if served else 0.0)
        p_dom = self.domestic.price(t)
        inters = list(self.intermediaries.values())
        markup = p_served * (1.0 + cfg.reseller_markup)
        reseller_prices = [markup * (1.0 + max(i.kyc, self.us.kyc_duty)) for i in inters]
        terms = DemandTerms(
            log_q_served=_log(q_served),
            log_q_domestic=_log(self.domestic.capability),
            log_p_served=_log(p_served),
            log_p_domestic=_log(p_dom),
            log_p_inhouse=_log(p_dom * cfg.inhouse_price_factor),
            price_weight=float(cfg.price_weight),
            risk_weight=float(cfg.risk_weight),
            withdrawal_risk=float(withdrawal_risk),
            disapproval=float(self.cn.disapproval),
            penalty=float(self.us.audit_prob * (1.0 + self.us.penalty_multiplier / 2.0)),
            asc_foreign=float(cfg.asc_foreign),
            asc_reseller=float(cfg.asc_reseller),
            asc_domestic=float(cfg.asc_domestic),
            asc_inhouse=float(cfg.asc_inhouse),
        )
        q_inhouse = fused_demand.inhouse_quality(
            pop.capability,
            pop.narrow,
            self.teacher,
            self.config.distillation.narrow_use,
            self._compiled,
        )
        weights = fused_demand.utility_gaps(
            terms,
            np.log(q_inhouse, out=q_inhouse),
            self._spread([_log(p) for p in reseller_prices]),
            self._quality_weight,
            pop.perceived_risk,
            reach.direct,
            reach.evading,
            self._compiled,
        )
        np.exp(weights, out=weights)
        offshore_cap = self._per_customer(
            [min(1.0 - self.cn.localisation, 1.0 - i.rate_limit * cfg.bulk_share) for i in inters]
        )
        p_reseller = self._spread(reseller_prices)
        spend, tokens, receipts, margin = fused_demand.spend_from_weights(
            weights,
            reach.direct,
            reach.evading,
            offshore_cap,
            pop.budget0,
            self.budget_factor,
            plan.proxy_cost,
            p_served,
            p_reseller,
            pop.spend_total,
            self._compiled,
        )
        pop.spend = spend
        prices = np.array(
            [[p_served, p, p_dom, p_dom * cfg.inhouse_price_factor] for p in reseller_prices]
        )
        prices = (
            np.broadcast_to(prices[0], (pop.size, 4))
            if len(inters) == 1
            else prices[pop.intermediary]
        )
        return Purchases(spend, prices, tokens, receipts, margin)

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
        # Campaigns are a few customers: work on them only (``a``), then spread the results
        # over all customers. Every customer still gets its draws, in the same order.
        a = plan.rows
        volume, accounts, monitoring = plan.volume[a], plan.accounts[a], guards.monitoring[a]
        p_account = detection.account_detection(
            volume / accounts,
            monitoring,
            cfg.detection.sensitivity,
            cfg.detection.threshold_samples,
        )
        flagged = rng.binomial(accounts.astype(np.int64), p_account).astype(float)
        in_own_account = accounts <= 1
        on_proxies = accounts > 1
        p_link = detection.network_linking(
            np.where(on_proxies, accounts, 0.0),
            monitoring,
            cfg.detection.sensitivity,
            cfg.detection.link_accounts,
        )
        linked = on_proxies & (uniform_at(rng, n, a) < p_link)
        flagged = np.where(linked, accounts, flagged)
        share_flagged = flagged / accounts
        obtained = volume * (1.0 - 0.5 * share_flagged)
        detected = 0.5 * volume * share_flagged
        p_traced = 1.0 - (1.0 - cfg.distillation.attribution) ** flagged  # 0**0 = 1: none flagged
        traced = on_proxies & (linked | (uniform_at(rng, n, a) < p_traced))
        offence = in_own_account & (flagged > 0)
        p_fp = self._per_customer(
            [
                float(
                    detection.false_positive_probability(
                        i.monitoring, cfg.detection.false_positive_rate
                    )
                )
                for i in self.intermediaries.values()
            ]
        )
        using, false_positive, account_risk = fused_risk.account_flags(
            tokens, rng.random(n), p_fp, self._compiled
        )
        own = a[in_own_account]  # harvesters' own accounts: flagged only by the detector
        false_positive[own] = False
        account_risk[own] = p_account[in_own_account]
        trace_risk = 1.0 - (1.0 - p_link[on_proxies]) * np.exp(
            accounts[on_proxies] * np.log1p(-p_account[on_proxies] * cfg.distillation.attribution)
        )
        campaign_risk = account_risk[self._harvesters]
        campaign_risk[np.searchsorted(self._harvesters, a[on_proxies])] = trace_risk
        return Harvest(
            self._scatter(a, obtained),
            self._scatter(a, detected),
            self._scatter(a, flagged),
            self._scatter(a, offence),
            self._scatter(a, offence | traced),
            false_positive,
            account_risk,
            campaign_risk,
            using,
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
        appeal = self._per_customer([i.appeal_months for i in inters], np.int64)
        # Offences and mistaken flags are rare: update the customers concerned only.
        offence = np.flatnonzero(harvest.offence)
        draw = uniform_at(self.streams.dynamics, pop.size, offence)
        pop.offences[offence] += 1
        terminate = pop.offences[offence] >= terminate_after[offence]
        pop.terminated[offence[terminate]] = True
        length = detection.suspension_length(
            pop.offences[offence], base[offence], escalation[offence], draw
        )
        suspend = ~terminate & reach.direct[offence]
        pop.suspended_until[offence[suspend]] = t + length[suspend]
        block = reach.evading[offence]
        pop.blocked_until[offence[block]] = t + length[block]
        fp = np.flatnonzero(harvest.false_positive)
        appealing = fp[reach.direct[fp]]
        pop.suspended_until[appealing] = t + appeal[appealing]
        appealing = fp[reach.evading[fp]]
        pop.blocked_until[appealing] = t + appeal[appealing]

        exposed = np.flatnonzero(harvest.exposed)
        pop.on_proxies[exposed] |= ~pop.terminated[exposed]

        pop.detected_count[exposed] += 1
        pop.suspension_count[offence] += 1
        pop.suspension_count[fp] += 1
        memory = cfg.distillation.risk_memory
        # A sanction is a certain loss of the account: its signal is 1 (few customers).
        sanctioned = np.concatenate((offence, fp))
        before = pop.perceived_risk[sanctioned]
        fused_risk.remember(pop.perceived_risk, harvest.account_risk, memory, self._compiled)
        pop.perceived_risk[sanctioned] = before * memory + (1.0 - memory) * np.maximum(
            harvest.account_risk[sanctioned], 1.0
        )
        # Only harvesters plan campaigns, so only theirs is kept up to date.
        h = self._harvesters
        campaign_signal = harvest.campaign_risk
        np.maximum(campaign_signal, harvest.exposed[h], out=campaign_signal)
        pop.campaign_risk[h] = memory * pop.campaign_risk[h] + (1.0 - memory) * campaign_signal

    def _learn(
        self, served: ModelDeveloper | None, harvest: Harvest, plan: Campaigns, frontier: float
    ) -> None:
        """Sample stocks grow and diffuse; each party's head start (months) follows from its
        stock and the teacher's lead over its own path; capabilities are the own paths plus
        the head start (customers, then domestic providers). The own paths are the shadow
        state: they never see leakage.

        The teacher is the served model while the channel is open somewhere; after every US
        model is withdrawn or the channel closes it stays at its last served month, since the
        samples taken before encode that model, not its later versions."""
        pop, cfg = self.population, self.config
        learning = cfg.distillation
        growth = self.frontier.growth
        if served is not None and any(i.channel_open for i in self.intermediaries.values()):
            self.teacher = served.capability(self.month)
        pop.samples[plan.rows] += harvest.obtained[plan.rows]  # nothing obtained elsewhere
        stock = fused_learning.learn(
            LearningTerms(
                rate=float(cfg.diffusion.rate),
                own_growth=float(cfg.customers.inhouse_growth),
                frontier=float(frontier),
                teacher=float(self.teacher),
                growth=float(growth),
                broad_ceiling=float(learning.broad_ceiling),
                broad_half=float(learning.broad_half_samples),
                narrow_ceiling=float(learning.narrow_ceiling),
                narrow_half=float(learning.narrow_half_samples),
            ),
            Stocks(pop.samples, pop.received, pop.own, pop.head_start, pop.capability, pop.narrow),
            self._weights,
            self._has_neighbours,
            self._compiled,
        )
        absorbed = diffusion.domestic_absorption(
            stock, self._spend_weights, self.domestic.samples, self.domestic.spillover
        )
        self.domestic.advance(frontier, self.teacher, growth, absorbed)

    def _developers_respond(
        self, served: ModelDeveloper | None, harvest: Harvest, plan: Campaigns
    ) -> int:
        """The served lab learns of extraction of its model; every lab's pressure decays."""
        reported, obtained = totals([harvest.detected, harvest.obtained], self._compiled, plan.rows)
        missed = obtained - reported
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
        suspects = np.flatnonzero(violations)
        caught = suspects[uniform_at(rng, pop.size, suspects) < self.us.audit_prob]
        found = self._scatter(caught, np.ones(caught.size, dtype=bool))
        amounts = fine_amounts(
            spend[caught, RESELLER], self.us.penalty_fixed_usd, self.us.penalty_multiplier
        )
        base = self._per_customer([i.suspension_months for i in self.intermediaries.values()])
        length = _geometric(base[caught], uniform_at(rng, pop.size, caught))
        pop.blocked_until[caught] = t + length
        per_inter = np.bincount(
            pop.intermediary[caught], weights=amounts, minlength=len(self.intermediaries)
        )
        self._fines_by_intermediary = per_inter
        return violations, found, float(amounts.sum())

    def _politics(self, t: int, spend: np.ndarray, harvest: Harvest, found: np.ndarray) -> bool:
        incidents = np.count_nonzero(harvest.exposed) + np.count_nonzero(found)
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
        share_dev = served.revenue_share if served else 0.0
        k = len(self.intermediaries)
        net = group_sums(self._intermediary, receipts, k, self._compiled) * (1.0 - share_dev)
        budget = self._budget_by_intermediary * self.budget_factor
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
        bound. All of this model's agents exist from construction or have their ids reserved
        (the customers' row agents, :class:`RowViews`), so the counter is spent.
        """
        mesa.Agent._ids.pop(self, None)

    def run(self) -> MarketModel:
        """Step until ``running`` turns false (after ``horizon`` months)."""
        while self.running:
            self.step()
        return self


def _log(value: float) -> float:
    """``log(max(value, 1e-12))`` as numpy computes it for arrays (the same bits)."""
    return float(np.log(max(value, 1e-12)))


def _geometric(mean: np.ndarray, draw: np.ndarray) -> np.ndarray:
    return detection.suspension_length(np.ones_like(mean), mean, 1.0, draw)


def _reporter(name: str):
    return lambda m: m.metrics.get(name, np.nan)
