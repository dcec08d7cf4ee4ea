"""The tools beside ``python -m sim`` refuse bad options before any work, with exit code 2.

Each refusal names the option, the value and what is allowed, leaves nothing written, and
comes before the expensive part (composing designs, running the model, starting a server):
the tests make that part fail loudly, so a check that moved after it would be caught.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.calibrate as calibrate
from sim.analysis import morris, sobol
from sim.analysis import runs as analysis_runs
from sim.analysis.cli import main as analyze
from sim.analysis.experiment import Settings
from sim.compare import main as compare
from sim.config import as_config, compose
from sim.dashboard.__main__ import build_parser, option_problem
from sim.dashboard.__main__ import main as dashboard
from sim.sweep import figures, report
from sim.sweep.aggregate import Aggregate
from sim.sweep.compare import out_folder_problem
from sim.validate import ConfigError


def refused(main, argv: list[str], capsys) -> str:
    """Run a tool's ``main`` and return its error message; fail unless it exits with 2."""
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def _forbid(monkeypatch, target, name: str) -> None:
    def fail(*args, **kwargs):
        raise AssertionError(f"{name} was called although the input should have been refused")

    monkeypatch.setattr(target, name, fail)


@pytest.fixture
def afile(tmp_path) -> Path:
    """An existing file, given where a folder is expected."""
    path = tmp_path / "afile"
    path.write_text("keep me\n")
    return path


@pytest.fixture
def run_folder(tmp_path) -> Path:
    """A sweep folder with one run in it (a status file is what marks a run folder)."""
    run = tmp_path / "sweep" / "0"
    run.mkdir(parents=True)
    (run / "status.json").write_text(json.dumps({"status": "ok"}))
    return run.parent


# ----------------------------------------------------------------- the output folder


def test_an_output_folder_may_be_new_or_existing_but_not_a_file(tmp_path, afile):
    assert out_folder_problem(tmp_path) is None
    assert out_folder_problem(tmp_path / "new" / "deeper") is None
    assert "is a file" in out_folder_problem(afile)
    assert f"{afile} is a file" in out_folder_problem(afile / "inside")


# ----------------------------------------------------------------- python -m sim.compare


@pytest.fixture
def no_comparison(monkeypatch):
    import sim.sweep.compare

    _forbid(monkeypatch, sim.sweep.compare, "compare")


def test_compare_refuses_an_out_that_is_a_file(run_folder, afile, capsys, no_comparison):
    err = refused(compare, [str(run_folder), "--out", str(afile)], capsys)
    assert f"--out {afile}: is a file" in err and "folder (new or existing)" in err
    assert afile.read_text() == "keep me\n"


def test_compare_refuses_a_folder_without_runs_and_a_file(tmp_path, afile, capsys, no_comparison):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "cmp"
    err = refused(compare, [str(empty), "--out", str(out)], capsys)
    assert f"no runs in {empty}" in err and "status.json" in err
    err = refused(compare, [str(afile), "--out", str(out)], capsys)
    assert f"not a folder: {afile}" in err
    assert not out.exists()


# ----------------------------------------------------------------- python -m sim.calibrate


@pytest.fixture
def no_calibration(monkeypatch):
    _forbid(monkeypatch, calibrate, "fit")
    _forbid(monkeypatch, calibrate, "measure_all")


@pytest.mark.parametrize("option", ["--seeds", "--fit-seeds", "--maxiter", "--jobs"])
@pytest.mark.parametrize("value", ["0", "-1"])
def test_calibrate_refuses_counts_below_one(option, value, tmp_path, capsys, no_calibration):
    out = tmp_path / "cal"
    err = refused(calibrate.main, ["--fit", option, value, "--out", str(out)], capsys)
    assert f"{option} {value}: must be a whole number of at least 1" in err
    assert not out.exists()


def test_calibrate_refuses_an_out_that_is_a_file(afile, capsys, no_calibration):
    err = refused(calibrate.main, ["--fit", "--seeds", "1", "--out", str(afile)], capsys)
    assert f"--out {afile}: is a file" in err


def test_calibrate_accepts_the_smallest_counts(tmp_path, monkeypatch):
    monkeypatch.setattr(calibrate, "measure_all", lambda seeds, overrides, jobs: _values(seeds))
    out = tmp_path / "cal"
    args = ["--seeds", "1", "--jobs", "1", "--out", str(out)]
    assert calibrate.main(args) == 0
    assert len(pd.read_csv(out / "calibration.csv")) == len(calibrate.TARGETS)


def _values(seeds: range) -> np.ndarray:
    return np.ones((len(seeds), len(calibrate.TARGETS)))


# ----------------------------------------------------------------- python -m sim.analyze


@pytest.fixture
def no_designs(monkeypatch):
    """Fail if designs are drawn or runs start: refusals must come first."""
    _forbid(monkeypatch, morris, "sample")
    _forbid(monkeypatch, sobol, "sample")
    _forbid(monkeypatch, analysis_runs, "simulate_summary")


def _horizon(**common) -> int:
    return as_config(compose("baseline", [f"{k}={v}" for k, v in common.items()])).horizon


def test_analyze_checks_the_lever_month_against_the_horizon_once(tmp_path, capsys, no_designs):
    horizon = _horizon()
    out = tmp_path / "an"
    argv = ["morris", "--trajectories", "2", "--seeds", "1", "--out", str(out), "--quiet"]
    err = refused(analyze, [*argv, "--lever-month", str(horizon)], capsys)
    assert f"lever_month = {horizon}" in err and f"allowed 0..{horizon - 1}" in err
    assert err.count("lever_month") == 1 and len(err) < 400
    err = refused(analyze, [*argv, "--lever-month", "-1"], capsys)
    assert "lever_month = -1" in err
    err = refused(analyze, [*argv, "--set", "horizon=12", "--lever-month", "12"], capsys)
    assert "allowed 0..11" in err and "horizon set for every run" in err
    assert not out.exists()


