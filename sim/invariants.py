"""Invariants every month of every run must satisfy (switch on with ``check.invariants=true``).

:func:`check_month` is called by ``MarketModel.step`` after the month's metrics are computed.
It reads the month's :class:`~sim.metrics.MonthOutcome`, the metrics and the model's state,
changes nothing, and raises :class:`InvariantError` naming the invariant, the month and the
offending values on the first violation. Every check is a handful of whole-array operations
over the customers, so a checked run costs little more than an unchecked one.

The invariants are listed in :data:`INVARIANTS` (name and meaning), the same names the errors
carry. Those about cumulative figures compare the state with the end of the previous month,
kept per model in a weak dictionary (so a finished model is still garbage-collected).
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.mechanisms.demand import DOMESTIC, FOREIGN, INHOUSE, RESELLER
from sim.metrics import MONTHLY

#: Every invariant checked, by the name its error carries, with what it promises.
INVARIANTS: dict[str, str] = {
    "budgets spent": "each customer's spend over the four options plus its proxy-account cost "
    "equals its budget this month",
    "proxy costs within budget": "no customer pays more for proxy accounts than its budget",
    "channel receipts": "what a customer pays for foreign models splits exactly into the "
    "intermediary's receipts at list price and the shell's margin",
    "money conserved": "what Chinese customers pay equals what the intermediary, the "
    "developers, shells and grey-market sellers, domestic providers and in-house teams receive; "
    "the same for international buyers, and the intermediary's revenue is the sum of its two "
    "segments",
    "fines": "the month's fines are the penalty formula applied to the violations found, and "
    "the intermediaries' fines to date grow by exactly that",
    "non-negative flows": "spend, receipts, margins, proxy costs, samples, accounts, fines and "
    "every metric that cannot be negative are finite and non-negative",
    "metrics defined": "every metric is a finite number, except those left empty exactly when "
    "they are undefined (no model served, nothing extracted, no honest user, no foreign spend)",
    "shares": "every share is in [0, 1]; the four options' shares sum to one (all zero when "
    "nothing is spent), and the intermediary's share is the two foreign options'",
    "offshore cap": "no customer's offshore share exceeds what localisation and rate limits allow",
    "safeguards in bounds": "monitoring and KYC stay within the intermediary's bounds, an adaptive "
    "intermediary's own KYC and the KYC in force never below the legal duty",
    "cumulative figures": "sample stocks, spend totals, offences, terminations, exposure and "
    "suspension counts, head starts, narrow skills, proxy use, fines to date and endogenous "
    "moves never decrease, and grow by exactly the month's flows where they are sums",
    "capability below the frontier": "no customer, domestic provider or Chinese model abroad "
    "is above the frontier at the month's end",
    "capability above its own path": "each party's capability is at least its own no-leakage "
    "path (leakage never makes anyone worse)",
    "gap": "the gap is non-negative, equals the frontier minus the best Chinese capability, "
    "its months convert back to it, the no-leakage gap is no smaller, gap_closed_months is "
    "their difference and leaked_capability the best minus the no-leakage best",
    "restricted served only through shells": "restricted customers buy nothing directly, and "
    "only restricted customers buy through shells",
    "violations counted": "every customer-month with shell spend is a violation and nothing "
    "else is; violations found are among them, and each found violator is blocked next month",
    "no service while shut out": "customers unapproved, barred, terminated or suspended at the "
    "month's start buy nothing directly, blocked ones nothing through shells, and nobody buys "
    "foreign models from a closed channel or when no US model is offered",
    "harvest accounting": "detected harvest never exceeds what was obtained, nor what was "
    "obtained what was planned; only harvesters run campaigns, and every campaign figure "
    "(plan, accounts, proxy cost, harvest, flags) is zero outside the month's campaigns; flags, "
    "offences, exposures and false positives fall on the accounts that can carry them; "
    "terminations follow enough offences",
    "rates": "recall and false-positive rates are in [0, 1] where defined and agree with the "
    "month's flags",
}

#: Metrics left empty (NaN) in a month exactly when the condition on the month holds.
_UNDEFINED = {
    "price_foreign": lambda m: m.outcome.served is None,
    "detection_recall": lambda m: not m.outcome.planned.sum() > 0,
    "detection_recall_own_accounts": lambda m: not m.outcome.planned[m.own_account].sum() > 0,
    "false_positive_rate": lambda m: not m.honest.any(),
    "compliance_rate": lambda m: not m.foreign_total > 0,
}

#: The four option shares of the month's metrics, in the order of ``demand.OPTIONS``.
OPTION_SHARES = ("share_foreign_direct", "share_reseller", "share_domestic", "share_inhouse")

RTOL = 1e-9
MONEY_ATOL = 1e-6  # USD (or samples): rounding of a difference of equal amounts, never a flow
SHOWN = 5  # offending customers shown in a message


class InvariantError(AssertionError):
    """A month broke one of the model's invariants; the message names it, the month and the
    offending values (``invariant``, ``month`` and ``detail`` hold them apart)."""

    def __init__(self, invariant: str, month: int, detail: str) -> None:
        super().__init__(f"invariant '{invariant}' broken in month {month}: {detail}")
        self.invariant = invariant
        self.month = month
        self.detail = detail


@dataclass
class _Snapshot:
    """The cumulative state at the end of a month, to compare the next month with."""

    month: int
    samples: np.ndarray
    received: np.ndarray
    spend_total: np.ndarray
    offences: np.ndarray
    terminated: np.ndarray
    suspended_until: np.ndarray
    blocked_until: np.ndarray
    head_start: np.ndarray
    narrow: np.ndarray
    on_proxies: np.ndarray
    detected_count: np.ndarray
    suspension_count: np.ndarray
    domestic_samples: float
    domestic_head_start: float
    fines_total: float
    policy_moves: int

    @classmethod
    def of(cls, model: Any) -> _Snapshot:
        pop = model.population
        return cls(
            month=model.month,
            samples=pop.samples.copy(),
            received=pop.received.copy(),
            spend_total=pop.spend_total.copy(),
            offences=pop.offences.copy(),
            terminated=pop.terminated.copy(),
            suspended_until=pop.suspended_until.copy(),
            blocked_until=pop.blocked_until.copy(),
            head_start=pop.head_start.copy(),
            narrow=pop.narrow.copy(),
            on_proxies=pop.on_proxies.copy(),
            detected_count=pop.detected_count.copy(),
            suspension_count=pop.suspension_count.copy(),
            domestic_samples=float(model.domestic.samples),
            domestic_head_start=float(model.domestic.head_start),
            fines_total=_fines_total(model),
            policy_moves=int(model.us.moves),
        )


_PREVIOUS: weakref.WeakKeyDictionary[Any, _Snapshot] = weakref.WeakKeyDictionary()


def _fines_total(model: Any) -> float:
    return math.fsum(i.fines_total for i in model.intermediaries.values())


@dataclass
class _Month:
    """What the checks read: the month, its outcome and metrics, the model, the last state."""

    t: int
    model: Any
    outcome: Any
    metrics: dict[str, float]
    previous: _Snapshot | None
    budget: np.ndarray
    own_account: np.ndarray
    honest: np.ndarray
    foreign_total: float

    def require(self, ok: Any, invariant: str, **values: Any) -> None:
        """Raise unless ``ok`` holds everywhere; name the first offending customers' values."""
        if ok is True or ok is np.True_:
            return
        assert invariant in INVARIANTS, invariant
        ok = np.asarray(ok, dtype=bool)
        if ok.all():
            return
        if ok.ndim == 0:
            detail = ", ".join(f"{k}={_fmt(v)}" for k, v in values.items())
            raise InvariantError(invariant, self.t, detail)
        bad = np.flatnonzero(~ok)
        shown = []
        for i in bad[:SHOWN]:
            parts = []
            for k, v in values.items():
                arr = np.asarray(v)
                parts.append(
                    f"{k}={_fmt(arr[i] if arr.ndim and arr.shape[0] == ok.shape[0] else v)}"
                )
            shown.append(f"customer {i}: " + ", ".join(parts))
        raise InvariantError(
            invariant, self.t, f"{bad.size} of {ok.size} customers; " + "; ".join(shown)
        )


