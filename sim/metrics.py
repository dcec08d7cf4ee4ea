"""The results contract and the metric registry: every metric defined once.

``MONTHLY`` lists the columns of ``timeseries.csv``: name, unit, meaning, how the run summary
uses it, and how a reader sees it (a short label, whether more is better or worse and for
whom, whether it can be negative). ``summarise`` turns the monthly records into the headline
figures of ``summary.json``; :func:`metric` finds the definition of any monthly or summary
key, and :func:`format_value` / :func:`axis_scale` print and plot it in human units. The
headline on the command line, the figures, the report, the docs and the dashboard all read
these definitions, so a label or a unit is never typed twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

HIGHER, LOWER = "higher", "lower"


@dataclass(frozen=True)
class Metric:
    """One metric: its unit, meaning, summary rule and how to present it.

    ``summary`` is "sum" (cumulative in the run summary, same key), "final" (``NAME_final``)
    or "" (monthly only). ``better`` is "higher", "lower" or "" (context, no direction), as
    seen by ``whom`` (the party whose interest the direction expresses). ``nonneg`` says the
    quantity cannot be negative (figures clip their bands at zero).
    """

    name: str
    unit: str
    doc: str
    summary: str = ""
    label: str = ""
    better: str = ""
    whom: str = ""
    nonneg: bool = True

    @property
    def title(self) -> str:
        """The label with its unit, for axes and table headers."""
        scale, unit = axis_scale(self.unit)
        return f"{self.label or self.name} ({unit})" if unit else (self.label or self.name)


INTERMEDIARY, DEVELOPERS, DOMESTIC = "the intermediary", "US developers", "domestic providers"
US_CONTROLS, COMPLIANCE, CHINESE_LAB = "US export control", "compliance", "the Chinese lab"


def _m(name, unit, doc, summary="", label="", better="", whom="", nonneg=True) -> Metric:
    return Metric(name, unit, doc, summary, label, better, whom, nonneg)


# fmt: off
MONTHLY: tuple[Metric, ...] = (
    _m("china_spend_foreign", "USD", "Chinese customers' spend on foreign models via the intermediary (direct and through shells)", "sum", "China spend on foreign models", HIGHER, INTERMEDIARY),
    _m("spend_foreign_direct", "USD", "Of which bought directly by approved, unrestricted customers", "sum", "foreign spend, direct", HIGHER, INTERMEDIARY),
    _m("spend_reseller", "USD", "Of which bought through resellers or shells by restricted customers", "sum", "foreign spend via shells", LOWER, COMPLIANCE),
    _m("spend_domestic", "USD", "Chinese customers' spend on domestic providers", "", "spend on domestic providers", HIGHER, DOMESTIC),
    _m("spend_inhouse", "USD", "Chinese customers' cost of serving in-house models", "", "spend on in-house models"),
    _m("spend_proxies", "USD", "Harvesters' cost of proxy accounts for extraction (paid to grey-market sellers)", "sum", "spend on proxy accounts", LOWER, US_CONTROLS),
    _m("revenue_intermediary", "USD", "Intermediary revenue: China segment plus its international segment", "sum", "intermediary revenue", HIGHER, INTERMEDIARY),
    _m("revenue_intermediary_china", "USD", "Intermediary revenue from Chinese customers, after the developers' share", "sum", "intermediary revenue, China", HIGHER, INTERMEDIARY),
    _m("revenue_intermediary_international", "USD", "Intermediary revenue from international buyers of US and Chinese models on its catalogue, after the labs' shares", "sum", "intermediary revenue, international", HIGHER, INTERMEDIARY),
    _m("revenue_developers", "USD", "US developers' share of the China channel", "sum", "US developers' China revenue", HIGHER, DEVELOPERS),
    _m("revenue_developers_international", "USD", "US developers' share of international sales on the intermediary's catalogue", "sum", "US developers' international revenue", HIGHER, DEVELOPERS),
    _m("revenue_chinese_lab", "USD", "The Chinese lab's share of its model's sales abroad through the intermediary", "sum", "Chinese lab's revenue abroad", HIGHER, CHINESE_LAB),
    _m("revenue_domestic", "USD", "Domestic Chinese providers' revenue from these customers", "sum", "domestic providers' revenue", HIGHER, DOMESTIC),
    _m("revenue_resellers", "USD", "Shells' margin over list price plus grey-market proxy fees", "sum", "resellers' and proxies' revenue", LOWER, COMPLIANCE),
    _m("revenue_two_way", "USD", "International customers' spend on Chinese models through the intermediary", "sum", "Chinese models sold abroad", HIGHER, INTERMEDIARY),
    _m("international_spend_us", "USD", "International customers' spend on US models through the intermediary", "sum", "US models sold abroad", HIGHER, INTERMEDIARY),
    _m("international_spend_elsewhere", "USD", "International customers' spend on these models outside the intermediary", "sum", "international spend elsewhere", LOWER, INTERMEDIARY),
    _m("largest_buyer_spend_foreign", "USD", "Foreign-model spend of the month's largest buyer through the intermediary", "", "largest buyer's foreign spend"),
    _m("largest_buyer_share", "share", "The largest buyer's share of the channel's spend this month", "", "largest buyer's share of the channel"),
    _m("share_foreign_direct", "share", "Share of Chinese enterprise AI spend: foreign models, direct", "", "share: foreign, direct"),
    _m("share_reseller", "share", "Share: foreign models through shells", "", "share: via shells", LOWER, COMPLIANCE),
    _m("share_domestic", "share", "Share: domestic providers", "", "share: domestic"),
    _m("share_inhouse", "share", "Share: in-house models", "", "share: in-house"),
    _m("intermediary_share", "share", "Intermediary's share of Chinese enterprise AI spend", "final", "intermediary's market share", HIGHER, INTERMEDIARY),
    _m("price_foreign", "USD per million tokens", "List price of the US model served to China (empty when none is served)", "", "foreign list price"),
    _m("price_domestic", "USD per million tokens", "Domestic providers' blended price", "", "domestic price"),
    _m("price_chinese_abroad", "USD per million tokens", "List price of the Chinese lab's model abroad", "", "Chinese model's price abroad"),
    _m("harvesting_customers", "count", "Customers running an extraction campaign this month", "", "harvesting customers", LOWER, US_CONTROLS),
    _m("harvest_accounts", "count", "Accounts carrying extraction this month (own accounts and proxies)", "", "accounts extracting", LOWER, US_CONTROLS),
    _m("harvested_samples", "samples", "Exchanges harvested from the US model for distillation", "sum", "harvested samples", LOWER, US_CONTROLS),
    _m("harvested_samples_undetected", "samples", "Of which by accounts monitoring did not flag", "sum", "undetected harvest", LOWER, US_CONTROLS),
    _m("harvested_samples_detected", "samples", "Of which by flagged accounts before they were cut off (detected, not prevented)", "sum", "detected harvest"),
    _m("harvest_prevented_samples", "samples", "Planned extraction that flags cut off this month (prevented)", "sum", "prevented harvest", HIGHER, US_CONTROLS),
    _m("harvested_tokens", "tokens", "Harvested samples in output tokens", "sum", "harvested tokens", LOWER, US_CONTROLS),
    _m("detection_recall", "share", "Share of the month's planned extraction volume on flagged accounts (empty when none)", "", "detection recall", HIGHER, US_CONTROLS),
    _m("detection_recall_own_accounts", "share", "Detection recall on extraction run inside harvesters' own accounts, volume-weighted (empty when none)", "", "recall, own accounts", HIGHER, US_CONTROLS),
    _m("false_positive_rate", "share", "Share of honest accounts using foreign models flagged this month", "", "false-positive rate", LOWER, INTERMEDIARY),
    _m("capability_frontier", "capability index", "US frontier capability at the month's end (1 at month 0)", "final", "US frontier capability"),
    _m("capability_domestic", "capability index", "Domestic providers' capability", "final", "domestic capability"),
    _m("capability_best_china", "capability index", "Best Chinese capability: domestic providers or any in-house model", "final", "best Chinese capability", LOWER, US_CONTROLS),
    _m("capability_gap", "capability index", "Frontier minus best Chinese capability", "final", "capability gap", HIGHER, US_CONTROLS),
    _m("capability_gap_months", "months", "The gap in months of frontier progress", "final", "capability gap", HIGHER, US_CONTROLS),
    _m("capability_gap_months_no_leakage", "months", "The gap the same run would show without any leakage (shadow paths)", "final", "capability gap without leakage"),
    _m("gap_closed_months", "months", "Months of the gap closed by leakage: the gap without leakage minus the gap", "final", "gap closed by leakage", LOWER, US_CONTROLS),
    _m("leaked_capability", "capability index", "Best Chinese capability minus what it would be without leakage", "final", "capability from leakage", LOWER, US_CONTROLS),
    _m("narrow_skill_reach", "share", "Share of customers that copied most of the teacher's narrow skills (narrow gap at least half closed)", "final", "firms with copied narrow skills", LOWER, US_CONTROLS),
    _m("diffusion_reach", "share", "Share of customers holding samples received over the network", "final", "reach of diffusion", LOWER, US_CONTROLS),
    _m("violations", "count", "Customer-months served while restricted (through resellers or shells)", "sum", "violations", LOWER, COMPLIANCE),
    _m("violations_detected", "count", "Of which found by audits", "sum", "violations found"),
    _m("fines", "USD", "Fines levied on the intermediary", "sum", "fines", LOWER, INTERMEDIARY),
    _m("suspensions", "count", "Harvesters' own accounts suspended or terminated after extraction was detected on them", "sum", "harvesters sanctioned"),
    _m("campaigns_exposed", "count", "Extraction campaigns exposed: own account flagged, or proxy network linked or traced to its firm", "sum", "campaigns exposed"),
    _m("false_positive_suspensions", "count", "Honest accounts suspended by mistake pending appeal", "sum", "honest accounts suspended", LOWER, INTERMEDIARY),
    _m("suspended_accounts", "count", "Accounts suspended at month end", "", "suspended accounts"),
    _m("terminated_accounts", "count", "Accounts terminated for repeated extraction, cumulative", "final", "terminated accounts"),
    _m("model_withdrawals", "count", "Developers withdrawing their model from China-reachable regions", "sum", "model withdrawals", LOWER, INTERMEDIARY),
    _m("frontier_in_channel", "count", "1 while the frontier lab's model is offered through the channel, 0 after it withdrew", "final", "frontier model in the channel"),
    _m("models_in_channel", "count", "US models still offered to Chinese customers", "final", "US models in the channel"),
    _m("compliance_rate", "share", "Compliant share of this month's foreign-model spend (empty when there is none)", "final", "compliance rate", HIGHER, COMPLIANCE),
    _m("restricted_customers", "count", "Customers restricted by US rules", "", "restricted customers"),
    _m("approved_customers", "count", "Customers approved by the intermediary's KYC", "", "approved customers"),
    _m("monitoring", "intensity", "Intermediary monitoring intensity (weighted by customer share if several)", "final", "monitoring intensity"),
    _m("kyc", "strictness", "Effective KYC strictness: the intermediary's, or the legal duty if higher", "final", "KYC strictness"),
    _m("rate_limit", "tightness", "Rate-limit tightness", "", "rate-limit tightness"),
    _m("intermediary_objective", "share of budget", "The intermediary's objective: net revenue minus fines minus revenue at risk from developer pressure, per dollar of customer budget", "", "intermediary objective", HIGHER, INTERMEDIARY, False),
    _m("developer_pressure", "share of tolerance", "Highest developer pressure relative to its tolerance", "", "developer pressure", LOWER, INTERMEDIARY),
    _m("us_rule_level", "share", "US rule level e", "final", "US rule level"),
    _m("localisation", "share", "China localisation share", "final", "localisation share"),
    _m("attention", "index", "Political-attention index", "final", "political attention"),
    _m("policy_moves", "count", "Endogenous US tightenings", "sum", "endogenous tightenings"),
)
# fmt: on

METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in MONTHLY)
_BY_NAME: dict[str, Metric] = {m.name: m for m in MONTHLY}

#: Summary keys that are not a monthly metric's sum or final value.
SUMMARY_ONLY: dict[str, Metric] = {
    "compliance_rate_cumulative": _m(
        "compliance_rate_cumulative",
        "share",
        "Compliant share of all foreign-model spend over the run (empty when there was none)",
        "",
        "compliance rate, whole run",
        HIGHER,
        COMPLIANCE,
    ),
    "gap_closed_months_mean": _m(
        "gap_closed_months_mean",
        "months",
        "Months of the gap closed by leakage, averaged over the run's months",
        "",
        "gap closed by leakage, run mean",
        LOWER,
        US_CONTROLS,
    ),
}

#: The guaranteed keys of summary.json (the results contract), with their units.
SUMMARY_KEYS: dict[str, str] = {
    "china_spend_foreign": "USD, cumulative",
    "revenue_intermediary": "USD, cumulative",
    "revenue_intermediary_china": "USD, cumulative",
    "revenue_intermediary_international": "USD, cumulative",
    "revenue_developers": "USD, cumulative",
    "revenue_domestic": "USD, cumulative",
    "revenue_two_way": "USD, cumulative",
    "international_spend_us": "USD, cumulative",
    "harvested_samples": "samples, cumulative",
    "harvested_samples_undetected": "samples, cumulative",
    "harvest_prevented_samples": "samples, cumulative",
    "gap_closed_months_final": "months of frontier progress, final month",
    "gap_closed_months_mean": "months of frontier progress, mean over months",
    "narrow_skill_reach_final": "share of customers, final month",
    "capability_gap_final": "capability index points, final month",
    "capability_gap_months_final": "months of frontier progress, final month",
    "violations": "count, cumulative",
    "violations_detected": "count, cumulative",
    "fines": "USD, cumulative",
    "suspensions": "count, cumulative",
    "false_positive_suspensions": "count, cumulative",
    "model_withdrawals": "count, cumulative",
    "compliance_rate_cumulative": "share of cumulative foreign-model spend that was compliant (null if none)",
    "compliance_rate_final": "share of the final month's foreign-model spend that was compliant (null if none)",
    "intermediary_share_final": "share of Chinese enterprise AI spend, final month",
}

#: The headline, in reading order: the command line's last line, the report and the dashboard.
HEADLINE: tuple[str, ...] = (
    "china_spend_foreign",
    "revenue_intermediary",
    "revenue_developers",
    "revenue_domestic",
    "gap_closed_months_final",
    "capability_gap_months_final",
    "harvested_samples",
    "violations",
    "fines",
    "compliance_rate_cumulative",
)

_COUNTS = tuple(m.name for m in MONTHLY if m.unit == "count" and m.summary == "sum")


@dataclass
class MonthOutcome:
    """What the phases of one month produced, gathered for the month's metrics."""

    spend: np.ndarray
    receipts: np.ndarray
    reseller_margin: np.ndarray
    proxy_cost: np.ndarray
    prices: np.ndarray
    campaigns: np.ndarray
    accounts: np.ndarray
    planned: np.ndarray
    obtained: np.ndarray
    detected: np.ndarray
    flagged_accounts: np.ndarray
    flagged_volume: np.ndarray
    offences: np.ndarray
    exposed: np.ndarray
    false_positives: np.ndarray
    using: np.ndarray
    frontier: float
    restricted: np.ndarray
    violations: np.ndarray
    found: np.ndarray
    fines: float
    withdrawals: int
    policy_move: bool
    objective: float
    international: dict[str, float]
    served: Any


