"""The policy summary: each scenario or policy against the reference, paired by seed.

For every group of runs (a scenario, or a point of a parameter grid) and every headline
metric of the registry that has a direction (``better``), :func:`effects` gives the level
with its 95% interval, and the change against the reference group paired by seed, in the
metric's unit and in % of the reference level, with its 95% interval, the number of seeds,
and a verdict (better, worse, unclear) for the party the metric speaks for. Groups are split
into policy choices and context (market shocks nobody chooses), ranked, and drawn by
:func:`summary_figure`.

Statistics, stated once: replications are seeds (in an uncertainty sweep, pairs of a
Latin-hypercube sample and a seed, see :mod:`sim.sweep.samples`); a seed repeated (the same run given twice)
counts once; intervals are 95% t-intervals of the mean, clipped to the range the quantity
can take (a non-negative level never below zero, a change never below minus the reference
level); a group with one seed gets no interval and is flagged.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from sim import style
from sim.controls import field_info, lever_keys
from sim.metrics import HEADLINE, HIGHER, LOWER, US_CONTROLS, metric
from sim.sweep.aggregate import Aggregate, group_label
from sim.sweep.samples import replicate_keys

REFERENCE, POLICY, CONTEXT = "reference", "policy", "context"


def summary_metrics() -> list[str]:
    """The headline metrics that have a direction, in the registry's reading order."""
    return [k for k in HEADLINE if direction(k)]


def rank_metric(keys: list[str] | None = None) -> str | None:
    """The metric groups are ranked by: the first headline metric for US export control."""
    keys = keys if keys is not None else summary_metrics()
    for key in keys:
        if metric(key).whom == US_CONTROLS:
            return key
    return keys[0] if keys else None


def direction(key: str) -> str:
    """The metric's ``better`` direction ("higher", "lower", or "" if none or unknown)."""
    try:
        return metric(key).better
    except KeyError:
        return ""


def _bounds(key: str) -> tuple[float, float]:
    try:
        m = metric(key)
    except KeyError:
        return -np.inf, np.inf
    lo = 0.0 if m.nonneg else -np.inf
    hi = 1.0 if m.unit == "share" else np.inf
    return lo, hi


