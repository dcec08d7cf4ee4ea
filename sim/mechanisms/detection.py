"""Detection: monitoring flags harvesting accounts, and some honest ones by mistake."""

from __future__ import annotations

import numpy as np


def detection_probability(
    samples: np.ndarray,
    monitoring: np.ndarray,
    kappa: float,
    ref_samples: float,
    false_positive_rate: float,
) -> np.ndarray:
    """Chance an account using foreign models is flagged this month.

    Harvesters: ``1 - exp(-mu * kappa * samples / S_ref)``, rising with intensity and volume.
    Honest accounts (no samples): the false-positive rate ``fp * mu``.
    """
    harvesting = samples > 0
    p_true = -np.expm1(-monitoring * kappa * samples / ref_samples)
    return np.where(harvesting, p_true, false_positive_rate * monitoring)
