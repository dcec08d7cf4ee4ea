"""Sweep, aggregation and start-up targets of issue 10, measured side by side in one run.

One command, from the project root, writes the table (Markdown) and prints it::

    .venv/bin/python benchmarks/bench_sweep.py                    # the targets (10,000 runs)
    .venv/bin/python benchmarks/bench_sweep.py --runs 1000        # a shorter check
    .venv/bin/python benchmarks/bench_sweep.py --json sweep.json  # also every figure as JSON

What is measured (numbers only: nothing passes or fails, the table says which targets hold):

1. Start-up: ``python -m sim --help`` and ``python -m sim output.plots=false`` (a default
   run end to end), each the median of ``--repeats``; and the two fixed costs under the
   latter, alone: ``python -c "import mesa"`` and ``python -m sim --cfg job`` (Hydra
   composing the default config and printing it, no model). One untimed default run comes
   first, and every child runs without ``PYTHONDONTWRITEBYTECODE``: as on a user's machine
   after the first run, the project's bytecode is cached.
2. In process: the model alone for one default run (``simulate``), median of ``--repeats``.
3. The sweep: ``python -m sim -m hydra/launcher=joblib hydra.launcher.n_jobs=2
   seed='range(RUNS)' hydra.sweep.dir=TMP``: wall time, split by Hydra's log stamps and the
   runs' ``status.json`` into start-up, jobs and the end-of-sweep aggregation; the model's
   time is the sum of ``model_seconds`` over the runs, and the time outside the model is
   ``workers x wall - model``.
4. ``python -m sim.compare TMP --out TMP2`` over the finished sweep: wall time and peak
   memory (``ru_maxrss`` of that process).
5. The same sweep command again (a resume with every run finished): wall time, and whether
   any comparison figure was redrawn.
6. Side by side, ``--unbatched`` runs swept once with one seed per job (Hydra's own way,
   ``hydra.sweeper.seeds_per_job=1``) and once with the default batching: time outside
   the model per run in each.

Every sweep goes into a temporary directory, removed at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from machine_info import describe_machine, user_env

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
LOG_STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]")
DEFAULT_TABLE = ROOT / "benchmarks" / "results" / "sweep.md"


def run_measured(args: list[str], log: Path, cwd: Path = ROOT) -> dict[str, Any]:
    """Run ``args`` from ``cwd`` (the project root); wall time, CPU and peak RSS of that
    process tree, its output in ``log``."""
    start = time.time()
    t0 = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(args, cwd=cwd, env=user_env(), stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}:\n{tail}")
    return {
        "command": " ".join(args),
        "returncode": proc.returncode,
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_rss_gib": usage.ru_maxrss / 2**20,  # KiB on Linux
        "start": start,
        "end": start + wall,
        "log": str(log),
    }


def median_of(args: list[str], repeats: int, logs: Path, name: str) -> dict[str, Any]:
    """Median wall and CPU time of ``repeats`` runs of ``args``."""
    runs = [run_measured(args, logs / f"{name}_{i}.log") for i in range(repeats)]
    samples = [r["wall"] for r in runs]
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "samples": samples,
        "cpu_median": statistics.median(r["cpu"] for r in runs),
    }


def log_time(line: str) -> float | None:
    m = LOG_STAMP.match(line)
    if not m:
        return None
    return datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()


def first_stamp(lines: Sequence[str], needle: str) -> float | None:
    for line in lines:
        if needle in line:
            return log_time(line)
    return None


def statuses(sweep_dir: Path) -> list[dict[str, Any]]:
    out = []
    for root, dirs, files in os.walk(sweep_dir):
        dirs[:] = [d for d in dirs if d not in ("comparison", ".hydra")]
        if "status.json" in files:
            out.append(json.loads(Path(root, "status.json").read_text()))
    return out


def sweep_command(sweep_dir: Path, runs: int, workers: int, extra: Sequence[str] = ()) -> list[str]:
    return [
        PY,
        "-m",
        "sim",
        "-m",
        "hydra/launcher=joblib",
        f"hydra.launcher.n_jobs={workers}",
        f"seed=range({runs})",
        *extra,
        f"hydra.sweep.dir={sweep_dir}",
    ]


def bench_sweep(
    sweep_dir: Path, runs: int, workers: int, logs: Path, name: str, extra: Sequence[str] = ()
) -> dict[str, Any]:
    """One sweep: wall, phases, the model's time and the time outside it."""
    res = run_measured(sweep_command(sweep_dir, runs, workers, extra), logs / f"{name}.log")
    lines = Path(res["log"]).read_text(errors="replace").splitlines()
    sts = statuses(sweep_dir)
    ok = [s for s in sts if s.get("status") == "ok"]
    model = sum(float(s.get("model_seconds", 0.0)) for s in ok)
    res.update(
        runs=len(sts),
        ok=len(ok),
        workers=workers,
        model_seconds=model,
        model_median=statistics.median(float(s["model_seconds"]) for s in ok) if ok else None,
        outside_seconds=workers * res["wall"] - model,
    )
    res["outside_over_model"] = res["outside_seconds"] / model if model else None
    launched = first_stamp(lines, "aunching")
    aggregated = first_stamp(lines, "Sweep aggregated")
    if ok and launched and aggregated:
        first = min(float(s["started"]) for s in ok)
        last = max(float(s["started"]) + float(s["seconds"]) for s in ok)
        res["phases"] = {
            "start-up (to launching)": launched - res["start"],
            "jobs (first start to last end)": last - first,
            "end-of-sweep aggregation": aggregated - last,
            "exit": res["end"] - aggregated,
        }
        jobs = last - first
        res["outside_jobs_phase_over_model"] = (workers * jobs - model) / model if model else None
    return res


