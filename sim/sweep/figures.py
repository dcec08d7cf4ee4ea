"""Comparison figures from the aggregate tables, with uncertainty across seeds shown honestly.

Every function returns the path of its PNG and the table of the numbers it draws, so the
report can print exactly what the figure shows. Intervals are 95% t-intervals of the mean
across replications (seeds); with a single replication no interval is drawn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from sim.results import atomic_write
from sim.sweep.aggregate import Aggregate, group_label

FAN_METRICS = {
    "china_spend_foreign": "China spend on foreign models (USD/month)",
    "revenue_intermediary": "intermediary revenue (USD/month)",
    "revenue_domestic": "domestic providers' revenue (USD/month)",
    "gap_closed_months": "gap closed by leakage (months)",
    "capability_gap_months": "capability gap (months)",
    "violations": "violations per month",
}
HEADLINE = {
    "china_spend_foreign": "China spend on foreign models (USD)",
    "revenue_intermediary": "intermediary revenue (USD)",
    "revenue_developers": "US developers' revenue (USD)",
    "revenue_domestic": "domestic revenue (USD)",
    "revenue_two_way": "Chinese models abroad (USD)",
    "gap_closed_months_final": "gap closed by leakage (months)",
    "harvested_samples_undetected": "undetected harvest (samples)",
    "capability_gap_months_final": "final gap (months)",
    "violations": "violations",
    "fines": "fines (USD)",
    "compliance_rate_cumulative": "compliance rate",
}
HEATMAP_METRICS = (
    "china_spend_foreign",
    "gap_closed_months_final",
    "violations",
    "capability_gap_months_final",
)
MAX_GROUPS = 12


def mean_ci(values: pd.Series) -> tuple[float, float, int]:
    """Mean, half-width of the 95% t-interval (NaN for one value) and count, NaNs dropped."""
    v = values.dropna().to_numpy(dtype=float)
    n = len(v)
    if n == 0:
        return np.nan, np.nan, 0
    if n == 1:
        return float(v[0]), np.nan, 1
    half = stats.t.ppf(0.975, n - 1) * v.std(ddof=1) / np.sqrt(n)
    return float(v.mean()), float(half), n


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))


def _ok(agg: Aggregate) -> pd.DataFrame:
    runs = agg.runs[agg.runs["status"] == "ok"].copy()
    runs["group"] = group_label(runs, agg.params)
    return runs


def fan_charts(agg: Aggregate, path: Path) -> tuple[Path, pd.DataFrame] | None:
    """Per group, the mean path of key monthly metrics with a 95% band across seeds."""
    ts = agg.timeseries
    if ts.empty:
        return None
    ts = ts.copy()
    ts["group"] = group_label(ts, agg.params)
    groups = list(dict.fromkeys(ts["group"]))[:MAX_GROUPS]
    fig = Figure(figsize=(12, 7))
    axes = fig.subplots(2, 3).ravel()
    rows = []
    cmap = __import__("matplotlib").colormaps["tab10" if len(groups) <= 10 else "tab20"]
    for ax, (metric, label) in zip(axes, FAN_METRICS.items(), strict=True):
        for i, group in enumerate(groups):
            sub = ts[ts["group"] == group].groupby("month")[metric]
            mean = sub.mean()
            n = sub.count()
            sd = sub.std(ddof=1)
            half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
            half[n < 2] = np.nan
            ax.plot(mean.index, mean, color=cmap(i), label=group, lw=1.4)
            ax.fill_between(mean.index, mean - half, mean + half, color=cmap(i), alpha=0.2, lw=0)
            last = mean.index.max()
            rows.append(
                {
                    "metric": metric,
                    "group": group,
                    "month": int(last),
                    "mean": mean[last],
                    "ci95": half[last],
                    "n": int(n[last]),
                }
            )
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("month")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("Mean paths with 95% confidence bands across seeds", fontsize=10)
    return _save(fig, path), pd.DataFrame(rows)


def headline_table(agg: Aggregate) -> pd.DataFrame:
    """Per group and headline metric: mean, 95% CI, n; and the paired difference against baseline."""
    runs = _ok(agg)
    if runs.empty:
        return pd.DataFrame()
    reference = _reference_group(runs, agg)
    # Pairs are by seed; a seed run in several folders contributes its mean once.
    ref_by_seed = (
        runs[runs["group"] == reference].groupby("seed").mean(numeric_only=True)
        if reference
        else None
    )
    rows = []
    for group, sub in runs.groupby("group", sort=False):
        by_seed = sub.groupby("seed").mean(numeric_only=True)
        for metric in HEADLINE:
            if metric not in sub:
                continue
            mean, half, n = mean_ci(sub[metric])
            row = {"group": group, "metric": metric, "mean": mean, "ci95": half, "n": n}
            if ref_by_seed is not None and group != reference:
                paired = by_seed[metric] - ref_by_seed[metric].reindex(by_seed.index)
                row["diff_vs_reference"], row["diff_ci95"], row["pairs"] = mean_ci(paired)
            rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs["reference"] = reference
    return table


def _reference_group(runs: pd.DataFrame, agg: Aggregate) -> str | None:
    """The baseline group to compare against: scenario baseline with the other settings shared."""
    groups = list(dict.fromkeys(runs["group"]))
    if len(groups) < 2:
        return None
    for group in groups:
        if group.split(",")[0] == "baseline":
            return group
    return groups[0]


def difference_bars(
    agg: Aggregate, table: pd.DataFrame, path: Path
) -> tuple[Path, pd.DataFrame] | None:
    """Headline metrics per group as paired differences against the reference, with 95% CIs."""
    if table.empty or "diff_vs_reference" not in table:
        return None
    reference = table.attrs.get("reference")
    diffs = table.dropna(subset=["diff_vs_reference"])
    metrics = [m for m in HEADLINE if m in set(diffs["metric"])]
    groups = list(dict.fromkeys(diffs["group"]))[:MAX_GROUPS]
    cols = 3
    rows_n = int(np.ceil(len(metrics) / cols))
    fig = Figure(figsize=(12, 2.6 * rows_n + 0.8))
    axes = np.atleast_1d(fig.subplots(rows_n, cols)).ravel()
    for ax, metric in zip(axes, metrics, strict=False):
        sub = diffs[diffs["metric"] == metric].set_index("group").reindex(groups)
        y = np.arange(len(groups))[::-1]
        err = sub["diff_ci95"].fillna(0).to_numpy()
        colours = ["tab:green" if v >= 0 else "tab:red" for v in sub["diff_vs_reference"].fillna(0)]
        ax.barh(y, sub["diff_vs_reference"], xerr=err, color=colours, alpha=0.8, capsize=2)
        ax.set_yticks(y, groups, fontsize=7)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(HEADLINE[metric], fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    for ax in axes[len(metrics) :]:
        ax.set_axis_off()
    fig.suptitle(f"Difference against {reference} (paired by seed; bars: 95% CI)", fontsize=10)
    shown = diffs[diffs["group"].isin(groups)][
        ["group", "metric", "diff_vs_reference", "diff_ci95", "pairs"]
    ]
    return _save(fig, path), shown.reset_index(drop=True)


def heatmaps(agg: Aggregate, path: Path) -> tuple[Path, pd.DataFrame] | None:
    """For a two-parameter grid: the mean of key metrics over the grid."""
    runs = _ok(agg)
    grid = [p for p in agg.params if runs[p].nunique() > 1] if not runs.empty else []
    if runs.empty or len(grid) != 2:
        return None
    x, y = grid
    fig = Figure(figsize=(12, 3.4))
    axes = fig.subplots(1, len(HEATMAP_METRICS))
    rows = []
    for ax, metric in zip(axes, HEATMAP_METRICS, strict=True):
        table = runs.pivot_table(index=y, columns=x, values=metric, aggfunc="mean")
        im = ax.imshow(table.to_numpy(dtype=float), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(
            range(len(table.columns)),
            [f"{v:g}" if isinstance(v, float) else v for v in table.columns],
            fontsize=7,
        )
        ax.set_yticks(
            range(len(table.index)),
            [f"{v:g}" if isinstance(v, float) else v for v in table.index],
            fontsize=7,
        )
        ax.set_xlabel(x, fontsize=8)
        ax.set_ylabel(y, fontsize=8)
        ax.set_title(HEADLINE.get(metric, metric), fontsize=8)
        fig.colorbar(im, ax=ax, shrink=0.8)
        for (yi, xi), value in np.ndenumerate(table.to_numpy(dtype=float)):
            rows.append({"metric": metric, y: table.index[yi], x: table.columns[xi], "mean": value})
    fig.suptitle("Mean over seeds across the grid", fontsize=10)
    return _save(fig, path), pd.DataFrame(rows)


def non_dominated(benefit: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Mask of points no other point beats on both axes (higher benefit, lower cost)."""
    keep = np.ones(len(benefit), dtype=bool)
    for i in range(len(benefit)):
        better = (
            (benefit >= benefit[i])
            & (cost <= cost[i])
            & ((benefit > benefit[i]) | (cost < cost[i]))
        )
        keep[i] = not better.any()
    return keep


