"""Aggregation: run folders (single runs or sweeps) into two tidy tables, streamed.

``runs``: one row per run folder with the swept parameters, scenario, seed, status, error and
every summary metric. ``timeseries``: the monthly records of every successful run, long, with
the same identifying columns. Only ``status.json``, ``summary.json``,
``.hydra/overrides.yaml`` and ``timeseries.csv`` are read; analysis never runs model code,
so it works on any run folder, old or new.

Nothing a folder holds can crash it. A folder whose files cannot be read (not UTF-8, not a
JSON object, keys missing, a garbage or truncated CSV, a file that is a link pointing out of
its folder) is kept in ``runs`` with status ``unreadable`` and the reason, and left out of
every statistic. A run found twice (the same config hash and seed) is counted once; the
copies get status ``duplicate``. Runs of different population sizes, horizons or code
versions compared together are warned about. All of this is also in :class:`Aggregate`'s
``skipped``, ``duplicates`` and ``warnings`` for the report.

The time series are read a chunk of runs at a time and written straight to Parquet and CSV
(``store``), so memory holds one chunk, not the whole table; ``Aggregate.timeseries`` loads
the written Parquet file when first used.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.sweep.long_table import TIMESERIES_FILE, Sink, id_value, stream_timeseries
from sim.sweep.run_folders import (
    UNREADABLE,
    Found,
    Unreadable,
    discover,
    find_run_folders,
    parse_overrides,
    read_rows,
    skip_row,
)
from sim.sweep.samples import SAMPLE

__all__ = [
    "TIMESERIES_FILE",
    "Aggregate",
    "Unreadable",
    "aggregate",
    "discover",
    "find_run_folders",
    "group_label",
    "id_value",
    "map_text",
    "parse_overrides",
]

log = logging.getLogger("sim.compare")

ID_COLUMNS = ("run", "status", "scenario", "seed")
DUPLICATE = "duplicate"


@dataclass
class Aggregate:
    """The two tidy tables, the swept parameters, and what was left out and why.

    ``skipped``: folders that could not be read (columns ``run``, ``folder``, ``reason``).
    ``duplicates``: runs found more than once (``run``, ``same_as``, ``config_hash``, ``seed``),
    counted once. ``warnings``: one sentence each, for the log and the report: unreadable
    folders, duplicates, different population sizes, horizons or code versions pooled.
    ``pooled``: for ``customers_n``, ``horizon`` and ``code_version``, the distinct values
    among the successful runs when there is more than one (``{"customers_n": [150, 2000]}``).
    """

    runs: pd.DataFrame
    params: list[str]
    skipped: pd.DataFrame = field(default_factory=lambda: _frame(["run", "folder", "reason"]))
    duplicates: pd.DataFrame = field(
        default_factory=lambda: _frame(["run", "same_as", "config_hash", "seed"])
    )
    warnings: list[str] = field(default_factory=list)
    pooled: dict[str, list[Any]] = field(default_factory=dict)
    timeseries_file: Path | None = None
    _timeseries: pd.DataFrame | None = field(default=None, repr=False)

    @classmethod
    def in_memory(
        cls, runs: pd.DataFrame, timeseries: pd.DataFrame, params: Iterable[str] = ()
    ) -> Aggregate:
        """An aggregate of tables already in memory (runs made in this process, say)."""
        agg = cls(runs, list(params))
        agg.timeseries = timeseries
        return agg

    @property
    def timeseries(self) -> pd.DataFrame:
        """The long monthly table of the successful runs (read from Parquet on first use)."""
        if self._timeseries is None:
            if self.timeseries_file is not None and self.timeseries_file.is_file():
                self._timeseries = pd.read_parquet(self.timeseries_file)
            else:
                self._timeseries = _frame(["run", "scenario", "seed", *self.params, "month"])
        return self._timeseries

    @timeseries.setter
    def timeseries(self, frame: pd.DataFrame) -> None:
        self._timeseries = frame

    def timeseries_columns(self, columns: Iterable[str]) -> pd.DataFrame:
        """Only the identifying columns, ``month`` and ``columns`` of the long table: what a
        figure needs, without loading every metric of every run."""
        ids = ["run", "scenario", SAMPLE, "seed", *self.params, "month"]
        wanted = list(dict.fromkeys([*ids, *columns]))
        if self._timeseries is None and self.timeseries_file is not None:
            import pyarrow.parquet as pq

            present = set(pq.read_schema(self.timeseries_file).names)
            return pd.read_parquet(
                self.timeseries_file, columns=[c for c in wanted if c in present]
            )
        frame = self.timeseries
        return frame[[c for c in wanted if c in frame]]

    @property
    def failed(self) -> pd.DataFrame:
        """Runs that did not finish or were left out: failed, refused, incomplete, unreadable,
        duplicate."""
        return self.runs[~self.runs["status"].isin(["ok"])]


def _frame(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _dedupe(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mark successful runs seen before (same config hash and seed, or the same summary when
    the folder has no hash) as duplicates of the first; returns the duplicate records."""
    first: dict[tuple[Any, ...], dict[str, Any]] = {}
    duplicates = []
    for row in rows:
        if row["status"] != "ok":
            continue
        key = (
            ("hash", row["config_hash"], row["seed"], row.get("code_version"))
            if row.get("config_hash")
            else ("summary", row.get("_summary_digest"))
        )
        if key in first:
            original = first[key]
            row["status"] = DUPLICATE
            row["error"] = f"same config and seed as {original['run']}; counted once"
            duplicates.append(
                {
                    "run": row["run"],
                    "same_as": original["run"],
                    "config_hash": row.get("config_hash"),
                    "seed": row["seed"],
                }
            )
        else:
            first[key] = row
    return duplicates


