"""Per-run figures a policy analyst looks at first (matplotlib, no pyplot state)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from sim.results import atomic_write

if TYPE_CHECKING:
    from sim.runner import RunResult

MUSD = 1e6
PARTY_COLOURS = {
    "developer": "#1f4e79",
    "intermediary": "#c55a11",
    "regulator": "#7030a0",
    "domestic": "#c00000",
    "reseller": "#595959",
    "international": "#a6a6a6",
}


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))


def _title(fig: Figure, result: RunResult, what: str) -> None:
    s = result.summary
    fig.suptitle(
        f"{what} | scenario {s['scenario']}, seed {s['seed']}, {s['customers_n']} customers",
        fontsize=10,
    )


def plot_revenue(result: RunResult, path: Path) -> Path:
    """Revenue by party over time (USD million per month)."""
    ts = result.timeseries
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    series = {
        "Intermediary, China segment": "revenue_intermediary_china",
        "Intermediary, Chinese models abroad": "revenue_intermediary_international",
        "US developers (China channel)": "revenue_developers",
        "Domestic Chinese providers": "revenue_domestic",
        "Resellers and shells": "revenue_resellers",
    }
    for label, col in series.items():
        ax.plot(ts.index, ts[col] / MUSD, label=label)
    ax.set_xlabel("month")
    ax.set_ylabel("USD million per month")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    _title(fig, result, "Revenue by party")
    return _save(fig, path)


def plot_leakage(result: RunResult, path: Path) -> Path:
    """Capability paths and the gap; cumulative leakage and harvested tokens."""
    ts = result.timeseries
    fig = Figure(figsize=(11, 4.5))
    ax1, ax2, ax3 = fig.subplots(1, 3)
    ax1.plot(ts.index, ts["capability_frontier"], label="US frontier")
    ax1.plot(ts.index, ts["capability_domestic"], label="Domestic providers")
    ax1.plot(ts.index, ts["capability_best_china"], "--", label="Best Chinese (incl. in-house)")
    ax1.set_ylabel("capability index (frontier at month 0 = 1)")
    ax1.legend(fontsize=8)
    ax1.set_title("Capability", fontsize=9)
    ax2.plot(ts.index, ts["capability_gap_months"], color="black")
    ax2.set_ylabel("months of frontier progress")
    ax2.set_title("Capability gap", fontsize=9)
    ax3.plot(ts.index, ts["harvested_samples"].cumsum(), label="harvested, all")
    ax3.plot(ts.index, ts["harvested_samples_undetected"].cumsum(), label="harvested, undetected")
    ax3.set_yscale("symlog")
    ax3.set_ylabel("samples, cumulative")
    ax3b = ax3.twinx()
    ax3b.plot(ts.index, ts["gap_closed_months"], color="tab:red", label="gap closed (right)")
    ax3b.set_ylabel("gap closed by leakage (months)", color="tab:red")
    lines = ax3.get_legend_handles_labels()
    more = ax3b.get_legend_handles_labels()
    ax3.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="upper left")
    ax3.set_title("Harvesting and leakage", fontsize=9)
    for ax in (ax1, ax2, ax3):
        ax.set_xlabel("month")
        ax.grid(alpha=0.3)
    _title(fig, result, "Capability leakage")
    return _save(fig, path)


def plot_compliance(result: RunResult, path: Path) -> Path:
    """Violations, detections, fines, suspensions and the safeguard levels."""
    ts = result.timeseries
    fig = Figure(figsize=(10, 6.5))
    (a, b), (c, d) = fig.subplots(2, 2)
    a.plot(ts.index, ts["violations"], label="committed")
    a.plot(ts.index, ts["violations_detected"], label="detected by audit")
    a.set_title("Violations (customer-months served while restricted)", fontsize=9)
    a.legend(fontsize=8)
    b.plot(ts.index, ts["fines"].cumsum() / MUSD, color="tab:red")
    b.set_title("Fines on the intermediary, cumulative (USD million)", fontsize=9)
    c.plot(ts.index, ts["suspensions"], label="harvesters sanctioned")
    c.plot(ts.index, ts["false_positive_suspensions"], label="honest customers flagged")
    withdrawals = ts.index[ts["model_withdrawals"] > 0]
    for i, m in enumerate(withdrawals):
        c.axvline(m, color="black", ls=":", label="model withdrawn" if i == 0 else None)
    c.set_title("Suspensions per month", fontsize=9)
    c.legend(fontsize=8)
    d.plot(ts.index, ts["monitoring"], label="monitoring intensity")
    d.plot(ts.index, ts["kyc"], label="KYC strictness")
    d.plot(ts.index, ts["us_rule_level"], label="US rule level")
    d.plot(ts.index, ts["compliance_rate"], label="compliant share of foreign spend")
    d.set_ylim(-0.02, 1.02)
    d.set_title("Safeguards, rules and compliance", fontsize=9)
    d.legend(fontsize=8)
    for ax in (a, b, c, d):
        ax.set_xlabel("month")
        ax.grid(alpha=0.3)
    _title(fig, result, "Compliance")
    return _save(fig, path)


def plot_market_shares(result: RunResult, path: Path) -> Path:
    """Shares of Chinese enterprise AI spend by option (stacked)."""
    ts = result.timeseries
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    cols = ["share_foreign_direct", "share_reseller", "share_domestic", "share_inhouse"]
    labels = ["Foreign via intermediary", "Foreign via resellers", "Domestic providers", "In-house"]
    ax.stackplot(ts.index, *[ts[c] for c in cols], labels=labels, alpha=0.85)
    ax.set_ylim(0, 1)
    ax.set_xlabel("month")
    ax.set_ylabel("share of spend")
    ax.legend(fontsize=8, loc="lower left")
    _title(fig, result, "Chinese enterprise AI spend by option")
    return _save(fig, path)


def plot_network(result: RunResult, path: Path, max_customers: int = 250) -> Path:
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
    fig = Figure(figsize=(9, 8))
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
    cmap = __import__("matplotlib").colormaps["tab10"]
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
    ax.legend(fontsize=7, loc="upper left", markerscale=0.5, ncol=2)
    ax.set_axis_off()
    ax.set_title(
        f"Network: the {len(top)} largest of {model.population.size} customers (size = spend), "
        "their knowledge links, and every other player\n(oversight of each customer by the Chinese "
        "regulator not drawn)",
        fontsize=9,
    )
    return _save(fig, path)


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
