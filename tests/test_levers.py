"""Response curves: every policy lever swept across its range moves the outcomes it should,
in the documented direction, without jumps the docs do not explain.

Each lever is set from month 0 at five grid points over the same seeds (common random
numbers: the differences between grid points are paired). For every documented outcome:
the change from the bottom to the top of the range has the documented sign with a paired
95% interval that excludes zero; the curve of seed means never moves against that direction
by more than a small tolerance; and no step between adjacent grid points exceeds the stated
share of the total change, except where docs/model.md (section "Responses to the levers")
explains a threshold, which the test then checks for what it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from paired import summary

pytestmark = pytest.mark.slow

SEEDS = range(3)
SIZE = ("customers.n=1000", "horizon=36", "history=none")
#: Safeguards held where they start: the hill climb would blur thresholds with its own path.
HELD = ("intermediaries.azure.adaptive=false",)
GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
SOME_RESTRICTED = ("us.rule_level=0.3",)
PINNED_MONITORING = ("intermediaries.azure.adaptive=false", "intermediaries.azure.monitoring_min=0")


@dataclass(frozen=True)
class Curve:
    """A lever, an outcome, its documented direction and the largest step allowed."""

    lever: str
    outcome: str
    direction: int
    max_step: float
    extra: tuple[str, ...] = ()
    grid: tuple[float, ...] = GRID


CURVES = (
    # The named buyers dominate spend: the step that first restricts one of them is the
    # largest (docs: "Responses to the levers").
    Curve("us.rule_level", "china_spend_foreign", -1, 0.85),
    Curve("us.rule_level", "revenue_domestic", +1, 0.8),
    Curve("us.rule_level", "violations", +1, 0.4),
    Curve("us.audit_prob", "violations_detected", +1, 0.45, SOME_RESTRICTED),
    # Shell use falls exponentially with the audit risk in the logit: the first step is the
    # largest (docs: "Responses to the levers").
    Curve("us.audit_prob", "spend_reseller", -1, 0.85, SOME_RESTRICTED),
    # Safeguards held: the deterrence of the penalty alone (the hill climb's own path, which
    # the fines also steer, is noise of the size of this effect in a run of 36 months).
    Curve(
        "us.penalty_multiplier",
        "spend_reseller",
        -1,
        0.45,
        (*SOME_RESTRICTED, *HELD),
        (0, 2.5, 5, 7.5, 10),
    ),
    Curve("intermediaries.azure.monitoring0", "harvested_samples", -1, 0.5, PINNED_MONITORING),
    Curve(
        "intermediaries.azure.monitoring0", "false_positive_suspensions", +1, 0.4, PINNED_MONITORING
    ),
    Curve(
        "intermediaries.azure.monitoring0", "gap_closed_months_final", -1, 0.45, PINNED_MONITORING
    ),
    Curve("us.two_way_restriction", "revenue_two_way", -1, 0.4),
    Curve("us.two_way_restriction", "international_spend_us", +1, 0.4),
)


def _curve(lever: str, outcome: str, grid, extra) -> np.ndarray:
    """Outcome by grid point (rows) and seed (columns)."""
    return np.array(
        [
            [summary("baseline", (*SIZE, *extra, f"{lever}={v}"), s)[outcome] or 0.0 for s in SEEDS]
            for v in grid
        ]
    )


@pytest.mark.parametrize("curve", CURVES, ids=lambda c: f"{c.lever}->{c.outcome}")
def test_response_curve(curve: Curve):
    values = _curve(curve.lever, curve.outcome, curve.grid, curve.extra)
    ends = curve.direction * (values[-1] - values[0])
    assert (ends > 0).all(), f"{curve.outcome} does not move as documented in every seed: {ends}"
    means = values.mean(axis=1)
    total = means[-1] - means[0]
    steps = np.diff(means) / total
    assert (steps > -0.05).all(), f"{curve.outcome} turns back along the range: {steps}"
    assert steps.max() <= curve.max_step, f"{curve.outcome}: a step of {steps.max():.0%}"


def test_kyc_duty_binds_only_above_the_intermediarys_own_kyc_and_ends_proxies_at_one():
    # KYC in force is max(own, duty): a duty below the intermediary's own strictness (0.6)
    # changes nothing. Shell success falls with KYC in force, to zero at 1; at full KYC no
    # proxy account can be opened, so extraction stops once every harvester is exposed.
    lever = "us.kyc_duty"
    violations = _curve(lever, "violations", GRID, SOME_RESTRICTED + HELD).mean(axis=1)
    harvest = _curve(lever, "harvested_samples", GRID, SOME_RESTRICTED + HELD).mean(axis=1)
    assert violations[0] == violations[1] == violations[2] > violations[3] > violations[4] == 0
    assert harvest[0] == harvest[1] == harvest[2]
    assert harvest[4] < 0.1 * harvest[0]


def test_localisation_binds_only_once_it_caps_someones_offshore_share():
    # The cap 1 - loc binds only customers buying more than that share offshore, so the
    # curve is flat at first (where the cap binds nobody it changes nothing at all, as
    # tests/test_chains.py checks), then channel spend falls to zero at 1 and domestic
    # revenue takes it.
    lever = "cn.localisation"
    spend = _curve(lever, "china_spend_foreign", GRID, HELD).mean(axis=1)
    domestic = _curve(lever, "revenue_domestic", GRID, HELD).mean(axis=1)
    assert (np.diff(spend) <= 0).all() and spend[-1] == 0
    assert (np.diff(domestic) >= 0).all() and domestic[-1] > domestic[0]
    assert spend[0] - spend[1] < spend[2] - spend[3]  # the cut grows as the cap binds more


def test_audits_find_violations_and_block_them_so_fines_rise_then_fall():
    # Fines are found violations times the penalty. More audits find more of them but also
    # block the violators they find, so violations fall with the audit probability and fines
    # rise at first, then fall back.
    fines = _curve("us.audit_prob", "fines", GRID, SOME_RESTRICTED + HELD).mean(axis=1)
    violations = _curve("us.audit_prob", "violations", GRID, SOME_RESTRICTED + HELD)
    violations = violations.mean(axis=1)
    assert fines[1] > fines[0] == 0
    assert (np.diff(violations) < 0).all()


def test_penalties_raise_fines_until_they_deter_the_violations_they_fine():
    # Fines are the penalty on each violation found: they rise with the multiple at first,
    # then level off as the risk term shrinks what restricted firms buy through shells.
    grid = (0, 2.5, 5, 7.5, 10)
    fines = _curve("us.penalty_multiplier", "fines", grid, SOME_RESTRICTED + HELD).mean(axis=1)
    violations = _curve("us.penalty_multiplier", "violations", grid, SOME_RESTRICTED + HELD)
    violations = violations.mean(axis=1)
    assert fines[1] > fines[0]
    # Less than proportional: doubling the multiple from 5 to 10 does not double the fines,
    # because the transactions it multiplies shrink. The count of violations (customer-months
    # served through a shell) is set by evasion attempts, which penalties do not deter.
    assert fines[4] < 1.5 * fines[2]
    assert (violations == violations[0]).all()