def mean_interval(
    values: pd.Series | np.ndarray, lo: float = -np.inf, hi: float = np.inf
) -> tuple[float, float, float, int]:
    """Mean, 95% t-interval (clipped to ``[lo, hi]``) and count, NaNs dropped.

    One value gives its value with no interval (NaN bounds); none gives NaNs and 0.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = len(v)
    if n == 0:
        return np.nan, np.nan, np.nan, 0
    mean = float(v.mean())
    if n == 1:
        return mean, np.nan, np.nan, 1
    half = stats.t.ppf(0.975, n - 1) * v.std(ddof=1) / np.sqrt(n)
    return mean, float(np.clip(mean - half, lo, hi)), float(np.clip(mean + half, lo, hi)), n


def verdict(key: str, lo: float, hi: float, n: int) -> str:
    """ "better"/"worse" when the whole interval lies on one side of zero, else "unclear".

    "single run" when there is no interval, "no change" when every seed gives the same value
    as the reference, "" when the metric has no direction.
    """
    better = direction(key)
    if not better:
        return ""
    if n < 2 or not (np.isfinite(lo) and np.isfinite(hi)):
        return "single run"
    if lo == hi == 0:
        return "no change"
    if lo > 0 or hi < 0:
        up = lo > 0
        return "better" if up == (better == HIGHER) else "worse"
    return "unclear"


def ok_runs(agg: Aggregate) -> pd.DataFrame:
    """Finished runs with their group label and kind, a repeated (group, seed) counted once.

    ``attrs["duplicates"]`` holds how many repeated runs were folded away; the aggregate's
    own duplicate marks (a boolean ``duplicate`` column) are honoured when present.
    """
    runs = agg.runs[agg.runs["status"] == "ok"].copy()
    if "duplicate" in runs:
        runs = runs[~runs["duplicate"].fillna(False).astype(bool)]
    if runs.empty:
        out = runs.assign(group=pd.Series(dtype=str), kind=pd.Series(dtype=str))
        out.attrs["duplicates"] = 0
        return out
    labels = pd.DataFrame(
        {"group": group_label(runs, agg.params), "kind": _kinds(runs, agg.params)},
        index=runs.index,
    )
    runs = pd.concat([runs.drop(columns=["group", "kind"], errors="ignore"), labels], axis=1)
    replicate = replicate_keys(runs)
    numeric = runs.select_dtypes("number").columns.drop(replicate, errors="ignore")
    first = [c for c in runs.columns if c not in numeric and c not in ("group", *replicate)]
    by = runs.groupby(["group", *replicate], sort=False, dropna=False)
    collapsed = pd.concat([by[first].first(), by[list(numeric)].mean()], axis=1).reset_index()
    collapsed.attrs["duplicates"] = len(runs) - len(collapsed)
    return collapsed


def _at_default(values: pd.Series, key: str) -> pd.Series:
    """Which values of a swept parameter are unset or equal to the schema default."""
    try:
        default = field_info(key)[0]
    except KeyError:
        return values.isna()
    if isinstance(default, int | float) and not isinstance(default, bool):
        number = pd.to_numeric(values, errors="coerce")
        return values.isna() | np.isclose(number, float(default), rtol=1e-9, atol=0)
    return values.isna() | (values.astype(str) == str(default))


def _kinds(runs: pd.DataFrame, params: list[str]) -> pd.Series:
    """Kind per run: the scenario's, except that a run of the reference scenario with a swept
    parameter away from its default is a policy variant (every such parameter a lever) or
    a context variant (any other parameter)."""
    if "scenario_kind" in runs:
        kind = runs["scenario_kind"].fillna(POLICY).astype(str)
    else:
        kind = pd.Series(np.where(runs["scenario"] == "baseline", REFERENCE, POLICY), runs.index)
    swept = [p for p in params if p in runs and runs[p].astype(str).nunique() > 1]
    if not swept:
        return kind
    changed = pd.DataFrame({p: ~_at_default(runs[p], p) for p in swept}, index=runs.index)
    variant = (kind == REFERENCE) & changed.any(axis=1)
    levers = lever_keys()
    nonlever = [p for p in swept if p not in levers]
    context = changed[nonlever].any(axis=1) if nonlever else pd.Series(False, runs.index)
    return kind.mask(variant & context, CONTEXT).mask(variant & ~context, POLICY)


def reference_group(runs: pd.DataFrame) -> str | None:
    """The group to compare against: the reference scenario at default settings if present,
    else the first group of the reference scenario, else the first group."""
    groups = list(dict.fromkeys(runs["group"]))
    if len(groups) < 2:
        return None
    for candidates in (
        runs[runs["kind"] == REFERENCE],
        runs[runs.get("scenario_kind", runs["scenario"].map(lambda _: "")) == REFERENCE],
        runs[runs["scenario"] == "baseline"],
    ):
        if not candidates.empty:
            return str(candidates["group"].iloc[0])
    return groups[0]


def effects(agg: Aggregate, keys: list[str] | None = None) -> pd.DataFrame:
    """Per group and metric: level and paired change against the reference, with intervals.

    Columns: group, scenario, kind, metric, label, unit, n, mean, lo, hi (the level), and
    for groups other than the reference: pairs, diff_vs_reference, diff_lo, diff_hi,
    reference_mean, pct, pct_lo, pct_hi, verdict. ``attrs`` carry the reference group, the
    ranking metric, the duplicates folded away and the groups with a single seed.
    """
    runs = ok_runs(agg)
    keys = [k for k in (keys if keys is not None else list(HEADLINE)) if k in runs]
    if runs.empty or not keys:
        return pd.DataFrame()
    reference = reference_group(runs)
    by_seed = runs.set_index(replicate_keys(runs))
    ref = by_seed[by_seed["group"] == reference] if reference else None
    rows = []
    for group, sub in by_seed.groupby("group", sort=False):
        for key in keys:
            lo_b, hi_b = _bounds(key)
            mean, lo, hi, n = mean_interval(sub[key], lo_b, hi_b)
            row = {
                "group": group,
                "scenario": sub["scenario"].iloc[0],
                "kind": sub["kind"].iloc[0] if group != reference else REFERENCE,
                "metric": key,
                "label": style.label(key),
                "unit": style.unit_of(key),
                "n": n,
                "mean": mean,
                "lo": lo,
                "hi": hi,
            }
            if ref is not None and group != reference:
                row.update(_paired(key, sub[key], ref[key]))
            rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs.update(
        reference=reference,
        rank_by=rank_metric([k for k in keys if direction(k)]),
        duplicates=runs.attrs.get("duplicates", 0),
        single_seed=sorted(set(table.loc[table["n"] == 1, "group"])),
        warnings=list(getattr(agg, "warnings", []) or []),
        skipped=_skipped_runs(agg),
    )
    return table


def _skipped_runs(agg: Aggregate) -> list[str]:
    """The runs the aggregate left out as unreadable, by name (a table or a list of names)."""
    skipped = getattr(agg, "skipped", None)
    if isinstance(skipped, pd.DataFrame):
        return [str(r) for r in skipped.get("run", [])]
    return [str(r) for r in skipped or []]


def _paired(key: str, values: pd.Series, reference: pd.Series) -> dict[str, float | int | str]:
    seeds = values.index.intersection(reference.index)
    diff = (values.loc[seeds] - reference.loc[seeds]).astype(float)
    ref_mean = float(reference.loc[seeds].astype(float).mean()) if len(seeds) else np.nan
    lo_b, hi_b = _bounds(key)
    mean, lo, hi, n = mean_interval(diff, lo_b - ref_mean, hi_b - ref_mean)
    pct = 100 / ref_mean if ref_mean and np.isfinite(ref_mean) else np.nan
    return {
        "pairs": n,
        "diff_vs_reference": mean,
        "diff_lo": lo,
        "diff_hi": hi,
        "reference_mean": ref_mean,
        "pct": mean * pct,
        "pct_lo": lo * pct,
        "pct_hi": hi * pct,
        "verdict": verdict(key, lo, hi, n),
    }


def ranked_groups(table: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Policy groups best first on the ranking metric, then context groups the same way."""
    if table.empty or "diff_vs_reference" not in table:
        return [], []
    key = table.attrs.get("rank_by")
    rows = table[table["metric"] == key].dropna(subset=["diff_vs_reference"])
    sign = 1.0 if direction(key) == LOWER else -1.0
    rows = rows.assign(order=sign * rows["diff_vs_reference"]).sort_values("order", kind="stable")
    others = table.dropna(subset=["diff_vs_reference"])
    rest = [g for g in dict.fromkeys(others["group"]) if g not in set(rows["group"])]
    order = [*rows["group"], *rest]
    kinds = table.drop_duplicates("group").set_index("group")["kind"]
    policies = [g for g in order if kinds.get(g) != CONTEXT]
    context = [g for g in order if kinds.get(g) == CONTEXT]
    return policies, context


