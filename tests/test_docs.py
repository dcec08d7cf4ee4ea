"""The generated references are current, and every parameter carries its documentation."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import typing
from pathlib import Path

from sim.schema import Config

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "make_docs.py"

# Config nodes that are not parameters: the scenario is a name and a timeline of events
# (its events are checked against sim.policy.LEVERS by sim.validate).
NOT_PARAMETERS = {"scenario", "history"}


def _make_docs():
    spec = importlib.util.spec_from_file_location("make_docs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses in the script look their module up here
    spec.loader.exec_module(module)
    return module


def _parameter_fields(cls: type, prefix: str = ""):
    """(dotted key, field) of every parameter under ``cls``, through nested and keyed nodes."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        key = f"{prefix}{f.name}"
        if cls is Config and f.name in NOT_PARAMETERS:
            continue
        hint = hints[f.name]
        args = typing.get_args(hint) if typing.get_origin(hint) is dict else ()
        if dataclasses.is_dataclass(hint):
            yield from _parameter_fields(hint, f"{key}.")
        elif args and dataclasses.is_dataclass(args[1]):
            if f.metadata:  # a keyed table may document itself as well as its entries
                yield key, f
            yield from _parameter_fields(args[1], f"{key}.<name>.")
        else:
            yield key, f


def test_generated_docs_are_up_to_date():
    make_docs = _make_docs()
    outdated = [str(p.relative_to(ROOT)) for p in make_docs.stale()]
    assert not outdated, f"out of date: {outdated}; run python scripts/make_docs.py"


def test_every_parameter_has_unit_source_and_doc():
    fields = list(_parameter_fields(Config))
    assert len(fields) > 50  # the walk reached the nested sections
    undocumented = []
    for key, f in fields:
        absent = [k for k in ("unit", "source", "doc") if not str(f.metadata.get(k) or "").strip()]
        if absent:
            undocumented.append(f"{key} (no {', '.join(absent)})")
    assert not undocumented, (
        "parameters without unit/source/doc metadata in sim/schema.py (use param(...)): "
        + ", ".join(undocumented)
    )


def test_every_function_the_model_doc_names_exists():
    """docs/model.md names the code behind each equation as `path::name` or `path::Class.method`."""
    import importlib
    import re

    text = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    refs = set(re.findall(r"`(sim/[\w/]+\.py)::([\w.]+)`", text))
    assert len(refs) > 20
    missing = []
    for path, name in sorted(refs):
        module = importlib.import_module(path[:-3].replace("/", "."))
        obj = module
        for part in name.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                missing.append(f"{path}::{name}")
                break
    assert not missing, f"docs/model.md names code that does not exist: {missing}"
    methods = set(re.findall(r"`MarketModel\.(\w+)`", text)) - {"_name"}
    from sim.model import MarketModel

    assert not [m for m in methods if not hasattr(MarketModel, m)]


#: Numeric parameters that take no plausible range: sizes, structural bounds and mixes that
#: must sum to one, the normalisation of the capability index, and reporting thresholds.
NOT_UNCERTAIN = {
    "seed",
    "horizon",
    "customers.n",
    "international.n",
    "customers.sectors.<name>.share",
    "customers.archetypes.<name>.offences",
    "intermediaries.<name>.share",
    "intermediaries.<name>.monitoring_min",
    "intermediaries.<name>.monitoring_max",
    "intermediaries.<name>.kyc_min",
    "intermediaries.<name>.kyc_max",
    "developers.<name>.capability0",
    "developers.<name>.price0",
    "diffusion.reach_threshold",
    # policy levers: scenarios and the analysis's lever space vary them, not uncertainty
    "us.rule_level",
    "cn.localisation",
}


def test_every_uncertain_parameter_has_a_plausible_range():
    """Assumptions and fitted values (not the policy levers' sourced settings) carry a
    plausible range for uncertainty analysis, distinct from the validity range."""
    missing = []
    for key, f in _parameter_fields(Config):
        source = str(f.metadata.get("source") or "")
        if not (source.startswith("assumption") or source.startswith("fitted")):
            continue
        if f.type in ("bool", "str") or key in NOT_UNCERTAIN or "dict" in str(f.type):
            continue
        if "float" not in str(f.type) and "int" not in str(f.type):
            continue
        if not (f.metadata.get("plausible") or f.metadata.get("plausible_factor")):
            missing.append(key)
    assert not missing, f"uncertain parameters without a plausible range: {missing}"


def test_every_default_lies_in_its_plausible_range():
    """A fitted or assumed default outside its own plausible range would make the
    uncertainty analysis sample worlds around a value it never contains."""
    from sim.config import as_config, compose
    from sim.schema import plausible_ranges

    outside = {
        key: (p.lo, p.default, p.hi)
        for key, p in plausible_ranges(as_config(compose())).items()
        if not p.lo <= p.default <= p.hi
    }
    assert not outside, f"defaults outside their plausible ranges: {outside}"
