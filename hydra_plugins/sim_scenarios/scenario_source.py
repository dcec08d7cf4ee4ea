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

from hydra.core.config_search_path import ConfigSearchPath
from hydra.core.object_type import ObjectType
from hydra.errors import ConfigCompositionException
from hydra.plugins.config_source import ConfigLoadError, ConfigResult, ConfigSource
from hydra.plugins.search_path_plugin import SearchPathPlugin
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

GROUP = "scenario"


class ScenarioFileError(ConfigCompositionException):
    """A scenario file refused before the run; Hydra prints the message without a traceback."""


def check_scenario_text(text: str, file: str) -> DictConfig:
    """A checked copy of the scenario (see :func:`_checked`); the check runs once per text."""
    return _checked(text, file).copy()


@functools.lru_cache(maxsize=256)
def _checked(text: str, file: str) -> DictConfig:
    """Parse a scenario file and check its structure against the schema, naming the file.

    Refuses malformed YAML, a missing ``scenario:`` block, a name that differs from the file
    name, unknown keys and values of the wrong type. Ranges are checked later, with the rest
    of the composed config, by :func:`sim.validate.validate`.
    """
    from sim.schema import Config

    stem = os.path.splitext(os.path.basename(file))[0]
    try:
        cfg = OmegaConf.create(text) if text.strip() else None
    except Exception as e:
        raise ScenarioFileError(f"Scenario file {file} is not valid YAML: {e}") from None
    if not isinstance(cfg, DictConfig) or not isinstance(cfg.get("scenario"), DictConfig):
        raise ScenarioFileError(
            f"Scenario file {file}: needs a top-level 'scenario:' block with name, description "
            "and events (see scenarios/baseline.yaml)"
        )
    name = cfg.scenario.get("name")
    if name is None:
        cfg.scenario.name = stem
    elif name != stem:
        raise ScenarioFileError(
            f"Scenario file {file}: scenario.name = {name!r} must match the file name {stem!r}"
        )
    try:
        OmegaConf.merge(OmegaConf.structured(Config), cfg)
    except OmegaConfBaseException as e:
        raise ScenarioFileError(f"Scenario file {file}: key '{e.full_key}': {e.msg}") from None
    return cfg


class ScenarioFolderSource(ConfigSource):
    """A folder of ``NAME.yaml`` files exposed as the options of the ``scenario`` group."""

    @staticmethod
    def scheme() -> str:
        return "scenarios"

    def _file(self, config_path: str) -> str | None:
        path = config_path.strip("/")
        if not path.startswith(GROUP + "/"):
            return None
        name = self._normalize_file_name(path[len(GROUP) + 1 :])
        return os.path.join(self.path, name)

    def load_config(self, config_path: str) -> ConfigResult:
        file = self._file(config_path)
        if file is None or not os.path.isfile(file):
            raise ConfigLoadError(f"Scenario not found: {config_path}")
        with open(file, encoding="utf-8") as f:
            text = f.read()
        cfg = check_scenario_text(text, file)
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
                if file.endswith(".yaml") and os.path.isfile(os.path.join(self.path, file)):
                    files.append(file[: -len(".yaml")])
        return files


class ScenarioSearchPath(SearchPathPlugin):
    """Adds the scenario folders (``$SIM_SCENARIO_PATH`` first, then ``scenarios/``)."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        from sim.paths import scenario_dirs

        for folder in scenario_dirs():
            search_path.append(provider="sim-scenarios", path=f"scenarios://{folder}")
