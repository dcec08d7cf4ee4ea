"""Where the project's config tree and scenario library live (next to the package)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONF_DIR = ROOT / "conf"
SCENARIO_DIR = ROOT / "scenarios"
SCENARIO_PATH_ENV = "SIM_SCENARIO_PATH"


def scenario_dirs() -> list[Path]:
    """Folders searched for scenario files: ``$SIM_SCENARIO_PATH`` entries first, then ``scenarios/``."""
    extra = [
        Path(p).expanduser().resolve()
        for p in os.environ.get(SCENARIO_PATH_ENV, "").split(os.pathsep)
        if p
    ]
    return [*extra, SCENARIO_DIR]


def scenario_file(name: str) -> Path | None:
    """The file a scenario name resolves to (first match in :func:`scenario_dirs`), if any.

    Only plain names resolve (no path separators, no ``..``): a name never leaves its folder.
    """
    from hydra_plugins.sim_scenarios.scenario_file import valid_name

    if not valid_name(name):
        return None
    for folder in scenario_dirs():
        candidate = folder / f"{name}.yaml"
        if candidate.is_file():
            return candidate
    return None


def scenario_files() -> dict[str, Path]:
    """Every scenario name in :func:`scenario_dirs` with the file it resolves to (the first
    folder that has it), folder by folder in name order; only plain names count."""
    from hydra_plugins.sim_scenarios.scenario_file import valid_name

    found: dict[str, Path] = {}
    for folder in scenario_dirs():
        for file in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            if valid_name(file.stem):
                found.setdefault(file.stem, file)
    return found


def scenario_library(loader: type | None = None) -> dict[str, dict[str, Any] | None]:
    """Every scenario file of :func:`scenario_files` read as plain data through the one
    scenario-file reader (an empty file as ``{}``); ``None`` for a file it refuses.
    ``loader``: see :func:`hydra_plugins.sim_scenarios.scenario_file.parse`."""
    from hydra_plugins.sim_scenarios.scenario_file import ScenarioFileError, read

    library: dict[str, dict[str, Any] | None] = {}
    for name, file in scenario_files().items():
        try:
            library[name] = read(file, loader) or {}
        except (ScenarioFileError, OSError):
            library[name] = None
    return library
