"""What every analysis shares: its settings, its runs folder, its tables and figures.

An analysis samples designs from the experiment space, runs them for one seed list (common
random numbers) through :class:`~sim.analysis.runs.Runner` with its cache in ``OUT/runs``,
averages each outcome over the seeds, and writes its tables (CSV, and Parquet with pyarrow)
and figures into ``OUT``. Samples are drawn from a fixed ``sample_seed``, so running the same
command again finds its finished runs and computes only the missing ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.designs import DesignBuilder
from sim.analysis.runs import Runner, design_means, seed_list, worker_count
from sim.analysis.space import CATEGORICAL, ExperimentSpace, Factor, declare_space
from sim.results import atomic_write, parquet_available, write_table
from sim.validate import ConfigError


@dataclass
class Settings:
    """Options shared by every analysis.

    ``common`` holds parameter settings for every run (``{"customers.n": 500}``);
    ``seeds`` the seed list every design runs with; ``outcomes`` the summary keys analysed
    (default: the registry's headline).
    """

    out: Path
    scenario: str = "baseline"
    common: dict[str, Any] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    n_jobs: int = 1
    lever_month: int = 0
    outcomes: list[str] | None = None
    sample_seed: int = 0
    progress: bool = False

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        self.seeds = seed_list(self.seeds)
        seed = self.sample_seed
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"sample_seed = {self.sample_seed!r}: a whole number >= 0")

    def check(self) -> ExperimentSpace:
        """Refuse, once and before any design is drawn, what would be wrong in every design
        alike: the number of workers, the scenario, the common settings, a lever month outside
        the runs' horizon (the scenario's, or the one set in ``common``). Raises ConfigError;
        returns the experiment space (levers at ``lever_month``)."""
        key = repr((self.scenario, self.common, self.lever_month, self.outcomes, self.n_jobs))
        if getattr(self, "_checked", None) == key:
            return self._space
        worker_count(self.n_jobs)
        space = declare_space(lever_month=self.lever_month, outcomes=self.outcomes)
        builder = DesignBuilder(common=self.common, scenario=self.scenario)
        horizon = int(builder.common_config().horizon)
        if self.lever_month >= horizon:
            source = "horizon set for every run" if "horizon" in self.common else "its horizon"
            raise ConfigError(
                f"lever_month = {self.lever_month}: past the end of the runs, which last "
                f"{horizon} months (scenario {self.scenario}, {source}); "
                f"allowed 0..{horizon - 1}"
            )
        self._checked, self._space = key, space
        return space

    def space(self) -> ExperimentSpace:
        """The experiment space for these settings (levers at ``lever_month``), after
        :meth:`check`."""
        return self.check()

    def runner(self) -> Runner:
        """A runner whose cache is ``out/runs``, for this scenario and common settings."""
        return Runner(
            scenario=self.scenario,
            common=self.common,
            n_jobs=self.n_jobs,
            folder=self.out / "runs",
            progress=self.progress,
        )

    def record(self, name: str, design: pd.DataFrame, **extra: Any) -> Path:
        """Create ``out`` and write ``NAME_settings.json`` (these settings and the analysis
        options) and ``NAME_design.csv`` (the sampled designs)."""
        self.out.mkdir(parents=True, exist_ok=True)
        write_tables(self.out, f"{name}_design", design.reset_index())
        data = {**asdict(self), "out": str(self.out), **extra}
        text = json.dumps(data, indent=2, default=str) + "\n"
        return atomic_write(
            self.out / f"{name}_settings.json", lambda t: t.write_text(text, encoding="utf-8")
        )


def design_table(factors: Sequence[Factor], designs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The sampled designs as a table: one row per design, one column per factor."""
    return pd.DataFrame(
        [{f.key: f.label(d.get(f.key)) for f in factors} for d in designs],
        columns=[f.key for f in factors],
    ).rename_axis("design")


def factor_frame(factors: Sequence[Factor], designs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Design values as analysis inputs: numbers as floats, flags and lists as categories."""
    data = {}
    for f in factors:
        values = [d[f.key] for d in designs]
        if f.kind == CATEGORICAL:
            data[f.key] = pd.Categorical([f.label(v) for v in values])
        elif isinstance(values[0], bool):
            data[f.key] = pd.Categorical([str(v).lower() for v in values])
        else:
            data[f.key] = np.asarray(values, dtype=float)
    return pd.DataFrame(data)


def run_designs(
    settings: Settings,
    designs: list[dict[str, Any]],
    outcomes: Sequence[str],
    before: Callable[[], Any] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check every design, call ``before`` (which records the analysis), then run them all
    for the settings' seeds; returns the runs table and the per-design outcome means.

    Nothing is written (``before`` is not called) when a design is refused.
    """
    runner = settings.runner()
    prepared = runner.prepare(designs)
    if before is not None:
        before()
    runs = runner.run_prepared(prepared, settings.seeds)
    return runs, design_means(runs, outcomes)


def write_tables(out: Path, name: str, frame: pd.DataFrame) -> list[Path]:
    """``frame`` as ``out/NAME.csv`` and, with pyarrow, ``out/NAME.parquet``."""
    formats = ["csv", "parquet"] if parquet_available() else ["csv"]
    return [write_table(out / f"{name}.{fmt}", frame, fmt) for fmt in formats]


def save_figure(fig: Figure, path: Path) -> Path:
    """Save a matplotlib figure as PNG, atomically."""
    fig.tight_layout()
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))


def bootstrap_seed(sample_seed: int, stream: int = 1) -> int:
    """A non-zero seed for SALib's bootstrap, derived from ``sample_seed`` by a SeedSequence.

    SALib's Sobol analysis treats a seed of 0 as no seed at all (its confidence intervals
    would then change from call to call); a derived 32-bit seed avoids that for every seed.
    """
    return int(np.random.SeedSequence([sample_seed, stream]).generate_state(1)[0]) or 1


def unit_problem(factors: Sequence[Factor]) -> dict[str, Any]:
    """A SALib problem over the unit cube, one dimension per factor (decoded by the factor)."""
    return {
        "num_vars": len(factors),
        "names": [f.key for f in factors],
        "bounds": [[0.0, 1.0]] * len(factors),
    }
