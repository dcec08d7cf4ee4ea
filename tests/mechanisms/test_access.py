"""Access rules: the US restriction threshold, KYC approval, and evasion through resellers."""

from __future__ import annotations

import numpy as np
import pytest

from sim.mechanisms.access import (
    approved_mask,
    foreign_access,
    reseller_access,
    restricted_mask,
)

T, F = True, False


def test_rule_level_zero_restricts_only_restricted_sectors():
    scores = np.array([0.0, 0.5, 0.99, 1.0])
    none = np.zeros(4, dtype=bool)
    assert not restricted_mask(scores, 0.0, none).any()
    sector = np.array([F, T, F, T])
    np.testing.assert_array_equal(restricted_mask(scores, 0.0, sector), sector)


def test_rule_level_one_restricts_everyone():
    scores = np.array([0.0, 0.2, 0.5, 1.0])
    assert restricted_mask(scores, 1.0, np.zeros(4, dtype=bool)).all()
    assert restricted_mask(scores, 1.0, np.ones(4, dtype=bool)).all()


def test_threshold_is_strictly_above_one_minus_e():
    # e = 0.25 is exact in binary, so 1 - e = 0.75 exactly.
    just_below = np.nextafter(0.75, 0.0)
    just_above = np.nextafter(0.75, 1.0)
    scores = np.array([0.1, just_below, 0.75, just_above, 0.9, 1.0])
    got = restricted_mask(scores, 0.25, np.zeros(6, dtype=bool))
    np.testing.assert_array_equal(got, [F, F, F, T, T, T])


def test_threshold_or_sector():
    scores = np.array([0.1, 0.1, 0.9, 0.9])
    sector = np.array([F, T, F, T])
    got = restricted_mask(scores, 0.5, sector)
    np.testing.assert_array_equal(got, [F, T, T, T])


def test_approval_screen_u_at_least_kyc_times_intent():
    # kyc * intent = 0.5 * 0.5 = 0.25 exactly.
    established = np.ones(4, dtype=bool)
    u = np.array([0.0, np.nextafter(0.25, 0.0), 0.25, 0.9])
    intent = np.full(4, 0.5)
    kyc = np.full(4, 0.5)
    np.testing.assert_array_equal(
        approved_mask(established, u, intent, kyc, np.ones(len(u)), 0.0), [F, F, T, T]
    )


def test_approval_zero_intent_or_zero_kyc_always_passes_established():
    established = np.array([T, T, T, F])
    u = np.array([0.0, 0.0, 0.3, 0.99])
    intent = np.array([0.0, 1.0, 0.0, 0.0])
    kyc = np.array([1.0, 0.0, 1.0, 0.0])
    # Rows 0-2: threshold 0, u >= 0 passes. Row 3 is not established: never approved.
    np.testing.assert_array_equal(
        approved_mask(established, u, intent, kyc, np.ones(len(u)), 0.0), [T, T, T, F]
    )


def test_approval_full_kyc_full_intent_rejects_unless_draw_is_one():
    established = np.ones(3, dtype=bool)
    u = np.array([0.0, 0.5, np.nextafter(1.0, 0.0)])
    got = approved_mask(established, u, np.ones(3), np.ones(3), np.ones(3), 0.0)
    assert not got.any()


def test_foreign_access_all_conditions_met():
    got = foreign_access(
        np.array([T]), np.array([F]), np.array([F]), np.array([F]), np.array([T]), np.array([F])
    )
    np.testing.assert_array_equal(got, [T])


def test_foreign_access_each_blocking_condition_alone():
    # Row 0: everything fine. Rows 1-6: exactly one condition fails.
    approved = np.array([T, F, T, T, T, T, T])
    restricted = np.array([F, F, T, F, F, F, F])
    suspended = np.array([F, F, F, T, F, F, F])
    terminated = np.array([F, F, F, F, F, F, T])
    channel_open = np.array([T, T, T, T, F, T, T])
    barred = np.array([F, F, F, F, F, T, F])
    got = foreign_access(approved, restricted, suspended, terminated, channel_open, barred)
    np.testing.assert_array_equal(got, [T, F, F, F, F, F, F])


