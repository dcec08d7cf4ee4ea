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
        + ts["spend_proxies"]
    )
    from sim.mechanisms.capability import adoption

    c = model.config.customers
    factors = [adoption(t, c.budget_growth, c.budget_saturation) for t in range(len(ts))]
    budgets = model.population.budget0.sum() * np.array(factors)
    np.testing.assert_allclose(paid, budgets, rtol=1e-9)
    received = ts["revenue_intermediary_china"] + ts["revenue_developers"] + ts["revenue_resellers"]
    np.testing.assert_allclose(received, ts["china_spend_foreign"] + ts["spend_proxies"], rtol=1e-9)
    np.testing.assert_allclose(
        ts["revenue_intermediary"],
        ts["revenue_intermediary_china"] + ts["revenue_intermediary_international"],
        rtol=1e-12,
    )


def test_shells_keep_the_markup_over_list_and_the_rest_reaches_the_books():
    # One intermediary, KYC pinned: every shell pays list * (1 + markup) * (1 + kyc), so the
    # shells keep spend_R * (1 - 1 / ((1 + markup) * (1 + kyc))).
    result = simulate(
        small_config(
            "us.rule_level=0.5",
            "customers.evade_propensity=0.9",
            "intermediaries.azure.kyc0=0.4",
            "intermediaries.azure.adaptive=false",
            "demand.reseller_markup=0.25",
        )
    )
    ts = result.timeseries
    assert ts["spend_reseller"].sum() > 0
    margin = ts["spend_reseller"] * (1 - 1 / (1.25 * 1.4))
    np.testing.assert_allclose(ts["revenue_resellers"] - ts["spend_proxies"], margin, rtol=1e-9)


def test_intermediary_books_both_halves_of_the_two_way_flow(baseline_run):
    ts = baseline_run.timeseries
    devs = baseline_run.config.developers
    expected = ts["international_spend_us"] * (1 - devs["us_frontier"].revenue_share) + ts[
        "revenue_two_way"
    ] * (1 - devs["cn_open"].revenue_share)
    np.testing.assert_allclose(ts["revenue_intermediary_international"], expected, rtol=1e-12)
    assert (ts["international_spend_us"] > 0).all() and (ts["revenue_two_way"] > 0).all()


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


NO_HARVESTERS = [
    f"customers.sectors.{s}.harvesters=0"
    for s in ("platform", "fintech", "gaming", "manufacturing", "research", "other")
] + [f"customers.archetypes.{a}.intent=0" for a in ("bytedance", "tencent", "ant_group", "meituan")]


def test_no_harvesting_means_no_leakage():
    result = simulate(small_config(*NO_HARVESTERS))
    s, ts, pop = result.summary, result.timeseries, result.model.population
    assert s["harvested_samples"] == 0
    assert s["gap_closed_months_final"] == 0
    assert (ts["leaked_capability"] == 0).all()
    np.testing.assert_array_equal(pop.capability, pop.own)
    assert result.model.domestic.capability == result.model.domestic.own
    assert s["china_spend_foreign"] > 0


def test_the_no_leakage_gap_is_the_gap_of_a_world_without_distillation(baseline_run):
    # The shadow paths are exact: the gap a run reports "without leakage" equals, month by
    # month, the gap of the same run with distillation unable to teach anything.
    closed = simulate(small_config("seed=11", "distillation.broad_ceiling=0")).timeseries
    ts = baseline_run.timeseries
    np.testing.assert_allclose(
        ts["capability_gap_months_no_leakage"], closed["capability_gap_months"], rtol=1e-12
    )
    np.testing.assert_allclose(
        ts["gap_closed_months"],
        ts["capability_gap_months_no_leakage"] - ts["capability_gap_months"],
        atol=1e-12,
    )
    assert ts["gap_closed_months"].iloc[-1] > 0


def test_leakage_is_bounded_by_the_teacher_even_with_extreme_learning():
    model = MarketModel(
        small_config(
            "distillation.broad_ceiling=0.999",
            "distillation.broad_half_samples=1",
            "diffusion.rate=1.0",
            "domestic.spillover=1.0",
        )
    )
    while model.running:
        served = model.served_developer()
        teacher = served.capability(model.month) if served else model.teacher
        model.step()
        pop = model.population
        # Below the teacher of the month (up to the own path, which may pass an old teacher).
        assert (pop.capability <= np.maximum(teacher, pop.own) + 1e-12).all()
        assert model.domestic.capability <= max(teacher, model.domestic.own) + 1e-12
        assert pop.capability.max() <= model.frontier.capability(model.month) + 1e-12
    assert model.records[-1]["gap_closed_months"] > 0


