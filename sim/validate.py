"""One validation layer: every config is checked here before any work starts.

Whatever the entry (``python -m sim``, :func:`sim.run`, ``MarketModel(**params)``, a sweep
job, a scenario file), the composed config passes through :func:`validate`, which refuses

- a scenario file the scenario source refused (the refusal travels inside the config, so a
  sweep records it against that job instead of aborting: see :data:`REFUSED_KEY`);
- structure: keys the schema does not know (however they were added), interpolations
  (``${...}``) anywhere, numbers that are not finite or larger than
  :data:`sim.limits.MAX_MAGNITUDE`;
- values out of range, shares that do not sum to one, unknown names, events outside the
  horizon, unknown outcomes in a scenario's ``expect:``;
- sizes beyond what memory and time allow, and growth that would overflow
  (:mod:`sim.limits`).

Hydra and the structured schema refuse wrong types. Every message names the key, the value
and what is allowed.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import types
import typing
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from hydra_plugins.sim_scenarios.scenario_file import valid_name
from sim import limits
from sim.policy import FLAG, NUMBER, SECTORS, SHOCK, lever_spec
from sim.schema import Config

SHARE_TOLERANCE = 1e-6
OUTPUT_FORMATS = ("auto", "csv", "parquet")
SCENARIO_KINDS = ("policy", "context", "reference")
DIRECTIONS = ("higher", "lower")

#: Key under ``scenario.expect`` by which the scenario source hands a refused scenario file's
#: message to validation (in place of the file's content), so that Hydra can still compose
#: the job and the refusal reaches the job rather than aborting a whole sweep.
REFUSED_KEY = "__refused__"

#: Mappings that may be empty (every other mapping of the schema needs an entry).
MAY_BE_EMPTY = ("scenario", "scenario.expect")

#: Seeds may exceed MAX_MAGNITUDE (any non-negative integer seeds a SeedSequence) up to this.
MAX_SEED = 2**128


class ConfigError(ValueError):
    """A config refused before the run starts; the message names key, value and allowed range."""


class ConfigTypeError(ConfigError, TypeError):
    """An argument of the wrong type (a :class:`ConfigError` and a :class:`TypeError`)."""


# ------------------------------------------------------------------ the schema as types


@functools.cache
def _fields(schema: type) -> dict[str, Any]:
    return typing.get_type_hints(schema)


def _unwrap(tp: Any) -> Any:
    """``X | None`` -> ``X``; anything else unchanged."""
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else Any
    return tp


def _child(tp: Any, name: str) -> tuple[Any, str | None]:
    """The schema type under ``name`` in a node of type ``tp``, or an error text."""
    tp = _unwrap(tp)
    if dataclasses.is_dataclass(tp):
        fields = _fields(tp)
        if name in fields:
            return fields[name], None
        close = difflib.get_close_matches(name, fields, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return None, f"unknown key{hint}; allowed: {', '.join(fields)}"
    origin = typing.get_origin(tp)
    if origin is dict:
        return typing.get_args(tp)[1], None
    if origin is list:
        if name.isdigit():
            return typing.get_args(tp)[0], None
        return None, "a list takes an index (0, 1, ...)"
    if tp is Any:
        return Any, None
    return None, "not a group of keys (this value is a single setting)"


def schema_type(key: str) -> tuple[Any, str | None]:
    """The schema type of a dotted key (``customers.sectors.platform.share``), or the
    reason the schema has no such key, naming the first unknown part."""
    tp: Any = Config
    path: list[str] = []
    for part in key.split("."):
        tp, error = _child(tp, part)
        if error is not None:
            where = ".".join(path) or "the top level"
            return None, f"{'.'.join([*path, part])}: {error} (under {where})"
        path.append(part)
    return tp, None


def is_mapping(tp: Any) -> bool:
    """True for a schema mapping node (``dict[str, X]``): free entry names."""
    return typing.get_origin(_unwrap(tp)) is dict


def is_list(tp: Any) -> bool:
    """True for a schema list node (``list[X]``)."""
    return typing.get_origin(_unwrap(tp)) is list


# ------------------------------------------------------------------ plain-data checks


def _short(value: Any, width: int = 80) -> str:
    """``repr(value)``, cut to ``width`` characters."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _leaf_problems(value: Any, key: str, problems: list[str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _leaf_problems(v, f"{key}.{k}", problems)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _leaf_problems(v, f"{key}.{i}", problems)
    elif isinstance(value, str) and "${" in value:
        problems.append(
            f"{key} = {_short(value)}: interpolations (${{...}}) are not allowed in the simulator's "
            "parameters; write the value itself"
        )
    elif isinstance(value, bool) or not isinstance(value, int | float):
        return
    elif isinstance(value, float) and not math.isfinite(value):
        problems.append(f"{key} = {value}: must be a finite number")
    elif key == "seed":
        if value >= MAX_SEED:
            problems.append(f"seed = {value}: too large, allowed below 2**128")
    elif isinstance(value, int) and abs(value) > limits.MAX_INTEGER:
        problems.append(
            f"{key} = {value}: larger than the limit of 1e{math.log10(limits.MAX_INTEGER):.0f} "
            "on any whole-number parameter (sim/limits.py)"
        )
    elif abs(value) > limits.MAX_MAGNITUDE:
        problems.append(
            f"{key} = {value:.6g}: larger than the limit of "
            f"1e{math.log10(limits.MAX_MAGNITUDE):.0f} "
            "on any parameter (sim/limits.py)"
        )


