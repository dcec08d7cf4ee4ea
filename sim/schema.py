"""Structured configs: every parameter of the simulator, with its unit, default, source and range.

Each field carries metadata (``unit``, ``source``, ``lo``/``hi``, ``doc``) so that one place
defines a parameter: :mod:`sim.validate` reads the ranges, ``docs/parameters.md`` is generated
from the same metadata by ``scripts/make_docs.py``. Hydra refuses unknown keys and wrong types
through these dataclasses; value ranges are checked by :mod:`sim.validate`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig

FACTS = "facts.md"
ASSUMPTION = "assumption"
FITTED_SOURCE = "fitted to the 2024-2026 targets (docs/calibration.md)"


def _load_fitted() -> dict[str, float]:
    path = Path(__file__).with_name("fitted.json")
    return json.loads(path.read_text(encoding="utf-8"))["values"] if path.exists() else {}


FITTED: dict[str, float] = _load_fitted()


def fitted(key: str, default: float) -> float:
    """The default of a fitted parameter: the value ``python -m sim.calibrate --fit`` wrote
    to sim/fitted.json, or ``default`` before any fit."""
    return float(FITTED.get(key, default))


def param(
    default: Any,
    unit: str,
    source: str,
    doc: str,
    lo: float | None = None,
    hi: float | None = None,
    *,
    factory: Any = None,
    plausible: tuple[float, float] | None = None,
    plausible_factor: tuple[float, float] | None = None,
) -> Any:
    """A dataclass field carrying its unit, source, documentation and ranges.

    ``lo``/``hi`` bound what validation accepts (the validity range); ``plausible`` is the
    narrower range the parameter could credibly take in the world modelled, used by
    uncertainty and sensitivity analysis (see :func:`plausible_ranges`). In keyed tables
    (sectors, archetypes, developers) whose entries differ, ``plausible_factor`` states the
    range as multiples of each entry's own value instead.
    """
    meta = {
        "unit": unit,
        "source": source,
        "doc": doc,
        "lo": lo,
        "hi": hi,
        "plausible": plausible,
        "plausible_factor": plausible_factor,
    }
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class SectorConfig:
    """One industry sector of Chinese enterprise customers."""

    share: float = param(0.1, "share of customers", ASSUMPTION, "Share of customers", 0, 1)
    budget_weight: float = param(
        1.0,
        "multiplier",
        ASSUMPTION,
        "Scale of a sector's budgets against the average",
        0,
        None,
        plausible_factor=(0.5, 2),
    )
    harvesters: float = param(
        0.1,
        "share",
        ASSUMPTION,
        "Share of customers with any intent to distil",
        0,
        1,
        plausible_factor=(0.5, 2),
    )
    listing: float = param(
        0.2,
        "score in [0,1]",
        ASSUMPTION,
        "Mean exposure to US listing (higher listed first)",
        0,
        1,
        plausible_factor=(0.5, 1.5),
    )
    inhouse: float = param(
        0.3,
        "x domestic capability",
        ASSUMPTION,
        "Starting in-house capability",
        0,
        1,
        plausible_factor=(0.8, 1.2),
    )
    quality_weight: float = param(
        1.0,
        "multiplier",
        ASSUMPTION,
        "How much the sector values model quality",
        0,
        None,
        plausible_factor=(0.8, 1.25),
    )


def _default_sectors() -> dict[str, SectorConfig]:
    return {
        "platform": SectorConfig(0.08, 6.0, 0.3, 0.35, 0.95, 1.2),
        "fintech": SectorConfig(0.12, 2.5, 0.15, 0.20, 0.6, 1.0),
        "gaming": SectorConfig(0.10, 1.5, 0.20, 0.15, 0.5, 0.9),
        "manufacturing": SectorConfig(0.30, 0.7, 0.05, 0.15, 0.3, 0.8),
        "research": SectorConfig(0.05, 1.0, 0.3, 0.60, 0.9, 1.4),
        "other": SectorConfig(0.35, 0.5, 0.05, 0.10, 0.2, 0.8),
    }


@dataclass
class ArchetypeConfig:
    """A named customer configured explicitly: one of the few buyers that dominate spend."""

    sector: str = param("platform", "sector name", ASSUMPTION, "Its sector (must be a sector)")
    budget_musd: float = param(
        10.0,
        "USD million per month",
        ASSUMPTION,
        "Total monthly AI budget at month 0 (foreign, domestic and in-house)",
        0,
        1e6,
        plausible=(5, 300),
    )
    intent: float = param(
        0.0,
        "share in [0,1]",
        ASSUMPTION,
        "Distillation intent (0: never harvests)",
        0,
        1,
        plausible_factor=(0.5, 1.5),
    )
    inhouse: float = param(
        0.5,
        "x domestic capability",
        ASSUMPTION,
        "In-house capability at month 0, relative to domestic providers'",
        0,
        1,
        plausible_factor=(0.9, 1.1),
    )
    listing: float = param(
        0.2,
        "score in [0,1]",
        ASSUMPTION,
        "Exposure to US listing (higher listed first)",
        0,
        1,
        plausible_factor=(0.5, 1.5),
    )
    evade: float = param(
        0.3,
        "probability",
        ASSUMPTION,
        "Propensity to try a shell when restricted",
        0,
        1,
        plausible_factor=(0.5, 2),
    )
    quality_weight: float = param(
        1.0,
        "multiplier",
        ASSUMPTION,
        "How much it values model quality",
        0,
        10,
        plausible_factor=(0.8, 1.25),
    )
    offences: int = param(
        0, "offences", ASSUMPTION, "Detected extraction offences before month 0", 0, 100
    )
    suspended_until: str = param(
        "",
        "YYYY-MM or empty",
        ASSUMPTION,
        "Account suspended at the start until the end of this month (empty: not suspended)",
    )


def _default_archetypes() -> dict[str, ArchetypeConfig]:
    return {
        "bytedance": ArchetypeConfig(
            "platform",
            fitted("customers.archetypes.bytedance.budget_musd", 60.0),
            0.5,
            1.0,
            0.5,
            0.3,
            1.2,
            offences=1,
            suspended_until="2024-01",
        ),
        # No documented extraction by the other named buyers: they do not harvest.
        "tencent": ArchetypeConfig("platform", 30.0, 0.0, 0.95, 0.5, 0.2, 1.2),
        "ant_group": ArchetypeConfig("fintech", 25.0, 0.0, 0.8, 0.4, 0.2, 1.1),
        "meituan": ArchetypeConfig("platform", 20.0, 0.0, 0.6, 0.2, 0.2, 1.1),
    }


@dataclass
class CustomersConfig:
    """The Chinese enterprise customer population (arrays, one row per customer)."""

    n: int = param(
        2000,
        "customers",
        f"{ASSUMPTION}; calibrated at 2,000; the budget total is fixed, so more customers are "
        "smaller firms (docs/model.md, limitation 17)",
        "Number of Chinese enterprise customers, the named archetypes included",
        1,
        None,
    )
    archetypes: dict[str, ArchetypeConfig] = param(
        None,
        "table",
        f"{ASSUMPTION}; {FACTS}: ByteDance the largest buyer, Ant Group, Meituan and Tencent "
        "also buy",
        "Named customers configured explicitly (the first rows); the rest are drawn",
        factory=_default_archetypes,
    )
    budget_total_musd: float = param(
        fitted("customers.budget_total_musd", 300.0),
        "USD million per month",
        f"{FITTED_SOURCE}; {FACTS}: a China channel between the largest buyer's $0.24B and "
        "the provider's whole AI-cloud business near $1B a year in 2024; plausible range: "
        "where every target but the noisy month-0 recall still passes with the others fixed",
        "Total monthly AI budget at month 0 of the drawn customers (archetypes excluded)",
        0,
        None,
        plausible=(15, 100),
    )
    pareto_alpha: float = param(
        1.6,
        "tail index",
        f"{ASSUMPTION}; heavy tail, a little lighter than the whole market's because the "
        "heaviest buyers are the named archetypes",
        "Pareto tail index of the drawn customers' budgets (smaller is heavier)",
        0.5,
        10,
        plausible=(1.2, 2.2),
    )
    budget_growth: float = param(
        fitted("customers.budget_growth", 0.08),
        "per month",
        f"{FITTED_SOURCE}; {FACTS}: China AI revenue +400% in the year to June 2024, then "
        "about x3 in the year to June 2025",
        "Initial growth of every customer's AI budget (logistic adoption: the rate falls as "
        "budgets approach their saturation)",
        -0.5,
        1,
        plausible=(0.02, 0.15),
    )
    budget_saturation: float = param(
        fitted("customers.budget_saturation", 10.0),
        "x month-0 budget",
        f"{FITTED_SOURCE}; Bass-type adoption (logistic, no innovation term)",
        "Multiple of the month-0 budget that budgets approach: B(t) = B0 L / (1 + (L - 1) "
        "(1 + g)^-t); a very large L is plain growth at g a month",
        1,
        None,
        plausible=(3.0, 50.0),
    )
    approval_min_budget_musd: float = param(
        0.1,
        "USD million per month",
        f"{ASSUMPTION}; {FACTS}: sold to established enterprises only",
        "Smallest budget the intermediary approves",
        0,
        None,
        plausible=(0.03, 0.5),
    )
    evade_propensity: float = param(
        0.3,
        "probability",
        ASSUMPTION,
        "Mean propensity of a restricted customer to try a reseller or shell each month",
        0,
        1,
        plausible=(0.1, 0.6),
    )
    inhouse_growth: float = param(
        0.028,
        "per month",
        f"{ASSUMPTION}; as domestic providers (big platforms are domestic providers)",
        "Own growth of in-house capability",
        0,
        1,
        plausible=(0.015, 0.045),
    )
    sectors: dict[str, SectorConfig] = param(
        None, "table", ASSUMPTION, "Sector mix and traits", factory=_default_sectors
    )


@dataclass
class InternationalConfig:
    """International customers of the intermediary, for the two-way flow of Chinese models."""

    n: int = param(500, "customers", ASSUMPTION, "Number of international customers", 0, None)
    budget_total_musd: float = param(
        50.0,
        "USD million per month",
        ASSUMPTION,
        "Their total monthly spend on the intermediary's model catalog",
        0,
        None,
        plausible=(20, 200),
    )
    pareto_alpha: float = param(
        1.5, "tail index", ASSUMPTION, "Pareto tail index", 0.5, 10, plausible=(1.1, 2.0)
    )
    budget_growth: float = param(
        0.03, "per month", ASSUMPTION, "Budget growth", -0.5, 1, plausible=(0.0, 0.06)
    )
    asc_chinese: float = param(
        -1.5,
        "utility",
        ASSUMPTION,
        "Preference against Chinese models abroad (trust, compliance)",
        None,
        None,
        plausible=(-3, 0),
    )
    asc_elsewhere: float = param(
        -1.0,
        "utility",
        ASSUMPTION,
        "Friction of buying the same models elsewhere (other clouds, the labs' own APIs)",
        None,
        None,
        plausible=(-3.0, 0.0),
    )


@dataclass
class DeveloperConfig:
    """A model developer: a lab with a model, a price path and a tolerance for leakage."""

    home: str = param("US", "US or CN", ASSUMPTION, "Home jurisdiction")
    capability0: float = param(
        1.0,
        "index (frontier at month 0 = 1)",
        ASSUMPTION,
        "Model capability at month 0",
        1e-6,
        None,
    )
    growth: float = param(
        0.03,
        "per month",
        f"{ASSUMPTION}; ~43%/yr frontier progress",
        "Capability growth",
        0,
        1,
        plausible=(0.02, 0.045),
    )
    price0: float = param(
        4.375,
        "USD per million tokens",
        f"{FACTS}: GPT-4o $2.50 in / $10 out, blended 3:1, in Aug 2024; the US labs' entries "
        "carry it back to month 0 along their price path",
        "List price at month 0",
        1e-6,
        None,
    )
    price_decline: float = param(
        0.0916,
        "per month (log)",
        f"{FITTED_SOURCE} for the US labs; {FACTS}: capability-adjusted prices ~10x cheaper a "
        "year (the flagship's list price falls more slowly)",
        "Rate of list-price decline, p(t) = p0 exp(-rate t)",
        0,
        2,
        plausible=(0.04, 0.12),
    )
    revenue_share: float = param(
        0.2,
        "share of channel spend",
        ASSUMPTION,
        "Developer's share of what customers pay the intermediary for its model",
        0,
        1,
        plausible=(0.1, 0.3),
    )
    tolerance: float = param(
        3.0e6,
        "samples (decayed sum)",
        f"{ASSUMPTION}; {FACTS}: no lab withdrew from the channel through mid-2026 although "
        "the labs found campaigns of millions of exchanges (Feb 2026); set at about twice "
        "the pressure the replay reaches after that disclosure",
        "Pressure at which it withdraws its model from China-reachable regions",
        0,
        None,
        plausible=(1.5e6, 6.0e6),
    )
    pressure_decay: float = param(
        0.8,
        "per month",
        ASSUMPTION,
        "Share of pressure that persists a month",
        0,
        1,
        plausible=(0.6, 0.95),
    )
    report_weight: float = param(
        0.3,
        "share",
        ASSUMPTION,
        "Weight of extraction the intermediary caught and reported, against extraction the "
        "developer found itself (which weighs 1)",
        0,
        1,
        plausible=(0.1, 1.0),
    )
    own_detection: float = param(
        0.1,
        "share of missed samples",
        f"{ASSUMPTION}; {FACTS}: the Feb 2026 campaigns were found by the lab itself",
        "Share of extraction the intermediary missed that the developer finds on its own",
        0,
        1,
        plausible=(0.02, 0.3),
    )
    in_channel: bool = param(
        True, "flag", ASSUMPTION, "Model offered to Chinese customers via the intermediary"
    )


#: GPT-4o's list price on the provider, $2.50 in / $10 out blended 3:1, as of August 2024.
GPT4O_PRICE, GPT4O_MONTH = 4.375, 7


def _default_developers() -> dict[str, DeveloperConfig]:
    decline = fitted("developers.us_frontier.price_decline", 0.0916)
    frontier_price = GPT4O_PRICE * math.exp(GPT4O_MONTH * decline)
    return {
        "us_frontier": DeveloperConfig(price0=frontier_price, price_decline=decline),
        "us_second": DeveloperConfig(
            capability0=0.97, price0=0.8 * frontier_price, price_decline=decline, tolerance=4.0e6
        ),
        "cn_open": DeveloperConfig(
            home="CN", capability0=0.85, growth=0.028, price0=0.96, in_channel=False
        ),
    }


@dataclass
class IntermediaryConfig:
    """A cloud intermediary selling licensed US models to approved Chinese enterprises."""

    share: float = param(
        1.0, "share of customers", ASSUMPTION, "Share of customers it serves", 0, 1
    )
    monitoring0: float = param(
        0.5,
        "intensity in [0,1]",
        f"{ASSUMPTION}; {FACTS}: automated monitoring of every account",
        "Monitoring intensity at month 0 (mu)",
        0,
        1,
        plausible=(0.2, 0.8),
    )
    kyc0: float = param(
        0.6,
        "strictness in [0,1]",
        f"{ASSUMPTION}; {FACTS}: established enterprises only",
        "KYC strictness at month 0",
        0,
        1,
        plausible=(0.3, 0.9),
    )
    adaptive: bool = param(
        True,
        "flag",
        "model.md",
        "Monitoring and KYC follow the intermediary's hill climb; false pins both",
    )
    monitoring_min: float = param(0.1, "intensity", ASSUMPTION, "Lowest monitoring", 0, 1)
    monitoring_max: float = param(1.0, "intensity", ASSUMPTION, "Highest monitoring", 0, 1)
    kyc_min: float = param(0.3, "strictness", ASSUMPTION, "Lowest KYC strictness", 0, 1)
    kyc_max: float = param(1.0, "strictness", ASSUMPTION, "Highest KYC strictness", 0, 1)
    adapt_every: int = param(
        3, "months", ASSUMPTION, "Months between safeguard reviews", 1, 120, plausible=(1, 6)
    )
    adapt_step: float = param(
        0.05,
        "intensity or strictness",
        ASSUMPTION,
        "How far one review moves a safeguard",
        0,
        1,
        plausible=(0.02, 0.15),
    )
    relationship_cost: float = param(
        1.0,
        "share of net revenue at full pressure",
        f"{ASSUMPTION}; model.md: the intermediary weighs the cost of developer pressure",
        "Revenue the intermediary counts as at risk when a developer's pressure reaches its "
        "tolerance (scaled by pressure / tolerance)",
        0,
        None,
        plausible=(0.3, 3.0),
    )
    suspension_months: float = param(
        3.0,
        "months (mean)",
        ASSUMPTION,
        "Mean suspension after a first detected extraction (geometric length)",
        1,
        120,
        plausible=(1.0, 6.0),
    )
    escalation: float = param(
        2.0,
        "multiplier",
        ASSUMPTION,
        "Each repeat offence multiplies the mean suspension",
        1,
        10,
        plausible=(1.5, 4.0),
    )
    terminate_after: int = param(
        3,
        "offences",
        ASSUMPTION,
        "Detected offences after which a harvester's account is terminated for good",
        1,
        100,
        plausible=(2, 5),
    )
    appeal_months: int = param(
        1,
        "months",
        ASSUMPTION,
        "Months an honest account flagged by mistake waits for its appeal (no offence recorded)",
        0,
        24,
        plausible=(0, 3),
    )
    false_reject: float = param(
        0.05,
        "share of honest applicants at strictness 1",
        f"{ASSUMPTION}; {FACTS}: the proposed KYC rule's compliance cost (up to $170M a year)",
        "Honest established firms KYC turns away, times KYC strictness",
        0,
        1,
        plausible=(0.0, 0.15),
    )
    rate_limit: float = param(
        0.2,
        "tightness in [0,1]",
        ASSUMPTION,
        "Rate limits: cut each account's extraction capacity to (1 - tightness) of the largest "
        "campaign, and throttle that share of honest bulk use",
        0,
        1,
        plausible=(0.0, 0.5),
    )
    channel_open: bool = param(True, "flag", "model.md", "Serves Chinese customers at all")


@dataclass
class DomesticConfig:
    """Domestic Chinese model providers, as one market-level competitor."""

    capability0: float = param(
        0.85,
        "index",
        f"{ASSUMPTION}; Chinese best a few months behind the frontier",
        "Capability at month 0",
        1e-6,
        None,
        plausible=(0.75, 0.92),
    )
    growth: float = param(
        0.028, "per month", ASSUMPTION, "Own capability growth", 0, 1, plausible=(0.015, 0.045)
    )
    price0: float = param(
        fitted("domestic.price0", 2.0),
        "USD per million tokens",
        f"{FITTED_SOURCE}; {FACTS}: before the May 2024 price war (cuts of 97-99%)",
        "Blended list price at month 0 (flagships such as ERNIE 4.0 listed near $17 per "
        "million tokens before the war)",
        1e-6,
        None,
        plausible=(0.5, 20.0),
    )
    price_decline: float = param(
        fitted("domestic.price_decline", 0.05),
        "per month (log)",
        f"{FITTED_SOURCE}; {FACTS}: on top of the 2024 price-war cuts (97-99%)",
        "Rate of domestic price decline outside price-war shocks",
        0,
        2,
        plausible=(0.02, 0.12),
    )
    spillover: float = param(
        0.1,
        "per month",
        ASSUMPTION,
        "Share of leaked capability above the domestic level absorbed each month (lamD)",
        0,
        1,
        plausible=(0.02, 0.3),
    )


@dataclass
class DemandConfig:
    """Discrete choice of how a customer splits its budget among options."""

    quality_weight: float = param(
        10.0,
        "utility per log capability",
        ASSUMPTION,
        "bq: weight on log capability",
        0,
        None,
        plausible=(5, 15),
    )
    price_weight: float = param(
        0.6,
        "utility per log price",
        ASSUMPTION,
        "bp: weight on log price",
        0,
        None,
        plausible=(0.3, 1.2),
    )
    risk_weight: float = param(
        3.0, "utility per risk", ASSUMPTION, "br: weight on risk", 0, None, plausible=(1.5, 6)
    )
    asc_foreign: float = param(
        fitted("demand.asc_foreign", 0.0),
        "utility",
        FITTED_SOURCE,
        "Constant for foreign models (their appeal beyond quality, price and risk)",
        plausible=(-3.0, 3.0),
    )
    asc_domestic: float = param(
        0.3, "utility", ASSUMPTION, "Constant for domestic providers", plausible=(-1, 1)
    )
    asc_inhouse: float = param(
        -0.5, "utility", ASSUMPTION, "Constant for in-house models", plausible=(-1.5, 0.5)
    )
    asc_reseller: float = param(
        -1.0, "utility", ASSUMPTION, "Constant for reseller access", plausible=(-2, 0)
    )
    reseller_markup: float = param(
        0.25,
        "share of list price",
        f"{ASSUMPTION}; {FACTS}: grey markets undercut list, shells pay a premium",
        "Reseller's margin over list price",
        0,
        None,
        plausible=(0.05, 1.0),
    )
    inhouse_price_factor: float = param(
        2.0,
        "x domestic price",
        ASSUMPTION,
        "Cost of serving an in-house model",
        0,
        None,
        plausible=(1, 4),
    )
    withdrawal_salience: float = param(
        0.1,
        "risk per unit of pressure ratio",
        ASSUMPTION,
        "How much of the served developer's pressure (share of its tolerance) customers read "
        "as a risk of losing the model; low because buyers kept buying through suspensions "
        "and blocks in 2024-2026",
        0,
        1,
        plausible=(0.0, 0.5),
    )
    bulk_share: float = param(
        0.1,
        "share of foreign use",
        ASSUMPTION,
        "Share of a customer's foreign use that is bulk work rate limits throttle",
        0,
        1,
        plausible=(0.02, 0.3),
    )


@dataclass
class DistillationConfig:
    """Extraction campaigns and what a stock of harvested samples teaches."""

    campaign_samples: float = param(
        1.0e5,
        "samples per month at intent 1",
        f"{ASSUMPTION}; {FACTS}: R1 distilled with ~800k samples; disclosed campaigns of "
        "150k to 13M exchanges (Feb 2026)",
        "Extraction volume a fully intent harvester plans each month",
        0,
        1e9,
        plausible=(5.0e4, 1.0e6),
    )
    ambition_exponent: float = param(
        3.0,
        "elasticity",
        f"{ASSUMPTION}; {FACTS}: the large disclosed campaigns were run by AI labs",
        "Campaign volume scales with in-house ambition (capability0 / domestic capability0) "
        "to this power: labs run large campaigns, other firms fine-tune on small sets",
        0,
        10,
        plausible=(1.0, 5.0),
    )
    tokens_per_sample: float = param(
        2000.0,
        "tokens per exchange",
        f"{ASSUMPTION}; a prompt and its answer; reasoning traces run longer",
        "Output tokens per harvested exchange (converts samples to tokens)",
        1,
        1e6,
        plausible=(500.0, 8000.0),
    )
    deterrence: float = param(
        0.7,
        "share",
        ASSUMPTION,
        "How much full monitoring cuts a harvester's planned volume",
        0,
        1,
        plausible=(0.3, 0.9),
    )
    risk_memory: float = param(
        0.7,
        "per month",
        ASSUMPTION,
        "Persistence of a customer's perceived detection risk (own flags and near misses)",
        0,
        1,
        plausible=(0.4, 0.9),
    )
    broad_ceiling: float = param(
        0.2,
        "share of the broad gap",
        f"{FACTS}: imitation copies style but closes little of the broad capability gap",
        "c_b: largest share of the broad gap to the teacher a sample stock can close",
        0,
        0.999,
        plausible=(0.05, 0.4),
    )
    broad_half_samples: float = param(
        1.0e6,
        "samples",
        f"{FACTS}: DeepSeek-R1 distilled into smaller models with ~800k samples",
        "E_b: stock at which the broad transfer reaches 63% of its ceiling",
        1,
        None,
        plausible=(2.0e5, 5.0e6),
    )
    narrow_ceiling: float = param(
        0.9,
        "share of the narrow-task gap",
        f"{FACTS}: narrow skills transfer (Alpaca, s1, Orca)",
        "c_n: largest share of the gap on narrow tasks a sample stock can close",
        0,
        1,
        plausible=(0.6, 1.0),
    )
    narrow_half_samples: float = param(
        3.0e4,
        "samples",
        f"{FACTS}: narrow skills transfer with 1e3-1e6 samples (s1: 1k, Alpaca: 52k)",
        "E_n: stock at which the narrow transfer reaches 63% of its ceiling",
        1,
        None,
        plausible=(1.0e3, 1.0e6),
    )
    narrow_use: float = param(
        0.3,
        "share of a firm's own use",
        ASSUMPTION,
        "nu: share of a firm's own AI use that narrow, distillable skills cover",
        0,
        1,
        plausible=(0.1, 0.6),
    )
    proxy_accounts_max: float = param(
        20000.0,
        "accounts at KYC 0",
        f"{FACTS}: ~24,000 fraudulent accounts, one network >20,000 (Feb 2026)",
        "Most accounts one harvester can run; KYC strictness k leaves 1 + max * (1 - k)",
        0,
        1e6,
        plausible=(100.0, 20000.0),
    )
    proxy_cost_usd: float = param(
        200.0,
        "USD per account per month",
        f"{ASSUMPTION}; {FACTS}: grey-market access at ~10% of list, so token costs are "
        "negligible and the cost is the accounts themselves",
        "Cost of running one extra (proxy) account",
        0,
        1e7,
        plausible=(50.0, 2000.0),
    )
    attribution: float = param(
        0.1,
        "probability per flagged proxy account",
        f"{ASSUMPTION}; {FACTS}: the Feb 2026 campaigns were attributed to named labs",
        "Chance a flagged proxy account is traced back to the firm running it",
        0,
        1,
        plausible=(0.02, 0.5),
    )


@dataclass
class DetectionConfig:
    """The intermediary's monitoring for extraction-like traffic on each account."""

    sensitivity: float = param(
        4.6,
        "per unit of monitoring",
        f"{FACTS}: query-pattern detectors catch ~90% of extraction mixed with honest "
        "traffic; 1 - exp(-4.6 * 0.5) = 0.9 at the default monitoring",
        "kappa: recall ceiling 1 - exp(-kappa * mu) for accounts well above the threshold",
        0,
        100,
        plausible=(2.0, 8.0),
    )
    threshold_samples: float = param(
        5000.0,
        "samples per account per month",
        f"{ASSUMPTION}; {FACTS}: proxy networks kept each account under detection thresholds",
        "v50: per-account extraction volume flagged at half the recall ceiling",
        1,
        None,
        plausible=(1000.0, 30000.0),
    )
    link_accounts: float = param(
        2000.0,
        "accounts",
        f"{ASSUMPTION}; {FACTS}: networks of ~24,000 accounts were linked and attributed",
        "m50: size of a proxy network that cross-account analysis links at half the recall "
        "ceiling in a month (shared payment, prompts, infrastructure)",
        1,
        None,
        plausible=(200.0, 20000.0),
    )
    false_positive_rate: float = param(
        0.006,
        "per month at full monitoring",
        f"{FACTS}: PRADA-like detectors ~0.3% false positives (0.006 * 0.5 at the default)",
        "Chance an honest account is flagged, times monitoring intensity",
        0,
        1,
        plausible=(0.002, 0.02),
    )