def change_text(key: str, value: float, pct: float) -> str:
    """A change in few characters for a figure: ``-$3.51bn (-85%)``, ``+1.2 pp``, ``+178``."""
    unit = style.unit_of(key)
    if value == 0:
        return "no change"
    if unit in ("USD", "share", "count"):
        text = style.fmt(key, value, signed=True)
    elif unit in ("samples", "tokens"):  # -47.8M, not -4.78e+07 (the axis names the unit)
        text = style.fmt(key, value, signed=True).removesuffix(f" {unit}")
    else:
        text = f"{value:+,.3g}"
    return f"{text} ({pct:+.0f}%)" if np.isfinite(pct) and unit != "share" else text


def _panel(ax, key: str, sub: pd.DataFrame, y: dict[str, int]) -> None:
    values = sub[["diff_vs_reference", "diff_lo", "diff_hi"]].to_numpy(dtype=float)
    div, unit = style.scale(key, values.ravel())
    unit = "percentage points" if unit == "%" else unit
    for group, r in sub.iterrows():
        if not np.isfinite(r["diff_vs_reference"]):
            continue
        colour = style.VERDICT_COLOURS.get(r["verdict"], style.UNCLEAR)
        if np.isfinite(r["diff_lo"]):
            ax.plot([r["diff_lo"] / div, r["diff_hi"] / div], [y[group]] * 2, color=colour, lw=2)
        hollow = r["verdict"] == "single run"
        x = r["diff_vs_reference"] / div
        ax.plot(x, y[group], "o", color=colour, mfc="white" if hollow else colour, ms=5.5)
        ax.annotate(
            change_text(key, r["diff_vs_reference"], r["pct"]),
            (x, y[group]),
            xytext=(0, 5),
            textcoords="offset points",
            ha="center",
            fontsize=6.5,
            color=colour,
        )
    ax.axvline(0, color=style.REFERENCE, lw=0.8)
    better = "more" if direction(key) == HIGHER else "less"
    ax.set_title(
        f"{textwrap.fill(style.label(key), 26)}\n({better} is better for {metric(key).whom})",
        fontsize=8.5,
    )
    ax.set_xlabel(f"change ({unit})" if unit else "change", fontsize=8)
    ax.margins(x=0.3, y=0.08)
    ax.grid(axis="y", alpha=0)


