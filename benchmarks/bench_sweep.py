"""Wall-clock measurements of sweeps and of their aggregation (measurements, not tests).

Run from the project root with the project's interpreter::

    .venv/bin/python benchmarks/bench_sweep.py                  # joblib sweep + 1,000-run case
    .venv/bin/python benchmarks/bench_sweep.py --serial         # plus the basic (serial) launcher
    .venv/bin/python benchmarks/bench_sweep.py --json sweep.json

What is measured (see the "Sweeps" section of benchmarks/README.md for the results):

1. In process, one default run (2,000 customers, 60 months): ``as_config`` of the composed
   DictConfig, ``config_hash``, ``simulate``, ``write_results(plots=False)`` and the whole
   ``run_job`` (what a sweep job's ``status.json`` "seconds" covers), each the median of
   ``--repeats``.
2. As a subprocess from the project root, the 200-run sweep of the default model on the
   joblib launcher with 2 workers::

       python -m sim -m hydra/launcher=joblib hydra.launcher.n_jobs=2 \\
           scenario=baseline,leaky_safeguards seed='range(100)' hydra.sweep.dir=TMP

   Its wall time is split with Hydra's log timestamps and the jobs' ``status.json``:
   start-up (until Hydra logs "launching N jobs"), jobs (until the last job's end), the
   end-of-sweep callback (until "Sweep aggregated": aggregation, figures, report) and exit.
   Per-job overhead = (wall - sum(job seconds) / workers) / runs, for the whole wall time and
   for the jobs phase alone. Then ``python -m sim.compare TMP --out TMP2`` is timed alone.
3. With ``--serial``, the same sweep on the basic (serial) launcher.
4. 1,000 small runs (``customers.n=300 horizon=60``, 2 scenarios x 500 seeds, joblib, 2
   workers), then ``python -m sim.compare DIR --out OUT`` over them with ``--no-plots`` and
   with plots and report, and the same steps in process, phase by phase.

Every sweep goes into a temporary directory (``hydra.sweep.dir``), removed at the end unless
``--keep`` is given; nothing is written into ``outputs/`` or ``multirun/``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from machine_info import describe_machine

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
LOG_STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]")


# ---------------------------------------------------------------------------- helpers


def children_cpu() -> float:
    """CPU time (user + system) of the waited-for descendants so far, in seconds."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def median_time(fn: Callable[[int], Any], repeats: int) -> dict[str, Any]:
    """Median, min and samples of ``fn(i)`` wall time over ``repeats`` calls (seconds)."""
    samples = []
    for i in range(repeats):
        t0 = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - t0)
    return {"median": statistics.median(samples), "min": min(samples), "samples": samples}


def log_time(line: str) -> float | None:
    """The epoch time of a Hydra log line's ``[YYYY-mm-dd HH:MM:SS,mmm]`` stamp (local time)."""
    m = LOG_STAMP.match(line)
    if not m:
        return None
    return datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()


def first_stamp(lines: Sequence[str], needle: str) -> float | None:
    for line in lines:
        if needle.lower() in line.lower():
            return log_time(line)
    return None


def run_command(args: list[str], log_dir: Path, name: str) -> dict[str, Any]:
    """Run ``args`` from the project root; wall time, CPU of the children, output kept in files."""
    out_file, err_file = log_dir / f"{name}.out", log_dir / f"{name}.err"
    cpu0 = children_cpu()
    start = time.time()
    t0 = time.perf_counter()
    with out_file.open("w") as out, err_file.open("w") as err:
        proc = subprocess.run(args, cwd=ROOT, stdout=out, stderr=err)
    wall = time.perf_counter() - t0
    result = {
        "command": " ".join(args),
        "returncode": proc.returncode,
        "wall": wall,
        "cpu_children": children_cpu() - cpu0,
        "start": start,
        "end": start + wall,
        "stdout": str(out_file),
        "stderr": str(err_file),
    }
    if proc.returncode != 0:
        tail = err_file.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{result['command']} exited {proc.returncode}:\n{tail}")
    return result


def sweep_command(overrides: list[str], sweep_dir: Path, workers: int | None) -> list[str]:
    launcher = ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={workers}"] if workers else []
    return [PY, "-m", "sim", "-m", *launcher, *overrides, f"hydra.sweep.dir={sweep_dir}"]


