"""Many runs: every design for the same seeds, in a process pool, resumable, as one tidy table.

The same seed list is used for every design (common random numbers), so the difference
between two designs for one seed is a paired comparison. A run is a pure function of its
config and seed, so the table is the same whatever the number of workers. With a folder,
each finished run is saved at once (``cache/<config hash>_<seed>.json``, written
atomically) and a rerun computes only the runs that are missing; the table is written as
``runs.csv`` (and ``runs.parquet`` with pyarrow) when all runs are done.
"""

from __future__ import annotations

import json
import logging
import os
import time
import traceback
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from sim.analysis.designs import SCENARIO_KEY, DesignBuilder, PreparedDesign, plain
from sim.progress import progress_bar
from sim.results import parquet_available, write_json, write_table
from sim.validate import ConfigError

log = logging.getLogger("sim.analysis")

CACHE = "cache"
ID_COLUMNS = ("design", SCENARIO_KEY, "seed")
STATUS_COLUMNS = ("status", "error", "seconds")


def seed_list(seeds: int | Sequence[int]) -> list[int]:
    """``seeds`` as a list of distinct non-negative ints (an int n means ``range(n)``)."""
    seeds = plain(seeds)
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ConfigError(f"seeds = {seeds}: give at least one seed (a count >= 1 or a list)")
        return list(range(seeds))
    if isinstance(seeds, range):
        seeds = list(seeds)
    if not isinstance(seeds, list) or not seeds:
        raise ConfigError(f"seeds = {seeds!r}: give a count >= 1 or a non-empty list of seeds")
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, int) or s < 0]
    if bad:
        raise ConfigError(f"seeds: {bad!r} are not whole numbers >= 0")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds = {seeds}: each seed may appear only once")
    return seeds


def worker_count(n_jobs: int) -> int:
    """The number of worker processes for ``n_jobs`` (-1: one per core)."""
    n_jobs = plain(n_jobs)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise ConfigError(f"n_jobs = {n_jobs!r}: a whole number >= 1, or -1 for every core")
    return (os.cpu_count() or 1) if n_jobs == -1 else n_jobs


def simulate_summary(config: DictConfig, seed: int) -> tuple[str, dict[str, Any], float]:
    """Run one seed of a validated config; returns status, summary (or error) and seconds.

    Failures are returned, not raised, so one failing run never stops the others.
    """
    from sim.runner import simulate

    started = time.perf_counter()
    try:
        config.seed = seed  # the model reads its own validated copy of the config
        summary = simulate(config).summary
    except Exception as e:
        return (
            "failed",
            {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()},
            time.perf_counter() - started,
        )
    return "ok", summary, time.perf_counter() - started


def _digest(config: DictConfig) -> str:
    from sim.sweep.jobs import config_hash

    return config_hash(config)


def _text(value: Any) -> Any:
    """List values as their override text (``[platform,research]``), the rest unchanged."""
    if isinstance(value, list):
        return "[" + ",".join(str(v) for v in value) + "]"
    return value


