"""Mesa agents for the rows of a population's arrays, created only when someone asks for them.

A million customers as Mesa agents cost about a second and a gigabyte to register, and the
month never reads them: customers are updated as whole arrays. So the model reserves their
unique ids when it is built (the ids the agents would have had if created then) and creates
the agents the first time ``model.agents``, ``model.agents_by_type`` or ``model.agent_types``
is read. Whoever asks sees the same agents, with the same ids, as with eager creation.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import mesa
import numpy as np


@dataclass
class RowViews:
    """Reserved unique ids for blocks of row agents, and their creation on demand.

    ``blocks`` lists ``(agent class, count)``; each class is built as ``cls(model, index)``
    for ``index`` in ``range(count)``. The ids are consecutive from the model's next id, in
    block order, exactly as ``cls.create_agents`` would have numbered them at this point.
    """

    model: mesa.Model
    blocks: list[tuple[type[mesa.Agent], int]]
    first_ids: list[int] = field(init=False)
    created: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        counter = mesa.Agent._ids[self.model]
        start = next(counter)
        self.first_ids = []
        for _cls, count in self.blocks:
            self.first_ids.append(start)
            start += count
        mesa.Agent._ids[self.model] = itertools.count(start)

    def ids(self, cls: type[mesa.Agent]) -> np.ndarray:
        """The unique ids of the agents of ``cls``, in row order (whether created yet or not)."""
        for (kind, count), first in zip(self.blocks, self.first_ids, strict=True):
            if kind is cls:
                return np.arange(first, first + count, dtype=np.int64)
        raise KeyError(cls)

    def create(self) -> None:
        """Create every reserved agent (once), with its reserved id; later calls do nothing."""
        if self.created:
            return
        self.created = True
        counters = mesa.Agent._ids
        running = counters.get(self.model)
        try:
            for (cls, count), first in zip(self.blocks, self.first_ids, strict=True):
                counters[self.model] = itertools.count(first)
                cls.create_agents(self.model, count, list(range(count)))
        finally:
            if running is None:  # the run is over and its counter released: keep it so
                counters.pop(self.model, None)
            else:
                counters[self.model] = running