def job_statuses(sweep_dir: Path) -> list[dict[str, Any]]:
    statuses = []
    for file in sweep_dir.rglob("status.json"):
        if "comparison" in file.parts:
            continue
        statuses.append(json.loads(file.read_text(encoding="utf-8")))
    return statuses


def bench_sweep(
    name: str, overrides: list[str], workers: int | None, tmp: Path, log_dir: Path
) -> dict[str, Any]:
    """One sweep as a subprocess; its wall time split into start-up, jobs, callback, exit."""
    sweep_dir = tmp / name
    res = run_command(sweep_command(overrides, sweep_dir, workers), log_dir, name)
    lines = (Path(res["stdout"]).read_text() + Path(res["stderr"]).read_text()).splitlines()
    statuses = job_statuses(sweep_dir)
    ok = [s for s in statuses if s.get("status") == "ok"]
    seconds = [float(s["seconds"]) for s in ok]
    n, w = len(statuses), workers or 1
    if len(ok) < n:
        bad = next(s for s in statuses if s.get("status") != "ok")
        res["warning"] = f"{n - len(ok)} of {n} runs not ok; first: {bad.get('error')}"
        print(f"WARNING ({name}): {res['warning']}", flush=True)
    launched = first_stamp(lines, "launching")
    aggregated = first_stamp(lines, "Sweep aggregated")
    first_start = min(float(s["started"]) for s in statuses)
    last_end = max(float(s["started"]) + float(s["seconds"]) for s in statuses)
    job_sum = sum(seconds)
    res.update(
        {
            "sweep_dir": str(sweep_dir),
            "workers": w,
            "runs": n,
            "ok": len(ok),
            "job_seconds_sum": job_sum,
            "job_seconds_median": statistics.median(seconds) if seconds else None,
            "job_seconds_max": max(seconds) if seconds else None,
            "job_seconds_sum_per_worker": job_sum / w,
            "overhead_per_job": (res["wall"] - job_sum / w) / n,
        }
    )
    if launched is not None and aggregated is not None:
        jobs = last_end - launched
        res["phases"] = {
            "startup (to 'Launching jobs')": launched - res["start"],
            "to first job start": first_start - launched,
            "jobs (to last job end)": jobs,
            "end-of-sweep callback (to 'Sweep aggregated')": aggregated - last_end,
            "exit": res["end"] - aggregated,
        }
        res["jobs_phase"] = jobs
        res["callback"] = aggregated - last_end
        res["overhead_per_job_jobs_phase"] = (jobs - job_sum / w) / n
    return res


def bench_compare(sweep_dir: Path, tmp: Path, log_dir: Path, name: str) -> dict[str, Any]:
    """``python -m sim.compare`` over a sweep folder, with plots and with ``--no-plots``."""
    out: dict[str, Any] = {}
    for label, extra in (("tables", ["--no-plots"]), ("plots", [])):
        dest = tmp / f"{name}_compare_{label}"
        args = [PY, "-m", "sim.compare", str(sweep_dir), "--out", str(dest), *extra]
        out[label] = run_command(args, log_dir, f"{name}_compare_{label}")
    return out


# ---------------------------------------------------------------------------- in process


