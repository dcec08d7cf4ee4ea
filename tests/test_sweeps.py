"""Sweeps: Hydra multirun with every launcher, failures contained, resume, aggregation."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.results import atomic_write
from sim.sweep.aggregate import aggregate, parse_overrides
from sim.sweep.jobs import run_job

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["customers.n=150", "international.n=20", "horizon=8"]


def sweep(out: Path, *args: str) -> subprocess.CompletedProcess:
    """Run ``python -m sim -m ARGS`` into ``out``; fail the test if Hydra itself fails."""
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "-m", *args, f"hydra.sweep.dir={out}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "RAY_DEDUP_LOGS": "0"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def summaries(out: Path) -> dict[str, dict]:
    return {
        str(p.parent.relative_to(out)): json.loads(p.read_text())
        for p in sorted(out.glob("*/seed=*/summary.json"))
    }


@pytest.fixture(scope="module")
def basic_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "basic"
    sweep(out, "scenario=baseline,leaky_safeguards", "seed=range(2)", *SMALL)
    return out


def test_multirun_gives_readable_folders_one_per_replication(basic_sweep):
    runs = summaries(basic_sweep)
    assert sorted(runs) == [
        "customers.n=150,horizon=8,international.n=20,scenario=baseline/seed=0",
        "customers.n=150,horizon=8,international.n=20,scenario=baseline/seed=1",
        "customers.n=150,horizon=8,international.n=20,scenario=leaky_safeguards/seed=0",
        "customers.n=150,horizon=8,international.n=20,scenario=leaky_safeguards/seed=1",
    ]
    assert len({json.dumps(s, sort_keys=True) for s in runs.values()}) == 4
    assert not any((basic_sweep / run / "plots").exists() for run in runs)


def test_sweep_end_writes_tables_and_report(basic_sweep):
    comparison = basic_sweep / "comparison"
    runs = pd.read_csv(comparison / "runs.csv")
    assert len(runs) == 4 and (runs["status"] == "ok").all()
    assert set(runs["scenario"]) == {"baseline", "leaky_safeguards"}
    assert sorted(runs["seed"]) == [0, 0, 1, 1]
    on_disk = summaries(basic_sweep)
    for row in runs.itertuples():
        assert row.china_spend_foreign == pytest.approx(
            on_disk[row.run]["china_spend_foreign"], rel=1e-12
        )
    series = pd.read_csv(comparison / "timeseries.csv")
    assert len(series) == 4 * 8
    assert {"run", "scenario", "seed", "month", "china_spend_foreign"} <= set(series.columns)
    assert (comparison / "report.html").stat().st_size > 10_000
    for name in ("fan_charts", "differences", "tradeoffs"):
        assert (comparison / f"{name}.png").exists()


@pytest.mark.parametrize(
    "launcher",
    [
        ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
        ["hydra/launcher=ray", "+hydra.launcher.ray.init.num_cpus=2"],
        ["hydra/launcher=submitit_local"],
    ],
    ids=["joblib", "ray", "submitit_local"],
)
def test_every_launcher_gives_identical_numbers(basic_sweep, tmp_path, launcher):
    out = tmp_path / "launched"
    sweep(out, *launcher, "scenario=baseline,leaky_safeguards", "seed=range(2)", *SMALL)
    assert summaries(out) == summaries(basic_sweep)
    runs = pd.read_csv(out / "comparison" / "runs.csv")
    assert (runs["status"] == "ok").sum() == 4


def test_a_refused_job_does_not_stop_the_sweep(tmp_path):
    out = tmp_path / "mixed"
    sweep(out, "customers.n=150,-3", "horizon=6", "seed=range(2)")
    agg = aggregate([out])
    assert (agg.runs["status"] == "ok").sum() == 2
    refused = agg.runs[agg.runs["status"] == "refused"]
    assert len(refused) == 2
    assert (refused["customers.n"] == -3).all()
    assert refused["error"].str.contains("customers.n = -3: out of range").all()
    report = (out / "comparison" / "report.html").read_text()
    assert "customers.n = -3: out of range" in report


def test_an_exception_in_a_job_is_recorded_not_raised(tmp_path, monkeypatch):
    import sim.runner

    def boom(*args, **kwargs):
        raise RuntimeError("worker exploded")

    monkeypatch.setattr(sim.runner, "simulate", boom)
    from sim.config import compose

    status, summary = run_job(
        compose(None, SMALL), tmp_path, ["seed=1"], sweep=True, log=logging.getLogger("test")
    )
    assert status.status == "failed" and summary is None
    saved = json.loads((tmp_path / "status.json").read_text())
    assert saved["status"] == "failed" and "worker exploded" in saved["error"]
    assert "RuntimeError" in saved["traceback"]
    assert not (tmp_path / "summary.json").exists()
    with pytest.raises(RuntimeError):
        run_job(compose(None, SMALL), tmp_path, [], sweep=False, log=logging.getLogger("test"))


def test_rerunning_a_sweep_resumes_it(tmp_path):
    out = tmp_path / "resume"
    args = ("scenario=baseline,leaky_safeguards", "seed=range(2)", "customers.n=150", "horizon=6")
    sweep(out, *args)
    done = sorted(out.glob("*/seed=*/summary.json"))
    killed = done[0].parent
    (killed / "summary.json").unlink()
    status = json.loads((killed / "status.json").read_text())
    (killed / "status.json").write_text(json.dumps({**status, "status": "running"}))
    assert (
        aggregate([out]).runs.set_index("run").loc[str(killed.relative_to(out)), "status"]
        == "incomplete"
    )
    before = {p: p.stat().st_mtime_ns for p in done[1:]}
    proc = sweep(out, *args)
    assert (proc.stdout + proc.stderr).count("Skipped:") == 3
    assert {p: p.stat().st_mtime_ns for p in done[1:]} == before
    assert (killed / "summary.json").exists()
    assert (aggregate([out]).runs["status"] == "ok").all()


def test_changed_config_is_not_skipped(tmp_path):
    out = tmp_path / "changed"
    first = sweep(out, "seed=range(1)", "customers.n=120", "horizon=4", "hydra.sweep.subdir=job")
    again = sweep(out, "seed=range(1)", "customers.n=120", "horizon=4", "hydra.sweep.subdir=job")
    changed = sweep(
        out,
        "seed=range(1)",
        "customers.n=120",
        "horizon=4",
        "hydra.sweep.subdir=job",
        "us.audit_prob=0.5",
    )
    assert "Skipped:" not in first.stdout + first.stderr
    assert "Skipped:" in again.stdout + again.stderr
    assert "Skipped:" not in changed.stdout + changed.stderr
    assert json.loads((out / "job" / "summary.json").read_text())["seed"] == 0


def test_ready_made_grid_sweep_draws_heatmaps(tmp_path):
    out = tmp_path / "grid"
    sweep(
        out,
        "+sweep=export_vs_safeguards",
        "seed=0",
        "customers.n=100",
        "international.n=10",
        "horizon=6",
    )
    agg = aggregate([out])
    assert len(agg.runs) == 20 and (agg.runs["status"] == "ok").all()
    assert set(agg.params) >= {"us.rule_level", "intermediaries.azure.monitoring0"}
    assert (out / "comparison" / "heatmaps.png").exists()


def test_compare_command_over_several_folders(basic_sweep, tmp_path):
    single = tmp_path / "single"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "seed=3",
            *SMALL,
            f"hydra.run.dir={single}",
            "output.plots=false",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    out = tmp_path / "cmp"
    proc = subprocess.run(
        [sys.executable, "-m", "sim.compare", str(basic_sweep), str(single), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 5 and set(runs["seed"]) == {0, 1, 3}
    assert (out / "report.html").exists()
    bad = subprocess.run(
        [sys.executable, "-m", "sim.compare", str(tmp_path / "nowhere")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0 and "no such folder" in bad.stderr


def test_parse_overrides_keeps_user_keys_only():
    parsed = parse_overrides(
        [
            "+sweep=x",
            "scenario=baseline",
            "us.rule_level=0.5",
            "hydra.launcher.n_jobs=2",
            "++a.b=[1,2]",
            "output.plots=true",
        ]
    )
    assert parsed == {"scenario": "baseline", "us.rule_level": 0.5, "a.b": "[1,2]"}


def test_atomic_write_never_leaves_a_partial_file(tmp_path):
    target = tmp_path / "summary.json"
    target.write_text("old")

    def half_then_crash(tmp: Path) -> None:
        tmp.write_text('{"partial": ')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, half_then_crash)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]
