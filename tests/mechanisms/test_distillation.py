"""Distillation: the share of foreign usage harvested and the saturating capability gain."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.mechanisms.distillation import distillation_gain, harvest_share

# ---------------------------------------------------------------- distillation_gain


def test_no_samples_no_gain():
    k = np.array([0.0, 0.3, 0.9])
    gain = distillation_gain(k, 1.0, np.zeros(3), 0.5, 1e6)
    np.testing.assert_array_equal(gain, 0.0)


def test_gain_by_hand():
    # eta 0.5, gap 1 - 0.2 = 0.8, samples = S_half -> 1 - e^-1.
    # Second customer: samples = 2 S_half, gap 0.5 -> 0.5 * 0.5 * (1 - e^-2).
    k = np.array([0.2, 0.5])
    s = np.array([1e6, 2e6])
    gain = distillation_gain(k, 1.0, s, 0.5, 1e6)
    expected = [0.5 * 0.8 * (1 - math.exp(-1)), 0.5 * 0.5 * (1 - math.exp(-2))]
    np.testing.assert_allclose(gain, expected, rtol=1e-12)


def test_gain_never_overshoots_teacher_random_cases():
    rng = np.random.default_rng(2024)
    for _ in range(200):
        n = 100
        teacher = float(rng.uniform(0.1, 2.0))
        k = rng.uniform(0.0, 2.5, n)
        samples = rng.choice([0.0, 1.0, 1e3, 1e6, 1e9, 1e15], n) * rng.random(n)
        eta = float(rng.choice([rng.random(), 1.0]))
        half = float(10 ** rng.uniform(0, 7))
        gain = distillation_gain(k, teacher, samples, eta, half)
        assert (gain >= 0.0).all()
        below = k < teacher
        # Allow one rounding step of k + (teacher - k) in floating point.
        assert (k[below] + gain[below] <= teacher * (1 + 4 * np.finfo(float).eps)).all()


def test_eta_one_and_infinite_samples_reaches_teacher():
    k = np.array([0.1, 0.5, 0.75])
    gain = distillation_gain(k, 1.0, np.full(3, 1e30), 1.0, 1e6)
    np.testing.assert_allclose(k + gain, 1.0, rtol=1e-15)


def test_gain_saturates_at_eta_times_gap():
    k = np.array([0.4])
    eta, teacher, half = 0.03, 1.0, 1e6
    ceiling = eta * (teacher - 0.4)
    counts = np.array([1e5, 1e6, 3e6, 1e7, 1e8, 1e9])
    gains = np.array([distillation_gain(k, teacher, np.array([s]), eta, half)[0] for s in counts])
    assert (np.diff(gains[:4]) > 0).all()  # rising until exp(-s/S_half) underflows the sum
    assert (np.diff(gains) >= 0).all()
    assert (gains <= ceiling).all()
    # Remaining distance to the ceiling is ceiling * exp(-s / S_half).
    np.testing.assert_allclose(ceiling - gains, ceiling * np.exp(-counts / half), atol=1e-15)
    assert gains[-1] == pytest.approx(ceiling, rel=1e-12)


def test_capability_at_or_above_teacher_gains_nothing():
    k = np.array([1.0, 1.2, 5.0])
    gain = distillation_gain(k, 1.0, np.full(3, 1e7), 0.8, 1e6)
    np.testing.assert_array_equal(gain, 0.0)


def test_gain_linear_in_eta_and_gap():
    k = np.array([0.0, 0.5])
    g1 = distillation_gain(k, 1.0, np.full(2, 5e5), 0.1, 1e6)
    g2 = distillation_gain(k, 1.0, np.full(2, 5e5), 0.2, 1e6)
    np.testing.assert_allclose(g2, 2 * g1, rtol=1e-12)
    assert g1[0] == pytest.approx(2 * g1[1], rel=1e-12)  # gap 1.0 vs 0.5


# ---------------------------------------------------------------- harvest_share


def test_harvest_share_by_hand():
    # 0.2 * 0.5 * (1 - 0.7 * 0.5) * (1 - 0.2) = 0.1 * 0.65 * 0.8 = 0.052
    got = harvest_share(np.array([0.5]), np.array([0.5]), np.array([0.2]), 0.2, 0.7)
    assert got[0] == pytest.approx(0.052, rel=1e-12)


def test_harvest_share_vectorised_by_hand():
    intent = np.array([1.0, 0.25, 0.8])
    mu = np.array([0.0, 1.0, 0.2])
    r = np.array([0.0, 0.5, 1.0])
    got = harvest_share(intent, mu, r, 0.4, 0.5)
    expected = [
        0.4 * 1.0 * 1.0 * 1.0,
        0.4 * 0.25 * 0.5 * 0.5,
        0.0,  # perceived risk 1: stops entirely
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_zero_intent_harvests_nothing():
    got = harvest_share(np.zeros(4), np.array([0.0, 0.3, 0.7, 1.0]), np.zeros(4), 0.2, 0.7)
    np.testing.assert_array_equal(got, 0.0)


def test_harvest_share_decreases_with_monitoring():
    mu = np.linspace(0.0, 1.0, 11)
    got = harvest_share(np.full(11, 0.6), mu, np.full(11, 0.1), 0.2, 0.7)
    assert (np.diff(got) < 0).all()
    assert got[0] == pytest.approx(0.2 * 0.6 * 0.9)
    assert got[-1] == pytest.approx(0.2 * 0.6 * 0.3 * 0.9)


def test_harvest_share_decreases_with_perceived_risk():
    r = np.linspace(0.0, 1.0, 11)
    got = harvest_share(np.full(11, 0.6), np.full(11, 0.5), r, 0.2, 0.7)
    assert (np.diff(got) < 0).all()
    assert got[-1] == pytest.approx(0.0, abs=1e-15)


def test_harvest_share_bounded_by_h_max():
    rng = np.random.default_rng(3)
    n = 1000
    got = harvest_share(rng.random(n), rng.random(n), rng.random(n), 0.2, 0.7)
    assert (got >= 0).all()
    assert (got <= 0.2).all()
