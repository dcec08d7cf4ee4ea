"""The scenario library: every scenario loads, moves outcomes as its file says, and bad
scenario files are refused naming the file and the key."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from paired import paired_effect

from sim import run
from sim.calendar import month_index
from sim.config import as_config, compose
from sim.paths import SCENARIO_DIR
from sim.validate import ConfigError

LIBRARY = {
    "baseline",
    "tightened_export_rules",
    "leaky_safeguards",
    "strict_safeguards",
    "china_data_localization",
    "domestic_catch_up",
    "reseller_evasion",
    "decoupling",
    "two_way_scrutiny",
    "closed_channel",
    "endogenous_politics",
    "extraction_surge",
    "history_2024_2026",
}
REFERENCES = {"baseline", "history_2024_2026"}
SEEDS = range(10)  # as in the catalogue; endogenous_politics moves in about half the runs
SCENARIOS = sorted(LIBRARY - REFERENCES)


def _file(name: str) -> dict:
    return yaml.safe_load((SCENARIO_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


def test_the_library_is_complete():
    assert {p.stem for p in SCENARIO_DIR.glob("*.yaml")} >= LIBRARY


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_each_scenario_documents_itself_and_validates(name):
    text = _file(name)["scenario"]
    assert text["name"] == name
    assert len(text["description"]) > 40 and text["question"].endswith("?")
    cfg = as_config(compose(name))
    assert cfg.scenario.name == name
    assert (cfg.scenario.kind == "reference") == (name in REFERENCES)
    if name not in REFERENCES:
        assert cfg.scenario.expect, "a scenario says which outcomes it should move"
        assert "tests/test_chains.py" in cfg.scenario.why, "a scenario explains its chains"
        assert set(cfg.scenario.expect.values()) <= {"higher", "lower"}


@pytest.mark.slow
@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_moves_outcomes_as_expected_against_baseline(name):
    """Every expected direction holds with a paired 95% interval that excludes zero."""
    expect = _file(name)["scenario"]["expect"]
    for key, direction in expect.items():
        mean, lo, hi = paired_effect(key, name, SEEDS)
        if direction == "higher":
            assert lo > 0, f"{name}: {key} change {mean:.4g} [{lo:.4g}, {hi:.4g}] not above 0"
        else:
            assert hi < 0, f"{name}: {key} change {mean:.4g} [{lo:.4g}, {hi:.4g}] not below 0"


def test_closed_channel_has_no_foreign_spend_after_exit():
    exit_month = month_index("2028-01", "2024-01")
    for seed in SEEDS[:3]:
        ts = run(scenario="closed_channel", overrides=[f"seed={seed}"]).timeseries
        assert (ts["china_spend_foreign"].iloc[exit_month:] == 0).all()
        assert (ts["harvested_samples"].iloc[exit_month:] == 0).all()
        before = ts.iloc[:exit_month]
        served = before["models_in_channel"] > 0
        assert (before.loc[served, "china_spend_foreign"] > 0).all() and served.any()


def test_ramped_event_moves_linearly_and_holds():
    ts = run(scenario="tightened_export_rules", overrides=["customers.n=200"]).timeseries
    level = ts["us_rule_level"].to_numpy()
    start = as_config(compose()).us.rule_level
    first = month_index("2027-01", "2024-01")
    assert (level[:first] == start).all()
    np.testing.assert_allclose(
        level[first : first + 6], start + (0.5 - start) * np.arange(1, 7) / 6
    )
    assert (level[first + 6 :] == 0.5).all()


def test_event_date_can_be_overridden_from_the_command_line():
    cfg = as_config(compose("tightened_export_rules", ["scenario.events.0.date=2028-01"]))
    assert cfg.scenario.events[0].date == "2028-01"
    assert cfg.scenario.events[1].date == "2027-01"


def test_endogenous_policy_tightens_only_when_switched_on():
    on = run(scenario="endogenous_politics", overrides=["seed=0"]).timeseries
    off = run(
        scenario="baseline", overrides=["seed=0", "politics.retaliation_step=0.15"]
    ).timeseries
    assert on["policy_moves"].sum() >= 1
    first = month_index("2027-01", "2024-01")
    assert on["policy_moves"].iloc[:first].sum() == 0  # switched on from January 2027
    start = as_config(compose()).us.rule_level
    assert off["policy_moves"].sum() == 0 and (off["us_rule_level"] == start).all()


@pytest.fixture
def user_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SIM_SCENARIO_PATH", str(tmp_path))
    return tmp_path


def _refusal(folder, name: str, text: str) -> str:
    (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        as_config(compose(name))
    return str(err.value)


def test_user_scenarios_load_from_a_folder_they_point_to(user_folder):
    (user_folder / "mine.yaml").write_text(
        "scenario:\n  name: mine\n  description: test.\n  events:\n"
        "    - {month: 2, lever: us.rule_level, value: 1.0}\ncustomers:\n  n: 120\n"
    )
    result = run(scenario="mine", overrides=["horizon=4"])
    assert result.summary["scenario"] == "mine" and result.summary["customers_n"] == 120
    start = as_config(compose()).us.rule_level
    assert list(result.timeseries["us_rule_level"]) == [start, start, 1.0, 1.0]


def test_user_folder_via_hydra_searchpath(tmp_path):
    (tmp_path / "elsewhere.yaml").write_text("scenario:\n  name: elsewhere\n  description: x.\n")
    cfg = as_config(compose("elsewhere", [f"hydra.searchpath=[scenarios://{tmp_path}]"]))
    assert cfg.scenario.name == "elsewhere"


def test_malformed_yaml_is_refused_naming_the_file(user_folder):
    msg = _refusal(user_folder, "broken", "scenario:\n  name: broken\n  events: [\n")
    assert str(user_folder / "broken.yaml") in msg and "not valid YAML" in msg


def test_unknown_parameter_is_refused_naming_file_and_key(user_folder):
    msg = _refusal(user_folder, "typo", "scenario:\n  name: typo\ncustomers:\n  nn: 5\n")
    assert str(user_folder / "typo.yaml") in msg and "customers.nn" in msg


def test_wrong_type_is_refused_naming_file_and_key(user_folder):
    msg = _refusal(user_folder, "wrongtype", "scenario:\n  name: wrongtype\nhorizon: soon\n")
    assert str(user_folder / "wrongtype.yaml") in msg and "horizon" in msg


def test_out_of_range_value_is_refused_naming_file_and_key(user_folder):
    msg = _refusal(user_folder, "range", "scenario:\n  name: range\nus:\n  audit_prob: 3\n")
    assert str(user_folder / "range.yaml") in msg and "us.audit_prob = 3" in msg


def test_event_after_the_horizon_is_refused_naming_file(user_folder):
    msg = _refusal(
        user_folder,
        "late",
        "scenario:\n  name: late\n  events:\n"
        "    - {month: 90, lever: cn.localisation, value: 0.5}\n",
    )
    assert str(user_folder / "late.yaml") in msg
    assert "scenario.events.0.month = 90: outside the run, allowed months 0..83" in msg
    assert "2024-01 to 2030-12" in msg


def test_a_scenario_named_unlike_its_file_is_refused(user_folder):
    msg = _refusal(user_folder, "alias", "scenario:\n  name: something_else\n")
    assert "must match the file name 'alias'" in msg
