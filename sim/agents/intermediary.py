"""The cloud intermediary: licensed US models sold offshore to approved Chinese enterprises."""

from __future__ import annotations

import mesa

from sim.schema import IntermediaryConfig


class CloudIntermediary(mesa.Agent):
    """An Azure-like intermediary with safeguard settings it adapts with bounded rationality.

    Decision rule (every ``adapt_every`` months, unless pinned): a rule of thumb with partial
    adjustment, not an optimisation. Monitoring moves ``adapt_rate`` of the way toward a
    target that rises from its floor (what revenue alone would pick: fewest suspensions of
    paying customers) to its ceiling as the most pressed developer nears ``pressure_alarm``
    of its tolerance; KYC strictness moves toward a target that rises with fines over the
    last year. Revenue enters only through the floor, not as a computed trade-off. Never
    below the legal KYC duty.
    """

    def __init__(self, model: mesa.Model, key: str, cfg: IntermediaryConfig) -> None:
        super().__init__(model)
        self.key = key
        self.share = cfg.share
        self.monitoring = cfg.monitoring0
        self.kyc = cfg.kyc0
        self.adaptive = cfg.adaptive
        self.monitoring_min = cfg.monitoring_min
        self.monitoring_max = cfg.monitoring_max
        self.kyc_min = cfg.kyc_min
        self.kyc_max = cfg.kyc_max
        self.pressure_alarm = cfg.pressure_alarm
        self.adapt_every = cfg.adapt_every
        self.adapt_rate = cfg.adapt_rate
        self.fine_tolerance_usd = cfg.fine_tolerance_musd * 1e6
        self.suspension_months = cfg.suspension_months
        self.channel_open = cfg.channel_open
        self.fines_total = 0.0
        self.fine_history: list[float] = []

    def record_fines(self, amount_usd: float) -> None:
        """Add this month's fines to its books."""
        self.fines_total += amount_usd
        self.fine_history.append(amount_usd)

    def review_safeguards(self, month: int, pressure_ratio: float, kyc_duty: float) -> None:
        """Quarterly partial adjustment toward targets set by developer pressure and recent fines."""
        if self.adaptive and month > 0 and month % self.adapt_every == 0:
            pressure = min(1.0, max(0.0, pressure_ratio / self.pressure_alarm))
            target_mu = self.monitoring_min + (self.monitoring_max - self.monitoring_min) * pressure
            fines_year = sum(self.fine_history[-12:])
            fine_level = (
                min(1.0, fines_year / self.fine_tolerance_usd) if self.fine_tolerance_usd else 1.0
            )
            target_kyc = self.kyc_min + (self.kyc_max - self.kyc_min) * fine_level
            self.monitoring += self.adapt_rate * (target_mu - self.monitoring)
            self.kyc += self.adapt_rate * (target_kyc - self.kyc)
        self.kyc = max(self.kyc, kyc_duty)
