"""The two regulators: the US export-control authority and the Chinese authority."""

from __future__ import annotations

import mesa

from sim.schema import CNRegulatorConfig, PoliticsConfig, USRegulatorConfig


class USRegulator(mesa.Agent):
    """US rules: which customers are restricted, KYC duty, audits, penalties, two-way scrutiny.

    Decision rule: scheduled changes come from the scenario timeline; with endogenous policy
    on, it tightens the rule level by ``tighten_step`` when political attention crosses the
    threshold, at most once per ``cooldown`` months.
    """

    def __init__(self, model: mesa.Model, cfg: USRegulatorConfig, politics: PoliticsConfig) -> None:
        super().__init__(model)
        self.rule_level = cfg.rule_level
        self.restricted_sectors = list(cfg.restricted_sectors)
        self.kyc_duty = cfg.kyc_duty
        self.audit_prob = cfg.audit_prob
        self.penalty_fixed_usd = cfg.penalty_fixed_usd
        self.penalty_multiplier = cfg.penalty_multiplier
        self.two_way_restriction = cfg.two_way_restriction
        self.attention = 0.0
        self.endogenous = politics.endogenous
        self.threshold = politics.threshold
        self.tighten_step = politics.tighten_step
        self.cooldown = politics.cooldown
        self.last_move = -(10**9)
        self.moves = 0

    def raise_attention(self, amount: float) -> None:
        """A public event (a vote, a disclosure) adds ``amount`` to political attention."""
        self.attention += amount

    def react(self, month: int) -> bool:
        """Endogenous tightening; returns True when the rules tightened this month."""
        ready = month - self.last_move >= self.cooldown
        if self.endogenous and ready and self.attention > self.threshold and self.rule_level < 1:
            self.rule_level = min(1.0, self.rule_level + self.tighten_step)
            self.last_move = month
            self.moves += 1
            return True
        return False


class ChinaRegulator(mesa.Agent):
    """Chinese rules: localisation share, sectors barred from foreign models, disapproval.

    Decision rule: scheduled changes from the scenario; with endogenous policy on, it
    retaliates against each US tightening by raising localisation by ``retaliation_step``.
    """

    def __init__(self, model: mesa.Model, cfg: CNRegulatorConfig, politics: PoliticsConfig) -> None:
        super().__init__(model)
        self.localisation = cfg.localisation
        self.barred_sectors = list(cfg.barred_sectors)
        self.disapproval = cfg.disapproval
        self.retaliation_step = politics.retaliation_step
        self.retaliations = 0

    def retaliate(self) -> None:
        """Answer a US tightening by demanding more onshore use."""
        if self.retaliation_step > 0 and self.localisation < 1:
            self.localisation = min(1.0, self.localisation + self.retaliation_step)
            self.retaliations += 1