def month_metrics(model: Any, m: MonthOutcome) -> dict[str, float]:
    """The month's metrics (the columns of ``timeseries.csv``) from what its phases produced.

    Reads the model's agents and population only to observe them; changes nothing.
    """
    from sim.kernels.totals import totals
    from sim.mechanisms.capability import gap_months
    from sim.mechanisms.demand import DOMESTIC, FOREIGN

    pop, cfg = model.population, model.config
    t = model.month
    compiled = model.compiled
    direct, reseller, dom, inhouse, china_receipts, margins = totals(
        [*(m.spend[:, option] for option in range(4)), m.receipts, m.reseller_margin], compiled
    )
    proxies, obtained, planned, detected, accounts, flagged = totals(
        [m.proxy_cost, m.obtained, m.planned, m.detected, m.accounts, m.flagged_volume],
        compiled,
        rows=np.flatnonzero(m.campaigns),  # every campaign figure is zero elsewhere
    )
    options = direct + reseller + dom + inhouse
    share = lambda x: x / options if options > 0 else 0.0  # noqa: E731
    share_dev = m.served.revenue_share if m.served else 0.0
    rev_china = china_receipts * (1.0 - share_dev)
    intl = m.international
    foreign = direct + reseller
    per_buyer = m.spend[:, 0] + m.spend[:, 1]
    top = float(per_buyer.max()) if per_buyer.size else 0.0
    growth = model.frontier.growth
    best = max(model.domestic.capability, float(pop.capability.max()) if pop.size else 0.0)
    shadow = max(model.domestic.own, float(pop.own.max()) if pop.size else 0.0)
    gap = gap_months(m.frontier, best, growth)
    gap_without = gap_months(m.frontier, shadow, growth)
    own = m.campaigns & (m.accounts <= 1)
    honest = m.using & ~own
    inters = list(model.intermediaries.values())
    weights = np.array([i.share for i in inters])
    weighted = lambda values: float((weights * np.asarray(values)).sum() / weights.sum())  # noqa: E731
    return {
        "month": t,
        "china_spend_foreign": foreign,
        "spend_foreign_direct": direct,
        "spend_reseller": reseller,
        "spend_domestic": dom,
        "spend_inhouse": inhouse,
        "spend_proxies": proxies,
        "revenue_intermediary": rev_china + intl["margin"],
        "revenue_intermediary_china": rev_china,
        "revenue_intermediary_international": intl["margin"],
        "revenue_developers": china_receipts * share_dev,
        "revenue_developers_international": intl["us_developers"],
        "revenue_chinese_lab": intl["cn_developer"],
        "revenue_domestic": dom,
        "revenue_resellers": margins + proxies,
        "revenue_two_way": intl["spend_chinese"],
        "international_spend_us": intl["spend_us"],
        "international_spend_elsewhere": intl["spend_elsewhere"],
        "largest_buyer_spend_foreign": top,
        "largest_buyer_share": top / foreign if foreign > 0 else 0.0,
        "share_foreign_direct": share(direct),
        "share_reseller": share(reseller),
        "share_domestic": share(dom),
        "share_inhouse": share(inhouse),
        "intermediary_share": share(foreign),
        "price_foreign": float(m.prices[0, FOREIGN]) if m.served else math.nan,
        "price_domestic": float(m.prices[0, DOMESTIC]) if pop.size else model.domestic.price(t),
        "price_chinese_abroad": intl["price_chinese"],
        "harvesting_customers": int(np.count_nonzero(m.campaigns)),
        "harvest_accounts": int(accounts),
        "harvested_samples": obtained,
        "harvested_samples_undetected": obtained - detected,
        "harvested_samples_detected": detected,
        "harvest_prevented_samples": planned - obtained,
        "harvested_tokens": obtained * cfg.distillation.tokens_per_sample,
        "detection_recall": flagged / planned if planned > 0 else math.nan,
        "detection_recall_own_accounts": float(m.flagged_volume[own].sum())
        / float(m.planned[own].sum())
        if m.planned[own].sum() > 0
        else math.nan,
        "false_positive_rate": float(np.count_nonzero(m.false_positives))
        / int(np.count_nonzero(honest))
        if honest.any()
        else math.nan,
        "capability_frontier": m.frontier,
        "capability_domestic": model.domestic.capability,
        "capability_best_china": best,
        "capability_gap": m.frontier - best,
        "capability_gap_months": gap,
        "capability_gap_months_no_leakage": gap_without,
        "gap_closed_months": max(gap_without - gap, 0.0),
        "leaked_capability": max(best - shadow, 0.0),
        "narrow_skill_reach": np.count_nonzero(pop.narrow >= 0.5) / pop.size if pop.size else 0.0,
        "diffusion_reach": np.count_nonzero(pop.received >= cfg.diffusion.reach_threshold)
        / pop.size
        if pop.size
        else 0.0,
        "violations": int(np.count_nonzero(m.violations)),
        "violations_detected": int(np.count_nonzero(m.found)),
        "fines": m.fines,
        "suspensions": int(np.count_nonzero(m.offences)),
        "campaigns_exposed": int(np.count_nonzero(m.exposed)),
        "false_positive_suspensions": int(np.count_nonzero(m.false_positives)),
        "suspended_accounts": int(np.count_nonzero(pop.suspended_until > t)),
        "terminated_accounts": int(np.count_nonzero(pop.terminated)),
        "model_withdrawals": m.withdrawals,
        "frontier_in_channel": int(model.frontier.in_channel),
        "models_in_channel": sum(d.in_channel for d in model.developers.values() if d.home == "US"),
        "compliance_rate": direct / foreign if foreign > 0 else math.nan,
        "restricted_customers": int(np.count_nonzero(m.restricted)),
        "approved_customers": int(np.count_nonzero(pop.approved)),
        "monitoring": weighted([i.monitoring for i in inters]),
        "kyc": weighted([max(i.kyc, model.us.kyc_duty) for i in inters]),
        "rate_limit": weighted([i.rate_limit for i in inters]),
        "intermediary_objective": m.objective,
        "developer_pressure": max(
            (d.pressure_ratio for d in model.developers.values() if d.home == "US"), default=0.0
        ),
        "us_rule_level": model.us.rule_level,
        "localisation": model.cn.localisation,
        "attention": model.us.attention,
        "policy_moves": int(m.policy_move),
    }


