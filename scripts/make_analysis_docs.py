"""Generate docs/analysis.md and docs/figures/analysis_*.png: the decision analysis of baseline.

One command runs, in order: Morris screening of every uncertainty and lever, Sobol indices
of the top Morris parameters, one PRIM scenario discovery (by default: in which worlds does
leakage exceed the baseline's expected leakage by a quarter?), and the robustness of the
named policy scenarios across a shared sample of worlds (satisficing: leakage no worse than
the baseline's expectation, intermediary revenue at least 90% of it). Each section gets its
table, its figure and a short reading generated from the numbers.

    python scripts/make_analysis_docs.py                   # the published sizes (long)
    python scripts/make_analysis_docs.py --small --n-jobs 2  # a quick check of the page

Runs are cached under ``--work`` (default outputs/analysis/docs): run it again to resume.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from sim import run_many  # noqa: E402
from sim.analysis import morris, prim, robust, sobol  # noqa: E402
from sim.analysis.cli import parse_sets  # noqa: E402
from sim.analysis.experiment import Settings  # noqa: E402
from sim.analysis.space import outcome  # noqa: E402
from sim.metrics import format_value  # noqa: E402
from sim.paths import ROOT  # noqa: E402

DOCS = ROOT / "docs"
LEAKAGE, REVENUE = "gap_closed_months_final", "revenue_intermediary"
SIZES = {
    "full": {"trajectories": 10, "seeds": 3, "sobol": 128, "top": 5, "prim": 200, "robust": 50},
    "small": {"trajectories": 2, "seeds": 1, "sobol": 8, "top": 3, "prim": 30, "robust": 8},
}
#: Two years from 2026-10: every scenario's branching date (2027-01 or 2028-01) falls inside.
SMALL_MODEL = {"customers.n": 200, "international.n": 40, "start": "2026-10", "horizon": 24}


def _commit() -> str:
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
        )
        return done.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def _figure(src: Path, name: str, docs: Path) -> str:
    figures = docs / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, figures / name)
    return f"![{name}](figures/{name})"


def _table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _g(value: float) -> str:
    return f"{value:.3g}"


def morris_section(result: morris.MorrisResult, docs: Path) -> list[str]:
    table = result.table
    lines = [
        "## Morris screening: what moves the outcomes",
        "",
        "Mean absolute elementary effect `mu*` of each factor (uncertainties and levers) on each "
        "headline outcome, in the outcome's unit per full range of the factor, with its 95% "
        "bootstrap half-width; `sigma` large against `mu*` means non-linear effects or "
        "interactions. Full table: `morris.csv` in the work folder.",
        "",
    ]
    for key in (LEAKAGE, REVENUE):
        rows = table[table["outcome"] == key].sort_values("rank").head(10)
        if rows.empty:
            continue
        top = rows.head(5)
        levers = [p for p, r in zip(top["parameter"], top["role"], strict=True) if r == "lever"]
        shown = rows.assign(
            mu_star=[format_value(key, v) for v in rows["mu_star"]],
            mu_star_conf=[format_value(key, v) for v in rows["mu_star_conf"]],
            sigma=[format_value(key, v) for v in rows["sigma"]],
        )[["rank", "parameter", "role", "mu_star", "mu_star_conf", "sigma"]]
        lines += [
            f"### {outcome(key).label}",
            "",
            _table(shown),
            "",
            _figure(result.figures[key], f"analysis_morris_{key}.png", docs),
            "",
            f"**Reading.** The five most influential factors for {outcome(key).label} are "
            + ", ".join(f"`{p}`" for p in top["parameter"])
            + (
                f"; of these, {len(levers)} "
                + ("is a policy lever" if len(levers) == 1 else "are policy levers")
                + f" ({', '.join(f'`{p}`' for p in levers)})."
                if levers
                else "; none of them is a policy lever: the assumptions matter more than the choices."
            ),
            "",
        ]
        ratio = float((rows["mu_star_conf"] / rows["mu_star"]).median())
        if ratio > 0.5:
            lines += [
                f"The 95% half-widths are large (median {ratio:.0%} of `mu*` over the top ten): "
                "the screening separates the few factors that matter from the many that do "
                "not, but the order among the top ones is not firm; more trajectories "
                "(`--trajectories`) narrow it.",
                "",
            ]
    if result.skipped:
        lines += [
            "Left out: " + "; ".join(f"{k} ({why})" for k, why in result.skipped.items()) + ".",
            "",
        ]
    return lines


def sobol_section(result: sobol.SobolResult, docs: Path) -> list[str]:
    table = result.table
    lines = [
        "## Sobol indices of the top parameters",
        "",
        "First-order `S1` (share of the outcome's variance a parameter explains alone) and total "
        "`ST` (alone and through interactions), with 95% bootstrap half-widths, for the top "
        "Morris parameters; the other factors keep the baseline's values.",
        "",
    ]
    for key in (LEAKAGE, REVENUE):
        rows = table[table["outcome"] == key]
        if rows.empty:
            continue
        shown = rows.assign(
            **{c: [_g(v) for v in rows[c]] for c in ("S1", "S1_conf", "ST", "ST_conf")}
        )[["parameter", "S1", "S1_conf", "ST", "ST_conf"]]
        best = rows.sort_values("ST", ascending=False).iloc[0]
        total, widest = rows["S1"].sum(), rows[["S1_conf", "ST_conf"]].to_numpy().max()
        if total > 1.05 or widest > 0.25:
            split = (
                f"the sample is too small for a firm split (first-order indices sum to "
                f"{_g(total)}, half-widths up to {_g(widest)}): rerun with a larger N"
            )
        else:
            split = (
                f"the first-order indices sum to {_g(total)}, so interactions among these "
                f"parameters account for about {max(0.0, 1 - total):.0%} of the variance"
            )
        lines += [
            f"### {outcome(key).label}",
            "",
            _table(shown),
            "",
            f"**Reading.** `{best['parameter']}` has the largest total index "
            f"(ST {_g(best['ST'])} ± {_g(best['ST_conf'])}, S1 {_g(best['S1'])}); {split}.",
            "",
        ]
    if "convergence" in result.figures:
        lines += [
            _figure(result.figures["convergence"], "analysis_sobol_convergence.png", docs),
            "",
        ]
    return lines


def prim_section(result: prim.PrimResult, condition: str, docs: Path) -> list[str]:
    lines = [
        "## Scenario discovery (PRIM)",
        "",
        f"Condition: `{condition}`, over a Latin-hypercube sample of the uncertainties under "
        "baseline policy. " + " ".join(f"{n}." for n in result.notes),
        "",
    ]
    boxes = result.boxes
    if boxes.empty:
        return [*lines, "**Reading.** No box: see the note above.", ""]
    first = boxes[boxes["box"] == 1].copy()
    first["qp"] = first[["qp_lower", "qp_upper"]].min(axis=1)
    shown = first.assign(
        **{c: [_g(v) for v in first[c]] for c in ("min", "max", "range_min", "range_max", "qp")}
    )[["parameter", "min", "max", "range_min", "range_max", "qp", "coverage", "density"]]
    firm = first[first["qp"] < 0.05].sort_values("qp")
    named = firm if not firm.empty else first
    limits = "; ".join(
        f"`{r.parameter}` in [{_g(r.min)}, {_g(r.max)}] of [{_g(r.range_min)}, {_g(r.range_max)}]"
        for r in named.itertuples(index=False)
    )
    weak = len(first) - len(named)
    lines += [
        _table(shown),
        "",
        _figure(result.figures["tradeoff_1"], "analysis_prim_trajectory.png", docs),
        "",
        f"**Reading.** The condition holds mostly when {limits}"
        + (f" ({weak} further restriction(s) are not significant, quasi-p >= 0.05)" if weak else "")
        + f": that box holds {first['coverage'].iloc[0]:.0%} of the worlds meeting the condition "
        f"(coverage), and {first['density'].iloc[0]:.0%} of the worlds inside it meet it "
        "(density).",
        "",
    ]
    return lines


def robust_section(result: robust.RobustResult, conditions: list[str], docs: Path) -> list[str]:
    verdicts = result.policies.copy()
    table = result.table
    worst = table.pivot(index="policy", columns="outcome", values="max_regret")
    shown = pd.DataFrame({"policy": verdicts["policy"]})
    for key in (LEAKAGE, REVENUE):
        shown[f"max regret: {outcome(key).label}"] = [
            format_value(key, worst.loc[p, key]) for p in verdicts["policy"]
        ]
    for text in conditions:
        shown[f"meets `{text}`"] = [f"{v:.0%}" for v in verdicts[f"satisficing: {text}"]]
    shown["non-dominated"] = ["yes" if v else "" for v in verdicts["non_dominated"]]
    best = {k: worst[k].idxmin() for k in (LEAKAGE, REVENUE)}
    front = ", ".join(f"`{p}`" for p in verdicts.loc[verdicts["non_dominated"], "policy"])
    return [
        "## Robustness of the named scenarios",
        "",
        "Each policy scenario runs in the same sample of worlds (uncertain parameters from their "
        "plausible ranges) with the same seeds. Regret: how far a policy falls short of the best "
        "policy in the same world; satisficing: the share of worlds meeting the condition; "
        "non-dominated: no other policy is at least as good on every headline outcome's mean.",
        "",
        _table(shown),
        "",
        _figure(result.figures["regret"], "analysis_robust.png", docs),
        "",
        f"**Reading.** Lowest worst-case regret on leakage: `{best[LEAKAGE]}`; on intermediary "
        f"revenue: `{best[REVENUE]}`. Non-dominated on the mean outcomes: {front}.",
        "",
    ]


def main() -> None:
    """Run the four analyses and write docs/analysis.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=ROOT / "outputs" / "analysis" / "docs")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--small", action="store_true", help="tiny sizes, to check the page")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--docs", type=Path, default=DOCS, help="where analysis.md goes")
    parser.add_argument("--condition", help="PRIM condition (default: leakage 25%% above baseline)")
    parser.add_argument("--seeds", type=int, help="seeds per design (default 3; 1 with --small)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(message)s")
    for noisy in ("MESA", "EMA", "ema_workbench", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    size = dict(SIZES["small" if args.small else "full"])
    if args.seeds is not None:
        if args.seeds < 1:
            parser.error(f"--seeds = {args.seeds}: must be at least 1")
        size["seeds"] = args.seeds
    common = {**(SMALL_MODEL if args.small else {}), **parse_sets(args.set)}
    base = Settings(
        out=args.work,
        common=common,
        seeds=size["seeds"],
        n_jobs=args.n_jobs,
        progress=False,
    )
    reference = run_many([{}], seeds=base.seeds, common=common, n_jobs=args.n_jobs)
    mean = {k: float(reference[k].mean()) for k in (LEAKAGE, REVENUE)}
    condition = args.condition or f"{LEAKAGE} > {1.25 * mean[LEAKAGE]:.6g}"
    satisfice = [f"{LEAKAGE} <= {mean[LEAKAGE]:.6g}", f"{REVENUE} >= {0.9 * mean[REVENUE]:.6g}"]

    m = morris.run(replace(base, out=args.work / "morris"), trajectories=size["trajectories"])
    s = sobol.run(
        replace(base, out=args.work / "sobol"),
        samples=size["sobol"],
        top=size["top"],
        morris=args.work / "morris" / "morris.csv",
    )
    p = prim.run(replace(base, out=args.work / "prim"), condition=condition, samples=size["prim"])
    r = robust.run(
        replace(base, out=args.work / "robust"), samples=size["robust"], satisfice=satisfice
    )
    setting = ", ".join(f"`{k}={v}`" for k, v in common.items()) or "the defaults"
    lines = [
        "# Decision analysis of the baseline",
        "",
        "Generated by `python scripts/make_analysis_docs.py"
        + (" --small" if args.small else "")
        + (f" --seeds {args.seeds}" if args.seeds is not None else "")
        + "` at commit "
        f"`{_commit()}`: {setting}; every design runs with seeds {base.seeds} (common random "
        f"numbers); Morris {size['trajectories']} trajectories, Sobol N={size['sobol']} over the "
        f"top {size['top']}, PRIM {size['prim']} worlds, robustness {size['robust']} worlds. "
        "How to run each analysis yourself: README, section Decision analysis.",
        "",
        "Baseline reference (mean over the seeds): "
        + "; ".join(f"{outcome(k).label} {format_value(k, v)}" for k, v in mean.items())
        + ".",
        "",
        *morris_section(m, args.docs),
        *sobol_section(s, args.docs),
        *prim_section(p, condition, args.docs),
        *robust_section(r, satisfice, args.docs),
    ]
    args.docs.mkdir(parents=True, exist_ok=True)
    (args.docs / "analysis.md").write_text("\n".join(lines), encoding="utf-8")
    logging.info("Wrote %s", args.docs / "analysis.md")


if __name__ == "__main__":
    main()
