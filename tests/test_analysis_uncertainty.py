"""Parameter-uncertainty sweeps: the spread decomposition and the +uncertainty=lhs sweeper."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.report import fragment
from sim.analysis.uncertainty import REST, SEEDS, decompose, summarise_sweep

ROOT = Path(__file__).resolve().parent.parent


def synthetic_runs(samples: int, seeds: int = 3, noise: float = 0.5) -> pd.DataFrame:
    """y = 10 x1 + seed noise; x2 has no effect."""
    rng = np.random.default_rng(7)
    x1 = (rng.permutation(samples) + rng.random(samples)) / samples
    x2 = (rng.permutation(samples) + rng.random(samples)) / samples
    rows = []
    for i in range(samples):
        for seed in range(seeds):
            shock = noise * np.random.default_rng(seed).standard_normal()
            rows.append({"x1": x1[i], "x2": x2[i], "seed": seed, "y": 10 * x1[i] + shock})
    return pd.DataFrame(rows)


def test_the_spread_splits_into_parameters_seeds_and_the_rest():
    runs = synthetic_runs(60)
    table = decompose(runs, ["x1", "x2"], ["y"]).set_index("source")
    y = runs["y"]
    within = ((y - y.groupby([runs["x1"], runs["x2"]]).transform("mean")) ** 2).sum()
    assert table.loc[SEEDS, "share"] == pytest.approx(within / ((y - y.mean()) ** 2).sum())
    assert table.loc["x1", "share"] > 0.8
    assert table.loc["x2", "share"] < 0.05
    parts = table.loc[["x1", "x2", SEEDS, REST], "share"].sum()
    assert parts == pytest.approx(1.0)
    assert (table[["samples", "seeds"]].iloc[0] == [60, 3]).all()


def test_too_few_samples_split_only_between_parameters_and_seeds():
    table = decompose(synthetic_runs(8), ["x1", "x2"], ["y"])
    assert table["source"].tolist() == [SEEDS, REST]
    assert table["share"].sum() == pytest.approx(1.0)


def test_cells_are_decomposed_separately():
    a, b = synthetic_runs(24), synthetic_runs(24, noise=5.0)
    runs = pd.concat([a.assign(scenario="a"), b.assign(scenario="b")], ignore_index=True)
    table = decompose(runs, ["x1", "x2"], ["y"], ["scenario"])
    noise = table[table["source"] == SEEDS].set_index("cell")["share"]
    assert set(noise.index) == {"scenario=a", "scenario=b"}
    assert noise["scenario=b"] > noise["scenario=a"]


@pytest.mark.slow
def test_an_uncertainty_sweep_draws_each_sample_once_for_every_seed(tmp_path):
    sweep = tmp_path / "sweep"
    command = [
        sys.executable,
        "-m",
        "sim",
        "+uncertainty=lhs",
        "hydra.sweeper.samples=3",
        "scenario=baseline,reseller_evasion",
        "seed=0,1",
        "start=2026-08",
        "horizon=6",
        "customers.n=60",
        "international.n=10",
        f"hydra.sweep.dir={sweep}",
    ]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    samples = pd.read_csv(sweep / "uncertainty_samples.csv")
    assert len(samples) == 3
    runs = pd.read_csv(sweep / "comparison" / "runs.csv")
    assert len(runs) == 2 * 3 * 2 and (runs["status"] == "ok").all()
    for number, draw in samples.iterrows():
        folder = runs["run"].str.startswith(f"sample={number:04d}/")
        base = runs[folder & (runs["scenario"] == "baseline")]
        assert sorted(base["seed"]) == [0, 1]
        assert base["demand.price_weight"].tolist() == [draw["demand.price_weight"]] * 2
        # reseller_evasion sets the evasion propensity itself: the sample leaves it alone.
        evasion = runs[folder & (runs["scenario"] == "reseller_evasion")]
        assert evasion["customers.evade_propensity"].isna().all()
        assert evasion["demand.price_weight"].tolist() == [draw["demand.price_weight"]] * 2
    table = pd.read_csv(sweep / "comparison" / "uncertainty.csv")
    assert set(table["cell"]) == {"scenario=baseline", "scenario=reseller_evasion"}
    assert (sweep / "comparison" / "uncertainty.png").is_file()
    text, figures = fragment(sweep / "comparison")
    assert "Parameter uncertainty" in text and "data:image/png;base64" in text
    assert figures == [sweep / "comparison" / "uncertainty.png"]
    report = (sweep / "comparison" / "report.html").read_text()
    assert "Parameter uncertainty" in report
    # The draws are columns, not groups: one group per scenario, 3 samples x 2 seeds each.
    assert "demand.price_weight=" not in report
    assert (runs.groupby("scenario")["sample"].nunique() == 3).all()
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    logs = again.stdout + again.stderr
    assert again.returncode == 0
    assert "Sweep of 12 runs (6 configs x 2 seeds): 12 already finished, 0 jobs" in logs


def test_an_ordinary_sweep_has_no_uncertainty_summary(tmp_path):
    assert summarise_sweep(tmp_path) is None
    assert fragment(tmp_path) == ("", [])
