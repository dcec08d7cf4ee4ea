"""Per-run figures a policy analyst looks at first (matplotlib, no pyplot state)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim import style

if TYPE_CHECKING:
    from sim.runner import RunResult

PARTY_COLOURS = {
    "developer": "#1f4e79",
    "intermediary": "#c55a11",
    "regulator": "#7030a0",
    "domestic": "#c00000",
    "reseller": "#595959",
    "international": "#a6a6a6",
}


def _save(fig: Figure, path: Path) -> Path:
    return style.save(fig, path)


def _title(fig: Figure, result: RunResult, what: str) -> None:
    s = result.summary
    fig.suptitle(
        f"{what} | scenario {s['scenario']}, seed {s['seed']}, {s['customers_n']:,} customers"
    )


def _lines(ax, ts: pd.DataFrame, columns: list[str], cumulative: bool = False) -> None:
    """One line per monthly column, labelled by the registry, on the series' time axis."""
    x, xlabel = style.time_axis(ts)
    for col in columns:
        y = ts[col].cumsum() if cumulative else ts[col]
        ax.plot(x, y, label=style.label(col, monthly=True))
    ax.set_xlabel(xlabel)


def plot_revenue(result: RunResult, path: Path) -> Path:
    """Revenue by party over time, per month, in USD (bn or M by size)."""
    ts = result.timeseries
    cols = [
        "revenue_intermediary_china",
        "revenue_intermediary_international",
        "revenue_developers",
        "revenue_domestic",
        "revenue_resellers",
    ]
    with style.context():
        fig = Figure(figsize=(8.5, 4.2))
        ax = fig.add_subplot()
        _lines(ax, ts, cols)
        style.unit_axis(ax, cols[0], ts[cols].to_numpy().ravel(), suffix=" per month")
        ax.set_ylabel(f"revenue ({style.scale(cols[0], ts[cols].to_numpy().ravel())[1]} per month)")
        style.legend_outside(fig)
        _title(fig, result, "Revenue by party")
        return _save(fig, path)


def plot_leakage(result: RunResult, path: Path) -> Path:
    """Capability paths and the gap; cumulative harvest and leakage, each on its own panel."""
    ts = result.timeseries
    with style.context():
        fig = Figure(figsize=(13, 4.8))
        ax1, ax2, ax3, ax4 = fig.subplots(1, 4)
        _lines(ax1, ts, ["capability_frontier", "capability_domestic", "capability_best_china"])
        ax1.set_ylabel("capability index (frontier at month 0 = 1)")
        ax1.set_title("Capability")
        _lines(ax2, ts, ["capability_gap_months", "capability_gap_months_no_leakage"])
        ax2.set_ylabel("months of frontier progress")
        ax2.set_title("Capability gap, with and without leakage")
        _lines(ax3, ts, ["harvested_samples", "harvested_samples_undetected"], cumulative=True)
        ax3.set_yscale("symlog", linthresh=1e6)
        ax3.set_ylabel("samples, cumulative")
        ax3.set_title("Harvested samples")
        _lines(ax4, ts, ["gap_closed_months"])
        ax4.set_ylabel("months of frontier progress")
        ax4.set_title("Gap closed by leakage")
        for ax in (ax1, ax2, ax3):
            style.legend_below(ax)
        _title(fig, result, "Capability leakage")
        return _save(fig, path)


def plot_compliance(result: RunResult, path: Path) -> Path:
    """Violations, detections, fines, suspensions and the safeguard levels."""
    ts = result.timeseries
    x, _ = style.time_axis(ts)
    with style.context():
        fig = Figure(figsize=(11, 8.5))
        (a, b), (c, d) = fig.subplots(2, 2)
        _lines(a, ts, ["violations", "violations_detected"])
        a.set_title("Violations per month")
        a.set_ylabel("customer-months")
        b.plot(x, ts["fines"].cumsum(), color=style.WORSE, label="fines, cumulative")
        style.unit_axis(b, "fines", ts["fines"].cumsum(), suffix=", cumulative")
        b.set_title("Fines on the intermediary")
        _lines(c, ts, ["suspensions", "false_positive_suspensions"])
        for i, m in enumerate(x[ts["model_withdrawals"] > 0]):
            c.axvline(m, color="black", ls=":", label="model withdrawn" if i == 0 else None)
        c.set_title("Suspensions per month")
        c.set_ylabel("accounts")
        _lines(d, ts, ["monitoring", "kyc", "us_rule_level", "compliance_rate"])
        d.set_ylim(-0.02, 1.02)
        d.set_ylabel("level (0 to 1)")
        d.set_title("Safeguards, rules and compliance")
        for ax in (a, c, d):
            style.legend_below(ax)
        _title(fig, result, "Compliance")
        return _save(fig, path)


