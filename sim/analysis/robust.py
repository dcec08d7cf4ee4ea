"""Robustness of policies across a shared sample of uncertain worlds.

Every policy (a scenario of the library, or a named set of parameter and lever settings on
top of one) runs in the same Latin-hypercube sample of worlds (uncertain parameters drawn
from their plausible ranges) with the same seeds, so policies are compared world by world
and seed by seed. A policy's own settings win over the world's draw for the same parameter
(a scenario that fixes a parameter keeps it). Per outcome with a direction in the registry:

- **regret** of a policy in a world: how far it falls short of the best policy in that world
  (in the outcome's unit; 0 for the best), summarised as mean, 90th percentile and maximum;
- **satisficing**: the share of worlds in which a policy meets each user-given condition;
- **non-dominated**: no other policy is at least as good on every outcome's mean over the
  worlds and better on one (``non_dominated``), or has no larger maximum regret on every
  outcome and a smaller one somewhere (``non_dominated_regret``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure

from sim.analysis.conditions import parse_condition
from sim.analysis.designs import SCENARIO_KEY, plain
from sim.analysis.experiment import Settings, design_table, run_designs, save_figure, write_tables
from sim.analysis.prim import latin_sample
from sim.analysis.space import flatten, outcome, summary_outcomes
from sim.metrics import format_value
from sim.validate import ConfigError

log = logging.getLogger("sim.analysis")


@dataclass(frozen=True)
class Policy:
    """A named policy: the scenario it starts from and its own settings (design keys)."""

    name: str
    scenario: str
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class RobustResult:
    """Per policy and outcome statistics, per policy verdicts, world-level values, figures."""

    table: pd.DataFrame
    policies: pd.DataFrame
    outcomes: pd.DataFrame
    figures: dict[str, Path] = field(default_factory=dict)


def _scenario_data(name: str) -> dict[str, Any]:
    from sim.paths import scenario_file

    file = scenario_file(name)
    if file is None:
        return {}
    return yaml.safe_load(file.read_text(encoding="utf-8")) or {}


def library_policies() -> list[str]:
    """Scenarios of the library that are choices (kind ``policy``) or the ``reference``;
    a reference that sets its own horizon (the 2024-2026 replay) covers another period and
    is not an option to compare."""
    from sim.paths import scenario_library

    names: list[str] = []
    for name, data in scenario_library().items():
        if data is None:
            continue
        kind = (data.get("scenario") or {}).get("kind", "policy")
        own_period = kind == "reference" and "horizon" in data
        if kind in ("policy", "reference") and not own_period:
            names.append(name)
    return sorted(names, key=lambda n: (n != "baseline", n))


def load_policies(names: Sequence[str], file: Path | None = None) -> list[Policy]:
    """Policies by name: entries of ``file`` (YAML: name -> settings with an optional
    ``scenario``) first, otherwise scenarios of the library."""
    from sim.paths import scenario_file

    defined: dict[str, Any] = {}
    if file is not None:
        try:
            defined = yaml.safe_load(Path(file).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"policy file {file}: cannot be read: {e}") from None
        if not isinstance(defined, dict) or not all(isinstance(v, dict) for v in defined.values()):
            raise ConfigError(
                f"policy file {file}: must map each policy name to its settings, e.g. "
                "'audits: {scenario: baseline, us.audit_prob@0: 0.3}'"
            )
    names = list(names) or [*defined, *library_policies()]
    policies, unknown = [], []
    for name in dict.fromkeys(names):
        if name in defined:
            settings = {str(k): plain(v) for k, v in defined[name].items()}
            scenario = settings.pop(SCENARIO_KEY, "baseline")
            policies.append(Policy(name, str(scenario), settings))
        elif scenario_file(name) is not None:
            policies.append(Policy(name, name))
        else:
            unknown.append(name)
    if unknown:
        raise ConfigError(
            f"unknown policies {unknown}: not in the policy file and not a scenario "
            f"(scenarios: {library_policies()})"
        )
    if len(policies) < 2:
        raise ConfigError("robust: compare at least two policies")
    return policies


def _fixed_by(policy: Policy) -> set[str]:
    data = _scenario_data(policy.scenario)
    keys = {k for k, _ in flatten({k: v for k, v in data.items() if k != "scenario"})}
    return keys | set(policy.settings)


def regrets(values: pd.DataFrame, key: str, sign: int) -> pd.Series:
    """Regret per (policy, world) row of ``values`` for outcome ``key`` (0 for the best)."""
    oriented = sign * values[key]
    best = oriented.groupby(values["world"]).transform("max")
    return best - oriented


def non_dominated(scores: np.ndarray) -> np.ndarray:
    """Rows of ``scores`` (higher is better in every column) that no other row dominates."""
    keep = np.ones(len(scores), dtype=bool)
    for i in range(len(scores)):
        others = np.delete(scores, i, axis=0)
        dominated = np.all(others >= scores[i], axis=1) & np.any(others > scores[i], axis=1)
        keep[i] = not dominated.any()
    return keep


def summarise(
    values: pd.DataFrame, outcomes: Sequence[str], conditions: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per policy and outcome statistics, and per policy satisficing and dominance."""
    rows = []
    policies = list(dict.fromkeys(values["policy"]))
    directed = [k for k in outcomes if outcome(k).sign]
    for key in outcomes:
        meta = outcome(key)
        regret = regrets(values, key, meta.sign) if meta.sign else None
        for name in policies:
            mask = values["policy"] == name
            col = values.loc[mask, key].astype(float)
            row = {
                "policy": name,
                "outcome": key,
                "better": meta.better,
                "whom": meta.whom,
                "mean": col.mean(),
                "p10": col.quantile(0.1),
                "p90": col.quantile(0.9),
            }
            if regret is not None:
                r = regret[mask].astype(float)
                row.update(mean_regret=r.mean(), p90_regret=r.quantile(0.9), max_regret=r.max())
            rows.append(row)
    table = pd.DataFrame(rows)
    verdicts = pd.DataFrame({"policy": policies})
    for text in conditions:
        met = parse_condition(text, summary_outcomes()).evaluate(values)
        share = pd.Series(met, index=values.index).groupby(values["policy"]).mean()
        verdicts[f"satisficing: {text}"] = verdicts["policy"].map(share).astype(float)
    if directed:
        stats = table[table["outcome"].isin(directed)]
        means = stats.pivot(index="policy", columns="outcome", values="mean").loc[policies]
        signs = np.array([outcome(k).sign for k in means.columns])
        scores = np.nan_to_num(means.to_numpy(dtype=float) * signs, nan=-np.inf)
        verdicts["non_dominated"] = non_dominated(scores)
        worst = stats.pivot(index="policy", columns="outcome", values="max_regret").loc[policies]
        verdicts["non_dominated_regret"] = non_dominated(
            np.nan_to_num(-worst.to_numpy(dtype=float), nan=-np.inf)
        )
        verdicts["max_regret_rank"] = (
            worst.rank(axis=0, method="min").mean(axis=1).to_numpy(dtype=float)
        )
    return table, verdicts


