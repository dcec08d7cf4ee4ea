"""Sobol indices: how much of each outcome's variance the chosen factors explain.

Sobol is expensive (``N * (k + 2)`` designs for ``k`` factors), so it runs over a few chosen
parameters, typically the top of a Morris screening; the others keep the scenario's values.
The sample comes from SALib's scrambled Sobol sequence; the first-order index ``S1`` is the
share of variance a factor explains alone, the total index ``ST`` alone and in interactions,
each with a bootstrap 95% confidence half-width. Because every prefix of ``2^j`` base rows of
the sequence is itself a Sobol sample, the indices are recomputed for N, N/2, N/4, ... from
the same runs: the convergence table and figure show them settle as N doubles.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import sobol as sobol_sample

from sim.analysis.experiment import (
    Settings,
    bootstrap_seed,
    design_table,
    run_designs,
    save_figure,
    unit_problem,
    write_tables,
)
from sim.analysis.space import Factor, outcome
from sim.validate import ConfigError

log = logging.getLogger("sim.analysis")
COLUMNS = ["parameter", "outcome", "S1", "S1_conf", "ST", "ST_conf", "n"]
MIN_BASE = 4


@dataclass
class SobolResult:
    """Sobol indices at the full sample size, their convergence, runs, figures, skips."""

    table: pd.DataFrame
    convergence: pd.DataFrame
    runs: pd.DataFrame
    figures: dict[str, Path] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def check_samples(samples: int) -> None:
    """Refuse a base sample size that is not a power of two of at least 8."""
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 8:
        raise ConfigError(f"samples = {samples!r}: a power of two >= 8 (e.g. 64, 128, 256)")
    if samples & (samples - 1):
        raise ConfigError(
            f"samples = {samples}: must be a power of two (Sobol sequences balance only then)"
        )


def sample(factors: list[Factor], samples: int, seed: int) -> np.ndarray:
    """SALib's Sobol design over the unit cube: ``samples * (len(factors) + 2)`` rows."""
    check_samples(samples)
    return sobol_sample.sample(
        unit_problem(factors), samples, calc_second_order=False, scramble=True, seed=seed
    )


def sizes(samples: int) -> list[int]:
    """The base sizes of the convergence table: N, N/2, N/4, ... down to 4, ascending."""
    out = []
    n = samples
    while n >= MIN_BASE:
        out.append(n)
        n //= 2
    return sorted(out)