def test_closed_channel_means_zero_foreign_spend_and_no_extraction():
    result = simulate(small_config("intermediaries.azure.channel_open=false"))
    s = result.summary
    assert s["china_spend_foreign"] == 0
    assert s["revenue_developers"] == 0
    assert s["harvested_samples"] == 0
    assert s["intermediary_share_final"] == 0
    assert s["compliance_rate_cumulative"] is None
    assert s["revenue_domestic"] > 0


def _teachers(model: MarketModel) -> list[float]:
    teachers = []
    while model.running:
        model.step()
        teachers.append(model.teacher)
    return teachers


def test_the_teacher_stops_at_the_last_served_month_when_the_channel_closes():
    close = "+scenario.events=[{month: 10, lever: intermediary.channel_open, value: false}]"
    teachers = _teachers(MarketModel(small_config("horizon=30", close)))
    served = [
        MarketModel(small_config("horizon=30")).developers["us_frontier"].capability(t)
        for t in range(30)
    ]
    assert teachers[:10] == served[:10]  # the served model, month by month, while open
    assert teachers[10:] == [served[9]] * 20  # then frozen: later versions never taught anyone
    assert served[29] > served[9]


def test_a_channel_closed_from_the_start_teaches_nothing():
    model = MarketModel(small_config("intermediaries.azure.channel_open=false"))
    assert set(_teachers(model)) == {0.0}
    assert (model.population.head_start == 0).all()
    assert model.domestic.head_start == 0


def _kyc_paths(*overrides: str) -> tuple[list[float], list[float]]:
    """The intermediary's own KYC and the KYC in force, month by month, from one run."""
    model = MarketModel(small_config("horizon=30", *overrides))
    own = []
    while model.running:
        model.step()
        own.append(model.intermediaries["azure"].kyc)
    return own, [r["kyc"] for r in model.records]


DUTY = "+scenario.events=[{month: 5, lever: us.kyc_duty, value: 0.9}, {month: 15, lever: us.kyc_duty, value: 0.0}]"


def test_a_duty_floors_a_fixed_kyc_only_while_in_force():
    own, in_force = _kyc_paths(
        "intermediaries.azure.adaptive=false", "intermediaries.azure.kyc0=0.4", DUTY
    )
    assert own == [0.4] * 30  # the intermediary's own setting never moves
    assert in_force[:5] == [0.4] * 5
    assert in_force[5:15] == [0.9] * 10
    assert in_force[15:] == [0.4] * 15


def test_an_adaptive_intermediary_complies_by_raising_its_own_kyc():
    own, _ = _kyc_paths("intermediaries.azure.kyc0=0.4", DUTY)
    assert own[4] < 0.9 <= min(own[5:15])  # raised the month the duty comes in
    assert own[15] == own[16] == own[14]  # the rescission alone moves nothing


def test_a_duty_above_the_intermediarys_highest_kyc_floors_only_the_kyc_in_force():
    bounds = ("intermediaries.azure.kyc_min=0.4", "intermediaries.azure.kyc_max=0.6")
    own, in_force = _kyc_paths("intermediaries.azure.kyc0=0.5", *bounds, DUTY)
    assert max(own) <= 0.6 and min(own) >= 0.4  # its own KYC stays within its bounds
    assert in_force[5:15] == [0.9] * 10


NO_PROXIES = ["distillation.proxy_accounts_max=0"]
PERFECT_DETECTION = [
    "intermediaries.azure.monitoring0=1.0",
    "intermediaries.azure.adaptive=false",
    "detection.sensitivity=100",
    "detection.threshold_samples=1",
]


def test_perfect_detection_without_proxies_lets_no_extraction_through_unseen():
    result = simulate(small_config(*PERFECT_DETECTION, *NO_PROXIES))
    s = result.summary
    assert s["harvested_samples"] > 0
    assert s["harvested_samples_undetected"] == pytest.approx(0.0, abs=1e-6)
    assert s["harvest_prevented_samples"] > 0


def test_exposed_harvesters_move_to_proxies_and_detection_per_account_falls():
    result = simulate(small_config())
    ts, pop = result.timeseries, result.model.population
    assert pop.on_proxies[pop.intent > 0].any()
    assert not pop.on_proxies[pop.intent == 0].any()
    assert ts["harvest_accounts"].iloc[-1] > ts["harvesting_customers"].iloc[-1]
    assert ts["detection_recall"].iloc[-6:].mean() < ts["detection_recall"].iloc[0]


def test_repeat_offenders_are_terminated_and_never_served_again():
    result = simulate(small_config(*PERFECT_DETECTION, *NO_PROXIES, "horizon=36"))
    model = result.model
    pop = model.population
    assert pop.terminated.any()
    assert (pop.offences[pop.terminated] >= 3).all()
    # Termination is final: no direct foreign spend in the last month by terminated firms.
    assert pop.spend[pop.terminated, 0].sum() == 0.0
    # Honest firms are never terminated (false positives go to appeal, not to offences).
    assert not pop.terminated[pop.intent == 0].any()