class Runner:
    """Runs designs for a list of seeds; keeps the composed scenarios between calls.

    ``scenario`` is the default scenario of designs that name none; ``common`` holds
    settings shared by every design; ``folder`` makes runs resumable.
    """

    def __init__(
        self,
        *,
        scenario: str | None = None,
        common: Mapping[str, Any] | None = None,
        n_jobs: int = 1,
        folder: str | Path | None = None,
        progress: bool = False,
    ) -> None:
        self.builder = DesignBuilder(common=common, scenario=scenario)
        self.n_jobs = worker_count(n_jobs)
        self.folder = Path(folder) if folder is not None else None
        self.progress = progress
        self.computed = 0

    def run(
        self, designs: Sequence[Mapping[str, Any]], seeds: int | Sequence[int] = 1
    ) -> pd.DataFrame:
        """One row per design and seed: design id, scenario, seed, values, status, summary."""
        seed_values = seed_list(seeds)
        return self.run_prepared(self.prepare(designs), seed_values)

    def prepare(self, designs: Sequence[Mapping[str, Any]]) -> list[PreparedDesign]:
        """Check and build every design (raises ConfigError listing the problems); no run."""
        return self.builder.prepare(designs)

    def run_prepared(self, prepared: list[PreparedDesign], seeds: list[int]) -> pd.DataFrame:
        """Run designs already checked by :meth:`prepare` for ``seeds``; see :meth:`run`."""
        seed_values = seed_list(seeds)
        digests = [_digest(d.config) for d in prepared]
        results: dict[tuple[int, int], tuple[str, dict[str, Any], float]] = {}
        todo: list[tuple[int, int]] = []
        for pos, digest in enumerate(digests):
            for seed in seed_values:
                cached = self._cached(digest, seed)
                if cached is not None:
                    results[(pos, seed)] = cached
                else:
                    todo.append((pos, seed))
        if todo:
            log.info(
                "Running %d of %d runs (%d already done) with %d worker(s)",
                len(todo),
                len(prepared) * len(seed_values),
                len(prepared) * len(seed_values) - len(todo),
                self.n_jobs,
            )
        self.computed = 0
        for (pos, seed), outcome in self._execute(prepared, todo):
            results[(pos, seed)] = outcome
            self.computed += 1
            if outcome[0] == "ok":
                self._save(digests[pos], seed, outcome)
        table = self._table(prepared, seed_values, results)
        if self.folder is not None:
            formats = ["csv", "parquet"] if parquet_available() else ["csv"]
            for fmt in formats:
                write_table(self.folder / f"runs.{fmt}", table, fmt)
        table.attrs["computed"] = self.computed
        return table

    def _cached(self, digest: str, seed: int) -> tuple[str, dict[str, Any], float] | None:
        if self.folder is None:
            return None
        file = self.folder / CACHE / f"{digest}_{seed}.json"
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return "ok", data["summary"], float(data.get("seconds", 0.0))

    def _save(self, digest: str, seed: int, outcome: tuple[str, dict[str, Any], float]) -> None:
        if self.folder is None:
            return
        file = self.folder / CACHE / f"{digest}_{seed}.json"
        write_json(
            file,
            {"config_hash": digest, "seed": seed, "summary": outcome[1], "seconds": outcome[2]},
        )

    def _execute(self, prepared: list[PreparedDesign], todo: list[tuple[int, int]]):
        if not todo:
            return
        bar = None
        if self.progress:
            bar = progress_bar(total=len(todo), unit="run", desc="runs", leave=False)
        try:
            if self.n_jobs == 1 or len(todo) == 1:
                for pos, seed in todo:
                    yield (pos, seed), simulate_summary(prepared[pos].config, seed)
                    if bar:
                        bar.update()
            else:
                yield from self._pool(prepared, todo, bar)
        finally:
            if bar:
                bar.close()

    def _pool(self, prepared: list[PreparedDesign], todo: list[tuple[int, int]], bar: Any):
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        workers = min(self.n_jobs, len(todo))
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        pending: dict[Future, tuple[int, int]] = {}
        queue = iter(todo)
        try:
            for item in queue:
                pending[pool.submit(simulate_summary, prepared[item[0]].config, item[1])] = item
                if len(pending) >= 4 * workers:
                    break
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    item = pending.pop(future)
                    yield item, future.result()
                    if bar:
                        bar.update()
                    nxt = next(queue, None)
                    if nxt is not None:
                        job = pool.submit(simulate_summary, prepared[nxt[0]].config, nxt[1])
                        pending[job] = nxt
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def _table(
        prepared: list[PreparedDesign],
        seeds: list[int],
        results: dict[tuple[int, int], tuple[str, dict[str, Any], float]],
    ) -> pd.DataFrame:
        value_keys: list[str] = []
        for design in prepared:
            value_keys += [k for k in design.values if k not in value_keys and k != SCENARIO_KEY]
        rows = []
        for pos, design in enumerate(prepared):
            for seed in seeds:
                status, payload, seconds = results[(pos, seed)]
                row: dict[str, Any] = {
                    "design": design.index,
                    SCENARIO_KEY: design.scenario,
                    "seed": seed,
                }
                row.update({k: _text(design.values.get(k)) for k in value_keys})
                row.update(
                    {
                        "status": status,
                        "error": payload.get("error", "") if status != "ok" else "",
                        "seconds": seconds,
                    }
                )
                if status == "ok":
                    row.update({k: v for k, v in payload.items() if k not in row})
                rows.append(row)
        table = pd.DataFrame(rows)
        for col in table.columns:
            if table[col].dtype == object and table[col].map(lambda v: v is None).any():
                numeric = pd.to_numeric(table[col], errors="coerce")
                if numeric.notna().sum() == table[col].notna().sum():
                    table[col] = numeric.astype(float)
        table.attrs["values"] = value_keys
        return table


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
    runner = Runner(
        scenario=scenario, common=common, n_jobs=n_jobs, folder=folder, progress=progress
    )
    return runner.run(designs, seeds)


def failed_runs(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a runs table that did not finish."""
    return table[table["status"] != "ok"]


def design_means(table: pd.DataFrame, outcomes: Sequence[str]) -> pd.DataFrame:
    """Per design, the mean of each outcome over its seeds (NaN when a seed has none)."""
    bad = failed_runs(table)
    if not bad.empty:
        first = bad.iloc[0]
        raise RuntimeError(
            f"{len(bad)} run(s) failed (design {first['design']}, seed {first['seed']}: "
            f"{first['error']}); fix the cause and run again: finished runs are kept"
        )
    frame = table[["design", *outcomes]].copy()
    for key in outcomes:
        frame[key] = pd.to_numeric(frame[key], errors="coerce").astype(float)
    means = frame.groupby("design", sort=True)[list(outcomes)].agg(
        lambda s: float(np.mean(s.to_numpy())) if s.notna().all() else np.nan
    )
    return means
