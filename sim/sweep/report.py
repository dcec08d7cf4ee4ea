"""A self-contained HTML report: one file, images embedded, the numbers behind every figure."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

import pandas as pd

from sim.results import atomic_write

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-top:1em}
table{border-collapse:collapse;font-size:12px;margin:0.5em 0 1.5em}
td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}th{background:#f3f3f3}
td.text,th.text{text-align:left}img{max-width:100%;border:1px solid #eee}
pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:11px;max-height:30em}
.failed{color:#a00}
"""
SCRIPT = """
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images-total', imgs.length);
  document.body.setAttribute('data-images-loaded', ok);
});
"""


def format_number(value: object) -> str:
    """Numbers to six significant digits (as the tests read them back); text as is."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int | float):
        return "" if isinstance(value, float) and math.isnan(value) else f"{value:.6g}"
    return str(value)


def table_html(frame: pd.DataFrame, name: str) -> str:
    """An HTML table whose cells hold the numbers exactly as formatted by :func:`format_number`."""
    if frame is None or frame.empty:
        return "<p>(nothing to show)</p>"
    head = "".join(
        f'<th class="{"text" if frame[c].dtype == object else "num"}">{html.escape(str(c))}</th>'
        for c in frame.columns
    )
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for col, value in zip(frame.columns, row, strict=True):
            kind = "text" if frame[col].dtype == object else "num"
            cells.append(
                f'<td class="{kind}" data-col="{html.escape(str(col))}">{html.escape(format_number(value))}</td>'
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="numbers" data-table="{html.escape(name)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def image_html(path: Path, alt: str) -> str:
    """A PNG embedded as a data URI."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def write_report(
    path: Path,
    title: str,
    runs: pd.DataFrame,
    figures: list[tuple[str, Path, pd.DataFrame]],
    headline: pd.DataFrame,
    sweep_config: str,
    sources: list[Path],
) -> Path:
    """Write the report: counts, failed jobs, each figure with its numbers, headline table, config."""
    failed = runs[runs["status"] != "ok"]
    counts = runs["status"].value_counts().to_dict()
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style><script>{SCRIPT}</script></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p>Sources: " + ", ".join(html.escape(str(s)) for s in sources) + "</p>",
        f'<p id="counts">{len(runs)} runs: '
        + ", ".join(f"{html.escape(k)} {v}" for k, v in sorted(counts.items()))
        + "</p>",
        "<h2>Failed jobs</h2>",
    ]
    if failed.empty:
        parts.append('<p id="failed-none">None: every job finished.</p>')
    else:
        cols = [
            c
            for c in runs.columns
            if c in ("run", "status", "scenario", "seed", "error")
            or c in runs.attrs.get("params", [])
        ]
        parts.append('<div class="failed">' + table_html(failed[cols], "failed") + "</div>")
    for name, png, numbers in figures:
        parts += [f"<h2>{html.escape(name)}</h2>", image_html(png, name), table_html(numbers, name)]
    parts += [
        "<h2>Headline metrics per group (mean, 95% CI, n)</h2>",
        table_html(headline, "headline"),
    ]
    parts += [
        "<h2>Sweep configuration and overrides</h2>",
        f"<pre>{html.escape(sweep_config)}</pre>",
    ]
    parts.append("</body></html>")
    text = "\n".join(parts)
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
