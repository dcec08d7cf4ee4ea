"""Sweeps refused before they start: bad sweeper or launcher settings, empty sweeps,
configs Hydra cannot compose, unusable folders; each is one message (no traceback), and a
refused sweep leaves nothing behind. Also: resume re-runs runs whose results are damaged,
and the plan's log line counts what it launches."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_sweeps import TINY, summaries, sweep

from hydra_plugins.sim_sweeper.replicating_sweeper import Plan, chunks, setting_problems
from sim.sweep.jobs import already_done, code_version, config_hash, run_job
from sim.sweep.lock import OWNER_FILE
from sim.sweep.run_folders import results_problem

ROOT = Path(__file__).resolve().parent.parent
LOG = logging.getLogger("test")


def start(out: Path, *args: str, multirun: bool = True) -> subprocess.CompletedProcess:
    """``python -m sim [-m] ARGS hydra.sweep.dir=OUT``, however it ends."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            *(["-m"] if multirun else []),
            *args,
            f"hydra.sweep.dir={out}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``folder``: its size and modification time."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


LHS = ("+uncertainty=lhs", "hydra.sweeper.samples=2")
REFUSALS = {
    "empty-seed-range": (
        ("seed=range(0)",),
        "seed=range(0): an empty sweep, seed has no values",
    ),
    "empty-parameter-range": (
        ("customers.n=range(5,2)", "seed=0"),
        "customers.n=range(5,2): an empty sweep, customers.n has no values",
    ),
    "batch-size-zero": (
        ("seed=range(2)", "hydra.sweeper.max_batch_size=0"),
        "hydra.sweeper.max_batch_size = 0: allowed a number of jobs per batch >= 1, or -1",
    ),
    "batch-size-negative": (
        ("seed=range(2)", "hydra.sweeper.max_batch_size=-3"),
        "hydra.sweeper.max_batch_size = -3: allowed",
    ),
    "seeds-per-job": (
        ("seed=range(2)", "hydra.sweeper.seeds_per_job=-1"),
        "hydra.sweeper.seeds_per_job = -1: allowed a number of seeds per job >= 1, or 0",
    ),
    "samples": (
        ("+uncertainty=lhs", "hydra.sweeper.samples=-2", "seed=range(2)"),
        "hydra.sweeper.samples = -2: 0 (no sampling) or at least 2 samples",
    ),
    "sample-seed": (
        (*LHS, "hydra.sweeper.sample_seed=-1", "seed=range(2)"),
        "hydra.sweeper.sample_seed = -1: allowed a whole number >= 0",
    ),
    "unknown-factor": (
        (*LHS, "hydra.sweeper.factors=[foo.bar]", "seed=range(2)"),
        "hydra.sweeper.factors = ['foo.bar']: unknown factor(s) ['foo.bar']; the factors are",
    ),
    "job-seeds": (
        ("seed=range(2)", "hydra.sweeper.job_seeds=[1,2]"),
        "hydra.sweeper.job_seeds = [1, 2]: set by the sweeper for each job, not by users",
    ),
    "joblib-no-workers": (
        ("seed=range(2)", "hydra/launcher=joblib", "hydra.launcher.n_jobs=0"),
        "hydra.launcher.n_jobs = 0: allowed a number of parallel workers >= 1, -1 for every",
    ),
    "seed-not-a-number": (
        ("seed=abc,1",),
        "Value 'abc' of type 'str' could not be converted to Integer",
    ),
    "unknown-scenario": (
        ("scenario=baseline,nonexistent", "seed=0"),
        "Could not find 'scenario/nonexistent'",
    ),
    "interval-sweep": (
        ("horizon=interval(4,6)", "seed=0"),
        "horizon=interval(4,6): the sweeper does not support sweep type",
    ),
}


