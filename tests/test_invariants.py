"""The invariant checker: silent on sound runs, and each invariant fires when its quantity is
corrupted (so no check is vacuous), naming the invariant, the month and the values."""

from __future__ import annotations

import ast
import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import small_config

import sim.invariants as invariants
from sim.invariants import INVARIANTS, InvariantError, check_month
from sim.mechanisms.demand import DOMESTIC, FOREIGN, RESELLER
from sim.model import MarketModel

ROOT = Path(__file__).resolve().parents[1]

#: Every restricted customer tries shells and gets through; every violation is audited.
SHELLS = [
    "us.rule_level=0.5",
    "customers.evade_propensity=1.0",
    "intermediaries.azure.kyc0=0.0",
    "intermediaries.azure.kyc_min=0.0",
    "intermediaries.azure.adaptive=false",
    "us.audit_prob=0.5",
]


class _Deferred(Exception):
    """Raised from inside ``MarketModel.step`` to hand the month to a test unchecked."""

    def __init__(self, outcome, metrics) -> None:
        self.outcome, self.metrics = outcome, metrics


@dataclasses.dataclass
class Month:
    """A model stopped just where its last month's check runs, with that month's outcome."""

    model: MarketModel
    outcome: object
    metrics: dict[str, float]

    def check(self, outcome=None, metrics=None) -> None:
        check_month(self.model, outcome or self.outcome, metrics or self.metrics)

    def broken(self, invariant: str, outcome=None, metrics=None) -> InvariantError:
        with pytest.raises(InvariantError) as info:
            self.check(outcome, metrics)
        err = info.value
        assert err.invariant == invariant, str(err)
        assert err.month == self.model.month
        assert f"'{invariant}'" in str(err) and f"month {self.model.month}" in str(err)
        return err

    def replaced(self, **arrays):
        return dataclasses.replace(self.outcome, **arrays)


def stopped_at(months: int, *overrides: str, monkeypatch) -> Month:
    """Step ``months - 1`` checked months, then the last up to its check, which is deferred."""
    model = MarketModel(small_config("check.invariants=true", *overrides))
    for _ in range(months - 1):
        model.step()
    real = invariants.check_month

    def defer(model_, outcome, metrics):
        raise _Deferred(outcome, metrics)

    monkeypatch.setattr(invariants, "check_month", defer)
    with pytest.raises(_Deferred) as info:
        model.step()
    monkeypatch.setattr(invariants, "check_month", real)
    return Month(model, info.value.outcome, dict(info.value.metrics))


@pytest.fixture
def month(monkeypatch) -> Month:
    return stopped_at(4, *SHELLS, monkeypatch=monkeypatch)


def test_sound_months_pass_and_the_check_changes_nothing():
    checked = MarketModel(small_config("check.invariants=true", *SHELLS)).run()
    unchecked = MarketModel(small_config(*SHELLS)).run()
    assert checked.records == unchecked.records
    assert sum(r["violations"] for r in checked.records) > 0  # shells were exercised
    assert sum(r["harvested_samples"] for r in checked.records) > 0


def test_the_stopped_month_is_sound_before_any_corruption(month):
    assert month.outcome.found.any() and month.outcome.violations.any()
    assert (month.outcome.spend[:, FOREIGN] > 0).any() and month.outcome.campaigns.any()
    month.check()


def test_every_invariant_is_documented_in_the_guarantees():
    text = (ROOT / "docs" / "guarantees.md").read_text(encoding="utf-8")
    missing = [name for name in INVARIANTS if f"`{name}`" not in text]
    assert not missing


def test_every_check_names_a_listed_invariant_and_every_listed_one_is_checked():
    tree = ast.parse(Path(invariants.__file__).read_text(encoding="utf-8"))
    named = {
        node.args[1].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "require"
        and isinstance(node.args[1], ast.Constant)
    }
    assert named == set(INVARIANTS)


# ------------------------------------------------------------------ each invariant can fire


def _first(mask: np.ndarray) -> int:
    assert mask.any()
    return int(np.flatnonzero(mask)[0])


def test_spending_more_than_the_budget_breaks_budgets_spent(month):
    spend = month.outcome.spend.copy()
    spend[0, DOMESTIC] += 1.0
    err = month.broken("budgets spent", month.replaced(spend=spend))
    assert "customer 0" in str(err) and "budget=" in str(err)


def test_proxies_costing_more_than_the_budget_break_their_bound(month):
    proxy = month.outcome.proxy_cost.copy()
    i = _first(month.outcome.campaigns)
    proxy[i] = 10 * month.model.population.budget0[i] * month.model.budget_factor + 1
    month.broken("proxy costs within budget", month.replaced(proxy_cost=proxy))


def test_shells_keeping_nothing_breaks_the_channel_receipts(month):
    margin = np.zeros_like(month.outcome.reseller_margin)
    assert month.outcome.reseller_margin.sum() > 0
    month.broken("channel receipts", month.replaced(reseller_margin=margin))


def test_a_party_paid_out_of_nothing_breaks_money_conservation(month):
    metrics = dict(month.metrics, revenue_resellers=month.metrics["revenue_resellers"] + 1e3)
    err = month.broken("money conserved", metrics=metrics)
    assert "parties_receive" in str(err)


