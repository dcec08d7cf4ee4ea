"""A Hydra sweeper that adds a Latin-hypercube sample of the uncertain parameters to a sweep.

``python -m sim +uncertainty=lhs hydra.sweeper.samples=20 seed='range(5)'`` runs every job of
the ordinary sweep (the cartesian product of its swept keys) once per sample: sample ``i``
sets each parameter with a plausible range (:func:`sim.schema.plausible_ranges`) to its
``i``-th Latin-hypercube draw, and every sample runs the same seeds (nested seeds). A
parameter the job sets itself, or its scenario file sets, keeps that value. Jobs are
launched by whichever Hydra launcher is configured (basic, joblib, Ray, Submitit), and
resumed like any sweep. Each sample's jobs live under ``sample=NNNN/`` in the sweep folder;
``uncertainty_samples.csv`` there lists the draws, and the ``UncertaintySummary`` callback
writes how much of each outcome's spread each parameter explains.
"""

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.types import Override

log = logging.getLogger(__name__)
SAMPLES_FILE = "uncertainty_samples.csv"


@dataclass
class LatinHypercubeSweeperConf:
    """Settings of the sweeper: ``samples`` draws from ``seed``, over ``factors`` (default
    every parameter with a plausible range)."""

    _target_: str = "hydra_plugins.sim_uncertainty.lhs_sweeper.LatinHypercubeSweeper"
    max_batch_size: int | None = None
    params: dict[str, str] | None = None
    samples: int = 10
    seed: int = 0
    factors: list[str] | None = None


ConfigStore.instance().store(
    group="hydra/sweeper", name="sim_lhs", node=LatinHypercubeSweeperConf, provider="sim"
)


def _number_text(value: Any) -> str:
    """A Python number as Hydra override text that parses back to the same value."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


class LatinHypercubeSweeper(BasicSweeper):
    """The basic sweeper's cartesian product, times a Latin hypercube of the uncertainties."""

    def __init__(
        self,
        max_batch_size: int | None = None,
        params: dict[str, str] | None = None,
        samples: int = 10,
        seed: int = 0,
        factors: list[str] | None = None,
    ) -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)
        if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2:
            raise ValueError(f"hydra.sweeper.samples = {samples!r}: at least 2 samples")
        self.samples = samples
        self.seed = seed
        self.factors = list(factors) if factors else None

    def draws(self) -> tuple[list[str], list[dict[str, Any]]]:
        """The uncertain keys and one dict of values per sample (SALib's Latin hypercube)."""
        try:
            from SALib.sample import latin
        except ImportError:
            raise ImportError(
                "+uncertainty=lhs needs SALib: install the analysis extra, "
                "pip install -e '.[analysis]'"
            ) from None

        from sim.analysis.space import declare_space

        space = declare_space()
        chosen = (
            space.select(self.factors, space.uncertainties)
            if self.factors
            else list(space.uncertainties)
        )
        problem = {
            "num_vars": len(chosen),
            "names": [f.key for f in chosen],
            "bounds": [[0.0, 1.0]] * len(chosen),
        }
        unit = latin.sample(problem, self.samples, seed=self.seed)
        return [f.key for f in chosen], space.designs(chosen, unit)

    def split_arguments(  # type: ignore[override]
        self, overrides: list[Override], max_batch_size: int | None
    ) -> list[list[list[str]]]:
        """Every job of the basic product once per sample, with the sample's draws added."""
        from sim.analysis.space import flatten
        from sim.paths import scenario_file

        assert self.config is not None
        jobs = BasicSweeper.split_arguments(overrides, None)[0]
        keys, draws = self.draws()
        self._write_samples(keys, draws)
        raw_subdir = self.config.hydra.sweep._get_node("subdir")._value()
        excluded = list(self.config.hydra.job.config.override_dirname.exclude_keys or [])
        exclude = ",".join(dict.fromkeys([*excluded, "uncertainty", *keys]))
        default_scenario = self.config.scenario.name
        expanded: list[list[str]] = []
        for job in jobs:
            own = {item.partition("=")[0].lstrip("+~") for item in job}
            scenario = next(
                (i.partition("=")[2] for i in job if i.startswith("scenario=")), default_scenario
            )
            file = scenario_file(scenario)
            fixed = own | (
                {k for k, _ in flatten(_scenario_params(file))} if file is not None else set()
            )
            for number, draw in enumerate(draws):
                subdir = f"sample={number:04d}/{raw_subdir}"
                expanded.append(
                    [
                        *job,
                        *(f"{k}={_number_text(v)}" for k, v in draw.items() if k not in fixed),
                        f"hydra.sweep.subdir='{subdir}'",
                        f"hydra.job.config.override_dirname.exclude_keys=[{exclude}]",
                    ]
                )
        size = max_batch_size if max_batch_size and max_batch_size > 0 else len(expanded)
        return [expanded[i : i + size] for i in range(0, len(expanded), size)]

    def _write_samples(self, keys: list[str], draws: list[dict[str, Any]]) -> None:
        import pandas as pd

        from sim.results import write_table

        assert self.config is not None
        table = pd.DataFrame(draws, columns=keys).rename_axis("sample").reset_index()
        write_table(Path(self.config.hydra.sweep.dir) / SAMPLES_FILE, table)
        log.info(
            "Uncertainty sweep: %d samples of %d parameters (%s)",
            len(draws),
            len(keys),
            ", ".join(keys),
        )


def _scenario_params(file: Path) -> dict[str, Any]:
    import yaml

    data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    return {k: v for k, v in data.items() if k != "scenario"}
