"""A self-contained HTML report that reads as a document: the policy summary first.

One file, images embedded, no external scripts or styles: a reader sees the answer (which
policy moves which outcome, by how much, how sure) on the first screen, with the summary
figure and sortable tables in human units; the detail (every figure with the numbers it
draws, levels per group, failed jobs, the sweep's config) follows in collapsible sections.
Every number cell carries its raw value in ``data-value`` (sorting and tests read it).
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim import style
from sim.metrics import LOWER
from sim.results import atomic_write
from sim.sweep import summary
from sim.sweep.aggregate import map_text, mathtext_safe

TABLE_STYLE = """
.answer{font-size:1.05em;background:#f5f8fb;border-left:4px solid #2166ac;padding:0.6em 1em}
table{border-collapse:collapse;font-size:12px;margin:0.4em 0 1.2em}
td,th{border:1px solid #ddd;padding:3px 7px;text-align:right;vertical-align:top}
th{background:#f3f3f3;cursor:pointer;user-select:none}th:after{content:" \\2195";color:#aaa}
th.asc:after{content:" \\2191"}th.desc:after{content:" \\2193"}
td.text,th.text{text-align:left}td small{color:#666;display:block}
td.better{background:#d6e6f4}td.worse{background:#f6d5d1}.notes li{color:#555}
"""
STYLE = (
    """
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1200px;color:#222;
line-height:1.4;padding:0 1em}
h1{font-size:1.45em;margin-bottom:0.2em}h2{font-size:1.2em;border-bottom:1px solid #ccc;
padding-top:0.6em}h3{font-size:1.02em;margin-bottom:0.3em}.lede{color:#555;margin-top:0}
img{max-width:100%;border:1px solid #eee}details{margin:0.6em 0}
summary{cursor:pointer;font-weight:600;font-size:1.05em;padding:0.3em 0}
pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:11px;max-height:30em}
.failed{color:#a00}
"""
    + TABLE_STYLE
)
SCRIPT = """
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images-total', imgs.length);
  document.body.setAttribute('data-images-loaded', ok);
  document.querySelectorAll('table.sortable th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var table = th.closest('table'), body = table.tBodies[0];
      var asc = !th.classList.contains('asc');
      table.querySelectorAll('th').forEach(function (h) { h.classList.remove('asc', 'desc'); });
      th.classList.add(asc ? 'asc' : 'desc');
      var key = function (row) {
        var cell = row.cells[th.cellIndex], v = cell.getAttribute('data-value');
        var n = parseFloat(v);
        return v !== null && v !== '' && !isNaN(n) ? n : cell.textContent.trim().toLowerCase();
      };
      Array.prototype.slice.call(body.rows).sort(function (a, b) {
        var x = key(a), y = key(b);
        if (typeof x !== typeof y) { return typeof x === 'number' ? -1 : 1; }
        return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
      }).forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""
HEADINGS = {
    "group": "group",
    "kind": "kind",
    "label": "metric",
    "n": "seeds",
    "pairs": "seeds paired",
    "mean": "mean",
    "lo": "95% low",
    "hi": "95% high",
    "diff_vs_reference": "change",
    "diff_lo": "change, 95% low",
    "diff_hi": "change, 95% high",
    "reference_mean": "reference level",
    "pct": "change (%)",
    "pct_lo": "%, 95% low",
    "pct_hi": "%, 95% high",
    "verdict": "verdict",
}
SIGNED = ("diff_vs_reference", "diff_lo", "diff_hi")
PERCENT = ("pct", "pct_lo", "pct_hi")


def format_number(value: object) -> str:
    """Numbers to four significant digits with thousands separators; text as is."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        return (
            f"{value:,.0f}" if float(value).is_integer() and abs(value) < 1e15 else f"{value:,.4g}"
        )
    return str(value)


def _is_metric(key: object) -> bool:
    return isinstance(key, str) and style.unit_of(key) != ""


def _cell(value: object, column: str, key: str | None) -> tuple[str, str]:
    """The text and the raw ``data-value`` of one cell, formatted by its metric if known."""
    number = isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool
    )
    if not number:
        return ("" if value is None or value is pd.NA else str(value)), ""
    raw = repr(float(value))
    if not np.isfinite(float(value)):
        return "", ""
    if column in PERCENT:
        return f"{value:+.1f}%", raw
    if column in ("n", "pairs"):
        return f"{int(value)}", raw
    metric_key = column if _is_metric(column) else key
    if metric_key is not None and (
        column in (*SIGNED, "mean", "lo", "hi", "reference_mean") or column == metric_key
    ):
        return style.fmt(metric_key, float(value), signed=column in SIGNED), raw
    return format_number(value), raw


def table_html(frame: pd.DataFrame | None, name: str, columns: list[str] | None = None) -> str:
    """A sortable table: headings in words, numbers in the units of their metric.

    A ``metric`` column names each row's metric (shown by its label, the key kept in
    ``data-key``); number cells hold their raw value in ``data-value``.
    """
    if frame is None or frame.empty:
        return "<p>(nothing to show)</p>"
    columns = columns or [c for c in frame.columns if c != "label"]
    head = []
    for c in columns:
        text = style.title(c) if _is_metric(c) else HEADINGS.get(c, str(c))
        kind = "text" if frame[c].dtype == object else "num"
        head.append(f'<th class="{kind}" data-col="{html.escape(str(c))}">{html.escape(text)}</th>')
    body = []
    for record in frame.to_dict("records"):
        key = record.get("metric") if _is_metric(record.get("metric")) else None
        cells = []
        for c in columns:
            value = record.get(c)
            if c == "metric" and key:
                cells.append(
                    f'<td class="text" data-col="metric" data-key="{html.escape(key)}">'
                    f"{html.escape(style.label(key))}</td>"
                )
                continue
            text, raw = _cell(value, c, key)
            kind = "num" if raw else "text"
            cells.append(
                f'<td class="{kind}" data-col="{html.escape(str(c))}" data-value="{raw}">'
                f"{html.escape(text)}</td>"
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="numbers sortable" data-table="{html.escape(name)}"><thead><tr>'
        f"{''.join(head)}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def image_html(path: Path, alt: str) -> str:
    """A PNG embedded as a data URI."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _change_cell(key: str, r: pd.Series) -> str:
    verdict = r.get("verdict") or ""
    main = summary.change_text(key, r["diff_vs_reference"], r["pct"])
    if np.isfinite(r["diff_lo"]):
        lo = style.short(key, r["diff_lo"], signed=True)
        hi = style.short(key, r["diff_hi"], signed=True)
        detail = f"95%: {lo} to {hi}"
    else:
        detail = "one seed: no interval"
    return (
        f'<td class="num {html.escape(verdict)}" data-col="{html.escape(key)}" '
        f'data-value="{float(r["diff_vs_reference"])!r}" data-verdict="{html.escape(verdict)}" '
        f'title="{html.escape(verdict)}">{html.escape(main)}<small>{html.escape(detail)}</small></td>'
    )


def summary_table(table: pd.DataFrame, groups: list[str], name: str) -> str:
    """One row per group (in the given order), one cell per summary metric: the change."""
    keys = [k for k in summary.summary_metrics() if k in set(table["metric"])]
    data = table.dropna(subset=["diff_vs_reference"]).set_index(["group", "metric"])
    head = [
        '<th class="num" data-col="rank">rank</th>',
        '<th class="text" data-col="group">group</th>',
    ]
    head.append('<th class="num" data-col="n">seeds</th>')
    head += [
        f'<th class="num" data-col="{k}">{html.escape(style.title(k, suffix=""))}</th>'
        for k in keys
    ]
    rows = []
    for rank, group in enumerate(groups, 1):
        n = int(data.loc[group, "pairs"].max())
        cells = [
            f'<td class="num" data-col="rank" data-value="{rank}">{rank}</td>',
            f'<td class="text" data-col="group">{html.escape(group)}</td>',
            f'<td class="num" data-col="n" data-value="{n}">{n}{" (flagged)" if n < 2 else ""}</td>',
        ]
        for key in keys:
            cells.append(
                _change_cell(key, data.loc[(group, key)])
                if (group, key) in data.index
                else "<td></td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="numbers sortable summary" data-table="{html.escape(name)}"><thead><tr>'
        f"{''.join(head)}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def answer(table: pd.DataFrame, policies: list[str]) -> str:
    """One paragraph: the policy ranked first, its effect with interval, and what it costs."""
    key = table.attrs.get("rank_by")
    if not policies or key is None:
        return ""
    data = table.dropna(subset=["diff_vs_reference"]).set_index(["group", "metric"])
    best = policies[0]
    r = data.loc[(best, key)]
    if r["verdict"] != "better":
        return (
            f"No policy here changes {style.label(key)} clearly for the better against "
            f"{group_name(table.attrs.get('reference'))} at this number of seeds; the largest "
            f"effect is {group_name(best)}'s ({html.escape(_phrase(key, r))})."
        )
    costs, gains = [], []
    for other in summary.summary_metrics():
        if other == key or (best, other) not in data.index:
            continue
        o = data.loc[(best, other)]
        item = f"{style.label(other)} {_phrase(other, o, interval=False)}"
        (costs if o["verdict"] == "worse" else gains if o["verdict"] == "better" else []).append(
            item
        )
    text = (
        f"Of {len(policies)} policy choices against {group_name(table.attrs.get('reference'))}, "
        f"<b>{group_name(best)}</b> reduces {style.label(key)} most: "
        f"{html.escape(_phrase(key, r))}, over {int(r['pairs'])} seeds."
        if summary.direction(key) == LOWER
        else f"Of {len(policies)} policy choices, <b>{group_name(best)}</b> moves "
        f"{style.label(key)} most: {html.escape(_phrase(key, r))}."
    )
    if costs:
        text += "<br>At a cost in " + "; ".join(html.escape(c) for c in costs) + "."
    if gains:
        text += "<br>Also better: " + "; ".join(html.escape(g) for g in gains) + "."
    return text


def group_name(label: object) -> str:
    """A group's label quoted for prose, as HTML: a label holds commas of its own
    (``baseline, us.rule_level=0.5``), so quotes keep it apart from the sentence."""
    return f"\u201c{html.escape(str(label))}\u201d"


def _reference_text(headline: pd.DataFrame) -> str:
    """``reference: "NAME"``, or that there is none (one group only, nothing to compare)."""
    reference = headline.attrs.get("reference")
    if reference is None:
        return "no reference group (one group only)"
    return f"reference: {group_name(reference)}"


def _phrase(key: str, r: pd.Series, interval: bool = True) -> str:
    text = style.fmt(key, r["diff_vs_reference"], signed=True)
    if np.isfinite(r["pct"]) and style.unit_of(key) != "share":
        text += f" ({r['pct']:+.0f}%"
        if interval and np.isfinite(r["pct_lo"]):
            text += f"; 95% interval {r['pct_lo']:+.0f}% to {r['pct_hi']:+.0f}%"
        text += ")"
    elif interval and np.isfinite(r["diff_lo"]):
        lo, hi = (
            style.fmt(key, r["diff_lo"], signed=True),
            style.fmt(key, r["diff_hi"], signed=True),
        )
        text += f" (95% interval {lo} to {hi})"
    return text


def _notes(table: pd.DataFrame) -> list[str]:
    notes = [
        "Changes are paired by seed (each seed of a group against the same seed of the "
        "reference); intervals are 95% t-intervals of the mean change, clipped to what the "
        "quantity can take; % is against the reference level. Blue: better, red: worse for "
        "the party the metric speaks for (column heading in the figure); no colour: the "
        "interval includes no change."
    ]
    if table.attrs.get("duplicates"):
        notes.append(
            f"{table.attrs['duplicates']} repeated run(s) of the same group and seed counted once."
        )
    if table.attrs.get("single_seed"):
        notes.append(
            "One seed only, so no interval: " + ", ".join(table.attrs["single_seed"]) + "."
        )
    notes += [str(w) for w in table.attrs.get("warnings", [])]
    if table.attrs.get("skipped"):
        notes.append("Folders skipped: " + ", ".join(map(str, table.attrs["skipped"])) + ".")
    return notes


def summary_html(table: pd.DataFrame, png: Path | None) -> list[str]:
    """The summary section: answer, figure, ranked policy table, context table, notes."""
    parts = ['<section id="summary"><h2>Policy summary</h2>']
    if table.empty or "diff_vs_reference" not in table:
        parts.append("<p>One group only: nothing to compare against.</p></section>")
        return parts
    policies, context = summary.ranked_groups(table)
    key = table.attrs.get("rank_by")
    parts.append(f'<p class="answer" id="answer">{answer(table, policies)}</p>')
    if png is not None:
        parts.append(image_html(png, "Policy summary"))
    if policies:
        parts.append(
            f"<h3>Policy choices against {group_name(table.attrs.get('reference'))}, "
            f"ranked by {html.escape(style.label(key))}</h3>"
        )
        parts.append(summary_table(table, policies, "summary-policy"))
    if context:
        parts.append("<h3>Context: market shocks (not policy choices)</h3>")
        parts.append(summary_table(table, context, "summary-context"))
    parts.append(
        '<ul class="notes">'
        + "".join(f"<li>{html.escape(n)}</li>" for n in _notes(table))
        + "</ul>"
    )
    parts.append("</section>")
    return parts


def _details(title: str, body: list[str], open_: bool = False, ident: str = "") -> list[str]:
    attrs = (" open" if open_ else "") + (f' id="{ident}"' if ident else "")
    return [f"<details{attrs}><summary>{html.escape(title)}</summary>", *body, "</details>"]


def write_report(
    path: Path,
    title: str,
    runs: pd.DataFrame,
    figures: list[tuple[str, Path, pd.DataFrame]],
    headline: pd.DataFrame,
    sweep_config: str,
    sources: list[Path],
    analyses: str = "",
) -> Path:
    """Write the report: the policy summary (and ``summary.png`` beside it), then detail.

    ``headline`` is :func:`sim.sweep.figures.headline_table`'s table; ``figures`` are the
    comparison figures with the numbers each draws; ``analyses`` is the HTML of the analyses
    found beside the report (:func:`sim.analysis.report.fragment`), shown after the figures.
    """
    path = Path(path)
    failed = runs[~runs["status"].isin(["ok", "duplicate"])]  # a duplicate is counted once
    counts = runs["status"].value_counts().to_dict()
    png = (
        summary.summary_figure(map_text(headline, mathtext_safe), path.parent / "summary.png")
        if not headline.empty
        else None
    )
    groups = headline["group"].nunique() if not headline.empty else 0
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style><script>{SCRIPT}</script></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="lede" id="counts">{len(runs)} runs in {groups} '
        f"group{'' if groups == 1 else 's'}; {_reference_text(headline)}; "
        + ", ".join(f"{html.escape(k)} {v}" for k, v in sorted(counts.items()))
        + "</p>",
        *summary_html(headline, png),
    ]
    for name, figure_png, numbers in figures:
        parts += _details(name, [image_html(figure_png, name), table_html(numbers, name)])
    if analyses:
        parts += _details("Analyses", [analyses], open_=True, ident="analyses")
    levels = headline.drop(columns=["label", "scenario"], errors="ignore")
    parts += _details(
        "Headline metrics per group: level and change, with 95% intervals",
        [table_html(levels, "headline")],
    )
    if failed.empty:
        failed_body = ['<p id="failed-none">None: every job finished.</p>']
    else:
        cols = [
            c
            for c in runs.columns
            if c in ("run", "status", "scenario", "seed", "error")
            or c in runs.attrs.get("params", [])
        ]
        failed_body = ['<div class="failed">' + table_html(failed[cols], "failed") + "</div>"]
    parts += _details(
        f"Failed jobs ({len(failed)})", failed_body, open_=not failed.empty, ident="failed"
    )
    parts += _details(
        "Sweep configuration and overrides",
        [
            "<p>Sources: " + ", ".join(html.escape(str(s)) for s in sources) + "</p>",
            f"<pre>{html.escape(sweep_config)}</pre>",
        ],
    )
    parts.append("</body></html>")
    text = "\n".join(parts)
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
