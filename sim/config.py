"""Turning a scenario name, overrides or keyword parameters into a validated Config.

The command line, the Python API and ``MarketModel(**params)`` all compose the same config
tree (``conf/`` plus the scenario library) with Hydra's compose API, so a config means the
same thing wherever it is run; no working-directory changes, no files written.

Overrides are checked before Hydra composes anything (:func:`check_overrides`): the same
rules for the command line and the API, so an unknown key is refused with the keys that are
allowed whether or not it carries Hydra's ``+`` or ``++``. The rules for an override:

- the key is one the schema knows (entries of mappings such as ``developers.NAME`` are
  free names, their fields are not); as in Hydra, a later override of a key wins;
- an entry of a mapping of groups (a developer, intermediary or sector) exists in the chosen
  scenario: the command line sets an entry's fields but cannot add one;
- no interpolation (``${...}``) in the value: the simulator's parameters are plain values,
  never read from the environment or the clock (``hydra.*`` keys are Hydra's and exempt);
- a config-group choice (``scenario=NAME``, ``+sweep=NAME``) is a plain name, never a path,
  and so is ``scenario.name`` (it names the run's folder);
- only entries of mappings and lists can be removed (``~intermediaries.second``), and a
  mapping cannot be set to ``{}`` (a merge would silently keep its entries);
- numbers are finite and within :data:`sim.limits.MAX_MAGNITUDE`.
"""

from __future__ import annotations

import numbers
import sys
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.paths import CONF_DIR
from sim.schema import Config, register_configs
from sim.validate import (
    ConfigError,
    ConfigTypeError,
    is_list,
    is_mapping,
    plain_problems,
    schema_type,
    validate,
)

#: Command-line flags after which Hydra composes nothing to run (help and completion).
HELP_FLAGS = ("--help", "-h", "--hydra-help", "--info", "-i", "--shell-completion", "-sc")


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
    from hydra_plugins.sim_scenarios.scenario_file import ScenarioFileError, valid_name
    from hydra_plugins.sim_scenarios.scenario_source import load_scenario
    from sim.paths import scenario_dirs

    seen: dict[str, str] = {}
    for folder in scenario_dirs():
        for file in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            if file.stem in seen or not valid_name(file.stem):
                continue
            try:
                text = load_scenario(str(file), str(folder)).scenario.get("description", "")
                first = " ".join(str(text).split()).split(". ")[0]
            except (ScenarioFileError, OSError, AttributeError):
                first = "(refused: see python -m sim scenario=" + file.stem + ")"
            seen[file.stem] = first.rstrip(".")
    width = max(map(len, seen), default=0)
    return "\n".join(f"  {name:<{width}}  {desc}" for name, desc in seen.items())


def config_groups() -> set[str]:
    """Names of the config groups an override can choose from (``scenario``, ``sweep``, ...)."""
    from hydra.core.config_store import ConfigStore

    stored = {g for g in ConfigStore.instance().list("") if not g.endswith(".yaml")}
    folders = {p.name for p in CONF_DIR.iterdir() if p.is_dir()} if CONF_DIR.is_dir() else set()
    return {"scenario"} | (stored - {"hydra"}) | folders


def _override_values(override: Any) -> list[Any]:
    if not override.is_sweep_override():
        return [override.value()]
    try:
        return list(override.sweep_iterator())
    except Exception:  # interval sweeps have no finite list of values
        return []


def require_strings(overrides: Any) -> None:
    """Raise :class:`ConfigTypeError` unless ``overrides`` is a list (or tuple) of strings."""
    if isinstance(overrides, str | bytes) or not isinstance(overrides, Sequence):
        raise ConfigTypeError(
            f"overrides = {overrides!r}: expected a list of 'key=value' strings, "
            f"got {type(overrides).__name__}"
            + (f" (write overrides=[{overrides!r}])" if isinstance(overrides, str) else "")
        )
    for i, item in enumerate(overrides):
        if not isinstance(item, str):
            raise ConfigTypeError(
                f"overrides[{i}] = {item!r}: expected a 'key=value' string, got {type(item).__name__}"
            )


