"""Sweeps: Hydra multirun with every launcher, seeds batched per job, failures contained,
resume, the sweep lock, full disks and unwritable folders."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from sim import run
from sim.results import atomic_write
from sim.sweep import lock
from sim.sweep.aggregate import aggregate, parse_overrides
from sim.sweep.jobs import code_version, config_hash, config_hashes, run_job, source_hash

ROOT = Path(__file__).resolve().parent.parent
# Scenario events start in January 2027: a start late in 2026 keeps them inside short runs.
SMALL = ["customers.n=150", "international.n=20", "horizon=8", "start=2026-10"]
TINY = ["customers.n=100", "international.n=10", "horizon=4", "start=2026-10"]


def sweep(out: Path, *args: str, ok: bool = True, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run ``python -m sim -m ARGS`` into ``out``; by default fail the test if it fails."""
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "-m", *args, f"hydra.sweep.dir={out}"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "RAY_DEDUP_LOGS": "0"},
    )
    if ok:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def patched_sweep(out: Path, patch: str, *args: str) -> subprocess.CompletedProcess:
    """A sweep on the basic launcher (jobs in this process) after running ``patch``."""
    boot = textwrap.dedent(
        """
        import runpy, sys
        {patch}
        sys.argv = ["sim", "-m", *{args!r}, "hydra.sweep.dir={out}"]
        runpy.run_module("sim", run_name="__main__")
        """
    ).format(patch=textwrap.dedent(patch), args=list(args), out=out)
    return subprocess.run(
        [sys.executable, "-c", boot], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def summaries(out: Path) -> dict[str, dict]:
    return {
        str(p.parent.relative_to(out)): json.loads(p.read_text())
        for p in sorted(out.glob("**/seed=*/summary.json"))
        if "comparison" not in p.parts
    }


def timeseries(out: Path) -> dict[str, pd.DataFrame]:
    return {
        str(p.parent.relative_to(out)): pd.read_csv(p)
        for p in sorted(out.glob("**/seed=*/timeseries.csv"))
    }


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob(".*.tmp")]


@pytest.fixture(scope="module")
def basic_sweep(tmp_path_factory):
    """The reference: basic launcher, one seed per job (Hydra's own layout of work)."""
    out = tmp_path_factory.mktemp("sweep") / "basic"
    sweep(
        out,
        "scenario=baseline,leaky_safeguards",
        "seed=range(3)",
        "hydra.sweeper.seeds_per_job=1",
        *SMALL,
    )
    return out


@pytest.mark.slow
def test_multirun_gives_readable_folders_one_per_replication(basic_sweep):
    runs = summaries(basic_sweep)
    overrides = "customers.n=150,horizon=8,international.n=20,start=2026-10"
    assert sorted(runs) == [
        f"{scenario}/{overrides}/seed={seed}"
        for scenario in ("baseline", "leaky_safeguards")
        for seed in range(3)
    ]
    assert len({json.dumps(s, sort_keys=True) for s in runs.values()}) == 6
    assert not any((basic_sweep / run / "plots").exists() for run in runs)


@pytest.mark.slow
def test_seed_only_sweep_writes_inside_its_folder_and_resumes(tmp_path):
    out = tmp_path / "seeds"
    work = tmp_path / "cwd"
    work.mkdir()
    first = sweep(out, "seed=range(3)", *TINY, cwd=work)
    assert sorted(summaries(out)) == [
        "baseline/customers.n=100,horizon=4,international.n=10,start=2026-10/seed=0",
        "baseline/customers.n=100,horizon=4,international.n=10,start=2026-10/seed=1",
        "baseline/customers.n=100,horizon=4,international.n=10,start=2026-10/seed=2",
    ]
    assert list(work.iterdir()) == []
    runs = pd.read_csv(out / "comparison" / "runs.csv")
    assert sorted(runs["seed"]) == [0, 1, 2] and (runs["status"] == "ok").all()
    assert "3 jobs" in first.stderr + first.stdout
    again = sweep(out, "seed=range(3)", *TINY, cwd=work)
    assert "3 already finished, 0 jobs" in again.stderr + again.stdout
    more = sweep(out, "seed=range(4)", *TINY, cwd=work)
    assert "3 already finished, 1 job " in more.stderr + more.stdout
    assert len(summaries(out)) == 4


