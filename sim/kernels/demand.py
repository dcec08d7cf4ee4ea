"""Demand, fused: each customer's logit split of its budget and what it buys with it.

Computes what :func:`sim.mechanisms.demand.utilities`, :func:`~sim.mechanisms.demand.choice_shares`
and :func:`~sim.mechanisms.demand.cap_offshore` compute, then the spend, tokens and receipts
of ``MarketModel._demand`` and ``MarketModel._tokens_and_receipts``, without building the
``(N, 4)`` quality, price and risk arrays: only the in-house quality, the reseller price and
the risk cutoff differ between customers; the other terms are the month's scalars.

Two stages around one numpy ``exp``: :func:`utility_gaps` writes each option's utility minus
the row's best (0 where the option is unavailable: numpy's ``exp`` is several times slower on
``-inf``); after ``exp``, :func:`spend_from_weights` zeroes the unavailable options'
weights, normalises, caps offshore use, and spends. :func:`inhouse_quality` gives the
in-house option's quality, floored for its ``log``. Each stage has a numpy body and a loop body
(compiled by numba for large runs, :mod:`sim.accel`) that give the same bits.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim import accel
from sim.mechanisms.demand import DOMESTIC, FOREIGN, INHOUSE, RESELLER


class DemandTerms(NamedTuple):
    """The month's terms shared by every customer (logs already taken, by numpy)."""

    log_q_served: float
    log_q_domestic: float
    log_p_served: float
    log_p_domestic: float
    log_p_inhouse: float
    price_weight: float
    risk_weight: float
    withdrawal_risk: float
    disapproval: float
    penalty: float
    asc_foreign: float
    asc_reseller: float
    asc_domestic: float
    asc_inhouse: float


def inhouse_quality(
    capability: np.ndarray,
    narrow: np.ndarray,
    teacher: float,
    narrow_use: float,
    compiled: bool = False,
) -> np.ndarray:
    """``max(k + nu N max(q_T - k, 0), 1e-12)``: the in-house model's quality for the firm's
    own work (:func:`sim.mechanisms.distillation.own_use_quality`), floored for its log."""
    out = np.empty(capability.shape[0])
    body = accel.compiled(_inhouse_loop) if compiled else _inhouse_numpy
    body(capability, narrow, float(teacher), float(narrow_use), out)
    return out


def utility_gaps(
    terms: DemandTerms,
    log_q_inhouse: np.ndarray,
    log_p_reseller: np.ndarray,
    quality_weight: np.ndarray,
    perceived_risk: np.ndarray,
    direct: np.ndarray,
    evading: np.ndarray,
    compiled: bool = False,
) -> np.ndarray:
    """``U_io - max_o U_io`` over the available options; 0 (a placeholder) for unavailable ones.

    ``U_io = bq_i log q_io - bp log p_io - br risk_io + asc_o`` (:func:`~sim.mechanisms.demand.utilities`),
    with the foreign risk ``disapproval + perceived_i + withdrawal`` and the reseller's that
    plus the penalty term; domestic and in-house are always available. ``log_p_reseller`` is
    each customer's, or one for all (length 1).
    """
    out = np.empty((log_q_inhouse.shape[0], 4))
    body = accel.compiled(_gaps_loop) if compiled else _gaps_numpy
    body(terms, log_q_inhouse, log_p_reseller, quality_weight, perceived_risk, direct, evading, out)
    return out


