"""Edge cases of the mechanisms that mutation testing showed no other test pinned.

Each test asserts behaviour a plausible slip in the code would change (an inequality made
non-strict, a sign flipped, a reset forgotten); the survivors they kill are listed in
scripts/mutation.sh.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.mechanisms.safeguards import HillClimb

FREE2 = [False, False]
UNIT2 = [(0.0, 1.0), (0.0, 1.0)]


def _first_move(climb, levels, bounds=UNIT2, pinned=FREE2, current=1.0):
    """Two steady periods, then the first move."""
    assert climb.review(levels, bounds, pinned, current) == levels
    return climb.review(levels, bounds, pinned, current)


def test_a_move_that_leaves_the_objective_unchanged_is_kept():
    climb = HillClimb(step=0.1)
    levels = _first_move(climb, [0.5, 0.5])
    assert levels == [0.6, 0.5]
    levels = climb.review(levels, UNIT2, FREE2, 1.0)  # no worse than the trend: kept
    assert levels == pytest.approx([0.6, 0.5])
    levels = climb.review(levels, UNIT2, FREE2, 1.0)  # two steady periods: the other moves
    assert levels == pytest.approx([0.6, 0.6])
    assert climb.directions == [1.0, 1.0]


def test_with_every_lever_pinned_nothing_moves_review_after_review():
    climb = HillClimb(step=0.1)
    pinned = [True, True]
    levels = [0.3, 0.7]
    for current in (1.0, 0.5, 0.2, 0.9):  # falling objectives would undo a last move
        levels = climb.review(levels, UNIT2, pinned, current)
        assert levels == [0.3, 0.7]
    assert climb.last_move is None


def test_levers_take_turns_in_order():
    climb = HillClimb(step=0.1)
    levels = [0.5, 0.5, 0.5]
    moved = []
    for _ in range(13):
        new = climb.review(levels, [(0.0, 1.0)] * 3, [False] * 3, 1.0)
        if new != levels:
            moved.append(next(i for i in range(3) if new[i] != levels[i]))
        levels = new
    assert moved == [0, 1, 2, 0, 1, 2]  # a move every second review while moves are kept


def test_a_lever_at_its_bound_turns_back():
    climb = HillClimb(step=0.1)
    levels = _first_move(climb, [1.0, 0.5], pinned=[False, True])
    assert levels == pytest.approx([0.9, 0.5])
    assert climb.directions[0] == -1.0


def test_a_lever_with_no_room_is_never_moved_or_judged():
    # Bounds [0.5, 0.5] leave no move (a KYC floor at its maximum): nothing to judge, so a
    # falling objective neither undoes anything nor turns the lever round.
    climb = HillClimb(step=0.1)
    bounds, pinned = [(0.5, 0.5), (0.0, 1.0)], [False, True]
    levels = _first_move(climb, [0.5, 0.5], bounds=bounds, pinned=pinned)
    for current in (0.9, 0.8, 0.7, 0.6):
        levels = climb.review(levels, bounds, pinned, current)
        assert levels == [0.5, 0.5]
    assert climb.directions[0] == 1.0
    assert climb.last_move is None


def test_an_undone_move_restores_the_level_before_it_within_the_present_bounds():
    climb = HillClimb(step=0.1)
    climb.directions = [-1.0, 1.0]
    levels = _first_move(climb, [0.6, 0.5], pinned=[False, True])
    assert levels == pytest.approx([0.5, 0.5])
    # A duty then floors the lever at 0.9; the move did worse than the trend: undone to the
    # level before it (0.6), which the new bounds lift to 0.9, not one step above the floor.
    levels = climb.review([0.9, 0.5], [(0.9, 1.0), (0.0, 1.0)], [False, True], 0.5)
    assert levels == pytest.approx([0.9, 0.5])
    assert climb.directions[0] == 1.0


def test_forgetting_drops_the_pending_move_and_the_measurements():
    climb = HillClimb(step=0.1)
    levels = _first_move(climb, [0.5, 0.5])
    assert levels == pytest.approx([0.6, 0.5])
    climb.forget()  # e.g. adaptation switched off for a while
    levels = climb.review(levels, UNIT2, FREE2, 0.1)  # far below: no pending move to undo
    assert levels == pytest.approx([0.6, 0.5])
    assert climb.directions == [1.0, 1.0]


def test_two_accounts_already_make_a_network_that_can_be_linked():
    from sim.mechanisms.detection import network_linking

    p = network_linking(np.array([1.0, 2.0]), np.array([0.5, 0.5]), 4.6, 2000.0)
    assert p[0] == 0.0
    assert p[1] == pytest.approx((1 - np.exp(-2.3)) * 2 / 2002, rel=1e-12)


def test_a_suspension_drawn_at_the_very_edge_of_the_uniform_is_still_finite():
    from sim.mechanisms.detection import suspension_length

    lengths = suspension_length(np.array([1, 1]), 3.0, 2.0, np.array([0.0, 0.5]))
    assert (lengths >= 1).all() and (lengths < 1000).all()
