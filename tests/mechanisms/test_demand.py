"""Demand: logit shares over available options, utilities, and the offshore cap."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.mechanisms.demand import (
    DOMESTIC,
    FOREIGN,
    INHOUSE,
    OPTIONS,
    RESELLER,
    cap_offshore,
    choice_shares,
    utilities,
)

T, F = True, False


def test_option_indices_match_names():
    assert OPTIONS[FOREIGN] == "foreign"
    assert OPTIONS[RESELLER] == "reseller"
    assert OPTIONS[DOMESTIC] == "domestic"
    assert OPTIONS[INHOUSE] == "inhouse"


# ---------------------------------------------------------------- choice_shares


def test_shares_sum_to_one_over_available_and_zero_elsewhere():
    rng = np.random.default_rng(0)
    u = rng.normal(0.0, 3.0, (50, 4))
    available = rng.random((50, 4)) < 0.6
    available[:, DOMESTIC] = True  # at least one option per row
    s = choice_shares(u, available)
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert (s[~available] == 0.0).all()
    assert (s[available] > 0.0).all()


def test_single_available_option_gets_everything():
    u = np.array([[5.0, -3.0, 0.0, 100.0], [0.0, 0.0, 0.0, 0.0]])
    available = np.array([[F, T, F, F], [F, F, F, T]])
    s = choice_shares(u, available)
    np.testing.assert_array_equal(s, [[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])


def test_row_with_nothing_available_is_all_zeros():
    u = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    available = np.array([[F, F, F], [T, T, F]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = choice_shares(u, available)
    np.testing.assert_array_equal(s[0], [0.0, 0.0, 0.0])
    assert np.isfinite(s).all()
    assert s[1].sum() == pytest.approx(1.0)


def test_two_option_shares_by_hand():
    # u = (0, ln 3): exp weights 1 and 3 -> shares 1/4 and 3/4.
    u = np.array([[0.0, math.log(3.0)]])
    s = choice_shares(u, np.array([[T, T]]))
    np.testing.assert_allclose(s, [[0.25, 0.75]], rtol=1e-12)


def test_three_option_shares_by_hand_with_one_unavailable():
    # Options with u = ln1, ln2, ln5 (weights 1, 2, 5) plus an unavailable fourth with huge u.
    u = np.array([[0.0, math.log(2.0), math.log(5.0), 50.0]])
    s = choice_shares(u, np.array([[T, T, T, F]]))
    np.testing.assert_allclose(s, [[1 / 8, 2 / 8, 5 / 8, 0.0]], rtol=1e-12)


def test_three_option_shares_formula():
    u = np.array([[0.3, -1.2, 2.0]])
    w = [math.exp(0.3), math.exp(-1.2), math.exp(2.0)]
    expected = [x / sum(w) for x in w]
    s = choice_shares(u, np.ones((1, 3), dtype=bool))
    np.testing.assert_allclose(s[0], expected, rtol=1e-12)


def test_invariant_to_adding_a_constant_per_row():
    rng = np.random.default_rng(5)
    u = rng.normal(size=(20, 4))
    available = rng.random((20, 4)) < 0.7
    available[:, 0] = True
    shift = rng.normal(0.0, 50.0, (20, 1))
    np.testing.assert_allclose(
        choice_shares(u + shift, available), choice_shares(u, available), rtol=1e-10, atol=1e-15
    )


def test_no_overflow_for_large_utilities():
    u = np.array([[1000.0, 1000.0 + math.log(3.0)], [1000.0, -1000.0], [-1000.0, -1000.0]])
    with np.errstate(over="raise", invalid="raise"):
        s = choice_shares(u, np.ones((3, 2), dtype=bool))
    assert np.isfinite(s).all()
    np.testing.assert_allclose(s[0], [0.25, 0.75], rtol=1e-9)
    np.testing.assert_allclose(s[1], [1.0, 0.0], atol=1e-300)
    np.testing.assert_allclose(s[2], [0.5, 0.5], rtol=1e-12)


def test_higher_utility_gets_higher_share():
    u = np.array([[0.0, 1.0, 2.0, 3.0]])
    s = choice_shares(u, np.ones((1, 4), dtype=bool))[0]
    assert s[0] < s[1] < s[2] < s[3]


# ---------------------------------------------------------------- utilities


def test_utilities_by_hand():
    e = math.e
    # Customer 0: bq = 2; customer 1: bq = 0.5. Two options.
    quality = np.array([[e, 1.0], [e**2, e]])  # log q: [[1, 0], [2, 1]]
    price = np.array([[e**2, e], [1.0, e**3]])  # log p: [[2, 1], [0, 3]]
    risk = np.array([[0.0, 0.5], [1.0, 0.0]])
    asc = np.array([0.3, -1.0])
    bq = np.array([2.0, 0.5])
    bp, br = 0.6, 3.0
    got = utilities(quality, price, risk, asc, bq, bp, br)
    expected = np.array(
        [
            [2.0 * 1 - 0.6 * 2 - 3.0 * 0.0 + 0.3, 2.0 * 0 - 0.6 * 1 - 3.0 * 0.5 - 1.0],
            [0.5 * 2 - 0.6 * 0 - 3.0 * 1.0 + 0.3, 0.5 * 1 - 0.6 * 3 - 3.0 * 0.0 - 1.0],
        ]
    )
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_utilities_shape_and_directions():
    n = 3
    base = dict(
        quality=np.ones((n, 4)),
        price=np.ones((n, 4)),
        risk=np.zeros((n, 4)),
        asc=np.zeros(4),
        quality_weight=np.ones(n),
        price_weight=1.0,
        risk_weight=1.0,
    )
    u0 = utilities(**base)
    assert u0.shape == (n, 4)
    np.testing.assert_array_equal(u0, 0.0)  # log 1 = 0, no risk, no constant
    better = dict(base, quality=np.full((n, 4), 2.0))
    assert (utilities(**better) > u0).all()
    dearer = dict(base, price=np.full((n, 4), 2.0))
    assert (utilities(**dearer) < u0).all()
    riskier = dict(base, risk=np.full((n, 4), 0.2))
    assert (utilities(**riskier) < u0).all()


# ---------------------------------------------------------------- cap_offshore

OFF = [FOREIGN, RESELLER]


def test_rows_under_the_cap_are_unchanged():
    shares = np.array([[0.2, 0.1, 0.4, 0.3], [0.0, 0.0, 0.5, 0.5], [0.25, 0.25, 0.25, 0.25]])
    # Offshore sums 0.3, 0.0, 0.5; cap 0.5 binds none.
    out = cap_offshore(shares, OFF, 0.5)
    np.testing.assert_array_equal(out, shares)


def test_input_is_not_modified():
    shares = np.array([[0.6, 0.2, 0.1, 0.1]])
    before = shares.copy()
    cap_offshore(shares, OFF, 0.4)
    np.testing.assert_array_equal(shares, before)


def test_row_over_the_cap_ends_at_the_cap_split_in_proportion():
    # Offshore 0.6 + 0.2 = 0.8 over cap 0.4: scale 1/2 -> 0.3, 0.1.
    # Excess 0.4 goes onshore in proportion 0.15 : 0.05 (3 : 1) -> +0.3, +0.1.
    shares = np.array([[0.6, 0.2, 0.15, 0.05]])
    out = cap_offshore(shares, OFF, 0.4)
    np.testing.assert_allclose(out, [[0.3, 0.1, 0.45, 0.15]], rtol=1e-12, atol=1e-15)
    assert out[0, OFF].sum() == pytest.approx(0.4, rel=1e-14)
    assert out.sum() == pytest.approx(1.0, rel=1e-14)


def test_mixed_rows_only_over_rows_change():
    shares = np.array(
        [
            [0.1, 0.1, 0.4, 0.4],  # offshore 0.2 < 0.3: unchanged
            [0.5, 0.3, 0.1, 0.1],  # offshore 0.8 > 0.3
            [0.3, 0.0, 0.7, 0.0],  # offshore 0.3 == cap: unchanged
        ]
    )
    out = cap_offshore(shares, OFF, 0.3)
    np.testing.assert_array_equal(out[0], shares[0])
    np.testing.assert_array_equal(out[2], shares[2])
    # Row 1: scale 0.3/0.8 -> 0.1875, 0.1125; excess 0.5 split 1:1 -> 0.35, 0.35.
    np.testing.assert_allclose(out[1], [0.1875, 0.1125, 0.35, 0.35], rtol=1e-12)


def test_excess_split_equally_when_onshore_had_no_share():
    shares = np.array([[0.7, 0.3, 0.0, 0.0]])
    out = cap_offshore(shares, OFF, 0.6)
    # Scale 0.6 -> 0.42, 0.18; excess 0.4 split equally -> 0.2, 0.2.
    np.testing.assert_allclose(out, [[0.42, 0.18, 0.2, 0.2]], rtol=1e-12)


def test_cap_zero_sends_everything_onshore():
    shares = np.array([[0.5, 0.3, 0.2, 0.0], [1.0, 0.0, 0.0, 0.0], [0.1, 0.1, 0.2, 0.6]])
    out = cap_offshore(shares, OFF, 0.0)
    np.testing.assert_array_equal(out[:, OFF], 0.0)
    # Row 0: onshore 0.2 : 0.0 -> all 0.8 to domestic. Row 1: equal split.
    # Row 2: onshore 0.2 : 0.6 (1 : 3) gets 0.2 more -> 0.25, 0.75.
    np.testing.assert_allclose(
        out[:, [DOMESTIC, INHOUSE]], [[1.0, 0.0], [0.5, 0.5], [0.25, 0.75]], rtol=1e-12
    )


def test_cap_random_rows_properties():
    rng = np.random.default_rng(11)
    raw = rng.random((200, 4))
    raw[rng.random((200, 4)) < 0.2] = 0.0
    raw[:, DOMESTIC] += 1e-3
    shares = raw / raw.sum(axis=1, keepdims=True)
    cap = 0.35
    out = cap_offshore(shares, OFF, cap)
    off_in = shares[:, OFF].sum(axis=1)
    off_out = out[:, OFF].sum(axis=1)
    under = off_in <= cap
    np.testing.assert_array_equal(out[under], shares[under])
    np.testing.assert_allclose(off_out[~under], cap, rtol=1e-12)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-12)
    assert (out >= 0).all()
    # Offshore options keep their relative mix; onshore options keep theirs.
    over = ~under
    for cols in (OFF, [DOMESTIC, INHOUSE]):
        a, b = shares[over][:, cols], out[over][:, cols]
        ratio_in = a[:, 0] * b[:, 1]
        ratio_out = a[:, 1] * b[:, 0]
        np.testing.assert_allclose(ratio_in, ratio_out, rtol=1e-9, atol=1e-15)


def test_cap_per_customer():
    shares = np.array([[0.6, 0.1, 0.2, 0.1], [0.6, 0.1, 0.2, 0.1]])
    out = cap_offshore(shares, [0, 1], np.array([1.0, 0.35]))
    np.testing.assert_allclose(out[0], shares[0])
    assert out[1, :2].sum() == pytest.approx(0.35)
    np.testing.assert_allclose(out.sum(axis=1), 1.0)


# ---------------------------------------------------------------- international_shares


def test_international_split_by_hand():
    from sim.mechanisms.demand import international_shares

    bq, bp = 10.0, 0.6
    shares = international_shares(1.0, 4.0, 0.9, 1.0, np.array([False, True]), bq, bp, -1.5, -1.0)
    u_us = -bp * math.log(4.0)
    u_cn = bq * math.log(0.9) - 1.5
    u_else = math.log(math.exp(u_us) + math.exp(u_cn)) - 1.0
    e = np.exp([u_us, u_cn, u_else])
    np.testing.assert_allclose(shares[0], e / e.sum(), rtol=1e-12)
    # A barred buyer loses only the Chinese model on the catalogue; it buys US or elsewhere.
    assert shares[1, 1] == 0.0
    np.testing.assert_allclose(shares[1, [0, 2]], e[[0, 2]] / e[[0, 2]].sum(), rtol=1e-12)


def test_barring_moves_buyers_to_us_models_and_elsewhere():
    from sim.mechanisms.demand import international_shares

    free = international_shares(1.0, 4.0, 0.95, 1.0, np.zeros(1, bool), 10.0, 0.6, -1.5, -1.0)
    barred = international_shares(1.0, 4.0, 0.95, 1.0, np.ones(1, bool), 10.0, 0.6, -1.5, -1.0)
    assert barred[0, 0] > free[0, 0] and barred[0, 2] > free[0, 2]
