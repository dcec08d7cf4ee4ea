"""Distillation: harvesting foreign-model outputs and the saturating in-house gain."""

from __future__ import annotations

import numpy as np


def harvest_share(
    intent: np.ndarray,
    monitoring: np.ndarray,
    perceived_risk: np.ndarray,
    harvest_max: float,
    deterrence: float,
) -> np.ndarray:
    """Share of foreign usage spent harvesting.

    ``h_i = h_max * intent_i * (1 - d * mu_i) * (1 - r_i)``: it rises with intent and falls
    with announced monitoring ``mu`` and with the customer's own perceived detection risk
    ``r_i`` (a memory of how likely it was to be flagged).
    """
    return harvest_max * intent * (1.0 - deterrence * monitoring) * (1.0 - perceived_risk)


def distillation_gain(
    capability: np.ndarray, teacher: float, samples: np.ndarray, efficiency: float, half: float
) -> np.ndarray:
    """``dk_i = eta * max(q_teacher - k_i, 0) * (1 - exp(-samples_i / S_half))``.

    Saturating in samples and bounded by the teacher: ``k_i + dk_i <= q_teacher`` whenever
    ``eta <= 1``.
    """
    gap = np.maximum(teacher - capability, 0.0)
    return efficiency * gap * -np.expm1(-samples / half)
