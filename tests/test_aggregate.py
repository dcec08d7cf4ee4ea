"""Aggregation and comparison on awkward inputs: lists, mixed grids, repeated seeds, damaged
folders, links, duplicates, mixed sizes, labels with dollars, unchanged inputs."""

from __future__ import annotations

import json
import logging
import shutil

import pandas as pd
import pytest

from sim import run
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


@pytest.mark.slow
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


# ------------------------------------------------------------------ damaged and awkward inputs


def _corrupt(folder, name: str, content: bytes) -> None:
    (folder / name).write_bytes(content)


@pytest.mark.slow
def test_unreadable_run_folders_are_listed_and_skipped(tmp_path):
    job(tmp_path / "good", "seed=0")
    damage = {
        "not_an_object": ("summary.json", b"[1, 2, 3]"),
        "keys_missing": ("summary.json", b"{}"),
        "bad_bytes": ("summary.json", b'{"seed": 1, "scenario": "\xff\xfe"}'),
        "not_a_number": ("summary.json", None),
        "garbage_csv": ("timeseries.csv", b"\x00\x01\x02 garbage\n\x03,\x04\n"),
        "truncated_csv": ("timeseries.csv", None),
        "status_not_an_object": ("status.json", b"42"),
    }
    for seed, (name, (file, content)) in enumerate(damage.items(), start=1):
        folder = tmp_path / name
        job(folder, f"seed={seed}")
        if name == "not_a_number":
            summary = json.loads((folder / file).read_text())
            content = json.dumps({**summary, "china_spend_foreign": "lots"}).encode()
        if name == "truncated_csv":
            content = b"".join((folder / file).read_bytes().splitlines(keepends=True)[:3])
        _corrupt(folder, file, content)
    agg = aggregate([tmp_path])
    reasons = agg.skipped.set_index("run")["reason"].to_dict()
    assert set(reasons) == set(damage)
    assert "not a JSON object" in reasons["not_an_object"]
    assert "has no 'seed'" in reasons["keys_missing"]
    assert "not UTF-8" in reasons["bad_bytes"]
    assert "china_spend_foreign = 'lots' is not a number" in reasons["not_a_number"]
    assert "timeseries.csv" in reasons["garbage_csv"]
    assert "2 rows, the run's horizon is 6 months" in reasons["truncated_csv"]
    assert "status.json is not a JSON object" in reasons["status_not_an_object"]
    runs = agg.runs.set_index("run")
    assert runs.loc["good", "status"] == "ok"
    assert (runs.drop(index="good")["status"] == "unreadable").all()
    assert set(agg.timeseries["run"]) == {"good"}
    assert any("7 run folders could not be read" in w for w in agg.warnings)
    out = compare([tmp_path], tmp_path / "cmp")
    assert out.report.exists() and "fan_charts" in out.figures
    assert "not a JSON object" in out.report.read_text()


def test_links_out_of_a_run_folder_are_not_followed(tmp_path):
    inside, outside = tmp_path / "inside", tmp_path / "outside"
    job(inside / "own", "seed=0")
    job(outside / "secret", "seed=5")
    linked = inside / "linked"
    linked.mkdir()
    for name in ("status.json", "summary.json", "timeseries.csv"):
        (linked / name).symlink_to(outside / "secret" / name)
    (inside / "folder_link").symlink_to(outside / "secret", target_is_directory=True)
    agg = aggregate([inside])
    reasons = agg.skipped.set_index("run")["reason"].to_dict()
    assert "outside its run folder" in reasons["linked"]
    assert "not followed" in reasons["folder_link"]
    ok = agg.runs[agg.runs["status"] == "ok"]
    assert list(ok["run"]) == ["own"] and 5 not in set(agg.timeseries["seed"])


