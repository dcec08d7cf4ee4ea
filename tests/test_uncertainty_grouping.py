"""Uncertainty sweeps in the comparison: draws are columns, not groups; changes are paired by
(sample, seed); the analyses found beside a report are part of it."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from sim.config import compose
from sim.sweep import summary
from sim.sweep.aggregate import aggregate
from sim.sweep.compare import compare
from sim.sweep.figures import path_bands
from sim.sweep.jobs import run_job
from sim.sweep.samples import SAMPLES_FILE, split_draws

BASE = ["customers.n=100", "international.n=10", "horizon=6", "start=2026-08"]
KEY = "demand.price_weight"
DRAWS = {0: 0.6, 1: 0.9}
LOG = logging.getLogger("test")
ROOT = Path(__file__).resolve().parent.parent


def write_samples(sweep, draws=DRAWS):
    sweep.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"sample": list(draws), KEY: list(draws.values())}).to_csv(
        sweep / SAMPLES_FILE, index=False
    )


def lhs_run(sweep, sample: int, scenario: str, seed: int, value: float):
    """One run as an uncertainty sweep writes it: under sample=NNNN, +uncertainty recorded."""
    folder = sweep / f"sample={sample:04d}" / scenario / f"seed={seed}"
    overrides = [f"scenario={scenario}", f"{KEY}={value!r}", f"seed={seed}"]
    cfg = compose(None, [*BASE, *overrides])
    run_job(cfg, folder, ["+uncertainty=lhs", *overrides], sweep=True, log=LOG)
    return folder


def test_an_override_is_a_draw_only_with_its_samples_value(tmp_path):
    write_samples(tmp_path)
    folder = tmp_path / "sample=0001" / "baseline" / "seed=0"
    folder.mkdir(parents=True)
    assert split_draws(folder, {KEY: 0.9, "horizon": 6}) == (1, {KEY: 0.9}, {"horizon": 6})
    # A value other than the draw is a key the sweep varies itself: a swept parameter.
    assert split_draws(folder, {KEY: 0.75}) == (1, {}, {KEY: 0.75})
    # No samples file beside the sample folders: an ordinary sweep.
    (tmp_path / SAMPLES_FILE).unlink()
    assert split_draws(folder, {KEY: 0.9}) == (None, {}, {KEY: 0.9})


def test_samples_pool_into_one_group_per_scenario_paired_by_sample_and_seed(tmp_path):
    sweep = tmp_path / "sweep"
    write_samples(sweep)
    for sample, value in DRAWS.items():
        for scenario in ("baseline", "reseller_evasion"):
            for seed in (0, 1):
                lhs_run(sweep, sample, scenario, seed, value)
    agg = aggregate([sweep])
    runs = agg.runs
    assert KEY not in agg.params and "uncertainty" not in agg.params
    assert sorted(runs["sample"].unique()) == [0, 1]
    assert dict(zip(runs["sample"], runs[KEY], strict=True)) == DRAWS
    assert {"sample", "seed"} <= set(agg.timeseries.columns)

    key = summary.rank_metric()
    table = summary.effects(agg, [key])
    assert table.attrs["reference"] == "baseline" and table.attrs["duplicates"] == 0
    policy = table[table["group"] == "reseller_evasion"].iloc[0]
    assert policy["n"] == 4 and policy["pairs"] == 4
    ok = runs.set_index(["scenario", "sample", "seed"])[key]
    diffs = ok["reseller_evasion"] - ok["baseline"]
    assert policy["diff_vs_reference"] == pytest.approx(diffs.mean())

    monthly = key.removesuffix("_final")
    bands = path_bands(agg, [monthly if monthly in agg.timeseries else key])
    assert not bands.empty and set(bands["n"]) == {4}


def _uncertainty_tables(folder):
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "cell": ["all runs"] * 2,
            "outcome": ["leakage_capability"] * 2,
            "source": ["seed noise", "interactions and rest"],
            "share": [0.25, 0.75],
            "S1": [np.nan, np.nan],
        }
    ).to_csv(folder / "uncertainty.csv", index=False)
    fig = Figure(figsize=(1, 1))
    fig.add_subplot().plot([0, 1])
    fig.savefig(folder / "uncertainty.png")


@pytest.mark.slow
def test_the_report_includes_the_analyses_beside_it_and_keeps_their_figures(tmp_path):
    runs = tmp_path / "runs"
    for scenario in ("baseline", "reseller_evasion"):
        overrides = [f"scenario={scenario}", "seed=0"]
        run_job(compose(None, [*BASE, *overrides]), runs / scenario, overrides, sweep=True, log=LOG)
    out = tmp_path / "cmp"
    plain = compare([runs], out)
    assert "Parameter uncertainty" not in plain.report.read_text()
    _uncertainty_tables(out)
    with_analysis = compare([runs], out)
    assert not with_analysis.up_to_date
    text = with_analysis.report.read_text()
    assert "Parameter uncertainty" in text and 'id="analyses"' in text
    assert (out / "uncertainty.png").is_file()
    assert compare([runs], out).up_to_date
    table = pd.read_csv(out / "uncertainty.csv")
    table.loc[0, "share"] = 0.5
    table.to_csv(out / "uncertainty.csv", index=False)
    assert not compare([runs], out).up_to_date


def test_a_single_sample_is_refused_before_any_run(tmp_path):
    command = [
        sys.executable,
        "-m",
        "sim",
        "+uncertainty=lhs",
        "hydra.sweeper.samples=1",
        "seed=0,1",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "hydra.sweeper.samples = 1: 0 (no sampling) or at least 2 samples" in done.stderr
    assert not list((tmp_path / "sweep").glob("sample=*"))
