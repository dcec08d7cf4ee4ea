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
    established: np.ndarray,
    screen_draw: np.ndarray,
    intent: np.ndarray,
    kyc: np.ndarray,
    friction_draw: np.ndarray,
    false_reject: float,
) -> np.ndarray:
    """KYC approval: established enterprises pass unless the screen catches them.

    ``approved = established & (u >= kyc * intent) & (w >= kyc * false_reject)`` with fixed
    uniform draws ``u, w`` per customer: stricter KYC rejects more of the customers that mean
    to distil, and also turns away a share ``kyc * false_reject`` of honest applicants
    (paperwork, ownership questions they cannot clear).
    """
    return established & (screen_draw >= kyc * intent) & (friction_draw >= kyc * false_reject)


def foreign_access(
    approved: np.ndarray,
    restricted: np.ndarray,
    suspended: np.ndarray,
    terminated: np.ndarray,
    channel_open: np.ndarray,
    barred: np.ndarray,
) -> np.ndarray:
    """``accessF = approved & ~restricted & ~suspended & ~terminated & channel_open & ~barred``."""
    return approved & ~restricted & ~suspended & ~terminated & channel_open & ~barred


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

    ``blocked``: a shell caught recently (blocked for a while) or a firm terminated for good.

    Success probability ``evade_i * (1 - kyc)``: stricter KYC makes shells harder to pass.
    """
    trying = restricted & ~blocked & channel_open & ~barred
    return trying & (draw < evade_propensity * (1.0 - kyc))
