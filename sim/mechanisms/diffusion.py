"""Leakage spread: harvested samples diffuse over the knowledge network (sparse) and into the
domestic providers.

What spreads is data (synthetic samples and the models trained on them), which is copied
rather than handed over: a customer gains part of what its neighbours hold beyond its own
stock, and the neighbours keep theirs.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def row_normalised(adjacency: sp.csr_array) -> sp.csr_array:
    """``W``: ``A`` with each row divided by its degree (isolated rows stay zero)."""
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    inv = np.divide(1.0, degree, out=np.zeros_like(degree, dtype=float), where=degree > 0)
    return sp.diags_array(inv) @ adjacency


def received_samples(
    weights: sp.csr_array,
    stock: np.ndarray,
    rate: float,
    has_neighbours: np.ndarray | None = None,
) -> np.ndarray:
    """Samples each customer receives this month: ``dR = delta * max(W E - E, 0)``.

    A customer absorbs a share ``delta`` of the surplus its neighbours hold on average; one
    sparse product; isolated customers receive nothing.
    """
    neighbour_stock = weights @ stock
    if has_neighbours is None:
        has_neighbours = np.asarray(weights.sum(axis=1)).ravel() > 0
    return rate * np.where(has_neighbours, np.maximum(neighbour_stock - stock, 0.0), 0.0)


def domestic_absorption(
    stock: np.ndarray, spend_weights: np.ndarray, domestic_stock: float, spillover: float
) -> float:
    """Samples the domestic providers absorb this month.

    ``dE_D = lamD * max(sum_i w_i E_i - E_D, 0)`` with ``w`` each customer's share of the
    month-0 budgets: the ecosystem takes in a share of the budget-weighted stock it does not
    yet hold (open releases, staff, partnerships). Smooth in every customer: restricting one harvester moves
    it by that customer's weight, not all or nothing.
    """
    if stock.size == 0:
        return 0.0
    # An elementwise sum, not a BLAS dot: BLAS threading would change the last bits.
    mean_stock = float((spend_weights * stock).sum())
    return spillover * max(mean_stock - domestic_stock, 0.0)
