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

    Rows with no available option get all zeros.
    """
    u = np.where(available, utility, -np.inf)
    top = u.max(axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    w = np.where(available, np.exp(u - top), 0.0)
    total = w.sum(axis=1, keepdims=True)
    return np.divide(w, total, out=np.zeros_like(w), where=total > 0)


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
