"""Paired scenario effects against baseline over many seeds, as a Markdown table.

    python scripts/scenario_effects.py --seeds 10 [--jobs 2] [--set key=value ...]

For each scenario and seed the same seed runs in baseline, so every difference is paired
(common random numbers); the table gives the mean difference and its 95% t-interval. With
``--set`` every run (baseline included) gets the same overrides, which is how a mechanism is
switched off to see which effects depend on it.
"""

from __future__ import annotations

import argparse
import math
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy import stats

OUTCOMES = (
    ("china_spend_foreign", 1e9, "channel spend ($bn)"),
    ("revenue_intermediary", 1e9, "intermediary revenue ($bn)"),
    ("gap_closed_months_final", 1.0, "gap closed by leakage (months)"),
    ("violations", 1.0, "violations"),
    ("fines", 1e6, "fines ($M)"),
    ("harvested_samples", 1e6, "harvested samples (M)"),
    ("narrow_skill_reach_final", 0.01, "narrow-skill reach (pp)"),
    ("model_withdrawals", 1.0, "withdrawals"),
)


def _summary(args: tuple[str, int, tuple[str, ...]]) -> dict:
    from sim import run

    scenario, seed, extra = args
    return run(scenario=scenario, overrides=[f"seed={seed}", *extra]).summary


def scenario_names() -> list[str]:
    """Every scenario in the library, baseline first."""
    from sim.paths import SCENARIO_DIR

    names = sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
    return ["baseline"] + [n for n in names if n != "baseline"]


def paired(values: list[float]) -> tuple[float, float, float]:
    """Mean and 95% t-interval of paired differences."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    if len(x) < 2 or np.all(x == x[0]):
        return mean, mean, mean
    half = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return mean, mean - half, mean + half


def main() -> None:
    """Run every scenario and baseline over the seeds and print the paired-effects table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--set", nargs="*", default=[], help="overrides for every run")
    parser.add_argument("--scenarios", nargs="*", default=None)
    args = parser.parse_args()
    names = args.scenarios or scenario_names()
    if "baseline" not in names:
        names = ["baseline", *names]
    tasks = [(name, seed, tuple(args.set)) for name in names for seed in range(args.seeds)]
    with ProcessPoolExecutor(args.jobs) as pool:
        results = dict(zip(tasks, pool.map(_summary, tasks, chunksize=4), strict=True))
    head = [label for _, _, label in OUTCOMES]
    print(
        f"Paired change against baseline, mean [95% CI], {args.seeds} seeds"
        + (f", with {' '.join(args.set)}" if args.set else "")
    )
    print()
    print("| scenario | baseline gap closed (months) | " + " | ".join(head) + " |")
    print("|---" * (len(head) + 2) + "|")
    for name in names:
        cells = []
        for key, scale, _ in OUTCOMES:
            diffs = [
                (
                    (results[(name, s, tuple(args.set))][key] or 0.0)
                    - (results[("baseline", s, tuple(args.set))][key] or 0.0)
                )
                / scale
                for s in range(args.seeds)
            ]
            m, lo, hi = paired(diffs)
            cells.append(f"{m:+.3g} [{lo:+.3g}, {hi:+.3g}]")
        level = np.mean(
            [
                results[(name, s, tuple(args.set))]["gap_closed_months_final"]
                for s in range(args.seeds)
            ]
        )
        print(f"| {name} | {level:.2f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
