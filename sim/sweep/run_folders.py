"""Reading run folders without trusting them: what a folder holds can never crash a reader.

A run folder is any folder holding ``status.json`` or ``summary.json``. Its files are read
only if they are regular files inside the folder (a link pointing elsewhere is refused),
of bounded size, UTF-8, and of the expected shape; anything else raises :class:`Unreadable`
with the reason, and the caller lists the folder instead of using it. Links to folders are
not followed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sim.sweep.job_part import PART_FILE, PartRun, part_index, still_matches
from sim.sweep.jobs import STATUS_FILE, SUMMARY_FILE
from sim.sweep.samples import SAMPLE, split_draws

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml is usually present
    from yaml import SafeLoader as _Loader

OVERRIDES_FILE = ".hydra/overrides.yaml"
TIMESERIES_FILE = "timeseries.csv"  # as sim.sweep.long_table reads it (which imports this module)
MARKERS = (STATUS_FILE, SUMMARY_FILE)
#: Overrides that never make a group: Hydra's own, ready-made sweeps, output switches, and
#: the ``+uncertainty=lhs`` choice (its draws are told apart by :mod:`sim.sweep.samples`).
IGNORED_OVERRIDES = ("hydra.", "sweep", "output.", "uncertainty")
PRUNED_FOLDERS = ("comparison", "plots", ".hydra")
KNOWN_STATUSES = ("ok", "running", "failed", "refused", "skipped")
UNREADABLE = "unreadable"
MAX_JSON_BYTES = 10_000_000
READ_BATCH = 64


class Unreadable(ValueError):
    """A run folder whose files cannot be taken as a result; the message says why."""


def _inside(folder: Path, name: str) -> Path | None:
    """``folder/name``, None when absent; refuses a link out of the folder and anything but
    a regular file."""
    path = folder / name
    if not os.path.lexists(path):
        return None
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(folder.resolve()):
            raise Unreadable(f"{name} is a link to {target}, outside its run folder")
    if not path.is_file():
        raise Unreadable(f"{name} is not a regular file")
    return path


def read_inside(folder: Path, name: str, limit: int) -> bytes | None:
    """The bytes of ``folder/name``, None when absent; refuses what :func:`_inside` refuses
    and files over ``limit`` bytes."""
    path = _inside(folder, name)
    if path is None:
        return None
    if path.stat().st_size > limit:
        raise Unreadable(f"{name} is larger than {limit:,} bytes")
    try:
        return path.read_bytes()
    except OSError as e:
        raise Unreadable(f"{name} cannot be read: {e.strerror or e}") from None


def _read_json_object(folder: Path, name: str) -> dict[str, Any] | None:
    return _json_object(read_inside(folder, name, MAX_JSON_BYTES), name)


def _json_object(raw: bytes | None, name: str) -> dict[str, Any] | None:
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


def results_problem(folder: Path) -> str | None:
    """Why the results of ``folder`` cannot be used, or None when they look intact: its
    ``summary.json`` must read as a summary (:func:`read_run`'s checks) and its
    ``timeseries.csv`` must be a non-empty regular file. Cheap enough for a resume over
    thousands of runs: the time series is not read."""
    try:
        summary = _read_json_object(folder, SUMMARY_FILE)
        if summary is None:
            return f"no {SUMMARY_FILE}"
        _check_summary(summary)
        series = read_inside_size(folder, TIMESERIES_FILE)
    except Unreadable as e:
        return str(e)
    if series is None:
        return f"no {TIMESERIES_FILE}"
    if series == 0:
        return f"{TIMESERIES_FILE} is empty"
    return None


def read_inside_size(folder: Path, name: str) -> int | None:
    """The size of ``folder/name``, None when absent; refuses what :func:`_inside` refuses,
    without reading the file."""
    path = _inside(folder, name)
    return None if path is None else path.stat().st_size


@functools.lru_cache(maxsize=4096)
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
        read_inside(folder, OVERRIDES_FILE, MAX_JSON_BYTES)
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


def read_run(folder: Path, base: Path, part: PartRun | None = None) -> dict[str, Any]:
    """One row of the runs table from a run folder, or from its job's part when ``part`` is
    given (its files unchanged since); raises :class:`Unreadable`."""
    if part is not None:
        status = _json_object(_encoded(part.status_text), STATUS_FILE)
        summary = _json_object(_encoded(part.summary_text), SUMMARY_FILE)
    else:
        status = _read_json_object(folder, STATUS_FILE)
        summary = _read_json_object(folder, SUMMARY_FILE)
    if status is not None:
        _check_status(status)
    if summary is not None:
        _check_summary(summary)
    sample, draws, params = split_draws(folder, parse_overrides(_overrides(folder, status)))
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
    if sample is not None:
        row[SAMPLE] = sample
        row.update(draws)
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
        if part is not None and part.rows:
            row["_part"] = (part.part, part.offset, part.rows)
    row["_folder"] = str(folder)
    return row


def _encoded(text: str | None) -> bytes | None:
    return None if text is None else text.encode("utf-8", errors="surrogateescape")


@dataclass
class Found:
    """What a walk over the input folders found: run folders, linked folders that were not
    followed (with the reason), and jobs' Parquet parts."""

    folders: list[Path]
    links: list[tuple[Path, str]]
    parts: list[Path]


def find_run_folders(paths: Iterable[Path]) -> list[Path]:
    """Every folder under ``paths`` that holds a run (a status or summary file), sorted.

    Links to folders are not followed (see :func:`discover` for the ones left out).
    """
    return discover(paths).folders


def _run_folders(path: Path, links: list[tuple[Path, str]]) -> Iterator[tuple[Path, list[str]]]:
    """The run folders under ``path`` with their file names, as the walk meets them; linked
    run folders are not followed but added to ``links``."""
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
            yield here, files


def discover(paths: Iterable[Path]) -> Found:
    """Walk ``paths``: run folders, linked run folders not followed, and job parts."""
    found: set[Path] = set()
    links: list[tuple[Path, str]] = []
    parts: list[Path] = []
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"no such run or sweep folder: {path}")
        for here, files in _run_folders(path, links):
            found.add(here)
            if PART_FILE in files:
                parts.append(here / PART_FILE)
    return Found(sorted(found), links, sorted(parts))


