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
from sim.mechanisms.capability import adoption
from sim.mechanisms.demand import DOMESTIC, FOREIGN, RESELLER
from sim.model import MarketModel

ARCHETYPES = list(compose().customers.archetypes)
NO_HARVESTERS = [f"customers.sectors.{s}.harvesters=0" for s in compose().customers.sectors] + [
    f"customers.archetypes.{a}.intent=0" for a in ARCHETYPES
]


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
    customers = model.config.customers
    records = model.records
    assert (
        sum(r["fines"] for r in records) > 0 and max(r["developer_pressure"] for r in records) > 0
    )
    for t, r in enumerate(records):
        kept = r["revenue_intermediary_china"]
        at_risk = 2.0 * min(r["developer_pressure"], 1.0) * kept
        budget = budget0 * adoption(t, customers.budget_growth, customers.budget_saturation)
        expected = (kept - r["fines"] - at_risk) / budget
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


# ------------------------------------------------------------------ sanctions


NO_FLAGS = [*NO_HARVESTERS, "detection.false_positive_rate=0"]
ALL_EVADE = [
    "us.rule_level=1.0",
    "customers.evade_propensity=1.0",
    "intermediaries.azure.kyc0=0.0",
    "intermediaries.azure.kyc_min=0.0",
    "intermediaries.azure.adaptive=false",
    *[f"customers.archetypes.{a}.evade=1.0" for a in ARCHETYPES],
]


def test_customers_never_flagged_are_never_suspended_and_always_served():
    records = MarketModel(small_config(*NO_FLAGS, "horizon=6")).run().records
    assert all(r["suspended_accounts"] == 0 for r in records)
    direct = [r["spend_foreign_direct"] for r in records]
    assert all(d > 0 for d in direct)
    assert all(b > a for a, b in zip(direct, direct[1:], strict=False))  # budgets grow


def test_shell_users_never_caught_keep_buying_every_month():
    model = MarketModel(small_config(*NO_FLAGS, *ALL_EVADE, "us.audit_prob=0", "horizon=6"))
    records = model.run().records
    buyers = int((model.population.budget0 > 0).sum())
    assert [r["violations"] for r in records] == [buyers] * 6


def test_a_shell_user_flagged_by_mistake_waits_for_its_appeal():
    model = MarketModel(
        small_config(
            *NO_HARVESTERS,
            *ALL_EVADE,
            "us.audit_prob=0",
            "detection.false_positive_rate=1.0",
            "intermediaries.azure.monitoring0=1.0",
            "intermediaries.azure.appeal_months=1",
            "horizon=3",
        )
    )
    records = model.run().records
    assert records[0]["violations"] > 0
    assert records[0]["false_positive_suspensions"] == records[0]["violations"]
    assert records[1]["violations"] == 0  # every one of them blocked pending appeal
    assert records[2]["violations"] == records[0]["violations"]


PERFECT_OWN_ACCOUNT_DETECTION = [
    "intermediaries.azure.monitoring0=1.0",
    "intermediaries.azure.adaptive=false",
    "detection.sensitivity=100",
    "detection.threshold_samples=1",
    "distillation.proxy_accounts_max=0",
]


@pytest.mark.parametrize("after", [1, 2])
def test_an_account_is_terminated_at_exactly_the_offence_that_reaches_the_threshold(after):
    model = MarketModel(
        small_config(
            *PERFECT_OWN_ACCOUNT_DETECTION,
            f"intermediaries.azure.terminate_after={after}",
            "intermediaries.azure.suspension_months=1",
            "horizon=12",
        )
    ).run()
    pop = model.population
    assert pop.terminated.any()
    np.testing.assert_array_equal(pop.terminated, pop.offences >= after)


# ------------------------------------------------------------------ campaigns


def test_fully_deterred_harvesters_plan_nothing_and_pay_for_no_proxies():
    records = (
        MarketModel(
            small_config(
                "distillation.deterrence=1.0",
                "intermediaries.azure.monitoring0=1.0",
                "intermediaries.azure.adaptive=false",
                "horizon=4",
            )
        )
        .run()
        .records
    )
    assert all(r["harvesting_customers"] == 0 for r in records)
    assert all(r["harvest_accounts"] == 0 and r["spend_proxies"] == 0 for r in records)


@pytest.mark.parametrize(("most", "kyc", "cap"), [(10.0, 0.5, 6), (2.0, 0.5, 2)])
def test_kyc_caps_the_proxy_accounts_a_harvester_can_open(most, kyc, cap):
    # 1 + M (1 - kyc) accounts at most; exposed harvesters run networks up to that size
    # (large campaigns would spread over hundreds), two at the least.
    model = MarketModel(
        small_config(
            f"distillation.proxy_accounts_max={most}",
            f"intermediaries.azure.kyc0={kyc}",
            f"intermediaries.azure.kyc_min={kyc}",
            "intermediaries.azure.adaptive=false",
            "horizon=6",
        )
    ).run()
    records = model.records
    cost = model.config.distillation.proxy_cost_usd
    networks = [r["spend_proxies"] / cost for r in records]
    assert networks[-1] > 0
    on_proxies = int(model.population.on_proxies.sum())
    assert max(networks) <= cap * on_proxies
    assert all(n == int(n) for n in networks)
    assert max(networks) >= cap  # some network at the cap


