"""Policy levers and the timeline of dated events that moves them during a run.

A lever is a named, time-varying setting of one of the agents (``us.rule_level``,
``cn.localisation``, ``intermediary.monitoring``, ``developers.us_frontier.in_channel``, ...).
Scenario events move levers at given months, optionally ramping linearly over several months.
"""

from __future__ import annotations

import ast
import difflib
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.calendar import event_month

if TYPE_CHECKING:
    from sim.model import MarketModel
    from sim.schema import EventConfig

NUMBER, FLAG, SECTORS, SHOCK = "number", "flag", "sectors", "shock"


@dataclass(frozen=True)
class Lever:
    """A lever: what it moves, its kind and allowed range.

    ``context`` marks a lever nobody chooses as policy (a market shock, a lab's conduct, a
    world's extraction), moved by scenarios and the recorded history but left out of the
    policy levers that the dashboard and the decision analysis vary."""

    owner: str
    attr: str
    kind: str
    doc: str
    lo: float | None = None
    hi: float | None = None
    context: bool = False


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
        "domestic", "cut_price", SHOCK, "One-off domestic price cut (share)", 0, 1, context=True
    ),
    "customers.campaign_scale": Lever(
        "customers",
        "campaign_scale",
        NUMBER,
        "Multiple of every harvester's planned extraction (an arms race scales it up)",
        0,
        100,
        context=True,
    ),
    "domestic.growth": Lever(
        "domestic",
        "growth",
        NUMBER,
        "Domestic providers' own capability growth a month",
        0,
        1,
        context=True,
    ),
    "domestic.capability_jump": Lever(
        "domestic",
        "jump_capability",
        SHOCK,
        "One-off domestic capability jump (index points)",
        0,
        context=True,
    ),
    "politics.endogenous": Lever("us", "endogenous", FLAG, "Rules respond to political attention"),
    "politics.attention": Lever(
        "us",
        "raise_attention",
        SHOCK,
        "One-off rise of political attention (a public event)",
        0,
        context=True,
    ),
    "developer.capability_jump": Lever(
        "developer",
        "jump_capability",
        SHOCK,
        "One-off jump of a lab's capability (index points)",
        0,
        context=True,
    ),
    "developer.own_detection": Lever(
        "developer",
        "own_detection",
        NUMBER,
        "Share of unflagged extraction the lab finds itself",
        0,
        1,
        context=True,
    ),
}


#: Where each lever owner's agent class is defined: (module, class). Read as source text, so
#: checking the lever table needs neither a model nor an import of the agents (nor Mesa).
OWNERS: dict[str, tuple[str, str]] = {
    "us": ("sim.agents.regulators", "USRegulator"),
    "cn": ("sim.agents.regulators", "ChinaRegulator"),
    "intermediary": ("sim.agents.intermediary", "CloudIntermediary"),
    "developer": ("sim.agents.developers", "ModelDeveloper"),
    "domestic": ("sim.agents.domestic", "DomesticProviders"),
    "customers": ("sim.agents.customers", "CustomerPopulation"),
}


class LeverTableError(RuntimeError):
    """The lever table names an owner or attribute that its agent class does not have."""


@functools.cache
def agent_members(module: str, cls: str) -> tuple[frozenset[str], frozenset[str]]:
    """The attributes ``cls.__init__`` (or a dataclass's ``__post_init__``) assigns on
    ``self`` and the methods ``cls`` defines, read from the module's source with :mod:`ast`."""
    source = Path(__file__).resolve().parent.parent / (module.replace(".", "/") + ".py")
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except OSError as e:
        raise LeverTableError(f"sim/policy.py: agent module {module} not readable: {e}") from None
    node = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls), None)
    if node is None:
        raise LeverTableError(f"sim/policy.py: class {cls} not found in {source}")
    methods = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
    init = next(
        (
            n
            for n in node.body
            if isinstance(n, ast.FunctionDef) and n.name in ("__init__", "__post_init__")
        ),
        None,
    )
    attrs = {
        target.attr
        for stmt in (ast.walk(init) if init is not None else ())
        for target in _assigned(stmt)
        if isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
    }
    return frozenset(attrs), frozenset(methods)


