"""Wall-clock and memory measurements of the simulator (measurements, not tests).

Run from the project root with the project's interpreter::

    .venv/bin/python benchmarks/bench_run.py                 # the table
    .venv/bin/python benchmarks/bench_run.py --profile       # plus phase timers and cProfile
    .venv/bin/python benchmarks/bench_run.py --json bench.json

What is measured (see benchmarks/README.md for the results):

1. In process, the default run (2,000 customers, 60 months): ``as_config(compose())``,
   ``MarketModel(config)`` and stepping to the horizon, each timed separately, repeated.
2. As subprocesses from the project root: ``python -m sim output.plots=false``,
   ``python -m sim`` (with plots), ``python -c "import sim.model"`` and ``python -c pass``
   (interpreter start-up, for reference). Hydra writes into a temporary ``hydra.run.dir``,
   so nothing lands in ``outputs/``.
3. A large run (default 100,000 customers, 120 months) in a fresh subprocess per repeat, so
   its peak RSS (``ru_maxrss``) is its own; then the same with ``OPENBLAS_NUM_THREADS=1``.
4. With ``--profile``: the large run again (``OPENBLAS_NUM_THREADS=1``) with timers around
   each phase of ``MarketModel.step`` (set on the instance; no project code is changed), then
   once more under cProfile: top functions by cumulative time for build and for stepping.

Wall and CPU time are both reported: the machine may be shared, and CPU time is steadier.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from machine_info import describe_machine

ROOT = Path(__file__).resolve().parents[1]
SITE = sysconfig.get_paths()["purelib"]

# Environment for the single-BLAS-thread variant of the large run. OpenBLAS threads a 1-D
# dot product of this size and its idle worker then busy-waits through the rest of each month,
# so with its default thread count a large run keeps a second core busy (see README.md).
BLAS1 = {"OPENBLAS_NUM_THREADS": "1"}

# Phases of MarketModel.step, called as ``self.<name>(...)`` so an instance attribute wraps them.
PHASES = (
    "_safeguards",
    "_access",
    "_plan_campaigns",
    "_demand",
    "_detect",
    "_sanction",
    "_learn",
    "_developers_respond",
    "_enforce",
    "_politics",
    "_review_safeguards",
    "_two_way_flow",
)


# ---------------------------------------------------------------------------- helpers


def summary(wall: Sequence[float], cpu: Sequence[float]) -> dict[str, Any]:
    """Median, min and max of wall-clock samples, median and min of CPU samples (seconds)."""
    return {
        "n": len(wall),
        "median": statistics.median(wall),
        "min": min(wall),
        "max": max(wall),
        "samples": list(wall),
        "cpu_median": statistics.median(cpu),
        "cpu_min": min(cpu),
        "cpu_samples": list(cpu),
    }


def stamp() -> tuple[float, float]:
    """Wall clock and this process's CPU time (user + system), in seconds."""
    return time.perf_counter(), time.process_time()