def holds_a_run(path: Path) -> bool:
    """Whether :func:`discover` would find a run folder under ``path`` (stops at the first)."""
    return next(_run_folders(Path(path), []), None) is not None


def read_rows(
    folders: list[Path], base: Path, parts: list[Path] = ()
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every folder's row, from its job's part when the run is unchanged since the part was
    written, else from its files (read in a few threads); unreadable folders as their own
    rows."""
    index = part_index(list(parts))
    batches = [folders[i : i + READ_BATCH] for i in range(0, len(folders), READ_BATCH)]
    rows, skipped = [], []
    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 1) * 2)) as pool:
        outcomes = pool.map(
            lambda batch: [_try_read_run(f, base, index.get(f)) for f in batch], batches
        )
        for batch, results in zip(batches, outcomes, strict=True):
            for folder, outcome in zip(batch, results, strict=True):
                if isinstance(outcome, Unreadable):
                    skipped.append(skip_row(folder, base, str(outcome)))
                else:
                    rows.append(outcome)
    return rows, skipped


def _try_read_run(folder: Path, base: Path, part: PartRun | None) -> dict[str, Any] | Unreadable:
    if part is not None and not still_matches(part):
        part = None
    try:
        return read_run(folder, base, part)
    except Unreadable as e:
        return e


def skip_row(folder: Path, base: Path, reason: str) -> dict[str, Any]:
    """The runs-table row of a folder left out: status ``unreadable`` and the reason."""
    return {
        "run": _run_name(folder, base) if folder.is_relative_to(base) else str(folder),
        "status": UNREADABLE,
        "error": reason,
        "_folder": str(folder),
    }