def analyse(
    factors: list[Factor], means: pd.DataFrame, samples: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Indices at every size of :func:`sizes`; returns (full-size table, convergence, skipped)."""
    problem = unit_problem(factors)
    block = len(factors) + 2
    frames, skipped = [], {}
    for key in means.columns:
        y = means[key].to_numpy(dtype=float)
        if not np.isfinite(y).all():
            skipped[key] = f"{int((~np.isfinite(y)).sum())} design(s) have no value"
            continue
        if np.ptp(y) == 0:
            skipped[key] = "the outcome does not vary over the sample"
            continue
        for n in sizes(samples):
            si = sobol_analyze.analyze(
                problem,
                y[: n * block],
                calc_second_order=False,
                num_resamples=200,
                conf_level=0.95,
                seed=seed,
            )
            frames.append(
                pd.DataFrame(
                    {
                        "parameter": [f.key for f in factors],
                        "outcome": key,
                        "S1": si["S1"],
                        "S1_conf": si["S1_conf"],
                        "ST": si["ST"],
                        "ST_conf": si["ST_conf"],
                        "n": n,
                    }
                )
            )
    convergence = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    table = convergence[convergence["n"] == samples].reset_index(drop=True)
    return table[COLUMNS], convergence[COLUMNS], skipped


def read_morris(path: Path) -> pd.DataFrame:
    """The Morris table at ``path`` (a ``morris.csv``); raises ConfigError when it is missing,
    unreadable or lacks the columns :func:`top_factors` needs."""
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as e:
        raise ConfigError(
            f"morris = {str(path)!r}: cannot be read ({' '.join(str(e).split())}); give the "
            "morris.csv written by python -m sim.analyze morris"
        ) from None
    missing = [c for c in ("parameter", "outcome", "mu_star") if c not in table.columns]
    if missing:
        raise ConfigError(
            f"morris = {str(path)!r}: not a Morris table (no column {', '.join(missing)}); "
            "give the morris.csv written by python -m sim.analyze morris"
        )
    return table


def top_factors(morris: pd.DataFrame, count: int, outcomes: list[str] | None = None) -> list[str]:
    """The ``count`` parameters with the largest Morris ``mu_star`` relative to each
    outcome's largest, taking each parameter's best rank over ``outcomes``."""
    rows = morris if outcomes is None else morris[morris["outcome"].isin(outcomes)]
    if rows.empty:
        raise ConfigError("the Morris table has none of the chosen outcomes")
    top = rows.groupby("outcome")["mu_star"].transform("max").replace(0, np.nan)
    score = (rows["mu_star"] / top).groupby(rows["parameter"]).max().fillna(0)
    return list(score.sort_values(ascending=False, kind="stable").index[:count])


def plot_convergence(convergence: pd.DataFrame, path: Path) -> Path:
    """S1 (solid) and ST (dashed) against the base sample size, one panel per outcome."""
    keys = list(dict.fromkeys(convergence["outcome"]))
    params = list(dict.fromkeys(convergence["parameter"]))
    cols = min(3, len(keys)) or 1
    rows = -(-len(keys) // cols) or 1
    fig = Figure(figsize=(4.2 * cols, 3.0 * rows + 0.8))
    colours = colormaps["tab10"]
    for i, key in enumerate(keys):
        ax = fig.add_subplot(rows, cols, i + 1)
        for j, param in enumerate(params):
            part = convergence[
                (convergence["outcome"] == key) & (convergence["parameter"] == param)
            ]
            n = part["n"].to_numpy()
            for index, style in (("S1", "-"), ("ST", "--")):
                value, conf = part[index].to_numpy(), part[f"{index}_conf"].to_numpy()
                ax.plot(n, value, style, color=colours(j % 10), marker=".", lw=1.2)
                ax.fill_between(n, value - conf, value + conf, color=colours(j % 10), alpha=0.08)
        ax.set_xscale("log", base=2)
        ax.set_ylim(-0.25, 1.25)
        ax.set_title(outcome(key).label, fontsize=9)
        ax.set_xlabel("base sample size N", fontsize=8)
        ax.tick_params(labelsize=7)
    handles = [Line2D([], [], color=colours(j % 10), label=p) for j, p in enumerate(params)]
    handles += [
        Line2D([], [], color="k", ls=s, label=lab)
        for s, lab in (("-", "first order S1"), ("--", "total ST"))
    ]
    fig.legend(handles=handles, loc="lower center", ncol=min(4, len(handles)), fontsize=7)
    fig.suptitle(
        "Sobol indices as the sample doubles (bands: 95% bootstrap; axis cut at -0.25 and 1.25)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.06 + 0.02 * (len(handles) // 4), 1, 0.96))
    return save_figure(fig, path)


def run(
    settings: Settings,
    *,
    samples: int = 64,
    params: list[str] | None = None,
    top: int | None = None,
    morris: Path | None = None,
) -> SobolResult:
    """Sobol indices over ``params`` (or the ``top`` of a Morris table); writes
    ``sobol.csv``, ``sobol_convergence.csv``, ``sobol_design.csv`` and
    ``sobol_convergence.png`` into ``settings.out``."""
    check_samples(samples)
    space = settings.space()
    if params:
        chosen = space.select(params)
    elif top and morris is not None:
        table = read_morris(morris)
        chosen = space.select(top_factors(table, top, [o.key for o in space.outcomes]))
    else:
        raise ConfigError("sobol: name the parameters (--params) or give --top K with --morris")
    if len(chosen) < 2:
        raise ConfigError("sobol: at least two parameters are needed")
    outcomes = [o.key for o in space.outcomes]
    unit = sample(chosen, samples, settings.sample_seed)
    designs = space.designs(chosen, unit)
    log.info(
        "Sobol: %d parameters, N=%d, %d designs x %d seeds",
        len(chosen),
        samples,
        len(designs),
        len(settings.seeds),
    )
    runs, means = run_designs(
        settings,
        designs,
        outcomes,
        before=lambda: settings.record(
            "sobol", design_table(chosen, designs), samples=samples, params=[f.key for f in chosen]
        ),
    )
    table, convergence, skipped = analyse(
        chosen, means, samples, bootstrap_seed(settings.sample_seed)
    )
    for key, why in skipped.items():
        log.warning("Sobol: outcome %s left out: %s", key, why)
    write_tables(settings.out, "sobol", table)
    write_tables(settings.out, "sobol_convergence", convergence)
    figures = {}
    if not convergence.empty:
        figures["convergence"] = plot_convergence(
            convergence, settings.out / "sobol_convergence.png"
        )
    return SobolResult(table, convergence, runs, figures, skipped)
