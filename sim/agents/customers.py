"""Enterprise customers: the population lives in arrays; each customer is a thin Mesa view."""

from __future__ import annotations

from dataclasses import dataclass, field

import mesa
import numpy as np

from sim.mechanisms.demand import OPTIONS


@dataclass
class CustomerPopulation:
    """Struct of arrays for the Chinese enterprise customers (one row per customer).

    Budgets are USD per month at month 0; capabilities are on the frontier index; sample
    stocks count harvested exchanges. The first ``len(names)`` rows are the named archetypes. ``own`` is each firm's capability path without any
    leakage (the shadow state), ``capability`` the actual one.
    """

    sector: np.ndarray
    sector_names: tuple[str, ...]
    budget0: np.ndarray
    listing: np.ndarray
    intent: np.ndarray
    evade: np.ndarray
    quality_weight: np.ndarray
    capability: np.ndarray
    established: np.ndarray
    screen_draw: np.ndarray
    friction_draw: np.ndarray
    intermediary: np.ndarray
    names: tuple[str, ...] = ()
    listing_percentile: np.ndarray = field(init=False)
    capability0: np.ndarray = field(init=False)
    own: np.ndarray = field(init=False)
    narrow: np.ndarray = field(init=False)
    head_start: np.ndarray = field(init=False)
    samples: np.ndarray = field(init=False)
    received: np.ndarray = field(init=False)
    on_proxies: np.ndarray = field(init=False)
    offences: np.ndarray = field(init=False)
    terminated: np.ndarray = field(init=False)
    approved: np.ndarray = field(init=False)
    restricted: np.ndarray = field(init=False)
    suspended_until: np.ndarray = field(init=False)
    blocked_until: np.ndarray = field(init=False)
    spend: np.ndarray = field(init=False)
    spend_total: np.ndarray = field(init=False)
    detected_count: np.ndarray = field(init=False)
    suspension_count: np.ndarray = field(init=False)
    perceived_risk: np.ndarray = field(init=False)
    campaign_risk: np.ndarray = field(init=False)
    campaign_scale: float = field(init=False)

    def __post_init__(self) -> None:
        n = self.size
        order = np.argsort(self.listing, kind="stable")
        self.listing_percentile = np.empty(n)
        # Mid-rank percentiles keep every score off the 1 - e thresholds: a rule level e
        # restricts exactly round(e * n) customers, free of floating-point ties.
        self.listing_percentile[order] = (np.arange(n) + 0.5) / max(n, 1)
        self.capability0 = self.capability.copy()
        self.own = self.capability.copy()
        self.narrow = np.zeros(n)
        self.head_start = np.zeros(n)
        self.samples = np.zeros(n)
        self.received = np.zeros(n)
        self.on_proxies = np.zeros(n, dtype=bool)
        self.offences = np.zeros(n, dtype=np.int32)
        self.terminated = np.zeros(n, dtype=bool)
        self.approved = self.established.copy()
        self.restricted = np.zeros(n, dtype=bool)
        self.suspended_until = np.full(n, -1, dtype=np.int64)
        self.blocked_until = np.full(n, -1, dtype=np.int64)
        # Column-major: each month sums every option's spend over the customers.
        self.spend = np.zeros((n, len(OPTIONS)), order="F")
        self.spend_total = np.zeros((n, len(OPTIONS)), order="F")
        self.detected_count = np.zeros(n, dtype=np.int32)
        self.suspension_count = np.zeros(n, dtype=np.int32)
        self.perceived_risk = np.zeros(n)
        self.campaign_risk = np.zeros(n)
        self.campaign_scale = 1.0

    @property
    def size(self) -> int:
        """Number of customers."""
        return int(self.budget0.shape[0])

    @property
    def stock(self) -> np.ndarray:
        """Samples each customer holds: its own harvest plus what reached it over the network."""
        return self.samples + self.received


@dataclass
class InternationalPopulation:
    """Struct of arrays for international customers choosing US or Chinese models."""

    budget0: np.ndarray
    barred_draw: np.ndarray
    spend_us: np.ndarray = field(init=False)
    spend_chinese: np.ndarray = field(init=False)
    spend_elsewhere: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.spend_us = np.zeros_like(self.budget0)
        self.spend_chinese = np.zeros_like(self.budget0)
        self.spend_elsewhere = np.zeros_like(self.budget0)

    @property
    def size(self) -> int:
        """Number of international customers."""
        return int(self.budget0.shape[0])


class ChineseCustomer(mesa.Agent):
    """A Chinese enterprise customer: a thin view onto row ``index`` of the population arrays.

    Its decision rules (discrete choice of spend, harvest share, evasion) run vectorised over
    the whole population in the model's step; this agent exists so a customer can be
    inspected, selected and counted with Mesa's tools (``model.agents_by_type``).
    """

    def __init__(self, model: mesa.Model, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def _pop(self) -> CustomerPopulation:
        return self.model.population

    @property
    def name(self) -> str:
        """The archetype's name (``bytedance``, ...), or ``customer-<index>`` for a drawn one."""
        names = self._pop.names
        return names[self.index] if self.index < len(names) else f"customer-{self.index}"

    @property
    def sector(self) -> str:
        """Industry sector name."""
        return self._pop.sector_names[self._pop.sector[self.index]]

    @property
    def budget(self) -> float:
        """Current monthly AI budget in USD."""
        return float(self._pop.budget0[self.index] * self.model.budget_factor)

    @property
    def capability(self) -> float:
        """In-house model capability (frontier index)."""
        return float(self._pop.capability[self.index])

    @property
    def leaked_capability(self) -> float:
        """Capability above its own path, gained from harvested or received samples."""
        return float(self._pop.capability[self.index] - self._pop.own[self.index])

    @property
    def samples_held(self) -> float:
        """Harvested samples it holds, its own and received over the network."""
        return float(self._pop.stock[self.index])

    @property
    def approved(self) -> bool:
        """Passed the intermediary's KYC."""
        return bool(self._pop.approved[self.index])

    @property
    def restricted(self) -> bool:
        """Restricted by the US rules in force."""
        return bool(self._pop.restricted[self.index])

    @property
    def suspended(self) -> bool:
        """Account currently suspended after a detection."""
        return bool(self._pop.suspended_until[self.index] >= self.model.month)

    @property
    def terminated(self) -> bool:
        """Account closed for good after repeated detected extraction."""
        return bool(self._pop.terminated[self.index])

    @property
    def spend(self) -> dict[str, float]:
        """Last month's spend by option, USD."""
        return dict(zip(OPTIONS, self._pop.spend[self.index].tolist(), strict=True))


class InternationalCustomer(mesa.Agent):
    """An international customer of the intermediary: a thin view onto its row."""

    def __init__(self, model: mesa.Model, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def spend_chinese(self) -> float:
        """Last month's spend on Chinese models through the intermediary, USD."""
        return float(self.model.international.spend_chinese[self.index])

    @property
    def spend_us(self) -> float:
        """Last month's spend on US models through the intermediary, USD."""
        return float(self.model.international.spend_us[self.index])