def test_duplicate_runs_are_counted_once_with_a_warning(tmp_path):
    job(tmp_path / "a" / "base", "seed=0")
    job(tmp_path / "a" / "leaky", "scenario=leaky_safeguards", "seed=0")
    shutil.copytree(tmp_path / "a" / "base", tmp_path / "copy" / "base")
    agg = aggregate([tmp_path / "a", tmp_path / "copy", tmp_path / "a"])
    statuses = agg.runs.set_index("run")["status"].to_dict()
    assert sorted(statuses.values()) == ["duplicate", "ok", "ok"]
    assert agg.duplicates[["run", "same_as"]].values.tolist() == [["copy/base", "a/base"]]
    assert any("counted once" in w for w in agg.warnings)
    assert any("given more than once" in w for w in agg.warnings)
    assert len(agg.timeseries) == 2 * 6
    table = headline_table(agg)
    base = table[(table["group"] == "baseline") & (table["metric"] == "china_spend_foreign")]
    assert base["n"].item() == 1


def test_pooling_different_sizes_and_horizons_is_warned(tmp_path):
    for n, horizon in ((100, 6), (120, 6), (100, 4)):
        run(
            overrides=[f"customers.n={n}", "international.n=10", f"horizon={horizon}", "seed=0"],
            output_dir=tmp_path / f"n{n}_h{horizon}",
            plots=False,
        )
    agg = aggregate([tmp_path])
    assert agg.pooled["customers_n"] == [100, 120] and agg.pooled["horizon"] == [4, 6]
    sizes = next(w for w in agg.warnings if "population sizes" in w)
    assert "100 (2 runs), 120 (1 runs)" in sizes and "pooled within the groups baseline" in sizes
    assert any("different horizons" in w for w in agg.warnings)
    job(tmp_path / "alone", "seed=9")
    assert not aggregate([tmp_path / "alone"]).warnings


@pytest.mark.slow
def test_labels_with_dollars_never_break_figures_or_the_report(tmp_path):
    label = "cost $x^{2$ and $5"
    job(tmp_path / "dollar", f"scenario.description='{label}'", "seed=0")
    job(tmp_path / "plain", "scenario.description=plain", "seed=0")
    job(tmp_path / "base", "seed=0")
    out = compare([tmp_path], tmp_path / "cmp")
    assert {"fan_charts", "differences", "tradeoffs"} <= set(out.figures)
    assert not [w for w in out.aggregate.warnings if "could not be drawn" in w]
    assert label in set(out.aggregate.runs["scenario.description"].dropna())
    report = out.report.read_text()
    assert "cost $x^{2$ and $5" in report and "\\$" not in report


@pytest.mark.slow
def test_a_comparison_is_not_redone_when_nothing_changed(tmp_path):
    job(tmp_path / "runs" / "a", "seed=0")
    job(tmp_path / "runs" / "b", "scenario=leaky_safeguards", "seed=0")
    first = compare([tmp_path / "runs"], tmp_path / "cmp")
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "cmp").iterdir()}
    again = compare([tmp_path / "runs"], tmp_path / "cmp")
    assert not first.up_to_date and again.up_to_date
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "cmp").iterdir()} == stamps
    assert again.aggregate.runs["run"].tolist() == first.aggregate.runs["run"].tolist()
    assert len(again.aggregate.timeseries) == len(first.aggregate.timeseries)
    job(tmp_path / "runs" / "c", "seed=1")
    third = compare([tmp_path / "runs"], tmp_path / "cmp")
    assert not third.up_to_date and len(third.aggregate.runs) == 3


def test_streamed_tables_equal_the_in_memory_table(tmp_path):
    for seed in range(3):
        job(tmp_path / "runs" / f"s{seed}", f"seed={seed}", "us.rule_level=0.5")
    job(tmp_path / "runs" / "refused", "customers.n=-1")
    memory = aggregate([tmp_path / "runs"])
    stored = aggregate([tmp_path / "runs"], store=tmp_path / "store")
    assert stored._timeseries is None  # nothing loaded until used
    pd.testing.assert_frame_equal(stored.timeseries, memory.timeseries)
    from_csv = pd.read_csv(tmp_path / "store" / "timeseries.csv")
    assert from_csv.shape == memory.timeseries.shape
    assert (from_csv["china_spend_foreign"] == memory.timeseries["china_spend_foreign"]).all()
    narrow = stored.timeseries_columns(["violations"])
    assert list(narrow.columns) == [
        "run",
        "scenario",
        "seed",
        "customers.n",
        "us.rule_level",
        "month",
        "violations",
    ]
    assert not list((tmp_path / "store").glob(".*"))


