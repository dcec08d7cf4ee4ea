"""Detection: flag probability for harvesting accounts and false positives for honest ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.mechanisms.detection import detection_probability

KAPPA, S_REF, FP = 1.0, 2.0e7, 0.003


def test_zero_monitoring_detects_nobody():
    samples = np.array([0.0, 0.0, 1.0, 1e6, 1e9, 1e12])
    p = detection_probability(samples, np.zeros(6), KAPPA, S_REF, FP)
    np.testing.assert_array_equal(p, 0.0)


def test_honest_accounts_get_false_positive_rate_times_mu():
    mu = np.array([0.0, 0.25, 0.5, 1.0])
    p = detection_probability(np.zeros(4), mu, KAPPA, S_REF, FP)
    np.testing.assert_allclose(p, [0.0, 0.00075, 0.0015, 0.003], rtol=1e-12)


def test_honest_rate_independent_of_kappa():
    mu = np.array([0.5])
    a = detection_probability(np.zeros(1), mu, 1.0, S_REF, 0.01)
    b = detection_probability(np.zeros(1), mu, 1e9, S_REF, 0.01)
    assert a[0] == b[0] == pytest.approx(0.005)


def test_harvesters_by_hand():
    # mu * kappa * samples / S_ref = 1 at (1, 1, S_ref): 1 - e^-1.
    # (0.5, 2, S_ref/2) -> 0.5; (1, 3, 2 S_ref) -> 6.
    samples = np.array([S_REF, S_REF / 2, 2 * S_REF])
    mu = np.array([1.0, 0.5, 1.0])
    p1 = detection_probability(samples[:1], mu[:1], 1.0, S_REF, FP)
    assert p1[0] == pytest.approx(1 - math.exp(-1), rel=1e-12)
    p2 = detection_probability(samples[1:2], mu[1:2], 2.0, S_REF, FP)
    assert p2[0] == pytest.approx(1 - math.exp(-0.5), rel=1e-12)
    p3 = detection_probability(samples[2:], mu[2:], 3.0, S_REF, FP)
    assert p3[0] == pytest.approx(1 - math.exp(-6), rel=1e-12)


def test_perfect_detection_limit_is_exactly_one():
    samples = np.array([1.0, 2.0, 10.0, 1e3, 1e6, 1e9, 1e15])
    p = detection_probability(samples, np.ones(samples.size), 1e12, S_REF, FP)
    np.testing.assert_array_equal(p, 1.0)
    # Even fractional sample counts with an extreme kappa.
    p = detection_probability(np.array([1e-3, 0.5]), np.ones(2), 1e300, S_REF, FP)
    np.testing.assert_array_equal(p, 1.0)


def test_perfect_detection_still_false_positive_for_honest():
    p = detection_probability(np.array([0.0, 5.0]), np.ones(2), 1e12, S_REF, FP)
    assert p[0] == pytest.approx(FP)
    assert p[1] == 1.0


def test_monotone_in_samples():
    samples = np.concatenate([[1.0], np.logspace(3, 9, 40)])
    p = detection_probability(samples, np.full(samples.size, 0.5), KAPPA, S_REF, FP)
    assert (np.diff(p) >= 0).all()
    assert p[-1] > p[0]
    assert ((p >= 0) & (p <= 1)).all()


def test_monotone_in_monitoring():
    mu = np.linspace(0.0, 1.0, 21)
    for s in (0.0, 1e5, 2e7, 1e8):
        p = detection_probability(np.full(21, s), mu, KAPPA, S_REF, FP)
        assert (np.diff(p) > 0).all(), s