def _assigned(stmt: ast.AST) -> list[ast.AST]:
    if isinstance(stmt, ast.Assign):
        return [t for target in stmt.targets for t in ast.walk(target)]
    if isinstance(stmt, ast.AnnAssign | ast.AugAssign):
        return [stmt.target]
    return []


def check_levers(levers: Mapping[str, Lever]) -> None:
    """Raise :class:`LeverTableError` unless every lever names a known owner and an attribute
    its agent class really has: a data attribute set in ``__init__`` (for number, flag and
    sector levers) or a method (for shocks). A misspelt attribute would otherwise make
    ``setattr`` create a new attribute that nothing reads, and the lever would do nothing."""
    for name, lever in levers.items():
        if lever.owner not in OWNERS:
            raise LeverTableError(
                f"sim/policy.py LEVERS[{name!r}]: unknown owner {lever.owner!r}; "
                f"allowed {sorted(OWNERS)} (add the agent class to OWNERS)"
            )
        module, cls = OWNERS[lever.owner]
        attrs, methods = agent_members(module, cls)
        if lever.kind == SHOCK:
            wanted, kind = methods, f"a method of {cls}"
        else:
            wanted, kind = attrs, f"an attribute {cls}.__init__ sets"
        if lever.attr not in wanted:
            close = difflib.get_close_matches(lever.attr, wanted, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise LeverTableError(
                f"sim/policy.py LEVERS[{name!r}]: {lever.attr!r} is not {kind} "
                f"({module}){hint}; allowed: {sorted(wanted)}"
            )


check_levers(LEVERS)


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
        "customers": lambda: [model.population],
    }
    return owners[lever.owner]()


class PolicyTimeline:
    """Applies a scenario's dated events to the model's agents, month by month.

    A ramp moves a number lever linearly to its target; it stops as soon as anything else
    (a later event, endogenous policy) sets the lever, so the latest decision wins. Setting
    a lever an agent adapts by itself (the intermediary's monitoring and KYC) pins it there:
    the agent's own rule never silently undoes a scenario's decision.
    """

    def __init__(self, events: Sequence[EventConfig], start: str = "2024-01") -> None:
        dated = [(i, event_month(e, start), e) for i, e in enumerate(events)]
        dated = [item for item in dated if item[1] >= 0]  # history before the start
        self.events = sorted(dated, key=lambda item: (item[1], item[0]))
        self._ramp_start: dict[tuple[int, int], float] = {}
        self._ramp_written: dict[tuple[int, int], float] = {}

    def apply(self, model: MarketModel, month: int) -> list[str]:
        """Move the levers whose events are active at ``month``; returns the levers moved."""
        moved = []
        for idx, start, event in self.events:
            ramp = max(int(event.ramp), 1)
            if not start <= month < start + ramp:
                continue
            lever, key = lever_spec(event.lever)
            for target in _targets(model, lever, key):
                slot = (idx, id(target))
                if hasattr(target, "pin"):
                    target.pin(lever.attr)
                if lever.kind == SHOCK:
                    if month == start:
                        getattr(target, lever.attr)(float(event.value))
                elif lever.kind == NUMBER and ramp > 1:
                    current = float(getattr(target, lever.attr))
                    if month == start:
                        self._ramp_start[slot] = current
                    elif self._ramp_written.get(slot) != current:
                        continue  # something else moved the lever: the ramp yields
                    begin, end = self._ramp_start[slot], float(event.value)
                    value = begin + (end - begin) * (month - start + 1) / ramp
                    # never past either end (rounding took a ramp to 0 down to -1e-16)
                    value = min(max(value, min(begin, end)), max(begin, end))
                    setattr(target, lever.attr, value)
                    self._ramp_written[slot] = value
                elif month != start:
                    continue
                elif lever.kind == SECTORS:
                    setattr(target, lever.attr, list(event.value or []))
                elif lever.kind == FLAG:
                    setattr(target, lever.attr, bool(event.value))
                else:
                    setattr(target, lever.attr, float(event.value))
            moved.append(event.lever)
        return moved
