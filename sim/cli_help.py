"""The text of ``python -m sim --help``: scenarios, ready-made sweeps, launchers, config.

Built from the files themselves (scenario files, read by the project's one scenario-file
reader; ``conf/sweep/*.yaml``) and the installed Hydra plugins, without importing Hydra, so
``--help`` answers at once.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sim.paths import CONF_DIR, scenario_library

MAX_DESCRIPTION_CHARS = 72

# (name, module of the Hydra plugin, pip extra, what it is for)
LAUNCHERS = (
    ("basic", None, None, "one job after another in this process (the default)"),
    ("joblib", "hydra_plugins.hydra_joblib_launcher", "joblib", "parallel on this machine"),
    ("ray", "hydra_plugins.hydra_ray_launcher", "ray", "a local Ray instance or a Ray cluster"),
    (
        "submitit_local",
        "hydra_plugins.hydra_submitit_launcher",
        "submitit",
        "Submitit on this machine",
    ),
    (
        "submitit_slurm",
        "hydra_plugins.hydra_submitit_launcher",
        "submitit",
        "a SLURM cluster (partition, timeout_min, ...)",
    ),
)

USAGE = """\
python -m sim: agent-based simulator of frontier-model access by Chinese enterprises
through a cloud intermediary (revenue, capability leakage, compliance).

Usage: python -m sim [scenario=NAME] [key=value ...]       one run into outputs/
       python -m sim -m scenario=baseline,decoupling seed='range(5)'   a sweep into multirun/
       python -m sim +sweep=NAME                          a ready-made sweep
       python -m sim.compare FOLDER...                    compare runs and sweeps"""

CONFIG = """\
== Config ==
  Every parameter can be set as key=value; each is documented in docs/parameters.md.
  python -m sim --cfg job [key=value ...]   print the composed config without running
  python -m sim --hydra-help                Hydra's own options"""


def _first_sentence(text: str, width: int = MAX_DESCRIPTION_CHARS) -> str:
    sentence = " ".join(str(text).split()).split(". ")[0].rstrip(".")
    if len(sentence) <= width:
        return sentence
    return sentence[: width - 3].rsplit(" ", 1)[0].rstrip(",;:") + "..."


def scenario_lines() -> list[tuple[str, str]]:
    """``(name, first sentence of its description)`` for every scenario file found; a file
    the scenario reader refuses is listed as refused (the run says why)."""
    import yaml

    lines = []
    for name, data in scenario_library(loader=yaml.SafeLoader).items():
        if data is None:
            lines.append((name, f"(refused: see python -m sim scenario={name})"))
        else:
            block = data.get("scenario") or {}
            lines.append((name, _first_sentence(block.get("description", ""))))
    return lines


def sweep_lines(conf_dir: Path = CONF_DIR) -> list[tuple[str, str]]:
    """``(name, description)`` for every ready-made sweep: the first comment of its file."""
    out = []
    for file in sorted((conf_dir / "sweep").glob("*.yaml")):
        text = ""
        for line in file.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line.startswith("#"):
                break
            comment = line.lstrip("#").strip()
            if comment and not comment.startswith("@package"):
                text = comment.split("  python -m")[0].strip()
                break
        out.append((file.stem, text))
    return out


def launcher_lines() -> list[tuple[str, str, str]]:
    """``(name, how to install, what for)`` for each Hydra launcher the project supports."""
    out = []
    for name, module, extra, purpose in LAUNCHERS:
        if module is None:
            install = "built in"
        else:
            present = importlib.util.find_spec(module) is not None
            install = f'pip install -e ".[{extra}]"' + ("" if not present else " (installed)")
        out.append((name, install, purpose))
    return out


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)] if rows else []
    lines = []
    for row in rows:
        cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=False)] + [row[-1]]
        lines.append("  " + "  ".join(cells).rstrip())
    return "\n".join(lines)


def help_text() -> str:
    """The whole ``--help`` page."""
    scenarios = scenario_lines()
    sweeps = sweep_lines()
    return "\n\n".join(
        [
            USAGE,
            "== Scenarios (scenario=NAME; files in scenarios/ or in $SIM_SCENARIO_PATH) ==\n"
            + (_table(scenarios) if scenarios else "  (none found)"),
            "== Ready-made sweeps (+sweep=NAME; files in conf/sweep/) ==\n"
            + (_table(sweeps) if sweeps else "  (none found)"),
            "== Launchers (add -m hydra/launcher=NAME to a sweep) ==\n"
            + _table(launcher_lines())
            + "\n  e.g. python -m sim -m hydra/launcher=joblib hydra.launcher.n_jobs=2 "
            "seed='range(100)'",
            CONFIG,
        ]
    )
