"""Mesa's DataCollector for the month's metrics, without a deep copy of every value."""

from __future__ import annotations

import types
from functools import partial
from typing import Any

import mesa


class MonthlyCollector(mesa.DataCollector):
    """A :class:`mesa.DataCollector` that stores model reporters' values as they are.

    Mesa deep-copies every reported value so that a reporter returning a mutable object does
    not change the history later. The model's reporters return the month's metrics, fresh
    numbers and strings each month, so the copy protects nothing and costs a Python call
    per metric per month. With agent reporters (none by default) Mesa's own path is used.
    ``get_model_vars_dataframe`` and ``mesa.batch_run`` read the same ``model_vars``.
    """

    def collect(self, model: mesa.Model) -> None:
        """Append this month's value of every model reporter."""
        if self.agent_reporters or self.agenttype_reporters:
            super().collect(model)
            return
        for name, reporter in self.model_reporters.items():
            self.model_vars[name].append(_report(reporter, model))


def _report(reporter: Any, model: mesa.Model) -> Any:
    """A reporter's value, read the way Mesa reads each kind of reporter."""
    if isinstance(reporter, types.LambdaType | partial):
        return reporter(model)
    if isinstance(reporter, str):
        return getattr(model, reporter, None)
    if isinstance(reporter, list):
        return reporter[0](*reporter[1])
    return reporter()
