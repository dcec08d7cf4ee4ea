"""Which config keys are policy levers and which are uncertainties, with their ranges.

The dashboard's sliders and the comparison's split of policy choices from context both read
this: levers come from :data:`sim.policy.LEVERS` (each lever's starting value is a config
key), uncertainties from the parameters that carry a plausible range
(:func:`sim.schema.plausible_ranges`). Nothing here lists parameters by hand.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from sim.policy import FLAG, LEVERS, NUMBER
from sim.schema import Config, plausible_ranges

POLICY, UNCERTAINTY = "policy", "uncertainty"


@dataclass(frozen=True)
class Control:
    """One adjustable config key: what it means, its unit, range and kind (number or flag)."""

    key: str
    label: str
    unit: str
    kind: str
    group: str
    default: Any
    lo: float = 0.0
    hi: float = 1.0
    step: float = 0.01
    integer: bool = False


def field_info(key: str, config: Config | None = None) -> tuple[Any, dict[str, Any]]:
    """The value and the schema metadata (unit, doc, lo, hi, ...) of a dotted config key.

    Walks dataclass fields and the entries of mapping nodes (``intermediaries.azure.kyc0``);
    raises ``KeyError`` naming the key when it is not in the schema.
    """
    node: Any = config if config is not None else Config()
    meta: dict[str, Any] = {}
    for part in key.split("."):
        if dataclasses.is_dataclass(node):
            fields = {f.name: f for f in dataclasses.fields(node)}
            if part not in fields:
                raise KeyError(key)
            meta = dict(fields[part].metadata)
            node = getattr(node, part)
        elif isinstance(node, dict) and part in node:
            node, meta = node[part], {}
        else:
            raise KeyError(key)
    return node, meta


def describe(key: str) -> str:
    """A human label for a config key: its documentation and unit, or the key itself."""
    try:
        _, meta = field_info(key)
    except KeyError:
        return key
    doc = _label(key, meta)
    unit = meta.get("unit", "")
    return f"{doc} ({unit})" if unit and unit not in ("flag",) else doc


def _label(key: str, meta: dict[str, Any]) -> str:
    """The parameter's documentation without a leading symbol (``e: share ...``), capitalised;
    an entry of the developers map is named (``us_frontier: ...``)."""
    doc = re.sub(r"^\w{1,6}: ", "", meta.get("doc") or key)
    doc = doc[:1].upper() + doc[1:]
    parts = key.split(".")
    return f"{parts[1]}: {doc}" if parts[0] == "developers" and len(parts) == 3 else doc


def _nice_step(span: float) -> float:
    raw = span / 100
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 0.01
    return min((m * power for m in (1, 2, 5, 10) if m * power >= raw), default=power)


def _lever_keys(name: str, attr: str, config: Config) -> list[str]:
    owner = name.split(".")[0]
    plural = {"intermediary": "intermediaries", "developer": "developers"}.get(owner)
    if plural:
        agents = getattr(config, plural)
        candidates = [f"{plural}.{k}.{attr}0" for k in agents] + [
            f"{plural}.{k}.{attr}" for k in agents
        ]
    else:
        candidates = [name, f"{owner}.{attr}"]
    out = []
    for key in candidates:
        try:
            field_info(key, config)
        except KeyError:
            continue
        if not any(k.rsplit(".", 1)[0] == key.rsplit(".", 1)[0] for k in out):
            out.append(key)
    return out


def _number(key: str, group: str, value: float, meta: dict, lo, hi) -> Control | None:
    integer = isinstance(value, int) and not isinstance(value, bool)
    lo = 0.0 if lo is None else float(lo)
    if hi is None:
        if not value or value <= lo:
            return None
        hi = 4 * float(value)  # no upper bound in the schema: up to four times the default
    hi = float(hi)
    step = 1.0 if integer else _nice_step(hi - lo)
    return Control(
        key, _label(key, meta), meta.get("unit", ""), NUMBER, group, value, lo, hi, step, integer
    )


@cache
def policy_controls() -> tuple[Control, ...]:
    """A control per policy lever whose starting value is a config key (numbers and flags).

    Ranges are the lever's own; where it has no upper bound, the schema's plausible range or
    four times the default. Sector lists and one-off shocks are events, not sliders.
    """
    config = Config()
    out: list[Control] = []
    for name, lever in LEVERS.items():
        if lever.kind not in (NUMBER, FLAG) or lever.context:
            continue
        for key in _lever_keys(name, lever.attr, config):
            value, meta = field_info(key, config)
            if lever.kind == FLAG and isinstance(value, bool):
                out.append(Control(key, _label(key, meta), "", FLAG, POLICY, value))
            elif lever.kind == NUMBER and not isinstance(value, bool):
                plausible = meta.get("plausible")
                hi = lever.hi if lever.hi is not None else (plausible or (None, None))[1]
                control = _number(key, POLICY, value, meta, lever.lo, hi)
                if control is not None:
                    out.append(control)
    return tuple(out)


@cache
def uncertainty_controls() -> tuple[Control, ...]:
    """A control per parameter with a plausible range that is not already a policy lever."""
    levers = {c.key for c in policy_controls()}
    out = []
    for key, rng in plausible_ranges().items():
        if key in levers:
            continue
        _, meta = field_info(key)
        value = int(rng.default) if rng.integer else rng.default
        control = _number(key, UNCERTAINTY, value, meta, rng.lo, rng.hi)
        if control is not None:
            out.append(control)
    return tuple(out)


def lever_keys() -> frozenset[str]:
    """The config keys that set a policy lever's starting value."""
    return frozenset(c.key for c in policy_controls())
