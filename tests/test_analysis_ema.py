"""EMA Workbench drives the simulator through the adapter, with EMA's own sampler and evaluator."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

from sim import run_many
from sim.analysis.ema import ema_model
from sim.analysis.space import declare_space

SMALL = {"customers.n": 100, "international.n": 20, "horizon": 6}


def _ema():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import ema_workbench

    return ema_workbench


def test_the_model_declares_the_space_uncertainties_levers_and_outcomes():
    ema = _ema()
    model = ema_model(common=SMALL)
    space = declare_space()
    factors = space.factors()
    assert [u.name for u in model.uncertainties] == [
        f.name for f in factors if f.role == "uncertainty"
    ]
    assert [lever.name for lever in model.levers] == [f.name for f in factors if f.role == "lever"]
    assert [u.variable_name[0] for u in model.uncertainties][0] == factors[0].key
    kinds = {o.name: o.kind for o in model.outcomes}
    for o in space.outcomes:
        expected = {1: ema.ScalarOutcome.MAXIMIZE, -1: ema.ScalarOutcome.MINIMIZE}
        assert kinds[o.key] == expected.get(o.sign, ema.ScalarOutcome.INFO)
    real = next(u for u in model.uncertainties if u.name == "demand__price_weight")
    assert (real.lower_bound, real.upper_bound) == (0.3, 1.2)


def test_the_model_pickles_for_emas_multiprocessing_evaluator():
    model = ema_model(common=SMALL, seeds=[0], outcomes=["fines"])
    model.function(**{})  # builds the runner and composes the scenario
    copy = pickle.loads(pickle.dumps(model))
    assert copy.function._runner is None
    assert copy.function(**{}) == model.function(**{})


@pytest.mark.slow
def test_ema_sequential_evaluator_runs_the_model_and_matches_run_many():
    ema = _ema()
    model = ema_model(common=SMALL, seeds=[2], outcomes=["revenue_intermediary", "fines"])
    with ema.SequentialEvaluator(model) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(
            scenarios=3, policies=2, uncertainty_sampling=ema.Samplers.LHS
        )
    assert len(experiments) == 6 and set(outcomes) == {"revenue_intermediary", "fines"}
    assert np.isfinite(outcomes["fines"]).all()
    # Replay one experiment by hand: the design keys are the parameters' variable names.
    row = experiments.iloc[4]
    names = {p.name: p.variable_name[0] for p in [*model.uncertainties, *model.levers]}
    design = {}
    for name, key in names.items():
        value = row[name]
        design[key] = list(value) if isinstance(value, list | tuple) else value
    table = run_many([design], seeds=[2], common=SMALL)
    assert table.loc[0, "revenue_intermediary"] == outcomes["revenue_intermediary"][4]
    assert table.loc[0, "fines"] == outcomes["fines"][4]
    # The two policies differ, so their outcomes under the same scenario do.
    first, second = outcomes["revenue_intermediary"][[0, 3]]
    assert experiments["scenario"].iloc[0] == experiments["scenario"].iloc[3]
    assert first != second