def metric(key: str) -> Metric:
    """The definition of a monthly metric or a summary key (``NAME_final`` included).

    A summary key of a "final" metric keeps the monthly definition with the key as its name
    and "final" added to the label; unknown keys raise ``KeyError``.
    """
    if key in SUMMARY_ONLY:
        return SUMMARY_ONLY[key]
    if key in _BY_NAME:
        return _BY_NAME[key]
    if key.endswith("_final") and key[: -len("_final")] in _BY_NAME:
        base = _BY_NAME[key[: -len("_final")]]
        return replace(base, name=key, label=f"{base.label or base.name}, final month")
    raise KeyError(key)


def axis_scale(unit: str, magnitude: float = 1e9) -> tuple[float, str]:
    """The divisor and the unit text to plot a quantity of ``unit`` at ``magnitude``.

    Money is shown in USD bn (or USD M below 1e8); shares as %; other units unchanged.
    """
    if unit == "USD":
        return (1e9, "USD bn") if abs(magnitude) >= 1e8 else (1e6, "USD M")
    if unit == "share":
        return 0.01, "%"
    if unit == "tokens":
        return 1e9, "bn tokens"
    if unit == "samples":
        for scale, text in ((1e9, "bn samples"), (1e6, "M samples"), (1e3, "k samples")):
            if abs(magnitude) >= scale:
                return scale, text
    return 1.0, unit