@dataclass
class DiffusionConfig:
    """Spread of distilled capability over the customers' knowledge network."""

    rate: float = param(
        0.05,
        "per month",
        ASSUMPTION,
        "delta: share of the neighbour surplus absorbed each month",
        0,
        1,
        plausible=(0.01, 0.15),
    )
    reach_threshold: float = param(
        1.0e4,
        "samples",
        ASSUMPTION,
        "Samples received over the network that count a customer as reached",
        0,
    )


@dataclass
class NetworkConfig:
    """The customer knowledge network (sector clusters, heavy-tailed degree)."""

    attach: int = param(
        2,
        "edges per node",
        ASSUMPTION,
        "Barabasi-Albert attachment within a sector",
        1,
        None,
        plausible=(1, 5),
    )
    cross_sector_degree: float = param(
        1.0,
        "edges per customer",
        ASSUMPTION,
        "Mean cross-sector links per customer",
        0,
        None,
        plausible=(0.3, 3),
    )


@dataclass
class USRegulatorConfig:
    """The US export-control authority."""

    rule_level: float = param(
        0.02,
        "share of customers in [0,1]",
        f"{ASSUMPTION}; {FACTS}: a few listed entities; 1 means every China-HQ firm",
        "e: share of customers restricted, the most exposed (listing score) first",
        0,
        1,
    )
    restricted_sectors: list[str] = param(
        None, "sector names", "model.md", "Sectors restricted outright", factory=list
    )
    kyc_duty: float = param(
        0.0,
        "strictness in [0,1]",
        f"{FACTS}: proposed cloud KYC rule (Jan 2024)",
        "Legal floor on the intermediary's KYC strictness",
        0,
        1,
    )
    audit_prob: float = param(
        0.1,
        "per violation",
        ASSUMPTION,
        "Chance a violation is found and fined",
        0,
        1,
        plausible=(0.02, 0.3),
    )
    penalty_fixed_usd: float = param(
        374_474.0,
        "USD per violation",
        f"{FACTS}: US civil penalty, greater of ~$374k or twice the transaction",
        "Fixed part of the fine",
        0,
        None,
    )
    penalty_multiplier: float = param(
        2.0, "x transaction value", f"{FACTS}: twice the transaction value", "Fine multiple", 0
    )
    two_way_restriction: float = param(
        0.0,
        "share in [0,1]",
        "model.md",
        "Share of international customers barred from Chinese models",
        0,
        1,
    )


