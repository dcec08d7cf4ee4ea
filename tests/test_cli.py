"""``python -m sim`` as a user runs it, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim import run
from sim.metrics import METRIC_NAMES, SUMMARY_KEYS

ROOT = Path(__file__).resolve().parent.parent


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    proc = _cli("seed=7", "horizon=12", "customers.n=300", f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_cli_writes_every_result_file(cli_run):
    out, _ = cli_run
    assert (out / ".hydra" / "config.yaml").exists()
    assert (out / ".hydra" / "overrides.yaml").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert set(SUMMARY_KEYS) <= set(summary)
    assert summary["scenario"] == "baseline" and summary["seed"] == 7
    ts = pd.read_csv(out / "timeseries.csv")
    assert len(ts) == 12
    assert set(METRIC_NAMES) <= set(ts.columns)
    customers = list(out.glob("customers.*"))
    assert len(customers) == 1
    table = (
        pd.read_parquet(customers[0])
        if customers[0].suffix == ".parquet"
        else pd.read_csv(customers[0])
    )
    assert len(table) == 300
    assert {
        "id",
        "sector",
        "budget_usd",
        "capability_inhouse",
        "leaked_capability",
        "samples_harvested",
        "terminated",
        "spend_foreign_direct_usd",
        "approved",
        "suspended",
        "restricted",
    } <= set(table.columns)
    for name in ("revenue", "leakage", "compliance", "market_shares", "network"):
        png = out / "plots" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_reports_where_results_went(cli_run):
    out, proc = cli_run
    last = (proc.stderr + proc.stdout).strip().splitlines()[-1]
    assert f"Results written to {out}" in last
    assert "Headline: China spend on foreign models $" in last


def test_cli_and_api_give_the_same_numbers(cli_run):
    out, _ = cli_run
    summary = json.loads((out / "summary.json").read_text())
    api = run(overrides=["seed=7", "horizon=12", "customers.n=300"]).summary
    assert summary == json.loads(json.dumps(api))


def test_cli_refuses_bad_config_and_leaves_no_results(tmp_path):
    out = tmp_path / "bad"
    proc = _cli("customers.n=0", f"hydra.run.dir={out}")
    assert proc.returncode != 0
    assert "customers.n = 0" in proc.stderr
    assert not (out / "summary.json").exists()
    assert not out.exists()


def test_cli_refuses_unknown_key_naming_it(tmp_path):
    proc = _cli("customers.colour=red", f"hydra.run.dir={tmp_path / 'x'}")
    assert proc.returncode != 0
    assert "colour" in proc.stderr


def test_a_refused_run_leaves_a_users_existing_folder_alone(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.log").write_text("keep me")
    proc = _cli("customers.n=0", f"hydra.run.dir={folder}")
    assert proc.returncode != 0
    assert (folder / "notes.log").read_text() == "keep me"
    assert not (folder / ".hydra").exists() and not (folder / "sim.log").exists()


@pytest.mark.slow
def test_a_refused_run_leaves_an_earlier_run_in_its_folder_as_it_was(tmp_path):
    folder = tmp_path / "run"
    assert _cli("horizon=3", "customers.n=300", f"hydra.run.dir={folder}").returncode == 0
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert folder / ".hydra" / "config.yaml" in before and folder / "sim.log" in before
    proc = _cli("seed=-1", f"hydra.run.dir={folder}")
    assert proc.returncode == 2 and "seed = -1" in proc.stderr
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


@pytest.mark.slow
def test_a_refused_run_into_a_relative_folder_also_leaves_the_earlier_run(tmp_path):
    cwd = tmp_path / "here"
    cwd.mkdir()
    first = _cli("horizon=3", "customers.n=300", "hydra.run.dir=../there/run", cwd=cwd)
    assert first.returncode == 0, first.stderr
    folder = tmp_path / "there" / "run"
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert folder / "sim.log" in before
    assert _cli("seed=-1", "hydra.run.dir=../there/run", cwd=cwd).returncode == 2
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


def test_a_refused_run_removes_the_folders_it_created(tmp_path):
    assert _cli("seed=-1", cwd=tmp_path).returncode == 2  # default folder: outputs/DATE/TIME...
    assert list(tmp_path.iterdir()) == []


def test_help_lists_scenarios_ready_made_sweeps_and_launchers():
    proc = _cli("--help")
    assert proc.returncode == 0
    text = proc.stdout
    for sweep in (ROOT / "conf" / "sweep").glob("*.yaml"):
        assert f"  {sweep.stem}  " in text
    for launcher, extra in (
        ("joblib", "joblib"),
        ("ray", "ray"),
        ("submitit_local", "submitit"),
        ("submitit_slurm", "submitit"),
    ):
        line = next(line for line in text.splitlines() if line.startswith(f"  {launcher} "))
        assert f'pip install -e ".[{extra}]"' in line
    assert "  baseline " in text and "+sweep=NAME" in text


def test_help_does_not_start_hydra_or_the_model():
    probe = (
        "import sys, runpy; sys.argv = ['sim', '--help']; "
        "runpy.run_module('sim', run_name='__main__'); "
        "print(sorted(m for m in ('hydra', 'mesa', 'pandas', 'omegaconf') if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and proc.stdout.strip().splitlines()[-1] == "[]"


def test_run_folder_names_show_what_changed():
    from sim.naming import run_folder_name

    assert run_folder_name("10-00-00", "baseline", []) == "10-00-00_baseline"
    assert (
        run_folder_name("10-00-00", "baseline", ["output.plots=false", "hydra.verbose=true"])
        == "10-00-00_baseline"
    )
    assert (
        run_folder_name("10-00-00", "leaky", ["scenario=leaky", "seed=7", "horizon=120"])
        == "10-00-00_leaky_seed=7,horizon=120"
    )
    long_a = [f"customers.sectors.s{i}.share=0.{i}" for i in range(20)]
    long_b = [*long_a[:-1], "customers.sectors.s19.share=0.5"]
    a, b = (run_folder_name("10-00-00", "baseline", x) for x in (long_a, long_b))
    assert a != b and len(a) <= 100 and len(b) <= 100
    assert "/" not in run_folder_name("t", "b", ["+note='a/b c'"])


@pytest.mark.slow
def test_cli_run_folders_differ_when_overrides_differ(tmp_path):
    for args in ((), ("seed=7", "horizon=3", "customers.n=100")):
        proc = _cli(*args, "output.plots=false", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in (tmp_path / "outputs").glob("*/*"))
    assert len(names) == 2
    plain, changed = sorted(names, key=len)
    assert plain.endswith("_baseline")
    assert changed.endswith("_baseline_seed=7,horizon=3,customers.n=100")


def test_compare_help_is_plain_text():
    proc = subprocess.run(
        [sys.executable, "-m", "sim.compare", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: python -m sim.compare")
    assert "``" not in proc.stdout and ":func:" not in proc.stdout
    assert "report.html" in proc.stdout and "--no-plots" in proc.stdout