def format_value(key: str, value: Any, signed: bool = False) -> str:
    """``value`` of metric ``key`` in human units: ``$1.23bn``, ``12.3%``, ``4.2 months``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    unit = (
        metric(key).unit if key in _BY_NAME or key in SUMMARY_ONLY or key.endswith("_final") else ""
    )
    sign = "+" if signed else ""
    v = float(value)
    if unit == "USD":
        scale, text = (1e9, "bn") if abs(v) >= 1e8 else (1e6, "M")
        return f"{'-' if v < 0 else ('+' if signed else '')}${abs(v) / scale:,.2f}{text}"
    if unit == "share":
        return f"{100 * v:{sign}.1f}" + (" pp" if signed else "%")
    if unit == "count":
        return f"{v:{sign},.0f}"
    if unit == "months":
        return f"{v:{sign}.2f} months"
    if unit in ("samples", "tokens"):
        for scale, text in ((1e12, "T"), (1e9, "bn"), (1e6, "M"), (1e3, "k")):
            if abs(v) >= scale:
                return f"{v / scale:{sign},.3g}{text} {unit}"
        return f"{v:{sign},.3g} {unit}"
    return f"{v:{sign},.3g}"


def summarise(records: list[dict[str, float]]) -> dict[str, Any]:
    """The run summary from the monthly records: cumulative sums, final values, and the
    summary-only keys of ``SUMMARY_ONLY``. Non-finite values become None in summary.json."""
    out: dict[str, Any] = {}
    for metric in MONTHLY:
        values = [r[metric.name] for r in records]
        if metric.summary == "sum":
            out[metric.name] = float(math.fsum(values))
        elif metric.summary == "final":
            out[f"{metric.name}_final"] = float(values[-1]) if values else math.nan
    foreign = out["china_spend_foreign"]
    out["compliance_rate_cumulative"] = (
        out["spend_foreign_direct"] / foreign if foreign > 0 else None
    )
    closed = [r["gap_closed_months"] for r in records]
    out["gap_closed_months_mean"] = math.fsum(closed) / len(closed) if closed else math.nan
    for key in _COUNTS:
        out[key] = int(round(out[key]))
    return {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in out.items()
    }
