"""Policy levers and the timeline of dated events that moves them during a run.

A lever is a named, time-varying setting of one of the agents (``us.rule_level``,
``cn.localisation``, ``intermediary.monitoring``, ``developers.us_frontier.in_channel``, ...).
Scenario events move levers at given months, optionally ramping linearly over several months.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.model import MarketModel
    from sim.schema import EventConfig

NUMBER, FLAG, SECTORS, SHOCK = "number", "flag", "sectors", "shock"


@dataclass(frozen=True)
class Lever:
    """A policy lever: what it moves, its kind and allowed range."""

    owner: str
    attr: str
    kind: str
    doc: str
    lo: float | None = None
    hi: float | None = None


LEVERS: dict[str, Lever] = {
    "us.rule_level": Lever(
        "us", "rule_level", NUMBER, "Share of customers restricted, most exposed first", 0, 1
    ),
    "us.restricted_sectors": Lever(
        "us", "restricted_sectors", SECTORS, "Sectors restricted outright"
    ),
    "us.kyc_duty": Lever("us", "kyc_duty", NUMBER, "Legal floor on KYC strictness", 0, 1),
    "us.audit_prob": Lever("us", "audit_prob", NUMBER, "Chance a violation is found", 0, 1),
    "us.penalty_fixed_usd": Lever("us", "penalty_fixed_usd", NUMBER, "Fixed fine per violation", 0),
    "us.penalty_multiplier": Lever(
        "us", "penalty_multiplier", NUMBER, "Fine as a multiple of the transaction", 0
    ),
    "us.two_way_restriction": Lever(
        "us",
        "two_way_restriction",
        NUMBER,
        "Share of international buyers barred from Chinese models",
        0,
        1,
    ),
    "cn.localisation": Lever(
        "cn", "localisation", NUMBER, "Share of use that must stay onshore", 0, 1
    ),
    "cn.barred_sectors": Lever(
        "cn", "barred_sectors", SECTORS, "Sectors barred from foreign models"
    ),
    "cn.disapproval": Lever(
        "cn", "disapproval", NUMBER, "Perceived disapproval of foreign models", 0, 1
    ),
    "intermediary.monitoring": Lever(
        "intermediary",
        "monitoring",
        NUMBER,
        "Monitoring intensity (pins it: no more adapting)",
        0,
        1,
    ),
    "intermediary.kyc": Lever(
        "intermediary", "kyc", NUMBER, "KYC strictness (pins it: no more adapting)", 0, 1
    ),
    "intermediary.rate_limit": Lever(
        "intermediary", "rate_limit", NUMBER, "Rate-limit tightness (extraction and bulk use)", 0, 1
    ),
    "intermediary.adaptive": Lever(
        "intermediary", "adaptive", FLAG, "Safeguards adapt (false pins them)"
    ),
    "intermediary.channel_open": Lever(
        "intermediary", "channel_open", FLAG, "Serves Chinese customers"
    ),
    "developer.in_channel": Lever(
        "developer", "in_channel", FLAG, "Model offered to China via the channel"
    ),
    "domestic.price_cut": Lever(
        "domestic", "cut_price", SHOCK, "One-off domestic price cut (share)", 0, 1
    ),
    "domestic.capability_jump": Lever(
        "domestic", "jump_capability", SHOCK, "One-off domestic capability jump (index points)", 0
    ),
    "politics.endogenous": Lever("us", "endogenous", FLAG, "Rules respond to political attention"),
}


def lever_spec(name: str) -> tuple[Lever, str | None]:
    """Resolve a lever name to its spec and, for per-agent levers, the agent's key.

    ``intermediary.monitoring`` moves every intermediary, ``intermediaries.azure.monitoring``
    one of them; ``developers.us_frontier.in_channel`` one developer.
    """
    parts = name.split(".")
    singular = {"intermediaries": "intermediary", "developers": "developer"}
    if len(parts) == 3 and parts[0] in singular:
        base = f"{singular[parts[0]]}.{parts[2]}"
        if base in LEVERS:
            return LEVERS[base], parts[1]
    if name in LEVERS and LEVERS[name].owner != "developer":
        return LEVERS[name], None
    raise KeyError(name)


def _targets(model: MarketModel, lever: Lever, key: str | None) -> list[Any]:
    owners: dict[str, Callable[[], list[Any]]] = {
        "us": lambda: [model.us],
        "cn": lambda: [model.cn],
        "domestic": lambda: [model.domestic],
        "intermediary": lambda: (
            [model.intermediaries[key]] if key else list(model.intermediaries.values())
        ),
        "developer": lambda: [model.developers[key]],
    }
    return owners[lever.owner]()


class PolicyTimeline:
    """Applies a scenario's dated events to the model's agents, month by month.

    A ramp moves a number lever linearly to its target; it stops as soon as anything else
    (a later event, endogenous policy) sets the lever, so the latest decision wins. Setting
    a lever an agent adapts by itself (the intermediary's monitoring and KYC) pins it there:
    the agent's own rule never silently undoes a scenario's decision.
    """

    def __init__(self, events: Sequence[EventConfig]) -> None:
        self.events = sorted(enumerate(events), key=lambda pair: (pair[1].month, pair[0]))
        self._ramp_start: dict[tuple[int, int], float] = {}
        self._ramp_written: dict[tuple[int, int], float] = {}

    def apply(self, model: MarketModel, month: int) -> list[str]:
        """Move the levers whose events are active at ``month``; returns the levers moved."""
        moved = []
        for idx, event in self.events:
            ramp = max(int(event.ramp), 1)
            if not event.month <= month < event.month + ramp:
                continue
            lever, key = lever_spec(event.lever)
            for target in _targets(model, lever, key):
                slot = (idx, id(target))
                if hasattr(target, "pin"):
                    target.pin(lever.attr)
                if lever.kind == SHOCK:
                    if month == event.month:
                        getattr(target, lever.attr)(float(event.value))
                elif lever.kind == NUMBER and ramp > 1:
                    current = float(getattr(target, lever.attr))
                    if month == event.month:
                        self._ramp_start[slot] = current
                    elif self._ramp_written.get(slot) != current:
                        continue  # something else moved the lever: the ramp yields
                    start, end = self._ramp_start[slot], float(event.value)
                    value = start + (end - start) * (month - event.month + 1) / ramp
                    # never past either end (rounding took a ramp to 0 down to -1e-16)
                    value = min(max(value, min(start, end)), max(start, end))
                    setattr(target, lever.attr, value)
                    self._ramp_written[slot] = value
                elif month != event.month:
                    continue
                elif lever.kind == SECTORS:
                    setattr(target, lever.attr, list(event.value or []))
                elif lever.kind == FLAG:
                    setattr(target, lever.attr, bool(event.value))
                else:
                    setattr(target, lever.attr, float(event.value))
            moved.append(event.lever)
        return moved
