"""Distillation: campaign volumes, saturation in the cumulative stock, the head start (broad)
and narrow-skill closure, each against its equation in docs/model.md."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.mechanisms.distillation import (
    campaign_volume,
    head_start,
    months_behind,
    narrow_closure,
    own_use_quality,
    saturation,
    with_head_start,
)


def test_campaign_volume_by_hand():
    v = campaign_volume(
        np.array([0.5, 1.0, 0.0]),
        np.array([0.8, 1.0, 1.0]),
        np.array([0.5, 0.0, 0.5]),
        np.array([0.2, 0.0, 0.0]),
        1e5,
        0.7,
    )
    expected = [1e5 * 0.5 * 0.8 * (1 - 0.35) * 0.8, 1e5, 0.0]
    np.testing.assert_allclose(v, expected, rtol=1e-12)


def test_campaign_volume_falls_with_monitoring_and_risk():
    mu = np.linspace(0, 1, 11)
    v = campaign_volume(np.ones(11), np.ones(11), mu, np.zeros(11), 1e5, 0.7)
    assert (np.diff(v) < 0).all()
    risk = np.linspace(0, 1, 11)
    v = campaign_volume(np.ones(11), np.ones(11), np.zeros(11), risk, 1e5, 0.7)
    assert (np.diff(v) < 0).all() and v[-1] == 0.0


def test_campaign_volume_does_not_depend_on_prices_or_tokens():
    # The signature has no price or token input: volumes are in samples by construction.
    import inspect

    params = set(inspect.signature(campaign_volume).parameters)
    assert not params & {"tokens", "price", "spend", "budget"}


def test_saturation_by_hand_and_bounds():
    np.testing.assert_allclose(
        saturation(np.array([0.0, 1e6, 2e6]), 1e6), [0.0, 1 - math.exp(-1), 1 - math.exp(-2)]
    )
    s = saturation(np.logspace(0, 12, 50), 1e6)
    assert (np.diff(s) >= 0).all() and s[-1] <= 1.0


def test_months_behind_by_hand():
    g = 0.03
    own = np.array([1.0, 1.0 / 1.03**6, 2.0])
    np.testing.assert_allclose(months_behind(1.0, own, g), [0.0, 6.0, 0.0], atol=1e-12)
    np.testing.assert_array_equal(months_behind(1.0, own, 0.0), 0.0)
    np.testing.assert_array_equal(months_behind(0.0, own, g), 0.0)


def test_head_start_by_hand():
    # c_b 0.2, stock = E_b, lead 6 months -> 0.2 * (1 - e^-1) * 6.
    h = head_start(np.zeros(1), np.array([1e6]), np.array([6.0]), 0.2, 1e6)
    np.testing.assert_allclose(h, [0.2 * (1 - math.exp(-1)) * 6.0], rtol=1e-12)


def test_head_start_saturates_in_the_stock_not_the_flow():
    # The same stock reached in one month or over many gives the same head start.
    lead = np.array([6.0])
    one_month = head_start(np.zeros(1), np.array([3e6]), lead, 0.2, 1e6)
    h = np.zeros(1)
    stock = 0.0
    for _ in range(30):
        stock += 1e5
        h = head_start(h, np.array([stock]), lead, 0.2, 1e6)
    np.testing.assert_allclose(h, one_month, rtol=1e-12)
    # And it never exceeds the ceiling share of the lead, however large the stock.
    huge = head_start(np.zeros(1), np.array([1e15]), lead, 0.2, 1e6)
    assert huge[0] <= 0.2 * 6.0 + 1e-12


def test_head_start_never_shrinks():
    h = head_start(np.array([1.0]), np.array([0.0]), np.array([0.0]), 0.2, 1e6)
    assert h[0] == 1.0


@pytest.mark.parametrize("ceiling", [0.05, 0.2, 0.5, 0.999])
def test_capability_with_head_start_stays_below_the_teacher(ceiling):
    rng = np.random.default_rng(7)
    g = 0.03
    own = rng.uniform(0.1, 1.0, 1000)
    teacher = 1.0
    stock = 10 ** rng.uniform(0, 12, 1000)
    h = head_start(np.zeros(1000), stock, months_behind(teacher, own, g), ceiling, 1e6)
    k = with_head_start(own, h, g)
    assert (k < teacher).all()
    assert (k >= own).all()


def test_narrow_transfers_with_far_fewer_samples_than_broad():
    # At the defaults' scales (E_n = 3e4, E_b = 1e6), 1e5 samples close most of the narrow
    # gap but little of the broad one.
    e = np.array([1e5])
    narrow = narrow_closure(e, 0.9, 3e4)[0]
    broad_share = 0.2 * saturation(e, 1e6)[0]
    assert narrow > 0.8 and broad_share < 0.03


def test_own_use_quality_by_hand():
    q = own_use_quality(np.array([0.5, 0.9, 1.2]), np.array([0.8, 0.0, 1.0]), 1.0, 0.3)
    np.testing.assert_allclose(q, [0.5 + 0.3 * 0.8 * 0.5, 0.9, 1.2])
