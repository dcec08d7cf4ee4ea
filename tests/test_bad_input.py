"""Bad input, table by table: every entry refuses it cleanly before any work starts.

Each case asserts the exception type (or, on the command line, a non-zero exit without a
traceback), that the message names the key and the value, and that no result folder is left
behind. The tables: overrides (Python API and command line), API arguments, scenario files.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

import sim.runner
from sim import ConfigError, ConfigTypeError, run
from sim.limits import MAX_GROWTH, compounding
from sim.schema import Config

ROOT = Path(__file__).resolve().parent.parent
SECRET = "s3cr3t-value-9f8e"
ZERO_RATES = tuple(f"{c.key}=0" for c in compounding(Config()))
#: The longest horizon the default rates allow: the fastest falling price reaches 1e-100.
LAST_HORIZON = min(
    math.floor(math.log10(MAX_GROWTH) / c.per_month) + 1
    for c in compounding(Config())
    if c.per_month > 0
)

#: (id, overrides, words the message must contain). Every case is also run on the command line.
OVERRIDES = [
    ("interpolation_sets_a_number", ["horizon=${now:%Y}"], ["horizon=${now:%Y}", "interpolation"]),
    ("interpolation_reads_env", ["seed=${oc.env:SIM_TEST_SECRET}"], ["seed=", "interpolation"]),
    (
        "interpolation_in_text",
        ["scenario.description=${oc.env:SIM_TEST_SECRET}"],
        ["scenario.description=", "interpolation"],
    ),
    (
        "plus_unknown_key",
        ["+customers.foo=1"],
        ["customers.foo", "allowed: n, archetypes, budget_total_musd"],
    ),
    ("double_plus_unknown_key", ["++foo=1"], ["foo", "allowed: seed, start, horizon"]),
    ("plus_misspelt_key", ["+horizont=3"], ["horizont", "did you mean 'horizon'"]),
    ("unknown_key", ["customers.colour=red"], ["customers.colour", "allowed: n,"]),
    ("empty_sectors", ["customers.sectors={}"], ["customers.sectors = {}", "at least one"]),
    ("empty_section", ["customers={}"], ["customers = {}", "changes nothing", "customers.FIELD"]),
    ("empty_entry", ["intermediaries.azure={}"], ["intermediaries.azure = {}", "changes nothing"]),
    (
        "empty_expect",
        ["scenario=tightened_export_rules", "scenario.expect={}"],
        ["scenario.expect = {}", "at least one"],
    ),
    (
        "missing_entry",
        ["developers.acme.growth=0.1"],
        ["developers.acme", "no entry 'acme'", "scenario file"],
    ),
    (
        "plus_missing_entry",
        ["+intermediaries.aws={share: 0.3}"],
        ["intermediaries.aws", "no entry 'aws'"],
    ),
    ("remove_parameter", ["~customers.n"], ["customers.n", "cannot be removed"]),
    (
        "event_beyond_the_list",
        ["scenario=tightened_export_rules", "scenario.events.6.date=2028-01"],
        ["scenario.events.6", "no entry 6", "entries 0 to 5"],
    ),
    ("infinite_budget", ["customers.budget_total_musd=inf"], ["customers.budget_total_musd = inf"]),
    ("nan_budget", ["customers.budget_total_musd=nan"], ["customers.budget_total_musd = nan"]),
    (
        "oversized_number",
        ["us.penalty_fixed_usd=1e15"],
        ["us.penalty_fixed_usd = 1e+15", "limit of 1e12"],
    ),
    ("oversized_integer", ["customers.n=2000000000"], ["customers.n = 2000000000", "limit of 1e9"]),
    (
        "population_beyond_memory",
        ["customers.n=900000000"],
        ["customers.n = 900,000,000", "GiB", "allowed here: customers.n <="],
    ),
    (
        "network_beyond_memory",
        ["customers.n=1000000", "network.attach=100000000"],
        ["network.attach = 100000000", "knowledge links", "allowed here: network.attach <="],
    ),
    (
        "international_beyond_memory",
        ["international.n=900000000"],
        ["international.n = 900,000,000", "allowed here: international.n <="],
    ),
    (
        "run_beyond_a_day",
        ["customers.n=1000000", "horizon=400000", *ZERO_RATES],
        ["customers.n = 1,000,000 with horizon = 400,000", "more than the limit of 24.0 h"],
    ),
    (
        "horizon_overflows_prices",
        ["horizon=5000"],
        ["price_decline with horizon = 5000", f"or horizon <= {LAST_HORIZON:,} at this rate"],
    ),
    (
        "budget_growth_overflows",
        ["customers.budget_growth=1", "horizon=400"],
        ["customers.budget_growth with horizon = 400", "customers.budget_growth <= 0.7"],
    ),
    (
        "nan_event_value",
        ["+scenario.events=[{month: 2, lever: us.rule_level, value: nan}]"],
        ["scenario.events.0.value = nan", "finite"],
    ),
    (
        "event_cuts_price_to_zero",
        ["+scenario.events=[{month: 2, lever: domestic.price_cut, value: 1.0}]"],
        ["scenario.events.0.value = 1.0", "makes the price zero"],
    ),
    (
        "unknown_outcome_expected",
        ["+scenario.expect.violationz=higher"],
        ["scenario.expect.violationz", "did you mean 'violations'"],
    ),
    (
        "unknown_direction_expected",
        ["+scenario.expect.violations=up"],
        ["scenario.expect.violations = 'up'", "'higher', 'lower'"],
    ),
    ("scenario_as_path", ["scenario=../scenarios/baseline"], ["../scenarios/baseline", "plain"]),
    ("scenario_absolute", [f"scenario={ROOT}/scenarios/baseline"], [f"{ROOT}/scenarios", "plain"]),
    ("sweep_config_as_path", ["+sweep=../config"], ["sweep", "'../config'"]),
    ("run_folder_as_path", ["scenario.name=../../x"], ["scenario.name=../../x", "plain name"]),
    ("out_of_range", ["us.audit_prob=1.5"], ["us.audit_prob = 1.5", "allowed [0, 1]"]),
    ("wrong_type", ["horizon=soon"], ["horizon", "soon"]),
]

#: (id, call, exception type, words the message must contain); ``tmp`` is a scratch folder.
API_CALLS = [
    ("overrides_as_string", lambda tmp: run(overrides="seed=3"), ConfigTypeError, ["overrides", "'seed=3'"]),
    ("override_not_a_string", lambda tmp: run(overrides=["seed=3", 3]), ConfigTypeError, ["overrides[1] = 3"]),
    ("override_bytes", lambda tmp: run(overrides=[b"seed=3"]), ConfigTypeError, ["overrides[0] = b'seed=3'"]),
    ("scenario_not_a_string", lambda tmp: run(scenario=3), ConfigTypeError, ["scenario = 3"]),
    ("scenario_a_list", lambda tmp: run(scenario=["baseline"]), ConfigTypeError, ["scenario = ['baseline']"]),
    ("scenario_a_path", lambda tmp: run(scenario="../scenarios/baseline"), ConfigError, ["scenario = '../scenarios/baseline'"]),
    ("output_dir_an_int", lambda tmp: run(output_dir=3), ConfigTypeError, ["output_dir = 3"]),
    ("output_dir_a_file", lambda tmp: run(output_dir=tmp / "file.txt"), ConfigError, ["output_dir", "file.txt", "not a folder"]),
    ("output_dir_under_a_file", lambda tmp: run(output_dir=tmp / "file.txt" / "r"), ConfigError, ["output_dir", "cannot be created"]),
    ("plots_not_a_flag", lambda tmp: run(plots="yes"), ConfigTypeError, ["plots = 'yes'"]),
    ("model_key_twice", lambda tmp: _model(**{"customers.n": 10, "customers__n": 20}), ConfigError, ["customers.n", "given twice"]),
    ("model_unknown_key", lambda tmp: _model(customers__foo=1), ConfigError, ["customers.foo", "unknown key"]),
    ("model_interpolation", lambda tmp: _model(horizon="${now:%Y}"), ConfigError, ["horizon = '${now:%Y}'", "interpolation"]),
    ("model_empty_sectors", lambda tmp: _model(**{"customers.sectors": {}}), ConfigError, ["customers.sectors = {}"]),
    ("model_empty_section", lambda tmp: _model(us={}), ConfigError, ["us = {}", "changes nothing"]),
    ("model_config_a_dict", lambda tmp: _model({"horizon": 3}), ConfigTypeError, ["config = {'horizon': 3}"]),
    ("model_seed_a_string", lambda tmp: _model(seed="3"), ConfigTypeError, ["seed = '3'"]),
    ("model_name_a_path", lambda tmp: _model(**{"scenario.name": "/tmp/x"}), ConfigError, ["scenario.name = '/tmp/x'", "plain name"]),
    ("model_nan", lambda tmp: _model(**{"demand.price_weight": math.nan}), ConfigError, ["demand.price_weight = nan"]),
]  # fmt: skip

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{b}: &{b} [{', '.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)

#: (name, file content, words the message must contain besides the file's path).
FILES = [
    ("interpolation", "scenario:\n  description: ${oc.env:SIM_TEST_SECRET}\n", ["scenario.description", "interpolation"]),
    ("interpolation_in_event", "scenario:\n  events:\n    - {month: 2, lever: us.restricted_sectors, value: ['${now:%Y}']}\n", ["scenario.events.0.value.0", "interpolation"]),
    ("python_tag", "scenario: {}\nx: !!python/object/apply:os.system [echo hi]\n", ["line 2", "tag", "python/object/apply"]),
    ("binary_tag", "scenario:\n  description: !!binary aGVsbG8=\n", ["line 2", "tag", "binary"]),
    ("custom_tag", "scenario: !mine {}\n", ["line 1", "tag '!mine'"]),
    ("billion_laughs", LAUGHS + "scenario: {}\n", ["aliases are expanded", "100,000"]),
    ("not_utf8", b"scenario:\n  description: \xff\xfe\n", ["not UTF-8", "byte 25"]),
    ("too_large", "scenario: {}\n" + "#" * 300_000 + "\n", ["larger than the limit of 256 KiB"]),
    ("duplicate_key", "scenario: {}\nhorizon: 12\nhorizon: 24\n", ["duplicate key horizon", "line 3"]),
    ("two_documents", "scenario: {}\n---\nhorizon: 3\n", ["one YAML document only"]),
    ("no_scenario_block", "horizon: 3\n", ["needs a top-level 'scenario:' block"]),
    ("not_a_mapping", "- 1\n- 2\n", ["needs a top-level 'scenario:' block"]),
    ("number_as_key", "scenario: {}\n1: 2\n", ["key 1", "not text"]),
    ("nan_event_value", "scenario:\n  events:\n    - {month: 2, lever: us.rule_level, value: .nan}\n", ["scenario.events.0.value", "nan", "finite"]),
    ("infinite_parameter", "scenario: {}\ncustomers: {budget_total_musd: .inf}\n", ["customers.budget_total_musd", "inf", "finite"]),
    ("empty_sectors", "scenario: {}\ncustomers: {sectors: {}}\n", ["customers.sectors = {}"]),
    ("empty_section", "scenario: {}\nus: {}\n", ["us = {}", "changes nothing"]),
    ("existing_entry_empty", "scenario: {}\nintermediaries: {azure: {}}\n", ["intermediaries.azure = {}", "changes nothing"]),
    ("unknown_key", "scenario: {}\ncustomers: {nn: 5}\n", ["customers.nn", "did you mean 'n'"]),
    ("unknown_outcome", "scenario:\n  expect: {violationz: higher}\n", ["scenario.expect.violationz", "unknown outcome"]),
    ("wrong_type", "scenario: {}\nhorizon: soon\n", ["horizon", "soon"]),
    ("name_mismatch", "scenario: {name: other}\n", ["scenario.name = 'other'", "must match"]),
    ("population_beyond_memory", "scenario: {}\ncustomers: {n: 900000000}\n", ["customers.n = 900,000,000", "GiB"]),
    ("escapes_its_folder", None, ["outside its folder"]),
]  # fmt: skip


def _model(*args, **kwargs):
    from sim.model import MarketModel

    return MarketModel(*args, **kwargs)


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv("SIM_TEST_SECRET", SECRET)
    return SECRET


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail the test if a simulation starts: refusals must come before any work."""

    def refuse(*args, **kwargs):
        raise AssertionError("a simulation started for input that should have been refused")

    monkeypatch.setattr(sim.runner, "simulate", refuse)