@dataclass
class CNRegulatorConfig:
    """The Chinese cyberspace and commerce authority."""

    localisation: float = param(
        0.0,
        "share in [0,1]",
        f"{ASSUMPTION}; {FACTS}: cross-border data rules eased Mar 2024",
        "Share of a customer's use that must stay onshore",
        0,
        1,
    )
    barred_sectors: list[str] = param(
        None, "sector names", "model.md", "Sectors barred from foreign models", factory=list
    )
    disapproval: float = param(
        0.1,
        "risk in [0,1]",
        ASSUMPTION,
        "Perceived domestic disapproval of foreign-model use",
        0,
        1,
        plausible=(0.0, 0.3),
    )


@dataclass
class PoliticsConfig:
    """Political attention and, when enabled, endogenous policy."""

    decay: float = param(
        0.9, "per month", ASSUMPTION, "rho: persistence of attention", 0, 1, plausible=(0.8, 0.97)
    )
    weight_spend: float = param(
        0.01,
        "per USD million",
        ASSUMPTION,
        "w1: attention per $M spent by restricted parties",
        0,
        plausible=(0.002, 0.05),
    )
    weight_incident: float = param(
        0.1,
        "per incident",
        ASSUMPTION,
        "w2: attention per public incident",
        0,
        plausible=(0.03, 0.3),
    )
    publicity: float = param(
        0.2,
        "probability",
        ASSUMPTION,
        "Chance a detected incident becomes public",
        0,
        1,
        plausible=(0.05, 0.5),
    )
    endogenous: bool = param(False, "flag", "model.md", "Rules respond to attention")
    threshold: float = param(
        2.0,
        "attention",
        f"{ASSUMPTION}; near the baseline's 90th percentile of monthly attention (mean ~1.4, "
        "90th percentile ~1.9, largest ~2.5 over 10 seeds), so spikes of incidents or of "
        "restricted spend trigger it",
        "Attention that triggers tightening",
        0,
        plausible=(1.5, 4.0),
    )
    tighten_step: float = param(
        0.25, "rule level", ASSUMPTION, "US rule-level rise per trigger", 0, 1, plausible=(0.1, 0.5)
    )
    retaliation_step: float = param(
        0.0,
        "localisation",
        ASSUMPTION,
        "China localisation rise per US tightening",
        0,
        1,
        plausible=(0.0, 0.3),
    )
    cooldown: int = param(
        6, "months", ASSUMPTION, "Months between endogenous moves", 0, None, plausible=(3, 12)
    )


