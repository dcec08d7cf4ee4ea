"""The long table of monthly records, streamed a chunk of runs at a time.

Every successful run's ``timeseries.csv`` is read with pyarrow (a few files at once),
checked (a ``month`` column, numbers where numbers belong, one row per month of the run's
horizon), given the run's identifying columns and written straight to Parquet and CSV, so
memory holds one chunk of runs rather than the whole table. The columns are those of the
first readable run; a later run missing one gets nulls there.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.sweep.job_part import PART_FILE
from sim.sweep.run_folders import Unreadable, read_inside
from sim.sweep.samples import SAMPLE

TIMESERIES_FILE = "timeseries.csv"
MAX_CSV_BYTES = 500_000_000
CHUNK_RUNS = 256
CSV_BATCH = 16


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


def _read_csv(folder: Path, types: dict[str, Any] | None = None) -> Any:
    """A run's ``timeseries.csv`` as an Arrow table (columns parsed as ``types`` where given);
    raises :class:`Unreadable`."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    raw = read_inside(folder, TIMESERIES_FILE, MAX_CSV_BYTES)
    if raw is None:
        raise Unreadable(f"{TIMESERIES_FILE} is missing")
    try:
        table = pacsv.read_csv(
            pa.BufferReader(raw),
            read_options=pacsv.ReadOptions(use_threads=False),
            convert_options=pacsv.ConvertOptions(column_types=types or {}),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as e:
        raise Unreadable(f"{TIMESERIES_FILE} is not a readable CSV table ({e})") from None
    if "month" not in table.column_names:
        raise Unreadable(f"{TIMESERIES_FILE} has no 'month' column")
    return table


def _conform(table: Any, schema: Any, name: str) -> Any:
    """``table`` with exactly ``schema``'s columns and types (missing ones null)."""
    import pyarrow as pa

    if table.schema.equals(schema):
        return table
    present = [f for f in schema if f.name in table.column_names]
    try:
        sub = table.select([f.name for f in present]).cast(pa.schema(present))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        for fld in present:
            column = table.column(fld.name)
            try:
                column.cast(fld.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise Unreadable(
                    f"{name}: column {fld.name!r} holds {column.type}, expected numbers"
                ) from None
        raise
    if len(present) == len(schema):
        return sub
    columns = [
        sub.column(f.name) if f.name in sub.column_names else pa.nulls(sub.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


class Sink:
    """Where the long table goes: Parquet and CSV files, or memory.

    The files are written by a background thread (pyarrow formats and compresses without
    holding Python's lock) while the next chunk is read; at most two chunks wait for it.
    """

    def __init__(self, store: Path | None) -> None:
        self.store = store
        self.tables: list[Any] = []
        self.writers: list[Any] = []
        self.files: dict[str, Path] = {}
        self.tmp: dict[str, Path] = {}
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=2)
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def write(self, table: Any) -> None:
        """Add ``table`` (the next rows of the long table)."""
        if self.store is None:
            self.tables.append(table)
            return
        if self.thread is None:
            self._open(table.schema)
        if self.error is not None:
            raise self.error
        self.queue.put(table)

    def _open(self, schema: Any) -> None:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        from sim.results import TEMP_SUFFIX

        self.store.mkdir(parents=True, exist_ok=True)
        for fmt in ("parquet", "csv"):
            final = self.store / f"timeseries.{fmt}"
            self.files[fmt] = final
            self.tmp[fmt] = final.with_name(f".{final.name}.partial{TEMP_SUFFIX}")
        self.writers = [
            pq.ParquetWriter(self.tmp["parquet"], schema),
            pacsv.CSVWriter(self.tmp["csv"], schema),
        ]
        self.thread = threading.Thread(target=self._drain, name="long-table-writer", daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        while (table := self.queue.get()) is not None:
            if self.error is not None:
                continue
            try:
                for writer in self.writers:
                    writer.write_table(table)
            except BaseException as e:  # handed to the reading thread
                self.error = e

    def _stop(self) -> None:
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            self.thread = None

    def finish(self, schema: Any) -> pd.DataFrame | None:
        """Close the files and move them into place; the in-memory table when not stored."""
        import pyarrow as pa

        if self.store is None:
            table = pa.concat_tables(self.tables) if self.tables else schema.empty_table()
            return table.to_pandas()
        if self.thread is None:
            self.write(schema.empty_table())
        self._stop()
        if self.error is not None:
            raise self.error
        for writer in self.writers:
            writer.close()
        for fmt, final in self.files.items():
            os.replace(self.tmp[fmt], final)
        return None

    def abort(self) -> None:
        """Stop writing and delete the unfinished files."""
        with contextlib.suppress(Exception):
            self._stop()
        for writer in self.writers:
            with contextlib.suppress(Exception):  # a half-written file after an error
                writer.close()
        for tmp in self.tmp.values():
            tmp.unlink(missing_ok=True)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def stream_timeseries(
    rows: list[dict[str, Any]], params: list[str], sink: Sink
) -> tuple[Any, list[tuple[dict[str, Any], str]]]:
    """Read every successful run's time series, a chunk at a time, into ``sink``.

    Returns the table's schema and the runs whose CSV could not be read, with the reason.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    ok = [r for r in rows if r["status"] == "ok"]
    sampled = [SAMPLE] if any(SAMPLE in r for r in ok) else []
    ids = ["run", "scenario", *sampled, "seed", *params]
    id_types = {c: _arrow_type([id_value(r, c) for r in ok]) for c in ids}
    id_types["run"] = id_types["scenario"] = pa.string()
    schema: Any = None
    types: dict[str, Any] = {}
    bad: list[tuple[dict[str, Any], str]] = []

    ok.sort(key=_reading_order)
    parts: dict[Path, Any] = {}

    def from_csv(row: dict[str, Any]) -> Any:
        try:
            return _read_csv(Path(row["_folder"]), types)
        except Unreadable as e:
            return e

    def load(chunk: list[dict[str, Any]], pool: ThreadPoolExecutor) -> list[Any]:
        """Each run's table: a slice of its job's part, else its CSV (read in threads)."""
        out: list[Any] = [_from_part(row, parts) for row in chunk]
        todo = [i for i, table in enumerate(out) if table is None]
        batches = [todo[j : j + CSV_BATCH] for j in range(0, len(todo), CSV_BATCH)]
        read = pool.map(lambda batch: [from_csv(chunk[i]) for i in batch], batches)
        for batch, tables in zip(batches, read, strict=True):
            for i, table in zip(batch, tables, strict=True):
                out[i] = table
        return out

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for row in ok:  # the first readable run fixes the columns and their types
            _load_parts(parts, [row], None)
            first = load([row], pool)[0]
            if not isinstance(first, Unreadable):
                schema = _schema(first, ids, id_types)
                types.update({f.name: f.type for f in _body_schema(schema, ids)})
                break
        body_schema = _body_schema(schema, ids) if schema is not None else None
        parts.clear()  # from here on, parts are read once and given the final columns
        for chunk in _chunks(ok, CHUNK_RUNS):
            _load_parts(parts, chunk, body_schema)
            bodies, kept = [], []
            for row, table in zip(chunk, load(chunk, pool), strict=True):
                try:
                    if isinstance(table, Unreadable):
                        raise table
                    body = _conform(table, body_schema, TIMESERIES_FILE)
                    _check_length(body, row)
                except Unreadable as e:
                    bad.append((row, str(e)))
                    continue
                bodies.append(body)
                kept.append(row)
            if not bodies:
                continue
            body = pa.concat_tables(bodies)
            which = pa.array(np.repeat(np.arange(len(kept)), [b.num_rows for b in bodies]))
            id_columns = [
                pc.take(
                    pa.array(
                        [_arrow_value(id_value(r, c), id_types[c]) for r in kept], id_types[c]
                    ),
                    which,
                )
                for c in ids
            ]
            sink.write(pa.Table.from_arrays([*id_columns, *body.columns], schema=schema))
    if schema is None:
        schema = pa.schema(
            [pa.field(c, id_types.get(c, pa.string())) for c in ids]
            + [pa.field("month", pa.int64())]
        )
    return schema, bad


def _reading_order(row: dict[str, Any]) -> tuple[str, int, str]:
    """Runs of one job part together and in the part's order, then the others by folder."""
    where = row.get("_part")
    return (str(where[0]), where[1], "") if where else ("\uffff", 0, row["_folder"])


def _from_part(row: dict[str, Any], parts: dict[Path, Any]) -> Any:
    """The run's rows from its job's part, or None when it has none (or a damaged one)."""
    where = row.get("_part")
    table = parts.get(where[0]) if where is not None else None
    if table is None:
        return None
    piece = table.slice(where[1], where[2])
    return piece if piece.num_rows == where[2] else None


def _load_parts(parts: dict[Path, Any], chunk: list[dict[str, Any]], schema: Any) -> None:
    """Keep in ``parts`` exactly the job parts ``chunk`` needs, given ``schema``'s columns
    when known (None for a damaged part, whose runs are then read from their folders)."""
    import pyarrow.parquet as pq

    needed = {row["_part"][0] for row in chunk if row.get("_part")}
    for path in list(parts):
        if path not in needed:
            del parts[path]
    for path in needed - set(parts):
        try:
            table = pq.read_table(path)
            parts[path] = table if schema is None else _conform(table, schema, PART_FILE)
        except Exception:  # damaged part: fall back to the runs' own files
            parts[path] = None


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


def id_value(row: dict[str, Any], column: str) -> Any:
    """A run's value of an identifying column: its override, else its summary's."""
    value = row.get(f"param:{column}")
    return row.get(column) if value is None else value


def _check_length(body: Any, row: dict[str, Any]) -> None:
    horizon = id_value(row, "horizon")
    if isinstance(horizon, int) and body.num_rows != horizon:
        raise Unreadable(
            f"{TIMESERIES_FILE} has {body.num_rows} rows, the run's horizon is {horizon} months"
        )
