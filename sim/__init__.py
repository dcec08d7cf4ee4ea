"""China-channel simulator: frontier-model access through a cloud intermediary.

From Python (no Hydra working-directory tricks, no files unless asked)::

    from sim import run
    result = run(scenario="baseline", overrides=["seed=3", "customers.n=500"])
    result.summary      # the same dict as summary.json
    result.timeseries   # pandas DataFrame, one row per month
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

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
    if name == "MarketModel":
        from sim.model import MarketModel

        return MarketModel
    if name == "RunResult":
        from sim.runner import RunResult

        return RunResult
    raise AttributeError(name)
