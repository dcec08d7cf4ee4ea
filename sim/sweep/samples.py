"""Runs of an uncertainty sweep (``+uncertainty=lhs``): their sample, and which overrides
are that sample's draws.

Such a sweep puts sample ``i``'s runs under ``sample=NNNN/`` and lists every sample's draws
in ``uncertainty_samples.csv`` beside those folders. A run's override of a listed key with
its sample's drawn value is a draw, not a swept parameter: it stays a column of the runs
table, but runs are grouped by the swept parameters alone. The samples of one scenario (and
setting of the other swept keys) are then one group whose replications are its (sample,
seed) pairs, and a change against the reference pairs each run with the reference run of
the same sample and seed: the same parameter values and the same random numbers. An
override whose value is not the sample's draw (a key the sweep itself varies) stays a swept
parameter.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
from pathlib import Path
from typing import Any

SAMPLE = "sample"
SAMPLES_FILE = "uncertainty_samples.csv"
MAX_SAMPLES_BYTES = 50_000_000
_FOLDER = re.compile(r"sample=(\d+)")


def replicate_keys(frame: Any) -> list[str]:
    """The columns naming a replication within a group: ``sample`` and ``seed`` in an
    uncertainty sweep, else ``seed``."""
    return [SAMPLE, "seed"] if SAMPLE in frame else ["seed"]


def split_draws(
    folder: Path, params: dict[str, Any]
) -> tuple[int | None, dict[str, Any], dict[str, Any]]:
    """The run's sample (None outside an uncertainty sweep), its draws, and the other
    overrides (the swept parameters)."""
    found = _sample_folder(Path(folder))
    if found is None:
        return None, {}, params
    number, sweep_dir = found
    table = _draws_of(sweep_dir)
    drawn = table.get(number) if table is not None else None
    if drawn is None:
        return None, {}, params
    draws, rest = {}, {}
    for key, value in params.items():
        if key in drawn and _same(value, drawn[key]):
            draws[key] = value
        else:
            rest[key] = value
    return number, draws, rest


def _same(value: Any, drawn: float) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isclose(float(value), drawn, rel_tol=1e-9, abs_tol=1e-300)


def _sample_folder(folder: Path) -> tuple[int, Path] | None:
    for parent in folder.parents:
        match = _FOLDER.fullmatch(parent.name)
        if match and _has_samples_file(parent.parent):
            return int(match.group(1)), parent.parent
    return None


def _has_samples_file(sweep_dir: Path) -> bool:
    path = sweep_dir / SAMPLES_FILE
    return path.is_file() and not path.is_symlink()


def _draws_of(sweep_dir: Path) -> dict[int, dict[str, float]] | None:
    """Sample number to its draws, from the sweep's samples file; None when the file is
    missing, too large or not a table of numbers."""
    path = sweep_dir / SAMPLES_FILE
    try:
        st = path.stat()
    except OSError:
        return None
    return _read_draws(path, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _read_draws(path: Path, size: int, mtime_ns: int) -> dict[int, dict[str, float]] | None:
    if size > MAX_SAMPLES_BYTES:
        return None
    try:
        text = path.read_text(encoding="utf-8")
        rows = list(csv.DictReader(io.StringIO(text)))
        return {
            int(row[SAMPLE]): {k: float(v) for k, v in row.items() if k != SAMPLE and v != ""}
            for row in rows
        }
    except (OSError, UnicodeDecodeError, csv.Error, KeyError, TypeError, ValueError):
        return None
