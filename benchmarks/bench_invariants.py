"""What the invariant checks cost: the same runs stepped with ``check.invariants`` off and on.

Run from the project root (a measurement, not a test; nothing passes or fails)::

    .venv/bin/python benchmarks/bench_invariants.py [--repeats 5] [--n 2000] [--horizon 60]

Off and on alternate within each repeat (same config, same seed), so load on a shared
machine falls on both alike; the ratio of the medians is the figure to read. Only the
monthly steps are timed: building the model is the same either way.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sim.config import as_config, compose
from sim.model import MarketModel


def stepping_seconds(config) -> float:
    """Wall time of stepping a freshly built model to its horizon."""
    model = MarketModel(config)
    start = time.perf_counter()
    model.run()
    return time.perf_counter() - start


def main() -> None:
    """Print the median stepping time with the checks off and on, and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--horizon", type=int, default=60)
    args = parser.parse_args()
    base = [f"customers.n={args.n}", f"horizon={args.horizon}", "seed=0"]
    configs = {
        flag: as_config(compose(None, [*base, f"check.invariants={flag}"]))
        for flag in ("false", "true")
    }
    times: dict[str, list[float]] = {"false": [], "true": []}
    for _ in range(args.repeats):
        for flag, config in configs.items():
            times[flag].append(stepping_seconds(config))
    off, on = statistics.median(times["false"]), statistics.median(times["true"])
    print(f"{args.n} customers x {args.horizon} months, {args.repeats} repeats (medians)")
    print(f"  checks off: {off:.3f} s   checks on: {on:.3f} s   ratio on/off: {on / off:.2f}")
    print(f"  per month: the checks add {(on - off) / args.horizon * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
