"""Aggregate run or sweep folders, draw the comparison figures and write the HTML report.

A comparison remembers what it was made from (``.comparison.json``: every run folder's files
by size and modification time, the code, the options). Asked again when nothing changed, it
reads its tables back and redraws nothing: resuming a finished sweep costs seconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.results import remove_temp_files, write_json, write_table
from sim.sweep.aggregate import (
    TIMESERIES_FILE,
    Aggregate,
    aggregate,
    discover,
    escape_labels,
    has_dollar,
    map_text,
)
from sim.sweep.jobs import STATUS_FILE, SUMMARY_FILE
from sim.sweep.run_folders import Found

log = logging.getLogger("sim.compare")

MANIFEST = ".comparison.json"
FINGERPRINT_FILES = (STATUS_FILE, SUMMARY_FILE, TIMESERIES_FILE)
MAX_LISTED_RUNS = 500


@dataclass
class Comparison:
    """What a comparison wrote: the tables, the figures and the report.

    ``up_to_date`` is True when nothing had changed since the last comparison into the same
    folder, so nothing was recomputed or redrawn.
    """

    aggregate: Aggregate
    tables: dict[str, Path] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)
    report: Path | None = None
    up_to_date: bool = False


def out_folder_problem(path: Path) -> str | None:
    """Why ``path`` cannot be an output folder, or None when it can.

    It can when it is a folder or does not exist yet; it cannot when it, or a folder it
    would be made in, is a file. Checked by the tools before any work, so a mistyped
    ``--out`` is refused before anything runs.
    """
    path = Path(path)
    for place in (path, *path.parents):
        if not (place.exists() or place.is_symlink()):
            continue
        if place.is_dir():
            return None
        if place == path:
            return "is a file, not a folder: give a folder (new or existing)"
        return f"{place} is a file, so no folder can be made in it: give a folder (new or existing)"
    return None


# ------------------------------------------------------------------ up to date?


def _source_digest() -> str:
    """A hash of the package's source: new figure or report code redraws everything."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for file in sorted(root.rglob("*.py")):
        digest.update(file.relative_to(root).as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:16]