def summary_figure(table: pd.DataFrame, path: Path, per_row: int = 5) -> Path | None:
    """Write :func:`summary_plot` to ``path`` (None when there is nothing to compare)."""
    with style.context():
        fig = summary_plot(table, per_row)
        return style.save(fig, path) if fig is not None else None


def summary_plot(table: pd.DataFrame, per_row: int = 5) -> Figure | None:
    """Dot-and-whisker grid: rows are groups (policies ranked, context apart), panels metrics.

    Each dot is the mean change against the reference paired by seed, the whisker its 95%
    interval, in the metric's unit; blue means better and red worse for the party the
    metric speaks for, grey an interval that straddles zero; hollow dots have one seed.
    """
    policies, context = ranked_groups(table)
    keys = [k for k in summary_metrics() if k in set(table.get("metric", []))]
    if not (policies or context) or not keys:
        return None
    rows = [*policies, *([""] if policies and context else []), *context]
    y = {g: i for i, g in enumerate(reversed(rows))}
    data = table.dropna(subset=["diff_vs_reference"]).set_index(["group", "metric"])
    seeds = data.groupby(level="group")["pairs"].max()
    ncols = min(per_row, len(keys))
    nrows = -(-len(keys) // ncols)
    with style.context():
        fig = Figure(figsize=(2.3 * ncols + 2.0, nrows * (0.36 * len(rows) + 1.3) + 0.6))
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharey=True, squeeze=False)).ravel()
        for ax, key in zip(axes, keys, strict=False):
            _panel(ax, key, data.xs(key, level="metric").reindex([g for g in rows if g]), y)
        for ax in axes[len(keys) :]:
            ax.set_axis_off()
        ticks = [y[g] for g in rows if g]
        names = [f"{g}  (n={int(seeds.get(g, 0))})" for g in rows if g]
        for ax in axes[::ncols]:
            ax.set_yticks(ticks, names)
            if policies and context:
                ax.annotate(
                    "context: market shocks, not policy choices",
                    (0, y[""]),
                    xycoords=("axes fraction", "data"),
                    xytext=(-4, 0),
                    textcoords="offset points",
                    ha="right",
                    va="center",
                    fontsize=7,
                    style="italic",
                    color=style.CONTEXT,
                )
        if policies and context:
            for ax in axes[: len(keys)]:
                ax.axhline(y[""], color="#BBBBBB", lw=0.8, ls=":")
        fig.suptitle(
            f"Change against {table.attrs.get('reference')}, paired by seed: dot the mean, bar "
            f"the 95% interval, n the seeds; policies ranked by "
            f"{style.label(table.attrs.get('rank_by', ''))}.\n"
            "Blue: better, red: worse (for the party named), grey: interval includes no change; "
            "hollow: one seed, no interval.",
            fontsize=9,
        )
    return fig
