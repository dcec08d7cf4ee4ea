"""Capability and price paths, and the frontier gap in months."""

from __future__ import annotations

import math

import pytest

from sim.mechanisms.capability import gap_months, grown, price_at


def test_grown_by_hand():
    assert grown(2.0, 0.5, 0) == 2.0
    assert grown(2.0, 0.5, 2) == pytest.approx(4.5)  # 2 * 1.5^2
    assert grown(1.0, 0.03, 12) == pytest.approx(1.03**12)
    assert grown(1.0, 0.0, 60) == 1.0


def test_price_at_by_hand():
    assert price_at(4.0, 0.5, 0) == 4.0
    assert price_at(4.0, math.log(2.0), 1) == pytest.approx(2.0, rel=1e-12)
    assert price_at(4.0, math.log(2.0), 3) == pytest.approx(0.5, rel=1e-12)
    # ~3x cheaper a year at the default decline 0.0916/month: exp(-1.0992) ~ 0.333.
    assert price_at(1.0, 0.0916, 12) == pytest.approx(1 / 3, rel=2e-3)


def test_gap_zero_when_best_at_or_above_frontier():
    assert gap_months(1.0, 1.0, 0.03) == 0.0
    assert gap_months(1.0, 1.2, 0.03) == 0.0


def test_gap_months_by_hand():
    assert gap_months(1.03**6, 1.0, 0.03) == pytest.approx(6.0, rel=1e-12)
    assert gap_months(1.0, 1.0 / 1.05**10, 0.05) == pytest.approx(10.0, rel=1e-12)
    # log(1 / 0.85) / log(1.03)
    assert gap_months(1.0, 0.85, 0.03) == pytest.approx(
        math.log(1 / 0.85) / math.log(1.03), rel=1e-12
    )


def test_gap_consistent_with_grown():
    # Best at q0 trails a frontier that grows from q0: the gap after t months is t.
    for t in (1, 7, 24):
        assert gap_months(grown(0.9, 0.03, t), 0.9, 0.03) == pytest.approx(t, rel=1e-12)


def test_gap_zero_without_growth():
    # No frontier progress: the gap cannot be expressed in months; the function returns 0.
    assert gap_months(1.0, 0.5, 0.0) == 0.0
