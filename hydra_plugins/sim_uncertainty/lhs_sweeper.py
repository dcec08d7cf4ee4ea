"""A Latin-hypercube sample of the uncertain parameters, added to a sweep by its sweeper.

``python -m sim +uncertainty=lhs hydra.sweeper.samples=20 seed='range(5)'`` runs every config
of the ordinary sweep (the cartesian product of its swept keys) once per sample: sample ``i``
sets each parameter with a plausible range (:func:`sim.schema.plausible_ranges`) to its
``i``-th Latin-hypercube draw, and every sample runs the same seeds (nested seeds). A
parameter the config sets itself, or its scenario file sets, keeps that value. The project's
sweeper (:class:`~hydra_plugins.sim_sweeper.replicating_sweeper.ReplicatingSweeper`) calls
:func:`draws` and :func:`sample_configs` when ``hydra.sweeper.samples`` is set (an unknown
factor is refused before the sweep folder exists), then :func:`write_samples`, so the seeds
of a config still run in one job, finished runs are skipped on resume, and any Hydra
launcher runs the jobs.
Each sample's runs live under ``sample=NNNN/`` in the sweep folder;
``uncertainty_samples.csv`` there lists the draws, and the ``UncertaintySummary`` callback
writes how much of each outcome's spread each parameter explains.
"""

import logging
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

log = logging.getLogger(__name__)
SAMPLES_FILE = "uncertainty_samples.csv"
SAMPLE_FOLDER = "sample={number:04d}"
#: Keys never part of a run folder's name in an uncertainty sweep (the draws are added).
EXCLUDED_KEY = "uncertainty"


def _number_text(value: Any) -> str:
    """A Python number as Hydra override text that parses back to the same value."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def draws(
    samples: int, seed: int, factors: list[str] | None = None
) -> tuple[list[str], list[dict[str, Any]]]:
    """The uncertain keys and one dict of values per sample (SALib's Latin hypercube)."""
    try:
        from SALib.sample import latin
    except ImportError:
        raise ImportError(
            "+uncertainty=lhs needs SALib: install the analysis extra, pip install -e '.[analysis]'"
        ) from None

    from sim.analysis.space import declare_space

    space = declare_space()
    chosen = space.select(factors, space.uncertainties) if factors else list(space.uncertainties)
    problem = {
        "num_vars": len(chosen),
        "names": [f.key for f in chosen],
        "bounds": [[0.0, 1.0]] * len(chosen),
    }
    unit = latin.sample(problem, samples, seed=seed)
    return [f.key for f in chosen], space.designs(chosen, unit)


def sample_configs(
    config: DictConfig,
    configs: list[list[str]],
    keys: list[str],
    drawn: list[dict[str, Any]],
) -> list[list[str]]:
    """Every config (a list of overrides) once per sample of ``drawn`` (see :func:`draws`),
    with the sample's values (except the keys the config or its scenario sets) and its own
    ``sample=NNNN/`` folder. Writes nothing (see :func:`write_samples`)."""
    from sim.analysis.space import flatten
    from sim.paths import scenario_file

    raw_subdir = config.hydra.sweep._get_node("subdir")._value()
    excluded = list(config.hydra.job.config.override_dirname.exclude_keys or [])
    exclude = ",".join(dict.fromkeys([*excluded, EXCLUDED_KEY, *keys]))
    default_scenario = config.scenario.name
    expanded: list[list[str]] = []
    for combo in configs:
        own = {item.partition("=")[0].lstrip("+~") for item in combo}
        scenario = next(
            (i.partition("=")[2] for i in combo if i.startswith("scenario=")), default_scenario
        )
        file = scenario_file(scenario)
        fixed = own | (
            {k for k, _ in flatten(_scenario_params(file))} if file is not None else set()
        )
        for number, draw in enumerate(drawn):
            subdir = f"{SAMPLE_FOLDER.format(number=number)}/{raw_subdir}"
            expanded.append(
                [
                    *combo,
                    *(f"{k}={_number_text(v)}" for k, v in draw.items() if k not in fixed),
                    f"hydra.sweep.subdir='{subdir}'",
                    f"hydra.job.config.override_dirname.exclude_keys=[{exclude}]",
                ]
            )
    return expanded


def write_samples(sweep_dir: Path, keys: list[str], drawn: list[dict[str, Any]]) -> None:
    """Write the draws to ``uncertainty_samples.csv`` in the sweep folder (one row each)."""
    import pandas as pd

    from sim.results import write_table

    table = pd.DataFrame(drawn, columns=keys).rename_axis("sample").reset_index()
    write_table(sweep_dir / SAMPLES_FILE, table)
    log.info(
        "Uncertainty sweep: %d samples of %d parameters (%s)",
        len(drawn),
        len(keys),
        ", ".join(keys),
    )


def _scenario_params(file: Path) -> dict[str, Any]:
    import yaml

    data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    return {k: v for k, v in data.items() if k != "scenario"}
