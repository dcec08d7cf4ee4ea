"""Politics: an attention index fed by money reaching restricted parties and public incidents."""

from __future__ import annotations


def attention_update(
    attention: float,
    decay: float,
    restricted_spend_musd: float,
    public_incidents: int,
    weight_spend: float,
    weight_incident: float,
) -> float:
    """``A(t+1) = rho A(t) + w1 * spend_by_restricted + w2 * public_incidents``."""
    return (
        decay * attention
        + weight_spend * restricted_spend_musd
        + weight_incident * public_incidents
    )
