"""The validation layer's parts: size and number limits, the lever table, scenario files as
plain data, and refusals that reach the job instead of aborting a sweep."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

import sim.policy
from sim import limits
from sim.config import as_config, compose
from sim.limits import MAX_GROWTH, MAX_INTEGER, MAX_MAGNITUDE, Sizes, estimate
from sim.overrides import check_command_line
from sim.runner import simulate
from sim.schema import Config
from sim.validate import REFUSED_KEY, ConfigError, validate
from sim.world import knowledge_network

ROOT = Path(__file__).resolve().parent.parent
SIZE_KEYS = {"seed", "horizon", "customers.n", "international.n", "network.attach"}


# ------------------------------------------------------------------------------ sizes


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        ["customers.n=5000", "network.attach=5", "network.cross_sector_degree=3"],
        ["customers.n=60", "network.attach=40"],  # sectors smaller than attach: complete graphs
    ],
)
def test_edge_estimate_follows_the_network_the_model_builds(overrides):
    cfg = as_config(compose(None, overrides))
    sizes = Sizes.of(cfg)
    rng = np.random.default_rng(0)
    shares = np.array(sizes.sector_shares)
    sector = rng.choice(len(shares), size=sizes.customers, p=shares / shares.sum())
    budget = rng.pareto(1.3, sizes.customers)
    net = knowledge_network(
        sector, budget, sizes.attach, sizes.cross_sector_degree, np.random.SeedSequence(1)
    )
    built = net.nnz / 2
    assert built <= sizes.edges * 1.05
    assert sizes.edges <= built * 1.35


def _largest(message: str, key: str) -> int:
    return int(
        re.search(rf"allowed here: {re.escape(key)} <= ([\d,]+)", message)[1].replace(",", "")
    )


@pytest.mark.parametrize("key", ["customers.n", "international.n", "horizon"])
def test_memory_refusal_names_the_key_and_the_largest_value_that_fits(key):
    memory = 2 * 2**30
    big = {"customers.n": 3_000_000, "international.n": 10_000_000, "horizon": 500_000}[key]
    zero = [f"{c.key}=0" for c in limits.compounding(Config())]
    cfg = compose(None, [f"{key}={big}", *zero])
    with pytest.raises(ConfigError) as err:
        validate(cfg, memory=memory)
    message = str(err.value)
    assert f"{key} = {big:,}" in message and "2.0 GiB available" in message
    best = _largest(message, key)
    sizes = Sizes.of(cfg)
    field = {"customers.n": "customers", "international.n": "international", "horizon": "horizon"}
    fits = dataclasses.replace(sizes, **{field[key]: best})
    too_big = dataclasses.replace(sizes, **{field[key]: best + 1})
    assert estimate(fits).total_memory <= memory < estimate(too_big).total_memory


def test_memory_check_uses_the_machine_when_not_told():
    available = limits.available_memory()
    assert available is None or available > 0
    validate(compose(), memory=None)  # the default run fits any machine that runs the tests


def test_the_network_plot_counts_towards_memory_and_can_be_turned_off():
    cfg = compose(None, ["customers.n=1000000"])
    need = estimate(Sizes.of(cfg)).total_memory
    with pytest.raises(ConfigError, match="with output.plots=false"):
        validate(cfg, memory=int(need) - 1)
    validate(compose(None, ["customers.n=1000000", "output.plots=false"]), memory=int(need) - 1)


# ------------------------------------------------------------------------------ numbers


def _meta(key: str) -> dict:
    node, parts = Config(), key.split(".")
    for part in parts[:-1]:
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return {f.name: f.metadata for f in dataclasses.fields(node)}[parts[-1]]


def _extreme_overrides(end: str, horizon: int) -> list[str]:
    """Every unbounded parameter at its limit (``large``) or its smallest allowed positive
    value (``small``), and every compounding rate at the most the horizon allows."""
    out: list[str] = []

    def walk(node, prefix: str) -> None:
        for f in dataclasses.fields(node):
            key, value = prefix + f.name, getattr(node, f.name)
            if dataclasses.is_dataclass(value):
                walk(value, key + ".")
            elif isinstance(value, dict):
                for name, item in value.items():
                    if dataclasses.is_dataclass(item):
                        walk(item, f"{key}.{name}.")
            elif not (
                key in SIZE_KEYS
                or key.startswith("network.")
                or isinstance(value, bool)
                or not isinstance(value, int | float)
                or f.metadata.get("hi") is not None
            ):
                lo = f.metadata.get("lo")
                if end == "large":
                    out.append(f"{key}={MAX_INTEGER if isinstance(value, int) else MAX_MAGNITUDE}")
                elif lo is not None and lo > 0:
                    out.append(f"{key}={type(value)(lo)}")

    walk(Config(), "")
    room = math.log10(MAX_GROWTH) * 0.999
    for c in limits.compounding(Config(horizon=horizon)):
        hi = _meta(c.key)["hi"]
        if "price_decline" in c.key:
            rate = room * math.log(10) / (horizon - 1)
        else:
            rate = 10 ** (room / (horizon - 1)) - 1
        out.append(f"{c.key}={min(rate, hi)}")
    return out


@pytest.mark.parametrize("end", ["large", "small"])
def test_configs_at_the_number_limits_give_finite_results(end):
    horizon = 400
    overrides = [f"horizon={horizon}", "customers.n=40", "international.n=5", "us.rule_level=0.5"]
    cfg = as_config(compose(None, overrides + _extreme_overrides(end, horizon)))
    result = simulate(cfg)
    bad = {k: v for k, v in result.summary.items() if isinstance(v, float) and not math.isfinite(v)}
    assert bad == {}
    assert result.summary["china_spend_foreign"] >= 0


def test_numbers_past_the_limits_are_refused_and_just_inside_accepted():
    last = min(
        math.floor(math.log10(MAX_GROWTH) / c.per_month) + 1
        for c in limits.compounding(Config())
        if c.per_month > 0
    )
    assert 1000 < last < 10_000  # decades to centuries at the default rates
    as_config(compose(None, [f"horizon={last}"]))
    with pytest.raises(ConfigError, match=rf"or horizon <= {last:,} at this rate"):
        as_config(compose(None, [f"horizon={last + 1}"]))
    as_config(compose(None, [f"us.penalty_fixed_usd={MAX_MAGNITUDE}"]))
    with pytest.raises(ConfigError, match="larger than the limit of 1e12"):
        as_config(compose(None, [f"us.penalty_fixed_usd={MAX_MAGNITUDE * 1.01}"]))


# ------------------------------------------------------------------------------ levers


def test_every_lever_moves_a_real_attribute_or_method():
    sim.policy.check_levers(sim.policy.LEVERS)
    for lever in sim.policy.LEVERS.values():
        module, cls = sim.policy.OWNERS[lever.owner]
        attrs, methods = sim.policy.agent_members(module, cls)
        assert lever.attr in (methods if lever.kind == sim.policy.SHOCK else attrs)


def test_a_misspelt_lever_attribute_fails_at_import(monkeypatch):
    source = Path(sim.policy.__file__).read_text(encoding="utf-8")
    broken = source.replace('"us", "rule_level", NUMBER', '"us", "rule_levl", NUMBER', 1)
    assert broken != source
    module = type(sim)("sim._broken_policy")
    module.__file__ = sim.policy.__file__
    monkeypatch.setitem(sys.modules, module.__name__, module)
    with pytest.raises(RuntimeError) as err:
        exec(compile(broken, sim.policy.__file__, "exec"), module.__dict__)
    assert type(err.value).__name__ == "LeverTableError"
    message = str(err.value)
    assert "LEVERS['us.rule_level']" in message and "'rule_levl'" in message
    assert "USRegulator" in message and "did you mean 'rule_level'" in message


def test_a_shock_must_name_a_method_and_an_owner_must_be_known():
    levers = dict(sim.policy.LEVERS)
    shock = levers["domestic.price_cut"]
    with pytest.raises(sim.policy.LeverTableError, match="not a method of DomesticProviders"):
        sim.policy.check_levers({"x": dataclasses.replace(shock, attr="price_level")})
    with pytest.raises(sim.policy.LeverTableError, match="unknown owner 'reseller'"):
        sim.policy.check_levers({"x": dataclasses.replace(shock, owner="reseller")})


# ------------------------------------------------------------------------------ scenario files


@pytest.fixture
def scenario_folder(tmp_path, monkeypatch):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    monkeypatch.setenv("SIM_SCENARIO_PATH", str(folder))
    return folder


def test_anchors_and_aliases_within_the_bound_are_plain_data(scenario_folder):
    (scenario_folder / "reuse.yaml").write_text(
        "scenario:\n  events:\n"
        "    - &tighten {month: 2, lever: us.rule_level, value: 0.5}\n"
        "    - {<<: *tighten, month: 4, value: 0.8}\n"
    )
    cfg = as_config(compose("reuse", ["horizon=12"]))
    assert [(e.month, e.value) for e in cfg.scenario.events] == [(2, 0.5), (4, 0.8)]


def test_numbers_read_as_on_the_command_line(scenario_folder):
    (scenario_folder / "sci.yaml").write_text(
        "scenario: {}\ndistillation:\n  tokens_per_sample: 2e3\n"
    )
    assert as_config(compose("sci")).distillation.tokens_per_sample == 2e3


def test_a_refused_file_is_carried_to_validation_not_raised_while_composing(scenario_folder):
    (scenario_folder / "leak.yaml").write_text("scenario:\n  description: ${oc.env:HOME}\n")
    cfg = compose("leak")
    carried = OmegaConf.to_container(cfg, resolve=False)["scenario"]["expect"][REFUSED_KEY]
    assert "leak.yaml" in carried and "scenario.description" in carried
    with pytest.raises(ConfigError, match=r"'\$\{oc.env:HOME\}': interpolations"):
        validate(cfg)
    # the stand-in resolves to nothing: resolving it shows the text, not the environment
    resolved = OmegaConf.to_container(cfg, resolve=True)["scenario"]["expect"][REFUSED_KEY]
    assert "${oc.env:HOME}" in resolved


def test_the_help_catalogue_survives_refused_files(scenario_folder):
    from sim.cli_help import scenario_lines

    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{b}: &{b} [{', '.join(['*' + a] * 9)}]\n"
        for a, b in zip("abcdefg", "bcdefgh", strict=True)
    )
    (scenario_folder / "laughs.yaml").write_text(laughs + "scenario: {}\n")
    (scenario_folder / "mine.yaml").write_text("scenario: {description: Mine. More.}\n")
    lines = dict(scenario_lines())
    assert "refused" in lines["laughs"]
    assert lines["mine"] == "Mine"


def test_a_name_never_resolves_outside_its_folder():
    from sim.paths import scenario_file

    assert scenario_file("baseline") == ROOT / "scenarios" / "baseline.yaml"
    for name in ("../scenarios/baseline", str(ROOT / "scenarios" / "baseline"), "..", ".hidden"):
        assert scenario_file(name) is None


# ------------------------------------------------------------------------------ command line


def test_command_line_check_refuses_before_hydra_starts(capsys):
    with pytest.raises(SystemExit) as exit_:
        check_command_line(["-m", "seed=range(2)", "+customers.foo=1"])
    assert exit_.value.code == 2
    assert "+customers.foo=1: customers.foo: unknown key" in capsys.readouterr().err
    check_command_line(["seed=3", "hydra.run.dir=outputs/${now:%H}", "+hydra.job.env_set.X=1"])
    check_command_line(["--help", "+customers.foo=1"])  # help shows, never refuses


@pytest.mark.slow
def test_a_broken_scenario_file_is_refused_in_its_job_and_the_sweep_goes_on(tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "leak.yaml").write_text("scenario:\n  description: ${oc.env:SIM_TEST_SECRET}\n")
    out = tmp_path / "sweep"
    env = {**__import__("os").environ, "SIM_SCENARIO_PATH": str(folder), "SIM_TEST_SECRET": "x9y8"}
    proc = subprocess.run(
        [
            sys.executable, "-m", "sim", "-m", "scenario=baseline,leak", "customers.n=100",
            "horizon=4", "international.n=10", f"hydra.sweep.dir={out}",
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert "Traceback" not in proc.stderr
    statuses = {
        p.relative_to(out).parts[0]: json.loads(p.read_text())  # SCENARIO/OVERRIDES/seed=0
        for p in out.glob("*/*/seed=0/status.json")
    }
    assert statuses["baseline"]["status"] == "ok"
    assert statuses["leak"]["status"] == "refused"
    assert "leak.yaml: key 'scenario.description'" in statuses["leak"]["error"]
    assert (out / "comparison" / "runs.csv").is_file()
    for file in out.rglob("*"):
        if file.is_file():
            assert "x9y8" not in file.read_text(errors="replace"), file
