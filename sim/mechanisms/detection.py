"""Detection: monitoring flags accounts whose traffic looks like extraction, and some honest ones.

The detector reads the pattern of an account's traffic: how many extraction-like exchanges
(systematic prompts, elicited reasoning) it carries in a month. Evidence accumulates with
that count, and operators flag accounts past a threshold, so detection is a steep function
of the per-account extraction volume, capped by how hard the intermediary looks. Spreading a
campaign over many accounts keeps each under the threshold (the Feb 2026 disclosure).
Volumes are in samples, which do not grow as token prices fall, so recall is stationary.
"""

from __future__ import annotations

import numpy as np


def recall_ceiling(monitoring: np.ndarray | float, sensitivity: float) -> np.ndarray:
    """Chance a clearly extracting account is flagged in a month: ``1 - exp(-kappa * mu)``."""
    return -np.expm1(-sensitivity * np.asarray(monitoring, dtype=float))


def account_detection(
    per_account_samples: np.ndarray,
    monitoring: np.ndarray,
    sensitivity: float,
    threshold: float,
) -> np.ndarray:
    """Chance an account carrying ``v`` extraction samples this month is flagged.

    ``p(v) = (1 - exp(-kappa * mu)) * v^2 / (v^2 + v50^2)``: near the ceiling well above the
    threshold ``v50``, small well below it, zero for an account that extracts nothing.
    """
    v = np.asarray(per_account_samples, dtype=float)
    ratio = np.square(v / threshold)
    return recall_ceiling(monitoring, sensitivity) * ratio / (1.0 + ratio)


def network_linking(
    accounts: np.ndarray, monitoring: np.ndarray, sensitivity: float, link_accounts: float
) -> np.ndarray:
    """Chance cross-account analysis links a proxy network of ``m`` accounts in a month.

    ``(1 - exp(-kappa * mu)) * m / (m + m50)``: the more accounts share payment methods,
    prompts and infrastructure, the easier the network is to see as one; a single account
    is left to the per-account detector (zero here).
    """
    m = np.asarray(accounts, dtype=float)
    size = np.where(m > 1, m / (m + link_accounts), 0.0)
    return recall_ceiling(monitoring, sensitivity) * size


def least_exposed_accounts(
    volume: np.ndarray, threshold: float, link_accounts: float
) -> np.ndarray:
    """The number of accounts that minimises a campaign's exposure: ``m* = V sqrt(m50) / v50``.

    Spread over ``m`` accounts, a campaign of ``V`` samples is flagged account by account
    with a chance near ``ceiling * (V / (m v50))^2`` each (well under the threshold) and
    linked as a network with a chance near ``ceiling * m / m50``; the sum is smallest at
    ``m*``. More accounts hide each under the threshold but make the network easier to see.
    """
    return np.asarray(volume, dtype=float) * np.sqrt(link_accounts) / threshold


def false_positive_probability(monitoring: np.ndarray, rate_at_full: float) -> np.ndarray:
    """Chance an honest account using foreign models is flagged in a month: ``fp * mu``."""
    return rate_at_full * np.asarray(monitoring, dtype=float)


def suspension_length(
    offences: np.ndarray, base_months: float, escalation: float, draw: np.ndarray
) -> np.ndarray:
    """Months of suspension after the ``c``-th offence: geometric with mean ``base * esc^(c-1)``.

    Random lengths (from uniform ``draw``) keep re-admissions from synchronising into a
    regular cycle; each repeat offence lengthens the expected suspension.
    """
    mean = np.maximum(base_months * escalation ** (np.maximum(offences, 1) - 1), 1.0)
    p = 1.0 / mean
    u = np.clip(draw, 1e-12, 1.0 - 1e-12)
    with np.errstate(divide="ignore"):
        length = np.where(p >= 1.0, 1.0, np.ceil(np.log(u) / np.log1p(-np.minimum(p, 1 - 1e-12))))
    return np.maximum(length, 1.0).astype(np.int64)
