"""HTML for the analyses: a fragment per analysis found in a folder, and a one-file report.

:func:`fragment` finds the tables an analysis wrote (``morris.csv``, ``sobol.csv``,
``prim_boxes.csv``, ``robust.csv``, ``uncertainty.csv``) and returns an HTML fragment with
their figures embedded and the numbers behind them, formatted like the sweep report
(:mod:`sim.sweep.report`), plus the figure paths. ``python -m sim.analyze`` writes it as
``report.html`` in its output folder; the sweep report can append it for a sweep's
``comparison/`` folder (where an uncertainty sweep writes ``uncertainty.csv``).
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from sim.results import atomic_write
from sim.sweep.report import SCRIPT, STYLE, image_html, table_html

TOP = 15


def _morris(folder: Path) -> tuple[str, list[Path]]:
    table = pd.read_csv(folder / "morris.csv")
    parts, figures = ["<h2>Morris screening</h2>"], []
    for key, rows in table.groupby("outcome", sort=False):
        png = folder / f"morris_{key}.png"
        parts.append(f"<h3>{html.escape(str(key))}</h3>")
        if png.is_file():
            parts.append(image_html(png, f"Morris {key}"))
            figures.append(png)
        cols = ["rank", "parameter", "role", "mu_star", "mu_star_conf", "sigma"]
        parts.append(table_html(rows.sort_values("rank")[cols].head(TOP), f"morris-{key}"))
    return "\n".join(parts), figures


def _sobol(folder: Path) -> tuple[str, list[Path]]:
    table = pd.read_csv(folder / "sobol.csv")
    parts, figures = ["<h2>Sobol indices</h2>"], []
    png = folder / "sobol_convergence.png"
    if png.is_file():
        parts.append(image_html(png, "Sobol convergence"))
        figures.append(png)
    parts.append(table_html(table, "sobol"))
    return "\n".join(parts), figures


def _prim(folder: Path) -> tuple[str, list[Path]]:
    boxes = pd.read_csv(folder / "prim_boxes.csv")
    parts, figures = ["<h2>Scenario discovery (PRIM)</h2>"], []
    for png in sorted(folder.glob("prim_trajectory_*.png")) + sorted(folder.glob("prim_box_*.png")):
        parts.append(image_html(png, png.stem))
        figures.append(png)
    parts.append(table_html(boxes, "prim-boxes"))
    return "\n".join(parts), figures


def _robust(folder: Path) -> tuple[str, list[Path]]:
    parts, figures = ["<h2>Robustness of policies</h2>"], []
    for png in (folder / "robust.png", folder / "robust_satisficing.png"):
        if png.is_file():
            parts.append(image_html(png, png.stem))
            figures.append(png)
    parts.append(table_html(pd.read_csv(folder / "robust_policies.csv"), "robust-policies"))
    parts.append(table_html(pd.read_csv(folder / "robust.csv"), "robust"))
    return "\n".join(parts), figures


def _uncertainty(folder: Path) -> tuple[str, list[Path]]:
    table = pd.read_csv(folder / "uncertainty.csv")
    parts = [
        "<h2>Parameter uncertainty</h2>",
        "<p>Share of each outcome's spread across runs explained by each uncertain parameter "
        "(first-order, RBD-FAST), by the seeds, and left to interactions.</p>",
    ]
    figures = []
    png = folder / "uncertainty.png"
    if png.is_file():
        parts.append(image_html(png, "parameter uncertainty"))
        figures.append(png)
    parts.append(table_html(table[["cell", "outcome", "source", "share", "S1"]], "uncertainty"))
    return "\n".join(parts), figures


SECTIONS = {
    "morris.csv": _morris,
    "sobol.csv": _sobol,
    "prim_boxes.csv": _prim,
    "robust_policies.csv": _robust,
    "uncertainty.csv": _uncertainty,
}


def fragment(folder: Path) -> tuple[str, list[Path]]:
    """HTML (figures embedded) for every analysis in ``folder``, and the figures' paths.

    Returns ``("", [])`` when the folder holds no analysis table.
    """
    folder = Path(folder)
    parts, figures = [], []
    for name, build in SECTIONS.items():
        if (folder / name).is_file():
            text, pngs = build(folder)
            parts.append(text)
            figures += pngs
    return "\n".join(parts), figures


def write_report(folder: Path, title: str) -> Path | None:
    """``folder/report.html``: one self-contained page of the analyses found in ``folder``."""
    body, _ = fragment(folder)
    if not body:
        return None
    text = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style><script>{SCRIPT}</script></head><body>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return atomic_write(Path(folder) / "report.html", lambda t: t.write_text(text, "utf-8"))