def bench_in_process(repeats: int, tmp: Path) -> dict[str, Any]:
    """The pieces of one default job, in this process."""
    from sim.config import as_config, compose
    from sim.runner import simulate, write_results
    from sim.sweep.jobs import config_hash, run_job

    quiet = logging.getLogger("bench_sweep.quiet")
    quiet.disabled = True
    cfg = compose()
    config = as_config(cfg)
    result = simulate(config)  # warm-up
    folder = tmp / "in_process"
    out = {
        "compose": median_time(
            lambda i: compose(overrides=["scenario=leaky_safeguards", f"seed={i}"]), repeats
        ),
        "as_config": median_time(lambda i: as_config(cfg), repeats),
        "config_hash": median_time(lambda i: config_hash(config), repeats),
        "simulate": median_time(lambda i: simulate(config), repeats),
        "write_results": median_time(
            lambda i: write_results(result, folder / f"w{i}", plots=False), repeats
        ),
        "run_job": median_time(
            lambda i: run_job(cfg, _mkdir(folder / f"j{i}"), [], sweep=True, log=quiet),
            repeats,
        ),
    }
    return out


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def compare_phases(sweep_dir: Path, out_dir: Path) -> dict[str, float]:
    """``sim.sweep.compare.compare`` step by step, in this process (seconds per step)."""
    import pandas as pd

    from sim.results import parquet_available, write_table
    from sim.sweep import aggregate as agg_mod
    from sim.sweep import figures
    from sim.sweep.compare import _sweep_config
    from sim.sweep.report import write_report

    t: dict[str, float] = {}

    def timed(label: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        value = fn()
        t[label] = time.perf_counter() - t0
        return value

    paths = [sweep_dir.resolve()]
    timed("find_run_folders", lambda: agg_mod.find_run_folders(paths))
    timed("aggregate(timeseries=False)", lambda: agg_mod.aggregate(paths, timeseries=False))
    agg = timed("aggregate (all, incl. timeseries.csv reads)", lambda: agg_mod.aggregate(paths))
    agg.runs.attrs["params"] = agg.params
    fmts = ["csv", "parquet"] if parquet_available() else ["csv"]
    for name, frame in (("runs", agg.runs), ("timeseries", agg.timeseries)):
        for fmt in fmts:
            timed(
                f"write {name}.{fmt}",
                lambda n=name, f=frame, x=fmt: write_table(out_dir / f"{n}.{x}", f, x),
            )
    headline = timed("headline_table", lambda: figures.headline_table(agg))
    drawn: list[tuple[str, Path, pd.DataFrame]] = []
    for name, fn in (
        ("fan_charts", lambda p: figures.fan_charts(agg, p)),
        ("difference_bars", lambda p: figures.difference_bars(agg, headline, p)),
        ("heatmaps", lambda p: figures.heatmaps(agg, p)),
        ("tradeoffs", lambda p: figures.tradeoffs(agg, p)),
    ):
        res = timed(name, lambda fn=fn, name=name: fn(out_dir / f"{name}.png"))
        if res is not None:
            drawn.append((name, res[0], res[1]))
    config_text = timed("_sweep_config", lambda: _sweep_config(paths, agg.runs))
    timed(
        "write_report",
        lambda: write_report(
            out_dir / "report.html", "bench", agg.runs, drawn, headline, config_text, paths
        ),
    )
    t["rows: runs"] = float(len(agg.runs))
    t["rows: timeseries"] = float(len(agg.timeseries))
    return t


# ---------------------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return describe_machine(
        ("hydra-core", "hydra-joblib-launcher", "joblib", "pandas", "matplotlib")
    )


def table(results: dict[str, Any]) -> str:
    rows: list[tuple[str, str]] = []

    def add(label: str, value: float | None, unit: str = "s", fmt: str = ".2f") -> None:
        rows.append((label, "n/a" if value is None else f"{value:{fmt}} {unit}"))

    ip = results.get("in_process")
    if ip:
        for key in ("compose", "as_config", "config_hash", "simulate", "write_results", "run_job"):
            add(f"in process, default run: {key} (median)", ip[key]["median"], fmt=".3f")
    for key, title in (("joblib", "joblib, 2 workers"), ("serial", "basic (serial)")):
        s = results.get(key)
        if not s:
            continue
        pre = f"{s['runs']}-run sweep, {title}"
        add(f"{pre}: wall", s["wall"], fmt=".1f")
        add(f"{pre}: CPU of child processes", s["cpu_children"], fmt=".1f")
        for label, value in s.get("phases", {}).items():
            add(f"{pre}:   {label}", value)
        add(f"{pre}: runs ok / total", s["ok"], unit=f"/ {s['runs']}", fmt="d")
        if s.get("warning"):
            rows.append((f"{pre}: WARNING", s["warning"]))
        add(f"{pre}: job seconds, median", s["job_seconds_median"], fmt=".3f")
        add(f"{pre}: sum of job seconds / workers", s["job_seconds_sum_per_worker"], fmt=".1f")
        add(f"{pre}: overhead per job (whole wall)", s["overhead_per_job"], fmt=".3f")
        add(
            f"{pre}: overhead per job (jobs phase)", s.get("overhead_per_job_jobs_phase"), fmt=".3f"
        )
        for label, c in s.get("compare", {}).items():
            add(f"{pre}: python -m sim.compare alone ({label})", c["wall"])
    big = results.get("thousand")
    if big:
        s = big["sweep"]
        pre = f"{s['runs']}-run sweep ({big['customers']} customers), joblib {s['workers']} workers"
        add(f"{pre}: wall", s["wall"], fmt=".1f")
        for label, value in s.get("phases", {}).items():
            add(f"{pre}:   {label}", value)
        add(f"{pre}: job seconds, median", s["job_seconds_median"], fmt=".3f")
        add(f"{pre}: overhead per job (whole wall)", s["overhead_per_job"], fmt=".3f")
        add(
            f"{pre}: overhead per job (jobs phase)", s.get("overhead_per_job_jobs_phase"), fmt=".3f"
        )
        add(f"{pre}: jobs phase only", s.get("jobs_phase"), fmt=".1f")
        for label, c in big["compare"].items():
            text = "tables only, --no-plots" if label == "tables" else "plots + report"
            add(f"python -m sim.compare over {s['runs']} runs ({text})", c["wall"])
        for label, value in big.get("phases", {}).items():
            if label.startswith("rows"):
                add(f"  in process: {label}", value, unit="", fmt=",.0f")
            else:
                add(f"  in process: {label}", value, fmt=".3f")
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{label:<{width}}  {value:>14}" for label, value in rows)


