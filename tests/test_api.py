"""The Python API: same results as the CLI contract, no files unless asked."""

from __future__ import annotations

import json

import pandas as pd

from sim import ConfigError, run
from sim.metrics import SUMMARY_KEYS


def test_run_returns_summary_and_timeseries_without_writing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(scenario="baseline", overrides=["seed=3", "customers.n=200", "horizon=12"])
    assert set(SUMMARY_KEYS) <= set(result.summary)
    assert result.summary["seed"] == 3 and result.summary["customers_n"] == 200
    assert isinstance(result.timeseries, pd.DataFrame) and len(result.timeseries) == 12
    assert len(result.customers) == 200
    assert list(tmp_path.iterdir()) == []


def test_run_writes_the_same_summary_when_asked(tmp_path):
    result = run(
        overrides=["seed=4", "customers.n=150", "horizon=6"], output_dir=tmp_path / "r", plots=False
    )
    on_disk = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert on_disk == json.loads(json.dumps(result.summary))
    assert (tmp_path / "r" / "timeseries.csv").exists()
    assert not (tmp_path / "r" / "plots").exists()


def test_run_refuses_bad_config_and_writes_nothing(tmp_path):
    try:
        run(overrides=["customers.n=-5"], output_dir=tmp_path / "r")
    except ConfigError as e:
        assert "customers.n = -5" in str(e)
    else:
        raise AssertionError("a negative population was accepted")
    assert not (tmp_path / "r").exists()


def test_run_draws_plots_by_default_when_writing(tmp_path):
    run(overrides=["customers.n=120", "horizon=4"], output_dir=tmp_path / "r")
    assert sorted(p.name for p in (tmp_path / "r" / "plots").iterdir()) == [
        "compliance.png",
        "leakage.png",
        "market_shares.png",
        "network.png",
        "revenue.png",
    ]
    run(overrides=["customers.n=120", "horizon=4", "output.plots=false"], output_dir=tmp_path / "q")
    assert not (tmp_path / "q" / "plots").exists()
