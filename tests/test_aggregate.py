"""Aggregation and comparison on awkward inputs: lists, mixed grids, repeated seeds."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from sim.config import compose
from sim.sweep.aggregate import aggregate, group_label
from sim.sweep.compare import compare
from sim.sweep.figures import headline_table
from sim.sweep.jobs import run_job

BASE = ["customers.n=100", "international.n=10", "horizon=6", "start=2026-08"]
LOG = logging.getLogger("test")


def job(folder, *overrides: str):
    """One sweep job written the way a Hydra job writes it (status with its overrides)."""
    status, _ = run_job(
        compose(None, [*BASE, *overrides]), folder, list(overrides), sweep=True, log=LOG
    )
    return status


def test_list_valued_parameters_stay_whole(tmp_path):
    job(tmp_path / "a", "us.restricted_sectors=[platform,fintech]", "seed=0")
    job(tmp_path / "b", "us.restricted_sectors=[research]", "seed=0")
    agg = aggregate([tmp_path])
    assert sorted(agg.runs["us.restricted_sectors"]) == ["[platform,fintech]", "[research]"]
    assert set(agg.timeseries["us.restricted_sectors"]) == {"[platform,fintech]", "[research]"}
    assert len(agg.timeseries) == 12
    assert group_label(agg.runs, agg.params).nunique() == 2


def test_grids_of_different_shapes_compare_together(tmp_path):
    job(tmp_path / "g1" / "x", "us.rule_level=0.5", "seed=0")
    job(tmp_path / "g2" / "y", "customers.evade_propensity=0.9", "seed=0")
    agg = aggregate([tmp_path / "g1", tmp_path / "g2"])
    labels = group_label(agg.runs, agg.params)
    assert labels.notna().all() and labels.nunique() == 2
    out = compare([tmp_path / "g1", tmp_path / "g2"], tmp_path / "cmp")
    assert out.report is not None and out.report.exists()


def test_a_swept_key_that_is_also_a_summary_key_is_one_column(tmp_path):
    job(tmp_path / "a", "horizon=4", "seed=0")
    job(tmp_path / "b", "seed=1")
    runs = aggregate([tmp_path]).runs
    assert list(runs.columns).count("horizon") == 1
    assert sorted(runs["horizon"]) == [4, 6]


def test_repeated_reference_seeds_are_averaged_not_misaligned(tmp_path):
    for folder in ("first", "second"):
        job(tmp_path / folder / "base", "seed=0")
    job(tmp_path / "first" / "leaky", "scenario=leaky_safeguards", "seed=0")
    agg = aggregate([tmp_path])
    table = headline_table(agg)
    row = table[
        (table["group"] == "leaky_safeguards") & (table["metric"] == "china_spend_foreign")
    ].iloc[0]
    runs = agg.runs
    expected = (
        runs.loc[runs["scenario"] == "leaky_safeguards", "china_spend_foreign"].mean()
        - runs.loc[runs["scenario"] == "baseline", "china_spend_foreign"].mean()
    )
    assert row["diff_vs_reference"] == pytest.approx(expected, rel=1e-12)
    assert row["pairs"] == 1


def test_failed_and_incomplete_runs_are_reported(tmp_path):
    job(tmp_path / "ok", "seed=0")
    job(tmp_path / "bad", "customers.n=-2")
    (tmp_path / "killed").mkdir()
    (tmp_path / "killed" / "status.json").write_text(
        '{"status": "running", "overrides": ["seed=4"]}'
    )
    runs = aggregate([tmp_path]).runs.set_index("run")
    assert runs.loc["ok", "status"] == "ok"
    assert runs.loc["bad", "status"] == "refused" and "customers.n = -2" in runs.loc["bad", "error"]
    assert runs.loc["killed", "status"] == "incomplete"
    assert pd.isna(runs.loc["killed", "china_spend_foreign"])