# ---------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="joblib n_jobs")
    parser.add_argument("--seeds", type=int, default=100, help="seeds per scenario (200 runs)")
    parser.add_argument("--repeats", type=int, default=5, help="in-process repeats")
    parser.add_argument("--serial", action="store_true", help="also the basic (serial) launcher")
    parser.add_argument("--skip-joblib", action="store_true", help="skip the 200-run joblib sweep")
    parser.add_argument("--skip-thousand", action="store_true", help="skip the 1,000-run case")
    parser.add_argument("--small-seeds", type=int, default=500, help="seeds per scenario, small")
    parser.add_argument("--small-n", type=int, default=300, help="customers in the small runs")
    parser.add_argument("--no-phases", action="store_true", help="skip in-process compare phases")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    args = parser.parse_args(argv)

    scenarios = "scenario=baseline,leaky_safeguards"
    results: dict[str, Any] = {"machine": machine()}
    m = results["machine"]
    print(f"nproc {m['nproc']}, Python {m['python']}, {m['cpu']}, git {m['git']}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    logs = _mkdir(tmp / "logs")
    print(f"temporary directory {tmp}", flush=True)
    try:
        print("in-process default run ...", flush=True)
        results["in_process"] = bench_in_process(args.repeats, tmp)
        overrides = [scenarios, f"seed=range({args.seeds})"]
        if not args.skip_joblib:
            print(f"{2 * args.seeds}-run sweep, joblib ({args.workers} workers) ...", flush=True)
            s = bench_sweep("joblib", overrides, args.workers, tmp, logs)
            s["compare"] = bench_compare(Path(s["sweep_dir"]), tmp, logs, "joblib")
            results["joblib"] = s
        if args.serial:
            print(f"{2 * args.seeds}-run sweep, basic launcher ...", flush=True)
            results["serial"] = bench_sweep("serial", overrides, None, tmp, logs)
        if not args.skip_thousand:
            n = 2 * args.small_seeds
            print(f"{n}-run sweep ({args.small_n} customers) ...", flush=True)
            small = [
                f"customers.n={args.small_n}",
                "horizon=60",
                scenarios,
                f"seed=range({args.small_seeds})",
            ]
            s = bench_sweep("thousand", small, args.workers, tmp, logs)
            print(f"python -m sim.compare over {s['runs']} runs ...", flush=True)
            big: dict[str, Any] = {
                "customers": args.small_n,
                "sweep": s,
                "compare": bench_compare(Path(s["sweep_dir"]), tmp, logs, "thousand"),
            }
            if not args.no_phases:
                print("the same in process, step by step ...", flush=True)
                big["phases"] = compare_phases(Path(s["sweep_dir"]), tmp / "thousand_phases")
            results["thousand"] = big
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    m["loadavg_end"] = os.getloadavg()

    print()
    print(table(results))
    for key in ("joblib", "serial"):
        if results.get(key, {}).get("warning"):
            print(f"WARNING {key}: {results[key]['warning']}")
    if results.get("thousand", {}).get("sweep", {}).get("warning"):
        print(f"WARNING thousand: {results['thousand']['sweep']['warning']}")
    print("\n(seconds; overhead per job = (wall - sum of job seconds / workers) / runs)")
    print(f"load average start {m['loadavg_start']}, end {m['loadavg_end']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
