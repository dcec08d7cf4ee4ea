"""The dashboard page (Solara): move a lever, see the outcomes against the baseline at once.

Left: the scenario, the policy levers, the main uncertainties and the number of seeds.
Right: the headline outcomes against ``baseline`` with 95% intervals, the monthly paths,
the network, the command that reproduces the view, and a browser for existing sweeps.
Every computation is in :mod:`sim.dashboard.engine`; this module only lays it out.
"""

from __future__ import annotations

import html
import json
import os

import numpy as np
import solara
import solara.lab

from sim import style
from sim.controls import FLAG, POLICY, Control
from sim.dashboard import engine
from sim.metrics import HEADLINE, metric
from sim.sweep import figures, report, summary

scenario = solara.reactive(os.environ.get("SIM_DASHBOARD_SCENARIO", engine.REFERENCE))
settings: solara.Reactive[dict] = solara.reactive({})
seeds = solara.reactive(3)
sweep_path = solara.reactive(os.environ.get("SIM_DASHBOARD_SWEEP", ""))
EXTRA = tuple(json.loads(os.environ.get("SIM_DASHBOARD_SET", "[]")))

CSS = """
.outcomes table{border-collapse:collapse;font-size:13px;width:100%}
.outcomes td,.outcomes th{border-bottom:1px solid #e3e3e3;padding:4px 8px;text-align:right}
.outcomes td.text,.outcomes th.text{text-align:left}.outcomes small{color:#666;display:block}
.outcomes td.better{background:#d6e6f4}.outcomes td.worse{background:#f6d5d1}
.command{font-family:monospace;font-size:12px;background:#f5f5f5;padding:10px;
white-space:pre-wrap;user-select:all;border:1px solid #ddd}
"""


def _slug(key: str) -> str:
    return "control-" + key.replace(".", "-").replace("_", "-")


def _set(control: Control, value) -> None:
    base = engine.scenario_values(scenario.value).get(control.key, control.default)
    new = dict(settings.value)
    number = isinstance(value, float) and isinstance(base, int | float)
    if value == base or (number and np.isclose(value, base)):
        new.pop(control.key, None)
    else:
        new[control.key] = value
    settings.value = new


def _moved(control: Control, current: float, new: float) -> None:
    """A slider's new value, unless it is only the widget snapping an off-grid value."""
    snapped = control.lo + round((current - control.lo) / control.step) * control.step
    if not np.isclose(current, snapped) and np.isclose(new, snapped):
        return
    _set(control, new)


def _pick_scenario(name: str) -> None:
    # Policy settings belong to a scenario; world assumptions carry over.
    keep = {c.key for c in engine.controls() if c.group != POLICY}
    settings.value = {k: v for k, v in settings.value.items() if k in keep}
    scenario.value = name


def _number(value) -> str:
    v = float(value)
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


@solara.component
def ControlWidget(control: Control):
    """A slider (numbers) or a switch (flags) for one control, in the scenario's terms."""
    base = engine.scenario_values(scenario.value).get(control.key, control.default)
    value = settings.value.get(control.key, base)
    with solara.Column(classes=[_slug(control.key)], gap="0px", style="margin-bottom:4px"):
        if control.kind != FLAG:
            solara.HTML(
                unsafe_innerHTML=f"<div style='font-size:12px;color:#333'>{html.escape(control.label)}"
                f": <b>{html.escape(_number(value))}</b></div>"
            )
        if control.kind == FLAG:
            solara.Checkbox(
                label=control.label, value=bool(value), on_value=lambda v: _set(control, v)
            )
        elif control.integer:
            solara.SliderInt(
                "",
                value=int(value),
                min=int(control.lo),
                max=int(control.hi),
                on_value=lambda v: _set(control, int(v)),
            )
        else:
            solara.SliderFloat(
                "",
                value=float(value),
                min=control.lo,
                max=control.hi,
                step=control.step,
                on_value=lambda v: _moved(control, float(value), float(v)),
                thumb_label=False,
            )


