"""How much of an outcome's spread each uncertain parameter explains, in an uncertainty sweep.

In a sweep run with ``+uncertainty=lhs`` every Latin-hypercube sample of the uncertain
parameters runs with the same seeds. For each group of jobs that differ only by sample and
seed (a "cell": one scenario and setting of the other swept keys) and each outcome, the
spread across runs splits exactly into a part between samples (parameters) and a part
within samples (seeds). The part between samples is attributed to each parameter by its
first-order index (RBD-FAST from SALib, computed on the samples' means over seeds); what the
first-order indices leave is interactions and estimation noise. Shares are of the total sum
of squares, so parameters, seeds and the rest add up to one (a negative first-order
estimate, which is noise, counts as zero; ``S1`` keeps the raw estimate). With fewer than
``MIN_SAMPLES`` samples no attribution to single parameters is attempted: the table then
splits the spread into the parameters together and the seeds only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hydra.experimental.callback import Callback
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from omegaconf import DictConfig

from sim.analysis.experiment import save_figure, write_tables
from sim.analysis.space import outcome
from sim.metrics import HEADLINE

log = logging.getLogger("sim.analysis")
SAMPLES_FILE = "uncertainty_samples.csv"
SEEDS, REST = "seed noise", "interactions and rest"
MIN_SAMPLES = 20
COLUMNS = ["cell", "outcome", "source", "share", "share_conf", "S1", "S1_conf", "samples", "seeds"]


def _harmonics(samples: int) -> int:
    """RBD-FAST's number of harmonics for a sample size (10 for large samples, fewer below)."""
    return max(1, min(10, samples // 8))


def first_order(x: pd.DataFrame, y: np.ndarray, seed: int = 1) -> pd.DataFrame:
    """First-order indices of ``y`` on each column of ``x`` (RBD-FAST), with 95% half-widths."""
    from SALib.analyze import rbd_fast

    problem = {
        "num_vars": x.shape[1],
        "names": list(x.columns),
        "bounds": [[float(x[c].min()), float(x[c].max()) or 1.0] for c in x],
    }
    with np.errstate(invalid="ignore", divide="ignore"):  # a constant bootstrap half
        si = rbd_fast.analyze(
            problem,
            x.to_numpy(dtype=float),
            np.asarray(y, dtype=float),
            M=_harmonics(len(y)),
            num_resamples=200,
            seed=seed,
        )
    return pd.DataFrame({"S1": si["S1"], "S1_conf": si["S1_conf"]}, index=list(x.columns))


def decompose(
    runs: pd.DataFrame,
    keys: Sequence[str],
    outcomes: Sequence[str],
    cell_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """Shares of each outcome's spread explained by each key, by the seeds, and the rest.

    ``runs`` has one row per run with the uncertain ``keys``, ``seed`` and the outcomes;
    rows are grouped into cells by ``cell_columns`` and into samples by the keys' values.
    """
    rows: list[dict[str, Any]] = []
    cells = runs.groupby(list(cell_columns), dropna=False) if cell_columns else [((), runs)]
    for cell_key, cell in cells:
        label = ", ".join(
            f"{c}={v}"
            for c, v in zip(
                cell_columns, np.atleast_1d(np.asarray(cell_key, dtype=object)), strict=False
            )
        )
        label = label or "all runs"
        samples = cell.groupby(list(keys), dropna=False, sort=False)
        for key in outcomes:
            y = pd.to_numeric(cell[key], errors="coerce")
            if y.isna().any() or y.nunique() < 2:
                continue
            grand = y.mean()
            total = float(((y - grand) ** 2).sum())
            means = y.groupby([cell[k] for k in keys], dropna=False, sort=False).transform("mean")
            within = float(((y - means) ** 2).sum())
            between = total - within
            sample_means = samples[key].mean().to_numpy(dtype=float)
            x = samples[key].mean().index.to_frame(index=False)
            base = {"cell": label, "outcome": key, "samples": len(x)}
            base["seeds"] = int(round(len(cell) / max(len(x), 1)))
            rows.append({**base, "source": SEEDS, "share": within / total})
            explained = 0.0
            if len(x) >= MIN_SAMPLES and np.ptp(sample_means) > 0:
                indices = first_order(x.astype(float), sample_means)
                for param, row in indices.iterrows():
                    share = max(float(row["S1"]), 0.0) * between / total
                    explained += share
                    rows.append(
                        {
                            **base,
                            "source": param,
                            "share": share,
                            "share_conf": float(row["S1_conf"]) * between / total,
                            "S1": float(row["S1"]),
                            "S1_conf": float(row["S1_conf"]),
                        }
                    )
            rows.append({**base, "source": REST, "share": between / total - explained})
    return pd.DataFrame(rows, columns=COLUMNS)


def plot(table: pd.DataFrame, path: Path, top: int = 6) -> Path:
    """Stacked bars per cell and outcome: the largest parameters' shares, seeds, the rest."""
    groups = list(dict.fromkeys(zip(table["cell"], table["outcome"], strict=True)))
    params = table[~table["source"].isin([SEEDS, REST])]
    leading = list(params.groupby("source")["share"].max().sort_values(ascending=False).index[:top])
    sources = [*leading, "other parameters", SEEDS, REST]
    colours = colormaps["tab10"]
    palette = {s: colours(i % 10) for i, s in enumerate(leading)}
    palette.update({"other parameters": "#bbbbbb", SEEDS: "#444444", REST: "#e8e8e8"})
    fig = Figure(figsize=(8, 0.4 * len(groups) + 2.0))
    ax = fig.add_subplot()
    for g, (cell, key) in enumerate(groups):
        part = table[(table["cell"] == cell) & (table["outcome"] == key)]
        share = dict(zip(part["source"], part["share"].clip(lower=0), strict=True))
        share["other parameters"] = sum(
            v for s, v in share.items() if s not in (*leading, SEEDS, REST)
        )
        left = 0.0
        for source in sources:
            width = share.get(source, 0.0)
            ax.barh(g, width * 100, left=left * 100, color=palette[source])
            left += width
    ax.set_yticks(
        range(len(groups)),
        [f"{outcome(k).label}" + (f" | {c}" if c != "all runs" else "") for c, k in groups],
    )
    ax.invert_yaxis()
    ax.set_xlabel("share of the spread across runs (%)")
    ax.tick_params(labelsize=7)
    handles = [Patch(color=palette[s], label=s) for s in sources]
    ax.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3)
    ax.set_title("What explains the spread: uncertain parameters, seeds, the rest", fontsize=9)
    return save_figure(fig, path)


def summarise_sweep(sweep_dir: Path, out_dir: Path | None = None) -> tuple[Path, Path] | None:
    """Write ``uncertainty.csv`` and ``uncertainty.png`` for an uncertainty sweep folder.

    Returns their paths, or None when the folder holds no uncertainty sweep.
    """
    from sim.sweep.aggregate import aggregate

    sweep_dir = Path(sweep_dir)
    samples_file = sweep_dir / SAMPLES_FILE
    if not samples_file.is_file():
        return None
    keys = [c for c in pd.read_csv(samples_file).columns if c != "sample"]
    agg = aggregate([sweep_dir], timeseries=False)
    runs = agg.runs[agg.runs["status"] == "ok"]
    present = [k for k in keys if k in runs]
    cells = ["scenario", *[p for p in agg.params if p not in keys and p != "seed"]]
    cells = [c for c in cells if c in runs and runs[c].nunique(dropna=False) > 1]
    outcomes = [k for k in HEADLINE if k in runs]
    table = decompose(runs, present, outcomes, cells)
    out_dir = Path(out_dir) if out_dir is not None else sweep_dir / "comparison"
    csv = write_tables(out_dir, "uncertainty", table)[0]
    return csv, plot(table, out_dir / "uncertainty.png")


class UncertaintySummary(Callback):
    """Hydra callback: at the end of an uncertainty sweep, write the spread decomposition."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            written = summarise_sweep(sweep_dir)
        except Exception:
            log.exception("Summarising the uncertainty sweep %s failed", sweep_dir)
            return
        if written:
            log.info("Uncertainty summary: %s (figure %s)", *written)
