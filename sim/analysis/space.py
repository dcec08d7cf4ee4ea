"""The experiment space, declared in one place from the project's own definitions.

- **Uncertainties**: every parameter with a plausible range in :mod:`sim.schema`
  (:func:`sim.schema.plausible_ranges`), set from month 0 by its config key.
- **Levers**: every policy lever of :data:`sim.policy.LEVERS` except one-off market shocks,
  applied through a generated scenario event at ``lever_month`` (design key
  ``LEVER@MONTH``), so a lever can be set from the start or from any later month on top of
  a scenario. Per-developer levers are expanded for each US developer. The range a lever
  spans is the policy-relevant one: the plausible range of the parameter it moves if that
  has one, else the span of the values the defaults and the scenario library give it (its
  own validity range when they give one value); a flag is varied when some scenario sets it
  away from its default; a sector list takes the lists the defaults and scenarios use. A
  lever that nothing varies is left out, and ``notes`` says so.
- **Outcomes**: the headline of the metric registry (:data:`sim.metrics.HEADLINE`), each with
  its direction (higher or lower is better) and for whom.

A parameter that is both (its lever moves it and it has a plausible range) appears once in
:meth:`ExperimentSpace.factors`, as the lever, spanning the plausible range.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from sim.analysis.designs import event_key
from sim.metrics import HEADLINE, HIGHER, LOWER, MONTHLY, SUMMARY_ONLY, metric
from sim.policy import FLAG, LEVERS, NUMBER, SHOCK, Lever, lever_spec
from sim.schema import Config, plausible_ranges
from sim.validate import ConfigError

UNCERTAINTY, LEVER = "uncertainty", "lever"
REAL, INTEGER, BOOLEAN, CATEGORICAL = "real", "integer", "boolean", "categorical"


@dataclass(frozen=True)
class Factor:
    """One dimension of the experiment space: an uncertain parameter or a policy lever.

    ``key`` is the design key (a config key, or ``LEVER@MONTH`` for a lever); ``lo``/``hi``
    bound real and integer factors; ``options`` are a categorical factor's values.
    """

    key: str
    role: str
    kind: str
    lo: float = 0.0
    hi: float = 1.0
    options: tuple[Any, ...] = ()
    default: Any = None
    unit: str = ""
    doc: str = ""
    source: str = ""
    twin: str = ""

    @property
    def name(self) -> str:
        """An identifier form of the key (for EMA Workbench): dots to ``__``, ``@`` to ``_at_``."""
        return re.sub(r"\W", "_", self.key.replace(".", "__").replace("@", "_at_"))

    @property
    def lever(self) -> str:
        """The lever's name (``us.rule_level``) for a lever, the key for an uncertainty."""
        return self.key.split("@")[0]

    def decode(self, u: float) -> Any:
        """The factor's value at position ``u`` in [0, 1] of its range (samplers' unit cube)."""
        u = min(max(float(u), 0.0), 1.0)
        if self.kind == REAL:
            return self.lo + u * (self.hi - self.lo)
        if self.kind == INTEGER:
            return int(min(self.hi, math.floor(self.lo + u * (self.hi - self.lo + 1))))
        if self.kind == BOOLEAN:
            return u >= 0.5
        return list(self.options[min(int(u * len(self.options)), len(self.options) - 1)])

    def label(self, value: Any) -> Any:
        """A value as it appears in tables: categorical lists as text, others unchanged."""
        if self.kind == CATEGORICAL:
            return option_label(value)
        return value

    @property
    def range_text(self) -> str:
        """The range in words: ``[0.3, 1.2]``, ``true/false``, or the options."""
        if self.kind in (REAL, INTEGER):
            return f"[{self.lo:g}, {self.hi:g}]"
        if self.kind == BOOLEAN:
            return "false / true"
        return " / ".join(option_label(o) for o in self.options)


def option_label(value: Any) -> str:
    """A sector list as text: ``platform+research``, or ``none`` for an empty list."""
    if isinstance(value, list | tuple):
        return "+".join(map(str, value)) or "none"
    return str(value)


@dataclass(frozen=True)
class Outcome:
    """A summary key with its label, unit, direction (``higher``/``lower``/``""``) and whom."""

    key: str
    label: str
    unit: str
    better: str
    whom: str

    @property
    def sign(self) -> int:
        """+1 when more is better, -1 when less is better, 0 for context."""
        return {HIGHER: 1, LOWER: -1}.get(self.better, 0)

    @property
    def title(self) -> str:
        """The label with its unit, from the registry."""
        return metric(self.key).title


