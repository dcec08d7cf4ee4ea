"""Comparison figures from the aggregate tables, with uncertainty across seeds shown honestly.

Every function returns the path of its PNG and the table of the numbers it draws, so the
report can print exactly what the figure shows. Metrics, labels, units and directions come
from the registry (:mod:`sim.metrics`); the statistics (seeds as replications, a repeated
seed counted once, intervals clipped to the quantity's range, single seeds flagged) are
those of :mod:`sim.sweep.summary`. Bands on time paths are the middle 95% of the seeds'
paths (percentiles, so never outside what the quantity can take).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from sim import style
from sim.controls import describe
from sim.metrics import HEADLINE, HIGHER, LOWER, METRIC_NAMES, metric
from sim.sweep import summary
from sim.sweep.aggregate import Aggregate, group_label
from sim.sweep.samples import replicate_keys

#: The commercial outcome traded off against each party's costs in :func:`tradeoffs`.
TRADEOFF_BENEFIT = "revenue_intermediary"
BAND = (0.025, 0.975)


def mean_ci(values: pd.Series) -> tuple[float, float, int]:
    """Mean, half-width of the 95% t-interval (NaN for one value) and count, NaNs dropped."""
    mean, lo, hi, n = summary.mean_interval(values)
    return mean, (hi - lo) / 2 if n > 1 else np.nan, n


def headline_table(agg: Aggregate) -> pd.DataFrame:
    """Per group and headline metric: level and paired change against the reference.

    The table of :func:`sim.sweep.summary.effects` over every headline metric; its
    ``attrs`` name the reference group and the ranking metric.
    """
    return summary.effects(agg, list(HEADLINE))


def monthly_metrics() -> list[str]:
    """The monthly columns behind the headline (``NAME_final`` read as ``NAME``)."""
    out = []
    for key in HEADLINE:
        name = key.removesuffix("_final")
        if name in METRIC_NAMES and name not in out:
            out.append(name)
    return out


def _group_order(agg: Aggregate, groups: list[str]) -> list[str]:
    """Reference first, then policies ranked, then context; unknown groups last."""
    table = summary.effects(agg, summary.summary_metrics())
    if table.empty:
        return groups
    policies, context = summary.ranked_groups(table)
    ordered = [table.attrs.get("reference"), *policies, *context]
    return [g for g in ordered if g in groups] + [g for g in groups if g not in ordered]


def path_bands(agg: Aggregate, metrics: list[str]) -> pd.DataFrame:
    """Per group, month and metric: mean over seeds, the 2.5th and 97.5th percentiles, n.

    A (group, seed) given twice counts once. Non-negative metrics are clipped at zero. Reads
    only the columns it needs from the long table (10,000 runs' every metric is gigabytes).
    """
    ts = agg.timeseries_columns([*metrics, "date"])
    metrics = [m for m in metrics if m in ts]
    if ts.empty or not metrics:
        return pd.DataFrame()
    ts = ts.assign(group=group_label(ts, agg.params))
    if "status" in agg.runs and "duplicate" in agg.runs:
        dup = set(agg.runs.loc[agg.runs["duplicate"].fillna(False).astype(bool), "run"])
        ts = ts[~ts["run"].isin(dup)]
    keys = ["group", *replicate_keys(ts), "month"]
    extra = ["date"] if "date" in ts else []
    ts = ts.groupby(keys, sort=False, as_index=False)[metrics + extra].agg(
        {**{m: "mean" for m in metrics}, **{d: "first" for d in extra}}
    )
    by_month = ts.groupby(["group", "month"], sort=False)
    parts = []
    for name in metrics:  # one metric at a time: no long copy of every metric
        g = by_month[name]
        stats = {"mean": g.mean(), "lo": g.quantile(BAND[0]), "hi": g.quantile(BAND[1])}
        parts.append(pd.DataFrame({**stats, "n": g.count()}).assign(metric=name))
    out = pd.concat(parts).reset_index()
    out = out[["group", "metric", "month", "mean", "lo", "hi", "n"]]
    if extra:
        out = out.merge(ts[["month", "date"]].drop_duplicates("month"), on="month", how="left")
    nonneg = out["metric"].map(lambda k: metric(k).nonneg)
    for col in ("mean", "lo", "hi"):
        out[col] = out[col].where(~nonneg, out[col].clip(lower=0))
    return out


def _draw_band(ax, sub: pd.DataFrame, colour: str, name: str, lw: float = 1.5) -> None:
    x, _ = style.time_axis(sub)
    ax.plot(x, sub["mean"], color=colour, lw=lw, label=name)
    ax.fill_between(x, sub["lo"], sub["hi"], color=colour, alpha=0.18, lw=0)


def fan_charts(agg: Aggregate, path: Path) -> tuple[Path, pd.DataFrame] | None:
    """Mean monthly paths per group with the band of the middle 95% of seeds.

    Up to six groups share panels in distinct colours; beyond that every group gets its own
    row of small multiples with the reference drawn in grey behind it.
    """
    metrics = monthly_metrics()
    bands = path_bands(agg, metrics)
    if bands.empty:
        return None
    metrics = [m for m in metrics if m in set(bands["metric"])]
    groups = _group_order(agg, list(dict.fromkeys(bands["group"])))
    reference = groups[0] if len(groups) > 1 else None
    _, xlabel = style.time_axis(bands)
    with style.context():
        if style.small_multiples(len(groups)):
            fig = fan_small_multiples(bands, metrics, groups, reference, xlabel)
        else:
            fig = fan_figure(bands, metrics, groups, xlabel)
        many = style.small_multiples(len(groups))
        out = style.save(fig, path, dpi=90 if many else 110, tight=not many)
    last = bands[bands["month"] == bands.groupby(["group", "metric"])["month"].transform("max")]
    return out, last[["metric", "group", "month", "mean", "lo", "hi", "n"]].reset_index(drop=True)


def _per_month(key: str) -> str:
    """ " per month" for flows (summed in the run summary), nothing for levels."""
    return " per month" if style.monthly(key).summary == "sum" else ""


def fan_figure(bands: pd.DataFrame, metrics: list[str], groups: list[str], xlabel: str) -> Figure:
    """Panels per metric, one colour per group (up to six): mean line, band of seeds."""
    cols = 3
    rows = -(-len(metrics) // cols)
    fig = Figure(figsize=(11, 2.8 * rows + 0.6))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, key in zip(axes, metrics, strict=False):
        sub = bands[bands["metric"] == key]
        for colour, group in zip(style.colours(len(groups)), groups, strict=True):
            n = int(sub.loc[sub["group"] == group, "n"].max())
            _draw_band(ax, sub[sub["group"] == group], colour, f"{group} (n={n})")
        style.unit_axis(ax, key, sub[["mean", "hi"]].to_numpy().ravel(), suffix=_per_month(key))
        ax.set_title(textwrap.fill(style.label(key, monthly=True), 40))
        ax.set_ylabel(ax.get_ylabel(), fontsize=7.5)
        ax.set_xlabel(xlabel)
    for ax in axes[len(metrics) :]:
        ax.set_axis_off()
    style.legend_outside(fig, title="group (n = seeds)")
    fig.suptitle("Monthly paths: line the mean over seeds, band the middle 95% of seeds")
    return fig


def fan_small_multiples(
    bands: pd.DataFrame, metrics: list[str], groups: list[str], reference: str | None, xlabel: str
) -> Figure:
    """One row per group, one column per metric, the reference in grey behind each panel."""
    fig = Figure(figsize=(1.9 * len(metrics) + 1.6, 1.05 * len(groups) + 1.2))
    # Limits are set per panel rather than shared: sharing across ~100 axes is quadratic.
    axes = fig.subplots(len(groups), len(metrics), squeeze=False)
    x, _ = style.time_axis(bands)
    xlim = (x.min(), x.max())
    for j, key in enumerate(metrics):
        sub = bands[bands["metric"] == key]
        div, unit = style.scale(key, sub["hi"])
        ylim = (min(0.0, sub["lo"].min()), sub["hi"].max() * 1.05 or 1.0)
        ref = sub[sub["group"] == reference]
        for i, group in enumerate(groups):
            ax = axes[i, j]
            ax.set_autoscale_on(False)
            ax.set(xlim=xlim, ylim=ylim)
            if reference is not None and group != reference:
                _draw_band(ax, ref, "#AAAAAA", f"{reference} (reference)", lw=1.0)
            _draw_band(ax, sub[sub["group"] == group], style.PALETTE[0], "this group")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p, d=div: f"{v / d:,.3g}"))
            ax.tick_params(labelsize=6.5, labelbottom=i == len(groups) - 1)
            if j == 0:
                n = int(sub.loc[sub["group"] == group, "n"].max())
                ax.set_ylabel(f"{group}\n(n={n})", rotation=0, ha="right", va="center", fontsize=7)
        per = _per_month(key)
        axes[0, j].set_title(
            textwrap.fill(f"{style.label(key, monthly=True)} ({unit}{per})", 24), fontsize=8
        )
        axes[-1, j].set_xlabel(xlabel, fontsize=7)
    style.legend_outside(fig, title="line: mean; band: middle 95% of seeds")
    fig.suptitle("Monthly paths, one row per group (reference in grey behind each)")
    fig.subplots_adjust(hspace=0.15, wspace=0.35)
    return fig


def difference_bars(
    agg: Aggregate, table: pd.DataFrame, path: Path
) -> tuple[Path, pd.DataFrame] | None:
    """A scorecard of the paired changes against the reference, in % of the reference level.

    Rows are groups (policies ranked, context shocks below a line), columns the headline
    metrics with a direction; a cell is blue when the change is better and red when worse
    for the party the metric speaks for (deeper for larger changes), white when its 95%
    interval includes no change; each cell prints the change and its interval.
    """
    if table.empty or "diff_vs_reference" not in table:
        return None
    policies, context = summary.ranked_groups(table)
    keys = [k for k in summary.summary_metrics() if k in set(table["metric"])]
    rows = [*policies, *context]
    if not rows or not keys:
        return None
    data = table.dropna(subset=["diff_vs_reference"]).set_index(["group", "metric"])
    score = np.full((len(rows), len(keys)), np.nan)
    with style.context():
        fig = Figure(figsize=(1.55 * len(keys) + 2.4, 0.5 * len(rows) + 1.9))
        ax = fig.add_subplot()
        for i, group in enumerate(rows):
            for j, key in enumerate(keys):
                if (group, key) not in data.index:
                    continue
                r = data.loc[(group, key)]
                sign = 1 if metric(key).better == HIGHER else -1
                good = sign * np.clip(np.nan_to_num(r["pct"], nan=0.0), -100, 100)
                score[i, j] = good if r["verdict"] in ("better", "worse") else 0.0
        im = ax.imshow(score, cmap="RdBu", vmin=-100, vmax=100, aspect="auto")
        for (i, j), value in np.ndenumerate(score):
            if np.isfinite(value):
                r = data.loc[(rows[i], keys[j])]
                ink = _ink(im, value)
                ax.text(
                    j, i, _cell_text(keys[j], r), ha="center", va="center", fontsize=6.5, color=ink
                )
        ax.set_xticks(range(len(keys)), [textwrap.fill(style.label(k), 16) for k in keys])
        ax.set_yticks(
            range(len(rows)), [f"{g} (n={int(data.loc[g, 'pairs'].max())})" for g in rows]
        )
        ax.tick_params(axis="x", labelsize=7.5, labeltop=True, labelbottom=False, length=0)
        ax.grid(False)
        if policies and context:
            ax.axhline(len(policies) - 0.5, color="black", lw=1.2)
            ax.text(
                len(keys) - 0.5,
                len(policies) - 0.5,
                "context: market shocks below ",
                ha="right",
                va="bottom",
                fontsize=7,
                style="italic",
                color=style.CONTEXT,
            )
        ax.set_title(
            f"Change against {table.attrs.get('reference')} in % of its level (paired by seed; "
            "95% interval in brackets).\nBlue: better, red: worse for the party the metric "
            "speaks for; white: the interval includes no change; n: seeds.",
            fontsize=8.5,
        )
        out = style.save(fig, path)
    shown = table.dropna(subset=["diff_vs_reference"])
    cols = ["group", "kind", "metric", "diff_vs_reference", "diff_lo", "diff_hi", "pct", "pairs"]
    return out, shown[shown["metric"].isin(keys)][cols + ["verdict"]].reset_index(drop=True)


def _cell_text(key: str, r: pd.Series) -> str:
    if np.isfinite(r["pct"]) and style.unit_of(key) != "share":
        main = f"{r['pct']:+.0f}%"
        interval = f"[{r['pct_lo']:+.0f}, {r['pct_hi']:+.0f}]" if np.isfinite(r["pct_lo"]) else ""
    else:
        main = style.fmt(key, r["diff_vs_reference"], signed=True)
        interval = ""
    return f"{main}\n{interval}" if interval else f"{main}\n(n=1)" if r["pairs"] == 1 else main


def heatmaps(agg: Aggregate, path: Path) -> tuple[Path, pd.DataFrame] | None:
    """For a two-parameter grid: the mean of each headline metric, cells annotated.

    Cells print the mean in the metric's unit; the colour bar carries the unit; axes are the
    parameters' descriptions; the number of seeds per cell is printed (per cell if uneven).
    """
    runs = summary.ok_runs(agg)
    grid = [p for p in agg.params if p in runs and runs[p].nunique() > 1] if len(runs) else []
    if runs.empty or len(grid) != 2:
        return None
    x, y = grid
    keys = [k for k in summary.summary_metrics() if k in runs]
    cols = min(3, len(keys))
    nrows = -(-len(keys) // cols)
    counts = runs.pivot_table(index=y, columns=x, values="seed", aggfunc="count")
    uneven = counts.nunique(dropna=True).max() > 1 or counts.stack().nunique() > 1
    rows = []
    with style.context():
        fig = Figure(figsize=(4.4 * cols, 3.4 * nrows + 0.8))
        axes = np.atleast_1d(fig.subplots(nrows, cols, squeeze=False)).ravel()
        for ax, key in zip(axes, keys, strict=False):
            table = runs.pivot_table(index=y, columns=x, values=key, aggfunc="mean")
            values = table.to_numpy(dtype=float)
            div, unit = style.scale(key, values.ravel())
            cmap = "cividis" if metric(key).better == HIGHER else "cividis_r"
            im = ax.imshow(values / div, origin="lower", aspect="auto", cmap=cmap)
            for (yi, xi), value in np.ndenumerate(values):
                n = counts.iloc[yi, xi] if uneven else None
                text = style.short(key, value) + (f"\nn={int(n)}" if n is not None else "")
                ax.text(
                    xi,
                    yi,
                    text,
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color=_ink(im, value / div),
                )
                rows.append(
                    {"metric": key, y: table.index[yi], x: table.columns[xi], "mean": value}
                )
            ax.set_xticks(range(len(table.columns)), [_tick(v) for v in table.columns])
            ax.set_yticks(range(len(table.index)), [_tick(v) for v in table.index])
            ax.set_xlabel(textwrap.fill(describe(x), 45), fontsize=7.5)
            ax.set_ylabel(textwrap.fill(describe(y), 35), fontsize=7.5)
            better = {HIGHER: "more", LOWER: "less"}.get(metric(key).better, "")
            ax.set_title(
                f"{style.label(key)}"
                + (f"\n({better} is better for {metric(key).whom})" if better else ""),
                fontsize=8.5,
            )
            ax.grid(False)
            fig.colorbar(im, ax=ax, shrink=0.85).set_label(unit, fontsize=7.5)
        for ax in axes[len(keys) :]:
            ax.set_axis_off()
        seeds = "" if uneven else f"; {int(counts.stack().iloc[0])} seeds per cell"
        fig.suptitle(f"Mean over seeds across the grid (darker is worse{seeds})")
        out = style.save(fig, path)
    return out, pd.DataFrame(rows)


def _tick(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _ink(im, value: float) -> str:
    r, g, b, _ = im.cmap(im.norm(value))
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


def non_dominated(benefit: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Mask of points no other point beats on both axes (higher benefit, lower cost)."""
    b, c = np.asarray(benefit, float), np.asarray(cost, float)
    ge = (b[None, :] >= b[:, None]) & (c[None, :] <= c[:, None])
    strict = (b[None, :] > b[:, None]) | (c[None, :] < c[:, None])
    return ~(ge & strict).any(axis=1)


def tradeoff_axes() -> tuple[str, list[str]]:
    """The benefit and, per party other than the benefit's, its first lower-is-better metric."""
    benefit = TRADEOFF_BENEFIT
    if benefit not in HEADLINE:
        benefit = next(k for k in HEADLINE if metric(k).better == HIGHER)
    whom = metric(benefit).whom
    costs: dict[str, str] = {}
    for key in HEADLINE:
        m = metric(key)
        if m.better == LOWER and m.whom != whom:
            costs.setdefault(m.whom, key)
    return benefit, list(costs.values())


def tradeoffs(agg: Aggregate, path: Path) -> tuple[Path, pd.DataFrame] | None:
    """Group means of the benefit against each cost, with 95% intervals on both axes.

    Policies (and the reference) are coloured and the non-dominated ones joined; context
    shocks are drawn apart in grey and take no part in the frontier: nobody can choose them.
    """
    benefit, costs = tradeoff_axes()
    table = summary.effects(agg, [benefit, *costs])
    if table.empty or not costs:
        return None
    order = list(dict.fromkeys(table["group"]))
    levels = table.set_index(["group", "metric"])[["mean", "lo", "hi"]].unstack("metric")
    levels = levels.reindex(order)
    kinds = table.drop_duplicates("group").set_index("group")["kind"]
    groups = list(levels.index)
    choosable = [g for g in groups if kinds[g] != summary.CONTEXT]
    marks = []
    with style.context():
        fig = Figure(figsize=(5.2 * len(costs) + 1.5, 4.8))
        axes = np.atleast_1d(fig.subplots(1, len(costs)))
        for ax, cost in zip(axes, costs, strict=True):
            style.unit_axis(ax, benefit, levels[("hi", benefit)])
            style.unit_axis(ax, cost, levels[("hi", cost)], axis="x")
            for g in groups:
                r = levels.loc[g]
                context = kinds[g] == summary.CONTEXT
                colour = (
                    style.CONTEXT
                    if context
                    else (style.REFERENCE if kinds[g] == summary.REFERENCE else style.PALETTE[0])
                )
                ax.errorbar(
                    r[("mean", cost)],
                    r[("mean", benefit)],
                    xerr=_err(r, cost),
                    yerr=_err(r, benefit),
                    fmt="D" if context else "o",
                    mfc="white" if context else colour,
                    color=colour,
                    ms=5,
                    capsize=2,
                    lw=1,
                )
                ax.annotate(
                    g,
                    (r[("mean", cost)], r[("mean", benefit)]),
                    xytext=(4, 3),
                    textcoords="offset points",
                    fontsize=6.5,
                    color=colour,
                )
            valid = levels.loc[choosable, [("mean", benefit), ("mean", cost)]].dropna()
            front = valid[non_dominated(valid.iloc[:, 0].to_numpy(), valid.iloc[:, 1].to_numpy())]
            front = front.sort_values(("mean", cost))
            ax.plot(
                front[("mean", cost)],
                front[("mean", benefit)],
                "k--",
                marker="o",
                mfc="none",
                ms=11,
                lw=0.8,
                zorder=0,
            )
            ax.set_title(f"{style.label(benefit)} against {style.label(cost)}")
            marks.append(front.droplevel(0, axis=1).assign(tradeoff=cost).reset_index())
        handles = [
            Line2D(
                [],
                [],
                marker="o",
                color=style.PALETTE[0],
                ls="",
                label="policy (mean, 95% interval)",
            ),
            Line2D([], [], marker="o", color=style.REFERENCE, ls="", label="reference"),
            Line2D(
                [],
                [],
                marker="D",
                color=style.CONTEXT,
                mfc="white",
                ls="",
                label="context shock (not a choice)",
            ),
            Line2D(
                [],
                [],
                color="black",
                ls="--",
                marker="o",
                mfc="none",
                ms=9,
                lw=0.8,
                label="non-dominated policies",
            ),
        ]
        style.legend_outside(fig, handles, [h.get_label() for h in handles])
        fig.suptitle("Trade-offs between group means (bars: 95% intervals across seeds)")
        out = style.save(fig, path)
    return out, pd.concat(marks, ignore_index=True)


def _err(r: pd.Series, key: str) -> np.ndarray | None:
    lo, mean, hi = r[("lo", key)], r[("mean", key)], r[("hi", key)]
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    return np.array([[mean - lo], [hi - mean]])
