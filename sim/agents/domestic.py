"""Domestic Chinese model providers, modelled as one market-level competitor."""

from __future__ import annotations

import math

import mesa

from sim.schema import DomesticConfig


class DomesticProviders(mesa.Agent):
    """Doubao/Qwen/DeepSeek-like providers: a capability that leakage can raise, and a price.

    Capability grows on its own and absorbs spillover from the best in-house models
    (``qD(t+1) = min(qF, qD (1 + gD) + lamD * L(t))``); price falls along its path and
    drops further on price-war shocks (the ``domestic.price_cut`` lever).
    """

    def __init__(self, model: mesa.Model, cfg: DomesticConfig) -> None:
        super().__init__(model)
        self.capability = cfg.capability0
        self.growth = cfg.growth
        self.price0 = cfg.price0
        self.price_decline = cfg.price_decline
        self.spillover = cfg.spillover
        self.price_level = 1.0
        self.provider_shares = dict(cfg.provider_shares)
        self.leakage_gain = 0.0

    def price(self, month: int) -> float:
        """Blended list price in USD per million tokens at ``month``, after price-war cuts."""
        return self.price0 * math.exp(-self.price_decline * month) * self.price_level

    def cut_price(self, cut: float) -> None:
        """A price-war shock: prices fall by ``cut`` (a share) from here on."""
        self.price_level *= 1.0 - cut

    def jump_capability(self, jump: float) -> None:
        """An efficiency shock: capability rises by ``jump`` index points."""
        self.capability += jump

    def grown_capability(self) -> float:
        """Capability after this month's own growth, before any leakage."""
        return self.capability * (1.0 + self.growth)

    def advance(self, frontier: float, leakage_gain: float) -> None:
        """Own growth plus absorbed leakage, never past the frontier."""
        grown = self.grown_capability()
        self.capability = min(frontier, grown + leakage_gain)
        self.leakage_gain = max(0.0, min(leakage_gain, self.capability - grown))
