"""China-channel simulator: frontier-model access through a cloud intermediary.

From Python (no Hydra working-directory tricks, no files unless asked)::

    from sim import run
    result = run(scenario="baseline", overrides=["seed=3", "customers.n=500"])
    result.summary      # the same dict as summary.json
    result.timeseries   # pandas DataFrame, one row per month
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.model import MarketModel
    from sim.runner import RunResult
    from sim.validate import ConfigError

__all__ = ["ConfigError", "MarketModel", "RunResult", "run"]


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


def __getattr__(name: str):
    """Import the heavy parts on first use, so ``python -m sim --help`` starts at once."""
    if name == "ConfigError":
        from sim.validate import ConfigError

        return ConfigError
    if name == "MarketModel":
        from sim.model import MarketModel

        return MarketModel
    if name == "RunResult":
        from sim.runner import RunResult

        return RunResult
    raise AttributeError(name)
