"""Access: who may buy foreign models through the intermediary, and who evades a ban."""

from __future__ import annotations

import numpy as np


def restricted_mask(
    listing_score: np.ndarray, rule_level: float, sector_restricted: np.ndarray
) -> np.ndarray:
    """Customers restricted by the US rules in force.

    A customer is restricted when its listing score exceeds ``1 - e`` (everyone at ``e = 1``)
    or its sector is restricted. The model passes each customer's percentile rank of listing
    exposure as the score, so ``e`` is the share of customers restricted, most exposed first.
    """
    if rule_level >= 1.0:
        return np.ones(listing_score.shape, dtype=bool)
    return (listing_score > 1.0 - rule_level) | sector_restricted


def approved_mask(
    established: np.ndarray, screen_draw: np.ndarray, intent: np.ndarray, kyc: np.ndarray
) -> np.ndarray:
    """KYC approval: established enterprises pass unless the screen catches their intent.

    ``approved = established & (u >= kyc * intent)`` with a fixed uniform draw ``u`` per
    customer, so stricter KYC rejects more customers that mean to distil.
    """
    return established & (screen_draw >= kyc * intent)


def foreign_access(
    approved: np.ndarray,
    restricted: np.ndarray,
    suspended: np.ndarray,
    channel_open: np.ndarray,
    barred: np.ndarray,
) -> np.ndarray:
    """``accessF = approved & ~restricted & ~suspended & channel_open & ~barred_by_China``."""
    return approved & ~restricted & ~suspended & channel_open & ~barred


def reseller_access(
    restricted: np.ndarray,
    blocked: np.ndarray,
    channel_open: np.ndarray,
    barred: np.ndarray,
    evade_propensity: np.ndarray,
    kyc: np.ndarray,
    draw: np.ndarray,
) -> np.ndarray:
    """Restricted customers that reach the channel through a reseller or shell this month.

    Success probability ``evade_i * (1 - kyc)``: stricter KYC makes shells harder to pass.
    """
    trying = restricted & ~blocked & channel_open & ~barred
    return trying & (draw < evade_propensity * (1.0 - kyc))
