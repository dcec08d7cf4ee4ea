"""Measure what one customer, knowledge edge, international customer and month cost.

These measurements feed the per-unit costs in ``sim/limits.py``, which turns a config's
sizes into an estimate of memory and run time and refuses configs that would not fit.
Run from the project root with the project's interpreter (about 2 minutes)::

    .venv/bin/python benchmarks/bench_limits.py
    .venv/bin/python benchmarks/bench_limits.py --json limits.json

Each case runs in a fresh subprocess so its peak RSS (``ru_maxrss``) is its own. A case
builds the model, steps it to the horizon, builds the result tables (as
``sim.runner.simulate`` does), writes the files (no plots) and, last, builds
``model.network``, the networkx graph the network plot draws. The costs are differences
between two cases that differ in one size only, so interpreter and import memory cancel.
Nothing passes or fails; the numbers are measurements on the machine the script runs on.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from machine_info import describe_machine

ROOT = Path(__file__).resolve().parents[1]

#: name -> overrides; pairs below differ in one size only.
CASES: dict[str, dict[str, Any]] = {
    "small": {"customers.n": 1_000, "international.n": 0, "horizon": 12},
    "customers": {"customers.n": 200_000, "international.n": 0, "horizon": 12},
    "edges": {
        "customers.n": 200_000,
        "international.n": 0,
        "horizon": 12,
        "network.attach": 8,
        "network.cross_sector_degree": 4.0,
    },
    "international": {"customers.n": 1_000, "international.n": 1_000_000, "horizon": 12},
    # Long enough for the months to show, short enough for the defaults to stay within the
    # compounding bound (sim/limits.py: prices falling 20% a year stay finite to ~1,900 months).
    "months": {"customers.n": 1_000, "international.n": 0, "horizon": 1_800},
}

#: Measured quantities, each modelled as fixed + per customer + per edge + per
#: international customer + per month (seconds per month: per month of each size).
QUANTITIES = {
    "memory_run": "bytes, model and results",
    "memory_graph": "bytes, plus the networkx graph of the network plot",
    "seconds_build": "seconds to build the model",
    "seconds_month": "seconds per monthly step",
    "seconds_graph": "seconds to build the networkx graph",
}
SIZES = ("customers", "edges", "international", "months")


def peak_kib() -> int:
    """Peak resident set size of this process so far (KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def worker(params: dict[str, Any]) -> dict[str, Any]:
    """One case in this fresh process: peak memory and time of each stage."""
    from dataclasses import replace

    from sim.config import as_config, compose
    from sim.limits import Sizes, estimate
    from sim.model import MarketModel
    from sim.runner import RunResult, customers_table, write_results

    base = peak_kib()
    overrides = [f"{k}={v}" for k, v in params.items()] + ["output.plots=false"]
    config = as_config(compose(None, overrides))
    t0 = time.perf_counter()
    model = MarketModel(config)
    t1 = time.perf_counter()
    for _ in range(config.horizon):
        model.step()
    t2 = time.perf_counter()
    timeseries = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    result = RunResult({"scenario": "bench"}, timeseries, customers_table(model), config, model)
    with tempfile.TemporaryDirectory() as tmp:
        write_results(result, Path(tmp), plots=False)
    run_kib = peak_kib()
    t3 = time.perf_counter()
    graph = model.network
    t4 = time.perf_counter()
    sizes = Sizes.of(config)
    unplotted, plotted = estimate(replace(sizes, plots=False)), estimate(replace(sizes, plots=True))
    return {
        "estimated_edges": sizes.edges,
        "estimated_memory_run": unplotted.total_memory,
        "estimated_memory_network": plotted.total_memory,
        "estimated_seconds": unplotted.seconds,
        "params": params,
        "customers": model.population.size,
        "edges": int(model.adjacency.nnz // 2),
        "international": model.international.size,
        "months": config.horizon,
        "memory_imports": base * 1024,
        "memory_run": (run_kib - base) * 1024,
        "memory_network": (peak_kib() - base) * 1024,
        "graph_nodes": graph.number_of_nodes(),
        "graph_edges": graph.number_of_edges(),
        "seconds_build": t1 - t0,
        "seconds_steps": t2 - t1,
        "seconds_network": t4 - t3,
    }


def run_case(params: dict[str, Any]) -> dict[str, Any]:
    """Run :func:`worker` in a fresh subprocess and return its measurements."""
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(params)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def unit_costs(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per-unit costs from cases that each differ from another in one size only.

    Edges are solved first (``edges`` against ``customers``: same customers, more edges),
    then customers net of their default edges, then international customers and months
    against ``small``; what is left of ``small`` is the fixed part.
    """
    r = {name: dict(case) for name, case in results.items()}
    for case in r.values():
        case["seconds_month"] = case["seconds_steps"] / case["months"]
        case["memory_graph"] = case["memory_network"] - case["memory_run"]
        case["seconds_graph"] = case["seconds_network"]
    small = r["small"]
    costs: dict[str, dict[str, float]] = {}
    for q in QUANTITIES:
        edge = (r["edges"][q] - r["customers"][q]) / (r["edges"]["edges"] - r["customers"]["edges"])
        customer = (
            r["customers"][q] - small[q] - edge * (r["customers"]["edges"] - small["edges"])
        ) / (r["customers"]["customers"] - small["customers"])
        international = (r["international"][q] - small[q]) / (
            r["international"]["international"] - small["international"]
        )
        month = (
            0.0
            if q == "seconds_month"
            else (r["months"][q] - small[q]) / (r["months"]["months"] - small["months"])
        )
        fixed = (
            small[q]
            - customer * small["customers"]
            - edge * small["edges"]
            - month * small["months"]
        )
        costs[q] = {
            "fixed": fixed,
            "customers": customer,
            "edges": edge,
            "international": international,
            "months": month,
        }
    return costs


def main() -> None:
    """Run every case, print the raw measurements and the per-unit costs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    machine = describe_machine(["numpy", "scipy", "networkx", "mesa", "pandas"])
    results = {}
    for name, params in CASES.items():
        print(f"case {name}: {params} ...", file=sys.stderr, flush=True)
        results[name] = run_case(params)
    print(
        f"{'case':<15}{'customers':>10}{'edges':>10}{'intl':>10}{'months':>8}"
        f"{'run MiB':>10}{'+graph MiB':>11}{'build s':>9}{'steps s':>9}{'graph s':>9}"
    )
    for name, r in results.items():
        print(
            f"{name:<15}{r['customers']:>10,}{r['edges']:>10,}{r['international']:>10,}"
            f"{r['months']:>8,}{r['memory_run'] / 2**20:>10.1f}{r['memory_network'] / 2**20:>11.1f}"
            f"{r['seconds_build']:>9.2f}{r['seconds_steps']:>9.2f}{r['seconds_network']:>9.2f}"
        )
    print("\nsim/limits.py's estimate against the measurement (memory including imports):")
    print(
        f"{'case':<15}{'edges':>11}{'est':>11}{'MiB':>7}{'est':>7}{'+graph':>8}{'est':>7}"
        f"{'s':>7}{'est':>7}"
    )
    for name, r in results.items():
        mib = lambda b: b / 2**20  # noqa: E731
        print(
            f"{name:<15}{r['edges']:>11,}{r['estimated_edges']:>11,.0f}"
            f"{mib(r['memory_imports'] + r['memory_run']):>7.0f}{mib(r['estimated_memory_run']):>7.0f}"
            f"{mib(r['memory_imports'] + r['memory_network']):>8.0f}"
            f"{mib(r['estimated_memory_network']):>7.0f}"
            f"{r['seconds_build'] + r['seconds_steps']:>7.1f}{r['estimated_seconds']:>7.1f}"
        )
    costs = unit_costs(results)
    print(f"\n{'quantity':<55}{'fixed':>11}" + "".join(f"{'per ' + z:>14}" for z in SIZES))
    for q, what in QUANTITIES.items():
        c = costs[q]
        print(
            f"{q + ' (' + what + ')':<55}{c['fixed']:>11.3g}"
            + "".join(f"{c[z]:>14.3g}" for z in SIZES)
        )
    if args.json:
        args.json.write_text(
            json.dumps({"machine": machine, "cases": results, "costs": costs}, indent=2)
        )


if __name__ == "__main__":
    main()