def inputs_fingerprint(
    paths: list[Path], plots: bool, report: bool, found: Found | None = None
) -> str:
    """A hash of everything a comparison depends on: each run folder's files (name, size,
    modification time), the input folders, the options and the package's source."""
    resolved = [p.resolve() for p in paths]
    found = found or discover(resolved)
    folders, links = found.folders, found.links
    digest = hashlib.sha256()
    digest.update(json.dumps([str(p) for p in resolved]).encode())
    digest.update(f"plots={plots},report={report},source={_source_digest()}".encode())
    for folder in folders:
        digest.update(str(folder).encode() + b"\0")
        for name in FINGERPRINT_FILES:
            try:
                st = (folder / name).stat()
            except OSError:
                continue
            digest.update(f"{name}:{st.st_size}:{st.st_mtime_ns}\0".encode())
    for link, _ in links:
        digest.update(f"link:{link}\0".encode())
    for part in found.parts:
        try:
            st = part.stat()
        except OSError:
            continue
        digest.update(f"part:{part}:{st.st_size}:{st.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def analysis_digest(out_dir: Path) -> str:
    """A hash of the analysis tables in ``out_dir`` that the report includes (by content:
    an analysis that wrote the same numbers again changes nothing)."""
    from sim.analysis.report import SECTIONS

    digest = hashlib.sha256()
    for name in SECTIONS:
        try:
            digest.update(name.encode() + b"\0" + (Path(out_dir) / name).read_bytes())
        except OSError:
            continue
    return digest.hexdigest()


def _load_if_current(out_dir: Path, fingerprint: str) -> Comparison | None:
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("fingerprint") != fingerprint:
        return None
    files = {
        **{k: out_dir / v for k, v in manifest.get("tables", {}).items()},
        **{k: out_dir / v for k, v in manifest.get("figures", {}).items()},
    }
    report = out_dir / manifest["report"] if manifest.get("report") else None
    if not all(p.is_file() for p in [*files.values(), *([report] if report else [])]):
        return None
    agg = Aggregate(
        pd.read_parquet(out_dir / "runs.parquet"),
        list(manifest.get("params", [])),
        pd.DataFrame(manifest.get("skipped", []), columns=["run", "folder", "reason"]),
        pd.DataFrame(
            manifest.get("duplicates", []), columns=["run", "same_as", "config_hash", "seed"]
        ),
        list(manifest.get("warnings", [])),
        dict(manifest.get("pooled", {})),
        timeseries_file=out_dir / "timeseries.parquet",
    )
    return Comparison(
        agg,
        {k: out_dir / v for k, v in manifest.get("tables", {}).items()},
        {k: out_dir / v for k, v in manifest.get("figures", {}).items()},
        report,
        up_to_date=True,
    )


def _write_manifest(out_dir: Path, fingerprint: str, result: Comparison) -> None:
    agg = result.aggregate

    def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
        return json.loads(frame.to_json(orient="records"))

    write_json(
        out_dir / MANIFEST,
        {
            "fingerprint": fingerprint,
            "params": agg.params,
            "warnings": agg.warnings,
            "skipped": records(agg.skipped),
            "duplicates": records(agg.duplicates),
            "pooled": json.loads(json.dumps(agg.pooled, default=str)),
            "tables": {k: p.name for k, p in result.tables.items()},
            "figures": {k: p.name for k, p in result.figures.items()},
            "report": result.report.name if result.report else None,
        },
    )


# ------------------------------------------------------------------ writing


def _arrow_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every column of mixed Python types turned to text, so Parquet takes it."""
    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype != object:
            continue
        kinds = {type(v) for v in frame[col].dropna()}
        numeric = kinds <= {int, float} and bool not in kinds
        if len(kinds) > 1 and not numeric:
            frame[col] = frame[col].map(lambda v: v if v is None or v != v else str(v))
    return frame


def _sweep_config(paths: list[Path], runs: pd.DataFrame, params: list[str]) -> str:
    texts = []
    for path in paths:
        for name in ("multirun.yaml", ".hydra/config.yaml"):
            file = Path(path) / name
            if file.is_file() and not file.is_symlink():
                texts.append(f"# {file}\n{file.read_text(encoding='utf-8', errors='replace')}")
                break
    shown = runs[[c for c in ["run", "status", *params] if c in runs]]
    listing = shown.head(MAX_LISTED_RUNS).to_string(index=False)
    if len(shown) > MAX_LISTED_RUNS:
        listing += f"\n... and {len(shown) - MAX_LISTED_RUNS:,} more runs (see runs.csv)"
    return "\n".join(texts) + "\n# runs and their overrides\n" + listing


def _unescape(frame: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`~sim.sweep.aggregate.mathtext_safe` in a figure's table for the report."""
    if frame is None or frame.empty:
        return frame
    return map_text(frame, lambda v: v.replace("\\$", "$"))


def _draw(agg: Aggregate, out_dir: Path, warnings: list[str]) -> tuple[list, pd.DataFrame]:
    """Every comparison figure; one that fails is reported and left out, never fatal."""
    from sim.sweep import figures

    view = escape_labels(agg) if has_dollar(agg) else agg
    try:
        headline = figures.headline_table(view)
    except Exception as e:
        warnings.append(f"The headline table could not be computed: {type(e).__name__}: {e}")
        headline = pd.DataFrame()
    steps: list[tuple[str, str, Callable[[Path], Any]]] = [
        (
            "Time series: mean and 95% band per group",
            "fan_charts",
            lambda p: figures.fan_charts(view, p),
        ),
        (
            "Headline differences against the reference",
            "differences",
            lambda p: figures.difference_bars(view, headline, p),
        ),
        ("Grid heatmaps", "heatmaps", lambda p: figures.heatmaps(view, p)),
        ("Trade-offs", "tradeoffs", lambda p: figures.tradeoffs(view, p)),
    ]
    drawn = []
    for title, name, draw in steps:
        try:
            out = draw(out_dir / f"{name}.png")
        except Exception as e:
            from sim.results import StorageError

            if isinstance(e, StorageError):
                raise
            warnings.append(f"The figure {name} could not be drawn: {type(e).__name__}: {e}")
            log.warning("Figure %s left out: %s: %s", name, type(e).__name__, e)
            continue
        if out is not None:
            drawn.append((title, name, out[0], _unescape(out[1])))
    return drawn, _unescape(headline)


def compare(
    paths: list[Path], out_dir: Path, plots: bool = True, report: bool = True
) -> Comparison:
    """Write ``runs`` and ``timeseries`` tables (CSV and Parquet), figures and the report.

    Does nothing but read back its tables when no input changed since the last comparison
    into ``out_dir`` (``Comparison.up_to_date``).
    """
    from sim.sweep.report import write_report

    paths = [Path(p) for p in paths]
    out_dir = Path(out_dir)
    found = discover(list(dict.fromkeys(p.resolve() for p in paths)))
    fingerprint = inputs_fingerprint(paths, plots, report, found)
    if report:
        fingerprint += "," + analysis_digest(out_dir)
    cached = _load_if_current(out_dir, fingerprint)
    if cached is not None:
        log.info("Comparison in %s is up to date: no run changed, nothing redrawn", out_dir)
        return cached
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_temp_files(out_dir)
    (out_dir / MANIFEST).unlink(missing_ok=True)
    previous = [p for p in out_dir.glob("*.png")]
    agg = aggregate(paths, store=out_dir, found=found)
    result = Comparison(agg)
    ready = _arrow_ready(agg.runs)
    result.tables["runs.csv"] = write_table(out_dir / "runs.csv", agg.runs, "csv")
    result.tables["runs.parquet"] = write_table(out_dir / "runs.parquet", ready, "parquet")
    result.tables["timeseries.csv"] = out_dir / "timeseries.csv"
    result.tables["timeseries.parquet"] = out_dir / "timeseries.parquet"
    result.tables["runs"] = result.tables["runs.csv"]
    for warning in agg.warnings:
        log.warning("%s", warning)
    if plots:
        from sim.analysis.report import fragment

        drawn, headline = _draw(agg, out_dir, agg.warnings)
        result.figures = {name: path for _, name, path, _ in drawn}
        analyses, analysis_figures = fragment(out_dir) if report else ("", [])
        for stale in previous:
            if stale not in result.figures.values() and stale not in analysis_figures:
                stale.unlink(missing_ok=True)
        if report:
            agg.runs.attrs["params"] = agg.params
            result.report = write_report(
                out_dir / "report.html",
                f"Comparison of {len(agg.runs)} runs",
                agg.runs,
                [(title, path, table) for title, _, path, table in drawn],
                headline,
                _sweep_config(paths, agg.runs, agg.params),
                paths,
                analyses,
            )
    failed = agg.runs[agg.runs["status"].isin(["failed", "refused", "incomplete"])]
    if not failed.empty:
        log.warning(
            "%d of %d runs did not finish:\n%s",
            len(failed),
            len(agg.runs),
            failed[["run", "status", "error"]].to_string(index=False),
        )
    _write_manifest(out_dir, fingerprint, result)
    return result
