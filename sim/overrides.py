"""Checking ``key=value`` overrides before Hydra composes anything.

The command line (:func:`check_command_line`, called by ``python -m sim`` before Hydra
starts, so a refusal leaves no folder) and the Python API (:func:`sim.config.compose`) apply
the same rules, so an unknown key is refused with the keys that are allowed whether or not it
carries Hydra's ``+`` or ``++``. The rules for an override:

- the key is one the schema knows (entries of mappings such as ``developers.NAME`` are
  free names, their fields are not); as in Hydra, a later override of a key wins;
- an entry of a mapping of groups (a developer, intermediary or sector) exists in the chosen
  scenario: the command line sets an entry's fields but cannot add one;
- no interpolation (``${...}``) in the value: the simulator's parameters are plain values,
  never read from the environment or the clock (``hydra.*`` keys are Hydra's and exempt);
- a config-group choice (``scenario=NAME``, ``+sweep=NAME``) is a plain name, never a path,
  and so is ``scenario.name`` (it names the run's folder);
- only entries of mappings and lists can be removed (``~intermediaries.second``), and a
  mapping or a section cannot be set to ``{}`` (a merge would silently keep its entries or
  fields);
- numbers are finite and within :data:`sim.limits.MAX_MAGNITUDE`.
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from collections.abc import Sequence
from typing import Any

from omegaconf import OmegaConf

from sim.paths import CONF_DIR
from sim.schema import register_configs
from sim.validate import (
    ConfigError,
    ConfigTypeError,
    is_list,
    is_mapping,
    plain_problems,
    schema_default,
    schema_type,
)

#: Command-line flags after which Hydra composes nothing to run (help and completion).
HELP_FLAGS = ("--help", "-h", "--hydra-help", "--info", "-i", "--shell-completion", "-sc")


def config_groups() -> set[str]:
    """Names of the config groups an override can choose from (``scenario``, ``sweep``, ...)."""
    from hydra.core.config_store import ConfigStore

    register_configs()
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
    from hydra.core.override_parser.types import Glob

    for override in parsed:
        if override.key_or_group == "scenario":
            if isinstance(override.value(), Glob):
                from sim.paths import scenario_files

                return list(override.value().filter(sorted(scenario_files())))
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


def _in_scenario(scenario: str, path: list[str]) -> tuple[Any, Any] | None:
    """The node at ``path`` in the schema's defaults and in ``scenario``'s file (each None
    where it holds nothing); None when the file cannot be read here (the job will say why)."""
    from hydra_plugins.sim_scenarios.scenario_file import ScenarioFileError
    from hydra_plugins.sim_scenarios.scenario_source import load_scenario
    from sim.paths import scenario_file

    default = schema_default(".".join(path))
    file = scenario_file(scenario)
    if file is None:
        return None
    try:
        data: Any = OmegaConf.to_container(load_scenario(str(file), str(file.parent)))
    except (ScenarioFileError, OSError):
        return None
    for part in path:
        data = data.get(part) if isinstance(data, dict) else None
    return default, data


def _entries(scenario: str, path: list[str]) -> set[str] | None:
    """Entry names of the mapping at ``path`` in the defaults plus ``scenario``'s file; None
    when the file cannot be read here."""
    found = _in_scenario(scenario, path)
    if found is None:
        return None
    default, data = found
    return set(default or ()) | set(data if isinstance(data, dict) else ())


def _list_length(scenario: str, path: list[str]) -> int | None:
    """Length of the list at ``path`` in ``scenario`` (its file's list replaces the default
    one); None when the file cannot be read here."""
    found = _in_scenario(scenario, path)
    if found is None:
        return None
    default, data = found
    return len(data) if isinstance(data, list) else len(default or ())


def _missing_entry(key: str, scenarios: list[str]) -> str | None:
    """For a key inside an entry of a mapping of groups (``developers.NAME.growth``) or of a
    list (``scenario.events.6.date``), why the entry does not exist in a chosen scenario: the
    command line can set an entry's fields but not add an entry (Hydra's advice to add ``+``
    does not work for these)."""
    parts = key.split(".")
    for i in range(1, len(parts)):
        tp = schema_type(".".join(parts[:i]))[0]
        if is_list(tp) and parts[0] == "scenario" and parts[i].isdigit() and i + 1 < len(parts):
            # the scenario file's lists; others (history.events) come from other config groups
            for scenario in scenarios:
                size = _list_length(scenario, parts[:i])
                if size is not None and int(parts[i]) >= size:
                    held = f"entries 0 to {size - 1}" if size else "no entries"
                    return (
                        f"{'.'.join(parts[: i + 1])}: no entry {parts[i]} in scenario "
                        f"{scenario!r}, whose {'.'.join(parts[:i])} has {held} (a new entry "
                        "is added in a scenario file, not on the command line)"
                    )
            continue
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
