"""Aggregate run or sweep folders, draw the comparison figures and write the HTML report."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.results import parquet_available, write_table
from sim.sweep import figures
from sim.sweep.aggregate import Aggregate, aggregate
from sim.sweep.report import write_report

log = logging.getLogger("sim.compare")


@dataclass
class Comparison:
    """What a comparison wrote: the tables, the figures and the report."""

    aggregate: Aggregate
    tables: dict[str, Path] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)
    report: Path | None = None


def _sweep_config(paths: list[Path], runs: pd.DataFrame) -> str:
    texts = []
    for path in paths:
        for name in ("multirun.yaml", ".hydra/config.yaml"):
            file = Path(path) / name
            if file.is_file():
                texts.append(f"# {file}\n{file.read_text(encoding='utf-8')}")
                break
    listing = runs[["run", "status", *runs.attrs.get("params", [])]].to_string(index=False)
    return "\n".join(texts) + "\n# jobs and their overrides\n" + listing


def compare(
    paths: list[Path], out_dir: Path, plots: bool = True, report: bool = True
) -> Comparison:
    """Write ``runs`` and ``timeseries`` tables (CSV, and Parquet with pyarrow), figures, report."""
    paths = [Path(p) for p in paths]
    out_dir = Path(out_dir)
    agg = aggregate(paths)
    agg.runs.attrs["params"] = agg.params
    result = Comparison(agg)
    formats = ["csv", "parquet"] if parquet_available() else ["csv"]
    for name, frame in (("runs", agg.runs), ("timeseries", agg.timeseries)):
        for fmt in formats:
            result.tables[f"{name}.{fmt}"] = write_table(out_dir / f"{name}.{fmt}", frame, fmt)
    result.tables["runs"] = result.tables["runs.csv"]
    if not plots:
        return result
    headline = figures.headline_table(agg)
    drawn: list[tuple[str, Path, pd.DataFrame]] = []
    steps = [
        (
            "Time series: mean and 95% band per group",
            "fan_charts",
            lambda p: figures.fan_charts(agg, p),
        ),
        (
            "Headline differences against the reference",
            "differences",
            lambda p: figures.difference_bars(agg, headline, p),
        ),
        ("Grid heatmaps", "heatmaps", lambda p: figures.heatmaps(agg, p)),
        ("Trade-offs", "tradeoffs", lambda p: figures.tradeoffs(agg, p)),
    ]
    for title, name, draw in steps:
        out = draw(out_dir / f"{name}.png")
        if out is not None:
            result.figures[name] = out[0]
            drawn.append((title, out[0], out[1]))
    if report:
        result.report = write_report(
            out_dir / "report.html",
            f"Comparison of {len(agg.runs)} runs",
            agg.runs,
            drawn,
            headline,
            _sweep_config(paths, agg.runs),
            paths,
        )
    failed = agg.failed
    if not failed.empty:
        log.warning(
            "%d of %d runs did not finish:\n%s",
            len(failed),
            len(agg.runs),
            failed[["run", "status", "error"]].to_string(index=False),
        )
    return result
