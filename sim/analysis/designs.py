"""Designs: plain dicts of parameter values, checked and turned into validated configs.

A design is a mapping from keys to values:

- a config key such as ``demand.price_weight`` or ``intermediaries.azure.monitoring0``
  sets that parameter from month 0 (the same keys as on the command line);
- ``LEVER@MONTH`` (``us.rule_level@12``, ``intermediary.adaptive@0``) adds a scenario
  event that moves a policy lever of :data:`sim.policy.LEVERS` at that month;
- ``scenario`` picks the scenario the design starts from (``baseline`` if absent).

Values may be Python or numpy scalars (numpy arrays for lists); they are converted to plain
Python values and never pass through a text parser. Every problem in every design (unknown
key, wrong type, value out of range, event outside the horizon) is collected and raised as
one :class:`~sim.validate.ConfigError` before anything runs. Each scenario is composed with
Hydra once; designs are applied to a copy of that config.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from omegaconf.nodes import BooleanNode, FloatNode, IntegerNode, StringNode

from sim.policy import FLAG, LEVERS, NUMBER, SECTORS, SHOCK, lever_spec
from sim.schema import EventConfig
from sim.validate import ConfigError, validate

SCENARIO_KEY = "scenario"
EVENT_MARK = "@"
MAX_LISTED = 20


def plain(value: Any) -> Any:
    """``value`` with numpy scalars and arrays turned into Python ones (recursively)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, list | tuple | ListConfig):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def is_event_key(key: str) -> bool:
    """True for ``LEVER@MONTH`` keys (a lever moved by a generated scenario event)."""
    return EVENT_MARK in key


def event_key(lever: str, month: int) -> str:
    """The design key that moves ``lever`` at ``month``: ``us.rule_level@12``."""
    return f"{lever}{EVENT_MARK}{int(month)}"


def parse_event_key(key: str) -> tuple[str, int]:
    """``"us.rule_level@12"`` to ``("us.rule_level", 12)``; raises ValueError naming the problem."""
    lever, _, month = key.rpartition(EVENT_MARK)
    try:
        lever_spec(lever)
    except KeyError:
        raise ValueError(
            f"unknown lever {lever!r}; levers are {sorted(LEVERS)} "
            "(or intermediaries.NAME.X / developers.NAME.in_channel)"
        ) from None
    if not month.isdigit():
        raise ValueError(f"the month after '@' must be a whole number >= 0, got {month!r}")
    return lever, int(month)


def _leaf_keys(node: Any, prefix: str = "") -> Iterable[str]:
    for key in node:
        child = node._get_node(key)
        full = f"{prefix}{key}"
        if isinstance(child, DictConfig):
            yield from _leaf_keys(child, f"{full}.")
        else:
            yield full


def _node(cfg: DictConfig, key: str) -> Any:
    parent_key, _, leaf = key.rpartition(".")
    parent = OmegaConf.select(cfg, parent_key) if parent_key else cfg
    if not isinstance(parent, DictConfig) or leaf not in parent:
        return None
    return parent._get_node(leaf)


def _type_problem(node: Any, value: Any) -> str | None:
    """What is wrong with ``value`` for the config node, or None when its type fits.

    Stricter than OmegaConf, which would turn the text "0.5" into a number or 1 into true.
    """
    if value is None:
        return None if node._is_optional() else "takes a value (not null)"
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(node, BooleanNode) and not isinstance(value, bool):
        return "takes true or false"
    if isinstance(node, IntegerNode) and (not is_number or not isinstance(value, int)):
        return "takes a whole number"
    if isinstance(node, FloatNode) and not is_number:
        return "takes a number"
    if isinstance(node, StringNode) and not isinstance(value, str):
        return "takes a text value"
    if isinstance(node, ListConfig) and not isinstance(value, list):
        return "takes a list"
    if isinstance(node, DictConfig):
        return "is a group of parameters: set its entries (KEY.NAME) instead"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    return None


