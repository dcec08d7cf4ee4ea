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

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.sweep.jobs import STATUS_FILE, SUMMARY_FILE

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml is usually present
    from yaml import SafeLoader as _Loader

log = logging.getLogger("sim.compare")

ID_COLUMNS = ("run", "status", "scenario", "seed")
TIMESERIES_FILE = "timeseries.csv"
OVERRIDES_FILE = ".hydra/overrides.yaml"
MARKERS = (STATUS_FILE, SUMMARY_FILE)
IGNORED_OVERRIDES = ("hydra.", "sweep", "output.")
PRUNED_FOLDERS = ("comparison", "plots", ".hydra")
KNOWN_STATUSES = ("ok", "running", "failed", "refused", "skipped")
UNREADABLE, DUPLICATE = "unreadable", "duplicate"
MAX_JSON_BYTES = 10_000_000
MAX_CSV_BYTES = 500_000_000
CHUNK_RUNS = 256
SIZE_KEYS = ("customers_n", "horizon")


class Unreadable(ValueError):
    """A run folder whose files cannot be taken as a result; the message says why."""


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
        ids = ["run", "scenario", "seed", *self.params, "month"]
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


# ------------------------------------------------------------------ reading one folder


def _read_inside(folder: Path, name: str, limit: int) -> bytes | None:
    """The bytes of ``folder/name``, None when absent; refuses links out of the folder,
    anything but a regular file, and files over ``limit`` bytes."""
    path = folder / name
    if not os.path.lexists(path):
        return None
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(folder.resolve()):
            raise Unreadable(f"{name} is a link to {target}, outside its run folder")
    if not path.is_file():
        raise Unreadable(f"{name} is not a regular file")
    if path.stat().st_size > limit:
        raise Unreadable(f"{name} is larger than {limit:,} bytes")
    try:
        return path.read_bytes()
    except OSError as e:
        raise Unreadable(f"{name} cannot be read: {e.strerror or e}") from None


