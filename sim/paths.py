"""Where the project's config tree and scenario library live (next to the package)."""

from __future__ import annotations

import os
from pathlib import Path

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
