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


def cap_offshore(shares: np.ndarray, offshore: list[int], cap: np.ndarray | float) -> np.ndarray:
    """At most ``cap`` of each customer's spend may go to the offshore options.

    Used for localisation (``cap = 1 - loc``) and rate limits on bulk use. The offshore
    options are scaled down together and the excess goes to the onshore options in
    proportion to their shares (equally when they had none). ``cap`` is a scalar or one
    value per customer.
    """
    out = shares.copy()
    cap = np.broadcast_to(np.asarray(cap, dtype=float), (out.shape[0],))
    off = out[:, offshore].sum(axis=1)
    over = off > cap + 1e-15
    if not over.any():
        return out
    onshore = [o for o in range(out.shape[1]) if o not in offshore]
    scale = np.ones_like(off)
    scale[over] = cap[over] / off[over]
    excess = off - off * scale
    out[:, offshore] *= scale[:, None]
    on = out[:, onshore]
    on_total = on.sum(axis=1, keepdims=True)
    weights = np.divide(on, on_total, out=np.full_like(on, 1.0 / len(onshore)), where=on_total > 0)
    out[:, onshore] = on + weights * excess[:, None]
    return out


def international_shares(
    q_us: float,
    p_us: float,
    q_cn: float,
    p_cn: float,
    barred: np.ndarray,
    quality_weight: float,
    price_weight: float,
    asc_chinese: float,
    asc_elsewhere: float,
) -> np.ndarray:
    """International buyers' split over US models and Chinese models on the intermediary's
    catalogue and the same models elsewhere (other clouds, the labs' own APIs).

    ``U_US = bq ln qUS - bp ln pUS``, ``U_CN = bq ln qCN - bp ln pCN + asc_CN`` and
    ``U_else = ln(e^U_US + e^U_CN) + asc_else``; a barred buyer cannot pick the Chinese model
    on the catalogue, so it moves to the US model or buys elsewhere. Columns: US, CN, elsewhere.
    """
    u_us = quality_weight * np.log(q_us) - price_weight * np.log(p_us)
    u_cn = quality_weight * np.log(q_cn) - price_weight * np.log(p_cn) + asc_chinese
    u_else = np.logaddexp(u_us, u_cn) + asc_elsewhere
    n = barred.shape[0]
    utility = np.broadcast_to(np.array([u_us, u_cn, u_else]), (n, 3))
    available = np.ones((n, 3), dtype=bool)
    available[:, 1] = ~barred
    return choice_shares(utility, available)
