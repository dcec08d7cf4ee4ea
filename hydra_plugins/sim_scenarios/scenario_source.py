"""Serves a folder of scenario files as Hydra's ``scenario`` config group.

Scenario files live in the top-level ``scenarios/`` folder (and in folders named by
``$SIM_SCENARIO_PATH`` or ``hydra.searchpath=[scenarios:///abs/folder]``), one YAML file per
scenario, without Hydra headers: this source presents ``<folder>/NAME.yaml`` as the config
``scenario/NAME`` in the ``_global_`` package, so a scenario can set any parameter as well as
its own ``scenario:`` block, and ``scenario=NAME`` picks it.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from hydra.core.config_search_path import ConfigSearchPath
from hydra.core.object_type import ObjectType
from hydra.plugins.config_source import ConfigLoadError, ConfigResult, ConfigSource
from hydra.plugins.search_path_plugin import SearchPathPlugin
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from hydra_plugins.sim_scenarios import scenario_file
from hydra_plugins.sim_scenarios.scenario_file import ScenarioFileError, valid_name

GROUP = "scenario"


def check_scenario_text(text: str, file: str) -> DictConfig:
    """A checked copy of the scenario (see :func:`_checked`); the check runs once per text."""
    return _checked(text, file).copy()


@functools.lru_cache(maxsize=256)
def _checked(text: str, file: str) -> DictConfig:
    """Parse a scenario file as plain data and check its structure, naming the file.

    Refuses what :mod:`.scenario_file` refuses (tags, interpolation, unbounded aliases,
    duplicate keys, ...), a missing ``scenario:`` block, a name that differs from the file
    name, unknown keys, empty mappings, values that are not finite or of the wrong type.
    Ranges are checked later, with the rest of the composed config, by
    :func:`sim.validate.validate`.
    """
    from sim.schema import typed_schema
    from sim.validate import plain_problems

    path = Path(file)
    data = scenario_file.parse(text, path)
    if data is None or not isinstance(data.get("scenario"), dict):
        raise ScenarioFileError(
            f"Scenario file {file}: needs a top-level 'scenario:' block with name, description "
            "and events (see scenarios/baseline.yaml)"
        )
    problems = plain_problems(data, files=True, adds_entries=True)
    if problems:
        raise ScenarioFileError(f"Scenario file {file}: " + "; ".join(problems))
    name = data["scenario"].get("name")
    if name is None:
        data["scenario"]["name"] = path.stem
    elif name != path.stem:
        raise ScenarioFileError(
            f"Scenario file {file}: scenario.name = {name!r} must match the file name {path.stem!r}"
        )
    cfg = OmegaConf.create(data)
    try:
        OmegaConf.merge(typed_schema(), cfg)
    except OmegaConfBaseException as e:
        raise ScenarioFileError(f"Scenario file {file}: key '{e.full_key}': {e.msg}") from None
    return cfg


def load_scenario(file: str, folder: str) -> DictConfig:
    """The checked scenario in ``file``; raises :class:`ScenarioFileError` naming the file."""
    real, root = os.path.realpath(file), os.path.realpath(folder)
    if os.path.dirname(real) != root:
        raise ScenarioFileError(
            f"Scenario file {file}: resolves to {real}, outside its folder {root}"
        )
    return check_scenario_text(scenario_file.read_text(Path(file)), file)


def refused(name: str, message: str) -> DictConfig:
    """A stand-in for a refused scenario file: its name and the refusal, which validation
    raises (:data:`sim.validate.REFUSED_KEY`). Composition succeeds, so in a sweep only the
    jobs of this scenario are refused; ``${`` is escaped so nothing in the message resolves."""
    from sim.validate import REFUSED_KEY

    escaped = message.replace("${", "\\${")
    return OmegaConf.create({GROUP: {"name": name, "expect": {REFUSED_KEY: escaped}}})


class ScenarioFolderSource(ConfigSource):
    """A folder of ``NAME.yaml`` files exposed as the options of the ``scenario`` group."""

    @staticmethod
    def scheme() -> str:
        return "scenarios"

    def _file(self, config_path: str) -> str | None:
        """``<folder>/NAME.yaml`` for ``scenario/NAME``; None unless NAME is a plain name."""
        path = config_path.strip("/")
        if not path.startswith(GROUP + "/"):
            return None
        name = path[len(GROUP) + 1 :]
        name = name[: -len(".yaml")] if name.endswith(".yaml") else name
        if not valid_name(name):
            return None
        return os.path.join(self.path, f"{name}.yaml")

    def load_config(self, config_path: str) -> ConfigResult:
        file = self._file(config_path)
        if file is None or not os.path.isfile(file):
            raise ConfigLoadError(f"Scenario not found: {config_path}")
        try:
            cfg = load_scenario(file, self.path)
        except (ScenarioFileError, OSError) as e:
            cfg = refused(Path(file).stem, str(e))
        return ConfigResult(
            config=cfg,
            path=f"{self.scheme()}://{self.path}",
            provider=self.provider,
            header={"package": "_global_"},
        )

    def available(self) -> bool:
        return os.path.isdir(self.path)

    def is_group(self, config_path: str) -> bool:
        return config_path.strip("/") in ("", GROUP) and self.available()

    def is_config(self, config_path: str) -> bool:
        file = self._file(config_path)
        return file is not None and os.path.isfile(file)

    def list(self, config_path: str, results_filter: ObjectType | None) -> list[str]:
        path = config_path.strip("/")
        files: list[str] = []
        if not self.available():
            return files
        if path == "" and results_filter in (None, ObjectType.GROUP):
            return [GROUP]
        if path == GROUP and results_filter in (None, ObjectType.CONFIG):
            for file in sorted(os.listdir(self.path)):
                name = file[: -len(".yaml")]
                if (
                    file.endswith(".yaml")
                    and valid_name(name)
                    and os.path.isfile(os.path.join(self.path, file))
                ):
                    files.append(name)
        return files


class ScenarioSearchPath(SearchPathPlugin):
    """Adds the scenario folders (``$SIM_SCENARIO_PATH`` first, then ``scenarios/``)."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        from sim.paths import scenario_dirs

        present = {element.path for element in search_path.get_path()}
        for folder in scenario_dirs():
            if f"scenarios://{folder}" not in present:  # the plugin may be registered twice
                search_path.append(provider="sim-scenarios", path=f"scenarios://{folder}")
