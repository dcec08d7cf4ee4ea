"""Scenario discovery with PRIM: in which region of the uncertainties does a condition hold?

A Latin-hypercube sample of the uncertainties (and, if asked, levers) is run for the same
seeds; each design's outcomes are averaged over the seeds and the condition (see
:mod:`sim.analysis.conditions`) marks the designs of interest. EMA Workbench's PRIM peels
the input space towards them. On each peeling trajectory the reported box is the one with
the highest coverage (share of the cases of interest inside it) among those with at least
the wanted density (share of the box's cases that are of interest); with none that dense,
the densest. Further boxes are searched in what the earlier ones leave.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from SALib.sample import latin

from sim.analysis.conditions import Condition, parse_condition
from sim.analysis.experiment import (
    Settings,
    design_table,
    factor_frame,
    run_designs,
    unit_problem,
    write_tables,
)
from sim.analysis.space import Factor, summary_outcomes
from sim.results import atomic_write
from sim.validate import ConfigError

log = logging.getLogger("sim.analysis")
BOX_COLUMNS = [
    "box",
    "parameter",
    "min",
    "max",
    "categories",
    "range_min",
    "range_max",
    "qp_lower",
    "qp_upper",
    "coverage",
    "density",
    "mass",
    "res_dim",
]


@dataclass
class PrimResult:
    """The boxes, their peeling trajectories, the sample with its outcomes, figures, notes."""

    boxes: pd.DataFrame
    trajectory: pd.DataFrame
    sample: pd.DataFrame
    figures: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def latin_sample(factors: list[Factor], samples: int, seed: int, minimum: int = 10) -> np.ndarray:
    """A Latin hypercube over the unit cube of ``factors`` (SALib), ``samples`` rows."""
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < minimum:
        raise ConfigError(f"samples = {samples!r}: at least {minimum}")
    return latin.sample(unit_problem(factors), samples, seed=seed)


def _select(box: Any, min_density: float) -> int:
    trajectory = box.peeling_trajectory
    dense = trajectory[trajectory["density"] >= min_density]
    if dense.empty:
        return int(trajectory["density"].idxmax())
    return int(dense.sort_values(["coverage", "density"], ascending=False).index[0])


def _limits(number: int, box: Any, step: int, prim: Any) -> list[dict[str, Any]]:
    stats, limits = box.inspect(step, style="data")[0]
    rows = []
    for param in limits.index:
        low, high, qp_low, qp_high = limits.loc[param].tolist()
        init = prim.box_init[param]
        categorical = isinstance(low, set)
        rows.append(
            {
                "box": number,
                "parameter": param,
                "min": np.nan if categorical else float(low),
                "max": np.nan if categorical else float(high),
                "categories": "/".join(sorted(map(str, low))) if categorical else "",
                "range_min": np.nan if categorical else float(init.iloc[0]),
                "range_max": np.nan if categorical else float(init.iloc[1]),
                "qp_lower": qp_low,
                "qp_upper": qp_high,
                "coverage": float(stats["coverage"]),
                "density": float(stats["density"]),
                "mass": float(stats["mass"]),
                "res_dim": int(stats["res_dim"]),
            }
        )
    return rows


def discover(
    x: pd.DataFrame, y: np.ndarray, *, min_density: float, boxes: int, mass_min: float
) -> tuple[pd.DataFrame, pd.DataFrame, list[Any], list[str]]:
    """Run EMA Workbench's PRIM; returns boxes, trajectories, the PrimBox objects, notes."""
    notes = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optional EMA backends absent; pandas notices
        from ema_workbench.analysis import prim as ema_prim

        # For a 0/1 target, EMA counts y >= threshold as cases of interest and keeps a box
        # whose mean reaches it: a tiny threshold keeps every box, min_density decides here.
        finder = ema_prim.Prim(x, y, threshold=1e-9, peel_alpha=0.05, mass_min=mass_min)
    rows, steps, found = [], [], []
    for number in range(1, boxes + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            box = finder.find_box()
        if box is None or len(box.peeling_trajectory) < 2:
            notes.append(f"no box {number}: no cases of interest left to peel towards")
            break
        step = _select(box, min_density)
        box.select(step)
        density = float(box.peeling_trajectory.loc[step, "density"])
        if number > 1 and density < min_density:
            notes.append(f"no box {number}: the densest reaches {density:.2f} < {min_density}")
            break
        if density < min_density:
            notes.append(
                f"box {number}: no box reaches density {min_density}; reported the densest "
                f"({density:.2f})"
            )
        trajectory = box.peeling_trajectory.copy()
        trajectory.insert(0, "box", number)
        trajectory["selected"] = trajectory.index == step
        steps.append(trajectory)
        rows += _limits(number, box, step, finder)
        found.append(box)
    table = pd.DataFrame(rows, columns=BOX_COLUMNS)
    trajectories = pd.concat(steps, ignore_index=True) if steps else pd.DataFrame()
    return table, trajectories, found, notes


def plot_boxes(found: list[Any], out: Path) -> dict[str, Path]:
    """EMA Workbench's peeling trajectory (coverage against density) and box-limits figures."""
    import matplotlib.pyplot as plt

    figures: dict[str, Path] = {}
    for number, box in enumerate(found, start=1):
        step = box._cur_box
        fig = box.show_tradeoff(annotated=False)
        ax = fig.axes[0]
        row = box.peeling_trajectory.loc[step]
        ax.scatter([row["coverage"]], [row["density"]], s=120, facecolors="none", edgecolors="r")
        ax.set_title(f"PRIM box {number}: peeling trajectory (red: reported box)", fontsize=9)
        figures[f"tradeoff_{number}"] = _save(fig, out / f"prim_trajectory_{number}.png")
        plt.close(fig)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fig = box.inspect(step, style="graph")[0]
        fig.suptitle(f"PRIM box {number}: limits against the sampled ranges", fontsize=9)
        figures[f"box_{number}"] = _save(fig, out / f"prim_box_{number}.png")
        plt.close(fig)
    return figures


def _save(fig: Any, path: Path) -> Path:
    return atomic_write(
        path, lambda tmp: fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    )


def run(
    settings: Settings,
    *,
    condition: str,
    samples: int = 200,
    factors: list[str] | None = None,
    min_density: float = 0.8,
    boxes: int = 2,
    mass_min: float = 0.05,
) -> PrimResult:
    """PRIM for ``condition`` over a Latin hypercube of ``factors`` (default: every
    uncertainty); writes ``prim_boxes.csv``, ``prim_trajectory.csv``, ``prim_sample.csv``
    and the figures into ``settings.out``. The condition is checked before any run."""
    parsed: Condition = parse_condition(condition, summary_outcomes())
    if not 0 < min_density <= 1:
        raise ConfigError(f"min_density = {min_density}: a share in (0, 1]")
    if not 0 < mass_min < 1:
        raise ConfigError(f"mass_min = {mass_min}: a share in (0, 1)")
    if isinstance(boxes, bool) or not isinstance(boxes, int) or boxes < 1:
        raise ConfigError(f"boxes = {boxes!r}: a whole number >= 1")
    space = settings.space()
    pool = list(space.uncertainties) + list(space.levers)
    chosen = space.select(factors, pool) if factors else list(space.uncertainties)
    unit = latin_sample(chosen, samples, settings.sample_seed)
    designs = space.designs(chosen, unit)
    outcomes = list(dict.fromkeys([*(o.key for o in space.outcomes), *parsed.outcomes]))
    log.info("PRIM: %d factors, %d designs x %d seeds", len(chosen), samples, len(settings.seeds))
    _, means = run_designs(
        settings,
        designs,
        outcomes,
        before=lambda: settings.record(
            "prim",
            design_table(chosen, designs),
            condition=condition,
            samples=samples,
            factors=[f.key for f in chosen],
            min_density=min_density,
            boxes=boxes,
        ),
    )
    y = parsed.evaluate(means)
    sample = design_table(chosen, designs).reset_index()
    sample = pd.concat([sample, means.reset_index(drop=True)], axis=1)
    sample["of_interest"] = y
    write_tables(settings.out, "prim_sample", sample)
    notes = [f"{int(y.sum())} of {len(y)} designs meet {condition!r}"]
    if y.all() or not y.any():
        notes.append("PRIM needs designs both meeting and missing the condition: no boxes")
        table, trajectory, found = pd.DataFrame(columns=BOX_COLUMNS), pd.DataFrame(), []
    else:
        x = factor_frame(chosen, designs)
        table, trajectory, found, more = discover(
            x, y.astype(bool), min_density=min_density, boxes=boxes, mass_min=mass_min
        )
        notes += more
    for note in notes:
        log.info("PRIM: %s", note)
    write_tables(settings.out, "prim_boxes", table)
    write_tables(settings.out, "prim_trajectory", trajectory)
    figures = plot_boxes(found, settings.out)
    return PrimResult(table, trajectory, sample, figures, notes)
