"""Generate docs/scenarios.md and docs/figures/scenario_*.png: the scenario catalogue.

For each scenario in scenarios/: what it changes and when, the question it answers, why its
headlines move (the chain of mechanisms, each checked by tests/test_chains.py), a table of
paired changes against baseline with 95% intervals, and a figure of the same in percent.
Every run pairs a scenario with baseline on the same seed (common random numbers).

    python scripts/make_scenario_catalogue.py [--seeds 10] [--jobs 2]
"""

from __future__ import annotations

import argparse
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import yaml
from matplotlib.figure import Figure
from scipy import stats

from sim.metrics import HEADLINE, HIGHER, format_value, metric
from sim.paths import ROOT, SCENARIO_DIR

DOCS = ROOT / "docs"
FIGURES = DOCS / "figures"
OUTCOMES = (
    *HEADLINE,
    "harvested_samples_undetected",
    "narrow_skill_reach_final",
    "model_withdrawals",
    "revenue_two_way",
)


def _flatten(node: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in node.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _summary(task: tuple[str, int]) -> dict:
    from sim import run

    name, seed = task
    summary = run(scenario=name, overrides=[f"seed={seed}"]).summary
    return {k: math.nan if summary[k] is None else float(summary[k]) for k in OUTCOMES}


def _interval(diffs: np.ndarray) -> tuple[float, float, float]:
    mean = float(np.nanmean(diffs))
    d = diffs[np.isfinite(diffs)]
    if len(d) < 2 or np.all(d == d[0]):
        return mean, mean, mean
    half = float(stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d)))
    return mean, mean - half, mean + half


def _effects(scen: dict, base: dict) -> dict[str, tuple[float, float, float, float]]:
    """Per outcome: paired mean change, its 95% interval, and the baseline mean."""
    out = {}
    for key in OUTCOMES:
        mean, lo, hi = _interval(scen[key] - base[key])
        out[key] = (mean, lo, hi, float(np.nanmean(base[key])))
    return out


def _colour(key: str, mean: float, lo: float, hi: float) -> str:
    m = metric(key)
    if lo <= 0 <= hi or not m.better:
        return "0.6"
    good = (mean > 0) == (m.better == HIGHER)
    return "tab:green" if good else "tab:red"


def _figure(name: str, effects: dict, path: Path) -> None:
    rows = [(k, e) for k, e in effects.items() if e[3]]
    labels = [
        f"{metric(k).label}" + (f" ({metric(k).whom})" if metric(k).whom else "") for k, _ in rows
    ]
    pct = np.array([[100 * e[i] / abs(e[3]) for i in range(3)] for _, e in rows])
    fig = Figure(figsize=(9, 0.32 * len(rows) + 1.6))
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1]
    colours = [_colour(k, *e[:3]) for k, e in rows]
    ax.barh(y, pct[:, 0], color=colours, alpha=0.85)
    ax.errorbar(
        pct[:, 0],
        y,
        xerr=[pct[:, 0] - pct[:, 1], pct[:, 2] - pct[:, 0]],
        fmt="none",
        ecolor="black",
        capsize=3,
        lw=1,
    )
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlabel(
        "change against baseline, % of the baseline mean (paired over seeds, 95% interval)",
        fontsize=8,
    )
    ax.set_title(
        f"{name} against baseline: green better, red worse for the party named; grey: no clear effect or no direction",
        fontsize=8,
    )
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def _table(effects: dict) -> list[str]:
    lines = ["| outcome | baseline (mean) | change, mean [95% interval] |", "|---|---|---|"]
    for key, (mean, lo, hi, level) in effects.items():
        change = f"{format_value(key, mean, signed=True)} [{format_value(key, lo, signed=True)}, {format_value(key, hi, signed=True)}]"
        lines.append(f"| {metric(key).label} | {format_value(key, level)} | {change} |")
    return lines


