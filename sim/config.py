"""Turning a scenario name, overrides or keyword parameters into a validated Config.

The command line, the Python API and ``MarketModel(**params)`` all compose the same config
tree (``conf/`` plus the scenario library) with Hydra's compose API, so a config means the
same thing wherever it is run; no working-directory changes, no files written.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.paths import CONF_DIR
from sim.schema import Config, register_configs
from sim.validate import ConfigError, validate


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
    if not OmegaConf.has_resolver("sim_scenario_catalogue"):
        OmegaConf.register_new_resolver("sim_scenario_catalogue", scenario_catalogue)


def scenario_catalogue() -> str:
    """One line per available scenario: its name and the first sentence of its description."""
    import yaml

    from sim.paths import scenario_dirs

    seen: dict[str, str] = {}
    for folder in scenario_dirs():
        for file in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            if file.stem in seen:
                continue
            try:
                text = (yaml.safe_load(file.read_text(encoding="utf-8")) or {}).get("scenario", {})
                first = " ".join(str(text.get("description", "")).split()).split(". ")[0]
            except (yaml.YAMLError, AttributeError):
                first = "(unreadable file)"
            seen[file.stem] = first.rstrip(".")
    width = max(map(len, seen), default=0)
    return "\n".join(f"  {name:<{width}}  {desc}" for name, desc in seen.items())


def compose(scenario: str | None = None, overrides: Sequence[str] = ()) -> DictConfig:
    """Compose the config tree like ``python -m sim [scenario=NAME] OVERRIDES...`` would."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException

    register_plugins()
    all_overrides = ([f"scenario={scenario}"] if scenario else []) + list(overrides)
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
    """Set dotted keys (``customers.n``; ``customers__n`` also works) on a copy of ``cfg``."""
    cfg = cfg.copy()
    OmegaConf.set_struct(cfg, True)
    for raw_key, value in params.items():
        key = raw_key.replace("__", ".")
        if OmegaConf.select(cfg, key, default="__missing__") == "__missing__":
            raise ConfigError(f"Invalid configuration: unknown key {key!r} (value {value!r})")
        try:
            OmegaConf.update(cfg, key, value, merge=True)
        except OmegaConfBaseException as e:
            raise ConfigError(f"Invalid configuration: {key} = {value!r}: {e}") from e
    return cfg


def as_config(
    config: Config | DictConfig | None = None,
    *,
    scenario: str | None = None,
    seed: int | None = None,
    params: Mapping[str, Any] | None = None,
) -> Config:
    """A validated :class:`Config` from a Config, a DictConfig, or a scenario name plus params.

    A :class:`Config` this function returned before, unchanged since, is not validated again
    (a copy is returned): a sweep job validates its config once, not once more per model.
    """
    if isinstance(config, Config) and not params and _was_validated(config):
        if seed is None:
            return _remember(copy.deepcopy(config))
        if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0:
            return _remember(dataclasses.replace(copy.deepcopy(config), seed=seed))
    if config is None:
        cfg = compose(scenario)
    elif isinstance(config, Config):
        cfg = OmegaConf.structured(config)
    else:
        cfg = config
    extra = dict(params or {})
    if seed is not None:
        extra["seed"] = seed
    if extra:
        cfg = apply_params(cfg, extra)
    validate(cfg)
    return _remember(
        OmegaConf.to_object(cfg)
        if OmegaConf.get_type(cfg) is Config
        else OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(Config), cfg))
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
