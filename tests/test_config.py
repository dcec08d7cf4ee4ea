"""Composition with Hydra and refusal of bad configs before any work starts."""

from __future__ import annotations

import pytest
from conftest import small_config

from sim.config import as_config, compose
from sim.schema import Config
from sim.validate import ConfigError


def test_hydra_composes_the_typed_default_config():
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from omegaconf import OmegaConf

    from sim.config import register_plugins
    from sim.paths import CONF_DIR

    register_plugins()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = hydra_compose(config_name="config", overrides=["customers.n=123"])
    assert OmegaConf.get_type(cfg) is Config
    assert cfg.customers.n == 123
    assert cfg.horizon == 84 and cfg.start == "2024-01"
    assert cfg.scenario.name == "baseline"
    assert set(cfg.developers) == {"us_frontier", "us_second", "cn_open"}


def test_defaults_are_the_documented_ones():
    cfg = as_config(compose())
    assert cfg.customers.n == 2000
    assert cfg.horizon == 84 and cfg.start == "2024-01"
    assert cfg.us.penalty_fixed_usd == 374_474.0
    assert cfg.us.penalty_multiplier == 2.0


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("customers.n=0", "customers.n = 0: out of range, allowed >= 1"),
        ("us.audit_prob=1.5", "us.audit_prob = 1.5: out of range, allowed [0, 1]"),
        ("intermediaries.azure.monitoring0=-0.1", "intermediaries.azure.monitoring0 = -0.1"),
        ("customers.sectors.platform.share=0.5", "customers.sectors.*.share: shares must sum to 1"),
        (
            "developers.us_frontier.home=EU",
            "developers.us_frontier.home = 'EU': allowed 'US' or 'CN'",
        ),
        ("us.restricted_sectors=[banking]", "unknown sector 'banking'"),
        ("output.customers_format=xlsx", "output.customers_format = 'xlsx'"),
        ("horizon=0", "horizon = 0: must be >= 1"),
        ("seed=-1", "seed = -1: out of range, allowed >= 0"),
        ("developers.us_frontier.price0=0", "developers.us_frontier.price0 = 0.0: out of range"),
        ("domestic.capability0=0", "domestic.capability0 = 0.0: out of range"),
        (
            "developers.us_second.home=CN",
            "exactly one developer with home 'CN' is required (the two-way flow), got ['cn_open', 'us_second']",
        ),
    ],
)
def test_out_of_range_values_are_refused_with_key_value_and_range(override, expected):
    with pytest.raises(ConfigError) as err:
        as_config(compose(None, [override]))
    assert expected in str(err.value)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("customers.bogus=1", "bogus"),
        ("seed=abc", "seed"),
        ("horizon=1.5", "horizon"),
    ],
)
def test_unknown_keys_and_wrong_types_are_refused_by_the_schema(override, expected):
    with pytest.raises(ConfigError) as err:
        compose(None, [override])
    assert expected in str(err.value)


def test_every_problem_is_listed_at_once():
    with pytest.raises(ConfigError) as err:
        as_config(compose(None, ["customers.n=0", "us.audit_prob=2"]))
    assert "customers.n" in str(err.value) and "us.audit_prob" in str(err.value)


def test_events_outside_the_horizon_are_refused():
    with pytest.raises(ConfigError, match=r"scenario.events.0.month = 30: outside the run"):
        small_config("+scenario.events=[{month: 30, lever: us.rule_level, value: 0.5}]")


def test_events_with_bad_levers_or_values_are_refused():
    with pytest.raises(ConfigError, match="unknown lever"):
        small_config("+scenario.events=[{month: 3, lever: us.nonsense, value: 0.5}]")
    with pytest.raises(ConfigError, match=r"value = 2.0: out of range for us.rule_level"):
        small_config("+scenario.events=[{month: 3, lever: us.rule_level, value: 2.0}]")
    with pytest.raises(ConfigError, match="takes true or false"):
        small_config("+scenario.events=[{month: 3, lever: intermediary.channel_open, value: 0.3}]")
    with pytest.raises(ConfigError, match="unknown developer 'acme'"):
        small_config(
            "+scenario.events=[{month: 3, lever: developers.acme.in_channel, value: false}]"
        )


def test_zero_budget_weights_everywhere_are_refused():
    sectors = ("platform", "fintech", "gaming", "manufacturing", "research", "other")
    with pytest.raises(ConfigError, match="share-weighted budget weight must be > 0"):
        as_config(compose(None, [f"customers.sectors.{s}.budget_weight=0" for s in sectors]))


def test_only_number_levers_can_ramp():
    with pytest.raises(ConfigError, match="only number levers can ramp"):
        small_config(
            "+scenario.events=[{month: 3, lever: intermediary.channel_open, value: false, ramp: 6}]"
        )
    with pytest.raises(ConfigError, match="only number levers can ramp"):
        small_config(
            "+scenario.events=[{month: 3, lever: domestic.price_cut, value: 0.5, ramp: 3}]"
        )


def test_type_errors_through_the_api_say_why():
    with pytest.raises(ConfigError, match="could not be converted to Integer"):
        compose(None, ["customers.n=abc"])


def test_the_shared_typed_schema_is_never_changed_by_what_is_composed_or_checked():
    # Every compose, scenario check and config conversion merges onto one stored typed schema
    # (converting the dataclasses each time cost 0.1 s); a merge that wrote into it would leak
    # one run's settings into every later config of the process.
    from omegaconf import OmegaConf

    from sim.schema import Config, typed_schema

    pristine = OmegaConf.to_yaml(OmegaConf.structured(Config))
    as_config(compose("leaky_safeguards", ["seed=5", "customers.n=321", "horizon=48"]))
    untyped = OmegaConf.create(OmegaConf.to_container(compose(overrides=["customers.n=77"])))
    assert OmegaConf.get_type(untyped) is not Config  # converted by merging onto the schema
    assert as_config(untyped).customers.n == 77
    assert OmegaConf.to_yaml(typed_schema()) == pristine
    assert as_config(compose(overrides=["horizon=48"])).customers.n == Config().customers.n
