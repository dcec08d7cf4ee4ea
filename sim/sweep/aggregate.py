"""Aggregation: run folders (single runs or sweeps) into two tidy tables.

``runs``: one row per run folder with the swept parameters, scenario, seed, status, error and
every summary metric. ``timeseries``: the monthly records of every successful run, long, with
the same identifying columns. Only ``status.json``, ``summary.json``,
``.hydra/overrides.yaml`` and ``timeseries.csv`` are read; analysis never touches model code,
so it works on any run folder, old or new.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.sweep.jobs import STATUS_FILE

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml is usually present
    from yaml import SafeLoader as _Loader

ID_COLUMNS = ("run", "status", "scenario", "seed")
MARKERS = (STATUS_FILE, "summary.json")
IGNORED_OVERRIDES = ("hydra.", "sweep", "output.")


@dataclass
class Aggregate:
    """The two tidy tables and the names of the swept parameters."""

    runs: pd.DataFrame
    timeseries: pd.DataFrame
    params: list[str]

    @property
    def failed(self) -> pd.DataFrame:
        """Runs that did not finish: failed, refused or incomplete."""
        return self.runs[~self.runs["status"].isin(["ok"])]


def find_run_folders(paths: Iterable[Path]) -> list[Path]:
    """Every folder under ``paths`` that holds a run (a status or summary file), sorted."""
    found: set[Path] = set()
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"no such run or sweep folder: {path}")
        for root, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if d not in ("comparison", "plots", ".hydra")]
            if any(m in files for m in MARKERS):
                found.add(Path(root))
    return sorted(found)


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


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _overrides(folder: Path, status: dict[str, Any] | None) -> list[str]:
    if status and status.get("overrides"):
        return list(status["overrides"])
    file = folder / ".hydra" / "overrides.yaml"
    if file.is_file():
        return list(yaml.load(file.read_text(encoding="utf-8"), Loader=_Loader) or [])
    return []


def _row(folder: Path, base: Path) -> dict[str, Any]:
    status = _read_json(folder / STATUS_FILE)
    summary = _read_json(folder / "summary.json")
    params = parse_overrides(_overrides(folder, status))
    if summary is not None and (status is None or status.get("status") in ("ok", "running")):
        state = "ok" if status is None or status.get("status") == "ok" else "incomplete"
    elif status is not None and status.get("status") in ("failed", "refused"):
        state = status["status"]
    else:
        state = "incomplete"
    if state == "incomplete":
        summary = None
    row: dict[str, Any] = {
        "run": str(folder.relative_to(base)) if folder != base else ".",
        "status": state,
        "scenario": (summary or {}).get("scenario", params.get("scenario", "baseline")),
        "seed": (summary or {}).get("seed", params.get("seed", 0)),
        "error": (status or {}).get("error", "") if state != "ok" else "",
        "seconds": (status or {}).get("seconds"),
    }
    row.update({f"param:{k}": v for k, v in params.items() if k not in ("scenario", "seed")})
    if summary:
        row.update({k: v for k, v in summary.items() if k not in row and f"param:{k}" not in row})
    row["_folder"] = str(folder)
    return row


def aggregate(paths: Iterable[Path], timeseries: bool = True) -> Aggregate:
    """Collect every run under ``paths`` into the runs table and the long time-series table."""
    paths = [Path(p).resolve() for p in paths]
    folders = find_run_folders(paths)
    base = Path(os.path.commonpath(paths)) if paths else Path.cwd()
    if len(paths) == 1 and paths[0].is_dir() and folders == [paths[0]]:
        base = paths[0].parent
    runs = pd.DataFrame([_row(f, base) for f in folders])
    if runs.empty:
        runs = pd.DataFrame(columns=[*ID_COLUMNS, "error", "_folder"])
    param_cols = sorted(c for c in runs.columns if c.startswith("param:"))
    params = [c.removeprefix("param:") for c in param_cols]
    for col, name in zip(param_cols, params, strict=True):
        # A swept key that is also a summary key (horizon, say): one column, either source.
        runs[name] = runs[col].combine_first(runs[name]) if name in runs else runs[col]
        runs = runs.drop(columns=col)
    front = [*ID_COLUMNS, *params, "error", "seconds"]
    runs = runs[[c for c in front if c in runs] + [c for c in runs if c not in front]]
    series = _timeseries(runs, params) if timeseries else pd.DataFrame()
    return Aggregate(runs.drop(columns="_folder"), series, params)


def _timeseries(runs: pd.DataFrame, params: list[str]) -> pd.DataFrame:
    ids = ["run", "scenario", "seed", *params]
    frames, keys = [], []
    for record in runs[runs["status"] == "ok"].to_dict("records"):
        file = Path(record["_folder"]) / "timeseries.csv"
        if file.is_file():
            frames.append(pd.read_csv(file, engine="c"))
            keys.append(record)
    if not frames:
        return pd.DataFrame(columns=[*ids, "month"])
    lengths = np.array([len(f) for f in frames])
    body = pd.concat(frames, ignore_index=True)
    id_frame = pd.DataFrame(
        {col: np.repeat(np.array([k[col] for k in keys], dtype=object), lengths) for col in ids}
    )
    return pd.concat([id_frame.infer_objects(), body], axis=1)


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
