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


def _climb(f, start, reviews=80, pinned=(False, False), bounds=((0.0, 1.0), (0.0, 1.0))):
    climb = HillClimb(step=0.05)
    levels = list(start)
    for _ in range(reviews):
        levels = climb.review(levels, list(bounds), list(pinned), f(levels))
    return levels


def test_climb_finds_the_optimum_of_a_smooth_objective():
    def f(x):
        return -((x[0] - 0.8) ** 2) - (x[1] - 0.3) ** 2

    levels = _climb(f, [0.2, 0.9])
    assert levels[0] == pytest.approx(0.8, abs=0.1)
    assert levels[1] == pytest.approx(0.3, abs=0.1)


def test_climb_undoes_a_move_that_made_things_worse():
    climb = HillClimb(step=0.1)
    levels = climb.review([0.5, 0.5], [(0, 1), (0, 1)], [False, False], 1.0)
    assert levels == [0.6, 0.5]
    # The objective fell after the move: it is undone and the other lever moves.
    levels = climb.review(levels, [(0, 1), (0, 1)], [False, False], 0.5)
    assert levels[0] == pytest.approx(0.5)
    assert levels[1] == pytest.approx(0.6)


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