def plain_problems(
    data: Any, tp: Any = Config, key: str = "", *, files: bool = False, adds_entries: bool = False
) -> list[str]:
    """Problems of plain config data (dicts, lists, scalars) against the schema type ``tp``:
    unknown keys, interpolations, non-finite or oversized numbers and, with ``files``, values
    set to ``{}`` that a merge would silently ignore: a mapping's (its default entries stay)
    and a section's (its fields keep their values). With ``adds_entries`` (a scenario file,
    which may add entries) a new entry of a mapping may be ``{}`` (it gets its defaults), and
    so may ``scenario`` and ``scenario.expect`` (a scenario named after its file, without
    expectations).
    """
    problems: list[str] = []
    _walk(data, tp, key, problems, files, adds_entries and key == "")
    return problems


def _walk(
    value: Any, tp: Any, key: str, problems: list[str], files: bool, adds: bool, entry: bool = False
) -> None:
    tp = _unwrap(tp)
    if isinstance(value, dict) and (dataclasses.is_dataclass(tp) or is_mapping(tp)):
        may_be_empty = adds and (key in MAY_BE_EMPTY or (entry and schema_default(key) is None))
        if files and not value and not may_be_empty:
            problems.append(
                f"{key} = {{}}: at least one entry is required (an empty mapping would "
                "leave the default entries in place)"
                if is_mapping(tp)
                else f"{key} = {{}}: a section set to {{}} changes nothing (its fields keep "
                f"their values); set the fields themselves, e.g. {key}.FIELD=VALUE"
            )
        for name, item in value.items():
            sub = f"{key}.{name}" if key else str(name)
            child, error = _child(tp, str(name))
            if error is not None:
                problems.append(f"{sub} = {_short(item)}: {error}")
            else:
                _walk(item, child, sub, problems, files, adds, entry=is_mapping(tp))
    elif isinstance(value, list) and typing.get_origin(tp) is list:
        for i, item in enumerate(value):
            _walk(item, typing.get_args(tp)[0], f"{key}.{i}", problems, files, adds)
    else:
        _leaf_problems(value, key, problems)


def schema_default(key: str) -> Any:
    """The schema's default value at ``key`` (``intermediaries.azure`` has one); None where
    the defaults hold nothing there, or hold None."""
    node: Any = Config()
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
        if node is None:
            return None
    return node


def _range_text(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"[{lo}, {hi}]"
    return f">= {lo}" if lo is not None else f"<= {hi}"


def _check_fields(node: Any, schema: type, prefix: str, problems: list[str]) -> None:
    for f in dataclasses.fields(schema):
        key = f"{prefix}{f.name}"
        value = node[f.name]
        lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float):
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                problems.append(f"{key} = {value}: out of range, allowed {_range_text(lo, hi)}")
        elif isinstance(value, DictConfig) and f.name != "scenario":
            node_type = OmegaConf.get_type(value)
            if dataclasses.is_dataclass(node_type):
                _check_fields(value, node_type, f"{key}.", problems)
                continue
            for name, item in value.items():
                if isinstance(item, DictConfig) and dataclasses.is_dataclass(
                    OmegaConf.get_type(item)
                ):
                    _check_fields(item, OmegaConf.get_type(item), f"{key}.{name}.", problems)


def _check_shares(shares: dict[str, float], key: str, problems: list[str]) -> None:
    total = math.fsum(shares.values())
    if abs(total - 1.0) > SHARE_TOLERANCE:
        listed = ", ".join(f"{k}={v}" for k, v in shares.items())
        problems.append(f"{key}: shares must sum to 1, got {total:.6g} ({listed})")