def test_kyc_turns_away_a_share_of_honest_applicants():
    # Honest (intent 0) established firms: rejected when w < kyc * false_reject.
    n = 100_000
    rng = np.random.default_rng(5)
    w = rng.random(n)
    ones = np.ones(n, dtype=bool)
    for kyc in (0.0, 0.5, 1.0):
        got = approved_mask(ones, np.ones(n), np.zeros(n), np.full(n, kyc), w, 0.05)
        assert 1 - got.mean() == pytest.approx(kyc * 0.05, abs=0.003)
    # The same firms are turned away at every level (fixed draws): stricter is a superset.
    loose = approved_mask(ones, np.ones(n), np.zeros(n), np.full(n, 0.5), w, 0.05)
    strict = approved_mask(ones, np.ones(n), np.zeros(n), np.full(n, 1.0), w, 0.05)
    assert not (strict & ~loose).any()


def _reseller(
    restricted, blocked=None, channel_open=None, barred=None, evade=None, kyc=None, draw=None
):
    n = len(restricted)
    return reseller_access(
        np.asarray(restricted, dtype=bool),
        np.zeros(n, dtype=bool) if blocked is None else np.asarray(blocked, dtype=bool),
        np.ones(n, dtype=bool) if channel_open is None else np.asarray(channel_open, dtype=bool),
        np.zeros(n, dtype=bool) if barred is None else np.asarray(barred, dtype=bool),
        np.ones(n) if evade is None else np.asarray(evade, dtype=float),
        np.zeros(n) if kyc is None else np.asarray(kyc, dtype=float),
        np.zeros(n) if draw is None else np.asarray(draw, dtype=float),
    )


def test_reseller_nobody_unrestricted_evades():
    # Certain success (evade 1, kyc 0, draw 0) still needs a restriction to bother.
    got = _reseller([F, F, F], evade=[1.0, 1.0, 1.0], kyc=[0.0, 0.0, 0.0], draw=[0.0, 0.0, 0.0])
    assert not got.any()
    got = _reseller([T, F], draw=[0.0, 0.0])
    np.testing.assert_array_equal(got, [T, F])


def test_reseller_full_kyc_stops_everyone():
    rng = np.random.default_rng(1)
    n = 1000
    got = _reseller(np.ones(n, dtype=bool), evade=np.ones(n), kyc=np.ones(n), draw=rng.random(n))
    assert not got.any()
    # Draw exactly 0 is the most favourable draw: threshold 1 * (1 - 1) = 0, 0 < 0 is false.
    assert not _reseller([T], evade=[1.0], kyc=[1.0], draw=[0.0]).any()


def test_reseller_blocked_customers_do_not_evade():
    got = _reseller([T, T], blocked=[T, F], draw=[0.0, 0.0])
    np.testing.assert_array_equal(got, [F, T])


def test_reseller_closed_channel_or_barred_do_not_evade():
    got = _reseller([T, T, T], channel_open=[F, T, T], barred=[F, T, F], draw=[0.0] * 3)
    np.testing.assert_array_equal(got, [F, F, T])


def test_reseller_draw_threshold_is_evade_times_one_minus_kyc():
    # evade 0.5 * (1 - kyc 0.5) = 0.25 exactly; success needs draw < 0.25 (strict).
    draw = np.array([0.0, 0.1, np.nextafter(0.25, 0.0), 0.25, 0.5, 0.99])
    n = len(draw)
    got = _reseller(np.ones(n, dtype=bool), evade=np.full(n, 0.5), kyc=np.full(n, 0.5), draw=draw)
    np.testing.assert_array_equal(got, [T, T, T, F, F, F])


def test_reseller_threshold_per_customer():
    # Thresholds: 0.8*(1-0)=0.8, 0.8*(1-0.75)=0.2, 0.0*(1-0)=0.
    evade = [0.8, 0.8, 0.0]
    kyc = [0.0, 0.75, 0.0]
    got = _reseller([T, T, T], evade=evade, kyc=kyc, draw=[0.5, 0.5, 0.0])
    np.testing.assert_array_equal(got, [T, F, F])


def test_reseller_success_rate_matches_probability():
    # With uniform draws the share that evades approaches evade * (1 - kyc) = 0.6 * 0.5 = 0.3.
    rng = np.random.default_rng(123)
    n = 200_000
    got = _reseller(
        np.ones(n, dtype=bool), evade=np.full(n, 0.6), kyc=np.full(n, 0.5), draw=rng.random(n)
    )
    # Binomial sd = sqrt(0.3 * 0.7 / n) ~ 0.001; allow 5 sd.
    assert abs(got.mean() - 0.3) < 5 * np.sqrt(0.3 * 0.7 / n)
