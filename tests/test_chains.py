"""Why each scenario moves its headlines: every chain of mechanisms that docs/scenarios.md
describes is checked by switching its middle link off and seeing the effect vanish (or turn).

Each test measures the scenario's paired effect against baseline twice over the same seeds:
with the model as it is, and with one mechanism in the middle of the chain disabled in both
arms. A chain that is wired as documented shows a clear effect in the first measurement and
none (or the opposite sign) in the second.
"""

from __future__ import annotations

import pytest
from paired import paired_effect

pytestmark = pytest.mark.slow

SEEDS = range(5)
NO_PROXIES = ("distillation.proxy_accounts_max=0",)
ARCHETYPES = ("bytedance", "tencent", "ant_group", "meituan")
NO_EVASION = ("customers.evade_propensity=0",) + tuple(
    f"customers.archetypes.{a}.evade=0" for a in ARCHETYPES
)
#: The intermediary's safeguards held where they start, in both arms: its hill climb reacts
#: to every change in its revenue, and the path it then takes would blur the chain tested.
PINNED = ("intermediaries.azure.adaptive=false",)


def _significant(effect: tuple[float, float, float]) -> int:
    """+1 or -1 when the 95% interval excludes zero, else 0."""
    mean, lo, hi = effect
    return 1 if lo > 0 else -1 if hi < 0 else 0


def test_tightening_creates_violations_only_through_evasion():
    # Tightened rules -> restricted firms try shells -> violations. No evasion, no violations.
    assert _significant(paired_effect("violations", "tightened_export_rules", SEEDS)) == 1
    off = paired_effect("violations", "tightened_export_rules", SEEDS, NO_EVASION)
    assert off == (0.0, 0.0, 0.0)


def test_tightening_does_not_cut_extraction_because_of_proxies_and_the_intermediarys_answer():
    # Restricting customers does not touch extraction run over proxy accounts. Without
    # proxies, and with monitoring off so that harvesters keep extracting in their own
    # accounts, restriction cuts their extraction.
    in_account = NO_PROXIES + (
        "intermediaries.azure.monitoring0=0.0",
        "intermediaries.azure.monitoring_min=0.0",
        "intermediaries.azure.adaptive=false",
    )
    seeds = range(10)  # shells keep some of them extracting: a small cut, 10 seeds
    effect = paired_effect("harvested_samples", "tightened_export_rules", seeds, in_account)
    assert _significant(effect) == -1
    # With proxies and the intermediary's safeguards held, extraction does not move.
    level = summary_level("harvested_samples", PINNED)
    effect = paired_effect("harvested_samples", "tightened_export_rules", SEEDS, PINNED)
    assert abs(effect[0]) < 0.01 * level
    # Left free, the intermediary answers in two ways: fines for shells push its KYC up (fewer
    # proxy accounts), and the revenue it no longer risks through developer pressure lowers
    # its monitoring. Together: no cut. Without the pressure term, only the first is left,
    # and the rules cut extraction (docs/model.md, section 8).
    effect = paired_effect("harvested_samples", "tightened_export_rules", seeds)
    assert _significant(effect) != -1
    no_cost = ("intermediaries.azure.relationship_cost=0",)
    effect = paired_effect("harvested_samples", "tightened_export_rules", seeds, no_cost)
    assert _significant(effect) == -1


def test_an_extraction_surge_triggers_withdrawals_through_what_developers_find_themselves():
    # Threefold extraction -> the labs find more of the unflagged extraction themselves ->
    # pressure -> withdrawal. A lab that finds nothing itself and ignores reports never does.
    assert _significant(paired_effect("model_withdrawals", "extraction_surge", SEEDS)) == 1
    blind = tuple(
        f"developers.{d}.{k}=0"
        for d in ("us_frontier", "us_second")
        for k in ("own_detection", "report_weight")
    ) + ("history=none",)
    assert paired_effect("model_withdrawals", "extraction_surge", SEEDS, blind) == (0.0, 0.0, 0.0)


def test_leaky_safeguards_raise_extraction_through_deterrence_and_detection():
    assert _significant(paired_effect("harvested_samples", "leaky_safeguards", SEEDS)) == 1
    blind = ("distillation.deterrence=0", "detection.sensitivity=0")
    assert _significant(paired_effect("harvested_samples", "leaky_safeguards", SEEDS, blind)) != 1


def test_strict_safeguards_raise_channel_spend_only_through_lower_withdrawal_risk():
    # Strict safeguards cost honest customers (false positives, KYC rejections), but little
    # at the channel's scale: without the withdrawal-risk term, channel spend does not rise.
    # Less extraction keeps the developers' pressure lower, which buyers read as a lower risk
    # of losing the model: with that term the effect on spend is higher, seed by seed, and
    # positive.
    no_risk = ("demand.withdrawal_salience=0", *PINNED)
    assert (
        _significant(paired_effect("china_spend_foreign", "strict_safeguards", range(10), no_risk))
        != 1
    )
    assert _significant(paired_effect("china_spend_foreign", "strict_safeguards", range(10))) == 1
    from paired import summary

    gains = [
        (
            summary("strict_safeguards", (), s)["china_spend_foreign"]
            - summary("baseline", (), s)["china_spend_foreign"]
        )
        - (
            summary("strict_safeguards", no_risk, s)["china_spend_foreign"]
            - summary("baseline", no_risk, s)["china_spend_foreign"]
        )
        for s in range(10)
    ]
    assert min(gains) > 0


