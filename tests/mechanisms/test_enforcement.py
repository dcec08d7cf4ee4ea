"""Enforcement: the civil-penalty formula, the greater of a fixed amount or a multiple."""

from __future__ import annotations

import numpy as np

from sim.mechanisms.enforcement import fine_amounts

FIXED, MULT = 374_474.0, 2.0


def test_small_transactions_pay_the_fixed_amount():
    txn = np.array([0.0, 1.0, 10_000.0, 150_000.0, 187_000.0])
    np.testing.assert_array_equal(fine_amounts(txn, FIXED, MULT), FIXED)


def test_large_transactions_pay_twice_the_value():
    txn = np.array([187_238.0, 500_000.0, 1e6, 2.5e7])
    np.testing.assert_array_equal(fine_amounts(txn, FIXED, MULT), [374_476.0, 1e6, 2e6, 5e7])


def test_breakeven_at_fixed_over_multiplier():
    # 2 * 187,237 = 374,474: both branches agree at the break-even value.
    got = fine_amounts(np.array([187_237.0]), FIXED, MULT)
    assert got[0] == FIXED


def test_fine_by_hand_other_parameters():
    # max(1000, 3 * x) for x = 100, 333, 334, 1000 -> 1000, 1000, 1002, 3000.
    got = fine_amounts(np.array([100.0, 333.0, 334.0, 1000.0]), 1000.0, 3.0)
    np.testing.assert_array_equal(got, [1000.0, 1000.0, 1002.0, 3000.0])


def test_fine_never_below_fixed_and_monotone():
    txn = np.linspace(0.0, 1e6, 101)
    got = fine_amounts(txn, FIXED, MULT)
    assert (got >= FIXED).all()
    assert (got >= MULT * txn).all()
    assert (np.diff(got) >= 0).all()
