"""One Parquet file per sweep job: its runs' records and monthly tables in one place.

A sweep job that runs several seeds (:func:`sim.sweep.jobs.run_replications`) ends by writing
``job.parquet`` into its own folder (the folder of its first seed): the monthly records of all
its successful runs, one after another, and in the file's metadata, for every run of the job,
the text of its ``status.json`` and ``summary.json``, where its rows are, and the size and
modification time of each of its files. Aggregation then reads one file per job instead of
three per run: on a cluster's shared filesystem, thousands of small reads become a few large
ones. A run whose files changed after the job wrote its part (resumed, re-run, edited) no
longer matches and is read from its own folder, so the part can never hide newer results.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PART_FILE = "job.parquet"
META_KEY = b"sim.job_runs"
TRACKED_FILES = ("status.json", "summary.json", "timeseries.csv")
MAX_PART_BYTES = 2_000_000_000


@dataclass(frozen=True)
class PartRun:
    """What a job's part says about one of its runs."""

    part: Path
    folder: Path
    files: dict[str, list[int]]
    status_text: str | None
    summary_text: str | None
    offset: int
    rows: int


def file_stamps(folder: Path) -> dict[str, list[int]]:
    """``{name: [size, mtime_ns]}`` of the tracked files present in ``folder``."""
    stamps = {}
    for name in TRACKED_FILES:
        try:
            st = os.stat(folder / name, follow_symlinks=False)
        except OSError:
            continue
        stamps[name] = [st.st_size, st.st_mtime_ns]
    return stamps


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def write_part(job_dir: Path, runs: list[tuple[Path, Any]]) -> Path | None:
    """Write ``job_dir/job.parquet`` for ``runs`` (each a run folder and its ``RunResult``, or
    None when it did not produce one). Returns the file, or None when there is no run."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.results import atomic_write

    entries, tables, offset = [], [], 0
    for folder, result in runs:
        rows = 0
        if result is not None:
            table = pa.Table.from_pandas(result.timeseries, preserve_index=False)
            tables.append(table)
            rows = table.num_rows
        entries.append(
            {
                "folder": folder.name,
                "files": file_stamps(folder),
                "status": _text(folder / "status.json"),
                "summary": _text(folder / "summary.json"),
                "offset": offset,
                "rows": rows,
            }
        )
        offset += rows
    if not entries:
        return None
    table = (
        pa.concat_tables(tables, promote_options="permissive")
        if tables
        else pa.table({"month": pa.array([], pa.int64())})
    )
    table = table.replace_schema_metadata({META_KEY: json.dumps(entries).encode()})
    return atomic_write(job_dir / PART_FILE, lambda tmp: pq.write_table(table, tmp))


def read_part_index(part: Path) -> list[PartRun]:
    """The runs a part describes; an empty list when the file is not a readable part.

    Only run folders beside the part's own folder are accepted (names like ``seed=N``), and
    the part must be a regular file inside its folder, so a part cannot point elsewhere.
    """
    import pyarrow.parquet as pq

    try:
        if part.is_symlink() or not part.is_file() or part.stat().st_size > MAX_PART_BYTES:
            return []
        meta = pq.read_schema(part).metadata or {}
        entries = json.loads(meta.get(META_KEY, b"[]").decode("utf-8"))
    except Exception:  # a damaged part is ignored: the runs are read from their folders
        return []
    out = []
    if not isinstance(entries, list):
        return []
    for e in entries:
        try:
            name = e["folder"]
            if not isinstance(name, str) or "/" in name or "\\" in name or name in ("", ".", ".."):
                continue
            files = {str(k): [int(v[0]), int(v[1])] for k, v in dict(e["files"]).items()}
            out.append(
                PartRun(
                    part,
                    part.parent.parent / name,
                    files,
                    e.get("status") if isinstance(e.get("status"), str) else None,
                    e.get("summary") if isinstance(e.get("summary"), str) else None,
                    int(e["offset"]),
                    int(e["rows"]),
                )
            )
        except (KeyError, TypeError, ValueError, IndexError):
            continue
    return out


def part_index(parts: list[Path]) -> dict[Path, PartRun]:
    """Run folder -> what the most recent part says about it, over every part found."""
    index: dict[Path, PartRun] = {}
    stamped = []
    for part in parts:
        try:
            stamped.append((part.stat().st_mtime_ns, part))
        except OSError:
            continue
    for _, part in sorted(stamped):
        for run in read_part_index(part):
            index[run.folder] = run
    return index


def still_matches(run: PartRun) -> bool:
    """True when the run's files are exactly those the part recorded."""
    return file_stamps(run.folder) == run.files
