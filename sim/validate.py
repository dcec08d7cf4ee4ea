"""Checks that types cannot express, run before any work starts.

Hydra and the structured schema refuse unknown keys and wrong types; this module refuses
values out of range, shares that do not sum to one, unknown names and events outside the
horizon. Every error names the key, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from sim.policy import FLAG, NUMBER, SECTORS, SHOCK, lever_spec
from sim.schema import Config

SHARE_TOLERANCE = 1e-6
OUTPUT_FORMATS = ("auto", "csv", "parquet")
SCENARIO_KINDS = ("policy", "context", "reference")


class ConfigError(ValueError):
    """A config refused before the run starts; the message names key, value and allowed range."""


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
            if isinstance(value, float) and not math.isfinite(value):
                problems.append(f"{key} = {value}: must be a finite number")
            elif (lo is not None and value < lo) or (hi is not None and value > hi):
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


def validate(cfg: DictConfig) -> None:
    """Raise :class:`ConfigError` listing every problem in ``cfg``; return quietly if none."""
    problems: list[str] = []
    _check_fields(cfg, Config, "", problems)
    _check_cross(cfg, problems)
    _check_events(cfg, problems)
    if problems:
        from sim.paths import scenario_file

        name = OmegaConf.select(cfg, "scenario.name", default="?")
        file = scenario_file(name)
        where = f"scenario {name!r}" + (f", file {file}" if file else "")
        raise ConfigError(f"Invalid configuration ({where}):\n  - " + "\n  - ".join(problems))
