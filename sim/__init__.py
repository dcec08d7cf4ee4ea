"""China-channel simulator: frontier-model access through a cloud intermediary.

From Python (no Hydra working-directory tricks, no files unless asked)::

    from sim import run
    result = run(scenario="baseline", overrides=["seed=3", "customers.n=500"])
    result.summary      # the same dict as summary.json
    result.timeseries   # pandas DataFrame, one row per month
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.analysis.runs import run_many
    from sim.model import MarketModel
    from sim.runner import RunResult
    from sim.validate import ConfigError, ConfigTypeError

__all__ = ["ConfigError", "ConfigTypeError", "MarketModel", "RunResult", "run", "run_many"]


def run(
    scenario: str | None = None,
    overrides: Sequence[str] = (),
    *,
    output_dir: str | os.PathLike[str] | None = None,
    plots: bool | None = None,
    progress: bool = False,
) -> RunResult:
    """Compose, validate and run one simulation; write files only if ``output_dir`` is given.

    ``scenario`` names a scenario file; ``overrides`` are Hydra-style ``key=value`` strings,
    exactly as on the command line. Every argument is checked before anything runs: a wrong
    type raises :class:`ConfigTypeError` (a :class:`TypeError` and a :class:`ConfigError`), a
    refused config or an unusable ``output_dir`` raises :class:`ConfigError`.
    """
    from sim.config import as_config, compose
    from sim.runner import plots_wanted, simulate, write_results
    from sim.validate import ConfigTypeError

    out = _output_dir(output_dir)
    for name, value in (("plots", plots), ("progress", progress)):
        if value is not None and not isinstance(value, bool):
            raise ConfigTypeError(f"{name} = {value!r}: expected True or False")
    config = as_config(compose(scenario, overrides))
    result = simulate(config, progress=progress)
    if out is not None:
        plots = plots_wanted(config, sweep=False) if plots is None else plots
        write_results(result, out, plots=plots)
    return result


def _output_dir(output_dir: object) -> Path | None:
    """``output_dir`` as a Path, refused unless it is (or can become) a writable folder."""
    from sim.validate import ConfigError, ConfigTypeError

    if output_dir is None:
        return None
    if not isinstance(output_dir, str | os.PathLike) or isinstance(output_dir, bytes):
        raise ConfigTypeError(
            f"output_dir = {output_dir!r}: expected a folder path (str or pathlib.Path), "
            f"got {type(output_dir).__name__}"
        )
    path = Path(output_dir)
    if str(output_dir) == "" or (path.exists() and not path.is_dir()):
        raise ConfigError(f"output_dir = {str(output_dir)!r}: not a folder")
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is None or not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"output_dir = {str(output_dir)!r}: cannot be created or written "
            f"({existing} is not a writable folder)"
        )
    return path


def __getattr__(name: str):
    """Import the heavy parts on first use, so ``python -m sim --help`` starts at once."""
    if name in ("ConfigError", "ConfigTypeError"):
        import sim.validate

        return getattr(sim.validate, name)
    if name == "run_many":
        from sim.analysis.runs import run_many

        return run_many
    if name == "MarketModel":
        from sim.model import MarketModel

        return MarketModel
    if name == "RunResult":
        from sim.runner import RunResult

        return RunResult
    raise AttributeError(name)
