"""The experiment space is generated from the schema, the lever table, scenarios and registry."""

from __future__ import annotations

import pytest

from sim.analysis.designs import DesignBuilder
from sim.analysis.space import (
    BOOLEAN,
    CATEGORICAL,
    INTEGER,
    LEVER,
    REAL,
    UNCERTAINTY,
    Factor,
    declare_space,
)
from sim.metrics import HEADLINE, metric
from sim.policy import LEVERS, SHOCK, lever_spec
from sim.schema import plausible_ranges
from sim.validate import ConfigError


def test_every_parameter_with_a_plausible_range_is_an_uncertainty():
    space = declare_space()
    ranges = plausible_ranges()
    assert [f.key for f in space.uncertainties] == list(ranges)
    for factor in space.uncertainties:
        p = ranges[factor.key]
        assert (factor.role, factor.lo, factor.hi) == (UNCERTAINTY, p.lo, p.hi)
        assert factor.kind == (INTEGER if p.integer else REAL)


def test_levers_are_events_at_the_lever_month_and_skip_market_shocks():
    space = declare_space(lever_month=12)
    assert space.levers, "no lever in the space"
    for factor in space.levers:
        assert factor.role == LEVER and factor.key.endswith("@12")
        assert lever_spec(factor.lever)[0].kind != SHOCK
    shocks = {name for name, lever in LEVERS.items() if lever.kind == SHOCK}
    assert shocks and not shocks & {f.lever for f in space.levers}


def test_lever_ranges_follow_plausible_ranges_then_the_scenario_library():
    levers = {f.lever: f for f in declare_space().levers}
    twin = next(f for f in levers.values() if f.twin in plausible_ranges())
    p = plausible_ranges()[twin.twin]
    assert (twin.lo, twin.hi) == (p.lo, p.hi)
    # The library moves the US rule level from its default 0.02 up to decoupling's 1.0.
    assert (levers["us.rule_level"].lo, levers["us.rule_level"].hi) == (0.02, 1.0)
    assert levers["intermediary.channel_open"].kind == BOOLEAN  # closed_channel moves it
    sectors = levers["us.restricted_sectors"]
    assert sectors.kind == CATEGORICAL and () in sectors.options


def test_a_parameter_that_is_uncertain_and_a_lever_appears_once_as_the_lever():
    space = declare_space()
    keys = [f.key for f in space.factors()]
    assert len(keys) == len(set(keys))
    twins = {f.twin for f in space.levers} & set(plausible_ranges())
    for key in twins:
        assert key not in keys
        assert any(key in note for note in space.notes)


def test_a_scenario_that_moves_a_flag_makes_it_a_lever(tmp_path, monkeypatch):
    name = "developers.us_frontier.in_channel"
    assert name not in {f.lever for f in declare_space().levers}
    (tmp_path / "frontier_exit.yaml").write_text(
        "scenario:\n  name: frontier_exit\n  events:\n"
        f"    - {{month: 6, lever: {name}, value: false}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SIM_SCENARIO_PATH", str(tmp_path))
    factor = next(f for f in declare_space().levers if f.lever == name)
    assert factor.kind == BOOLEAN and factor.default is True


def test_outcomes_are_the_headline_with_direction_and_whom_from_the_registry():
    space = declare_space()
    assert [o.key for o in space.outcomes] == list(HEADLINE)
    for o in space.outcomes:
        assert (o.better, o.whom, o.unit) == (
            metric(o.key).better,
            metric(o.key).whom,
            metric(o.key).unit,
        )
        assert o.sign == {"higher": 1, "lower": -1, "": 0}[o.better]
    with pytest.raises(ConfigError, match="unknown outcome 'nope'"):
        declare_space(outcomes=["nope"])


def test_decoding_maps_the_unit_interval_onto_each_kind_of_range():
    real = Factor("a", UNCERTAINTY, REAL, lo=2.0, hi=4.0)
    assert (real.decode(0), real.decode(0.5), real.decode(1)) == (2.0, 3.0, 4.0)
    integer = Factor("b", UNCERTAINTY, INTEGER, lo=1, hi=3)
    assert [integer.decode(u) for u in (0, 0.34, 0.67, 0.999, 1)] == [1, 2, 3, 3, 3]
    flag = Factor("c@0", LEVER, BOOLEAN)
    assert (flag.decode(0.49), flag.decode(0.5)) == (False, True)
    cat = Factor("d@0", LEVER, CATEGORICAL, options=((), ("x", "y"), ("z",)))
    assert [cat.decode(u) for u in (0, 0.4, 0.99)] == [[], ["x", "y"], ["z"]]
    assert cat.label(["x", "y"]) == "x+y" and cat.label([]) == "none"


def test_identifier_names_are_unique_and_select_finds_factors_by_any_name():
    space = declare_space()
    names = [f.name for f in space.factors()]
    assert len(names) == len(set(names)) and all(n.isidentifier() for n in names)
    lever = space.levers[0]
    assert space.select([lever.key]) == space.select([lever.name]) == space.select([lever.lever])
    with pytest.raises(ConfigError, match="unknown factor"):
        space.select(["not.a.factor"])


def test_every_corner_of_the_space_is_a_valid_design():
    space = declare_space()
    factors = list(space.factors())
    designs = space.designs(factors, [[0.0] * len(factors), [1.0] * len(factors)])
    prepared = DesignBuilder(common={"customers.n": 50}).prepare(designs)
    assert len(prepared) == 2
