"""Serves a folder of scenario files as Hydra's ``scenario`` config group.

Scenario files live in the top-level ``scenarios/`` folder (and in folders named by
``$SIM_SCENARIO_PATH`` or ``hydra.searchpath=[scenarios:///abs/folder]``), one YAML file per
scenario, without Hydra headers: this source presents ``<folder>/NAME.yaml`` as the config
``scenario/NAME`` in the ``_global_`` package, so a scenario can set any parameter as well as
its own ``scenario:`` block, and ``scenario=NAME`` picks it.
"""

from __future__ import annotations

import os

from hydra.core.config_search_path import ConfigSearchPath
from hydra.core.object_type import ObjectType
from hydra.plugins.config_source import ConfigLoadError, ConfigResult, ConfigSource
from hydra.plugins.search_path_plugin import SearchPathPlugin
from omegaconf import OmegaConf

GROUP = "scenario"


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
        try:
            cfg = OmegaConf.create(text) if text.strip() else OmegaConf.create({})
        except Exception as e:  # malformed YAML: name the file
            raise ConfigLoadError(f"Scenario file {file} is not valid YAML: {e}") from e
        if not isinstance(cfg, type(OmegaConf.create({}))):
            raise ConfigLoadError(f"Scenario file {file} must hold a mapping at the top level")
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
