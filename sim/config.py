"""Turning a scenario name, overrides or keyword parameters into a validated Config.

The command line, the Python API and ``MarketModel(**params)`` all compose the same config
tree (``conf/`` plus the scenario library) with Hydra's compose API, so a config means the
same thing wherever it is run; no working-directory changes, no files written.

Overrides are checked by :mod:`sim.overrides` before Hydra composes anything.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.overrides import check_overrides, require_strings
from sim.paths import CONF_DIR
from sim.schema import Config, register_configs, typed_schema
from sim.validate import (
    MAX_SEED,
    ConfigError,
    ConfigTypeError,
    plain_problems,
    schema_type,
    validate,
)


def register_plugins() -> None:
    """Make the scenario library visible to Hydra (idempotent).

    Hydra discovers the plugins in ``hydra_plugins/`` by itself; registering them here as
    well keeps the API working where namespace-package discovery does not reach.
    """
    from hydra.core.plugins import Plugins

    from hydra_plugins.sim_scenarios.scenario_source import ScenarioFolderSource, ScenarioSearchPath

    plugins = Plugins.instance()
    for cls in (ScenarioFolderSource, ScenarioSearchPath):
        plugins.register(cls)
    register_configs()


def check_scenario_name(scenario: Any) -> None:
    """Refuse a scenario argument that is not a plain scenario name (or None)."""
    from hydra_plugins.sim_scenarios.scenario_file import valid_name

    if scenario is None:
        return
    if not isinstance(scenario, str):
        raise ConfigTypeError(
            f"scenario = {scenario!r}: expected a scenario name (a string), "
            f"got {type(scenario).__name__}"
        )
    if not valid_name(scenario):
        raise ConfigError(
            f"scenario = {scenario!r}: a scenario is named, not given as a path (letters, "
            "digits, '_', '-', no path separators, no '..'); python -m sim --help lists them"
        )


def compose(scenario: str | None = None, overrides: Sequence[str] = ()) -> DictConfig:
    """Compose the config tree like ``python -m sim [scenario=NAME] OVERRIDES...`` would."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException

    check_scenario_name(scenario)
    require_strings(overrides)
    register_plugins()
    all_overrides = ([f"scenario={scenario}"] if scenario else []) + list(overrides)
    check_overrides(all_overrides)
    if not CONF_DIR.is_dir():
        raise ConfigError(
            f"config tree not found at {CONF_DIR}: install the project with 'pip install -e .'"
        )
    was_initialised = GlobalHydra.instance().is_initialized()
    saved = GlobalHydra.instance().hydra if was_initialised else None
    if was_initialised:
        GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return hydra_compose(config_name="config", overrides=all_overrides)
    except (HydraException, OmegaConfBaseException) as e:
        cause = e.__cause__
        detail = (
            f": {str(cause).splitlines()[0]} (key {getattr(cause, 'full_key', '?')})"
            if cause
            else ""
        )
        raise ConfigError(f"Invalid configuration: {e}{detail}") from e
    finally:
        if saved is not None:
            GlobalHydra.instance().initialize(saved)


def apply_params(cfg: DictConfig, params: Mapping[str, Any]) -> DictConfig:
    """Set dotted keys (``customers.n``; ``customers__n`` also works) on a copy of ``cfg``.

    Each key is checked against the schema and each value like an override's (no
    interpolation, finite, no empty mapping); a key given twice (in both spellings) is refused.
    """
    cfg = cfg.copy()
    OmegaConf.set_struct(cfg, True)
    present = OmegaConf.to_container(cfg, resolve=False)
    problems: list[str] = []
    seen: dict[str, str] = {}
    for raw_key, value in params.items():
        if not isinstance(raw_key, str):
            raise ConfigTypeError(f"parameter name {raw_key!r}: expected a string")
        key = raw_key.replace("__", ".")
        if key in seen:
            problems.append(f"{key}: given twice (as {seen[key]!r} and {raw_key!r})")
            continue
        seen[key] = raw_key
        tp, error = schema_type(key)
        if error is None and not _exists(present, key):
            error = f"{key}: no such entry in this config (value {value!r})"
        if error is not None:
            problems.append(error)
            continue
        found = plain_problems(value, tp, key, files=True)
        problems.extend(found)
        if found:
            continue
        try:
            OmegaConf.update(cfg, key, value, merge=True)
        except OmegaConfBaseException as e:
            problems.append(f"{key} = {value!r}: {str(e).splitlines()[0]}")
    if problems:
        raise ConfigError("Invalid configuration:\n  - " + "\n  - ".join(problems))
    return cfg


def _exists(data: Any, key: str) -> bool:
    for part in key.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False
    return True


def as_config(
    config: Config | DictConfig | None = None,
    *,
    scenario: str | None = None,
    seed: int | None = None,
    params: Mapping[str, Any] | None = None,
) -> Config:
    """A validated :class:`Config` from a Config, a DictConfig, or a scenario name plus params.

    Raises :class:`ConfigTypeError` for arguments of the wrong type and :class:`ConfigError`
    for a config that :func:`sim.validate.validate` refuses. A :class:`Config` this function
    returned before, unchanged since, is not validated again (a copy is returned): a sweep job
    validates its config once, not once more per model.
    """
    if config is not None and scenario is not None:
        raise ConfigTypeError("give either a config or a scenario name, not both")
    if isinstance(config, Config) and not params and _was_validated(config):
        if seed is None:
            return _remember(copy.deepcopy(config))
        if isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < MAX_SEED:
            return _remember(dataclasses.replace(copy.deepcopy(config), seed=seed))
    if config is None:
        cfg = compose(scenario)
    elif isinstance(config, Config):
        cfg = OmegaConf.structured(config)
    elif isinstance(config, DictConfig):
        cfg = config
    else:
        raise ConfigTypeError(
            f"config = {config!r:.80}: expected a sim.schema.Config, an OmegaConf DictConfig "
            f"or None, got {type(config).__name__}"
        )
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise ConfigTypeError(
                f"seed = {seed!r}: expected an integer, got {type(seed).__name__}"
            )
        seed = int(seed)
    if params is not None and not isinstance(params, Mapping):
        raise ConfigTypeError(f"params = {params!r:.80}: expected a mapping of key to value")
    extra = dict(params or {})
    if seed is not None:
        extra["seed"] = seed
    if extra:
        cfg = apply_params(cfg, extra)
    validate(cfg)
    return _remember(
        OmegaConf.to_object(cfg)
        if OmegaConf.get_type(cfg) is Config
        else OmegaConf.to_object(OmegaConf.merge(typed_schema(), cfg))
    )


_VALIDATED_ATTR = "_sim_validated_as"


def _fingerprint(config: Config) -> str:
    return json.dumps(dataclasses.asdict(config), sort_keys=True, default=str)


def _was_validated(config: Config) -> bool:
    return getattr(config, _VALIDATED_ATTR, None) == _fingerprint(config)


def _remember(config: Config) -> Config:
    """Note on ``config`` that it passed validation, with its content (a change is noticed)."""
    object.__setattr__(config, _VALIDATED_ATTR, _fingerprint(config))
    return config