def _check_cross(cfg: DictConfig, problems: list[str]) -> None:
    if cfg.horizon < 1:
        problems.append(f"horizon = {cfg.horizon}: must be >= 1 month")
    sectors = dict(cfg.customers.sectors)
    if not sectors:
        problems.append("customers.sectors: at least one sector is required")
    _check_shares({k: v.share for k, v in sectors.items()}, "customers.sectors.*.share", problems)
    inters = dict(cfg.intermediaries)
    if not inters:
        problems.append("intermediaries: at least one intermediary is required")
    else:
        _check_shares({k: v.share for k, v in inters.items()}, "intermediaries.*.share", problems)
    for name, inter in inters.items():
        for lever in ("monitoring", "kyc"):
            lo, hi, v0 = inter[f"{lever}_min"], inter[f"{lever}_max"], inter[f"{lever}0"]
            if not lo <= hi:
                problems.append(
                    f"intermediaries.{name}.{lever}_min = {lo}: must not exceed {lever}_max = {hi}"
                )
            elif not lo <= v0 <= hi:
                problems.append(
                    f"intermediaries.{name}.{lever}0 = {v0}: must lie in [{lever}_min, {lever}_max] = [{lo}, {hi}]"
                )
    devs = dict(cfg.developers)
    for name, dev in devs.items():
        if dev.home not in ("US", "CN"):
            problems.append(f"developers.{name}.home = {dev.home!r}: allowed 'US' or 'CN'")
    if not any(d.home == "US" for d in devs.values()):
        problems.append("developers: at least one developer with home 'US' is required")
    chinese = sorted(k for k, d in devs.items() if d.home == "CN")
    if len(chinese) != 1:
        problems.append(
            f"developers: exactly one developer with home 'CN' is required (the two-way flow), got {chinese}"
        )
    weight = math.fsum(v.share * v.budget_weight for v in sectors.values())
    if sectors and weight <= 0:
        problems.append(
            "customers.sectors.*.budget_weight: the share-weighted budget weight must be > 0, "
            f"got {weight} (every customer would have a zero budget)"
        )
    for key in ("us.restricted_sectors", "cn.barred_sectors"):
        for s in OmegaConf.select(cfg, key):
            if s not in sectors:
                problems.append(f"{key}: unknown sector {s!r}, allowed {sorted(sectors)}")
    archetypes = dict(cfg.customers.archetypes)
    if len(archetypes) > cfg.customers.n:
        problems.append(
            f"customers.n = {cfg.customers.n}: fewer than the {len(archetypes)} named archetypes"
        )
    for name, arch in archetypes.items():
        if arch.sector not in sectors:
            problems.append(
                f"customers.archetypes.{name}.sector = {arch.sector!r}: unknown sector, allowed {sorted(sectors)}"
            )
        if arch.suspended_until:
            from sim.calendar import parse

            try:
                parse(arch.suspended_until)
            except ValueError as e:
                problems.append(f"customers.archetypes.{name}.suspended_until: {e}")
    if not valid_name(cfg.scenario.name):
        problems.append(
            f"scenario.name = {cfg.scenario.name!r}: a plain name (letters, digits, '_', '-', "
            "inner dots), since it names the run's folder"
        )
    if cfg.scenario.kind not in SCENARIO_KINDS:
        problems.append(f"scenario.kind = {cfg.scenario.kind!r}: allowed {list(SCENARIO_KINDS)}")
    if cfg.output.customers_format not in OUTPUT_FORMATS:
        problems.append(
            f"output.customers_format = {cfg.output.customers_format!r}: allowed {list(OUTPUT_FORMATS)}"
        )