def test_international_money_appearing_breaks_money_conservation(month):
    intl = dict(month.outcome.international)
    intl["margin"] += 1e3
    month.broken("money conserved", month.replaced(international=intl))


def test_a_fine_off_the_penalty_formula_is_caught(month):
    month.broken("fines", month.replaced(fines=month.outcome.fines * 1.5))


def test_a_negative_flow_is_caught(month):
    obtained = month.outcome.obtained.copy()
    obtained[0] = -1.0
    err = month.broken("non-negative flows", month.replaced(obtained=obtained))
    assert "array='obtained'" in str(err)


def test_a_negative_metric_is_caught(month):
    month.broken("non-negative flows", metrics=dict(month.metrics, suspensions=-1))


def test_an_infinite_metric_and_an_empty_defined_metric_are_caught(month):
    month.broken("metrics defined", metrics=dict(month.metrics, attention=math.inf))
    assert month.outcome.planned.sum() > 0
    month.broken("metrics defined", metrics=dict(month.metrics, detection_recall=math.nan))


def test_shares_out_of_range_or_not_summing_to_one_are_caught(month):
    month.broken("shares", metrics=dict(month.metrics, share_domestic=1.2))
    shifted = dict(month.metrics, share_inhouse=month.metrics["share_inhouse"] + 0.01)
    month.broken("shares", metrics=shifted)


def test_offshore_use_past_the_localisation_cap_is_caught(month):
    month.model.cn.localisation = 1.0
    month.broken("offshore cap")


def test_safeguards_out_of_bounds_are_caught(month):
    month.model.intermediaries["azure"].kyc = -0.1
    month.broken("safeguards in bounds")


def test_a_stock_that_shrinks_or_skips_a_flow_is_caught(month):
    pop = month.model.population
    i = _first(month.outcome.obtained > 0)
    pop.samples[i] -= 1.0
    month.broken("cumulative figures")


def test_a_terminated_account_reopened_is_caught(monkeypatch):
    m = stopped_at(
        8,
        "intermediaries.azure.monitoring0=1.0",
        "intermediaries.azure.adaptive=false",
        "detection.sensitivity=100",
        "detection.threshold_samples=1",
        "distillation.proxy_accounts_max=0",
        "intermediaries.azure.terminate_after=1",
        monkeypatch=monkeypatch,
    )
    previous = invariants._PREVIOUS[m.model]
    assert previous.terminated.any()
    m.model.population.terminated[:] = False
    m.broken("cumulative figures", metrics=dict(m.metrics, terminated_accounts=0))


def test_capability_above_the_frontier_is_caught(month):
    month.model.population.capability[0] = month.outcome.frontier * 1.01
    month.model.population.own[0] = month.outcome.frontier * 1.01
    month.broken("capability below the frontier")


def test_capability_below_its_own_path_is_caught(month):
    pop = month.model.population
    pop.capability[0] = pop.own[0] * 0.9
    month.broken("capability above its own path")


def test_an_inconsistent_gap_is_caught(month):
    closed = month.metrics["gap_closed_months"]
    month.broken("gap", metrics=dict(month.metrics, gap_closed_months=closed + 0.5))
    months = month.metrics["capability_gap_months"]
    month.broken("gap", metrics=dict(month.metrics, capability_gap_months=months * 1.1 + 0.1))


def test_a_restricted_customer_served_directly_is_caught(month):
    restricted = month.outcome.restricted.copy()
    restricted[_first(month.outcome.spend[:, FOREIGN] > 0)] = True
    month.broken("restricted served only through shells", month.replaced(restricted=restricted))


def test_shell_spend_not_counted_as_a_violation_is_caught(month):
    violations = month.outcome.violations.copy()
    found = month.outcome.found.copy()
    i = _first(violations & ~found)
    violations[i] = False
    month.broken("violations counted", month.replaced(violations=violations, found=found))


def test_a_found_violator_left_unblocked_is_caught(month):
    pop = month.model.population
    pop.blocked_until[month.outcome.found] = month.model.month
    month.broken("violations counted")


def test_direct_sales_to_an_unapproved_customer_are_caught(month):
    pop = month.model.population
    pop.approved = pop.approved.copy()  # the model shares its derived masks read-only
    pop.approved[_first(month.outcome.spend[:, FOREIGN] > 0)] = False
    month.broken("no service while shut out")


def test_shell_sales_to_a_blocked_customer_are_caught(month):
    previous = invariants._PREVIOUS[month.model]
    previous.blocked_until[_first(month.outcome.spend[:, RESELLER] > 0)] = month.model.month
    month.broken("no service while shut out")


def test_more_detected_than_harvested_is_caught(month):
    detected = month.outcome.detected.copy()
    i = _first(month.outcome.obtained > 0)
    detected[i] = 2 * month.outcome.obtained[i] + 1
    month.broken("harvest accounting", month.replaced(detected=detected))


def test_an_honest_firm_running_a_campaign_is_caught(month):
    campaigns = month.outcome.campaigns.copy()
    campaigns[_first(month.model.population.intent == 0)] = True
    month.broken("harvest accounting", month.replaced(campaigns=campaigns))


