"""Morris screening: which uncertainties and levers move each outcome at all.

Trajectories are drawn by SALib over the unit cube of the chosen factors (each factor maps
its position to a value); every design point runs with the same seeds, so an elementary
effect compares two points under the same random numbers. ``mu_star`` is the mean absolute
elementary effect (in the outcome's unit per full step of the factor's range),
``mu_star_conf`` its bootstrap confidence half-width, ``sigma`` the spread of the effects
(non-linearity or interactions).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from SALib.analyze import morris as morris_analyze
from SALib.sample import morris as morris_sample

from sim.analysis.experiment import (
    Settings,
    bootstrap_seed,
    design_table,
    run_designs,
    save_figure,
    unit_problem,
    write_tables,
)
from sim.analysis.space import LEVER, Factor, outcome
from sim.metrics import axis_scale
from sim.validate import ConfigError

log = logging.getLogger("sim.analysis")
COLOURS = {"uncertainty": "#1f4e79", "lever": "#c55a11"}
COLUMNS = ["parameter", "outcome", "mu_star", "mu_star_conf", "sigma", "mu", "role", "rank"]


@dataclass
class MorrisResult:
    """The Morris table, the runs behind it, the figures, and the outcomes left out."""

    table: pd.DataFrame
    runs: pd.DataFrame
    figures: dict[str, Path] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def sample(factors: list[Factor], trajectories: int, levels: int, seed: int) -> np.ndarray:
    """Morris trajectories over the unit cube: ``trajectories * (len(factors) + 1)`` rows."""
    if trajectories < 2:
        raise ConfigError(f"trajectories = {trajectories}: at least 2")
    if levels < 2 or levels % 2:
        raise ConfigError(f"levels = {levels}: an even number >= 2 (4 is usual)")
    return morris_sample.sample(unit_problem(factors), trajectories, num_levels=levels, seed=seed)


def analyse(
    factors: list[Factor], unit: np.ndarray, means: pd.DataFrame, levels: int, seed: int
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The Morris indices of every outcome column of ``means`` (one row per design)."""
    frames, skipped = [], {}
    problem = unit_problem(factors)
    for key in means.columns:
        y = means[key].to_numpy(dtype=float)
        if not np.isfinite(y).all():
            skipped[key] = f"{int((~np.isfinite(y)).sum())} design(s) have no value"
            continue
        si = morris_analyze.analyze(
            problem, unit, y, num_levels=levels, conf_level=0.95, num_resamples=1000, seed=seed
        )
        frame = pd.DataFrame(
            {
                "parameter": [f.key for f in factors],
                "outcome": key,
                "mu_star": np.asarray(si["mu_star"], dtype=float),
                "mu_star_conf": np.asarray(si["mu_star_conf"], dtype=float),
                "sigma": np.asarray(si["sigma"], dtype=float),
                "mu": np.asarray(si["mu"], dtype=float),
                "role": [f.role for f in factors],
            }
        )
        frame["rank"] = frame["mu_star"].rank(ascending=False, method="min").astype(int)
        frames.append(frame.sort_values("rank", kind="stable"))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    return table[COLUMNS], skipped


def plot_ranking(table: pd.DataFrame, key: str, path: Path, top: int = 25) -> Path:
    """Horizontal bars of ``mu_star`` (with its confidence half-width) for one outcome, ranked."""
    rows = table[table["outcome"] == key].sort_values("mu_star", ascending=False).head(top)
    rows = rows.iloc[::-1]
    meta = outcome(key)
    scale, unit = axis_scale(meta.unit, float(rows["mu_star"].abs().max() or 1.0))
    fig = Figure(figsize=(7.5, 0.28 * len(rows) + 1.4))
    ax = fig.add_subplot()
    ax.barh(
        rows["parameter"],
        rows["mu_star"] / scale,
        xerr=rows["mu_star_conf"] / scale,
        color=[COLOURS[r] for r in rows["role"]],
        error_kw={"elinewidth": 0.8, "capsize": 2},
    )
    ax.set_xlabel(f"mu* ({unit or 'outcome units'} per full range of the factor)")
    ax.set_title(f"Morris ranking: {meta.label}", fontsize=10)
    ax.tick_params(axis="y", labelsize=7)
    handles = [Patch(color=c, label=r) for r, c in COLOURS.items()]
    ax.legend(handles=handles, fontsize=7, loc="lower right")
    return save_figure(fig, path)


def run(
    settings: Settings,
    *,
    trajectories: int = 10,
    levels: int = 4,
    factors: list[str] | None = None,
) -> MorrisResult:
    """Morris screening over ``factors`` (default: every uncertainty and lever); writes
    ``morris.csv``, ``morris_design.csv`` and ``morris_OUTCOME.png`` into ``settings.out``."""
    space = settings.space()
    chosen = space.select(factors) if factors else list(space.factors())
    outcomes = [o.key for o in space.outcomes]
    unit = sample(chosen, trajectories, levels, settings.sample_seed)
    designs = space.designs(chosen, unit)
    log.info(
        "Morris: %d factors, %d trajectories, %d designs x %d seeds",
        len(chosen),
        trajectories,
        len(designs),
        len(settings.seeds),
    )
    runs, means = run_designs(
        settings,
        designs,
        outcomes,
        before=lambda: settings.record(
            "morris",
            design_table(chosen, designs),
            trajectories=trajectories,
            levels=levels,
            factors=[f.key for f in chosen],
        ),
    )
    table, skipped = analyse(chosen, unit, means, levels, bootstrap_seed(settings.sample_seed))
    for key, why in skipped.items():
        log.warning("Morris: outcome %s left out: %s", key, why)
    write_tables(settings.out, "morris", table)
    figures = {
        key: plot_ranking(table, key, settings.out / f"morris_{key}.png")
        for key in dict.fromkeys(table["outcome"])
    }
    levers = sum(f.role == LEVER for f in chosen)
    log.info("Morris: %d uncertainties and %d levers ranked", len(chosen) - levers, levers)
    return MorrisResult(table, runs, figures, skipped)