def test_the_shell_risk_carries_the_audit_chance_times_half_the_penalty_multiple():
    # Month 0, before any flag or audit: the log-odds of shells against domestic providers
    # differ between two penalty multiples by exactly br * a * (pen1 - pen0) / 2.
    common = [*NO_HARVESTERS, *ALL_EVADE, "us.audit_prob=0.5", "horizon=1"]
    common += ["intermediaries.azure.rate_limit=0", "demand.risk_weight=3.0"]
    odds = []
    for pen in (0.0, 2.0):
        model = MarketModel(small_config(*common, f"us.penalty_multiplier={pen}"))
        model.step()
        spend = model.population.spend
        shells = spend[:, RESELLER] > 0
        odds.append(np.log(spend[shells, RESELLER] / spend[shells, DOMESTIC]))
    np.testing.assert_allclose(odds[0] - odds[1], 3.0 * 0.5 * 2.0 / 2.0, rtol=1e-9)


# ------------------------------------------------------------------ detection


def test_without_monitoring_nothing_is_flagged_linked_or_exposed():
    records = (
        MarketModel(
            small_config(
                "intermediaries.azure.monitoring0=0",
                "intermediaries.azure.monitoring_min=0",
                "intermediaries.azure.adaptive=false",
                "horizon=6",
            )
        )
        .run()
        .records
    )
    assert sum(r["harvested_samples"] for r in records) > 0
    assert all(r["harvested_samples_detected"] == 0 for r in records)
    assert all(r["campaigns_exposed"] == 0 and r["suspensions"] == 0 for r in records)


def test_an_own_account_harvesters_campaign_risk_is_its_account_risk():
    # Without proxies a campaign is exposed exactly when its account is flagged: the two
    # memories take in the same signal, so harvesters never flagged hold equal risks.
    model = MarketModel(small_config("distillation.proxy_accounts_max=0", "horizon=3")).run()
    pop = model.population
    quiet = (pop.intent > 0) & (pop.detected_count == 0) & (pop.suspension_count == 0)
    assert quiet.any() and (pop.campaign_risk[quiet] > 0).any()
    np.testing.assert_allclose(pop.campaign_risk[quiet], pop.perceived_risk[quiet], rtol=1e-12)


def test_linking_alone_finds_proxy_networks():
    # Per-account flags made impossible (threshold 1e9) and no tracing of single flags:
    # whatever is detected was found by linking networks as a whole.
    records = (
        MarketModel(
            small_config(
                "detection.threshold_samples=1e9",
                "detection.link_accounts=1",
                "distillation.attribution=0",
                "intermediaries.azure.monitoring0=1.0",
                "intermediaries.azure.adaptive=false",
                "horizon=4",
            )
        )
        .run()
        .records
    )
    assert sum(r["harvested_samples_detected"] for r in records) > 0
    assert sum(r["campaigns_exposed"] for r in records) > 0


# ------------------------------------------------------------------ model-level formulas


def test_the_seed_keyword_and_mesas_generator_follow_the_seed():
    one, two = (MarketModel(small_config("horizon=1"), seed=s) for s in (1, 2))
    assert (one.config.seed, two.config.seed) == (1, 2)
    assert not np.array_equal(one.population.budget0, two.population.budget0)
    again = MarketModel(small_config("horizon=1"), seed=1)
    assert one.rng.random() == again.rng.random()  # Mesa's rng is one of the seeded streams


def test_mesas_data_collector_records_each_month():
    model = MarketModel(small_config("horizon=5")).run()
    frame = model.datacollector.get_model_vars_dataframe()
    assert list(frame["month"]) == [0, 1, 2, 3, 4]
    assert list(frame["china_spend_foreign"]) == [r["china_spend_foreign"] for r in model.records]


def test_own_paths_grow_at_their_rate_until_the_frontier():
    model = MarketModel(small_config(*NO_HARVESTERS, "horizon=12")).run()
    pop, growth = model.population, model.config.customers.inhouse_growth
    frontier = model.developers["us_frontier"].capability(12)
    np.testing.assert_allclose(
        pop.own, np.minimum(pop.capability0 * (1 + growth) ** 12, frontier), rtol=1e-12
    )


def test_developer_pressure_follows_what_the_served_lab_learns():
    # P <- decay P + report_weight * detected + own_detection * missed, for the served lab;
    # a lab never served feels nothing.
    model = MarketModel(small_config("horizon=8")).run()
    served, other = model.developers["us_frontier"], model.developers["us_second"]
    pressure = 0.0
    for r in model.records:
        detected = r["harvested_samples_detected"]
        missed = r["harvested_samples"] - detected
        pressure = (
            served.pressure_decay * pressure
            + served.report_weight * detected
            + served.own_detection * missed
        )
        assert r["developer_pressure"] == pytest.approx(pressure / served.tolerance, rel=1e-9)
    assert other.pressure == 0.0 and served.pressure > 0


def test_attention_adds_restricted_spend_in_millions_and_public_incidents():
    model = MarketModel(
        small_config(*ALL_EVADE, "politics.publicity=0", "politics.weight_spend=0.5", "horizon=6")
    ).run()
    attention, decay = 0.0, model.config.politics.decay
    for r in model.records:
        attention = decay * attention + 0.5 * r["spend_reseller"] / 1e6
        assert r["attention"] == pytest.approx(attention, rel=1e-12)
    assert attention > 0
