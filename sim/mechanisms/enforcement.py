"""Enforcement: audits find violations; fines follow the public civil-penalty formula."""

from __future__ import annotations

import numpy as np


def fine_amounts(transaction_usd: np.ndarray, fixed_usd: float, multiplier: float) -> np.ndarray:
    """Fine per violation: ``max(F_fixed, multiplier * transaction value)``."""
    return np.maximum(fixed_usd, multiplier * transaction_usd)
