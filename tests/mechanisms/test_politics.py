"""Politics: the attention index."""

from __future__ import annotations

import pytest

from sim.mechanisms.politics import attention_update


def test_attention_decays_geometrically_without_inputs():
    a = 2.0
    for month in range(1, 13):
        a = attention_update(a, 0.9, 0.0, 0, 0.01, 0.1)
        assert a == pytest.approx(2.0 * 0.9**month, rel=1e-12)


def test_zero_decay_forgets_everything():
    assert attention_update(5.0, 0.0, 0.0, 0, 0.01, 0.1) == 0.0


def test_attention_adds_spend_and_incidents_by_hand():
    # 0.5 * 1 + 0.01 * 10 + 0.1 * 3 = 0.5 + 0.1 + 0.3 = 0.9
    assert attention_update(1.0, 0.5, 10.0, 3, 0.01, 0.1) == pytest.approx(0.9, rel=1e-12)


def test_each_input_alone():
    assert attention_update(0.0, 0.9, 50.0, 0, 0.02, 0.1) == pytest.approx(1.0)
    assert attention_update(0.0, 0.9, 0.0, 4, 0.02, 0.25) == pytest.approx(1.0)


def test_steady_state_under_constant_inputs():
    # A* = (w1 s + w2 n) / (1 - rho) = (0.01 * 20 + 0.1 * 1) / 0.1 = 3.0
    a = 0.0
    for _ in range(500):
        a = attention_update(a, 0.9, 20.0, 1, 0.01, 0.1)
    assert a == pytest.approx(3.0, rel=1e-9)
