"""The engine around the model: compiled or numpy kernels give the same run, customers' Mesa
agents appear only when asked for, and the monthly collector stores what Mesa's would."""

from __future__ import annotations

import math

import mesa
import numpy as np
import pytest
from conftest import small_config

from sim import accel
from sim.agents import ChineseCustomer, InternationalCustomer, ModelDeveloper
from sim.model import MarketModel

needs_numba = pytest.mark.skipif(not accel.numba_installed(), reason="numba not installed")

STATE = (
    "samples",
    "received",
    "own",
    "head_start",
    "capability",
    "narrow",
    "spend_total",
    "perceived_risk",
    "campaign_risk",
    "offences",
    "terminated",
    "suspended_until",
    "blocked_until",
    "on_proxies",
)


def _run(monkeypatch, kernels: str, *overrides: str, scenario: str | None = None):
    monkeypatch.setenv(accel.ENV, kernels)
    return MarketModel(
        small_config("customers.n=2500", "horizon=48", *overrides, scenario=scenario)
    ).run()


def _same(a: float, b: float) -> bool:
    return a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


@needs_numba
@pytest.mark.parametrize(
    ("scenario", "overrides"),
    [
        (None, ("seed=3",)),
        ("leaky_safeguards", ("seed=4", "history=recorded")),
        ("decoupling", ("seed=5",)),
    ],
)
def test_compiled_and_numpy_kernels_give_the_same_run(monkeypatch, scenario, overrides):
    numpy_run = _run(monkeypatch, "numpy", *overrides, scenario=scenario)
    numba_run = _run(monkeypatch, "numba", *overrides, scenario=scenario)
    assert not numpy_run._compiled and numba_run._compiled
    for month, (a, b) in enumerate(zip(numpy_run.records, numba_run.records, strict=True)):
        different = [k for k in a if not _same(a[k], b[k])]
        assert not different, (month, different)
    for name in STATE:
        np.testing.assert_array_equal(
            getattr(numpy_run.population, name), getattr(numba_run.population, name), name
        )
    # The runs are not trivial: money moved, samples were taken and spread.
    assert sum(r["china_spend_foreign"] for r in numpy_run.records) > 0
    assert sum(r["harvested_samples"] for r in numpy_run.records) > 0
    assert numpy_run.population.received.max() > 0


def test_customer_agents_are_created_when_first_asked_for_with_their_reserved_ids():
    model = MarketModel(small_config("customers.n=120", "international.n=7"))
    # Built: the strategic actors are registered, the 127 row agents are not yet.
    assert len(model._agents) == len(model.developers) + len(model.intermediaries) + 3
    model.step()
    agents = model.agents_by_type
    customers = agents[ChineseCustomer]
    assert [a.unique_id for a in customers] == list(model.customer_ids)
    assert [a.index for a in customers] == list(range(120))
    assert len(agents[InternationalCustomer]) == 7
    # The ids continue the strategic actors' numbering, as eager creation gave them.
    first = max(a.unique_id for a in agents[ModelDeveloper])
    assert model.customer_ids[0] > first
    ids = sorted(a.unique_id for a in model.agents)
    assert ids == list(range(1, len(ids) + 1))
    assert model.agents_by_type[ChineseCustomer] is customers  # created once


def test_customer_agents_asked_for_after_the_run_still_get_their_ids():
    model = MarketModel(small_config("customers.n=40", "horizon=3")).run()
    assert mesa.Agent._ids.get(model) is None  # the id counter was released at the end
    assert [a.unique_id for a in model.agents_by_type[ChineseCustomer]] == list(model.customer_ids)
    assert mesa.Agent._ids.get(model) is None  # and not brought back


def test_collector_stores_what_mesas_datacollector_stores():
    model = MarketModel(small_config("customers.n=200", "horizon=6"))
    reference = mesa.DataCollector(model_reporters=model.datacollector.model_reporters)
    ours = model.datacollector.collect

    def both(m):
        ours(m)
        reference.collect(m)

    model.datacollector.collect = both
    model.run()
    assert set(model.datacollector.model_vars) == set(reference.model_vars)
    for name, values in reference.model_vars.items():
        got = model.datacollector.model_vars[name]
        assert len(got) == len(values) == 6
        assert all(_same(a, b) for a, b in zip(got, values, strict=True)), name
    assert list(model.datacollector.get_model_vars_dataframe()["month"]) == list(range(6))