def _assert_named(message: str, words: list[str]) -> None:
    for word in words:
        assert word in message, f"{word!r} not in the message:\n{message}"
    assert SECRET not in message
    assert "Traceback" not in message


@pytest.mark.parametrize(
    ("overrides", "words"), [c[1:] for c in OVERRIDES], ids=[c[0] for c in OVERRIDES]
)
def test_api_refuses_bad_overrides(tmp_path, secret, no_simulation, overrides, words):
    out = tmp_path / "r"
    with pytest.raises(ConfigError) as err:
        run(overrides=overrides, output_dir=out)
    _assert_named(str(err.value), words)
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("call", "error", "words"), [c[1:] for c in API_CALLS], ids=[c[0] for c in API_CALLS]
)
def test_api_refuses_bad_arguments(tmp_path, no_simulation, call, error, words):
    (tmp_path / "file.txt").write_text("not a folder")
    with pytest.raises(error) as err:
        call(tmp_path)
    _assert_named(str(err.value), words)
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]
    assert (tmp_path / "file.txt").read_text() == "not a folder"


def test_wrong_types_are_type_errors_too():
    with pytest.raises(TypeError, match="overrides"):
        run(overrides="seed=3")


@pytest.fixture
def scenario_folder(tmp_path, monkeypatch):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    monkeypatch.setenv("SIM_SCENARIO_PATH", str(folder))
    return folder


