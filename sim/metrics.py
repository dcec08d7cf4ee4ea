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
US_CONTROLS, COMPLIANCE = "US export control", "compliance"

MONTHLY: tuple[Metric, ...] = (
    Metric(
        "china_spend_foreign",
        "USD",
        "Chinese customers' spend on foreign models via the intermediary (direct and through resellers)",
        "sum",
        "China spend on foreign models",
        HIGHER,
        INTERMEDIARY,
    ),
    Metric(
        "spend_foreign_direct",
        "USD",
        "Of which bought directly by approved, unrestricted customers",
        "",
        "foreign spend, direct",
        HIGHER,
        INTERMEDIARY,
    ),
    Metric(
        "spend_reseller",
        "USD",
        "Of which bought through resellers or shells by restricted customers",
        "",
        "foreign spend via resellers",
        LOWER,
        COMPLIANCE,
    ),
    Metric(
        "spend_domestic",
        "USD",
        "Chinese customers' spend on domestic providers",
        "",
        "spend on domestic providers",
        HIGHER,
        DOMESTIC,
    ),
    Metric(
        "spend_inhouse",
        "USD",
        "Chinese customers' cost of serving in-house models",
        "",
        "spend on in-house models",
    ),
    Metric(
        "revenue_intermediary",
        "USD",
        "Intermediary revenue: China segment plus its margin on Chinese models sold abroad",
        "sum",
        "intermediary revenue",
        HIGHER,
        INTERMEDIARY,
    ),
    Metric(
        "revenue_intermediary_china",
        "USD",
        "Intermediary revenue from Chinese customers (after the developers' share)",
        "sum",
        "intermediary revenue, China",
        HIGHER,
        INTERMEDIARY,
    ),
    Metric(
        "revenue_intermediary_international",
        "USD",
        "Intermediary margin on Chinese models sold to international customers",
        "sum",
        "intermediary revenue, abroad",
        HIGHER,
        INTERMEDIARY,
    ),
    Metric(
        "revenue_developers",
        "USD",
        "US developers' share of the China channel",
        "sum",
        "US developers' revenue",
        HIGHER,
        DEVELOPERS,
    ),
    Metric(
        "revenue_domestic",
        "USD",
        "Domestic Chinese providers' revenue from these customers",
        "sum",
        "domestic providers' revenue",
        HIGHER,
        DOMESTIC,
    ),
    Metric(
        "revenue_resellers",
        "USD",
        "Resellers' and shells' margin",
        "sum",
        "resellers' margin",
        LOWER,
        COMPLIANCE,
    ),
    Metric(
        "revenue_two_way",
        "USD",
        "International customers' spend on Chinese models via the intermediary",
        "sum",
        "Chinese models sold abroad",
        HIGHER,
        INTERMEDIARY,
    ),
    Metric(
        "share_foreign_direct",
        "share",
        "Share of Chinese enterprise AI spend: foreign models, direct",
        "",
        "share: foreign, direct",
    ),
    Metric(
        "share_reseller",
        "share",
        "Share: foreign models through resellers",
        "",
        "share: via resellers",
        LOWER,
        COMPLIANCE,
    ),
    Metric("share_domestic", "share", "Share: domestic providers", "", "share: domestic"),
    Metric("share_inhouse", "share", "Share: in-house models", "", "share: in-house"),
    Metric(
        "intermediary_share",
        "share",
        "Intermediary's share of Chinese enterprise AI spend",
        "final",
        "intermediary's market share",
        HIGHER,
        INTERMEDIARY,
    ),
    Metric(
        "price_foreign",
        "USD per million tokens",
        "List price of the model served to China",
        "",
        "foreign list price",
    ),
    Metric(
        "price_domestic",
        "USD per million tokens",
        "Domestic providers' blended price",
        "",
        "domestic price",
    ),
    Metric(
        "harvested_tokens",
        "tokens",
        "Foreign-model output tokens harvested for distillation",
        "sum",
        "harvested tokens",
        LOWER,
        US_CONTROLS,
    ),
    Metric(
        "harvested_tokens_undetected",
        "tokens",
        "Of which by accounts not flagged that month",
        "sum",
        "undetected harvest",
        LOWER,
        US_CONTROLS,
    ),
    Metric(
        "leakage_capability",
        "capability index",
        "Capability gained by Chinese parties through distillation and diffusion (spend-weighted customer mean) plus domestic providers' spillover gain",
        "sum",
        "capability leaked",
        LOWER,
        US_CONTROLS,
    ),
    Metric(
        "capability_frontier",
        "capability index",
        "US frontier capability (1 at month 0)",
        "final",
        "US frontier capability",
    ),
    Metric(
        "capability_domestic",
        "capability index",
        "Domestic providers' capability",
        "final",
        "domestic capability",
    ),
    Metric(
        "capability_best_china",
        "capability index",
        "Best Chinese capability: max of domestic and in-house",
        "final",
        "best Chinese capability",
        LOWER,
        US_CONTROLS,
    ),
    Metric(
        "capability_gap",
        "capability index",
        "Frontier minus best Chinese capability",
        "final",
        "capability gap",
        HIGHER,
        US_CONTROLS,
    ),
    Metric(
        "capability_gap_months",
        "months",
        "The gap in months of frontier progress",
        "final",
        "capability gap",
        HIGHER,
        US_CONTROLS,
    ),
    Metric(
        "diffusion_reach",
        "share",
        "Share of customers ever reached by diffusion",
        "final",
        "reach of diffusion",
        LOWER,
        US_CONTROLS,
    ),
    Metric(
        "violations",
        "count",
        "Customer-months served while restricted (through resellers or shells)",
        "sum",
        "violations",
        LOWER,
        COMPLIANCE,
    ),
    Metric(
        "violations_detected",
        "count",
        "Of which found by audits",
        "sum",
        "violations found",
        LOWER,
        COMPLIANCE,
    ),
    Metric("fines", "USD", "Fines levied on the intermediary", "sum", "fines", LOWER, INTERMEDIARY),
    Metric(
        "suspensions",
        "count",
        "Accounts suspended or shells closed after monitoring flagged them",
        "sum",
        "suspensions",
    ),
    Metric(
        "false_positive_suspensions",
        "count",
        "Of which honest customers",
        "sum",
        "honest customers suspended",
        LOWER,
        INTERMEDIARY,
    ),
    Metric(
        "suspended_accounts", "count", "Accounts suspended at month end", "", "suspended accounts"
    ),
    Metric(
        "model_withdrawals",
        "count",
        "Developers withdrawing their model from China-reachable regions",
        "sum",
        "model withdrawals",
        LOWER,
        INTERMEDIARY,
    ),
    Metric(
        "models_in_channel",
        "count",
        "US models still offered to Chinese customers",
        "",
        "US models in the channel",
    ),
    Metric(
        "compliance_rate",
        "share",
        "Compliant share of foreign-model spend this month",
        "",
        "compliance rate",
        HIGHER,
        COMPLIANCE,
    ),
    Metric(
        "restricted_customers",
        "count",
        "Customers restricted by US rules",
        "",
        "restricted customers",
    ),
    Metric(
        "approved_customers",
        "count",
        "Customers approved by the intermediary's KYC",
        "",
        "approved customers",
    ),
    Metric(
        "monitoring",
        "intensity",
        "Intermediary monitoring intensity (weighted by customer share if several)",
        "final",
        "monitoring intensity",
    ),
    Metric(
        "kyc",
        "strictness",
        "Intermediary KYC strictness (weighted by customer share if several)",
        "final",
        "KYC strictness",
    ),
    Metric(
        "developer_pressure",
        "share of tolerance",
        "Highest developer pressure relative to its tolerance",
        "",
        "developer pressure",
    ),
    Metric("us_rule_level", "share", "US rule level e", "final", "US rule level"),
    Metric("localisation", "share", "China localisation share", "final", "localisation share"),
    Metric("attention", "index", "Political-attention index", "final", "political attention"),
    Metric("policy_moves", "count", "Endogenous US tightenings", "sum", "endogenous tightenings"),
)

METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in MONTHLY)
_BY_NAME: dict[str, Metric] = {m.name: m for m in MONTHLY}

SUMMARY_KEYS: dict[str, str] = {
    "china_spend_foreign": "USD, cumulative",
    "revenue_intermediary": "USD, cumulative",
    "revenue_developers": "USD, cumulative",
    "revenue_domestic": "USD, cumulative",
    "revenue_two_way": "USD, cumulative",
    "harvested_tokens": "tokens, cumulative",
    "harvested_tokens_undetected": "tokens, cumulative",
    "leakage_capability": "capability index points, cumulative",
    "capability_gap_final": "capability index points, final month",
    "capability_gap_months_final": "months of frontier progress, final month",
    "violations": "count, cumulative",
    "violations_detected": "count, cumulative",
    "fines": "USD, cumulative",
    "suspensions": "count, cumulative",
    "model_withdrawals": "count, cumulative",
    "compliance_rate": "share of cumulative foreign-model spend that was compliant (null if none)",
    "intermediary_share_final": "share of Chinese enterprise AI spend, final month",
}

#: Summary keys that are not a monthly metric's sum or final value.
SUMMARY_ONLY: dict[str, Metric] = {
    "compliance_rate": Metric(
        "compliance_rate",
        "share",
        "Compliant share of cumulative foreign-model spend",
        "",
        "compliance rate (cumulative)",
        HIGHER,
        COMPLIANCE,
    ),
}

#: The headline, in reading order: the command line's last line, the report and the dashboard.
HEADLINE: tuple[str, ...] = (
    "china_spend_foreign",
    "revenue_intermediary",
    "revenue_developers",
    "revenue_domestic",
    "leakage_capability",
    "capability_gap_months_final",
    "violations",
    "fines",
    "compliance_rate",
)


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
        return f"{100 * v:{sign}.1f}%"
    if unit == "count":
        return f"{v:{sign},.0f}"
    if unit == "months":
        return f"{v:{sign}.2f} months"
    return f"{v:{sign},.3g}"


def summarise(records: list[dict[str, float]]) -> dict[str, Any]:
    """The run summary from the monthly records: cumulative sums and final values."""
    out: dict[str, Any] = {}
    for metric in MONTHLY:
        values = [r[metric.name] for r in records]
        if metric.summary == "sum":
            out[metric.name] = float(math.fsum(values))
        elif metric.summary == "final":
            out[f"{metric.name}_final"] = float(values[-1]) if values else float("nan")
    foreign = out["china_spend_foreign"]
    direct = math.fsum(r["spend_foreign_direct"] for r in records)
    out["compliance_rate"] = direct / foreign if foreign > 0 else None
    for key in (
        "violations",
        "violations_detected",
        "suspensions",
        "false_positive_suspensions",
        "model_withdrawals",
        "policy_moves",
    ):
        out[key] = int(round(out[key]))
    return out