def _lever_type_problem(lever: str, value: Any) -> str | None:
    spec, _ = lever_spec(lever)
    if spec.kind in (NUMBER, SHOCK):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"lever {lever} takes a number"
        if not math.isfinite(value):
            return f"lever {lever} takes a finite number"
    elif spec.kind == FLAG and not isinstance(value, bool):
        return f"lever {lever} takes true or false"
    elif spec.kind == SECTORS and (
        not isinstance(value, list) or not all(isinstance(s, str) for s in value)
    ):
        return f"lever {lever} takes a list of sector names"
    return None


def _event_problem(event: EventConfig, horizon: int) -> str | None:
    if event.month >= horizon:
        return f"month {event.month} is outside the horizon, allowed 0..{horizon - 1}"
    spec, _ = lever_spec(event.lever)
    if spec.kind in (NUMBER, SHOCK) and (
        (spec.lo is not None and event.value < spec.lo)
        or (spec.hi is not None and event.value > spec.hi)
    ):
        lo = "" if spec.lo is None else spec.lo
        hi = "" if spec.hi is None else spec.hi
        return f"out of range for lever {event.lever}, allowed [{lo}, {hi}]"
    return None


def _designs_text(ids: list[int]) -> str:
    """``[3]`` to "design 3", ``[3, 4, 5, 9]`` to "designs 3-5, 9"."""
    runs: list[list[int]] = []
    for i in ids:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    parts = [f"{r[0]}-{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs]
    return ("design " if len(ids) == 1 else "designs ") + ", ".join(parts)


@dataclass
class PreparedDesign:
    """One checked design: its position, scenario, plain values and validated config."""

    index: int
    scenario: str
    values: dict[str, Any]
    config: DictConfig


class DesignBuilder:
    """Turns designs into validated configs, composing each scenario only once.

    ``common`` holds settings shared by every design (a smaller population, a shorter
    horizon); a design's own values take precedence over it.
    """

    def __init__(self, common: Mapping[str, Any] | None = None, scenario: str | None = None):
        self.common = {str(k): plain(v) for k, v in (common or {}).items()}
        self.scenario = scenario or "baseline"
        self._bases: dict[str, DictConfig] = {}
        self._templates: dict[tuple[str, tuple[tuple[str, int], ...]], DictConfig] = {}
        self._common_checked = False

    def base(self, scenario: str) -> DictConfig:
        """The composed (not yet validated) config of ``scenario``, composed once."""
        if scenario not in self._bases:
            from sim.config import compose

            self._bases[scenario] = compose(scenario)
        return self._bases[scenario]

    def _template(self, scenario: str, levers: tuple[tuple[str, int], ...]) -> DictConfig:
        """The scenario's config with one placeholder event per lever key, built once."""
        key = (scenario, levers)
        if key not in self._templates:
            cfg = self.base(scenario).copy()
            OmegaConf.set_struct(cfg, True)
            for lever, month in levers:
                cfg.scenario.events.append(EventConfig(month=month, lever=lever, note="design"))
            self._templates[key] = cfg
        return self._templates[key]

    def common_config(self) -> DictConfig:
        """The validated config every design starts from: the default scenario with the
        common settings; raises ConfigError naming what is refused."""
        try:
            return self._prepare_one(-1, dict(self.common)).config
        except ConfigError as e:
            raise ConfigError(f"settings for every design refused, nothing was run: {e}") from None

    def prepare(self, designs: Sequence[Mapping[str, Any]]) -> list[PreparedDesign]:
        """Check every design and build its config; raise one ConfigError listing all problems."""
        if isinstance(designs, Mapping) or not isinstance(designs, Sequence | np.ndarray):
            raise ConfigError(
                f"designs must be a list of dicts (one per design), got {type(designs).__name__}"
            )
        if self.common and not self._common_checked:
            self.common_config()
            self._common_checked = True
        problems: dict[str, list[int]] = {}
        prepared: list[PreparedDesign] = []
        for i, design in enumerate(designs):
            if not isinstance(design, Mapping):
                problems.setdefault(f"must be a dict of parameter values, got {design!r}", [])
                problems[f"must be a dict of parameter values, got {design!r}"].append(i)
                continue
            try:
                prepared.append(self._prepare_one(i, {**self.common, **dict(design)}))
            except ConfigError as e:
                problems.setdefault(str(e), []).append(i)
        if problems:
            refused = sum(map(len, problems.values()))
            lines = [f"{_designs_text(ids)}: {text}" for text, ids in problems.items()]
            more = f"\n  ... and {len(lines) - MAX_LISTED} more" if len(lines) > MAX_LISTED else ""
            raise ConfigError(
                f"{refused} of {len(designs)} design(s) refused, nothing was run:\n  - "
                + "\n  - ".join(lines[:MAX_LISTED])
                + more
            )
        return prepared

    def _prepare_one(self, index: int, design: dict[str, Any]) -> PreparedDesign:
        values = {}
        for key, value in design.items():
            if not isinstance(key, str):
                raise ConfigError(f"keys must be text, got {key!r}")
            values[key] = plain(value)
        scenario = values.pop(SCENARIO_KEY, self.scenario)
        if not isinstance(scenario, str):
            raise ConfigError(f"scenario = {scenario!r}: takes a scenario name")
        problems: list[str] = []
        levers: dict[str, tuple[str, int]] = {}
        for key in values:
            if is_event_key(key):
                try:
                    levers[key] = parse_event_key(key)
                except ValueError as e:
                    problems.append(f"{key} = {values[key]!r}: {e}")
        try:
            template = self._template(scenario, tuple(levers.values()))
        except ConfigError as e:
            raise ConfigError(f"scenario = {scenario!r}: {e}") from None
        cfg = template.copy()
        first = len(cfg.scenario.events) - len(levers)
        slots = {key: first + i for i, key in enumerate(levers)}
        for key, value in values.items():
            if key in levers:
                problem = _lever_type_problem(levers[key][0], value)
                if problem is None:
                    cfg.scenario.events[slots[key]].value = value
            elif is_event_key(key):
                continue
            else:
                problem = self._apply(cfg, key, value)
            if problem:
                problems.append(f"{key} = {value!r}: {problem}")
        for key, slot in slots.items() if not problems else ():
            problem = _event_problem(cfg.scenario.events[slot], cfg.horizon)
            if problem:
                problems.append(f"{key} = {values[key]!r}: {problem}")
        if not problems:
            try:
                validate(cfg)
            except ConfigError as e:
                detail = str(e).split("\n", 1)[-1].replace("\n  - ", "; ").lstrip(" -")
                for key, slot in slots.items():
                    detail = detail.replace(f"scenario.events.{slot}.value", key)
                problems.append(detail)
        if problems:
            where = f"(scenario {scenario}) " if scenario != self.scenario else ""
            raise ConfigError(where + "; ".join(problems))
        values_out = {SCENARIO_KEY: scenario, **values}
        return PreparedDesign(index, scenario, values_out, cfg)

    def _apply(self, cfg: DictConfig, key: str, value: Any) -> str | None:
        if key == "seed":
            return (
                "seeds are not part of a design: pass seeds=... (the same list for every "
                "design, so comparisons are paired)"
            )
        if key == "scenario" or key.startswith("scenario."):
            return "set the scenario with 'scenario' and policy events with LEVER@MONTH keys"
        node = _node(cfg, key)
        if node is None:
            close = difflib.get_close_matches(key, list(_leaf_keys(cfg)), n=3, cutoff=0.75)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            return f"unknown parameter (not in the config, nor a LEVER@MONTH key){hint}"
        problem = _type_problem(node, value)
        if problem:
            return problem
        try:
            OmegaConf.update(cfg, key, value, merge=True)
        except OmegaConfBaseException as e:
            return str(e).splitlines()[0]
        return None