def _runs_frame(rows: list[dict[str, Any]]) -> tuple[pd.DataFrame, list[str]]:
    runs = pd.DataFrame(rows)
    if runs.empty:
        runs = _frame([*ID_COLUMNS, "error", "_folder"])
    runs = runs.drop(columns=[c for c in runs if c in ("_summary_digest", "_part")])
    param_cols = sorted(c for c in runs.columns if c.startswith("param:"))
    params = [c.removeprefix("param:") for c in param_cols]
    for col, name in zip(param_cols, params, strict=True):
        # A swept key that is also a summary key (horizon, say): one column, either source.
        runs[name] = runs[col].combine_first(runs[name]) if name in runs else runs[col]
        runs = runs.drop(columns=col)
    front = [*ID_COLUMNS, SAMPLE, *params, "error", "seconds", "config_hash", "code_version"]
    runs = runs[[c for c in front if c in runs] + [c for c in runs if c not in front]]
    for col in ["seed", *([SAMPLE] if SAMPLE in runs else []), *params]:
        runs[col] = _integers_kept(runs[col])
    return runs, params


def _integers_kept(column: pd.Series) -> pd.Series:
    """A column of whole numbers with gaps as nullable integers (not floats), else as is."""
    present = column.dropna()
    if len(present) and all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in present
    ):
        return column.astype("Int64")
    return column


def _distinct(values: pd.Series) -> list[Any]:
    return sorted({v for v in values.dropna().tolist()}, key=str)


def _pooling(runs: pd.DataFrame, params: list[str]) -> tuple[dict[str, list[Any]], list[str]]:
    """Distinct sizes, horizons and code versions among successful runs, and warnings when a
    comparison (or one group within it) mixes them."""
    ok = runs[runs["status"] == "ok"]
    pooled: dict[str, list[Any]] = {}
    warnings = []
    if ok.empty:
        return pooled, warnings
    labels = group_label(ok, params)
    for key, what in (
        ("customers_n", "population sizes (customers.n)"),
        ("horizon", "horizons"),
        ("code_version", "code versions"),
    ):
        if key not in ok:
            continue
        values = _distinct(ok[key])
        if len(values) < 2:
            continue
        pooled[key] = values
        counts = ok[key].value_counts().to_dict()
        listed = ", ".join(f"{v} ({counts.get(v, 0)} runs)" for v in values)
        mixed_groups = sorted(
            g for g, sub in ok.groupby(labels, sort=False) if sub[key].nunique() > 1
        )
        where = (
            f"; pooled within the groups {', '.join(mixed_groups)}"
            if mixed_groups
            else "; each group has one, but groups are compared with each other"
        )
        warnings.append(f"Runs of different {what} are compared: {listed}{where}.")
    return pooled, warnings


# ------------------------------------------------------------------ aggregate