def _fmt(v: Any) -> str:
    if isinstance(v, np.ndarray):
        return np.array2string(v, precision=6, threshold=8)
    if isinstance(v, float | np.floating):
        return f"{float(v):.10g}"
    return repr(v.item() if isinstance(v, np.generic) else v)


def _close(a: Any, b: Any, atol: float = 0.0) -> np.ndarray:
    """Elementwise ``a == b`` up to ``RTOL`` (relative) and ``atol`` (absolute)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.abs(a - b) <= atol + RTOL * np.maximum(np.abs(a), np.abs(b))


def _near(a: float, b: float, atol: float = 0.0) -> bool:
    """Scalar ``a == b`` up to ``RTOL`` (relative) and ``atol`` (absolute)."""
    return math.isclose(float(a), float(b), rel_tol=RTOL, abs_tol=atol)


def start(model: Any) -> None:
    """Record the state a model starts from, so that its first month is checked against it.

    Call it at the end of the model's construction (``MarketModel.__init__`` does when
    ``check.invariants`` is on). Without it, the first checked month has no history to
    compare with and the invariants about cumulative figures start from the second.
    """
    _PREVIOUS[model] = _Snapshot.of(model)
    _PREVIOUS[model].month = model.month - 1


def check_month(model: Any, outcome: Any, metrics: dict[str, float]) -> None:
    """Check the month just stepped; raise :class:`InvariantError` on the first violation.

    Call it after the month's phases and metrics, before the month counter moves on (as
    ``MarketModel.step`` does). Keeps this month's cumulative state for the next call.
    """
    t = model.month
    previous = _PREVIOUS.get(model)
    if previous is not None and previous.month != t - 1:
        previous = None  # months were stepped unchecked: no history to compare with
    pop = model.population
    own_account = outcome.campaigns & (outcome.accounts <= 1)
    spend = outcome.spend
    month = _Month(
        t=t,
        model=model,
        outcome=outcome,
        metrics=metrics,
        previous=previous,
        budget=pop.budget0 * model.budget_factor,
        own_account=own_account,
        honest=outcome.using & ~own_account,
        foreign_total=float(spend[:, FOREIGN].sum() + spend[:, RESELLER].sum()),
    )
    for check in _CHECKS:
        check(month)
    _PREVIOUS[model] = _Snapshot.of(model)


# ---------------------------------------------------------------------------------- money


def _money(m: _Month) -> None:
    o, s, model = m.outcome, m.metrics, m.model
    spend = o.spend
    paid = spend.sum(axis=1)
    m.require(
        o.proxy_cost <= m.budget * (1 + RTOL) + MONEY_ATOL,
        "proxy costs within budget",
        proxy_cost=o.proxy_cost,
        budget=m.budget,
    )
    m.require(
        _close(paid + o.proxy_cost, m.budget, MONEY_ATOL),
        "budgets spent",
        spend=spend,
        proxy_cost=o.proxy_cost,
        budget=m.budget,
    )
    foreign = spend[:, FOREIGN] + spend[:, RESELLER]
    m.require(
        _close(o.receipts + o.reseller_margin, foreign, MONEY_ATOL)
        & (o.receipts <= foreign + MONEY_ATOL),
        "channel receipts",
        receipts=o.receipts,
        reseller_margin=o.reseller_margin,
        foreign_spend=foreign,
    )
    customers_pay = float(paid.sum() + o.proxy_cost.sum())
    parties_receive = math.fsum(
        (
            s["revenue_intermediary_china"],
            s["revenue_developers"],
            s["revenue_resellers"],
            s["revenue_domestic"],
            s["spend_inhouse"],
        )
    )
    m.require(
        _near(customers_pay, parties_receive, MONEY_ATOL),
        "money conserved",
        customers_pay=customers_pay,
        parties_receive=parties_receive,
    )
    m.require(
        _near(customers_pay, float(m.budget.sum()), MONEY_ATOL),
        "money conserved",
        customers_pay=customers_pay,
        budgets=float(m.budget.sum()),
    )
    flows = {
        "china_spend_foreign": foreign.sum(),
        "spend_foreign_direct": spend[:, FOREIGN].sum(),
        "spend_reseller": spend[:, RESELLER].sum(),
        "spend_domestic": spend[:, DOMESTIC].sum(),
        "spend_inhouse": spend[:, INHOUSE].sum(),
        "revenue_domestic": spend[:, DOMESTIC].sum(),
        "spend_proxies": o.proxy_cost.sum(),
        "revenue_intermediary": s["revenue_intermediary_china"]
        + s["revenue_intermediary_international"],
    }
    for key, expected in flows.items():
        m.require(
            _near(s[key], expected, MONEY_ATOL),
            "money conserved",
            metric=key,
            value=s[key],
            expected=float(expected),
        )
    intl = o.international
    pop_i = model.international
    intl_budget = (
        float(pop_i.budget0.sum()) * (1.0 + model.config.international.budget_growth) ** m.t
    )
    bought = intl["spend_us"] + intl["spend_chinese"]
    m.require(
        _near(bought + intl["spend_elsewhere"], intl_budget, MONEY_ATOL),
        "money conserved",
        international_spend=bought + intl["spend_elsewhere"],
        international_budget=intl_budget,
    )
    m.require(
        _near(
            intl["margin"] + intl["us_developers"] + intl["cn_developer"],
            bought,
            MONEY_ATOL,
        ),
        "money conserved",
        international_received=intl["margin"] + intl["us_developers"] + intl["cn_developer"],
        international_paid=bought,
    )


def _fines(m: _Month) -> None:
    o, us = m.outcome, m.model.us
    found = o.found
    expected = float(
        np.maximum(us.penalty_fixed_usd, us.penalty_multiplier * o.spend[found, RESELLER]).sum()
    )
    m.require(_near(o.fines, expected, MONEY_ATOL), "fines", fines=o.fines, expected=expected)
    m.require(
        _near(m.metrics["fines"], o.fines, MONEY_ATOL),
        "fines",
        metric=m.metrics["fines"],
        fines=o.fines,
    )
    if m.previous is not None:
        grown = _fines_total(m.model) - m.previous.fines_total
        m.require(
            _near(grown, o.fines, MONEY_ATOL),
            "fines",
            fines_to_date_growth=grown,
            fines=o.fines,
        )


# ---------------------------------------------------------------------------------- flows


def _flows(m: _Month) -> None:
    o = m.outcome
    arrays = {
        "spend": o.spend,
        "receipts": o.receipts,
        "reseller_margin": o.reseller_margin,
        "proxy_cost": o.proxy_cost,
        "planned": o.planned,
        "obtained": o.obtained,
        "detected": o.detected,
        "accounts": o.accounts,
        "flagged_accounts": o.flagged_accounts,
    }
    for name, values in arrays.items():
        v = np.asarray(values, dtype=float)
        ok = np.isfinite(v) & (v >= -MONEY_ATOL)
        if ok.ndim > 1:
            ok = ok.all(axis=1)
        m.require(ok, "non-negative flows", array=name, value=v)
    for key, v in o.international.items():
        m.require(
            math.isfinite(v) and v >= -MONEY_ATOL, "non-negative flows", international=key, value=v
        )
    m.require(math.isfinite(o.fines) and o.fines >= 0, "non-negative flows", fines=o.fines)
    for metric in MONTHLY:
        value = m.metrics[metric.name]
        undefined = _UNDEFINED.get(metric.name)
        if undefined is not None and undefined(m):
            m.require(math.isnan(value), "metrics defined", metric=metric.name, value=value)
            continue
        m.require(math.isfinite(value), "metrics defined", metric=metric.name, value=value)
        if metric.nonneg:
            m.require(value >= -MONEY_ATOL, "non-negative flows", metric=metric.name, value=value)


# ---------------------------------------------------------------------------------- shares


def _shares(m: _Month) -> None:
    s, o = m.metrics, m.outcome
    for metric in MONTHLY:
        value = s[metric.name]
        if metric.unit == "share" and not math.isnan(value):
            m.require(0.0 <= value <= 1.0, "shares", metric=metric.name, value=value)
    shares = [s[k] for k in OPTION_SHARES]
    total = math.fsum(shares)
    spent = float(o.spend.sum()) > 0
    m.require(
        _near(total, 1.0 if spent else 0.0, 1e-12),
        "shares",
        **dict(zip(OPTION_SHARES, shares, strict=True)),
    )
    m.require(
        _near(s["intermediary_share"], s["share_foreign_direct"] + s["share_reseller"], 1e-12),
        "shares",
        intermediary_share=s["intermediary_share"],
        foreign_shares=s["share_foreign_direct"] + s["share_reseller"],
    )
    model = m.model
    pop = model.population
    config = model.config
    paid = o.spend.sum(axis=1)
    offshore = np.divide(
        o.spend[:, FOREIGN] + o.spend[:, RESELLER], paid, out=np.zeros_like(paid), where=paid > 0
    )
    rate_limit = np.array([i.rate_limit for i in model.intermediaries.values()])[pop.intermediary]
    localisation = model.cn.localisation
    if o.policy_move:  # China may have retaliated after demand: the cap in force was looser
        localisation = max(localisation - config.politics.retaliation_step, 0.0)
    cap = np.minimum(1.0 - localisation, 1.0 - rate_limit * config.demand.bulk_share)
    m.require(offshore <= cap + 1e-9, "offshore cap", offshore_share=offshore, cap=cap)


def _safeguards(m: _Month) -> None:
    duty = m.model.us.kyc_duty
    for key, inter in m.model.intermediaries.items():
        lo, hi = inter.bounds["monitoring"]
        pinned = "monitoring" in inter.pinned or not inter.adaptive
        m.require(
            0.0 <= inter.monitoring <= 1.0
            and (pinned or lo - 1e-12 <= inter.monitoring <= hi + 1e-12),
            "safeguards in bounds",
            intermediary=key,
            monitoring=inter.monitoring,
            bounds=(lo, hi),
        )
        kyc_pinned = "kyc" in inter.pinned or not inter.adaptive
        lo, hi = inter.bounds["kyc"]
        m.require(
            0.0 <= inter.kyc <= 1.0
            and (
                kyc_pinned
                or (lo - 1e-12 <= inter.kyc <= hi + 1e-12 and inter.kyc >= min(duty, hi) - 1e-12)
            ),
            "safeguards in bounds",
            intermediary=key,
            kyc=inter.kyc,
            kyc_duty=duty,
            bounds=(lo, hi),
        )
    m.require(
        m.metrics["kyc"] >= duty - 1e-12,
        "safeguards in bounds",
        kyc=m.metrics["kyc"],
        kyc_duty=duty,
    )


# ---------------------------------------------------------------------------------- cumulative


def _cumulative(m: _Month) -> None:
    prev = m.previous
    if prev is None:
        return
    o, model = m.outcome, m.model
    pop, dom = model.population, model.domestic
    exact = {
        "samples": (pop.samples, prev.samples + o.obtained),
        "spend_total": (pop.spend_total, prev.spend_total + o.spend),
        "offences": (pop.offences, prev.offences + o.offences),
        "detected_count": (pop.detected_count, prev.detected_count + o.exposed),
    }
    for name, (now, expected) in exact.items():
        ok = _close(now, expected, MONEY_ATOL)
        m.require(
            ok.all(axis=1) if ok.ndim > 1 else ok,
            "cumulative figures",
            figure=name,
            now=now,
            expected=expected,
        )
    growing = {
        "received": (pop.received, prev.received),
        "head_start": (pop.head_start, prev.head_start),
        "narrow": (pop.narrow, prev.narrow),
        "suspension_count": (pop.suspension_count, prev.suspension_count),
    }
    for name, (now, before) in growing.items():
        m.require(now >= before, "cumulative figures", figure=name, now=now, before=before)
    kept = {
        "terminated": (pop.terminated, prev.terminated),
        "on_proxies": (pop.on_proxies, prev.on_proxies),
    }
    for name, (now, before) in kept.items():
        m.require(now | ~before, "cumulative figures", figure=name, now=now, before=before)
    scalars = {
        "domestic samples": (float(dom.samples), prev.domestic_samples),
        "domestic head start": (float(dom.head_start), prev.domestic_head_start),
        "fines to date": (_fines_total(model), prev.fines_total),
        "endogenous moves": (float(model.us.moves), float(prev.policy_moves)),
    }
    for name, (now, before) in scalars.items():
        m.require(now >= before, "cumulative figures", figure=name, now=now, before=before)
    m.require(
        m.metrics["terminated_accounts"] == int(pop.terminated.sum())
        and m.metrics["terminated_accounts"] >= int(prev.terminated.sum()),
        "cumulative figures",
        terminated_accounts=m.metrics["terminated_accounts"],
        before=int(prev.terminated.sum()),
    )
    m.require(
        m.metrics["policy_moves"] == model.us.moves - prev.policy_moves,
        "cumulative figures",
        policy_moves=m.metrics["policy_moves"],
        moves_to_date=model.us.moves,
        before=prev.policy_moves,
    )


# ---------------------------------------------------------------------------------- capability


def _capability(m: _Month) -> None:
    o, s, model = m.outcome, m.metrics, m.model
    pop, dom = model.population, model.domestic
    frontier = o.frontier
    tol = 1e-12 * max(frontier, 1.0)
    m.require(
        s["capability_frontier"] == frontier,
        "capability below the frontier",
        metric=s["capability_frontier"],
        frontier=frontier,
    )
    for name, values in (("customer capability", pop.capability), ("customer own path", pop.own)):
        m.require(
            values <= frontier + tol,
            "capability below the frontier",
            party=name,
            capability=values,
            frontier=frontier,
        )
    for name, value in (
        ("domestic capability", dom.capability),
        ("domestic own path", dom.own),
        ("best Chinese capability", s["capability_best_china"]),
    ):
        m.require(
            value <= frontier + tol,
            "capability below the frontier",
            party=name,
            capability=value,
            frontier=frontier,
        )
    served_frontier = model.frontier.capability(m.t)
    quality_cn = o.international["quality_chinese"]
    m.require(
        quality_cn <= served_frontier * (1 + 1e-12),
        "capability below the frontier",
        party="Chinese model abroad",
        capability=quality_cn,
        frontier=served_frontier,
    )
    m.require(
        pop.capability >= pop.own - tol,
        "capability above its own path",
        capability=pop.capability,
        own=pop.own,
    )
    m.require(
        (pop.head_start >= 0) & np.isfinite(pop.head_start),
        "capability above its own path",
        head_start=pop.head_start,
    )
    m.require(
        dom.capability >= dom.own - tol and dom.head_start >= 0,
        "capability above its own path",
        party="domestic providers",
        capability=dom.capability,
        own=dom.own,
        head_start=dom.head_start,
    )


def _gap(m: _Month) -> None:
    s, model = m.metrics, m.model
    pop, dom = model.population, model.domestic
    frontier = m.outcome.frontier
    best = max(dom.capability, float(pop.capability.max()) if pop.size else 0.0)
    shadow = max(dom.own, float(pop.own.max()) if pop.size else 0.0)
    gap, gap_months = s["capability_gap"], s["capability_gap_months"]
    without, closed = s["capability_gap_months_no_leakage"], s["gap_closed_months"]
    m.require(
        s["capability_best_china"] == best, "gap", best_metric=s["capability_best_china"], best=best
    )
    m.require(
        gap >= 0 and _near(gap, frontier - best, 1e-12),
        "gap",
        capability_gap=gap,
        frontier=frontier,
        best=best,
    )
    m.require(
        gap_months >= 0 and without >= gap_months - 1e-9,
        "gap",
        gap_months=gap_months,
        no_leakage=without,
    )
    m.require(
        _near(closed, without - gap_months, 1e-9),
        "gap",
        gap_closed_months=closed,
        no_leakage=without,
        gap_months=gap_months,
    )
    m.require(
        _near(s["leaked_capability"], best - shadow, 1e-12) and best >= shadow,
        "gap",
        leaked_capability=s["leaked_capability"],
        best=best,
        no_leakage_best=shadow,
    )
    growth = model.frontier.growth
    if growth > 0 and best > 0:
        # the months convert back into the gap: best * (1 + g)^months reaches the frontier
        m.require(
            _near(gap_months * math.log1p(growth), math.log(max(frontier, best) / best), 1e-12),
            "gap",
            gap_months=gap_months,
            best=best,
            frontier=frontier,
            growth=growth,
        )


# ---------------------------------------------------------------------------------- access


def _access(m: _Month) -> None:
    o, s, model, t = m.outcome, m.metrics, m.model, m.t
    pop = model.population
    direct, shells = o.spend[:, FOREIGN], o.spend[:, RESELLER]
    m.require(
        ~o.restricted | (direct == 0),
        "restricted served only through shells",
        restricted=o.restricted,
        spend_direct=direct,
    )
    m.require(
        o.restricted | (shells == 0),
        "restricted served only through shells",
        restricted=o.restricted,
        spend_shells=shells,
    )
    m.require(
        o.violations == (shells > 0),
        "violations counted",
        violation=o.violations,
        spend_shells=shells,
    )
    m.require(~o.found | o.violations, "violations counted", found=o.found, violation=o.violations)
    m.require(
        ~o.found | (pop.blocked_until > t),
        "violations counted",
        found=o.found,
        blocked_until=pop.blocked_until,
    )
    m.require(
        s["violations"] == int(o.violations.sum())
        and s["violations_detected"] == int(o.found.sum()),
        "violations counted",
        violations=s["violations"],
        shell_months=int(o.violations.sum()),
        found_metric=s["violations_detected"],
        found=int(o.found.sum()),
    )
    m.require(
        pop.approved | (direct == 0),
        "no service while shut out",
        approved=pop.approved,
        spend_direct=direct,
    )
    barred_ids = [pop.sector_names.index(b) for b in model.cn.barred_sectors]
    barred = np.isin(pop.sector, barred_ids)
    m.require(
        ~barred | ((direct == 0) & (shells == 0)),
        "no service while shut out",
        barred=barred,
        spend_direct=direct,
        spend_shells=shells,
    )
    open_ = np.array([i.channel_open for i in model.intermediaries.values()])[pop.intermediary]
    open_ &= o.served is not None
    m.require(
        open_ | ((direct == 0) & (shells == 0) & ~o.campaigns),
        "no service while shut out",
        channel_open=open_,
        spend_direct=direct,
        spend_shells=shells,
        campaign=o.campaigns,
    )
    prev = m.previous
    if prev is not None:
        m.require(
            ~prev.terminated | ((direct == 0) & (shells == 0)),
            "no service while shut out",
            terminated_before=prev.terminated,
            spend_direct=direct,
            spend_shells=shells,
        )
        suspended = prev.suspended_until >= t
        m.require(
            ~suspended | (direct == 0),
            "no service while shut out",
            suspended_until=prev.suspended_until,
            spend_direct=direct,
        )
        blocked = prev.blocked_until >= t
        m.require(
            ~blocked | (shells == 0),
            "no service while shut out",
            blocked_until=prev.blocked_until,
            spend_shells=shells,
        )


# ---------------------------------------------------------------------------------- harvest


def _harvest(m: _Month) -> None:
    o, s, model = m.outcome, m.metrics, m.model
    pop = model.population
    tol = 1e-9 * np.maximum(o.planned, 1.0)
    m.require(
        o.detected <= o.obtained + tol,
        "harvest accounting",
        detected=o.detected,
        obtained=o.obtained,
    )
    m.require(
        o.obtained <= o.planned + tol, "harvest accounting", obtained=o.obtained, planned=o.planned
    )
    m.require(
        ~o.campaigns | (pop.intent > 0),
        "harvest accounting",
        campaign=o.campaigns,
        intent=pop.intent,
    )
    m.require(
        o.campaigns
        | (
            (o.planned == 0)
            & (o.accounts == 0)
            & (o.proxy_cost == 0)
            & (o.obtained == 0)
            & (o.detected == 0)
            & (o.flagged_volume == 0)
        ),
        "harvest accounting",
        campaign=o.campaigns,
        planned=o.planned,
        accounts=o.accounts,
        proxy_cost=o.proxy_cost,
        obtained=o.obtained,
        detected=o.detected,
        flagged_volume=o.flagged_volume,
    )
    m.require(
        ~o.campaigns | (o.accounts >= 1),
        "harvest accounting",
        campaign=o.campaigns,
        accounts=o.accounts,
    )
    m.require(
        o.flagged_accounts <= o.accounts,
        "harvest accounting",
        flagged=o.flagged_accounts,
        accounts=o.accounts,
    )
    m.require(
        (o.proxy_cost == 0) | (o.campaigns & (o.accounts >= 2)),
        "harvest accounting",
        proxy_cost=o.proxy_cost,
        accounts=o.accounts,
    )
    m.require(
        ~o.offences | (m.own_account & (o.flagged_accounts > 0)),
        "harvest accounting",
        offence=o.offences,
        own_account=m.own_account,
        flagged=o.flagged_accounts,
    )
    m.require(~o.offences | o.exposed, "harvest accounting", offence=o.offences, exposed=o.exposed)
    m.require(
        ~o.exposed | o.campaigns, "harvest accounting", exposed=o.exposed, campaign=o.campaigns
    )
    m.require(
        ~o.false_positives | m.honest,
        "harvest accounting",
        false_positive=o.false_positives,
        honest_user=m.honest,
    )
    thresholds = np.array([i.terminate_after for i in model.intermediaries.values()])
    m.require(
        ~pop.terminated | ((pop.offences >= thresholds[pop.intermediary]) & (pop.intent > 0)),
        "harvest accounting",
        terminated=pop.terminated,
        offences=pop.offences,
        intent=pop.intent,
    )
    obtained, detected = float(o.obtained.sum()), float(o.detected.sum())
    planned = float(o.planned.sum())
    figures = {
        "harvested_samples": obtained,
        "harvested_samples_detected": detected,
        "harvested_samples_undetected": obtained - detected,
        "harvest_prevented_samples": planned - obtained,
        "harvested_tokens": obtained * model.config.distillation.tokens_per_sample,
        "harvesting_customers": int(o.campaigns.sum()),
        "harvest_accounts": int(o.accounts.sum()),
    }
    for key, expected in figures.items():
        m.require(
            _near(s[key], expected, 1e-6),
            "harvest accounting",
            metric=key,
            value=s[key],
            expected=expected,
        )


def _rates(m: _Month) -> None:
    o, s = m.outcome, m.metrics
    planned = float(o.planned.sum())
    if planned > 0:
        recall = s["detection_recall"]
        m.require(
            0 <= recall <= 1 and _near(recall, float(o.flagged_volume.sum()) / planned, 1e-12),
            "rates",
            detection_recall=recall,
            flagged_share=float(o.flagged_volume.sum()) / planned,
        )
    own_planned = float(o.planned[m.own_account].sum())
    if own_planned > 0:
        m.require(
            0 <= s["detection_recall_own_accounts"] <= 1,
            "rates",
            detection_recall_own_accounts=s["detection_recall_own_accounts"],
        )
    m.require(
        (o.flagged_volume <= o.planned * (1 + 1e-12)),
        "rates",
        flagged_volume=o.flagged_volume,
        planned=o.planned,
    )
    if m.honest.any():
        rate = s["false_positive_rate"]
        expected = float(o.false_positives.sum()) / int(m.honest.sum())
        m.require(
            0 <= rate <= 1 and _near(rate, expected, 1e-12),
            "rates",
            false_positive_rate=rate,
            flagged_share=expected,
        )


_CHECKS = (
    _flows,
    _money,
    _fines,
    _shares,
    _safeguards,
    _cumulative,
    _capability,
    _gap,
    _access,
    _harvest,
    _rates,
)