def check_overrides(overrides: Sequence[str]) -> None:
    """Refuse overrides that break the rules in the module doc, listing every problem.

    Raises :class:`ConfigTypeError` when ``overrides`` is not a list of strings and
    :class:`ConfigError` otherwise. Value types are left to Hydra and the schema.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    from hydra_plugins.sim_scenarios.scenario_file import valid_name

    require_strings(overrides)
    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as e:
        raise ConfigError(f"Invalid override: {e}") from None
    problems: list[str] = []
    groups = config_groups()
    scenarios = _chosen_scenarios(parsed)
    for override in parsed:
        key, text = override.key_or_group, override.input_line
        if key == "hydra" or key.startswith(("hydra.", "hydra/")):
            continue
        if "${" in text:
            problems.append(
                f"{text}: interpolations (${{...}}) are not allowed in the simulator's "
                "parameters; write the value itself"
            )
            continue
        values = _override_values(override)
        if key in groups or "/" in key:
            for value in values:
                if not valid_name(value):
                    problems.append(
                        f"{text}: {key} takes the plain name of a config ({value!r} is not: "
                        "no path separators, no '..')"
                    )
            continue
        tp, error = schema_type(key)
        if error is not None:
            problems.append(f"{text}: {error}")
            continue
        if key == "scenario.name" and not all(valid_name(v) for v in values):
            problems.append(f"{text}: scenario.name names the run's folder: a plain name only")
        if override.is_delete():
            parent = schema_type(key.rpartition(".")[0])[0] if "." in key else None
            if not (is_mapping(parent) or is_list(parent)):
                problems.append(
                    f"{text}: {key} is a parameter and cannot be removed; set a value instead "
                    "(only entries of mappings and lists can be removed)"
                )
            continue
        missing = _missing_entry(key, scenarios)
        if missing:
            problems.append(f"{text}: {missing}")
            continue
        for value in values:
            problems.extend(f"{text}: {p}" for p in plain_problems(value, tp, key, files=True))
    if problems:
        raise ConfigError("Invalid override:\n  - " + "\n  - ".join(problems))


def _chosen_scenarios(parsed: list[Any]) -> list[str]:
    """The scenarios a command line picks (all of a sweep's), else the default one."""
    for override in parsed:
        if override.key_or_group == "scenario":
            return [v for v in _override_values(override) if isinstance(v, str)]
    import yaml

    try:
        defaults = yaml.safe_load((CONF_DIR / "config.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return []
    for item in defaults.get("defaults", []):
        if isinstance(item, dict) and isinstance(item.get("scenario"), str):
            return [item["scenario"]]
    return []


def _entries(scenario: str, path: list[str]) -> set[str] | None:
    """Entry names of the mapping at ``path`` in the defaults plus ``scenario``'s file; None
    when the file cannot be read here (the job will say why)."""
    from hydra_plugins.sim_scenarios.scenario_file import ScenarioFileError
    from hydra_plugins.sim_scenarios.scenario_source import load_scenario
    from sim.paths import scenario_file

    node: Any = Config()
    for part in path:
        node = node.get(part, {}) if isinstance(node, dict) else getattr(node, part)
    names = set(node)
    file = scenario_file(scenario)
    if file is None:
        return None
    try:
        data: Any = OmegaConf.to_container(load_scenario(str(file), str(file.parent)))
    except (ScenarioFileError, OSError):
        return None
    for part in path:
        data = data.get(part, {}) if isinstance(data, dict) else {}
    return names | set(data if isinstance(data, dict) else ())


def _missing_entry(key: str, scenarios: list[str]) -> str | None:
    """For a key inside an entry of a mapping of groups (``developers.NAME.growth``), why the
    entry does not exist in a chosen scenario: the command line can set an entry's fields
    but not add an entry (Hydra's advice to add ``+`` does not work for these)."""
    import dataclasses

    parts = key.split(".")
    for i in range(1, len(parts)):
        tp = schema_type(".".join(parts[:i]))[0]
        if not (is_mapping(tp) and dataclasses.is_dataclass(typing.get_args(tp)[1])):
            continue
        for scenario in scenarios:
            names = _entries(scenario, parts[:i])
            if names is not None and parts[i] not in names:
                return (
                    f"{'.'.join(parts[: i + 1])}: no entry {parts[i]!r} in scenario "
                    f"{scenario!r}; entries: {', '.join(sorted(names))} (a new entry is added "
                    "in a scenario file, not on the command line)"
                )
    return None


def check_command_line(argv: Sequence[str]) -> None:
    """Check the overrides of a ``python -m sim`` command line before Hydra starts.

    On a refusal, prints the message and exits with status 2, before Hydra creates any
    folder. Anything Hydra's own argument parser would reject is left to Hydra to report.
    """
    from hydra._internal.utils import get_args_parser

    if any(arg in HELP_FLAGS or arg.startswith("--info") for arg in argv):
        return
    try:
        args, _ = get_args_parser().parse_known_args(list(argv))
    except SystemExit:
        return
    try:
        check_overrides(args.overrides)
    except ConfigError as e:
        print(f"Error: {e}", file=sys.stderr)
        sys.exit(2)


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
    for a config that :func:`sim.validate.validate` refuses.
    """
    if config is not None and scenario is not None:
        raise ConfigTypeError("give either a config or a scenario name, not both")
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
    return (
        OmegaConf.to_object(cfg)
        if OmegaConf.get_type(cfg) is Config
        else OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(Config), cfg))
    )