# ------------------------------------------------------------------ one Parquet file per job


def batch(job_dir, seeds, *overrides: str):
    """A sweep job running ``seeds`` of one config, as the sweeper launches it."""
    from sim.sweep.jobs import run_replications

    return run_replications(
        compose(None, [*BASE, *overrides, f"seed={seeds[0]}"]),
        job_dir,
        [*overrides, f"seed={seeds[0]}"],
        seeds,
        log=LOG,
    )


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["run", "month"]).reset_index(drop=True)


def test_a_job_writes_one_parquet_file_that_aggregation_reads(tmp_path, monkeypatch):
    from sim.sweep import long_table
    from sim.sweep.job_part import PART_FILE

    sweep = tmp_path / "sweep"
    batch(sweep / "cfg" / "seed=0", [0, 1, 2])
    batch(sweep / "cfg" / "seed=3", [3, 4])
    assert sorted(p.parent.name for p in sweep.rglob(PART_FILE)) == ["seed=0", "seed=3"]
    calls = []
    monkeypatch.setattr(
        long_table, "_read_csv", lambda *a, **k: calls.append(a) or pytest.fail("read a CSV")
    )
    from_parts = aggregate([sweep])
    assert not calls and len(from_parts.runs) == 5 and (from_parts.runs["status"] == "ok").all()
    monkeypatch.undo()
    for part in sweep.rglob(PART_FILE):
        part.unlink()
    from_folders = aggregate([sweep])
    pd.testing.assert_frame_equal(from_parts.runs, from_folders.runs)
    pd.testing.assert_frame_equal(_sorted(from_parts.timeseries), _sorted(from_folders.timeseries))


def test_a_run_changed_after_its_job_is_read_from_its_folder(tmp_path):
    sweep = tmp_path / "sweep"
    batch(sweep / "cfg" / "seed=0", [0, 1])
    rerun = sweep / "cfg" / "seed=1"
    summary = json.loads((rerun / "summary.json").read_text())
    (rerun / "summary.json").write_text(json.dumps({**summary, "violations": 123456}))
    series = pd.read_csv(rerun / "timeseries.csv")
    series["violations"] = 7.0
    series.to_csv(rerun / "timeseries.csv", index=False)
    agg = aggregate([sweep])
    runs = agg.runs.set_index("run")
    assert runs.loc["cfg/seed=1", "violations"] == 123456
    assert runs.loc["cfg/seed=0", "violations"] != 123456
    ts = agg.timeseries
    assert (ts.loc[ts["run"] == "cfg/seed=1", "violations"] == 7.0).all()


def test_a_damaged_or_hostile_part_is_ignored(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.sweep.job_part import META_KEY, PART_FILE

    sweep = tmp_path / "sweep"
    batch(sweep / "a" / "seed=0", [0, 1])
    batch(sweep / "b" / "seed=0", [0])
    reference = aggregate([sweep])
    (sweep / "a" / "seed=0" / PART_FILE).write_bytes(b"PAR1 not really parquet")
    outside = tmp_path / "elsewhere"
    job(outside, "seed=9")
    hostile = [
        {
            "folder": "../../elsewhere",
            "files": {},
            "status": (outside / "status.json").read_text(),
            "summary": (outside / "summary.json").read_text(),
            "offset": 0,
            "rows": 0,
        }
    ]
    table = pa.table({"month": pa.array([], pa.int64())}).replace_schema_metadata(
        {META_KEY: json.dumps(hostile).encode()}
    )
    pq.write_table(table, sweep / "b" / "seed=0" / PART_FILE)
    agg = aggregate([sweep])
    pd.testing.assert_frame_equal(agg.runs, reference.runs)
    pd.testing.assert_frame_equal(_sorted(agg.timeseries), _sorted(reference.timeseries))
    assert 9 not in set(agg.runs["seed"])
