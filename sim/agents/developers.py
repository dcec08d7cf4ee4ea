"""Model developers: labs whose models the intermediary licenses."""

from __future__ import annotations

import mesa

from sim.mechanisms.capability import grown, price_at
from sim.schema import DeveloperConfig


class ModelDeveloper(mesa.Agent):
    """A lab with a model, a falling list price and a tolerance for extraction of its model.

    Decision rule: pressure on the intermediary rises with the extraction volume the lab
    learns of (what the intermediary caught and reported, weighted ``report_weight``, plus
    the share ``own_detection`` of what the intermediary missed that the lab finds itself)
    and decays each month; past its tolerance it withdraws its model from China-reachable
    regions (and stays out unless a scenario event brings it back).
    """

    def __init__(self, model: mesa.Model, key: str, cfg: DeveloperConfig) -> None:
        super().__init__(model)
        self.key = key
        self.home = cfg.home
        self.capability0 = cfg.capability0
        self.growth = cfg.growth
        self.price0 = cfg.price0
        self.price_decline = cfg.price_decline
        self.revenue_share = cfg.revenue_share
        self.tolerance = cfg.tolerance
        self.pressure_decay = cfg.pressure_decay
        self.report_weight = cfg.report_weight
        self.own_detection = cfg.own_detection
        self.in_channel = bool(cfg.in_channel) and cfg.home == "US"
        self.pressure = 0.0
        self.withdrawn = False
        self.jump = 0.0

    def capability(self, month: float) -> float:
        """Model capability at ``month`` (frontier index), jumps included."""
        return grown(self.capability0, self.growth, month) + self.jump

    def jump_capability(self, jump: float) -> None:
        """A release ahead of the lab's path: capability rises by ``jump`` index points."""
        self.jump += jump

    def price(self, month: int) -> float:
        """List price in USD per million tokens at ``month``."""
        return price_at(self.price0, self.price_decline, month)

    @property
    def pressure_ratio(self) -> float:
        """Pressure as a share of tolerance (1 means at the withdrawal point)."""
        return self.pressure / self.tolerance if self.tolerance > 0 else 0.0

    def learned_extraction(self, reported: float, missed: float) -> float:
        """Samples' worth of extraction this month that counts toward pressure."""
        return self.report_weight * reported + self.own_detection * missed

    def respond(self, reported: float, missed: float) -> bool:
        """Update pressure with this month's extraction of its model; withdraw past tolerance.

        ``reported``: samples taken by accounts the intermediary flagged; ``missed``: samples
        taken by accounts it did not flag. Returns True when the model is withdrawn this month.
        """
        self.pressure = self.pressure_decay * self.pressure + self.learned_extraction(
            reported, missed
        )
        if self.in_channel and self.pressure > self.tolerance:
            self.in_channel = False
            self.withdrawn = True
            return True
        return False