def plot_market_shares(result: RunResult, path: Path) -> Path:
    """Shares of Chinese enterprise AI spend by option (stacked, in %)."""
    ts = result.timeseries
    x, xlabel = style.time_axis(ts)
    cols = ["share_foreign_direct", "share_reseller", "share_domestic", "share_inhouse"]
    with style.context():
        fig = Figure(figsize=(8.5, 4.2))
        ax = fig.add_subplot()
        labels = [style.label(c, monthly=True) for c in cols]
        ax.stackplot(x, *[100 * ts[c] for c in cols], labels=labels, alpha=0.85)
        ax.set_ylim(0, 100)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("share of Chinese enterprise AI spend (%)")
        style.legend_outside(fig)
        _title(fig, result, "Chinese enterprise AI spend by option")
        return _save(fig, path)


def plot_network(result: RunResult, path: Path, max_customers: int = 250) -> Path:
    """The network figure (:func:`network_figure`) written to ``path``."""
    with style.context():
        return _save(network_figure(result, max_customers), path)


def network_figure(result: RunResult, max_customers: int = 250) -> Figure:
    """The network: the largest spenders and their knowledge links, with every other player.

    Customers are coloured by sector and sized by their spend over the run; developers,
    intermediaries, domestic providers, resellers and regulators are drawn as distinct symbols.
    """
    import networkx as nx

    model = result.model
    g = model.network
    spend = model.population.spend_total.sum(axis=1)
    top = np.argsort(-spend, kind="stable")[:max_customers]
    keep = [("c", int(i)) for i in top]
    keep += [n for n, k in g.nodes(data="kind") if k not in ("customer", "international")]
    sub = g.subgraph(keep)
    pos = nx.spring_layout(sub, seed=result.config.seed, k=0.6 / np.sqrt(max(len(sub), 1)))
    fig = Figure(figsize=(10, 8))
    ax = fig.add_subplot()
    edge_style = {
        "knowledge": ("#bbbbbb", 0.5),
        "service": ("#f4b183", 0.6),
        "licensing": ("#1f4e79", 2.0),
        "oversight": ("#7030a0", 1.0),
    }
    for kind, (colour, width) in edge_style.items():
        edges = [
            (u, v)
            for u, v, k in sub.edges(data="kind")
            if k == kind and not (k == "oversight" and "c" in (u[0], v[0]))
        ]
        nx.draw_networkx_edges(
            sub,
            pos,
            edgelist=edges,
            edge_color=colour,
            width=width,
            ax=ax,
            alpha=0.6,
            label=f"{kind} edges",
        )
    names = model.population.sector_names
    cmap = mpl.colormaps["tab10"]
    size = 20 + 600 * np.sqrt(spend[top] / max(spend[top].max(), 1e-9))
    for s, name in enumerate(names):
        mask = model.population.sector[top] == s
        nodes = [("c", int(i)) for i in top[mask]]
        nx.draw_networkx_nodes(
            sub,
            pos,
            nodelist=nodes,
            node_size=size[mask],
            node_color=[cmap(s)],
            ax=ax,
            label=f"customers: {name}",
            alpha=0.85,
            linewidths=0,
        )
    markers = {
        "developer": "s",
        "intermediary": "h",
        "regulator": "^",
        "domestic": "D",
        "reseller": "v",
    }
    for kind, marker in markers.items():
        nodes = [n for n, k in sub.nodes(data="kind") if k == kind]
        nx.draw_networkx_nodes(
            sub,
            pos,
            nodelist=nodes,
            node_shape=marker,
            node_size=420,
            node_color=PARTY_COLOURS[kind],
            ax=ax,
            label=kind,
            edgecolors="white",
        )
        nx.draw_networkx_labels(
            sub,
            pos,
            labels={n: n[1] for n in nodes},
            font_size=7,
            ax=ax,
            verticalalignment="bottom",
        )
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(1.0, 0.95),
        fontsize=7,
        markerscale=0.5,
        frameon=False,
    )
    ax.set_axis_off()
    ax.set_title(
        f"Network: the {len(top)} largest of {model.population.size} customers (size = spend), "
        "their knowledge links, and every other player\n(oversight of each customer by the Chinese "
        "regulator not drawn)",
        fontsize=9,
    )
    return fig


PLOTS = {
    "revenue": plot_revenue,
    "leakage": plot_leakage,
    "compliance": plot_compliance,
    "market_shares": plot_market_shares,
    "network": plot_network,
}


def plot_run(result: RunResult, out_dir: Path) -> dict[str, Path]:
    """Write every per-run figure as ``out_dir/NAME.png``."""
    return {f"plot_{name}": fn(result, out_dir / f"{name}.png") for name, fn in PLOTS.items()}
