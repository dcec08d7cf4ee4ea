"""The fused kernels: numba and numpy bodies give the same bits, and both give what the
mechanism functions they fuse give."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from sim import accel
from sim.kernels import access as fused_access
from sim.kernels import demand as fused_demand
from sim.kernels import learning as fused_learning
from sim.kernels import risk as fused_risk
from sim.kernels import totals as fused_totals
from sim.kernels.demand import DemandTerms
from sim.kernels.learning import LearningTerms, Stocks
from sim.mechanisms import access, demand, diffusion, distillation
from sim.mechanisms.demand import FOREIGN, RESELLER

needs_numba = pytest.mark.skipif(not accel.numba_installed(), reason="numba not installed")
BOTH = [False, pytest.param(True, marks=needs_numba)]

N = 4000


@pytest.fixture
def rng():
    return np.random.default_rng(20261127)


# ---------------------------------------------------------------- access


def _access_inputs(rng, n=N):
    return dict(
        month=7,
        approved=rng.random(n) < 0.7,
        restricted=rng.random(n) < 0.3,
        barred=rng.random(n) < 0.1,
        suspended_until=rng.integers(-1, 12, n),
        blocked_until=rng.integers(-1, 12, n),
        terminated=rng.random(n) < 0.05,
        channel_open=rng.random(n) < 0.9,
        evade=rng.random(n),
        kyc=rng.choice([0.0, 0.4, 0.6, 1.0], n),
        draw=rng.random(n),
    )


@pytest.mark.parametrize("compiled", BOTH)
def test_a_terminated_firm_reaches_the_channel_by_no_route(rng, compiled):
    inputs = _access_inputs(rng)
    n = inputs["draw"].size
    inputs.update(
        restricted=np.arange(n) % 2 == 0,
        approved=np.ones(n, dtype=bool),
        barred=np.zeros(n, dtype=bool),
        suspended_until=np.full(n, -1),
        blocked_until=np.full(n, -1),
        channel_open=np.ones(n, dtype=bool),
        evade=np.ones(n),
        kyc=np.zeros(n),
        draw=np.zeros(n),  # every restricted firm would get through a shell
    )
    direct, evading = fused_access.routes(**inputs, compiled=compiled)
    gone = inputs["terminated"]
    assert gone.any() and (gone & inputs["restricted"]).any()
    assert not (direct | evading)[gone].any()
    np.testing.assert_array_equal(direct | evading, ~gone)


@pytest.mark.parametrize("compiled", BOTH)
def test_routes_are_the_access_mechanisms(rng, compiled):
    inputs = _access_inputs(rng)
    direct, evading = fused_access.routes(**inputs, compiled=compiled)
    t = inputs["month"]
    expected_direct = access.foreign_access(
        inputs["approved"],
        inputs["restricted"],
        inputs["suspended_until"] >= t,
        inputs["terminated"],
        inputs["channel_open"],
        inputs["barred"],
    )
    expected_evading = access.reseller_access(
        inputs["restricted"],
        (inputs["blocked_until"] >= t) | inputs["terminated"],
        inputs["channel_open"],
        inputs["barred"],
        inputs["evade"],
        inputs["kyc"],
        inputs["draw"],
    )
    np.testing.assert_array_equal(direct, expected_direct)
    np.testing.assert_array_equal(evading, expected_evading)
    assert direct.any() and evading.any() and not direct.all()


# ---------------------------------------------------------------- demand


def _terms(rng) -> DemandTerms:
    return DemandTerms(
        log_q_served=float(np.log(1.3)),
        log_q_domestic=float(np.log(0.9)),
        log_p_served=float(np.log(4.0)),
        log_p_domestic=float(np.log(0.6)),
        log_p_inhouse=float(np.log(0.6 * 1.5)),
        price_weight=0.8,
        risk_weight=3.0,
        withdrawal_risk=0.07,
        disapproval=0.2,
        penalty=0.35,
        asc_foreign=0.4,
        asc_reseller=-0.3,
        asc_domestic=0.9,
        asc_inhouse=-1.1,
    )


def _demand_inputs(rng, n=N):
    direct = rng.random(n) < 0.5
    evading = ~direct & (rng.random(n) < 0.4)
    return dict(
        capability=rng.uniform(0.0, 1.2, n),
        narrow=rng.uniform(0.0, 0.8, n),
        p_reseller=rng.choice([4.0 * 1.3 * 1.6, 4.0 * 1.3 * 2.0], n),
        quality_weight=rng.uniform(0.5, 2.5, n),
        perceived=rng.uniform(0.0, 0.3, n),
        direct=direct,
        evading=evading,
        # Rows whose cap binds, with and without onshore shares to receive the excess.
        cap=np.where(rng.random(n) < 0.3, rng.uniform(0.0, 0.5, n), 1.0),
        budget0=rng.pareto(1.3, n) * 1e5,
        proxy_cost=np.where(rng.random(n) < 0.1, rng.uniform(0.0, 3e5, n), 0.0),
        spend_total=np.asfortranarray(rng.uniform(0.0, 1e6, (n, 4))),
    )


def _fused_demand(terms, x, compiled):
    q = fused_demand.inhouse_quality(x["capability"], x["narrow"], 1.25, 0.4, compiled)
    gaps = fused_demand.utility_gaps(
        terms,
        np.log(q),
        np.log(x["p_reseller"]),
        x["quality_weight"],
        x["perceived"],
        x["direct"],
        x["evading"],
        compiled,
    )
    np.exp(gaps, out=gaps)
    spend_total = x["spend_total"].copy(order="F")
    out = fused_demand.spend_from_weights(
        gaps,
        x["direct"],
        x["evading"],
        x["cap"],
        x["budget0"],
        1.7,
        x["proxy_cost"],
        4.0,
        x["p_reseller"],
        spend_total,
        compiled,
    )
    return (q, *out, spend_total)


@needs_numba
def test_demand_kernels_compiled_and_numpy_give_the_same_bits(rng):
    terms, x = _terms(rng), _demand_inputs(rng)
    for a, b in zip(_fused_demand(terms, x, False), _fused_demand(terms, x, True), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("compiled", BOTH)
def test_one_reseller_price_for_all_is_each_customer_paying_it(rng, compiled):
    terms, x = _terms(rng), _demand_inputs(rng)
    price = float(x["p_reseller"][0])
    everyone = _fused_demand(terms, dict(x, p_reseller=np.full(N, price)), compiled)
    one = _fused_demand(terms, dict(x, p_reseller=np.array([price])), compiled)
    for a, b in zip(everyone, one, strict=True):
        np.testing.assert_array_equal(a, b)
    assert (one[1][:, RESELLER] > 0).any()  # the reseller's price was used


@pytest.mark.parametrize("compiled", BOTH)
def test_demand_kernels_are_the_demand_mechanisms(rng, compiled):
    terms, x = _terms(rng), _demand_inputs(rng)
    n = x["capability"].size
    q_inhouse, spend, tokens, receipts, margin, spend_total = _fused_demand(terms, x, compiled)

    own = distillation.own_use_quality(x["capability"], x["narrow"], 1.25, 0.4)
    np.testing.assert_array_equal(q_inhouse, np.maximum(own, 1e-12))
    quality = np.column_stack([np.full(n, 1.3), np.full(n, 1.3), np.full(n, 0.9), own])
    price = np.column_stack(
        [np.full(n, 4.0), x["p_reseller"], np.full(n, 0.6), np.full(n, 0.6 * 1.5)]
    )
    cutoff = x["perceived"] + terms.withdrawal_risk
    risk = np.zeros((n, 4))
    risk[:, FOREIGN] = terms.disapproval + cutoff
    risk[:, RESELLER] = terms.disapproval + cutoff + terms.penalty
    asc = np.array([0.4, -0.3, 0.9, -1.1])
    utility = demand.utilities(quality, price, risk, asc, x["quality_weight"], 0.8, 3.0)
    available = np.ones((n, 4), dtype=bool)
    available[:, FOREIGN] = x["direct"]
    available[:, RESELLER] = x["evading"]
    shares = demand.cap_offshore(
        demand.choice_shares(utility, available), [FOREIGN, RESELLER], x["cap"]
    )
    budget = np.maximum(x["budget0"] * 1.7 - x["proxy_cost"], 0.0)
    expected = budget[:, None] * shares
    np.testing.assert_array_equal(spend, expected)
    np.testing.assert_array_equal(spend_total, x["spend_total"] + expected)
    np.testing.assert_array_equal(
        tokens,
        expected[:, FOREIGN] / price[:, FOREIGN] * 1e6
        + expected[:, RESELLER] / price[:, RESELLER] * 1e6,
    )
    at_list = expected[:, RESELLER] * price[:, FOREIGN] / price[:, RESELLER]
    np.testing.assert_array_equal(receipts, expected[:, FOREIGN] + at_list)
    np.testing.assert_array_equal(margin, expected[:, RESELLER] - at_list)
    # The inputs reach every branch: caps that bind, both unavailable options, no budget.
    assert (shares[:, FOREIGN] + shares[:, RESELLER] < x["cap"] - 1e-9).any()
    capped = np.isclose(shares[:, FOREIGN] + shares[:, RESELLER], x["cap"], rtol=1e-12)
    assert (capped & (x["cap"] < 1.0)).sum() > 50
    assert (spend[~x["direct"], FOREIGN] == 0).all() and (budget == 0).any()
    assert spend.flags.f_contiguous


# ---------------------------------------------------------------- learning


def _learning_case(rng, n=N):
    rows = rng.integers(0, n, 3 * n)
    cols = rng.integers(0, n, 3 * n)
    keep = rows != cols
    a = sp.coo_array(
        (np.ones(2 * keep.sum()), (np.r_[rows[keep], cols[keep]], np.r_[cols[keep], rows[keep]])),
        shape=(n, n),
    ).tocsr()
    a.data[:] = 1.0
    weights = diffusion.row_normalised(a)
    has_neighbours = np.diff(a.indptr) > 0
    samples = np.where(rng.random(n) < 0.2, rng.uniform(0, 3e6, n), 0.0)
    received = np.where(rng.random(n) < 0.5, rng.uniform(0, 1e5, n), 0.0)
    own = rng.uniform(0.2, 1.1, n)
    state = Stocks(
        samples,
        received,
        own,
        rng.uniform(0, 3, n) * (rng.random(n) < 0.5),
        own.copy(),
        np.zeros(n),
    )
    return weights, has_neighbours, state


def _copy(state: Stocks) -> Stocks:
    return Stocks(*(a.copy() for a in state))


@pytest.mark.parametrize("teacher", [1.2, 0.0])
@pytest.mark.parametrize("compiled", BOTH)
def test_learning_kernel_is_the_learning_mechanisms(rng, compiled, teacher):
    weights, has_neighbours, state = _learning_case(rng)
    assert not has_neighbours.all()  # some isolated customers
    t = LearningTerms(
        rate=0.15,
        own_growth=0.02,
        frontier=1.25,
        teacher=teacher,
        growth=0.03,
        broad_ceiling=0.2,
        broad_half=1e6,
        narrow_ceiling=0.6,
        narrow_half=3e4,
    )
    before = _copy(state)
    stock = fused_learning.learn(t, state, weights, has_neighbours, compiled)

    received = before.received + diffusion.received_samples(
        weights, before.samples + before.received, t.rate, has_neighbours
    )
    own = np.minimum(t.frontier, before.own * (1.0 + t.own_growth))
    expected_stock = before.samples + received
    lead = distillation.months_behind(t.teacher, own, t.growth)
    head = distillation.head_start(
        before.head_start, expected_stock, lead, t.broad_ceiling, t.broad_half
    )
    np.testing.assert_array_equal(state.received, received)
    np.testing.assert_array_equal(state.own, own)
    np.testing.assert_array_equal(stock, expected_stock)
    np.testing.assert_array_equal(state.head_start, head)
    np.testing.assert_array_equal(
        state.capability,
        np.minimum(t.frontier, distillation.with_head_start(own, head, t.growth)),
    )
    np.testing.assert_array_equal(
        state.narrow,
        distillation.narrow_closure(expected_stock, t.narrow_ceiling, t.narrow_half),
    )
    np.testing.assert_array_equal(state.samples, before.samples)
    assert (received > before.received).any()
    assert (head > before.head_start).any() == (teacher > 0)


@needs_numba
def test_learning_kernel_compiled_and_numpy_give_the_same_bits(rng):
    weights, has_neighbours, state = _learning_case(rng)
    t = LearningTerms(0.2, 0.01, 1.3, 1.1, 0.025, 0.25, 8e5, 0.5, 2e4)
    a, b = _copy(state), _copy(state)
    for _ in range(3):  # a few months, so each feeds the next
        sa = fused_learning.learn(t, a, weights, has_neighbours, False)
        sb = fused_learning.learn(t, b, weights, has_neighbours, True)
        np.testing.assert_array_equal(sa, sb)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


# ---------------------------------------------------------------- totals

# Lengths around numpy's pairwise blocks (8 lanes, 128 values, halving) and the model's sizes.
LENGTHS = [0, 1, 7, 8, 9, 127, 128, 129, 257, 1000, 8193, 100_000, 123_457]


def _summands(rng, n, count=3):
    """Values spread over many magnitudes and signs, so that the order of additions shows."""
    return [rng.standard_normal(n) * np.exp(rng.standard_normal(n) * 8) for _ in range(count)]


@needs_numba
@pytest.mark.parametrize("n", LENGTHS)
def test_compiled_totals_are_numpys_sums_bit_for_bit(rng, n):
    arrays = _summands(rng, n)
    spend = np.asfortranarray(rng.standard_normal((n, 4)) * 1e6)  # the month's spend columns
    arrays += [spend[:, option] for option in range(4)]
    expected = [float(a.sum()) for a in arrays]
    assert fused_totals.totals(arrays, compiled=True) == expected
    assert fused_totals.totals(arrays, compiled=False) == expected
    assert spend.sum(axis=0).tolist() == expected[-4:]


@needs_numba
@pytest.mark.parametrize("n", LENGTHS[1:])
def test_totals_of_arrays_zero_outside_known_rows_read_only_those_rows_blocks(rng, n):
    rows = np.sort(rng.choice(n, max(1, n // 400), replace=False))
    arrays = [np.zeros(n) for _ in range(3)]
    for a in arrays:
        a[rows] = rng.standard_normal(rows.size) * np.exp(rng.standard_normal(rows.size) * 8)
    expected = [float(a.sum()) for a in arrays]
    assert fused_totals.totals(arrays, compiled=True, rows=rows) == expected
    # a value outside the rows is not read: the rows are a promise the caller keeps
    outside = np.setdiff1d(np.arange(n), rows)
    if outside.size and n > fused_totals.BLOCK:
        far = outside[np.abs(outside[:, None] - rows[None, :]).min(axis=1) > fused_totals.BLOCK]
        if far.size:
            arrays[0][far[0]] = 1.0
            assert fused_totals.totals(arrays, compiled=True, rows=rows)[0] == expected[0]


@needs_numba
def test_totals_refuse_arrays_of_other_lengths_and_take_read_only_ones(rng):
    a, b = _summands(rng, 1000, 2)
    with pytest.raises(ValueError, match="one length"):
        fused_totals.totals([a, b[:500]], compiled=True)
    b.flags.writeable = False
    assert fused_totals.totals([a, b], compiled=True) == [float(a.sum()), float(b.sum())]


@pytest.mark.parametrize("compiled", BOTH)
@pytest.mark.parametrize("k", [1, 3])
def test_group_sums_are_bincounts_bit_for_bit(rng, compiled, k):
    groups = rng.integers(0, k, 50_000).astype(np.intp)
    weights = _summands(rng, groups.size, 1)[0]
    expected = np.bincount(groups, weights=weights, minlength=k)
    got = fused_totals.group_sums(groups, weights, k, compiled)
    np.testing.assert_array_equal(got, expected)
    if k == 1:  # one group: the weights added in row order from zero, not pairwise
        running = 0.0
        for w in weights.tolist():
            running += w
        assert got[0] == running


def _accounts(rng, n=N):
    tokens = np.where(rng.random(n) < 0.7, rng.exponential(1e6, n), 0.0)
    return tokens, rng.random(n), rng.choice([0.0, 0.004, 0.3], n)


@pytest.mark.parametrize("compiled", BOTH)
def test_account_flags_fall_on_users_at_their_false_positive_rate(rng, compiled):
    tokens, draw, p_fp = _accounts(rng)
    using, flagged, risk = fused_risk.account_flags(tokens, draw, p_fp, compiled)
    np.testing.assert_array_equal(using, tokens > 0)
    np.testing.assert_array_equal(flagged, (tokens > 0) & (draw < p_fp))
    np.testing.assert_array_equal(risk, np.where(tokens > 0, p_fp, 0.0))
    assert flagged.any() and (using & ~flagged).any()


@pytest.mark.parametrize("compiled", BOTH)
def test_remembered_risk_is_the_memory_update_bit_for_bit(rng, compiled):
    state, signal = rng.random(N), rng.random(N) * (rng.random(N) < 0.3)
    expected = 0.8 * state + (1.0 - 0.8) * signal
    fused_risk.remember(state, signal, 0.8, compiled)
    np.testing.assert_array_equal(state, expected)


@needs_numba
def test_compiled_kernels_give_the_same_bits_on_one_thread_and_on_several(rng):
    import numba

    weights, has_neighbours, state = _learning_case(rng)
    t = LearningTerms(0.2, 0.01, 1.3, 1.1, 0.025, 0.25, 8e5, 0.5, 2e4)
    terms, x, reach = _terms(rng), _demand_inputs(rng), _access_inputs(rng)
    results = []
    threads = numba.get_num_threads()
    try:
        for count in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(count)
            learnt = _copy(state)
            stock = fused_learning.learn(t, learnt, weights, has_neighbours, True)
            routes = fused_access.routes(**reach, compiled=True)
            sums = np.array(fused_totals.totals(_summands(np.random.default_rng(1), N), True))
            risk = np.random.default_rng(3).random(N)
            fused_risk.remember(risk, np.random.default_rng(4).random(N), 0.7, True)
            flags = fused_risk.account_flags(*_accounts(np.random.default_rng(5)), True)
            results.append(
                (stock, *learnt, *_fused_demand(terms, x, True), *routes, sums, risk, *flags)
            )
    finally:
        numba.set_num_threads(threads)
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)
    assert (results[0][2] > state.received).any()  # diffusion happened


# ---------------------------------------------------------------- choice of kernels


def test_kernel_choice_reads_the_environment(monkeypatch):
    monkeypatch.setenv(accel.ENV, "numpy")
    assert not accel.use_numba(10**7)
    monkeypatch.setenv(accel.ENV, "auto")
    assert not accel.use_numba(accel.MIN_CUSTOMERS - 1)
    assert accel.use_numba(accel.MIN_CUSTOMERS) == accel.numba_installed()
    monkeypatch.delenv(accel.ENV)
    assert accel.mode() == "auto"


def test_a_bad_kernel_choice_is_refused_with_the_allowed_values(monkeypatch):
    from sim.model import MarketModel

    monkeypatch.setenv(accel.ENV, "fortran")
    with pytest.raises(ValueError, match=r"SIM_KERNELS = 'fortran'.*auto, numpy, numba"):
        MarketModel(**{"customers.n": 50, "international.n": 5, "horizon": 2})


def test_numba_required_but_missing_is_refused(monkeypatch):
    monkeypatch.setenv(accel.ENV, "numba")
    monkeypatch.setattr(accel, "numba_installed", lambda: False)
    with pytest.raises(ValueError, match="numba is not installed"):
        accel.use_numba(10)


@pytest.mark.parametrize(("preset", "expected"), [(None, "PASSIVE"), ("active", "active")])
def test_openmp_threads_sleep_between_loops_unless_the_user_says_otherwise(preset, expected):
    # Spinning threads made a large run 2-10x slower whenever another process held a core.
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if preset is not None:
        env["OMP_WAIT_POLICY"] = preset
    code = "import os, sim.model; print(os.environ['OMP_WAIT_POLICY'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == expected, out.stderr