def _write_scenario(folder: Path, name: str, content: str | bytes | None) -> Path:
    file = folder / f"{name}.yaml"
    if content is None:
        outside = folder.parent / "outside.yaml"
        outside.write_text(f"scenario: {{name: {name}}}\n")
        file.symlink_to(outside)
    elif isinstance(content, bytes):
        file.write_bytes(content)
    else:
        file.write_text(content, encoding="utf-8")
    return file


@pytest.mark.parametrize(("name", "content", "words"), FILES, ids=[c[0] for c in FILES])
def test_api_refuses_bad_scenario_files(
    tmp_path, scenario_folder, secret, no_simulation, name, content, words
):
    file = _write_scenario(scenario_folder, name, content)
    out = tmp_path / "r"
    with pytest.raises(ConfigError) as err:
        run(scenario=name, output_dir=out)
    _assert_named(str(err.value), [str(file), *words])
    assert not out.exists()


def test_the_recorded_historys_events_can_be_overridden():
    from sim.config import as_config, compose

    config = as_config(compose(overrides=["history.events.0.value=0.5"]))
    assert config.history.events[0].value == 0.5


def test_a_globbed_scenario_sweep_is_checked_for_missing_events():
    from sim.overrides import check_overrides

    with pytest.raises(ConfigError, match="no entry 0 in scenario 'baseline'"):
        check_overrides(["scenario=glob(basel*)", "scenario.events.0.note=x"])