def test_seed_only_sweep_folder_is_named_by_the_scenario():
    from hydra import compose, initialize_config_dir

    from sim.config import register_plugins
    from sim.paths import CONF_DIR

    register_plugins()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=["seed=4"], return_hydra_config=True)
    raw = cfg.hydra.sweep._get_node("subdir")._value()
    assert raw.startswith("${scenario.name}/") and raw.endswith("/seed=${seed}")
    assert "seed" in cfg.hydra.job.config.override_dirname.exclude_keys


@pytest.mark.slow
def test_sweep_end_writes_tables_and_report(basic_sweep):
    comparison = basic_sweep / "comparison"
    runs = pd.read_csv(comparison / "runs.csv")
    assert len(runs) == 6 and (runs["status"] == "ok").all()
    assert set(runs["scenario"]) == {"baseline", "leaky_safeguards"}
    assert sorted(runs["seed"]) == [0, 0, 1, 1, 2, 2]
    on_disk = summaries(basic_sweep)
    for row in runs.itertuples():
        assert row.china_spend_foreign == pytest.approx(
            on_disk[row.run]["china_spend_foreign"], rel=1e-12
        )
    series = pd.read_csv(comparison / "timeseries.csv")
    assert len(series) == 6 * 8
    assert {"run", "scenario", "seed", "month", "china_spend_foreign"} <= set(series.columns)
    assert pd.read_parquet(comparison / "timeseries.parquet").shape == series.shape
    assert (comparison / "report.html").stat().st_size > 10_000
    for name in ("fan_charts", "differences", "tradeoffs"):
        assert (comparison / f"{name}.png").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    "launcher",
    [
        ["hydra.sweeper.seeds_per_job=2"],
        ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "hydra.sweeper.seeds_per_job=2"],
        ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "hydra.sweeper.seeds_per_job=3"],
        [
            "hydra/launcher=ray",
            "+hydra.launcher.ray.init.num_cpus=2",
            "hydra.sweeper.seeds_per_job=2",
        ],
        ["hydra/launcher=submitit_local", "hydra.sweeper.seeds_per_job=2"],
    ],
    ids=["basic-batched", "joblib-2x2", "joblib-2x3", "ray", "submitit_local"],
)
def test_every_launcher_and_batching_gives_identical_numbers(basic_sweep, tmp_path, launcher):
    out = tmp_path / "launched"
    sweep(out, *launcher, "scenario=baseline,leaky_safeguards", "seed=range(3)", *SMALL)
    assert summaries(out) == summaries(basic_sweep)
    ours, reference = timeseries(out), timeseries(basic_sweep)
    assert ours.keys() == reference.keys()
    for key, frame in ours.items():
        pd.testing.assert_frame_equal(frame, reference[key], check_exact=True)
    runs = pd.read_csv(out / "comparison" / "runs.csv")
    assert (runs["status"] == "ok").sum() == 6
    per_job = int(next(a for a in launcher if "seeds_per_job" in a).split("=")[1])
    assert len(list(out.rglob("job.parquet"))) == 2 * -(-3 // per_job)  # one file per job
    reference = pd.read_csv(basic_sweep / "comparison" / "timeseries.csv")
    ours = pd.read_csv(out / "comparison" / "timeseries.csv")
    key = ["run", "month"]
    pd.testing.assert_frame_equal(
        ours.sort_values(key).reset_index(drop=True),
        reference.sort_values(key).reset_index(drop=True),
    )


@pytest.mark.slow
def test_batched_replications_equal_single_runs(tmp_path):
    out = tmp_path / "batched"
    sweep(out, "seed=range(5)", *TINY, "hydra.sweeper.seeds_per_job=5")
    written = summaries(out)
    assert len(written) == 5
    for seed in range(5):
        single = run(overrides=[*TINY, f"seed={seed}"]).summary
        key = f"baseline/customers.n=100,horizon=4,international.n=10,start=2026-10/seed={seed}"
        assert written[key] == json.loads(json.dumps(single))
    folders = sorted((out / "baseline").glob("*/seed=*"))
    assert [f.name for f in folders] == [f"seed={n}" for n in range(5)]
    assert (folders[0] / ".hydra").is_dir() and not (folders[1] / ".hydra").exists()
    status = json.loads((folders[3] / "status.json").read_text())
    assert status["overrides"][-1] == "seed=3" and status["model_seconds"] > 0


@pytest.mark.slow
def test_a_refused_job_does_not_stop_the_sweep(tmp_path):
    out = tmp_path / "mixed"
    sweep(out, "customers.n=150,-3", "horizon=6", "seed=range(2)", "hydra.sweeper.seeds_per_job=2")
    agg = aggregate([out])
    assert (agg.runs["status"] == "ok").sum() == 2
    refused = agg.runs[agg.runs["status"] == "refused"]
    assert len(refused) == 2 and sorted(refused["seed"]) == [0, 1]
    assert (refused["customers.n"] == -3).all()
    assert refused["error"].str.contains("customers.n = -3: out of range").all()
    report = (out / "comparison" / "report.html").read_text()
    assert "customers.n = -3: out of range" in report


@pytest.mark.slow
def test_a_sweep_whose_runs_all_fail_says_so_and_exits_1(tmp_path):
    out = tmp_path / "allbad"
    proc = sweep(out, "customers.n=-3,-4", "horizon=4", "seed=range(2)", ok=False)
    assert proc.returncode == 1
    assert "none of the 4 runs" in proc.stderr and "failed or was refused" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (out / "comparison" / "runs.csv").exists()


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


@pytest.mark.slow
def test_rerunning_a_sweep_resumes_it(tmp_path):
    out = tmp_path / "resume"
    args = (
        "scenario=baseline,leaky_safeguards",
        "seed=range(2)",
        *TINY,
        "hydra.sweeper.seeds_per_job=2",
    )
    sweep(out, *args)
    done = sorted(p for p in out.glob("*/*/seed=*/summary.json"))
    killed = done[1].parent
    (killed / "summary.json").unlink()
    status = json.loads((killed / "status.json").read_text())
    (killed / "status.json").write_text(json.dumps({**status, "status": "running"}))
    (killed / ".summary.json.x1y2.tmp").write_text('{"partial": ')
    assert (
        aggregate([out]).runs.set_index("run").loc[str(killed.relative_to(out)), "status"]
        == "incomplete"
    )
    before = {p: p.stat().st_mtime_ns for p in done if p.parent != killed}
    proc = sweep(out, *args)
    assert "3 already finished, 1 job " in proc.stdout + proc.stderr
    assert {p: p.stat().st_mtime_ns for p in before} == before
    assert (killed / "summary.json").exists() and not temp_files(out)
    assert (aggregate([out]).runs["status"] == "ok").all()


@pytest.mark.slow
def test_results_of_other_code_are_not_reused(tmp_path):
    out = tmp_path / "stale"
    sweep(out, "seed=range(2)", *TINY)
    for file in out.glob("**/seed=*/status.json"):
        status = json.loads(file.read_text())
        file.write_text(json.dumps({**status, "code_version": "0.0.9+oldmodel"}))
    proc = sweep(out, "seed=range(2)", *TINY)
    assert "0 already finished" in proc.stdout + proc.stderr
    for file in out.glob("**/seed=*/status.json"):
        assert json.loads(file.read_text())["code_version"] == code_version()


def test_code_version_follows_the_model_source_not_the_figures(tmp_path):
    src = tmp_path / "sim"
    shutil.copytree(ROOT / "sim", src, ignore=shutil.ignore_patterns("__pycache__"))
    before = source_hash(src)
    (src / "sweep" / "figures.py").write_text("# restyled\n", encoding="utf-8")
    (src / "plots.py").write_text("# restyled\n", encoding="utf-8")
    assert source_hash(src) == before
    model = src / "model.py"
    model.write_text(model.read_text() + "\n# changed arithmetic\n", encoding="utf-8")
    assert source_hash(src) != before
    assert code_version().endswith("+" + source_hash(ROOT / "sim"))


def test_config_hashes_match_one_hash_per_seed():
    from sim.config import as_config, compose

    config = as_config(compose(None, TINY))
    many = config_hashes(config, [0, 7, 123])
    for seed, digest in many.items():
        assert digest == config_hash(as_config(config, seed=seed))
    assert len(set(many.values())) == 3


@pytest.mark.slow
def test_changed_config_is_not_skipped(tmp_path):
    out = tmp_path / "changed"
    common = ("seed=range(1)", "customers.n=120", "horizon=4", "hydra.sweep.subdir=job")
    first = sweep(out, *common)
    again = sweep(out, *common)
    changed = sweep(out, *common, "us.audit_prob=0.5")
    assert "Skipped:" not in first.stdout + first.stderr
    assert "Skipped:" in again.stdout + again.stderr
    assert "Skipped:" not in changed.stdout + changed.stderr
    assert json.loads((out / "job" / "summary.json").read_text())["seed"] == 0


@pytest.mark.slow
def test_ready_made_grid_sweep_draws_heatmaps(tmp_path):
    out = tmp_path / "grid"
    sweep(out, "+sweep=export_vs_safeguards", "seed=0", *TINY)
    agg = aggregate([out])
    assert len(agg.runs) == 20 and (agg.runs["status"] == "ok").all()
    assert set(agg.params) >= {"us.rule_level", "intermediaries.azure.monitoring0"}
    assert (out / "comparison" / "heatmaps.png").exists()


# ------------------------------------------------------------------ locks, disks, temp files


@pytest.mark.slow
def test_a_second_sweep_into_the_same_folder_is_refused(tmp_path):
    out = tmp_path / "locked"
    lock.acquire(out)
    try:
        proc = sweep(out, "seed=range(2)", *TINY, ok=False)
    finally:
        lock.release(out)
    assert proc.returncode == 1
    assert f"Another sweep is working in {out.resolve()}" in proc.stderr
    assert f"process {os.getpid()}" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list(out.glob("**/summary.json"))
    sweep(out, "seed=range(1)", *TINY)
    assert len(summaries(out)) == 1


def test_the_lock_is_free_again_after_release(tmp_path):
    lock.acquire(tmp_path)
    assert lock.is_locked(tmp_path) is None  # held by this process
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from sim.sweep import lock; print(lock.is_locked({str(tmp_path)!r}))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert f"process {os.getpid()}" in probe.stdout
    lock.release(tmp_path)
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from sim.sweep import lock; print(lock.is_locked({str(tmp_path)!r}))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.strip() == "None"


DISK_FILLS_AFTER = """
import errno
import sim.runner
from sim.results import atomic_write

written = {{"n": 0}}
original = sim.runner.write_table

def filling_disk(path, frame, fmt="csv"):
    written["n"] += 1
    if written["n"] <= {tables}:
        return original(path, frame, fmt)
    def no_space(tmp):
        tmp.write_text("half a table")
        raise OSError(errno.ENOSPC, "No space left on device")
    return atomic_write(path, no_space)

sim.runner.write_table = filling_disk
"""


@pytest.mark.slow
def test_a_full_disk_stops_the_sweep_with_one_message_and_it_resumes(tmp_path):
    out = tmp_path / "full"
    args = ("seed=range(4)", *TINY, "hydra.sweeper.seeds_per_job=2")
    # Each run writes two tables: the third run's first table finds the disk full.
    proc = patched_sweep(out, DISK_FILLS_AFTER.format(tables=4), *args)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "Sweep stopped: cannot write" in proc.stderr
    assert "No space left on device" in proc.stderr and "run the same command again" in proc.stderr
    assert "Traceback" not in proc.stderr
    finished = summaries(out)
    assert len(finished) == 2 and not temp_files(out)
    third = (
        out / "baseline" / "customers.n=100,horizon=4,international.n=10,start=2026-10" / "seed=2"
    )
    assert json.loads((third / "status.json").read_text())["status"] == "running"
    before = {k: v for k, v in finished.items()}
    resumed = sweep(out, *args)
    assert "2 already finished, 1 job " in resumed.stdout + resumed.stderr
    after = summaries(out)
    assert len(after) == 4 and all(after[k] == v for k, v in before.items())


@pytest.mark.slow
def test_a_full_disk_in_a_single_run_is_one_message(tmp_path):
    boot = DISK_FILLS_AFTER.format(tables=0) + textwrap.dedent(
        f"""
        import runpy, sys
        sys.argv = ["sim", *{TINY!r}, "hydra.run.dir={tmp_path / "one"}"]
        runpy.run_module("sim", run_name="__main__")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", boot], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 1
    assert "No space left on device" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "one" / "summary.json").exists() and not temp_files(tmp_path)


def _make_unwritable(folder: Path) -> bool:
    """Make ``folder`` unwritable even for root (immutable attribute) or by permissions."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return True
    chattr = shutil.which("chattr")
    if chattr is None:
        return False
    return subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode == 0


def _make_writable(folder: Path) -> None:
    if os.geteuid() != 0:
        folder.chmod(0o755)
    else:
        subprocess.run([shutil.which("chattr") or "chattr", "-i", str(folder)], capture_output=True)


@pytest.mark.slow
def test_an_unwritable_sweep_folder_is_one_message_and_keeps_finished_runs(tmp_path):
    out = tmp_path / "ro"
    sweep(out, "seed=range(1)", *TINY)
    before = summaries(out)
    if not _make_unwritable(out):
        pytest.skip("cannot make a folder unwritable here (root without chattr)")
    try:
        proc = sweep(out, "seed=range(3)", *TINY, ok=False)
    finally:
        _make_writable(out)
    assert proc.returncode == 1
    assert f"cannot write the sweep folder {out}" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert summaries(out) == before
    sweep(out, "seed=range(3)", *TINY)
    assert len(summaries(out)) == 3


def test_temp_files_of_killed_writes_are_never_results(tmp_path):
    folder = tmp_path / "killed"
    folder.mkdir()
    (folder / ".summary.json.abcd.tmp").write_text('{"seed": 1, "scenario": "baseline"}')
    (folder / ".status.json.ef.tmp").write_text('{"status": "ok"}')
    agg = aggregate([tmp_path])
    assert agg.runs.empty


# ------------------------------------------------------------------ small pieces


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


def test_a_full_disk_is_a_storage_error_naming_the_file(tmp_path):
    import errno

    from sim.results import StorageError, is_storage_error

    def no_space(tmp: Path) -> None:
        tmp.write_text("partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(StorageError) as caught:
        atomic_write(tmp_path / "timeseries.csv", no_space)
    assert (
        str(caught.value) == f"cannot write {tmp_path / 'timeseries.csv'}: No space left on device"
    )
    assert is_storage_error(caught.value) and list(tmp_path.iterdir()) == []
    import pickle

    again = pickle.loads(pickle.dumps(caught.value))
    assert isinstance(again, StorageError) and again.errno == errno.ENOSPC


def test_a_job_validates_its_config_once_for_all_its_seeds(tmp_path, monkeypatch):
    import sim.config
    from sim.config import compose
    from sim.sweep.jobs import run_replications

    calls = []
    original = sim.config.validate
    monkeypatch.setattr(sim.config, "validate", lambda cfg: calls.append(1) or original(cfg))
    job_dir = tmp_path / "cfg" / "seed=0"
    statuses = run_replications(
        compose(None, [*TINY, "seed=0"]), job_dir, ["seed=0"], [0, 1, 2], log=logging.getLogger("t")
    )
    assert [s.status for s in statuses] == ["ok", "ok", "ok"]
    assert len(calls) == 1


def test_a_config_changed_after_validation_is_validated_again():
    from sim.config import as_config, compose
    from sim.validate import ConfigError

    config = as_config(compose(None, TINY))
    assert as_config(config) is not config  # a copy, not the caller's object
    config.customers.n = -5
    with pytest.raises(ConfigError, match="customers.n = -5"):
        as_config(config)
    with pytest.raises(ConfigError, match="seed"):
        as_config(as_config(compose(None, TINY)), seed=-1)