def summary_outcomes() -> list[str]:
    """Every numeric summary key the runs report (sums, final values, summary-only keys)."""
    keys = [m.name for m in MONTHLY if m.summary == "sum"]
    keys += [f"{m.name}_final" for m in MONTHLY if m.summary == "final"]
    return keys + [k for k in SUMMARY_ONLY if k not in keys]


def outcome(key: str) -> Outcome:
    """The :class:`Outcome` of a summary key; unknown keys raise ConfigError naming them."""
    if key not in summary_outcomes():
        raise ConfigError(f"unknown outcome {key!r}; outcomes are {summary_outcomes()}")
    m = metric(key)
    return Outcome(key, m.label or key, m.unit, m.better, m.whom)


@dataclass(frozen=True)
class ExperimentSpace:
    """Uncertainties, levers and outcomes of the model, with what was left out and why."""

    uncertainties: tuple[Factor, ...]
    levers: tuple[Factor, ...]
    outcomes: tuple[Outcome, ...]
    lever_month: int = 0
    notes: tuple[str, ...] = field(default=())

    @cached_property
    def _twins(self) -> set[str]:
        return {f.twin for f in self.levers if f.twin}

    def factors(self) -> tuple[Factor, ...]:
        """Uncertainties and levers together; a parameter that is both appears as the lever."""
        return tuple(f for f in self.uncertainties if f.key not in self._twins) + self.levers

    def select(self, keys: Iterable[str], pool: Sequence[Factor] | None = None) -> list[Factor]:
        """The factors named by ``keys`` (design key, lever name or identifier name).

        Raises ConfigError naming any key that is not a factor, with the allowed keys.
        """
        pool = list(pool if pool is not None else self.factors())
        index: dict[str, Factor] = {}
        for f in pool:
            index.setdefault(f.key, f)
            index.setdefault(f.lever, f)
            index.setdefault(f.name, f)
        chosen, unknown = [], []
        for key in keys:
            if key in index:
                if index[key] not in chosen:
                    chosen.append(index[key])
            else:
                unknown.append(key)
        if unknown:
            raise ConfigError(
                f"unknown factor(s) {unknown}; the factors are {[f.key for f in pool]}"
            )
        return chosen

    def designs(self, factors: Sequence[Factor], unit_rows: Any) -> list[dict[str, Any]]:
        """One design per row of ``unit_rows`` (values in [0, 1], one column per factor)."""
        return [
            {f.key: f.decode(u) for f, u in zip(factors, row, strict=True)} for row in unit_rows
        ]

    def describe(self) -> pd.DataFrame:
        """The space as a table: one row per factor and per outcome."""
        rows = [
            {
                "role": f.role,
                "key": f.key,
                "kind": f.kind,
                "range": f.range_text,
                "default": option_label(f.default) if f.kind == CATEGORICAL else f.default,
                "unit": f.unit,
                "doc": f.doc,
            }
            for f in self.factors()
        ]
        rows += [
            {
                "role": "outcome",
                "key": o.key,
                "kind": o.better or "context",
                "range": "",
                "default": "",
                "unit": o.unit,
                "doc": f"{o.label} ({o.better or 'no direction'} is better for {o.whom})"
                if o.whom
                else o.label,
            }
            for o in self.outcomes
        ]
        return pd.DataFrame(rows)


def _field_meta(config: Any, key: str) -> tuple[Any, dict[str, Any]] | None:
    """The value and the field metadata of a dotted key in a Config, or None."""
    node, meta = config, {}
    for part in key.split("."):
        if dataclasses.is_dataclass(node):
            fields = {f.name: f for f in dataclasses.fields(node)}
            if part not in fields:
                return None
            meta = dict(fields[part].metadata)
            node = getattr(node, part)
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node, meta


def _twin(name: str, spec: Lever, config: Config) -> str:
    """The config key a lever moves from month 0 (``intermediaries.azure.monitoring0``), or ""."""
    candidates = [name, f"{spec.owner}.{spec.attr}"]
    if spec.owner == "intermediary":
        for key in config.intermediaries:
            candidates += [
                f"intermediaries.{key}.{spec.attr}",
                f"intermediaries.{key}.{spec.attr}0",
            ]
    for key in candidates:
        if _field_meta(config, key) is not None:
            return key
    return ""


