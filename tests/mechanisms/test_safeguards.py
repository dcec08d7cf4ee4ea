"""The intermediary's objective and its hill climb over safeguards."""

from __future__ import annotations

import numpy as np
import pytest

from sim.mechanisms.safeguards import HillClimb, objective


def test_objective_by_hand():
    # Net revenue 100, fines 10, pressure at half the tolerance, c_rel 1, budget 1000:
    # (100 - 10 - 0.5 * 100) / 1000.
    assert objective(100.0, 10.0, 0.5, 1.0, 1000.0) == pytest.approx(0.04)
    # Pressure beyond tolerance counts as at most all of the revenue.
    assert objective(100.0, 0.0, 3.0, 1.0, 1000.0) == pytest.approx(0.0)
    assert objective(100.0, 0.0, 0.0, 1.0, 0.0) == 0.0


def test_objective_falls_with_fines_and_pressure():
    base = objective(100.0, 0.0, 0.0, 1.0, 1000.0)
    assert objective(100.0, 5.0, 0.0, 1.0, 1000.0) < base
    assert objective(100.0, 0.0, 0.2, 1.0, 1000.0) < base
    assert objective(100.0, 0.0, 0.2, 0.0, 1000.0) == base


def _climb(f, start, reviews=160, pinned=(False, False), bounds=((0.0, 1.0), (0.0, 1.0))):
    climb = HillClimb(step=0.05)
    levels = list(start)
    for _ in range(reviews):
        levels = climb.review(levels, list(bounds), list(pinned), f(levels))
    return levels


def test_climb_finds_the_optimum_of_a_smooth_objective():
    def f(x):
        return -((x[0] - 0.8) ** 2) - (x[1] - 0.3) ** 2

    levels = _climb(f, [0.2, 0.9], reviews=160)
    assert levels[0] == pytest.approx(0.8, abs=0.1)
    assert levels[1] == pytest.approx(0.3, abs=0.1)


def test_climb_moves_after_two_steady_periods_and_undoes_a_move_worse_than_the_trend():
    climb = HillClimb(step=0.1)
    free, unit = [False, False], [(0, 1), (0, 1)]
    levels = climb.review([0.5, 0.5], unit, free, 1.0)
    assert levels == [0.5, 0.5]  # one period measured: no trend yet
    levels = climb.review(levels, unit, free, 1.2)
    assert levels == pytest.approx([0.6, 0.5])  # trend +0.2 a period; lever 0 moves
    # The objective rose after the move, but by less than the trend: the move is undone,
    # that lever turns round, and nothing else moves this review.
    levels = climb.review(levels, unit, free, 1.3)
    assert levels == pytest.approx([0.5, 0.5])
    assert climb.directions == [-1.0, 1.0]
    # Two fresh periods at the restored levels give the next trend, even a falling one.
    levels = climb.review(levels, unit, free, 0.9)
    assert levels == pytest.approx([0.5, 0.5])
    levels = climb.review(levels, unit, free, 0.8)
    assert levels == pytest.approx([0.5, 0.6])
    assert (climb.before, climb.trend) == pytest.approx((0.8, -0.1))
    levels = climb.review(levels, unit, free, 0.75)  # fell, but less than the trend: kept
    assert levels == pytest.approx([0.5, 0.6])
    assert climb.directions == [-1.0, 1.0]


def test_a_trend_alone_never_carries_a_lever_away_from_its_optimum():
    # The objective grows by 0.1 a period whatever the levers; lever 0 is best at 0.5.
    # Judged against the period before without the trend, every move would look good.
    periods = iter(range(1000))

    def f(x):
        return 0.1 * next(periods) - (x[0] - 0.5) ** 2 - (x[1] - 0.5) ** 2

    climb, levels, farthest = HillClimb(step=0.05), [0.5, 0.5], 0.0
    for _ in range(120):
        levels = climb.review(levels, [(0.0, 1.0)] * 2, [False, False], f(levels))
        farthest = max(farthest, *(abs(x - 0.5) for x in levels))
    assert farthest == pytest.approx(0.05)  # one step out, and straight back


def test_climb_keeps_climbing_after_a_shock_lowers_the_objective_for_good():
    # A shock at review 10 lowers the objective by more than any move can win back. Judged
    # against the objective from before the shock, every later move would be undone.
    reviews = iter(range(1000))

    def f(x):
        shock = 0.5 if next(reviews) >= 10 else 0.0
        return -((x[0] - 0.8) ** 2) - (x[1] - 0.3) ** 2 - shock

    levels = _climb(f, [0.2, 0.9], reviews=160)
    assert levels[0] == pytest.approx(0.8, abs=0.1)
    assert levels[1] == pytest.approx(0.3, abs=0.1)


def test_climb_respects_bounds_and_pins():
    def f(x):
        return x[0] + x[1]

    levels = _climb(f, [0.5, 0.5], bounds=((0.2, 0.7), (0.0, 1.0)), pinned=(False, True))
    assert levels[1] == 0.5
    assert 0.2 <= levels[0] <= 0.7
    # It climbs to the bound and keeps probing one step below it.
    assert levels[0] >= 0.7 - 0.05 - 1e-9


def test_climb_is_deterministic_given_the_observations():
    def f(x):
        return float(np.sin(3 * x[0]) + np.cos(2 * x[1]))

    assert _climb(f, [0.1, 0.1]) == _climb(f, [0.1, 0.1])