def aggregate(
    paths: Iterable[Path],
    timeseries: bool = True,
    store: Path | None = None,
    found: Found | None = None,
) -> Aggregate:
    """Collect every run under ``paths`` into the runs table and the long time-series table.

    With ``store``, the long table is streamed to ``store/timeseries.{parquet,csv}`` and read
    back only when used; without, it is built in memory. ``found`` is the walk over ``paths``
    when the caller has already made it.
    """
    given = [Path(p) for p in paths]
    paths = list(dict.fromkeys(p.resolve() for p in given))
    warnings: list[str] = []
    if len(paths) < len(given):
        warnings.append("A folder was given more than once; it was read once.")
    found = found or discover(paths)
    folders, links = found.folders, found.links
    base = Path(os.path.commonpath(paths)) if paths else Path.cwd()
    if len(paths) == 1 and paths[0].is_dir() and folders == [paths[0]]:
        base = paths[0].parent
    rows, skipped = read_rows(folders, base, found.parts)
    skipped += [skip_row(link, base, reason) for link, reason in links]
    duplicates = _dedupe(rows)
    _, params = _runs_frame(rows)
    sink = Sink(store)
    series = None
    if timeseries:
        try:
            schema, bad = stream_timeseries(rows, params, sink)
            series = sink.finish(schema)
        except BaseException:
            sink.abort()
            raise
        for row, reason in bad:
            row.update(status=UNREADABLE, error=reason)
    runs, params = _runs_frame(rows + skipped)
    unreadable = runs[runs["status"] == UNREADABLE]
    skipped_frame = pd.DataFrame(
        {
            "run": unreadable["run"].tolist(),
            "folder": unreadable["_folder"].tolist(),
            "reason": unreadable["error"].tolist(),
        }
    )
    if len(unreadable):
        listed = "; ".join(f"{r.run}: {r.error}" for r in unreadable.itertuples())
        warnings.append(
            f"{len(unreadable)} run folders could not be read and were left out: {listed}"
        )
    if duplicates:
        listed = "; ".join(f"{d['run']} (same as {d['same_as']})" for d in duplicates)
        warnings.append(
            f"{len(duplicates)} runs were found more than once (same config and seed) and "
            f"counted once: {listed}"
        )
    pooled, pooling_warnings = _pooling(runs, params)
    warnings += pooling_warnings
    agg = Aggregate(
        runs.drop(columns="_folder"),
        params,
        skipped_frame,
        pd.DataFrame(duplicates, columns=["run", "same_as", "config_hash", "seed"]),
        warnings,
        pooled,
        timeseries_file=sink.files.get("parquet"),
    )
    if series is not None:
        agg.timeseries = series
    elif not timeseries:
        agg.timeseries = pd.DataFrame()
    return agg


# ------------------------------------------------------------------ labels


def group_label(frame: pd.DataFrame, params: list[str]) -> pd.Series:
    """One label per row naming its scenario and swept parameters (the seed left out).

    Labels are built once per distinct combination and spread to the rows, so a long table
    of many runs costs little.
    """
    if frame.empty:
        return pd.Series(dtype=str)
    cols = ["scenario", *params]
    ids = frame.groupby(cols, sort=False, dropna=False).ngroup().to_numpy()
    distinct = frame[cols].iloc[pd.Series(ids).drop_duplicates().index]
    order = ids[pd.Series(ids).drop_duplicates().index]

    def text(v: Any) -> str:
        return "-" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)

    shown = [p for p in params if distinct[p].map(text).nunique() > 1]
    labels = [
        ", ".join([str(row["scenario"]), *(f"{p}={text(row[p])}" for p in shown)])
        for _, row in distinct.iterrows()
    ]
    by_id = np.empty(len(labels), dtype=object)
    by_id[order] = labels
    return pd.Series(by_id[ids], index=frame.index)


def mathtext_safe(text: str) -> str:
    """``text`` with every ``$`` escaped, so matplotlib draws it as written, never as math."""
    return str(text).replace("\\$", "$").replace("$", "\\$")


def map_text(frame: pd.DataFrame, change: Callable[[str], str]) -> pd.DataFrame:
    """A copy of ``frame`` with ``change`` applied to every text cell and to its ``attrs``
    (text values and lists of texts), e.g. the reference group's name."""
    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
            frame[col] = frame[col].map(lambda v: change(v) if isinstance(v, str) else v)

    def fix(value: Any) -> Any:
        if isinstance(value, str):
            return change(value)
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    frame.attrs = {k: fix(v) for k, v in frame.attrs.items()}
    return frame


def escape_labels(agg: Aggregate, escape: Callable[[str], str] = mathtext_safe) -> Aggregate:
    """A copy of ``agg`` whose text columns (run, scenario, text parameters) are escaped for
    matplotlib; ``agg`` itself is unchanged (the report shows the text as written)."""

    def fix(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        for col in ["run", "scenario", *agg.params]:
            if col in frame and (
                frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col])
            ):
                frame[col] = frame[col].map(lambda v: escape(v) if isinstance(v, str) else v)
        return frame

    out = Aggregate(
        fix(agg.runs),
        agg.params,
        agg.skipped,
        agg.duplicates,
        agg.warnings,
        agg.pooled,
    )
    out.timeseries = fix(agg.timeseries)
    return out


def has_dollar(agg: Aggregate) -> bool:
    """True when a label column of the runs table contains ``$``."""
    for col in ["run", "scenario", *agg.params]:
        if (
            col in agg.runs
            and agg.runs[col].map(lambda v: "$" in v if isinstance(v, str) else False).any()
        ):
            return True
    return False