@dataclass
class EventConfig:
    """A dated policy event: from ``month`` (or calendar ``date``, YYYY-MM) a lever moves to
    ``value`` (over ``ramp`` months). Give one of ``month`` and ``date``."""

    month: int | None = None
    date: str | None = None
    lever: str = "???"
    value: Any = None
    ramp: int = 0
    note: str = ""


@dataclass
class ScenarioConfig:
    """A named scenario: what it represents, the question it answers, dated policy events.

    ``kind`` is "policy" (a choice someone makes: rules, safeguards, exits) or "context" (a
    market shock nobody chooses), so comparisons can show the two apart; ``baseline`` is the
    reference. ``why`` explains, in prose, the chain of mechanisms behind each headline it
    moves (the scenario catalogue prints it; tests/test_chains.py checks each chain).
    ``expect`` maps summary keys to "higher" or "lower": the direction the scenario should
    move them against ``baseline``, with a paired 95% interval over seeds (checked by the
    test suite).
    """

    name: str = "baseline"
    kind: str = "policy"
    description: str = ""
    question: str = ""
    why: str = ""
    expect: dict[str, str] = field(default_factory=dict)
    events: list[EventConfig] = field(default_factory=list)


@dataclass
class HistoryConfig:
    """Dated events that happened before the projection starts (the history replay).

    Applied in every run before the scenario's own events; ``history=none`` drops them.
    """

    name: str = "none"
    events: list[EventConfig] = field(default_factory=list)