def _section(name: str, spec: dict, effects: dict | None, figure: str | None) -> str:
    meta = spec["scenario"]
    lines = [f"## `{name}`", "", " ".join(str(meta.get("description", "")).split()), ""]
    lines += [f"**Question.** {meta.get('question', '')}", ""]
    params = _flatten({k: v for k, v in spec.items() if k != "scenario"})
    events = meta.get("events") or []
    if params:
        lines += ["**Parameters changed from month 0.**", "", "| key | value |", "|---|---|"]
        lines += [f"| `{k}` | `{v}` |" for k, v in params.items()] + [""]
    if events:
        lines += [
            "**Events.**",
            "",
            "| when | lever | value | ramp (months) | note |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {e.get('date', e.get('month'))} | `{e['lever']}` | `{e['value']}` | {e.get('ramp', 0)} | {e.get('note', '')} |"
            for e in events
        ] + [""]
    if not params and not events:
        lines += ["No changes: this is the reference every other scenario is compared with.", ""]
    if meta.get("why"):
        lines += [f"**Why the headlines move.** {' '.join(str(meta['why']).split())}", ""]
    expect = meta.get("expect") or {}
    if expect:
        lines += [
            "**Expected against baseline** (each with a paired 95% interval excluding zero, "
            "checked by `tests/test_scenarios.py`): "
            + ", ".join(f"`{k}` {v}" for k, v in expect.items())
            + ".",
            "",
        ]
    if effects:
        lines += _table(effects) + [""]
    if figure:
        lines += [f"![{name} against baseline](figures/{figure})", ""]
    return "\n".join(lines)


def main() -> None:
    """Run every scenario over the seeds and write the catalogue and its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="replications per scenario")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    args = parser.parse_args()
    seeds = range(args.seeds)
    FIGURES.mkdir(parents=True, exist_ok=True)
    names = sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
    names.remove("baseline")
    tasks = [(n, s) for n in ["baseline", *names] for s in seeds]
    with ProcessPoolExecutor(args.jobs) as pool:
        done = dict(zip(tasks, pool.map(_summary, tasks, chunksize=4), strict=True))

    def arrays(name: str) -> dict[str, np.ndarray]:
        return {k: np.array([done[(name, s)][k] for s in seeds]) for k in OUTCOMES}

    base = arrays("baseline")
    parts = [
        "# Scenario catalogue",
        "",
        f"Generated by `python scripts/make_scenario_catalogue.py --seeds {args.seeds}` (default "
        f"model: 2,000 customers, January 2024 to December 2030 with the recorded history of "
        f"2024-2026; seeds 0 to {args.seeds - 1}).",
        "Pick a scenario with `python -m sim scenario=NAME`; the files live in `scenarios/`. For each",
        "scenario: what changes, the question, why its headlines move (the chain of mechanisms, each",
        "checked by a test that switches the middle link off), and its change against `baseline`",
        "paired by seed (same seed: same population, network and random draws), as a mean with a 95%",
        "interval, in a table and in percent of the baseline mean in the figure (linear within +/-10%,",
        "logarithmic beyond). Totals are over the whole run; `final` values are the last month's.",
        "",
        "To write your own scenario, copy `scenarios/baseline.yaml`, give it a new name (the file",
        "name and `scenario.name` must match), add parameter changes (any key of",
        "[parameters.md](parameters.md)) and dated `events` (`date: YYYY-MM` or a month number,",
        "lever, value, optional `ramp` in months and `note`; levers are listed in",
        "[results.md](results.md)). Keep your own files",
        "in `scenarios/` or in a folder named by `SIM_SCENARIO_PATH` (or",
        "`hydra.searchpath=[scenarios:///abs/folder]`). Bad files are refused before the run, with",
        "the file and the key named.",
        "",
        _section(
            "baseline", yaml.safe_load((SCENARIO_DIR / "baseline.yaml").read_text()), None, None
        ),
    ]
    for name in names:
        spec = yaml.safe_load((SCENARIO_DIR / f"{name}.yaml").read_text())
        figure = f"scenario_{name}.png"
        effects = _effects(arrays(name), base)
        _figure(name, effects, FIGURES / figure)
        parts.append(_section(name, spec, effects, figure))
        print(f"wrote {FIGURES / figure}")
    (DOCS / "scenarios.md").write_text("\n".join(parts), encoding="utf-8")
    print(f"wrote {DOCS / 'scenarios.md'}")


if __name__ == "__main__":
    main()
