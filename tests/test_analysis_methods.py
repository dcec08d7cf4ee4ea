"""Morris, Sobol, PRIM and robustness at small size, and the python -m sim.analyze command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import run_many
from sim.analysis import morris, prim, robust, sobol
from sim.analysis import runs as runs_module
from sim.analysis.cli import main
from sim.analysis.experiment import Settings
from sim.validate import ConfigError

#: A year from 2026-10, so the scenarios' January 2027 events fall inside the run.
SMALL = {"customers.n": 120, "international.n": 20, "start": "2026-10", "horizon": 12}
TWO_WAY = "us.two_way_restriction@0"


@pytest.fixture
def no_runs(monkeypatch):
    """Fail the test if any simulation starts."""

    def refuse(*args, **kwargs):
        raise AssertionError("a run started although the input should have been refused")

    monkeypatch.setattr(runs_module, "simulate_summary", refuse)


def settings(tmp_path, **kw) -> Settings:
    base = {"out": tmp_path / "out", "common": SMALL, "seeds": [0, 1]}
    return Settings(**{**base, **kw})


@pytest.mark.slow
def test_morris_ranks_factors_and_gives_exactly_zero_effect_where_a_factor_cannot_act(tmp_path):
    s = settings(tmp_path, outcomes=["china_spend_foreign", "revenue_two_way"])
    result = morris.run(
        s, trajectories=3, factors=[TWO_WAY, "demand.price_weight", "cn.localisation@0"]
    )
    table = pd.read_csv(s.out / "morris.csv")
    assert list(table.columns[:5]) == ["parameter", "outcome", "mu_star", "mu_star_conf", "sigma"]
    assert len(table) == 6 and len(result.runs) == 3 * 4 * 2
    effect = table.set_index(["parameter", "outcome"])["mu_star"]
    # Two-way restriction only bars international buyers: with common random numbers its
    # elementary effect on Chinese spend is exactly zero, and on two-way revenue it is not.
    assert effect[(TWO_WAY, "china_spend_foreign")] == 0.0
    assert effect[(TWO_WAY, "revenue_two_way")] > 0
    assert effect[("demand.price_weight", "china_spend_foreign")] > 0
    for key in ("china_spend_foreign", "revenue_two_way"):
        ranked = table[table["outcome"] == key].sort_values("rank")
        assert ranked["mu_star"].is_monotonic_decreasing
    for key in ("china_spend_foreign", "revenue_two_way"):
        assert (s.out / f"morris_{key}.png").stat().st_size > 0
    assert (s.out / "morris_design.csv").is_file() and (s.out / "morris_settings.json").is_file()
    again = morris.run(
        s, trajectories=3, factors=[TWO_WAY, "demand.price_weight", "cn.localisation@0"]
    )
    assert again.runs.attrs["computed"] == 0
    pd.testing.assert_frame_equal(again.table, result.table)


@pytest.mark.slow
def test_sobol_indices_converge_and_a_factor_without_effect_has_zero_total_index(tmp_path):
    s = settings(tmp_path, seeds=[0], outcomes=["china_spend_foreign"])
    result = sobol.run(s, samples=8, params=[TWO_WAY, "demand.price_weight"])
    table = pd.read_csv(s.out / "sobol.csv").set_index("parameter")
    assert list(pd.read_csv(s.out / "sobol.csv").columns[:6]) == [
        "parameter",
        "outcome",
        "S1",
        "S1_conf",
        "ST",
        "ST_conf",
    ]
    assert table.loc[TWO_WAY, "ST"] == 0.0
    assert table.loc["demand.price_weight", "ST"] > 0.5
    assert sorted(result.convergence["n"].unique()) == [4, 8]
    assert (s.out / "sobol_convergence.png").stat().st_size > 0
    assert len(result.runs) == 8 * (2 + 2)


def test_sobol_refuses_a_sample_size_that_is_not_a_power_of_two(tmp_path, no_runs):
    with pytest.raises(ConfigError, match="power of two"):
        sobol.run(settings(tmp_path), samples=12, params=[TWO_WAY, "demand.price_weight"])
    with pytest.raises(ConfigError, match="unknown factor"):
        sobol.run(settings(tmp_path), samples=8, params=["nope", "demand.price_weight"])


def test_top_factors_take_each_parameters_best_relative_rank():
    table = pd.DataFrame(
        {
            "parameter": ["a", "b", "c", "a", "b", "c"],
            "outcome": ["x", "x", "x", "y", "y", "y"],
            "mu_star": [10.0, 5.0, 1.0, 0.1, 0.2, 1.0],
        }
    )
    assert sobol.top_factors(table, 2) == ["a", "c"]
    assert sobol.top_factors(table, 1, ["y"]) == ["c"]


@pytest.mark.slow
def test_prim_finds_the_region_of_the_lever_that_causes_the_condition(tmp_path):
    reference = run_many([{TWO_WAY: 0.5}], seeds=[0], common=SMALL).loc[0, "revenue_two_way"]
    s = settings(tmp_path, seeds=[0])
    result = prim.run(
        s,
        condition=f"revenue_two_way < {reference}",
        samples=30,
        factors=[TWO_WAY, "demand.price_weight"],
        boxes=1,
    )
    box = result.boxes.set_index("parameter")
    sample = pd.read_csv(s.out / "prim_sample.csv")
    base_rate = sample["of_interest"].mean()
    # Barring more international buyers lowers two-way revenue: the box must cut off the
    # low end of the lever's range and be denser in cases of interest than the sample.
    assert TWO_WAY in box.index
    assert box.loc[TWO_WAY, "min"] > box.loc[TWO_WAY, "range_min"] + 0.2
    assert box.loc[TWO_WAY, "density"] > base_rate + 0.1
    assert box.loc[TWO_WAY, "coverage"] >= 0.7
    assert sample["of_interest"].tolist() == (sample["revenue_two_way"] < reference).tolist()
    trajectory = pd.read_csv(s.out / "prim_trajectory.csv")
    assert trajectory["selected"].sum() == 1
    assert (s.out / "prim_trajectory_1.png").is_file() and (s.out / "prim_box_1.png").is_file()


def test_prim_refuses_bad_conditions_before_any_run(tmp_path, no_runs):
    for condition, expected in [
        ("gap_months > 2", "unknown outcome 'gap_months'"),
        ("revenue_two_way >", "malformed expression"),
    ]:
        with pytest.raises(ConfigError, match=expected):
            prim.run(settings(tmp_path), condition=condition, samples=20)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_robust_compares_policies_world_by_world(tmp_path):
    policy_file = tmp_path / "policies.yaml"
    policy_file.write_text(
        "tight_audits: {scenario: baseline, us.audit_prob: 0.25, us.rule_level@0: 0.3}\n",
        encoding="utf-8",
    )
    s = settings(tmp_path, seeds=[0], outcomes=["revenue_intermediary", "gap_closed_months_final"])
    result = robust.run(
        s,
        policies=["baseline", "reseller_evasion", "tight_audits"],
        policy_file=policy_file,
        samples=10,
        factors=["demand.price_weight", "customers.evade_propensity", "us.audit_prob"],
        satisfice=["gap_closed_months_final < 0.05"],
    )
    values = result.outcomes
    assert values.groupby("policy").size().tolist() == [10, 10, 10]
    for key, sign in (("revenue_intermediary", 1), ("gap_closed_months_final", -1)):
        regret = robust.regrets(values, key, sign)
        assert (regret >= 0).all()
        assert (regret.groupby(values["world"]).min() == 0).all()
        stats = result.table[result.table["outcome"] == key].set_index("policy")
        for name, group in regret.groupby(values["policy"]):
            assert stats.loc[name, "max_regret"] == pytest.approx(group.max())
    met = (values["gap_closed_months_final"] < 0.05).groupby(values["policy"]).mean()
    verdicts = result.policies.set_index("policy")
    for name in met.index:
        assert verdicts.loc[name, "satisficing: gap_closed_months_final < 0.05"] == pytest.approx(
            met[name]
        )
    assert verdicts["non_dominated"].any()
    runs = pd.read_csv(s.out / "runs" / "runs.csv")
    worlds = pd.read_csv(s.out / "robust_design.csv")
    for design in runs["design"].unique():
        row = runs[runs["design"] == design].iloc[0]
        world = worlds.iloc[design % 10]
        policy = ["baseline", "reseller_evasion", "tight_audits"][design // 10]
        assert row["scenario"] == (
            "reseller_evasion" if policy == "reseller_evasion" else "baseline"
        )
        assert row["demand.price_weight"] == pytest.approx(world["demand.price_weight"])
        # A policy's own settings win over the world's draw: the scenario file of
        # reseller_evasion fixes the evasion propensity, the policy file the audit rate.
        if policy == "reseller_evasion":
            assert np.isnan(row["customers.evade_propensity"])
        else:
            assert row["customers.evade_propensity"] == pytest.approx(
                world["customers.evade_propensity"]
            )
        expected = 0.25 if policy == "tight_audits" else world["us.audit_prob"]
        assert row["us.audit_prob"] == pytest.approx(expected)
    assert (s.out / "robust.png").is_file() and (s.out / "robust_satisficing.png").is_file()


def test_non_dominated_keeps_rows_no_other_row_beats_everywhere():
    scores = np.array([[1.0, 1.0], [2.0, 0.0], [0.5, 0.5], [2.0, 1.0]])
    assert robust.non_dominated(scores).tolist() == [False, False, False, True]
    scores = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    assert robust.non_dominated(scores).tolist() == [True, True, True]


def test_robust_refuses_unknown_policies_and_bad_conditions_before_any_run(tmp_path, no_runs):
    with pytest.raises(ConfigError, match="unknown policies \\['nope'\\]"):
        robust.run(settings(tmp_path), policies=["baseline", "nope"], samples=10)
    with pytest.raises(ConfigError, match="unknown outcome"):
        robust.run(settings(tmp_path), policies=["baseline"], samples=10, satisfice=["x < 1"])
    assert not (tmp_path / "out").exists()


def test_the_command_line_refuses_bad_input_with_exit_code_2(tmp_path, capsys, no_runs):
    out = tmp_path / "cli"
    cases = [
        (["prim", "--condition", "gap > 2"], "unknown outcome 'gap'"),
        (["prim", "--condition", "fines > 2 and"], "malformed expression"),
        (["morris", "--set", "customrs.n=100"], "did you mean customers.n"),
        (["morris", "--set", "customers.n=abc"], "takes a whole number"),
        (["morris", "--factors", "nope"], "unknown factor"),
        (["morris", "--seeds", "a,b"], "--seeds 'a,b'"),
        (["sobol", "--samples", "64"], "name the parameters"),
    ]
    for argv, expected in cases:
        assert main([*argv, "--out", str(out), "--quiet"]) == 2
        assert expected in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_the_command_line_runs_morris_and_resumes_without_rerunning(tmp_path, monkeypatch):
    out = tmp_path / "cli"
    argv = [
        "morris",
        "--trajectories",
        "2",
        "--seeds",
        "1",
        "--factors",
        f"{TWO_WAY},demand.price_weight",
        "--outcomes",
        "revenue_two_way",
        "--set",
        "customers.n=100",
        "--set",
        "international.n=20",
        "--set",
        "horizon=6",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(argv) == 0
    first = pd.read_csv(out / "morris.csv")
    assert set(first["parameter"]) == {TWO_WAY, "demand.price_weight"}
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Morris screening" in report and report.count("data:image/png;base64") == 1
    assert 'data-table="morris-revenue_two_way"' in report

    def refuse(*args, **kwargs):
        raise AssertionError("a finished run was computed again")

    monkeypatch.setattr(runs_module, "simulate_summary", refuse)
    assert main(argv) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / "morris.csv"), first)


def test_confidence_intervals_are_reproducible_whatever_the_global_random_state():
    from sim.analysis.experiment import bootstrap_seed
    from sim.analysis.space import REAL, UNCERTAINTY, Factor

    factors = [Factor(k, UNCERTAINTY, REAL) for k in ("a", "b", "c")]
    seed = bootstrap_seed(0)
    unit = sobol.sample(factors, 16, 0)
    means = pd.DataFrame({"fines": unit[:, 0] * 3 + unit[:, 1] ** 2})
    np.random.seed(1)  # noqa: NPY002 - the legacy global state SALib falls back on
    first = sobol.analyse(factors, means, 16, seed)[0]
    np.random.seed(2)  # noqa: NPY002 - the legacy global state SALib falls back on
    second = sobol.analyse(factors, means, 16, seed)[0]
    pd.testing.assert_frame_equal(first, second)
    assert first.set_index("parameter").loc["c", "ST"] == 0.0
    unit = morris.sample(factors, 4, 4, 0)
    means = pd.DataFrame({"fines": unit[:, 0] * 3 + unit[:, 1] ** 2})
    np.random.seed(1)  # noqa: NPY002 - the legacy global state SALib falls back on
    first = morris.analyse(factors, unit, means, 4, seed)[0]
    np.random.seed(2)  # noqa: NPY002 - the legacy global state SALib falls back on
    pd.testing.assert_frame_equal(first, morris.analyse(factors, unit, means, 4, seed)[0])
    assert first.set_index("parameter").loc["a", "rank"] == 1
