"""Decision analysis: many runs, global sensitivity, scenario discovery and robust policies.

The package follows the split EMA Workbench makes between running experiments and analysing
them:

- :mod:`sim.analysis.space`: the experiment space (uncertainties with plausible ranges,
  policy levers, outcomes with their direction), generated from the schema, the lever
  table, the scenario library and the metric registry.
- :mod:`sim.analysis.designs` and :mod:`sim.analysis.runs`: plain dicts of parameter values
  checked and turned into configs, then run for a shared list of seeds (common random
  numbers), in a process pool, resumably (:func:`sim.run_many`).
- :mod:`sim.analysis.morris`, :mod:`sim.analysis.sobol`, :mod:`sim.analysis.prim`,
  :mod:`sim.analysis.robust`, :mod:`sim.analysis.uncertainty`: the analyses, each writing
  tidy tables and figures (``python -m sim.analyze``).
- :mod:`sim.analysis.ema`: the model as an ``ema_workbench.Model``.
"""
