"""Tests that pin the model's wiring: each fails if one link between mechanisms is cut.

Written against hand mutations (issue 11) and the survivors of mutation testing
(scripts/mutation.sh): every test here was seen to fail with its link cut, and each asserts
what the link produces in a run small enough to reason about by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_config

from sim.config import compose
from sim.mechanisms.demand import FOREIGN, RESELLER
from sim.model import MarketModel

NO_HARVESTERS = [f"customers.sectors.{s}.harvesters=0" for s in compose().customers.sectors]


def test_a_flag_raises_perceived_risk_beyond_the_chance_of_one():
    # Honest accounts are flagged with probability 0.5 this month: every user's memory takes
    # in at least that chance, and the flagged ones the flag itself (signal 1, not 0.5).
    model = MarketModel(
        small_config(
            "detection.false_positive_rate=0.5",
            "intermediaries.azure.monitoring0=1.0",
            "intermediaries.azure.adaptive=false",
            "distillation.risk_memory=0.7",
            *NO_HARVESTERS,
            "horizon=1",
        )
    )
    model.step()
    pop = model.population
    users = (pop.spend[:, FOREIGN] + pop.spend[:, RESELLER]) > 0  # tokens this month
    flagged = pop.suspension_count > 0
    assert (flagged & users).any() and (users & ~flagged).any()
    assert not (flagged & ~users).any()
    np.testing.assert_allclose(pop.perceived_risk[flagged], 0.3, rtol=1e-12)
    np.testing.assert_allclose(pop.perceived_risk[users & ~flagged], 0.15, rtol=1e-12)
    np.testing.assert_array_equal(pop.perceived_risk[~users], 0.0)


def test_capabilities_are_measured_against_the_frontier_at_the_months_end():
    # Month t's capabilities and gap are end-of-month figures: against the frontier at t + 1
    # (docs/model.md, section 3, timing).
    model = MarketModel(small_config("horizon=6")).run()
    dev = model.developers["us_frontier"]
    expected = [dev.capability(t + 1) for t in range(6)]
    frontier = [r["capability_frontier"] for r in model.records]
    np.testing.assert_allclose(frontier, expected, rtol=1e-12)
    gaps = [r["capability_frontier"] - r["capability_best_china"] for r in model.records]
    np.testing.assert_allclose([r["capability_gap"] for r in model.records], gaps, rtol=1e-12)


def test_the_intermediarys_objective_is_its_books_for_the_month():
    # j = ((1 - s) R - fines - c_rel min(P / tol, 1) (1 - s) R) / B, every month, from the
    # month's own figures: the revenue it kept, the fines it paid, the pressure it saw.
    model = MarketModel(
        small_config(
            "horizon=8",
            "us.rule_level=0.5",
            "customers.evade_propensity=1.0",
            "us.audit_prob=0.5",
            "intermediaries.azure.relationship_cost=2.0",
        )
    ).run()
    budget0 = model.population.budget0.sum()
    growth = model.config.customers.budget_growth
    records = model.records
    assert (
        sum(r["fines"] for r in records) > 0 and max(r["developer_pressure"] for r in records) > 0
    )
    for t, r in enumerate(records):
        kept = r["revenue_intermediary_china"]
        at_risk = 2.0 * min(r["developer_pressure"], 1.0) * kept
        expected = (kept - r["fines"] - at_risk) / (budget0 * (1 + growth) ** t)
        assert r["intermediary_objective"] == pytest.approx(expected, rel=1e-9), t


@pytest.mark.parametrize("asc_foreign", [0.0, -30.0])
def test_every_honest_user_flagged_is_a_false_positive_rate_of_one(asc_foreign):
    # At -30 the direct option keeps a share near 1e-13: a thousandth of a token a month,
    # still an account using the model, flagged and counted like any other.
    model = MarketModel(
        small_config(
            "detection.false_positive_rate=1.0",
            "intermediaries.azure.monitoring0=1.0",
            "intermediaries.azure.adaptive=false",
            f"demand.asc_foreign={asc_foreign}",
            *NO_HARVESTERS,
            "horizon=1",
        )
    )
    model.step()
    assert model.records[0]["false_positive_rate"] == 1.0
    assert model.records[0]["false_positive_suspensions"] > 0


def test_a_restricted_sector_is_restricted_whole_and_a_barred_one_buys_nothing_foreign():
    first, second = list(compose().customers.sectors)[:2]
    model = MarketModel(
        small_config(
            "horizon=3",
            "us.rule_level=0",
            f"us.restricted_sectors=[{first}]",
            f"cn.barred_sectors=[{second}]",
        )
    ).run()
    pop = model.population
    restricted = pop.sector == pop.sector_names.index(first)
    barred = pop.sector == pop.sector_names.index(second)
    assert restricted.any() and barred.any()
    np.testing.assert_array_equal(pop.restricted, restricted)
    assert model.records[-1]["restricted_customers"] == restricted.sum()
    assert pop.spend_total[barred, FOREIGN].sum() == 0
    assert pop.spend_total[barred, RESELLER].sum() == 0
    assert pop.spend_total[~barred & ~restricted, FOREIGN].sum() > 0