def test_strict_safeguards_cut_leakage_through_deterrence_and_detection():
    assert _significant(paired_effect("harvested_samples", "strict_safeguards", SEEDS)) == -1
    blind = ("distillation.deterrence=0", "detection.sensitivity=0")
    effect = paired_effect("harvested_samples", "strict_safeguards", SEEDS, blind)
    assert _significant(effect) != -1


def test_localisation_cuts_spend_through_the_offshore_cap_and_leaves_extraction_alone():
    assert (
        _significant(paired_effect("china_spend_foreign", "china_data_localization", SEEDS)) == -1
    )
    # Left free, the intermediary answers the revenue it loses with weaker safeguards (the
    # revenue it puts at risk through developer pressure shrinks with its revenue), which lets
    # a little more extraction through; without that cost in its objective, none.
    assert (
        _significant(paired_effect("harvested_samples", "china_data_localization", range(10))) == 1
    )
    no_cost = ("intermediaries.azure.relationship_cost=0",)
    effect = paired_effect("harvested_samples", "china_data_localization", range(10), no_cost)
    assert _significant(effect) != 1
    # Campaigns need access, not a share of spend: with the intermediary's safeguards held,
    # extraction is identical.
    assert paired_effect("harvested_samples", "china_data_localization", SEEDS, PINNED) == (
        0.0,
        0.0,
        0.0,
    )
    # The cut works through the cap: where no firm buys more than 30% offshore anyway (here
    # foreign models are made unattractive: at -4 the frontier's quality lead still keeps some
    # firms above 30%, at -8 none), a localisation share of 0.7 binds nobody and changes
    # nothing, to the last bit.
    from paired import summary

    light = ("demand.asc_foreign=-8", "demand.asc_reseller=-5")
    for s in SEEDS:
        free = summary("baseline", light, s)
        capped = summary("baseline", (*light, "cn.localisation=0.7"), s)
        assert capped == {**free, "localisation_final": 0.7}
        assert free["china_spend_foreign"] > 0


def test_domestic_catch_up_takes_spend_through_quality_and_price():
    assert _significant(paired_effect("china_spend_foreign", "domestic_catch_up", SEEDS)) == -1
    indifferent = ("demand.quality_weight=0", "demand.price_weight=0")
    effect = paired_effect("china_spend_foreign", "domestic_catch_up", SEEDS, indifferent)
    assert effect == (0.0, 0.0, 0.0)


def test_evasion_drives_violations_and_audits_drive_fines():
    assert _significant(paired_effect("violations", "reseller_evasion", SEEDS)) == 1
    assert _significant(paired_effect("fines", "reseller_evasion", SEEDS)) == 1
    no_audit = ("us.audit_prob=0", "history=none")  # the history raises audits in May 2025
    assert paired_effect("fines", "reseller_evasion", SEEDS, no_audit) == (0.0, 0.0, 0.0)


def test_decoupling_cuts_extraction_through_fines_and_the_intermediarys_kyc_response():
    # Decoupling -> shells caught -> fines -> the intermediary's hill climb lifts KYC from
    # the 0.95 duty to its maximum, where no proxy account can be opened -> extraction falls.
    seeds = range(10)
    adaptive = paired_effect("harvested_samples", "decoupling", seeds)
    assert _significant(adaptive) == -1
    # With the intermediary's own KYC held below the duty, KYC in force stays at 0.95 (room
    # for about a thousand proxy accounts): the cut goes.
    held = ("intermediaries.azure.kyc_max=0.6", "intermediaries.azure.kyc_min=0.6")
    assert _significant(paired_effect("harvested_samples", "decoupling", seeds, held)) != -1
    # Without fines the climb has far less reason to go there: most of the cut goes.
    no_fines = ("us.penalty_multiplier=0", "us.penalty_fixed_usd=0")
    effect = paired_effect("harvested_samples", "decoupling", seeds, no_fines)
    assert abs(effect[0]) < 0.5 * abs(adaptive[0])


def test_two_way_scrutiny_costs_the_intermediary_only_the_buyers_who_go_elsewhere():
    # Barred buyers move to US models on the same catalogue (same margin) or elsewhere.
    # If nobody can buy elsewhere, the intermediary loses nothing.
    effect = paired_effect("revenue_intermediary", "two_way_scrutiny", SEEDS)
    assert _significant(effect) == -1
    captive = ("international.asc_elsewhere=-60",)
    mean, lo, hi = paired_effect("revenue_intermediary", "two_way_scrutiny", SEEDS, captive)
    assert abs(mean) < 1e-6 * abs(effect[0]) + 1.0


def test_closing_the_channel_sends_spend_to_domestic_providers_through_substitution():
    assert _significant(paired_effect("revenue_domestic", "closed_channel", SEEDS)) == 1
    no_domestic = ("demand.asc_domestic=-60",)
    mean, lo, hi = paired_effect("revenue_domestic", "closed_channel", SEEDS, no_domestic)
    base = paired_effect("revenue_domestic", "closed_channel", SEEDS)
    assert abs(mean) < 1e-6 * base[0]


def test_endogenous_politics_tightens_only_through_attention():
    assert _significant(paired_effect("violations", "endogenous_politics", range(8))) == 1
    deaf = ("politics.weight_incident=0", "politics.weight_spend=0")
    assert paired_effect("violations", "endogenous_politics", range(8), deaf) == (0.0, 0.0, 0.0)


def summary_level(key: str, overrides: tuple[str, ...]) -> float:
    """The baseline's mean level of ``key`` over the seeds, with overrides."""
    from paired import summary

    return sum(summary("baseline", overrides, s)[key] for s in SEEDS) / len(SEEDS)