def plot(table: pd.DataFrame, verdicts: pd.DataFrame, path: Path) -> Path:
    """Heatmap of each policy's maximum regret per outcome (scaled by the outcome's largest),
    annotated in the outcome's unit; non-dominated policies are starred."""
    regret = table.dropna(subset=["max_regret"]) if "max_regret" in table else table.iloc[0:0]
    policies = list(verdicts["policy"])
    keys = list(dict.fromkeys(regret["outcome"]))
    grid = regret.pivot(index="policy", columns="outcome", values="max_regret").reindex(
        index=policies, columns=keys
    )
    scale = grid.max(axis=0).replace(0, np.nan)
    fig = Figure(figsize=(1.3 * len(keys) + 3.5, 0.45 * len(policies) + 2.2))
    ax = fig.add_subplot()
    ax.imshow((grid / scale).fillna(0).to_numpy(), cmap="Reds", vmin=0, vmax=1, aspect="auto")
    for i, name in enumerate(policies):
        for j, key in enumerate(keys):
            value = grid.loc[name, key]
            ax.text(j, i, format_value(key, value), ha="center", va="center", fontsize=6)
    flags = verdicts["non_dominated"] if "non_dominated" in verdicts else [False] * len(policies)
    star = dict(zip(verdicts["policy"], flags, strict=True))
    ax.set_yticks(range(len(policies)), [f"{p}{' *' if star.get(p) else ''}" for p in policies])
    ax.set_xticks(range(len(keys)), [outcome(k).label for k in keys], rotation=35, ha="right")
    ax.tick_params(labelsize=7)
    ax.set_title(
        "Maximum regret over the sampled worlds (darker: further from the best policy; "
        "* non-dominated on mean outcomes)",
        fontsize=8,
    )
    return save_figure(fig, path)


