"""Model-level behaviour: the hand-derivable consequences of each mechanism in a full run."""

from __future__ import annotations

import mesa
import numpy as np
import pytest
from conftest import small_config

from sim.agents import ChineseCustomer, CloudIntermediary, ModelDeveloper
from sim.metrics import SUMMARY_KEYS
from sim.model import MarketModel
from sim.runner import simulate


def test_summary_has_the_results_contract(baseline_run):
    missing = set(SUMMARY_KEYS) - set(baseline_run.summary)
    assert not missing
    assert baseline_run.summary["scenario"] == "baseline"
    assert baseline_run.summary["seed"] == 11
    assert len(baseline_run.timeseries) == 24


def test_money_is_conserved_every_month(baseline_run):
    ts = baseline_run.timeseries
    model = baseline_run.model
    paid = (
        ts["spend_foreign_direct"]
        + ts["spend_reseller"]
        + ts["spend_domestic"]
        + ts["spend_inhouse"]
    )
    growth = model.config.customers.budget_growth
    budgets = model.population.budget0.sum() * (1 + growth) ** np.arange(len(ts))
    np.testing.assert_allclose(paid, budgets, rtol=1e-9)
    received = ts["revenue_intermediary_china"] + ts["revenue_developers"] + ts["revenue_resellers"]
    np.testing.assert_allclose(received, ts["china_spend_foreign"], rtol=1e-9)
    np.testing.assert_allclose(
        ts["revenue_intermediary"],
        ts["revenue_intermediary_china"] + ts["revenue_intermediary_international"],
        rtol=1e-12,
    )


def test_market_shares_sum_to_one(baseline_run):
    ts = baseline_run.timeseries
    total = (
        ts["share_foreign_direct"]
        + ts["share_reseller"]
        + ts["share_domestic"]
        + ts["share_inhouse"]
    )
    np.testing.assert_allclose(total, 1.0, rtol=1e-12)
    assert ((ts[["share_foreign_direct", "share_domestic"]] >= 0).all()).all()


def test_no_harvesting_means_no_leakage():
    sectors = [
        f"customers.sectors.{s}.harvesters=0"
        for s in ("platform", "fintech", "gaming", "manufacturing", "research", "other")
    ]
    result = simulate(small_config(*sectors))
    assert result.summary["harvested_tokens"] == 0
    assert result.summary["leakage_capability"] == 0
    assert (result.customers["distilled_capability"] == 0).all()
    assert (result.customers["diffused_capability"] == 0).all()
    assert result.summary["china_spend_foreign"] > 0


def test_perfect_detection_stops_undetected_harvesting():
    result = simulate(
        small_config(
            "intermediaries.azure.monitoring0=1.0",
            "intermediaries.azure.adaptive=false",
            "detection.kappa=1e12",
        )
    )
    assert result.summary["harvested_tokens"] > 0
    assert result.summary["harvested_tokens_undetected"] == 0


def test_closed_channel_means_zero_foreign_spend():
    result = simulate(small_config("intermediaries.azure.channel_open=false"))
    s = result.summary
    assert s["china_spend_foreign"] == 0
    assert s["revenue_developers"] == 0
    assert s["harvested_tokens"] == 0
    assert s["intermediary_share_final"] == 0
    assert s["compliance_rate"] is None
    assert s["revenue_domestic"] > 0


def test_capability_never_exceeds_the_frontier_or_teacher():
    model = MarketModel(
        small_config(
            "distillation.efficiency=1.0", "distillation.half_samples=1", "diffusion.rate=1.0"
        )
    )
    while model.running:
        teacher = model.served_developer().capability(model.month)
        frontier = model.frontier.capability(model.month)
        model.step()
        assert model.population.capability.max() <= frontier + 1e-12
        assert model.domestic.capability <= frontier + 1e-12
        assert teacher <= frontier
    assert model.population.distilled.max() > 0


def test_same_seed_same_numbers_different_seed_different():
    a = simulate(small_config("seed=5")).summary
    b = simulate(small_config("seed=5")).summary
    c = simulate(small_config("seed=6")).summary
    assert a == b
    assert a != c


def test_restricting_everyone_stops_direct_sales_and_creates_violations():
    result = simulate(
        small_config(
            "us.rule_level=1.0",
            "customers.evade_propensity=0.9",
            "intermediaries.azure.kyc0=0.3",
            "intermediaries.azure.kyc_min=0.3",
            "intermediaries.azure.adaptive=false",
        )
    )
    s = result.summary
    assert result.timeseries["spend_foreign_direct"].sum() == 0
    assert s["violations"] > 0
    assert s["compliance_rate"] == 0
    assert s["fines"] >= s["violations_detected"] * 374_474.0


def test_full_kyc_blocks_resellers():
    result = simulate(
        small_config("us.rule_level=1.0", "customers.evade_propensity=0.9", "us.kyc_duty=1.0")
    )
    assert result.summary["violations"] == 0
    assert result.summary["china_spend_foreign"] == 0