def children_cpu() -> float:
    """CPU time (user + system) of the waited-for child processes so far, in seconds."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def peak_rss_kib() -> int:
    """Peak resident set size of this process so far (KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_to_horizon(model: Any) -> None:
    """Step a model until it stops running (as ``sim.runner.simulate`` does, without tqdm)."""
    while model.running:
        model.step()


def short_path(filename: str) -> str:
    """A profile entry's file, relative to the project or site-packages when inside them."""
    for prefix in (SITE + os.sep, str(ROOT) + os.sep):
        if filename.startswith(prefix):
            return filename[len(prefix) :]
    return filename


def top_functions(profile: cProfile.Profile, wall: float, limit: int) -> list[dict[str, Any]]:
    """The ``limit`` functions with the largest cumulative time, as plain rows."""
    stats = pstats.Stats(profile, stream=io.StringIO())
    rows = []
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():
        if filename == __file__:
            continue  # this script's own driver frames
        where = f"{short_path(filename)}:{line}({func})" if line else func
        rows.append(
            {
                "function": where,
                "ncalls": ncalls,
                "tottime": tottime,
                "cumtime": cumtime,
                "cum_pct": 100.0 * cumtime / wall if wall > 0 else 0.0,
            }
        )
    rows.sort(key=lambda r: r["cumtime"], reverse=True)
    return rows[:limit]


def wrap_phases(model: Any, totals: dict[str, float]) -> None:
    """Time each step phase (and the DataCollector) by shadowing it on the instance."""

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                totals[name] = totals.get(name, 0.0) + time.perf_counter() - t0

        return wrapper

    for name in PHASES:
        setattr(model, name, timed(name, getattr(model, name)))
    model.datacollector.collect = timed("datacollector.collect", model.datacollector.collect)


# ---------------------------------------------------------------------------- worker


def large_worker(n: int, horizon: int, mode: str, top: int) -> dict[str, Any]:
    """One large run in this (fresh) process; ``mode`` is time, phases or profile."""
    rss_start = peak_rss_kib()
    t0 = stamp()
    from sim.config import as_config, compose
    from sim.model import MarketModel

    t1 = stamp()
    rss_imported = peak_rss_kib()
    config = as_config(compose(overrides=[f"customers.n={n}", f"horizon={horizon}"]))
    t2 = stamp()
    out: dict[str, Any] = {"n": n, "horizon": horizon, "mode": mode}

    if mode == "profile":
        build_prof = cProfile.Profile()
        build_prof.enable()
        model = MarketModel(config)
        build_prof.disable()
        t3 = stamp()
        step_prof = cProfile.Profile()
        step_prof.enable()
        run_to_horizon(model)
        step_prof.disable()
        t4 = stamp()
        out["build_top"] = top_functions(build_prof, t3[0] - t2[0], top)
        out["step_top"] = top_functions(step_prof, t4[0] - t3[0], top)
    else:
        model = MarketModel(config)
        t3 = stamp()
        totals: dict[str, float] = {}
        if mode == "phases":
            wrap_phases(model, totals)
        run_to_horizon(model)
        t4 = stamp()
        if mode == "phases":
            step_total = t4[0] - t3[0]
            totals["other (timeline, metrics, step overhead)"] = step_total - sum(totals.values())
            out["phases"] = dict(sorted(totals.items(), key=lambda kv: kv[1], reverse=True))

    out.update(
        {
            "import_s": t1[0] - t0[0],
            "config_s": t2[0] - t1[0],
            "build_s": t3[0] - t2[0],
            "step_s": t4[0] - t3[0],
            "config_cpu_s": t2[1] - t1[1],
            "build_cpu_s": t3[1] - t2[1],
            "step_cpu_s": t4[1] - t3[1],
            "months_stepped": model.month,
            "customers": model.population.size,
            "rss_start_kib": rss_start,
            "rss_after_import_kib": rss_imported,
            "peak_rss_kib": peak_rss_kib(),
        }
    )
    return out


def spawn_large(
    n: int, horizon: int, mode: str, top: int, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run :func:`large_worker` in a fresh interpreter (``env`` added to the environment)."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        mode,
        "--large-n",
        str(n),
        "--large-horizon",
        str(horizon),
        "--top",
        str(top),
    ]
    proc = subprocess.run(
        cmd, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"large-run worker failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- benchmarks


def bench_in_process(repeats: int) -> dict[str, Any]:
    """Default run: config, build and step timed separately, ``repeats`` times."""
    t0 = time.perf_counter()
    from sim.config import as_config, compose
    from sim.model import MarketModel

    import_s = time.perf_counter() - t0
    parts = ("config", "build", "step", "total")
    wall: dict[str, list[float]] = {k: [] for k in parts}
    cpu: dict[str, list[float]] = {k: [] for k in parts}
    customers = months = 0
    for _ in range(repeats):
        a = stamp()
        config = as_config(compose())
        b = stamp()
        model = MarketModel(config)
        c = stamp()
        run_to_horizon(model)
        d = stamp()
        for key, (start, end) in zip(parts, ((a, b), (b, c), (c, d), (a, d)), strict=True):
            wall[key].append(end[0] - start[0])
            cpu[key].append(end[1] - start[1])
        customers, months = model.population.size, model.month
    return {
        "customers": customers,
        "months": months,
        "import_once_s": import_s,
        **{key: summary(wall[key], cpu[key]) for key in parts},
    }


def time_command(cmd: list[str], repeats: int, check_summary: bool = False) -> dict[str, Any]:
    """Wall and CPU time of a subprocess run from the project root (a fresh run dir each)."""
    wall, cpu = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="sim-bench-") as tmp:
            run_dir = Path(tmp) / "run"
            full = [*cmd, f"hydra.run.dir={run_dir}"] if check_summary else cmd
            t0, c0 = time.perf_counter(), children_cpu()
            proc = subprocess.run(full, cwd=ROOT, capture_output=True, text=True, check=False)
            wall.append(time.perf_counter() - t0)
            cpu.append(children_cpu() - c0)
            if proc.returncode != 0:
                raise RuntimeError(f"{' '.join(full)} failed ({proc.returncode}):\n{proc.stderr}")
            if check_summary and not (run_dir / "summary.json").is_file():
                raise RuntimeError(f"{' '.join(full)} wrote no summary.json in {run_dir}")
    return summary(wall, cpu)


def bench_cli(repeats: int) -> dict[str, Any]:
    """End-to-end CLI runs and import time, as subprocesses."""
    py = sys.executable
    return {
        "cli_no_plots": time_command(
            [py, "-m", "sim", "output.plots=false"], repeats, check_summary=True
        ),
        "cli_plots": time_command([py, "-m", "sim"], repeats, check_summary=True),
        "import_sim_model": time_command([py, "-c", "import sim.model"], repeats),
        "python_startup": time_command([py, "-c", "pass"], repeats),
    }


def bench_large(
    n: int, horizon: int, repeats: int, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """The large run, one fresh subprocess per repeat."""
    runs = [spawn_large(n, horizon, "time", 0, env) for _ in range(repeats)]
    return {
        "n": n,
        "horizon": horizon,
        "env": env or {},
        "runs": runs,
        **{
            key: summary([r[f"{key}_s"] for r in runs], [r[f"{key}_cpu_s"] for r in runs])
            for key in ("config", "build", "step")
        },
        "total": summary(
            [r["config_s"] + r["build_s"] + r["step_s"] for r in runs],
            [r["config_cpu_s"] + r["build_cpu_s"] + r["step_cpu_s"] for r in runs],
        ),
        "peak_rss_kib_max": max(r["peak_rss_kib"] for r in runs),
        "rss_after_import_kib_max": max(r["rss_after_import_kib"] for r in runs),
    }


# ---------------------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return describe_machine(
        ("mesa", "numpy", "scipy", "networkx", "pandas", "matplotlib", "hydra-core")
    )


def gib(kib: float) -> str:
    return f"{kib / 2**20:.3f} GiB"


def table(results: dict[str, Any]) -> str:
    """The results as a plain-text table."""
    rows: list[tuple[str, ...]] = []

    def timing(label: str, s: dict[str, Any]) -> None:
        rows.append(
            (
                label,
                str(s["n"]),
                *(f"{s[k]:.3f}" for k in ("median", "min", "max", "cpu_median", "cpu_min")),
            )
        )

    if "in_process" in results:
        r = results["in_process"]
        what = f"default ({r['customers']:,} customers, {r['months']} months)"
        timing(f"{what}: as_config(compose())", r["config"])
        timing(f"{what}: MarketModel(config)", r["build"])
        timing(f"{what}: step to horizon", r["step"])
        timing(f"{what}: total", r["total"])
    if "cli" in results:
        r = results["cli"]
        timing("python -m sim output.plots=false", r["cli_no_plots"])
        timing("python -m sim (with plots)", r["cli_plots"])
        timing('python -c "import sim.model"', r["import_sim_model"])
        timing('python -c "pass" (interpreter start-up)', r["python_startup"])
    for key in ("large", "large_blas1"):
        if key not in results:
            continue
        r = results[key]
        what = f"{r['n']:,} customers x {r['horizon']} months"
        if r["env"]:
            what += ", " + " ".join(f"{k}={v}" for k, v in r["env"].items())
        timing(f"{what}: as_config(compose())", r["config"])
        timing(f"{what}: MarketModel(config)", r["build"])
        timing(f"{what}: step to horizon", r["step"])
        timing(f"{what}: total (excl. imports)", r["total"])
    width = max(len(r[0]) for r in rows) if rows else 10
    heads = ("wall med", "wall min", "wall max", "cpu med", "cpu min")
    lines = [f"{'benchmark':<{width}}  {'n':>2}" + "".join(f"  {h:>8}" for h in heads)]
    lines.append("-" * len(lines[0]))
    lines += [f"{r[0]:<{width}}  {r[1]:>2}" + "".join(f"  {x:>8}" for x in r[2:]) for r in rows]
    lines.append("(seconds; cpu = user + system CPU time of the process or subprocess)")
    for key in ("large", "large_blas1"):
        if key not in results:
            continue
        r = results[key]
        env = "".join(f", {k}={v}" for k, v in r["env"].items())
        lines.append(
            f"{r['n']:,} x {r['horizon']}{env} peak RSS (max over runs): "
            f"{gib(r['peak_rss_kib_max'])} ({r['peak_rss_kib_max']:,} KiB); "
            f"after imports: {gib(r['rss_after_import_kib_max'])}"
        )
    return "\n".join(lines)


def profile_report(results: dict[str, Any]) -> str:
    """Phase timers and cProfile tops of the large run, as text."""
    out = []
    phases = results["phases"]
    step = phases["step_s"]
    out.append(
        f"Phase timers, {phases['customers']:,} customers x {phases['months_stepped']} months "
        f"(build {phases['build_s']:.2f} s, step {step:.2f} s):"
    )
    for name, secs in phases["phases"].items():
        out.append(f"  {name:<52} {secs:7.3f} s  {100 * secs / step:5.1f}%")
    prof = results["profile"]
    for key, what in (("build_top", "MarketModel(config)"), ("step_top", "stepping")):
        out.append(f"\ncProfile, {what}: top {len(prof[key])} by cumulative time")
        out.append(f"  {'ncalls':>8} {'tottime':>8} {'cumtime':>8} {'cum%':>6}  function")
        for r in prof[key]:
            out.append(
                f"  {r['ncalls']:>8} {r['tottime']:8.3f} {r['cumtime']:8.3f} "
                f"{r['cum_pct']:5.1f}%  {r['function']}"
            )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="in-process default runs")
    parser.add_argument("--cli-repeats", type=int, default=3, help="each subprocess command")
    parser.add_argument("--large-repeats", type=int, default=3, help="large-run subprocesses")
    parser.add_argument("--large-n", type=int, default=100_000, help="customers in large run")
    parser.add_argument("--large-horizon", type=int, default=120, help="months in large run")
    parser.add_argument("--skip-cli", action="store_true", help="skip the subprocess CLI runs")
    parser.add_argument("--skip-large", action="store_true", help="skip the large run")
    parser.add_argument(
        "--skip-blas1", action="store_true", help="skip the OPENBLAS_NUM_THREADS=1 large runs"
    )
    parser.add_argument("--profile", action="store_true", help="phase timers + cProfile")
    parser.add_argument("--top", type=int, default=10, help="cProfile rows to report")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    parser.add_argument("--worker", choices=("time", "phases", "profile"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        result = large_worker(args.large_n, args.large_horizon, args.worker, args.top)
        print(json.dumps(result))
        return 0

    results: dict[str, Any] = {"machine": machine()}
    m = results["machine"]
    print(f"nproc {m['nproc']}, Python {m['python']}, {m['cpu']}, git {m['git']}", flush=True)
    print("in-process default runs ...", flush=True)
    results["in_process"] = bench_in_process(args.repeats)
    if not args.skip_cli:
        print("CLI subprocess runs ...", flush=True)
        results["cli"] = bench_cli(args.cli_repeats)
    if not args.skip_large:
        print(f"large runs ({args.large_n:,} x {args.large_horizon}) ...", flush=True)
        results["large"] = bench_large(args.large_n, args.large_horizon, args.large_repeats)
        if not args.skip_blas1:
            print("large runs again with OPENBLAS_NUM_THREADS=1 ...", flush=True)
            results["large_blas1"] = bench_large(
                args.large_n, args.large_horizon, args.large_repeats, BLAS1
            )
    if args.profile:
        print("profiling the large run (OPENBLAS_NUM_THREADS=1) ...", flush=True)
        for mode in ("phases", "profile"):
            results[mode] = spawn_large(args.large_n, args.large_horizon, mode, args.top, BLAS1)
    m["loadavg_end"] = os.getloadavg()

    print()
    print(table(results))
    if args.profile:
        print()
        print(profile_report(results))
    print(f"\nload average start {m['loadavg_start']}, end {m['loadavg_end']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