def plot_satisficing(verdicts: pd.DataFrame, path: Path) -> Path | None:
    """Bars of the share of worlds in which each policy meets each condition."""
    cols = [c for c in verdicts if c.startswith("satisficing: ")]
    if not cols:
        return None
    fig = Figure(figsize=(7, 0.35 * len(verdicts) * len(cols) + 1.6))
    ax = fig.add_subplot()
    height = 0.8 / len(cols)
    for j, col in enumerate(cols):
        y = np.arange(len(verdicts)) + j * height
        ax.barh(y, verdicts[col] * 100, height=height, label=col.removeprefix("satisficing: "))
    ax.set_yticks(np.arange(len(verdicts)) + 0.4 - height / 2, verdicts["policy"])
    ax.set_xlabel("share of sampled worlds meeting the condition (%)")
    ax.set_xlim(0, 100)
    ax.legend(fontsize=7, loc="lower right")
    ax.tick_params(labelsize=7)
    return save_figure(fig, path)


def run(
    settings: Settings,
    *,
    policies: Sequence[str] = (),
    policy_file: Path | None = None,
    samples: int = 50,
    factors: list[str] | None = None,
    satisfice: Sequence[str] = (),
) -> RobustResult:
    """Compare policies across a shared sample of worlds; writes ``robust.csv``,
    ``robust_policies.csv``, ``robust_outcomes.csv``, ``robust_design.csv`` (the worlds) and the
    figures into ``settings.out``. Conditions and policies are checked before any run."""
    for text in satisfice:
        parse_condition(text, summary_outcomes())
    chosen_policies = load_policies(policies, policy_file)
    space = settings.space()
    pool = list(space.uncertainties) + list(space.levers)
    chosen = space.select(factors, pool) if factors else list(space.uncertainties)
    worlds = space.designs(chosen, latin_sample(chosen, samples, settings.sample_seed, 2))
    designs, index = [], []
    for policy in chosen_policies:
        fixed = _fixed_by(policy)
        for w, world in enumerate(worlds):
            kept = {k: v for k, v in world.items() if k not in fixed}
            designs.append({SCENARIO_KEY: policy.scenario, **kept, **policy.settings})
            index.append((policy.name, w))
    outcomes = [o.key for o in space.outcomes]
    log.info(
        "Robust: %d policies x %d worlds x %d seeds",
        len(chosen_policies),
        samples,
        len(settings.seeds),
    )
    needed = list(dict.fromkeys([*outcomes, *summary_outcomes()]))
    _, means = run_designs(
        settings,
        designs,
        needed,
        before=lambda: settings.record(
            "robust",
            design_table(chosen, worlds).rename_axis("world"),
            policies=[p.name for p in chosen_policies],
            samples=samples,
            factors=[f.key for f in chosen],
            satisfice=list(satisfice),
        ),
    )
    values = pd.concat(
        [pd.DataFrame(index, columns=["policy", "world"]), means.reset_index(drop=True)], axis=1
    )
    table, verdicts = summarise(values, outcomes, satisfice)
    write_tables(settings.out, "robust_outcomes", values[["policy", "world", *outcomes]])
    write_tables(settings.out, "robust", table)
    write_tables(settings.out, "robust_policies", verdicts)
    figures = {"regret": plot(table, verdicts, settings.out / "robust.png")}
    bars = plot_satisficing(verdicts, settings.out / "robust_satisficing.png")
    if bars is not None:
        figures["satisficing"] = bars
    return RobustResult(table, verdicts, values, figures)