def test_an_existing_event_can_be_moved_from_the_command_line():
    from sim.config import as_config, compose

    config = as_config(
        compose(scenario="tightened_export_rules", overrides=["scenario.events.5.date=2027-06"])
    )
    assert config.scenario.events[5].date == "2027-06"


def test_a_scenario_file_may_add_an_entry_with_its_defaults(scenario_folder):
    from sim.config import as_config, compose

    _write_scenario(scenario_folder, "one_more_lab", "scenario: {}\ndevelopers: {other_lab: {}}\n")
    config = as_config(compose(scenario="one_more_lab"))
    assert "other_lab" in config.developers
    assert len(config.developers) == len(as_config(compose()).developers) + 1


# ------------------------------------------------------------------------------ command line


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def _assert_refused(proc: subprocess.CompletedProcess, out: Path, words: list[str]) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    _assert_named(proc.stderr, words)
    assert SECRET not in proc.stdout
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("overrides", "words"), [c[1:] for c in OVERRIDES], ids=[c[0] for c in OVERRIDES]
)
def test_cli_refuses_bad_overrides(tmp_path, secret, overrides, words):
    out = tmp_path / "out"
    _assert_refused(_cli(*overrides, f"hydra.run.dir={out}"), out, words)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "content", "words"), FILES, ids=[c[0] for c in FILES])
def test_cli_refuses_bad_scenario_files(tmp_path, scenario_folder, secret, name, content, words):
    file = _write_scenario(scenario_folder, name, content)
    out = tmp_path / "out"
    _assert_refused(_cli(f"scenario={name}", f"hydra.run.dir={out}"), out, [str(file), *words])
