"""China-channel simulator: frontier-model access through a cloud intermediary.

From Python (no Hydra working-directory tricks, no files unless asked)::

    from sim import run
    result = run(scenario="baseline", overrides=["seed=3", "customers.n=500"])
    result.summary      # the same dict as summary.json
    result.timeseries   # pandas DataFrame, one row per month
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.validate import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from sim.model import MarketModel
    from sim.runner import RunResult

__all__ = ["ConfigError", "MarketModel", "RunResult", "run", "run_many"]


def run(
    scenario: str | None = None,
    overrides: Sequence[str] = (),
    *,
    output_dir: str | Path | None = None,
    plots: bool | None = None,
    progress: bool = False,
) -> RunResult:
    """Compose, validate and run one simulation; write files only if ``output_dir`` is given.

    ``scenario`` names a scenario file; ``overrides`` are Hydra-style ``key=value`` strings,
    exactly as on the command line. Raises :class:`ConfigError` for a refused config.
    """
    from sim.config import as_config, compose
    from sim.runner import plots_wanted, simulate, write_results

    config = as_config(compose(scenario, overrides))
    result = simulate(config, progress=progress)
    if output_dir is not None:
        plots = plots_wanted(config, sweep=False) if plots is None else plots
        write_results(result, Path(output_dir), plots=plots)
    return result


def run_many(
    designs: Sequence[Mapping[str, Any]],
    *,
    seeds: int | Sequence[int] = 1,
    n_jobs: int = 1,
    folder: str | Path | None = None,
    scenario: str | None = None,
    common: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Run every design for the same seeds; one tidy row per design and seed.

    ``designs`` is a list of plain dicts: config keys (``"demand.price_weight": 0.8``) set
    parameters from month 0, ``"LEVER@MONTH"`` keys (``"us.rule_level@12": 0.5``) move a
    policy lever through a scenario event, ``"scenario"`` picks the starting scenario
    (default ``scenario``, else baseline). Numpy scalars are accepted. ``common`` applies to
    every design (``{"customers.n": 500, "horizon": 24}``). ``seeds`` is a count (``range``)
    or a list, the same for every design (common random numbers). Every design is checked
    first: an unknown key, a wrong type or a value out of range raises :class:`ConfigError`
    naming the design, the key and the value, and nothing runs. ``n_jobs`` worker processes
    (-1: one per core) give the same numbers as one. With ``folder``, finished runs are kept
    there and a rerun computes only the missing ones.

    Columns: ``design`` (position in the list), ``scenario``, ``seed``, each design key,
    ``status``, ``error``, ``seconds``, then every summary figure.
    """
    from sim.analysis.runs import run_many as _run_many

    return _run_many(
        designs,
        seeds=seeds,
        n_jobs=n_jobs,
        folder=folder,
        scenario=scenario,
        common=common,
        progress=progress,
    )


def __getattr__(name: str):
    if name == "MarketModel":
        from sim.model import MarketModel

        return MarketModel
    if name == "RunResult":
        from sim.runner import RunResult

        return RunResult
    raise AttributeError(name)