@pytest.mark.parametrize("args, message", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refused_sweep_is_one_message_exit_2_and_creates_nothing(tmp_path, args, message):
    out = tmp_path / "new" / "sweep"
    proc = start(out, *args, *TINY)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Error: " in proc.stderr and message in proc.stderr
    assert "Traceback" not in proc.stderr and "HYDRA_FULL_ERROR" not in proc.stderr
    assert "Sweep of" not in proc.stdout + proc.stderr  # refused before the plan was logged
    assert not (tmp_path / "new").exists()


def test_every_bad_setting_is_listed_in_one_refusal(tmp_path):
    proc = start(
        tmp_path / "s",
        "seed=range(2)",
        "hydra.sweeper.seeds_per_job=-1",
        "hydra.sweeper.max_batch_size=0",
        *TINY,
    )
    assert proc.returncode == 2
    assert "hydra.sweeper.seeds_per_job = -1" in proc.stderr
    assert "hydra.sweeper.max_batch_size = 0" in proc.stderr
    assert not (tmp_path / "s").exists()


def test_an_unknown_factor_is_refused_without_the_multirun_flag_too(tmp_path):
    out = tmp_path / "lhs"
    proc = start(out, *LHS, "hydra.sweeper.factors=[foo.bar]", "seed=range(2)", multirun=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: hydra.sweeper.factors = ['foo.bar']: unknown factor")
    assert "Traceback" not in proc.stderr and not out.exists()


@pytest.mark.parametrize(
    "args",
    [
        ("seed=range(1)", "hydra.sweeper.max_batch_size=0"),
        (*LHS, "hydra.sweeper.factors=[foo.bar]", "seed=range(1)"),
        ("scenario=baseline,nonexistent", "seed=0"),
    ],
    ids=["setting", "factor", "composition"],
)
@pytest.mark.slow
def test_a_refusal_leaves_an_earlier_sweeps_folder_as_it_was(tmp_path, args):
    out = tmp_path / "sweep"
    sweep(out, "seed=range(1)", *TINY)
    before = snapshot(out)
    proc = start(out, *args, *TINY)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert snapshot(out) == before
    assert not (out / OWNER_FILE).exists()
    again = sweep(out, "seed=range(1)", *TINY)
    assert "1 already finished, 0 jobs to launch" in again.stdout + again.stderr


@pytest.mark.parametrize("bad", ["file", "proc"])
def test_a_sweep_folder_that_cannot_be_created_is_one_message_like_a_single_run(tmp_path, bad):
    if bad == "proc":
        if not Path("/proc/self").is_dir():
            pytest.skip("no /proc here")
        target = Path("/proc/no-such-sim-sweep")
    else:
        (tmp_path / "a-file").write_text("not a folder")
        target = tmp_path / "a-file" / "sweep"
    proc = start(target, "seed=range(2)", *TINY)
    single = subprocess.run(
        [sys.executable, "-m", "sim", *TINY, f"hydra.run.dir={target}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert single.returncode == 1 and f"cannot create the run folder {target}" in single.stderr
    assert proc.returncode == single.returncode
    assert f"Error: cannot create the sweep folder {target}: " in proc.stderr
    assert "hydra.sweep.dir=" in proc.stderr
    assert "Traceback" not in proc.stderr and "Warning" not in proc.stderr
    assert not target.exists()


# ------------------------------------------------------------------ resume and damaged runs


@pytest.fixture
def finished_run(tmp_path) -> tuple[Path, str]:
    """A finished run folder as a sweep job writes it, and its config hash."""
    from sim.config import as_config, compose

    cfg = compose(None, [*TINY, "seed=3"])
    folder = tmp_path / "seed=3"
    status, _ = run_job(cfg, folder, ["seed=3"], sweep=True, log=LOG)
    assert status.status == "ok"
    return folder, config_hash(as_config(cfg))


def test_a_finished_run_with_intact_results_is_done(finished_run):
    folder, digest = finished_run
    assert results_problem(folder) is None
    assert already_done(folder, digest, code_version())
    assert not already_done(folder, "another-config", code_version())


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda f: (f / "timeseries.csv").unlink(), "no timeseries.csv"),
        (lambda f: (f / "timeseries.csv").write_text(""), "timeseries.csv is empty"),
        (lambda f: (f / "summary.json").unlink(), "no summary.json"),
        (lambda f: (f / "summary.json").write_text('{"seed": 3, "scen'), "not valid JSON"),
        (lambda f: (f / "summary.json").write_text("[1, 2]"), "not a JSON object"),
        (
            lambda f: (f / "summary.json").write_text(
                json.dumps({**json.loads((f / "summary.json").read_text()), "seed": "three"})
            ),
            "seed = 'three' is not a int",
        ),
        (
            lambda f: (
                (f / "timeseries.csv").unlink()
                or (f / "timeseries.csv").symlink_to(ROOT / "pyproject.toml")
            ),
            "outside its run folder",
        ),
    ],
    ids=["no-series", "empty-series", "no-summary", "cut-summary", "list", "bad-seed", "link"],
)
def test_a_run_whose_results_are_damaged_is_not_done(finished_run, damage, reason):
    folder, digest = finished_run
    damage(folder)
    assert reason in (results_problem(folder) or "")
    assert not already_done(folder, digest, code_version())


@pytest.mark.slow
def test_resume_reruns_runs_whose_results_are_missing_or_unreadable(tmp_path):
    out = tmp_path / "damaged"
    args = ("seed=range(3)", *TINY, "hydra.sweeper.seeds_per_job=7")
    first = sweep(out, *args)
    assert "0 already finished, 1 job of 3 seeds to launch" in first.stdout + first.stderr
    runs = {s["seed"]: out / run for run, s in summaries(out).items()}
    kept = runs[0] / "summary.json"
    before = kept.stat().st_mtime_ns
    (runs[1] / "timeseries.csv").unlink()
    (runs[2] / "summary.json").write_text('{"seed": 2, "scen')
    again = sweep(out, *args)
    assert "1 already finished, 1 job of 2 seeds to launch" in again.stdout + again.stderr
    assert kept.stat().st_mtime_ns == before
    table = pd.read_csv(out / "comparison" / "runs.csv")
    assert sorted(table["seed"]) == [0, 1, 2] and (table["status"] == "ok").all()
    third = sweep(out, *args)
    assert "3 already finished, 0 jobs to launch" in third.stdout + third.stderr


# ------------------------------------------------------------------ small pieces


def test_settings_within_their_ranges_pass():
    from omegaconf import OmegaConf

    good = {"seeds_per_job": 0, "max_batch_size": None, "samples": 0, "sample_seed": 0}
    assert setting_problems(good, None) == []
    assert setting_problems({**good, "max_batch_size": -1, "samples": 2}, None) == []
    for n_jobs in (1, -1, -2):
        assert setting_problems(good, OmegaConf.create({"n_jobs": n_jobs})) == []
    assert setting_problems(good, OmegaConf.create({"n_jobs": 0})) == [
        "hydra.launcher.n_jobs = 0: allowed a number of parallel workers >= 1, -1 for every "
        "core, or -N for every core but N-1 (as joblib counts)"
    ]
    assert setting_problems({**good, "samples": 1}, None) == [
        "hydra.sweeper.samples = 1: 0 (no sampling) or at least 2 samples"
    ]


def test_chunks_refuse_a_size_below_one():
    assert chunks([1, 2, 3], 2) == [[1, 2], [3]]
    with pytest.raises(ValueError, match="at least 1"):
        chunks([1, 2, 3], 0)


@pytest.mark.parametrize(
    "sizes, runs, configs, seeds, skipped, text",
    [
        (
            [5] * 20,
            100,
            20,
            5,
            0,
            "Sweep of 100 runs (20 configs x 5 seeds): 0 already finished, "
            "20 jobs of 5 seeds to launch",
        ),
        (
            [7, 3],
            10,
            1,
            10,
            0,
            "Sweep of 10 runs (1 config x 10 seeds): 0 already finished, "
            "2 jobs of up to 7 seeds to launch",
        ),
        (
            [1],
            1,
            1,
            1,
            0,
            "Sweep of 1 run (1 config x 1 seed): 0 already finished, 1 job of 1 seed to launch",
        ),
        (
            [],
            4,
            2,
            2,
            4,
            "Sweep of 4 runs (2 configs x 2 seeds): 4 already finished, 0 jobs to launch",
        ),
    ],
)
def test_the_plan_says_what_it_launches(sizes, runs, configs, seeds, skipped, text):
    plan = Plan([["x"]] * len(sizes), runs, configs, seeds, skipped, sizes)
    assert plan.text() == text


@pytest.mark.slow
def test_a_job_folder_named_by_the_job_number_sweeps_and_resumes(tmp_path):
    out = tmp_path / "by_number"
    args = (*TINY, "seed=0,1", "hydra.sweep.subdir=job${hydra.job.num}")
    first = sweep(out, *args)
    assert "Traceback" not in first.stderr
    done = {p.parent.name: p.read_bytes() for p in out.glob("job*/summary.json")}
    assert sorted(done) == ["job0", "job1"]
    again = sweep(out, *args)
    assert (again.stdout + again.stderr).count("already finished with the same config") == 2
    assert {p.parent.name: p.read_bytes() for p in out.glob("job*/summary.json")} == done
