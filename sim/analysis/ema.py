"""The simulator as an EMA Workbench model, so EMA users can drive it with their own tools.

``ema_model()`` returns an ``ema_workbench.Model`` whose uncertainties, levers and outcomes
are the declared experiment space (:mod:`sim.analysis.space`): real, integer, boolean and
categorical parameters named by identifiers (``demand__price_weight``,
``us__rule_level_at_0``) that map to the design keys (``demand.price_weight``,
``us.rule_level@0``), and scalar outcomes that EMA maximises or minimises as the metric
registry says. Each experiment runs for the model's seed list (common random numbers) and
returns the outcomes' means over those seeds. Use EMA's ``SequentialEvaluator``, or its
``MultiprocessingEvaluator`` (the model's function pickles; each worker composes the
scenario once).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sim.analysis.runs import Runner, design_means, seed_list
from sim.analysis.space import BOOLEAN, CATEGORICAL, INTEGER, Factor, declare_space, option_label


def _ema():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EMA warns at import about optional backends
        import ema_workbench

    return ema_workbench


class SimulatorFunction:
    """The callable EMA runs: design values in (by design key), outcome means out."""

    def __init__(
        self,
        *,
        scenario: str,
        seeds: Sequence[int],
        common: Mapping[str, Any] | None,
        outcomes: Sequence[str],
        n_jobs: int = 1,
    ) -> None:
        self.scenario = scenario
        self.seeds = seed_list(list(seeds))
        self.common = dict(common or {})
        self.outcomes = list(outcomes)
        self.n_jobs = n_jobs
        self._runner: Runner | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_runner"] = None
        return state

    def __call__(self, **values: Any) -> dict[str, float]:
        """Run one experiment for every seed; the mean of each outcome over the seeds."""
        if self._runner is None:
            self._runner = Runner(scenario=self.scenario, common=self.common, n_jobs=self.n_jobs)
        table = self._runner.run([values], self.seeds)
        means = design_means(table, self.outcomes)
        return {k: float(means[k].iloc[0]) for k in self.outcomes}


def _parameter(factor: Factor) -> Any:
    ema = _ema()
    if factor.kind == BOOLEAN:
        return ema.BooleanParameter(factor.name, variable_name=factor.key)
    if factor.kind == CATEGORICAL:
        from ema_workbench.em_framework.parameters import Category

        categories = [Category(option_label(o), list(o)) for o in factor.options]
        return ema.CategoricalParameter(factor.name, categories, variable_name=factor.key)
    if factor.kind == INTEGER:
        return ema.IntegerParameter(
            factor.name, int(factor.lo), int(factor.hi), variable_name=factor.key
        )
    return ema.RealParameter(factor.name, factor.lo, factor.hi, variable_name=factor.key)


def ema_model(
    *,
    name: str = "chinachannel",
    scenario: str = "baseline",
    seeds: int | Sequence[int] = (0,),
    common: Mapping[str, Any] | None = None,
    lever_month: int = 0,
    outcomes: Sequence[str] | None = None,
    n_jobs: int = 1,
) -> Any:
    """An ``ema_workbench.Model`` of the simulator over the declared experiment space.

    ``scenario`` is the starting scenario, ``seeds`` the seed list of every experiment,
    ``common`` settings for every run (``{"customers.n": 500}``), ``lever_month`` the month
    the levers' events apply, ``outcomes`` the summary keys reported (default: the
    headline), ``n_jobs`` worker processes for the seeds of one experiment.
    """
    ema = _ema()
    space = declare_space(lever_month=lever_month, outcomes=outcomes)
    factors = space.factors()
    keys = [o.key for o in space.outcomes]
    function = SimulatorFunction(
        scenario=scenario,
        seeds=list(range(seeds)) if isinstance(seeds, int | np.integer) else list(seeds),
        common=common,
        outcomes=keys,
        n_jobs=n_jobs,
    )
    model = ema.Model(name, function=function)
    model.uncertainties = [_parameter(f) for f in factors if f.role == "uncertainty"]
    model.levers = [_parameter(f) for f in factors if f.role == "lever"]
    kinds = {1: ema.ScalarOutcome.MAXIMIZE, -1: ema.ScalarOutcome.MINIMIZE}
    model.outcomes = [
        ema.ScalarOutcome(o.key, kind=kinds.get(o.sign, ema.ScalarOutcome.INFO))
        for o in space.outcomes
    ]
    return model
