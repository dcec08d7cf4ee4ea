"""Reading run folders without trusting them: what a folder holds can never crash a reader.

A run folder is any folder holding ``status.json`` or ``summary.json``. Its files are read
only if they are regular files inside the folder (a link pointing elsewhere is refused),
of bounded size, UTF-8, and of the expected shape; anything else raises :class:`Unreadable`
with the reason, and the caller lists the folder instead of using it. Links to folders are
not followed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from sim.sweep.jobs import STATUS_FILE, SUMMARY_FILE

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml is usually present
    from yaml import SafeLoader as _Loader

OVERRIDES_FILE = ".hydra/overrides.yaml"
MARKERS = (STATUS_FILE, SUMMARY_FILE)
IGNORED_OVERRIDES = ("hydra.", "sweep", "output.")
PRUNED_FOLDERS = ("comparison", "plots", ".hydra")
KNOWN_STATUSES = ("ok", "running", "failed", "refused", "skipped")
UNREADABLE = "unreadable"
MAX_JSON_BYTES = 10_000_000


class Unreadable(ValueError):
    """A run folder whose files cannot be taken as a result; the message says why."""


def read_inside(folder: Path, name: str, limit: int) -> bytes | None:
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
    raw = read_inside(folder, name, MAX_JSON_BYTES)
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


def read_rows(folders: list[Path], base: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every folder's row, read in a few threads; unreadable folders as separate rows."""
    rows, skipped = [], []
    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 1) * 2)) as pool:
        for folder, outcome in zip(
            folders, pool.map(_try_read_run, folders, [base] * len(folders)), strict=True
        ):
            if isinstance(outcome, Unreadable):
                skipped.append(skip_row(folder, base, str(outcome)))
            else:
                rows.append(outcome)
    return rows, skipped


def _try_read_run(folder: Path, base: Path) -> dict[str, Any] | Unreadable:
    try:
        return read_run(folder, base)
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