def test_a_harvest_outside_the_months_campaigns_is_caught(month):
    flagged = month.outcome.flagged_volume.copy()
    flagged[_first(~month.outcome.campaigns)] = 1.0
    err = month.broken("harvest accounting", month.replaced(flagged_volume=flagged))
    assert "flagged_volume=1" in str(err)


def test_a_recall_that_disagrees_with_the_flags_is_caught(month):
    recall = month.metrics["detection_recall"]
    wrong = recall / 2 if recall > 0 else 0.5
    month.broken("rates", metrics=dict(month.metrics, detection_recall=wrong))


# ------------------------------------------------------------------ a broken mechanism


def test_a_run_with_a_broken_mechanism_stops_with_the_invariant_named(monkeypatch):
    from sim.kernels import demand

    uncapped = demand.spend_from_weights

    def no_offshore_cap(weights, direct, evading, offshore_cap, *rest, **kw):
        return uncapped(weights, direct, evading, np.ones_like(offshore_cap), *rest, **kw)

    monkeypatch.setattr(demand, "spend_from_weights", no_offshore_cap)
    with pytest.raises(InvariantError, match=r"'offshore cap' broken in month 0"):
        MarketModel(small_config("check.invariants=true", "cn.localisation=0.9")).run()
    MarketModel(small_config("cn.localisation=0.9")).run()  # unchecked, it runs on silently


# ------------------------------------------------------------------ what the checker found


def test_a_ramp_never_overshoots_its_ends():
    # Found by the property tests: 0.81 ramped to 0 over three months ended at -1.1e-16.
    model = MarketModel(
        small_config(
            "horizon=6",
            "intermediaries.azure.monitoring0=0.8105345585257473",
            "intermediaries.azure.monitoring_min=0.0",
            "+scenario.events=[{month: 1, lever: intermediary.monitoring, value: 0.0, ramp: 3}]",
        )
    ).run()
    levels = [r["monitoring"] for r in model.records]
    assert levels[0] == 0.8105345585257473
    assert levels[1] > levels[2] > levels[3] >= 0.0
    assert levels[3:] == [0.0] * 3


def test_customers_drawn_only_in_sectors_without_budget_have_zero_budgets_not_nan():
    # Found by the property tests: every customer drawn into a zero-weight sector gave NaN.
    model = MarketModel(
        small_config(
            "customers.n=7",  # the 4 named archetypes and 3 drawn customers
            "check.invariants=true",
            *[f"customers.sectors.{s}.share=0" for s in ("fintech", "gaming", "manufacturing")],
            *[f"customers.sectors.{s}.share=0" for s in ("research", "platform")],
            "customers.sectors.other.share=0.999",
            "customers.sectors.other.budget_weight=0",
            "customers.sectors.platform.share=0.001",
        )
    )
    named = len(model.config.customers.archetypes)
    assert (model.population.budget0[named:] == 0).all()
    assert (model.population.budget0[:named] > 0).all()
    model.run()
    # rates with no denominator (no harvesting, no foreign spend) are NaN by definition
    ratios = {"detection_recall", "detection_recall_own_accounts", "compliance_rate"}
    assert all(
        math.isfinite(v)
        for r in model.records
        for k, v in r.items()
        if isinstance(v, float) and k not in ratios
    )


def test_proxy_networks_cost_no_more_than_the_budget():
    # Found by the checker on the default config: harvesters too small for the approval
    # threshold ran proxy networks costing twice their monthly budget.
    model = MarketModel(small_config("customers.n=2000", "horizon=3", "seed=0"))
    pop = model.population
    assert (pop.intent[~pop.established] > 0).any()
    model.config.check.invariants = True
    model.run()  # 'proxy costs within budget' is checked every month
    assert model.records[0]["spend_proxies"] > 0


def test_shells_at_list_price_leave_a_rounding_margin_not_a_violation():
    # No markup and no KYC: shells pay list price, and spend - spend * p / p may round to
    # -1e-13; the checker must not read that as a negative flow.
    model = MarketModel(
        small_config(
            "check.invariants=true",
            "demand.reseller_markup=0",
            *SHELLS,
        )
    ).run()
    assert sum(r["spend_reseller"] for r in model.records) > 0
    assert all(abs(r["revenue_resellers"] - r["spend_proxies"]) < 1e-6 for r in model.records)


def test_the_first_month_is_compared_with_the_state_the_model_started_from():
    # A run may start from a recorded history (offences, samples held): the first month is
    # checked against that state, not against an empty one. A stock changed behind the
    # model's back between construction and the first month is caught.
    model = MarketModel(small_config("check.invariants=true", "horizon=2"))
    model.population.offences[:] += 1  # a start with history is fine ...
    invariants.start(model)  # ... when the model records it as its start
    model.run()
    broken = MarketModel(small_config("check.invariants=true", "horizon=2"))
    broken.population.samples[0] = 5.0  # after the start was recorded
    with pytest.raises(InvariantError, match=r"'cumulative figures' broken in month 0"):
        broken.step()
