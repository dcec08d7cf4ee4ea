"""Detection: per-account pattern detection, network linking, the exposure-minimising spread,
false positives and escalating suspensions, against their equations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.mechanisms.detection import (
    account_detection,
    false_positive_probability,
    least_exposed_accounts,
    network_linking,
    recall_ceiling,
    suspension_length,
)


def test_recall_ceiling_is_about_ninety_percent_at_the_default():
    # facts.md: ~90% recall; the default sensitivity 4.6 at monitoring 0.5.
    assert recall_ceiling(0.5, 4.6) == pytest.approx(0.9, abs=0.002)
    assert recall_ceiling(0.0, 4.6) == 0.0


def test_account_detection_by_hand():
    p = account_detection(np.array([0.0, 5e3, 1e4]), np.full(3, 0.5), 4.6, 5e3)
    ceiling = 1 - math.exp(-2.3)
    np.testing.assert_allclose(p, [0.0, ceiling * 0.5, ceiling * 4 / 5], rtol=1e-12)


def test_account_detection_rises_with_volume_and_monitoring():
    v = np.logspace(1, 6, 30)
    p = account_detection(v, np.full(30, 0.5), 4.6, 5e3)
    assert (np.diff(p) > 0).all()
    mu = np.linspace(0.05, 1, 20)
    p = account_detection(np.full(20, 1e4), mu, 4.6, 5e3)
    assert (np.diff(p) > 0).all()


def test_detection_is_stationary_in_prices():
    # Depends on samples per account only: the same volume gives the same chance whatever
    # the token price (the signature takes no price or token count).
    import inspect

    assert not set(inspect.signature(account_detection).parameters) & {"tokens", "price"}


def test_spreading_lowers_per_account_detection():
    volume = 1e5
    per_account = [
        account_detection(np.array([volume / m]), np.array([0.5]), 4.6, 5e3)[0]
        for m in (1, 10, 100, 1000)
    ]
    assert per_account == sorted(per_account, reverse=True)
    assert per_account[-1] < 0.01 * per_account[0]


def test_network_linking_by_hand_and_single_accounts_are_not_networks():
    p = network_linking(np.array([1.0, 2000.0, 6000.0]), np.full(3, 0.5), 4.6, 2000.0)
    ceiling = 1 - math.exp(-2.3)
    np.testing.assert_allclose(p, [0.0, ceiling * 0.5, ceiling * 0.75], rtol=1e-12)


def test_least_exposed_accounts_minimises_the_exposure_approximation():
    v, v50, m50, ceiling = 5e4, 5e3, 2000.0, 0.9
    best = least_exposed_accounts(np.array([v]), v50, m50)[0]
    assert best == pytest.approx(v * math.sqrt(m50) / v50)

    def exposure(m):
        return ceiling * ((v / (m * v50)) ** 2 * m + m / m50)

    grid = np.linspace(best / 4, best * 4, 400)
    assert abs(grid[np.argmin([exposure(m) for m in grid])] - best) < best * 0.05


def test_false_positive_rate_is_three_per_mille_at_default():
    assert false_positive_probability(0.5, 0.006) == pytest.approx(0.003)
    np.testing.assert_allclose(false_positive_probability(np.array([0.0, 1.0]), 0.006), [0, 0.006])


def test_suspension_lengths_are_geometric_with_the_escalated_mean():
    rng = np.random.default_rng(3)
    draw = rng.random(200_000)
    for offences, mean in ((1, 3.0), (2, 6.0), (3, 12.0)):
        length = suspension_length(np.full(draw.size, offences), 3.0, 2.0, draw)
        assert length.min() >= 1
        assert length.mean() == pytest.approx(mean, rel=0.03)
    # Random lengths: no single length takes most suspensions (no synchronised re-admission).
    length = suspension_length(np.ones(draw.size), 3.0, 2.0, draw)
    assert np.bincount(length).max() / length.size < 0.4


def test_suspension_of_mean_one_lasts_one_month():
    np.testing.assert_array_equal(suspension_length(np.ones(5), 1.0, 1.0, np.linspace(0, 1, 5)), 1)
