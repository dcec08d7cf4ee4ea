"""sim.run_many: plain dicts in, one tidy row per design and seed out; checked, paired, resumable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim import ConfigError, run, run_many
from sim.analysis import runs as runs_module
from sim.analysis.runs import Runner, design_means
from sim.metrics import SUMMARY_KEYS

#: A year from 2026-10, so the scenarios' January 2027 events fall inside the run.
SMALL = {"customers.n": 120, "international.n": 20, "start": "2026-10", "horizon": 12}
SMALL_OVERRIDES = ["customers.n=120", "international.n=20", "start=2026-10", "horizon=12"]


@pytest.fixture
def no_runs(monkeypatch):
    """Fail the test if any simulation starts."""

    def refuse(*args, **kwargs):
        raise AssertionError("a run started although the input should have been refused")

    monkeypatch.setattr(runs_module, "simulate_summary", refuse)


def test_one_row_per_design_and_seed_with_values_and_every_summary_key():
    table = run_many(
        [{"demand.price_weight": 0.4}, {"demand.price_weight": 0.9, "us.rule_level@3": 0.5}],
        seeds=[4, 7],
        common=SMALL,
    )
    assert list(table[["design", "seed"]].itertuples(index=False, name=None)) == [
        (0, 4),
        (0, 7),
        (1, 4),
        (1, 7),
    ]
    assert list(table.columns[:3]) == ["design", "scenario", "seed"]
    assert set(SUMMARY_KEYS) <= set(table.columns)
    assert (table["status"] == "ok").all()
    assert table["demand.price_weight"].tolist() == [0.4, 0.4, 0.9, 0.9]
    assert table["us.rule_level@3"].isna().tolist() == [True, True, False, False]
    assert table["customers.n"].eq(120).all() and table["customers_n"].eq(120).all()


def test_a_design_gives_the_same_numbers_as_sim_run():
    table = run_many([{"demand.price_weight": 0.8}], seeds=[3], common=SMALL)
    direct = run(overrides=[*SMALL_OVERRIDES, "demand.price_weight=0.8", "seed=3"]).summary
    for key in SUMMARY_KEYS:
        assert table.loc[0, key] == pytest.approx(direct[key], rel=0, abs=0, nan_ok=True), key


def test_numpy_values_are_accepted_and_stored_as_python_values():
    designs = [
        {
            "demand.price_weight": np.float64(0.7),
            "customers.n": np.int64(100),
            "intermediary.adaptive@0": np.bool_(False),
            "us.restricted_sectors@2": np.array(["platform"]),
            "us.rule_level@1": np.float32(0.25),
        }
    ]
    prepared = Runner(common=SMALL).prepare(designs)[0]
    assert prepared.values["demand.price_weight"] == 0.7
    assert type(prepared.values["demand.price_weight"]) is float
    assert type(prepared.values["customers.n"]) is int
    assert prepared.config.customers.n == 100
    events = {e.lever: e.value for e in prepared.config.scenario.events}
    assert events["intermediary.adaptive"] is False
    assert list(events["us.restricted_sectors"]) == ["platform"]
    assert events["us.rule_level"] == pytest.approx(0.25)
    table = run_many(designs, seeds=1, common=SMALL)
    assert table.loc[0, "status"] == "ok"
    assert table.loc[0, "us.restricted_sectors@2"] == "[platform]"


def test_a_lever_event_at_month_zero_equals_the_parameter_and_later_months_differ():
    table = run_many(
        [{"us.rule_level": 0.6}, {"us.rule_level@0": 0.6}, {"us.rule_level@6": 0.6}],
        seeds=[1],
        common=SMALL,
    )
    keys = ["china_spend_foreign", "violations", "revenue_domestic", "gap_closed_months_final"]
    assert table.loc[0, keys].tolist() == table.loc[1, keys].tolist()
    assert table.loc[2, "china_spend_foreign"] > table.loc[1, "china_spend_foreign"]


def test_every_design_runs_with_the_same_seeds():
    table = run_many(
        [{"demand.price_weight": 0.5}, {"demand.price_weight": 0.5}], seeds=3, common=SMALL
    )
    first, second = (table[table["design"] == d] for d in (0, 1))
    assert first["seed"].tolist() == second["seed"].tolist() == [0, 1, 2]
    pd.testing.assert_series_equal(
        first["revenue_intermediary"].reset_index(drop=True),
        second["revenue_intermediary"].reset_index(drop=True),
    )
    assert first["revenue_intermediary"].nunique() == 3


@pytest.mark.parametrize(
    ("design", "expected"),
    [
        ({"demand.price_wieght": 1.0}, "demand.price_wieght = 1.0: unknown parameter"),
        ({"demand.price_wieght": 1.0}, "did you mean demand.price_weight"),
        ({"demand.price_weight": "0.5"}, "demand.price_weight = '0.5': takes a number"),
        ({"customers.n": 2.5}, "customers.n = 2.5: takes a whole number"),
        ({"customers.n": True}, "customers.n = True: takes a whole number"),
        ({"intermediaries.azure.adaptive": 1}, "takes true or false"),
        ({"us.rule_level": 1.5}, "us.rule_level = 1.5: out of range, allowed [0, 1]"),
        ({"demand.price_weight": float("nan")}, "must be a finite number"),
        ({"us.rule_level@3": 1.5}, "out of range for lever us.rule_level"),
        ({"us.rule_level@30": 0.5}, "month 30 is outside the horizon"),
        ({"us.rule_levl@3": 0.5}, "unknown lever 'us.rule_levl'"),
        ({"us.rule_level@x": 0.5}, "the month after '@' must be a whole number"),
        ({"us.rule_level@3": True}, "lever us.rule_level takes a number"),
        ({"us.restricted_sectors@3": ["platfrm"]}, "unknown sector 'platfrm'"),
        ({"seed": 3}, "seeds are not part of a design"),
        ({"scenario": "no_such_scenario"}, "scenario = 'no_such_scenario'"),
        ({"customers": 3}, "is a group of parameters"),
    ],
)
def test_bad_designs_are_refused_before_any_run_naming_key_and_value(
    design, expected, no_runs, tmp_path
):
    with pytest.raises(ConfigError) as info:
        run_many([{"demand.price_weight": 0.5}, design], common=SMALL, folder=tmp_path / "f")
    message = str(info.value)
    assert expected in message
    assert "design 1:" in message and "nothing was run" in message
    assert not (tmp_path / "f").exists()


def test_all_problems_are_listed_and_repeated_ones_grouped(no_runs):
    designs = [{"us.rule_level": 2.0}] * 4 + [{"demand.price_wight": 1}]
    with pytest.raises(ConfigError) as info:
        run_many(designs, common=SMALL)
    message = str(info.value)
    assert "5 of 5 design(s) refused" in message
    assert "designs 0-3: us.rule_level = 2.0" in message
    assert "design 4: demand.price_wight" in message


def test_bad_shared_settings_and_seeds_are_refused(no_runs):
    with pytest.raises(ConfigError, match="settings for every design refused.*customrs.n"):
        run_many([{}], common={"customrs.n": 100})
    with pytest.raises(ConfigError, match="each seed may appear only once"):
        run_many([{}], seeds=[1, 1], common=SMALL)
    with pytest.raises(ConfigError, match="not whole numbers"):
        run_many([{}], seeds=[0.5], common=SMALL)
    with pytest.raises(ConfigError, match="a list of dicts"):
        run_many({"demand.price_weight": 0.5}, common=SMALL)
    with pytest.raises(ConfigError, match="n_jobs"):
        run_many([{}], n_jobs=0, common=SMALL)


def test_resume_computes_only_missing_runs_and_returns_the_same_numbers(tmp_path):
    folder = tmp_path / "runs"
    designs = [{"demand.price_weight": w} for w in (0.4, 0.6, 0.8)]
    first = run_many(designs[:2], seeds=2, common=SMALL, folder=folder)
    assert first.attrs["computed"] == 4
    assert (folder / "runs.csv").is_file()
    again = run_many(designs, seeds=2, common=SMALL, folder=folder)
    assert again.attrs["computed"] == 2
    fresh = run_many(designs, seeds=2, common=SMALL)
    cols = [c for c in fresh.columns if c != "seconds"]
    pd.testing.assert_frame_equal(again[cols], fresh[cols])


def test_an_interrupted_batch_keeps_finished_runs_and_a_rerun_computes_only_the_rest(
    tmp_path, monkeypatch
):
    folder = tmp_path / "runs"
    designs = [{"demand.price_weight": w} for w in (0.4, 0.6, 0.8)]
    real = runs_module.simulate_summary
    calls = []

    def interrupted(config, seed):
        if len(calls) == 4:
            raise KeyboardInterrupt
        calls.append(seed)
        return real(config, seed)

    monkeypatch.setattr(runs_module, "simulate_summary", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_many(designs, seeds=2, common=SMALL, folder=folder)
    assert len(list((folder / "cache").glob("*.json"))) == 4
    assert not (folder / "runs.csv").exists()
    monkeypatch.setattr(runs_module, "simulate_summary", real)
    table = run_many(designs, seeds=2, common=SMALL, folder=folder)
    assert table.attrs["computed"] == 2
    assert (table["status"] == "ok").all()


def test_a_failing_run_is_recorded_not_cached_and_stops_the_analysis(tmp_path, monkeypatch):
    import sim.runner

    real = sim.runner.simulate

    def flaky(config, progress=False):
        if config.seed == 1:
            raise RuntimeError("boom")
        return real(config, progress)

    monkeypatch.setattr(sim.runner, "simulate", flaky)
    folder = tmp_path / "runs"
    table = run_many([{}], seeds=2, common=SMALL, folder=folder)
    assert table["status"].tolist() == ["ok", "failed"]
    assert "RuntimeError: boom" in table.loc[1, "error"]
    assert len(list((folder / "cache").glob("*.json"))) == 1
    with pytest.raises(RuntimeError, match="1 run\\(s\\) failed.*seed 1.*boom"):
        design_means(table, ["fines"])
    monkeypatch.setattr(sim.runner, "simulate", real)
    assert run_many([{}], seeds=2, common=SMALL, folder=folder).attrs["computed"] == 1


@pytest.mark.slow
def test_results_are_identical_with_one_or_two_worker_processes():
    designs = [
        {"demand.price_weight": 0.5, "us.rule_level@2": 0.3},
        {"demand.price_weight": 1.0, "intermediary.adaptive@0": False},
        {"scenario": "strict_safeguards"},
    ]
    one = run_many(designs, seeds=[0, 5], common=SMALL, n_jobs=1)
    two = run_many(designs, seeds=[0, 5], common=SMALL, n_jobs=2)
    cols = [c for c in one.columns if c != "seconds"]
    pd.testing.assert_frame_equal(one[cols], two[cols])


def test_run_many_is_exported_from_the_package():
    assert "run_many" in sim.__all__ and sim.run_many is run_many