def spend_from_weights(
    weights: np.ndarray,
    direct: np.ndarray,
    evading: np.ndarray,
    offshore_cap: np.ndarray,
    budget0: np.ndarray,
    budget_factor: float,
    proxy_cost: np.ndarray,
    price_served: float,
    price_reseller: np.ndarray,
    spend_total: np.ndarray,
    compiled: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shares from ``weights = exp(gaps)``, capped offshore, and what they buy.

    Unavailable options (foreign without ``direct``, reseller without ``evading``) weigh 0;
    shares are the weights over their row total (:func:`~sim.mechanisms.demand.choice_shares`);
    where foreign plus reseller exceed ``offshore_cap``, both are scaled down and the excess
    goes onshore in proportion to the onshore shares (:func:`~sim.mechanisms.demand.cap_offshore`).
    The budget is ``max(budget0 * budget_factor - proxy_cost, 0)``. Returns
    ``spend = budget * shares`` (column-major, like ``spend_total``, to which it is added),
    tokens bought (``spend / price * 1e6`` over foreign and reseller), the intermediary's
    receipts (foreign spend plus reseller spend at list price) and the resellers' margin.
    ``price_reseller`` is each customer's, or one for all (length 1). ``weights`` may be used
    as scratch space.
    """
    n = weights.shape[0]
    spend = np.empty((n, 4), order="F")
    tokens, receipts, margin = np.empty(n), np.empty(n), np.empty(n)
    body = accel.compiled(_spend_loop) if compiled else _spend_numpy
    body(
        weights,
        direct,
        evading,
        offshore_cap,
        budget0,
        float(budget_factor),
        proxy_cost,
        float(price_served),
        price_reseller,
        spend_total,
        spend,
        tokens,
        receipts,
        margin,
    )
    return spend, tokens, receipts, margin


# ---------------------------------------------------------------- numpy bodies


def _inhouse_numpy(capability, narrow, teacher, narrow_use, out):
    quality = capability + narrow_use * narrow * np.maximum(teacher - capability, 0.0)
    np.maximum(quality, 1e-12, out=out)


def _gaps_numpy(t, log_q_inhouse, log_p_reseller, qw, perceived, direct, evading, out):
    risk_foreign = t.disapproval + (perceived + t.withdrawal_risk)
    risk_reseller = risk_foreign + t.penalty
    foreign = (
        qw * t.log_q_served - t.price_weight * t.log_p_served - t.risk_weight * risk_foreign
    ) + t.asc_foreign
    reseller = (
        qw * t.log_q_served - t.price_weight * log_p_reseller - t.risk_weight * risk_reseller
    ) + t.asc_reseller
    domestic = (qw * t.log_q_domestic - t.price_weight * t.log_p_domestic) + t.asc_domestic
    inhouse = (qw * log_q_inhouse - t.price_weight * t.log_p_inhouse) + t.asc_inhouse
    top = np.maximum(domestic, inhouse)
    np.maximum(top, np.where(direct, foreign, -np.inf), out=top)
    np.maximum(top, np.where(evading, reseller, -np.inf), out=top)
    top[~np.isfinite(top)] = 0.0
    out[:, FOREIGN] = np.where(direct, foreign - top, 0.0)
    out[:, RESELLER] = np.where(evading, reseller - top, 0.0)
    out[:, DOMESTIC] = domestic - top
    out[:, INHOUSE] = inhouse - top


def _spend_numpy(
    w,
    direct,
    evading,
    cap,
    budget0,
    budget_factor,
    proxy_cost,
    price_served,
    price_reseller,
    spend_total,
    spend,
    tokens,
    receipts,
    margin,
):
    w[:, FOREIGN] *= direct
    w[:, RESELLER] *= evading
    total = w[:, 0] + w[:, 1]
    total += w[:, 2]
    total += w[:, 3]
    np.divide(w, total[:, None], out=w, where=total[:, None] > 0)
    w[total == 0] = 0.0
    offshore = w[:, FOREIGN] + w[:, RESELLER]
    over = np.flatnonzero(offshore > cap + 1e-15)
    if over.size:
        scale = cap[over] / offshore[over]
        excess = offshore[over] - offshore[over] * scale
        w[over, FOREIGN] *= scale
        w[over, RESELLER] *= scale
        onshore = w[over, DOMESTIC] + w[over, INHOUSE]
        for o in (DOMESTIC, INHOUSE):
            share = np.divide(w[over, o], onshore, out=np.full(over.size, 0.5), where=onshore > 0)
            w[over, o] = w[over, o] + share * excess
    budget = np.maximum(budget0 * budget_factor - proxy_cost, 0.0)
    np.multiply(budget[:, None], w, out=spend)
    spend_total += spend
    tokens[:] = spend[:, FOREIGN] / price_served * 1e6 + spend[:, RESELLER] / price_reseller * 1e6
    at_list = spend[:, RESELLER] * price_served / price_reseller
    np.add(spend[:, FOREIGN], at_list, out=receipts)
    np.subtract(spend[:, RESELLER], at_list, out=margin)


# ---------------------------------------------------------------- loop bodies (numba)


@accel.parallel
def _inhouse_loop(capability, narrow, teacher, narrow_use, out):
    for i in accel.prange(out.shape[0]):
        k = capability[i]
        out[i] = max(k + narrow_use * narrow[i] * max(teacher - k, 0.0), 1e-12)


@accel.parallel
def _gaps_loop(t, log_q_inhouse, log_p_reseller, qw, perceived, direct, evading, out):
    p_served = t.price_weight * t.log_p_served
    p_domestic = t.price_weight * t.log_p_domestic
    p_inhouse = t.price_weight * t.log_p_inhouse
    # A stride of 0 reads the one price for all (unsigned, as numba's loop index).
    stride = np.uint64(1) if log_p_reseller.shape[0] > 1 else np.uint64(0)
    for i in accel.prange(out.shape[0]):
        risk_foreign = t.disapproval + (perceived[i] + t.withdrawal_risk)
        risk_reseller = risk_foreign + t.penalty
        served = qw[i] * t.log_q_served
        foreign = (served - p_served - t.risk_weight * risk_foreign) + t.asc_foreign
        reseller = (
            served - t.price_weight * log_p_reseller[i * stride] - t.risk_weight * risk_reseller
        ) + t.asc_reseller
        domestic = (qw[i] * t.log_q_domestic - p_domestic) + t.asc_domestic
        inhouse = (qw[i] * log_q_inhouse[i] - p_inhouse) + t.asc_inhouse
        top = max(domestic, inhouse)
        top = max(top, foreign if direct[i] else -np.inf)
        top = max(top, reseller if evading[i] else -np.inf)
        if not np.isfinite(top):
            top = 0.0
        out[i, 0] = foreign - top if direct[i] else 0.0
        out[i, 1] = reseller - top if evading[i] else 0.0
        out[i, 2] = domestic - top
        out[i, 3] = inhouse - top


@accel.parallel
def _spend_loop(
    w,
    direct,
    evading,
    cap,
    budget0,
    budget_factor,
    proxy_cost,
    price_served,
    price_reseller,
    spend_total,
    spend,
    tokens,
    receipts,
    margin,
):
    # A stride of 0 reads the one price for all (unsigned, as numba's loop index).
    stride = np.uint64(1) if price_reseller.shape[0] > 1 else np.uint64(0)
    for i in accel.prange(w.shape[0]):
        w0 = w[i, 0] if direct[i] else 0.0
        w1 = w[i, 1] if evading[i] else 0.0
        w2 = w[i, 2]
        w3 = w[i, 3]
        total = w0 + w1
        total += w2
        total += w3
        if total > 0:
            w0, w1, w2, w3 = w0 / total, w1 / total, w2 / total, w3 / total
        else:
            w0 = w1 = w2 = w3 = 0.0
        offshore = w0 + w1
        if offshore > cap[i] + 1e-15:
            scale = cap[i] / offshore
            excess = offshore - offshore * scale
            w0 *= scale
            w1 *= scale
            onshore = w2 + w3
            d = w2 / onshore if onshore > 0 else 0.5
            h = w3 / onshore if onshore > 0 else 0.5
            w2 = w2 + d * excess
            w3 = w3 + h * excess
        budget = max(budget0[i] * budget_factor - proxy_cost[i], 0.0)
        s0, s1, s2, s3 = budget * w0, budget * w1, budget * w2, budget * w3
        spend[i, 0], spend[i, 1], spend[i, 2], spend[i, 3] = s0, s1, s2, s3
        spend_total[i, 0] += s0
        spend_total[i, 1] += s1
        spend_total[i, 2] += s2
        spend_total[i, 3] += s3
        p_reseller = price_reseller[i * stride]
        tokens[i] = s0 / price_served * 1e6 + s1 / p_reseller * 1e6
        at_list = s1 * price_served / p_reseller
        receipts[i] = s0 + at_list
        margin[i] = s1 - at_list
