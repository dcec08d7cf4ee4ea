"""The results contract: every per-month metric and every summary key, defined once.

``MONTHLY`` lists the columns of ``timeseries.csv`` (name, unit, meaning, how the run summary
uses it). ``summarise`` turns the monthly records into the headline figures of
``summary.json``; the README's results table is generated from the same definitions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Metric:
    """One per-month metric; ``summary`` is "sum", "final" or "" (monthly only)."""

    name: str
    unit: str
    doc: str
    summary: str = ""


MONTHLY: tuple[Metric, ...] = (
    Metric(
        "china_spend_foreign",
        "USD",
        "Chinese customers' spend on foreign models via the intermediary (direct and through resellers)",
        "sum",
    ),
    Metric(
        "spend_foreign_direct",
        "USD",
        "Of which bought directly by approved, unrestricted customers",
    ),
    Metric(
        "spend_reseller",
        "USD",
        "Of which bought through resellers or shells by restricted customers",
    ),
    Metric("spend_domestic", "USD", "Chinese customers' spend on domestic providers"),
    Metric("spend_inhouse", "USD", "Chinese customers' cost of serving in-house models"),
    Metric(
        "revenue_intermediary",
        "USD",
        "Intermediary revenue: China segment plus its margin on Chinese models sold abroad",
        "sum",
    ),
    Metric(
        "revenue_intermediary_china",
        "USD",
        "Intermediary revenue from Chinese customers (after the developers' share)",
        "sum",
    ),
    Metric(
        "revenue_intermediary_international",
        "USD",
        "Intermediary margin on Chinese models sold to international customers",
        "sum",
    ),
    Metric("revenue_developers", "USD", "US developers' share of the China channel", "sum"),
    Metric(
        "revenue_domestic", "USD", "Domestic Chinese providers' revenue from these customers", "sum"
    ),
    Metric("revenue_resellers", "USD", "Resellers' and shells' margin", "sum"),
    Metric(
        "revenue_two_way",
        "USD",
        "International customers' spend on Chinese models via the intermediary",
        "sum",
    ),
    Metric(
        "share_foreign_direct",
        "share",
        "Share of Chinese enterprise AI spend: foreign models, direct",
    ),
    Metric("share_reseller", "share", "Share: foreign models through resellers"),
    Metric("share_domestic", "share", "Share: domestic providers"),
    Metric("share_inhouse", "share", "Share: in-house models"),
    Metric(
        "intermediary_share",
        "share",
        "Intermediary's share of Chinese enterprise AI spend",
        "final",
    ),
    Metric("price_foreign", "USD per million tokens", "List price of the model served to China"),
    Metric("price_domestic", "USD per million tokens", "Domestic providers' blended price"),
    Metric(
        "harvested_tokens",
        "tokens",
        "Foreign-model output tokens harvested for distillation",
        "sum",
    ),
    Metric(
        "harvested_tokens_undetected",
        "tokens",
        "Of which by accounts not flagged that month",
        "sum",
    ),
    Metric(
        "leakage_capability",
        "capability index",
        "Capability gained by Chinese parties through distillation and diffusion (spend-weighted customer mean) plus domestic providers' spillover gain",
        "sum",
    ),
    Metric(
        "capability_frontier", "capability index", "US frontier capability (1 at month 0)", "final"
    ),
    Metric("capability_domestic", "capability index", "Domestic providers' capability", "final"),
    Metric(
        "capability_best_china",
        "capability index",
        "Best Chinese capability: max of domestic and in-house",
        "final",
    ),
    Metric("capability_gap", "capability index", "Frontier minus best Chinese capability", "final"),
    Metric("capability_gap_months", "months", "The gap in months of frontier progress", "final"),
    Metric("diffusion_reach", "share", "Share of customers ever reached by diffusion", "final"),
    Metric(
        "violations",
        "count",
        "Customer-months served while restricted (through resellers or shells)",
        "sum",
    ),
    Metric("violations_detected", "count", "Of which found by audits", "sum"),
    Metric("fines", "USD", "Fines levied on the intermediary", "sum"),
    Metric(
        "suspensions",
        "count",
        "Accounts suspended or shells closed after monitoring flagged them",
        "sum",
    ),
    Metric("false_positive_suspensions", "count", "Of which honest customers", "sum"),
    Metric("suspended_accounts", "count", "Accounts suspended at month end"),
    Metric(
        "model_withdrawals",
        "count",
        "Developers withdrawing their model from China-reachable regions",
        "sum",
    ),
    Metric("models_in_channel", "count", "US models still offered to Chinese customers"),
    Metric("compliance_rate", "share", "Compliant share of foreign-model spend this month"),
    Metric("restricted_customers", "count", "Customers restricted by US rules"),
    Metric("approved_customers", "count", "Customers approved by the intermediary's KYC"),
    Metric(
        "monitoring",
        "intensity",
        "Intermediary monitoring intensity (weighted by customer share if several)",
        "final",
    ),
    Metric(
        "kyc",
        "strictness",
        "Intermediary KYC strictness (weighted by customer share if several)",
        "final",
    ),
    Metric(
        "developer_pressure",
        "share of tolerance",
        "Highest developer pressure relative to its tolerance",
    ),
    Metric("us_rule_level", "share", "US rule level e", "final"),
    Metric("localisation", "share", "China localisation share", "final"),
    Metric("attention", "index", "Political-attention index", "final"),
    Metric("policy_moves", "count", "Endogenous US tightenings", "sum"),
)

METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in MONTHLY)

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
