"""The cloud intermediary: licensed US models sold offshore to approved Chinese enterprises."""

from __future__ import annotations

import mesa

from sim.mechanisms.safeguards import HillClimb, objective
from sim.schema import IntermediaryConfig

SAFEGUARDS = ("monitoring", "kyc")


class CloudIntermediary(mesa.Agent):
    """An Azure-like intermediary that sets its safeguards by bounded-rational search.

    Decision rule (every ``adapt_every`` months): a hill climb on its objective, revenue
    after the developers' share minus fines minus the revenue it sees at risk from developer
    pressure, per dollar of customer budget (:mod:`sim.mechanisms.safeguards`). One
    safeguard (monitoring or KYC strictness) moves one step after two reviews at the same
    levels; a move that did worse than the objective's trend over those two is undone. A
    safeguard set by a scenario event is pinned from then on, and ``adaptive: false`` pins
    both. The KYC in force is never below the legal duty: an adaptive
    intermediary complies by raising its own KYC to the duty (and keeps it after a rescission
    until a review finds lowering it pays); a pinned KYC stays where it was set, and the duty
    floors only the KYC in force (``max(kyc, duty)``, :meth:`sim.model.MarketModel._safeguards`).
    """

    def __init__(self, model: mesa.Model, key: str, cfg: IntermediaryConfig) -> None:
        super().__init__(model)
        self.key = key
        self.share = cfg.share
        self.monitoring = cfg.monitoring0
        self.kyc = cfg.kyc0
        self.adaptive = cfg.adaptive
        self.bounds = {
            "monitoring": (cfg.monitoring_min, cfg.monitoring_max),
            "kyc": (cfg.kyc_min, cfg.kyc_max),
        }
        self.pinned: set[str] = set()
        self.adapt_every = cfg.adapt_every
        self.relationship_cost = cfg.relationship_cost
        self.suspension_months = cfg.suspension_months
        self.escalation = cfg.escalation
        self.terminate_after = cfg.terminate_after
        self.appeal_months = cfg.appeal_months
        self.false_reject = cfg.false_reject
        self.rate_limit = cfg.rate_limit
        self.channel_open = cfg.channel_open
        self.fines_total = 0.0
        self.objective_history: list[float] = []
        self.climb = HillClimb(step=cfg.adapt_step)

    def pin(self, lever: str) -> None:
        """Keep a safeguard where a scenario put it: the hill climb no longer moves it."""
        if lever in SAFEGUARDS:
            self.pinned.add(lever)

    def book_month(
        self,
        net_revenue: float,
        fines: float,
        pressure_ratio: float,
        budget: float,
    ) -> float:
        """Record the month's fines and objective value; returns the objective."""
        self.fines_total += fines
        value = objective(net_revenue, fines, pressure_ratio, self.relationship_cost, budget)
        self.objective_history.append(value)
        return value

    def review_safeguards(self, month: int, kyc_duty: float) -> None:
        """Every ``adapt_every`` months, one hill-climb step on the mean objective since the last."""
        lo, hi = self.bounds["kyc"]
        floor = min(max(lo, kyc_duty), hi)  # the lowest own KYC the duty leaves, within bounds
        if self.adaptive and month > 0 and (month + 1) % self.adapt_every == 0:
            recent = self.objective_history[-self.adapt_every :]
            current = sum(recent) / len(recent)
            bounds = [self.bounds["monitoring"], (floor, hi)]
            levels = self.climb.review(
                [self.monitoring, self.kyc],
                bounds,
                [s in self.pinned for s in SAFEGUARDS],
                current,
            )
            self.monitoring, self.kyc = levels
        elif not self.adaptive:
            self.climb.forget()
        if self.adaptive and "kyc" not in self.pinned:
            self.kyc = max(self.kyc, floor)
