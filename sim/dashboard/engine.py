"""What the dashboard computes, with no web code: views, runs, outcomes, commands.

A :class:`View` is a scenario, the settings moved away from that scenario's values and a
number of seeds. :func:`evaluate` runs the view and the reference (``baseline`` with the
same uncertainty settings, since a world assumption applies to both) for each seed and
returns the same tables the comparison report uses, so the dashboard and ``report.html``
agree number for number. :func:`commands` prints the command lines that reproduce it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from sim.controls import POLICY, Control, policy_controls, uncertainty_controls
from sim.metrics import HEADLINE
from sim.sweep import figures, summary
from sim.sweep.aggregate import Aggregate

REFERENCE = "baseline"
VIEW = "this view"


@dataclass(frozen=True)
class View:
    """A scenario, the settings changed from its own values (key to value), and seeds."""

    scenario: str = REFERENCE
    settings: tuple[tuple[str, Any], ...] = ()
    seeds: int = 3
    extra: tuple[str, ...] = field(default=())

    def overrides(self, groups: tuple[str, ...] = (POLICY, "uncertainty")) -> list[str]:
        """``key=value`` overrides for the settings of the given control groups."""
        wanted = {c.key for c in controls() if c.group in groups}
        return [f"{k}={_text(v)}" for k, v in self.settings if k in wanted] + list(self.extra)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def controls() -> tuple[Control, ...]:
    """Every slider and switch: the policy levers, then the uncertainties."""
    return policy_controls() + uncertainty_controls()


@cache
def scenarios() -> dict[str, dict[str, Any]]:
    """Scenario name to its kind, description and question, from the scenario files."""
    from sim.paths import scenario_library

    out: dict[str, dict[str, Any]] = {}
    for name, data in scenario_library().items():
        if data is None:
            continue  # refused: choosing it would only show why
        block = data.get("scenario") or {}
        out[name] = {
            "kind": block.get("kind", "policy"),
            "description": " ".join(str(block.get("description", "")).split()),
            "question": block.get("question", ""),
        }
    return dict(sorted(out.items(), key=lambda kv: (kv[0] != REFERENCE, kv[0])))


@cache
def scenario_values(scenario: str) -> dict[str, Any]:
    """The value of every control in the scenario's composed config (its starting point)."""
    from omegaconf import OmegaConf

    from sim.config import compose

    cfg = compose(scenario)
    return {c.key: OmegaConf.select(cfg, c.key) for c in controls()}


@lru_cache(maxsize=256)
def _run(scenario: str, overrides: tuple[str, ...], seed: int) -> tuple[dict, pd.DataFrame]:
    from sim import run

    result = run(scenario=scenario, overrides=[*overrides, f"seed={seed}"])
    return result.summary, result.timeseries


def _aggregate(rows: list[tuple[str, str, int, dict, pd.DataFrame]]) -> Aggregate:
    runs, series = [], []
    for label, kind, seed, summ, ts in rows:
        run_id = f"{label}/seed={seed}"
        runs.append(
            {
                **summ,
                "run": run_id,
                "status": "ok",
                "scenario": label,
                "seed": seed,
                "scenario_kind": kind,
            }
        )
        series.append(ts.assign(run=run_id, scenario=label, seed=seed))
    return Aggregate.in_memory(pd.DataFrame(runs), pd.concat(series, ignore_index=True))


@dataclass
class Outcome:
    """A view evaluated: the effects table (levels and paired changes) and path bands."""

    view: View
    effects: pd.DataFrame
    bands: pd.DataFrame
    aggregate: Aggregate


def evaluate(view: View) -> Outcome:
    """Run the view and the reference for seeds ``0..seeds-1`` (cached) and compare them."""
    reference_overrides = tuple(view.overrides(("uncertainty",)))
    view_overrides = tuple(view.overrides())
    rows = []
    for seed in range(view.seeds):
        summ, ts = _run(view.scenario, view_overrides, seed)
        rows.append((VIEW, "policy", seed, summ, ts))
        summ, ts = _run(REFERENCE, reference_overrides, seed)
        rows.append((REFERENCE, "reference", seed, summ, ts))
    agg = _aggregate(rows)
    table = summary.effects(agg, list(HEADLINE))
    bands = figures.path_bands(agg, figures.monthly_metrics())
    return Outcome(view, table, bands, agg)


def commands(view: View, folder: str = "multirun/dashboard_view") -> list[str]:
    """The command lines that reproduce the view: both sweeps, then their comparison."""
    seeds = f"seed='range({view.seeds})'" if view.seeds > 1 else "seed=0"
    lines = [
        "python -m sim -m "
        + " ".join(
            [
                f"scenario={view.scenario}",
                *map(_quote, view.overrides()),
                seeds,
                f"hydra.sweep.dir={folder}/view",
            ]
        ),
        "python -m sim -m "
        + " ".join(
            [
                f"scenario={REFERENCE}",
                *map(_quote, view.overrides(("uncertainty",))),
                seeds,
                f"hydra.sweep.dir={folder}/reference",
            ]
        ),
        f"python -m sim.compare {folder}/view {folder}/reference --out {folder}/comparison",
    ]
    return lines


def _quote(override: str) -> str:
    key, _, value = override.partition("=")
    return f"{key}={shlex.quote(value)}"


def open_sweep(path: str | Path) -> tuple[Aggregate, pd.DataFrame]:
    """Aggregate a sweep (or comparison, or run) folder and its headline table."""
    from sim.sweep.aggregate import aggregate

    folder = Path(path).expanduser()
    if folder.name == "comparison" and folder.parent.is_dir():
        folder = folder.parent
    agg = aggregate([folder])
    return agg, figures.headline_table(agg)
