"""Hypothesis strategies for random valid configs and scenario timelines.

Every number is drawn inside the validity range the schema declares (``lo``/``hi`` in each
field's metadata), often from its ``plausible`` range, sometimes at an edge; ranges open
above are explored on a log scale around the default. Sector mixes, intermediaries and
developers vary in number and traits; timelines are dated events on the levers of
:data:`sim.policy.LEVERS` (steps, ramps, flags, sector lists and shocks). Sizes come from the
active profile: ``small`` by default, ``large`` when ``SIM_PROPERTIES=large``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from typing import Any

from hypothesis import strategies as st

from sim.policy import FLAG, LEVERS, NUMBER, SECTORS, SHOCK
from sim.schema import (
    ArchetypeConfig,
    CheckConfig,
    CNRegulatorConfig,
    Config,
    CustomersConfig,
    DemandConfig,
    DetectionConfig,
    DeveloperConfig,
    DiffusionConfig,
    DistillationConfig,
    DomesticConfig,
    EventConfig,
    IntermediaryConfig,
    InternationalConfig,
    NetworkConfig,
    OutputConfig,
    PoliticsConfig,
    ScenarioConfig,
    SectorConfig,
    USRegulatorConfig,
)


@dataclasses.dataclass(frozen=True)
class Profile:
    """How many configs to try, and how large each may be."""

    name: str
    examples: int
    customers: tuple[int, int]
    international: tuple[int, int]
    horizon: tuple[int, int]
    events: tuple[int, int]


PROFILES = {
    "small": Profile("small", 25, (1, 60), (0, 15), (1, 12), (0, 4)),
    "large": Profile("large", 1000, (1, 400), (0, 80), (1, 48), (0, 8)),
}


def active_profile() -> Profile:
    """``SIM_PROPERTIES`` picks the profile (small or large); ``SIM_PROPERTIES_EXAMPLES``
    overrides its number of configs."""
    name = os.environ.get("SIM_PROPERTIES", "small")
    if name not in PROFILES:
        raise ValueError(f"SIM_PROPERTIES = {name!r}: allowed {sorted(PROFILES)}")
    profile = PROFILES[name]
    examples = os.environ.get("SIM_PROPERTIES_EXAMPLES")
    return dataclasses.replace(profile, examples=int(examples)) if examples else profile


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def number(
    lo: float | None,
    hi: float | None,
    default: float,
    plausible: tuple[float, float] | None = None,
    integer: bool = False,
) -> st.SearchStrategy:
    """A value inside ``[lo, hi]``: uniform, from the plausible range, at an edge or, where
    the range is open above, on a log scale from a thousandth to a thousand times the
    default."""
    scale = max(abs(default), 1.0)
    low = lo if lo is not None else default - 10 * scale
    high = hi if hi is not None else max(default, low) + 10 * scale
    if integer:
        low, high = math.ceil(low), math.floor(high)
        options = [st.integers(low, high), st.sampled_from(sorted({low, high, int(default)}))]
        if plausible:
            options.append(st.integers(math.ceil(plausible[0]), math.floor(plausible[1])))
        return st.one_of(options)
    options = [
        st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False),
        st.sampled_from(sorted({float(low), float(high), float(default)})),
    ]
    if plausible:
        options.append(st.floats(float(plausible[0]), float(plausible[1])))
    if hi is None:
        options.append(st.floats(-3.0, 3.0).map(lambda e: low + scale * 10.0**e))
    return st.one_of(options).map(_not_tiny)


#: Positive numbers below this are drawn as zero (see :func:`_not_tiny`).
TINY = 1e-12


def _not_tiny(x: float) -> float:
    """Zero for magnitudes below :data:`TINY`: the validity ranges admit a growth or a budget
    weight of 1e-308, whose reciprocals overflow to infinity (a monthly growth of 1e-308 gives
    an infinite gap in months); such inputs mean nothing, so zero stands in for them."""
    return 0.0 if 0.0 < abs(x) < TINY else x


@functools.cache
def _drawn_fields(node: type) -> dict[str, st.SearchStrategy]:
    out: dict[str, st.SearchStrategy] = {}
    for f in dataclasses.fields(node):
        default = _default(f)
        if isinstance(default, bool):
            out[f.name] = st.booleans()
        elif isinstance(default, int | float):
            meta = f.metadata
            out[f.name] = number(
                meta.get("lo"),
                meta.get("hi"),
                default,
                meta.get("plausible"),
                isinstance(default, int),
            )
    return out


def fields_of(node: type, **fixed: Any) -> st.SearchStrategy[dict[str, Any]]:
    """Values for every number and flag of a schema dataclass, from its metadata; ``fixed``
    entries (values or strategies) replace the drawn ones."""
    out = dict(_drawn_fields(node))
    for name, value in fixed.items():
        out[name] = value if isinstance(value, st.SearchStrategy) else st.just(value)
    return st.fixed_dictionaries(out)


@st.composite
def shares(draw: Any, names: list[str]) -> dict[str, float]:
    """Shares over ``names`` summing to one, some possibly zero (never all)."""
    weights = draw(
        st.lists(
            st.sampled_from([0.0, 0.001, 0.2, 1.0, 5.0]), min_size=len(names), max_size=len(names)
        )
    )
    if sum(weights) == 0:
        weights[0] = 1.0
    total = math.fsum(weights)
    return {n: w / total for n, w in zip(names, weights, strict=True)}


@st.composite
def sectors(draw: Any) -> dict[str, SectorConfig]:
    names = [f"sector_{i}" for i in range(draw(st.integers(1, 4)))]
    mix = draw(shares(names))
    out = {n: SectorConfig(**draw(fields_of(SectorConfig, share=mix[n]))) for n in names}
    if math.fsum(s.share * s.budget_weight for s in out.values()) <= 0:
        # validation asks for some budget: the first sector with customers gets a weight
        first = next(s for s in out.values() if s.share > 0)
        first.budget_weight = draw(st.floats(0.01, 10.0))
    return out


@st.composite
def archetypes(draw: Any, sector_names: list[str]) -> dict[str, ArchetypeConfig]:
    """Up to three named customers in random sectors, some suspended at the start."""
    out = {}
    for i in range(draw(st.integers(0, 3))):
        fixed = {
            "sector": st.sampled_from(sector_names),
            "suspended_until": st.sampled_from(["", "2024-01", "2024-06"]),
        }
        out[f"named_{i}"] = ArchetypeConfig(**draw(fields_of(ArchetypeConfig, **fixed)))
    return out


@st.composite
def intermediaries(draw: Any) -> dict[str, IntermediaryConfig]:
    names = [f"cloud_{i}" for i in range(draw(st.integers(1, 3)))]
    mix = draw(shares(names))
    out = {}
    for n in names:
        levels = {}
        for lever in ("monitoring", "kyc"):
            lo, v0, hi = sorted(draw(st.lists(number(0, 1, 0.5), min_size=3, max_size=3)))
            levels |= {f"{lever}_min": lo, f"{lever}0": v0, f"{lever}_max": hi}
        out[n] = IntermediaryConfig(**draw(fields_of(IntermediaryConfig, share=mix[n], **levels)))
    return out


@st.composite
def developers(draw: Any) -> dict[str, DeveloperConfig]:
    us = [f"us_{i}" for i in range(draw(st.integers(1, 3)))]
    out = {n: DeveloperConfig(**draw(fields_of(DeveloperConfig, home="US"))) for n in us}
    out["cn_lab"] = DeveloperConfig(**draw(fields_of(DeveloperConfig, home="CN")))
    return out


def _lever_names(inters: list[str], devs: list[str]) -> list[str]:
    names = [n for n, lever in LEVERS.items() if lever.owner != "developer"]
    names += [
        f"intermediaries.{k}.{n.split('.')[1]}"
        for k in inters
        for n, lever in LEVERS.items()
        if lever.owner == "intermediary"
    ]
    names += [
        f"developers.{k}.{n.split('.')[1]}"
        for k in devs
        for n, lever in LEVERS.items()
        if lever.owner == "developer"
    ]
    return names


@st.composite
def timeline(
    draw: Any, horizon: int, sector_names: list[str], inters: list[str], devs: list[str], count
) -> list[EventConfig]:
    """Dated events on random levers: steps and ramps of numbers, flags, sector lists, shocks."""
    from sim.policy import lever_spec

    events = []
    for _ in range(draw(st.integers(*count))):
        name = draw(st.sampled_from(_lever_names(inters, devs)))
        lever, _key = lever_spec(name)
        month = draw(st.integers(0, horizon - 1))
        ramp = 0
        if lever.kind == NUMBER:
            value = draw(number(lever.lo, lever.hi, 0.5 if lever.hi == 1 else 1.0))
            ramp = draw(st.integers(0, horizon - month))
        elif lever.kind == SHOCK:
            value = draw(number(lever.lo, lever.hi, 0.1))
            if name == "domestic.price_cut":  # a cut of 1 (a zero price) is refused: below 1
                value = min(value, 0.99)
        elif lever.kind == FLAG:
            value = draw(st.booleans())
        else:
            assert lever.kind == SECTORS
            value = draw(st.lists(st.sampled_from(sector_names), unique=True))
        events.append(EventConfig(month=month, lever=name, value=value, ramp=ramp))
    return events


@st.composite
def configs(draw: Any, profile: Profile | None = None) -> Config:
    """A random valid config with a random scenario timeline, invariants switched on."""
    p = profile or active_profile()
    horizon = draw(st.integers(*p.horizon))
    mix = draw(sectors())
    inters = draw(intermediaries())
    devs = draw(developers())
    names = list(mix)
    named = draw(archetypes(names))
    subset = st.lists(st.sampled_from(names), unique=True, max_size=len(names))
    us_devs = [k for k, d in devs.items() if d.home == "US"]
    return Config(
        seed=draw(st.integers(0, 2**32 - 1)),
        horizon=horizon,
        scenario=ScenarioConfig(
            name="property",
            events=draw(timeline(horizon, names, list(inters), us_devs, p.events)),
        ),
        customers=CustomersConfig(
            **draw(
                fields_of(
                    CustomersConfig,
                    n=st.integers(max(p.customers[0], len(named)), p.customers[1]),
                    sectors=mix,
                    archetypes=named,
                )
            )
        ),
        international=InternationalConfig(
            **draw(fields_of(InternationalConfig, n=st.integers(*p.international)))
        ),
        developers=devs,
        intermediaries=inters,
        domestic=DomesticConfig(**draw(fields_of(DomesticConfig))),
        demand=DemandConfig(**draw(fields_of(DemandConfig))),
        distillation=DistillationConfig(**draw(fields_of(DistillationConfig))),
        detection=DetectionConfig(**draw(fields_of(DetectionConfig))),
        diffusion=DiffusionConfig(**draw(fields_of(DiffusionConfig))),
        network=NetworkConfig(**draw(fields_of(NetworkConfig))),
        us=USRegulatorConfig(**draw(fields_of(USRegulatorConfig, restricted_sectors=subset))),
        cn=CNRegulatorConfig(**draw(fields_of(CNRegulatorConfig, barred_sectors=subset))),
        politics=PoliticsConfig(**draw(fields_of(PoliticsConfig))),
        check=CheckConfig(invariants=True),
        output=OutputConfig(plots=False, progress=False),
    )