def _read_json_object(folder: Path, name: str) -> dict[str, Any] | None:
    raw = _read_inside(folder, name, MAX_JSON_BYTES)
    if raw is None:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise Unreadable(f"{name} is not UTF-8 text") from None
    except ValueError as e:
        raise Unreadable(f"{name} is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise Unreadable(f"{name} is not a JSON object (found {type(data).__name__})")
    return data


def _is_metric(key: str) -> bool:
    from sim.metrics import metric

    try:
        metric(key)
    except KeyError:
        return False
    return True


def _check_summary(summary: dict[str, Any]) -> None:
    for key, kind in (("seed", int), ("scenario", str)):
        if key not in summary:
            raise Unreadable(f"summary.json has no {key!r}")
        value = summary[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise Unreadable(f"summary.json: {key} = {value!r} is not a {kind.__name__}")
    for key, value in summary.items():
        if value is None or not _is_metric(key):
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Unreadable(f"summary.json: {key} = {value!r} is not a number")


def _check_status(status: dict[str, Any]) -> None:
    state = status.get("status")
    if state not in KNOWN_STATUSES:
        raise Unreadable(f"status.json: status = {state!r}, expected one of {KNOWN_STATUSES}")
    overrides = status.get("overrides", [])
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        raise Unreadable("status.json: overrides is not a list of strings")


def _parse_value(text: str) -> Any:
    """A scalar override value as a number, bool or string; lists and maps stay as their text."""
    try:
        value = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:
        return text
    if isinstance(value, list | dict):
        return text
    if isinstance(value, str):
        try:
            return float(value)  # YAML 1.1 reads 1e6 as a string
        except ValueError:
            return value
    if value is not None and not isinstance(value, bool | int | float):
        return text  # dates and other YAML types stay as written
    return value


def parse_overrides(overrides: Iterable[str]) -> dict[str, Any]:
    """``["+a.b=1", "scenario=x"]`` to ``{"a.b": 1, "scenario": "x"}``, Hydra's own keys left out."""
    out: dict[str, Any] = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        key = key.lstrip("+~")
        if not sep or key.startswith(IGNORED_OVERRIDES):
            continue
        out[key] = _parse_value(value)
    return out


def _overrides(folder: Path, status: dict[str, Any] | None) -> list[str]:
    if status and status.get("overrides"):
        return list(status["overrides"])
    raw = (
        _read_inside(folder, OVERRIDES_FILE, MAX_JSON_BYTES)
        if (folder / ".hydra").is_dir()
        else None
    )
    if raw is None:
        return []
    try:
        items = yaml.load(raw.decode("utf-8"), Loader=_Loader) or []
    except (UnicodeDecodeError, yaml.YAMLError):
        raise Unreadable(f"{OVERRIDES_FILE} is not readable YAML") from None
    if not isinstance(items, list):
        raise Unreadable(f"{OVERRIDES_FILE} is not a list")
    return [str(i) for i in items]


def _run_name(folder: Path, base: Path) -> str:
    return str(folder.relative_to(base)) if folder != base else "."


def read_run(folder: Path, base: Path) -> dict[str, Any]:
    """One row of the runs table from a run folder; raises :class:`Unreadable`."""
    status = _read_json_object(folder, STATUS_FILE)
    if status is not None:
        _check_status(status)
    summary = _read_json_object(folder, SUMMARY_FILE)
    if summary is not None:
        _check_summary(summary)
    params = parse_overrides(_overrides(folder, status))
    if summary is not None and (status is None or status.get("status") in ("ok", "running")):
        state = "ok" if status is None or status.get("status") == "ok" else "incomplete"
    elif status is not None and status.get("status") in ("failed", "refused"):
        state = status["status"]
    else:
        state = "incomplete"
    if state != "ok":
        summary = None
    row: dict[str, Any] = {
        "run": _run_name(folder, base),
        "status": state,
        "scenario": (summary or {}).get("scenario", params.get("scenario", "baseline")),
        "seed": (summary or {}).get("seed", params.get("seed", 0)),
        "error": str((status or {}).get("error", "")) if state != "ok" else "",
        "seconds": (status or {}).get("seconds"),
        "config_hash": (status or {}).get("config_hash") or None,
        "code_version": (status or {}).get("code_version") or None,
    }
    row.update({f"param:{k}": v for k, v in params.items() if k not in ("scenario", "seed")})
    if summary:
        row.update(
            {
                k: v
                for k, v in summary.items()
                if k not in row and f"param:{k}" not in row and not isinstance(v, list | dict)
            }
        )
        row["_summary_digest"] = hashlib.sha256(
            json.dumps(summary, sort_keys=True).encode()
        ).hexdigest()
    row["_folder"] = str(folder)
    return row


# ------------------------------------------------------------------ finding folders


def find_run_folders(paths: Iterable[Path]) -> list[Path]:
    """Every folder under ``paths`` that holds a run (a status or summary file), sorted.

    Links to folders are not followed (see :func:`discover` for the ones left out).
    """
    return discover(paths)[0]


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Run folders under ``paths``, and the linked folders holding a run that were not
    followed (with the reason)."""
    found: set[Path] = set()
    links: list[tuple[Path, str]] = []
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"no such run or sweep folder: {path}")
        for root, dirs, files in os.walk(path):
            here = Path(root)
            kept = []
            for d in dirs:
                if d in PRUNED_FOLDERS:
                    continue
                if (here / d).is_symlink():
                    if any((here / d / m).exists() for m in MARKERS):
                        links.append((here / d, "a link to a folder elsewhere; not followed"))
                    continue
                kept.append(d)
            dirs[:] = kept
            if any(m in files for m in MARKERS):
                found.add(here)
    return sorted(found), links


# ------------------------------------------------------------------ the runs table


def _read_rows(
    folders: list[Path], base: Path
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows, skipped = [], []
    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 1) * 2)) as pool:
        for folder, outcome in zip(
            folders, pool.map(_try_read_run, folders, [base] * len(folders)), strict=True
        ):
            if isinstance(outcome, Unreadable):
                skipped.append(_skip_row(folder, base, str(outcome)))
            else:
                rows.append(outcome)
    return rows, skipped


def _try_read_run(folder: Path, base: Path) -> dict[str, Any] | Unreadable:
    try:
        return read_run(folder, base)
    except Unreadable as e:
        return e


def _skip_row(folder: Path, base: Path, reason: str) -> dict[str, Any]:
    return {
        "run": _run_name(folder, base) if folder.is_relative_to(base) else str(folder),
        "status": UNREADABLE,
        "error": reason,
        "_folder": str(folder),
    }


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
    runs = runs.drop(columns=[c for c in runs if c == "_summary_digest"])
    param_cols = sorted(c for c in runs.columns if c.startswith("param:"))
    params = [c.removeprefix("param:") for c in param_cols]
    for col, name in zip(param_cols, params, strict=True):
        # A swept key that is also a summary key (horizon, say): one column, either source.
        runs[name] = runs[col].combine_first(runs[name]) if name in runs else runs[col]
        runs = runs.drop(columns=col)
    front = [*ID_COLUMNS, *params, "error", "seconds", "config_hash", "code_version"]
    runs = runs[[c for c in front if c in runs] + [c for c in runs if c not in front]]
    for col in ["seed", *params]:
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


# ------------------------------------------------------------------ the long table


def _arrow_type(values: list[Any]) -> Any:
    """One Arrow type for an identifying column: int, float, bool or (otherwise) string."""
    import pyarrow as pa

    present = [v for v in values if v is not None and not (isinstance(v, float) and np.isnan(v))]
    if present and all(isinstance(v, bool) for v in present):
        return pa.bool_()
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.int64()
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pa.float64()
    return pa.string()


def _arrow_value(value: Any, kind: Any) -> Any:
    import pyarrow as pa

    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if kind == pa.string():
        return str(value)
    return value


def _read_csv(file: Path, folder: Path) -> Any:
    """A run's ``timeseries.csv`` as an Arrow table; raises :class:`Unreadable`."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    raw = _read_inside(folder, file.name, MAX_CSV_BYTES)
    if raw is None:
        raise Unreadable(f"{file.name} is missing")
    try:
        table = pacsv.read_csv(
            pa.BufferReader(raw), read_options=pacsv.ReadOptions(use_threads=False)
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as e:
        raise Unreadable(f"{file.name} is not a readable CSV table ({e})") from None
    if "month" not in table.column_names:
        raise Unreadable(f"{file.name} has no 'month' column")
    return table


def _conform(table: Any, schema: Any, name: str) -> Any:
    """``table`` with exactly ``schema``'s columns and types (missing ones null)."""
    import pyarrow as pa

    columns = []
    for fld in schema:
        if fld.name in table.column_names:
            column = table.column(fld.name)
            try:
                columns.append(column.cast(fld.type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise Unreadable(
                    f"{name}: column {fld.name!r} holds {column.type}, expected numbers"
                ) from None
        else:
            columns.append(pa.nulls(table.num_rows, type=fld.type))
    return pa.Table.from_arrays(columns, schema=schema)


class _Sink:
    """Where the long table goes: Parquet and CSV files (streamed), or memory."""

    def __init__(self, store: Path | None) -> None:
        self.store = store
        self.tables: list[Any] = []
        self.writers: list[Any] = []
        self.files: dict[str, Path] = {}
        self.tmp: dict[str, Path] = {}

    def write(self, table: Any) -> None:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        if self.store is None:
            self.tables.append(table)
            return
        if not self.writers:
            from sim.results import TEMP_SUFFIX

            self.store.mkdir(parents=True, exist_ok=True)
            for fmt in ("parquet", "csv"):
                final = self.store / f"timeseries.{fmt}"
                self.files[fmt] = final
                self.tmp[fmt] = final.with_name(f".{final.name}.partial{TEMP_SUFFIX}")
            self.writers = [
                pq.ParquetWriter(self.tmp["parquet"], table.schema),
                pacsv.CSVWriter(self.tmp["csv"], table.schema),
            ]
        for writer in self.writers:
            writer.write_table(table)

    def finish(self, schema: Any) -> pd.DataFrame | None:
        """Close the files and move them into place; the in-memory table when not stored."""
        import pyarrow as pa

        if self.store is None:
            table = pa.concat_tables(self.tables) if self.tables else schema.empty_table()
            return table.to_pandas()
        if not self.writers:
            self.write(schema.empty_table())
        for writer in self.writers:
            writer.close()
        for fmt, final in self.files.items():
            os.replace(self.tmp[fmt], final)
        return None

    def abort(self) -> None:
        for writer in self.writers:
            with contextlib.suppress(Exception):  # a half-written file after an error
                writer.close()
        for tmp in self.tmp.values():
            tmp.unlink(missing_ok=True)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _stream_timeseries(
    rows: list[dict[str, Any]], params: list[str], sink: _Sink
) -> tuple[Any, list[tuple[dict[str, Any], str]]]:
    """Read every successful run's time series, a chunk at a time, into ``sink``.

    Returns the table's schema and the runs whose CSV could not be read, with the reason.
    """
    import pyarrow as pa

    ok = [r for r in rows if r["status"] == "ok"]
    ids = ["run", "scenario", "seed", *params]
    id_types = {c: _arrow_type([_id_value(r, c) for r in ok]) for c in ids}
    id_types["run"] = id_types["scenario"] = pa.string()
    schema: Any = None
    bad: list[tuple[dict[str, Any], str]] = []

    def load(row: dict[str, Any]) -> Any:
        folder = Path(row["_folder"])
        try:
            return _read_csv(folder / TIMESERIES_FILE, folder)
        except Unreadable as e:
            return e

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for chunk in _chunks(ok, CHUNK_RUNS):
            pieces = []
            for row, table in zip(chunk, pool.map(load, chunk), strict=True):
                if isinstance(table, Unreadable):
                    bad.append((row, str(table)))
                    continue
                if schema is None:
                    schema = _schema(table, ids, id_types)
                try:
                    body = _conform(table, _body_schema(schema, ids), TIMESERIES_FILE)
                    _check_length(body, row)
                except Unreadable as e:
                    bad.append((row, str(e)))
                    continue
                n = body.num_rows
                id_arrays = [
                    pa.array([_arrow_value(_id_value(row, c), id_types[c])] * n, type=id_types[c])
                    for c in ids
                ]
                pieces.append(pa.Table.from_arrays([*id_arrays, *body.columns], schema=schema))
            if pieces:
                sink.write(pa.concat_tables(pieces))
    if schema is None:
        schema = pa.schema(
            [pa.field(c, id_types.get(c, pa.string())) for c in ids]
            + [pa.field("month", pa.int64())]
        )
    return schema, bad


def _schema(table: Any, ids: list[str], id_types: dict[str, Any]) -> Any:
    """The long table's schema: the identifying columns, ``month`` as integer, then every
    column of the first readable run (numbers as float64, other types as they are)."""
    import pyarrow as pa

    fields = [pa.field(c, id_types[c]) for c in ids] + [pa.field("month", pa.int64())]
    for fld in table.schema:
        if fld.name == "month" or fld.name in ids:
            continue
        numeric = pa.types.is_integer(fld.type) or pa.types.is_floating(fld.type)
        is_null = pa.types.is_null(fld.type)
        fields.append(pa.field(fld.name, pa.float64() if numeric or is_null else fld.type))
    return pa.schema(fields)


def _body_schema(schema: Any, ids: list[str]) -> Any:
    import pyarrow as pa

    return pa.schema([f for f in schema if f.name not in ids])


def _id_value(row: dict[str, Any], column: str) -> Any:
    """A run's value of an identifying column: its override, else its summary's."""
    value = row.get(f"param:{column}")
    return row.get(column) if value is None else value


def _check_length(body: Any, row: dict[str, Any]) -> None:
    horizon = _id_value(row, "horizon")
    if isinstance(horizon, int) and body.num_rows != horizon:
        raise Unreadable(
            f"{TIMESERIES_FILE} has {body.num_rows} rows, the run's horizon is {horizon} months"
        )


# ------------------------------------------------------------------ aggregate


def aggregate(
    paths: Iterable[Path], timeseries: bool = True, store: Path | None = None
) -> Aggregate:
    """Collect every run under ``paths`` into the runs table and the long time-series table.

    With ``store``, the long table is streamed to ``store/timeseries.{parquet,csv}`` and read
    back only when used; without, it is built in memory.
    """
    given = [Path(p) for p in paths]
    paths = list(dict.fromkeys(p.resolve() for p in given))
    warnings: list[str] = []
    if len(paths) < len(given):
        warnings.append("A folder was given more than once; it was read once.")
    folders, links = discover(paths)
    base = Path(os.path.commonpath(paths)) if paths else Path.cwd()
    if len(paths) == 1 and paths[0].is_dir() and folders == [paths[0]]:
        base = paths[0].parent
    rows, skipped = _read_rows(folders, base)
    skipped += [_skip_row(link, base, reason) for link, reason in links]
    duplicates = _dedupe(rows)
    _, params = _runs_frame(rows)
    sink = _Sink(store)
    series = None
    if timeseries:
        try:
            schema, bad = _stream_timeseries(rows, params, sink)
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
    """One label per row naming its scenario and swept parameters (the seed left out)."""
    if frame.empty:
        return pd.Series(dtype=str)
    text = {
        p: frame[p].map(
            lambda v: "-" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
        )
        for p in params
    }
    cols = ["scenario", *[p for p in params if text[p].nunique() > 1]]
    parts = [frame["scenario"].map(str)] + [p + "=" + text[p] for p in cols[1:]]
    label = parts[0]
    for part in parts[1:]:
        label = label + ", " + part
    return label


def mathtext_safe(text: str) -> str:
    """``text`` with every ``$`` escaped, so matplotlib draws it as written, never as math."""
    return str(text).replace("\\$", "$").replace("$", "\\$")


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