def test_flags_raise_the_flagged_customers_perceived_risk():
    cfg = small_config(
        "detection.false_positive_rate=1.0",
        "intermediaries.azure.monitoring0=1.0",
        "intermediaries.azure.adaptive=false",
        "distillation.risk_memory=0.7",
        *NO_HARVESTERS,
        "horizon=2",
    )
    model = MarketModel(cfg)
    model.step()
    pop = model.population
    flagged = pop.spend[:, 0] > 0
    assert flagged.any()
    np.testing.assert_allclose(pop.perceived_risk[flagged], 0.3, rtol=1e-12)
    np.testing.assert_array_equal(pop.perceived_risk[~flagged & ~pop.approved], 0.0)
    # A flagged honest account waits for its appeal: suspended next month, not terminated.
    model.step()
    assert pop.spend[flagged, 0].sum() == 0.0
    assert not pop.terminated.any()


def test_audits_block_the_violators_they_find():
    cfg = small_config(
        "us.rule_level=1.0",
        "customers.evade_propensity=1.0",
        "intermediaries.azure.kyc0=0.0",
        "intermediaries.azure.kyc_min=0.0",
        "intermediaries.azure.adaptive=false",
        "us.audit_prob=1.0",
        "intermediaries.azure.suspension_months=1",
        "horizon=2",
        # every named buyer evades too, none suspended at the start (it would return in month 1)
        *[
            f"customers.archetypes.{a}.evade=1.0"
            for a in ("bytedance", "tencent", "ant_group", "meituan")
        ],
        "customers.archetypes.bytedance.suspended_until=''",
    )
    ts = simulate(cfg).timeseries
    assert ts["violations"].iloc[0] > 0
    assert ts["violations_detected"].iloc[0] == ts["violations"].iloc[0]
    assert ts["violations"].iloc[1] == 0


def test_audit_risk_deters_shell_use_before_any_audit():
    # Month 0, before any audit has blocked anyone: only the risk term can differ.
    common = [
        "us.rule_level=1.0",
        "customers.evade_propensity=1.0",
        "intermediaries.azure.kyc0=0.0",
        "intermediaries.azure.kyc_min=0.0",
        "intermediaries.azure.adaptive=false",
        "horizon=1",
    ]
    low = simulate(small_config(*common, "us.audit_prob=0.0")).timeseries
    high = simulate(small_config(*common, "us.audit_prob=0.5")).timeseries
    assert high["spend_reseller"].iloc[0] < low["spend_reseller"].iloc[0]
    assert high["violations"].iloc[0] == low["violations"].iloc[0]


def test_domestic_providers_absorb_leakage_only_through_spillover():
    without = simulate(small_config("domestic.spillover=0")).model.domestic
    assert without.samples == 0 and without.capability == without.own
    with_spill = simulate(small_config("domestic.spillover=0.5")).model.domestic
    assert with_spill.samples > 0
    assert with_spill.capability > with_spill.own


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
    assert s["compliance_rate_cumulative"] == 0
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


def test_rate_limits_throttle_bulk_use():
    result = simulate(small_config("intermediaries.azure.rate_limit=1.0", "demand.bulk_share=0.5"))
    assert (result.timeseries["intermediary_share"] <= 0.5 + 1e-12).all()


def test_withdrawal_falls_back_to_the_next_model():
    result = simulate(
        small_config("developers.us_frontier.tolerance=1", "developers.us_second.tolerance=1e12")
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
    assert adaptive["monitoring"].nunique() + adaptive["kyc"].nunique() > 2


def test_a_scenario_event_pins_the_safeguard_it_sets():
    model = MarketModel(
        small_config(
            "horizon=30",
            "+scenario.events=[{month: 4, lever: intermediary.monitoring, value: 0.9}]",
        )
    ).run()
    levels = [r["monitoring"] for r in model.records]
    assert levels[4:] == [0.9] * 26
    inter = model.intermediaries["azure"]
    assert inter.pinned == {"monitoring"}
    assert len({r["kyc"] for r in model.records}) > 1  # the other safeguard still adapts


def test_two_way_restriction_moves_buyers_to_us_models_or_elsewhere():
    free = simulate(small_config()).summary
    barred = simulate(small_config("us.two_way_restriction=1.0")).summary
    assert free["revenue_two_way"] > 0
    assert barred["revenue_two_way"] == 0
    assert barred["international_spend_us"] > free["international_spend_us"]
    assert barred["international_spend_elsewhere"] > free["international_spend_elsewhere"]


def test_the_chinese_model_abroad_follows_the_chinese_labs_own_path():
    low = simulate(small_config("developers.cn_open.capability0=0.5")).summary
    high = simulate(small_config("developers.cn_open.capability0=0.95")).summary
    assert high["revenue_two_way"] > low["revenue_two_way"]


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