def flatten(data: Any, prefix: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield from flatten(v, f"{prefix}{k}.")
    else:
        yield prefix[:-1], data


def library_values() -> dict[str, list[Any]]:
    """Values the scenario library gives each lever (by its events) and each parameter."""
    from sim.paths import scenario_library

    found: dict[str, list[Any]] = {}
    for data in scenario_library().values():
        if data is None:
            continue
        for event in (data.get("scenario") or {}).get("events") or []:
            if isinstance(event, dict) and "lever" in event:
                found.setdefault(str(event["lever"]), []).append(event.get("value"))
        for key, value in flatten({k: v for k, v in data.items() if k != "scenario"}):
            found.setdefault(key, []).append(value)
    return found


def _lever_names(config: Config) -> list[str]:
    names = []
    for name, spec in LEVERS.items():
        if spec.kind == SHOCK or spec.context:
            continue
        if spec.owner == "developer":
            names += [
                f"developers.{key}.{spec.attr}"
                for key, dev in config.developers.items()
                if dev.home == "US"
            ]
        else:
            names.append(name)
    return names


def _lever_factor(
    name: str, config: Config, month: int, seen: dict[str, list[Any]], notes: list[str]
) -> Factor | None:
    spec, _ = lever_spec(name)
    twin = _twin(name, spec, config)
    default = _field_meta(config, twin)[0] if twin else None
    common = {"key": event_key(name, month), "role": LEVER, "twin": twin, "doc": spec.doc}
    given = [default, *seen.get(name, []), *seen.get(twin, [])]
    plausible = plausible_ranges(config)
    if spec.kind == NUMBER:
        values = [float(v) for v in given if _number(v)]
        if twin in plausible:
            p = plausible[twin]
            return Factor(kind=REAL, lo=p.lo, hi=p.hi, default=default, unit=p.unit, **common)
        if len(set(values)) >= 2:
            return Factor(kind=REAL, lo=min(values), hi=max(values), default=default, **common)
        if spec.lo is not None and spec.hi is not None:
            return Factor(kind=REAL, lo=spec.lo, hi=spec.hi, default=default, **common)
        notes.append(f"lever {name}: left out (unbounded, and the scenarios give it one value)")
        return None
    if spec.kind == FLAG:
        if len({bool(v) for v in given if isinstance(v, bool)}) < 2:
            notes.append(f"lever {name}: left out (no scenario sets it away from its default)")
            return None
        return Factor(kind=BOOLEAN, default=bool(default), **common)
    options: list[tuple[str, ...]] = []
    for value in [default or [], *given[1:]]:
        if isinstance(value, list) and tuple(value) not in options:
            options.append(tuple(value))
    if len(options) < 2:
        notes.append(f"lever {name}: left out (the scenarios give it one sector list)")
        return None
    return Factor(kind=CATEGORICAL, options=tuple(options), default=list(default or []), **common)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def declare_space(
    *,
    lever_month: int = 0,
    outcomes: Sequence[str] | None = None,
    config: Config | None = None,
) -> ExperimentSpace:
    """The experiment space of the model (see the module docstring for the rules).

    ``lever_month`` is the month the levers' generated events apply; ``outcomes`` defaults
    to the registry's headline; ``config`` defaults to the schema's defaults.
    """
    config = config if config is not None else Config()
    if isinstance(lever_month, bool) or not isinstance(lever_month, int) or lever_month < 0:
        raise ConfigError(f"lever_month = {lever_month!r}: a month >= 0")
    uncertainties = tuple(
        Factor(
            key=p.key,
            role=UNCERTAINTY,
            kind=INTEGER if p.integer else REAL,
            lo=p.lo,
            hi=p.hi,
            default=p.default,
            unit=p.unit,
            doc=_field_meta(config, p.key)[1].get("doc", ""),
            source=p.source,
        )
        for p in plausible_ranges(config).values()
    )
    notes: list[str] = []
    seen = library_values()
    levers = []
    for name in _lever_names(config):
        factor = _lever_factor(name, config, lever_month, seen, notes)
        if factor is not None:
            levers.append(factor)
    twins = {f.twin for f in levers}
    notes += [
        f"{f.key} is both uncertain and a lever: it appears once, as the lever"
        for f in uncertainties
        if f.key in twins
    ]
    chosen = [outcome(k) for k in (outcomes if outcomes is not None else HEADLINE)]
    return ExperimentSpace(uncertainties, tuple(levers), tuple(chosen), lever_month, tuple(notes))
