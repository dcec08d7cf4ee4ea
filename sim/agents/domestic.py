"""Domestic Chinese model providers, modelled as one market-level competitor."""

from __future__ import annotations

import math

import mesa

from sim.mechanisms.distillation import head_start, months_behind, with_head_start
from sim.schema import DistillationConfig, DomesticConfig


class DomesticProviders(mesa.Agent):
    """Doubao/Qwen/DeepSeek-like providers: a capability that leakage can raise, and a price.

    Two capability paths: ``own`` grows by itself (and jumps on efficiency shocks), the
    counterfactual without leakage; the actual capability adds the head start (months of
    progress) that the stock of leaked samples the ecosystem absorbed gives
    (``sim.mechanisms.diffusion``, ``sim.mechanisms.distillation``). Price falls
    along its own path and drops further on price-war shocks (``domestic.price_cut``).
    """

    def __init__(self, model: mesa.Model, cfg: DomesticConfig, learning: DistillationConfig):
        super().__init__(model)
        self.own = cfg.capability0
        self.capability = cfg.capability0
        self.growth = cfg.growth
        self.price0 = cfg.price0
        self.price_decline = cfg.price_decline
        self.spillover = cfg.spillover
        self.price_level = 1.0
        self.samples = 0.0
        self.head_start = 0.0
        self._ceiling = learning.broad_ceiling
        self._half = learning.broad_half_samples

    def price(self, month: int) -> float:
        """Blended list price in USD per million tokens at ``month``, after price-war cuts."""
        return self.price0 * math.exp(-self.price_decline * month) * self.price_level

    def cut_price(self, cut: float) -> None:
        """A price-war shock: prices fall by ``cut`` (a share) from here on."""
        self.price_level *= 1.0 - cut

    def jump_capability(self, jump: float) -> None:
        """An efficiency shock: own capability rises by ``jump`` index points."""
        self.own += jump
        self.capability += jump

    def advance(self, frontier: float, teacher: float, growth: float, absorbed: float) -> None:
        """Own growth, then the head start from the enlarged leaked stock; never past the
        frontier. ``growth`` converts months of head start into capability."""
        self.own = min(frontier, self.own * (1.0 + self.growth))
        self.samples += absorbed
        lead = months_behind(teacher, self.own, growth)
        self.head_start = float(
            head_start(self.head_start, self.samples, lead, self._ceiling, self._half)
        )
        self.capability = min(frontier, float(with_head_start(self.own, self.head_start, growth)))