def tradeoffs(agg: Aggregate, path: Path) -> tuple[Path, pd.DataFrame] | None:
    """Revenue against leakage and against non-compliance, per run, non-dominated runs marked."""
    runs = _ok(agg)
    if runs.empty:
        return None
    runs = runs.assign(noncompliance=1.0 - runs["compliance_rate_cumulative"])
    fig = Figure(figsize=(12, 5))
    axes = fig.subplots(1, 2)
    groups = list(dict.fromkeys(runs["group"]))
    cmap = __import__("matplotlib").colormaps["tab10" if len(groups) <= 10 else "tab20"]
    marks = []
    for ax, cost, label in zip(
        axes,
        ["gap_closed_months_final", "noncompliance"],
        ["gap closed by leakage (months)", "non-compliant share of foreign spend"],
        strict=True,
    ):
        valid = runs[cost].notna()  # no foreign spend: compliance undefined, not perfect
        front = np.zeros(len(runs), dtype=bool)
        front[valid.to_numpy()] = non_dominated(
            runs.loc[valid, "revenue_intermediary"].to_numpy(), runs.loc[valid, cost].to_numpy()
        )
        for i, group in enumerate(groups[:20]):
            sub = runs["group"] == group
            ax.scatter(
                runs.loc[sub, cost],
                runs.loc[sub, "revenue_intermediary"] / 1e9,
                s=18,
                color=cmap(i % cmap.N),
                label=group,
                alpha=0.75,
            )
        order = np.argsort(runs.loc[front, cost].to_numpy())
        ax.plot(
            runs.loc[front, cost].to_numpy()[order],
            runs.loc[front, "revenue_intermediary"].to_numpy()[order] / 1e9,
            "k--",
            lw=1,
            marker="o",
            mfc="none",
            ms=9,
            label="non-dominated",
        )
        ax.set_xlabel(label)
        ax.set_ylabel("intermediary revenue (USD bn)")
        ax.grid(alpha=0.3)
        marks.append(
            runs.loc[front, ["run", "group", "seed", "revenue_intermediary", cost]].assign(
                tradeoff=cost
            )
        )
    axes[0].legend(fontsize=6, loc="best")
    fig.suptitle(
        "Trade-offs: each point a run; circled runs are not beaten on both axes", fontsize=10
    )
    return _save(fig, path), pd.concat(marks, ignore_index=True)