def _check_events(cfg: DictConfig, problems: list[str]) -> None:
    sectors = set(cfg.customers.sectors)
    keys = {"intermediary": set(cfg.intermediaries), "developer": set(cfg.developers)}
    from sim.calendar import date_of, event_month

    try:
        last = date_of(cfg.horizon - 1, cfg.start)
    except ValueError as e:
        problems.append(f"start = {cfg.start!r}: {e}")
        return
    dated = [(f"scenario.events.{i}", ev, False) for i, ev in enumerate(cfg.scenario.events)]
    dated += [(f"history.events.{i}", ev, True) for i, ev in enumerate(cfg.history.events)]
    for where, ev, history in dated:
        given = [k for k in ("month", "date") if ev[k] not in (None, "")]
        if len(given) != 1:
            problems.append(
                f"{where}: give exactly one of month (0-based) and date (YYYY-MM), got {given or 'neither'}"
            )
            continue
        try:
            month = event_month(ev, cfg.start)
        except ValueError as e:
            problems.append(f"{where}.date: {e}")
            continue
        when = f"month = {ev.month}" if ev.month is not None else f"date = {ev.date!r}"
        month_ok = 0 <= month < cfg.horizon
        if history and month < 0:
            continue  # recorded before the run starts: not replayed
        if month < 0 or (not month_ok and not history):
            problems.append(
                f"{where}.{when}: outside the run, allowed months 0..{cfg.horizon - 1} "
                f"({cfg.start} to {last}; horizon={cfg.horizon})"
            )
        if ev.ramp < 0:
            problems.append(f"{where}.ramp = {ev.ramp}: must be >= 0 months")
        elif month_ok and month + max(ev.ramp, 1) > cfg.horizon and not history:
            problems.append(
                f"{where}.ramp = {ev.ramp}: the ramp from month {month} ends after the horizon ({cfg.horizon})"
            )
        try:
            lever, key = lever_spec(ev.lever)
        except KeyError:
            from sim.policy import LEVERS

            problems.append(
                f"{where}.lever = {ev.lever!r}: unknown lever, allowed {sorted(LEVERS)} "
                "(or intermediaries.NAME.X / developers.NAME.in_channel)"
            )
            continue
        if key is not None and key not in keys[lever.owner]:
            problems.append(
                f"{where}.lever = {ev.lever!r}: unknown {lever.owner} {key!r}, allowed {sorted(keys[lever.owner])}"
            )
        if lever.kind != NUMBER and ev.ramp > 1:
            problems.append(
                f"{where}.ramp = {ev.ramp}: only number levers can ramp; {ev.lever} is a {lever.kind} lever (use ramp 0)"
            )
        value = ev.value
        if lever.kind in (NUMBER, SHOCK):
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"{where}.value = {value!r}: {ev.lever} takes a number")
            elif (lever.lo is not None and value < lever.lo) or (
                lever.hi is not None and value > lever.hi
            ):
                problems.append(
                    f"{where}.value = {value}: out of range for {ev.lever}, allowed {_range_text(lever.lo, lever.hi)}"
                )
        elif lever.kind == FLAG and not isinstance(value, bool):
            problems.append(f"{where}.value = {value!r}: {ev.lever} takes true or false")
        elif lever.kind == SECTORS:
            if not isinstance(value, list | ListConfig):
                problems.append(
                    f"{where}.value = {value!r}: {ev.lever} takes a list of sector names"
                )
            else:
                for s in value:
                    if s not in sectors:
                        problems.append(
                            f"{where}.value: unknown sector {s!r}, allowed {sorted(sectors)}"
                        )


def summary_outcomes() -> set[str]:
    """The keys of a run summary a scenario's ``expect:`` may name (from the metric registry)."""
    from sim.metrics import MONTHLY, SUMMARY_ONLY

    return (
        {m.name for m in MONTHLY if m.summary == "sum"}
        | {f"{m.name}_final" for m in MONTHLY if m.summary == "final"}
        | set(SUMMARY_ONLY)
    )


def _check_expect(cfg: DictConfig, problems: list[str]) -> None:
    outcomes = summary_outcomes()
    for key, direction in cfg.scenario.expect.items():
        if key not in outcomes:
            close = difflib.get_close_matches(key, outcomes, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(
                f"scenario.expect.{key}: unknown outcome{hint}; allowed: the run summary's keys "
                f"{sorted(outcomes)}"
            )
        if direction not in DIRECTIONS:
            problems.append(f"scenario.expect.{key} = {direction!r}: allowed {list(DIRECTIONS)}")


def refusal(data: dict[str, Any]) -> str | None:
    """The refusal a scenario source left in place of a scenario file, if any."""
    scenario = data.get("scenario")
    expect = scenario.get("expect") if isinstance(scenario, dict) else None
    message = expect.get(REFUSED_KEY) if isinstance(expect, dict) else None
    return str(message).replace("\\${", "${") if message is not None else None


def validate(cfg: DictConfig, *, memory: int | None = None) -> None:
    """Raise :class:`ConfigError` listing every problem in ``cfg``; return quietly if none.

    Structure is checked on the unresolved config first, so no interpolation is ever
    resolved; ranges and names next; sizes and growth (:mod:`sim.limits`) last, against
    ``memory`` bytes (default: what this machine has available).
    """
    data = OmegaConf.to_container(cfg, resolve=False)
    data.pop("hydra", None)
    message = refusal(data)
    if message is not None:
        raise ConfigError(message)
    problems = plain_problems(data)
    if not problems:
        _check_fields(cfg, Config, "", problems)
        _check_cross(cfg, problems)
        _check_events(cfg, problems)
        _check_expect(cfg, problems)
    if not problems:
        limits.check_numbers(cfg, problems)
        limits.check_size(cfg, problems, memory)
    if problems:
        from sim.paths import scenario_file

        name = data.get("scenario", {}).get("name", "?")
        file = scenario_file(name) if isinstance(name, str) else None
        where = f"scenario {name!r}" + (f", file {file}" if file else "")
        raise ConfigError(f"Invalid configuration ({where}):\n  - " + "\n  - ".join(problems))