def test_the_last_month_of_the_horizon_is_a_valid_lever_month(tmp_path):
    Settings(out=tmp_path, common={"horizon": 12}, lever_month=11).check()
    with pytest.raises(ConfigError, match="lever_month = 12: .* allowed 0..11"):
        Settings(out=tmp_path, common={"horizon": 12}, lever_month=12).space()


def test_analyze_refuses_missing_path_options_and_an_out_file(tmp_path, afile, capsys, no_designs):
    missing = tmp_path / "nonexist.csv"
    out = tmp_path / "an"
    sobol_argv = ["sobol", "--samples", "8", "--top", "2", "--out", str(out), "--quiet"]
    err = refused(analyze, [*sobol_argv, "--morris", str(missing)], capsys)
    assert f"--morris {missing}: no such file" in err
    err = refused(analyze, [*sobol_argv, "--morris", str(tmp_path)], capsys)
    assert f"--morris {tmp_path}: is not a file" in err
    err = refused(analyze, ["robust", "--policy-file", str(missing), "--out", str(out)], capsys)
    assert f"--policy-file {missing}: no such file" in err
    err = refused(analyze, ["morris", "--out", str(afile)], capsys)
    assert f"--out {afile}: is a file" in err
    assert not out.exists()


def test_sobol_refuses_a_morris_table_it_cannot_use(tmp_path, no_designs):
    settings = Settings(out=tmp_path / "out", seeds=1)
    with pytest.raises(ConfigError, match="morris = .*cannot be read"):
        sobol.run(settings, samples=8, top=2, morris=tmp_path / "nonexist.csv")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n")
    with pytest.raises(ConfigError, match="not a Morris table .*mu_star"):
        sobol.run(settings, samples=8, top=2, morris=wrong)
    assert not settings.out.exists()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["morris", "--sample-seed", "-1"], "sample_seed = -1: a whole number >= 0"),
        (["prim", "--condition", "fines > 1", "--boxes", "0"], "boxes = 0: a whole number >= 1"),
        (["morris", "--n-jobs", "0"], "n_jobs = 0: a whole number >= 1"),
        (["sobol", "--n-jobs", "-2"], "n_jobs = -2: a whole number >= 1"),
    ],
)
def test_analyze_refuses_out_of_range_numbers(argv, expected, tmp_path, capsys, no_designs):
    out = tmp_path / "an"
    assert expected in refused(analyze, [*argv, "--out", str(out), "--quiet"], capsys)
    assert not out.exists()


# ----------------------------------------------------------------- python -m sim.dashboard


@pytest.fixture
def no_server(monkeypatch):
    import solara.__main__

    _forbid(monkeypatch, solara.__main__, "cli")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--set", "foo=1"], "foo: unknown key"),
        (["--set", "customers.n=-5"], "customers.n = -5: out of range"),
        (["--set", "seed=3"], "--set seed=3: the dashboard runs seeds"),
        (["--sweep", "/does/not/exist"], "--sweep /does/not/exist: no such folder"),
        (["--port", "-5"], "--port -5: must be 1-65535, or 0 for any free port"),
        (["--port", "65536"], "--port 65536: must be 1-65535"),
        (["--scenario", "nope"], "--scenario 'nope': not one of baseline"),
    ],
)
def test_the_dashboard_refuses_bad_options_before_the_server_starts(
    argv, expected, capsys, no_server
):
    err = refused(dashboard, argv, capsys)
    assert expected in err
    assert "http://" not in capsys.readouterr().out


def test_the_dashboard_accepts_good_options(tmp_path):
    argv = ["--port", "0", "--sweep", str(tmp_path), "--set", "customers.n=150"]
    assert option_problem(build_parser().parse_args(argv)) is None
    assert option_problem(build_parser().parse_args(["--port", "65535"])) is None


# ----------------------------------------------------------------- the comparison report


def _aggregate(groups: dict[str, str]) -> Aggregate:
    """Three seeds of each group (label to kind), with no model runs."""
    runs = pd.DataFrame(
        [
            {
                "run": f"{i}/{seed}",
                "status": "ok",
                "scenario": label,
                "scenario_kind": kind,
                "seed": seed,
                "gap_closed_months_final": 1.0 + seed - i,
                "fines": 1.0 + seed + i,
            }
            for i, (label, kind) in enumerate(groups.items())
            for seed in range(3)
        ]
    )
    return Aggregate.in_memory(runs, pd.DataFrame())


def test_group_labels_with_commas_are_quoted_in_the_summary():
    base, moved = "baseline, x=0.5", "baseline, x=0.9"
    table = figures.headline_table(_aggregate({base: "reference", moved: "policy"}))
    text = "".join(report.summary_html(table, None))
    assert f"against \u201c{base}\u201d" in text
    assert f"<b>\u201c{moved}\u201d</b>" in text
    assert f"against {base}," not in text


def test_a_report_of_one_group_says_there_is_no_reference(tmp_path):
    agg = _aggregate({"baseline": "reference"})
    headline = figures.headline_table(agg)
    path = report.write_report(tmp_path / "r.html", "t", agg.runs, [], headline, "", [])
    text = path.read_text(encoding="utf-8")
    assert "reference: None" not in text
    assert "3 runs in 1 group; no reference group (one group only)" in text
