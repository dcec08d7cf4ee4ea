"""Demand: a multinomial logit split of each customer's budget over the options."""

from __future__ import annotations

import numpy as np

FOREIGN, RESELLER, DOMESTIC, INHOUSE = range(4)
OPTIONS = ("foreign", "reseller", "domestic", "inhouse")


def utilities(
    quality: np.ndarray,
    price: np.ndarray,
    risk: np.ndarray,
    asc: np.ndarray,
    quality_weight: np.ndarray,
    price_weight: float,
    risk_weight: float,
) -> np.ndarray:
    """``U_io = bq_i log q_io - bp log p_io - br risk_io + asc_o`` (arrays of shape (N, O))."""
    q = np.log(np.maximum(quality, 1e-12))
    p = np.log(np.maximum(price, 1e-12))
    return quality_weight[:, None] * q - price_weight * p - risk_weight * risk + asc[None, :]


def choice_shares(utility: np.ndarray, available: np.ndarray) -> np.ndarray:
    """Softmax of ``utility`` over the available options of each row; unavailable get 0.

    Rows with no available option get all zeros. Computed column by column: with a handful
    of options, reductions along short rows are the slow path in numpy.
    """
    n, k = utility.shape
    top = np.full(n, -np.inf)
    for o in range(k):
        np.maximum(top, np.where(available[:, o], utility[:, o], -np.inf), out=top)
    top[~np.isfinite(top)] = 0.0
    w = np.exp(np.where(available, utility - top[:, None], -np.inf))
    total = w[:, 0].copy()
    for o in range(1, k):
        total += w[:, o]
    np.divide(w, total[:, None], out=w, where=total[:, None] > 0)
    w[total == 0] = 0.0
    return w


def cap_offshore(shares: np.ndarray, offshore: list[int], cap: float) -> np.ndarray:
    """Localisation: at most ``cap`` of each customer's spend may go to offshore options.

    The offshore options are scaled down together and the excess goes to the onshore
    options in proportion to their shares (equally when they had none).
    """
    out = shares.copy()
    off = out[:, offshore].sum(axis=1)
    over = off > cap + 1e-15
    if not over.any():
        return out
    onshore = [o for o in range(out.shape[1]) if o not in offshore]
    scale = np.ones_like(off)
    scale[over] = cap / off[over]
    excess = off - off * scale
    out[:, offshore] *= scale[:, None]
    on = out[:, onshore]
    on_total = on.sum(axis=1, keepdims=True)
    weights = np.divide(on, on_total, out=np.full_like(on, 1.0 / len(onshore)), where=on_total > 0)
    out[:, onshore] = on + weights * excess[:, None]
    return out
