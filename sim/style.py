"""One look for every figure: colours, fonts, legends outside the data, axes in human units.

The per-run plots, the comparison figures, the policy summary and the dashboard all draw
through these helpers, so a reader sees the same colour for "better", the same money
format (USD bn, never offset notation) and the same time axis everywhere. Labels and units
come from the metric registry (:mod:`sim.metrics`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sim.metrics import MONTHLY, Metric, axis_scale, format_value, metric
from sim.results import atomic_write

#: Okabe-Ito: distinct for colour-blind readers; enough for six groups, then small multiples.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
MAX_COLOURS = len(PALETTE)
REFERENCE = "#333333"
BETTER, WORSE, UNCLEAR = "#2166AC", "#C0392B", "#9E9E9E"
CONTEXT = "#8C6D31"
VERDICT_COLOURS = {"better": BETTER, "worse": WORSE}
VERDICT_TINTS = {"better": "#D6E6F4", "worse": "#F6D5D1"}

RC = {
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.labelsize": 8.5,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.formatter.useoffset": False,
    "axes.formatter.limits": (-5, 9),
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
}


@contextlib.contextmanager
def context() -> Iterator[None]:
    """Draw inside this block to get the project's style (no global pyplot state)."""
    with mpl.rc_context(RC):
        yield


def colours(n: int) -> list[str]:
    """``n`` distinct colours (cycled past six: callers switch to small multiples there)."""
    return [PALETTE[i % MAX_COLOURS] for i in range(n)]


def small_multiples(n_groups: int) -> bool:
    """Whether ``n_groups`` series need one panel each rather than one colour each."""
    return n_groups > MAX_COLOURS


_MONTHLY = {m.name: m for m in MONTHLY}


def monthly(name: str) -> Metric:
    """The registry's definition of a monthly column (not a summary key of the same name)."""
    return _MONTHLY.get(name) or metric(name)


def label(key: str, monthly: bool = False) -> str:
    """The registry's human label for a metric key (the key itself if unregistered).

    ``monthly`` reads ``key`` as a column of the time series rather than a summary key.
    """
    try:
        m = _MONTHLY[key] if monthly and key in _MONTHLY else metric(key)
    except KeyError:
        return key.replace("_", " ")
    return m.label or m.name


def unit_of(key: str) -> str:
    """The registry's unit for a metric key ('' if unregistered)."""
    try:
        return metric(key).unit
    except KeyError:
        return ""


def scale(key: str, values: Sequence[float] | np.ndarray | pd.Series = ()) -> tuple[float, str]:
    """Divisor and unit text to show ``key`` at the size of ``values`` (USD bn or M, %, ...)."""
    v = np.abs(np.asarray(values, dtype=float))
    v = v[np.isfinite(v)]
    magnitude = float(v.max()) if v.size else 1e9
    return axis_scale(unit_of(key), magnitude)


def title(key: str, values: Sequence[float] | np.ndarray | pd.Series = (), suffix: str = "") -> str:
    """``label (unit)`` for an axis or a panel, the unit scaled to ``values``."""
    _, unit = scale(key, values)
    unit = f"{unit}{suffix}" if unit else suffix.strip(", ")
    return f"{label(key)} ({unit})" if unit else label(key)


def unit_axis(ax: Axes, key: str, values, axis: str = "y", suffix: str = "") -> float:
    """Label ``axis`` with the metric and its unit and tick it in that unit; returns the divisor.

    Data stay in raw units (USD, shares); only the tick labels are divided, so no offset
    text ("1e10") ever appears.
    """
    div, _ = scale(key, values)
    fmt = FuncFormatter(lambda v, _pos: f"{v / div:,.4g}")
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(fmt)
    target.set_label_text(title(key, values, suffix))
    return div


def fmt(key: str, value: float | None, signed: bool = False) -> str:
    """A metric value in words and units; a signed share is a change in percentage points."""
    if value is None or not np.isfinite(value):
        return "n/a"
    unit = unit_of(key)
    if signed and unit == "share":
        return f"{100 * value:+.1f} pp"
    text = format_value(key, value, signed=signed)
    if unit and unit not in ("USD", "share", "count", "months", "samples", "tokens"):
        text = f"{text} {axis_scale(unit)[1]}"
    return text


def short(key: str, value: float | None, signed: bool = False) -> str:
    """Like :func:`fmt` but without unit words for units a heading already names."""
    if value is None or not np.isfinite(value):
        return "n/a"
    unit = unit_of(key)
    if unit in ("USD", "share", "count"):
        return fmt(key, value, signed)
    if unit in ("samples", "tokens"):  # 47.8M, not 4.78e+07
        return fmt(key, value, signed).removesuffix(f" {unit}")
    return f"{value:+,.3g}" if signed else f"{value:,.3g}"


def time_axis(frame: pd.DataFrame) -> tuple[pd.Series, str]:
    """The x values and label for a monthly frame: calendar dates if a ``date`` column exists."""
    if "date" in frame:
        return pd.to_datetime(frame["date"]), ""
    if "month" in frame:
        return frame["month"], "month"
    return pd.Series(frame.index, index=frame.index), "month"


def legend_outside(fig: Figure, handles=None, labels=None, title: str | None = None) -> None:
    """One legend for the figure, to the right of every panel (never over data)."""
    if handles is None:
        seen: dict[str, object] = {}
        for ax in fig.axes:
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                if not lab.startswith("_"):
                    seen.setdefault(lab, h)
        labels, handles = list(seen), list(seen.values())
    if handles:
        fig.legend(
            handles,
            labels,
            loc="upper left",
            bbox_to_anchor=(1.0, 0.98),
            title=title,
            alignment="left",
        )


def legend_below(ax: Axes) -> None:
    """The panel's own legend under its x axis (multi-panel figures whose colours repeat)."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1)


def save(fig: Figure, path: Path, dpi: int = 110, tight: bool = True) -> Path:
    """Lay out and write the figure as a PNG atomically; the outside legend is kept whole.

    ``tight=False`` keeps the caller's layout (large grids of small multiples).
    """
    if tight:
        fig.tight_layout()
    return atomic_write(
        Path(path),
        lambda tmp: fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.15),
    )