def test_localisation_caps_offshore_share():
    result = simulate(small_config("cn.localisation=0.9"))
    assert (result.timeseries["intermediary_share"] <= 0.1 + 1e-12).all()
    assert result.timeseries["intermediary_share"].max() > 0


def test_withdrawal_falls_back_to_the_next_model():
    result = simulate(
        small_config(
            "developers.us_frontier.tolerance=0.0001", "developers.us_second.tolerance=1e9"
        )
    )
    ts = result.timeseries
    assert result.summary["model_withdrawals"] == 1
    month = int(ts.index[ts["model_withdrawals"] > 0][0])
    second = result.model.developers["us_second"]
    assert ts["price_foreign"].iloc[month + 1] == pytest.approx(second.price(month + 1))
    assert (ts["models_in_channel"].iloc[month:] == 1).all()


def test_pinned_safeguards_do_not_move_and_adaptive_ones_do():
    pinned = simulate(small_config("intermediaries.azure.adaptive=false")).timeseries
    assert (pinned["monitoring"] == 0.5).all()
    adaptive = simulate(small_config()).timeseries
    assert adaptive["monitoring"].nunique() > 1


def test_two_way_restriction_removes_chinese_model_sales():
    free = simulate(small_config()).summary
    barred = simulate(small_config("us.two_way_restriction=1.0")).summary
    assert free["revenue_two_way"] > 0
    assert barred["revenue_two_way"] == 0


def test_agents_are_mesa_agents_addressable_by_type(baseline_run):
    model = baseline_run.model
    customers = model.agents_by_type[ChineseCustomer]
    assert len(customers) == 300
    assert len(model.agents_by_type[ModelDeveloper]) == 3
    assert len(model.agents_by_type[CloudIntermediary]) == 1
    some = customers.select(lambda a: a.index == 7)[0]
    assert some.budget == pytest.approx(model.population.budget0[7] * model.budget_factor)
    assert some.capability == model.population.capability[7]
    assert sum(some.spend.values()) == pytest.approx(model.population.spend[7].sum())
    assert list(baseline_run.customers["id"]) == [a.unique_id for a in customers]


def test_network_holds_every_kind_of_player_and_edge(baseline_run):
    g = baseline_run.model.network
    kinds = {k for _, k in g.nodes(data="kind")}
    assert kinds == {
        "developer",
        "intermediary",
        "customer",
        "international",
        "domestic",
        "reseller",
        "regulator",
    }
    edge_kinds = {k for _, _, k in g.edges(data="kind")}
    assert edge_kinds == {"licensing", "service", "knowledge", "oversight"}
    knowledge = sum(1 for _, _, k in g.edges(data="kind") if k == "knowledge")
    assert knowledge == baseline_run.model.adjacency.nnz // 2


def test_mesa_batch_run_drives_the_model():
    rows = mesa.batch_run(
        MarketModel,
        parameters={"customers.n": 80, "international.n": 10, "horizon": 4, "seed": [1, 2]},
        iterations=1,
        max_steps=10,
        number_processes=1,
        display_progress=False,
    )
    assert {r["seed"] for r in rows} == {1, 2}
    assert [r["Step"] for r in rows] == [3, 3]  # the last of 4 monthly records (0-based)
    assert all(r["china_spend_foreign"] > 0 for r in rows)
    direct = MarketModel(
        **{"customers.n": 80, "international.n": 10, "horizon": 4, "seed": 1}
    ).run()
    assert rows[0]["china_spend_foreign"] == direct.records[-1]["china_spend_foreign"]


def test_keyword_parameters_are_validated():
    from sim.validate import ConfigError

    with pytest.raises(ConfigError, match="customers.nope"):
        MarketModel(**{"customers.nope": 3})
    with pytest.raises(ConfigError, match="customers.n = -1"):
        MarketModel(customers__n=-1)


def test_a_finished_model_can_be_garbage_collected():
    import gc
    import weakref

    model = MarketModel(small_config()).run()
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


@pytest.mark.parametrize("level", [0.77, 0.8, 0.9, 0.3])
def test_rule_level_restricts_exactly_that_share(level):
    model = MarketModel(small_config(f"us.rule_level={level}", "horizon=1"))
    model.step()
    assert model.records[0]["restricted_customers"] == round(level * 300)


def test_a_later_event_overrides_a_running_ramp():
    model = MarketModel(
        small_config(
            "horizon=12",
            "+scenario.events=[{month: 2, lever: us.rule_level, value: 0.5, ramp: 6},"
            "{month: 4, lever: us.rule_level, value: 0.1}]",
        )
    ).run()
    levels = [r["us_rule_level"] for r in model.records]
    assert levels[4:] == [0.1] * 8
    assert levels[2] == pytest.approx(0.02 + (0.5 - 0.02) / 6)
