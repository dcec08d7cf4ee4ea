"""Leakage spread: distilled capability diffuses over the knowledge network (sparse)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def row_normalised(adjacency: sp.csr_array) -> sp.csr_array:
    """``A`` with each row divided by its degree (isolated rows stay zero)."""
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    inv = np.divide(1.0, degree, out=np.zeros_like(degree, dtype=float), where=degree > 0)
    return sp.diags_array(inv) @ adjacency


def diffusion_gain(
    weights: sp.csr_array,
    leaked: np.ndarray,
    rate: float,
    has_neighbours: np.ndarray | None = None,
) -> np.ndarray:
    """``dk_diffuse = delta * max(A @ l - l, 0)``: customers absorb part of the leaked
    capability their neighbours hold beyond their own.

    ``l`` is each customer's stock of leaked capability (distilled or diffused to it), so
    only what leaked spreads, not ordinary differences in in-house skill. Isolated customers
    gain nothing (``has_neighbours`` may be passed when the network is fixed).
    """
    neighbour_mean = weights @ leaked
    if has_neighbours is None:
        has_neighbours = np.asarray(weights.sum(axis=1)).ravel() > 0
    return rate * np.where(has_neighbours, np.maximum(neighbour_mean - leaked, 0.0), 0.0)


def domestic_spillover(
    domestic: float, capability: np.ndarray, leaked: np.ndarray, spillover: float
) -> float:
    """Domestic providers absorb ``lamD`` of the largest leaked lead a customer holds over them.

    ``L = max_i min(max(k_i - qD, 0), l_i)``: only the part of a customer's lead that came
    from leakage (its leaked stock ``l_i``) spills over, so in-house progress of its own is
    not counted as leakage. Returns ``lamD * L``.
    """
    if capability.size == 0:
        return 0.0
    lead = np.minimum(np.maximum(capability - domestic, 0.0), leaked)
    return spillover * float(lead.max())