def pngs(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.png")}


def bench_model(repeats: int) -> dict[str, Any]:
    """The model alone, in this process: one default run's ``simulate``."""
    from sim.config import as_config, compose
    from sim.runner import simulate

    config = as_config(compose())
    simulate(config)
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        simulate(config)
        samples.append(time.perf_counter() - t0)
    return {"median": statistics.median(samples), "min": min(samples), "samples": samples}


# ------------------------------------------------------------------ the table


def verdict(value: float | None, limit: float) -> str:
    if value is None:
        return "n/a"
    return "yes" if value < limit else "**no**"


def table(r: dict[str, Any]) -> str:
    s, c, again = r["sweep"], r["compare"], r["resume"]
    runs = s["runs"]
    rows = [
        (
            "`python -m sim --help`, median",
            f"{r['help']['median']:.2f} s",
            "< 1 s",
            verdict(r["help"]["median"], 1),
        ),
        (
            "`python -m sim output.plots=false` (default run end to end), median",
            f"{r['default_run']['median']:.2f} s",
            "< 2 s",
            verdict(r["default_run"]["median"], 2),
        ),
        (
            "… its CPU time (user + system), median",
            f"{r['default_run']['cpu_median']:.2f} s",
            "",
            "",
        ),
    ]
    floors = (
        ("import_mesa", "… of which fixed: `python -c 'import mesa'` alone, median"),
        ("compose_only", "… and `python -m sim --cfg job` (start-up, Hydra composing, no run)"),
    )
    rows += [(label, f"{r[key]['median']:.2f} s", "", "") for key, label in floors if key in r]
    rows += [
        (
            "model alone, one default run (`simulate`, in process), median",
            f"{r['model']['median']:.3f} s",
            "",
            "",
        ),
        (
            f"{runs:,}-run sweep, joblib {s['workers']} workers: wall",
            f"{s['wall'] / 60:.1f} min",
            "< 30 min",
            verdict(s["wall"], 1800),
        ),
        ("… runs ok", f"{s['ok']:,} / {runs:,}", "", ""),
        (
            "… CPU time of all its processes (divided by the cores: a quiet machine's wall)",
            f"{s['cpu']:.0f} s ({s['cpu'] / s['workers'] / 60:.1f} min per core)",
            "",
            "",
        ),
        (
            f"… model time (sum over runs; median per run {s['model_median']:.3f} s)",
            f"{s['model_seconds']:.0f} s",
            "",
            "",
        ),
        (
            "… time outside the model / model time (workers x wall − model)",
            f"{s['outside_over_model']:.2f}",
            "< 0.5",
            verdict(s["outside_over_model"], 0.5),
        ),
    ]
    if s.get("outside_jobs_phase_over_model") is not None:
        rows.append(
            ("… the same, jobs phase only", f"{s['outside_jobs_phase_over_model']:.2f}", "", "")
        )
    for label, value in s.get("phases", {}).items():
        rows.append((f"… {label}", f"{value:.1f} s", "", ""))
    rows += [
        (
            f"`python -m sim.compare` over the {runs:,} runs (tables, figures, report): wall",
            f"{c['wall']:.1f} s",
            "< 60 s",
            verdict(c["wall"], 60),
        ),
        ("… peak memory", f"{c['peak_rss_gib']:.2f} GiB", "< 2 GiB", verdict(c["peak_rss_gib"], 2)),
        (
            "the same sweep command again (every run finished): wall",
            f"{again['wall']:.1f} s",
            "< 30 s",
            verdict(again["wall"], 30),
        ),
        (
            "… figures redrawn",
            "none" if not r["redrawn"] else ", ".join(r["redrawn"]),
            "none",
            "yes" if not r["redrawn"] else "**no**",
        ),
    ]
    side = r.get("side_by_side")
    if side:
        for key, label in (("unbatched", "one seed per job"), ("batched", "seeds batched per job")):
            x = side[key]
            rows.append(
                (
                    f"{x['runs']}-run sweep, {label}: outside the model / model",
                    f"{x['outside_over_model']:.2f} (wall {x['wall']:.0f} s)",
                    "",
                    "",
                )
            )
    lines = ["| measurement | value | target | met |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c_} | {d} |" for a, b, c_, d in rows]
    m = r["machine"]
    lines += [
        "",
        f"Machine: {m['nproc']} cores ({m['cpu']}), Python {m['python']}, git {m['git']}, "
        f"{m['date']}; load average {m['loadavg_start']} at the start, {m['loadavg_end']} at the end.",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------ main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs in the main sweep")
    parser.add_argument("--workers", type=int, default=2, help="joblib n_jobs")
    parser.add_argument("--repeats", type=int, default=5, help="repeats of the start-up timings")
    parser.add_argument(
        "--unbatched", type=int, default=200, help="runs in the side-by-side sweeps (0: skip)"
    )
    parser.add_argument("--table", type=Path, default=DEFAULT_TABLE, help="where the table goes")
    parser.add_argument("--json", type=Path, help="also write every figure as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)

    results: dict[str, Any] = {
        "machine": describe_machine(("hydra-core", "joblib", "pyarrow", "pandas"))
    }
    tmp = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    logs = tmp / "logs"
    logs.mkdir()
    print(f"temporary folder {tmp}", flush=True)
    try:
        print("start-up ...", flush=True)
        run_measured(
            [PY, "-m", "sim", "output.plots=false", f"hydra.run.dir={tmp / 'first_run'}"],
            logs / "first_run.log",
        )
        results["help"] = median_of([PY, "-m", "sim", "--help"], args.repeats, logs, "help")
        results["default_run"] = median_of(
            [PY, "-m", "sim", "output.plots=false", f"hydra.run.dir={tmp / 'one_run'}"],
            args.repeats,
            logs,
            "default_run",
        )
        # The floor under a default run: its two fixed costs, measured alone.
        results["import_mesa"] = median_of(
            [PY, "-c", "import mesa"], args.repeats, logs, "import_mesa"
        )
        results["compose_only"] = median_of(
            [PY, "-m", "sim", "--cfg", "job"], args.repeats, logs, "compose_only"
        )
        print("the model alone ...", flush=True)
        results["model"] = bench_model(args.repeats)
        sweep_dir = tmp / "sweep"
        print(f"{args.runs:,}-run sweep ...", flush=True)
        results["sweep"] = bench_sweep(sweep_dir, args.runs, args.workers, logs, "sweep")
        print("python -m sim.compare ...", flush=True)
        results["compare"] = run_measured(
            [PY, "-m", "sim.compare", str(sweep_dir), "--out", str(tmp / "compare")],
            logs / "compare.log",
        )
        print("the same sweep again (resume) ...", flush=True)
        before = pngs(sweep_dir / "comparison")
        results["resume"] = run_measured(
            sweep_command(sweep_dir, args.runs, args.workers), logs / "resume.log"
        )
        after = pngs(sweep_dir / "comparison")
        results["redrawn"] = sorted(k for k in after if before.get(k) != after[k])
        if args.unbatched:
            print(f"side by side, {args.unbatched} runs twice ...", flush=True)
            results["side_by_side"] = {
                "unbatched": bench_sweep(
                    tmp / "unbatched",
                    args.unbatched,
                    args.workers,
                    logs,
                    "unbatched",
                    ["hydra.sweeper.seeds_per_job=1"],
                ),
                "batched": bench_sweep(
                    tmp / "batched", args.unbatched, args.workers, logs, "batched"
                ),
            }
    finally:
        results["machine"]["loadavg_end"] = os.getloadavg()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    text = table(results)
    print()
    print(text)
    args.table.parent.mkdir(parents=True, exist_ok=True)
    args.table.write_text(text + "\n", encoding="utf-8")
    print(f"\ntable written to {args.table}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
