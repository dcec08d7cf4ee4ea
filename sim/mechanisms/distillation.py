"""Distillation: extraction campaigns, and what a stock of harvested samples teaches.

Two dimensions, after the public evidence (facts.md): narrow skills transfer with 1e3-1e6
samples, broad capability transfers weakly however many samples are taken. Both saturate in
the *cumulative* stock of samples a party holds (its own harvest plus what reached it over
the network), never in one month's flow. Broad capability is gained as a head start in
months of progress over the party's own path, a share of the teacher's lead, so it never
reaches the teacher.
"""

from __future__ import annotations

import numpy as np


def campaign_volume(
    intent: np.ndarray,
    ambition: np.ndarray,
    monitoring: np.ndarray,
    perceived_risk: np.ndarray,
    campaign_samples: float,
    deterrence: float,
) -> np.ndarray:
    """Samples a harvester plans to extract this month.

    ``V_i = V_max * intent_i * a_i * (1 - d * mu_i) * (1 - r_i)``: volumes are set by what
    distillation needs (samples), not by how many tokens a firm buys for production, so they
    do not grow as prices fall. ``a_i`` is the firm's in-house ambition (labs training
    frontier-class models run large campaigns, other firms fine-tune on small sets).
    Announced monitoring ``mu`` and the firm's own perceived risk ``r_i`` deter (the model
    passes the harvester's remembered campaign risk ``c_i``, docs/model.md 7.6).
    """
    return (
        campaign_samples
        * intent
        * ambition
        * (1.0 - deterrence * monitoring)
        * (1.0 - perceived_risk)
    )


def saturation(stock: np.ndarray | float, half: float) -> np.ndarray:
    """``1 - exp(-E / E_half)``: the share of the attainable transfer reached with stock ``E``."""
    return -np.expm1(-np.asarray(stock, dtype=float) / half)


def months_behind(teacher: float, own: np.ndarray | float, growth: float) -> np.ndarray:
    """``G = max(ln(q_T / k_own), 0) / ln(1 + g)``: how many months of frontier progress the
    teacher leads a party's own (no-leakage) path by."""
    if growth <= 0 or teacher <= 0:
        return np.zeros_like(np.asarray(own, dtype=float))
    ratio = np.log(teacher / np.maximum(own, 1e-12))
    return np.maximum(ratio, 0.0) / np.log1p(growth)


def head_start(
    previous: np.ndarray | float,
    stock: np.ndarray | float,
    lead: np.ndarray | float,
    ceiling: float,
    half: float,
) -> np.ndarray:
    """Months of progress a party has gained from leaked samples (broad capability).

    ``H(t) = max(H(t-1), c_b * (1 - exp(-E / E_b)) * G)``: a share of the teacher's lead
    ``G`` (months), saturating in the cumulative stock ``E``. What a model learned is not
    lost, so the head start never shrinks; with ``c_b < 1`` it stays short of the teacher.
    """
    target = ceiling * saturation(stock, half) * np.asarray(lead, dtype=float)
    return np.maximum(previous, target)


def with_head_start(own: np.ndarray | float, months: np.ndarray | float, growth: float):
    """Capability of a party ``months`` of frontier progress ahead of its own path:
    ``k = k_own * (1 + g)^H``, computed as ``k_own * exp(H ln(1 + g))`` (numpy's ``exp`` is
    several times faster than its ``**`` with a scalar base)."""
    months = np.asarray(months, dtype=float)
    return np.asarray(own, dtype=float) * np.exp(months * np.log1p(growth))


def narrow_closure(stock: np.ndarray, ceiling: float, half: float) -> np.ndarray:
    """Share of the narrow-task gap to the teacher closed: ``N = c_n * (1 - exp(-E / E_n))``."""
    return ceiling * saturation(stock, half)


def own_use_quality(
    capability: np.ndarray, narrow: np.ndarray, teacher: float, narrow_use: float
) -> np.ndarray:
    """Quality of an in-house model for the firm's own work.

    ``q_H = k + nu * N * max(q_T - k, 0)``: on the share ``nu`` of its use that narrow,
    distillable skills cover, the firm gets the part ``N`` of the teacher's edge it copied.
    """
    return capability + narrow_use * narrow * np.maximum(teacher - capability, 0.0)