@dataclass
class CheckConfig:
    """Run-time checks of the model's own consistency."""

    invariants: bool = param(
        False,
        "flag",
        "project choice",
        "Check every month's invariants (sim/invariants.py); a violation stops the run",
    )


@dataclass
class OutputConfig:
    """What a run writes."""

    plots: bool | None = param(
        None,
        "flag or null",
        "project choice",
        "Write the per-run figures under plots/; null means on for single runs, off in sweeps",
    )
    progress: bool = param(
        True, "flag", "project choice", "Progress bar on a terminal (never in sweeps or pipes)"
    )
    customers_format: str = param(
        "auto",
        "auto, csv or parquet",
        "project choice",
        "Format of customers.*; auto is Parquet when pyarrow is installed",
    )


@dataclass
class Config:
    """The whole simulator configuration."""

    seed: int = param(
        0, "integer", "project choice", "Root of every random stream (numpy SeedSequence)", 0, None
    )
    start: str = param(
        "2024-01",
        "YYYY-MM",
        f"{FACTS}: the first dated figures (Dec 2023 suspension, Mar 2024 spend)",
        "Calendar month of month 0",
    )
    horizon: int = param(
        84,
        "months",
        "model.md (five years projected after the history of 2024-2026)",
        "Months simulated: 84 from 2024-01 runs to 2030-12",
        1,
        None,
    )
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
    history: HistoryConfig = field(default_factory=HistoryConfig)
    customers: CustomersConfig = field(default_factory=CustomersConfig)
    international: InternationalConfig = field(default_factory=InternationalConfig)
    developers: dict[str, DeveloperConfig] = field(default_factory=_default_developers)
    intermediaries: dict[str, IntermediaryConfig] = field(
        default_factory=lambda: {"azure": IntermediaryConfig()}
    )
    domestic: DomesticConfig = field(default_factory=DomesticConfig)
    demand: DemandConfig = field(default_factory=DemandConfig)
    distillation: DistillationConfig = field(default_factory=DistillationConfig)
    detection: DetectionConfig = field(default_factory=DetectionConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    us: USRegulatorConfig = field(default_factory=USRegulatorConfig)
    cn: CNRegulatorConfig = field(default_factory=CNRegulatorConfig)
    politics: PoliticsConfig = field(default_factory=PoliticsConfig)
    check: CheckConfig = field(default_factory=CheckConfig)
    output: OutputConfig = field(default_factory=OutputConfig)


@dataclass(frozen=True)
class Plausible:
    """A parameter's plausible range, with its unit and source (for uncertainty analysis)."""

    key: str
    lo: float
    hi: float
    default: float
    unit: str
    source: str
    integer: bool


def plausible_ranges(config: Config | None = None) -> dict[str, Plausible]:
    """Every parameter with a plausible range, by dotted key (``developers.us_frontier.growth``).

    Walks the config tree (the defaults unless ``config`` is given), including the entries
    of mapping nodes such as ``developers`` and ``customers.sectors``.
    """
    import dataclasses

    out: dict[str, Plausible] = {}

    def walk(node: Any, prefix: str) -> None:
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            key = f"{prefix}{f.name}"
            rng = f.metadata.get("plausible")
            factor = f.metadata.get("plausible_factor")
            if rng is None and factor is not None and isinstance(value, int | float) and value:
                lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
                rng = (factor[0] * value, factor[1] * value)
                rng = (
                    max(rng[0], lo) if lo is not None else rng[0],
                    min(rng[1], hi) if hi is not None else rng[1],
                )
            if rng is not None and isinstance(value, int | float) and not isinstance(value, bool):
                out[key] = Plausible(
                    key,
                    float(rng[0]),
                    float(rng[1]),
                    float(value),
                    f.metadata["unit"],
                    f.metadata["source"],
                    isinstance(value, int),
                )
            if dataclasses.is_dataclass(value):
                walk(value, f"{key}.")
            elif isinstance(value, dict):
                for name, item in value.items():
                    if dataclasses.is_dataclass(item):
                        walk(item, f"{key}.{name}.")

    walk(config if config is not None else Config(), "")
    return out


def register_configs() -> None:
    """Register the schema with Hydra's ConfigStore, once per process.

    Storing converts the dataclasses into a typed config (about 0.1 s), so a schema already
    stored is left as it is: every compose and override check calls this.
    """
    cs = ConfigStore.instance()
    if "config.yaml" in cs.repo.get("schema", {}):
        return
    cs.store(group="schema", name="config", node=Config, package="_global_")


def typed_schema() -> DictConfig:
    """The schema as the typed config Hydra stored (:func:`register_configs`), to merge onto.

    Converting the dataclasses again costs about 0.1 s; ``OmegaConf.merge`` copies its first
    argument, so merging onto this leaves it unchanged.
    """
    register_configs()
    return ConfigStore.instance().repo["schema"]["config.yaml"].node
