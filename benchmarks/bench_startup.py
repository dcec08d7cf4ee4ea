"""A default run end to end, here and at another git commit, in turns (a measurement, no test).

``python -m sim output.plots=false`` swings by a second from one minute to the next on a
shared two-core machine, so a change to start-up is only visible side by side: this script
runs the command in the current tree and in the tree of ``--baseline-ref`` alternately,
``--repeats`` times each, and prints the median, least and largest wall time and the median
CPU time (user + system) of each::

    .venv/bin/python benchmarks/bench_startup.py --baseline-ref 346692d --repeats 12

Both trees run with this virtual environment's packages. Each first runs once untimed, and
every child runs without ``PYTHONDONTWRITEBYTECODE``, so each tree's bytecode is cached as
after a user's first run. Run folders go to a temporary directory, removed at the end.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench_engine import baseline_tree
from bench_sweep import run_measured
from machine_info import describe_machine

ROOT = Path(__file__).resolve().parents[1]


def timed_run(tree: Path, run_dir: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one ``python -m sim output.plots=false`` started in ``tree``."""
    cmd = [sys.executable, "-m", "sim", "output.plots=false", f"hydra.run.dir={run_dir}"]
    run = run_measured(cmd, run_dir.with_suffix(".log"), cwd=tree)
    if not (run_dir / "summary.json").is_file():
        tail = Path(run["log"]).read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{' '.join(cmd)} in {tree} wrote no summary.json:\n{tail}")
    return run["wall"], run["cpu"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-ref", required=True, help="git commit to compare with")
    parser.add_argument("--repeats", type=int, default=12, help="timed runs of each tree")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats = {args.repeats}: must be at least 1")
    baseline = baseline_tree(args.baseline_ref)
    trees = {"current": ROOT, args.baseline_ref: baseline}
    tmp = Path(tempfile.mkdtemp(prefix="sim-startup-"))
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    try:
        for k, tree in enumerate(trees.values()):
            timed_run(tree, tmp / f"first-{k}")
        for i in range(args.repeats):
            for k, (name, tree) in enumerate(trees.items()):
                samples[name].append(timed_run(tree, tmp / f"run-{i}-{k}"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(baseline.parent, ignore_errors=True)
    machine = describe_machine(())
    print(f"python -m sim output.plots=false, {args.repeats} runs of each tree in turns")
    print(
        f"Machine: {machine['nproc']} cores ({machine['cpu']}), Python {machine['python']}, "
        f"git {machine['git']}, {machine['date']}, load average {machine['loadavg_start'][0]:.1f}"
    )
    print("| tree | wall median | least | largest | CPU median |")
    print("|---|---|---|---|---|")
    for name, runs in samples.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(
            f"| {name} | {statistics.median(walls):.2f} s | {min(walls):.2f} s | "
            f"{max(walls):.2f} s | {statistics.median(cpus):.2f} s |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
