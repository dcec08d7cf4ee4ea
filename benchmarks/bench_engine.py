"""The engine targets of issue 10, measured side by side in one run (measurements, not tests).

Run from the project root with the project's interpreter::

    .venv/bin/python benchmarks/bench_engine.py                     # about 10 minutes
    .venv/bin/python benchmarks/bench_engine.py --setup-frames      # once: mesa-frames' venv
    .venv/bin/python benchmarks/bench_engine.py --baseline-ref d2694ff   # default run, before/after

It writes ``benchmarks/results/engine.md`` (the table) and ``engine.json`` (every sample).
Each measurement runs in a fresh interpreter (``--worker``), so its peak resident memory
(``ru_maxrss``) is its own; the three models of the comparison are run in turns, round after
round, so they share the machine's load.

1. **Throughput** at 100,000 customers x 120 months: ``MarketModel(config)`` plus 120 steps
   (the build included), in customer-steps per second, against Mesa's ``BoltzmannWealth``
   (``mesa.examples``, as shipped: a grid, and Gini and wealth collected every step) and
   mesa-frames' Boltzmann example (polars). mesa-frames is a pre-release (0.1.0a0) kept out
   of the project: it runs from ``benchmarks/.venv-frames`` (``--setup-frames`` creates it
   with ``pip install --pre``). Agent-steps per second for all three, from median wall times.
   The worker has loaded the compiled kernels before timing (as every run after the first
   in a process); that one-off cost is reported on its own.
2. **One million customers x 120 months end to end**: ``python -m sim customers.n=1000000
   horizon=120 output.plots=false`` (interpreter start, imports, compiled kernels loaded,
   compose, validation, build, run, results written), its wall time and peak memory.
3. **Scaling**: the month's CPU cost at 25k-400k customers (24 months) and at 200,000
   customers with 1 to 5 links per new node (``network.attach``), the least of two runs
   each, with least-squares slopes and the log-log exponent; and, alone, the two parts whose
   cost grows with the links (generating the network, the month's sparse product).
4. **The default run** (2,000 customers x 84 months) in process: build and steps; with
   ``--baseline-ref REF`` also the same run of the code at git ``REF`` (before the engine
   work), side by side.

Wall and CPU times are both kept: the machine may be shared (CPU time is the steadier).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from machine_info import describe_machine, user_env

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve()
FRAMES_VENV = ROOT / "benchmarks" / ".venv-frames"
FRAMES_PY = FRAMES_VENV / "bin" / "python"
FRAMES_SPEC = "mesa-frames==0.1.0a0"
RESULTS = ROOT / "benchmarks" / "results"

# ---------------------------------------------------------------------------- workers
# Each runs in a fresh interpreter and returns a dict (printed as JSON on the last line).


def stamp() -> tuple[float, float]:
    """Wall clock and this process's CPU time (user + system), in seconds."""
    return time.perf_counter(), time.process_time()


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def model_worker(n: int, horizon: int, attach: int, warm: bool) -> dict[str, Any]:
    """Build and run the simulator; with ``warm``, load the compiled kernels first."""
    t0 = stamp()
    from sim.config import as_config, compose
    from sim.model import MarketModel

    overrides = [f"customers.n={n}", f"horizon={horizon}", f"network.attach={attach}"]
    config = as_config(compose(overrides=overrides))
    t1 = stamp()
    if warm:  # a small run of the same kind of model loads every compiled kernel
        small = [f"network.attach={attach}", "customers.n=20000", "horizon=2"]
        MarketModel(as_config(compose(overrides=small))).run()
    t2 = stamp()
    model = MarketModel(config)
    t3 = stamp()
    model.run()
    t4 = stamp()
    return {
        "customers": model.population.size,
        "months": model.month,
        "edges": int(model.adjacency.nnz // 2),
        "compiled": bool(model._compiled),
        "import_config_s": t1[0] - t0[0],
        "warm_s": t2[0] - t1[0],
        "build_s": t3[0] - t2[0],
        "step_s": t4[0] - t3[0],
        "build_cpu_s": t3[1] - t2[1],
        "step_cpu_s": t4[1] - t3[1],
        "peak_rss_mib": peak_rss_mib(),
    }


def links_worker(n: int, attach: int, repeats: int) -> dict[str, Any]:
    """The parts of a run whose cost grows with the links: generating the network, and the
    month's sparse product ``W E``; the least time of ``repeats`` each (CPU seconds)."""
    import numpy as np

    from sim.config import as_config, compose
    from sim.model import MarketModel
    from sim.world import knowledge_network

    model = MarketModel(
        as_config(compose(overrides=[f"customers.n={n}", f"network.attach={attach}"]))
    )
    pop, net = model.population, model.config.network
    knowledge_network(
        pop.sector, pop.budget0, attach, net.cross_sector_degree, model.streams.network
    )
    build, product = [], []
    stock = np.random.default_rng(0).random(n)
    for _ in range(repeats):
        a = time.process_time()
        knowledge_network(
            pop.sector, pop.budget0, attach, net.cross_sector_degree, model.streams.network
        )
        b = time.process_time()
        for _ in range(10):
            model._weights @ stock
        c = time.process_time()
        build.append(b - a)
        product.append((c - b) / 10)
    return {
        "customers": n,
        "attach": attach,
        "edges": int(model.adjacency.nnz // 2),
        "network_cpu_s": min(build),
        "product_cpu_s": min(product),
    }


def mesa_worker(n: int, steps: int) -> dict[str, Any]:
    """Mesa's BoltzmannWealth as shipped, ``n`` agents on a grid with one cell per agent."""
    import math

    import mesa
    from mesa.examples import BoltzmannWealth

    side = max(1, round(math.sqrt(n)))
    t0 = stamp()
    model = BoltzmannWealth(n=n, width=side, height=side, seed=1)
    for _ in range(steps):
        model.step()
    t1 = stamp()
    wealth = sum(a.wealth for a in model.agents)
    return {
        "agents": n,
        "steps": steps,
        "seconds": t1[0] - t0[0],
        "cpu_s": t1[1] - t0[1],
        "wealth_conserved": wealth == n,
        "mesa": mesa.__version__,
    }


def frames_worker(n: int, steps: int) -> dict[str, Any]:
    """mesa-frames' Boltzmann example (polars back end); runs in ``benchmarks/.venv-frames``."""
    from importlib import metadata

    import polars as pl
    from mesa_frames import AgentSetPolars, ModelDF

    class MoneyAgents(AgentSetPolars):
        def __init__(self, count: int, model: ModelDF) -> None:
            super().__init__(model)
            self += pl.DataFrame(
                {"unique_id": pl.arange(count, eager=True), "wealth": pl.ones(count, eager=True)}
            )

        def step(self) -> None:
            self.do("give_money")

        def give_money(self) -> None:
            self.select(self.wealth > 0)
            others = self.agents.sample(n=len(self.active_agents), with_replacement=True)
            self["active", "wealth"] -= 1
            received = others.group_by("unique_id").len()
            self[received["unique_id"], "wealth"] += received["len"]

    class MoneyModel(ModelDF):
        def __init__(self, count: int) -> None:
            super().__init__()
            self.population = MoneyAgents(count, self)
            self.agents += self.population

        def step(self) -> None:
            self.agents.do("step")

    t0 = stamp()
    model = MoneyModel(n)
    for _ in range(steps):
        model.step()
    t1 = stamp()
    wealth = int(model.population.agents["wealth"].sum())
    return {
        "agents": n,
        "steps": steps,
        "seconds": t1[0] - t0[0],
        "cpu_s": t1[1] - t0[1],
        "wealth_conserved": wealth == n,
        "mesa_frames": metadata.version("mesa-frames"),
        "polars": pl.__version__,
    }


def default_worker(repeats: int) -> dict[str, Any]:
    """The default run (compose once), built and stepped ``repeats`` times, in process."""
    from sim.config import as_config, compose
    from sim.model import MarketModel

    config = as_config(compose())
    build, step, build_cpu, step_cpu = [], [], [], []
    for _ in range(repeats):
        a = stamp()
        model = MarketModel(config)
        b = stamp()
        model.run()
        c = stamp()
        build.append(b[0] - a[0])
        step.append(c[0] - b[0])
        build_cpu.append(b[1] - a[1])
        step_cpu.append(c[1] - b[1])
    return {
        "customers": model.population.size,
        "months": model.month,
        "build_s": build,
        "step_s": step,
        "build_cpu_s": build_cpu,
        "step_cpu_s": step_cpu,
    }


def cli_worker(args: list[str]) -> dict[str, Any]:
    """``python -m sim ARGS`` as a child of this process: wall time and the child's peak RSS."""
    with tempfile.TemporaryDirectory(prefix="sim-engine-") as tmp:
        run_dir = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "sim", *args, f"hydra.run.dir={run_dir}"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=user_env(), capture_output=True, text=True)
        wall = time.perf_counter() - t0
        child = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0 or not (run_dir / "summary.json").is_file():
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
        summary = json.loads((run_dir / "summary.json").read_text())
    return {
        "command": " ".join(["python", "-m", "sim", *args]),
        "seconds": wall,
        "cpu_s": child.ru_utime + child.ru_stime,
        "peak_rss_mib": child.ru_maxrss / 1024,
        "customers_n": summary.get("customers_n"),
    }


WORKERS = {
    "model": model_worker,
    "links": links_worker,
    "mesa": mesa_worker,
    "frames": frames_worker,
    "default": default_worker,
    "cli": cli_worker,
}


def spawn(
    kind: str,
    python: Path | str = sys.executable,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Run one worker in a fresh interpreter and return its result."""
    cmd = [str(python), str(HERE), "--worker", kind, "--args", json.dumps(kwargs)]
    full_env = user_env(OPENBLAS_NUM_THREADS="1", **(env or {}))
    proc = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {kind} {kwargs} failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- benchmarks


def throughput(rounds: int, mesa_agents: int, mesa_steps: int, frames_steps: int) -> dict:
    """Round after round: the simulator at 100k x 120, Mesa's and mesa-frames' Boltzmann."""
    out: dict[str, Any] = {"model": [], "mesa": [], "frames": [], "frames_error": None}
    if not FRAMES_PY.is_file():
        out["frames_error"] = (
            f"{FRAMES_VENV.relative_to(ROOT)} does not exist: run with --setup-frames once"
        )
    for r in range(rounds):
        print(f"  round {r + 1}/{rounds}", flush=True)
        out["model"].append(spawn("model", n=100_000, horizon=120, attach=2, warm=True))
        out["mesa"].append(spawn("mesa", n=mesa_agents, steps=mesa_steps))
        if out["frames_error"] is None:
            try:
                out["frames"].append(spawn("frames", FRAMES_PY, n=100_000, steps=frames_steps))
            except RuntimeError as err:
                out["frames_error"] = str(err).strip().splitlines()[-1]
    cold = spawn("model", n=100_000, horizon=1, attach=2, warm=False)
    out["first_use_in_a_process_s"] = cold["build_s"] + cold["step_s"]
    return out


def rate(runs: list[dict], units: str, seconds: str) -> float:
    """Median units per second over the runs."""
    return statistics.median(r[units] / r[seconds] for r in runs)


def scaling(horizon: int, repeats: int) -> dict[str, Any]:
    """Month cost against customers (attach 2) and against links (200k customers): for each
    size the run with the least CPU time of ``repeats`` (the steadiest on a shared machine)."""

    def best(**kwargs: Any) -> dict[str, Any]:
        runs = [spawn("model", horizon=horizon, warm=True, **kwargs) for _ in range(repeats)]
        return min(runs, key=lambda r: r["step_cpu_s"])

    return {
        "horizon": horizon,
        "repeats": repeats,
        "by_customers": [best(n=n, attach=2) for n in (25_000, 50_000, 100_000, 200_000, 400_000)],
        "by_edges": [best(n=200_000, attach=a) for a in (1, 2, 3, 4, 5)],
        "links": [spawn("links", n=200_000, attach=a, repeats=5) for a in (1, 2, 3, 4, 5)],
    }


def fit(xs: Sequence[float], ys: Sequence[float]) -> dict[str, float]:
    """Least squares ``y = a + b x`` and of ``log y = c + k log x``, with R^2 of the first."""
    import math

    def line(u: Sequence[float], v: Sequence[float]) -> tuple[float, float, float]:
        mu, mv = statistics.fmean(u), statistics.fmean(v)
        suu = sum((a - mu) ** 2 for a in u)
        b = sum((a - mu) * (c - mv) for a, c in zip(u, v, strict=True)) / suu
        a0 = mv - b * mu
        ss = sum((c - mv) ** 2 for c in v)
        res = sum((c - a0 - b * a) ** 2 for a, c in zip(u, v, strict=True))
        return a0, b, 1.0 - res / ss if ss > 0 else 1.0

    a, b, r2 = line(xs, ys)
    _, k, _ = line([math.log(x) for x in xs], [math.log(y) for y in ys])
    return {"intercept": a, "slope": b, "r2": r2, "loglog_exponent": k}


def baseline_tree(ref: str) -> Path:
    """The project's files at git ``ref``, unpacked into a temporary directory."""
    tmp = Path(tempfile.mkdtemp(prefix="sim-baseline-"))
    archive = tmp / "ref.tar"
    subprocess.run(
        ["git", "archive", "--format=tar", "-o", str(archive), ref], cwd=ROOT, check=True
    )
    with tarfile.open(archive) as tar:
        tar.extractall(tmp / "tree", filter="data")
    return tmp / "tree"


def default_runs(repeats: int, baseline_ref: str | None) -> dict[str, Any]:
    """The default run here, and (side by side, in turns) at ``baseline_ref``."""
    out: dict[str, Any] = {"current": [], "baseline": [], "baseline_ref": baseline_ref}
    tree = baseline_tree(baseline_ref) if baseline_ref else None
    for _ in range(2):
        out["current"].append(spawn("default", repeats=repeats))
        if tree is not None:
            # The worker script is read from this tree; ``import sim`` from the baseline's.
            env = {"PYTHONPATH": str(tree)}
            out["baseline"].append(spawn("default", cwd=tree, env=env, repeats=repeats))
    return out


# ---------------------------------------------------------------------------- report


def median_of(runs: list[dict], key: str) -> float:
    values: list[float] = []
    for r in runs:
        v = r[key]
        values.extend(v if isinstance(v, list) else [v])
    return statistics.median(values)


def report(results: dict[str, Any]) -> str:
    """The results as a Markdown table, one row per target, plus the scaling fits."""
    m = results["machine"]
    t = results["throughput"]
    model, mesa, frames = t["model"], t["mesa"], t["frames"]
    for r in model:
        r["customer_steps"] = r["customers"] * r["months"]
        r["total_s"] = r["build_s"] + r["step_s"]
        r["total_cpu_s"] = r["build_cpu_s"] + r["step_cpu_s"]
    for r in [*mesa, *frames]:
        r["agent_steps"] = r["agents"] * r["steps"]
    ours = rate(model, "customer_steps", "total_s")
    ours_cpu = rate(model, "customer_steps", "total_cpu_s")
    mesa_rate = rate(mesa, "agent_steps", "seconds")
    lines = [
        f"Measured {m['date']} on {m['nproc']} cores ({m['cpu']}), Python {m['python']}, "
        f"git {m['git']}; load average {m['loadavg_start'][0]:.1f} at the start and "
        f"{m['loadavg_end'][0]:.1f} at the end. Command: `{results['command']}`.",
        "",
        "| target | measured | goal |",
        "|---|---|---|",
        f"| 100,000 customers x 120 months, build included (median of {len(model)}) | "
        f"**{ours / 1e6:.1f}M** customer-steps/s ({median_of(model, 'total_s'):.2f} s: build "
        f"{median_of(model, 'build_s'):.2f} s, steps {median_of(model, 'step_s'):.2f} s); "
        f"{ours_cpu / 1e6:.1f}M per CPU-second | 8M |",
        f"| against Mesa's BoltzmannWealth ({mesa[0]['agents']:,} agents x "
        f"{mesa[0]['steps']} steps: {mesa_rate / 1e3:.0f}k agent-steps/s) | "
        f"**{ours / mesa_rate:.0f}x** | 100x |",
    ]
    if frames:
        frames_rate = rate(frames, "agent_steps", "seconds")
        lines.append(
            f"| against mesa-frames' Boltzmann ({frames[0]['mesa_frames']}, polars "
            f"{frames[0]['polars']}; {frames[0]['agents']:,} agents x {frames[0]['steps']} "
            f"steps: {frames_rate / 1e6:.2f}M agent-steps/s) | **{ours / frames_rate:.1f}x** | 4x |"
        )
    else:
        lines.append(f"| against mesa-frames' Boltzmann | not measured: {t['frames_error']} | 4x |")
    if "million" in results:
        big = results["million"]
        lines.append(
            f"| 1,000,000 customers x 120 months end to end (`{big['command']}`) | "
            f"**{big['seconds']:.1f} s**, peak memory **{big['peak_rss_mib'] / 1024:.2f} GiB** | "
            "60 s, 2 GiB |"
        )
    if "scaling" in results:
        s = results["scaling"]
        by_n = fit(
            [r["customers"] for r in s["by_customers"]],
            [r["step_cpu_s"] / r["months"] for r in s["by_customers"]],
        )
        by_e = fit(
            [r["edges"] for r in s["by_edges"]],
            [r["step_cpu_s"] / r["months"] for r in s["by_edges"]],
        )
        results["fits"] = {"customers": by_n, "edges": by_e}
        months = ", ".join(
            f"{r['customers'] // 1000}k: {r['step_cpu_s'] / r['months'] * 1e3:.1f}"
            for r in s["by_customers"]
        )
        lines.append(
            f"| cost against customers ({s['horizon']} months, CPU ms a month: {months}) | "
            f"{by_n['slope'] * 1e9:.0f} ns per customer-month (R^2 {by_n['r2']:.3f}); "
            f"log-log exponent **{by_n['loglog_exponent']:.2f}** | linear (1.00) |"
        )
        links = ", ".join(
            f"{r['edges'] / 1e6:.2f}M: {r['step_cpu_s'] / r['months'] * 1e3:.1f}"
            for r in s["by_edges"]
        )
        lines.append(
            f"| cost against links (200k customers, attach 1-5; CPU ms a month: {links}) | "
            f"{by_e['slope'] * 1e9:.1f} ns per link-month (R^2 {by_e['r2']:.3f}) over "
            f"{by_e['intercept'] * 1e3:.1f} ms a month for the rest | linear |"
        )
        net = fit([r["edges"] for r in s["links"]], [r["network_cpu_s"] for r in s["links"]])
        spmv = fit([r["edges"] for r in s["links"]], [r["product_cpu_s"] for r in s["links"]])
        results["fits"].update({"network_build": net, "sparse_product": spmv})
        lines.append(
            "| the parts that grow with links, alone (200k customers, attach 1-5, least of 5) | "
            f"network generation {net['slope'] * 1e9:.0f} ns per link (R^2 {net['r2']:.3f}, "
            f"log-log {net['loglog_exponent']:.2f}); the month's sparse product "
            f"{spmv['slope'] * 1e9:.1f} ns per link (R^2 {spmv['r2']:.3f}, "
            f"log-log {spmv['loglog_exponent']:.2f}) | linear |"
        )
    d = results["default"]
    cur_b, cur_s = median_of(d["current"], "build_s"), median_of(d["current"], "step_s")
    cell = f"build {cur_b * 1e3:.0f} ms, {d['current'][0]['months']} steps {cur_s * 1e3:.0f} ms"
    if d["baseline"]:
        base_b, base_s = median_of(d["baseline"], "build_s"), median_of(d["baseline"], "step_s")
        cell += (
            f"; at `{d['baseline_ref']}` (before): build {base_b * 1e3:.0f} ms, steps "
            f"{base_s * 1e3:.0f} ms"
        )
    lines.append(f"| default run (2,000 customers x 84 months), medians | {cell} | not slower |")
    lines += [
        "",
        f"Compiled kernels used at 100k: {model[0]['compiled']}. Loading them the first "
        f"time in a process (importing numba, reading its cache) took "
        f"{t['first_use_in_a_process_s']:.2f} s, outside the timed runs; compiling them on a "
        "machine for the first time takes a further 10-20 s once.",
    ]
    return "\n".join(lines) + "\n"


def setup_frames() -> None:
    """Create ``benchmarks/.venv-frames`` with mesa-frames (a pre-release, so ``--pre``)."""
    subprocess.run([sys.executable, "-m", "venv", str(FRAMES_VENV)], check=True)
    subprocess.run(
        [str(FRAMES_VENV / "bin" / "pip"), "install", "-q", "--pre", FRAMES_SPEC], check=True
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the comparison")
    parser.add_argument("--mesa-agents", type=int, default=10_000)
    parser.add_argument("--mesa-steps", type=int, default=10)
    parser.add_argument("--frames-steps", type=int, default=100)
    parser.add_argument("--scaling-horizon", type=int, default=24)
    parser.add_argument("--scaling-repeats", type=int, default=2)
    parser.add_argument("--default-repeats", type=int, default=5)
    parser.add_argument("--baseline-ref", help="git ref for the default run before/after")
    parser.add_argument("--skip-million", action="store_true", help="skip the 1M-customer run")
    parser.add_argument("--skip-scaling", action="store_true", help="skip the scaling runs")
    parser.add_argument("--setup-frames", action="store_true", help="create the frames venv")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for engine.md/json")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--args", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(WORKERS[args.worker](**json.loads(args.args))))
        return 0
    if args.setup_frames:
        setup_frames()

    results: dict[str, Any] = {
        "machine": describe_machine(("mesa", "numpy", "scipy", "numba", "networkx")),
        "command": " ".join(["python", "benchmarks/bench_engine.py", *(argv or sys.argv[1:])]),
    }
    print("compiling the kernels if this machine has not yet ...", flush=True)
    spawn("model", n=20_000, horizon=2, attach=2, warm=False)
    print("throughput: the simulator, Mesa and mesa-frames in turns ...", flush=True)
    results["throughput"] = throughput(
        args.rounds, args.mesa_agents, args.mesa_steps, args.frames_steps
    )
    if not args.skip_million:
        print("one million customers x 120 months, end to end ...", flush=True)
        results["million"] = spawn(
            "cli", args=["customers.n=1000000", "horizon=120", "output.plots=false"]
        )
    if not args.skip_scaling:
        print("scaling in customers and in links ...", flush=True)
        results["scaling"] = scaling(args.scaling_horizon, args.scaling_repeats)
    print("the default run ...", flush=True)
    results["default"] = default_runs(args.default_repeats, args.baseline_ref)
    results["machine"]["loadavg_end"] = os.getloadavg()

    table = report(results)
    print()
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "engine.md").write_text(table)
    (args.out / "engine.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"written: {args.out / 'engine.md'}, {args.out / 'engine.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