@solara.component
def Controls():
    """Scenario picker, levers, uncertainties and seeds."""
    info = engine.scenarios()
    solara.Select("Scenario", values=list(info), value=scenario.value, on_value=_pick_scenario)
    about = info.get(scenario.value, {})
    solara.HTML(
        unsafe_innerHTML=f"<p style='font-size:12px;color:#555'><b>{html.escape(about.get('kind', ''))}</b>: "
        f"{html.escape(about.get('description', ''))}</p>"
    )
    solara.SliderInt("Seeds (runs per side)", value=seeds, min=1, max=10)
    with solara.Details(
        "Policy levers (from month 0; the scenario's dated events still apply)", expand=True
    ):
        for control in engine.controls():
            if control.group == POLICY:
                ControlWidget(control)
    with solara.Details(
        "Uncertainties (plausible ranges; applied to the baseline too)", expand=False
    ):
        for control in engine.controls():
            if control.group != POLICY:
                ControlWidget(control)
    solara.Button("Reset to the scenario", on_click=lambda: settings.set({}), outlined=True)


def outcomes_html(out: engine.Outcome) -> str:
    """The headline table: this view, the baseline, and the paired change with its interval."""
    table = out.effects
    ref = table.attrs.get("reference")
    rows = []
    for key in HEADLINE:
        sub = table[table["metric"] == key]
        if sub.empty:
            continue
        mine = sub[sub["group"] == engine.VIEW].iloc[0]
        base = sub[sub["group"] == ref].iloc[0] if ref else mine
        verdict = mine.get("verdict") or ""
        change = summary.change_text(
            key, mine.get("diff_vs_reference", np.nan), mine.get("pct", np.nan)
        )
        interval = (
            f"95%: {style.short(key, mine['diff_lo'], True)} to {style.short(key, mine['diff_hi'], True)}"
            if np.isfinite(mine.get("diff_lo", np.nan))
            else "one seed: no interval"
        )
        level = (
            f"95%: {style.short(key, mine['lo'])} to {style.short(key, mine['hi'])}"
            if np.isfinite(mine["lo"])
            else ""
        )
        direction = metric(key).better
        whom = (
            f"{'more' if direction == 'higher' else 'less'} is better for {metric(key).whom}"
            if direction
            else ""
        )
        rows.append(
            f"<tr><td class='text'>{html.escape(style.title(key, [mine['mean'], base['mean']]))}<small>{html.escape(whom)}</small></td>"
            f"<td data-key='{key}' data-col='view' data-value='{float(mine['mean'])!r}'>"
            f"{html.escape(style.fmt(key, mine['mean']))}<small>{html.escape(level)}</small></td>"
            f"<td data-key='{key}' data-col='reference' data-value='{float(base['mean'])!r}'>"
            f"{html.escape(style.fmt(key, base['mean']))}</td>"
            f"<td class='{verdict}' data-key='{key}' data-col='change' "
            f"data-value='{float(mine.get('diff_vs_reference', np.nan))!r}'>{html.escape(change)}"
            f"<small>{html.escape(interval)}</small></td></tr>"
        )
    return (
        f"<style>{CSS}</style><div class='outcomes' id='outcomes' data-state='done' data-seeds='{out.view.seeds}'>"
        f"<table><thead><tr><th class='text'>outcome</th><th>{html.escape(out.view.scenario)} (this view)</th>"
        f"<th>{html.escape(str(ref))}</th><th>change, paired by seed</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


@solara.component
def Paths(out: engine.Outcome):
    """Monthly paths of the headline metrics: this view against the baseline."""
    fig = solara.use_memo(lambda: _paths_figure(out), dependencies=[id(out)])
    if fig is None:
        solara.Text("No monthly data.")
    else:
        solara.FigureMatplotlib(fig, format="png", dependencies=[id(out)])


def _paths_figure(out: engine.Outcome):
    if out.bands.empty:
        return None
    metrics = [m for m in figures.monthly_metrics() if m in set(out.bands["metric"])]
    _, xlabel = style.time_axis(out.bands)
    groups = [engine.REFERENCE, engine.VIEW]
    return _styled(figures.fan_figure, out.bands, metrics, groups, xlabel)


def _styled(fn, *args):
    with style.context():
        return fn(*args)


@solara.component
def Network(view: engine.View):
    """The network of the view's first seed (largest customers, every other player)."""
    from sim import run
    from sim.plots import network_figure

    def draw():
        result = run(scenario=view.scenario, overrides=[*view.overrides(), "seed=0"])
        return _styled(network_figure, result)

    fig = solara.use_memo(draw, dependencies=[view])
    solara.FigureMatplotlib(fig, format="png", dependencies=[view])


@solara.component
def Command(view: engine.View):
    """The exact command lines that reproduce this view, selectable in one click."""
    text = "\n".join(engine.commands(view))
    solara.HTML(
        unsafe_innerHTML=f"<style>{CSS}</style><p>Click the box to select it, then copy: the two sweeps "
        "and their comparison reproduce this view (report in multirun/dashboard_view/comparison).</p>"
        f"<div class='command' id='command'>{html.escape(text)}</div>"
    )


def _open():
    if not sweep_path.value:
        return None
    agg, table = engine.open_sweep(sweep_path.value)
    return agg, table, summary.summary_plot(table) if not table.empty else None


@solara.component
def SweepBrowser():
    """Open an existing sweep, comparison or run folder and show its policy summary."""
    path, set_path = solara.use_state(sweep_path.value)
    opened = solara.use_thread(_open, dependencies=[sweep_path.value])
    with solara.Row():
        solara.InputText(
            "Sweep or comparison folder", value=path, on_value=set_path, continuous_update=True
        )
        solara.Button("Open", on_click=lambda: sweep_path.set(path))
    if opened.state == solara.ResultState.RUNNING:
        solara.ProgressLinear(True)
    elif opened.state == solara.ResultState.ERROR:
        solara.Error(f"Could not open {sweep_path.value}: {opened.error}")
    elif opened.value is not None:
        agg, table, fig = opened.value
        solara.HTML(
            unsafe_innerHTML=f"<style>{report.TABLE_STYLE}</style><p>{len(agg.runs)} runs from "
            f"{html.escape(sweep_path.value)}</p>" + "".join(report.summary_html(table, None))
        )
        if fig is not None:
            solara.FigureMatplotlib(fig, format="png", dependencies=[id(table)])


@solara.component
def Page():
    """The whole page: controls on the left, results in tabs on the right."""
    view = engine.View(scenario.value, tuple(sorted(settings.value.items())), seeds.value, EXTRA)
    result = solara.use_thread(lambda: engine.evaluate(view), dependencies=[view])
    solara.Title("China channel simulator: policy dashboard")
    with solara.Columns([1, 2.4]):
        with solara.Column():
            Controls()
        with solara.Column():
            solara.HTML(
                tag="h2",
                unsafe_innerHTML=html.escape(
                    f"{view.scenario} against {engine.REFERENCE}, {view.seeds} seed(s)"
                ),
            )
            if result.state == solara.ResultState.RUNNING:
                solara.ProgressLinear(True)
                solara.HTML(
                    unsafe_innerHTML="<div id='outcomes' data-state='running'>Running...</div>"
                )
            elif result.state == solara.ResultState.ERROR:
                solara.Error(f"The run was refused or failed: {result.error}")
            if result.value is not None:
                out = result.value
                with solara.lab.Tabs(lazy=True):
                    with solara.lab.Tab("Outcomes"):
                        if result.state != solara.ResultState.RUNNING:
                            solara.HTML(unsafe_innerHTML=outcomes_html(out))
                    with solara.lab.Tab("Monthly paths"):
                        Paths(out)
                    with solara.lab.Tab("Network"):
                        Network(out.view)
                    with solara.lab.Tab("Command"):
                        Command(out.view)
                    with solara.lab.Tab("Sweeps"):
                        SweepBrowser()
